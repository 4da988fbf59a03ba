#!/usr/bin/perl
# Prints a TCP port that is free on the loopback address right now.
use strict;
use warnings;
use IO::Socket::INET;

my $s = IO::Socket::INET->new(Listen => 1, LocalAddr => '127.0.0.1',
                              LocalPort => 0, ReuseAddr => 1)
    or die "no free port: $!\n";
print $s->sockport, "\n";
