// How a new snapshot is stored: in full (a keyframe) or as a delta against the previous one
// (SPEC.md, "Storage").
#pragma once

#include "pg.hpp"

namespace sp {

// The latest snapshot before the one being saved.
struct PreviousLink {
    int32 number;
    Datum fingerprint; // bytea, see fingerprint.hpp
    bool has_fingerprint;
};

struct StoragePlan {
    bool keyframe;
    Jsonb *delta;       // when !keyframe
    int64 stored_bytes; // bytes of the state or delta stored
    Datum fingerprint;  // bytea for the new snapshot, or 0 for none
};

StoragePlan plan_storage(Datum session_id, Jsonb *state, const PreviousLink *previous);

} // namespace sp

namespace sp {

// The fingerprint of a snapshot rewritten as a keyframe (cleanup's chain repair); 0 for none.
Datum keyframe_fingerprint(Jsonb *state);

} // namespace sp
