#include "delta_apply.hpp"

#include "core/delta_codec.hpp"
#include "guard.hpp"
#include "jsonb_glue.hpp"

namespace sp {

Jsonb *apply_delta_chain(Jsonb *keyframe, Jsonb **deltas, int count) {
    return cpp_call([&] {
        std::vector<jsonb::Value> chain;
        chain.reserve(count);
        for (int i = 0; i < count; ++i)
            chain.push_back(root_of(deltas[i], sqlstate::data_corrupted));
        jsonb::Node state = delta::apply(root_of(keyframe, sqlstate::data_corrupted), chain,
                                         sqlstate::data_corrupted, interrupt_poll());
        return to_jsonb(jsonb::encode(state));
    });
}

} // namespace sp
