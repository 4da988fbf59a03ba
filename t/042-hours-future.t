# Business hours after the last transition of a time zone file: Debian's
# zone files list daylight-saving changes up to 2037, later ones come from
# the POSIX rule at the file's end ("EST5EDT,M3.2.0,M11.1.0"). nginx runs
# under libfaketime at instants in 2041; the expected local time comes
# from the C library (date(1)), which reads the same files on its own.

use strict;
use warnings;

use Test::More;

use lib 't/lib';
use ChatPort::Harness;

require_env();

my ($faketime) = grep { -e } map { "/usr/lib/$_/faketime/libfaketime.so.1" }
                               qw(x86_64-linux-gnu aarch64-linux-gnu);

plan skip_all => 'libfaketime is not installed (make test installs it)'
    unless $faketime;

# New York and Tokyo twice: two servers of one zone share it (it is
# loaded once), and each of the others still gets its own
my @zones = qw(America/New_York Europe/London Australia/Sydney
               America/Sao_Paulo Asia/Tokyo Pacific/Chatham
               America/New_York Asia/Tokyo);

my @days = qw(Sun Mon Tue Wed Thu Fri Sat);

# the zone's local weekday and minute of the day at a UTC instant
sub local_time {
    my ($zone, $t) = @_;
    my $out = `TZ=$zone date -d \@$t '+%w %H %M'`;
    my ($wday, $h, $m) = split ' ', $out;
    return ($wday, $h * 60 + $m);
}

# "Mon 07:30-08:30" around a minute of a weekday (windows stay in one day)
sub window {
    my ($wday, $min, $from, $to) = @_;
    my ($a, $b) = ($min + $from, $min + $to);
    return undef if $a < 0 || $b > 24 * 60;
    return sprintf '%s %02d:%02d-%02d:%02d', $days[$wday],
                   int($a / 60), $a % 60, int($b / 60), $b % 60;
}

my $redis_port = shared_redis_port();

for my $when ('2041-07-01 12:00:00', '2041-01-15 12:00:00') {
    my $t = `date -u -d '$when' +%s`;
    chomp $t;

    my @checks;
    my $n = 0;

    for my $zone (@zones) {
        my ($wday, $min) = local_time($zone, $t);
        my $site = 't042' . $n++;

        # open: 30 min either side (the clock runs on from the fake start);
        # closed: the same day, three hours away
        my $open = window($wday, $min, -30, 30)
                   // window($wday, $min, 0, 30) // window($wday, $min, -30, 0);
        my $closed = window($wday, $min, 150, 210)
                     // window($wday, $min, -210, -150);

        push @checks, [$zone, $site, $open, $closed];

        # an operator online with a console connected for a minute more
        # (by Redis's own clock, which is not faked): a poll of 16 hex
        # digits' id, as the presence script records it
        my $now = ChatPort::Harness::Redis::command($redis_port, 'TIME');
        my $ms = $now->[0] * 1000 + int($now->[1] / 1000) + 60000;
        redis_cmd($redis_port, 'HSET', "chatport:{$site}:status", 'op',
                  'online');
        redis_cmd($redis_port, 'ZADD', "chatport:{$site}:conns", $ms,
                  '0000000000000042:op');
    }

    # one server a zone: chatport_timezone and chatport_site are per server
    my $servers = '';

    for my $c (@checks) {
        my ($zone, $site, $open, $closed) = @$c;
        $servers .= <<"_EOC_";
    server {
        listen 127.0.0.1:\$PORT_$site;
        chatport_site $site;
        chatport_timezone $zone;

        location /open/ {
            chatport;
            chatport_hours "$open";
        }

        location /closed/ {
            chatport;
            chatport_hours "$closed";
        }
    }
_EOC_
    }

    my %port = map { $_->[1] => free_port() } @checks;
    $servers =~ s/\$PORT_(\w+)/$port{$1}/g;

    local $ENV{LD_PRELOAD} = $faketime;
    local $ENV{FAKETIME} = "\@$when";
    local $ENV{FAKETIME_DONT_FAKE_MONOTONIC} = 1;

    my $ngx = start_nginx(http => $servers);

    for my $c (@checks) {
        my ($zone, $site, $open, $closed) = @$c;

        my $o = http_request(port => $port{$site}, path => '/open/config');
        my $x = http_request(port => $port{$site}, path => '/closed/config');

        ok($o->{json}{online},
           "$when UTC, $zone: open in \"$open\"")
            or diag explain $o;
        ok(defined $x->{json}{online} && !$x->{json}{online},
           "$when UTC, $zone: closed in \"$closed\"")
            or diag explain $x;
    }

    $ngx->stop;
}

done_testing;
