#include "core/error.hpp"
#include "core/message_refs.hpp"
#include "core/message_versions.hpp"
#include "jsonb_builder.hpp"

#include <gtest/gtest.h>

#include <random>

using namespace sp;
using sp::message_refs::Ref;
using sp::message_refs::Refs;
using sp::test::Builder;
using sp::test::root;
using sp::test::root_container;

namespace {

std::vector<int32_t> orders_of(const std::vector<Ref> &list) {
    std::vector<int32_t> out;
    for (const Ref &r : list)
        out.push_back(r.order);
    return out;
}

Refs decoded(const std::string &bytes) {
    Refs out;
    EXPECT_TRUE(message_refs::decode(bytes, &out, 1 << 20));
    return out;
}

} // namespace

TEST(MessageRefs, RunsOfOrdersEncodeInAFewBytes) {
    Refs refs;
    for (int32_t o = 1; o <= 500; ++o)
        refs.entries.push_back(Ref::row(o));
    std::string bytes = message_refs::encode(refs);
    EXPECT_LE(bytes.size(), 5u) << "one run: kind, tag, start";
    EXPECT_EQ(orders_of(decoded(bytes).entries), orders_of(refs.entries));
}

TEST(MessageRefs, GapsBackwardsAndInlineElementsRoundTrip) {
    Builder b;
    std::string element = jsonb::encode(b.obj({{"role", b.str("assistant")}, {"content", b.null()}}));
    std::string number = jsonb::encode(b.num(7));
    Refs refs;
    refs.whole = false;
    refs.keep = 12;
    for (int32_t o : {3, 4, 5, 9, 2, 1000000, 1000001})
        refs.entries.push_back(Ref::row(o));
    refs.entries.insert(refs.entries.begin() + 2, Ref::inline_element(root(element)));
    refs.entries.push_back(Ref::inline_element(root_container(number).element(0)));
    std::string bytes = message_refs::encode(refs); // the decoded views point into it
    Refs back = decoded(bytes);
    EXPECT_FALSE(back.whole);
    EXPECT_EQ(back.keep, 12u);
    ASSERT_EQ(back.entries.size(), refs.entries.size());
    for (size_t i = 0; i < refs.entries.size(); ++i) {
        EXPECT_EQ(back.entries[i].order, refs.entries[i].order) << i;
        if (refs.entries[i].order == 0)
            EXPECT_TRUE(back.entries[i].element.same_bytes(refs.entries[i].element)) << i;
    }
}

TEST(MessageRefs, RandomListsRoundTrip) {
    std::mt19937 rng(11);
    Builder b;
    for (int round = 0; round < 200; ++round) {
        std::vector<std::string> docs;
        Refs refs;
        refs.whole = rng() % 2;
        refs.keep = refs.whole ? 0 : rng() % 50;
        size_t n = rng() % 40;
        docs.reserve(n);
        int32_t order = 1 + static_cast<int32_t>(rng() % 100);
        for (size_t i = 0; i < n; ++i) {
            if (rng() % 5 == 0) {
                docs.push_back(jsonb::encode(b.random(rng, 3)));
                refs.entries.push_back(Ref::inline_element(root(docs.back())));
            } else {
                order = std::max<int32_t>(1, order + static_cast<int32_t>(rng() % 7) - 2);
                refs.entries.push_back(Ref::row(order));
            }
        }
        std::string bytes = message_refs::encode(refs);
        Refs back = decoded(bytes);
        ASSERT_EQ(back.whole, refs.whole);
        ASSERT_EQ(back.keep, refs.keep);
        ASSERT_EQ(back.entries.size(), refs.entries.size());
        for (size_t i = 0; i < n; ++i) {
            ASSERT_EQ(back.entries[i].order, refs.entries[i].order);
            if (refs.entries[i].order == 0)
                ASSERT_TRUE(back.entries[i].element.same_bytes(refs.entries[i].element));
        }
    }
}

TEST(MessageRefs, CutReferencesRoundTripAndEndRuns) {
    Builder b;
    std::string meta = jsonb::encode(b.obj({{"status", b.str("streaming")}}));
    Refs refs;
    refs.entries = {Ref::row(1), Ref::row(2), Ref::cut_row(3, 17, root(meta)), Ref::row(4),
                    Ref::row(3)};
    std::string bytes = message_refs::encode(refs);
    Refs back = decoded(bytes);
    ASSERT_EQ(back.entries.size(), refs.entries.size());
    for (size_t i = 0; i < refs.entries.size(); ++i)
        EXPECT_TRUE(back.entries[i].same(refs.entries[i])) << i;
    EXPECT_TRUE(back.entries[2].cut);
    EXPECT_EQ(back.entries[2].content_length, 17u);
    EXPECT_FALSE(back.entries[4].cut) << "the row itself, after its cut";
}

TEST(MessageRefs, DamagedBytesAreRefused) {
    Refs refs;
    refs.entries = {Ref::row(1), Ref::row(2), Ref::row(9)};
    std::string bytes = message_refs::encode(refs);
    Refs out;
    EXPECT_FALSE(message_refs::decode("", &out, 1 << 20));
    EXPECT_FALSE(message_refs::decode("X", &out, 1 << 20));
    EXPECT_FALSE(message_refs::decode(bytes.substr(0, bytes.size() - 1), &out, 1 << 20));
    EXPECT_FALSE(message_refs::decode(std::string("D\xff", 2), &out, 1 << 20));  // truncated varint
    EXPECT_FALSE(message_refs::decode(std::string("F\x03\x10", 3), &out, 1 << 20)); // inline past the end
    EXPECT_FALSE(message_refs::decode(std::string("F\x02\x03", 3), &out, 1 << 20)); // order below 1
    // every truncation and every single-byte change decodes or is refused, never crashes
    for (size_t cut = 0; cut <= bytes.size(); ++cut)
        message_refs::decode(bytes.substr(0, cut), &out, 1 << 20);
    for (size_t i = 0; i < bytes.size(); ++i)
        for (int v = 0; v < 256; ++v) {
            std::string damaged = bytes;
            damaged[i] = static_cast<char>(v);
            message_refs::decode(damaged, &out, 1 << 20);
        }
}

TEST(MessageRefs, ARunLongerThanTheStateCanHoldIsRefused) {
    Refs refs;
    for (int32_t o = 1; o <= 100; ++o)
        refs.entries.push_back(Ref::row(o));
    std::string bytes = message_refs::encode(refs);
    Refs out;
    EXPECT_TRUE(message_refs::decode(bytes, &out, 100));
    EXPECT_FALSE(message_refs::decode(bytes, &out, 99));
    // a run of 2^40 orders in six bytes
    EXPECT_FALSE(message_refs::decode(std::string("F\x80\x80\x80\x80\x80\x40\x00", 8), &out,
                                      message_refs::max_entries_for(16 << 20)));
}

TEST(MessageRefs, FoldKeepsThenAppends) {
    std::vector<Ref> list;
    Refs whole;
    whole.entries = {Ref::row(1), Ref::row(2), Ref::row(3)};
    ASSERT_TRUE(message_refs::fold(&list, whole));
    Refs step;
    step.whole = false;
    step.keep = 2;
    step.entries = {Ref::row(7)};
    ASSERT_TRUE(message_refs::fold(&list, step));
    EXPECT_EQ(orders_of(list), (std::vector<int32_t>{1, 2, 7}));
    step.keep = 4; // more than the list has: does not fit
    EXPECT_FALSE(message_refs::fold(&list, step));
}

TEST(MessageRefs, FoldChainStartsOverAtARowWithoutReferences) {
    Refs whole;
    whole.entries = {Ref::row(1), Ref::row(2)};
    Refs step;
    step.whole = false;
    step.keep = 1;
    step.entries = {Ref::row(5)};
    std::string w = message_refs::encode(whole), d = message_refs::encode(step);
    using message_refs::Folded;
    using message_refs::RowRefs;
    std::vector<Ref> list;
    EXPECT_EQ(message_refs::fold_chain({RowRefs{true, w, 100}, RowRefs{true, d, 100}}, &list),
              Folded::List);
    EXPECT_EQ(orders_of(list), (std::vector<int32_t>{1, 5}));
    EXPECT_EQ(message_refs::fold_chain({RowRefs{true, w, 100}, RowRefs{}}, &list), Folded::None);
    // a delta after a row without references has nothing to keep from
    EXPECT_EQ(message_refs::fold_chain({RowRefs{true, w, 100}, RowRefs{}, RowRefs{true, d, 100}}, &list),
              Folded::Damaged);
    EXPECT_EQ(message_refs::fold_chain({RowRefs{true, "Fxx", 100}}, &list), Folded::Damaged);
}

TEST(MessageRefs, StoredFormAndBackGiveTheSameBytes) {
    Builder b;
    std::vector<jsonb::Node> messages = {
        b.obj({{"role", b.str("user")}, {"content", b.str("hi")}}),
        b.obj({{"role", b.str("assistant")}, {"content", b.str("hello")}, {"a", b.num(1)},
               {"zzzzzzzzzzzzzzzz", b.arr({b.boolean(true)})}}),
        b.obj({{"role", b.str("tool")}, {"content", b.null()}})};
    std::string state = jsonb::encode(b.obj({{"turn", b.num(3)},
                                             {"messages", b.arr(messages)},
                                             {"memory", b.obj({{"k", b.str("v")}})}}));
    std::string stored = message_refs::without_messages(root_container(state));
    jsonb::Value ignored;
    EXPECT_FALSE(root_container(stored).find("messages", &ignored));
    EXPECT_TRUE(root_container(stored).find("memory", &ignored));

    // the messages, rebuilt from rows (role, content, the rest as metadata) where a row gives
    // them back, the third inline
    jsonb::Value list;
    ASSERT_TRUE(root_container(state).find("messages", &list));
    jsonb::Container array(list, "XX001");
    std::string meta0 = jsonb::encode(b.obj({}));
    std::string meta1 = jsonb::encode(b.obj({{"a", b.num(1)}, {"zzzzzzzzzzzzzzzz", b.arr({b.boolean(true)})}}));
    EXPECT_TRUE(message_refs::row_gives_back(array.element(0)));
    EXPECT_TRUE(message_refs::row_gives_back(array.element(1)));
    EXPECT_FALSE(message_refs::row_gives_back(array.element(2))) << "content null";
    std::vector<jsonb::Node> rebuilt;
    rebuilt.push_back(*message_refs::message_from_row("user", "hi", root_container(meta0)));
    rebuilt.push_back(*message_refs::message_from_row("assistant", "hello", root_container(meta1)));
    rebuilt.push_back(jsonb::Node::of(array.element(2)));
    EXPECT_EQ(message_refs::with_messages(root_container(stored), std::move(rebuilt)), state);
}

TEST(MessageRefs, RowsThatCannotBeAMessageAreRefused) {
    Builder b;
    std::string with_role = jsonb::encode(b.obj({{"role", b.str("x")}}));
    EXPECT_FALSE(message_refs::message_from_row("user", "c", root_container(with_role)));
    std::string stored = jsonb::encode(b.obj({{"messages", b.arr({})}}));
    EXPECT_THROW(message_refs::with_messages(root_container(stored), {}), Error);
    std::string scalar = jsonb::encode(b.arr({}));
    EXPECT_THROW(message_refs::with_messages(root_container(scalar), {}), Error);
}

TEST(MessageVersions, VersionsSayWhereEachKeptElementWas) {
    Builder b;
    auto array = [&](std::vector<std::string> contents) {
        std::vector<jsonb::Node> ms;
        for (auto &c : contents)
            ms.push_back(b.obj({{"role", b.str("user")}, {"content", b.str(c)}}));
        return jsonb::encode(b.arr(ms));
    };
    std::string p = array({"a", "b", "c", "d"}), n = array({"a", "x", "d", "c", "y"});
    messages::Mark mark = messages::mark_of(root_container(p));
    std::optional<messages::Versions> v = messages::versions(mark, root_container(n));
    ASSERT_TRUE(v);
    EXPECT_EQ(v->shared, 1u);
    EXPECT_EQ(v->source, (std::vector<int64_t>{-1, 3, 2, -1}));
}
