
-- 85_lifecycle: moving sessions around (export, import, fork) and telling listeners.

CREATE FUNCTION @extschema@.export_session(p_session_id uuid) RETURNS jsonb
    AS 'MODULE_PATHNAME', 'sp_export_session'
    LANGUAGE C STABLE;
COMMENT ON FUNCTION @extschema@.export_session(uuid) IS
    'The session as one JSON document (format session_persist.export, version 1): its editable fields, messages and latest state';

CREATE FUNCTION @extschema@.import_session(p_document jsonb) RETURNS uuid
    AS 'MODULE_PATHNAME', 'sp_import_session'
    LANGUAGE C VOLATILE;
COMMENT ON FUNCTION @extschema@.import_session(jsonb) IS
    'A new session owned by the caller from an export_session document; returns its id';

CREATE FUNCTION @extschema@.fork_session(p_session_id uuid, p_snapshot_number integer DEFAULT NULL,
                                         p_name text DEFAULT NULL) RETURNS uuid
    AS 'MODULE_PATHNAME', 'sp_fork_session'
    LANGUAGE C VOLATILE;
COMMENT ON FUNCTION @extschema@.fork_session(uuid, integer, text) IS
    'A new session of the caller''s starting from snapshot p_snapshot_number (NULL: the latest) of a readable session, with the messages up to it; returns its id';

-- NOTIFY session_persist {"session_id", "event":"delete"} when a session is deleted (at
-- commit, when session_persist.notify is on).
CREATE FUNCTION @extschema@.notify_session_deleted() RETURNS trigger
    AS 'MODULE_PATHNAME', 'sp_notify_session_deleted'
    LANGUAGE C;
REVOKE ALL ON FUNCTION @extschema@.notify_session_deleted() FROM PUBLIC;
CREATE TRIGGER notify_session_deleted
    AFTER DELETE ON @extschema@.free_agent_sessions
    FOR EACH ROW EXECUTE FUNCTION @extschema@.notify_session_deleted();
