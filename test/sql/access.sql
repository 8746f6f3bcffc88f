-- Access: each caller sees and changes only what SPEC.md's "Identity and access" allows.
-- Plain SQL roles are isolated by role name; PostgREST-style requests (SET LOCAL ROLE plus
-- request.jwt.claims) by the JWT's sub; organization and public sessions are shared
-- read-only; a BYPASSRLS role sees everything. Direct writes to the chain, the messages and
-- the counters are refused even after GRANT ALL (as Supabase's default privileges do).
SET client_min_messages = warning;
\i test/sql/refusal.sql

CREATE ROLE regress_sp_alice;
CREATE ROLE regress_sp_bob;
CREATE ROLE regress_sp_authenticated;
CREATE ROLE regress_sp_anon;
CREATE ROLE regress_sp_service BYPASSRLS;
-- What Supabase's default privileges do for its client roles.
GRANT ALL ON ALL TABLES IN SCHEMA public TO regress_sp_authenticated, regress_sp_anon, regress_sp_service;
-- The gateway's client roles, whose request.jwt.claims are believed (superuser-set).
SET session_persist.jwt_roles = 'regress_sp_authenticated, regress_sp_anon';

-- ---------------------------------------------------------------- database roles
SET ROLE regress_sp_alice;
INSERT INTO free_agent_sessions (id, name) VALUES ('00000000-0000-0000-0000-00000000a001', 'alice private');
SELECT snapshot_number FROM create_session_snapshot('00000000-0000-0000-0000-00000000a001', '{"secret":"alice"}');
RESET ROLE;

SET ROLE regress_sp_bob;
SELECT count(*) AS bob_sees FROM sessions_list;
SELECT count(*) AS bob_sees_snapshots FROM session_snapshots;
SELECT pg_temp.refusal($$SELECT get_latest_snapshot('00000000-0000-0000-0000-00000000a001')$$);
SELECT pg_temp.refusal($$SELECT create_session_snapshot('00000000-0000-0000-0000-00000000a001', '{"x":1}')$$);
SELECT pg_temp.refusal($$SELECT cleanup_old_snapshots('00000000-0000-0000-0000-00000000a001', 1)$$);
SELECT pg_temp.refusal($$SELECT * FROM get_session_summary('00000000-0000-0000-0000-00000000a001')$$);
UPDATE free_agent_sessions SET name = 'hijacked' WHERE id = '00000000-0000-0000-0000-00000000a001';
DELETE FROM free_agent_sessions WHERE id = '00000000-0000-0000-0000-00000000a001';
-- A session cannot be created in someone else's name.
SELECT pg_temp.refusal($$INSERT INTO free_agent_sessions (name, user_id) VALUES ('x', 'regress_sp_alice')$$);
RESET ROLE;
SELECT name, snapshot_count FROM free_agent_sessions WHERE id = '00000000-0000-0000-0000-00000000a001';

-- ---------------------------------------------------------------- PostgREST-style requests
-- user-1 (org-a) creates a private, an organization and a public session.
BEGIN;
SET LOCAL ROLE regress_sp_authenticated;
SELECT set_config('request.jwt.claims', '{"sub":"user-1","role":"authenticated","org_id":"org-a"}', true);
INSERT INTO free_agent_sessions (id, name, visibility) VALUES
  ('00000000-0000-0000-0000-000000001001', 'u1 private', 'private'),
  ('00000000-0000-0000-0000-000000001002', 'u1 org', 'organization'),
  ('00000000-0000-0000-0000-000000001003', 'u1 public', 'public');
SELECT count(*) FROM (VALUES ('00000000-0000-0000-0000-000000001001'::uuid),
                             ('00000000-0000-0000-0000-000000001002'),
                             ('00000000-0000-0000-0000-000000001003')) v(id),
  LATERAL create_session_snapshot(v.id, jsonb_build_object('owner', 'user-1', 'session', v.id));
SELECT name, user_id, organization_id, visibility FROM sessions_list ORDER BY name;
COMMIT;

-- user-2, same organization: the org and public sessions, read-only.
BEGIN;
SET LOCAL ROLE regress_sp_authenticated;
SELECT set_config('request.jwt.claims', '{"sub":"user-2","org_id":"org-a"}', true);
SELECT name FROM sessions_list ORDER BY name;
SELECT session_id, snapshot_data->>'owner' AS owner FROM session_snapshots ORDER BY session_id;
SELECT get_latest_snapshot('00000000-0000-0000-0000-000000001002')->>'owner' AS org_state;
SELECT pg_temp.refusal($$SELECT get_latest_snapshot('00000000-0000-0000-0000-000000001001')$$);
SELECT pg_temp.refusal($$SELECT create_session_snapshot('00000000-0000-0000-0000-000000001002', '{"x":1}')$$);
SELECT pg_temp.refusal($$SELECT cleanup_old_snapshots('00000000-0000-0000-0000-000000001002', 1)$$);
-- Updates and deletes of a shared session find no row to change.
WITH changed AS (UPDATE free_agent_sessions SET name = 'mine now' WHERE id = '00000000-0000-0000-0000-000000001002' RETURNING 1)
SELECT count(*) AS updated FROM changed;
WITH removed AS (DELETE FROM free_agent_sessions WHERE id = '00000000-0000-0000-0000-000000001002' RETURNING 1)
SELECT count(*) AS deleted FROM removed;
COMMIT;

-- user-3, another organization: only the public session.
BEGIN;
SET LOCAL ROLE regress_sp_authenticated;
SELECT set_config('request.jwt.claims', '{"sub":"user-3","app_metadata":{"org_id":"org-b"}}', true);
SELECT name FROM sessions_list ORDER BY name;
SELECT pg_temp.refusal($$SELECT get_latest_snapshot('00000000-0000-0000-0000-000000001002')$$);
SELECT get_latest_snapshot('00000000-0000-0000-0000-000000001003')->>'owner' AS public_state;
-- cleanup without a session covers only the caller's own sessions: none here.
SELECT cleanup_all_snapshots(p_keep_count => 1);
COMMIT;

-- An anonymous request (a JWT without sub): public sessions only, writes nothing.
BEGIN;
SET LOCAL ROLE regress_sp_anon;
SELECT set_config('request.jwt.claims', '{"role":"anon"}', true);
SELECT name FROM sessions_list ORDER BY name;
SELECT get_latest_snapshot('00000000-0000-0000-0000-000000001003')->>'owner' AS public_state;
SELECT pg_temp.refusal($$SELECT create_session('anon session')$$);
SELECT pg_temp.refusal($$INSERT INTO free_agent_sessions (name) VALUES ('anon insert')$$);
SELECT pg_temp.refusal($$SELECT create_session_snapshot('00000000-0000-0000-0000-000000001003', '{"defaced":true}')$$);
COMMIT;

-- Direct writes to what only the functions maintain are refused, even with GRANT ALL.
BEGIN;
SET LOCAL ROLE regress_sp_authenticated;
SELECT set_config('request.jwt.claims', '{"sub":"user-1","org_id":"org-a"}', true);
SELECT pg_temp.refusal($$INSERT INTO session_snapshot_chain (session_id, snapshot_number, user_id, snapshot_size, stored_bytes, kind, state, state_hash)
                         VALUES ('00000000-0000-0000-0000-000000001001', 2, 'user-1', 2, 2, 'full', '{}', '\x00')$$);
SELECT pg_temp.refusal($$INSERT INTO session_messages (session_id, message_order, user_id, role, content)
                         VALUES ('00000000-0000-0000-0000-000000001001', 1, 'user-1', 'user', 'forged')$$);
SELECT pg_temp.refusal($$UPDATE free_agent_sessions SET stored_bytes = 0 WHERE id = '00000000-0000-0000-0000-000000001001'$$);
SELECT pg_temp.refusal($$UPDATE free_agent_sessions SET organization_id = 'org-b' WHERE id = '00000000-0000-0000-0000-000000001001'$$);
-- UPDATE and DELETE of chain rows find nothing to change.
WITH changed AS (UPDATE session_snapshot_chain SET state = '{"forged":true}' RETURNING 1) SELECT count(*) AS updated FROM changed;
WITH removed AS (DELETE FROM session_snapshot_chain RETURNING 1) SELECT count(*) AS deleted FROM removed;
-- TRUNCATE, which row-level security does not cover, is refused on all three tables.
SELECT pg_temp.refusal($$TRUNCATE session_snapshot_chain$$);
SELECT pg_temp.refusal($$TRUNCATE session_messages$$);
SELECT pg_temp.refusal($$TRUNCATE free_agent_sessions CASCADE$$);
SELECT get_latest_snapshot('00000000-0000-0000-0000-000000001001')->>'owner' AS intact;
-- The owner flips visibility: now the private session is public.
UPDATE free_agent_sessions SET visibility = 'public' WHERE id = '00000000-0000-0000-0000-000000001001';
COMMIT;

BEGIN;
SET LOCAL ROLE regress_sp_authenticated;
SELECT set_config('request.jwt.claims', '{"sub":"user-3"}', true);
SELECT get_latest_snapshot('00000000-0000-0000-0000-000000001001')->>'owner' AS now_public;
COMMIT;

-- A BYPASSRLS service role (the gateway's service key) sees and acts on every session.
SET ROLE regress_sp_service;
SELECT count(*) AS service_sees FROM sessions_list;
SELECT snapshot_number FROM create_session_snapshot('00000000-0000-0000-0000-000000001002', '{"by":"service"}');
SELECT cleanup_old_snapshots('00000000-0000-0000-0000-000000001002', 1);
SELECT get_latest_snapshot('00000000-0000-0000-0000-00000000a001');
RESET ROLE;
-- The service's save is recorded as the session owner's.
SELECT user_id, organization_id FROM session_snapshot_chain
 WHERE session_id = '00000000-0000-0000-0000-000000001002';

DELETE FROM free_agent_sessions;
REVOKE ALL ON ALL TABLES IN SCHEMA public FROM regress_sp_authenticated, regress_sp_anon, regress_sp_service;
DROP ROLE regress_sp_alice, regress_sp_bob, regress_sp_authenticated, regress_sp_anon, regress_sp_service;

-- SPEC.md: policies have no subqueries (Citus refuses them on distributed tables) and call
-- the identity functions directly, and every policy column is the leading column of an
-- index. Lists policies with a subquery (none), policies that do not call the identity
-- functions (none), and policy columns no index leads with (none).
SELECT tablename, policyname AS has_subquery
  FROM pg_policies, LATERAL (SELECT coalesce(qual, '') || ' ' || coalesce(with_check, '') AS expr) e
 WHERE schemaname = 'public' AND expr ~* '\mSELECT\M';
SELECT tablename, policyname AS without_identity
  FROM pg_policies, LATERAL (SELECT coalesce(qual, '') || ' ' || coalesce(with_check, '') AS expr) e
 WHERE schemaname = 'public' AND expr !~ 'current_user_id\(\)';
SELECT DISTINCT c.relname, a.attname AS policy_column_without_index
  FROM pg_policy p JOIN pg_class c ON c.oid = p.polrelid
  JOIN pg_attribute a ON a.attrelid = p.polrelid AND a.attnum > 0
 WHERE c.relnamespace = 'public'::regnamespace
   AND (pg_get_expr(p.polqual, p.polrelid) ~ ('\m' || a.attname || '\M')
        OR pg_get_expr(p.polwithcheck, p.polrelid) ~ ('\m' || a.attname || '\M'))
   AND NOT EXISTS (SELECT 1 FROM pg_index i WHERE i.indrelid = p.polrelid AND i.indkey[0] = a.attnum);
RESET session_persist.jwt_roles;
