#!/usr/bin/perl
# Reads `redis-cli monitor` output and prints the arguments of the first
# command named ARGV[0] (e.g. EVALSHA), each followed by a NUL byte, for
# `mapfile -d ''`. MONITOR quotes every argument and escapes \\ \" \n \r
# \t \a \b and other bytes as \xHH.
use strict;
use warnings;

my $name = uc(shift // die "usage: monitor-argv.pl COMMAND < monitor.log\n");
my %esc = (n => "\n", r => "\r", t => "\t", a => "\a", b => "\b",
           '\\' => '\\', '"' => '"');

while (my $line = <STDIN>) {
    my ($args) = $line =~ /^\d+\.\d+ \[[^\]]*\] (.*)$/ or next;
    my @argv;
    while ($args =~ /"((?:[^"\\]|\\.)*)"/g) {
        my $a = $1;
        $a =~ s/\\x([0-9a-fA-F]{2})|\\(.)/
                defined $1 ? chr(hex $1) : ($esc{$2} \/\/ $2)/ge;
        push @argv, $a;
    }
    next unless @argv && uc($argv[0]) eq $name;
    print map { "$_\0" } @argv;
    exit 0;
}
exit 1;
