
-- 80_messages: the message history (SPEC.md, "session_messages"). Both functions run as the
-- caller; append_session_messages writes the rows as the tables' owner only after
-- lock_session_for_write has found the caller to be the session's owner.

-- The first snapshot whose history includes the message: the snapshot whose save synced it
-- (create_session_snapshot with p_sync_messages), or, for a message appended directly, the
-- next snapshot saved after it (latest_snapshot_number + 1 when it was appended). It is
-- what fork_session(s, k) means by "the messages up to snapshot k": those with
-- first_snapshot_number <= k. Snapshot and message numbers are both assigned under the
-- session's row lock, so this is exact where created_at (the transaction's start time)
-- would not be.
ALTER TABLE @extschema@.session_messages
    ADD COLUMN first_snapshot_number integer NOT NULL CHECK (first_snapshot_number > 0);
COMMENT ON COLUMN @extschema@.session_messages.first_snapshot_number IS
    'The first snapshot whose history includes this message (fork_session copies the messages up to a snapshot by it)';

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
