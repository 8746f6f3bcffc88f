// Writes rows of the extension's tables without planning a statement: heap and index
// inserts and updates through the executor's own routines for single rows (the ones logical
// replication applies changes with). create_session_snapshot uses it on its hot path, where
// a planned statement's start-up, its foreign-key check and its triggers were most of a
// small save's cost (bench/RESULTS.md).
//
// It checks nothing about who may write: call it only after the caller's right to change
// the session was decided as the caller (lock_session_for_write, through RLS), with that
// session's row locked until the end of the transaction. No triggers fire on rows written
// this way: the foreign key to the session holds because its row is locked, and the session
// row guard exists to stop clients, not the extension. Constraints (NOT NULL, unique
// indexes) are checked as usual; indexes, TOAST and WAL are maintained as by INSERT/UPDATE.
#pragma once

#include "pg.hpp"

struct EState;
struct ResultRelInfo;

namespace sp {

struct RowWriter {
    Relation rel;
    EState *estate;
    ResultRelInfo *result;
    TupleTableSlot *row;     // the row being written
    TupleTableSlot *current; // the row an update replaces
    Datum *values;           // the row being written, one entry per column
    bool *nulls;
    bool tidied; // pages this backend's writes left were tidied (insert_row, update_row)
};

// Opens relid (RowExclusiveLock, kept to the end of the transaction) and its indexes.
void open_row_writer(RowWriter *w, Oid relid);
void close_row_writer(RowWriter *w);

// Sets column `name` of the row being written (an error if the table has no such column).
void set_column(RowWriter *w, const char *name, Datum value, bool isnull = false);
// The same for a plain (not toasted) varlena value, stored compressed in the row when that
// makes it smaller and it has at least compress_min_bytes. PostgreSQL compresses only rows
// past about 2 kB; the message history's rows and the chain's deltas are mostly smaller, and
// their text compresses well. The column's compression method when it has one, else lz4
// where the server has it, else default_toast_compression. Readers see the value as usual.
constexpr uint32 compress_min_bytes = 128;
void set_column_compressed(RowWriter *w, const char *name, Datum value);
// Column `name` of the row an update replaces, as fetched by start_update.
Datum current_column(RowWriter *w, const char *name, bool *isnull);

// Starts a new row, every column NULL.
void start_insert(RowWriter *w);
// The first insert or update of a writer has the pages rows left (update_row) and the page
// this backend's inserts fill pruned first.
void insert_row(RowWriter *w);

// Starts replacing the row at tid, which this transaction has locked: the row being written
// starts as a copy of it.
void start_update(RowWriter *w, const ItemPointerData *tid);
// When the new version goes to another page, the old page is pruned and its free space
// recorded in the free space map by this backend's next write to the table (insert_row), so
// that later rows reuse it before VACUUM runs.
void update_row(RowWriter *w);
// Before an update that replaces a TOASTed value: the page this backend's TOAST chunks go to
// is pruned, so that the chunks of values replaced before leave room for the new ones.
void prune_toast_target(RowWriter *w);

// A new random (version 4) uuid, as gen_random_uuid() makes.
Datum random_uuid();

} // namespace sp
