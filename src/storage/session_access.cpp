#include "session_access.hpp"

#include "catalog.hpp"
#include "core/error.hpp"
#include "guard.hpp"
#include "row_writer.hpp"
#include "session_lock.hpp"
#include "spi_util.hpp"

namespace sp {

void raise_session_not_found(Datum session_id) {
    raise(sqlstate::not_found, psprintf("session %s not found", uuid_text(session_id)),
          "It does not exist or is not visible to the current user.");
}

namespace {

[[noreturn]] void raise_not_writable(Datum session_id) {
    raise(sqlstate::insufficient_privilege,
          psprintf("permission denied to change session %s", uuid_text(session_id)),
          "Only the session's owner can change it; it is shared with you read-only.");
}

} // namespace

bool try_lock_session_for_write(Datum session_id, MemoryContext upper, WritableSession *out,
                                bool skip_locked) {
    if (!skip_locked) {
        DirectLock direct = lock_session_directly(session_id, upper, out);
        if (direct != DirectLock::declined)
            return direct == DirectLock::locked;
    }
    Datum args[] = {session_id};
    run(skip_locked ? Sql::LockSessionForWriteSkipLocked : Sql::LockSessionForWrite, args, nullptr,
        false, 1);
    if (SPI_processed == 0)
        return false;
    out->user_id = column_cstring(0, 1, upper);
    out->organization_id = column_cstring(0, 2, upper);
    out->latest_snapshot_number = column_int32(0, 3);
    out->message_count = column_int32(0, 4);
    bool isnull;
    out->latest_state_hash = column_copy(0, 5, &isnull, upper);
    out->latest_fingerprint = column_copy(0, 6, &isnull, upper);
    out->row = *reinterpret_cast<ItemPointer>(DatumGetPointer(column(0, 7, &isnull)));
    out->snapshot_count = column_int32(0, 8);
    Datum keep = column(0, 9, &isnull);
    out->keep_snapshots = isnull ? -1 : DatumGetInt32(keep);
    MemoryContext spi = MemoryContextSwitchTo(upper);
    out->id = datumCopy(session_id, false, UUID_LEN);
    MemoryContextSwitchTo(spi);
    out->visibility = column(0, 10, &isnull); // an enum: by value
    out->latest_fingerprint_patch = column_copy(0, 12, &isnull, upper);
    // last: on Citus, placement_of runs a query of its own (SPI_tuptable is then its result)
    out->placement = placement_of(DatumGetObjectId(column(0, 11, &isnull)), session_id);
    return true;
}

WritableSession lock_session_for_write(Datum session_id, MemoryContext upper) {
    WritableSession session;
    if (try_lock_session_for_write(session_id, upper, &session))
        return session;
    // Not lockable: tell "not yours" from "not there" (the rare path, so a second query).
    Datum args[] = {session_id};
    run(Sql::SessionVisible, args, nullptr, false, 1);
    if (SPI_processed == 0)
        raise_session_not_found(session_id);
    raise_not_writable(session_id);
}

int32 require_visible_session(Datum session_id) {
    Datum args[] = {session_id};
    run(Sql::SessionVisible, args, nullptr, true, 1);
    if (SPI_processed == 0)
        raise_session_not_found(session_id);
    return column_int32(0, 2);
}

Oid local_relation(const WritableSession &session, Oid relation) {
    if (!OidIsValid(relation))
        raise(sqlstate::feature_not_supported,
              psprintf("session %s is stored on another Citus node", uuid_text(session.id)),
              "Its snapshots and messages are written only by a call that Citus runs on that "
              "node.",
              "Call the function as a statement of its own (SELECT f(...)) so that Citus "
              "delegates it (see distribute_session_persist()).");
    return relation;
}

void set_visibility_copy(RowWriter *w, const WritableSession &session) {
    if (rows_carry_visibility())
        set_column(w, "visibility", session.visibility);
}

Datum visibility_text(const WritableSession &session) {
    return CStringGetTextDatum(DatumGetCString(DirectFunctionCall1(enum_out, session.visibility)));
}

void start_session_update(RowWriter *w, const WritableSession &session) {
    open_row_writer(w, local_relation(session, session.placement.sessions));
    start_update(w, &session.row);
}

void finish_session_update(RowWriter *w, Datum now) {
    set_column(w, "updated_at", now);
    update_row(w);
    close_row_writer(w);
    CommandCounterIncrement();
}

} // namespace sp
