#include "core/state_hash.hpp"

#include <gtest/gtest.h>

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

// The AVX2 build of XXH3 (state_hash_avx2.cpp), used where the CPU has it, gives the hash
// that XXH3's portable code gives (the form stored in every chain row and session row): a
// state saved on one machine verifies on any other. Lengths around XXH3's internal block
// and stripe sizes, and a large state.
#define XXH_INLINE_ALL
#define XXH_VECTOR XXH_SCALAR
#include <xxhash.h>

namespace sp::detail {
void hash_state_avx2(const void *data, size_t length, uint8_t digest[StateHash::size]);
}

TEST(StateHash, SameOnEveryVectorUnit) {
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
        if (__builtin_cpu_supports("avx2")) {
            sp::StateHash avx2;
            sp::detail::hash_state_avx2(bytes.data(), length, avx2.bytes);
            EXPECT_EQ(avx2, scalar) << "length " << length;
        }
    }
}
