package ChatPort::Mail;

# The SMTP server of the mail tests, beside ChatPort::Harness: Debian's
# python3-aiosmtpd on 127.0.0.1 (t/lib/smtpd.py), and what it received
# parsed by Python's email package as a mail client would
# (t/lib/mailparse.py, which documents every field of a mail).
#
#   use lib 't/lib';
#   use ChatPort::Harness;
#   use ChatPort::Mail;
#   my $smtp = start_smtpd(starttls => 1, auth => 'alice:secret');
#   # nginx: chatport_smtp with $smtp->url, chatport_smtp_ca $smtp->ca
#   my @mails = $smtp->wait_mails(1, timeout => 10);
#   is($mails[0]{subject}, ...);                  # decoded
#   is($mails[0]{envelope}{user}, 'alice');
#   is(scalar $smtp->events('accept'), 1);        # delivered once
#
# Options: port (default: a free one); starttls => 1 or tls => 1 (a
# throwaway self-signed certificate for localhost and 127.0.0.1, its path
# ->ca); auth => 'USER:PASS' (AUTH PLAIN and LOGIN, required before
# MAIL, refused without TLS unless auth_plain_ok => 1); tempfail => N
# (451 to the first N messages); reject => ADDR or [ADDR, ...] (550 to
# those RCPT TO); hang => 1 (every connection is accepted and never
# answered) or hang_first => N (the first N connections); cert =>
# [CERT, KEY] (this certificate instead of a new one, e.g. another
# server's ->ca and ->key: a client trusting that one trusts this one).
#
# smtpd(%o) makes the same object without starting it: the server is
# down when the mail is sent, ->start later on the same port.
#
# The object: ->port, ->pid, ->url (smtp:// or smtps://127.0.0.1:PORT),
# ->dir (the mail folder), ->ca, ->key, ->start, ->stop (true when it exited 0
# on SIGTERM), ->alive, ->mails (every mail received so far, parsed, in
# order), ->wait_mails(N, timeout => S) (the mails once there are N, or
# when S seconds (10) passed), ->events(NAME) (the lines of events.log
# as hashes, those of one event or all; t/lib/smtpd.py lists them).
#
# Every server is stopped at the end of the test by Harness's END.

use strict;
use warnings;

use Cwd ();
use Exporter 'import';
use File::Basename ();
use File::Temp ();
use JSON::PP ();
use ChatPort::Harness qw(free_port);

our @EXPORT = qw(smtpd start_smtpd);

# Debian's: a python3 earlier on PATH may not see python3-aiosmtpd
my $PYTHON = '/usr/bin/python3';
my $LIB = Cwd::abs_path(File::Basename::dirname(__FILE__) . '/..');
my $json = JSON::PP->new->utf8;

sub smtpd {
    my (%o) = @_;

    my $base = File::Temp::tempdir('chatport-smtpd-XXXXXX', TMPDIR => 1,
                                   CLEANUP => !$ENV{CHATPORT_KEEP});
    my $self = bless { o => \%o, base => $base, dir => "$base/mail",
                       port => $o{port} || free_port(), parsed => {} },
                     'ChatPort::Mail::Server';

    mkdir $self->{dir} or die "$self->{dir}: $!";

    if ($o{cert}) {
        @$self{qw(ca key)} = @{ $o{cert} };
    } elsif ($o{tls} || $o{starttls}) {
        @$self{qw(ca key)} = ChatPort::Harness::self_signed_cert($base);
    }

    return $self;
}

sub start_smtpd {
    return smtpd(@_)->start;
}


package ChatPort::Mail::Server;

use strict;
use warnings;

sub port { $_[0]{port} }
sub dir  { $_[0]{dir} }
sub ca   { $_[0]{ca} }
sub key  { $_[0]{key} }
sub pid  { $_[0]{pid} }

sub url {
    my ($self) = @_;
    return ($self->{o}{tls} ? 'smtps' : 'smtp') . "://127.0.0.1:$self->{port}";
}

sub alive { ChatPort::Harness::pid_alive($_[0]{pid}) }

sub args {
    my ($self) = @_;
    my $o = $self->{o};
    my @a = ('--port', $self->{port}, '--dir', $self->{dir},
             '--port-file', "$self->{base}/port");

    push @a, '--starttls', $self->{ca}, $self->{key} if $o->{starttls};
    push @a, '--tls', $self->{ca}, $self->{key} if $o->{tls};
    push @a, '--auth', $o->{auth} if defined $o->{auth};
    push @a, '--auth-plain-ok' if $o->{auth_plain_ok};
    push @a, '--tempfail', $o->{tempfail} if $o->{tempfail};
    push @a, map { ('--reject', $_) }
                 ref $o->{reject} ? @{ $o->{reject} } : $o->{reject}
        if $o->{reject};
    push @a, '--hang' if $o->{hang};
    push @a, '--hang-first', $o->{hang_first} if $o->{hang_first};

    return @a;
}

# up once it wrote its port file (it listens then)
sub start {
    my ($self) = @_;

    die "smtpd already running\n" if $self->alive;

    my $port_file = "$self->{base}/port";
    my $log = "$self->{base}/smtpd.log";
    unlink $port_file;

    my $pid = ChatPort::Harness::spawn($log, $PYTHON, "$LIB/smtpd.py",
                                       $self->args);
    $self->{pid} = $pid;
    ChatPort::Harness::track($pid, $self);

    ChatPort::Harness::wait_until(sub { -s $port_file || !$self->alive }, 10);

    unless (-s $port_file) {
        $self->stop;
        die "smtpd did not start on $self->{port}:\n"
            . ChatPort::Harness::slurp($log);
    }

    return $self;
}

sub stop {
    my ($self) = @_;
    my $pid = delete $self->{pid} or return 1;
    return ChatPort::Harness::stop_pid($pid, 'TERM', 10) && $? == 0;
}

sub events {
    my ($self, $name) = @_;
    my $text = ChatPort::Harness::slurp("$self->{dir}/events.log");

    # a last line without its "\n" is still being written
    my @e = map { $json->decode($_) } $text =~ /^(.*)\n/mg;
    return defined $name ? grep { $_->{event} eq $name } @e : @e;
}

# NNNN.json is written last: its mail is complete
sub names {
    my ($self) = @_;
    opendir my $dh, $self->{dir} or return ();
    my @n = sort { $a <=> $b } map { /^(\d+)\.json$/ ? $1 : () } readdir $dh;
    closedir $dh;
    return @n;
}

sub mails {
    my ($self) = @_;
    my @new = grep { !$self->{parsed}{$_} } $self->names;

    if (@new) {
        open my $fh, '-|', $PYTHON, "$LIB/mailparse.py",
                           map { "$self->{dir}/$_.eml" } @new
            or die "mailparse.py: $!\n";
        local $/;
        my $out = <$fh>;
        close $fh or die "mailparse.py failed on @new in $self->{dir}\n";
        $self->{parsed}{ $_->{file} } = $_ for @{ $json->decode($out) };
    }

    return map { $self->{parsed}{$_} } $self->names;
}

sub wait_mails {
    my ($self, $n, %o) = @_;
    ChatPort::Harness::wait_until(sub { $self->names >= $n },
                                  $o{timeout} // 10);
    return $self->mails;
}


1;
