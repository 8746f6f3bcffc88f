#include "core/delta_codec.hpp"
#include "core/error.hpp"
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

TEST(JsonbFormat, EncodedDocumentsReadBack) {
    Builder b;
    std::vector<std::pair<std::string, jsonb::Node>> ms;
    std::vector<jsonb::Node> es;
    for (uint32_t i = 0; i < 100; ++i) {
        ms.emplace_back("key" + std::to_string(i), b.num(i));
        es.push_back(b.str(std::string(i, 'x')));
    }
    ms.emplace_back("list", b.arr(std::move(es)));
    std::string doc = jsonb::encode(b.obj(std::move(ms)));
    jsonb::Container top = sp::test::root_container(doc);
    ASSERT_TRUE(top.is_object());
    ASSERT_EQ(top.size(), 101u);
    jsonb::Value v;
    ASSERT_TRUE(top.find("key77", &v));
    uint32_t n = 0;
    ASSERT_TRUE(jsonb::decode_small_int(v, &n));
    EXPECT_EQ(n, 77u);
    ASSERT_TRUE(top.find("list", &v));
    jsonb::Container list(v, "XX001");
    ASSERT_EQ(list.size(), 100u);
    for (uint32_t i = 0; i < 100; ++i) // past several offset strides
        EXPECT_EQ(list.element(i).length, i);
    EXPECT_FALSE(top.find("key100", &v));
}

TEST(JsonbFormat, SmallIntegersRoundTrip) {
    for (uint32_t v :
         {0u, 1u, 9999u, 10000u, 10001u, 12345678u, 99999999u, 100000000u, 4294967295u}) {
        std::string bytes = jsonb::encode_small_int(v);
        jsonb::Value num{jsonb::Type::Numeric, bytes.data(), static_cast<uint32_t>(bytes.size())};
        uint32_t back = 0;
        ASSERT_TRUE(jsonb::decode_small_int(num, &back)) << v;
        EXPECT_EQ(back, v);
    }
}

TEST(JsonbFormat, MalformedBytesAreRefused) {
    std::string garbage = "\x01\x00\x00\x40\xff\xff\xff\x0f";
    EXPECT_THROW(jsonb::Container(garbage.data(), 8, "XX001").element(0), Error);
    EXPECT_THROW(jsonb::Container(garbage.data(), 2, "XX001"), Error);
}
