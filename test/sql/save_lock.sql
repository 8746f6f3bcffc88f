-- The save's lock of the session row (src/storage/session_lock.cpp) decides as the query
-- SELECT ... FROM free_agent_sessions WHERE id = $1 FOR NO KEY UPDATE would, run as the
-- caller: the row-level security policies that apply to the caller at the time of the call
-- (including ones an administrator adds, and role memberships granted since the last save),
-- the table privileges, row_security = off, a read-only transaction, and policies with
-- subqueries (which it leaves to the query).
SET client_min_messages = warning;
\i test/sql/refusal.sql

CREATE ROLE regress_lock_alice;
CREATE ROLE regress_lock_bob;
CREATE ROLE regress_lock_editors;

SET ROLE regress_lock_alice;
INSERT INTO free_agent_sessions (id, name, visibility)
VALUES ('00000000-0000-0000-0000-00000000b001', 'alice public', 'public');
SELECT snapshot_number FROM create_session_snapshot('00000000-0000-0000-0000-00000000b001', '{"n":1}');
RESET ROLE;

-- Bob can read alice's public session, not save into it.
SET ROLE regress_lock_bob;
SELECT pg_temp.refusal($$SELECT create_session_snapshot('00000000-0000-0000-0000-00000000b001', '{"n":"bob"}')$$) AS bob_saves;
RESET ROLE;

-- A restrictive policy an administrator adds applies to the next save of the same backend,
-- and stops applying once dropped.
CREATE POLICY regress_frozen ON free_agent_sessions AS RESTRICTIVE FOR UPDATE
    USING (name <> 'frozen');
UPDATE free_agent_sessions SET name = 'frozen' WHERE id = '00000000-0000-0000-0000-00000000b001';
SET ROLE regress_lock_alice;
SELECT pg_temp.refusal($$SELECT create_session_snapshot('00000000-0000-0000-0000-00000000b001', '{"n":2}')$$) AS frozen_save;
RESET ROLE;
DROP POLICY regress_frozen ON free_agent_sessions;
SET ROLE regress_lock_alice;
SELECT snapshot_number FROM create_session_snapshot('00000000-0000-0000-0000-00000000b001', '{"n":2}');
RESET ROLE;

-- A permissive UPDATE policy for a group role: bob may save once he is a member, and not
-- after his membership is revoked (same backend, the policies looked up again each time).
CREATE POLICY regress_editors ON free_agent_sessions FOR UPDATE TO regress_lock_editors
    USING (true);
SET ROLE regress_lock_bob;
SELECT pg_temp.refusal($$SELECT create_session_snapshot('00000000-0000-0000-0000-00000000b001', '{"n":"bob"}')$$) AS bob_not_member;
RESET ROLE;
GRANT regress_lock_editors TO regress_lock_bob;
SET ROLE regress_lock_bob;
SELECT pg_temp.refusal($$SELECT create_session_snapshot('00000000-0000-0000-0000-00000000b001', '{"n":"bob"}')$$) AS bob_member;
RESET ROLE;
REVOKE regress_lock_editors FROM regress_lock_bob;
SET ROLE regress_lock_bob;
SELECT pg_temp.refusal($$SELECT create_session_snapshot('00000000-0000-0000-0000-00000000b001', '{"n":"bob again"}')$$) AS bob_no_longer_member;
RESET ROLE;
DROP POLICY regress_editors ON free_agent_sessions;

-- A policy with a subquery (not the extension's own shape): the save runs the query, with
-- the same outcome.
CREATE POLICY regress_sub ON free_agent_sessions AS RESTRICTIVE FOR UPDATE
    USING ((SELECT name) <> 'frozen');
UPDATE free_agent_sessions SET name = 'open' WHERE id = '00000000-0000-0000-0000-00000000b001';
SET ROLE regress_lock_alice;
SELECT snapshot_number FROM create_session_snapshot('00000000-0000-0000-0000-00000000b001', '{"n":3}');
RESET ROLE;
UPDATE free_agent_sessions SET name = 'frozen' WHERE id = '00000000-0000-0000-0000-00000000b001';
SET ROLE regress_lock_alice;
SELECT pg_temp.refusal($$SELECT create_session_snapshot('00000000-0000-0000-0000-00000000b001', '{"n":4}')$$) AS frozen_by_subquery;
RESET ROLE;
DROP POLICY regress_sub ON free_agent_sessions;

-- The policies' functions run with search_path = pg_catalog, pg_temp, as the extension's
-- queries do: to_regclass does not find public.regress_lock_probe, so the save goes through.
CREATE TABLE public.regress_lock_probe ();
CREATE POLICY regress_path ON free_agent_sessions AS RESTRICTIVE FOR UPDATE
    USING (to_regclass('regress_lock_probe') IS NULL);
UPDATE free_agent_sessions SET name = 'open' WHERE id = '00000000-0000-0000-0000-00000000b001';
SET ROLE regress_lock_alice;
SELECT count(*) AS probe_found_by_caller FROM free_agent_sessions WHERE to_regclass('regress_lock_probe') IS NOT NULL;
SELECT pg_temp.refusal($$SELECT create_session_snapshot('00000000-0000-0000-0000-00000000b001', '{"n":4}')$$) AS path_pinned;
RESET ROLE;
DROP POLICY regress_path ON free_agent_sessions;
DROP TABLE public.regress_lock_probe;

-- Privileges: without UPDATE on the table the lock is refused as the query's would be.
BEGIN;
REVOKE UPDATE ON free_agent_sessions FROM PUBLIC;
SET LOCAL ROLE regress_lock_alice;
SELECT pg_temp.refusal($$SELECT create_session_snapshot('00000000-0000-0000-0000-00000000b001', '{"n":5}')$$) AS without_update;
ROLLBACK;

-- row_security = off: an error for a caller the policies apply to, not a way around them.
SET ROLE regress_lock_alice;
SET row_security = off;
SELECT pg_temp.refusal($$SELECT create_session_snapshot('00000000-0000-0000-0000-00000000b001', '{"n":6}')$$) AS row_security_off;
RESET row_security;
-- A read-only transaction.
BEGIN READ ONLY;
SELECT pg_temp.refusal($$SELECT create_session_snapshot('00000000-0000-0000-0000-00000000b001', '{"n":7}')$$) AS read_only;
ROLLBACK;
-- A session that does not exist.
SELECT pg_temp.refusal($$SELECT create_session_snapshot('00000000-0000-0000-0000-00000000b0ff', '{"n":8}')$$) AS unknown;
SELECT snapshot_number FROM create_session_snapshot('00000000-0000-0000-0000-00000000b001', '{"n":9}');
RESET ROLE;

SELECT user_id, snapshot_count, latest_snapshot_number FROM free_agent_sessions
 WHERE id = '00000000-0000-0000-0000-00000000b001';
SELECT snapshot_number, user_id FROM session_snapshot_chain
 WHERE session_id = '00000000-0000-0000-0000-00000000b001' ORDER BY snapshot_number;

DELETE FROM free_agent_sessions;
DROP ROLE regress_lock_alice, regress_lock_bob, regress_lock_editors;
