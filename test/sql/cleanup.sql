-- Pruning: cleanup_old_snapshots keeps the newest p_keep_count of each session, never the
-- latest, optionally only deletes what is older than p_older_than; counters stay exact.
SET client_min_messages = warning;
\i test/sql/refusal.sql
-- counters against the rows they count
CREATE FUNCTION pg_temp.counters(p uuid) RETURNS TABLE (snapshot_count int, latest int, numbers text, exact boolean)
LANGUAGE sql AS $$
  SELECT s.snapshot_count, s.latest_snapshot_number,
         (SELECT string_agg(snapshot_number::text, ',' ORDER BY snapshot_number) FROM session_snapshot_chain WHERE session_id = p),
         s.snapshot_count = (SELECT count(*) FROM session_snapshot_chain WHERE session_id = p)
         AND s.total_snapshot_size = (SELECT coalesce(sum(snapshot_size), 0) FROM session_snapshot_chain WHERE session_id = p)
         AND s.stored_bytes = (SELECT coalesce(sum(stored_bytes), 0) FROM session_snapshot_chain WHERE session_id = p)
    FROM free_agent_sessions s WHERE s.id = p $$;

INSERT INTO free_agent_sessions (id, name) VALUES
  ('00000000-0000-0000-0000-0000000000c1', 'twelve'),
  ('00000000-0000-0000-0000-0000000000c2', 'five'),
  ('00000000-0000-0000-0000-0000000000c3', 'old and new');
SELECT count(*) FROM generate_series(1, 12) i,
  LATERAL create_session_snapshot('00000000-0000-0000-0000-0000000000c1', jsonb_build_object('turn', i));
SELECT count(*) FROM generate_series(1, 5) i,
  LATERAL create_session_snapshot('00000000-0000-0000-0000-0000000000c2', jsonb_build_object('turn', i));

-- The seed's positional call.
SELECT cleanup_old_snapshots('00000000-0000-0000-0000-0000000000c1', 10);
SELECT * FROM pg_temp.counters('00000000-0000-0000-0000-0000000000c1');
-- Nothing more to do: 0.
SELECT cleanup_old_snapshots('00000000-0000-0000-0000-0000000000c1', 10);
-- keep 1: only the latest stays, and it still restores.
SELECT cleanup_old_snapshots('00000000-0000-0000-0000-0000000000c1', 1);
SELECT * FROM pg_temp.counters('00000000-0000-0000-0000-0000000000c1');
SELECT get_latest_snapshot('00000000-0000-0000-0000-0000000000c1');
-- Numbers are never reused after a cleanup.
SELECT snapshot_number FROM create_session_snapshot('00000000-0000-0000-0000-0000000000c1', '{"turn":13}');

-- p_older_than: only snapshots older than the time given go, and never the newest keep_count.
SELECT count(*) FROM generate_series(1, 6) i,
  LATERAL create_session_snapshot('00000000-0000-0000-0000-0000000000c3', jsonb_build_object('turn', i));
UPDATE session_snapshot_chain SET created_at = now() - interval '2 days'
 WHERE session_id = '00000000-0000-0000-0000-0000000000c3' AND snapshot_number <= 3;
SELECT cleanup_old_snapshots('00000000-0000-0000-0000-0000000000c3', 1, now() - interval '1 day');
SELECT * FROM pg_temp.counters('00000000-0000-0000-0000-0000000000c3');
SELECT cleanup_old_snapshots(p_session_id => '00000000-0000-0000-0000-0000000000c3', p_keep_count => 2);
SELECT * FROM pg_temp.counters('00000000-0000-0000-0000-0000000000c3');

-- Without a session: every session the caller may write.
SELECT cleanup_all_snapshots(p_keep_count => 3);
SELECT name, (pg_temp.counters(id)).* FROM free_agent_sessions ORDER BY name;

-- In batches, committing as it goes (for large nightly jobs): the same result.
SELECT count(*) FROM generate_series(14, 20) i,
  LATERAL create_session_snapshot('00000000-0000-0000-0000-0000000000c1', jsonb_build_object('turn', i));
CALL cleanup_snapshots_in_batches(2, p_sessions_per_transaction => 1);
SELECT name, (pg_temp.counters(id)).* FROM free_agent_sessions ORDER BY name;
CALL cleanup_snapshots_in_batches(0);

-- Bad input: a clear error, nothing deleted.
SELECT pg_temp.refusal($$SELECT cleanup_old_snapshots('00000000-0000-0000-0000-0000000000c2', 0)$$);
SELECT pg_temp.refusal($$SELECT cleanup_old_snapshots('00000000-0000-0000-0000-0000000000c2', -5)$$);
SELECT pg_temp.refusal($$SELECT cleanup_old_snapshots('00000000-0000-0000-0000-0000000000c2', NULL)$$);
SELECT pg_temp.refusal($$SELECT cleanup_old_snapshots('00000000-0000-0000-0000-00000000ffff', 1)$$);
SELECT * FROM pg_temp.counters('00000000-0000-0000-0000-0000000000c2');

-- A NULL session is refused, never "every session"; that is cleanup_all_snapshots, which
-- with no arguments applies each session's policy (by default: keep everything).
SELECT pg_temp.refusal($$SELECT cleanup_old_snapshots(NULL, 1)$$);
SELECT pg_temp.refusal($$SELECT cleanup_old_snapshots(NULL)$$);
SELECT pg_temp.refusal($$SELECT cleanup_all_snapshots(0)$$);
SELECT cleanup_all_snapshots() AS deleted_by_default_policy;

-- Every session this file made or changed verifies (chain, hashes, counters): no rows.
SELECT s.id, v.* FROM free_agent_sessions s, LATERAL verify_session(s.id) v;
DELETE FROM free_agent_sessions;
