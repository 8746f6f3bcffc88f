#include "core/fingerprint.hpp"
#include "core/state_hash.hpp"

// Header-only: XXH3 is inlined, no library at run time.
#define XXH_INLINE_ALL
#include <xxhash.h>

#include <algorithm>
#include <cstring>
#include <limits>

namespace sp::fingerprint {

using jsonb::Container;
using jsonb::Node;
using jsonb::Type;
using jsonb::Value;

namespace {

// Version 2 ends with a checksum: a fingerprint damaged on disk (data checksums are off by
// default) must read as no fingerprint, which makes the save a keyframe, rather than as
// another state's, which would make it write a delta that does not restore. Version 3 keeps
// members of large objects at any depth and a window of message hashes. Version 4 records
// whether the snapshot's messages are stored by reference (core/message_refs.hpp). Version 5
// keys members by the hash of their key instead of the key, packs numbers as varints, and
// keeps no hash of an object whose members it keeps: about 17 bytes a member instead of 17
// plus the key, so that the session row holds it inline. An older version reads as no
// fingerprint: the next save is a keyframe and finds its messages from the previous snapshot
// itself.
constexpr char magic[4] = {'S', 'P', 'F', 5};
// A patch (serialize_patch) has a magic of its own, so neither part reads as the other.
constexpr char patch_magic[4] = {'S', 'P', 'P', 1};

// Whether an object value gets its members' fingerprint (when its keys' hashes differ).
bool keeps_members(const Value &v, int depth) {
    return v.length >= members_min_bytes && depth < max_member_depth;
}
using Checksum = uint64_t;

Checksum checksum_of(std::string_view bytes) {
    return XXH3_64bits(bytes.data(), bytes.size());
}

uint64_t hash_value(const Value &v) {
    return XXH3_64bits_withSeed(v.data, v.length, static_cast<uint64_t>(v.type));
}

// A running hash over an array's elements; *at_mark receives the hash after `mark`
// elements (when mark <= size) and *bytes_after_mark the length of the elements after them.
uint64_t hash_array(const Container &array, uint32_t mark, uint64_t *at_mark,
                    uint64_t *bytes_after_mark = nullptr) {
    XXH3_state_t state;
    XXH3_64bits_reset(&state);
    uint64_t after = 0;
    for (uint32_t i = 0; i < array.size(); ++i) {
        if (i == mark && at_mark)
            *at_mark = XXH3_64bits_digest(&state);
        Value e = array.element(i);
        uint32_t head[2] = {static_cast<uint32_t>(e.type), e.length};
        // (the messages array of a long session is most of its state: AVX2 where there is one)
        detail::xxh3_64_update(&state, head, sizeof head);
        detail::xxh3_64_update(&state, e.data, e.length);
        if (i >= mark)
            after += e.length;
    }
    if (bytes_after_mark)
        *bytes_after_mark = after;
    uint64_t full = XXH3_64bits_digest(&state);
    if (mark == array.size() && at_mark)
        *at_mark = full;
    return full;
}

// An object's members in key_hash order: (hash, index in the object, the key, the value).
// The key and value are read here, in the object's own order (each read O(1): Container keeps
// a running offset), since reading them in hash order would walk back up to the offset stride
// for each.
struct HashedKey {
    uint64_t hash;
    uint32_t index;
    std::string_view key;
    Value value;
};
using KeyOrder = std::vector<HashedKey>;

// Fills *order; false when two keys have the same hash.
bool order_by_key_hash(const Container &object, KeyOrder *order) {
    order->resize(object.size());
    for (uint32_t i = 0; i < object.size(); ++i) {
        std::string_view key = object.key(i);
        (*order)[i] = {delta::key_hash(key), i, key, Value{}};
    }
    for (uint32_t i = 0; i < object.size(); ++i) // the values after the keys, as stored
        (*order)[i].value = object.value(i);
    std::sort(order->begin(), order->end(), [](const HashedKey &a, const HashedKey &b) {
        return a.hash < b.hash || (a.hash == b.hash && a.index < b.index);
    });
    for (size_t i = 1; i < order->size(); ++i)
        if ((*order)[i].hash == (*order)[i - 1].hash)
            return false;
    return true;
}

bool has_duplicate_key_hashes(const std::vector<Member> &members) {
    for (size_t i = 1; i < members.size(); ++i)
        if (members[i].key_hash == members[i - 1].key_hash)
            return true;
    return false;
}

// ---------------------------------------------------------------- serialization
//
// magic, then varints (LEB128): keyframe_number, keyframe_bytes, deltas_since,
// delta_bytes_since, messages length; the messages prefix hash (8 bytes); a varint window
// size and the window's hashes (8 bytes each); the top-level members; an 8-byte checksum of
// all before it. Members: a varint count, then for each the key hash (8 bytes), a varint
// kind | count << 2 (count: array elements, else 0), the value hash (8 bytes, absent for
// Kind::ObjectWithMembers) and, for Kind::ObjectWithMembers, its members. Key hashes
// strictly ascend in each member list. Fixed-width numbers are little-endian.

// A patch's operation on one member.
enum class Edit : uint8_t { Remove = 0, Set = 1, Descend = 2 };

struct Writer {
    std::string out;
    void fixed64(uint64_t v) {
        char b[8];
        for (int i = 0; i < 8; ++i)
            b[i] = static_cast<char>(v >> (8 * i));
        out.append(b, sizeof b);
    }
    void varint(uint64_t v) {
        while (v >= 0x80) {
            out.push_back(static_cast<char>((v & 0x7f) | 0x80));
            v >>= 7;
        }
        out.push_back(static_cast<char>(v));
    }
    // A member after its key hash.
    void value(const Member &m) {
        varint(static_cast<uint64_t>(m.kind) |
               (m.kind == Kind::Array ? uint64_t{m.count} << 2 : 0));
        if (m.kind != Kind::ObjectWithMembers)
            fixed64(m.hash);
        else
            members(m.members);
    }
    void members(const std::vector<Member> &ms) {
        varint(ms.size());
        for (const Member &m : ms) {
            fixed64(m.key_hash);
            value(m);
        }
    }
    // Everything but the members: the chain bookkeeping and the messages mark.
    void header(const Print &p) {
        varint(p.keyframe_number);
        varint(p.keyframe_bytes);
        varint(p.deltas_since);
        varint(p.delta_bytes_since);
        varint(p.messages_by_ref ? 1 : 0);
        varint(p.messages.length);
        fixed64(p.messages.prefix_hash);
        varint(p.messages.window.size());
        for (uint64_t h : p.messages.window)
            fixed64(h);
    }
};

struct Reader {
    std::string_view in;
    size_t at = 0;
    size_t left() const { return in.size() - at; }
    bool fixed64(uint64_t *v) {
        if (left() < 8)
            return false;
        uint64_t r = 0;
        for (int i = 0; i < 8; ++i)
            r |= uint64_t{static_cast<unsigned char>(in[at + i])} << (8 * i);
        at += 8;
        *v = r;
        return true;
    }
    // Only the shortest encoding of a number not above `max` reads.
    bool varint(uint64_t *v, uint64_t max) {
        uint64_t r = 0;
        for (int shift = 0; shift < 64; shift += 7) {
            if (left() < 1)
                return false;
            uint64_t byte = static_cast<unsigned char>(in[at++]);
            if (shift == 63 && byte > 1)
                return false;
            r |= (byte & 0x7f) << shift;
            if (!(byte & 0x80)) {
                if (byte == 0 && shift > 0)
                    return false; // overlong
                if (r > max)
                    return false;
                *v = r;
                return true;
            }
        }
        return false;
    }
    template <typename T> bool number(T *v) {
        uint64_t r;
        if (!varint(&r, std::numeric_limits<T>::max()))
            return false;
        *v = static_cast<T>(r);
        return true;
    }
    // A member after its key hash (Writer::value), at `depth`.
    bool value(Member *m, int depth) {
        uint64_t kind_count;
        if (!varint(&kind_count, (uint64_t{UINT32_MAX} << 2) | 3))
            return false;
        m->kind = static_cast<Kind>(kind_count & 3);
        m->count = static_cast<uint32_t>(kind_count >> 2);
        m->hash = 0;
        m->members.clear();
        if (m->kind != Kind::Array && m->count != 0)
            return false;
        if (m->kind == Kind::ObjectWithMembers)
            return members(&m->members, depth + 1);
        return fixed64(&m->hash);
    }
    bool members(std::vector<Member> *ms, int depth) {
        // A member takes at least its key hash and kind byte, and one more byte (a value
        // hash, or a member count): a count the bytes left cannot hold is refused before
        // anything is allocated for it.
        constexpr size_t min_member = 8 + 1 + 1;
        uint64_t n;
        if (depth > max_member_depth || !varint(&n, left() / min_member))
            return false;
        ms->resize(n);
        for (size_t i = 0; i < ms->size(); ++i) {
            Member &m = (*ms)[i];
            if (!fixed64(&m.key_hash) || (i > 0 && m.key_hash <= (*ms)[i - 1].key_hash) ||
                !value(&m, depth))
                return false;
        }
        return true;
    }
    bool header(Print *p) {
        uint64_t window, by_ref;
        if (!number(&p->keyframe_number) || !number(&p->keyframe_bytes) ||
            !number(&p->deltas_since) || !number(&p->delta_bytes_since) ||
            !varint(&by_ref, 1) || !number(&p->messages.length) ||
            !fixed64(&p->messages.prefix_hash) ||
            !varint(&window, std::min<uint64_t>(p->messages.length, left() / 8)))
            return false;
        p->messages_by_ref = by_ref == 1;
        p->messages.window.resize(window);
        for (uint64_t &h : p->messages.window)
            fixed64(&h);
        return true;
    }
    // Applies a patch's edits (write_edits) to the members of an object at `depth`.
    bool edits(std::vector<Member> *ms, int depth) {
        constexpr size_t min_edit = 8 + 1; // a key hash and the operation
        uint64_t n;
        if (depth > max_member_depth || !varint(&n, left() / min_edit))
            return false;
        uint64_t previous_key = 0;
        for (uint64_t i = 0; i < n; ++i) {
            uint64_t key, op;
            if (!fixed64(&key) || (i > 0 && key <= previous_key) ||
                !varint(&op, static_cast<uint64_t>(Edit::Descend)))
                return false;
            previous_key = key;
            auto at = std::lower_bound(ms->begin(), ms->end(), key,
                                       [](const Member &m, uint64_t k) { return m.key_hash < k; });
            bool found = at != ms->end() && at->key_hash == key;
            switch (static_cast<Edit>(op)) {
            case Edit::Remove:
                if (!found)
                    return false;
                ms->erase(at);
                break;
            case Edit::Set: {
                Member m;
                m.key_hash = key;
                if (!value(&m, depth))
                    return false;
                if (found)
                    *at = std::move(m);
                else
                    ms->insert(at, std::move(m));
                break;
            }
            case Edit::Descend:
                if (!found || at->kind != Kind::ObjectWithMembers ||
                    !edits(&at->members, depth + 1))
                    return false;
                break;
            }
        }
        return true;
    }
};

bool same_member(const Member &a, const Member &b) {
    if (a.kind != b.kind || a.hash != b.hash || a.count != b.count ||
        a.members.size() != b.members.size())
        return false;
    for (size_t i = 0; i < a.members.size(); ++i)
        if (a.members[i].key_hash != b.members[i].key_hash ||
            !same_member(a.members[i], b.members[i]))
            return false;
    return true;
}

// Writes the edits that turn the member list `from` into `to` (both sorted by key_hash): a
// count, then for each changed key its hash, the operation and, for Set, the new member, for
// Descend the edits of the object's members. False, with the edits unfinished, as soon as
// they take more than `max_bytes`.
bool write_edits(const std::vector<Member> &from, const std::vector<Member> &to, Writer *w,
                 size_t max_bytes) {
    Writer body;
    size_t count = 0;
    size_t i = 0, j = 0;
    while (i < from.size() || j < to.size()) {
        if (body.out.size() > max_bytes)
            return false;
        if (j == to.size() || (i < from.size() && from[i].key_hash < to[j].key_hash)) {
            body.fixed64(from[i].key_hash);
            body.varint(static_cast<uint64_t>(Edit::Remove));
            ++i;
        } else if (i == from.size() || to[j].key_hash < from[i].key_hash) {
            body.fixed64(to[j].key_hash);
            body.varint(static_cast<uint64_t>(Edit::Set));
            body.value(to[j]);
            ++j;
        } else {
            const Member &a = from[i++], &b = to[j++];
            if (same_member(a, b))
                continue;
            if (a.kind == Kind::ObjectWithMembers && b.kind == Kind::ObjectWithMembers) {
                Writer inner;
                if (!write_edits(a.members, b.members, &inner, max_bytes - body.out.size()))
                    return false;
                body.fixed64(b.key_hash);
                body.varint(static_cast<uint64_t>(Edit::Descend));
                body.out += inner.out;
            } else {
                body.fixed64(b.key_hash);
                body.varint(static_cast<uint64_t>(Edit::Set));
                body.value(b);
            }
        }
        ++count;
    }
    if (body.out.size() > max_bytes)
        return false;
    w->varint(count);
    w->out += body.out;
    return true;
}

} // namespace

std::vector<Member> members_of(const Container &object, const KeyOrder &order, int depth) {
    std::vector<Member> out;
    out.reserve(object.size());
    KeyOrder inner;
    for (const HashedKey &k : order) {
        const Value &v = k.value;
        Member m;
        m.key_hash = k.hash;
        if (v.is_container()) {
            Container c(v, "XX001");
            if (c.is_array()) {
                m.kind = Kind::Array;
                m.count = c.size();
                m.hash = hash_array(c, 0, nullptr);
            } else if (keeps_members(v, depth + 1) && order_by_key_hash(c, &inner)) {
                m.kind = Kind::ObjectWithMembers;
                m.members = members_of(c, inner, depth + 1);
            } else {
                m.kind = Kind::Object;
                m.hash = hash_value(v);
            }
        } else {
            m.hash = hash_value(v);
        }
        out.push_back(std::move(m));
    }
    return out;
}

std::vector<Member> members_of(const Container &root_object) {
    // Top-level keys with the same hash are all kept: such a fingerprint does not parse.
    KeyOrder order;
    order_by_key_hash(root_object, &order);
    return members_of(root_object, order, 1);
}

std::string serialize(const Print &p) {
    Writer w;
    w.out.append(magic, sizeof magic);
    w.header(p);
    w.members(p.members);
    w.fixed64(checksum_of(w.out));
    return std::move(w.out);
}

namespace {

// The bytes of a checksummed serialization without its checksum; false when it does not
// start with `expected_magic` or its checksum does not match.
bool checked(std::string_view stored, const char (&expected_magic)[4], std::string_view *bytes) {
    if (stored.size() < sizeof expected_magic + sizeof(Checksum) ||
        memcmp(stored.data(), expected_magic, sizeof expected_magic) != 0)
        return false;
    *bytes = stored.substr(0, stored.size() - sizeof(Checksum));
    Reader tail{stored, bytes->size()};
    Checksum expected;
    return tail.fixed64(&expected) && checksum_of(*bytes) == expected;
}

// The checksum a base ends with, which binds a patch to it.
uint64_t base_tag(std::string_view base) {
    Reader r{base, base.size() - sizeof(Checksum)};
    uint64_t tag = 0;
    r.fixed64(&tag);
    return tag;
}

// A patch: patch_magic, the tag of its base, the header (Writer::header), the edits from the
// base's members (write_edits), a checksum of all before it.
bool read_patch(std::string_view patch, uint64_t *tag, Print *p, size_t *edits_at,
                std::string_view *bytes) {
    if (!checked(patch, patch_magic, bytes))
        return false;
    Reader r{*bytes};
    r.at = sizeof patch_magic;
    if (!r.fixed64(tag) || !r.header(p))
        return false;
    *edits_at = r.at;
    return true;
}

} // namespace

bool parse(std::string_view stored, Print *p) {
    std::string_view bytes;
    if (!checked(stored, magic, &bytes))
        return false;
    Reader r{bytes};
    r.at = sizeof magic;
    return r.header(p) && r.members(&p->members, 1) && r.at == bytes.size();
}

bool parse(std::string_view base, std::string_view patch, Print *p,
           std::vector<Member> *base_members) {
    if (!parse(base, p))
        return false;
    if (base_members)
        *base_members = p->members;
    if (patch.empty())
        return true;
    uint64_t tag;
    size_t at;
    std::string_view bytes;
    if (!read_patch(patch, &tag, p, &at, &bytes) || tag != base_tag(base))
        return false;
    Reader r{bytes, at};
    return r.edits(&p->members, 1) && r.at == bytes.size();
}

namespace {

// A patch's bytes (read_patch): its base's tag, the header of `header`, the encoded edits.
std::string sealed_patch(uint64_t tag, const Print &header, std::string_view edits) {
    Writer w;
    w.out.append(patch_magic, sizeof patch_magic);
    w.fixed64(tag);
    w.header(header);
    w.out.append(edits);
    w.fixed64(checksum_of(w.out));
    return std::move(w.out);
}

} // namespace

std::string serialize_patch(const Print &next, std::string_view base,
                            const std::vector<Member> *base_members, size_t max_edit_bytes) {
    Writer edits;
    if (!base_members)
        edits.varint(0); // next's members are the base's
    else if (!write_edits(*base_members, next.members, &edits, max_edit_bytes))
        return std::string();
    return sealed_patch(base_tag(base), next, edits.out);
}

size_t patch_edit_bytes(std::string_view patch) {
    uint64_t tag;
    Print header;
    size_t at;
    std::string_view bytes;
    return read_patch(patch, &tag, &header, &at, &bytes) ? bytes.size() - at : 0;
}

bool count_stored_bytes(std::string *patch, bool keyframe, uint64_t bytes) {
    uint64_t tag;
    Print p;
    size_t at;
    std::string_view body;
    if (!read_patch(*patch, &tag, &p, &at, &body))
        return false;
    (keyframe ? p.keyframe_bytes : p.delta_bytes_since) += bytes;
    // the header's varints may change size: the patch is written again
    *patch = sealed_patch(tag, p, body.substr(at));
    return true;
}

namespace {

// What a patch adds to the delta's jsonb at least, besides the values it copies: its entry in
// the patched object (two JEntries and the key), and for a replacement or an append the
// one-member object around it ({"r": v} or {"a": [...]}: a header, two JEntries, the key).
constexpr uint64_t entry_bytes = 8;
constexpr uint64_t wrapper_bytes = 13;
constexpr uint64_t array_header_bytes = 4;

struct PrintDiffer {
    delta::Arena &arena;
    uint64_t max_bytes;
    uint64_t floor = 0; // what the delta's encoding takes at least, so far
    uint32_t messages_kept = UINT32_MAX; // see delta_from
    const MessagesMark *previous_messages = nullptr;
    StoredMessages stored; // see delta_from

    bool refused = false; // keys with the same hash: no delta (see delta_from)

    bool over_budget() const { return refused || floor > max_bytes; }

    // Adds a member's patch, unless the delta is already known not to fit.
    template <typename MakePatch>
    void patch(std::vector<std::pair<std::string_view, Node>> *patched, std::string_view key,
               uint64_t bytes, MakePatch make) {
        if (!patched)
            return; // a member kept out of the stored form
        floor += key.size() + entry_bytes + bytes;
        if (!over_budget())
            patched->emplace_back(key, make());
    }

    // The patch of one object ({} when unchanged), and its members' fingerprint; depth 1 =
    // the root object. `order`: next's keys by hash, as order_by_key_hash gives them.
    Node object(const std::vector<Member> &old, const Container &next, const KeyOrder &order,
                int depth, std::vector<Member> *next_members) {
        std::vector<std::pair<std::string_view, Node>> patched;
        std::vector<uint64_t> removed;
        std::vector<std::string_view> removed_keys; // by name: "messages" leaving the stored form
        next_members->clear();
        next_members->reserve(next.size());
        size_t i = 0, j = 0;
        while (i < old.size() || j < order.size()) {
            int c = i >= old.size()                 ? 1
                    : j >= order.size()             ? -1
                    : old[i].key_hash < order[j].hash ? -1
                    : old[i].key_hash > order[j].hash ? 1
                                                      : 0;
            if (c < 0) {
                if (!(depth == 1 && stored.previous_by_ref &&
                      old[i].key_hash == delta::key_hash("messages"))) {
                    // {"h": ["<16 hex digits>", ...]}: a JEntry and the digits each
                    floor += 4 + 16;
                    removed.push_back(old[i].key_hash);
                }
                ++i;
                continue;
            }
            std::string_view key = order[j].key;
            Value v = order[j].value;
            const Member *before = c == 0 ? &old[i] : nullptr;
            if (depth == 1 && key == "messages" && stored.next_by_ref) {
                // the array is kept out of the stored form: only its fingerprint is
                // needed, and a previous stored form that held it loses it
                Member m = member(key, order[j].hash, v, before, depth, nullptr);
                if (before && !stored.previous_by_ref)
                    removed_keys.push_back(key);
                next_members->push_back(std::move(m));
                if (c == 0)
                    ++i;
                ++j;
                continue;
            }
            if (depth == 1 && key == "messages" && stored.previous_by_ref && before) {
                // the previous stored form lacks the array: this one adds it whole
                Member m = member(key, order[j].hash, v, nullptr, depth, &patched);
                messages_kept = UINT32_MAX;
                uint64_t prefix = 0;
                if (m.kind == Kind::Array && before->kind == Kind::Array &&
                    before->count <= m.count &&
                    hash_array(Container(v, "XX001"), before->count, &prefix) == m.hash &&
                    prefix == before->hash)
                    messages_kept = before->count;
                next_members->push_back(std::move(m));
                ++i;
                ++j;
                continue;
            }
            next_members->push_back(member(key, order[j].hash, v, before, depth, &patched));
            if (c == 0)
                ++i;
            ++j;
        }
        if (over_budget())
            return Node{};
        return delta::object_patch(std::move(patched), std::move(removed_keys), std::move(removed),
                                   &arena);
    }

    // One member's fingerprint; adds its patch to *patched when it changed.
    Member member(std::string_view key, uint64_t key_hash, const Value &v, const Member *before,
                  int depth, std::vector<std::pair<std::string_view, Node>> *patched) {
        bool is_array = v.is_container() && Container(v, "XX001").is_array();
        bool is_object = v.is_container() && Container(v, "XX001").is_object();
        Member m;
        m.key_hash = key_hash;
        if (is_array) {
            Container c(v, "XX001");
            m.kind = Kind::Array;
            m.count = c.size();
            uint64_t prefix = 0, appended_bytes = 0;
            bool can_append = before && before->kind == Kind::Array && before->count <= c.size();
            m.hash = hash_array(c, can_append ? before->count : 0, can_append ? &prefix : nullptr,
                                &appended_bytes);
            bool kept = before && before->kind == Kind::Array && before->hash == m.hash &&
                        before->count == m.count;
            if ((kept || (can_append && prefix == before->hash)) && depth == 1 &&
                key == "messages")
                messages_kept = before->count;
            if (kept)
                return m;
            if (can_append && prefix == before->hash) {
                patch(patched, key, wrapper_bytes + array_header_bytes + appended_bytes,
                      [&] { return delta::append_elements(c, before->count); });
                return m;
            }
            if (patched && before && before->kind == Kind::Array && depth == 1 &&
                key == "messages" && previous_messages && previous_messages->length == before->count) {
                // changed in place: the changed elements and what was appended or cut
                if (std::optional<std::vector<uint32_t>> changed =
                        messages::changed_elements(*previous_messages, c)) {
                    uint64_t bytes = wrapper_bytes + array_header_bytes;
                    for (uint32_t i : *changed)
                        bytes += c.element(i).length + wrapper_bytes + entry_bytes;
                    for (uint32_t i = std::min(before->count, c.size()); i < c.size(); ++i)
                        bytes += c.element(i).length;
                    if (bytes < v.length) {
                        patch(patched, key, bytes, [&] {
                            return delta::array_patch(c, before->count, *changed, arena);
                        });
                        return m;
                    }
                }
            }
            patch(patched, key, wrapper_bytes + v.length, [&] { return delta::replace_with(v); });
            return m;
        }
        KeyOrder order;
        if (is_object && keeps_members(v, depth + 1) &&
            order_by_key_hash(Container(v, "XX001"), &order)) {
            Container c(v, "XX001");
            m.kind = Kind::ObjectWithMembers;
            if (before && before->kind == Kind::ObjectWithMembers) {
                // unchanged when every member is: the patch is then {}
                Node sub = object(before->members, c, order, depth + 1, &m.members);
                if (!sub.members.empty())
                    patch(patched, key, 0, [&] { return std::move(sub); });
            } else {
                m.members = members_of(c, order, depth + 1);
                patch(patched, key, wrapper_bytes + v.length,
                      [&] { return delta::replace_with(v); });
            }
            return m;
        }
        m.hash = hash_value(v);
        m.kind = is_object ? Kind::Object : Kind::Scalar;
        if (!before || before->kind != m.kind || before->hash != m.hash)
            patch(patched, key, wrapper_bytes + v.length, [&] { return delta::replace_with(v); });
        return m;
    }
};

} // namespace

std::optional<Node> delta_from(const std::vector<Member> &previous, const Container &next_root,
                               std::vector<Member> *next_members, delta::Arena &arena,
                               uint64_t max_bytes, uint32_t *messages_kept,
                               const MessagesMark *previous_messages, StoredMessages stored) {
    PrintDiffer differ{arena, max_bytes};
    differ.previous_messages = previous_messages;
    differ.stored = stored;
    // Top-level keys with the same hash: a delta could not tell them apart (and
    // next_members, all of them kept, makes a fingerprint that does not parse).
    KeyOrder order;
    differ.refused = !order_by_key_hash(next_root, &order) || has_duplicate_key_hashes(previous);
    Node d = differ.object(previous, next_root, order, 1, next_members);
    if (messages_kept)
        *messages_kept = differ.refused ? UINT32_MAX : differ.messages_kept;
    if (differ.over_budget())
        return std::nullopt;
    return d;
}

} // namespace sp::fingerprint
