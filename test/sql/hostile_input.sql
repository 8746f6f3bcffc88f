-- Hostile input: every SQL-callable function of the extension gets NULLs, wrong JSON shapes,
-- out-of-range numbers, other users' ids and ids that do not exist. Each is refused with a
-- clear SQLSTATE and writes nothing (the fingerprint of all rows is the same after them);
-- none crashes the backend. Then inputs that are valid but extreme (every escape, deep
-- nesting, a million-element array, duplicate keys, odd numbers) save and restore exactly.
SET client_min_messages = warning;
\i test/sql/refusal.sql
-- Everything the extension stores, as one hash.
CREATE FUNCTION pg_temp.fingerprint() RETURNS text LANGUAGE sql AS $$
  SELECT md5(concat(
    (SELECT string_agg(s::text, ';' ORDER BY id) FROM free_agent_sessions s),
    (SELECT string_agg(concat_ws(',', session_id, snapshot_number, id, kind, base_number,
                                 snapshot_size, stored_bytes, md5(state::text), md5(delta::text),
                                 encode(state_hash, 'hex'), metadata), ';'
                       ORDER BY session_id, snapshot_number) FROM session_snapshot_chain),
    (SELECT string_agg(m::text, ';' ORDER BY session_id, message_order) FROM session_messages m)))
$$;
GRANT EXECUTE ON FUNCTION pg_temp.refusal(text) TO PUBLIC;

CREATE ROLE regress_hostile_alice;
CREATE ROLE regress_hostile_bob;
SET ROLE regress_hostile_alice;
INSERT INTO free_agent_sessions (id, name, visibility) VALUES
  ('00000000-0000-0000-0000-00000000bad1', 'alice private', 'private'),
  ('00000000-0000-0000-0000-00000000bad2', 'alice public', 'public');
SELECT count(*) FROM generate_series(1, 3) g,
  LATERAL create_session_snapshot('00000000-0000-0000-0000-00000000bad1', jsonb_build_object('step', g));
SELECT snapshot_number FROM create_session_snapshot('00000000-0000-0000-0000-00000000bad2', '{"shared": true}');
RESET ROLE;
SELECT pg_temp.fingerprint() AS before \gset

-- ---------------------------------------------------------------- NULLs
SELECT pg_temp.refusal($$SELECT create_session(NULL)$$);
SELECT pg_temp.refusal($$SELECT get_session_summary(NULL)$$);
SELECT pg_temp.refusal($$SELECT create_session_snapshot(NULL, NULL)$$);
SELECT pg_temp.refusal($$SELECT create_session_snapshot(NULL, '{}')$$);
SELECT pg_temp.refusal($$SELECT create_session_snapshot('00000000-0000-0000-0000-00000000bad1', NULL)$$);
SELECT pg_temp.refusal($$SELECT get_latest_snapshot(NULL)$$);
SELECT pg_temp.refusal($$SELECT * FROM get_snapshot(NULL)$$);
SELECT pg_temp.refusal($$SELECT * FROM get_snapshot(NULL, 1)$$);
SELECT pg_temp.refusal($$SELECT cleanup_old_snapshots('00000000-0000-0000-0000-00000000bad1', NULL)$$);
SELECT pg_temp.refusal($$SELECT cleanup_old_snapshots(NULL, NULL)$$);
SELECT pg_temp.refusal($$SELECT snapshot_data(NULL, 1, NULL, NULL)$$);
SELECT pg_temp.refusal($$SELECT snapshot_data('00000000-0000-0000-0000-00000000bad1', NULL, NULL, NULL)$$);

-- ---------------------------------------------------------------- wrong JSON shapes
-- A JSON null, true, an empty array, a string: not objects (SQL NULL is another case above).
SELECT pg_temp.refusal($$SELECT create_session_snapshot('00000000-0000-0000-0000-00000000bad1', 'null'::jsonb)$$);
SELECT pg_temp.refusal($$SELECT create_session_snapshot('00000000-0000-0000-0000-00000000bad1', 'true')$$);
SELECT pg_temp.refusal($$SELECT create_session_snapshot('00000000-0000-0000-0000-00000000bad1', '[]')$$);
SELECT pg_temp.refusal($$SELECT create_session_snapshot('00000000-0000-0000-0000-00000000bad1', '[{"step": 9}]')$$);
SELECT pg_temp.refusal($$SELECT create_session_snapshot('00000000-0000-0000-0000-00000000bad1', '""')$$);
SELECT pg_temp.refusal($$SELECT create_session_snapshot('00000000-0000-0000-0000-00000000bad1', '{}', p_metadata => 'null'::jsonb)$$);
SELECT pg_temp.refusal($$SELECT create_session_snapshot('00000000-0000-0000-0000-00000000bad1', '{}', p_metadata => '"auto"')$$);
SELECT pg_temp.refusal($$SELECT create_session_snapshot('00000000-0000-0000-0000-00000000bad1', '{}', p_metadata => '[{"trigger": "auto"}]')$$);
SELECT pg_temp.refusal($$SELECT create_session('x', p_metadata => '[]')$$);
SELECT pg_temp.refusal($$SELECT create_session('x', p_metadata => '1')$$);
SELECT pg_temp.refusal($$SELECT create_session('x', p_visibility => 'PUBLIC')$$);
SELECT pg_temp.refusal($$SELECT create_session('x', p_visibility => 'public'' OR true --')$$);
SELECT pg_temp.refusal($$SELECT create_session('')$$);
SELECT pg_temp.refusal($$SELECT create_session(repeat('x', 201))$$);
-- What the JSON parser refuses never reaches the extension: too deep (54001), \u0000 and
-- a lone surrogate (no text can hold them), a number beyond numeric's range, bad syntax.
SELECT pg_temp.refusal($$SELECT create_session_snapshot('00000000-0000-0000-0000-00000000bad1', repeat('[', 100000)::jsonb)$$);
SELECT pg_temp.refusal($$SELECT create_session_snapshot('00000000-0000-0000-0000-00000000bad1', ('{"a":' || repeat('{"a":', 100000) || '1' || repeat('}', 100001))::jsonb)$$);
SELECT pg_temp.refusal($$SELECT create_session_snapshot('00000000-0000-0000-0000-00000000bad1', '{"a": "\u0000"}')$$);
SELECT pg_temp.refusal($$SELECT create_session_snapshot('00000000-0000-0000-0000-00000000bad1', '{"a": "\ud800"}')$$);
SELECT pg_temp.refusal($$SELECT create_session_snapshot('00000000-0000-0000-0000-00000000bad1', '{"a": 1e1000000}')$$);
SELECT pg_temp.refusal($$SELECT create_session_snapshot('00000000-0000-0000-0000-00000000bad1', '{"a": ')$$);

-- ---------------------------------------------------------------- numbers out of range
SELECT pg_temp.refusal($$SELECT create_session_snapshot('00000000-0000-0000-0000-00000000bad1', '{"x": 1}', -1)$$);
SELECT pg_temp.refusal($$SELECT create_session_snapshot('00000000-0000-0000-0000-00000000bad1', '{"x": 1}', -2147483648)$$);
SELECT pg_temp.refusal($$SELECT create_session_snapshot('00000000-0000-0000-0000-00000000bad1', '{"x": 1}', 2147483647)$$);
SELECT pg_temp.refusal($$SELECT create_session_snapshot('00000000-0000-0000-0000-00000000bad1', '{"x": 1}', 4)$$);
SELECT pg_temp.refusal($$SELECT * FROM get_snapshot('00000000-0000-0000-0000-00000000bad1', -1)$$);
SELECT pg_temp.refusal($$SELECT * FROM get_snapshot('00000000-0000-0000-0000-00000000bad1', 0)$$);
SELECT pg_temp.refusal($$SELECT * FROM get_snapshot('00000000-0000-0000-0000-00000000bad1', -2147483648)$$);
-- 2147483647 is a number like any other, not "the latest".
SELECT pg_temp.refusal($$SELECT * FROM get_snapshot('00000000-0000-0000-0000-00000000bad1', 2147483647)$$);
SELECT pg_temp.refusal($$SELECT * FROM get_snapshot('00000000-0000-0000-0000-00000000bad1', 4)$$);
SELECT pg_temp.refusal($$SELECT snapshot_data('00000000-0000-0000-0000-00000000bad1', 2147483647, NULL, NULL)$$);
SELECT pg_temp.refusal($$SELECT cleanup_old_snapshots('00000000-0000-0000-0000-00000000bad1', 0)$$);
SELECT pg_temp.refusal($$SELECT cleanup_old_snapshots('00000000-0000-0000-0000-00000000bad1', -1)$$);
SELECT pg_temp.refusal($$SELECT cleanup_old_snapshots('00000000-0000-0000-0000-00000000bad1', -2147483648)$$);
SELECT pg_temp.refusal($$SELECT cleanup_all_snapshots(0)$$);
-- Valid but deleting nothing: keep more than there are; only snapshots older than -infinity.
SELECT cleanup_old_snapshots('00000000-0000-0000-0000-00000000bad1', 2147483647) AS deleted;
SELECT cleanup_all_snapshots(2147483647) AS deleted;
SELECT cleanup_old_snapshots('00000000-0000-0000-0000-00000000bad1', 1, '-infinity') AS deleted;

-- ---------------------------------------------------------------- sizes past the limit
-- The limit counts bytes of jsonb; one byte over is refused with 54000.
SELECT pg_column_size('{"payload": "0123456789"}'::jsonb) AS limit_bytes \gset
SET session_persist.max_snapshot_bytes = :limit_bytes;
SELECT pg_temp.refusal($$SELECT create_session_snapshot('00000000-0000-0000-0000-00000000bad1', '{"payload": "0123456789X"}')$$);
RESET session_persist.max_snapshot_bytes;
-- Two million array elements (24 MB of jsonb) are past the default 16 MB.
SELECT pg_temp.refusal($$SELECT create_session_snapshot('00000000-0000-0000-0000-00000000bad1',
  jsonb_build_object('a', (SELECT jsonb_agg(i % 10) FROM generate_series(1, 2000000) i)))$$);
-- A client cannot raise its own limit.
SET ROLE regress_hostile_alice;
SELECT pg_temp.refusal($$SET session_persist.max_snapshot_bytes = '1GB'$$);
RESET ROLE;

-- ---------------------------------------------------------------- other users' ids, unknown ids
SET ROLE regress_hostile_bob;
-- alice's private session does not exist for bob (P0002), whatever he calls.
SELECT pg_temp.refusal($$SELECT create_session_snapshot('00000000-0000-0000-0000-00000000bad1', '{"bob": 1}')$$);
SELECT pg_temp.refusal($$SELECT get_latest_snapshot('00000000-0000-0000-0000-00000000bad1')$$);
SELECT pg_temp.refusal($$SELECT * FROM get_snapshot('00000000-0000-0000-0000-00000000bad1', 1)$$);
SELECT pg_temp.refusal($$SELECT * FROM get_session_summary('00000000-0000-0000-0000-00000000bad1')$$);
SELECT pg_temp.refusal($$SELECT cleanup_old_snapshots('00000000-0000-0000-0000-00000000bad1', 1)$$);
SELECT pg_temp.refusal($$SELECT snapshot_data('00000000-0000-0000-0000-00000000bad1', 1, NULL, NULL)$$);
-- Handing snapshot_data() a state and a hash of one's own choosing returns that state or
-- refuses it; it never reads alice's rows.
SELECT pg_temp.refusal($$SELECT snapshot_data('00000000-0000-0000-0000-00000000bad1', 1, '{"forged": 1}', '\x00')$$);
-- alice's public session is readable but not writable (42501).
SELECT pg_temp.refusal($$SELECT create_session_snapshot('00000000-0000-0000-0000-00000000bad2', '{"bob": 1}')$$);
SELECT pg_temp.refusal($$SELECT create_session_snapshot('00000000-0000-0000-0000-00000000bad2', '{"shared": true}')$$);
SELECT pg_temp.refusal($$SELECT cleanup_old_snapshots('00000000-0000-0000-0000-00000000bad2', 1)$$);
SELECT get_latest_snapshot('00000000-0000-0000-0000-00000000bad2') AS public_state;
-- bob's cleanup of "all his sessions" does not reach alice's.
SELECT cleanup_all_snapshots(1) AS deleted;
-- Direct writes: refused or invisible.
SELECT pg_temp.refusal($$UPDATE free_agent_sessions SET user_id = 'regress_hostile_bob' WHERE id = '00000000-0000-0000-0000-00000000bad2'$$);
SELECT pg_temp.refusal($$INSERT INTO session_snapshot_chain (session_id, snapshot_number, user_id, snapshot_size, stored_bytes, kind, state, state_hash)
  VALUES ('00000000-0000-0000-0000-00000000bad2', 2, 'regress_hostile_bob', 2, 2, 'full', '{}', '\x00')$$);
SELECT pg_temp.refusal($$SELECT guard_session_row()$$);
RESET ROLE;
-- Nobody's: the nil uuid and a random one.
SELECT pg_temp.refusal($$SELECT create_session_snapshot('00000000-0000-0000-0000-000000000000', '{}')$$);
SELECT pg_temp.refusal($$SELECT get_latest_snapshot('ffffffff-ffff-ffff-ffff-ffffffffffff')$$);
SELECT pg_temp.refusal($$SELECT cleanup_old_snapshots('ffffffff-ffff-ffff-ffff-ffffffffffff', 1)$$);
SELECT pg_temp.refusal($$SELECT * FROM get_session_summary('ffffffff-ffff-ffff-ffff-ffffffffffff')$$);
SELECT pg_temp.refusal($$SELECT create_session_snapshot('not a uuid', '{}')$$);
-- The trigger function is no entry point, even for a superuser.
SELECT pg_temp.refusal($$SELECT guard_session_row()$$);

-- Nothing above wrote anything.
SELECT pg_temp.fingerprint() = :'before' AS nothing_written;

-- ---------------------------------------------------------------- extreme but valid states
SET ROLE regress_hostile_alice;
CREATE TEMP TABLE extreme (ord serial, label text, state jsonb, saved_as integer, created boolean, size bigint);
INSERT INTO extreme (label, state) VALUES
  -- every control character, quotes, backslashes, non-ASCII, escapes in keys, an empty key
  ('escapes', jsonb_build_object(
      'controls', (SELECT string_agg(chr(i), '' ORDER BY i) FROM generate_series(1, 31) i),
      'punctuation', E'"\\/\'`${}[]',
      'unicode', 'caf' || chr(233) || ' ' || chr(8364) || ' ' || chr(128512) || ' ' || chr(65279),
      'escaped', '"\u00e9\ud83d\ude00\t\"\\\/\b\f\n\r"'::jsonb,
      '', 'empty key',
      E'key with "quotes"\n and \\ backslash', 1)),
  -- numbers that text and numeric treat differently
  ('numbers', '{"zero": -0, "tiny": 1e-300, "huge": 1e300, "exact": 3.141592653589793238462643383279502884197,
                "scale": 1.000, "int": -2147483649, "big": 123456789012345678901234567890}'),
  -- nesting deep enough to hurt any recursive code that walks a state (3000 levels)
  ('deep arrays', jsonb_build_object('deep', (repeat('[', 3000) || '1' || repeat(']', 3000))::jsonb)),
  ('deep objects', jsonb_build_object('deep', (repeat('{"a":', 3000) || '1' || repeat('}', 3000))::jsonb)),
  -- the same depth, differing only at the bottom: a delta must reach it
  ('deep arrays changed', jsonb_build_object('deep', (repeat('[', 3000) || '2' || repeat(']', 3000))::jsonb)),
  -- wide: a hundred thousand keys, a million elements (12 MB, within the 16 MB limit)
  ('wide', (SELECT jsonb_object_agg('k' || i, i) FROM generate_series(1, 100000) i)),
  ('million', jsonb_build_object('a', (SELECT jsonb_agg(i % 10) FROM generate_series(1, 1000000) i)));
SET session_persist.warn_snapshot_bytes = '64MB';
DO $$
DECLARE e record; r record;
BEGIN
  FOR e IN SELECT * FROM extreme ORDER BY ord LOOP
    SELECT * INTO r FROM create_session_snapshot('00000000-0000-0000-0000-00000000bad1', e.state);
    UPDATE extreme SET saved_as = r.snapshot_number, created = r.created, size = r.snapshot_size WHERE ord = e.ord;
  END LOOP;
END $$;
RESET session_persist.warn_snapshot_bytes;
-- Each restores to exactly what was saved, by text and by value, through both read paths.
SELECT e.label, e.saved_as, e.created, e.size,
       md5(g.snapshot_data::text) = md5(e.state::text) AS same_text, g.snapshot_data = e.state AS same_value,
       md5(v.snapshot_data::text) = md5(e.state::text) AS view_same_text
  FROM extreme e
 CROSS JOIN LATERAL get_snapshot('00000000-0000-0000-0000-00000000bad1', e.saved_as) g
  JOIN session_snapshots v ON v.session_id = '00000000-0000-0000-0000-00000000bad1' AND v.snapshot_number = e.saved_as
 ORDER BY e.ord;
SELECT pg_column_size(get_latest_snapshot('00000000-0000-0000-0000-00000000bad1')) AS latest_bytes;

-- Duplicate keys keep the last; the same object saved again is no new snapshot.
SELECT snapshot_number, created FROM create_session_snapshot('00000000-0000-0000-0000-00000000bad1', '{"a": 1, "a": 2}');
SELECT snapshot_number, created FROM create_session_snapshot('00000000-0000-0000-0000-00000000bad1', '{"a": 2}');
-- 1.0 and 1.00 are equal numbers but different texts: both are kept, each as written.
SELECT snapshot_number, created FROM create_session_snapshot('00000000-0000-0000-0000-00000000bad1', '{"n": 1.0}');
SELECT snapshot_number, created FROM create_session_snapshot('00000000-0000-0000-0000-00000000bad1', '{"n": 1.00}');
SELECT snapshot_number, snapshot_data FROM get_snapshot('00000000-0000-0000-0000-00000000bad1', 12);
SELECT snapshot_number, snapshot_data FROM get_snapshot('00000000-0000-0000-0000-00000000bad1', 13);
RESET ROLE;

-- The counters still equal the rows, and the backend is alive.
SELECT s.name, s.snapshot_count = count(c.*) AS count_exact, s.latest_snapshot_number = max(c.snapshot_number) AS latest_exact,
       s.total_snapshot_size = sum(c.snapshot_size) AS size_exact, s.stored_bytes = sum(c.stored_bytes) AS stored_exact
  FROM free_agent_sessions s JOIN session_snapshot_chain c ON c.session_id = s.id
 WHERE s.id IN ('00000000-0000-0000-0000-00000000bad1', '00000000-0000-0000-0000-00000000bad2')
 GROUP BY s.id, s.name ORDER BY s.name;

DELETE FROM free_agent_sessions WHERE id IN ('00000000-0000-0000-0000-00000000bad1', '00000000-0000-0000-0000-00000000bad2');
DROP TABLE extreme;
DROP ROLE regress_hostile_alice;
DROP ROLE regress_hostile_bob;
