#include "core/message_refs.hpp"

#include "core/error.hpp"

namespace sp::message_refs {

using jsonb::Container;
using jsonb::Node;
using jsonb::Type;
using jsonb::Value;

namespace {

constexpr char whole_kind = 'F';
constexpr char delta_kind = 'D';
constexpr std::string_view messages_key = "messages";

void put_varint(std::string *out, uint64_t v) {
    while (v >= 0x80) {
        out->push_back(static_cast<char>((v & 0x7F) | 0x80));
        v >>= 7;
    }
    out->push_back(static_cast<char>(v));
}

bool get_varint(std::string_view in, size_t *at, uint64_t *v) {
    *v = 0;
    for (int shift = 0; shift < 64; shift += 7) {
        if (*at >= in.size())
            return false;
        uint8_t byte = static_cast<uint8_t>(in[(*at)++]);
        *v |= static_cast<uint64_t>(byte & 0x7F) << shift;
        if (!(byte & 0x80))
            return true;
    }
    return false;
}

uint64_t zigzag(int64_t v) { return (static_cast<uint64_t>(v) << 1) ^ static_cast<uint64_t>(v >> 63); }
int64_t unzigzag(uint64_t v) { return static_cast<int64_t>(v >> 1) ^ -static_cast<int64_t>(v & 1); }

Value string_value(std::string_view s) {
    return Value{Type::String, s.data(), static_cast<uint32_t>(s.size())};
}

bool is_string_member(const Container &object, std::string_view key) {
    Value v;
    return object.find(key, &v) && v.type == Type::String;
}

} // namespace

std::string encode(const Refs &refs) {
    std::string out(1, refs.whole ? whole_kind : delta_kind);
    if (!refs.whole)
        put_varint(&out, refs.keep);
    int64_t next_expected = 1;
    size_t i = 0;
    while (i < refs.entries.size()) {
        const Ref &r = refs.entries[i];
        if (r.order > 0 && !r.cut) {
            size_t n = 1;
            while (i + n < refs.entries.size() && !refs.entries[i + n].cut &&
                   refs.entries[i + n].order == r.order + static_cast<int32_t>(n))
                ++n;
            put_varint(&out, static_cast<uint64_t>(n) << 2);
            put_varint(&out, zigzag(static_cast<int64_t>(r.order) - next_expected));
            next_expected = static_cast<int64_t>(r.order) + static_cast<int64_t>(n);
            i += n;
        } else if (r.cut) {
            put_varint(&out, (static_cast<uint64_t>(r.element.length) << 2) | 2);
            put_varint(&out, static_cast<uint64_t>(r.order));
            put_varint(&out, r.content_length);
            out.append(r.element.data, r.element.length);
            ++i;
        } else {
            put_varint(&out, (static_cast<uint64_t>(r.element.length) << 2) | 1);
            out.push_back(static_cast<char>(static_cast<uint32_t>(r.element.type) >> 28));
            out.append(r.element.data, r.element.length);
            ++i;
        }
    }
    return out;
}

bool decode(std::string_view bytes, Refs *out, uint64_t max_entries) {
    out->entries.clear();
    if (bytes.empty() || (bytes[0] != whole_kind && bytes[0] != delta_kind))
        return false;
    size_t at = 1;
    out->whole = bytes[0] == whole_kind;
    out->keep = 0;
    uint64_t v;
    if (!out->whole) {
        if (!get_varint(bytes, &at, &v) || v > INT32_MAX)
            return false;
        out->keep = static_cast<uint32_t>(v);
    }
    int64_t next_expected = 1;
    while (at < bytes.size()) {
        if (!get_varint(bytes, &at, &v) || out->entries.size() >= max_entries)
            return false;
        uint64_t size = v >> 2;
        switch (v & 3) {
        case 0: { // a run of orders
            uint64_t delta;
            if (size == 0 || size > max_entries - out->entries.size() ||
                !get_varint(bytes, &at, &delta))
                return false;
            int64_t first = next_expected + unzigzag(delta);
            if (first < 1 || first + static_cast<int64_t>(size) - 1 > INT32_MAX)
                return false;
            for (uint64_t k = 0; k < size; ++k)
                out->entries.push_back(
                    Ref::row(static_cast<int32_t>(first + static_cast<int64_t>(k))));
            next_expected = first + static_cast<int64_t>(size);
            break;
        }
        case 1: { // an inline element
            if (at >= bytes.size())
                return false;
            uint8_t type = static_cast<uint8_t>(bytes[at++]);
            if (type > (static_cast<uint32_t>(Type::Container) >> 28) || size > bytes.size() - at)
                return false;
            Value e{static_cast<Type>(static_cast<uint32_t>(type) << 28), bytes.data() + at,
                    static_cast<uint32_t>(size)};
            out->entries.push_back(Ref::inline_element(e));
            at += size;
            break;
        }
        case 2: { // an earlier version of a row's message
            uint64_t order, length;
            if (!get_varint(bytes, &at, &order) || order < 1 || order > INT32_MAX ||
                !get_varint(bytes, &at, &length) || length > INT32_MAX ||
                size > bytes.size() - at)
                return false;
            Value metadata{Type::Container, bytes.data() + at, static_cast<uint32_t>(size)};
            out->entries.push_back(Ref::cut_row(static_cast<int32_t>(order),
                                                static_cast<uint32_t>(length), metadata));
            at += size;
            break;
        }
        default:
            return false;
        }
    }
    return true;
}

bool fold(std::vector<Ref> *list, const Refs &step) {
    if (step.whole) {
        *list = step.entries;
        return true;
    }
    if (step.keep > list->size())
        return false;
    list->resize(step.keep);
    list->insert(list->end(), step.entries.begin(), step.entries.end());
    return true;
}

Folded fold_chain(const std::vector<RowRefs> &rows, std::vector<Ref> *list) {
    list->clear();
    if (rows.empty() || !rows.back().present)
        return Folded::None;
    bool active = false;
    for (const RowRefs &row : rows) {
        if (!row.present) {
            active = false;
            continue;
        }
        Refs step;
        if (!decode(row.bytes, &step, max_entries_for(row.state_bytes)) ||
            (!step.whole && !active) || !fold(list, step))
            return Folded::Damaged;
        active = true;
    }
    return Folded::List;
}

std::string without_messages(const Container &root) {
    Node out = Node::object();
    for (uint32_t i = 0; i < root.size(); ++i)
        if (root.key(i) != messages_key)
            out.members.emplace_back(root.key(i), Node::of(root.value(i)));
    return jsonb::encode(out); // keys stay in jsonb order: no sort needed
}

bool row_gives_back(const Value &element) {
    if (element.type != Type::Container)
        return false;
    Container message(element, "XX001");
    return message.is_object() && is_string_member(message, "role") &&
           is_string_member(message, "content");
}

std::optional<Node> message_from_row(std::string_view role, std::string_view content,
                                     const Container &metadata) {
    if (!metadata.is_object())
        return std::nullopt;
    Value ignored;
    if (metadata.find("role", &ignored) || metadata.find("content", &ignored))
        return std::nullopt;
    Node out = Node::object();
    out.members.reserve(metadata.size() + 2);
    for (uint32_t i = 0; i < metadata.size(); ++i)
        out.members.emplace_back(metadata.key(i), Node::of(metadata.value(i)));
    out.members.emplace_back("role", Node::of(string_value(role)));
    out.members.emplace_back("content", Node::of(string_value(content)));
    out.sort_members();
    return out;
}

std::string with_messages(const Container &stored_root, std::vector<Node> elements) {
    if (!stored_root.is_object())
        throw Error(sqlstate::data_corrupted, "a snapshot with message references is not an object");
    Node out = Node::object();
    out.members.reserve(stored_root.size() + 1);
    for (uint32_t i = 0; i < stored_root.size(); ++i) {
        if (stored_root.key(i) == messages_key)
            throw Error(sqlstate::data_corrupted,
                        "a snapshot with message references also stores its messages");
        out.members.emplace_back(stored_root.key(i), Node::of(stored_root.value(i)));
    }
    Node array = Node::array();
    array.elements = std::move(elements);
    out.members.emplace_back(messages_key, std::move(array));
    out.sort_members();
    return jsonb::encode(out);
}

} // namespace sp::message_refs
