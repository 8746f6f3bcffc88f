
-- 50_sessions: creating and summarising sessions.

CREATE FUNCTION @extschema@.create_session(p_name text, p_model text DEFAULT NULL,
                                           p_description text DEFAULT NULL,
                                           p_metadata jsonb DEFAULT NULL,
                                           p_visibility text DEFAULT 'private')
    RETURNS @extschema@.free_agent_sessions
    AS 'MODULE_PATHNAME', 'sp_create_session'
    LANGUAGE C VOLATILE;

CREATE FUNCTION @extschema@.get_session_summary(p_session_id uuid)
    RETURNS TABLE (session_id uuid, name text, status text, model text, visibility text,
                   snapshot_count integer, latest_snapshot_number integer,
                   last_snapshot_at timestamptz, latest_snapshot_size bigint,
                   total_snapshot_size bigint, stored_bytes bigint, message_count integer,
                   last_message_at timestamptz, created_at timestamptz, updated_at timestamptz)
    AS 'MODULE_PATHNAME', 'sp_get_session_summary'
    LANGUAGE C STABLE ROWS 1;
