# cleanup_all_snapshots prunes every session in memory that does not grow with the number of
# sessions (SPEC.md, "cleanup_old_snapshots"): 100,000 sessions of three snapshots each are
# pruned to one, and the backend's memory (every context, measured by the function itself and
# reported at DEBUG1) grows by less than 4 MB while it runs (about 1 MB whatever the number
# of sessions: its contexts' first blocks and the kept plans). Before, the ids of every
# session, and each session's fingerprint, hash and repair data, stayed to the end.
use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $sessions = $ENV{SP_CLEANUP_SESSIONS} // 100000;

my $node = PostgreSQL::Test::Cluster->new('cleanup_memory');
$node->init;
$node->append_conf('postgresql.conf', "fsync = off\nsynchronous_commit = off\nautovacuum = off\n");
$node->start;
$node->safe_psql('postgres', 'CREATE EXTENSION session_persist');

# 1,000 sessions saved through the extension (keyframes and deltas, messages), then copied
# with new ids until there are $sessions: rows and counters exactly as the extension wrote them.
$node->safe_psql('postgres', q{
SELECT count(*) FROM generate_series(1, 1000) s, LATERAL (SELECT id FROM create_session('seed ' || s)) c,
  LATERAL (SELECT create_session_snapshot(c.id, jsonb_build_object('turn', t, 'memory',
             jsonb_build_object('facts', (SELECT jsonb_object_agg('k' || i, i * t) FROM generate_series(1, 40) i)),
             'messages', (SELECT jsonb_agg(jsonb_build_object('role', 'user', 'content', 'm' || i)) FROM generate_series(1, t) i)))
             FROM generate_series(1, 3) t) x;
});
my $copies = int($sessions / 1000) - 1;
# (Copied without firing the foreign-key and guard triggers: the copies are of valid rows.)
$node->safe_psql('postgres', qq{
SET session_replication_role = replica;
CREATE TEMP TABLE map AS
  SELECT s.id AS old_id, gen_random_uuid() AS new_id FROM free_agent_sessions s, generate_series(1, $copies);
INSERT INTO free_agent_sessions
  SELECT (jsonb_populate_record(s, jsonb_build_object('id', m.new_id))).* FROM free_agent_sessions s JOIN map m ON m.old_id = s.id;
INSERT INTO session_snapshot_chain
  SELECT (jsonb_populate_record(c, jsonb_build_object('session_id', m.new_id, 'id', gen_random_uuid()))).*
    FROM session_snapshot_chain c JOIN map m ON m.old_id = c.session_id;
INSERT INTO session_messages
  SELECT (jsonb_populate_record(x, jsonb_build_object('session_id', m.new_id, 'id', gen_random_uuid()))).*
    FROM session_messages x JOIN map m ON m.old_id = x.session_id;
});
is($node->safe_psql('postgres', 'SELECT count(*) FROM free_agent_sessions'), $sessions, "$sessions sessions");

my ($ret, $out, $err) = $node->psql('postgres',
	'SET client_min_messages = debug1; SELECT cleanup_all_snapshots(1)');
is($ret, 0, 'cleanup_all_snapshots ran');
is($out, 2 * $sessions, 'it deleted two snapshots of every session');
my ($looked, $grew) = $err =~ /cleanup_all_snapshots: (\d+) sessions looked at, \d+ snapshots deleted, memory grew by at most (\d+) bytes/;
ok(defined $grew, 'it reported its memory') or diag($err);
is($looked, $sessions, 'it looked at every session');
cmp_ok($grew, '<', 4 * 1024 * 1024, "memory grew by $grew bytes for $sessions sessions (less than 4 MB)");

is($node->safe_psql('postgres', q{
SELECT count(*) FROM free_agent_sessions s
 WHERE s.snapshot_count <> 1 OR (SELECT count(*) FROM session_snapshot_chain c WHERE c.session_id = s.id) <> 1}),
	'0', 'every session kept exactly its latest snapshot, and its counter says so');
is($node->safe_psql('postgres', q{
SELECT count(*) FROM (SELECT id FROM free_agent_sessions ORDER BY id LIMIT 300) s, LATERAL verify_session(s.id)}),
	'0', 'a sample of 300 sessions verifies (chain, hashes, counters)');

$node->stop;
done_testing();
