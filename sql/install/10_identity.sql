
-- 10_identity: who the caller is (SPEC.md, "Identity and access").

CREATE FUNCTION @extschema@.current_user_id() RETURNS text
    AS 'MODULE_PATHNAME', 'sp_current_user_id'
    LANGUAGE C STABLE PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.current_user_id() IS
    'The caller: for a role in session_persist.jwt_roles, the sub claim of request.jwt.claims (NULL: anonymous); for any other role, its name';

CREATE FUNCTION @extschema@.current_organization_id() RETURNS text
    AS 'MODULE_PATHNAME', 'sp_current_organization_id'
    LANGUAGE C STABLE PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.current_organization_id() IS
    'The caller''s organization: for a role in session_persist.jwt_roles, the org_id (or app_metadata.org_id) claim; else session_persist.organization_id';
