#include "snapshot_storage.hpp"

namespace sp {

StoragePlan plan_storage(Datum session_id, Jsonb *state, const PreviousLink *previous) {
    StoragePlan plan{};
    plan.keyframe = true;
    plan.stored_bytes = VARSIZE(state);
    return plan;
}

} // namespace sp

namespace sp {

Datum keyframe_fingerprint(Jsonb *state) { return (Datum)0; }

} // namespace sp
