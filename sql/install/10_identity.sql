
-- 10_identity: who the caller is (SPEC.md, "Identity and access").

CREATE FUNCTION @extschema@.current_user_id() RETURNS text
    AS 'MODULE_PATHNAME', 'sp_current_user_id'
    LANGUAGE C STABLE PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.current_user_id() IS
    'The caller: the sub claim of request.jwt.claims (NULL for an anonymous JWT), else the database role';

CREATE FUNCTION @extschema@.current_organization_id() RETURNS text
    AS 'MODULE_PATHNAME', 'sp_current_organization_id'
    LANGUAGE C STABLE PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.current_organization_id() IS
    'The caller''s organization: the org_id (or app_metadata.org_id) claim, else session_persist.organization_id';
