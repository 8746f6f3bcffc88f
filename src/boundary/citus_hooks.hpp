// What session_persist does before Citus plans a statement, on a coordinator that preloads
// the library (shared_preload_libraries = 'citus,session_persist'; README, "Scale-out"):
//
// - A call of one of the extension's per-session functions with a NULL p_session_id is
//   refused (22004) before Citus' function delegation sees it: Citus 13.2 crashes the
//   backend when it hashes a NULL distribution argument.
// - A gateway role's JWT claims (request.jwt.claims, set by set_config(..., true) as
//   PostgREST does) are re-set with SET LOCAL, which Citus propagates to the workers'
//   connections of the transaction (citus.propagate_set_commands = local), so the identity
//   functions give the same answer on the worker that runs a delegated call or a shard query.
//
// Where citus is not loaded the hook does nothing but pass the statement on.
#pragma once

namespace sp {

// Installs the planner hook (from _PG_init).
void install_citus_hooks();

// Whether the citus library is loaded in this server.
bool citus_loaded();

// Allows queries on distributed tables from inside a shard query (the session_snapshots
// view's reconstruction runs on the worker, inside Citus' query on the chain's shard) until
// the end of the current function call's GUC nest level; returns that level for
// end_nested_distributed_execution, or -1 where Citus is not loaded.
int allow_nested_distributed_execution();
void end_nested_distributed_execution(int nest_level);

} // namespace sp
