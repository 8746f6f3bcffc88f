
-- 30_access: row-level security, grants and the session row guard (SPEC.md, "Identity and
-- access"). Policies call the identity functions as (SELECT ...) so they run once per
-- statement, as SPEC.md requires. (Calling them directly would spare a save's one-row lock
-- its init-plans, at a call per row everywhere else; measured in bench/LIMITS.md, and not
-- done.) The chain and the messages have SELECT policies only: no
-- client can insert, update or delete them directly, whatever it was granted. The
-- extension's functions check ownership as the caller, then write those rows as the
-- tables' owner.

ALTER TABLE @extschema@.free_agent_sessions ENABLE ROW LEVEL SECURITY;
ALTER TABLE @extschema@.session_snapshot_chain ENABLE ROW LEVEL SECURITY;
ALTER TABLE @extschema@.session_messages ENABLE ROW LEVEL SECURITY;

CREATE POLICY sessions_read ON @extschema@.free_agent_sessions FOR SELECT
    USING (user_id = (SELECT @extschema@.current_user_id())
           OR visibility = 'public'
           OR (visibility = 'organization'
               AND organization_id = (SELECT @extschema@.current_organization_id())));
CREATE POLICY sessions_insert ON @extschema@.free_agent_sessions FOR INSERT
    WITH CHECK (user_id = (SELECT @extschema@.current_user_id())
                AND (organization_id IS NULL
                     OR organization_id = (SELECT @extschema@.current_organization_id())));
CREATE POLICY sessions_update ON @extschema@.free_agent_sessions FOR UPDATE
    USING (user_id = (SELECT @extschema@.current_user_id()))
    WITH CHECK (user_id = (SELECT @extschema@.current_user_id()));
CREATE POLICY sessions_delete ON @extschema@.free_agent_sessions FOR DELETE
    USING (user_id = (SELECT @extschema@.current_user_id()));

-- A snapshot or message is readable when its session is (the EXISTS runs the sessions
-- policy above); the owner's own rows are found without it.
CREATE POLICY chain_read ON @extschema@.session_snapshot_chain FOR SELECT
    USING (user_id = (SELECT @extschema@.current_user_id())
           OR EXISTS (SELECT 1 FROM @extschema@.free_agent_sessions s
                       WHERE s.id = session_id AND s.visibility <> 'private'));
CREATE POLICY messages_read ON @extschema@.session_messages FOR SELECT
    USING (user_id = (SELECT @extschema@.current_user_id())
           OR EXISTS (SELECT 1 FROM @extschema@.free_agent_sessions s
                       WHERE s.id = session_id AND s.visibility <> 'private'));

GRANT SELECT ON @extschema@.free_agent_sessions, @extschema@.session_snapshot_chain,
                @extschema@.session_messages TO PUBLIC;
GRANT INSERT, DELETE ON @extschema@.free_agent_sessions TO PUBLIC;
GRANT UPDATE (name, description, model, status, current_state, visibility, memory_summary,
              metadata, completed_at, keep_snapshots, keep_for)
    ON @extschema@.free_agent_sessions TO PUBLIC;

CREATE FUNCTION @extschema@.guard_session_row() RETURNS trigger
    AS 'MODULE_PATHNAME', 'sp_guard_session_row'
    LANGUAGE C;
REVOKE ALL ON FUNCTION @extschema@.guard_session_row() FROM PUBLIC;
CREATE TRIGGER guard_session_row
    BEFORE INSERT OR UPDATE ON @extschema@.free_agent_sessions
    FOR EACH ROW EXECUTE FUNCTION @extschema@.guard_session_row();

-- Row-level security does not cover TRUNCATE, and gateways grant ALL on new tables (Supabase's
-- default privileges): a client could empty every user's chain. Only roles that own the
-- tables (or superusers) may truncate them.
CREATE FUNCTION @extschema@.refuse_client_truncate() RETURNS trigger
    LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    IF NOT pg_has_role(current_user, (SELECT relowner FROM pg_class WHERE oid = TG_RELID), 'USAGE') THEN
        RAISE EXCEPTION 'TRUNCATE of %.% is refused', TG_TABLE_SCHEMA, TG_TABLE_NAME
            USING ERRCODE = 'insufficient_privilege',
                  DETAIL = 'Row-level security does not apply to TRUNCATE, so only the tables'' owner may use it.',
                  HINT = 'Delete your sessions (their snapshots and messages go with them), or prune with cleanup_old_snapshots.';
    END IF;
    RETURN NULL;
END $$;
REVOKE ALL ON FUNCTION @extschema@.refuse_client_truncate() FROM PUBLIC;
CREATE TRIGGER refuse_client_truncate BEFORE TRUNCATE ON @extschema@.free_agent_sessions
    FOR EACH STATEMENT EXECUTE FUNCTION @extschema@.refuse_client_truncate();
CREATE TRIGGER refuse_client_truncate BEFORE TRUNCATE ON @extschema@.session_snapshot_chain
    FOR EACH STATEMENT EXECUTE FUNCTION @extschema@.refuse_client_truncate();
CREATE TRIGGER refuse_client_truncate BEFORE TRUNCATE ON @extschema@.session_messages
    FOR EACH STATEMENT EXECUTE FUNCTION @extschema@.refuse_client_truncate();
