package ChatPort::ErrorLog;

# The error-log discipline of every Test::Nginx file, under the real
# openresty runner and the fallback alike: a block fails when nginx logs an
# [alert], an [emerg] once started, or a worker "exited on signal", while
# the block runs or while its nginx shuts down (Test::Nginx alone only
# warns about these). Load it after Test::Nginx::Socket, so that the
# runner found on PERL5LIB is the one in use:
#
#   use Test::Nginx::Socket 'no_plan';
#   use lib 't/lib';
#   use ChatPort::ErrorLog;
#
# A block that expects one of these lines names it in its --- error_log.
#
# The check is added when the file calls run_tests(), to run after the
# file's own block preprocessors, so that their defaults for no_error_log
# still apply.

use strict;
use warnings;

use Scalar::Util ();

my @fatal = ('[alert]', '[emerg]', 'exited on signal');

my $run_tests = \&main::run_tests;

{
    # pushed, not added: the real runner's add_block_preprocessor()
    # unshifts, and this one must run after the file's own
    my $wrapper = sub {
        push @Test::Nginx::Util::BlockPreprocessors, \&add_checks;
        $run_tests->(@_);
    };

    # the same prototype as the runner's own run_tests (the real one has ())
    Scalar::Util::set_prototype(\&$wrapper, prototype($run_tests));

    no warnings 'redefine';
    *main::run_tests = $wrapper;
}

sub add_checks {
    my $block = shift;

    return if defined $block->must_die;

    my $expected = join "\n", map { ref $_ eq 'ARRAY' ? @$_ : $_ }
                              grep { defined } $block->error_log;
    my @add = grep { index($expected, $_) < 0 } @fatal;

    for my $section (qw(no_error_log no_shutdown_error_log)) {
        my $have = $block->$section;

        if (ref $have eq 'ARRAY') {
            $block->set_value($section, [ @$have, @add ]);

        } else {
            $have = defined $have && $have =~ /\S/ ? $have : '';
            $have .= "\n" if length $have && $have !~ /\n\z/;
            $block->set_value($section, $have . join("\n", @add) . "\n");
        }
    }
}

1;
