// Restoring a snapshot: the nearest keyframe plus the deltas after it, checked against the
// stored hash (XX001 on mismatch). Runs as the current user, so RLS decides visibility.
#pragma once

#include "pg.hpp"

namespace sp {

struct RestoredSnapshot {
    Jsonb *state; // in the upper context
    int32 snapshot_number;
    Datum id;
    int64 snapshot_size;
    Datum created_at;
    Datum metadata; // jsonb, never NULL
    // With `stored_form` requested (a chain repair rewriting it as a keyframe): the stored
    // form (the state itself, or without "messages" when stored by reference) and the whole
    // list of message references ('F', core/message_refs.hpp) or NULL. With references, the
    // messages are not read back and `state` is NULL: nothing is checked against the hash
    // then, which every later restore of the rewritten snapshot still does.
    Jsonb *stored_state;
    bytea *whole_refs;
};

// Snapshot `number` of the session (PG_INT32_MAX: the latest). False when there is no such
// snapshot visible to the current user. Call between SPI_connect/SPI_finish; read_only as
// for SPI (true in STABLE functions, false where the calling statement itself writes).
bool restore_snapshot(Datum session_id, int32 number, MemoryContext upper, bool read_only,
                      RestoredSnapshot *out, bool stored_form = false);

// XX001 unless `state` hashes to `expected` (a bytea).
void verify_state_hash(Datum session_id, int32 number, Jsonb *state, Datum expected);

} // namespace sp
