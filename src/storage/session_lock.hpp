// The session row's lock for a save without planning or executing a query: what
// Sql::LockSessionForWrite (SELECT ... FROM free_agent_sessions WHERE id = $1 FOR NO KEY
// UPDATE, as the caller) does, done by hand. A save spent a quarter of its instructions in the
// executor's start-up and shut-down of that one-row query.
//
// The same rules decide, taken from the same places: the executor's privilege check of that
// query's range table (SELECT of its columns, UPDATE), the row-level security quals the
// rewriter adds to it (get_row_security_policies: the SELECT and the UPDATE USING policies
// that apply to the current role, or none when the role bypasses RLS; row_security = off
// raises the rewriter's error), evaluated on the row the primary key finds under a new
// snapshot, as SPI takes one; then the row lock of LockRows (heap_lock_tuple through the
// table AM), following an updated row to its last version and checking it again, as
// EvalPlanQual does, under READ COMMITTED, and failing with 40001 under REPEATABLE READ and
// SERIALIZABLE. Where the query could differ (Citus, policies with subqueries, a table not a
// plain one or with inheritance children, no primary key on id), this declines and the
// caller runs the query.
#pragma once

#include "pg.hpp"

namespace sp {

struct WritableSession;

enum class DirectLock {
    locked,    // *out filled, the row locked until the end of the transaction
    none,      // no row the caller may lock (the query would have returned no row)
    declined,  // run Sql::LockSessionForWrite instead
};

// Call between SPI_connect/SPI_finish (as the query would run); strings and byteas of *out are
// allocated in upper.
DirectLock lock_session_directly(Datum session_id, MemoryContext upper, WritableSession *out);

} // namespace sp
