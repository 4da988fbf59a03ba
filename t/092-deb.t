# The Debian package that `make deb` builds (scripts/deb.sh), checked
# without installing it: built from the module under test into a temporary
# folder, then its contents and control fields read with dpkg-deb, its
# maintainer scripts run against a throwaway root ($DPKG_ROOT) with a fake
# dpkg-trigger, and the files extracted with dpkg-deb -x and loaded by
# "nginx -t" through the package's own load_module line. Nothing outside
# the temporary folder is changed.

use strict;
use warnings;

use Test::More;
use Cwd qw(abs_path);
use File::Basename qw(basename dirname);
use File::Path qw(make_path);
use File::Temp qw(tempdir);
use FindBin;
use POSIX ();

my $top = abs_path("$FindBin::Bin/..");
my $pkg = 'libnginx-mod-http-chatport';
my $conf = 'mod-http-chatport.conf';
my $so = 'ngx_http_chatport_module.so';
my $nginx = $ENV{TEST_NGINX_BINARY} || '/usr/sbin/nginx';

sub which {
    my ($cmd) = @_;
    for my $d (split /:/, $ENV{PATH} // '') {
        return "$d/$cmd" if length $d && -x "$d/$cmd" && !-d "$d/$cmd";
    }
    return;
}

my ($module) = split ' ', ($ENV{TEST_NGINX_LOAD_MODULES} // '');

plan skip_all => 'TEST_NGINX_LOAD_MODULES is not set (run it with make test)'
    unless $module;
plan skip_all => 'dpkg-deb is missing: the package is built and read with it'
    unless which('dpkg-deb');
plan skip_all => 'dpkg-shlibdeps is missing (apt-get install dpkg-dev)'
    unless which('dpkg-shlibdeps');

# the nginx source the module was built in (build/nginx/): its
# debian/libnginx-mod.abisubstvars names the ABI
my $ngx_dir = dirname(dirname(abs_path($module)));
my $abisubst = "$ngx_dir/debian/libnginx-mod.abisubstvars";

plan skip_all => "$module was not built in a copy of Debian's nginx-dev"
                 . " source (no $abisubst)"
    unless -f $abisubst;

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

sub slurp {
    my ($path) = @_;
    open my $fh, '<', $path or return '';
    local $/;
    return scalar <$fh> // '';
}

sub spew {
    my ($path, $text, $mode) = @_;
    make_path(dirname($path));
    open my $fh, '>', $path or die "$path: $!\n";
    print $fh $text;
    close $fh or die "$path: $!\n";
    chmod $mode, $path if $mode;
}

my $tmp = tempdir('chatport-deb-XXXXXX', TMPDIR => 1,
                  CLEANUP => !$ENV{CHATPORT_KEEP});

my $version = slurp("$top/VERSION");
chomp $version;
my (undef, $arch) = run('dpkg', '--print-architecture');
chomp $arch;
my ($abi) = slurp($abisubst) =~ /^nginx:abi=(\S+)$/m;

like($version, qr/^[0-9][0-9A-Za-z.+~-]*$/, "VERSION holds a version: $version");
like($abi // '', qr/^nginx-abi-\d/, "nginx-dev names its ABI: $abi");


# ----------------------------------------------------------------- build

my ($rc, $out) = run('sh', "$top/scripts/deb.sh", $module, $ngx_dir,
                     "$tmp/out");
is($rc, 0, 'scripts/deb.sh builds the package') or diag($out);
chomp $out;
my $deb = "$tmp/out/${pkg}_${version}_$arch.deb";
is($out, $deb, "it is named ${pkg}_${version}_$arch.deb");

unless (-f $deb) {
    done_testing();
    exit;
}

my @left = grep { $_ ne basename($deb) } map { basename($_) }
           glob("$tmp/out/*");
is("@left", '', 'nothing is left beside it');


# -------------------------------------------------------------- contents

($rc, $out) = run('dpkg-deb', '--contents', $deb);
is($rc, 0, 'dpkg-deb --contents reads it');

my %files;
for (split /\n/, $out) {
    my ($mode, $owner, $path) = (split ' ')[0, 1, -1];
    $path =~ s{^\./}{/};
    $path =~ s{/$}{} unless $path eq '/';
    $files{$path} = { mode => $mode, owner => $owner };
}

my %want = (
    "/usr/lib/nginx/modules/$so"                      => '-rw-r--r--',
    "/usr/share/nginx/modules-available/$conf"        => '-rw-r--r--',
    "/usr/share/doc/$pkg/copyright"                   => '-rw-r--r--',
    "/usr/share/doc/$pkg/README.md.gz"                => '-rw-r--r--',
    "/usr/share/doc/$pkg/changelog.gz"                => '-rw-r--r--',
);

for my $path (sort keys %want) {
    is($files{$path} && $files{$path}{mode}, $want{$path},
       "$path is in it, $want{$path}");
}

my @other = grep { !$want{$_} && $files{$_}{mode} !~ /^d/ } sort keys %files;
is("@other", '', 'and no other file (the modules-enabled link is made by'
                 . ' postinst, not shipped)');
my @owners = grep { $files{$_}{owner} ne 'root/root' } sort keys %files;
is("@owners", '', 'everything is owned by root/root');


# -------------------------------------------------------- control fields

my %field;
for my $f (qw(Package Version Architecture Depends Section Description)) {
    ($rc, $out) = run('dpkg-deb', '--field', $deb, $f);
    chomp $out;
    $field{$f} = $out;
}

is($field{Package}, $pkg, "Package: $pkg");
is($field{Version}, $version, 'Version: the VERSION file');
is($field{Architecture}, $arch, "Architecture: $arch");
is($field{Section}, 'httpd', 'Section: httpd, as Debian\'s nginx modules');
like($field{Description}, qr/\S/, 'a Description');

my %dep = map { /^\s*(\S+)/ ? ($1 => $_) : () } split /,/, $field{Depends};

ok($dep{$abi}, "Depends on $abi, the ABI it was built for")
    or diag("Depends: $field{Depends}");

# the installed nginx provides that very name (nginx-dev and nginx come
# from the same source version)
my (undef, $provides) = run('dpkg-query', '-W', '-f=${Provides}', 'nginx');
SKIP: {
    skip 'the nginx package is not installed', 1 unless $provides =~ /\S/;
    like($provides, qr/(?:^|[\s,])\Q$abi\E(?:[\s,]|$)/,
         "the installed nginx provides $abi");
}

ok(!grep({ /hiredis/ } keys %dep),
   'no hiredis among them: it is linked in statically');

# every shared library the .so needs comes from a package it depends on
($rc, $out) = run('readelf', '-d', $module);
my @needed = $out =~ /\(NEEDED\)\s+Shared library: \[([^\]]+)\]/g;
ok(scalar @needed, "readelf -d lists the libraries it needs: @needed");
ok(!grep({ /hiredis/ } @needed), 'libhiredis is not one of them');

my (undef, $ldd) = run('ldd', $module);

for my $lib (@needed) {
    my ($path) = $ldd =~ /^\s*\Q$lib\E => (\S+)/m;
    my $owner;

    # with merged /usr, dpkg knows a library under /lib or /usr/lib
    for my $p (grep { defined } $path, $path && ($path =~ m{^/usr/}
                                                 ? $path =~ s{^/usr}{}r
                                                 : "/usr$path"))
    {
        my ($rc, $s) = run('dpkg-query', '-S', $p);
        if ($rc == 0 && $s =~ /^([^:,\s]+)/) {
            $owner = $1;
            last;
        }
    }

    ok($owner && $dep{$owner}, "$lib (from " . ($owner // '?')
                               . ') is a dependency')
        or diag("Depends: $field{Depends}");
}

for my $lib (qw(libjansson4 libcurl4)) {
    ok($dep{$lib}, "Depends on $lib");
}


# ---------------------------------------------------- maintainer scripts

my $ctl = "$tmp/control";
($rc, $out) = run('dpkg-deb', '--control', $deb, $ctl);
is($rc, 0, 'dpkg-deb --control extracts the maintainer scripts') or diag($out);

for my $s (qw(postinst prerm postrm)) {
    ok(-x "$ctl/$s", "$s is there and executable");
    ($rc, $out) = run('sh', '-n', "$ctl/$s");
    is($rc, 0, "$s is valid sh") or diag($out);
}

ok(!-e "$ctl/preinst", 'no preinst');
like(slurp("$ctl/md5sums"), qr/ usr\/lib\/nginx\/modules\/\Q$so\E$/m,
     'md5sums lists the module');

# the scripts run against $root ($DPKG_ROOT), with a dpkg-trigger that
# records its arguments
my $root = "$tmp/root";
my $enabled = "$root/etc/nginx/modules-enabled";
my $link = "$enabled/50-$conf";
my $target = "/usr/share/nginx/modules-available/$conf";
my $triggers = "$tmp/triggers";

make_path($enabled, "$tmp/fakebin");
spew("$tmp/fakebin/dpkg-trigger",
     "#!/bin/sh\necho \"\$*\" >> '$triggers'\n", 0755);

my @real = sort glob('/etc/nginx/modules-enabled/*');

sub script {
    my ($name, @args) = @_;
    local $ENV{DPKG_ROOT} = $root;
    local $ENV{PATH} = "$tmp/fakebin:$ENV{PATH}";
    unlink $triggers;
    my ($rc, $out) = run("$ctl/$name", @args);
    is($rc, 0, "$name @args exits with 0") or diag($out);
    my @t = split /\n/, slurp($triggers);
    return \@t;
}

sub state {
    return (-l $link ? readlink($link) : -e $link ? 'a file' : 'none')
           . ' / '
           . (-l "$link.removed" ? 'removed: ' . readlink("$link.removed")
                                 : 'none removed');
}

my $on = "$target / none removed";
my $aside = "none / removed: $target";
my $off = 'none / none removed';

# a fresh install
my $t = script('postinst', 'configure');
is(state(), $on, 'postinst configure (fresh install): the module is enabled'
                 . " with 50-$conf");
is("@$t", '--no-await nginx-reload', 'and nginx is asked to reload once');

# an upgrade keeps what the administrator chose
$t = script('prerm', 'upgrade', $version);
is(state(), $on, 'prerm upgrade leaves the link');
$t = script('postinst', 'configure', $version);
is(state(), $on, 'postinst configure OLD keeps it');

unlink $link;
$t = script('postinst', 'configure', $version);
is(state(), $off, 'a link the administrator deleted stays deleted on an'
                  . ' upgrade');
script('postinst', 'configure');
is(state(), $on, '(enabled again)');

# remove, then install again
script('prerm', 'remove');
is(state(), $aside, 'prerm remove puts the link aside before the .so goes');
$t = script('postrm', 'remove');
is(state(), $aside, 'postrm remove leaves it aside');
is("@$t", '--no-await nginx-reload', 'and nginx is asked to reload');

script('postinst', 'configure', $version);
is(state(), $on, 'installed again after a remove: enabled again');

# purge
script('prerm', 'remove');
script('postrm', 'remove');
$t = script('postrm', 'purge');
is(state(), $off, 'postrm purge (after remove) deletes the link');
is("@$t", '', 'no reload for the purge');

script('postinst', 'configure');
$t = script('postrm', 'purge');
is(state(), $off, 'postrm purge deletes an enabled link too');

script('postrm', 'purge');
is(state(), $off, 'postrm purge without a link succeeds');

is_deeply([ sort glob('/etc/nginx/modules-enabled/*') ], \@real,
          "the system's /etc/nginx/modules-enabled is untouched");


# ------------------------------------------- extracted, loaded by nginx

my $x = "$tmp/extract";
($rc, $out) = run('dpkg-deb', '--extract', $deb, $x);
is($rc, 0, 'dpkg-deb --extract unpacks it') or diag($out);
is(slurp("$x$target"), "load_module modules/$so;\n",
   "$conf loads modules/$so");

# a prefix laid out as Debian's /usr/share/nginx: modules/ is a link to
# the modules folder (here the extracted one), and nginx.conf includes the
# package's configuration as /etc/nginx/nginx.conf includes
# modules-enabled/*.conf
my $prefix = "$tmp/prefix";
make_path("$prefix/conf", "$prefix/logs");
symlink("$x/usr/lib/nginx/modules", "$prefix/modules")
    or die "symlink: $!\n";

sub nginx_t {
    my ($head) = @_;

    spew("$prefix/conf/nginx.conf", <<"_EOC_");
$head
pid logs/nginx.pid;
error_log logs/error.log;

events {
}

http {
    client_body_temp_path $prefix/client_body_temp;
    proxy_temp_path $prefix/proxy_temp;
    fastcgi_temp_path $prefix/fastcgi_temp;
    uwsgi_temp_path $prefix/uwsgi_temp;
    scgi_temp_path $prefix/scgi_temp;

    chatport_redis 127.0.0.1:6379;

    server {
        listen 127.0.0.1:8080;
        chatport_inject on;

        location /chatport/ {
            chatport;
        }
    }
}
_EOC_

    return run($nginx, '-p', "$prefix/", '-c', 'conf/nginx.conf',
               '-e', 'logs/error.log', '-t');
}

($rc, $out) = nginx_t("include $x$target;");
is($rc, 0, 'nginx -t loads the extracted module through its load_module'
           . ' line') or diag($out);
like($out, qr/test is successful/, 'the configuration test is successful');
my @bad = grep { /\[(?:alert|emerg)\]|exited on signal/ }
          split /\n/, $out . slurp("$prefix/logs/error.log");
is("@bad", '', 'no alert or emerg');

# the control case: without the include, the directives are unknown
($rc, $out) = nginx_t('');
isnt($rc, 0, 'without that line nginx -t fails');
like($out, qr/unknown directive "chatport_redis"/, 'on the module\'s'
                                                   . ' directives');

done_testing();
