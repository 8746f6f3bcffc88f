// Shared by the fuzz targets: documents derived from the fuzzer's bytes, and a check that a
// jsonb buffer is laid out exactly as PostgreSQL's convertToJsonb lays it out, written
// against the format (src/include/utils/jsonb.h) rather than with the core's reader.
#pragma once

#include "core/error.hpp"
#include "core/json_tree.hpp"
#include "core/jsonb_format.hpp"
#include "jsonb_builder.hpp"

#include <fuzzer/FuzzedDataProvider.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace sp::fuzz {

using jsonb::Container;
using jsonb::Node;
using jsonb::Type;
using jsonb::Value;

[[noreturn]] inline void fail(const char *what) {
    fprintf(stderr, "fuzz check failed: %s\n", what);
    abort();
}

#define FUZZ_CHECK(cond)                                                                           \
    do {                                                                                           \
        if (!(cond))                                                                               \
            ::sp::fuzz::fail(#cond);                                                               \
    } while (0)

using test::root;           // of jsonb::encode's output
using test::root_container; // the same, as a container

// Bytes in a heap block of exactly their size, so that AddressSanitizer reports any read
// past their end (a std::string's spare capacity would hide it).
struct ExactBytes {
    std::unique_ptr<char[]> data;
    uint32_t size = 0;
    explicit ExactBytes(std::string_view bytes)
        : data(new char[bytes.size() ? bytes.size() : 1]),
          size(static_cast<uint32_t>(bytes.size())) {
        if (!bytes.empty())
            memcpy(data.get(), bytes.data(), bytes.size());
    }
};

// The root of a stored datum's bytes (those after the varlena header).
inline Value root_of(const ExactBytes &b) {
    return jsonb::root_value(b.data.get(), b.size, "XX001");
}

// Encoded documents as a restore reads them: each in a block of exactly its size.
class Stored {
  public:
    explicit Stored(const std::vector<std::string> &docs) {
        for (const std::string &d : docs)
            bytes_.emplace_back(std::string_view(d).substr(4));
        for (const ExactBytes &b : bytes_)
            roots_.push_back(root_of(b));
    }
    const std::vector<Value> &roots() const { return roots_; }

  private:
    std::vector<ExactBytes> bytes_;
    std::vector<Value> roots_;
};

// ------------------------------------------------------------------ canonical layout check

namespace detail {

inline uint32_t u32(const char *p) {
    uint32_t v;
    memcpy(&v, p, sizeof v);
    return v;
}

inline int key_order(std::string_view a, std::string_view b) {
    if (a.size() != b.size())
        return a.size() < b.size() ? -1 : 1;
    return a.empty() ? 0 : memcmp(a.data(), b.data(), a.size());
}

// A numeric as PostgreSQL stores one in jsonb: a 4-byte varlena header holding its length,
// then a short- or long-format numeric header.
inline void check_numeric(const char *p, uint32_t length) {
    FUZZ_CHECK(length >= 6);
    uint32_t vl = u32(p);
    FUZZ_CHECK((vl & 3) == 0 && (vl >> 2) == length);
}

// `at` is the container's offset from the root; the root itself is int-aligned.
inline void check_container(const char *root, uint32_t at, uint32_t length, bool is_root) {
    FUZZ_CHECK(length >= 4);
    const char *c = root + at;
    uint32_t header = u32(c);
    uint32_t count = header & jsonb::count_mask;
    bool object = header & jsonb::flag_object, array = header & jsonb::flag_array;
    bool scalar = header & jsonb::flag_scalar;
    FUZZ_CHECK((header & 0x80000000u) == 0);
    FUZZ_CHECK(object != array);
    FUZZ_CHECK(!scalar || (is_root && array && count == 1));
    uint64_t entries = object ? 2 * uint64_t(count) : count;
    FUZZ_CHECK(4 + 4 * entries <= length);
    uint32_t payload = at + 4 + 4 * static_cast<uint32_t>(entries);
    uint32_t payload_size = length - 4 - 4 * static_cast<uint32_t>(entries);
    uint32_t end = 0;
    std::string_view previous_key;
    for (uint32_t i = 0; i < entries; ++i) {
        uint32_t e = u32(c + 4 + 4 * i);
        bool has_offset = e & jsonb::has_offset;
        FUZZ_CHECK(has_offset == (i % jsonb::offset_stride == 0));
        uint32_t field = e & jsonb::offlen_mask;
        uint32_t start = end;
        end = has_offset ? field : start + field;
        FUZZ_CHECK(end >= start && end <= payload_size);
        uint32_t type = e & jsonb::type_mask;
        bool is_key = object && i < count;
        FUZZ_CHECK(!is_key || type == static_cast<uint32_t>(Type::String));
        switch (static_cast<Type>(type)) {
        case Type::String:
            if (is_key) {
                std::string_view key(root + payload + start, end - start);
                FUZZ_CHECK(i == 0 || key_order(previous_key, key) < 0);
                previous_key = key;
            }
            break;
        case Type::Numeric:
        case Type::Container: {
            uint32_t pad = (4 - (payload + start) % 4) % 4;
            FUZZ_CHECK(end - start >= pad);
            for (uint32_t k = 0; k < pad; ++k)
                FUZZ_CHECK(root[payload + start + k] == 0);
            uint32_t value_at = payload + start + pad, value_length = end - start - pad;
            if (static_cast<Type>(type) == Type::Numeric) {
                check_numeric(root + value_at, value_length);
            } else {
                FUZZ_CHECK(!scalar);
                check_container(root, value_at, value_length, false);
            }
            break;
        }
        case Type::False:
        case Type::True:
        case Type::Null:
            FUZZ_CHECK(end == start);
            break;
        default:
            fail("unknown JEntry type");
        }
    }
    FUZZ_CHECK(end == payload_size);
}

} // namespace detail

// Aborts unless `doc` (jsonb::encode's output) is a jsonb datum laid out as PostgreSQL would.
inline void check_canonical(const std::string &doc) {
    FUZZ_CHECK(doc.size() >= 8);
    FUZZ_CHECK(detail::u32(doc.data()) == 0); // the varlena header is left to the caller
    detail::check_container(doc.data() + 4, 0, static_cast<uint32_t>(doc.size() - 4), true);
}

// Containers nested around the deepest value (0 for a scalar).
inline int nesting(const Value &v) {
    if (!v.is_container())
        return 0;
    Container c(v, "XX001");
    int deepest = 0;
    for (uint32_t i = 0; i < c.size(); ++i)
        deepest = std::max(deepest, nesting(c.is_object() ? c.value(i) : c.element(i)));
    return deepest + 1;
}

// ------------------------------------------------------------------ documents from bytes

// Builds jsonb values from the fuzzer's bytes. When the bytes run out every choice reads 0,
// which picks the plainest option, so generation always ends.
class Gen {
  public:
    explicit Gen(FuzzedDataProvider &in) : in_(in) {}

    FuzzedDataProvider &in() { return in_; }

    int pick(int options) { return in_.ConsumeIntegralInRange<int>(0, options - 1); }
    bool chance(int one_in) { return pick(one_in) == one_in - 1; }

    // A random value; `depth` bounds ordinary nesting (a rare "deep" choice goes past it).
    Node value(int depth) {
        if (nodes_ >= max_nodes)
            return scalar();
        ++nodes_;
        int what = depth <= 0 ? pick(6) : pick(14);
        if (what < 6)
            return scalar();
        if (what < 9)
            return object(depth - 1);
        if (what < 12)
            return array(depth - 1);
        if (what == 12)
            return empty_container();
        return deep(value(0));
    }

    Node object(int depth) {
        Node n = Node::object();
        size_t count = member_count();
        for (size_t i = 0; i < count && nodes_ < max_nodes; ++i)
            n.members.emplace_back(key(i), value(depth));
        settle(n);
        return n;
    }

    Node array(int depth) {
        Node n = Node::array();
        size_t count = member_count();
        for (size_t i = 0; i < count && nodes_ < max_nodes; ++i)
            n.elements.push_back(value(depth));
        return n;
    }

    // A document derived from v: parts kept (as views of v), dropped, inserted, changed.
    Node mutate(const Value &v, int budget_depth) {
        ++nodes_;
        int what = pick(11);
        if (what == 1 || nodes_ >= max_nodes)
            return Node::of(v);
        if (what == 10)
            return edit_path(v, 0);
        if (what == 2)
            return value(2);
        if (what == 3)
            return scalar_like(v);
        if (what == 4) // wrap it
            return pick(2) ? wrap_array(Node::of(v)) : wrap_object(Node::of(v));
        if (!v.is_container() || budget_depth <= 0)
            return what == 5 ? Node::of(v) : scalar_like(v);
        Container c(v, "XX001");
        if (what == 5 && c.size() > 0) // unwrap: one of its children takes its place
            return Node::of(c.is_object() ? c.value(pick(c.size())) : c.element(pick(c.size())));
        return c.is_object() ? mutate_object(c, budget_depth) : mutate_array(c, budget_depth);
    }

    // A key: mostly from a small pool so that documents share keys, sometimes raw bytes.
    std::string_view key(size_t index) {
        static const char *const pool[] = {"a",
                                           "b",
                                           "c",
                                           "r",
                                           "o",
                                           "x",
                                           "n",
                                           "p",
                                           "",
                                           "k1",
                                           "k2",
                                           "k10",
                                           "0",
                                           "1",
                                           "messages",
                                           "role",
                                           "aa",
                                           "ab",
                                           "\xc3\xa9",
                                           "\xe6\x97\xa5\xe6\x9c\xac",
                                           "\xf0\x9f\x98\x80",
                                           "key with space",
                                           "content",
                                           "01"};
        int what = pick(4);
        if (what == 0)
            return keep("k" + std::to_string(index));
        if (what == 3)
            return keep(in_.ConsumeRandomLengthString(12));
        return pool[pick(sizeof pool / sizeof *pool)];
    }

    Node string() {
        static const char *const pool[] = {"",
                                           "a",
                                           "\xc3\xa9t\xc3\xa9",
                                           "\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e",
                                           "\xf0\x9f\x98\x80 emoji",
                                           "quote \" backslash \\ newline \n tab \t",
                                           "\x01\x1f control",
                                           "user",
                                           "assistant"};
        int what = pick(6);
        if (what == 0)
            return leaf(Type::String, keep(in_.ConsumeRandomLengthString(64)));
        if (what == 1) // long enough to matter for the codec's size heuristics
            return leaf(Type::String, keep(std::string(in_.ConsumeIntegralInRange<size_t>(0, 3000),
                                                       static_cast<char>('a' + pick(26)))));
        return leaf(Type::String, keep(pool[pick(sizeof pool / sizeof *pool)]));
    }

    Node number() {
        if (pick(2) == 0)
            return leaf(Type::Numeric,
                        keep(jsonb::encode_small_int(pick(3) == 0 ? in_.ConsumeIntegral<uint32_t>()
                                                                  : pick(40))));
        bool negative = pick(2);
        int weight = in_.ConsumeIntegralInRange<int>(-3, 4);
        int dscale = pick(2) ? 0 : in_.ConsumeIntegralInRange<int>(0, 70);
        std::vector<uint16_t> digits(pick(5));
        for (auto &d : digits)
            d = in_.ConsumeIntegralInRange<uint16_t>(1, 9999);
        return leaf(Type::Numeric, keep(numeric_bytes(negative, weight, dscale, digits)));
    }

    Node scalar() {
        switch (pick(6)) {
        case 0:
            return leaf(Type::Null, {});
        case 1:
        case 2:
            return number();
        case 3:
            return leaf(pick(2) ? Type::True : Type::False, {});
        default:
            return string();
        }
    }

    // A PostgreSQL numeric (short format when it fits, as PostgreSQL writes it) with a
    // 4-byte varlena header. Digits are base 10000, no leading or trailing zero digit.
    static std::string numeric_bytes(bool negative, int weight, int dscale,
                                     const std::vector<uint16_t> &digits) {
        if (digits.empty()) {
            negative = false;
            weight = 0;
        }
        std::string out(4, '\0');
        auto put16 = [&](uint16_t v) { out.append(reinterpret_cast<const char *>(&v), 2); };
        if (dscale <= 0x3F && weight >= -64 && weight <= 63) {
            uint16_t header = 0x8000 | (negative ? 0x2000 : 0) |
                              static_cast<uint16_t>((dscale << 7) & 0x1F80) |
                              (weight < 0 ? 0x0040 : 0) | static_cast<uint16_t>(weight & 0x3F);
            put16(header);
        } else {
            put16(static_cast<uint16_t>((negative ? 0x4000 : 0) | (dscale & 0x3FFF)));
            put16(static_cast<uint16_t>(static_cast<int16_t>(weight)));
        }
        for (uint16_t d : digits)
            put16(d);
        uint32_t vl = static_cast<uint32_t>(out.size()) << 2;
        memcpy(&out[0], &vl, 4);
        return out;
    }

    // Keeps bytes alive as long as the generator, for views to point at.
    std::string_view keep(std::string s) { return builder_.keep(std::move(s)); }
    static Node leaf(Type t, std::string_view bytes) { return test::Builder::leaf(t, bytes); }

    // Object members into jsonb order, duplicates dropped (the first one stays).
    static void settle(Node &object) {
        std::stable_sort(
            object.members.begin(), object.members.end(),
            [](const auto &a, const auto &b) { return detail::key_order(a.first, b.first) < 0; });
        object.members.erase(
            std::unique(object.members.begin(), object.members.end(),
                        [](const auto &a, const auto &b) { return a.first == b.first; }),
            object.members.end());
    }

  private:
    static constexpr size_t max_nodes = 4000;

    size_t member_count() {
        switch (pick(8)) {
        case 0:
            return 0;
        case 7: // past jsonb's offset stride (every 32nd entry stores an offset)
            return in_.ConsumeIntegralInRange<size_t>(30, 140);
        default:
            return in_.ConsumeIntegralInRange<size_t>(1, 6);
        }
    }

    Node empty_container() { return pick(2) ? Node::object() : Node::array(); }

    Node wrap_array(Node inner) {
        Node n = Node::array();
        n.elements.push_back(std::move(inner));
        return n;
    }
    Node wrap_object(Node inner) {
        Node n = Node::object();
        n.members.emplace_back(key(0), std::move(inner));
        return n;
    }

    // A value nested in many containers, around the codec's depth limit (1000) at times.
    // With ballast (an unchanging sibling at every level) a change far down stays cheaper
    // to describe as a patch at every level than as a replacement.
    Node deep(Node inner) {
        int levels = pick(4) == 0 ? in_.ConsumeIntegralInRange<int>(990, 1010)
                                  : in_.ConsumeIntegralInRange<int>(1, 40);
        bool objects = pick(3) == 0, arrays = pick(3) == 0;
        std::string_view ballast = pick(2) ? keep(std::string(pick(200), 'b')) : std::string_view();
        for (int i = 0; i < levels; ++i) {
            inner = (objects || (!arrays && i % 2)) ? wrap_object(std::move(inner))
                                                    : wrap_array(std::move(inner));
            if (ballast.empty())
                continue;
            if (inner.kind == Node::Kind::Object) {
                inner.members.emplace_back("~ballast", leaf(Type::String, ballast));
                settle(inner);
            } else {
                inner.elements.push_back(leaf(Type::String, ballast));
            }
        }
        return inner;
    }

    // v with one value far down changed: every level on the way keeps its other members.
    Node edit_path(const Value &v, int depth) {
        if (!v.is_container() || depth > 1100)
            return scalar_like(v);
        Container c(v, "XX001");
        uint32_t n = c.size();
        if (n == 0)
            return value(1);
        auto child = [&](uint32_t i) { return c.is_object() ? c.value(i) : c.element(i); };
        uint32_t chosen = n - 1; // the way down: the first container, or any member
        for (uint32_t i = 0; i < n; ++i)
            if (child(i).is_container()) {
                chosen = i;
                break;
            }
        if (pick(4) == 0)
            chosen = pick(static_cast<int>(std::min(n, 1000u)));
        Node out = c.is_object() ? Node::object() : Node::array();
        for (uint32_t i = 0; i < n; ++i) {
            Node e = i == chosen ? edit_path(child(i), depth + 1) : Node::of(child(i));
            if (c.is_object())
                out.members.emplace_back(c.key(i), std::move(e));
            else
                out.elements.push_back(std::move(e));
        }
        return out;
    }

    // A scalar close to v: same type with another value, or another type.
    Node scalar_like(const Value &v) {
        if (v.type == Type::String && v.length > 0 && pick(2)) {
            std::string s(v.data, v.length);
            s[pick(static_cast<int>(std::min<uint32_t>(s.size(), 1000)))] ^= 1;
            return leaf(Type::String, keep(std::move(s)));
        }
        if (v.type == Type::Numeric && pick(2))
            return number();
        return scalar();
    }

    Node mutate_object(const Container &c, int budget_depth) {
        Node n = Node::object();
        for (uint32_t i = 0; i < c.size(); ++i) {
            switch (pick(8)) {
            case 3: // dropped
                break;
            case 4:
            case 5:
                n.members.emplace_back(c.key(i), mutate(c.value(i), budget_depth - 1));
                break;
            case 6:
                n.members.emplace_back(c.key(i), value(2));
                break;
            case 7: // renamed
                n.members.emplace_back(key(i), Node::of(c.value(i)));
                break;
            default:
                n.members.emplace_back(c.key(i), Node::of(c.value(i)));
            }
        }
        for (int added = pick(4) == 0 ? pick(4) : 0; added > 0; --added)
            n.members.emplace_back(key(c.size() + added), value(2));
        settle(n);
        return n;
    }

    Node mutate_array(const Container &c, int budget_depth) {
        Node n = Node::array();
        uint32_t size = c.size();
        if (size > 0 && pick(6) == 0) // cut short
            size = in_.ConsumeIntegralInRange<uint32_t>(0, size - 1);
        for (uint32_t i = 0; i < size; ++i) {
            Value e = c.element(i);
            switch (pick(10)) {
            case 3: // removed from the middle
                break;
            case 4:
            case 5:
                n.elements.push_back(mutate(e, budget_depth - 1));
                break;
            case 6: // inserted in the middle
                n.elements.push_back(value(2));
                n.elements.push_back(Node::of(e));
                break;
            case 7:
                n.elements.push_back(value(2));
                break;
            case 8: // repeated
                n.elements.push_back(Node::of(e));
                n.elements.push_back(Node::of(e));
                break;
            default:
                n.elements.push_back(Node::of(e));
            }
        }
        for (int appended = pick(3) == 0 ? pick(5) : 0; appended > 0; --appended)
            n.elements.push_back(value(2));
        return n;
    }

    FuzzedDataProvider &in_;
    test::Builder builder_;
    size_t nodes_ = 0;
};

} // namespace sp::fuzz
