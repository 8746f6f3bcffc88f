-- Saving and restoring snapshots: create_session_snapshot, get_latest_snapshot, get_snapshot
-- and the session_snapshots view.
SET client_min_messages = warning;
\i test/sql/refusal.sql

INSERT INTO free_agent_sessions (id, name) VALUES
  ('00000000-0000-0000-0000-000000000001', 'snapshots'),
  ('00000000-0000-0000-0000-000000000002', 'empty');

-- A session without snapshots restores to NULL (seed-compatible) and get_snapshot has no row.
SELECT get_latest_snapshot('00000000-0000-0000-0000-000000000002') IS NULL AS no_state;
SELECT count(*) FROM get_snapshot('00000000-0000-0000-0000-000000000002');

-- Saves number 1, 2, 3 ...
SELECT snapshot_number, created, kind, snapshot_size > 0 AS sized
  FROM create_session_snapshot('00000000-0000-0000-0000-000000000001', '{"messages":[{"role":"user","content":"hello"}]}');
SELECT snapshot_number, created
  FROM create_session_snapshot('00000000-0000-0000-0000-000000000001',
       '{"messages":[{"role":"user","content":"hello"},{"role":"assistant","content":"hi!"}]}',
       p_metadata => '{"trigger":"auto"}');

-- Change detection: the same state again writes nothing and returns the latest.
SELECT snapshot_number, created
  FROM create_session_snapshot('00000000-0000-0000-0000-000000000001',
       '{"messages":[{"role":"user","content":"hello"},{"role":"assistant","content":"hi!"}]}');
-- Key order and whitespace do not matter: it is the same JSON object.
SELECT snapshot_number, created
  FROM create_session_snapshot('00000000-0000-0000-0000-000000000001',
       '{ "messages" : [{"content":"hello","role":"user"},{"content":"hi!","role":"assistant"}] }');

-- Optimistic concurrency: the right expected number saves; a stale one is refused with 40001.
SELECT snapshot_number, created
  FROM create_session_snapshot('00000000-0000-0000-0000-000000000001', '{"step":3}', p_expected_number => 2);
SELECT pg_temp.refusal($$SELECT create_session_snapshot('00000000-0000-0000-0000-000000000001', '{"step":4}', 2)$$);
-- The expected number of an unchanged retry is checked too.
SELECT pg_temp.refusal($$SELECT create_session_snapshot('00000000-0000-0000-0000-000000000001', '{"step":3}', 1)$$);
-- A number ahead of the latest is not "changed since": it names a snapshot that does not exist yet.
SELECT pg_temp.refusal($$SELECT create_session_snapshot('00000000-0000-0000-0000-000000000001', '{"step":3}', 999)$$);
-- 0 means "no snapshot yet".
SELECT snapshot_number FROM create_session_snapshot('00000000-0000-0000-0000-000000000002', '{"first":true}', 0);

-- Restores.
SELECT get_latest_snapshot('00000000-0000-0000-0000-000000000001');
SELECT snapshot_number, snapshot_data, snapshot_size, metadata
  FROM get_snapshot('00000000-0000-0000-0000-000000000001', 2);
SELECT snapshot_number, snapshot_data FROM get_snapshot('00000000-0000-0000-0000-000000000001');
SELECT snapshot_number, snapshot_data, compression_enabled, kind, metadata
  FROM session_snapshots WHERE session_id = '00000000-0000-0000-0000-000000000001'
 ORDER BY snapshot_number;

-- Counters follow every save.
SELECT snapshot_count, latest_snapshot_number, latest_snapshot_size, total_snapshot_size = (
         SELECT sum(snapshot_size) FROM session_snapshot_chain WHERE session_id = s.id) AS total_exact,
       stored_bytes = (SELECT sum(stored_bytes) FROM session_snapshot_chain WHERE session_id = s.id) AS stored_exact,
       last_snapshot_at IS NOT NULL AS stamped
  FROM free_agent_sessions s WHERE id = '00000000-0000-0000-0000-000000000001';

-- Bad input: a clear error, nothing written.
SELECT pg_temp.refusal($$SELECT create_session_snapshot(NULL, '{}')$$);
SELECT pg_temp.refusal($$SELECT create_session_snapshot('00000000-0000-0000-0000-000000000001', NULL)$$);
SELECT pg_temp.refusal($$SELECT create_session_snapshot('00000000-0000-0000-0000-000000000001', '[1,2]')$$);
SELECT pg_temp.refusal($$SELECT create_session_snapshot('00000000-0000-0000-0000-000000000001', '"a string"')$$);
SELECT pg_temp.refusal($$SELECT create_session_snapshot('00000000-0000-0000-0000-000000000001', '42')$$);
SELECT pg_temp.refusal($$SELECT create_session_snapshot('00000000-0000-0000-0000-000000000001', '{"x":1}', p_sync_messages => NULL)$$);
-- A tiny state that changed is stored in full when its delta would not be smaller.
SELECT kind, snapshot_size, stored_bytes <= snapshot_size AS stored_the_smaller
  FROM create_session_snapshot('00000000-0000-0000-0000-000000000001', '{"a": 1, "b": 2}');
SELECT kind, snapshot_size, stored_bytes <= snapshot_size AS stored_the_smaller
  FROM create_session_snapshot('00000000-0000-0000-0000-000000000001', '{"a": 3, "b": 4}');
SELECT pg_temp.refusal($$SELECT create_session_snapshot('00000000-0000-0000-0000-000000000001', 'null')$$);
SELECT pg_temp.refusal($$SELECT create_session_snapshot('00000000-0000-0000-0000-000000000001', '{}', p_metadata => '[]')$$);
SELECT pg_temp.refusal($$SELECT create_session_snapshot('00000000-0000-0000-0000-000000000001', '{}', -1)$$);
SELECT pg_temp.refusal($$SELECT create_session_snapshot('00000000-0000-0000-0000-00000000ffff', '{}')$$);
SELECT pg_temp.refusal($$SELECT get_latest_snapshot(NULL)$$);
SELECT pg_temp.refusal($$SELECT get_latest_snapshot('00000000-0000-0000-0000-00000000ffff')$$);
SELECT pg_temp.refusal($$SELECT * FROM get_snapshot('00000000-0000-0000-0000-000000000001', 99)$$);
SELECT pg_temp.refusal($$SELECT * FROM get_snapshot('00000000-0000-0000-0000-000000000001', 0)$$);
SELECT pg_temp.refusal($$SELECT * FROM get_snapshot('00000000-0000-0000-0000-00000000ffff')$$);
SELECT snapshot_count, latest_snapshot_number FROM free_agent_sessions
 WHERE id = '00000000-0000-0000-0000-000000000001';

-- Size limit (54000) and warning.
SET session_persist.warn_snapshot_bytes = 1000;
SELECT snapshot_number, snapshot_size FROM create_session_snapshot('00000000-0000-0000-0000-000000000001',
       jsonb_build_object('blob', repeat('x', 2000)));
RESET session_persist.warn_snapshot_bytes;
SET session_persist.max_snapshot_bytes = 4000;
SELECT pg_temp.refusal($$SELECT create_session_snapshot('00000000-0000-0000-0000-000000000001', jsonb_build_object('blob', repeat('y', 5000)))$$);
-- At the limit exactly it is accepted.
SELECT snapshot_size FROM create_session_snapshot('00000000-0000-0000-0000-000000000001',
       jsonb_build_object('blob', repeat('z', 3980)));
RESET session_persist.max_snapshot_bytes;
-- A client cannot raise its own limit.
CREATE ROLE regress_sp_client;
SET ROLE regress_sp_client;
SELECT pg_temp.refusal($$SET session_persist.max_snapshot_bytes = '1GB'$$);
RESET ROLE;
DROP ROLE regress_sp_client;

-- Saves write their rows without planning a statement (src/row_writer.hpp). Several saves
-- in one statement, and a save after the session row was edited in the same transaction,
-- each see the row the one before wrote.
SELECT id AS direct FROM create_session('rows written directly') \gset
SELECT array_agg(s.snapshot_number ORDER BY i) AS numbers
  FROM generate_series(1, 5) i,
       LATERAL create_session_snapshot(:'direct', jsonb_build_object('i', i)) s;
BEGIN;
UPDATE free_agent_sessions SET name = 'renamed first' WHERE id = :'direct';
SELECT snapshot_number FROM create_session_snapshot(:'direct', '{"i": 6}');
SELECT snapshot_number FROM create_session_snapshot(:'direct', '{"i": 7}');
COMMIT;
SELECT name, snapshot_count, latest_snapshot_number, updated_at = last_snapshot_at AS touched
  FROM free_agent_sessions WHERE id = :'direct';
SELECT count(*) AS rows, min(snapshot_number), max(snapshot_number)
  FROM session_snapshot_chain WHERE session_id = :'direct';
-- Constraints hold as for an INSERT: a chain row whose number is taken (here planted by the
-- tables' owner) fails the save with 23505 and the session row is left as it was.
INSERT INTO session_snapshot_chain (session_id, snapshot_number, user_id, snapshot_size,
                                    stored_bytes, kind, state, state_hash)
VALUES (:'direct', 8, current_user, 2, 2, 'full', '{}', '\x00');
SELECT split_part(pg_temp.refusal(format('SELECT create_session_snapshot(%L, %L)', :'direct', '{"i": 8}')), ' [', 1) AS refusal;
SELECT snapshot_count, latest_snapshot_number FROM free_agent_sessions WHERE id = :'direct';
DELETE FROM session_snapshot_chain WHERE session_id = :'direct' AND snapshot_number = 8;
-- No trigger fires on the rows a save writes (the foreign key holds through the session's
-- row lock; see README, "Where this differs from SPEC.md").
CREATE FUNCTION pg_temp.count_row() RETURNS trigger LANGUAGE plpgsql AS
  $$BEGIN RAISE EXCEPTION 'trigger fired on %', TG_TABLE_NAME; END$$;
CREATE TRIGGER regress_count AFTER INSERT ON session_snapshot_chain
  FOR EACH ROW EXECUTE FUNCTION pg_temp.count_row();
SELECT snapshot_number FROM create_session_snapshot(:'direct', '{"i": 8}');
DROP TRIGGER regress_count ON session_snapshot_chain;

-- The seed's read of the latest snapshot reconstructs one state, through the primary key.
EXPLAIN (COSTS OFF)
SELECT id, snapshot_number, snapshot_data, snapshot_size, created_at
  FROM session_snapshots WHERE session_id = '00000000-0000-0000-0000-000000000001'
 ORDER BY snapshot_number DESC LIMIT 1;

DELETE FROM free_agent_sessions;
