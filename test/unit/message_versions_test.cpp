#include "core/message_versions.hpp"
#include "jsonb_builder.hpp"

#include <gtest/gtest.h>

using namespace sp;
using sp::test::Builder;
using sp::test::root_container;

namespace {

// An array of user messages whose contents are the given strings.
std::string array_of(Builder &b, const std::vector<std::string> &contents) {
    std::vector<jsonb::Node> messages;
    for (size_t i = 0; i < contents.size(); ++i)
        messages.push_back(b.obj({{"role", b.str("user")},
                                  {"content", b.str(contents[i])}}));
    return jsonb::encode(b.arr(messages));
}

// The contents `next` adds to the history after `previous`, with the mark's window or a
// full mark (the fallback when the window cannot tell).
std::vector<std::string> added(const std::vector<std::string> &previous,
                               const std::vector<std::string> &next, bool *needed_full = nullptr) {
    Builder b;
    std::string p = array_of(b, previous), n = array_of(b, next);
    messages::Mark mark = messages::mark_of(root_container(p));
    std::optional<std::vector<uint32_t>> fresh = messages::new_elements(mark, root_container(n));
    if (needed_full)
        *needed_full = !fresh;
    if (!fresh)
        fresh = messages::new_elements(messages::mark_of(root_container(p), true),
                                       root_container(n));
    EXPECT_TRUE(fresh.has_value());
    std::vector<std::string> out;
    for (uint32_t i : *fresh)
        out.push_back(next[i]);
    return out;
}

std::vector<std::string> numbered(int first, int last) {
    std::vector<std::string> out;
    for (int i = first; i <= last; ++i)
        out.push_back("m" + std::to_string(i));
    return out;
}

using List = std::vector<std::string>;

} // namespace

TEST(MessageVersions, AppendedMessagesAreNew) {
    EXPECT_EQ(added({}, {"a", "b"}), (List{"a", "b"}));
    EXPECT_EQ(added({"a", "b"}, {"a", "b", "c", "d"}), (List{"c", "d"}));
    EXPECT_EQ(added({"a", "b"}, {"a", "b"}), List{});
    // a repeated text is a new message when appended
    EXPECT_EQ(added({"ok", "fine"}, {"ok", "fine", "ok"}), (List{"ok"}));
}

TEST(MessageVersions, AMessageChangedInPlaceIsItsNewVersionOnly) {
    EXPECT_EQ(added({"q", "partial"}, {"q", "partial, longer"}), (List{"partial, longer"}));
    EXPECT_EQ(added({"q", "partial"}, {"q", "complete", "q2"}), (List{"complete", "q2"}));
    // deep in a long conversation, inside and beyond the window
    List before = numbered(1, 100), after = before;
    after[97] = "m98 edited";
    EXPECT_EQ(added(before, after), (List{"m98 edited"}));
    after = before;
    after[10] = "m11 edited";
    bool full = false;
    EXPECT_EQ(added(before, after, &full), (List{"m11 edited"}));
    EXPECT_TRUE(full) << "a change before the window needs the previous array";
}

TEST(MessageVersions, EditAndResendAddsTheReplacementOnly) {
    EXPECT_EQ(added({"q1", "a1", "q2", "a2"}, {"q1", "a1", "q2 edited"}), (List{"q2 edited"}));
}

TEST(MessageVersions, CompactionAddsWhatTheHistoryLacks) {
    EXPECT_EQ(added({"m1", "m2", "m3", "m4", "m5", "m6"}, {"summary", "m5", "m6", "m7"}),
              (List{"summary", "m7"}));
    List after{"summary"};
    for (const std::string &m : numbered(41, 81))
        after.push_back(m);
    EXPECT_EQ(added(numbered(1, 80), after), (List{"summary", "m81"}));
    EXPECT_EQ(added({"q1", "a1"}, {"summary"}), (List{"summary"}));
    EXPECT_EQ(added({"q1", "a1"}, {}), List{});
}

TEST(MessageVersions, RowsAreBoundedByWhatDiffers) {
    // a 10,000-message array with one appended message adds one row
    List before = numbered(1, 10000), after = before;
    after.push_back("new");
    EXPECT_EQ(added(before, after), (List{"new"}));
}

// Moving a mark forward by the appended elements gives the mark computed from scratch.
TEST(MessageVersions, AnExtendedMarkEqualsTheWholeMark) {
    Builder b;
    for (int before : {0, 5, 31, 32, 33, 100}) {
        for (int added : {0, 1, 40}) {
            std::string p = array_of(b, numbered(1, before));
            std::string n = array_of(b, numbered(1, before + added));
            messages::Mark moved =
                messages::extended(messages::mark_of(root_container(p)), root_container(n));
            messages::Mark whole = messages::mark_of(root_container(n));
            EXPECT_EQ(moved.length, whole.length);
            EXPECT_EQ(moved.prefix_hash, whole.prefix_hash) << before << " + " << added;
            EXPECT_EQ(moved.window, whole.window) << before << " + " << added;
        }
    }
}
