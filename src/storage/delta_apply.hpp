// Applying a stored chain: one keyframe and the deltas after it, in one pass.
#pragma once

#include "pg.hpp"

namespace sp {

// The state `count` deltas after `keyframe`, palloc'd in the current memory context.
// A delta that does not fit is data corruption (XX001). Safe to call from glue anywhere.
Jsonb *apply_delta_chain(Jsonb *keyframe, Jsonb **deltas, int count);

} // namespace sp
