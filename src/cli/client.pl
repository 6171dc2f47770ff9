# The agents' `syncord` command while the workspace's daemon runs (dist/client.pl, started by the command written
# in coordination/.syncord/bin when a socket is there). Perl starts in a few milliseconds where Node takes a hundred,
# so a call through the daemon costs little more than the daemon's own work: many agents calling at
# once no longer wait on each other's process start. It speaks the daemon's protocol (daemonShared.ts): one JSON
# line asking for the call, then length-prefixed frames back. Whatever the daemon does not take (another verb,
# another workspace, help, a daemon that is gone) runs in the CLI itself, as the command did before.
#
#   perl client.pl <socket> <node> <cli.js> <argument>...
use strict;
use Socket qw(PF_UNIX SOCK_STREAM pack_sockaddr_un);

my $PROTOCOL = 3;
my ($socket_path, $node, $cli, @argv) = @ARGV;
die "usage: client.pl <socket> <node> <cli.js> <argument>...\n" unless defined $cli;

# The call in the CLI itself, in place of this process.
sub run_locally {
  $ENV{ELECTRON_RUN_AS_NODE} = '1';
  exec { $node } $node, $cli, @argv;
  print STDERR "syncord: error: could not run $node: $!\n";
  exit 70;
}

# A JSON string of bytes (UTF-8 passes through as it is).
sub json_string {
  my ($s) = @_;
  $s =~ s/(["\\])/\\$1/g;
  $s =~ s/([\x00-\x1f\x7f])/sprintf('\\u%04x', ord($1))/ge;
  return "\"$s\"";
}

my $sock;
socket($sock, PF_UNIX, SOCK_STREAM, 0) or run_locally();
connect($sock, pack_sockaddr_un($socket_path)) or run_locally();
binmode($sock);
binmode(STDOUT);
binmode(STDERR);
select($sock);
$| = 1;
select(STDOUT);
$| = 1;

# The folder the call runs in: $PWD when it names this very folder (as shells keep it), else asked of the system.
my $cwd = $ENV{PWD};
my @here = stat('.');
my @pwd = defined $cwd && $cwd =~ m{\A/} ? stat($cwd) : ();
unless (@pwd && @here && $pwd[0] == $here[0] && $pwd[1] == $here[1]) {
  require Cwd;
  $cwd = Cwd::getcwd();
}
run_locally() unless defined $cwd;
# Every SYNCORD_* variable goes along; the daemon keeps those the verbs read and refuses a call that sets one it
# cannot honour (the caller then runs it).
my $env = join(',', map { json_string($_) . ':' . json_string($ENV{$_}) } grep { /^SYNCORD_/ } sort keys %ENV);
# So do git's variables: a targets verb runs in the daemon only when its git would see the same ones there.
my $git = join(',', map { json_string($_) . ':' . json_string($ENV{$_}) } grep { /^GIT_/ } sort keys %ENV);
my $request =
  '{"v":' . $PROTOCOL . ',"kind":"call","argv":[' . join(',', map { json_string($_) } @argv) . '],"cwd":' . json_string($cwd)
  . ',"env":{' . $env . '},"git":{' . $git . '},"stdinIsTTY":' . (-t STDIN ? 'true' : 'false') . "}\n";
print $sock $request;

my $accepted = 0;

# Ctrl-C: the daemon stops the call after the work in hand (a sync, a backup), as the CLI does in its own process,
# and this client waits for it to end; a second Ctrl-C leaves at once.
my $interrupts = 0;
sub tell_interrupt { print $sock qq({"t":"interrupt"}\n); }
$SIG{INT} = sub {
  exit 130 if ++$interrupts > 1;
  tell_interrupt() if $accepted;
};

# The daemon went away. Before it took the call, the call is run here; after, it may have been done: say so.
sub lost {
  my ($why) = @_;
  run_locally() unless $accepted;
  print STDERR "syncord: error: the workspace's daemon ended during the call ($why); it may or may not have been done\n";
  exit 7;
}

for (;;) {
  my $header = readline($sock);
  lost('connection closed') unless defined $header;
  my ($type, $length) = $header =~ /\A([a-z]+) (\d{1,10})\n\z/ or lost('it sent something that is not an answer');
  my $payload = '';
  while (length($payload) < $length) {
    my $n = read($sock, $payload, $length - length($payload), length($payload));
    lost('connection closed') unless $n;
  }
  if ($type eq 'accepted') {
    $accepted = 1;
    tell_interrupt() if $interrupts;
  } elsif ($type eq 'fallback') {
    close($sock);
    run_locally();
  } elsif ($type eq 'out') {
    print STDOUT $payload;
  } elsif ($type eq 'err') {
    print STDERR $payload;
  } elsif ($type eq 'stdin') {
    my $input = do { local $/; <STDIN> };
    print $sock '{"t":"stdin","d":' . json_string(defined $input ? $input : '') . "}\n";
  } elsif ($type eq 'exit') {
    close($sock);
    exit($payload + 0);
  }
}
