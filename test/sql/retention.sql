-- Retention: sessions prune themselves to a policy (SPEC.md, "Retention"). A session's own
-- keep_snapshots / keep_for (NULL: the settings session_persist.keep_snapshots / keep_for,
-- which only an administrator sets) decide; a save that leaves a session more than a quarter
-- (at least 5) over its count prunes it back in the same transaction, chain-safe; the age
-- limit is applied by cleanup_all_snapshots() with no arguments. The latest is never pruned.
SET client_min_messages = warning;
\i test/sql/refusal.sql
CREATE ROLE regress_sp_keeper;
GRANT ALL ON ALL TABLES IN SCHEMA public TO regress_sp_keeper;
-- A save of a growing state (a few messages and a changing memory) of turn t.
CREATE FUNCTION pg_temp.save(s uuid, t int) RETURNS int LANGUAGE sql AS $$
  SELECT snapshot_number FROM create_session_snapshot(s, jsonb_build_object('turn', t,
    'memory', jsonb_build_object('facts', (SELECT jsonb_object_agg('k' || i, i * t % 13) FROM generate_series(1, 30) i)),
    'messages', (SELECT jsonb_agg(jsonb_build_object('role', 'user', 'content', 'm' || i)) FROM generate_series(1, t) i)))
$$;
-- Saves n turns and reports the most snapshots the session held after any save.
CREATE FUNCTION pg_temp.play(s uuid, n int) RETURNS TABLE (saves int, most_held int, held int, oldest int, latest int)
LANGUAGE plpgsql AS $$
DECLARE most int := 0;
BEGIN
  FOR t IN 1..n LOOP
    PERFORM pg_temp.save(s, t);
    most := greatest(most, (SELECT count(*)::int FROM session_snapshot_chain c WHERE c.session_id = s));
  END LOOP;
  RETURN QUERY SELECT n, most, f.snapshot_count, (SELECT min(snapshot_number) FROM session_snapshot_chain c WHERE c.session_id = s),
                      f.latest_snapshot_number FROM free_agent_sessions f WHERE f.id = s;
END $$;
-- Every kept snapshot restores to the state saved at its turn, and the session verifies.
CREATE FUNCTION pg_temp.sound(s uuid) RETURNS text LANGUAGE sql AS $$
  SELECT format('%s kept, %s restore exactly, %s problems',
    count(*), count(*) FILTER (WHERE (g.snapshot_data ->> 'turn')::int = c.snapshot_number),
    (SELECT count(*) FROM verify_session(s)))
    FROM session_snapshot_chain c, LATERAL get_snapshot(s, c.snapshot_number) g WHERE c.session_id = s
$$;

SET ROLE regress_sp_keeper;
INSERT INTO free_agent_sessions (id, name, keep_snapshots) VALUES
  ('00000000-0000-0000-0000-0000000000e1', 'keep 5', 5),
  ('00000000-0000-0000-0000-0000000000e2', 'default', NULL),
  ('00000000-0000-0000-0000-0000000000e3', 'keep 3', 3),
  ('00000000-0000-0000-0000-0000000000e4', 'keep all', 0),
  ('00000000-0000-0000-0000-0000000000e5', 'keep 1', 1);
-- keep_snapshots 5, 60 saves: never more than 5 + 5 held, every kept one restores.
SELECT * FROM pg_temp.play('00000000-0000-0000-0000-0000000000e1', 60);
SELECT pg_temp.sound('00000000-0000-0000-0000-0000000000e1');
RESET ROLE;

-- The database default (an administrator's setting) applies to sessions that set nothing;
-- a session's own value wins; 0 keeps all.
SET session_persist.keep_snapshots = 12;
SET ROLE regress_sp_keeper;
SELECT * FROM pg_temp.play('00000000-0000-0000-0000-0000000000e2', 40);
SELECT pg_temp.sound('00000000-0000-0000-0000-0000000000e2');
SELECT * FROM pg_temp.play('00000000-0000-0000-0000-0000000000e3', 40);
SELECT * FROM pg_temp.play('00000000-0000-0000-0000-0000000000e4', 40);
-- The latest is never pruned, even with keep_snapshots 1.
SELECT * FROM pg_temp.play('00000000-0000-0000-0000-0000000000e5', 20);
SELECT get_latest_snapshot('00000000-0000-0000-0000-0000000000e5') ->> 'turn' AS latest_turn;

-- A client cannot raise (or lower) the administrator's settings, only its own sessions'
-- columns, which are its own data (docs/operations.md); bad values are refused.
SELECT pg_temp.refusal($$SET session_persist.keep_snapshots = 0$$);
SELECT pg_temp.refusal($$SET session_persist.keep_for = '100 years'$$);
SELECT pg_temp.refusal($$ALTER ROLE regress_sp_keeper SET session_persist.keep_snapshots = 0$$);
SELECT pg_temp.refusal($$UPDATE free_agent_sessions SET keep_snapshots = -1 WHERE id = '00000000-0000-0000-0000-0000000000e3'$$);
SELECT pg_temp.refusal($$UPDATE free_agent_sessions SET keep_for = '-1 day' WHERE id = '00000000-0000-0000-0000-0000000000e3'$$);
SELECT pg_temp.refusal($$UPDATE free_agent_sessions SET keep_for = '0' WHERE id = '00000000-0000-0000-0000-0000000000e3'$$);
UPDATE free_agent_sessions SET keep_snapshots = 50 WHERE id = '00000000-0000-0000-0000-0000000000e3';
SELECT * FROM pg_temp.play('00000000-0000-0000-0000-0000000000e3', 60);
RESET ROLE;
SELECT pg_temp.refusal($$SET session_persist.keep_for = 'nonsense'$$);
SELECT pg_temp.refusal($$SET session_persist.keep_for = '-3 days'$$);

-- The age limit: cleanup_all_snapshots() with no arguments applies each session's keep_for
-- (else session_persist.keep_for) and keep_snapshots. Snapshots are made old by hand here.
UPDATE session_snapshot_chain SET created_at = created_at - interval '10 days'
 WHERE session_id IN ('00000000-0000-0000-0000-0000000000e4', '00000000-0000-0000-0000-0000000000e2')
   AND snapshot_number <= 35;
SET ROLE regress_sp_keeper;
UPDATE free_agent_sessions SET keep_for = '7 days' WHERE id = '00000000-0000-0000-0000-0000000000e4';
SELECT cleanup_all_snapshots() AS deleted;
SELECT name, snapshot_count, (SELECT min(snapshot_number) FROM session_snapshot_chain c WHERE c.session_id = f.id) AS oldest,
       latest_snapshot_number AS latest
  FROM free_agent_sessions f WHERE id IN ('00000000-0000-0000-0000-0000000000e2', '00000000-0000-0000-0000-0000000000e4') ORDER BY name;
RESET ROLE;
-- The setting's age limit, for a session that sets none.
SET session_persist.keep_for = '5 days';
SET session_persist.keep_snapshots = 0;
SET ROLE regress_sp_keeper;
SELECT cleanup_all_snapshots() AS deleted;
SELECT name, snapshot_count, (SELECT min(snapshot_number) FROM session_snapshot_chain c WHERE c.session_id = f.id) AS oldest
  FROM free_agent_sessions f WHERE id = '00000000-0000-0000-0000-0000000000e2';
SELECT s.id, v.* FROM free_agent_sessions s, LATERAL verify_session(s.id) v WHERE s.user_id = 'regress_sp_keeper';
RESET ROLE;
RESET session_persist.keep_for;
RESET session_persist.keep_snapshots;
DELETE FROM free_agent_sessions WHERE user_id = 'regress_sp_keeper';
REVOKE ALL ON ALL TABLES IN SCHEMA public FROM regress_sp_keeper;
DROP ROLE regress_sp_keeper;
