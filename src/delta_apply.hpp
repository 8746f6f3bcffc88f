#pragma once
#include "pg.hpp"
namespace sp {
Jsonb *apply_delta_chain(Jsonb *keyframe, Jsonb **deltas, int count);
}
