-- Chains: random sequences of saves, cleanups and restores; every kept snapshot restores to
-- exactly the state that was saved, with keyframe_interval 1, 2 and 32; verify_session
-- finds nothing.
SET client_min_messages = warning;
SELECT setseed(0.7);

CREATE TEMP TABLE saved (session_id uuid, snapshot_number int, state jsonb, PRIMARY KEY (session_id, snapshot_number));

-- An agent state growing by turns: messages appended, memory keys changed, sometimes the
-- context is truncated or everything is rewritten.
CREATE FUNCTION pg_temp.next_state(prev jsonb, turn int) RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE r float := random(); messages jsonb := coalesce(prev->'messages', '[]'); memory jsonb := coalesce(prev->'memory', '{}');
BEGIN
  messages := messages || jsonb_build_array(jsonb_build_object('role', 'user', 'content', 'question ' || turn || ' ' || md5(turn::text)),
                                            jsonb_build_object('role', 'assistant', 'content', repeat('answer ' || turn || ' ', 1 + (random() * 20)::int)));
  IF random() < 0.3 THEN
    messages := messages || jsonb_build_array(jsonb_build_object('role', 'tool', 'content', repeat(md5(random()::text), 10)));
  END IF;
  memory := memory || jsonb_build_object('k' || (random() * 8)::int, turn, 'topic', 'topic ' || (turn / 5));
  IF r < 0.05 THEN            -- context truncated to the last few messages
    SELECT jsonb_agg(value ORDER BY ord) INTO messages
      FROM jsonb_array_elements(messages) WITH ORDINALITY e(value, ord) WHERE ord > jsonb_array_length(messages) - 3;
  ELSIF r < 0.08 THEN         -- everything rewritten
    RETURN jsonb_build_object('summary', md5(turn::text), 'turn', turn);
  ELSIF r < 0.12 THEN         -- a top-level key removed
    RETURN jsonb_build_object('messages', messages, 'turn', turn);
  END IF;
  RETURN jsonb_build_object('messages', messages, 'memory', memory, 'turn', turn,
                            'settings', jsonb_build_object('model', 'm', 'temperature', 0.5));
END $$;

CREATE FUNCTION pg_temp.play(p_session uuid, turns int, cleanup_every int, keep int) RETURNS void LANGUAGE plpgsql AS $$
DECLARE state jsonb := '{}'; n int;
BEGIN
  FOR t IN 1..turns LOOP
    state := pg_temp.next_state(state, t);
    SELECT snapshot_number INTO n FROM create_session_snapshot(p_session, state);
    INSERT INTO saved VALUES (p_session, n, state) ON CONFLICT DO NOTHING;
    IF t % cleanup_every = 0 THEN
      PERFORM cleanup_old_snapshots(p_session, keep);
    END IF;
  END LOOP;
END $$;

-- every kept snapshot against the copy of its state: mismatches and unrestorable ones
CREATE FUNCTION pg_temp.check(p_session uuid) RETURNS TABLE (kept bigint, exact bigint, problems bigint) LANGUAGE sql AS $$
  SELECT count(*), count(*) FILTER (WHERE v.snapshot_data = s.state AND jsonb_state_hash(v.snapshot_data) = jsonb_state_hash(s.state)),
         (SELECT count(*) FROM verify_session(p_session))
    FROM session_snapshots v JOIN saved s USING (session_id, snapshot_number)
   WHERE v.session_id = p_session $$;

INSERT INTO free_agent_sessions (id, name) VALUES
  ('00000000-0000-0000-0000-0000000000d1', 'interval 1'),
  ('00000000-0000-0000-0000-0000000000d2', 'interval 2'),
  ('00000000-0000-0000-0000-0000000000d3', 'interval 32'),
  ('00000000-0000-0000-0000-0000000000d4', 'interval 32, pruned often');

SET session_persist.keyframe_interval = 1;
SELECT pg_temp.play('00000000-0000-0000-0000-0000000000d1', 60, 25, 10);
SET session_persist.keyframe_interval = 2;
SELECT pg_temp.play('00000000-0000-0000-0000-0000000000d2', 60, 25, 10);
SET session_persist.keyframe_interval = 32;
SELECT pg_temp.play('00000000-0000-0000-0000-0000000000d3', 150, 40, 30);
SELECT pg_temp.play('00000000-0000-0000-0000-0000000000d4', 150, 7, 3);
RESET session_persist.keyframe_interval;

SELECT s.name, c.* FROM free_agent_sessions s, LATERAL pg_temp.check(s.id) c ORDER BY s.name;
-- the storage mix: interval 1 stores only keyframes, the others mostly deltas
SELECT s.name, count(*) FILTER (WHERE kind = 'full') > 0 AS has_keyframes,
       count(*) FILTER (WHERE kind = 'delta') > 0 AS has_deltas,
       bool_and(kind = 'full' OR base_number = snapshot_number - 1) AS deltas_on_previous
  FROM free_agent_sessions s JOIN session_snapshot_chain c ON c.session_id = s.id
 GROUP BY s.name ORDER BY s.name;
-- a delta chain never runs longer than the interval allows
SELECT max(run) <= 31 AS bounded FROM (
  SELECT snapshot_number - max(CASE WHEN kind = 'full' THEN snapshot_number END)
           OVER (PARTITION BY session_id ORDER BY snapshot_number) AS run
    FROM session_snapshot_chain WHERE session_id = '00000000-0000-0000-0000-0000000000d3') r;

-- get_snapshot and get_latest_snapshot agree with the copies too.
SELECT count(*) FILTER (WHERE g.snapshot_data = s.state) AS get_snapshot_exact, count(*) AS kept
  FROM session_snapshot_chain c JOIN saved s USING (session_id, snapshot_number),
       LATERAL get_snapshot(c.session_id, c.snapshot_number) g;
SELECT count(*) FILTER (WHERE get_latest_snapshot(f.id) = s.state) AS latest_exact
  FROM free_agent_sessions f JOIN saved s ON s.session_id = f.id AND s.snapshot_number = f.latest_snapshot_number;

-- A corrupted chain is detected, never returned: XX001, and verify_session names it.
UPDATE session_snapshot_chain SET delta = '{"o":{"turn":{"r":-1}}}'
 WHERE session_id = '00000000-0000-0000-0000-0000000000d3' AND kind = 'delta'
   AND snapshot_number = (SELECT max(snapshot_number) FROM session_snapshot_chain
                           WHERE session_id = '00000000-0000-0000-0000-0000000000d3' AND kind = 'delta');
SELECT count(*) AS problems FROM verify_session('00000000-0000-0000-0000-0000000000d3') WHERE problem LIKE 'does not restore: snapshot % does not verify';
DO $$ BEGIN
  -- the corrupted delta itself (the latest snapshot may be a keyframe)
  PERFORM get_snapshot('00000000-0000-0000-0000-0000000000d3',
                       (SELECT max(snapshot_number) FROM session_snapshot_chain
                         WHERE session_id = '00000000-0000-0000-0000-0000000000d3' AND kind = 'delta'));
  RAISE NOTICE 'no error';
EXCEPTION WHEN data_corrupted THEN RAISE WARNING 'XX001: %', regexp_replace(SQLERRM, '[0-9]+ of', 'N of');
END $$;
\i test/sql/refusal.sql
-- A chain that lost its keyframes: its snapshots are there but do not restore (XX001, not
-- "not found"), and verify_session lists them instead of failing.
DELETE FROM session_snapshot_chain WHERE session_id = '00000000-0000-0000-0000-0000000000d4' AND kind = 'full';
SELECT pg_temp.refusal(format('SELECT get_snapshot(%L, %s)', '00000000-0000-0000-0000-0000000000d4',
                              (SELECT max(snapshot_number) FROM session_snapshot_chain
                                WHERE session_id = '00000000-0000-0000-0000-0000000000d4')));
SELECT count(*) > 0 AS problems_listed FROM verify_session('00000000-0000-0000-0000-0000000000d4');
UPDATE free_agent_sessions SET snapshot_count = snapshot_count + 1 WHERE id = '00000000-0000-0000-0000-0000000000d1';
SELECT * FROM verify_session('00000000-0000-0000-0000-0000000000d1');
-- The latest snapshot's size and time and the newest message's time are counters too.
UPDATE free_agent_sessions SET latest_snapshot_size = latest_snapshot_size + 1,
       last_snapshot_at = last_snapshot_at - interval '1 day', last_message_at = NULL
 WHERE id = '00000000-0000-0000-0000-0000000000d2';
SET datestyle = ISO;
SELECT snapshot_number, regexp_replace(problem, '[0-9]{4}-[0-9 :.+-]*[0-9]', 'T', 'g') AS problem
  FROM verify_session('00000000-0000-0000-0000-0000000000d2');
RESET datestyle;

-- A fingerprint damaged on disk (one byte in its middle changed, a member's key hash or value
-- hash) reads as none, so the next save is a keyframe; taken for another state's, it would
-- give a delta that does not restore.
INSERT INTO free_agent_sessions (id, name) VALUES ('00000000-0000-0000-0000-0000000000d5', 'damaged fingerprint');
SELECT kind FROM create_session_snapshot('00000000-0000-0000-0000-0000000000d5',
  jsonb_build_object('memory', jsonb_build_object('abc', 1, 'xyz', 2), 'notes', repeat('n', 2000)));
UPDATE free_agent_sessions
   SET latest_fingerprint = set_byte(latest_fingerprint, octet_length(latest_fingerprint) / 2,
                                     get_byte(latest_fingerprint, octet_length(latest_fingerprint) / 2) # 4)
 WHERE id = '00000000-0000-0000-0000-0000000000d5'
RETURNING substring(latest_fingerprint FROM 1 FOR 4) AS still_version_5;
SELECT kind FROM create_session_snapshot('00000000-0000-0000-0000-0000000000d5',
  jsonb_build_object('memory', jsonb_build_object('abc', 1, 'xyz', 3), 'notes', repeat('n', 2000)));
SELECT get_latest_snapshot('00000000-0000-0000-0000-0000000000d5')->'memory' AS memory,
       (SELECT count(*) FROM verify_session('00000000-0000-0000-0000-0000000000d5')) AS problems;

-- The session keeps its fingerprint in two parts (20_tables.sql, core/fingerprint.hpp): a save
-- rewrites the patch in the row, the members changed since the base, and leaves the base
-- where it is. A state whose memory has 140 members of its own has a base of about 2.4 kB,
-- which TOAST holds: after the first save, saves that change one fact each write nothing to
-- the sessions' TOAST table, and the row stays small.
INSERT INTO free_agent_sessions (id, name) VALUES ('00000000-0000-0000-0000-0000000000d6', 'fingerprint in two parts');
CREATE TEMP TABLE fact_states AS
SELECT g, jsonb_build_object(
         'memory', (SELECT jsonb_object_agg('fact ' || k, 'value ' || k || CASE WHEN k = g THEN ' at turn ' || g ELSE '' END)
                      FROM generate_series(1, 140) k),
         'turn', g) AS state
  FROM generate_series(1, 10) g;
SELECT kind FROM fact_states, create_session_snapshot('00000000-0000-0000-0000-0000000000d6', state) WHERE g = 1;
SELECT pg_relation_size(reltoastrelid) AS toast_before FROM pg_class
 WHERE oid = 'free_agent_sessions'::regclass \gset
SELECT md5(latest_fingerprint) AS base_before FROM free_agent_sessions
 WHERE id = '00000000-0000-0000-0000-0000000000d6' \gset
SELECT count(*) AS saves, count(*) FILTER (WHERE s.kind = 'delta') AS deltas
  FROM fact_states f, LATERAL create_session_snapshot('00000000-0000-0000-0000-0000000000d6', f.state) s
 WHERE f.g > 1;
-- A key gone from the memory object: the delta names it by its key hash ("h"), and the chain
-- restores the state without it.
SELECT kind FROM create_session_snapshot('00000000-0000-0000-0000-0000000000d6', jsonb_build_object(
         'memory', (SELECT jsonb_object_agg('fact ' || k, 'value ' || k) FROM generate_series(1, 140) k
                     WHERE k <> 7),
         'turn', 11));
SELECT delta->'o'->'memory'->'h' AS removed_by_hash, delta::text LIKE '%fact 7"%' AS names_the_key
  FROM session_snapshot_chain
 WHERE session_id = '00000000-0000-0000-0000-0000000000d6' AND snapshot_number = 11;
SELECT get_latest_snapshot('00000000-0000-0000-0000-0000000000d6') = jsonb_build_object(
         'memory', (SELECT jsonb_object_agg('fact ' || k, 'value ' || k) FROM generate_series(1, 140) k
                     WHERE k <> 7),
         'turn', 11) AS restores;
SELECT pg_relation_size(reltoastrelid) = :toast_before AS no_toast_written,
       (SELECT md5(latest_fingerprint) = :'base_before'
               AND octet_length(latest_fingerprint) BETWEEN 2100 AND 4000
               AND octet_length(latest_fingerprint_patch) < 600
          FROM free_agent_sessions
         WHERE id = '00000000-0000-0000-0000-0000000000d6') AS base_kept_patch_small,
       (SELECT count(*) FROM verify_session('00000000-0000-0000-0000-0000000000d6')) AS problems
  FROM pg_class WHERE oid = 'free_agent_sessions'::regclass;
-- A damaged patch reads as no fingerprint: the next save is a keyframe, and restores.
UPDATE free_agent_sessions
   SET latest_fingerprint_patch = set_byte(latest_fingerprint_patch, 20, get_byte(latest_fingerprint_patch, 20) # 1)
 WHERE id = '00000000-0000-0000-0000-0000000000d6';
SELECT kind FROM fact_states, create_session_snapshot('00000000-0000-0000-0000-0000000000d6', state) WHERE g = 3;
SELECT get_latest_snapshot('00000000-0000-0000-0000-0000000000d6') = state AS restores
  FROM fact_states WHERE g = 3;
DROP TABLE fact_states;

DELETE FROM free_agent_sessions;

-- Payload columns compress with lz4 where the server has it (pglz otherwise): the chain's
-- states, deltas and metadata, message texts and metadata, the sessions' longer text and JSON.
SELECT c.relname, a.attname,
       a.attcompression = CASE WHEN 'lz4' = ANY (s.enumvals) THEN 'l' ELSE 'p' END AS lz4_where_available
  FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid,
       (SELECT enumvals FROM pg_settings WHERE name = 'default_toast_compression') s
 WHERE c.relnamespace = (SELECT extnamespace FROM pg_extension WHERE extname = 'session_persist')
   AND (c.relname, a.attname) IN (('session_snapshot_chain', 'state'), ('session_snapshot_chain', 'delta'),
                                  ('session_snapshot_chain', 'metadata'), ('session_messages', 'content'),
                                  ('session_messages', 'metadata'), ('free_agent_sessions', 'description'),
                                  ('free_agent_sessions', 'current_state'), ('free_agent_sessions', 'memory_summary'),
                                  ('free_agent_sessions', 'metadata'))
 ORDER BY c.relname, a.attnum;
