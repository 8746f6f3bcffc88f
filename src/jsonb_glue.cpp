#include "jsonb_glue.hpp"

#include "guard.hpp"

namespace sp {

Jsonb *to_jsonb(const std::string &encoded) {
    Jsonb *out = static_cast<Jsonb *>(pg_call([&] { return palloc(encoded.size()); }));
    memcpy(out, encoded.data(), encoded.size());
    SET_VARSIZE(out, encoded.size());
    return out;
}

const delta::Poll &interrupt_poll() {
    static const delta::Poll poll = [] { check_for_interrupts(); };
    return poll;
}

} // namespace sp
