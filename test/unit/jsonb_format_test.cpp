#include "core/delta_codec.hpp"
#include "core/fingerprint.hpp"
#include "jsonb_builder.hpp"

#include <gtest/gtest.h>

using namespace sp;
using sp::test::Builder;
using sp::test::root;
using sp::test::root_container;

namespace {

// Key i of a wide object: "k0000000", "k0000001" ..., so that they sort as they count.
std::string key_of(uint32_t i) {
    char key[16];
    snprintf(key, sizeof key, "k%07u", i);
    return key;
}

// An object of `count` keys whose values are their numbers, but for `changed`, which is 0.
std::string wide_object(Builder &b, uint32_t count, uint32_t changed) {
    jsonb::Node n = jsonb::Node::object();
    for (uint32_t i = 0; i < count; ++i)
        n.members.emplace_back(b.keep(key_of(i)), b.num(i == changed ? 0 : i));
    n.sort_members();
    return jsonb::encode(n);
}

} // namespace

// An object is read key, value, key, value: each read of a key went back to the first entry
// and walked forward again, so a save or restore of a state holding a 100,000-key object took
// 8.5 s (quadratic). Now a backward step walks at most to the nearest stored offset. This
// object of a million keys takes well under a second to read, fingerprint, diff and apply;
// the quadratic reader would take hours (ctest's timeout for the unit tests is 60 s).
TEST(JsonbFormat, ReadingAWideObjectIsLinear) {
    constexpr uint32_t count = 1000000;
    Builder b;
    std::string a = wide_object(b, count, count), c = wide_object(b, count, 123456);

    jsonb::Container object = root_container(a);
    ASSERT_EQ(object.size(), count);
    for (uint32_t i = 0; i < count; i += 99991) {
        EXPECT_EQ(object.key(i), key_of(i));
        EXPECT_EQ(object.value(i).bytes(), jsonb::encode_small_int(i));
    }

    std::vector<fingerprint::Member> members = fingerprint::members_of(object);
    EXPECT_EQ(members.size(), count);

    delta::Arena arena;
    jsonb::Node d;
    ASSERT_TRUE(delta::diff(root(a), root(c), &d, arena, nullptr));
    std::string encoded = jsonb::encode(d);
    EXPECT_LT(encoded.size(), 100u); // one member patched
    EXPECT_EQ(jsonb::encode(delta::apply(root(a), {root(encoded)}, "22023", nullptr)), c);
}
