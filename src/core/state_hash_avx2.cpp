// XXH3 compiled for AVX2, which hash_state and xxh3_64_update (state_hash.cpp) call on CPUs
// that have it. Only functions of internal
// linkage (XXH_INLINE_ALL) and these two are compiled here: an inline function of a shared
// header compiled for AVX2 could be the copy the linker keeps for the whole extension.
// XXH3's result does not depend on the vector unit that computes it, so a state hashes the
// same on every machine; AVX2 takes about half the instructions of SSE2 (the x86-64
// baseline) on a large state, which every save and every restore hashes whole. The target
// is set for this file's functions only, so the extension still loads on any x86-64 CPU.
#include "state_hash.hpp"

#if defined(__x86_64__) && (defined(__clang__) || defined(__GNUC__))

#if defined(__clang__)
#pragma clang attribute push(__attribute__((target("avx2"))), apply_to = function)
#else
#pragma GCC push_options
#pragma GCC target("avx2")
#endif

#include <immintrin.h>
#define XXH_INLINE_ALL
#define XXH_VECTOR XXH_AVX2
#include <xxhash.h>

namespace sp::detail {

void hash_state_avx2(const void *data, size_t length, uint8_t digest[StateHash::size]) {
    XXH128_canonical_t canonical;
    XXH128_canonicalFromHash(&canonical, XXH3_128bits(data, length));
    memcpy(digest, canonical.digest, StateHash::size);
}

void xxh3_64_update_avx2(void *state, const void *data, size_t length) {
    XXH3_64bits_update(static_cast<XXH3_state_t *>(state), data, length);
}

} // namespace sp::detail

#if defined(__clang__)
#pragma clang attribute pop
#else
#pragma GCC pop_options
#endif

#endif
