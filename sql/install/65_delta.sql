
-- 65_delta: the delta codec as SQL functions, and how the chain's payloads are stored.

CREATE FUNCTION @extschema@.jsonb_delta(a jsonb, b jsonb) RETURNS jsonb
    AS 'MODULE_PATHNAME', 'sp_jsonb_delta'
    LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.jsonb_delta(jsonb, jsonb) IS
    'The delta that turns a into b: jsonb_apply_delta(a, jsonb_delta(a, b)) = b';

CREATE FUNCTION @extschema@.jsonb_apply_delta(a jsonb, d jsonb) RETURNS jsonb
    AS 'MODULE_PATHNAME', 'sp_jsonb_apply_delta'
    LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.jsonb_apply_delta(jsonb, jsonb) IS
    'a with the delta d (from jsonb_delta) applied; 22023 when d does not fit a';

CREATE FUNCTION @extschema@.jsonb_state_hash(state jsonb) RETURNS bytea
    AS 'MODULE_PATHNAME', 'sp_jsonb_state_hash'
    LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.jsonb_state_hash(jsonb) IS
    'The 16-byte hash (XXH3-128 of the jsonb binary form) used for change detection and restore checks';

-- Payloads compress with lz4 where the server has it (pglz otherwise): the chain's states
-- and deltas, message texts (a save stores each new message once more; pglz on them cost a
-- save at turn 10 more than the rest of its writes) and the sessions' longer text and JSON.
-- Without lz4 they are set to pglz explicitly, whatever default_toast_compression says.
-- TOAST compresses only rows past about 2 kB, whatever toast_tuple_target says: the row writer
-- (src/storage/row_writer) compresses the smaller history texts and deltas itself, with the
-- column's method.
DO $$
DECLARE
    method  text := 'lz4';
    payload record;
BEGIN
    IF NOT EXISTS (SELECT FROM pg_catalog.pg_settings
                    WHERE name = 'default_toast_compression' AND 'lz4' = ANY (enumvals)) THEN
        RAISE NOTICE 'lz4 is not available on this server: payloads use pglz';
        method := 'pglz';
    END IF;
    FOR payload IN
        SELECT * FROM (VALUES ('session_snapshot_chain', 'state'), ('session_snapshot_chain', 'delta'),
                              ('session_snapshot_chain', 'metadata'), ('session_messages', 'content'),
                              ('session_messages', 'metadata'), ('free_agent_sessions', 'description'),
                              ('free_agent_sessions', 'current_state'),
                              ('free_agent_sessions', 'memory_summary'),
                              ('free_agent_sessions', 'metadata')) AS p (tab, col)
    LOOP
        EXECUTE pg_catalog.format('ALTER TABLE @extschema@.%I ALTER COLUMN %I SET COMPRESSION %s',
                                  payload.tab, payload.col, method);
    END LOOP;
END $$;
ALTER TABLE @extschema@.session_snapshot_chain SET (toast_tuple_target = 256);
