#include "core/delta_codec.hpp"
#include "core/error.hpp"
#include "jsonb_builder.hpp"

#include <gtest/gtest.h>

using namespace sp;
using sp::test::Builder;
using sp::test::NarrowKeyHash;
using sp::test::root;

namespace {

std::string diff_of(const std::string &a, const std::string &b) {
    delta::Arena arena;
    jsonb::Node d;
    if (!delta::diff(root(a), root(b), &d, arena, nullptr))
        d = jsonb::Node::object();
    return jsonb::encode(d);
}

std::string apply_all(const std::string &base, const std::vector<std::string> &deltas) {
    std::vector<jsonb::Value> roots;
    for (const auto &d : deltas)
        roots.push_back(root(d));
    return jsonb::encode(delta::apply(root(base), roots, "22023", nullptr));
}

// b derived from a: some members kept, some changed, arrays grown or cut.
jsonb::Node mutate(Builder &b, std::mt19937 &rng, const jsonb::Value &v, int depth) {
    if (!v.is_container() || depth <= 0)
        return rng() % 3 ? jsonb::Node::of(v) : b.random(rng, 2);
    jsonb::Container c(v, "XX001");
    if (c.is_object()) {
        std::vector<std::pair<std::string, jsonb::Node>> ms;
        for (uint32_t i = 0; i < c.size(); ++i) {
            if (rng() % 10 == 0)
                continue;
            ms.emplace_back(std::string(c.key(i)), rng() % 3
                                                       ? jsonb::Node::of(c.value(i))
                                                       : mutate(b, rng, c.value(i), depth - 1));
        }
        if (rng() % 3 == 0)
            ms.emplace_back("new" + std::to_string(rng() % 5), b.random(rng, 2));
        return b.obj(std::move(ms));
    }
    std::vector<jsonb::Node> es;
    uint32_t keep = rng() % 4 == 0 ? c.size() / 2 : c.size();
    for (uint32_t i = 0; i < keep; ++i)
        es.push_back(rng() % 4 ? jsonb::Node::of(c.element(i))
                               : mutate(b, rng, c.element(i), depth - 1));
    for (uint32_t i = rng() % 3; i > 0; --i)
        es.push_back(b.random(rng, 2));
    return b.arr(std::move(es));
}

} // namespace




TEST(DeltaCodec, RandomPairsRoundTripByteForByte) {
    std::mt19937 rng(42);
    for (int i = 0; i < 2000; ++i) {
        Builder b;
        std::string a = jsonb::encode(b.random(rng, 4));
        std::string c = jsonb::encode(mutate(b, rng, root(a), 4));
        EXPECT_EQ(apply_all(a, {diff_of(a, c)}), c) << "pair " << i;
    }
}

TEST(DeltaCodec, IdenticalDocumentsGiveAnEmptyDelta) {
    Builder b;
    std::mt19937 rng(7);
    std::string a = jsonb::encode(b.random(rng, 3));
    EXPECT_EQ(diff_of(a, a), jsonb::encode(jsonb::Node::object()));
}

TEST(DeltaCodec, AppendingCostsOnlyTheNewElements) {
    Builder b;
    std::vector<jsonb::Node> messages, more;
    for (int i = 0; i < 200; ++i)
        messages.push_back(
            b.obj({{"role", b.str("user")}, {"content", b.str(std::string(500, 'm'))}}));
    more = messages;
    more.push_back(b.obj({{"role", b.str("assistant")}, {"content", b.str("new")}}));
    std::string a = jsonb::encode(b.obj({{"messages", b.arr(messages)}, {"turn", b.num(1)}}));
    std::string c = jsonb::encode(b.obj({{"messages", b.arr(more)}, {"turn", b.num(2)}}));
    std::string d = diff_of(a, c);
    EXPECT_LT(d.size(), 200u); // the new message plus a few headers
    EXPECT_EQ(apply_all(a, {d}), c);
}

TEST(DeltaCodec, ChainsApplyInOnePass) {
    Builder b;
    std::mt19937 rng(3);
    std::vector<std::string> states{jsonb::encode(b.random(rng, 3))};
    std::vector<std::string> deltas;
    for (int i = 0; i < 50; ++i) {
        states.push_back(jsonb::encode(mutate(b, rng, root(states.back()), 3)));
        deltas.push_back(diff_of(states[states.size() - 2], states.back()));
    }
    EXPECT_EQ(apply_all(states.front(), deltas), states.back());
}

TEST(DeltaCodec, ADeltaThatDoesNotFitIsRefused) {
    Builder b;
    std::string arr = jsonb::encode(b.arr({b.num(1), b.num(2)}));
    std::string obj = jsonb::encode(b.obj({{"a", b.num(1)}}));
    std::string object_delta =
        jsonb::encode(b.obj({{"o", b.obj({{"a", b.obj({{"r", b.num(2)}})}})}}));
    std::string cut_to_3 = jsonb::encode(b.obj({{"n", b.num(3)}}));
    std::string remove_b = jsonb::encode(b.obj({{"x", b.arr({b.str("b")})}}));
    try {
        apply_all(arr, {object_delta});
        FAIL() << "no error";
    } catch (const Error &e) {
        EXPECT_STREQ(e.sqlstate(), "22023");
    }
    EXPECT_THROW(apply_all(arr, {cut_to_3}), Error);
    EXPECT_THROW(apply_all(obj, {remove_b}), Error);
    EXPECT_EQ(apply_all(obj, {object_delta}), jsonb::encode(b.obj({{"a", b.num(2)}})));
}

// Found by test/fuzz/fuzz_round_trip: diff patched a value 1001 levels down (its limit counts
// the containers it descends into) but apply counted the patch of that value too and refused
// the delta with 54001. What jsonb_delta makes, jsonb_apply_delta takes.
TEST(DeltaCodec, DeltasAtTheNestingLimitApply) {
    auto nested = [](Builder &b, int levels, uint32_t innermost) {
        jsonb::Node n = b.num(innermost);
        for (int i = 0; i < levels; ++i) // the sibling keeps a patch cheaper than a replacement
            n = b.arr({b.str(std::string(100, 's')), std::move(n)});
        return jsonb::encode(n);
    };
    Builder b;
    std::string a = nested(b, 1001, 1), c = nested(b, 1001, 2);
    EXPECT_EQ(apply_all(a, {diff_of(a, c)}), c);

    std::string deeper_a = nested(b, 1002, 1), deeper_c = nested(b, 1002, 2);
    try {
        diff_of(deeper_a, deeper_c);
        FAIL() << "no error";
    } catch (const Error &e) {
        EXPECT_STREQ(e.sqlstate(), "54001");
    }
}

namespace {

std::string hex_hash(const std::string &key) {
    char text[17];
    snprintf(text, sizeof text, "%016llx", static_cast<unsigned long long>(delta::key_hash(key)));
    return text;
}

} // namespace

// "h" removes the members whose key hashes to H: a save names removed keys that way (its
// fingerprint keeps key hashes, not keys). Other members, and "o" and "x" beside it, apply as
// before.
TEST(DeltaCodec, RemoveByKeyHash) {
    Builder b;
    std::string obj = jsonb::encode(
        b.obj({{"a", b.num(1)}, {"gone", b.str("x")}, {"also gone", b.null()}, {"z", b.num(3)}}));
    std::string d = jsonb::encode(
        b.obj({{"h", b.arr({b.str(hex_hash("gone")), b.str(hex_hash("also gone"))})},
               {"o", b.obj({{"a", b.obj({{"r", b.num(2)}})}, {"new", b.obj({{"r", b.num(4)}})}})},
               {"x", b.arr({b.str("z")})}}));
    EXPECT_EQ(apply_all(obj, {d}), jsonb::encode(b.obj({{"a", b.num(2)}, {"new", b.num(4)}})));
    // in a nested object, through a chain
    std::string nested = jsonb::encode(b.obj({{"m", b.obj({{"k1", b.num(1)}, {"k2", b.num(2)}})}}));
    std::string d1 = jsonb::encode(
        b.obj({{"o", b.obj({{"m", b.obj({{"h", b.arr({b.str(hex_hash("k1"))})}})}})}}));
    std::string d2 = jsonb::encode(
        b.obj({{"o", b.obj({{"m", b.obj({{"h", b.arr({b.str(hex_hash("k2"))})}})}})}}));
    EXPECT_EQ(apply_all(nested, {d1}), jsonb::encode(b.obj({{"m", b.obj({{"k2", b.num(2)}})}})));
    EXPECT_EQ(apply_all(nested, {d1, d2}), jsonb::encode(b.obj({{"m", b.obj({})}})));
}

TEST(DeltaCodec, RemoveByKeyHashRefusesWhatDoesNotFit) {
    Builder b;
    std::string obj = jsonb::encode(b.obj({{"a", b.num(1)}, {"b", b.num(2)}}));
    std::string arr = jsonb::encode(b.arr({b.num(1)}));
    auto h = [&](std::vector<jsonb::Node> hashes) {
        return jsonb::encode(b.obj({{"h", b.arr(std::move(hashes))}}));
    };
    std::string upper = hex_hash("a");
    for (char &c : upper)
        c = static_cast<char>(toupper(c));
    const std::vector<std::string> refused = {
        h({b.str(hex_hash("missing"))}),              // no such key
        h({b.str(hex_hash("a")), b.str(hex_hash("a"))}), // the second finds nothing left
        h({b.str(hex_hash("a").substr(1))}),          // 15 digits
        h({b.str(hex_hash("a") + "0")}),              // 17 digits
        h({b.str("a")}),                              // a key, not a hash
        h({b.num(1)}),                                // not a string
        jsonb::encode(b.obj({{"h", b.str(hex_hash("a"))}})), // not an array
        // patched and removed at once
        jsonb::encode(b.obj({{"h", b.arr({b.str(hex_hash("a"))})},
                             {"o", b.obj({{"a", b.obj({{"r", b.num(5)}})}})}})),
        // an object operation and an array one
        jsonb::encode(b.obj({{"h", b.arr({b.str(hex_hash("a"))})}, {"n", b.num(0)}})),
    };
    if (upper != hex_hash("a")) { // lowercase only: one text per hash
        EXPECT_THROW(apply_all(obj, {h({b.str(upper)})}), Error);
    }
    for (size_t i = 0; i < refused.size(); ++i) {
        try {
            apply_all(obj, {refused[i]});
            ADD_FAILURE() << "delta " << i << " applied";
        } catch (const Error &e) {
            EXPECT_STREQ(e.sqlstate(), "22023") << "delta " << i;
        }
    }
    EXPECT_THROW(apply_all(arr, {h({b.str(hex_hash("a"))})}), Error);
    EXPECT_EQ(apply_all(obj, {h({b.str(hex_hash("b"))})}), jsonb::encode(b.obj({{"a", b.num(1)}})));
}

// When keys collide (a narrowed hash here; 64-bit hashes in use), "h" removes every member
// whose key hashes to H.
TEST(DeltaCodec, RemoveByKeyHashTakesEveryCollidingKey) {
    NarrowKeyHash narrow(0x1);
    std::vector<std::string> zero, one;
    for (int i = 0; zero.size() < 2 || one.empty(); ++i) {
        std::string k = "key" + std::to_string(i);
        (delta::key_hash(k) == 0 ? zero : one).push_back(k);
    }
    Builder b;
    std::string obj = jsonb::encode(
        b.obj({{zero[0], b.num(1)}, {zero[1], b.num(2)}, {one[0], b.num(3)}}));
    std::string d = jsonb::encode(b.obj({{"h", b.arr({b.str(std::string(16, '0'))})}}));
    EXPECT_EQ(apply_all(obj, {d}), jsonb::encode(b.obj({{one[0], b.num(3)}})));
}

// Deltas written before "h" existed (jsonb_delta's and a save's) still apply: the object
// operations "o" and "x" are unchanged.
TEST(DeltaCodec, DeltasWithoutKeyHashesStillApply) {
    Builder b;
    std::string obj = jsonb::encode(b.obj({{"a", b.num(1)}, {"b", b.num(2)}}));
    std::string d = jsonb::encode(
        b.obj({{"o", b.obj({{"c", b.obj({{"r", b.num(3)}})}})}, {"x", b.arr({b.str("a")})}}));
    EXPECT_EQ(apply_all(obj, {d}), jsonb::encode(b.obj({{"b", b.num(2)}, {"c", b.num(3)}})));
}
