// A snapshot's messages by reference (SPEC.md, "Storage"): a message's text is stored once.
//
// When a save syncs the state's top-level "messages" array to the history, the chain stores
// the state without that array (its "stored form") and, in the row's message_refs, how to
// rebuild it: for each element either the history row that holds it (by message_order) or,
// where no row holds it exactly (an element the history cannot give back byte for byte, or
// one from before the session referenced its history), the element itself.
//
// A keyframe stores the whole list; a delta stores "keep the first K of the previous
// snapshot's list, then these". Restoring folds the lists along the chain like the deltas,
// fetches the referenced rows, and puts the array back into the stored form. Pure C++.
//
// Encoding (bytea): a kind byte, 'F' (the whole list) or 'D' (varint K, then the rest);
// then entries, each a varint tag. A run of n consecutive message orders: (n << 2), then the
// zigzag varint of its first order minus (the previous run's end + 1). An element stored
// inline: (length << 2 | 1), then its jsonb type byte and bytes.
// Tags are (n << 2) for a run, (length << 2 | 1) for an inline element, and
// (metadata length << 2 | 2) for an earlier version of a row's message (the row was updated
// in place when its message grew, as a reply that streams): then the order and the content's
// length as varints, and the metadata object's bytes.
#pragma once

#include "core/json_tree.hpp"
#include "core/jsonb_format.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace sp::message_refs {

// One element of a snapshot's messages array.
struct Ref {
    int32_t order = 0;    // > 0: the history row with this message_order
    jsonb::Value element; // order == 0: the element itself (a view into the encoded refs);
                          // cut: the element's metadata object
    bool cut = false;     // an earlier version of that row's message: its content's first
    uint32_t content_length = 0; // content_length bytes, with `element` as metadata

    static Ref row(int32_t order) { return Ref{order, {}, false, 0}; }
    static Ref inline_element(const jsonb::Value &v) { return Ref{0, v, false, 0}; }
    static Ref cut_row(int32_t order, uint32_t content_length, const jsonb::Value &metadata) {
        return Ref{order, metadata, true, content_length};
    }
    bool same(const Ref &o) const {
        return order == o.order && cut == o.cut && content_length == o.content_length &&
               (order > 0 && !cut ? true : element.same_bytes(o.element));
    }
};

struct Refs {
    bool whole = true;  // 'F': the whole list; 'D': keep, then entries
    uint32_t keep = 0;  // 'D': elements kept from the previous snapshot's list
    std::vector<Ref> entries;
};

std::string encode(const Refs &refs);
// False when the bytes are not an encoding of refs, or of more than max_entries elements (a
// run's count is a few bytes: damaged bytes must not make it allocate gigabytes; a caller
// passes what the snapshot's state can hold, a jsonb array element taking 4 bytes at least).
// Inline elements are views into `bytes`.
bool decode(std::string_view bytes, Refs *out, uint64_t max_entries);
// The most elements a messages array in a state of `state_bytes` can have.
inline uint64_t max_entries_for(uint64_t state_bytes) { return state_bytes / 4 + 1; }

// The list after applying `step` to `list` (the previous snapshot's); false when a 'D' step
// keeps more elements than the list has.
bool fold(std::vector<Ref> *list, const Refs &step);

// One chain row's message references as stored, and its state's size; `present` false where
// the row has none.
struct RowRefs {
    bool present = false;
    std::string_view bytes;
    uint64_t state_bytes = 0;
};
enum class Folded { None, List, Damaged };
// The list of the last of `rows` (a keyframe and the deltas after it, in order): each row's
// references folded onto the previous row's, a row without references starting over. None
// when the last row has none; Damaged when a row's bytes do not decode or do not fit.
Folded fold_chain(const std::vector<RowRefs> &rows, std::vector<Ref> *list);

// The stored form of a state whose root is an object: every member but "messages", encoded
// as a jsonb datum (4 bytes left for the varlena header).
std::string without_messages(const jsonb::Container &root_object);

// A message rebuilt from its history row: the metadata object's members plus role and
// content as strings (for a cut reference: the row's role, the first bytes of its content and
// the reference's metadata). nullopt when metadata already has one of those keys (not a row a
// synced message gives).
std::optional<jsonb::Node> message_from_row(std::string_view role, std::string_view content,
                                             const jsonb::Container &metadata);

// Whether message_from_row gives back `element` exactly: an object whose role and content
// are strings (its other members are the row's metadata).
bool row_gives_back(const jsonb::Value &element);

// The state: the stored form's members plus "messages" made of `elements`, as a jsonb datum.
// Throws sp::Error XX001 when the stored form already has "messages" or is not an object.
std::string with_messages(const jsonb::Container &stored_root, std::vector<jsonb::Node> elements);

} // namespace sp::message_refs
