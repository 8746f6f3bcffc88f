// Compact fingerprints of a saved state, so that a save finds what changed from the new
// state alone, without rebuilding the previous one.
//
// For each member of the top-level object, and of every object nested in it at any depth
// that is large enough to be worth patching key by key (members_min_bytes), a fingerprint
// keeps a 64-bit hash of the value; for arrays also the element count, the hash being a
// running hash over the elements, so "the old array is a prefix of the new one" is one
// hash comparison at the old count. So a change deep in a large object costs about its own
// size. It also carries the chain bookkeeping that decides when the next keyframe is due,
// and the mark message sync needs (core/message_versions.hpp).
#pragma once

#include "core/delta_codec.hpp"
#include "core/jsonb_format.hpp"
#include "core/message_versions.hpp"
#include "core/state_hash.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace sp::fingerprint {

enum class Kind : uint8_t { Scalar = 0, Array = 1, Object = 2, ObjectWithMembers = 3 };

// A member is known by its key's hash (delta::key_hash), not its key: a fingerprint stays
// small enough for the session row to keep it inline. A key gone from an object is named in
// the delta by that hash ("h").
struct Member {
    uint64_t key_hash = 0;
    Kind kind = Kind::Scalar;
    uint64_t hash = 0;           // of the value; not kept for Kind::ObjectWithMembers (0),
                                 // whose members say whether it changed
    uint32_t count = 0;          // array elements
    std::vector<Member> members; // Kind::ObjectWithMembers, sorted by key_hash
};

// An object nested in the state gets its members' fingerprint (and is patched key by key)
// when its jsonb takes at least this many bytes; a smaller one is replaced whole when it
// changes, which costs about as much as its patch would. Nesting deeper than
// max_member_depth levels is fingerprinted as a whole, and so is an object two of whose keys
// have the same key_hash. Two top-level keys with the same hash (as likely as a 64-bit
// collision) leave the state without a usable fingerprint: its fingerprint does not parse,
// and the next save is a keyframe.
constexpr uint32_t members_min_bytes = 256;
constexpr int max_member_depth = 64;

// Where the state's top-level "messages" array stood, for message history sync.
using MessagesMark = messages::Mark;

struct Print {
    // chain bookkeeping, as of this snapshot
    uint32_t keyframe_number = 0;   // the keyframe this snapshot's chain starts at
    uint64_t keyframe_bytes = 0;    // the size of the state it restores
    uint32_t deltas_since = 0;      // deltas after it, this one included
    uint64_t delta_bytes_since = 0; // their stored bytes
    bool messages_by_ref = false;   // the stored form leaves "messages" out (message_refs.hpp)
    MessagesMark messages;
    std::vector<Member> members; // of the top-level object
};

std::string serialize(const Print &print);
// False when the bytes are not a fingerprint this version wrote (the caller then stores a
// keyframe, which needs no fingerprint of the past).
bool parse(std::string_view bytes, Print *out);

// A session keeps its latest fingerprint in two parts, so that a save does not rewrite every
// member's hash when a few changed (the session row is rewritten at every save, and each old
// version stays on its page until no snapshot can see it):
// - the base, a whole fingerprint (serialize), written again only when the patch outgrows it;
// - the patch: the snapshot's bookkeeping and messages mark, and the members that differ from
//   the base's (removed, set, or an object's members patched in turn), bound to the base by
//   the base's checksum.
// The patch of `next` against `base` (serialized) whose members are `*base_members`, or an
// empty string when its member edits would take more than `max_edit_bytes` (found without
// writing them all: the caller then writes a new base). With no base_members, `base` is
// next's own (serialize(next)) and the patch has no edits.
std::string serialize_patch(const Print &next, std::string_view base,
                            const std::vector<Member> *base_members,
                            size_t max_edit_bytes = SIZE_MAX);
// The fingerprint a base and its patch make (an empty patch: the base alone);
// *base_members, when given, receives the base's members. False when either part is not one
// this version wrote, or the patch was written against another base.
bool parse(std::string_view base, std::string_view patch, Print *out,
           std::vector<Member> *base_members = nullptr);
// How many bytes of a patch its member edits take (0 when it does not parse).
size_t patch_edit_bytes(std::string_view patch);

// Adds `bytes` stored beside a snapshot's state or delta (its message references) to the
// keyframe's size (`keyframe`) or to the deltas' since it, in a serialized patch; false when
// the bytes are not a patch.
bool count_stored_bytes(std::string *patch, bool keyframe, uint64_t bytes);

// The mark of a state's top-level "messages" array (length 0 when there is none).
inline MessagesMark messages_mark(const jsonb::Value &root) {
    return messages::mark_of_state(root);
}

// The members' fingerprint of a state whose root is an object, sorted by key_hash.
std::vector<Member> members_of(const jsonb::Container &root_object);

// The delta from the state `previous` describes to `next_root` (an object), built from the
// fingerprint alone, and the members' fingerprint of next_root. Members whose hash is
// unchanged cost nothing; an array whose old elements are a prefix costs its new elements;
// objects with a members' fingerprint are patched key by key; anything else is replaced.
// When the delta's encoding is known to exceed `max_bytes` (the values it copies and their
// entries add up to more), or when two of next_root's keys have the same key_hash (or two of
// `previous`), no delta is built and the result is empty; *next_members is
// complete either way. A save passes what the keyframe rule still allows, so a state that changed
// everywhere costs its hashes, not a delta that is thrown away.
// *messages_kept receives, when the previous state's top-level "messages" array is a prefix of
// the new one's (unchanged or appended to), its length; otherwise UINT32_MAX. With the
// previous state's messages mark, a messages array changed in place (a reply saved while it
// streams) is patched element by element instead of replaced.
// With messages stored by reference (core/message_refs.hpp), the delta is between stored
// forms: `stored` says which of the two states leave their top-level "messages" array out
// (the members' fingerprint keeps it either way).
struct StoredMessages {
    bool previous_by_ref = false;
    bool next_by_ref = false;
};
std::optional<jsonb::Node> delta_from(const std::vector<Member> &previous,
                                      const jsonb::Container &next_root,
                                      std::vector<Member> *next_members, delta::Arena &arena,
                                      uint64_t max_bytes, uint32_t *messages_kept = nullptr,
                                      const MessagesMark *previous_messages = nullptr,
                                      StoredMessages stored = {});

} // namespace sp::fingerprint
