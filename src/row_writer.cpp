#include "row_writer.hpp"

#include "core/error.hpp"
#include "guard.hpp"

extern "C" {
#include "access/table.h"
#include "access/tableam.h"
#include "executor/executor.h"
#include "nodes/makefuncs.h"
#include "utils/snapmgr.h"
}

namespace sp {

namespace {

int column_index(RowWriter *w, const char *name) {
    TupleDesc desc = RelationGetDescr(w->rel);
    for (int i = 0; i < desc->natts; i++) {
        Form_pg_attribute att = TupleDescAttr(desc, i);
        if (!att->attisdropped && strcmp(NameStr(att->attname), name) == 0)
            return i;
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
    ExecInitRangeTable(w->estate, list_make1(rte));
    w->estate->es_output_cid = GetCurrentCommandId(true);
    w->estate->es_snapshot = GetActiveSnapshot();
    w->result = makeNode(ResultRelInfo);
    InitResultRelInfo(w->result, w->rel, 1, nullptr, 0);
    w->result->ri_TrigDesc = nullptr; // see row_writer.hpp: no triggers
    ExecOpenIndices(w->result, false);
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

Datum random_uuid() {
    pg_uuid_t *uuid = static_cast<pg_uuid_t *>(palloc(sizeof(pg_uuid_t)));
    if (!pg_strong_random(uuid->data, UUID_LEN))
        raise(sqlstate::internal_error, "could not generate a random uuid");
    uuid->data[6] = (uuid->data[6] & 0x0f) | 0x40; // version 4
    uuid->data[8] = (uuid->data[8] & 0x3f) | 0x80; // RFC 4122 variant
    return UUIDPGetDatum(uuid);
}

} // namespace sp
