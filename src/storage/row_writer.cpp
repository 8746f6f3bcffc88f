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
#include "access/heapam.h"
#include "executor/executor.h"
#include "storage/bufmgr.h"
#include "storage/freespace.h"
#include "nodes/makefuncs.h"
#include "access/xact.h"
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
    w->tidied = false;
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

namespace {

// Page pruning (heap_page_prune_opt, on a read of a page) reclaims old row versions in place,
// but only when the page is nearly full, and only VACUUM tells the free space map; until then
// a new row that does not fit the page an insert is filling extends the table rather than
// reuse a pruned page. The extension replaces the same rows again and again (the session row
// at every save, a message that grows while it streams), and their old versions are dead by
// the next save. So a writer has the pages its backend's last rows left pruned whatever their
// free space (with the hint heap_update itself sets on a page it found full) and records their
// free space, and has the page its inserts fill pruned before it adds to it.
// Returns the xid a version the page still holds waits for (pd_prune_xid: the oldest that
// deleted one), InvalidTransactionId when nothing is left to prune.
TransactionId prune_page(Relation rel, BlockNumber block) {
    Buffer buffer = ReadBuffer(rel, block);
    LockBuffer(buffer, BUFFER_LOCK_EXCLUSIVE);
    Page page = BufferGetPage(buffer);
    TransactionId waits = reinterpret_cast<PageHeader>(page)->pd_prune_xid;
    if (TransactionIdIsValid(waits))
        PageSetFull(page);
    LockBuffer(buffer, BUFFER_LOCK_UNLOCK);
    if (TransactionIdIsValid(waits)) {
        heap_page_prune_opt(rel, buffer); // prunes what no running transaction can see
        LockBuffer(buffer, BUFFER_LOCK_SHARE);
        waits = reinterpret_cast<PageHeader>(page)->pd_prune_xid;
        LockBuffer(buffer, BUFFER_LOCK_UNLOCK);
    }
    ReleaseBuffer(buffer);
    return waits;
}

void record_free_space(Relation rel, BlockNumber block) {
    Buffer buffer = ReadBuffer(rel, block);
    LockBuffer(buffer, BUFFER_LOCK_SHARE);
    Size free = PageGetHeapFreeSpace(BufferGetPage(buffer));
    UnlockReleaseBuffer(buffer);
    RecordPageWithFreeSpace(rel, block, free);
}

// Pages a row left for another page (its old version could not be pruned yet: this
// transaction replaced it), tidied by this backend's writes to the table once the versions
// are dead to everyone (`waits`, the xid that deleted them, is checked against the oldest
// running transaction without reading the page); per backend, the newest few, a hint that
// may go stale.
struct LeftPage {
    Oid relid;
    BlockNumber block;
    TransactionId waits;
};
constexpr int left_slots = 64;
LeftPage left_pages[left_slots];
int left_count = 0;

void note_left_page(Relation rel, BlockNumber block) {
    TransactionId xid = GetTopTransactionIdIfAny();
    for (int i = 0; i < left_count; ++i)
        if (left_pages[i].relid == RelationGetRelid(rel) && left_pages[i].block == block) {
            left_pages[i].waits = xid;
            return;
        }
    if (left_count == left_slots) { // the oldest goes: a hint
        memmove(left_pages, left_pages + 1, sizeof left_pages[0] * (left_slots - 1));
        --left_count;
    }
    left_pages[left_count++] = {RelationGetRelid(rel), block, xid};
}

void tidy_left_pages(Relation rel) {
    if (left_count == 0)
        return;
    GlobalVisState *horizon = GlobalVisTestFor(rel);
    BlockNumber blocks = InvalidBlockNumber; // looked up once, when needed (a VACUUM may
                                             // have truncated the table since)
    int kept = 0;
    for (int i = 0; i < left_count; ++i) {
        LeftPage page = left_pages[i];
        if (page.relid != RelationGetRelid(rel) ||
            (TransactionIdIsValid(page.waits) &&
             !GlobalVisTestIsRemovableXid(horizon, page.waits))) {
            left_pages[kept++] = page; // another table's, or still seen: later
            continue;
        }
        if (blocks == InvalidBlockNumber)
            blocks = RelationGetNumberOfBlocks(rel);
        if (page.block >= blocks)
            continue;
        page.waits = prune_page(rel, page.block);
        record_free_space(rel, page.block);
        if (TransactionIdIsValid(page.waits))
            left_pages[kept++] = page; // newer versions wait on it: again later
    }
    left_count = kept;
}

// Before a writer's first row: pages rows left are offered to the rows to come and, for an
// insert, the page this backend's inserts fill, which may hold versions the last save
// replaced, is pruned so that its room goes to these rows.
void tidy_before_first_row(RowWriter *w, bool inserting) {
    if (w->tidied)
        return;
    w->tidied = true;
    tidy_left_pages(w->rel);
    if (!inserting)
        return;
    // (a truncation resets the target block: it exists when set)
    BlockNumber target = RelationGetTargetBlock(w->rel);
    if (target != InvalidBlockNumber)
        prune_page(w->rel, target);
}

} // namespace

void insert_row(RowWriter *w) {
    tidy_before_first_row(w, true);
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

void prune_toast_target(RowWriter *w) {
    Oid toast = w->rel->rd_rel->reltoastrelid;
    if (!OidIsValid(toast))
        return;
    Relation rel = table_open(toast, RowExclusiveLock);
    BlockNumber target = RelationGetTargetBlock(rel);
    if (target != InvalidBlockNumber)
        prune_page(rel, target);
    table_close(rel, NoLock);
}

void update_row(RowWriter *w) {
    store_row(w);
    tidy_before_first_row(w, false);
    BlockNumber old_block = ItemPointerGetBlockNumber(&w->current->tts_tid);
    ExecSimpleRelationUpdate(w->result, w->estate, nullptr, w->current, w->row);
    ResetPerTupleExprContext(w->estate);
    if (ItemPointerGetBlockNumber(&w->row->tts_tid) != old_block)
        note_left_page(w->rel, old_block);
    else // what the page holds now, for a row that must move from a fuller one
        record_free_space(w->rel, old_block);
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
