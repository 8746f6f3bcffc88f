// jsonb_delta, jsonb_apply_delta and jsonb_state_hash: the delta codec as SQL functions.
#include "pg.hpp"

#include "args.hpp"
#include "core/delta_codec.hpp"
#include "core/state_hash.hpp"
#include "guard.hpp"
#include "jsonb_glue.hpp"

// jsonb_delta(a, b): the delta that turns a into b ({} when they are equal).
SP_FUNCTION(sp_jsonb_delta) {
    sp::require_arg(fcinfo, 0, "a");
    sp::require_arg(fcinfo, 1, "b");
    Jsonb *a = PG_GETARG_JSONB_P(0);
    Jsonb *b = PG_GETARG_JSONB_P(1);
    Jsonb *result = sp::cpp_call([&] {
        sp::delta::Arena arena;
        sp::jsonb::Node d;
        if (!sp::delta::diff(sp::root_of(a, "XX001"), sp::root_of(b, "XX001"), &d, arena,
                             sp::interrupt_poll()))
            d = sp::jsonb::Node::object();
        return sp::to_jsonb(sp::jsonb::encode(d));
    });
    PG_RETURN_JSONB_P(result);
}

// jsonb_apply_delta(a, d): a with the delta applied; 22023 when d does not fit a.
SP_FUNCTION(sp_jsonb_apply_delta) {
    sp::require_arg(fcinfo, 0, "a");
    sp::require_arg(fcinfo, 1, "d");
    Jsonb *a = PG_GETARG_JSONB_P(0);
    Jsonb *d = PG_GETARG_JSONB_P(1);
    Jsonb *result = sp::cpp_call([&] {
        std::vector<sp::jsonb::Value> deltas{sp::root_of(d, "XX001")};
        sp::jsonb::Node tree =
            sp::delta::apply(sp::root_of(a, "XX001"), deltas, "22023", sp::interrupt_poll());
        return sp::to_jsonb(sp::jsonb::encode(tree));
    });
    PG_RETURN_JSONB_P(result);
}

// jsonb_state_hash(state): the 16-byte hash create_session_snapshot uses to detect an
// unchanged state and restores use to verify one.
SP_FUNCTION(sp_jsonb_state_hash) {
    sp::require_arg(fcinfo, 0, "state");
    return sp::state_hash_bytea(sp::state_hash_of(PG_GETARG_JSONB_P(0)));
}
