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
#include "row_writer.hpp"
#include "session_access.hpp"
#include "settings.hpp"
#include "snapshot_cleanup.hpp"
#include "storage_plan.hpp"
#include "snapshot_save.hpp"
#include "citus_forward.hpp"
#include "spi_util.hpp"
#include "core/state_hash.hpp"

namespace {

using namespace sp;

// Columns of Sql::ChainLink.
enum LinkColumn { LinkId = 1, LinkCreatedAt, LinkKind, LinkSize, LinkStored };

// The result's descriptor, looked up once per call site (kept in fn_extra, in fn_mcxt).
TupleDesc result_descriptor(FunctionCallInfo fcinfo) {
    if (!fcinfo->flinfo->fn_extra) {
        TupleDesc desc;
        if (get_call_result_type(fcinfo, nullptr, &desc) != TYPEFUNC_COMPOSITE)
            elog(ERROR, "create_session_snapshot must return a record");
        MemoryContext caller = MemoryContextSwitchTo(fcinfo->flinfo->fn_mcxt);
        fcinfo->flinfo->fn_extra = BlessTupleDesc(CreateTupleDescCopy(desc));
        MemoryContextSwitchTo(caller);
    }
    return static_cast<TupleDesc>(fcinfo->flinfo->fn_extra);
}

Datum result_tuple(FunctionCallInfo fcinfo, const SaveResult &r) {
    TupleDesc desc = result_descriptor(fcinfo);
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
        check_value_size(psprintf("snapshot of session %s", uuid_text(session_id)), size,
                         "Keep large artifacts out of the state (store them elsewhere and "
                         "reference them), or ask an administrator to raise the limit.");
}

// Writes the new chain row, the messages the save syncs (may be NULL) and the session's
// counters without planning a statement (row_writer.hpp), after the session was locked as
// the caller. With `keep` > 0 the chain is first pruned back to `keep` snapshots (retention),
// and the session row's one update counts that too.
void write_snapshot(Datum session_id, const WritableSession &session, int32 number, int64 size,
                    const StoragePlan &storage, Datum message_refs, StateHash hash,
                    Jsonb *metadata, Jsonb *new_messages, const SaveResult &result,
                    int32 keep) {
    Datum now = result.created_at;
    Datum hash_bytes = state_hash_bytea(hash);
    RowWriter chain;
    open_row_writer(&chain, local_relation(session, session.placement.chain));
    start_insert(&chain);
    set_column(&chain, "session_id", session_id);
    set_column(&chain, "snapshot_number", Int32GetDatum(number));
    set_column(&chain, "id", result.id);
    set_column(&chain, "user_id", CStringGetTextDatum(session.user_id));
    set_column(&chain, "organization_id",
               session.organization_id ? CStringGetTextDatum(session.organization_id) : (Datum)0,
               !session.organization_id);
    set_column(&chain, "created_at", now);
    set_column(&chain, "snapshot_size", Int64GetDatum(size));
    set_column(&chain, "stored_bytes", Int64GetDatum(storage.stored_bytes));
    set_column(&chain, "kind", CStringGetTextDatum(storage.keyframe ? "full" : "delta"));
    set_column(&chain, "base_number", Int32GetDatum(number - 1), storage.keyframe);
    set_column(&chain, "state", JsonbPGetDatum(storage.stored_state), !storage.keyframe);
    if (storage.keyframe)
        set_column(&chain, "delta", (Datum)0, true);
    else
        set_column_compressed(&chain, "delta", JsonbPGetDatum(storage.delta));
    set_column(&chain, "state_hash", hash_bytes);
    set_column(&chain, "metadata", JsonbPGetDatum(metadata ? metadata : empty_jsonb_object()));
    if (message_refs)
        set_column(&chain, "message_refs", message_refs);
    set_visibility_copy(&chain, session);
    insert_row(&chain);
    close_row_writer(&chain);

    int32 added = new_messages ? JB_ROOT_COUNT(new_messages) : 0;
    if (added > 0)
        insert_messages(session_id, session, new_messages, number, now);

    Pruned pruned;
    if (keep > 0) {
        CommandCounterIncrement(); // pruning reads the rows written above
        pruned = prune_chain(session_id, number, {keep, (Datum)0, false});
    }

    RowWriter sessions;
    start_session_update(&sessions, session);
    bool isnull;
    auto add = [&](const char *column, int64 amount) {
        int64 before = DatumGetInt64(current_column(&sessions, column, &isnull));
        set_column(&sessions, column, Int64GetDatum(before + amount));
    };
    int32 count = DatumGetInt32(current_column(&sessions, "snapshot_count", &isnull));
    set_column(&sessions, "snapshot_count", Int32GetDatum(count + 1 - pruned.deleted));
    set_column(&sessions, "latest_snapshot_number", Int32GetDatum(number));
    set_column(&sessions, "last_snapshot_at", now);
    set_column(&sessions, "latest_snapshot_size", Int64GetDatum(size));
    add("total_snapshot_size", size - pruned.deleted_size);
    add("stored_bytes", storage.stored_bytes + pruned.stored_change);
    set_column(&sessions, "latest_state_hash", hash_bytes);
    if (storage.fingerprint_base) { // a new base: the old one's chunks go
        set_column(&sessions, "latest_fingerprint", storage.fingerprint_base);
        prune_toast_target(&sessions);
    }
    if (storage.fingerprint_patch)
        set_column(&sessions, "latest_fingerprint_patch", storage.fingerprint_patch);
    if (added > 0)
        count_messages(&sessions, added, now);
    finish_session_update(&sessions, now);
}


} // namespace

namespace sp {

SaveResult save_snapshot(const SaveRequest &request) {
    Datum session_id = request.session_id;
    Jsonb *state = request.state;
    Jsonb *metadata = request.metadata;
    require_json_object(state, "p_snapshot_data");
    if (metadata) {
        require_json_object(metadata, "p_metadata");
        check_value_size("p_metadata", VARSIZE(metadata));
    }
    if (request.has_expected && request.expected < 0)
        raise(sqlstate::invalid_parameter_value,
              psprintf("p_expected_number must be 0 or more, not %d", request.expected));
    int64 size = VARSIZE(state);
    check_size(session_id, size);
    StateHash hash = state_hash_of(state);

    MemoryContext upper = CurrentMemoryContext;
    SPI_connect();
    WritableSession session = lock_session_for_write(session_id, upper);
    int32 latest = session.latest_snapshot_number;
    if (request.has_expected && request.expected < latest)
        raise(sqlstate::serialization_failure,
              psprintf("session %s has changed since snapshot %d", uuid_text(session_id),
                       request.expected),
              psprintf("The latest snapshot is %d.", latest),
              "Restore the latest snapshot, merge your changes, and save again with "
              "p_expected_number set to its number.");
    if (request.has_expected && request.expected > latest)
        raise(sqlstate::serialization_failure,
              psprintf("session %s has no snapshot %d yet", uuid_text(session_id),
                       request.expected),
              psprintf("The latest snapshot is %d.", latest),
              "p_expected_number is the number of the snapshot your state was restored from "
              "(0 for a session without snapshots).");

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
        // A synced messages array is stored once, in the history: the chain refers to it
        // (core/message_refs.hpp).
        bool messages_by_ref =
            request.sync_messages && chain_has_message_refs() && has_messages_array(state);
        StoragePlan storage = plan_storage(state, number,
                                           latest > 0 ? session.latest_fingerprint : 0,
                                           session.latest_fingerprint_patch,
                                           messages_by_ref);
        Jsonb *new_messages = nullptr;
        MessagesChange change{};
        if (request.sync_messages)
            new_messages = new_messages_to_sync(
                session_id, state, latest,
                storage.has_previous_mark ? &storage.previous_mark : nullptr,
                storage.messages_new_from, &change);
        Datum message_refs = (Datum)0;
        if (messages_by_ref && storage.previous_by_ref && change.length > change.shared) {
            grow_in_place(session_id, number, state, storage.previous_mark.length, &change);
            new_messages = fresh_messages(state, change);
        }
        if (messages_by_ref) {
            message_refs = snapshot_message_refs(session_id, number, state, change,
                                                 session.message_count + 1,
                                                 storage.previous_by_ref, storage.keyframe);
            count_message_refs(&storage, message_refs);
        }
        MemoryContext spi = MemoryContextSwitchTo(upper);
        result.id = random_uuid();
        result.created_at = TimestampTzGetDatum(GetCurrentTransactionStartTimestamp());
        MemoryContextSwitchTo(spi);
        // Retention: a session more than its slack over its count is pruned back to it, in
        // this transaction (chain-safe, as cleanup_old_snapshots does).
        int32 keep = retention_count(session.keep_snapshots);
        bool prunes = keep > 0 && session.snapshot_count + 1 > keep + retention_slack(keep);
        write_snapshot(session_id, session, number, size, storage, message_refs, hash, metadata,
                       new_messages, result, prunes ? keep : 0);
        result.created = true;
        result.snapshot_number = number;
        result.kind = storage.keyframe ? "full" : "delta";
        result.stored_bytes = storage.stored_bytes;
        if (new_messages)
            notify_session_event(session_id, "messages",
                                 session.message_count + JB_ROOT_COUNT(new_messages));
        notify_session_event(session_id, "snapshot", number);
    }
    SPI_finish();

    if (result.created && size > settings::warn_snapshot_bytes)
        ereport(WARNING,
                (errmsg("snapshot %d of session %s is large: %lld bytes", result.snapshot_number,
                        uuid_text(session_id), static_cast<long long>(size)),
                 errdetail("session_persist.warn_snapshot_bytes is %d bytes.",
                           settings::warn_snapshot_bytes)));
    return result;
}

} // namespace sp

SP_FUNCTION(sp_create_session_snapshot) {
    require_arg(fcinfo, 0, "p_session_id");
    require_arg(fcinfo, 1, "p_snapshot_data");
    SaveRequest request{};
    request.session_id = PG_GETARG_DATUM(0);
    request.state = PG_GETARG_JSONB_P(1);
    request.has_expected = !PG_ARGISNULL(2);
    request.expected = request.has_expected ? PG_GETARG_INT32(2) : 0;
    request.metadata = PG_ARGISNULL(3) ? nullptr : PG_GETARG_JSONB_P(3);
    require_arg(fcinfo, 4, "p_sync_messages");
    request.sync_messages = PG_GETARG_BOOL(4);
    Datum forwarded;
    if (forward_save(fcinfo, &forwarded)) // Citus: the session is on another node
        PG_RETURN_DATUM(forwarded);
    return result_tuple(fcinfo, save_snapshot(request));
}
