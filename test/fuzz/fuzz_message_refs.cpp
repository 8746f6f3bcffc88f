// Messages by reference (core/message_refs.hpp). From the fuzzer's bytes: (1) arbitrary bytes
// as a stored reference list decode or are refused, and what decodes encodes back to a list
// that decodes the same; (2) a state with a messages array of generated elements, split as a
// save splits it (the stored form, each element either a row's role/content/metadata or
// inline, some as a cut of a longer row), gives back exactly the state's bytes.
#include "core/error.hpp"
#include "core/message_refs.hpp"
#include "fuzz_common.hpp"

#include <algorithm>
#include <deque>
#include <cstring>
#include <optional>

using namespace sp;
using namespace sp::fuzz;
using message_refs::Ref;
using message_refs::Refs;

namespace {

void check_same(const Refs &a, const Refs &b) {
    FUZZ_CHECK(a.whole == b.whole && a.keep == b.keep && a.entries.size() == b.entries.size());
    for (size_t i = 0; i < a.entries.size(); ++i)
        FUZZ_CHECK(a.entries[i].same(b.entries[i]));
}

// A message {role, content, ...rest} as a history row would hold it.
struct Row {
    std::string role, content, metadata; // metadata: an encoded jsonb object
};

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    FuzzedDataProvider in(data, size);
    // (1) stored bytes
    std::string raw = in.ConsumeRandomLengthString(256);
    uint64_t bound = in.ConsumeIntegralInRange<uint64_t>(0, 100000);
    Refs decoded;
    if (message_refs::decode(raw, &decoded, bound)) {
        FUZZ_CHECK(decoded.entries.size() <= bound);
        std::string again = message_refs::encode(decoded);
        Refs back;
        FUZZ_CHECK(message_refs::decode(again, &back, bound));
        check_same(decoded, back);
        size_t before = in.ConsumeIntegralInRange<size_t>(0, 64);
        std::vector<Ref> list(before, Ref::row(1));
        bool fits = message_refs::fold(&list, decoded);
        FUZZ_CHECK(fits == (decoded.whole || decoded.keep <= before));
        if (fits)
            FUZZ_CHECK(list.size() == (decoded.whole ? 0 : decoded.keep) + decoded.entries.size());
    }

    // (2) a state split and put back
    Gen gen(in);
    size_t count = in.ConsumeIntegralInRange<size_t>(0, 12);
    std::vector<Node> elements;
    std::vector<Row> rows;
    rows.reserve(count); // views point into the rows
    std::vector<bool> from_row;
    for (size_t i = 0; i < count; ++i) {
        from_row.push_back(!in.ConsumeBool());
        if (!from_row.back()) {
            elements.push_back(gen.value(3)); // anything: stays inline
            continue;
        }
        Row r{in.ConsumeBool() ? "user" : "assistant", in.ConsumeRandomLengthString(40), {}};
        Node meta = gen.object(2);
        meta.members.erase(std::remove_if(meta.members.begin(), meta.members.end(),
                                          [](auto &m) { return m.first == "role" || m.first == "content"; }),
                           meta.members.end());
        r.metadata = jsonb::encode(meta);
        rows.push_back(r);
        Node full = Node::object();
        Container mc = root_container(rows.back().metadata);
        for (uint32_t k = 0; k < mc.size(); ++k)
            full.members.emplace_back(mc.key(k), Node::of(mc.value(k)));
        full.members.emplace_back("role", Node::of(Value{jsonb::Type::String, rows.back().role.data(),
                                                         static_cast<uint32_t>(rows.back().role.size())}));
        full.members.emplace_back("content", Node::of(Value{jsonb::Type::String, rows.back().content.data(),
                                                            static_cast<uint32_t>(rows.back().content.size())}));
        full.sort_members();
        elements.push_back(std::move(full));
    }
    Node state = gen.object(2);
    state.members.erase(std::remove_if(state.members.begin(), state.members.end(),
                                       [](auto &m) { return m.first == "messages"; }),
                        state.members.end());
    Node array = Node::array();
    array.elements = elements;
    state.members.emplace_back("messages", std::move(array));
    state.sort_members();
    std::string doc;
    try {
        doc = jsonb::encode(state);
    } catch (const Error &) {
        return 0;
    }
    std::string stored = message_refs::without_messages(root_container(doc));
    Value list_value;
    FUZZ_CHECK(root_container(doc).find("messages", &list_value));
    Container list(list_value, "XX001");
    std::vector<Node> rebuilt;
    std::deque<std::string> longer_versions;
    size_t next_row = 0;
    for (uint32_t i = 0; i < list.size(); ++i) {
        Value e = list.element(i);
        FUZZ_CHECK(!from_row[i] || message_refs::row_gives_back(e));
        if (!from_row[i]) {
            rebuilt.push_back(Node::of(e));
            continue;
        }
        // the element is a row's message: rebuilt from the row, or from a longer version of
        // it cut back (a reply that grew)
        const Row &r = rows.at(next_row++);
        longer_versions.push_back(r.content + "…and more"); // the views point into it
        const std::string &longer = longer_versions.back();
        std::optional<Node> m = in.ConsumeBool()
            ? message_refs::message_from_row(r.role, r.content, root_container(r.metadata))
            : message_refs::message_from_row(r.role, std::string_view(longer).substr(0, r.content.size()),
                                             root_container(r.metadata));
        FUZZ_CHECK(m.has_value());
        rebuilt.push_back(std::move(*m));
    }
    std::string back = message_refs::with_messages(root_container(stored), std::move(rebuilt));
    FUZZ_CHECK(back == doc);
    return 0;
}
