#include "catalog.hpp"

#include "core/error.hpp"
#include "guard.hpp"

extern "C" {
#include "access/genam.h"
#include "access/table.h"
#include "catalog/indexing.h"
#include "catalog/pg_extension.h"
#include "catalog/pg_namespace.h"
#include "utils/acl.h"
#include "utils/fmgroids.h"
#include "utils/syscache.h"
}

namespace sp {

namespace {

struct QueryText {
    const char *sql; // %1$s is the extension's schema, quoted
    int nargs;
    Oid argtypes[16];
};

// Indexed by Sql. Tables are schema-qualified; operators and functions resolve with
// search_path = pg_catalog, pg_temp, which sp::run sets (spi_util.cpp). %2$s and %3$s are the
// session's keep_snapshots and keep_for columns, %4$s the chain's message_refs (%5$s sets it
// from $5), or NULL where the installed schema predates them (1.0, until ALTER EXTENSION
// UPDATE: the library must serve the schema it finds); %6$s and %7$s are ", visibility" and
// ", <its value>" in an INSERT into the chain or the messages, or nothing before 1.1; %8$s is
// the sessions' latest_fingerprint_patch (or NULL), and %9$s clears it (or nothing).
// The rows of the chain a restore of snapshot $2 of session $1 reads: the nearest keyframe at
// or before it and every delta up to it.
#define CHAIN_FROM_KEYFRAME                                                                        \
    "  FROM %1$s.session_snapshot_chain"                                                           \
    " WHERE session_id = $1 AND snapshot_number <= $2"                                             \
    "   AND snapshot_number >= (SELECT max(snapshot_number) FROM %1$s.session_snapshot_chain"      \
    "                            WHERE session_id = $1 AND kind = 'full'"                          \
    "                              AND snapshot_number <= $2)"                                     \
    " ORDER BY snapshot_number"

const QueryText query_texts[] = {
    // (src/storage/session_lock.cpp does what LockSessionForWrite does without running it:
    // a column added here is read there too.)
    // LockSessionForWrite: as the caller, so RLS decides; only an owner (or a role that
    // bypasses RLS) gets the row. tableoid says which relation holds it: the table, or on a
    // Citus worker running the call for the session, the local shard (placement_of()).
    {"SELECT user_id, organization_id, latest_snapshot_number, message_count,"
     "       latest_state_hash, latest_fingerprint, ctid, snapshot_count, %2$s,"
     "       visibility, tableoid, %8$s"
     "  FROM %1$s.free_agent_sessions WHERE id = $1 FOR NO KEY UPDATE",
     1,
     {UUIDOID}},
    // LockSessionForWriteSkipLocked: the same, passing over a session locked by another
    // transaction (the all-sessions cleanup prunes it next time instead of waiting).
    {"SELECT user_id, organization_id, latest_snapshot_number, message_count,"
     "       latest_state_hash, latest_fingerprint, ctid, snapshot_count, %2$s,"
     "       visibility, tableoid, %8$s"
     "  FROM %1$s.free_agent_sessions WHERE id = $1 FOR NO KEY UPDATE SKIP LOCKED",
     1,
     {UUIDOID}},
    // SessionVisible: as the caller.
    {"SELECT user_id, latest_snapshot_number FROM %1$s.free_agent_sessions WHERE id = $1",
     1,
     {UUIDOID}},
    // SessionForRead: the summary row, as the caller.
    {"SELECT id AS session_id, name, status::text, model, visibility::text, snapshot_count,"
     "       latest_snapshot_number, last_snapshot_at, latest_snapshot_size, total_snapshot_size,"
     "       stored_bytes, message_count, last_message_at, created_at, updated_at"
     "  FROM %1$s.free_agent_sessions WHERE id = $1",
     1,
     {UUIDOID}},
    // ChainLink: what a save returns about an existing snapshot.
    {"SELECT id, created_at, kind, snapshot_size, stored_bytes"
     "  FROM %1$s.session_snapshot_chain WHERE session_id = $1 AND snapshot_number = $2",
     2,
     {UUIDOID, INT4OID}},
    // ChainRange: the nearest keyframe at or before $2 and every delta up to $2.
    {"SELECT snapshot_number, kind, state, delta, state_hash, id, snapshot_size, created_at,"
     "       metadata, %4$s"
     CHAIN_FROM_KEYFRAME,
     2,
     {UUIDOID, INT4OID}},
    // ChainMessageRefs: the message references of the same rows, for a save that needs the
    // previous snapshot's whole list.
    {"SELECT %4$s, snapshot_size"
     CHAIN_FROM_KEYFRAME,
     2,
     {UUIDOID, INT4OID}},
    // MessageRow: one history row, for a message that grew in place (as the table owner).
    {"SELECT ctid, role, content, metadata, first_snapshot_number FROM %1$s.session_messages"
     " WHERE session_id = $1 AND message_order = $2",
     2,
     {UUIDOID, INT4OID}},
    // ChainRefsBetween: the message references of snapshots $2 to $3 (as the table owner).
    {"SELECT snapshot_number, %4$s, snapshot_size FROM %1$s.session_snapshot_chain"
     " WHERE session_id = $1 AND snapshot_number BETWEEN $2 AND $3 AND %4$s IS NOT NULL"
     " ORDER BY snapshot_number",
     3,
     {UUIDOID, INT4OID, INT4OID}},
    // SetMessageRefs (as the table owner)
    {"UPDATE %1$s.session_snapshot_chain SET %4$s = $3 WHERE session_id = $1 AND snapshot_number = $2",
     3,
     {UUIDOID, INT4OID, BYTEAOID}},
    // MessagesByOrder: the history rows a snapshot's message references name ($2 to $3).
    {"SELECT message_order, role, content, metadata FROM %1$s.session_messages"
     " WHERE session_id = $1 AND message_order BETWEEN $2 AND $3",
     3,
     {UUIDOID, INT4OID, INT4OID}},
    // CleanupRepairTargets: kept deltas whose base the cleanup deletes.
    {"SELECT k.snapshot_number"
     "  FROM %1$s.session_snapshot_chain k"
     "  JOIN %1$s.session_snapshot_chain b"
     "    ON b.session_id = k.session_id AND b.snapshot_number = k.base_number"
     " WHERE k.session_id = $1 AND k.kind = 'delta'"
     "   AND NOT (k.snapshot_number <= $2 AND ($3::timestamptz IS NULL OR k.created_at < $3))"
     "   AND b.snapshot_number <= $2 AND ($3::timestamptz IS NULL OR b.created_at < $3)"
     " ORDER BY k.snapshot_number",
     3,
     {UUIDOID, INT4OID, TIMESTAMPTZOID}},
    // RewriteAsKeyframe: returns how many more bytes the snapshot now stores.
    {"WITH old AS (SELECT stored_bytes FROM %1$s.session_snapshot_chain"
     "              WHERE session_id = $1 AND snapshot_number = $2)"
     "UPDATE %1$s.session_snapshot_chain c"
     "   SET kind = 'full', state = $3, delta = NULL, base_number = NULL, stored_bytes = $4%5$s"
     "  FROM old WHERE c.session_id = $1 AND c.snapshot_number = $2"
     " RETURNING c.stored_bytes - old.stored_bytes",
     5,
     {UUIDOID, INT4OID, JSONBOID, INT8OID, BYTEAOID}},
    // DeleteSnapshots
    {"WITH gone AS (DELETE FROM %1$s.session_snapshot_chain"
     "               WHERE session_id = $1 AND snapshot_number <= $2"
     "                 AND ($3::timestamptz IS NULL OR created_at < $3)"
     "               RETURNING snapshot_size, stored_bytes)"
     "SELECT count(*)::int, coalesce(sum(snapshot_size), 0)::bigint,"
     "       coalesce(sum(stored_bytes), 0)::bigint FROM gone",
     3,
     {UUIDOID, INT4OID, TIMESTAMPTZOID}},
    // CountCleanup
    {"UPDATE %1$s.free_agent_sessions SET snapshot_count = snapshot_count - $2,"
     "       total_snapshot_size = total_snapshot_size - $3, stored_bytes = stored_bytes + $4"
     " WHERE id = $1",
     4,
     {UUIDOID, INT4OID, INT8OID, INT8OID}},
    // InsertSession: as the caller; defaults give the owner and organization.
    {"INSERT INTO %1$s.free_agent_sessions (name, model, description, metadata, visibility)"
     " VALUES ($1, $2, $3, coalesce($4, '{}'::jsonb),"
     "         coalesce($5, 'private')::%1$s.session_visibility)"
     " RETURNING *",
     5,
     {TEXTOID, TEXTOID, TEXTOID, JSONBOID, TEXTOID}},
    // WritableSessions: the next $4 sessions after $3 (NULL: from the first) that the caller
    // may prune and that have more than $1 snapshots, with their retention policy: the
    // session's keep_snapshots and keep_for, else $5 and $6 (the settings). With $7 (by
    // policy), only sessions whose policy can prune something.
    {"SELECT id, coalesce(%2$s, $5), coalesce(%3$s, $6)"
     "  FROM %1$s.free_agent_sessions"
     " WHERE snapshot_count > $1 AND ($2 OR user_id = %1$s.current_user_id())"
     "   AND ($3::uuid IS NULL OR id > $3)"
     "   AND (NOT $7 OR coalesce(%3$s, $6) IS NOT NULL"
     "        OR snapshot_count > nullif(coalesce(%2$s, $5), 0))"
     " ORDER BY id LIMIT $4",
     7,
     {INT4OID, BOOLOID, UUIDOID, INT4OID, INT4OID, INTERVALOID, BOOLOID}},
    // ImportMessages: appends export_session's message objects
    // ({"role", "content", "metadata", "created_at"}), validated by session_transfer.cpp; $6 is
    // the session's visibility, $7 the messages' first_snapshot_number.
    {"WITH added AS ("
     "  INSERT INTO %1$s.session_messages (session_id, message_order, user_id, organization_id,"
     "         role, content, metadata, created_at, first_snapshot_number %6$s)"
     "  SELECT $1, $2 + m.i::int, $3, $4, m.e ->> 'role', m.e ->> 'content',"
     "         coalesce(nullif(m.e -> 'metadata', 'null'), '{}'),"
     "         coalesce((m.e ->> 'created_at')::timestamptz, pg_catalog.now()), $7"
     "         %7$s"
     "    FROM pg_catalog.jsonb_array_elements($5) WITH ORDINALITY AS m(e, i)"
     "  RETURNING created_at)"
     "UPDATE %1$s.free_agent_sessions"
     "   SET message_count = message_count + (SELECT count(*) FROM added)::int,"
     "       last_message_at = (SELECT max(created_at) FROM added), updated_at = pg_catalog.now()"
     " WHERE id = $1 AND EXISTS (SELECT FROM added)",
     7,
     {UUIDOID, INT4OID, TEXTOID, TEXTOID, JSONBOID, TEXTOID, INT4OID}},
    // MessagesPage: keyset pagination over the (session_id, message_order) key, as the caller.
    {"SELECT id, message_order, role, content, metadata, created_at"
     "  FROM %1$s.session_messages"
     " WHERE session_id = $1 AND message_order > $2"
     " ORDER BY message_order LIMIT $3",
     3,
     {UUIDOID, INT4OID, INT4OID}},
    // ExportSession: as the caller; $2 and $3 are the latest state and its number.
    {"SELECT pg_catalog.jsonb_build_object("
     "  'format', 'session_persist.export', 'version', 1,"
     "  'session', pg_catalog.jsonb_build_object('name', s.name, 'description', s.description,"
     "      'model', s.model, 'status', s.status, 'current_state', s.current_state,"
     "      'visibility', s.visibility, 'memory_summary', s.memory_summary,"
     "      'metadata', s.metadata, 'completed_at', s.completed_at),"
     "  'messages', (SELECT coalesce(pg_catalog.jsonb_agg(pg_catalog.jsonb_build_object("
     "                   'message_order', m.message_order, 'role', m.role, 'content', m.content,"
     "                   'metadata', m.metadata, 'created_at', m.created_at)"
     "                 ORDER BY m.message_order), '[]')"
     "                 FROM %1$s.session_messages m WHERE m.session_id = s.id),"
     "  'state', $2, 'snapshot_number', $3)"
     "  FROM %1$s.free_agent_sessions s WHERE s.id = $1",
     3,
     {UUIDOID, JSONBOID, INT4OID}},
    // ImportSession: the new session $2 of user $3 in organization $4, from a validated
    // document's "session" object $1; as the table owner (session_transfer.cpp says why).
    // JSON null and absent keys mean the column's default.
    {"INSERT INTO %1$s.free_agent_sessions (id, user_id, organization_id, name, description,"
     "       model, status, current_state, visibility, memory_summary, metadata, completed_at)"
     "SELECT $2, $3, $4, d.s ->> 'name', d.s ->> 'description', d.s ->> 'model',"
     "       coalesce((d.s ->> 'status')::%1$s.session_status, 'active'), d.s ->> 'current_state',"
     "       coalesce((d.s ->> 'visibility')::%1$s.session_visibility, 'private'),"
     "       nullif(d.s -> 'memory_summary', 'null'),"
     "       coalesce(nullif(d.s -> 'metadata', 'null'), '{}'),"
     "       (d.s ->> 'completed_at')::timestamptz"
     "  FROM (SELECT $1 AS s) d"
     " RETURNING visibility",
     4,
     {JSONBOID, UUIDOID, TEXTOID, TEXTOID}},
    // ForkSource: as the caller, who must be able to read the source $1: the fork's name ($2,
    // else after the source's), description, model and metadata, and the source's messages
    // "up to" snapshot $3 as ImportMessages takes them.
    {"SELECT coalesce($2, pg_catalog.left(s.name, 193) || ' (fork)'), s.description, s.model,"
     "       s.metadata,"
     "       (SELECT coalesce(pg_catalog.jsonb_agg(pg_catalog.jsonb_build_object("
     "                   'role', m.role, 'content', m.content, 'metadata', m.metadata,"
     "                   'created_at', m.created_at) ORDER BY m.message_order), '[]')"
     "          FROM %1$s.session_messages m"
     "         WHERE m.session_id = s.id AND m.first_snapshot_number <= $3)"
     "  FROM %1$s.free_agent_sessions s WHERE s.id = $1",
     3,
     {UUIDOID, TEXTOID, INT4OID}},
    // ForkSession: the new session $1 of user $2 in organization $3; as the table owner.
    {"INSERT INTO %1$s.free_agent_sessions (id, user_id, organization_id, name, description,"
     "       model, metadata)"
     " VALUES ($1, $2, $3, $4, $5, $6, $7)"
     " RETURNING visibility",
     7,
     {UUIDOID, TEXTOID, TEXTOID, TEXTOID, TEXTOID, TEXTOID, JSONBOID}},
    // InsertFirstSnapshot: snapshot 1 of a new session (fork, import), a keyframe; as the
    // table owner. $6 is the session's visibility.
    {"INSERT INTO %1$s.session_snapshot_chain (session_id, snapshot_number, user_id,"
     "       organization_id, snapshot_size, stored_bytes, kind, state, state_hash, metadata %6$s)"
     " VALUES ($1, 1, $2, $3, $4, $5, 'full', $7, $8, $9 %7$s)"
     " RETURNING created_at",
     9,
     {UUIDOID, TEXTOID, TEXTOID, INT8OID, INT8OID, TEXTOID, JSONBOID, BYTEAOID, JSONBOID}},
    // CountFirstSnapshot: the new session's counters after InsertFirstSnapshot.
    {"UPDATE %1$s.free_agent_sessions"
     "   SET snapshot_count = 1, latest_snapshot_number = 1, last_snapshot_at = $2,"
     "       latest_snapshot_size = $3, total_snapshot_size = $3, stored_bytes = $4,"
     "       latest_state_hash = $5, latest_fingerprint = $6 %9$s, updated_at = pg_catalog.now()"
     " WHERE id = $1",
     6,
     {UUIDOID, TIMESTAMPTZOID, INT8OID, INT8OID, BYTEAOID, BYTEAOID}},
    // ShardsOfHash (Citus only, never prepared elsewhere): the shard of the sessions table $1
    // whose hash range holds $4, that range, and the shards of the chain ($2) and the messages
    // ($3) for the same range (the tables are colocated).
    {"SELECT s.shardid, s.shardminvalue::int4, s.shardmaxvalue::int4, c.shardid, m.shardid"
     "  FROM pg_catalog.pg_dist_shard s"
     "  JOIN pg_catalog.pg_dist_shard c"
     "    ON c.logicalrelid = $2 AND c.shardminvalue = s.shardminvalue"
     "  JOIN pg_catalog.pg_dist_shard m"
     "    ON m.logicalrelid = $3 AND m.shardminvalue = s.shardminvalue"
     " WHERE s.logicalrelid = $1"
     "   AND $4 BETWEEN s.shardminvalue::int4 AND s.shardmaxvalue::int4 /* %1$s */",
     4,
     {REGCLASSOID, REGCLASSOID, REGCLASSOID, INT4OID}},
    // ForwardSave, ForwardAppend (Citus only): a save or append of a session stored on another
    // node, run there through Citus' router query on the session's shard (see
    // citus_forward.cpp); no row when the caller cannot see the session.
    {"SELECT %1$s.create_session_snapshot($1, $2, $3, $4, $5)"
     "  FROM %1$s.free_agent_sessions WHERE id = $1",
     5,
     {UUIDOID, JSONBOID, INT4OID, JSONBOID, BOOLOID}},
    {"SELECT %1$s.append_session_messages($1, $2)"
     "  FROM %1$s.free_agent_sessions WHERE id = $1",
     2,
     {UUIDOID, JSONBOID}},
    // ForwardCleanup (Citus only): the same for cleanup_old_snapshots.
    {"SELECT %1$s.cleanup_old_snapshots($1, $2, $3)"
     "  FROM %1$s.free_agent_sessions WHERE id = $1",
     3,
     {UUIDOID, INT4OID, TIMESTAMPTZOID}},
};
static_assert(sizeof query_texts / sizeof query_texts[0] == static_cast<size_t>(Sql::Count_),
              "one text per Query");

// What the plans were prepared against. Plans name the schema in their text and the tables'
// OIDs in their trees, so they stay valid exactly as long as these do.
struct CatalogIdentity {
    Oid extension;
    Oid schema;
    Oid sessions_relid;
    Oid chain_relid;
    Oid messages_relid;
    Oid owner;
    const char *schema_sql;     // quoted schema name; in TopMemoryContext once cached
    bool has_retention;         // the sessions table has keep_snapshots and keep_for (1.1)
    bool has_message_refs;      // the chain has message_refs (1.1)
    bool rows_carry_visibility; // the chain and the messages have visibility (1.1)
    bool has_fingerprint_patch; // the sessions table has latest_fingerprint_patch (1.1)
    bool distributed;           // the sessions table is a Citus distributed table
};

struct CatalogCache {
    bool checked; // false after an invalidation that may concern us: look again on next use
    bool known;   // identity is filled in
    CatalogIdentity identity;
    SPIPlanPtr plans[static_cast<int>(Sql::Count_)];
};

CatalogCache cache;
// Plans prepared against an identity that no longer holds (the extension was dropped and
// created again, or its schema renamed). A call that started before the change may still be
// executing one of them, so they are freed only at the end of the transaction, when no call
// of ours can be running.
List *retired_plans = NIL;
bool callbacks_registered = false;

// Invalidation callbacks only mark: a plan may be executing right now. Plans are never freed
// here or on the next use. The plan cache revalidates a kept plan by itself when its tables
// change (ANALYZE, VACUUM, ALTER TABLE, CREATE/DROP INDEX, GRANT), so the plans are dropped
// only when the schema or the tables themselves were replaced (see ensure_fresh).
// Where sessions' rows are on a Citus node, per hash range of session ids: the local shards
// of the three tables for that range, or InvalidOids when the range is on another node. A
// handful per node; a lookup is a scan of this array, no query.
struct ShardPlacement {
    bool valid;
    int32 min_hash;
    int32 max_hash;
    Oid sessions;
    Oid chain;
    Oid messages;
};
constexpr int placement_slots = 64;
ShardPlacement placements[placement_slots];
int next_placement_slot = 0;

void forget_placements() {
    for (ShardPlacement &p : placements)
        p.valid = false;
}

void relation_changed(Datum, Oid relid) {
    if (relid == InvalidOid || !cache.known || relid == cache.identity.sessions_relid ||
        relid == cache.identity.chain_relid || relid == cache.identity.messages_relid)
        cache.checked = false;
    // A shard moved, split or dropped: look again.
    for (ShardPlacement &p : placements)
        if (p.valid &&
            (relid == InvalidOid || relid == p.sessions || relid == p.chain || relid == p.messages))
            p.valid = false;
}

void catalog_changed(Datum, int, uint32) {
    cache.checked = false;
    forget_placements();
}

void free_retired_plans(XactEvent event, void *) {
    if (event != XACT_EVENT_COMMIT && event != XACT_EVENT_ABORT &&
        event != XACT_EVENT_PARALLEL_COMMIT && event != XACT_EVENT_PARALLEL_ABORT)
        return;
    if (retired_plans == NIL)
        return;
    ListCell *cell;
    foreach (cell, retired_plans)
        SPI_freeplan(static_cast<SPIPlanPtr>(lfirst(cell)));
    list_free(retired_plans);
    retired_plans = NIL;
}

// The schema of an extension (get_extension_schema() is not exported before PostgreSQL 16).
Oid extension_schema(Oid extension) {
    Relation rel = table_open(ExtensionRelationId, AccessShareLock);
    ScanKeyData key;
    ScanKeyInit(&key, Anum_pg_extension_oid, BTEqualStrategyNumber, F_OIDEQ,
                ObjectIdGetDatum(extension));
    SysScanDesc scan = systable_beginscan(rel, ExtensionOidIndexId, true, nullptr, 1, &key);
    HeapTuple tuple = systable_getnext(scan);
    Oid schema =
        HeapTupleIsValid(tuple) ? ((Form_pg_extension)GETSTRUCT(tuple))->extnamespace : InvalidOid;
    systable_endscan(scan);
    table_close(rel, AccessShareLock);
    return schema;
}

Oid table_oid(const char *name, Oid schema) {
    Oid relid = get_relname_relid(name, schema);
    if (!OidIsValid(relid))
        raise(sqlstate::internal_error, psprintf("session_persist's table %s is missing", name),
              nullptr, "Reinstall the extension (DROP EXTENSION, CREATE EXTENSION).");
    return relid;
}

// Whether Citus has distributed relid: it is listed in pg_dist_partition (which exists only
// where the citus extension is installed). Read directly, not through SPI: this runs while
// the catalog cache is refreshed, possibly inside another query.
bool is_citus_table(Oid relid) {
    Oid partitions = get_relname_relid("pg_dist_partition", PG_CATALOG_NAMESPACE);
    if (!OidIsValid(partitions))
        return false;
    Relation rel = table_open(partitions, AccessShareLock);
    ScanKeyData key;
    // logicalrelid, the first column
    ScanKeyInit(&key, 1, BTEqualStrategyNumber, F_OIDEQ, ObjectIdGetDatum(relid));
    SysScanDesc scan = systable_beginscan(rel, InvalidOid, false, nullptr, 1, &key);
    bool found = HeapTupleIsValid(systable_getnext(scan));
    systable_endscan(scan);
    table_close(rel, AccessShareLock);
    return found;
}

// The extension's objects as the catalogs describe them now (schema_sql in the current
// memory context).
CatalogIdentity look_up_identity() {
    CatalogIdentity found{};
    found.extension = get_extension_oid("session_persist", true);
    if (!OidIsValid(found.extension))
        raise("55000", "extension \"session_persist\" is not installed in this database",
              nullptr, "Run CREATE EXTENSION session_persist.");
    found.schema = extension_schema(found.extension);
    found.sessions_relid = table_oid("free_agent_sessions", found.schema);
    found.chain_relid = table_oid("session_snapshot_chain", found.schema);
    found.messages_relid = table_oid("session_messages", found.schema);
    HeapTuple tuple = SearchSysCache1(RELOID, ObjectIdGetDatum(found.sessions_relid));
    if (!HeapTupleIsValid(tuple))
        raise(sqlstate::internal_error, "cache lookup failed for free_agent_sessions");
    found.owner = ((Form_pg_class)GETSTRUCT(tuple))->relowner;
    ReleaseSysCache(tuple);
    found.schema_sql = quote_identifier(get_namespace_name(found.schema));
    found.has_message_refs =
        get_attnum(found.chain_relid, "message_refs") != InvalidAttrNumber;
    found.has_retention = get_attnum(found.sessions_relid, "keep_snapshots") != InvalidAttrNumber &&
                          get_attnum(found.sessions_relid, "keep_for") != InvalidAttrNumber;
    found.rows_carry_visibility =
        get_attnum(found.chain_relid, "visibility") != InvalidAttrNumber &&
        get_attnum(found.messages_relid, "visibility") != InvalidAttrNumber;
    found.has_fingerprint_patch =
        get_attnum(found.sessions_relid, "latest_fingerprint_patch") != InvalidAttrNumber;
    found.distributed = is_citus_table(found.sessions_relid);
    return found;
}

bool same_objects(const CatalogIdentity &a, const CatalogIdentity &b) {
    return a.extension == b.extension && a.schema == b.schema &&
           a.sessions_relid == b.sessions_relid && a.chain_relid == b.chain_relid &&
           a.messages_relid == b.messages_relid && a.has_retention == b.has_retention &&
           a.has_message_refs == b.has_message_refs &&
           a.rows_carry_visibility == b.rows_carry_visibility &&
           strcmp(a.schema_sql, b.schema_sql) == 0;
}

void register_callbacks() {
    if (callbacks_registered)
        return;
    CacheRegisterRelcacheCallback(relation_changed, (Datum)0);
    CacheRegisterSyscacheCallback(NAMESPACEOID, catalog_changed, (Datum)0);
    RegisterXactCallback(free_retired_plans, nullptr);
    callbacks_registered = true;
}

void ensure_fresh() {
    if (cache.checked)
        return;
    register_callbacks();
    CatalogIdentity now = look_up_identity();
    if (cache.known && same_objects(cache.identity, now)) {
        cache.identity.owner = now.owner; // ALTER TABLE ... OWNER TO: the plans still hold
        cache.identity.distributed = now.distributed; // create_distributed_table: so do they
        cache.checked = true;
        return;
    }
    // New objects: the kept plans name others. Retire them (see retired_plans).
    MemoryContext old = MemoryContextSwitchTo(TopMemoryContext);
    for (SPIPlanPtr &p : cache.plans) {
        if (p)
            retired_plans = lappend(retired_plans, p);
        p = nullptr;
    }
    MemoryContextSwitchTo(old);
    if (cache.known)
        pfree(const_cast<char *>(cache.identity.schema_sql));
    now.schema_sql = MemoryContextStrdup(TopMemoryContext, now.schema_sql);
    cache.identity = now;
    cache.known = true;
    cache.checked = true;
}

} // namespace

// A query's text with %N$s replaced by parts[N - 1] (not psprintf: a query may use some
// parts and not the ones before them, which positional printf arguments do not allow).
static char *expand(const char *sql, const char *const *parts, int count) {
    StringInfoData out;
    initStringInfo(&out);
    for (const char *p = sql; *p; ++p) {
        if (p[0] == '%' && p[1] >= '1' && p[1] <= '9' && p[2] == '$' && p[3] == 's' &&
            p[1] - '0' <= count) {
            appendStringInfoString(&out, parts[p[1] - '1']);
            p += 3;
        } else {
            appendStringInfoChar(&out, *p);
        }
    }
    return out.data;
}

SPIPlanPtr plan(Sql q) {
    ensure_fresh();
    SPIPlanPtr &slot = cache.plans[static_cast<int>(q)];
    if (!slot) {
        const QueryText &text = query_texts[static_cast<int>(q)];
        bool retention = cache.identity.has_retention;
        bool refs = cache.identity.has_message_refs;
        bool shared = cache.identity.rows_carry_visibility;
        bool patch = cache.identity.has_fingerprint_patch;
        char *visibility_value = psprintf(", $6::%s.session_visibility", cache.identity.schema_sql);
        const char *parts[] = {cache.identity.schema_sql,
                               retention ? "keep_snapshots" : "NULL::integer",
                               retention ? "keep_for" : "NULL::interval",
                               refs ? "message_refs" : "NULL::bytea",
                               refs ? ", message_refs = $5" : "",
                               shared ? ", visibility" : "",
                               shared ? visibility_value : "",
                               patch ? "latest_fingerprint_patch" : "NULL::bytea",
                               patch ? ", latest_fingerprint_patch = NULL" : ""};
        char *sql = expand(text.sql, parts, lengthof(parts));
        SPIPlanPtr prepared = SPI_prepare(sql, text.nargs, const_cast<Oid *>(text.argtypes));
        if (!prepared)
            elog(ERROR, "session_persist: SPI_prepare failed (%s): %s",
                 SPI_result_code_string(SPI_result), sql);
        SPI_keepplan(prepared);
        pfree(sql);
        pfree(visibility_value);
        slot = prepared;
    }
    return slot;
}

Oid installed_extension_schema() {
    Oid extension = get_extension_oid("session_persist", true);
    return OidIsValid(extension) ? extension_schema(extension) : InvalidOid;
}

Oid sessions_table() {
    ensure_fresh();
    return cache.identity.sessions_relid;
}

Oid chain_table() {
    ensure_fresh();
    return cache.identity.chain_relid;
}

Oid messages_table() {
    ensure_fresh();
    return cache.identity.messages_relid;
}

bool chain_has_message_refs() {
    ensure_fresh();
    return cache.identity.has_message_refs;
}

Oid table_owner() {
    ensure_fresh();
    return cache.identity.owner;
}

bool rows_carry_visibility() {
    ensure_fresh();
    return cache.identity.rows_carry_visibility;
}

bool sessions_have_fingerprint_patch() {
    ensure_fresh();
    return cache.identity.has_fingerprint_patch;
}

bool tables_distributed() {
    ensure_fresh();
    return cache.identity.distributed;
}

namespace {

// The hash Citus places a uuid by (the type's standard hash function).
int32 citus_hash(Datum session_id) {
    return DatumGetInt32(DirectFunctionCall1(uuid_hash, session_id));
}

// The local shard of `table` with that shard id, or InvalidOid. Citus names a shard
// <table>_<shardid> in the table's schema (our names are short enough never to be truncated).
Oid local_shard(Oid table, int64 shardid) {
    char *name = psprintf("%s_" INT64_FORMAT, get_rel_name(table), shardid);
    Oid found = get_relname_relid(name, cache.identity.schema);
    pfree(name);
    return found;
}

// Looks up the shards of the three tables for the hash range that holds `hash`.
ShardPlacement find_placement(int32 hash) {
    ShardPlacement found{};
    Datum args[] = {ObjectIdGetDatum(cache.identity.sessions_relid),
                    ObjectIdGetDatum(cache.identity.chain_relid),
                    ObjectIdGetDatum(cache.identity.messages_relid), Int32GetDatum(hash)};
    if (SPI_execute_plan(plan(Sql::ShardsOfHash), args, nullptr, true, 1) != SPI_OK_SELECT)
        elog(ERROR, "session_persist: could not read pg_dist_shard");
    if (SPI_processed != 1)
        raise(sqlstate::internal_error,
              psprintf("no shard of session_persist's tables holds hash %d", hash), nullptr,
              "Check pg_dist_shard: the three tables must be distributed and colocated.");
    bool isnull[5];
    Datum col[5];
    for (int i = 0; i < 5; ++i)
        col[i] = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, i + 1, &isnull[i]);
    SPI_freetuptable(SPI_tuptable);
    found.valid = true;
    found.min_hash = DatumGetInt32(col[1]);
    found.max_hash = DatumGetInt32(col[2]);
    found.sessions = local_shard(cache.identity.sessions_relid, DatumGetInt64(col[0]));
    found.chain = local_shard(cache.identity.chain_relid, DatumGetInt64(col[3]));
    found.messages = local_shard(cache.identity.messages_relid, DatumGetInt64(col[4]));
    if (!OidIsValid(found.sessions) || !OidIsValid(found.chain) || !OidIsValid(found.messages))
        found.sessions = found.chain = found.messages = InvalidOid; // another node's
    return found;
}

} // namespace

Placement local_placement(Datum session_id) {
    ensure_fresh();
    if (!cache.identity.distributed)
        return {cache.identity.sessions_relid, cache.identity.chain_relid,
                cache.identity.messages_relid};
    int32 hash = citus_hash(session_id);
    for (const ShardPlacement &p : placements)
        if (p.valid && hash >= p.min_hash && hash <= p.max_hash)
            return {p.sessions, p.chain, p.messages};
    ShardPlacement found = find_placement(hash);
    placements[next_placement_slot] = found;
    next_placement_slot = (next_placement_slot + 1) % placement_slots;
    return {found.sessions, found.chain, found.messages};
}

Placement placement_of(Oid row_relation, Datum session_id) {
    ensure_fresh();
    if (row_relation == cache.identity.sessions_relid)
        return {cache.identity.sessions_relid, cache.identity.chain_relid,
                cache.identity.messages_relid};
    // The row came from a shard: ours on this node only when it is the local shard of the
    // session's range (a row read from another node carries that node's OID).
    Placement here = local_placement(session_id);
    if (OidIsValid(here.sessions) && here.sessions == row_relation)
        return here;
    return {InvalidOid, InvalidOid, InvalidOid};
}

bool current_user_bypasses_rls() {
    Oid user = GetUserId();
    return superuser() || has_bypassrls_privilege(user) || user == table_owner();
}

} // namespace sp
