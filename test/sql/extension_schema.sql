-- The extension lives in the schema chosen at CREATE EXTENSION ... SCHEMA. Its functions
-- find their tables through the extension's catalog entry, not the caller's search_path,
-- and keep working after DROP and CREATE EXTENSION in the same connection.
SET client_min_messages = warning;
DROP EXTENSION session_persist;
CREATE SCHEMA agents;
CREATE EXTENSION session_persist SCHEMA agents;

SET search_path = pg_catalog;
SELECT snapshot_number, kind
  FROM agents.create_session_snapshot((SELECT id FROM agents.create_session('elsewhere')), '{"a": 1}');
SELECT agents.get_latest_snapshot(id) FROM agents.free_agent_sessions;

-- Look-alike objects on the caller's search_path change nothing.
CREATE SCHEMA decoy;
CREATE TABLE decoy.free_agent_sessions (id uuid, latest_snapshot_number int);
CREATE TABLE decoy.session_snapshot_chain (session_id uuid);
SET search_path = decoy, pg_catalog;
SELECT snapshot_number FROM agents.create_session_snapshot((SELECT id FROM agents.free_agent_sessions), '{"a": 2}');
SELECT agents.get_latest_snapshot(id), (SELECT count(*) FROM agents.verify_session(id)) AS problems
  FROM agents.free_agent_sessions;
SELECT count(*) AS decoy_rows FROM decoy.session_snapshot_chain;

RESET search_path;
DROP SCHEMA decoy CASCADE;

-- Operators a caller puts ahead of pg_catalog on its search_path are never used by the
-- extension's queries, some of which run as the tables' owner: a role that could get its
-- own code run that way could make itself superuser.
CREATE ROLE regress_sp_mallory;
CREATE SCHEMA evil AUTHORIZATION regress_sp_mallory;
GRANT USAGE ON SCHEMA agents TO regress_sp_mallory;
SET ROLE regress_sp_mallory;
CREATE FUNCTION evil.int4_le(a int4, b int4) RETURNS boolean LANGUAGE plpgsql AS $$
BEGIN
  RAISE WARNING 'mallory''s <= ran as %', CASE WHEN current_user = 'regress_sp_mallory' THEN 'mallory' ELSE 'another role' END;
  RETURN a OPERATOR(pg_catalog.<=) b;
END $$;
CREATE OPERATOR evil.<= (LEFTARG = int4, RIGHTARG = int4, FUNCTION = evil.int4_le);
CREATE FUNCTION evil.uuid_eq(a uuid, b uuid) RETURNS boolean LANGUAGE plpgsql AS $$
BEGIN
  RAISE WARNING 'mallory''s = ran as %', CASE WHEN current_user = 'regress_sp_mallory' THEN 'mallory' ELSE 'another role' END;
  RETURN a OPERATOR(pg_catalog.=) b;
END $$;
CREATE OPERATOR evil.= (LEFTARG = uuid, RIGHTARG = uuid, FUNCTION = evil.uuid_eq);
SET search_path = evil, pg_catalog;
SELECT 1 <= 2 AS mallorys_own_query_uses_it;
SELECT id AS mallory_session FROM agents.create_session('mallory') \gset
SELECT snapshot_number FROM agents.create_session_snapshot(:'mallory_session', '{"messages": [{"role": "user", "content": "a"}]}');
SELECT snapshot_number FROM agents.create_session_snapshot(:'mallory_session', '{"messages": [{"role": "user", "content": "a"}, {"role": "assistant", "content": "b"}]}');
SELECT snapshot_number FROM agents.create_session_snapshot(:'mallory_session', '{"messages": [], "n": 3}');
SELECT agents.cleanup_old_snapshots(:'mallory_session', 1) AS deleted;
SELECT agents.cleanup_all_snapshots(1) AS deleted_everywhere;
SELECT agents.get_latest_snapshot(:'mallory_session');
SELECT snapshot_number FROM agents.get_snapshot(:'mallory_session', 3);
SELECT count(*) AS problems FROM agents.verify_session(:'mallory_session');
RESET search_path;
RESET ROLE;
DROP SCHEMA evil CASCADE;
DELETE FROM agents.free_agent_sessions WHERE name = 'mallory';
REVOKE USAGE ON SCHEMA agents FROM regress_sp_mallory;
DROP ROLE regress_sp_mallory;

-- The kept plans follow the objects (src/catalog.hpp). Statistics, a new index, a grant and a
-- storage option invalidate the tables but keep the plans (the plan cache revalidates them);
-- a renamed schema, even inside a transaction that already used the old plans, gets new ones
-- (the old are freed at commit); every function keeps working throughout.
SELECT id AS cached FROM agents.create_session('cached plans') \gset
SELECT snapshot_number FROM agents.create_session_snapshot(:'cached', '{"messages": [{"role": "user", "content": "q"}], "n": 1}');
ANALYZE agents.free_agent_sessions;
CREATE INDEX cached_name_idx ON agents.free_agent_sessions (name);
GRANT SELECT ON agents.session_messages TO PUBLIC;
ALTER TABLE agents.session_snapshot_chain SET (autovacuum_vacuum_scale_factor = 0.05);
SELECT agents.fork_session(:'cached') IS NOT NULL AS forked,
       agents.import_session(agents.export_session(:'cached')) IS NOT NULL AS imported;
BEGIN;
SELECT snapshot_number FROM agents.create_session_snapshot(:'cached', '{"n": 2}');
ALTER SCHEMA agents RENAME TO agents_renamed;
SELECT snapshot_number FROM agents_renamed.create_session_snapshot(:'cached', '{"n": 3}');
SELECT agents_renamed.fork_session(:'cached') IS NOT NULL AS forked_after_rename;
SELECT agents_renamed.get_latest_snapshot(:'cached');
COMMIT;
ALTER SCHEMA agents_renamed RENAME TO agents;
DROP INDEX agents.cached_name_idx;
SELECT agents.cleanup_old_snapshots(:'cached', 1) AS pruned, agents.get_latest_snapshot(:'cached');
SELECT count(*) AS problems FROM agents.free_agent_sessions s, LATERAL agents.verify_session(s.id);

DROP EXTENSION session_persist;
DROP SCHEMA agents;
CREATE EXTENSION session_persist;
