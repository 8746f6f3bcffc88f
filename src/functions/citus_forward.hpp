// Saves, appends and cleanups that Citus did not delegate (SPEC.md, "Scale-out").
//
// Citus runs a per-session function on the worker that holds the session only when the
// statement is the call itself (SELECT f(...), SELECT * FROM f(...)). Called any other way
// (PostgREST wraps RPC calls in a CTE, PL/pgSQL calls nest) it runs on the coordinator, where
// the session's rows are not: the row writer can write only rows of this node. Such a call
// is forwarded: the same function, called through Citus' router query on the session's
// shard (SELECT f(...) FROM free_agent_sessions WHERE id = ...), runs on that node, as the
// caller, over the caller's connection, inside the caller's transaction.
#pragma once

#include "pg.hpp"

namespace sp {

// True (and the result in *result) when the call was forwarded to the session's node; false
// when this node holds the session (always, off Citus): run it here.
bool forward_save(FunctionCallInfo fcinfo, Datum *result);
// The same for cleanup_old_snapshots (the number deleted into *deleted): forwarded rather
// than locked and written through the owner's connection, so a cleanup in a transaction that
// saved to the session works as on one server.
bool forward_cleanup(FunctionCallInfo fcinfo, int32 *deleted);
// The same for append_session_messages: the new message_order values into the
// materialized result set.
bool forward_append(FunctionCallInfo fcinfo, ReturnSetInfo *rsinfo);

} // namespace sp
