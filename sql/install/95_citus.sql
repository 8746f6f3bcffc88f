
-- 95_citus: the one command that distributes an installed extension on a Citus cluster
-- (SPEC.md, "Scale-out"; README, "Scale-out (Citus)"). Run it once on the coordinator, as
-- the tables' owner, after CREATE EXTENSION: SELECT distribute_session_persist();
--
-- The three tables are distributed by session id and colocated; the functions that work
-- on one session are delegated by their p_session_id to the node that holds it, also inside
-- transaction blocks (force_delegation), so their rows are written there into the local
-- shards. Cross-session functions (cleanup_all_snapshots, storage_report, fork_session,
-- import_session, create_session) and the views run on the coordinator. Running it again
-- does nothing more.
CREATE FUNCTION @extschema@.distribute_session_persist(p_shard_count integer DEFAULT NULL)
    RETURNS text
    LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    tables text[] := ARRAY['free_agent_sessions', 'session_snapshot_chain', 'session_messages'];
    columns text[] := ARRAY['id', 'session_id', 'session_id'];
    per_session text[] := ARRAY[
        'create_session_snapshot(uuid, jsonb, integer, jsonb, boolean)',
        'get_latest_snapshot(uuid)',
        'get_snapshot(uuid, integer)',
        'cleanup_old_snapshots(uuid, integer, timestamptz)',
        'append_session_messages(uuid, jsonb)',
        'get_session_messages(uuid, integer, integer)',
        'get_session_summary(uuid)',
        'export_session(uuid)',
        'verify_session(uuid)'];
    schema_name text := (SELECT quote_ident(n.nspname) FROM pg_extension e
                           JOIN pg_namespace n ON n.oid = e.extnamespace
                          WHERE e.extname = 'session_persist');
    sessions regclass := '@extschema@.free_agent_sessions'::regclass;
    copied regclass[] := '{}';
    had_rows boolean;
    i integer;
    f text;
BEGIN
    IF NOT EXISTS (SELECT FROM pg_extension WHERE extname = 'citus') THEN
        RAISE EXCEPTION 'distribute_session_persist() needs the citus extension'
            USING ERRCODE = 'feature_not_supported',
                  HINT = 'Run CREATE EXTENSION citus on every node and add the workers first.';
    END IF;
    -- The library must be loaded before Citus plans a statement: it refuses NULL session
    -- ids before Citus' delegation sees them, and hands JWT claims on to the workers.
    IF NOT EXISTS (SELECT FROM unnest(string_to_array(current_setting('shared_preload_libraries'), ',')) l
                    WHERE btrim(l, ' "') ~ '(^|/)session_persist(\.so)?$') THEN
        RAISE EXCEPTION 'session_persist must be in shared_preload_libraries on a Citus cluster'
            USING ERRCODE = 'object_not_in_prerequisite_state',
                  DETAIL = 'It checks calls before Citus delegates them, and passes JWT claims on to the workers.',
                  HINT = 'Set shared_preload_libraries = ''citus,session_persist'' on every node and restart them.';
    END IF;
    -- The tables have triggers (the row guard, the visibility copy, delete notifications),
    -- which Citus runs on the shards only with this setting.
    PERFORM set_config('citus.enable_unsafe_triggers', 'on', true);
    -- Function commands (ALTER FUNCTION below) must follow the shards' creation over the
    -- same connection per node.
    PERFORM set_config('citus.multi_shard_modify_mode', 'sequential', true);
    FOR i IN 1 .. array_length(tables, 1) LOOP
        IF NOT EXISTS (SELECT FROM pg_dist_partition
                        WHERE logicalrelid = (schema_name || '.' || tables[i])::regclass) THEN
            EXECUTE format('SELECT EXISTS (SELECT FROM %s.%I)', schema_name, tables[i]) INTO had_rows;
            IF had_rows THEN
                copied := copied || (schema_name || '.' || tables[i])::regclass;
            END IF;
            IF i = 1 THEN
                PERFORM create_distributed_table(schema_name || '.' || tables[i], columns[i],
                                                 shard_count => coalesce(p_shard_count,
                                                     current_setting('citus.shard_count')::integer));
            ELSE
                PERFORM create_distributed_table(schema_name || '.' || tables[i], columns[i],
                                                 colocate_with => sessions::text);
            END IF;
        END IF;
    END LOOP;
    -- Rows that existed were copied into the shards; the coordinator's copies, no longer
    -- visible, would only take space (the messages and the chain first: foreign keys).
    FOR i IN REVERSE coalesce(array_length(copied, 1), 0) .. 1 LOOP
        PERFORM truncate_local_data_after_distributing_table(copied[i]);
    END LOOP;
    -- They also run inside Citus' query on a shard when a statement calls them over the
    -- tables (SELECT get_latest_snapshot(id) FROM sessions_list ...); their own queries then
    -- read and write that session, on the same node, which Citus allows only with this.
    FOREACH f IN ARRAY per_session LOOP
        PERFORM create_distributed_function((schema_name || '.' || f)::regprocedure, 'p_session_id',
                                            colocate_with => sessions::text,
                                            force_delegation => true);
        EXECUTE format('ALTER FUNCTION %s.%s SET citus.allow_nested_distributed_execution = on',
                       schema_name, f);
    END LOOP;
    -- The visibility copy runs inside the shard update of a session, on the worker, and
    -- writes the colocated shards of the chain and the messages through their tables.
    EXECUTE format('ALTER FUNCTION %s.share_session_visibility() '
                   'SET citus.allow_nested_distributed_execution = on', schema_name);
    RETURN format('session_persist is distributed: %s shards per table on %s workers',
                  (SELECT count(*) FROM pg_dist_shard WHERE logicalrelid = sessions),
                  (SELECT count(*) FROM pg_dist_node WHERE noderole = 'primary' AND isactive
                      AND shouldhaveshards AND groupid <> 0));
END $$;
REVOKE ALL ON FUNCTION @extschema@.distribute_session_persist(integer) FROM PUBLIC;
COMMENT ON FUNCTION @extschema@.distribute_session_persist(integer) IS
    'Distributes session_persist''s tables by session id on a Citus cluster and delegates its per-session functions (run once on the coordinator)';
