# The Redis scripts, each as Redis is sent it (the pieces and the body
# of src/lua/ put together the way the C sources put them together, from
# the header src/lua/embed.sh makes), compile with Lua 5.1, Redis's Lua,
# and pass luacheck: no global but those Redis gives a script, no unused
# variable. No C source carries Lua of its own.

use strict;
use warnings;
use File::Temp qw(tempdir);
use Test::More;

# Debian's lua5.1 and lua-check, which scripts/deps.sh installs
my @missing = grep { system("command -v $_ >/dev/null") != 0 }
              qw(luac5.1 luacheck);

if (@missing) {
    fail("@missing installed (make deps installs them)");
    done_testing();
    exit;
}

my $dir = tempdir(CLEANUP => 1);
my $header = "$dir/lua.h";

is(system('sh', 'src/lua/embed.sh', 'src/lua', $header), 0,
   'embed.sh makes the header');

# NAME -> the text of NGX_HTTP_CHATPORT_LUA_NAME
my %lua;
{
    open my $fh, '<', $header or die "$header: $!";
    my $name;
    while (<$fh>) {
        if (/^#define NGX_HTTP_CHATPORT_LUA_(\w+) \\$/) {
            $name = $1;
            $lua{$name} = '';

        } elsif (defined $name && /^"(.*)\\n" \\$/) {
            my $line = $1;
            $line =~ s/\\(["\\])/$1/g;
            $lua{$name} .= "$line\n";

        } elsif (/^""$/) {
            undef $name;
        }
    }
}

ok(%lua, 'the header has the scripts of src/lua/');

# every script of the C sources: its name and the macros it is made of
my (@scripts, %used);

for my $c (glob('ngx_http_chatport_module.c src/*.c')) {
    open my $fh, '<', $c or die "$c: $!";
    my $text = do { local $/; <$fh> };

    unlike($text, qr/redis\.(?:p?call|error_reply|status_reply)\b/,
           "$c has no Lua of its own");

    while ($text =~ /ngx_http_chatport_redis_script_t\s+(\w+)\s*=\s*\{\s*
                     ngx_string\(([^)]*)\)/gx)
    {
        my ($name, $parts) = ($1, $2);
        my @macros = split ' ', $parts;

        if (grep { !/^NGX_HTTP_CHATPORT_LUA_\w+$/ } @macros) {
            fail("$name is made of src/lua/ only: $parts");
            next;
        }

        s/^NGX_HTTP_CHATPORT_LUA_// for @macros;
        push @scripts, [$name, @macros];
        $used{$_} = 1 for @macros;
    }
}

ok(@scripts >= 13, 'the C sources have the scripts (' . @scripts . ')');

for my $name (sort keys %lua) {
    ok($used{$name}, "src/lua/\L$name\E.lua is used by a script");
}

# a piece's functions may go unused in a script that needs another one
my %piece;
for my $s (@scripts) {
    my (undef, @macros) = @$s;
    pop @macros;
    $piece{$_} = 1 for @macros;
}

my @ignore;
for my $p (sort keys %piece) {
    while ($lua{$p} =~ /local function (\w+)/g) {
        push @ignore, '--ignore', "211/$1";
    }
}

for my $s (@scripts) {
    my ($name, @macros) = @$s;
    my @missing = grep { !exists $lua{$_} } @macros;

    if (@missing) {
        fail("$name: no src/lua/ file for @missing");
        next;
    }

    my $file = "$dir/$name.lua";
    open my $fh, '>', $file or die "$file: $!";
    print $fh join('', map { $lua{$_} } @macros);
    close $fh;

    my $out = `luac5.1 -p $file 2>&1`;
    is($?, 0, "$name compiles") or diag($out);

    $out = `luacheck --no-color --codes --std lua51 --read-globals redis \\
            --read-globals cjson --read-globals KEYS --read-globals ARGV \\
            @ignore -- $file 2>&1`;
    is($?, 0, "$name passes luacheck") or diag($out);
}

done_testing();
