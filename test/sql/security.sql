-- Security suite: the extension attacked as a client would (SPEC.md, "Identity and access";
-- README, "Security"). The cluster is shaped like Supabase: gateway roles regress_sec_anon and
-- regress_sec_authenticated (what session_persist.jwt_roles names), an authenticator login
-- that switches to them per request as PostgREST does (BEGIN; SET LOCAL ROLE; set_config(
-- 'request.jwt.claims', ..., true)), GRANT ALL on every table and function to the client
-- roles (Supabase's default privileges), a BYPASSRLS service role; plus plain LOGIN roles
-- with no special rights. Every attack prints how it was refused ("SQLSTATE: message") or,
-- where PostgreSQL lets the statement run, what it achieved (nothing). Victims' data is
-- checked as the superuser at the end.
SET client_min_messages = warning;
\i test/sql/refusal.sql

CREATE ROLE regress_sec_alice LOGIN;
CREATE ROLE regress_sec_bob LOGIN;
CREATE ROLE regress_sec_mallory LOGIN;
CREATE ROLE regress_sec_anon NOLOGIN;
CREATE ROLE regress_sec_authenticated NOLOGIN;
CREATE ROLE regress_sec_authenticator LOGIN NOINHERIT;
GRANT regress_sec_anon, regress_sec_authenticated TO regress_sec_authenticator;
CREATE ROLE regress_sec_service NOLOGIN BYPASSRLS;
GRANT ALL ON ALL TABLES IN SCHEMA public TO regress_sec_anon, regress_sec_authenticated, regress_sec_service;
GRANT ALL ON ALL FUNCTIONS IN SCHEMA public TO regress_sec_anon, regress_sec_authenticated, regress_sec_service;
-- The attackers get a schema of their own to put functions, operators and tables in.
CREATE SCHEMA regress_sec_m;
GRANT ALL ON SCHEMA regress_sec_m TO regress_sec_mallory, regress_sec_authenticated;
SET session_persist.jwt_roles = 'regress_sec_anon, regress_sec_authenticated';
SET session_persist.max_snapshot_bytes = '64kB'; -- the limit every client value is held to

-- ------------------------------------------------------------------ the victims' data
SET ROLE regress_sec_alice;
INSERT INTO free_agent_sessions (id, name) VALUES ('00000000-0000-0000-0000-00000000a001', 'alice private');
INSERT INTO free_agent_sessions (id, name, visibility) VALUES ('00000000-0000-0000-0000-00000000a002', 'alice public', 'public');
SELECT count(*) FROM generate_series(1, 3) g, LATERAL create_session_snapshot('00000000-0000-0000-0000-00000000a001',
  jsonb_build_object('secret', 'alice-' || g, 'messages', jsonb_build_array(jsonb_build_object('role', 'user', 'content', 'alice says ' || g))));
SELECT snapshot_number FROM create_session_snapshot('00000000-0000-0000-0000-00000000a002', '{"shared":"yes"}');
RESET ROLE;
SET ROLE regress_sec_bob;
INSERT INTO free_agent_sessions (id, name) VALUES ('00000000-0000-0000-0000-00000000b001', 'bob private');
SELECT snapshot_number FROM create_session_snapshot('00000000-0000-0000-0000-00000000b001', '{"secret":"bob"}');
RESET ROLE;
BEGIN;
SET LOCAL ROLE regress_sec_authenticated;
SELECT set_config('request.jwt.claims', '{"sub":"user-1","role":"authenticated","org_id":"org-a"}', true) IS NOT NULL AS as_user_1;
INSERT INTO free_agent_sessions (id, name) VALUES ('00000000-0000-0000-0000-000000001001', 'u1 private');
INSERT INTO free_agent_sessions (id, name, visibility) VALUES ('00000000-0000-0000-0000-000000001002', 'u1 org', 'organization');
SELECT snapshot_number FROM create_session_snapshot('00000000-0000-0000-0000-000000001001', '{"secret":"user-1"}');
SELECT snapshot_number FROM create_session_snapshot('00000000-0000-0000-0000-000000001002', '{"team":"org-a"}');
COMMIT;

-- ------------------------------------------------------------------ 1. posing as another user
-- A plain login sets a gateway's claims: it stays itself, sees nothing of bob's or user-1's.
BEGIN;
SET LOCAL ROLE regress_sec_alice;
SELECT set_config('request.jwt.claims', '{"sub":"regress_sec_bob","org_id":"org-a"}', true) IS NOT NULL AS forged;
SELECT current_user_id(), current_organization_id();
SELECT pg_temp.refusal($$SELECT get_latest_snapshot('00000000-0000-0000-0000-00000000b001')$$) AS read_bob;
SELECT pg_temp.refusal($$SELECT create_session_snapshot('00000000-0000-0000-0000-00000000b001', '{"secret":"defaced"}')$$) AS write_bob;
SELECT pg_temp.refusal($$SELECT get_latest_snapshot('00000000-0000-0000-0000-000000001002')$$) AS read_org_a;
SELECT count(*) AS others_seen FROM sessions_list WHERE user_id <> 'regress_sec_alice' AND visibility <> 'public';
COMMIT;
BEGIN;
SET LOCAL ROLE regress_sec_mallory;
SELECT set_config('request.jwt.claims', '{"sub":"user-1"}', true) IS NOT NULL AS forged;
SELECT set_config('request.jwt.claim.sub', 'user-1', true) IS NOT NULL AS forged_legacy;
SELECT current_user_id();
SELECT pg_temp.refusal($$SELECT get_latest_snapshot('00000000-0000-0000-0000-000000001001')$$) AS read_user_1;
SELECT pg_temp.refusal($$SELECT * FROM get_session_messages('00000000-0000-0000-0000-00000000a001')$$) AS read_alice_messages;
SELECT pg_temp.refusal($$SELECT export_session('00000000-0000-0000-0000-00000000a001')$$) AS export_alice;
SELECT pg_temp.refusal($$SELECT fork_session('00000000-0000-0000-0000-00000000a001')$$) AS fork_alice;
SELECT pg_temp.refusal($$SELECT cleanup_old_snapshots('00000000-0000-0000-0000-00000000a001', 1)$$) AS prune_alice;
SELECT pg_temp.refusal($$SELECT * FROM verify_session('00000000-0000-0000-0000-00000000a001')$$) AS verify_alice;
SELECT pg_temp.refusal($$SELECT * FROM get_session_summary('00000000-0000-0000-0000-00000000a001')$$) AS summary_alice;
SELECT pg_temp.refusal($$SELECT * FROM append_session_messages('00000000-0000-0000-0000-00000000a002', '[{"role":"user","content":"spam"}]')$$) AS append_alice_public;
SELECT pg_temp.refusal($$SELECT snapshot_data('00000000-0000-0000-0000-00000000a001', 1, NULL, NULL)$$) AS snapshot_data_alice;
SELECT count(*) AS snapshots_seen FROM session_snapshots WHERE session_id <> '00000000-0000-0000-0000-00000000a002';
SELECT count(*) AS messages_seen FROM session_messages;
SELECT count(*) AS report_lines FROM storage_report('regress_sec_alice');
-- Not found and not visible are the same answer: no existence oracle.
SELECT pg_temp.refusal($$SELECT get_latest_snapshot('00000000-0000-0000-0000-0000000fffff')$$) AS read_missing;
COMMIT;
-- Only a superuser names the gateway roles, the organization or the limits.
SET ROLE regress_sec_mallory;
SELECT pg_temp.refusal($$SET session_persist.jwt_roles = 'regress_sec_mallory'$$) AS become_gateway;
SELECT pg_temp.refusal($$SELECT set_config('session_persist.jwt_roles', 'regress_sec_mallory', true)$$) AS become_gateway_2;
SELECT pg_temp.refusal($$SET session_persist.organization_id = 'org-a'$$) AS join_org;
SELECT pg_temp.refusal($$SET session_persist.max_snapshot_bytes = '1GB'$$) AS raise_limit;
SELECT pg_temp.refusal($$ALTER ROLE regress_sec_mallory SET session_persist.jwt_roles = 'regress_sec_mallory'$$) AS alter_own_role;
RESET ROLE;

-- ------------------------------------------------------------------ 4. anonymous gateway requests
-- No claims, claims without sub: anonymous, never a user called "regress_sec_anon".
BEGIN;
SET LOCAL ROLE regress_sec_anon;
SELECT current_user_id() IS NULL AS anonymous;
SELECT pg_temp.refusal($$SELECT create_session('anonymous session')$$) AS create_anon;
SELECT pg_temp.refusal($$INSERT INTO free_agent_sessions (name) VALUES ('anon insert')$$) AS insert_anon;
SELECT pg_temp.refusal($$INSERT INTO free_agent_sessions (name, user_id) VALUES ('anon insert', 'user-1')$$) AS insert_as_user_1;
SELECT name FROM sessions_list ORDER BY name; -- public sessions only
COMMIT;
BEGIN;
SET LOCAL ROLE regress_sec_authenticated;
SELECT set_config('request.jwt.claims', '{"role":"authenticated","org_id":"org-a"}', true) IS NOT NULL AS no_sub;
SELECT current_user_id() IS NULL AS anonymous, current_organization_id() IS NULL AS no_org;
SELECT pg_temp.refusal($$SELECT import_session('{"format":"session_persist.export","version":1,"session":{"name":"x"},"messages":[]}')$$) AS import_anon;
SELECT name FROM sessions_list ORDER BY name;
COMMIT;

-- ------------------------------------------------------------------ direct writes with GRANT ALL
-- user-2 (org-b) through the gateway, holding every table privilege.
BEGIN;
SET LOCAL ROLE regress_sec_authenticated;
SELECT set_config('request.jwt.claims', '{"sub":"user-2","org_id":"org-b"}', true) IS NOT NULL AS as_user_2;
INSERT INTO free_agent_sessions (id, name) VALUES ('00000000-0000-0000-0000-000000002001', 'u2 own');
SELECT pg_temp.refusal($$INSERT INTO session_snapshot_chain (session_id, snapshot_number, user_id, snapshot_size, stored_bytes, kind, state, state_hash)
                         VALUES ('00000000-0000-0000-0000-000000002001', 1, 'user-2', 1, 1, 'full', '{}', '\x00')$$) AS forge_chain_row;
SELECT pg_temp.refusal($$INSERT INTO session_messages (session_id, message_order, user_id, role, content, first_snapshot_number)
                         VALUES ('00000000-0000-0000-0000-00000000a001', 99, 'user-2', 'user', 'x', 1)$$) AS forge_message;
WITH c AS (UPDATE session_snapshot_chain SET state = '{"secret":"defaced"}' RETURNING 1) SELECT count(*) AS chain_rows_changed FROM c;
WITH c AS (DELETE FROM session_snapshot_chain RETURNING 1) SELECT count(*) AS chain_rows_deleted FROM c;
WITH c AS (DELETE FROM session_messages RETURNING 1) SELECT count(*) AS messages_deleted FROM c;
WITH c AS (UPDATE free_agent_sessions SET visibility = 'public' WHERE user_id <> 'user-2' RETURNING 1) SELECT count(*) AS others_made_public FROM c;
WITH c AS (DELETE FROM free_agent_sessions WHERE user_id <> 'user-2' RETURNING 1) SELECT count(*) AS others_deleted FROM c;
SELECT pg_temp.refusal($$UPDATE free_agent_sessions SET snapshot_count = 1000 WHERE id = '00000000-0000-0000-0000-000000002001'$$) AS rewrite_counter;
SELECT pg_temp.refusal($$UPDATE free_agent_sessions SET latest_fingerprint = '\x00' WHERE id = '00000000-0000-0000-0000-000000002001'$$) AS rewrite_fingerprint;
SELECT pg_temp.refusal($$UPDATE free_agent_sessions SET user_id = 'user-1' WHERE id = '00000000-0000-0000-0000-000000002001'$$) AS give_away;
SELECT pg_temp.refusal($$UPDATE free_agent_sessions SET organization_id = 'org-a' WHERE id = '00000000-0000-0000-0000-000000002001'$$) AS move_to_org_a;
SELECT pg_temp.refusal($$INSERT INTO free_agent_sessions (name, organization_id) VALUES ('x', 'org-a')$$) AS insert_into_org_a;
SELECT pg_temp.refusal($$TRUNCATE session_snapshot_chain$$) AS truncate_chain;
SELECT pg_temp.refusal($$TRUNCATE free_agent_sessions CASCADE$$) AS truncate_sessions;
-- Denial of service: locking another user's (public) session row finds no row to lock ...
SELECT count(*) AS locked_alice_public FROM (SELECT 1 FROM free_agent_sessions WHERE id = '00000000-0000-0000-0000-00000000a002' FOR UPDATE) l;
SELECT count(*) AS locked_alice_public_key_share FROM (SELECT 1 FROM free_agent_sessions WHERE id = '00000000-0000-0000-0000-00000000a002' FOR KEY SHARE) l;
-- ... and pages of history are capped (p_limit at most 1000, 22023 beyond).
SELECT pg_temp.refusal($$SELECT * FROM get_session_messages('00000000-0000-0000-0000-00000000a002', 0, 100000000)$$) AS huge_page;
-- PostgreSQL's own limit, in the README: a role that may UPDATE or DELETE a table may LOCK it.
SELECT pg_temp.refusal($$LOCK TABLE free_agent_sessions IN ACCESS EXCLUSIVE MODE NOWAIT$$) AS lock_table_documented;
SELECT pg_temp.refusal($$SELECT guard_session_row()$$) AS call_guard;
SELECT pg_temp.refusal($$SELECT refuse_client_attachments()$$) AS call_event_trigger_function;
COMMIT;

-- ------------------------------------------------------------------ 2, 3. borrowing the owner's rights
-- A trigger on the extension's tables would run inside the extension's writes as their
-- owner, and inside other users' writes as them: refused for every table and view.
SET ROLE regress_sec_authenticated;
CREATE FUNCTION regress_sec_m.escalate() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  EXECUTE 'ALTER ROLE regress_sec_mallory SUPERUSER';
  RETURN NEW;
END $$;
SELECT pg_temp.refusal($$CREATE TRIGGER t BEFORE INSERT OR UPDATE OR DELETE ON session_snapshot_chain FOR EACH ROW EXECUTE FUNCTION regress_sec_m.escalate()$$) AS trigger_on_chain;
SELECT pg_temp.refusal($$CREATE TRIGGER t BEFORE INSERT OR UPDATE ON free_agent_sessions FOR EACH ROW EXECUTE FUNCTION regress_sec_m.escalate()$$) AS trigger_on_sessions;
SELECT pg_temp.refusal($$CREATE TRIGGER t AFTER INSERT ON session_messages FOR EACH STATEMENT EXECUTE FUNCTION regress_sec_m.escalate()$$) AS trigger_on_messages;
SELECT pg_temp.refusal($$CREATE CONSTRAINT TRIGGER t AFTER INSERT ON session_messages DEFERRABLE FOR EACH ROW EXECUTE FUNCTION regress_sec_m.escalate()$$) AS constraint_trigger;
SELECT pg_temp.refusal($$CREATE TRIGGER t INSTEAD OF INSERT ON session_snapshots FOR EACH ROW EXECUTE FUNCTION regress_sec_m.escalate()$$) AS trigger_on_view;
SELECT pg_temp.refusal($$CREATE TRIGGER t INSTEAD OF UPDATE ON sessions_list FOR EACH ROW EXECUTE FUNCTION regress_sec_m.escalate()$$) AS trigger_on_list;
-- A foreign key to a session would reveal that a private id exists and pin it.
SELECT pg_temp.refusal($$CREATE TABLE regress_sec_m.pin (s uuid REFERENCES free_agent_sessions (id))$$) AS fk_in_create;
CREATE TABLE regress_sec_m.pin2 (s uuid, n integer);
SELECT pg_temp.refusal($$ALTER TABLE regress_sec_m.pin2 ADD FOREIGN KEY (s) REFERENCES free_agent_sessions (id) NOT VALID$$) AS fk_in_alter;
SELECT pg_temp.refusal($$ALTER TABLE regress_sec_m.pin2 ADD FOREIGN KEY (s, n) REFERENCES session_snapshot_chain (session_id, snapshot_number)$$) AS fk_to_chain;
SELECT pg_temp.refusal($$CREATE TABLE regress_sec_m.pin3 (s uuid, m uuid, FOREIGN KEY (s, m) REFERENCES session_messages (session_id, id))$$) AS fk_to_messages;
-- What PostgreSQL itself keeps for the owner.
SELECT pg_temp.refusal($$CREATE RULE r AS ON INSERT TO session_messages DO ALSO SELECT 1$$) AS rule;
SELECT pg_temp.refusal($$ALTER TABLE free_agent_sessions DISABLE TRIGGER guard_session_row$$) AS disable_guard;
SELECT pg_temp.refusal($$ALTER TABLE session_snapshot_chain DISABLE ROW LEVEL SECURITY$$) AS disable_rls;
SELECT pg_temp.refusal($$CREATE POLICY p ON session_snapshot_chain FOR ALL USING (true)$$) AS add_policy;
SELECT pg_temp.refusal($$DROP POLICY chain_read ON session_snapshot_chain$$) AS drop_policy;
SELECT pg_temp.refusal($$CREATE TABLE regress_sec_m.child () INHERITS (free_agent_sessions)$$) AS inherit;
SELECT pg_temp.refusal($$CREATE INDEX ON free_agent_sessions (name)$$) AS index;
SELECT pg_temp.refusal($$ALTER TABLE free_agent_sessions OWNER TO regress_sec_authenticated$$) AS take_ownership;
SELECT pg_temp.refusal($$GRANT ALL ON session_snapshot_chain TO regress_sec_mallory$$) AS regrant; -- grants nothing:
SELECT has_table_privilege('regress_sec_mallory', 'session_snapshot_chain', 'INSERT') AS mallory_may_insert;
SELECT pg_temp.refusal($$CREATE OR REPLACE FUNCTION current_user_id() RETURNS text LANGUAGE sql AS 'SELECT ''user-1'''$$) AS replace_identity;
SELECT pg_temp.refusal($$ALTER FUNCTION create_session_snapshot(uuid, jsonb, integer, jsonb, boolean) SECURITY DEFINER$$) AS make_definer;
SELECT pg_temp.refusal($$ALTER EXTENSION session_persist UPDATE$$) AS update_extension;
SELECT pg_temp.refusal($$DROP EXTENSION session_persist CASCADE$$) AS drop_extension;
SELECT pg_temp.refusal($$ALTER EVENT TRIGGER session_persist_refuse_client_attachments DISABLE$$) AS disable_event_trigger;
SELECT pg_temp.refusal($$COMMENT ON TABLE free_agent_sessions IS 'mine'$$) AS comment;
RESET ROLE;
-- A plain login with no grants gets no further.
SET ROLE regress_sec_mallory;
SELECT pg_temp.refusal($$CREATE TRIGGER t BEFORE INSERT ON free_agent_sessions FOR EACH ROW EXECUTE FUNCTION regress_sec_m.escalate()$$) AS trigger_without_grant;
SELECT pg_temp.refusal($$CREATE TABLE regress_sec_m.pin4 (s uuid REFERENCES free_agent_sessions (id))$$) AS fk_without_grant;
SELECT pg_temp.refusal($$INSERT INTO session_snapshot_chain (session_id, snapshot_number, user_id, snapshot_size, stored_bytes, kind, state_hash) VALUES ('00000000-0000-0000-0000-00000000a001', 9, 'x', 1, 1, 'full', '\x00')$$) AS insert_chain_without_grant;
RESET ROLE;
-- The table owner (here the superuser) may still attach its own objects.
CREATE TABLE regress_sec_m.owner_pin (s uuid REFERENCES free_agent_sessions (id) ON DELETE CASCADE);
DROP TABLE regress_sec_m.owner_pin;

-- ------------------------------------------------------------------ 7. search_path and overloads
-- mallory puts an always-true = for uuids, and look-alikes of the functions the extension
-- calls, ahead of pg_catalog; every call still resolves to pg_catalog and finds nothing.
SET ROLE regress_sec_mallory;
CREATE TABLE regress_sec_m.calls (what text);
CREATE FUNCTION regress_sec_m.uuid_eq_any(uuid, uuid) RETURNS boolean LANGUAGE plpgsql AS $$
BEGIN INSERT INTO regress_sec_m.calls VALUES ('='); RETURN true; END $$;
CREATE OPERATOR regress_sec_m.= (LEFTARG = uuid, RIGHTARG = uuid, FUNCTION = regress_sec_m.uuid_eq_any);
CREATE FUNCTION regress_sec_m.now() RETURNS timestamptz LANGUAGE plpgsql AS $$
BEGIN INSERT INTO regress_sec_m.calls VALUES ('now'); RETURN '2000-01-01'; END $$;
CREATE FUNCTION regress_sec_m.gen_random_uuid() RETURNS uuid LANGUAGE plpgsql AS $$
BEGIN INSERT INTO regress_sec_m.calls VALUES ('gen_random_uuid'); RETURN '00000000-0000-0000-0000-00000000a001'; END $$;
CREATE FUNCTION regress_sec_m.left(text, integer) RETURNS text LANGUAGE plpgsql AS $$
BEGIN INSERT INTO regress_sec_m.calls VALUES ('left'); RETURN 'mallory'; END $$;
CREATE FUNCTION regress_sec_m.jsonb_array_elements(jsonb) RETURNS SETOF jsonb LANGUAGE plpgsql AS $$
BEGIN INSERT INTO regress_sec_m.calls VALUES ('jsonb_array_elements'); END $$;
SET search_path = regress_sec_m, public, pg_catalog;
SELECT pg_temp.refusal($$SELECT public.get_latest_snapshot('00000000-0000-0000-0000-00000000a001')$$) AS read_with_operator;
SELECT pg_temp.refusal($$SELECT public.cleanup_old_snapshots('00000000-0000-0000-0000-00000000a001', 1)$$) AS prune_with_operator;
SELECT public.fork_session('00000000-0000-0000-0000-00000000a002') IS NOT NULL AS forked_public;
SELECT public.import_session(public.export_session('00000000-0000-0000-0000-00000000a002')) IS NOT NULL AS imported_public;
CALL public.cleanup_snapshots_in_batches(1);
SELECT current_setting('search_path') AS search_path_after_batches;
SELECT count(*) AS mallory_code_ran FROM regress_sec_m.calls;
RESET search_path;
RESET ROLE;

-- ------------------------------------------------------------------ 6. sizes
-- Every value a client stores is held to max_snapshot_bytes (64kB here): 54000, nothing written.
SET ROLE regress_sec_alice;
SELECT pg_temp.refusal($$SELECT create_session_snapshot('00000000-0000-0000-0000-00000000a001', jsonb_build_object('big', repeat('x', 70000)))$$) AS big_state;
SELECT pg_temp.refusal($$SELECT create_session_snapshot('00000000-0000-0000-0000-00000000a001', '{"small":1}', p_metadata => jsonb_build_object('big', repeat('x', 70000)))$$) AS big_snapshot_metadata;
SELECT pg_temp.refusal($$SELECT * FROM append_session_messages('00000000-0000-0000-0000-00000000a001', jsonb_build_array(jsonb_build_object('role', 'user', 'content', repeat('x', 70000))))$$) AS big_messages;
SELECT pg_temp.refusal($$SELECT * FROM append_session_messages('00000000-0000-0000-0000-00000000a001', (SELECT jsonb_agg(jsonb_build_object('role', 'user', 'content', repeat('x', 100))) FROM generate_series(1, 1000)))$$) AS many_messages;
SELECT pg_temp.refusal($$SELECT import_session(jsonb_build_object('format', 'session_persist.export', 'version', 1, 'session', jsonb_build_object('name', 'big'), 'messages', '[]'::jsonb, 'state', jsonb_build_object('big', repeat('x', 70000))))$$) AS big_import;
SELECT pg_temp.refusal($$UPDATE free_agent_sessions SET metadata = jsonb_build_object('big', repeat('x', 70000)) WHERE id = '00000000-0000-0000-0000-00000000a001'$$) AS big_metadata;
SELECT pg_temp.refusal($$UPDATE free_agent_sessions SET memory_summary = jsonb_build_object('big', repeat('x', 70000)) WHERE id = '00000000-0000-0000-0000-00000000a001'$$) AS big_memory_summary;
SELECT pg_temp.refusal($$UPDATE free_agent_sessions SET description = repeat('x', 70000) WHERE id = '00000000-0000-0000-0000-00000000a001'$$) AS big_description;
SELECT pg_temp.refusal($$UPDATE free_agent_sessions SET current_state = repeat('x', 70000) WHERE id = '00000000-0000-0000-0000-00000000a001'$$) AS big_current_state;
SELECT pg_temp.refusal($$INSERT INTO free_agent_sessions (name, model) VALUES ('x', repeat('x', 70000))$$) AS big_model;
SELECT pg_temp.refusal($$SELECT create_session('x', p_description => repeat('x', 70000))$$) AS big_create;
SELECT pg_temp.refusal($$SELECT create_session('x', p_metadata => jsonb_build_object('big', repeat('x', 70000)))$$) AS big_create_metadata;
-- Compressible values are measured uncompressed (what the client sent, not what TOAST keeps).
SELECT pg_temp.refusal($$UPDATE free_agent_sessions SET description = repeat('x', 60000) WHERE id = '00000000-0000-0000-0000-00000000a001'$$) AS description_under_limit;
RESET ROLE;

-- ------------------------------------------------------------------ 5. NOTIFY
-- Off by default; when on, the payload names the session and the event, not the user
-- (test/isolation/specs/notify.spec shows the payloads).
SELECT current_setting('session_persist.notify') AS notify_default;

-- ------------------------------------------------------------------ what the victims kept
-- Every session is whole, nothing changed hands, nothing became public, no role was raised.
SELECT id, user_id, visibility, snapshot_count, message_count, length(description) AS description_length
  FROM free_agent_sessions
 WHERE id IN ('00000000-0000-0000-0000-00000000a001', '00000000-0000-0000-0000-00000000a002',
              '00000000-0000-0000-0000-00000000b001', '00000000-0000-0000-0000-000000001001',
              '00000000-0000-0000-0000-000000001002', '00000000-0000-0000-0000-000000002001')
 ORDER BY id;
SELECT get_latest_snapshot('00000000-0000-0000-0000-00000000a001') ->> 'secret' AS alice,
       get_latest_snapshot('00000000-0000-0000-0000-00000000b001') ->> 'secret' AS bob,
       get_latest_snapshot('00000000-0000-0000-0000-000000001001') ->> 'secret' AS user_1;
SELECT s.id, v.* FROM free_agent_sessions s, LATERAL verify_session(s.id) v
 WHERE s.user_id IN ('regress_sec_alice', 'regress_sec_bob', 'regress_sec_mallory', 'user-1', 'user-2');
SELECT rolname, rolsuper FROM pg_roles WHERE rolname LIKE 'regress_sec_%' AND rolsuper;
SELECT tgrelid::regclass, tgname FROM pg_trigger
 WHERE tgrelid IN ('free_agent_sessions'::regclass, 'session_snapshot_chain'::regclass, 'session_messages'::regclass,
                   'session_snapshots'::regclass, 'sessions_list'::regclass) AND NOT tgisinternal ORDER BY 1, 2;
SELECT conrelid::regclass, conname FROM pg_constraint
 WHERE contype = 'f' AND confrelid IN ('free_agent_sessions'::regclass, 'session_snapshot_chain'::regclass, 'session_messages'::regclass)
 ORDER BY 1, 2;
-- The owners can still delete their own sessions.
SET ROLE regress_sec_bob;
WITH d AS (DELETE FROM free_agent_sessions WHERE id = '00000000-0000-0000-0000-00000000b001' RETURNING 1) SELECT count(*) AS bob_deleted_his FROM d;
RESET ROLE;

-- ------------------------------------------------------------------ clean up
DELETE FROM free_agent_sessions WHERE user_id IN ('regress_sec_alice', 'regress_sec_bob', 'regress_sec_mallory', 'user-1', 'user-2');
DROP SCHEMA regress_sec_m CASCADE;
RESET session_persist.jwt_roles;
RESET session_persist.max_snapshot_bytes;
REVOKE ALL ON ALL TABLES IN SCHEMA public FROM regress_sec_anon, regress_sec_authenticated, regress_sec_service;
REVOKE ALL ON ALL FUNCTIONS IN SCHEMA public FROM regress_sec_anon, regress_sec_authenticated, regress_sec_service;
DROP ROLE regress_sec_alice, regress_sec_bob, regress_sec_mallory, regress_sec_authenticator,
          regress_sec_anon, regress_sec_authenticated, regress_sec_service;
