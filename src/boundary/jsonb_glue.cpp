#include "jsonb_glue.hpp"

#include "guard.hpp"

namespace sp {

Jsonb *to_jsonb(const std::string &encoded) {
    Jsonb *out = static_cast<Jsonb *>(pg_call([&] { return palloc(encoded.size()); }));
    memcpy(out, encoded.data(), encoded.size());
    SET_VARSIZE(out, encoded.size());
    return out;
}

Jsonb *empty_jsonb_object() {
    Jsonb *out = static_cast<Jsonb *>(palloc(VARHDRSZ + sizeof(uint32)));
    SET_VARSIZE(out, VARHDRSZ + sizeof(uint32));
    out->root.header = JB_FOBJECT;
    return out;
}

StateHash state_hash_of(Jsonb *state) {
    return hash_state(VARDATA(state), VARSIZE(state) - VARHDRSZ);
}

Datum state_hash_bytea(const StateHash &hash) {
    bytea *out = static_cast<bytea *>(palloc(VARHDRSZ + StateHash::size));
    SET_VARSIZE(out, VARHDRSZ + StateHash::size);
    memcpy(VARDATA(out), hash.bytes, StateHash::size);
    return PointerGetDatum(out);
}

bool state_hash_equals(Datum stored, const StateHash &hash) {
    bytea *bytes = DatumGetByteaPP(stored);
    return VARSIZE_ANY_EXHDR(bytes) == StateHash::size &&
           memcmp(VARDATA_ANY(bytes), hash.bytes, StateHash::size) == 0;
}

const delta::Poll &interrupt_poll() {
    static const delta::Poll poll = [] { check_for_interrupts(); };
    return poll;
}

} // namespace sp
