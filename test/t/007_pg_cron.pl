# Automatic retention on a schedule: pg_cron runs cleanup_all_snapshots() (each session's
# keep_snapshots and keep_for, else the settings) as the README shows, and the test sees the
# job run and the old snapshots go. Skipped where pg_cron is not installed for the server
# under test (Debian's postgresql-15-cron is; the other builds have none).
use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $pkglibdir = `pg_config --pkglibdir`;
chomp $pkglibdir;
plan skip_all => "pg_cron is not installed for this server ($pkglibdir)"
  unless -e "$pkglibdir/pg_cron.so";

my $node = PostgreSQL::Test::Cluster->new('cron');
$node->init;
$node->append_conf('postgresql.conf', qq{
shared_preload_libraries = 'pg_cron'
cron.database_name = 'postgres'
# jobs run in background workers, not through a libpq connection to cron.host
cron.use_background_workers = on
max_worker_processes = 16
});
$node->start;
$node->safe_psql('postgres', q{
CREATE EXTENSION pg_cron;
CREATE EXTENSION session_persist;
ALTER DATABASE postgres SET session_persist.keep_for = '7 days';
ALTER DATABASE postgres SET session_persist.keep_snapshots = 20;
INSERT INTO free_agent_sessions (id, user_id, name) VALUES
  ('00000000-0000-0000-0000-0000000000a1', 'user-1', 'old snapshots'),
  ('00000000-0000-0000-0000-0000000000a2', 'user-2', 'keeps 3');
UPDATE free_agent_sessions SET keep_snapshots = 3 WHERE id = '00000000-0000-0000-0000-0000000000a2';
SELECT count(*) FROM generate_series(1, 12) g, (VALUES ('00000000-0000-0000-0000-0000000000a1'::uuid),
                                                       ('00000000-0000-0000-0000-0000000000a2')) v(id),
  LATERAL create_session_snapshot(v.id, jsonb_build_object('turn', g));
-- The first ten snapshots of the first session are ten days old.
UPDATE session_snapshot_chain SET created_at = now() - interval '10 days'
 WHERE session_id = '00000000-0000-0000-0000-0000000000a1' AND snapshot_number <= 10;
});
is($node->safe_psql('postgres', 'SELECT count(*) FROM session_snapshot_chain'), '18',
	'before the job: 12 snapshots, and 6 kept by the save-time rule (pruned to 3 past 3 + 5)');

# The one-line schedule the README shows (pg_cron 1.4 runs at most once a minute).
$node->safe_psql('postgres',
	q{SELECT cron.schedule('session-retention', '* * * * *', 'SELECT cleanup_all_snapshots()')});
my $ran = $node->poll_query_until('postgres',
	q{SELECT count(*) > 0 FROM cron.job_run_details WHERE status = 'succeeded'
	    AND command = 'SELECT cleanup_all_snapshots()'}, 't');
ok($ran, 'pg_cron ran cleanup_all_snapshots() and it succeeded');
is($node->safe_psql('postgres', q{
SELECT string_agg(session_id::text || ':' || snapshot_number, ' ' ORDER BY session_id, snapshot_number)
  FROM session_snapshot_chain}),
	join(' ', (map { "00000000-0000-0000-0000-0000000000a1:$_" } 11 .. 12),
		(map { "00000000-0000-0000-0000-0000000000a2:$_" } 10 .. 12)),
	'the job pruned by age (keep_for from the database setting) and by each session\'s count');
is($node->safe_psql('postgres', q{
SELECT count(*) FROM free_agent_sessions s, LATERAL verify_session(s.id)}), '0',
	'both sessions verify after the job');
$node->safe_psql('postgres', q{SELECT cron.unschedule('session-retention')});
$node->stop;
done_testing();
