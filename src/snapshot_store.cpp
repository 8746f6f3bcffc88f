// create_session_snapshot: saves an agent state into the session's chain (SPEC.md,
// "create_session_snapshot"). The session row is locked for the rest of the transaction
// so numbering is gapless; saves to other sessions never wait.
#include "pg.hpp"

#include "args.hpp"
#include "catalog.hpp"
#include "core/error.hpp"
#include "guard.hpp"
#include "jsonb_glue.hpp"
#include "message_sync.hpp"
#include "notify.hpp"
#include "session_access.hpp"
#include "settings.hpp"
#include "snapshot_storage.hpp"
#include "spi_util.hpp"
#include "core/state_hash.hpp"

namespace {

using namespace sp;

// Columns of Sql::ChainLink.
enum LinkColumn { LinkId = 1, LinkCreatedAt, LinkKind, LinkSize, LinkStored };

// What the function returns: its OUT parameters.
struct SaveResult {
    Datum id;
    Datum session_id;
    int32 snapshot_number;
    bool created;
    const char *kind;
    int64 snapshot_size;
    int64 stored_bytes;
    Datum created_at;
};

Datum result_tuple(FunctionCallInfo fcinfo, const SaveResult &r) {
    TupleDesc desc;
    if (get_call_result_type(fcinfo, nullptr, &desc) != TYPEFUNC_COMPOSITE)
        elog(ERROR, "create_session_snapshot must return a record");
    desc = BlessTupleDesc(desc);
    Datum values[] = {r.id,
                      r.session_id,
                      Int32GetDatum(r.snapshot_number),
                      BoolGetDatum(r.created),
                      CStringGetTextDatum(r.kind),
                      Int64GetDatum(r.snapshot_size),
                      Int64GetDatum(r.stored_bytes),
                      r.created_at};
    bool nulls[lengthof(values)] = {};
    return HeapTupleGetDatum(heap_form_tuple(desc, values, nulls));
}

void check_size(Datum session_id, int64 size) {
    if (size > settings::max_snapshot_bytes)
        raise(sqlstate::program_limit_exceeded,
              psprintf("snapshot of session %s is too large: %lld bytes", uuid_text(session_id),
                       static_cast<long long>(size)),
              psprintf("session_persist.max_snapshot_bytes is %d bytes.",
                       settings::max_snapshot_bytes),
              "Keep large artifacts out of the state (store them elsewhere and reference them), "
              "or ask an administrator to raise the limit.");
}

} // namespace

SP_FUNCTION(sp_create_session_snapshot) {
    require_arg(fcinfo, 0, "p_session_id");
    require_arg(fcinfo, 1, "p_snapshot_data");
    Datum session_id = PG_GETARG_DATUM(0);
    Jsonb *state = PG_GETARG_JSONB_P(1);
    bool has_expected = !PG_ARGISNULL(2);
    int32 expected = has_expected ? PG_GETARG_INT32(2) : 0;
    Jsonb *metadata = PG_ARGISNULL(3) ? nullptr : PG_GETARG_JSONB_P(3);

    require_json_object(state, "p_snapshot_data");
    if (metadata)
        require_json_object(metadata, "p_metadata");
    if (has_expected && expected < 0)
        raise(sqlstate::invalid_parameter_value,
              psprintf("p_expected_number must be 0 or more, not %d", expected));
    int64 size = VARSIZE(state);
    check_size(session_id, size);
    StateHash hash = state_hash_of(state);

    MemoryContext upper = CurrentMemoryContext;
    SPI_connect();
    WritableSession session = lock_session_for_write(session_id, upper);
    int32 latest = session.latest_snapshot_number;
    if (has_expected && expected != latest)
        raise(sqlstate::serialization_failure,
              psprintf("session %s has changed since snapshot %d", uuid_text(session_id), expected),
              psprintf("The latest snapshot is %d.", latest),
              "Restore the latest snapshot, merge your changes, and save again with "
              "p_expected_number set to its number.");

    SaveResult result{};
    result.session_id = session_id;
    result.snapshot_size = size;
    if (latest > 0 && session.latest_state_hash &&
        state_hash_equals(session.latest_state_hash, hash)) {
        // Change detection: a retried or repeated save writes nothing.
        as_table_owner([&] {
            Datum args[] = {session_id, Int32GetDatum(latest)};
            run(Sql::ChainLink, args, nullptr, false, 1);
        });
        if (SPI_processed == 0)
            raise(sqlstate::data_corrupted,
                  psprintf("latest snapshot %d of session %s is missing", latest,
                           uuid_text(session_id)),
                  nullptr, "Run verify_session() on the session.");
        bool isnull;
        result.id = column_copy(0, LinkId, &isnull, upper);
        result.created_at = column(0, LinkCreatedAt, &isnull);
        result.kind = column_cstring(0, LinkKind, upper);
        result.snapshot_size = column_int64(0, LinkSize);
        result.stored_bytes = column_int64(0, LinkStored);
        result.snapshot_number = latest;
    } else {
        int32 number = latest + 1;
        StoragePlan storage =
            plan_storage(state, number, latest > 0 ? session.latest_fingerprint : 0);
        Jsonb *new_messages = nullptr;
        if (PG_ARGISNULL(4) || PG_GETARG_BOOL(4)) {
            // The new elements of the state's messages array go to the history, found from
            // the previous snapshot's fingerprint (or, without one, its restored state).
            if (latest == 0 || storage.has_previous_mark)
                new_messages =
                    new_messages_of_state(state, latest == 0 ? nullptr : &storage.previous_mark);
            else
                new_messages = new_messages_since_snapshot(session_id, state, latest);
        }
        Datum args[] = {session_id,
                        Int32GetDatum(number),
                        CStringGetTextDatum(session.user_id),
                        session.organization_id ? CStringGetTextDatum(session.organization_id)
                                                : (Datum)0,
                        Int64GetDatum(size),
                        Int64GetDatum(storage.stored_bytes),
                        CStringGetTextDatum(storage.keyframe ? "full" : "delta"),
                        Int32GetDatum(latest),
                        storage.keyframe ? JsonbPGetDatum(state) : (Datum)0,
                        storage.keyframe ? (Datum)0 : JsonbPGetDatum(storage.delta),
                        state_hash_bytea(hash),
                        metadata ? JsonbPGetDatum(metadata)
                                 : DirectFunctionCall1(jsonb_in, CStringGetDatum("{}")),
                        storage.fingerprint,
                        new_messages ? JsonbPGetDatum(new_messages) : (Datum)0,
                        Int32GetDatum(session.message_count)};
        char nulls[] = {' ',
                        ' ',
                        ' ',
                        null_flag(!session.organization_id),
                        ' ',
                        ' ',
                        ' ',
                        null_flag(storage.keyframe),
                        null_flag(!storage.keyframe),
                        null_flag(storage.keyframe),
                        ' ',
                        ' ',
                        ' ',
                        null_flag(!new_messages),
                        ' '};
        as_table_owner([&] {
            run(new_messages ? Sql::SaveSnapshotWithMessages : Sql::SaveSnapshot, args, nulls,
                false, 1);
        });
        bool isnull;
        result.id = column_copy(0, 1, &isnull, upper);
        result.created_at = column(0, 2, &isnull);
        result.created = true;
        result.snapshot_number = number;
        result.kind = storage.keyframe ? "full" : "delta";
        result.stored_bytes = storage.stored_bytes;
        if (new_messages)
            notify_session_event(session_id, session.user_id, "messages",
                                 session.message_count + JB_ROOT_COUNT(new_messages));
        notify_session_event(session_id, session.user_id, "snapshot", number);
    }
    SPI_finish();

    if (result.created && size > settings::warn_snapshot_bytes)
        ereport(WARNING,
                (errmsg("snapshot %d of session %s is large: %lld bytes", result.snapshot_number,
                        uuid_text(session_id), static_cast<long long>(size)),
                 errdetail("session_persist.warn_snapshot_bytes is %d bytes.",
                           settings::warn_snapshot_bytes)));
    return result_tuple(fcinfo, result);
}
