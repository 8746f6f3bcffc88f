
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

CREATE FUNCTION @extschema@.cleanup_old_snapshots(p_session_id uuid,
                                                  p_keep_count integer DEFAULT 10,
                                                  p_older_than timestamptz DEFAULT NULL)
    RETURNS integer
    AS 'MODULE_PATHNAME', 'sp_cleanup_old_snapshots'
    LANGUAGE C VOLATILE;
COMMENT ON FUNCTION @extschema@.cleanup_old_snapshots(uuid, integer, timestamptz) IS
    'Prunes one session to its newest p_keep_count snapshots (only those older than p_older_than, when given); the latest is never deleted; returns the number deleted';

-- Every session the caller may write, in memory that does not grow with their number.
CREATE FUNCTION @extschema@.cleanup_all_snapshots(p_keep_count integer DEFAULT NULL,
                                                  p_older_than timestamptz DEFAULT NULL)
    RETURNS bigint
    AS 'MODULE_PATHNAME', 'sp_cleanup_all_snapshots'
    LANGUAGE C VOLATILE;
COMMENT ON FUNCTION @extschema@.cleanup_all_snapshots(integer, timestamptz) IS
    'cleanup_old_snapshots for every session the caller may write (sessions locked by another transaction are passed over); returns the number deleted';
