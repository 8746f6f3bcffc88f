# Load: four pgbench clients save continuously into 100 sessions (growing agent states
# with messages, a large one now and then) while cleanup runs in a loop, of all sessions
# and of single ones. Each save logs (session, number, md5 of the state) in its own
# transaction, so the log holds exactly the saves that committed. Afterwards every
# snapshot of every session restores, every logged save that no cleanup may have removed
# restores to exactly its state, the counters equal the rows, no transaction failed and
# the server log has no ERROR, PANIC or crash.
# SP_LOAD_SECONDS=<n> runs longer (default 60).
use strict;
use warnings;

use FindBin;
use lib $FindBin::Bin;

use IPC::Run;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use SessionCheck qw(check_sessions parse_saves);
use Test::More;

my $seconds  = $ENV{SP_LOAD_SECONDS} // 60;
my $sessions = 100;
my $keep_all = 20;    # cleanup of every session keeps 20
my $keep_one = 8;     # cleanup of one session keeps 8

my $node = PostgreSQL::Test::Cluster->new('load');
$node->init;
$node->append_conf('postgresql.conf', qq{
log_statement = none
max_connections = 40
});
$node->start;

$node->safe_psql('postgres', qq{
CREATE EXTENSION session_persist;
CREATE TABLE load_sessions (n integer PRIMARY KEY, id uuid NOT NULL);
INSERT INTO load_sessions SELECT g, (create_session('load ' || g)).id FROM generate_series(1, $sessions) g;
CREATE TABLE save_log (session_id uuid, snapshot_number integer, created boolean, state_md5 text);
});

my $dir = $node->basedir;
open my $fh, '>', "$dir/save.sql" or die $!;
print $fh <<"EOF";
\\set sid random(1, $sessions)
\\set turn random(1, 200)
\\set big random(1, 50)
INSERT INTO save_log
SELECT r.session_id, r.snapshot_number, r.created, md5(d.s::text)
  FROM (SELECT jsonb_build_object(
                 'client', :client_id, 'turn', :turn, 'at', clock_timestamp(),
                 'messages', (SELECT jsonb_agg(jsonb_build_object('role', CASE WHEN i % 2 = 0 THEN 'user' ELSE 'assistant' END,
                                                                  'content', repeat(md5(i::text), 1 + i % 4)))
                                FROM generate_series(1, :turn) i),
                 'artifact', CASE WHEN :big = 1 THEN (SELECT string_agg(md5(random()::text), '') FROM generate_series(1, 2000)) END) AS s) d,
       LATERAL create_session_snapshot((SELECT id FROM load_sessions WHERE n = :sid), d.s) r;
EOF
close $fh;
open $fh, '>', "$dir/cleanup.sql" or die $!;
print $fh <<"EOF";
\\set sid random(1, $sessions)
SELECT cleanup_all_snapshots($keep_all);
SELECT cleanup_old_snapshots((SELECT id FROM load_sessions WHERE n = :sid), $keep_one);
\\sleep 100 ms
EOF
close $fh;

my @connect = ('-h', $node->host, '-p', $node->port, 'postgres');
my ($save_out, $save_err, $clean_out, $clean_err) = ('', '', '', '');
my $savers = IPC::Run::start(
	[ 'pgbench', '-n', '-c', '4', '-j', '2', '-T', $seconds, '-f', "$dir/save.sql", @connect ],
	'>', \$save_out, '2>', \$save_err);
my $cleaner = IPC::Run::start(
	[ 'pgbench', '-n', '-c', '1', '-T', $seconds, '-f', "$dir/cleanup.sql", @connect ],
	'>', \$clean_out, '2>', \$clean_err);

# While it runs, see how often saves queue on NOTIFY's database-wide commit lock.
my ($samples, $queued, $most) = (0, 0, 0);
while ($savers->pumpable)
{
	$savers->pump_nb;
	$cleaner->pump_nb if $cleaner->pumpable;
	my $waiting = $node->safe_psql('postgres',
		"SELECT count(*) FROM pg_locks WHERE locktype = 'object' AND classid = 'pg_database'::regclass AND NOT granted");
	$samples++;
	$queued++ if $waiting > 0;
	$most = $waiting if $waiting > $most;
	sleep 1;
}
$savers->finish;
$cleaner->finish;
note("pgbench savers:\n$save_out$save_err");
note("pgbench cleanup:\n$clean_out$clean_err");
note("$queued of $samples samples had saves waiting for NOTIFY's commit lock (at most $most at once)");

my ($saves) = $save_out =~ /number of transactions actually processed: (\d+)/;
my ($cleanups) = $clean_out =~ /number of transactions actually processed: (\d+)/;
my ($failed_saves) = $save_out =~ /number of failed transactions: (\d+)/;
my ($failed_cleanups) = $clean_out =~ /number of failed transactions: (\d+)/;
ok($saves && $saves > 0, "pgbench saved ($saves save transactions in ${seconds}s)");
ok($cleanups && $cleanups > 0, "cleanup ran in a loop ($cleanups rounds)");
is($failed_saves // 0, 0, 'no save failed');
is($failed_cleanups // 0, 0, 'no cleanup failed');
unlike("$save_err$clean_err", qr/ERROR|FATAL|aborted/, 'pgbench reports no error');

# The log holds what committed.
my (%recorded, @problems);
my $log = $node->safe_psql('postgres',
	"SELECT 'saved', session_id, snapshot_number, CASE WHEN created THEN 't' ELSE 'f' END, state_md5 FROM save_log");
my $logged = parse_saves($log, \%recorded, \@problems);
is($logged, $saves, 'every committed save is in the log');
is_deeply(\@problems, [], 'no snapshot number was given to two different states');

my %pruned = map { $_ => $keep_one } keys %recorded;
my $result = check_sessions($node, 'postgres', recorded => \%recorded, pruned => \%pruned,
	label => 'after the load');
cmp_ok($result->{checked}, '>=', $sessions * $keep_one,
	"the newest saves of every session were checked ($result->{checked})");

my @bad = grep { /ERROR|PANIC|FATAL|TRAP|terminated by signal|server process/ }
  split /\n/, slurp_file($node->logfile);
is_deeply(\@bad, [], 'no ERROR, PANIC or crash in the server log');

$node->stop;
done_testing();
