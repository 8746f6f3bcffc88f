
-- 60_snapshots: saving, restoring and pruning snapshots (native C++).

CREATE FUNCTION @extschema@.create_session_snapshot(
        p_session_id uuid, p_snapshot_data jsonb, p_expected_number integer DEFAULT NULL,
        p_metadata jsonb DEFAULT NULL, p_sync_messages boolean DEFAULT true,
        OUT id uuid, OUT session_id uuid, OUT snapshot_number integer, OUT created boolean,
        OUT kind text, OUT snapshot_size bigint, OUT stored_bytes bigint,
        OUT created_at timestamptz)
    AS 'MODULE_PATHNAME', 'sp_create_session_snapshot'
    LANGUAGE C VOLATILE;

CREATE FUNCTION @extschema@.get_latest_snapshot(p_session_id uuid) RETURNS jsonb
    AS 'MODULE_PATHNAME', 'sp_get_latest_snapshot'
    LANGUAGE C STABLE;

CREATE FUNCTION @extschema@.get_snapshot(p_session_id uuid, p_snapshot_number integer DEFAULT NULL)
    RETURNS TABLE (id uuid, snapshot_number integer, snapshot_data jsonb, snapshot_size bigint,
                   created_at timestamptz, metadata jsonb)
    AS 'MODULE_PATHNAME', 'sp_get_snapshot'
    LANGUAGE C STABLE ROWS 1;

CREATE FUNCTION @extschema@.cleanup_old_snapshots(p_session_id uuid DEFAULT NULL,
                                                  p_keep_count integer DEFAULT 10,
                                                  p_older_than timestamptz DEFAULT NULL)
    RETURNS integer
    AS 'MODULE_PATHNAME', 'sp_cleanup_old_snapshots'
    LANGUAGE C VOLATILE;
