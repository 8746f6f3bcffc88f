// Which elements of a saved state's top-level "messages" array the history lacks (SPEC.md,
// "p_sync_messages"): one history row per message version, however the client saves.
//
// A snapshot's fingerprint keeps a Mark of its messages array: the length, a running hash
// over the element hashes before a window, and the hashes of the last `window_size` elements
// themselves. Against the next state's array M, let L be the length of the prefix M shares
// with the previous array P. The new versions are the elements of M[L:] that are not among
// P[L:] (each element of P[L:] accounts for one equal element of M): appended messages; a
// message changed in place (a reply saved while streaming and again when complete, a tool
// call that gains its status) as its new version, without the messages around it; the
// replacement of an edited-and-resent tail; and after a compaction, the summary and what
// follows the kept messages. Rows written are bounded by the elements of M that differ from
// P. When P changed before the window (a compaction), the mark cannot tell, and the caller
// computes a full mark of P from the previous snapshot instead.
#pragma once

#include "core/jsonb_format.hpp"

#include <cstdint>
#include <optional>
#include <vector>

namespace sp::messages {

constexpr uint32_t window_size = 32;

struct Mark {
    uint32_t length = 0;
    uint64_t prefix_hash = 0;     // running hash of the element hashes before the window
    std::vector<uint64_t> window; // element hashes of the last elements (all of them: full)

    uint32_t window_start() const { return length - static_cast<uint32_t>(window.size()); }
};

// A message's identity: the hash of its jsonb bytes (key order is canonical in jsonb).
uint64_t element_hash(const jsonb::Value &element);

// The mark of an array; `full` keeps every element's hash in the window.
Mark mark_of(const jsonb::Container &messages, bool full = false);
// The indexes below both lengths where `next` differs from the array `previous` describes,
// when it differs nowhere before the mark's window; nullopt otherwise.
std::optional<std::vector<uint32_t>> changed_elements(const Mark &previous,
                                                      const jsonb::Container &next);

// The mark of `next`, an array whose first previous.length elements are those `previous`
// describes (elements were only appended): costs the hashes of the appended elements only.
Mark extended(const Mark &previous, const jsonb::Container &next);
// The state's top-level messages array, if it has one.
std::optional<jsonb::Container> messages_of_state(const jsonb::Value &root);
// The mark of a state's top-level messages array (length 0 when there is none).
Mark mark_of_state(const jsonb::Value &root, bool full = false);

// How `next` relates to the array `previous` describes: the length of the prefix they share,
// then for each later element of next the index of the previous element it equals (each
// previous element accounts for one), or -1 for a new version. nullopt when the mark's
// window does not reach back far enough (retry with a full mark of the previous array).
struct Versions {
    uint32_t shared = 0;
    std::vector<int64_t> source; // next[shared + k]
};
std::optional<Versions> versions(const Mark &previous, const jsonb::Container &next);

// The indexes, ascending, of the elements of `next` that are new versions; nullopt when the
// mark's window does not reach back far enough (retry with a full mark of the previous array).
std::optional<std::vector<uint32_t>> new_elements(const Mark &previous,
                                                  const jsonb::Container &next);

} // namespace sp::messages
