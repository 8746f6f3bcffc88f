-- Partial indexes get the rows their predicates select, with the predicates compiled once per
-- backend (src/storage/index_predicates.cpp): the keyframe index holds the full snapshots,
-- the public and organization indexes the rows of those sessions, and an index created,
-- dropped and created again with another predicate in the same backend follows the new one.
SET client_min_messages = warning;
SET session_persist.organization_id = 'regress-org';

INSERT INTO free_agent_sessions (id, name, visibility, organization_id) VALUES
    ('00000000-0000-0000-0000-00000000c001', 'private', 'private', NULL),
    ('00000000-0000-0000-0000-00000000c002', 'public', 'public', NULL),
    ('00000000-0000-0000-0000-00000000c003', 'organization', 'organization', 'regress-org');
SELECT count(*) AS saves FROM generate_series(1, 12) g,
    LATERAL (VALUES ('00000000-0000-0000-0000-00000000c001'::uuid), ('00000000-0000-0000-0000-00000000c002'), ('00000000-0000-0000-0000-00000000c003')) s(id),
    LATERAL create_session_snapshot(s.id, jsonb_build_object('big', repeat('x', 400), 'g', g, 'all', CASE WHEN g % 5 = 0 THEN repeat('y', g * 50) END));

CREATE INDEX regress_deltas_idx ON session_snapshot_chain (snapshot_size) WHERE kind = 'delta';
SELECT count(*) AS saves FROM generate_series(13, 16) g,
    LATERAL create_session_snapshot('00000000-0000-0000-0000-00000000c001', jsonb_build_object('big', repeat('x', 400), 'g', g));
DROP INDEX regress_deltas_idx;
CREATE INDEX regress_deltas_idx ON session_snapshot_chain (snapshot_size) WHERE kind = 'full';
SELECT count(*) AS saves FROM generate_series(17, 20) g,
    LATERAL create_session_snapshot('00000000-0000-0000-0000-00000000c001', jsonb_build_object('big', repeat('x', 400 + g * 100), 'h', g));

-- Each count by a scan of the partial index and by a scan of the table: the same.
CREATE FUNCTION pg_temp.by_index_and_heap(q text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE a bigint; b bigint; plan text; index_used text;
BEGIN
  SET LOCAL enable_seqscan = off; SET LOCAL enable_bitmapscan = off; SET LOCAL enable_indexscan = on;
  SET LOCAL enable_indexonlyscan = on;
  FOR plan IN EXECUTE 'EXPLAIN (COSTS OFF) ' || q LOOP
    index_used := coalesce(index_used, substring(plan from 'using (\S+)'));
  END LOOP;
  EXECUTE q INTO a;
  SET LOCAL enable_seqscan = on; SET LOCAL enable_bitmapscan = off; SET LOCAL enable_indexscan = off;
  SET LOCAL enable_indexonlyscan = off;
  EXECUTE q INTO b;
  RETURN CASE WHEN a = b THEN 'same count' ELSE a || ' by the index, ' || b || ' in the table' END
         || ' (' || coalesce(index_used, 'no index') || ')';
END $$;
SELECT count(*) FILTER (WHERE kind = 'full') > 0 AS has_keyframes, count(*) FILTER (WHERE kind = 'delta') > 0 AS has_deltas
  FROM session_snapshot_chain;

-- The index created again with kind = 'full' holds the keyframes saved since, not the deltas.
BEGIN;
SELECT pg_temp.by_index_and_heap($$SELECT count(*) FROM session_snapshot_chain WHERE kind = 'full' AND snapshot_size > 0 AND session_id::text LIKE '00000000-0000-0000-0000-00000000c00_'$$) AS recreated_index;
COMMIT;
DROP INDEX regress_deltas_idx;

BEGIN;
SELECT pg_temp.by_index_and_heap($$SELECT count(*) FROM session_snapshot_chain WHERE kind = 'full' AND session_id = '00000000-0000-0000-0000-00000000c001'$$) AS keyframes_c001;
SELECT pg_temp.by_index_and_heap($$SELECT count(*) FROM session_snapshot_chain WHERE kind = 'full' AND session_id = '00000000-0000-0000-0000-00000000c002'$$) AS keyframes_c002;
SELECT pg_temp.by_index_and_heap($$SELECT count(*) FROM session_snapshot_chain WHERE visibility = 'public' AND session_id::text LIKE '00000000-0000-0000-0000-00000000c00_'$$) AS public_rows;
SELECT pg_temp.by_index_and_heap($$SELECT count(*) FROM session_snapshot_chain WHERE visibility = 'organization' AND organization_id = 'regress-org' AND session_id::text LIKE '00000000-0000-0000-0000-00000000c00_'$$) AS organization_rows;
SELECT pg_temp.by_index_and_heap($$SELECT count(*) FROM free_agent_sessions WHERE visibility = 'public' AND id::text LIKE '00000000-0000-0000-0000-00000000c00_'$$) AS public_sessions;
SELECT pg_temp.by_index_and_heap($$SELECT count(*) FROM free_agent_sessions WHERE visibility = 'organization' AND organization_id = 'regress-org' AND id::text LIKE '00000000-0000-0000-0000-00000000c00_'$$) AS organization_sessions;
COMMIT;
DELETE FROM free_agent_sessions WHERE id::text LIKE '00000000-0000-0000-0000-00000000c00_';
RESET session_persist.organization_id;
