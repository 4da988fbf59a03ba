# README.md renders as meant on GitHub and with stricter Markdown parsers:
# every heading, table and code fence stands apart from the text around it
# (a heading glued to the line before it is read as part of a paragraph,
# a line glued under a table as one more row), every fence is closed,
# every in-page link "(#anchor)" names a heading that exists, and every
# top-level section is in the table of contents.

use strict;
use warnings;

use Test::More;
use FindBin;

my $file = "$FindBin::Bin/../README.md";

open my $fh, '<:encoding(UTF-8)', $file or die "$file: $!\n";
chomp(my @lines = <$fh>);
close $fh;

# GitHub's anchor for a heading: lower case, markup and punctuation
# dropped, spaces turned into "-"; a repeated one gets "-1", "-2", ...
my %seen;

sub anchor {
    my ($text) = @_;

    my $a = lc $text;
    $a =~ s/[^\w\- ]//g;
    $a =~ tr/ /-/;

    my $n = $seen{$a}++;

    return $n ? "$a-$n" : $a;
}

my (@problems, %anchors, @top, @links);
my ($fence, $in_table) = ('', 0);

sub blank {
    my ($i) = @_;
    return $i < 0 || $i > $#lines || $lines[$i] =~ /^\s*$/;
}

sub problem {
    my ($i, $what) = @_;
    push @problems, sprintf("line %d: %s: %s", $i + 1, $what, $lines[$i]);
}

for my $i (0 .. $#lines) {
    my $line = $lines[$i];

    if ($fence) {
        if ($line =~ /^\s*\Q$fence\E\s*$/) {
            $fence = '';
            problem($i, 'no blank line after the code fence')
                unless blank($i + 1);
        }
        next;
    }

    if ($line =~ /^\s*(```+|~~~+)/) {
        $fence = $1;
        problem($i, 'no blank line before the code fence')
            unless blank($i - 1);
        next;
    }

    # a table: its first line after a blank one, its last before one
    if ($line =~ /^\|/) {
        problem($i, 'no blank line before the table')
            unless $in_table || blank($i - 1);
        $in_table = 1;
        problem($i, 'no blank line after the table')
            unless blank($i + 1) || $lines[$i + 1] =~ /^\|/;
        next;
    }
    $in_table = 0;

    # every in-page link, also those of the contents
    while ($line =~ /\]\(#([^)\s]+)\)/g) {
        push @links, [ $i, $1 ];
    }

    my ($text, $level);

    if ($line =~ /^(#{1,6})\s+(.*?)\s*#*\s*$/) {
        ($level, $text) = (length $1, $2);
        problem($i, 'no blank line before the heading') unless blank($i - 1);

    } elsif ($i < $#lines && $line =~ /\S/ && $line !~ /^\s{4}/
             && $lines[$i + 1] =~ /^(=+|-+)\s*$/
             && (substr($1, 0, 1) eq '=' || !blank($i)))
    {
        ($level, $text) = (substr($1, 0, 1) eq '=' ? 1 : 2, $line);
        problem($i, 'no blank line before the heading') unless blank($i - 1);
    }

    next unless defined $text;

    $text =~ s/`//g;
    my $anchor = anchor($text);
    $anchors{$anchor} = 1;
    push @top, [ $text, $anchor ] if $level == 1;
}

is($fence, '', 'every code fence is closed');

is(join("\n", @problems), '',
   'headings, tables and code fences stand apart from the text around them');

ok(scalar @links, 'README.md has in-page links');

my @dangling = map { "line " . ($_->[0] + 1) . ": #$_->[1]" }
               grep { !$anchors{ $_->[1] } } @links;

is(join("\n", @dangling), '', 'every in-page link names a heading');

# the table of contents: the list after its heading, up to the next one
my ($toc) = join("\n", @lines)
            =~ /^Table of Contents\n=+\n(.*?)\n\S[^\n]*\n[=-]+\n/ms;

ok($toc, 'README.md has a table of contents');

my %listed = map { $_ => 1 } ($toc // '') =~ /\]\(#([^)]+)\)/g;

my @missing = map { $_->[0] }
              grep { !$listed{ $_->[1] } && $_->[0] ne 'Table of Contents' }
              @top;

is(join(', ', @missing), '', 'every top-level section is in the contents');

done_testing();
