#include "snapshot_storage.hpp"

#include "core/delta_codec.hpp"
#include "core/fingerprint.hpp"
#include "guard.hpp"
#include "jsonb_glue.hpp"
#include "settings.hpp"

namespace sp {

namespace {

Datum to_bytea(const std::string &bytes) {
    bytea *out = static_cast<bytea *>(pg_call([&] { return palloc(VARHDRSZ + bytes.size()); }));
    SET_VARSIZE(out, VARHDRSZ + bytes.size());
    memcpy(VARDATA(out), bytes.data(), bytes.size());
    return PointerGetDatum(out);
}

// The fingerprint and bookkeeping of a snapshot stored in full; `members` is the state's
// members' fingerprint when already computed.
fingerprint::Print keyframe_print(Jsonb *state, int32 number,
                                  std::vector<fingerprint::Member> *members) {
    fingerprint::Print print;
    print.keyframe_number = static_cast<uint32_t>(number);
    print.keyframe_bytes = VARSIZE(state);
    print.messages = fingerprint::messages_mark(root_of(state, sqlstate::data_corrupted));
    if (members)
        print.members = std::move(*members);
    else
        print.members = fingerprint::members_of(root_container(state, sqlstate::data_corrupted));
    return print;
}

bool previous_print(bytea *bytes, fingerprint::Print *out) {
    return bytes && fingerprint::parse({VARDATA_ANY(bytes), VARSIZE_ANY_EXHDR(bytes)}, out);
}

} // namespace

StoragePlan plan_storage(Jsonb *state, int32 number, Datum previous_fingerprint) {
    // Detoast before entering C++ (a PostgreSQL call).
    bytea *previous = previous_fingerprint ? DatumGetByteaPP(previous_fingerprint) : nullptr;
    return cpp_call([&] {
        StoragePlan plan{};
        fingerprint::Print before;
        plan.has_previous_mark = previous_print(previous, &before);
        plan.previous_mark = before.messages;
        bool keyframe =
            !plan.has_previous_mark ||
            before.deltas_since + 1 >= static_cast<uint32_t>(settings::keyframe_interval);
        fingerprint::Print next;
        bool have_members = false;
        if (!keyframe) {
            // What the keyframe rule still allows this delta (the deltas since the keyframe
            // may add up to its size).
            uint64_t budget = before.keyframe_bytes > before.delta_bytes_since
                                  ? before.keyframe_bytes - before.delta_bytes_since
                                  : 0;
            delta::Arena arena;
            std::optional<jsonb::Node> d = fingerprint::delta_from(
                before.members, root_container(state, sqlstate::data_corrupted), &next.members,
                arena, budget);
            have_members = true;
            std::string encoded = d ? jsonb::encode(*d) : std::string();
            uint64_t delta_bytes = encoded.size();
            // A delta no smaller than the state itself (a tiny state that changed) is stored
            // as the state.
            if (d && delta_bytes <= budget && delta_bytes < VARSIZE(state)) {
                next.keyframe_number = before.keyframe_number;
                next.keyframe_bytes = before.keyframe_bytes;
                next.deltas_since = before.deltas_since + 1;
                next.delta_bytes_since = before.delta_bytes_since + delta_bytes;
                next.messages =
                    fingerprint::messages_mark(root_of(state, sqlstate::data_corrupted));
                plan.delta = to_jsonb(encoded);
                plan.stored_bytes = static_cast<int64>(delta_bytes);
                plan.fingerprint = to_bytea(fingerprint::serialize(next));
                return plan;
            }
        }
        plan.keyframe = true;
        plan.stored_bytes = VARSIZE(state);
        plan.fingerprint = to_bytea(fingerprint::serialize(
            keyframe_print(state, number, have_members ? &next.members : nullptr)));
        return plan;
    });
}

} // namespace sp
