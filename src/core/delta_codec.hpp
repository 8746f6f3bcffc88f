// The JSONB delta codec: jsonb_delta(a, b) and jsonb_apply_delta(a, d). Pure C++.
//
// A delta is itself a JSON document (README, "Delta format"):
//   {}                                    unchanged
//   {"r": V}                              replaced by V
//   {"o": {"k": D, ...}, "x": ["k", ...], "h": ["H", ...]}
//                                         object: members patched (or added, with
//                                         D = {"r": V}), keys removed, and the members
//                                         whose key_hash is H removed (H: 16 lowercase hex
//                                         digits; saves name removed keys this way, their
//                                         fingerprint keeps key hashes, not keys)
//   {"n": N, "p": {"i": D, ...}, "a": [V, ...]}
//                                         array: keep the first N elements (default all),
//                                         patch element i < N, then append the Vs
// Unchanged sub-documents cost nothing; an array that grew by appending costs its new
// elements. Apply works on a tree whose untouched parts stay views into the base, so a
// chain of deltas costs one pass over the state plus the deltas.
#pragma once

#include "core/json_tree.hpp"
#include "core/jsonb_format.hpp"

#include <cstdint>
#include <deque>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

namespace sp::delta {

// Called now and then during long work; may throw (to cancel a query).
using Poll = std::function<void()>;

// Storage for strings a delta tree refers to (array indexes, counts).
using Arena = std::deque<std::string>;

// Builds the delta turning `a` into `b` (both roots of jsonb datums). The tree refers to
// `b` and `arena`, which must outlive it. Returns false when a and b are identical.
bool diff(const jsonb::Value &a, const jsonb::Value &b, jsonb::Node *out, Arena &arena,
          const Poll &poll);

// The hash of an object key that fingerprints keep and "h" names: XXH3-64 of the key's
// bytes, seed 0. Part of the stored format (deltas in stored chains name keys by it): never
// change it.
uint64_t key_hash(std::string_view key);

// Delta node constructors, shared with the fingerprint-based delta of saves.
jsonb::Node replace_with(const jsonb::Value &v);
jsonb::Node append_elements(const jsonb::Container &array, uint32_t from);
// `removed_hashes`: members removed by key hash ("h"); their text lives in `arena`.
jsonb::Node object_patch(std::vector<std::pair<std::string_view, jsonb::Node>> patched,
                         std::vector<std::string_view> removed,
                         std::vector<uint64_t> removed_hashes = {}, Arena *arena = nullptr);
// An array of base_size elements becoming `next`: the elements at `replaced` (ascending, each
// below both sizes) are replaced by next's, the rest of the common length kept, next's
// elements past it appended (or, when next is shorter, the base cut to its length).
jsonb::Node array_patch(const jsonb::Container &next, uint32_t base_size,
                        const std::vector<uint32_t> &replaced, Arena &arena);

namespace testing {
// Bits of key_hash kept (the others are cleared): a unit test narrows it to make keys
// collide. Never changed outside tests.
extern uint64_t key_hash_mask;
} // namespace testing

// Applies deltas in order to `base`, returning the tree of the result (views into base and
// the deltas). Throws sp::Error with `misfit_sqlstate` (22023 for user input, XX001 for a
// stored chain) when a delta does not fit the document it is applied to.
jsonb::Node apply(const jsonb::Value &base, const std::vector<jsonb::Value> &deltas,
                  const char *misfit_sqlstate, const Poll &poll);

} // namespace sp::delta
