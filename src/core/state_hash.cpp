#include "state_hash.hpp"

// Header-only: XXH3 is inlined, no library at run time.
#define XXH_INLINE_ALL
#include <xxhash.h>

namespace sp {

#if defined(__x86_64__) && (defined(__clang__) || defined(__GNUC__))
namespace detail {
// state_hash_avx2.cpp
void hash_state_avx2(const void *data, size_t length, uint8_t digest[StateHash::size]);

// __builtin_cpu_init first: this initializer may run before the one that fills in what
// __builtin_cpu_supports reads.
const bool cpu_has_avx2 = (__builtin_cpu_init(), __builtin_cpu_supports("avx2"));
} // namespace detail
#else
namespace detail {
const bool cpu_has_avx2 = false;
void xxh3_64_update_avx2(void *, const void *, size_t) { __builtin_trap(); }
} // namespace detail
#endif

StateHash hash_state(const void *data, size_t length) {
    StateHash h;
#if defined(__x86_64__) && (defined(__clang__) || defined(__GNUC__))
    if (detail::cpu_has_avx2) {
        detail::hash_state_avx2(data, length, h.bytes);
        return h;
    }
#endif
    XXH128_canonical_t canonical;
    XXH128_canonicalFromHash(&canonical, XXH3_128bits(data, length));
    static_assert(sizeof canonical.digest == StateHash::size, "XXH3-128 is 16 bytes");
    memcpy(h.bytes, canonical.digest, StateHash::size);
    return h;
}

} // namespace sp
