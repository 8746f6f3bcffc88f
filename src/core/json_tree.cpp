#include "core/json_tree.hpp"

#include "core/error.hpp"

#include <algorithm>
#include <cstring>

namespace sp::jsonb {

void Node::sort_members() {
    std::sort(members.begin(), members.end(),
              [](const auto &a, const auto &b) { return compare_keys(a.first, b.first) < 0; });
}

namespace {

class Encoder {
  public:
    std::string out;

    Encoder() { out.assign(4, '\0'); } // the varlena header, filled in by the caller

    uint32_t value(const Node &n) {
        switch (n.kind) {
        case Node::Kind::View:
            return view(n.view);
        case Node::Kind::Object:
            return object(n);
        case Node::Kind::Array:
            return array(n.elements, false);
        }
        return 0;
    }

    void root(const Node &n) {
        if (n.kind == Node::Kind::View && !n.view.is_container()) {
            std::vector<Node> one{n};
            array(one, true);
        } else if (n.kind == Node::Kind::View) {
            append(n.view.bytes()); // the root starts aligned: no padding
        } else {
            value(n);
        }
    }

  private:
    uint32_t pad_to_int() {
        uint32_t pad = (4 - out.size() % 4) % 4;
        out.append(pad, '\0');
        return pad;
    }
    void append(std::string_view bytes) { out.append(bytes.data(), bytes.size()); }
    size_t reserve(size_t bytes) {
        size_t at = out.size();
        out.append(bytes, '\0');
        return at;
    }
    void put_u32(size_t at, uint32_t v) { memcpy(&out[at], &v, sizeof v); }
    static void check_length(uint64_t total) {
        if (total > offlen_mask)
            throw Error("54000",
                        "total size of jsonb elements exceeds the maximum of 268435455 bytes");
    }

    uint32_t view(const Value &v) {
        switch (v.type) {
        case Type::String:
            check_length(v.length);
            append(v.bytes());
            return static_cast<uint32_t>(Type::String) | v.length;
        case Type::Numeric:
        case Type::Container: {
            size_t start = out.size();
            pad_to_int();
            append(v.bytes());
            check_length(out.size() - start);
            return static_cast<uint32_t>(v.type) | static_cast<uint32_t>(out.size() - start);
        }
        default:
            return static_cast<uint32_t>(v.type);
        }
    }

    // One JEntry: every offset_stride-th entry stores the running end offset instead of
    // its length, as PostgreSQL does, so that random access stays cheap.
    static uint32_t jentry(uint32_t meta, uint64_t index, uint64_t total) {
        if (index % offset_stride == 0)
            return (meta & type_mask) | static_cast<uint32_t>(total) | has_offset;
        return meta;
    }

    uint32_t array(const std::vector<Node> &elements, bool raw_scalar) {
        size_t start = out.size();
        pad_to_int();
        uint32_t count = static_cast<uint32_t>(elements.size());
        if (count > count_mask)
            throw Error("54000", "jsonb array has too many elements");
        size_t header = reserve(4);
        put_u32(header, count | flag_array | (raw_scalar ? flag_scalar : 0));
        size_t entries = reserve(4 * size_t(count));
        uint64_t total = 0;
        for (uint32_t i = 0; i < count; ++i) {
            uint32_t meta = value(elements[i]);
            total += meta & offlen_mask;
            check_length(total);
            put_u32(entries + 4 * size_t(i), jentry(meta, i, total));
        }
        check_length(out.size() - start);
        return static_cast<uint32_t>(Type::Container) | static_cast<uint32_t>(out.size() - start);
    }

    uint32_t object(const Node &n) {
        size_t start = out.size();
        pad_to_int();
        uint32_t count = static_cast<uint32_t>(n.members.size());
        if (count > count_mask)
            throw Error("54000", "jsonb object has too many members");
        size_t header = reserve(4);
        put_u32(header, count | flag_object);
        size_t entries = reserve(8 * size_t(count));
        uint64_t total = 0;
        for (uint32_t i = 0; i < count; ++i) {
            std::string_view key = n.members[i].first;
            check_length(key.size());
            append(key);
            uint32_t meta = static_cast<uint32_t>(Type::String) | static_cast<uint32_t>(key.size());
            total += key.size();
            check_length(total);
            put_u32(entries + 4 * size_t(i), jentry(meta, i, total));
        }
        for (uint32_t i = 0; i < count; ++i) {
            uint32_t meta = value(n.members[i].second);
            total += meta & offlen_mask;
            check_length(total);
            put_u32(entries + 4 * (size_t(i) + count), jentry(meta, uint64_t(i) + count, total));
        }
        check_length(out.size() - start);
        return static_cast<uint32_t>(Type::Container) | static_cast<uint32_t>(out.size() - start);
    }
};

} // namespace

std::string encode(const Node &root) {
    Encoder e;
    e.root(root);
    return std::move(e.out);
}

} // namespace sp::jsonb
