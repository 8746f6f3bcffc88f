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
DROP EXTENSION session_persist;
DROP SCHEMA agents;
CREATE EXTENSION session_persist;
