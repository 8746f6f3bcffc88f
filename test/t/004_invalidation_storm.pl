# Invalidation storm (issue 19): clients call every function of the extension in a loop
# while other sessions keep invalidating the extension's tables: ANALYZE, VACUUM,
# CREATE INDEX CONCURRENTLY / DROP INDEX CONCURRENTLY, ALTER TABLE ... SET (autovacuum_...),
# GRANT / REVOKE. Each of those sends a relcache invalidation that the clients' backends
# process in the middle of their calls (at the next lock they take), including inside the
# nested calls fork_session and import_session make. No backend may crash: the server log
# must not show a process terminated by a signal, nor the server reinitializing; no call
# may fail; every function must have run many times (pg_stat_user_functions counts them);
# afterwards every session is whole (SessionCheck).
#
# Then the extension is dropped and created again, in another schema, while a connection
# that has every cache warm keeps using it (the same connection, and another one): the
# cached schema, table OIDs and plans must follow.
#
# SP_STORM_SECONDS=<n> runs the storm longer (default 25).
use strict;
use warnings;

use FindBin;
use lib $FindBin::Bin;

use IPC::Run;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use SessionCheck qw(check_sessions);
use Test::More;

my $seconds  = $ENV{SP_STORM_SECONDS} // 25;
my $clients  = 2;
my $sessions = 4;     # per client: each client writes only its own sessions
my $minimum  = 50;    # calls of each function the storm must reach

my $node = PostgreSQL::Test::Cluster->new('storm');
$node->init;
# track_functions counts the calls of C functions too: proof that the loop ran. Autovacuum
# stays on and is eager: it invalidates the tables as well, as on any real server.
$node->append_conf('postgresql.conf', qq{
log_statement = none
log_min_messages = warning
track_functions = all
max_connections = 30
autovacuum_naptime = 1s
deadlock_timeout = 100ms
restart_after_crash = on
});
$node->start;

$node->safe_psql('postgres', qq{
CREATE EXTENSION session_persist;
CREATE ROLE storm_user LOGIN;
CREATE ROLE storm_bystander;
CREATE TABLE storm_ids (n integer PRIMARY KEY, id uuid NOT NULL);
GRANT SELECT ON storm_ids TO storm_user;
SET ROLE storm_user;
CREATE TEMP TABLE made AS
  SELECT g AS n, (create_session('storm ' || g, 'model-x')).id FROM generate_series(1, $clients * $sessions) g;
SELECT count(*) FROM made m, LATERAL create_session_snapshot(m.id,
         jsonb_build_object('turn', 0, 'messages', jsonb_build_array(jsonb_build_object('role', 'user', 'content', 'hello'))));
RESET ROLE;
INSERT INTO storm_ids SELECT n, id FROM made;
});

# One transaction of a client = one call of every function, on one of its own sessions.
my $dir = $node->basedir;
my $sid = '(SELECT id FROM storm_ids WHERE n = :n)';
open my $fh, '>', "$dir/client.sql" or die $!;
print $fh <<"EOF";
\\set n :client_id * $sessions + random(1, $sessions)
\\set turn random(1, 1000)
SELECT id FROM create_session('storm made ' || :turn, 'model-y');
SELECT snapshot_number FROM create_session_snapshot($sid,
         jsonb_build_object('turn', :turn, 'note', repeat('x', :turn),
                            'messages', (SELECT jsonb_agg(jsonb_build_object('role', 'user', 'content', 'turn ' || i))
                                           FROM generate_series(1, 1 + :turn % 5) i)));
SELECT get_latest_snapshot($sid) IS NOT NULL;
SELECT count(*) FROM get_snapshot($sid);
SELECT count(*) FROM get_snapshot($sid, (SELECT latest_snapshot_number FROM free_agent_sessions WHERE id = $sid));
SELECT cleanup_old_snapshots($sid, 5);
SELECT append_session_messages($sid, jsonb_build_array(jsonb_build_object('role', 'assistant', 'content', 'reply ' || :turn)));
SELECT count(*) FROM get_session_messages($sid);
SELECT import_session(export_session($sid));
SELECT fork_session($sid, NULL, 'storm fork');
SELECT fork_session($sid, (SELECT latest_snapshot_number FROM free_agent_sessions WHERE id = $sid), NULL);
SELECT count(*) FROM verify_session($sid);
SELECT snapshot_count FROM get_session_summary($sid);
SELECT count(snapshot_data) FROM session_snapshots WHERE session_id = $sid;
SELECT count(*) FROM sessions_list WHERE id = $sid;
SELECT count(*) FROM storage_report();
SELECT jsonb_apply_delta('{"a": 1}', jsonb_delta('{"a": 1}', '{"a": 2, "b": [1]}')) = '{"a": 2, "b": [1]}',
       length(jsonb_state_hash('{"a": 1}'));
CALL cleanup_snapshots_in_batches(5, NULL, 3);
EOF
close $fh;

# The storm: psql scripts (psql goes on after an error, so a storm that loses a race, say a
# CREATE INDEX CONCURRENTLY, keeps storming). Each round first checks the deadline, the
# clients' end; "round" lines count what they did.
my @tables = qw(free_agent_sessions session_snapshot_chain session_messages);
my $deadline = time() + $seconds + 1;
my $round = "SELECT clock_timestamp() > to_timestamp($deadline) AS done \\gset\n\\if :done\n\\q\n\\endif\n";
my %storm;
$storm{analyze} = "SET default_statistics_target = 1;\n" . join '', map {
	my $t = $tables[ $_ % 3 ];
	"${round}ANALYZE free_agent_sessions;\nSELECT pg_sleep(0.002);\nANALYZE $t;\n"
	  . "ANALYZE free_agent_sessions;\nSELECT pg_sleep(0.002);\n\\echo round\n"
} 1 .. 20000;
$storm{vacuum} = join '', map {
	my $t = $tables[ $_ % 3 ];
	"${round}VACUUM $t;\nSELECT pg_sleep(0.005);\n\\echo round\n"
} 1 .. 20000;
$storm{index} = join '', map {
	my $t = $tables[ $_ % 3 ];
	"${round}DROP INDEX CONCURRENTLY IF EXISTS storm_idx;\n"
	  . "CREATE INDEX CONCURRENTLY storm_idx ON $t (created_at);\n"
	  . "DROP INDEX CONCURRENTLY storm_idx;\nSELECT pg_sleep(0.2);\n\\echo round\n"
} 1 .. 20000;
$storm{alter} = join '', map {
	my $t = $tables[ $_ % 3 ];
	my $f = sprintf '0.%02d', 1 + $_ % 50;
	"${round}ALTER TABLE $t SET (autovacuum_vacuum_scale_factor = $f);\n"
	  . "GRANT SELECT ON $t TO storm_bystander;\n"
	  . "REVOKE SELECT ON $t FROM storm_bystander;\n"
	  . "SELECT pg_sleep(0.003);\n\\echo round\n"
} 1 .. 20000;

my @connect = ('-h', $node->host, '-p', $node->port);
my $log_start = -s $node->logfile;
my (%storm_run, %storm_out, %storm_err);
for my $name (sort keys %storm)
{
	open my $sf, '>', "$dir/storm_$name.sql" or die $!;
	print $sf $storm{$name};
	close $sf;
	($storm_out{$name}, $storm_err{$name}) = ('', '');
	$storm_run{$name} = IPC::Run::start(
		[ 'psql', '-X', '-q', '-o', '/dev/null', @connect, '-d', 'postgres', '-f', "$dir/storm_$name.sql" ],
		'>', \$storm_out{$name}, '2>', \$storm_err{$name});
}

my ($client_out, $client_err) = ('', '');
my $client_run = IPC::Run::start(
	[
		'pgbench', '-n', '-c', $clients, '-j', $clients, '-T', $seconds,
		'-f', "$dir/client.sql", @connect, '-U', 'storm_user', 'postgres'
	],
	'>', \$client_out, '2>', \$client_err);
$client_run->finish;
$_->finish for values %storm_run;
note("pgbench clients:\n$client_out$client_err");

# What the server log says since the storm began: a crash is a backend "terminated by
# signal" (or otherwise terminated) and the postmaster reinitializing.
my $log = slurp_file($node->logfile, $log_start);
my @crashes = grep { /terminated by signal|was terminated|terminating any other active server processes|reinitializing|database system was interrupted|TRAP:/ }
  split /\n/, $log;
is_deeply(\@crashes, [], 'no backend crashed during the invalidation storm');
unlike($client_err, qr/server closed the connection|connection to server was lost|terminated abnormally|backend died/,
	'no client lost its connection');

my ($iterations) = $client_out =~ /number of transactions actually processed: (\d+)/;
$iterations //= 0;
unlike($client_err, qr/ERROR|aborted/, 'no call failed under the storm');
cmp_ok($iterations, '>=', $minimum, "the clients ran every function $iterations times (at least $minimum)");

my %rounds;
for my $name (sort keys %storm)
{
	$rounds{$name} = () = $storm_out{$name} =~ /^round$/mg;
	note("storm $name: $rounds{$name} rounds; stderr: " . substr($storm_err{$name}, 0, 500));
}
cmp_ok($rounds{analyze}, '>=', 100, "ANALYZE ran $rounds{analyze} rounds");
cmp_ok($rounds{vacuum},  '>=', 100, "VACUUM ran $rounds{vacuum} rounds");
cmp_ok($rounds{index},   '>=', 10,  "CREATE/DROP INDEX CONCURRENTLY ran $rounds{index} rounds");
cmp_ok($rounds{alter},   '>=', 100, "ALTER TABLE SET and GRANT/REVOKE ran $rounds{alter} rounds");

# Every function ran, counted by the server (each backend reports its counts when it exits).
$node->poll_query_until('postgres',
	"SELECT count(*) = 0 FROM pg_stat_activity WHERE usename = 'storm_user'");
my %calls = map { split /\|/ } split /\n/, $node->safe_psql('postgres',
	"SELECT funcname, sum(calls) FROM pg_stat_user_functions WHERE schemaname = 'public' GROUP BY 1");
for my $function (
	qw(create_session create_session_snapshot get_latest_snapshot get_snapshot
	cleanup_old_snapshots append_session_messages get_session_messages export_session
	import_session fork_session verify_session get_session_summary snapshot_data
	storage_report jsonb_delta jsonb_apply_delta jsonb_state_hash cleanup_snapshots_in_batches))
{
	cmp_ok($calls{$function} // 0, '>=', $minimum, "$function ran under the storm (" . ($calls{$function} // 0) . " calls)");
}

check_sessions($node, 'postgres', label => 'after the storm') unless @crashes;

# Dropping and creating the extension again, in another schema, under a connection that has
# every cache warm: its next calls must reach the new tables, by the new schema.
my $iteration = sub {
	my ($schema, $tag) = @_;
	return qq{
SELECT id AS sid FROM $schema.create_session('$tag', 'model-z') \\gset
SELECT '$tag saved', snapshot_number FROM $schema.create_session_snapshot(:'sid', '{"turn": 1, "messages": [{"role": "user", "content": "hi"}]}');
SELECT '$tag saved', snapshot_number FROM $schema.create_session_snapshot(:'sid', '{"turn": 2, "messages": [{"role": "user", "content": "hi"}]}');
SELECT '$tag latest', get_latest_snapshot ->> 'turn' FROM $schema.get_latest_snapshot(:'sid');
SELECT '$tag first', snapshot_data ->> 'turn' FROM $schema.get_snapshot(:'sid', 1);
SELECT '$tag appended', $schema.append_session_messages(:'sid', '[{"role": "assistant", "content": "yes"}]');
SELECT '$tag messages', count(*) FROM $schema.get_session_messages(:'sid');
SELECT $schema.import_session($schema.export_session(:'sid')) AS imported \\gset
SELECT '$tag imported', count(*) FROM $schema.get_snapshot(:'imported');
SELECT $schema.fork_session(:'sid', 1, 'fork') AS forked \\gset
SELECT '$tag forked', count(*) FROM $schema.get_snapshot(:'forked');
SELECT '$tag cleaned', $schema.cleanup_old_snapshots(:'sid', 1);
SELECT '$tag verified', count(*) FROM $schema.verify_session(:'sid');
SELECT '$tag summary', snapshot_count, message_count FROM $schema.get_session_summary(:'sid');
SELECT '$tag view', count(*) FROM $schema.session_snapshots WHERE session_id = :'sid';
SELECT '$tag list', count(*) FROM $schema.sessions_list;
CALL $schema.cleanup_snapshots_in_batches(1);
SELECT '$tag sessions', count(*) FROM $schema.free_agent_sessions;
};
};
my $expected = sub {
	my ($tag, $sessions_now) = @_;
	return join "\n", "$tag saved|1", "$tag saved|2", "$tag latest|2", "$tag first|1",
	  "$tag appended|2", "$tag messages|2", "$tag imported|1", "$tag forked|1",
	  "$tag cleaned|1", "$tag verified|0", "$tag summary|1|2", "$tag view|1",
	  "$tag list|$sessions_now", "$tag sessions|$sessions_now";
};

# The lines of a script's output that name their step (not CALL's or \\gset's).
sub tagged
{
	my ($output) = @_;
	return join "\n", grep { /^[a-z][a-z ]*\|/ } split /\n/, $output;
}

$node->safe_psql('postgres', 'DROP TABLE storm_ids; CREATE SCHEMA sp_second; CREATE SCHEMA sp_third');
my $base = $node->safe_psql('postgres', 'SELECT count(*) FROM free_agent_sessions');
my ($ret, $out, $err) = $node->psql('postgres',
	    $iteration->('public', 'before')
	  . "DROP EXTENSION session_persist CASCADE;\n"
	  . "CREATE EXTENSION session_persist SCHEMA sp_second;\n"
	  . $iteration->('sp_second', 'recreated')
	  . "BEGIN;\nDROP EXTENSION session_persist CASCADE;\n"
	  . "CREATE EXTENSION session_persist SCHEMA sp_third;\n"
	  . $iteration->('sp_third', 'in one transaction')
	  . "COMMIT;\n"
	  . $iteration->('sp_third', 'after commit'),
	extra_params => [ '-v', 'ON_ERROR_STOP=1' ]);
is($ret, 0, 'the same connection keeps working across DROP and CREATE EXTENSION')
  or diag($err);
is(tagged($out),
	join("\n",
		$expected->('before', $base + 3), $expected->('recreated', 3),
		$expected->('in one transaction', 3), $expected->('after commit', 6)),
	'its calls reach the recreated tables, by their new schema');

# The same while another connection drops and creates the extension: the warm connection
# waits on an advisory lock that the other one holds across DROP and CREATE EXTENSION.
my $dropper_sql = q{
SELECT pg_advisory_lock(19);
DO $$
BEGIN
  FOR i IN 1 .. 600 LOOP
    EXIT WHEN EXISTS (SELECT FROM pg_locks WHERE locktype = 'advisory' AND objid = 19 AND NOT granted);
    PERFORM pg_sleep(0.1);
  END LOOP;
END $$;
DROP EXTENSION session_persist CASCADE;
CREATE EXTENSION session_persist SCHEMA sp_second;
SELECT pg_advisory_unlock(19);
};
my $warm_sql =
    $iteration->('sp_third', 'warm')
  . "SELECT pg_advisory_lock(19);\n"
  . $iteration->('sp_second', 'dropped elsewhere');
my (%script, %out, %err, %run);
@script{qw(dropper warm)} = ($dropper_sql, $warm_sql);
for my $name (qw(dropper warm))
{
	open my $sf, '>', "$dir/$name.sql" or die $!;
	print $sf $script{$name};
	close $sf;
}
my $start = sub {
	my ($name) = @_;
	($out{$name}, $err{$name}) = ('', '');
	$run{$name} = IPC::Run::start(
		[ 'psql', '-X', '-q', '-At', '-v', 'ON_ERROR_STOP=1', @connect, '-d', 'postgres', '-f', "$dir/$name.sql" ],
		'>', \$out{$name}, '2>', \$err{$name});
};
$start->('dropper');
$node->poll_query_until('postgres',
	"SELECT EXISTS (SELECT FROM pg_locks WHERE locktype = 'advisory' AND objid = 19 AND granted)");
$start->('warm');
my ($dropper, $warm) = @run{qw(dropper warm)};
my ($dropper_err, $warm_err, $warm_out) = (\$err{dropper}, \$err{warm}, \$out{warm});
my $dropped = $dropper->finish;
my $warm_ok = $warm->finish;
ok($dropped, 'another connection dropped and created the extension') or diag($$dropper_err);
ok($warm_ok, 'a connection with warm caches keeps working after another drops and creates the extension')
  or diag($$warm_err);
is(tagged($$warm_out),
	join("\n", $expected->('warm', 9), $expected->('dropped elsewhere', 3)),
	'its calls reach the tables of the new extension');

$log = slurp_file($node->logfile, $log_start);
@crashes = grep { /terminated by signal|was terminated|terminating any other active server processes|reinitializing|TRAP:/ }
  split /\n/, $log;
is_deeply(\@crashes, [], 'no backend crashed in the whole test');

$node->stop;
done_testing();
