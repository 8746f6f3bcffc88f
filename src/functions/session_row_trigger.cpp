// The trigger that keeps free_agent_sessions' bookkeeping in the extension's hands.
//
// Policies decide *which* rows a client may insert or update but cannot see the old row, so
// they cannot stop a client that was granted UPDATE on every column (Supabase does that by
// default) from rewriting its counters. This BEFORE trigger refuses that: the owner copies
// and counters change only through the extension's functions, which write them as the
// tables' owner. Roles that bypass RLS (service roles, pg_restore) are trusted as well.
// It also checks the name and metadata a client writes (instead of CHECK constraints, which
// PostgreSQL would re-read at every save's counter update).
#include "pg.hpp"

#include "args.hpp"
#include "catalog.hpp"
#include "core/error.hpp"
#include "guard.hpp"

namespace {

using namespace sp;

// Maintained by session_persist; a client insert must leave them at their defaults.
const char *const counter_columns[] = {
    "snapshot_count",      "latest_snapshot_number", "last_snapshot_at", "latest_snapshot_size",
    "total_snapshot_size", "stored_bytes",           "message_count",    "last_message_at",
    "latest_state_hash",   "latest_fingerprint",     "latest_fingerprint_patch"};
// Fixed at creation.
const char *const identity_columns[] = {"id", "user_id", "organization_id", "created_at"};
// What a client edits; a change to one of them moves updated_at.
const char *const editable_columns[] = {
    "name",           "description", "model",        "status",         "current_state",
    "visibility",     "memory_summary", "metadata", "completed_at", "keep_snapshots", "keep_for"};

bool column_differs(TupleDesc desc, HeapTuple a, HeapTuple b, const char *name) {
    int attnum = SPI_fnumber(desc, name);
    if (attnum <= 0) // a column of a later version, before ALTER EXTENSION UPDATE
        return false;
    bool a_null, b_null;
    Datum a_value = heap_getattr(a, attnum, desc, &a_null);
    Datum b_value = heap_getattr(b, attnum, desc, &b_null);
    if (a_null || b_null)
        return a_null != b_null;
    Form_pg_attribute att = TupleDescAttr(desc, attnum - 1);
    return !datumIsEqual(a_value, b_value, att->attbyval, att->attlen);
}

[[noreturn]] void refuse(const char *column) {
    raise(sqlstate::insufficient_privilege,
          psprintf("column \"%s\" of free_agent_sessions is maintained by session_persist", column),
          nullptr,
          "Save snapshots with create_session_snapshot() and messages with "
          "append_session_messages(); the counters follow.");
}

bool counter_is_default(TupleDesc desc, HeapTuple row, const char *name) {
    int attnum = SPI_fnumber(desc, name);
    if (attnum <= 0) // a column of a later version, before ALTER EXTENSION UPDATE
        return true;
    bool isnull;
    Datum value = heap_getattr(row, attnum, desc, &isnull);
    if (isnull) // timestamps and hashes start out NULL
        return TupleDescAttr(desc, attnum - 1)->atttypid != INT4OID &&
               TupleDescAttr(desc, attnum - 1)->atttypid != INT8OID;
    switch (TupleDescAttr(desc, attnum - 1)->atttypid) {
    case INT4OID:
        return DatumGetInt32(value) == 0;
    case INT8OID:
        return DatumGetInt64(value) == 0;
    default:
        return false;
    }
}

// Client-written columns of unbounded type: each is held to max_snapshot_bytes (54000).
const char *const sized_columns[] = {"description", "model", "current_state", "memory_summary",
                                     "metadata"};

// 22023 unless the row's name has 1 to 200 characters and its metadata is an object; 54000
// when a client-written value is over session_persist.max_snapshot_bytes.
void check_editable_values(TupleDesc desc, HeapTuple row) {
    bool isnull;
    Datum name = heap_getattr(row, SPI_fnumber(desc, "name"), desc, &isnull);
    if (!isnull) {
        text *t = DatumGetTextPP(name);
        check_session_name(VARDATA_ANY(t), VARSIZE_ANY_EXHDR(t), "name");
    }
    for (const char *column : sized_columns) {
        Datum value = heap_getattr(row, SPI_fnumber(desc, column), desc, &isnull);
        if (!isnull)
            check_datum_size(psprintf("column \"%s\" of the session", column), value);
    }
    Datum metadata = heap_getattr(row, SPI_fnumber(desc, "metadata"), desc, &isnull);
    if (!isnull)
        require_json_object(DatumGetJsonbP(metadata), "metadata");
    if (SPI_fnumber(desc, "keep_snapshots") <= 0) // 1.0's table, before the update
        return;
    Datum keep = heap_getattr(row, SPI_fnumber(desc, "keep_snapshots"), desc, &isnull);
    if (!isnull && DatumGetInt32(keep) < 0)
        raise(sqlstate::invalid_parameter_value,
              psprintf("keep_snapshots must be 0 or more, not %d", DatumGetInt32(keep)),
              "0 keeps every snapshot; NULL uses session_persist.keep_snapshots.");
    Datum age = heap_getattr(row, SPI_fnumber(desc, "keep_for"), desc, &isnull);
    if (!isnull) {
        Interval *value = DatumGetIntervalP(age);
        if (value->month < 0 || value->day < 0 || value->time < 0 ||
            (value->month == 0 && value->day == 0 && value->time == 0))
            raise(sqlstate::invalid_parameter_value, "keep_for must be a positive interval",
                  "NULL uses session_persist.keep_for.");
    }
}

bool any_column_differs(TupleDesc desc, HeapTuple a, HeapTuple b) {
    for (const char *column : editable_columns)
        if (column_differs(desc, a, b, column))
            return true;
    return false;
}

HeapTuple touch_updated_at(TupleDesc desc, HeapTuple row) {
    int attnum = SPI_fnumber(desc, "updated_at");
    Datum now = TimestampTzGetDatum(GetCurrentTransactionStartTimestamp());
    bool isnull = false;
    return heap_modify_tuple_by_cols(row, desc, 1, &attnum, &now, &isnull);
}

} // namespace

SP_FUNCTION(sp_guard_session_row) {
    if (!CALLED_AS_TRIGGER(fcinfo))
        raise("39P01", "guard_session_row() must be called as a trigger");
    TriggerData *trigger = reinterpret_cast<TriggerData *>(fcinfo->context);
    TupleDesc desc = RelationGetDescr(trigger->tg_relation);
    bool trusted = current_user_bypasses_rls();

    if (TRIGGER_FIRED_BY_INSERT(trigger->tg_event)) {
        HeapTuple row = trigger->tg_trigtuple;
        check_editable_values(desc, row);
        if (!trusted)
            for (const char *column : counter_columns)
                if (!counter_is_default(desc, row, column))
                    refuse(column);
        return PointerGetDatum(row);
    }

    HeapTuple old_row = trigger->tg_trigtuple;
    HeapTuple new_row = trigger->tg_newtuple;
    if (!trusted) {
        for (const char *column : identity_columns)
            if (column_differs(desc, old_row, new_row, column))
                refuse(column);
        for (const char *column : counter_columns)
            if (column_differs(desc, old_row, new_row, column))
                refuse(column);
    }
    // The extension's own counter updates change no editable column and skip the checks.
    if (!any_column_differs(desc, old_row, new_row))
        return PointerGetDatum(new_row);
    check_editable_values(desc, new_row);
    if (!column_differs(desc, old_row, new_row, "updated_at"))
        return PointerGetDatum(touch_updated_at(desc, new_row));
    return PointerGetDatum(new_row);
}
