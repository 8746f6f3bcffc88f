#include "core/delta_codec.hpp"
#include "core/fingerprint.hpp"
#include "jsonb_builder.hpp"

#include <gtest/gtest.h>

#define XXH_INLINE_ALL
#include <xxhash.h>

#include <algorithm>
#include <cstdio>

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

namespace {

// deep_state with the facts in `gone` left out and, for each, "added<k>" in their place.
std::string deep_state_without(Builder &b, int depth, const std::vector<int> &gone) {
    std::vector<std::pair<std::string, jsonb::Node>> facts;
    for (int k = 0; k < 100; ++k) {
        bool is_gone = std::find(gone.begin(), gone.end(), k) != gone.end();
        facts.emplace_back((is_gone ? "added" : "fact") + std::to_string(k),
                           b.str("fixed " + std::string(50, 'x')));
    }
    jsonb::Node node = b.obj(std::move(facts));
    for (int level = depth - 1; level > 1; --level)
        node = b.obj({{"level" + std::to_string(level), std::move(node)},
                      {"note", b.str("level " + std::to_string(level))}});
    return jsonb::encode(b.obj({{"memory", std::move(node)}, {"turn", b.num(1)}}));
}

std::string apply_one(const std::string &base, const std::string &d) {
    std::vector<jsonb::Value> chain{root(d)};
    return jsonb::encode(delta::apply(root(base), chain, "XX001", nullptr));
}

std::string hex_hash(const std::string &key) {
    char text[17];
    snprintf(text, sizeof text, "%016llx", static_cast<unsigned long long>(delta::key_hash(key)));
    return text;
}

} // namespace

// The fingerprint keeps key hashes, not keys: a key gone from an object deep in the state is
// named in the delta by its hash ("h"), the delta does not carry the object around it, and it
// restores byte for byte, through the fingerprint as a save stores it.
TEST(Fingerprint, KeysRemovedAtDepthAreRemovedByHash) {
    for (int depth : {1 + 1, 3, 5, 8}) {
        Builder b;
        std::string before = deep_state(b, depth, 1, 0);
        std::string after = deep_state_without(b, depth, {7, 42});
        fingerprint::Print print;
        print.members = fingerprint::members_of(root_container(before));
        fingerprint::Print stored;
        ASSERT_TRUE(fingerprint::parse(fingerprint::serialize(print), &stored));
        delta::Arena arena;
        std::vector<fingerprint::Member> next;
        std::optional<jsonb::Node> d = fingerprint::delta_from(
            stored.members, root_container(after), &next, arena, UINT64_MAX);
        ASSERT_TRUE(d.has_value());
        std::string encoded = jsonb::encode(*d);
        EXPECT_EQ(apply_one(before, encoded), after) << "depth " << depth;
        EXPECT_NE(encoded.find(hex_hash("fact7")), std::string::npos) << "depth " << depth;
        EXPECT_NE(encoded.find(hex_hash("fact42")), std::string::npos) << "depth " << depth;
        EXPECT_EQ(encoded.find("fact7"), std::string::npos) << "depth " << depth;
        // two added facts, two hashes, the keys on the way down
        EXPECT_LT(encoded.size(), 250u + 40u * depth) << "depth " << depth;
        // the fingerprint it returns is the new state's own, and the next save chains on it
        fingerprint::Print next_print, own;
        next_print.members = next;
        own.members = fingerprint::members_of(root_container(after));
        EXPECT_EQ(fingerprint::serialize(next_print), fingerprint::serialize(own));
        std::string back = deep_state(b, depth, 1, 0);
        delta::Arena arena2;
        std::vector<fingerprint::Member> again;
        std::optional<jsonb::Node> d2 =
            fingerprint::delta_from(next, root_container(back), &again, arena2, UINT64_MAX);
        ASSERT_TRUE(d2.has_value());
        std::string encoded2 = jsonb::encode(*d2);
        std::vector<jsonb::Value> chain{root(encoded), root(encoded2)};
        EXPECT_EQ(jsonb::encode(delta::apply(root(before), chain, "XX001", nullptr)), back);
    }
}

// Members are sorted by key hash; a fingerprint stores about 17 bytes a member, not the keys.
TEST(Fingerprint, MembersAreKeptByKeyHashWithoutTheKeys) {
    Builder b;
    std::vector<std::pair<std::string, jsonb::Node>> facts;
    for (int k = 0; k < 100; ++k)
        facts.emplace_back("a rather long key for fact number " + std::to_string(k), b.num(k));
    std::string s = jsonb::encode(b.obj({{"memory", b.obj(std::move(facts))}}));
    fingerprint::Print p;
    p.members = fingerprint::members_of(root_container(s));
    ASSERT_EQ(p.members.size(), 1u);
    ASSERT_EQ(p.members[0].kind, fingerprint::Kind::ObjectWithMembers);
    const std::vector<fingerprint::Member> &ms = p.members[0].members;
    ASSERT_EQ(ms.size(), 100u);
    for (size_t i = 1; i < ms.size(); ++i)
        EXPECT_LT(ms[i - 1].key_hash, ms[i].key_hash);
    EXPECT_EQ(ms.front().key_hash, std::min_element(ms.begin(), ms.end(), [](auto &x, auto &y) {
                                       return x.key_hash < y.key_hash;
                                   })->key_hash);
    std::string bytes = fingerprint::serialize(p);
    EXPECT_LE(bytes.size(), 100u * 17 + 60u);
    EXPECT_EQ(bytes.find("fact number"), std::string::npos);
}

// When two keys of a large nested object have the same hash (a narrowed hash here), that
// object is fingerprinted whole: a change in it replaces it, and the delta restores. When
// two top-level keys do, no delta is made and the fingerprint does not parse (the next save
// is a keyframe too).
TEST(Fingerprint, CollidingKeysFingerprintTheirObjectWhole) {
    sp::test::NarrowKeyHash narrow(0xff);
    Builder b;
    auto state = [&](int turn) {
        std::vector<std::pair<std::string, jsonb::Node>> facts;
        for (int k = 0; k < 100; ++k) // 100 keys in 256 hashes: some collide
            facts.emplace_back("fact" + std::to_string(k),
                               b.str((k == 5 ? "turn " + std::to_string(turn) : "fixed ") +
                                     std::string(50, 'x')));
        return jsonb::encode(b.obj({{"memory", b.obj(std::move(facts))}, {"turn", b.num(turn)}}));
    };
    std::string before = state(1), after = state(2);
    ASSERT_NE(delta::key_hash("memory"), delta::key_hash("turn"));
    std::vector<fingerprint::Member> print = fingerprint::members_of(root_container(before));
    ASSERT_EQ(print.size(), 2u);
    const fingerprint::Member &memory =
        print[0].key_hash == delta::key_hash("memory") ? print[0] : print[1];
    EXPECT_EQ(memory.kind, fingerprint::Kind::Object);
    EXPECT_TRUE(memory.members.empty());
    fingerprint::Print p;
    p.members = print;
    fingerprint::Print back;
    ASSERT_TRUE(fingerprint::parse(fingerprint::serialize(p), &back));
    std::string d = delta_between(before, after);
    EXPECT_EQ(apply_one(before, d), after);
    EXPECT_GT(d.size(), 6000u) << "the memory object replaced whole";

    // top-level keys that collide
    std::string a, z;
    for (int i = 0; a.empty() || z.empty(); ++i) {
        std::string k = "top" + std::to_string(i);
        if (a.empty())
            a = k;
        else if (delta::key_hash(k) == delta::key_hash(a))
            z = k;
    }
    std::string colliding_before = jsonb::encode(b.obj({{a, b.num(1)}, {"other", b.num(2)}}));
    std::string colliding = jsonb::encode(b.obj({{a, b.num(1)}, {z, b.num(2)}}));
    fingerprint::Print top;
    top.members = fingerprint::members_of(root_container(colliding));
    EXPECT_EQ(top.members.size(), 2u);
    EXPECT_FALSE(fingerprint::parse(fingerprint::serialize(top), &back));
    delta::Arena arena;
    std::vector<fingerprint::Member> next;
    uint32_t kept = 0;
    EXPECT_FALSE(fingerprint::delta_from(fingerprint::members_of(root_container(colliding_before)),
                                         root_container(colliding), &next, arena, UINT64_MAX,
                                         &kept)
                     .has_value());
    EXPECT_EQ(kept, UINT32_MAX);
    fingerprint::Print next_print;
    next_print.members = next;
    EXPECT_EQ(fingerprint::serialize(next_print), fingerprint::serialize(top));
    // and from a print with colliding keys (never stored: it does not parse)
    EXPECT_FALSE(fingerprint::delta_from(top.members, root_container(colliding_before), &next,
                                         arena, UINT64_MAX)
                     .has_value());
}

// A fingerprint of an earlier version (here version 3, members keyed by their keys, with a
// valid checksum) reads as no fingerprint: the save that finds it writes a keyframe.
TEST(Fingerprint, AnOlderVersionReadsAsNone) {
    std::string v3("SPF\x03", 4);
    auto put = [&](auto v) { v3.append(reinterpret_cast<const char *>(&v), sizeof v); };
    put(uint32_t{1});  // keyframe_number
    put(uint64_t{900}); // keyframe_bytes
    put(uint32_t{0});  // deltas_since
    put(uint64_t{0});  // delta_bytes_since
    put(uint32_t{0});  // messages length
    put(uint64_t{0});  // prefix hash
    put(uint32_t{0});  // window
    put(uint32_t{1});  // one member
    put(uint32_t{4});
    v3 += "turn";
    put(uint8_t{0});
    put(uint64_t{12345});
    put(uint32_t{0});
    put(uint64_t{XXH3_64bits(v3.data(), v3.size())});
    fingerprint::Print p;
    EXPECT_FALSE(fingerprint::parse(v3, &p));
    // the same bookkeeping in this version does parse
    fingerprint::Print now;
    now.keyframe_number = 1;
    now.keyframe_bytes = 900;
    Builder b;
    now.members = fingerprint::members_of(root_container(jsonb::encode(b.obj({{"turn", b.num(1)}}))));
    ASSERT_TRUE(fingerprint::parse(fingerprint::serialize(now), &p));
    EXPECT_EQ(p.keyframe_bytes, 900u);
}

// A save adds the bytes of its message references to the bookkeeping after serializing: the
// varint fields may grow a byte, and the patch still parses, with only that field moved.
TEST(Fingerprint, CountStoredBytesRewritesTheField) {
    Builder b;
    std::string s = agent_state(b, 5, 1);
    fingerprint::Print p;
    p.keyframe_number = 3;
    p.keyframe_bytes = 100; // one varint byte; 100 + 200 takes two
    p.deltas_since = 2;
    p.delta_bytes_since = 120;
    p.messages_by_ref = true;
    p.messages = fingerprint::messages_mark(root(s));
    p.members = fingerprint::members_of(root_container(s));
    std::string base = fingerprint::serialize(p);
    std::string patch = fingerprint::serialize_patch(p, base, &p.members);
    ASSERT_TRUE(fingerprint::count_stored_bytes(&patch, true, 200));
    ASSERT_TRUE(fingerprint::count_stored_bytes(&patch, false, 1u << 20));
    fingerprint::Print back;
    ASSERT_TRUE(fingerprint::parse(base, patch, &back));
    EXPECT_EQ(back.keyframe_bytes, 300u);
    EXPECT_EQ(back.delta_bytes_since, 120u + (1u << 20));
    EXPECT_EQ(back.keyframe_number, 3u);
    EXPECT_EQ(back.deltas_since, 2u);
    EXPECT_TRUE(back.messages_by_ref);
    p.keyframe_bytes = 300;
    p.delta_bytes_since = 120u + (1u << 20);
    EXPECT_EQ(patch, fingerprint::serialize_patch(p, base, &p.members));
    std::string garbage = "not a fingerprint";
    EXPECT_FALSE(fingerprint::count_stored_bytes(&garbage, true, 1));
    EXPECT_FALSE(fingerprint::count_stored_bytes(&base, true, 1)); // a base is not a patch
}

namespace {

fingerprint::Print print_of(const std::string &state, uint32_t keyframe_number) {
    fingerprint::Print p;
    p.keyframe_number = keyframe_number;
    p.messages = fingerprint::messages_mark(root(state));
    p.members = fingerprint::members_of(root_container(state));
    return p;
}

} // namespace

// The session keeps a base and a patch: the patch of a state against an older base gives back
// the state's whole fingerprint (members set, removed, and patched at any depth; bookkeeping
// and messages mark from the patch).
TEST(Fingerprint, APatchOverItsBaseGivesTheWholeFingerprint) {
    for (int depth : {3, 5, 8}) {
        Builder b;
        std::string old_state = deep_state(b, depth, 1, 2);
        fingerprint::Print base_print = print_of(old_state, 1);
        std::string base = fingerprint::serialize(base_print);
        for (const std::string &next_state :
             {deep_state(b, depth, 2, 2), deep_state(b, depth, 9, 5),
              deep_state_without(b, depth, {7, 42}), old_state,
              agent_state(b, 3, 1)}) { // nothing in common with the base
            fingerprint::Print next = print_of(next_state, 4);
            next.deltas_since = 2;
            std::string patch = fingerprint::serialize_patch(next, base, &base_print.members);
            fingerprint::Print back;
            std::vector<fingerprint::Member> base_members;
            ASSERT_TRUE(fingerprint::parse(base, patch, &back, &base_members)) << depth;
            EXPECT_EQ(fingerprint::serialize(back), fingerprint::serialize(next)) << depth;
            EXPECT_EQ(fingerprint::serialize_patch(back, base, &base_members), patch);
        }
        // no patch: the base alone
        fingerprint::Print back;
        ASSERT_TRUE(fingerprint::parse(base, "", &back));
        EXPECT_EQ(fingerprint::serialize(back), base);
    }
}

// What a save rewrites is the patch: two facts changed deep in a 100-key object take about
// their own hashes, not the object's.
TEST(Fingerprint, APatchCostsTheChangedMembers) {
    for (int depth : {3, 5, 8}) {
        Builder b;
        std::string old_state = deep_state(b, depth, 1, 2);
        fingerprint::Print base_print = print_of(old_state, 1);
        std::string base = fingerprint::serialize(base_print);
        std::string same = fingerprint::serialize_patch(base_print, base, &base_print.members);
        EXPECT_EQ(fingerprint::patch_edit_bytes(same), 1u); // an edit count of 0
        fingerprint::Print next = print_of(deep_state(b, depth, 2, 2), 1);
        std::string patch = fingerprint::serialize_patch(next, base, &base_print.members);
        ASSERT_GT(base.size(), 1500u);
        // the two facts and the turn counter, 18 bytes each (key hash, operation, kind,
        // value hash), and 10 bytes per object on the way down (edit count, key hash,
        // operation)
        EXPECT_EQ(fingerprint::patch_edit_bytes(patch), 1u + 3u * 18 + 10u * (depth - 1))
            << depth;
        // over a limit, no patch (the save writes a new base instead)
        size_t edits = fingerprint::patch_edit_bytes(patch);
        EXPECT_EQ(fingerprint::serialize_patch(next, base, &base_print.members, edits), patch);
        EXPECT_TRUE(
            fingerprint::serialize_patch(next, base, &base_print.members, edits - 20).empty());
    }
}

// A patch belongs to its base: against another base, damaged, or given as a base, it does
// not parse (the save then stores a keyframe).
TEST(Fingerprint, APatchParsesOnlyOverItsOwnBase) {
    Builder b;
    std::string a = deep_state(b, 3, 1, 2);
    fingerprint::Print pa = print_of(a, 1);
    std::string base = fingerprint::serialize(pa);
    fingerprint::Print other = pa;
    other.keyframe_number = 2;
    std::string other_base = fingerprint::serialize(other);
    fingerprint::Print next = print_of(deep_state(b, 3, 2, 2), 1);
    const std::string patch = fingerprint::serialize_patch(next, base, &pa.members);
    fingerprint::Print back;
    ASSERT_TRUE(fingerprint::parse(base, patch, &back));
    EXPECT_FALSE(fingerprint::parse(other_base, patch, &back));
    EXPECT_FALSE(fingerprint::parse(patch, "", &back));
    EXPECT_FALSE(fingerprint::parse(base, base, &back));
    for (size_t i = 0; i < patch.size(); ++i) {
        std::string damaged = patch;
        damaged[i] = static_cast<char>(damaged[i] ^ 0x10);
        EXPECT_FALSE(fingerprint::parse(base, damaged, &back)) << "byte " << i;
    }
}
