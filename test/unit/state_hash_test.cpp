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
