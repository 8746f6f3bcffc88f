
-- 80_messages: the message history (SPEC.md, "session_messages"). Both functions run as the
-- caller; append_session_messages writes the rows as the tables' owner only after
-- lock_session_for_write has found the caller to be the session's owner.

CREATE FUNCTION @extschema@.append_session_messages(p_session_id uuid, p_messages jsonb)
    RETURNS SETOF integer
    AS 'MODULE_PATHNAME', 'sp_append_session_messages'
    LANGUAGE C VOLATILE ROWS 10;
COMMENT ON FUNCTION @extschema@.append_session_messages(uuid, jsonb) IS
    'Appends a JSON array of messages ({"role", "content", ...rest as metadata}); returns their message_order values';

CREATE FUNCTION @extschema@.get_session_messages(p_session_id uuid, p_after integer DEFAULT 0,
                                                 p_limit integer DEFAULT 100)
    RETURNS TABLE (id uuid, message_order integer, role text, content text, metadata jsonb,
                   created_at timestamptz)
    AS 'MODULE_PATHNAME', 'sp_get_session_messages'
    LANGUAGE C STABLE ROWS 100;
COMMENT ON FUNCTION @extschema@.get_session_messages(uuid, integer, integer) IS
    'A page of a session''s history: the messages after message_order p_after, at most p_limit (1 to 1000)';
