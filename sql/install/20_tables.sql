
-- 20_tables: sessions, the snapshot chain and the message history.
--
-- Every unique key includes the session id, so the three tables can be distributed by it
-- and colocated (Citus, sql/install/95_citus.sql).
--
-- No CHECK constraints: PostgreSQL re-reads each CHECK expression from its stored text at
-- every statement that writes the table, a large part of a save's cost (bench/LIMITS.md). The chain
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
    latest_fingerprint      bytea,
    -- retention, user-editable (NULL: session_persist.keep_snapshots / keep_for): a save that
    -- leaves the session more than a quarter (at least 5) over keep_snapshots prunes it back;
    -- keep_for is applied by cleanup_all_snapshots() (added in 1.1, hence last)
    keep_snapshots          integer,
    keep_for                interval
);
-- Hashes do not compress: without this, every save had TOAST try (pglz) on the fingerprint,
-- a quarter of a small save's instructions (bench/lib/profile-save).
ALTER TABLE @extschema@.free_agent_sessions ALTER COLUMN latest_fingerprint SET STORAGE EXTERNAL;
COMMENT ON TABLE @extschema@.free_agent_sessions IS
    'One row per agent session; counters are maintained by session_persist''s functions';

-- Every save rewrites the session row with the new latest_fingerprint (17 bytes a member of
-- the state's large objects, 256 for the messages window: about 2.3 kB for a state whose memory
-- has 110 such members). Past TOAST_TUPLE_THRESHOLD (about 2 kB) PostgreSQL would move it to
-- TOAST, and every save would leave its old chunks there, dead until VACUUM (no read comes
-- back to those pages to prune them). Kept in the row, the new version goes on the old one's
-- page, and pruning reclaims the old one when the page is next read, without VACUUM. (The
-- update is not HOT: a save moves updated_at, which is indexed. Pruning reclaims the old
-- version's bytes all the same; a 4-byte line pointer stays until VACUUM.)
--   toast_tuple_target: the largest row of which an old and a new version fit on one page
--     ((block_size - 24 page header - 2 x 4 line pointers) / 2, rounded down to 8 bytes: 4080
--     for 8 kB pages), so that the update can stay on its page; rows up to it are not
--     touched by TOAST. A larger row could not stay on its page anyway, and TOAST takes the
--     fingerprint (STORAGE EXTERNAL: uncompressed).
--   fillfactor 50: an insert leaves half the page free (4096 bytes, at least one such row),
--     and a read prunes a page whose free space is under the same amount
--     (heap_page_prune_opt: max(block_size * (100 - fillfactor) / 100, block_size / 10)), so
--     dead versions are reclaimed before a new one no longer fits.
DO $$
BEGIN
    EXECUTE pg_catalog.format(
        'ALTER TABLE @extschema@.free_agent_sessions SET (toast_tuple_target = %s, fillfactor = 50)',
        (pg_catalog.current_setting('block_size')::integer - 24 - 2 * 4) / 2 / 8 * 8);
END $$;

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
    id               uuid NOT NULL DEFAULT pg_catalog.gen_random_uuid(),
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
    -- when set, the snapshot's "messages" array is not in state/delta but in the message
    -- history, and this says which rows make it (src/core/message_refs.hpp; added in 1.1,
    -- hence last)
    message_refs     bytea,
    -- the session's visibility, copied (as user_id and organization_id are) so that the read
    -- policy needs no subquery on the sessions table (Citus refuses those); kept in step by
    -- the share_session_visibility trigger (added in 1.1, hence last)
    visibility       @extschema@.session_visibility NOT NULL DEFAULT 'private',
    PRIMARY KEY (session_id, snapshot_number),
    UNIQUE (session_id, id)
);
COMMENT ON TABLE @extschema@.session_snapshot_chain IS
    'Snapshots as keyframes (kind full) and deltas; read them through session_snapshots';

-- the nearest keyframe at or before a snapshot: one probe per restore
CREATE INDEX session_snapshot_chain_keyframe_idx
    ON @extschema@.session_snapshot_chain (session_id, snapshot_number) WHERE kind = 'full';
CREATE INDEX session_snapshot_chain_user_idx ON @extschema@.session_snapshot_chain (user_id);
-- what the read policy tests besides the owner (partial: private rows, most of them, are not
-- indexed, so a save pays nothing for these)
CREATE INDEX session_snapshot_chain_organization_idx
    ON @extschema@.session_snapshot_chain (organization_id, session_id)
    WHERE visibility = 'organization';
CREATE INDEX session_snapshot_chain_public_idx
    ON @extschema@.session_snapshot_chain (visibility, session_id) WHERE visibility = 'public';

CREATE TABLE @extschema@.session_messages (
    id               uuid NOT NULL DEFAULT pg_catalog.gen_random_uuid(),
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
    -- the session's visibility, as in session_snapshot_chain (added in 1.1, hence last)
    visibility       @extschema@.session_visibility NOT NULL DEFAULT 'private',
    PRIMARY KEY (session_id, id),
    UNIQUE (session_id, message_order)
);
COMMENT ON TABLE @extschema@.session_messages IS
    'Append-only message history; written by append_session_messages and create_session_snapshot';
CREATE INDEX session_messages_user_idx ON @extschema@.session_messages (user_id);
CREATE INDEX session_messages_organization_idx
    ON @extschema@.session_messages (organization_id, session_id)
    WHERE visibility = 'organization';
CREATE INDEX session_messages_public_idx
    ON @extschema@.session_messages (visibility, session_id) WHERE visibility = 'public';

SELECT pg_catalog.pg_extension_config_dump('@extschema@.free_agent_sessions', '');
SELECT pg_catalog.pg_extension_config_dump('@extschema@.session_snapshot_chain', '');
SELECT pg_catalog.pg_extension_config_dump('@extschema@.session_messages', '');
