# Every conf-examples/*.conf passes "nginx -t" with the module loaded, and
# a broken copy fails naming the directive. The examples are written for
# /etc/nginx; each is tested from a copy whose absolute paths point into a
# temporary folder where they are made to exist.

use strict;
use warnings;

use Test::More;
use Cwd qw(abs_path);
use File::Basename qw(basename dirname);
use File::Path qw(make_path);
use File::Temp qw(tempdir);
use FindBin;

plan skip_all => 'TEST_NGINX_LOAD_MODULES is not set'
    unless $ENV{TEST_NGINX_LOAD_MODULES};

my $nginx = $ENV{TEST_NGINX_BINARY} || 'nginx';
my $top = abs_path("$FindBin::Bin/..");
my $examples = "$top/conf-examples";
my $load_line = 'load_module modules/ngx_http_chatport_module.so;';

my @confs = sort glob("$examples/*.conf");
ok(scalar @confs, 'conf-examples holds configurations');

sub slurp {
    my ($path) = @_;
    open my $fh, '<', $path or die "$path: $!\n";
    local $/;
    return scalar <$fh>;
}

sub spew {
    my ($path, $text) = @_;
    make_path(dirname($path));
    open my $fh, '>', $path or die "$path: $!\n";
    print $fh $text;
    close $fh or die "$path: $!\n";
}

# Points the absolute paths of a configuration (or an included snippet)
# into $tmp and makes them exist there.
sub relocate {
    my ($text, $tmp) = @_;

    my $fix = sub {
        my ($directive, $path) = @_;
        my $new = "$tmp$path";

        if ($directive eq 'include') {
            if ($path =~ /[*?\[]/) {
                make_path(dirname($new));

            } elsif (basename($path) eq 'mime.types') {
                spew($new, -r '/etc/nginx/mime.types'
                           ? slurp('/etc/nginx/mime.types')
                           : "types {\n    text/html html;\n}\n");

            } elsif (-f "$examples/snippets/" . basename($path)) {
                spew($new, relocate(slurp("$examples/snippets/"
                                          . basename($path)), $tmp));

            } else {
                die "no file in conf-examples/snippets/ for include $path\n";
            }

        } elsif ($directive eq 'auth_basic_user_file') {
            spew($new, "demo:{PLAIN}demo\n");

        } elsif ($directive =~ /^(?:root|alias|\w+_temp_path)$/) {
            make_path($new);

        } else {                                # logs, pid
            make_path(dirname($new));
        }

        return $new;
    };

    $text =~ s{^(\s*(root|alias|include|auth_basic_user_file|access_log|error_log|pid|\w+_temp_path)\s+)(/[^\s;]+)}{$1 . $fix->($2, $3)}gme;

    return $text;
}

# The wrapper: the module under test, no "user", every path in $tmp.
sub wrap {
    my ($text, $tmp) = @_;

    my $loads = join "\n", map { "load_module $_;" }
                           split ' ', $ENV{TEST_NGINX_LOAD_MODULES};

    $text =~ s{^\s*load_module\s+\S+;}{$loads}m
        or die "no load_module line\n";

    $text =~ s{^(\s*user\s)}{#$1}mg;

    $text = relocate($text, $tmp);

    # Debian's nginx keeps these in /var/lib/nginx and the log in /var/log
    my $paths = '';
    for my $t (qw(client_body proxy fastcgi uwsgi scgi)) {
        make_path("$tmp/temp/$t");
        $paths .= "    ${t}_temp_path $tmp/temp/$t;\n"
            unless $text =~ /^\s*${t}_temp_path\s/m;
    }
    $paths .= "    access_log $tmp/access.log;\n"
        unless $text =~ /^\s*access_log\s/m;

    $text =~ s#^http\s*\{\n#http {\n$paths#m or die "no http block\n";

    return $text;
}

# nginx -t on a configuration text; returns (exit status, output)
sub nginx_t {
    my ($text) = @_;

    my $tmp = tempdir('chatport-conf-XXXXXX', TMPDIR => 1, CLEANUP => 1);

    spew("$tmp/nginx.conf", wrap($text, $tmp));

    my @cmd = ($nginx, '-t', '-p', "$tmp/", '-c', "$tmp/nginx.conf",
               '-e', "$tmp/error.log");

    my $pid = open my $fh, '-|';
    die "fork: $!\n" unless defined $pid;

    if ($pid == 0) {
        open STDERR, '>&', \*STDOUT or die "dup: $!\n";
        exec @cmd or die "exec $nginx: $!\n";
    }

    local $/;
    my $out = <$fh> // '';
    close $fh;

    return ($? >> 8, $out);
}

for my $conf (@confs) {
    my $name = basename($conf);
    my $text = slurp($conf);
    my @lines = split /\n/, $text;

    is($lines[0], $load_line, "$name starts with the load_module line");
    like($lines[1] // '', qr/^# \S/, "$name says what it demonstrates");

    my ($rc, $out) = nginx_t($text);

    is($rc, 0, "$name passes nginx -t") or diag($out);

    # where the widget is served, nginx's gzip compresses it (widget.js:
    # 20 KB, 7 KB gzip'ed), also in the snippets the example includes
    my $all = $text;
    $all .= slurp("$examples/snippets/" . basename($1))
        while $text =~ m{^\s*include\s+\S*/snippets/([^\s;]+);}mg;

    next unless $all =~ /^\s*chatport;/m;

    like($all, qr/^\s*gzip\s+on;/m, "$name turns gzip on");
    like($all, qr{^\s*gzip_types\s[^;]*\bapplication/javascript\b
                  [^;]*\btext/css\b}mx,
         "$name compresses widget.js and widget.css");
}

# a broken copy fails, and the message names the directive and the value

my $single = slurp("$examples/single-site.conf");

my @broken = (
    [ 'chatport_inject on;', 'chatport_inject maybe;',
      qr/invalid value "maybe" in "chatport_inject" directive/ ],
    [ 'chatport_site shop;', 'chatport_site shop/eu;',
      qr/invalid value "shop\/eu" in "chatport_site" directive/ ],
    [ '"Mon-Fri 09:00-18:00 ', '"Mon-Fri 09:00-25:00 ',
      qr/"chatport_hours" directive/ ],
);

for my $case (@broken) {
    my ($good, $bad, $expect) = @$case;
    my $text = $single;

    ok($text =~ s/\Q$good\E/$bad/, "single-site.conf has \"$good\"")
        or next;

    my ($rc, $out) = nginx_t($text);

    isnt($rc, 0, "\"$bad\" fails nginx -t");
    like($out, $expect, "the error names the directive and the value");
}

# the contact form posts to the module without any JavaScript

my $form = slurp("$examples/contact-form.html");

like($form, qr/<form\s[^>]*action="\/chatport\/form"/,
     'contact-form.html posts to /chatport/form');
like($form, qr/<form\s[^>]*method="post"/i, 'with method post');
unlike($form, qr/<script/i, 'and needs no script');

for my $field (qw(name email message website)) {
    like($form, qr/<(?:input|textarea)\s[^>]*name="$field"/,
         "contact-form.html has the field \"$field\"");
}

like($form, qr/<[^>]+\shidden[\s>][^<]*<label[^<]*<\/label>\s*<input[^>]*name="website"/s,
     'the honeypot "website" is hidden');

done_testing;
