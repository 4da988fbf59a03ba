# What scripts/deps.sh asks apt-get for, set by set, run with a PATH of
# fakes only: an apt-get (and sudo) that records its arguments and
# installs nothing, a dpkg-query that says which packages are installed,
# an id that says who runs it, and node and npm when they should be
# found. A server that only builds (make, make deb) gets no browser and
# no Redis; and the Makefile asks for the sets its README promises.

use strict;
use warnings;

use Test::More;
use Cwd qw(abs_path);
use File::Path qw(make_path);
use File::Temp qw(tempdir);
use FindBin;
use POSIX ();

my $top = abs_path("$FindBin::Bin/..");
my $deps = "$top/scripts/deps.sh";
my $tmp = tempdir('chatport-deps-XXXXXX', TMPDIR => 1,
                  CLEANUP => !$ENV{CHATPORT_KEEP});
my $log = "$tmp/apt.log";

sub spew {
    my ($path, $text, $mode) = @_;
    open my $fh, '>', $path or die "$path: $!\n";
    print $fh $text;
    close $fh or die "$path: $!\n";
    chmod $mode, $path if $mode;
}

sub slurp {
    my ($path) = @_;
    open my $fh, '<', $path or return '';
    local $/;
    return scalar <$fh> // '';
}

# runs a command, its stderr with its stdout: (exit status, output)
sub run {
    my (@cmd) = @_;
    my $pid = open my $fh, '-|';
    die "fork: $!" unless defined $pid;

    if ($pid == 0) {
        open STDERR, '>&', \*STDOUT;
        open STDIN, '<', '/dev/null';
        exec @cmd or POSIX::_exit(127);
    }

    local $/;
    my $out = <$fh> // '';
    close $fh;
    return ($? >> 8, $out);
}

# the fakes: bin/ always, node/ holds node and npm
make_path("$tmp/bin", "$tmp/node");

spew("$tmp/bin/apt-get", <<"_EOS_", 0755);
#!/bin/sh
echo "apt-get \$*" >> '$log'
_EOS_

spew("$tmp/bin/sudo", <<"_EOS_", 0755);
#!/bin/sh
echo "sudo \$*" >> '$log'
exec "\$@"
_EOS_

# FAKE_INSTALLED: "all", or the installed packages separated by spaces
spew("$tmp/bin/dpkg-query", <<'_EOS_', 0755);
#!/bin/sh
for p; do :; done
case " $FAKE_INSTALLED " in
    *" all "*|*" $p "*) printf 'install ok installed' ;;
    *) echo "dpkg-query: no packages found matching $p" >&2; exit 1 ;;
esac
_EOS_

spew("$tmp/bin/id", "#!/bin/sh\necho \"\${FAKE_UID:-0}\"\n", 0755);
spew("$tmp/node/$_", "#!/bin/sh\nexit 0\n", 0755) for qw(node npm);

# runs deps.sh with the fakes: (exit status, output, [apt-get lines],
# { package => 1 } of the install line)
sub deps {
    my ($sets, %o) = @_;

    unlink $log;
    local $ENV{PATH} = "$tmp/bin" . ($o{node} ? ":$tmp/node" : '');
    local $ENV{FAKE_INSTALLED} = $o{installed} // '';
    local $ENV{FAKE_UID} = $o{uid} // 0;

    my ($rc, $out) = run('/bin/sh', $deps, @$sets);
    my @lines = split /\n/, slurp($log);
    my ($install) = grep { /^apt-get install / } @lines;
    my %asked = map { $_ => 1 } grep { !/^-/ }
                split ' ', ($install // '') =~ s/^apt-get install //r;

    return ($rc, $out, \@lines, \%asked);
}

my @build = qw(make gcc nginx nginx-dev libhiredis-dev libjansson-dev
               libcurl4-openssl-dev dpkg-dev esbuild);
my @test = qw(redis-server redis-tools tzdata curl openssl perl
              libtest-base-perl libtest-longstring-perl
              liblist-moreutils-perl libipc-run-perl libtext-diff-perl
              libfaketime libnginx-mod-nchan python3-h2 python3-aiosmtpd
              lua5.1 lua-check chromium redis-sentinel nodejs npm);
my @demo = qw(redis-server redis-tools openssl);
my @sanitizers = qw(clang libclang-rt-14-dev llvm);

# what a set asks for, with nothing installed; each set asks for its own
# packages only (the Makefile asks for build first)
sub asks_exactly {
    my ($set, $want) = @_;
    my ($rc, $out, $lines, $asked) = deps([$set]);

    is($rc, 0, "deps.sh $set exits with 0") or diag($out);
    is($lines->[0], 'apt-get update -q', "$set: apt-get update first");
    like($lines->[1] // '', qr/^apt-get install -y -q --no-install-recommends /,
         "$set: then apt-get install, without recommends");
    is_deeply([ sort keys %$asked ], [ sort @$want ],
              "$set asks for: @$want") or diag("asked: @{[ sort keys %$asked ]}");
    return $asked;
}

my $asked = asks_exactly('build', \@build);
ok(!$asked->{$_}, "build does not ask for $_")
    for qw(chromium redis-server nodejs npm libfaketime);

$asked = asks_exactly('test', \@test);
ok($asked->{$_}, "test asks for $_") for qw(chromium redis-server);

$asked = asks_exactly('demo', \@demo);
ok(!$asked->{$_}, "demo does not ask for $_") for qw(chromium nodejs);

asks_exactly('sanitizers', \@sanitizers);

# what make test asks for, in one call
my ($rc, $out, $lines);
($rc, $out, $lines, $asked) = deps([qw(build test)]);
is_deeply([ sort keys %$asked ], [ sort @build, @test ],
          'build test: both sets in one apt-get install');

# node and npm are looked for as commands
($rc, $out, $lines, $asked) = deps(['test'], node => 1);
ok(!$asked->{nodejs} && !$asked->{npm},
   'test with node and npm on PATH does not ask for nodejs or npm');
ok($asked->{chromium}, '(but for the rest)');

# only what is missing
($rc, $out, $lines, $asked) = deps(['build'], installed => 'gcc make nginx');
is_deeply([ sort keys %$asked ],
          [ sort grep { !/^(?:gcc|make|nginx)$/ } @build ],
          'build with gcc, make and nginx installed asks for the rest');
like($out, qr/^chatport: installing nginx-dev libhiredis-dev /m, 'and says what');

($rc, $out, $lines) = deps([qw(build test demo sanitizers)],
                           installed => 'all', node => 1);
is($rc, 0, 'everything installed: exits with 0');
is_deeply($lines, [], 'and apt-get is not run');
is($out, '', 'quietly');

# not root: through sudo
($rc, $out, $lines) = deps(['build'], uid => 1000);
is_deeply([ map { /^sudo (apt-get \S+)/ ? $1 : () } @$lines ],
          [ 'apt-get update', 'apt-get install' ],
          'not root: apt-get runs through sudo');

for my $bad ([], ['browser'], [qw(build tests)]) {
    ($rc, $out, $lines) = deps($bad);
    is($rc, 2, "deps.sh @$bad: exits with 2");
    like($out, qr/^usage: /m, 'with its usage');
    is_deeply($lines, [], 'before asking apt-get for anything');
}


# the Makefile: the deps.sh lines of each target (make -n prints them,
# runs nothing else than recursive makes, which -n runs with -n too)
SKIP: {
    my ($dir) = grep { -x "$_/make" } split /:/, $ENV{PATH} // '';
    skip 'make is not installed', 5 unless $dir;

    local @ENV{qw(MAKEFLAGS MFLAGS MAKELEVEL)};
    delete @ENV{qw(MAKEFLAGS MFLAGS MAKELEVEL)};

    my %want = (all => 'build', deb => 'build', test => 'build test',
                demo => 'build demo', asan => 'build test sanitizers');

    for my $target (sort keys %want) {
        my (undef, $out) = run("$dir/make", '-n', '-C', $top, $target);
        my @sets = $out =~ m{^sh scripts/deps\.sh (\S+)$}mg;
        is("@sets", $want{$target},
           "make $target installs the sets: $want{$target}");
    }
}

done_testing();
