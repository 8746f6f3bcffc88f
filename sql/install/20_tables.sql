
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
    keep_for                interval,
    -- the latest fingerprint's patch against latest_fingerprint, its base (see below; added
    -- in 1.1, hence last)
    latest_fingerprint_patch bytea
);
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
COMMENT ON TABLE @extschema@.free_agent_sessions IS
    'One row per agent session; counters are maintained by session_persist''s functions';
DO $$
BEGIN
    EXECUTE pg_catalog.format(
        'ALTER TABLE @extschema@.free_agent_sessions SET (toast_tuple_target = %s, fillfactor = 50)',
        pg_catalog.current_setting('block_size')::integer / 8);
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
CREATE INDEX session_messages_user_idx ON @extschema@.session_messages (user_id);
CREATE INDEX session_messages_organization_idx
    ON @extschema@.session_messages (organization_id, session_id)
    WHERE visibility = 'organization';
CREATE INDEX session_messages_public_idx
    ON @extschema@.session_messages (visibility, session_id) WHERE visibility = 'public';

SELECT pg_catalog.pg_extension_config_dump('@extschema@.free_agent_sessions', '');
SELECT pg_catalog.pg_extension_config_dump('@extschema@.session_snapshot_chain', '');
SELECT pg_catalog.pg_extension_config_dump('@extschema@.session_messages', '');
