-- 30_access: row-level security, grants and the session row guard (SPEC.md, "Identity and
-- access"). Policies call the identity functions directly, with no subquery: Citus refuses
-- subqueries in the policies of distributed tables, and the functions cache what they parse
-- (the claims) so a call per row costs a comparison. The chain and the messages carry copies
-- of their session's owner, organization and visibility, so their read policy is the
-- sessions' own, without a join. The chain and the messages have SELECT policies only: no
-- client can insert, update or delete them directly, whatever it was granted. The
-- extension's functions check ownership as the caller, then write those rows themselves.

ALTER TABLE @extschema@.free_agent_sessions ENABLE ROW LEVEL SECURITY;
ALTER TABLE @extschema@.session_snapshot_chain ENABLE ROW LEVEL SECURITY;
ALTER TABLE @extschema@.session_messages ENABLE ROW LEVEL SECURITY;

CREATE POLICY sessions_read ON @extschema@.free_agent_sessions FOR SELECT
    USING (user_id = @extschema@.current_user_id()
           OR visibility = 'public'
           OR (visibility = 'organization'
               AND organization_id = @extschema@.current_organization_id()));
CREATE POLICY sessions_insert ON @extschema@.free_agent_sessions FOR INSERT
    WITH CHECK (user_id = @extschema@.current_user_id()
                AND (organization_id IS NULL
                     OR organization_id = @extschema@.current_organization_id()));
CREATE POLICY sessions_update ON @extschema@.free_agent_sessions FOR UPDATE
    USING (user_id = @extschema@.current_user_id())
    WITH CHECK (user_id = @extschema@.current_user_id());
CREATE POLICY sessions_delete ON @extschema@.free_agent_sessions FOR DELETE
    USING (user_id = @extschema@.current_user_id());

-- A snapshot or message is readable when its session is: the same test on the copies of the
-- session's owner, organization and visibility that each row carries.
CREATE POLICY chain_read ON @extschema@.session_snapshot_chain FOR SELECT
    USING (user_id = @extschema@.current_user_id()
           OR visibility = 'public'
           OR (visibility = 'organization'
               AND organization_id = @extschema@.current_organization_id()));
CREATE POLICY messages_read ON @extschema@.session_messages FOR SELECT
    USING (user_id = @extschema@.current_user_id()
           OR visibility = 'public'
           OR (visibility = 'organization'
               AND organization_id = @extschema@.current_organization_id()));

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

-- A session's visibility is copied onto its snapshots and messages (their read policy
-- tests the copy). Only the session's owner may change it (sessions_update); the copies are
-- then rewritten as the tables' owner, only for that session's rows, and nothing a client
-- attached can run inside (90_attachments). On Citus this runs on the worker that holds
-- the session, against the colocated shards (distribute_session_persist()).
CREATE FUNCTION @extschema@.share_session_visibility() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    UPDATE @extschema@.session_snapshot_chain SET visibility = NEW.visibility
     WHERE session_id = NEW.id;
    UPDATE @extschema@.session_messages SET visibility = NEW.visibility
     WHERE session_id = NEW.id;
    RETURN NULL;
END $$;
REVOKE ALL ON FUNCTION @extschema@.share_session_visibility() FROM PUBLIC;
CREATE TRIGGER share_session_visibility
    AFTER UPDATE OF visibility ON @extschema@.free_agent_sessions
    FOR EACH ROW WHEN (OLD.visibility IS DISTINCT FROM NEW.visibility)
    EXECUTE FUNCTION @extschema@.share_session_visibility();

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
