-- session_persist 1.0 install script, assembled by the Makefile from sql/install/*.sql.
\echo Use "CREATE EXTENSION session_persist" to load this file. \quit

-- 00_types: the enums of SPEC.md's data model.

CREATE TYPE @extschema@.session_status AS ENUM ('active', 'paused', 'completed', 'error', 'archived');
CREATE TYPE @extschema@.session_visibility AS ENUM ('private', 'organization', 'public');

-- 10_identity: who the caller is (SPEC.md, "Identity and access").

CREATE FUNCTION @extschema@.current_user_id() RETURNS text
    AS 'MODULE_PATHNAME', 'sp_current_user_id'
    LANGUAGE C STABLE PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.current_user_id() IS
    'The caller: the sub claim of request.jwt.claims (NULL for an anonymous JWT), else the database role';

CREATE FUNCTION @extschema@.current_organization_id() RETURNS text
    AS 'MODULE_PATHNAME', 'sp_current_organization_id'
    LANGUAGE C STABLE PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.current_organization_id() IS
    'The caller''s organization: the org_id (or app_metadata.org_id) claim, else session_persist.organization_id';

-- 20_tables: sessions, the snapshot chain and the message history.
--
-- No CHECK constraints: PostgreSQL re-reads each CHECK expression from its stored text at
-- every statement that writes the table, which was 11% of a save's instructions. The chain
-- and the messages are written only by the extension's functions, which validate what they
-- write (and verify_session checks it); the session columns a client writes directly are
-- checked by the guard_session_row trigger (30_access).

CREATE TABLE @extschema@.free_agent_sessions (
    id                      uuid PRIMARY KEY DEFAULT pg_catalog.gen_random_uuid(),
    user_id                 text NOT NULL DEFAULT @extschema@.current_user_id(),
    organization_id         text DEFAULT @extschema@.current_organization_id(),
    name                    text NOT NULL,              -- 1 to 200 characters
    description             text,
    model                   text,
    status                  @extschema@.session_status NOT NULL DEFAULT 'active',
    current_state           text,
    visibility              @extschema@.session_visibility NOT NULL DEFAULT 'private',
    memory_summary          jsonb,
    metadata                jsonb NOT NULL DEFAULT '{}', -- a JSON object
    created_at              timestamptz NOT NULL DEFAULT pg_catalog.now(),
    updated_at              timestamptz NOT NULL DEFAULT pg_catalog.now(),
    completed_at            timestamptz,
    -- maintained only by the extension's functions (see the session row guard trigger)
    snapshot_count          integer NOT NULL DEFAULT 0,
    latest_snapshot_number  integer NOT NULL DEFAULT 0,
    last_snapshot_at        timestamptz,
    latest_snapshot_size    bigint NOT NULL DEFAULT 0,
    total_snapshot_size     bigint NOT NULL DEFAULT 0,
    stored_bytes            bigint NOT NULL DEFAULT 0,
    message_count           integer NOT NULL DEFAULT 0,
    last_message_at         timestamptz,
    -- what a save compares the new state with, so it never rebuilds the previous one: the
    -- latest state's hash (change detection) and its fingerprint (member hashes for the
    -- delta, keyframe bookkeeping, the messages mark; see src/core/fingerprint.hpp)
    latest_state_hash       bytea,
    latest_fingerprint      bytea
);
COMMENT ON TABLE @extschema@.free_agent_sessions IS
    'One row per agent session; counters are maintained by session_persist''s functions';

-- a user's sessions, newest first (sessions_list)
CREATE INDEX free_agent_sessions_user_updated_idx
    ON @extschema@.free_agent_sessions (user_id, updated_at DESC);
CREATE INDEX free_agent_sessions_organization_idx
    ON @extschema@.free_agent_sessions (organization_id, updated_at DESC)
    WHERE visibility = 'organization';
CREATE INDEX free_agent_sessions_public_idx
    ON @extschema@.free_agent_sessions (visibility, updated_at DESC)
    WHERE visibility = 'public';

CREATE TABLE @extschema@.session_snapshot_chain (
    session_id       uuid NOT NULL REFERENCES @extschema@.free_agent_sessions (id) ON DELETE CASCADE,
    snapshot_number  integer NOT NULL,                 -- 1, 2, 3 ...
    id               uuid NOT NULL UNIQUE DEFAULT pg_catalog.gen_random_uuid(),
    user_id          text NOT NULL,
    organization_id  text,
    created_at       timestamptz NOT NULL DEFAULT pg_catalog.now(),
    snapshot_size    bigint NOT NULL,
    stored_bytes     bigint NOT NULL,
    kind             text NOT NULL,                    -- 'full' or 'delta'
    base_number      integer,                          -- for a delta: the snapshot it applies to
    state            jsonb,                            -- set when kind = 'full'
    delta            jsonb,                            -- set when kind = 'delta'
    state_hash       bytea NOT NULL,
    metadata         jsonb NOT NULL DEFAULT '{}',
    PRIMARY KEY (session_id, snapshot_number)
);
COMMENT ON TABLE @extschema@.session_snapshot_chain IS
    'Snapshots as keyframes (kind full) and deltas; read them through session_snapshots';

-- the nearest keyframe at or before a snapshot: one probe per restore
CREATE INDEX session_snapshot_chain_keyframe_idx
    ON @extschema@.session_snapshot_chain (session_id, snapshot_number) WHERE kind = 'full';
CREATE INDEX session_snapshot_chain_user_idx ON @extschema@.session_snapshot_chain (user_id);

CREATE TABLE @extschema@.session_messages (
    id               uuid PRIMARY KEY DEFAULT pg_catalog.gen_random_uuid(),
    session_id       uuid NOT NULL REFERENCES @extschema@.free_agent_sessions (id) ON DELETE CASCADE,
    message_order    integer NOT NULL,                 -- 1, 2, 3 ...
    user_id          text NOT NULL,
    organization_id  text,
    role             text NOT NULL,                    -- system, user, assistant or tool
    content          text NOT NULL,
    metadata         jsonb NOT NULL DEFAULT '{}',
    created_at       timestamptz NOT NULL DEFAULT pg_catalog.now(),
    -- The first snapshot whose history includes the message: the snapshot whose save synced
    -- it, or for a message appended directly, the next snapshot saved after it. fork_session
    -- (s, k) copies the messages with first_snapshot_number <= k. Snapshot and message
    -- numbers are both assigned under the session's row lock, so this is exact where
    -- created_at (the transaction's start time) would not be.
    first_snapshot_number integer NOT NULL,
    UNIQUE (session_id, message_order)
);
COMMENT ON TABLE @extschema@.session_messages IS
    'Append-only message history; written by append_session_messages and create_session_snapshot';
CREATE INDEX session_messages_user_idx ON @extschema@.session_messages (user_id);

SELECT pg_catalog.pg_extension_config_dump('@extschema@.free_agent_sessions', '');
SELECT pg_catalog.pg_extension_config_dump('@extschema@.session_snapshot_chain', '');
SELECT pg_catalog.pg_extension_config_dump('@extschema@.session_messages', '');

-- 30_access: row-level security, grants and the session row guard (SPEC.md, "Identity and
-- access"). Policies call the identity functions as (SELECT ...) so they run once per
-- statement, as SPEC.md requires. (Calling them directly would spare a save's one-row lock
-- its init-plans, 16k of a small save's 490k instructions, at a call per row everywhere
-- else; measured, and not done.) The chain and the messages have SELECT policies only: no
-- client can insert, update or delete them directly, whatever it was granted. The
-- extension's functions check ownership as the caller, then write those rows as the
-- tables' owner.

ALTER TABLE @extschema@.free_agent_sessions ENABLE ROW LEVEL SECURITY;
ALTER TABLE @extschema@.session_snapshot_chain ENABLE ROW LEVEL SECURITY;
ALTER TABLE @extschema@.session_messages ENABLE ROW LEVEL SECURITY;

CREATE POLICY sessions_read ON @extschema@.free_agent_sessions FOR SELECT
    USING (user_id = (SELECT @extschema@.current_user_id())
           OR visibility = 'public'
           OR (visibility = 'organization'
               AND organization_id = (SELECT @extschema@.current_organization_id())));
CREATE POLICY sessions_insert ON @extschema@.free_agent_sessions FOR INSERT
    WITH CHECK (user_id = (SELECT @extschema@.current_user_id())
                AND (organization_id IS NULL
                     OR organization_id = (SELECT @extschema@.current_organization_id())));
CREATE POLICY sessions_update ON @extschema@.free_agent_sessions FOR UPDATE
    USING (user_id = (SELECT @extschema@.current_user_id()))
    WITH CHECK (user_id = (SELECT @extschema@.current_user_id()));
CREATE POLICY sessions_delete ON @extschema@.free_agent_sessions FOR DELETE
    USING (user_id = (SELECT @extschema@.current_user_id()));

-- A snapshot or message is readable when its session is (the EXISTS runs the sessions
-- policy above); the owner's own rows are found without it.
CREATE POLICY chain_read ON @extschema@.session_snapshot_chain FOR SELECT
    USING (user_id = (SELECT @extschema@.current_user_id())
           OR EXISTS (SELECT 1 FROM @extschema@.free_agent_sessions s
                       WHERE s.id = session_id AND s.visibility <> 'private'));
CREATE POLICY messages_read ON @extschema@.session_messages FOR SELECT
    USING (user_id = (SELECT @extschema@.current_user_id())
           OR EXISTS (SELECT 1 FROM @extschema@.free_agent_sessions s
                       WHERE s.id = session_id AND s.visibility <> 'private'));

GRANT SELECT ON @extschema@.free_agent_sessions, @extschema@.session_snapshot_chain,
                @extschema@.session_messages TO PUBLIC;
GRANT INSERT, DELETE ON @extschema@.free_agent_sessions TO PUBLIC;
GRANT UPDATE (name, description, model, status, current_state, visibility, memory_summary,
              metadata, completed_at)
    ON @extschema@.free_agent_sessions TO PUBLIC;

CREATE FUNCTION @extschema@.guard_session_row() RETURNS trigger
    AS 'MODULE_PATHNAME', 'sp_guard_session_row'
    LANGUAGE C;
REVOKE ALL ON FUNCTION @extschema@.guard_session_row() FROM PUBLIC;
CREATE TRIGGER guard_session_row
    BEFORE INSERT OR UPDATE ON @extschema@.free_agent_sessions
    FOR EACH ROW EXECUTE FUNCTION @extschema@.guard_session_row();

-- Row-level security does not cover TRUNCATE, and gateways grant ALL on new tables (Supabase's
-- default privileges): a client could empty every user's chain. Only roles that own the
-- tables (or superusers) may truncate them.
CREATE FUNCTION @extschema@.refuse_client_truncate() RETURNS trigger
    LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    IF NOT pg_has_role(current_user, (SELECT relowner FROM pg_class WHERE oid = TG_RELID), 'USAGE') THEN
        RAISE EXCEPTION 'TRUNCATE of %.% is refused', TG_TABLE_SCHEMA, TG_TABLE_NAME
            USING ERRCODE = 'insufficient_privilege',
                  DETAIL = 'Row-level security does not apply to TRUNCATE, so only the tables'' owner may use it.',
                  HINT = 'Delete your sessions (their snapshots and messages go with them), or prune with cleanup_old_snapshots.';
    END IF;
    RETURN NULL;
END $$;
REVOKE ALL ON FUNCTION @extschema@.refuse_client_truncate() FROM PUBLIC;
CREATE TRIGGER refuse_client_truncate BEFORE TRUNCATE ON @extschema@.free_agent_sessions
    FOR EACH STATEMENT EXECUTE FUNCTION @extschema@.refuse_client_truncate();
CREATE TRIGGER refuse_client_truncate BEFORE TRUNCATE ON @extschema@.session_snapshot_chain
    FOR EACH STATEMENT EXECUTE FUNCTION @extschema@.refuse_client_truncate();
CREATE TRIGGER refuse_client_truncate BEFORE TRUNCATE ON @extschema@.session_messages
    FOR EACH STATEMENT EXECUTE FUNCTION @extschema@.refuse_client_truncate();

-- 40_views: the seed's read paths. Both run as the querying user (security_invoker).

-- Reconstructs one snapshot for the session_snapshots view (expensive: evaluated only for
-- the rows and columns a query reads, after ORDER BY/LIMIT).
CREATE FUNCTION @extschema@.snapshot_data(p_session_id uuid, p_snapshot_number integer,
                                          p_state jsonb, p_state_hash bytea)
    RETURNS jsonb
    AS 'MODULE_PATHNAME', 'sp_snapshot_data'
    LANGUAGE C STABLE COST 10000;

CREATE VIEW @extschema@.session_snapshots WITH (security_invoker = true) AS
SELECT c.id,
       c.session_id,
       c.snapshot_number,
       @extschema@.snapshot_data(c.session_id, c.snapshot_number, c.state, c.state_hash)
           AS snapshot_data,
       c.snapshot_size,
       (c.kind = 'delta') AS compression_enabled,
       c.created_at,
       c.kind,
       c.stored_bytes,
       c.metadata
  FROM @extschema@.session_snapshot_chain c;

CREATE VIEW @extschema@.sessions_list WITH (security_invoker = true) AS
SELECT s.id, s.user_id, s.organization_id, s.name, s.description, s.status, s.model,
       s.current_state, s.snapshot_count, s.last_snapshot_at, s.created_at, s.updated_at,
       s.message_count, s.last_message_at, s.visibility, s.latest_snapshot_number,
       s.latest_snapshot_size, s.total_snapshot_size, s.stored_bytes
  FROM @extschema@.free_agent_sessions s;

GRANT SELECT ON @extschema@.session_snapshots, @extschema@.sessions_list TO PUBLIC;

-- 50_sessions: creating and summarising sessions.

CREATE FUNCTION @extschema@.create_session(p_name text, p_model text DEFAULT NULL,
                                           p_description text DEFAULT NULL,
                                           p_metadata jsonb DEFAULT NULL,
                                           p_visibility text DEFAULT 'private')
    RETURNS @extschema@.free_agent_sessions
    AS 'MODULE_PATHNAME', 'sp_create_session'
    LANGUAGE C VOLATILE;

CREATE FUNCTION @extschema@.get_session_summary(p_session_id uuid)
    RETURNS TABLE (session_id uuid, name text, status text, model text, visibility text,
                   snapshot_count integer, latest_snapshot_number integer,
                   last_snapshot_at timestamptz, latest_snapshot_size bigint,
                   total_snapshot_size bigint, stored_bytes bigint, message_count integer,
                   last_message_at timestamptz, created_at timestamptz, updated_at timestamptz)
    AS 'MODULE_PATHNAME', 'sp_get_session_summary'
    LANGUAGE C STABLE ROWS 1;

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

-- 62_cleanup_batches: pruning every session in transactions of a bounded size.
-- cleanup_old_snapshots(NULL, ...) prunes all the caller's sessions in one transaction, so
-- each pruned session stays locked (saves to it wait) until that transaction ends. For
-- large jobs (a nightly pg_cron run over millions of snapshots) this procedure commits
-- after every p_sessions_per_transaction sessions, so no session is locked for long.
-- (No SET search_path: a procedure with one cannot COMMIT; every name is qualified.)
CREATE PROCEDURE @extschema@.cleanup_snapshots_in_batches(
        p_keep_count integer DEFAULT 10, p_older_than timestamptz DEFAULT NULL,
        p_sessions_per_transaction integer DEFAULT 100, INOUT p_deleted bigint DEFAULT 0)
    LANGUAGE plpgsql
AS $$
DECLARE
    bypass boolean;
    batch  uuid[];
    after  uuid;
    id     uuid;
BEGIN
    IF p_keep_count IS NULL OR p_sessions_per_transaction IS NULL THEN
        RAISE EXCEPTION 'p_keep_count and p_sessions_per_transaction must not be null'
            USING ERRCODE = 'null_value_not_allowed';
    END IF;
    IF p_keep_count < 1 OR p_sessions_per_transaction < 1 THEN
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
    END LOOP;
END $$;
COMMENT ON PROCEDURE @extschema@.cleanup_snapshots_in_batches(integer, timestamptz, integer, bigint) IS
    'cleanup_old_snapshots over every session the caller may write, committing every p_sessions_per_transaction sessions';

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

-- 68_verify: verify_session finds what is wrong with a session's chain, hashes and counters.
-- It reads as the caller (RLS applies) and changes nothing; no rows means healthy.

CREATE FUNCTION @extschema@.verify_session(p_session_id uuid)
    RETURNS TABLE (snapshot_number integer, problem text)
    LANGUAGE plpgsql STABLE
    SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    s           @extschema@.free_agent_sessions;
    link        record;
    previous    integer := NULL;
    first       boolean := true;
    counted     record;
    latest      record;
    messages    record;
BEGIN
    IF p_session_id IS NULL THEN
        RAISE EXCEPTION 'p_session_id must not be null' USING ERRCODE = 'null_value_not_allowed';
    END IF;
    SELECT * INTO s FROM @extschema@.free_agent_sessions WHERE id = p_session_id;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'session % not found', p_session_id
            USING ERRCODE = CASE WHEN current_setting('session_persist.http_status_codes', true) = 'on'
                                 THEN 'PT404' ELSE 'P0002' END,
                  DETAIL = 'It does not exist or is not visible to the current user.';
    END IF;

    -- The chain: starts at a keyframe, every delta applies to the snapshot before it, and
    -- every snapshot restores to a state with its stored hash.
    FOR link IN SELECT c.snapshot_number, c.kind, c.base_number
                  FROM @extschema@.session_snapshot_chain c
                 WHERE c.session_id = p_session_id ORDER BY c.snapshot_number
    LOOP
        IF first AND link.kind <> 'full' THEN
            snapshot_number := link.snapshot_number;
            problem := 'the oldest snapshot is a delta whose base is gone';
            RETURN NEXT;
        ELSIF link.kind = 'delta' AND link.base_number IS DISTINCT FROM previous THEN
            snapshot_number := link.snapshot_number;
            problem := format('delta against snapshot %s, but the snapshot before it is %s',
                              link.base_number, coalesce(previous::text, 'none'));
            RETURN NEXT;
        END IF;
        BEGIN
            PERFORM @extschema@.get_snapshot(p_session_id, link.snapshot_number);
        EXCEPTION WHEN data_corrupted OR invalid_parameter_value THEN
            snapshot_number := link.snapshot_number;
            problem := 'does not restore: ' || SQLERRM;
            RETURN NEXT;
        END;
        previous := link.snapshot_number;
        first := false;
    END LOOP;

    -- The counters against the rows they count.
    SELECT count(*)::integer AS n, coalesce(max(c.snapshot_number), 0) AS latest,
           coalesce(sum(c.snapshot_size), 0)::bigint AS size,
           coalesce(sum(c.stored_bytes), 0)::bigint AS stored
      INTO counted
      FROM @extschema@.session_snapshot_chain c WHERE c.session_id = p_session_id;
    snapshot_number := NULL;
    IF s.snapshot_count <> counted.n THEN
        problem := format('snapshot_count is %s but %s snapshots exist', s.snapshot_count, counted.n);
        RETURN NEXT;
    END IF;
    IF s.latest_snapshot_number <> counted.latest THEN
        problem := format('latest_snapshot_number is %s but the latest snapshot is %s',
                          s.latest_snapshot_number, counted.latest);
        RETURN NEXT;
    END IF;
    IF s.total_snapshot_size <> counted.size THEN
        problem := format('total_snapshot_size is %s but the snapshots add up to %s',
                          s.total_snapshot_size, counted.size);
        RETURN NEXT;
    END IF;
    IF s.stored_bytes <> counted.stored THEN
        problem := format('stored_bytes is %s but the snapshots store %s', s.stored_bytes, counted.stored);
        RETURN NEXT;
    END IF;

    -- The latest snapshot's hash, size and time, copied to the session row by every save.
    SELECT c.state_hash, c.snapshot_size, c.created_at INTO latest
      FROM @extschema@.session_snapshot_chain c
     WHERE c.session_id = p_session_id AND c.snapshot_number = counted.latest;
    IF counted.n > 0 AND s.latest_state_hash IS DISTINCT FROM latest.state_hash THEN
        problem := 'latest_state_hash is not the hash of the latest snapshot';
        RETURN NEXT;
    END IF;
    IF s.latest_snapshot_size <> coalesce(latest.snapshot_size, 0) THEN
        problem := format('latest_snapshot_size is %s but the latest snapshot is %s bytes',
                          s.latest_snapshot_size, coalesce(latest.snapshot_size, 0));
        RETURN NEXT;
    END IF;
    IF s.last_snapshot_at IS DISTINCT FROM latest.created_at THEN
        problem := CASE WHEN counted.n = 0
                        THEN format('last_snapshot_at is %s but the session has no snapshots',
                                    s.last_snapshot_at)
                        ELSE format('last_snapshot_at is %s but the latest snapshot was saved at %s',
                                    coalesce(s.last_snapshot_at::text, 'NULL'), latest.created_at)
                   END;
        RETURN NEXT;
    END IF;

    -- The message history: numbered 1..n without gaps, counted exactly.
    SELECT count(*)::integer AS n, coalesce(max(m.message_order), 0) AS last_order,
           max(m.created_at) AS last_at
      INTO messages
      FROM @extschema@.session_messages m WHERE m.session_id = p_session_id;
    IF s.message_count <> messages.n THEN
        problem := format('message_count is %s but %s messages exist', s.message_count, messages.n);
        RETURN NEXT;
    END IF;
    IF s.last_message_at IS DISTINCT FROM messages.last_at THEN
        problem := CASE WHEN messages.n = 0
                        THEN format('last_message_at is %s but the session has no messages',
                                    s.last_message_at)
                        ELSE format('last_message_at is %s but the newest message was added at %s',
                                    coalesce(s.last_message_at::text, 'NULL'), messages.last_at)
                   END;
        RETURN NEXT;
    END IF;
    IF messages.last_order <> messages.n THEN
        problem := format('message_order runs to %s over %s messages', messages.last_order, messages.n);
        RETURN NEXT;
    END IF;
END $$;
COMMENT ON FUNCTION @extschema@.verify_session(uuid) IS
    'The problems found in a session''s chain, hashes and counters; no rows when healthy';

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
CREATE FUNCTION @extschema@.storage_report(p_user_id text DEFAULT NULL)
    RETURNS TABLE (user_id text, sessions bigint, snapshots bigint, logical_bytes numeric,
                   stored_bytes numeric, stored_ratio numeric,
                   snapshot_sizes @extschema@.size_stats_result)
    LANGUAGE sql STABLE PARALLEL SAFE
    SET search_path = pg_catalog, pg_temp
AS $$
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
     ORDER BY u.user_id
$$;
COMMENT ON FUNCTION @extschema@.storage_report(text) IS
    'Per user (or one user): sessions, snapshots, logical and stored bytes, stored/logical ratio and snapshot size statistics, over the rows the caller may see';

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

-- 85_lifecycle: moving sessions around (export, import, fork) and telling listeners.

CREATE FUNCTION @extschema@.export_session(p_session_id uuid) RETURNS jsonb
    AS 'MODULE_PATHNAME', 'sp_export_session'
    LANGUAGE C STABLE;
COMMENT ON FUNCTION @extschema@.export_session(uuid) IS
    'The session as one JSON document (format session_persist.export, version 1): its editable fields, messages and latest state';

CREATE FUNCTION @extschema@.import_session(p_document jsonb) RETURNS uuid
    AS 'MODULE_PATHNAME', 'sp_import_session'
    LANGUAGE C VOLATILE;
COMMENT ON FUNCTION @extschema@.import_session(jsonb) IS
    'A new session owned by the caller from an export_session document; returns its id';

CREATE FUNCTION @extschema@.fork_session(p_session_id uuid, p_snapshot_number integer DEFAULT NULL,
                                         p_name text DEFAULT NULL) RETURNS uuid
    AS 'MODULE_PATHNAME', 'sp_fork_session'
    LANGUAGE C VOLATILE;
COMMENT ON FUNCTION @extschema@.fork_session(uuid, integer, text) IS
    'A new session of the caller''s starting from snapshot p_snapshot_number (NULL: the latest) of a readable session, with the messages up to it; returns its id';

-- NOTIFY session_persist {"session_id", "user_id", "event":"delete"} when a session is
-- deleted (at commit; session_persist.notify switches it off).
CREATE FUNCTION @extschema@.notify_session_deleted() RETURNS trigger
    AS 'MODULE_PATHNAME', 'sp_notify_session_deleted'
    LANGUAGE C;
REVOKE ALL ON FUNCTION @extschema@.notify_session_deleted() FROM PUBLIC;
CREATE TRIGGER notify_session_deleted
    AFTER DELETE ON @extschema@.free_agent_sessions
    FOR EACH ROW EXECUTE FUNCTION @extschema@.notify_session_deleted();
