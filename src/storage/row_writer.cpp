#include "row_writer.hpp"

#include "core/error.hpp"
#include "guard.hpp"
#include "index_predicates.hpp"
#include "pg_compat.hpp"

extern "C" {
#include "access/table.h"
#include "access/tableam.h"
#include "access/toast_compression.h"
#include "access/toast_internals.h"
#include "executor/executor.h"
#include "nodes/makefuncs.h"
#include "utils/snapmgr.h"
}

namespace sp {

namespace {

bool is_column(TupleDesc desc, int i, const char *name) {
    Form_pg_attribute att = TupleDescAttr(desc, i);
    return !att->attisdropped && strcmp(NameStr(att->attname), name) == 0;
}

// Where a (table, column name) was found last. A save sets some forty columns by name and
// scanning the descriptor for each showed in a small save's profile. Callers pass string literals,
// so the name's address identifies it; a hint is checked against the descriptor before it
// is used, so a column dropped and added again is simply looked up again.
struct ColumnHint {
    Oid relid;
    const char *name;
    int index;
};
constexpr size_t hint_slots = 128;
ColumnHint hints[hint_slots];

ColumnHint &hint_for(Oid relid, const char *name) {
    size_t h = (reinterpret_cast<uintptr_t>(name) >> 3) * 31 + relid;
    return hints[h % hint_slots];
}

int column_index(RowWriter *w, const char *name) {
    TupleDesc desc = RelationGetDescr(w->rel);
    Oid relid = RelationGetRelid(w->rel);
    ColumnHint &hint = hint_for(relid, name);
    if (hint.name == name && hint.relid == relid && hint.index < desc->natts &&
        is_column(desc, hint.index, name))
        return hint.index;
    for (int i = 0; i < desc->natts; i++) {
        if (is_column(desc, i, name)) {
            hint = {relid, name, i};
            return i;
        }
    }
    raise(sqlstate::internal_error,
          psprintf("session_persist's table %s has no column %s", RelationGetRelationName(w->rel),
                   name),
          nullptr, "Reinstall the extension (DROP EXTENSION, CREATE EXTENSION).");
}

void store_row(RowWriter *w) {
    TupleDesc desc = RelationGetDescr(w->rel);
    ExecClearTuple(w->row);
    memcpy(w->row->tts_values, w->values, desc->natts * sizeof(Datum));
    memcpy(w->row->tts_isnull, w->nulls, desc->natts * sizeof(bool));
    ExecStoreVirtualTuple(w->row);
}

} // namespace

void open_row_writer(RowWriter *w, Oid relid) {
    w->rel = table_open(relid, RowExclusiveLock);
    w->estate = CreateExecutorState();
    RangeTblEntry *rte = makeNode(RangeTblEntry);
    rte->rtekind = RTE_RELATION;
    rte->relid = relid;
    rte->relkind = w->rel->rd_rel->relkind;
    rte->rellockmode = RowExclusiveLock;
    init_single_range_table(w->estate, rte);
    w->estate->es_output_cid = GetCurrentCommandId(true);
    w->estate->es_snapshot = GetActiveSnapshot();
    w->result = makeNode(ResultRelInfo);
    InitResultRelInfo(w->result, w->rel, 1, nullptr, 0);
    w->result->ri_TrigDesc = nullptr; // see row_writer.hpp: no triggers
    ExecOpenIndices(w->result, false);
    use_cached_index_predicates(w->result);
    TupleDesc desc = RelationGetDescr(w->rel);
    w->row = ExecInitExtraTupleSlot(w->estate, desc, &TTSOpsVirtual);
    w->current = table_slot_create(w->rel, &w->estate->es_tupleTable);
    w->values = static_cast<Datum *>(palloc0(desc->natts * sizeof(Datum)));
    w->nulls = static_cast<bool *>(palloc(desc->natts * sizeof(bool)));
}

void close_row_writer(RowWriter *w) {
    ExecCloseIndices(w->result);
    ExecResetTupleTable(w->estate->es_tupleTable, false);
    FreeExecutorState(w->estate);
    table_close(w->rel, NoLock);
}

void set_column(RowWriter *w, const char *name, Datum value, bool isnull) {
    int i = column_index(w, name);
    w->values[i] = isnull ? (Datum)0 : value;
    w->nulls[i] = isnull;
}

void set_column_compressed(RowWriter *w, const char *name, Datum value) {
    int i = column_index(w, name);
    struct varlena *v = reinterpret_cast<struct varlena *>(DatumGetPointer(value));
    Datum stored = value;
    if (!VARATT_IS_EXTENDED(v) && VARSIZE(v) >= compress_min_bytes) {
        char method = TupleDescAttr(RelationGetDescr(w->rel), i)->attcompression;
        if (!CompressionMethodIsValid(method)) {
#ifdef USE_LZ4
            method = TOAST_LZ4_COMPRESSION;
#else
            method = default_toast_compression;
#endif
        }
        Datum compressed = toast_compress_datum(value, method);
        if (DatumGetPointer(compressed))
            stored = compressed;
    }
    w->values[i] = stored;
    w->nulls[i] = false;
}

Datum current_column(RowWriter *w, const char *name, bool *isnull) {
    int i = column_index(w, name);
    *isnull = w->current->tts_isnull[i];
    return w->current->tts_values[i];
}

void start_insert(RowWriter *w) {
    TupleDesc desc = RelationGetDescr(w->rel);
    memset(w->values, 0, desc->natts * sizeof(Datum));
    memset(w->nulls, true, desc->natts * sizeof(bool));
}

void insert_row(RowWriter *w) {
    store_row(w);
    ExecSimpleRelationInsert(w->result, w->estate, w->row);
    ResetPerTupleExprContext(w->estate);
}

void start_update(RowWriter *w, const ItemPointerData *tid) {
    ItemPointerData at = *tid;
    if (!table_tuple_fetch_row_version(w->rel, &at, SnapshotAny, w->current))
        raise(sqlstate::internal_error,
              psprintf("locked row (%u,%u) of %s is gone", ItemPointerGetBlockNumber(&at),
                       ItemPointerGetOffsetNumber(&at), RelationGetRelationName(w->rel)));
    slot_getallattrs(w->current);
    TupleDesc desc = RelationGetDescr(w->rel);
    memcpy(w->values, w->current->tts_values, desc->natts * sizeof(Datum));
    memcpy(w->nulls, w->current->tts_isnull, desc->natts * sizeof(bool));
}

void update_row(RowWriter *w) {
    store_row(w);
    ExecSimpleRelationUpdate(w->result, w->estate, nullptr, w->current, w->row);
    ResetPerTupleExprContext(w->estate);
}

namespace {

// Strong random bytes drawn a kilobyte at a time: each pg_strong_random call costs a round of
// OpenSSL's generator whatever its size, and a save draws a uuid for its
// chain row and one per synced message. Per process; never shared, never reused.
struct RandomPool {
    uint8 bytes[1024];
    size_t used = sizeof bytes;
};
RandomPool pool;

void take_random(uint8 *out, size_t n) {
    if (sizeof pool.bytes - pool.used < n) {
        if (!pg_strong_random(pool.bytes, sizeof pool.bytes))
            raise(sqlstate::internal_error, "could not generate a random uuid");
        pool.used = 0;
    }
    memcpy(out, pool.bytes + pool.used, n);
    memset(pool.bytes + pool.used, 0, n);
    pool.used += n;
}

} // namespace

Datum random_uuid() {
    pg_uuid_t *uuid = static_cast<pg_uuid_t *>(palloc(sizeof(pg_uuid_t)));
    take_random(uuid->data, UUID_LEN);
    uuid->data[6] = (uuid->data[6] & 0x0f) | 0x40; // version 4
    uuid->data[8] = (uuid->data[8] & 0x3f) | 0x80; // RFC 4122 variant
    return UUIDPGetDatum(uuid);
}

} // namespace sp
