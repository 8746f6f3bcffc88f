# Crash recovery: clients stream saves while the whole server is SIGKILLed at random points.
#
# Four psql clients save continuously: each into its own sessions, two of them also into
# one shared session, one of them (a PostgREST-style JWT user) also prunes a session with
# cleanup_old_snapshots() as it goes. A client prints a "saved" line only after its call
# has returned (autocommit: the reply comes after the commit), so the test knows, client
# side, every save that must survive. The postmaster and every backend are killed with
# SIGKILL at once, CRASHES times; after each restart:
#   - every save whose call returned restores to exactly its state (md5 of the text);
#   - every stored snapshot restores, through get_snapshot and the view alike;
#   - counters equal the rows; numbers are contiguous;
#   - the next save of each session gets latest + 1 (no number is reused).
# SP_CRASHES=<n> runs more crashes (default 3).
use strict;
use warnings;

use FindBin;
use lib $FindBin::Bin;

use Digest::MD5 qw(md5_hex);
use File::Temp qw(tempdir);
use IPC::Run;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use SessionCheck qw(canonical_json check_sessions save_probes parse_saves crash_node);
use Test::More;

my $crashes    = $ENV{SP_CRASHES} // 3;
my $statements = 3000;    # per client and round; a crash comes long before the end
srand(20240607);

my $node = PostgreSQL::Test::Cluster->new('crash');
$node->init;
$node->append_conf('postgresql.conf', qq{
log_statement = none
log_min_messages = warning
restart_after_crash = on
});
$node->start;

$node->safe_psql('postgres', q{
CREATE EXTENSION session_persist;
CREATE ROLE alice;
CREATE ROLE bob;
CREATE ROLE authenticated;
});

# Sessions, made by their owners.
sub make_session
{
	my ($prelude, $name) = @_;
	return $node->safe_psql('postgres', "$prelude; SELECT id FROM create_session('$name')");
}
my $as_alice = 'SET ROLE alice';
my $as_bob   = 'SET ROLE bob';
my $as_jwt =
  q{SET ROLE authenticated; SET request.jwt.claims = '{"sub":"user-7","role":"authenticated"}'};
my %sid;
$sid{$_} = make_session($as_alice, $_) for qw(alice-1 alice-2 alice-3 shared);
$sid{$_} = make_session($as_bob,   $_) for qw(bob-1 bob-2);
$sid{$_} = make_session($as_jwt,   $_) for qw(jwt-1 pruned);
my $keep = 5;
my %pruned = ($sid{pruned} => $keep);

my @clients = (
	{ prelude => $as_alice, sessions => [qw(alice-1 alice-2 shared)] },
	{ prelude => $as_alice, sessions => [qw(alice-3 shared)] },
	{ prelude => $as_bob,   sessions => [qw(bob-1 bob-2)] },
	{ prelude => $as_jwt,   sessions => [qw(jwt-1 pruned)], prune => 'pruned' },
);

# A state of a client: messages that grow and shrink, escapes, and now and then a payload
# large enough to be TOASTed out of line.
sub state_of
{
	my ($client, $round, $seq) = @_;
	my $messages = [
		map { { role => ($_ % 2 ? 'assistant' : 'user'), content => "turn $_ of client $client" } }
		  1 .. ($seq % 12)
	];
	my $payload = $seq % 25 == 0
	  ? join('', map { md5_hex("$client/$round/$seq/$_") } 1 .. 640)    # 20 KB
	  : "p" . $seq;
	return canonical_json({
		client   => $client,
		round    => $round,
		seq      => $seq,
		note     => "line \"quoted\" back\\slash\nnext\ttab",
		messages => $messages,
		payload  => $payload,
	});
}

my $dir = tempdir(CLEANUP => 1);
my %recorded;
my (@problems, %expected_md5);
my $total_returned = 0;

sub write_script
{
	my ($c, $round) = @_;
	my $client = $clients[$c];
	my $file   = "$dir/client$c-round$round.sql";
	open my $fh, '>', $file or die $!;
	print $fh "$client->{prelude};\n";
	my @sessions = @{ $client->{sessions} };
	for my $seq (1 .. $statements)
	{
		my $json = state_of($c, $round, $seq);
		$expected_md5{ md5_hex($json) } = 1;
		my $sid = $sid{ $sessions[ $seq % @sessions ] };
		print $fh "SELECT 'saved', r.session_id, r.snapshot_number, r.created, md5(d.s::text)"
		  . " FROM (SELECT '$json'::jsonb AS s) d,"
		  . " LATERAL create_session_snapshot('$sid', d.s) r;\n";
		print $fh "SELECT 'pruned', cleanup_old_snapshots('$sid{$client->{prune}}', $keep);\n"
		  if $client->{prune} && $seq % 7 == 0;
	}
	close $fh;
	return $file;
}

# Line-buffered output lets the test see returned saves as they come.
my @line_buffered = system('stdbuf --version >/dev/null 2>&1') == 0 ? ('stdbuf', '-oL') : ();

for my $round (1 .. $crashes)
{
	my (@harness, @out, @err);
	for my $c (0 .. $#clients)
	{
		my $file = write_script($c, $round);
		($out[$c], $err[$c]) = ('', '');
		$harness[$c] = IPC::Run::start(
			[ @line_buffered, 'psql', '-XAtq', '-v', 'ON_ERROR_STOP=0', '-d', $node->connstr('postgres'), '-f', $file ],
			'<', \undef, '>', \$out[$c], '2>', \$err[$c]);
	}

	# Kill at a random point of the stream: after a random number of returned saves, once
	# every client has saved and the pruning client has pruned (a client can be slow to get
	# going: every notifying commit in a database queues on NOTIFY's lock).
	my $kill_after = 200 + int(rand(1300));
	for (1 .. 12000)
	{
		$_->pump_nb for grep { $_->pumpable } @harness;
		my @saves = map { scalar(() = $_ =~ /^saved\|/mg) } @out;
		my $prunes = () = $out[3] =~ /^pruned\|/mg;
		my $seen = 0;
		$seen += $_ for @saves;
		last if $seen >= $kill_after && !grep({ $_ < 10 } @saves) && $prunes >= 2;
		select(undef, undef, undef, 0.01);
	}
	note($node->safe_psql('postgres',
		"SELECT wait_event_type, wait_event, count(*) FROM pg_stat_activity"
		  . " WHERE backend_type = 'client backend' AND pid <> pg_backend_pid() GROUP BY 1, 2"))
	  if $ENV{SP_DEBUG};
	crash_node($node);
	$_->finish for @harness;

	my $returned = 0;
	for my $c (0 .. $#clients)
	{
		$returned += parse_saves($out[$c], \%recorded, \@problems);
		for my $line (split /\n/, $out[$c])
		{
			push @problems, "client $c printed a state the test did not send: $line"
			  if $line =~ /^saved\|.*\|([0-9a-f]{32})$/ && !$expected_md5{$1};
		}
		my $lines = () = $out[$c] =~ /^saved\|/mg;
		note("round $round client $c: $lines saves returned");
		my @errors = grep { /ERROR/ } split /\n/, $err[$c];
		push @problems, "client $c: $_" for @errors;
	}
	$total_returned += $returned;
	my $prunes = () = $out[3] =~ /^pruned\|/mg;
	ok($returned >= 100, "round $round: $returned saves returned before the crash (kill after ~$kill_after)");
	is_deeply(\@problems, [], "round $round: clients saw no error and no reused number");

	$node->start;
	check_sessions($node, 'postgres', recorded => \%recorded, pruned => \%pruned,
		label => "after crash $round");
	my $pruned_rows = $node->safe_psql('postgres',
		"SELECT count(*) FROM session_snapshot_chain WHERE session_id = '$sid{pruned}'");
	# Between two cleanups the pruning client saves at most 4 states there, plus one probe.
	ok($prunes >= 2 && $pruned_rows <= $keep + 5,
		"round $round: $prunes cleanups ran; the pruned session holds $pruned_rows snapshots");
	save_probes($node, 'postgres', 'public', \%recorded, "probe-$round");
}

# A clean restart on top of the crashes changes nothing either.
$node->restart;
my $final = check_sessions($node, 'postgres', recorded => \%recorded, pruned => \%pruned,
	label => 'after a clean restart');

my $recoveries = () = slurp_file($node->logfile) =~ /database system was interrupted/g;
is($recoveries, $crashes, "the server went through crash recovery $crashes times");
my @panics = grep { /PANIC|TRAP|terminated by signal|server process .* was terminated/ }
  split /\n/, slurp_file($node->logfile);
is_deeply(\@panics, [], 'no PANIC or crashed backend in the server log');

note("saves returned to clients: $total_returned; recorded saves checked: $final->{checked}; "
	  . "sessions: $final->{sessions}; stored snapshots: $final->{snapshots}");

$node->stop;
done_testing();
