#include "state_hash.hpp"

// Header-only: XXH3 is inlined, no library at run time.
#define XXH_INLINE_ALL
#include <xxhash.h>

// XXH3's AVX2 build (state_hash_avx2.cpp) is used where the CPU has AVX2; the functions
// below choose it, so no caller needs to know.
#if defined(__x86_64__) && (defined(__clang__) || defined(__GNUC__))
#define SP_HAVE_AVX2_BUILD 1
#endif

namespace sp {

namespace detail {

#ifdef SP_HAVE_AVX2_BUILD
// state_hash_avx2.cpp
void hash_state_avx2(const void *data, size_t length, uint8_t digest[StateHash::size]);
void xxh3_64_update_avx2(void *state, const void *data, size_t length);

// __builtin_cpu_init first: this initializer may run before the one that fills in what
// __builtin_cpu_supports reads.
const bool cpu_has_avx2 = (__builtin_cpu_init(), __builtin_cpu_supports("avx2"));
#else
const bool cpu_has_avx2 = false;
#endif

void xxh3_64_update(void *state, const void *data, size_t length) {
#ifdef SP_HAVE_AVX2_BUILD
    if (cpu_has_avx2) {
        xxh3_64_update_avx2(state, data, length);
        return;
    }
#endif
    XXH3_64bits_update(static_cast<XXH3_state_t *>(state), data, length);
}

} // namespace detail

StateHash hash_state(const void *data, size_t length) {
    StateHash h;
#ifdef SP_HAVE_AVX2_BUILD
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
