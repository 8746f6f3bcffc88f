#include "core/json_tree.hpp"
#include "jsonb_builder.hpp"

#include <gtest/gtest.h>

using namespace sp;
using sp::test::Builder;
using sp::test::root;

// A tree that is all views encodes back to the very bytes it views.
TEST(JsonTree, AViewEncodesBackToItsBytes) {
    Builder b;
    std::string doc = jsonb::encode(b.obj({{"a", b.num(1)},
                                           {"list", b.arr({b.str("x"), b.obj({{"k", b.str("v")}})})},
                                           {"nested", b.obj({{"deep", b.obj({{"z", b.num(3)}})}})}}));
    EXPECT_EQ(jsonb::encode(jsonb::Node::of(root(doc))), doc);
}

// Expanding one member into nodes and changing it gives what building the changed document
// from scratch gives, the untouched parts copied as views.
TEST(JsonTree, AChangedMemberEncodesAsTheDocumentBuiltWhole) {
    Builder b;
    std::string before = jsonb::encode(b.obj({{"keep", b.str("same")}, {"n", b.num(1)}}));
    std::string expected = jsonb::encode(b.obj({{"keep", b.str("same")}, {"n", b.num(2)}}));
    jsonb::Container c(root(before), "XX001");
    jsonb::Node tree = jsonb::Node::object();
    for (uint32_t i = 0; i < c.size(); ++i)
        tree.members.emplace_back(c.key(i), jsonb::Node::of(c.value(i)));
    std::string two = jsonb::encode(b.num(2));
    for (auto &member : tree.members)
        if (member.first == "n")
            member.second = jsonb::Node::of(root(two));
    EXPECT_EQ(jsonb::encode(tree), expected);
}

// Members added in any order are sorted into jsonb's key order (shorter keys first, then
// bytewise), as PostgreSQL stores them.
TEST(JsonTree, MembersSortIntoJsonbKeyOrder) {
    Builder b;
    std::string one = jsonb::encode(b.num(1));
    jsonb::Node tree = jsonb::Node::object();
    for (const char *key : {"bb", "a", "ab", "c"})
        tree.members.emplace_back(key, jsonb::Node::of(root(one)));
    tree.sort_members();
    std::vector<std::string_view> keys;
    for (const auto &m : tree.members)
        keys.push_back(m.first);
    EXPECT_EQ(keys, (std::vector<std::string_view>{"a", "c", "ab", "bb"}));
    EXPECT_EQ(jsonb::encode(tree),
              jsonb::encode(b.obj({{"a", b.num(1)}, {"c", b.num(1)}, {"ab", b.num(1)}, {"bb", b.num(1)}})));
}
