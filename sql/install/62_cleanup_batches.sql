
-- 62_cleanup_batches: pruning every session in transactions of a bounded size.
-- cleanup_old_snapshots(NULL, ...) prunes all the caller's sessions in one transaction, so
-- each pruned session stays locked (saves to it wait) until that transaction ends. For
-- large jobs (a nightly pg_cron run over millions of snapshots) this procedure commits
-- after every p_sessions_per_transaction sessions, so no session is locked for long.
-- A procedure with a SET clause cannot COMMIT, so it pins search_path itself, in each of its
-- transactions, and gives the caller's back at the end; every name is qualified anyway.
CREATE PROCEDURE @extschema@.cleanup_snapshots_in_batches(
        p_keep_count integer DEFAULT 10, p_older_than timestamptz DEFAULT NULL,
        p_sessions_per_transaction integer DEFAULT 100, INOUT p_deleted bigint DEFAULT 0)
    LANGUAGE plpgsql
AS $$
DECLARE
    callers_path text := pg_catalog.current_setting('search_path');
    bypass boolean;
    batch  uuid[];
    after  uuid;
    id     uuid;
BEGIN
    PERFORM pg_catalog.set_config('search_path', 'pg_catalog, pg_temp', true);
    IF p_keep_count IS NULL OR p_sessions_per_transaction IS NULL THEN
        RAISE EXCEPTION 'p_keep_count and p_sessions_per_transaction must not be null'
            USING ERRCODE = 'null_value_not_allowed';
    END IF;
    IF p_keep_count OPERATOR(pg_catalog.<) 1 OR p_sessions_per_transaction OPERATOR(pg_catalog.<) 1 THEN
        RAISE EXCEPTION 'p_keep_count and p_sessions_per_transaction must be at least 1'
            USING ERRCODE = 'invalid_parameter_value', DETAIL = 'The latest snapshot is never deleted.';
    END IF;
    SELECT r.rolsuper OR r.rolbypassrls INTO bypass FROM pg_catalog.pg_roles r
     WHERE r.rolname OPERATOR(pg_catalog.=) CURRENT_USER;
    p_deleted := 0;
    LOOP
        SELECT pg_catalog.array_agg(s.id ORDER BY s.id) INTO batch
          FROM (SELECT f.id FROM @extschema@.free_agent_sessions f
                 WHERE f.snapshot_count OPERATOR(pg_catalog.>) p_keep_count
                   AND (after IS NULL OR f.id OPERATOR(pg_catalog.>) after)
                   AND (bypass OR f.user_id OPERATOR(pg_catalog.=) @extschema@.current_user_id())
                 ORDER BY f.id LIMIT p_sessions_per_transaction) s;
        EXIT WHEN batch IS NULL;
        FOREACH id IN ARRAY batch LOOP
            p_deleted := p_deleted OPERATOR(pg_catalog.+)
                         @extschema@.cleanup_old_snapshots(id, p_keep_count, p_older_than);
        END LOOP;
        after := batch[pg_catalog.array_upper(batch, 1)];
        COMMIT;
        PERFORM pg_catalog.set_config('search_path', 'pg_catalog, pg_temp', true);
    END LOOP;
    PERFORM pg_catalog.set_config('search_path', callers_path, true);
END $$;
COMMENT ON PROCEDURE @extschema@.cleanup_snapshots_in_batches(integer, timestamptz, integer, bigint) IS
    'cleanup_old_snapshots over every session the caller may write, committing every p_sessions_per_transaction sessions';
