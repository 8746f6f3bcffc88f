// Between PostgreSQL's Jsonb datums and the pure core's views of the jsonb binary format.
#pragma once

#include "pg.hpp"

#include "core/delta_codec.hpp"
#include "core/jsonb_format.hpp"
#include "core/message_refs.hpp"
#include "core/state_hash.hpp"

#include <string>

namespace sp {

// The root value of a (detoasted) jsonb datum; the view lives as long as the datum.
inline jsonb::Value root_of(Jsonb *value, const char *corrupt_sqlstate) {
    return jsonb::root_value(VARDATA(value), VARSIZE(value) - VARHDRSZ, corrupt_sqlstate);
}

inline jsonb::Container root_container(Jsonb *value, const char *corrupt_sqlstate) {
    return jsonb::Container(VARDATA(value), VARSIZE(value) - VARHDRSZ, corrupt_sqlstate);
}

// A palloc'd Jsonb holding `encoded` (jsonb::encode's output: 4 header bytes + the root),
// in the current memory context. Call from C++ code: allocation errors are pg_call'ed.
Jsonb *to_jsonb(const std::string &encoded);

// The message references of a chain's rows (NULL where a row has none) and their states'
// sizes, folded into the last row's list (core/message_refs.hpp). Call from C++ code.
inline message_refs::Folded fold_chain_refs(bytea *const *refs, const int64 *sizes, uint64 rows,
                                            std::vector<message_refs::Ref> *list) {
    std::vector<message_refs::RowRefs> chain(rows);
    for (uint64 i = 0; i < rows; ++i)
        if (refs[i])
            chain[i] = {true, {VARDATA_ANY(refs[i]), VARSIZE_ANY_EXHDR(refs[i])},
                        static_cast<uint64_t>(sizes[i])};
    return message_refs::fold_chain(chain, list);
}

// A palloc'd empty object, '{}'::jsonb, without parsing it.
Jsonb *empty_jsonb_object();

// A state's hash (over the jsonb bytes after the varlena header), as stored: a bytea.
StateHash state_hash_of(Jsonb *state);
Datum state_hash_bytea(const StateHash &hash);
// True when a stored state_hash bytea equals `hash`.
bool state_hash_equals(Datum stored, const StateHash &hash);

// Lets long C++ work be cancelled (statement_timeout, pg_cancel_backend).
const delta::Poll &interrupt_poll();

} // namespace sp
