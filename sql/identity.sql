-- Who is the caller: current_user_id() and current_organization_id() (SPEC.md, "Identity and access").

-- A plain SQL client is its database role.
SELECT current_user_id() = current_user AS is_role_name;
SELECT current_organization_id() IS NULL AS no_organization;

-- PostgREST sets request.jwt.claims for the transaction.
BEGIN;
SELECT set_config('request.jwt.claims', '{"sub":"user-a","role":"authenticated","org_id":"org-1"}', true);
SELECT current_user_id(), current_organization_id();
COMMIT;

-- After PostgREST's transaction the setting is left as '': back to the role name.
SELECT current_setting('request.jwt.claims', true) AS leftover, current_user_id() = current_user AS is_role_name;

-- An anonymous request: claims without sub.
BEGIN;
SELECT set_config('request.jwt.claims', '{"role":"anon"}', true);
SELECT current_user_id() IS NULL AS anonymous, current_organization_id() IS NULL AS no_organization;
ROLLBACK;

-- The organization may come from app_metadata (Supabase custom claims).
BEGIN;
SELECT set_config('request.jwt.claims', '{"sub":"user-b","app_metadata":{"org_id":"org-2"}}', true);
SELECT current_user_id(), current_organization_id();
ROLLBACK;

-- Numeric sub claims are read as text.
BEGIN;
SELECT set_config('request.jwt.claims', '{"sub":12345}', true);
SELECT current_user_id();
ROLLBACK;

-- The older request.jwt.claim.sub setting.
BEGIN;
SELECT set_config('request.jwt.claim.sub', 'legacy-user', true);
SELECT current_user_id();
ROLLBACK;

-- Without an org claim, the session_persist.organization_id setting.
SET session_persist.organization_id = 'org-from-setting';
SELECT current_organization_id();
BEGIN;
SELECT set_config('request.jwt.claims', '{"sub":"user-c"}', true);
SELECT current_user_id(), current_organization_id();
ROLLBACK;
RESET session_persist.organization_id;

-- A caller with no identity (a JWT without sub) has no organization either, whatever its
-- claims or the setting say: it sees public sessions only.
SET session_persist.organization_id = 'org-from-setting';
BEGIN;
SELECT set_config('request.jwt.claims', '{"role":"anon","org_id":"org-a"}', true);
SELECT current_user_id() IS NULL AS anonymous, current_organization_id() IS NULL AS no_organization;
ROLLBACK;
RESET session_persist.organization_id;

-- The setting names an organization for a role: only a superuser (or ALTER ROLE/DATABASE
-- ... SET) sets it, so a client cannot join an organization by saying so.
\i test/sql/refusal.sql
CREATE ROLE regress_sp_claimer;
SET ROLE regress_sp_claimer;
SELECT pg_temp.refusal($$SET session_persist.organization_id = 'acme'$$);
RESET ROLE;
ALTER ROLE regress_sp_claimer SET session_persist.organization_id = 'acme';
SELECT rolname, setconfig FROM pg_db_role_setting JOIN pg_roles r ON r.oid = setrole
 WHERE rolname = 'regress_sp_claimer';
DROP ROLE regress_sp_claimer;

-- Malformed claims are an error, not an identity.
BEGIN;
SELECT set_config('request.jwt.claims', 'not json', true);
SELECT current_user_id();
ROLLBACK;
