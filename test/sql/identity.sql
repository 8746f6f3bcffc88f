-- Who is the caller: current_user_id() and current_organization_id() (SPEC.md, "Identity and access").

-- A plain SQL client is its database role.
SELECT current_user_id() = current_user AS is_role_name;
SELECT current_organization_id() IS NULL AS no_organization;

-- Claims are believed only from the roles a gateway switches to: session_persist.jwt_roles
-- (superuser-set; default anon,authenticated). Here the gateway role is regress_sp_gateway,
-- and each request is PostgREST's transaction: SET LOCAL ROLE, then the claims.
SHOW session_persist.jwt_roles;
CREATE ROLE regress_sp_gateway;
SET session_persist.jwt_roles = 'regress_sp_gateway';

-- PostgREST sets request.jwt.claims for the transaction.
BEGIN;
SET LOCAL ROLE regress_sp_gateway;
SELECT set_config('request.jwt.claims', '{"sub":"user-a","role":"authenticated","org_id":"org-1"}', true);
SELECT current_user_id(), current_organization_id();
COMMIT;

-- After PostgREST's transaction the setting is left as '': back to the role name.
SELECT current_setting('request.jwt.claims', true) AS leftover, current_user_id() = current_user AS is_role_name;

-- A gateway role with no claims at all is anonymous, never a user named after the role
-- (every anonymous request would share that user).
BEGIN;
SET LOCAL ROLE regress_sp_gateway;
SELECT current_user_id() IS NULL AS anonymous, current_organization_id() IS NULL AS no_organization;
ROLLBACK;

-- Any other role is itself, whatever claims it sets: a plain login cannot pose as a user
-- (sub), join an organization (org_id) or use the older claim setting.
CREATE ROLE regress_sp_poser;
BEGIN;
SET LOCAL ROLE regress_sp_poser;
SELECT set_config('request.jwt.claims', '{"sub":"user-a","org_id":"org-1"}', true);
SELECT set_config('request.jwt.claim.sub', 'user-a', true);
SELECT current_user_id(), current_organization_id();
ROLLBACK;
-- ... the superuser too: claims name nobody outside a gateway role.
BEGIN;
SELECT set_config('request.jwt.claims', '{"sub":"user-a"}', true);
SELECT current_user_id() = current_user AS is_role_name;
ROLLBACK;

-- Only a superuser names the gateway roles; a bad list is refused.
\i test/sql/refusal.sql
SET ROLE regress_sp_poser;
SELECT pg_temp.refusal($$SET session_persist.jwt_roles = 'regress_sp_poser'$$);
RESET ROLE;
SELECT pg_temp.refusal($$SET session_persist.jwt_roles = 'a,,b'$$);
SHOW session_persist.jwt_roles;
-- Several roles, quoted names kept as written.
SET session_persist.jwt_roles = 'regress_sp_gateway, "Regress SP Mixed"';
CREATE ROLE "Regress SP Mixed";
BEGIN;
SET LOCAL ROLE "Regress SP Mixed";
SELECT set_config('request.jwt.claims', '{"sub":"user-m"}', true);
SELECT current_user_id();
ROLLBACK;
DROP ROLE "Regress SP Mixed";
DROP ROLE regress_sp_poser;
SET session_persist.jwt_roles = 'regress_sp_gateway';

-- An anonymous request: claims without sub.
BEGIN;
SET LOCAL ROLE regress_sp_gateway;
SELECT set_config('request.jwt.claims', '{"role":"anon"}', true);
SELECT current_user_id() IS NULL AS anonymous, current_organization_id() IS NULL AS no_organization;
ROLLBACK;

-- The organization may come from app_metadata (Supabase custom claims).
BEGIN;
SET LOCAL ROLE regress_sp_gateway;
SELECT set_config('request.jwt.claims', '{"sub":"user-b","app_metadata":{"org_id":"org-2"}}', true);
SELECT current_user_id(), current_organization_id();
ROLLBACK;

-- Numeric sub claims are read as text.
BEGIN;
SET LOCAL ROLE regress_sp_gateway;
SELECT set_config('request.jwt.claims', '{"sub":12345}', true);
SELECT current_user_id();
ROLLBACK;

-- The older request.jwt.claim.sub setting.
BEGIN;
SET LOCAL ROLE regress_sp_gateway;
SELECT set_config('request.jwt.claim.sub', 'legacy-user', true);
SELECT current_user_id();
ROLLBACK;

-- Without an org claim, the session_persist.organization_id setting.
SET session_persist.organization_id = 'org-from-setting';
SELECT current_organization_id();
BEGIN;
SET LOCAL ROLE regress_sp_gateway;
SELECT set_config('request.jwt.claims', '{"sub":"user-c"}', true);
SELECT current_user_id(), current_organization_id();
ROLLBACK;
RESET session_persist.organization_id;

-- A caller with no identity (a JWT without sub) has no organization either, whatever its
-- claims or the setting say: it sees public sessions only.
SET session_persist.organization_id = 'org-from-setting';
BEGIN;
SET LOCAL ROLE regress_sp_gateway;
SELECT set_config('request.jwt.claims', '{"role":"anon","org_id":"org-a"}', true);
SELECT current_user_id() IS NULL AS anonymous, current_organization_id() IS NULL AS no_organization;
ROLLBACK;
RESET session_persist.organization_id;

-- The setting names an organization for a role: only a superuser (or ALTER ROLE/DATABASE
-- ... SET) sets it, so a client cannot join an organization by saying so.
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
SET LOCAL ROLE regress_sp_gateway;
SELECT set_config('request.jwt.claims', 'not json', true);
SELECT current_user_id();
ROLLBACK;

RESET session_persist.jwt_roles;
DROP ROLE regress_sp_gateway;
