// Where the extension's objects are, and the SPI plans that reach them.
//
// The schema is read from the extension's pg_extension entry (never from search_path) and
// cached per backend with the tables' OIDs and owner. Plans are prepared once and kept; the
// plan cache revalidates them when the tables change. An invalidation of our tables or of a
// schema makes the next use look the objects up again; only when they really are other
// objects (DROP and CREATE EXTENSION, a renamed schema) are new plans prepared, and the old
// ones are freed at the end of the transaction, never while a call may be running them.
#pragma once

#include "pg.hpp"

#include "guard.hpp"

namespace sp {

// Every query session_persist runs. Each is prepared once per backend and kept.
enum class Sql {
    LockSessionForWrite,
    LockSessionForWriteSkipLocked,
    SessionVisible,
    SessionForRead,
    ChainLink,
    ChainRange,
    ChainMessageRefs,
    MessageRow,
    ChainRefsBetween,
    SetMessageRefs,
    MessagesByOrder,
    CleanupRepairTargets,
    RewriteAsKeyframe,
    DeleteSnapshots,
    CountCleanup,
    InsertSession,
    WritableSessions,
    ImportMessages,
    MessagesPage,
    ExportSession,
    ImportSession,
    ForkSource,
    ForkSession,
    InsertFirstSnapshot,
    CountFirstSnapshot,
    ShardsOfHash,
    ForwardSave,
    ForwardAppend,
    ForwardCleanup,
    Count_ // number of queries
};

// The prepared plan for q, in the extension's schema. Call between SPI_connect/SPI_finish.
SPIPlanPtr plan(Sql q);

// The schema the extension is installed in, InvalidOid when it is not installed (never
// raises; for hooks that run before any of its functions).
Oid installed_extension_schema();

// The extension's tables.
Oid sessions_table();
Oid chain_table();
Oid messages_table();
// Whether the chain can store messages by reference (its message_refs column, 1.1 on).
bool chain_has_message_refs();

// Whether the chain and the messages carry their session's visibility (1.1; a 1.0 schema
// not yet updated does not).
bool rows_carry_visibility();

// Whether the sessions table keeps the latest fingerprint in two parts (its
// latest_fingerprint_patch column, 1.1 on; core/fingerprint.hpp).
bool sessions_have_fingerprint_patch();

// Whether the tables are distributed by Citus (distribute_session_persist()).
bool tables_distributed();

// The relations that hold one session's rows on this node.
struct Placement {
    Oid sessions;
    Oid chain;
    Oid messages;
};

// The relations that hold the session's rows on this node: the tables themselves off Citus;
// on a Citus node the local shards of the session's hash range, or InvalidOids when that
// range is on another node. Cached per range. Call between SPI_connect/SPI_finish.
Placement local_placement(Datum session_id);

// Where the session's rows are written on this node, given the relation its locked row came
// from (the row's tableoid): the tables themselves; on a Citus node running the call for the
// session (a delegated function), their local shards; InvalidOids when the rows are on
// another node. Call between SPI_connect/SPI_finish.
Placement placement_of(Oid row_relation, Datum session_id);

// The role that owns the extension's tables. Functions write the rows a caller may not
// write directly (chain, messages, counters) as this role, and only after checking that
// the caller owns the session.
Oid table_owner();

// Runs fn with the table owner as current user (restricted security context); the caller's
// identity is restored even when fn raises an error. fn runs inside cpp_call, so a C++
// exception from it becomes a PostgreSQL error before it could cross PG_TRY.
template <typename Fn> void as_table_owner(Fn &&fn) {
    Oid saved_user;
    int saved_context;
    GetUserIdAndSecContext(&saved_user, &saved_context);
    SetUserIdAndSecContext(table_owner(), saved_context | SECURITY_LOCAL_USERID_CHANGE |
                                              SECURITY_RESTRICTED_OPERATION);
    sigjmp_buf *handler = PG_exception_stack;
    PG_TRY();
    { cpp_call(fn); }
    PG_FINALLY();
    { SetUserIdAndSecContext(saved_user, saved_context); }
    PG_END_TRY();
    check_error_handler(handler);
}

// True when the current user is not subject to row-level security on our tables
// (superuser, BYPASSRLS, or the tables' owner).
bool current_user_bypasses_rls();

} // namespace sp
