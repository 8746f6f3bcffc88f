#include "core/delta_codec.hpp"
#include "core/fingerprint.hpp"
#include "jsonb_builder.hpp"

#include <gtest/gtest.h>

using namespace sp;
using sp::test::Builder;
using sp::test::root;
using sp::test::root_container;

namespace {

// An agent state after `turns` turns: a growing message list, a memory object, a counter.
std::string agent_state(Builder &b, int turns, int memory_seed) {
    std::vector<jsonb::Node> messages;
    for (int t = 0; t < turns; ++t) {
        messages.push_back(
            b.obj({{"role", b.str("user")}, {"content", b.str("question " + std::to_string(t))}}));
        messages.push_back(
            b.obj({{"role", b.str("assistant")}, {"content", b.str(std::string(300 + t, 'a'))}}));
    }
    std::vector<std::pair<std::string, jsonb::Node>> memory;
    for (int k = 0; k < 20; ++k)
        memory.emplace_back("k" + std::to_string(k),
                            b.num(k == memory_seed % 20 ? 1000 + turns : k));
    return jsonb::encode(b.obj({{"messages", b.arr(messages)},
                                {"memory", b.obj(std::move(memory))},
                                {"turn", b.num(turns)}}));
}

constexpr uint64_t no_limit = UINT64_MAX;

std::string delta_between(const std::string &before, const std::string &after) {
    delta::Arena arena;
    std::vector<fingerprint::Member> next;
    std::optional<jsonb::Node> d =
        fingerprint::delta_from(fingerprint::members_of(root_container(before)),
                                root_container(after), &next, arena, no_limit);
    EXPECT_TRUE(d.has_value());
    std::string encoded = d ? jsonb::encode(*d) : std::string();
    // the budget check never refuses a delta that fits: its floor is at most the encoding
    delta::Arena again;
    EXPECT_TRUE(fingerprint::delta_from(fingerprint::members_of(root_container(before)),
                                        root_container(after), &next, again, encoded.size())
                    .has_value());
    return encoded;
}

} // namespace

TEST(Fingerprint, SerializationRoundTrips) {
    Builder b;
    std::string s = agent_state(b, 5, 1);
    fingerprint::Print p;
    p.keyframe_number = 7;
    p.keyframe_bytes = 1234;
    p.deltas_since = 3;
    p.delta_bytes_since = 99;
    p.messages = fingerprint::messages_mark(root(s));
    p.members = fingerprint::members_of(root_container(s));
    fingerprint::Print back;
    ASSERT_TRUE(fingerprint::parse(fingerprint::serialize(p), &back));
    EXPECT_EQ(back.keyframe_number, 7u);
    EXPECT_EQ(back.delta_bytes_since, 99u);
    EXPECT_EQ(back.messages.length, 10u);
    EXPECT_EQ(back.messages.window, p.messages.window);
    EXPECT_EQ(back.messages.prefix_hash, p.messages.prefix_hash);
    ASSERT_EQ(back.members.size(), 3u);
    EXPECT_EQ(fingerprint::serialize(back), fingerprint::serialize(p));
}

TEST(Fingerprint, GarbageDoesNotParse) {
    fingerprint::Print p;
    EXPECT_FALSE(fingerprint::parse("", &p));
    EXPECT_FALSE(fingerprint::parse("SPF\x01short", &p));
    std::string good = fingerprint::serialize(fingerprint::Print{});
    EXPECT_TRUE(fingerprint::parse(good, &p));
    EXPECT_FALSE(fingerprint::parse(good + "x", &p));
}

// A fingerprint damaged on disk must not pass for another state's (the save would write a
// delta from it that does not restore): one changed byte anywhere, a key's included, and it
// does not parse, so the save writes a keyframe.
TEST(Fingerprint, ADamagedFingerprintDoesNotParse) {
    Builder b;
    std::string s = agent_state(b, 5, 1);
    fingerprint::Print p;
    p.messages = fingerprint::messages_mark(root(s));
    p.members = fingerprint::members_of(root_container(s));
    const std::string good = fingerprint::serialize(p);
    fingerprint::Print back;
    ASSERT_TRUE(fingerprint::parse(good, &back));
    for (size_t i = 0; i < good.size(); ++i) {
        std::string damaged = good;
        damaged[i] = static_cast<char>(damaged[i] ^ 0x04);
        EXPECT_FALSE(fingerprint::parse(damaged, &back)) << "byte " << i << " of " << good.size();
    }
}

TEST(Fingerprint, DeltaFromTheFingerprintRebuildsTheState) {
    Builder b;
    std::string before = agent_state(b, 1, 0);
    for (int turn = 2; turn < 40; ++turn) {
        std::string after = agent_state(b, turn, turn);
        std::string d = delta_between(before, after);
        std::vector<jsonb::Value> chain{root(d)};
        EXPECT_EQ(jsonb::encode(delta::apply(root(before), chain, "XX001", nullptr)), after);
        // a turn costs its new messages and the changed memory keys, not the whole state
        EXPECT_LT(d.size(), 900u + turn) << "turn " << turn;
        before = after;
    }
}

TEST(Fingerprint, RewrittenAndRemovedMembersAreCaught) {
    Builder b;
    std::string before =
        jsonb::encode(b.obj({{"a", b.arr({b.num(1), b.num(2)})}, {"gone", b.boolean(true)}}));
    std::string after =
        jsonb::encode(b.obj({{"a", b.arr({b.num(9), b.num(2), b.num(3)})}, {"new", b.null()}}));
    std::string d = delta_between(before, after);
    std::vector<jsonb::Value> chain{root(d)};
    EXPECT_EQ(jsonb::encode(delta::apply(root(before), chain, "XX001", nullptr)), after);
}

// A save gives the delta a budget (what the keyframe rule still allows): past it, the delta
// is not built, but the new state's fingerprint is still complete.
TEST(Fingerprint, ADeltaOverItsBudgetIsNotBuilt) {
    Builder b;
    std::string before = agent_state(b, 10, 0);
    std::string after = agent_state(b, 12, 3);
    std::string fits = delta_between(before, after);
    std::vector<fingerprint::Member> expected = fingerprint::members_of(root_container(after));
    fingerprint::Print expected_print;
    expected_print.members = expected;

    for (uint64_t budget : {uint64_t{0}, uint64_t{100}, uint64_t{fits.size() / 2}}) {
        delta::Arena arena;
        std::vector<fingerprint::Member> next;
        std::optional<jsonb::Node> d =
            fingerprint::delta_from(fingerprint::members_of(root_container(before)),
                                    root_container(after), &next, arena, budget);
        EXPECT_FALSE(d.has_value()) << "budget " << budget;
        fingerprint::Print print;
        print.members = next;
        EXPECT_EQ(fingerprint::serialize(print), fingerprint::serialize(expected_print))
            << "budget " << budget;
    }
    // a budget the delta fits in builds exactly the unlimited delta
    delta::Arena arena;
    std::vector<fingerprint::Member> next;
    std::optional<jsonb::Node> d =
        fingerprint::delta_from(fingerprint::members_of(root_container(before)),
                                root_container(after), &next, arena, fits.size());
    ASSERT_TRUE(d.has_value());
    EXPECT_EQ(jsonb::encode(*d), fits);
}

namespace {

// A state whose "memory" holds, `depth` levels down (the root object is level 1), an object of
// 100 facts of about 60 bytes each; `changed` facts hold the turn's value instead.
std::string deep_state(Builder &b, int depth, int turn, int changed) {
    std::vector<std::pair<std::string, jsonb::Node>> facts;
    for (int k = 0; k < 100; ++k)
        facts.emplace_back("fact" + std::to_string(k),
                           b.str((k < changed ? "turn " + std::to_string(turn) + " " : "fixed ") +
                                 std::string(50, 'x')));
    jsonb::Node node = b.obj(std::move(facts));
    for (int level = depth - 1; level > 1; --level)
        node = b.obj({{"level" + std::to_string(level), std::move(node)},
                      {"note", b.str("level " + std::to_string(level))}});
    return jsonb::encode(b.obj({{"memory", std::move(node)}, {"turn", b.num(turn)}}));
}

} // namespace

// SPEC.md, Storage: a change at any depth costs about the size of that change. Two facts
// changed in a 100-fact object (6 KB) at depth 3, 5 and 8 give a delta of about those two
// facts and the keys leading to them, not the object around them.
TEST(Fingerprint, AChangeDeepInALargeObjectCostsAboutItsOwnSize) {
    for (int depth : {3, 5, 8}) {
        Builder b;
        std::string before = deep_state(b, depth, 1, 2);
        std::string after = deep_state(b, depth, 2, 2);
        ASSERT_GT(before.size(), 6000u);
        std::string d = delta_between(before, after);
        std::vector<jsonb::Value> chain{root(d)};
        EXPECT_EQ(jsonb::encode(delta::apply(root(before), chain, "XX001", nullptr)), after);
        // two facts of ~60 bytes, their keys, and one wrapper per level on the way down
        EXPECT_LT(d.size(), 200u + 40u * depth) << "depth " << depth << ": " << d.size();
    }
}

// Small objects are fingerprinted whole: a change inside one replaces it, which costs about
// what patching it would.
TEST(Fingerprint, SmallObjectsAreReplacedWhole) {
    Builder b;
    std::string before = jsonb::encode(b.obj({{"a", b.obj({{"b", b.obj({{"c", b.num(1)}})}})}}));
    std::string after = jsonb::encode(b.obj({{"a", b.obj({{"b", b.obj({{"c", b.num(2)}})}})}}));
    std::string d = delta_between(before, after);
    std::vector<jsonb::Value> chain{root(d)};
    EXPECT_EQ(jsonb::encode(delta::apply(root(before), chain, "XX001", nullptr)), after);
    EXPECT_LT(d.size(), 2 * before.size());
}

// A reply saved while it streams changes the last message in place: the delta carries that
// message (and any appended), not the whole messages array, wherever the change sits inside
// the mark's window; before the window the array is replaced, and the delta still applies.
TEST(Fingerprint, AMessageChangedInPlaceIsPatchedNotReplaced) {
    for (int changed_at : {59, 45, 10}) {
        Builder b;
        auto state = [&](const std::string &changed_text, int extra) {
            std::vector<jsonb::Node> messages;
            for (int i = 0; i < 60 + extra; ++i)
                messages.push_back(b.obj(
                    {{"role", b.str("assistant")},
                     {"content", b.str(i == changed_at ? changed_text
                                                       : std::string(400, 'a') + std::to_string(i))}}));
            return jsonb::encode(b.obj({{"messages", b.arr(messages)}}));
        };
        std::string before = state("partial", 0), after = state("partial, then complete", 1);
        fingerprint::MessagesMark mark = fingerprint::messages_mark(root(before));
        delta::Arena arena;
        std::vector<fingerprint::Member> next;
        uint32_t kept = 0;
        std::optional<jsonb::Node> d = fingerprint::delta_from(
            fingerprint::members_of(root_container(before)), root_container(after), &next, arena,
            no_limit, &kept, &mark);
        ASSERT_TRUE(d.has_value());
        std::string encoded = jsonb::encode(*d);
        std::vector<jsonb::Value> chain{root(encoded)};
        EXPECT_EQ(jsonb::encode(delta::apply(root(before), chain, "XX001", nullptr)), after);
        EXPECT_EQ(kept, UINT32_MAX) << "not a prefix";
        if (changed_at >= 60 - static_cast<int>(messages::window_size))
            EXPECT_LT(encoded.size(), 700u) << "changed at " << changed_at;
        else
            EXPECT_GT(encoded.size(), 20000u) << "changed before the window: replaced";
    }
}
