
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
-- Deltas are small: a low toast_tuple_target lets TOAST compress them too, not only the
-- keyframes.
DO $$
BEGIN
    ALTER TABLE @extschema@.session_snapshot_chain
        ALTER COLUMN state SET COMPRESSION lz4,
        ALTER COLUMN delta SET COMPRESSION lz4,
        ALTER COLUMN metadata SET COMPRESSION lz4;
    ALTER TABLE @extschema@.session_messages
        ALTER COLUMN content SET COMPRESSION lz4,
        ALTER COLUMN metadata SET COMPRESSION lz4;
    ALTER TABLE @extschema@.free_agent_sessions
        ALTER COLUMN description SET COMPRESSION lz4,
        ALTER COLUMN current_state SET COMPRESSION lz4,
        ALTER COLUMN memory_summary SET COMPRESSION lz4,
        ALTER COLUMN metadata SET COMPRESSION lz4;
EXCEPTION WHEN feature_not_supported OR invalid_parameter_value THEN
    RAISE NOTICE 'lz4 is not available on this server: payloads use pglz';
    ALTER TABLE @extschema@.session_snapshot_chain
        ALTER COLUMN state SET COMPRESSION pglz,
        ALTER COLUMN delta SET COMPRESSION pglz,
        ALTER COLUMN metadata SET COMPRESSION pglz;
    ALTER TABLE @extschema@.session_messages
        ALTER COLUMN content SET COMPRESSION pglz,
        ALTER COLUMN metadata SET COMPRESSION pglz;
    ALTER TABLE @extschema@.free_agent_sessions
        ALTER COLUMN description SET COMPRESSION pglz,
        ALTER COLUMN current_state SET COMPRESSION pglz,
        ALTER COLUMN memory_summary SET COMPRESSION pglz,
        ALTER COLUMN metadata SET COMPRESSION pglz;
END $$;
ALTER TABLE @extschema@.session_snapshot_chain SET (toast_tuple_target = 256);
