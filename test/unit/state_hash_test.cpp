#include "core/state_hash.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <string>

using sp::hash_state;

TEST(StateHash, EqualBytesHashEqual) {
    std::string a = "{\"messages\": []}", b = a;
    EXPECT_EQ(hash_state(a.data(), a.size()), hash_state(b.data(), b.size()));
}

TEST(StateHash, OneBitChangesTheHash) {
    std::string a(4096, 'x');
    std::string b = a;
    b[2048] ^= 1;
    EXPECT_NE(hash_state(a.data(), a.size()), hash_state(b.data(), b.size()));
}

TEST(StateHash, LengthIsPartOfTheHash) {
    std::string a(16, '\0');
    EXPECT_NE(hash_state(a.data(), 15), hash_state(a.data(), 16));
}

// The AVX2 build of XXH3 (state_hash_avx2.cpp), which hash_state uses where the CPU has AVX2
// (cpu_has_avx2 says whether it did here), gives the hash that XXH3's portable code gives
// (the form stored in every chain row and session row): a state saved on one machine
// verifies on any other. Lengths around XXH3's internal block and stripe sizes, and a large
// state.
#define XXH_INLINE_ALL
#define XXH_VECTOR XXH_SCALAR
#include <xxhash.h>

TEST(StateHash, SameOnEveryVectorUnit) {
    EXPECT_EQ(sp::detail::cpu_has_avx2, static_cast<bool>(__builtin_cpu_supports("avx2")));
    std::string bytes;
    for (size_t i = 0; i < 300000; ++i)
        bytes.push_back(static_cast<char>((i * 2654435761u) >> 13));
    for (size_t length : {size_t{0}, size_t{1}, size_t{16}, size_t{17}, size_t{128}, size_t{129},
                          size_t{240}, size_t{241}, size_t{1024}, size_t{1025}, size_t{65537},
                          bytes.size()}) {
        XXH128_canonical_t canonical;
        XXH128_canonicalFromHash(&canonical, XXH3_128bits(bytes.data(), length));
        sp::StateHash scalar;
        memcpy(scalar.bytes, canonical.digest, sp::StateHash::size);
        EXPECT_EQ(hash_state(bytes.data(), length), scalar) << "length " << length;
    }
}

// The fingerprint's running hash of an array (fingerprint.cpp, hash_array) feeds XXH3's
// streaming state piece by piece through xxh3_64_update (the AVX2 build where there is one):
// the same XXH3-64 as the portable code over the whole, at any piece sizes.
TEST(StateHash, StreamingUpdateSameOnEveryVectorUnit) {
    std::string bytes;
    for (size_t i = 0; i < 200000; ++i)
        bytes.push_back(static_cast<char>((i * 40503u) >> 7));
    for (size_t piece : {size_t{1}, size_t{8}, size_t{63}, size_t{64}, size_t{257}, size_t{5000}}) {
        XXH3_state_t state;
        XXH3_64bits_reset(&state);
        for (size_t at = 0; at < bytes.size(); at += piece)
            sp::detail::xxh3_64_update(&state, bytes.data() + at,
                                       std::min(piece, bytes.size() - at));
        EXPECT_EQ(XXH3_64bits_digest(&state), XXH3_64bits(bytes.data(), bytes.size()))
            << "pieces of " << piece;
    }
}
