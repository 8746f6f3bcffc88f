-- session_persist 1.0 -> 1.1 (ALTER EXTENSION session_persist UPDATE).
-- Every change made to sql/install/ since 1.0 was released, in the same order.
\echo Use "ALTER EXTENSION session_persist UPDATE TO '1.1'" to load this file. \quit

-- Security (issue 13): identity comes from request.jwt.claims only for the roles in
-- session_persist.jwt_roles; NOTIFY is off by default and carries no user id; every
-- client-supplied value has a size limit. Those live in the library; the catalog changes
-- are the comments below, the pinned search_path of cleanup_snapshots_in_batches and the
-- event trigger that refuses client triggers and foreign keys.
COMMENT ON FUNCTION @extschema@.current_user_id() IS
    'The caller: for a role in session_persist.jwt_roles, the sub claim of request.jwt.claims (NULL: anonymous); for any other role, its name';
COMMENT ON FUNCTION @extschema@.current_organization_id() IS
    'The caller''s organization: for a role in session_persist.jwt_roles, the org_id (or app_metadata.org_id) claim; else session_persist.organization_id';

-- Triggers and foreign keys that clients attached to the tables under 1.0 would run inside
-- the extension's writes as the tables' owner: the update refuses to go on while any exists
-- whose function (or table) belongs to a role without the owner's rights.
DO $$
DECLARE
    found record;
BEGIN
    FOR found IN
        SELECT format('trigger %I on %s', t.tgname, t.tgrelid::regclass) AS what
          FROM pg_catalog.pg_trigger t
          JOIN pg_catalog.pg_proc p ON p.oid = t.tgfoid
          JOIN pg_catalog.pg_class c ON c.oid = t.tgrelid
         WHERE NOT t.tgisinternal
           AND c.oid IN ('@extschema@.free_agent_sessions'::regclass,
                         '@extschema@.session_snapshot_chain'::regclass,
                         '@extschema@.session_messages'::regclass,
                         '@extschema@.session_snapshots'::regclass,
                         '@extschema@.sessions_list'::regclass)
           AND NOT pg_catalog.pg_has_role(p.proowner, c.relowner, 'USAGE')
        UNION ALL
        SELECT format('foreign key %I of %s', k.conname, k.conrelid::regclass)
          FROM pg_catalog.pg_constraint k
          JOIN pg_catalog.pg_class t ON t.oid = k.conrelid
          JOIN pg_catalog.pg_class c ON c.oid = k.confrelid
         WHERE k.contype = 'f'
           AND c.oid IN ('@extschema@.free_agent_sessions'::regclass,
                         '@extschema@.session_snapshot_chain'::regclass,
                         '@extschema@.session_messages'::regclass)
           AND t.relnamespace <> '@extschema@'::regnamespace
           AND NOT pg_catalog.pg_has_role(t.relowner, c.relowner, 'USAGE')
    LOOP
        RAISE EXCEPTION 'session_persist 1.1 refuses clients'' triggers and foreign keys on its tables: % exists', found.what
            USING ERRCODE = 'insufficient_privilege',
                  HINT = 'Drop it (it runs with the tables'' owner''s rights inside cleanup, import and fork), then update again.';
    END LOOP;
END $$;

-- cleanup_snapshots_in_batches pins search_path in each of its transactions (62_cleanup_batches).
CREATE OR REPLACE PROCEDURE @extschema@.cleanup_snapshots_in_batches(
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

-- 90_attachments: no client attaches code or constraints to the extension's relations
-- (SPEC.md, "Identity and access").
--
-- Gateways grant ALL on new tables to their client roles (Supabase's default privileges),
-- which includes TRIGGER and REFERENCES. A client's trigger on these tables would run inside
-- the extension's writes as the tables' owner (cleanup, import, fork), and inside other
-- users' direct INSERTs and UPDATEs as them; a client's foreign key to a session would
-- reveal that a private id exists and stop its owner from deleting it. Revoking the two
-- privileges is not enough (a gateway may grant them again), so this event trigger refuses,
-- at the end of the command, any trigger on the extension's tables and views and any
-- foreign key that references them, unless the role running the command has the rights of
-- their owner. Rules need ownership already.
CREATE FUNCTION @extschema@.refuse_client_attachments() RETURNS event_trigger
    LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    protected oid[];
    found record;
BEGIN
    SELECT array_agg(d.objid) INTO protected
      FROM pg_depend d JOIN pg_extension e ON e.oid = d.refobjid
     WHERE d.refclassid = 'pg_extension'::regclass AND d.classid = 'pg_class'::regclass
       AND d.deptype = 'e' AND e.extname = 'session_persist';
    FOR found IN
        SELECT format('trigger %I on %s', t.tgname, t.tgrelid::regclass) AS what, t.tgrelid AS target
          FROM pg_event_trigger_ddl_commands() c JOIN pg_trigger t ON t.oid = c.objid
         WHERE c.classid = 'pg_trigger'::regclass AND t.tgrelid = ANY (protected)
        UNION ALL
        SELECT format('foreign key %I of %s referencing %s', k.conname, k.conrelid::regclass,
                      k.confrelid::regclass),
               k.confrelid
          FROM pg_event_trigger_ddl_commands() c JOIN pg_constraint k ON k.conrelid = c.objid
         WHERE c.classid = 'pg_class'::regclass AND k.contype = 'f'
           AND k.confrelid = ANY (protected) AND NOT k.conrelid = ANY (protected)
    LOOP
        IF NOT pg_has_role(current_user, (SELECT relowner FROM pg_class WHERE oid = found.target),
                           'USAGE') THEN
            RAISE EXCEPTION '% is refused: % belongs to session_persist', found.what,
                            found.target::regclass
                USING ERRCODE = 'insufficient_privilege',
                      DETAIL = 'Only the owner of session_persist''s tables may attach triggers or '
                               'foreign keys to them: they would run inside other users'' writes.',
                      HINT = 'Keep your own rows in your own tables, keyed by the session id '
                             'without a foreign key; read sessions through the extension''s functions.';
        END IF;
    END LOOP;
END $$;
REVOKE ALL ON FUNCTION @extschema@.refuse_client_attachments() FROM PUBLIC;
CREATE EVENT TRIGGER session_persist_refuse_client_attachments ON ddl_command_end
    WHEN TAG IN ('CREATE TRIGGER', 'CREATE TABLE', 'ALTER TABLE')
    EXECUTE FUNCTION @extschema@.refuse_client_attachments();

-- cleanup_old_snapshots(NULL, ...) no longer means every session (22004): p_session_id loses
-- its default, and the all-sessions form is cleanup_all_snapshots (issue 15).
DROP FUNCTION @extschema@.cleanup_old_snapshots(uuid, integer, timestamptz);
CREATE FUNCTION @extschema@.cleanup_old_snapshots(p_session_id uuid,
                                                  p_keep_count integer DEFAULT 10,
                                                  p_older_than timestamptz DEFAULT NULL)
    RETURNS integer
    AS 'MODULE_PATHNAME', 'sp_cleanup_old_snapshots'
    LANGUAGE C VOLATILE;
COMMENT ON FUNCTION @extschema@.cleanup_old_snapshots(uuid, integer, timestamptz) IS
    'Prunes one session to its newest p_keep_count snapshots (only those older than p_older_than, when given); the latest is never deleted; returns the number deleted';
CREATE FUNCTION @extschema@.cleanup_all_snapshots(p_keep_count integer DEFAULT NULL,
                                                  p_older_than timestamptz DEFAULT NULL)
    RETURNS bigint
    AS 'MODULE_PATHNAME', 'sp_cleanup_all_snapshots'
    LANGUAGE C VOLATILE;
COMMENT ON FUNCTION @extschema@.cleanup_all_snapshots(integer, timestamptz) IS
    'cleanup_old_snapshots for every session the caller may write (sessions locked by another transaction are passed over); returns the number deleted';

-- Retention (issue 20): each session's own keep_snapshots and keep_for, editable by its owner.
ALTER TABLE @extschema@.free_agent_sessions ADD COLUMN keep_snapshots integer, ADD COLUMN keep_for interval;
GRANT UPDATE (keep_snapshots, keep_for) ON @extschema@.free_agent_sessions TO PUBLIC;

-- Messages stored once (issue 14): the chain refers to the history's rows instead of
-- repeating them.
ALTER TABLE @extschema@.session_snapshot_chain ADD COLUMN message_refs bytea;
-- session_snapshots: a keyframe whose messages are by reference is rebuilt like a delta.
CREATE OR REPLACE VIEW @extschema@.session_snapshots WITH (security_invoker = true) AS
SELECT c.id,
       c.session_id,
       c.snapshot_number,
       -- a keyframe whose messages are by reference is rebuilt like a delta
       @extschema@.snapshot_data(c.session_id, c.snapshot_number,
                                 CASE WHEN c.message_refs IS NULL THEN c.state END, c.state_hash)
           AS snapshot_data,
       c.snapshot_size,
       (c.kind = 'delta') AS compression_enabled,
       c.created_at,
       c.kind,
       c.stored_bytes,
       c.metadata
  FROM @extschema@.session_snapshot_chain c;

-- Scale-out (issue 17): every unique key includes the session id; the chain and the messages
-- carry their session's visibility, so no policy needs a subquery; policies call the identity
-- functions directly; distribute_session_persist() distributes the extension on Citus.
ALTER TABLE @extschema@.session_snapshot_chain
    ADD COLUMN visibility @extschema@.session_visibility NOT NULL DEFAULT 'private',
    DROP CONSTRAINT session_snapshot_chain_id_key,
    ADD UNIQUE (session_id, id);
ALTER TABLE @extschema@.session_messages
    ADD COLUMN visibility @extschema@.session_visibility NOT NULL DEFAULT 'private',
    DROP CONSTRAINT session_messages_pkey,
    ADD PRIMARY KEY (session_id, id);
UPDATE @extschema@.session_snapshot_chain c SET visibility = s.visibility
  FROM @extschema@.free_agent_sessions s
 WHERE s.id = c.session_id AND s.visibility <> 'private';
UPDATE @extschema@.session_messages m SET visibility = s.visibility
  FROM @extschema@.free_agent_sessions s
 WHERE s.id = m.session_id AND s.visibility <> 'private';
-- what the read policy tests besides the owner (partial: private rows, most of them, are not
-- indexed, so a save pays nothing for these)
CREATE INDEX session_snapshot_chain_organization_idx
    ON @extschema@.session_snapshot_chain (organization_id, session_id)
    WHERE visibility = 'organization';
CREATE INDEX session_snapshot_chain_public_idx
    ON @extschema@.session_snapshot_chain (visibility, session_id) WHERE visibility = 'public';
CREATE INDEX session_messages_organization_idx
    ON @extschema@.session_messages (organization_id, session_id)
    WHERE visibility = 'organization';
CREATE INDEX session_messages_public_idx
    ON @extschema@.session_messages (visibility, session_id) WHERE visibility = 'public';
ALTER POLICY sessions_read ON @extschema@.free_agent_sessions
    USING (user_id = @extschema@.current_user_id()
           OR visibility = 'public'
           OR (visibility = 'organization'
               AND organization_id = @extschema@.current_organization_id()));
ALTER POLICY sessions_insert ON @extschema@.free_agent_sessions
    WITH CHECK (user_id = @extschema@.current_user_id()
                AND (organization_id IS NULL
                     OR organization_id = @extschema@.current_organization_id()));
ALTER POLICY sessions_update ON @extschema@.free_agent_sessions
    USING (user_id = @extschema@.current_user_id())
    WITH CHECK (user_id = @extschema@.current_user_id());
ALTER POLICY sessions_delete ON @extschema@.free_agent_sessions
    USING (user_id = @extschema@.current_user_id());
ALTER POLICY chain_read ON @extschema@.session_snapshot_chain
    USING (user_id = @extschema@.current_user_id()
           OR visibility = 'public'
           OR (visibility = 'organization'
               AND organization_id = @extschema@.current_organization_id()));
ALTER POLICY messages_read ON @extschema@.session_messages
    USING (user_id = @extschema@.current_user_id()
           OR visibility = 'public'
           OR (visibility = 'organization'
               AND organization_id = @extschema@.current_organization_id()));
CREATE FUNCTION @extschema@.share_session_visibility() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    UPDATE @extschema@.session_snapshot_chain SET visibility = NEW.visibility
     WHERE session_id = NEW.id;
    UPDATE @extschema@.session_messages SET visibility = NEW.visibility
     WHERE session_id = NEW.id;
    RETURN NULL;
END $$;
REVOKE ALL ON FUNCTION @extschema@.share_session_visibility() FROM PUBLIC;
CREATE TRIGGER share_session_visibility
    AFTER UPDATE OF visibility ON @extschema@.free_agent_sessions
    FOR EACH ROW WHEN (OLD.visibility IS DISTINCT FROM NEW.visibility)
    EXECUTE FUNCTION @extschema@.share_session_visibility();

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

-- storage_report in PL/pgSQL: Citus cannot plan a SQL function's parameters.
CREATE OR REPLACE FUNCTION @extschema@.storage_report(p_user_id text DEFAULT NULL)
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

-- The session row keeps its fingerprint in two parts (fingerprint format 5 and its patch).
ALTER TABLE @extschema@.free_agent_sessions ADD COLUMN latest_fingerprint_patch bytea;
-- Every save rewrites the session row. What a save must compare the next state with is its
-- fingerprint (17 bytes a member of the state's large objects, 256 for the messages window:
-- about 2.3 kB for a state whose memory has 110 such members), so it is kept in two parts
-- (src/core/fingerprint.hpp): the base, written again only when the patch outgrows a quarter
-- of it, and the patch, the members that changed since and the bookkeeping, rewritten at
-- every save. An old row version stays on its page until no running transaction can see it
-- (the update is not HOT: updated_at is indexed), and while a page still holds it the next
-- version needs room elsewhere: the smaller the row, the more versions a page takes before a
-- save has to move the row to another page (whose room the row writer offers to later rows
-- once the old versions are dead: src/storage/row_writer.hpp).
--   latest_fingerprint: STORAGE EXTERNAL (hashes do not compress: TOAST would try pglz at every
--     save); toast_tuple_target 1024 (an eighth of the page): a base that makes the row larger
--     goes to TOAST, where a save that keeps it writes nothing (the row keeps its pointer).
--   latest_fingerprint_patch: STORAGE PLAIN, in the row, never compressed (at most about
--     1.3 kB: fingerprint.hpp, storage_plan.cpp).
--   fillfactor 50: an insert leaves half the page free for the row's next versions, and a read
--     prunes a page whose free space is under the same amount (heap_page_prune_opt:
--     max(block_size * (100 - fillfactor) / 100, block_size / 10)).
ALTER TABLE @extschema@.free_agent_sessions ALTER COLUMN latest_fingerprint SET STORAGE EXTERNAL;
ALTER TABLE @extschema@.free_agent_sessions ALTER COLUMN latest_fingerprint_patch SET STORAGE PLAIN;
DO $$
BEGIN
    EXECUTE pg_catalog.format(
        'ALTER TABLE @extschema@.free_agent_sessions SET (toast_tuple_target = %s, fillfactor = 50)',
        pg_catalog.current_setting('block_size')::integer / 8);
END $$;

-- A message's content is compressed by the row writer (lz4, src/storage/row_writer.cpp) and
-- stays in its row up to a whole page (toast_tuple_target: the most the page takes): under the
-- default target TOAST moves every row past 2 kB (a reply or a tool result compressed) to
-- chunks in its own table, each chunk with a row header and an index entry, the row with a
-- pointer, and a restore fetches them through the TOAST index. A message larger than a page
-- compressed still goes to TOAST.
DO $$
BEGIN
    EXECUTE pg_catalog.format('ALTER TABLE @extschema@.session_messages SET (toast_tuple_target = %s)',
                              pg_catalog.current_setting('block_size')::integer - 32);
END $$;
