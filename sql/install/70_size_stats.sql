
-- 70_size_stats: the size_stats aggregate and storage_report (SPEC.md, "Functions").

CREATE TYPE @extschema@.size_stats_result AS (
    count  bigint,            -- sizes counted (NULLs are skipped)
    total  numeric,           -- exact sum, like sum(bigint)
    min    bigint,
    max    bigint,
    mean   double precision,
    p50    double precision,  -- percentiles as percentile_cont gives them, within 1%
    p90    double precision,
    p99    double precision
);
COMMENT ON TYPE @extschema@.size_stats_result IS
    'What size_stats returns: exact count, total, min, max and mean; percentiles within 1%';

-- Support functions of the aggregate. Those taking `internal` cannot be called from SQL
-- with a value a client made up.
CREATE FUNCTION @extschema@.size_stats_transition(internal, bigint) RETURNS internal
    AS 'MODULE_PATHNAME', 'sp_size_stats_transition'
    LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION @extschema@.size_stats_inverse(internal, bigint) RETURNS internal
    AS 'MODULE_PATHNAME', 'sp_size_stats_inverse'
    LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION @extschema@.size_stats_combine(internal, internal) RETURNS internal
    AS 'MODULE_PATHNAME', 'sp_size_stats_combine'
    LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION @extschema@.size_stats_serialize(internal) RETURNS bytea
    AS 'MODULE_PATHNAME', 'sp_size_stats_serialize'
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION @extschema@.size_stats_deserialize(bytea, internal) RETURNS internal
    AS 'MODULE_PATHNAME', 'sp_size_stats_deserialize'
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION @extschema@.size_stats_final(internal) RETURNS @extschema@.size_stats_result
    AS 'MODULE_PATHNAME', 'sp_size_stats_final'
    LANGUAGE C IMMUTABLE PARALLEL SAFE;

-- One pass; parallel (partial states merge exactly: same buckets as a single pass) and
-- usable as a moving window aggregate.
CREATE AGGREGATE @extschema@.size_stats(bigint) (
    SFUNC = @extschema@.size_stats_transition,
    STYPE = internal,
    SSPACE = 4096,
    FINALFUNC = @extschema@.size_stats_final,
    COMBINEFUNC = @extschema@.size_stats_combine,
    SERIALFUNC = @extschema@.size_stats_serialize,
    DESERIALFUNC = @extschema@.size_stats_deserialize,
    MSFUNC = @extschema@.size_stats_transition,
    MINVFUNC = @extschema@.size_stats_inverse,
    MSTYPE = internal,
    MSSPACE = 4096,
    MFINALFUNC = @extschema@.size_stats_final,
    PARALLEL = SAFE
);
COMMENT ON AGGREGATE @extschema@.size_stats(bigint) IS
    'count, total, min, max, mean, p50, p90, p99 of byte sizes in one pass; NULLs skipped, negative sizes refused (22023)';

-- Storage per user. Runs as the caller (not SECURITY DEFINER): row-level security decides
-- which sessions and snapshots are counted, so a client sees its own line and the lines of
-- what others share with it; a role that bypasses RLS sees every user. Plain SQL over the
-- two tables, grouped by user: on Citus both aggregates push down to the workers.
-- PL/pgSQL rather than SQL: Citus cannot plan a SQL function's parameters.
CREATE FUNCTION @extschema@.storage_report(p_user_id text DEFAULT NULL)
    RETURNS TABLE (user_id text, sessions bigint, snapshots bigint, logical_bytes numeric,
                   stored_bytes numeric, stored_ratio numeric,
                   snapshot_sizes @extschema@.size_stats_result)
    LANGUAGE plpgsql STABLE PARALLEL SAFE
    SET search_path = pg_catalog, pg_temp
AS $$
#variable_conflict use_column
BEGIN
    RETURN QUERY
    WITH per_user AS (
        SELECT s.user_id, count(*) AS sessions, sum(s.snapshot_count) AS snapshots,
               sum(s.total_snapshot_size) AS logical_bytes, sum(s.stored_bytes) AS stored_bytes
          FROM @extschema@.free_agent_sessions s
         WHERE p_user_id IS NULL OR s.user_id = p_user_id
         GROUP BY s.user_id
    ), sizes AS (
        SELECT c.user_id, @extschema@.size_stats(c.snapshot_size) AS snapshot_sizes
          FROM @extschema@.session_snapshot_chain c
         WHERE p_user_id IS NULL OR c.user_id = p_user_id
         GROUP BY c.user_id
    )
    SELECT u.user_id, u.sessions, u.snapshots::bigint, u.logical_bytes, u.stored_bytes,
           round(u.stored_bytes / nullif(u.logical_bytes, 0), 4),
           -- no visible snapshot: what size_stats says over no rows
           coalesce(z.snapshot_sizes,
                    ROW(0, NULL, NULL, NULL, NULL, NULL, NULL, NULL)::@extschema@.size_stats_result)
      FROM per_user u
      LEFT JOIN sizes z ON z.user_id = u.user_id
     ORDER BY u.user_id;
END $$;
COMMENT ON FUNCTION @extschema@.storage_report(text) IS
    'Per user (or one user): sessions, snapshots, logical and stored bytes, stored/logical ratio and snapshot size statistics, over the rows the caller may see';
