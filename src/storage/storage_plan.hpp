// How a new snapshot is stored: in full (a keyframe) or as a delta against the previous one
// (SPEC.md, "Storage"). The delta is found from the new state and the previous snapshot's
// fingerprint (core/fingerprint.hpp) alone: the previous state is never rebuilt to save.
#pragma once

#include "pg.hpp"

#include "core/fingerprint.hpp"

namespace sp {

struct StoragePlan {
    bool keyframe;
    Jsonb *stored_state; // when keyframe: the state, or with messages by reference its stored
                         // form (without "messages", core/message_refs.hpp)
    Jsonb *delta;        // when !keyframe, between stored forms
    int64 stored_bytes; // bytes of the state or delta stored (uncompressed)
    // the new snapshot's fingerprint (core/fingerprint.hpp): a new base (bytea), or 0 when
    // the session's base stays, and the patch against the base (bytea)
    Datum fingerprint_base;
    Datum fingerprint_patch;
    // where the previous snapshot's messages array stood (message sync), when its
    // fingerprint could be read
    bool has_previous_mark;
    fingerprint::MessagesMark previous_mark;
    // when the previous snapshot's messages array is a prefix of the new state's (found by
    // the fingerprint's comparison), its length: the elements from there on are the new
    // messages; -1 when not known
    int32 messages_new_from;
    // whether the previous snapshot stored its messages by reference
    bool previous_by_ref;
};

// A keyframe is due when there is no usable previous fingerprint, when the deltas since the
// last keyframe would reach session_persist.keyframe_interval snapshots, or when they would
// add up to more than that keyframe's size.
// `previous_base` and `previous_patch` are the session's latest_fingerprint and
// latest_fingerprint_patch (bytea), or 0 for none.
// `messages_by_ref`: the state's top-level "messages" array is stored by reference, so
// the stored form leaves it out.
StoragePlan plan_storage(Jsonb *state, int32 number, Datum previous_base, Datum previous_patch,
                         bool messages_by_ref);

// Counts the snapshot's message references (a bytea, core/message_refs.hpp) as stored bytes,
// and for a delta as bytes the keyframe rule weighs (a keyframe is weighed as its whole state).
void count_message_refs(StoragePlan *plan, Datum message_refs);

} // namespace sp
