#include "storage_plan.hpp"

#include <algorithm>

#include "core/delta_codec.hpp"
#include "core/fingerprint.hpp"
#include "core/message_refs.hpp"
#include "catalog.hpp"
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

// The mark of the new state's messages: moved forward by the appended elements' hashes when
// the previous array is a prefix of the new one (`kept` is its length), else computed whole.
fingerprint::MessagesMark next_mark(Jsonb *state, const fingerprint::MessagesMark &previous,
                                    uint32_t kept) {
    jsonb::Value root = root_of(state, sqlstate::data_corrupted);
    if (kept != UINT32_MAX && kept == previous.length)
        if (std::optional<jsonb::Container> messages = messages::messages_of_state(root))
            return messages::extended(previous, *messages);
    return fingerprint::messages_mark(root);
}

// The fingerprint and bookkeeping of a snapshot stored in full; `members` is the state's
// members' fingerprint when already computed, `messages` its messages' mark.
fingerprint::Print keyframe_print(Jsonb *state, int32 number, uint64_t stored_bytes,
                                  std::vector<fingerprint::Member> *members,
                                  fingerprint::MessagesMark messages) {
    fingerprint::Print print;
    print.keyframe_number = static_cast<uint32_t>(number);
    print.keyframe_bytes = stored_bytes;
    print.messages = std::move(messages);
    if (members)
        print.members = std::move(*members);
    else
        print.members = fingerprint::members_of(root_container(state, sqlstate::data_corrupted));
    return print;
}

std::string_view bytes_of(bytea *value) {
    return value ? std::string_view(VARDATA_ANY(value), VARSIZE_ANY_EXHDR(value))
                 : std::string_view();
}

// The most a patch's member edits may take before the base is written again: half the base
// (a save rewrites the patch, the base only then), at least 256 bytes, at most 1 kB (the patch
// stays in the session row, uncompressed).
size_t patch_limit(size_t base_bytes) {
    return std::clamp<size_t>(base_bytes / 2, 256, 1024);
}

// A base smaller than this is written again at every save, with a patch of no edits: the row
// stays small either way, and the save spends nothing on comparing members.
constexpr size_t patch_min_base = 1024;

// Sets the plan's fingerprint parts for `next`: a patch against the session's base, or a new
// base when there is none or the patch outgrew it.
// `patches`: the sessions table has the patch column (else the base is written every time).
void store_fingerprint(StoragePlan *plan, const fingerprint::Print &next, std::string_view base,
                       const std::vector<fingerprint::Member> *base_members, bool patches) {
    if (base_members && patches) {
        std::string patch =
            fingerprint::serialize_patch(next, base, base_members, patch_limit(base.size()));
        if (!patch.empty()) {
            plan->fingerprint_patch = to_bytea(patch);
            return;
        }
    }
    std::string new_base = fingerprint::serialize(next);
    plan->fingerprint_base = to_bytea(new_base);
    if (patches)
        plan->fingerprint_patch = to_bytea(fingerprint::serialize_patch(next, new_base, nullptr));
}

// The size of the state's stored form: without its messages array when that is stored by
// reference.
uint64_t stored_size(Jsonb *state, bool messages_by_ref) {
    uint64_t size = VARSIZE(state);
    jsonb::Value messages;
    if (messages_by_ref &&
        root_container(state, sqlstate::data_corrupted).find("messages", &messages))
        size -= std::min<uint64_t>(size, messages.length);
    return size;
}

} // namespace

StoragePlan plan_storage(Jsonb *state, int32 number, Datum previous_base, Datum previous_patch,
                         bool messages_by_ref) {
    // Detoast before entering C++ (a PostgreSQL call).
    bytea *base = previous_base ? DatumGetByteaPP(previous_base) : nullptr;
    bytea *patch = previous_base && previous_patch ? DatumGetByteaPP(previous_patch) : nullptr;
    bool patches = sessions_have_fingerprint_patch();
    return cpp_call([&] {
        StoragePlan plan{};
        fingerprint::Print before;
        std::vector<fingerprint::Member> base_members;
        bool patch_from_base = bytes_of(base).size() >= patch_min_base;
        plan.has_previous_mark =
            base && fingerprint::parse(bytes_of(base), bytes_of(patch), &before,
                                       patch_from_base ? &base_members : nullptr);
        const std::vector<fingerprint::Member> *patch_from =
            plan.has_previous_mark && patch_from_base ? &base_members : nullptr;
        plan.previous_mark = before.messages;
        plan.messages_new_from = -1;
        plan.previous_by_ref = plan.has_previous_mark && before.messages_by_ref;
        uint64_t state_bytes = stored_size(state, messages_by_ref);
        uint32_t kept = UINT32_MAX; // see fingerprint::delta_from
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
                arena, std::min<uint64_t>(budget, state_bytes), &kept, &before.messages,
                {plan.previous_by_ref, messages_by_ref});
            have_members = true;
            if (kept != UINT32_MAX && kept == before.messages.length)
                plan.messages_new_from = static_cast<int32>(kept);
            std::string encoded = d ? jsonb::encode(*d) : std::string();
            uint64_t delta_bytes = encoded.size();
            // A delta no smaller than the state itself (a tiny state that changed) is stored
            // as the state.
            if (d && delta_bytes <= budget && delta_bytes < state_bytes) {
                next.keyframe_number = before.keyframe_number;
                next.keyframe_bytes = before.keyframe_bytes;
                next.deltas_since = before.deltas_since + 1;
                next.delta_bytes_since = before.delta_bytes_since + delta_bytes;
                next.messages = next_mark(state, before.messages, kept);
                next.messages_by_ref = messages_by_ref;
                plan.delta = to_jsonb(encoded);
                plan.stored_bytes = static_cast<int64>(delta_bytes);
                store_fingerprint(&plan, next, bytes_of(base), patch_from, patches);
                return plan;
            }
        }
        plan.keyframe = true;
        plan.stored_state =
            messages_by_ref
                ? to_jsonb(message_refs::without_messages(
                      root_container(state, sqlstate::data_corrupted)))
                : state;
        plan.stored_bytes = VARSIZE(plan.stored_state);
        // The keyframe rule weighs the deltas against the state a restore gives back: with
        // messages by reference that is the stored form plus the messages read from the
        // history, so a restore still reads at most about twice a full state.
        fingerprint::Print print = keyframe_print(state, number, VARSIZE(state),
                                                  have_members ? &next.members : nullptr,
                                                  next_mark(state, before.messages, kept));
        print.messages_by_ref = messages_by_ref;
        store_fingerprint(&plan, print, bytes_of(base), patch_from, patches);
        return plan;
    });
}

void count_message_refs(StoragePlan *plan, Datum message_refs) {
    uint64 bytes = VARSIZE_ANY_EXHDR(DatumGetPointer(message_refs));
    plan->stored_bytes += static_cast<int64>(bytes);
    if (!plan->fingerprint_patch) // a schema before 1.1 (which has no message_refs either)
        return;
    bytea *patch = reinterpret_cast<bytea *>(DatumGetPointer(plan->fingerprint_patch));
    cpp_call([&] {
        std::string serialized(VARDATA(patch), VARSIZE(patch) - VARHDRSZ);
        // a new bytea: the header's varints may take another byte
        if (!plan->keyframe && fingerprint::count_stored_bytes(&serialized, false, bytes))
            plan->fingerprint_patch = to_bytea(serialized);
    });
}

} // namespace sp
