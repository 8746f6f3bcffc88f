#include "state_hash.hpp"

// Header-only: XXH3 is inlined, no library at run time.
#define XXH_INLINE_ALL
#include <xxhash.h>

namespace sp {

StateHash hash_state(const void *data, size_t length) {
    XXH128_canonical_t canonical;
    XXH128_canonicalFromHash(&canonical, XXH3_128bits(data, length));
    StateHash h;
    static_assert(sizeof canonical.digest == StateHash::size, "XXH3-128 is 16 bytes");
    memcpy(h.bytes, canonical.digest, StateHash::size);
    return h;
}

} // namespace sp
