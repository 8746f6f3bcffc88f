#include "core/fingerprint.hpp"

// Header-only: XXH3 is inlined, no library at run time.
#define XXH_INLINE_ALL
#include <xxhash.h>

#include <cstring>

namespace sp::fingerprint {

using jsonb::Container;
using jsonb::Node;
using jsonb::Type;
using jsonb::Value;

namespace {

// Version 2 ends with a checksum: a fingerprint damaged on disk (data checksums are off by
// default) must read as no fingerprint, which makes the save a keyframe, rather than as
// another state's, which would make it write a delta that does not restore. Version 3 keeps
// members of large objects at any depth and a window of message hashes. An older version
// reads as no fingerprint: the next save is a keyframe and finds its messages from the
// previous snapshot itself. Version 4 records whether the snapshot's messages are stored by
// reference (core/message_refs.hpp).
constexpr char magic[4] = {'S', 'P', 'F', 4};

// Whether an object value gets its members' fingerprint.
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
        XXH3_64bits_update(&state, head, sizeof head);
        XXH3_64bits_update(&state, e.data, e.length);
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

// ---------------------------------------------------------------- serialization

struct Writer {
    std::string out;
    template <typename T> void put(T v) {
        out.append(reinterpret_cast<const char *>(&v), sizeof v);
    }
    void members(const std::vector<Member> &ms) {
        put<uint32_t>(static_cast<uint32_t>(ms.size()));
        for (const Member &m : ms) {
            put<uint32_t>(static_cast<uint32_t>(m.key.size()));
            out.append(m.key);
            put<uint8_t>(static_cast<uint8_t>(m.kind));
            put<uint64_t>(m.hash);
            put<uint32_t>(m.count);
            if (m.kind == Kind::ObjectWithMembers)
                members(m.members);
        }
    }
};

struct Reader {
    std::string_view in;
    size_t at = 0;
    template <typename T> bool get(T *v) {
        if (in.size() - at < sizeof(T))
            return false;
        memcpy(v, in.data() + at, sizeof(T));
        at += sizeof(T);
        return true;
    }
    bool members(std::vector<Member> *ms, int depth) {
        // A member takes at least its key's length, kind, hash and count: a count the bytes
        // left cannot hold is refused before anything is allocated for it.
        constexpr size_t min_member = sizeof(uint32_t) + 1 + sizeof(uint64_t) + sizeof(uint32_t);
        uint32_t n;
        if (depth > max_member_depth || !get(&n) || n > (in.size() - at) / min_member)
            return false;
        ms->resize(n);
        for (Member &m : *ms) {
            uint32_t len;
            uint8_t kind;
            if (!get(&len) || in.size() - at < len)
                return false;
            m.key.assign(in.data() + at, len);
            at += len;
            if (!get(&kind) || kind > 3 || !get(&m.hash) || !get(&m.count))
                return false;
            m.kind = static_cast<Kind>(kind);
            if (m.kind == Kind::ObjectWithMembers && !members(&m.members, depth + 1))
                return false;
        }
        return true;
    }
};

} // namespace

std::vector<Member> members_of(const Container &object, int depth) {
    std::vector<Member> out;
    out.reserve(object.size());
    for (uint32_t i = 0; i < object.size(); ++i) {
        Value v = object.value(i);
        Member m;
        m.key.assign(object.key(i).data(), object.key(i).size());
        m.hash = hash_value(v);
        if (v.is_container()) {
            Container c(v, "XX001");
            if (c.is_array()) {
                m.kind = Kind::Array;
                m.count = c.size();
                m.hash = hash_array(c, 0, nullptr);
            } else if (keeps_members(v, depth + 1)) {
                m.kind = Kind::ObjectWithMembers;
                m.members = members_of(c, depth + 1);
            } else {
                m.kind = Kind::Object;
            }
        }
        out.push_back(std::move(m));
    }
    return out;
}

std::vector<Member> members_of(const Container &root_object) {
    return members_of(root_object, 1);
}

std::string serialize(const Print &p) {
    Writer w;
    w.out.append(magic, sizeof magic);
    w.put(p.keyframe_number);
    w.put(p.keyframe_bytes);
    w.put(p.deltas_since);
    w.put(p.delta_bytes_since);
    w.put<uint8_t>(p.messages_by_ref ? 1 : 0);
    w.put(p.messages.length);
    w.put(p.messages.prefix_hash);
    w.put<uint32_t>(static_cast<uint32_t>(p.messages.window.size()));
    for (uint64_t h : p.messages.window)
        w.put(h);
    w.members(p.members);
    w.put(checksum_of(w.out));
    return std::move(w.out);
}

bool count_stored_bytes(std::string *serialized, bool keyframe, uint64_t bytes) {
    Print p;
    if (!parse(*serialized, &p))
        return false;
    // the fields' places in serialize(): magic, keyframe_number, keyframe_bytes, deltas_since,
    // delta_bytes_since
    size_t at = sizeof magic + sizeof p.keyframe_number;
    uint64_t *field = keyframe ? &p.keyframe_bytes : &p.delta_bytes_since;
    if (!keyframe)
        at += sizeof p.keyframe_bytes + sizeof p.deltas_since;
    *field += bytes;
    memcpy(&(*serialized)[at], field, sizeof *field);
    Checksum sum = checksum_of(std::string_view(*serialized).substr(0, serialized->size() - sizeof sum));
    memcpy(&(*serialized)[serialized->size() - sizeof sum], &sum, sizeof sum);
    return true;
}

bool parse(std::string_view stored, Print *p) {
    if (stored.size() < sizeof magic + sizeof(Checksum) ||
        memcmp(stored.data(), magic, sizeof magic) != 0)
        return false;
    std::string_view bytes = stored.substr(0, stored.size() - sizeof(Checksum));
    Checksum expected;
    memcpy(&expected, stored.data() + bytes.size(), sizeof expected);
    if (checksum_of(bytes) != expected)
        return false;
    Reader r{bytes};
    r.at = sizeof magic;
    uint32_t window;
    uint8_t by_ref;
    if (!r.get(&p->keyframe_number) || !r.get(&p->keyframe_bytes) || !r.get(&p->deltas_since) ||
        !r.get(&p->delta_bytes_since) || !r.get(&by_ref) || by_ref > 1 ||
        !r.get(&p->messages.length) ||
        !r.get(&p->messages.prefix_hash) || !r.get(&window) || window > p->messages.length ||
        window > (bytes.size() - r.at) / sizeof(uint64_t))
        return false;
    p->messages_by_ref = by_ref == 1;
    p->messages.window.resize(window);
    for (uint64_t &h : p->messages.window)
        r.get(&h);
    return r.members(&p->members, 1) && r.at == bytes.size();
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

    bool over_budget() const { return floor > max_bytes; }

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

    // The patch of one object, and its members' fingerprint; depth 1 = the root object.
    Node object(const std::vector<Member> &old, const Container &next, int depth,
                std::vector<Member> *next_members) {
        std::vector<std::pair<std::string_view, Node>> patched;
        std::vector<std::string_view> removed;
        next_members->clear();
        next_members->reserve(next.size());
        size_t i = 0;
        uint32_t j = 0;
        while (i < old.size() || j < next.size()) {
            int c = i >= old.size()    ? 1
                    : j >= next.size() ? -1
                                       : jsonb::compare_keys(old[i].key, next.key(j));
            if (c < 0) {
                if (!(depth == 1 && stored.previous_by_ref && old[i].key == "messages"))
                    removed.push_back(old[i].key);
                ++i;
                continue;
            }
            std::string_view key = next.key(j);
            Value v = next.value(j);
            const Member *before = c == 0 ? &old[i] : nullptr;
            if (depth == 1 && key == "messages" && stored.next_by_ref) {
                // the array is kept out of the stored form: only its fingerprint is
                // needed, and a previous stored form that held it loses it
                Member m = member(key, v, before, depth, nullptr);
                if (before && !stored.previous_by_ref)
                    removed.push_back(key);
                next_members->push_back(std::move(m));
                if (c == 0)
                    ++i;
                ++j;
                continue;
            }
            if (depth == 1 && key == "messages" && stored.previous_by_ref && before) {
                // the previous stored form lacks the array: this one adds it whole
                Member m = member(key, v, nullptr, depth, &patched);
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
            next_members->push_back(member(key, v, before, depth, &patched));
            if (c == 0)
                ++i;
            ++j;
        }
        if (over_budget())
            return Node{};
        return delta::object_patch(std::move(patched), std::move(removed));
    }

    // One member's fingerprint; adds its patch to *patched when it changed.
    Member member(std::string_view key, const Value &v, const Member *before, int depth,
                  std::vector<std::pair<std::string_view, Node>> *patched) {
        bool is_array = v.is_container() && Container(v, "XX001").is_array();
        bool is_object = v.is_container() && Container(v, "XX001").is_object();
        Member m;
        m.key.assign(key.data(), key.size());
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
        m.hash = hash_value(v);
        if (is_object && keeps_members(v, depth + 1)) {
            Container c(v, "XX001");
            m.kind = Kind::ObjectWithMembers;
            if (before && before->kind == Kind::ObjectWithMembers && before->hash == m.hash) {
                m.members = before->members;
                return m;
            }
            if (before && before->kind == Kind::ObjectWithMembers) {
                Node sub = object(before->members, c, depth + 1, &m.members);
                patch(patched, key, 0, [&] { return std::move(sub); });
            } else {
                m.members = members_of(c, depth + 1);
                patch(patched, key, wrapper_bytes + v.length,
                      [&] { return delta::replace_with(v); });
            }
            return m;
        }
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
    Node d = differ.object(previous, next_root, 1, next_members);
    if (messages_kept)
        *messages_kept = differ.messages_kept;
    if (differ.over_budget())
        return std::nullopt;
    return d;
}

} // namespace sp::fingerprint
