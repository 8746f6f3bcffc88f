#include "session_lock.hpp"

#include "catalog.hpp"
#include "citus_hooks.hpp"
#include "pg_compat.hpp"
#include "session_access.hpp"

extern "C" {
#include "access/genam.h"
#include "access/sysattr.h"
#include "access/table.h"
#include "access/tableam.h"
#include "access/stratnum.h"
#include "nodes/makefuncs.h"
#include "nodes/nodeFuncs.h"
#include "rewrite/rowsecurity.h"
#include "storage/lmgr.h"
#include "catalog/pg_am_d.h"
#include "catalog/pg_language_d.h"
#include "catalog/pg_proc.h"
#include "utils/fmgroids.h"
#include "utils/inval.h"
#include "utils/rls.h"
#include "utils/snapmgr.h"
#include "utils/syscache.h"
}

namespace sp {

namespace {

// The columns Sql::LockSessionForWrite reads (and the id its WHERE tests), in its order;
// keep_snapshots and latest_fingerprint_patch only where the table has them (1.1).
enum LockColumn {
    ColUserId,
    ColOrganizationId,
    ColLatestNumber,
    ColMessageCount,
    ColLatestHash,
    ColLatestFingerprint,
    ColSnapshotCount,
    ColKeepSnapshots,
    ColVisibility,
    ColId,
    ColFingerprintPatch,
    ColCount_
};
const char *const column_names[ColCount_] = {
    "user_id",        "organization_id", "latest_snapshot_number", "message_count",
    "latest_state_hash", "latest_fingerprint", "snapshot_count", "keep_snapshots",
    "visibility",     "id",              "latest_fingerprint_patch"};

// Column numbers, found once per relation and checked against its descriptor at each use
// (a column dropped and added again is looked up again).
struct Columns {
    Oid relid = InvalidOid;
    AttrNumber attnum[ColCount_] = {};
};
Columns columns_cache;

bool column_at(TupleDesc desc, AttrNumber attnum, const char *name) {
    if (attnum <= 0 || attnum > desc->natts)
        return false;
    Form_pg_attribute att = TupleDescAttr(desc, attnum - 1);
    return !att->attisdropped && strcmp(NameStr(att->attname), name) == 0;
}

// False when a column the query needs is missing (other than keep_snapshots and
// latest_fingerprint_patch, which a 1.0 table lacks).
bool find_columns(Relation rel, Columns *out) {
    TupleDesc desc = RelationGetDescr(rel);
    bool valid = columns_cache.relid == RelationGetRelid(rel);
    for (int c = 0; valid && c < ColCount_; c++)
        if (columns_cache.attnum[c] != InvalidAttrNumber &&
            !column_at(desc, columns_cache.attnum[c], column_names[c]))
            valid = false;
    if (!valid) {
        columns_cache = Columns{};
        for (int c = 0; c < ColCount_; c++)
            for (int i = 0; i < desc->natts; i++)
                if (column_at(desc, i + 1, column_names[c])) {
                    columns_cache.attnum[c] = i + 1;
                    break;
                }
        columns_cache.relid = RelationGetRelid(rel);
    }
    for (int c = 0; c < ColCount_; c++)
        if (c != ColKeepSnapshots && c != ColFingerprintPatch &&
            columns_cache.attnum[c] == InvalidAttrNumber)
            return false;
    *out = columns_cache;
    return true;
}

Bitmapset *selected_columns(const Columns &cols) {
    Bitmapset *selected = nullptr;
    for (int c = 0; c < ColCount_; c++)
        if (cols.attnum[c] != InvalidAttrNumber)
            selected = bms_add_member(selected,
                                      cols.attnum[c] - FirstLowInvalidHeapAttributeNumber);
    selected = bms_add_member(selected,
                              SelfItemPointerAttributeNumber - FirstLowInvalidHeapAttributeNumber);
    selected = bms_add_member(selected,
                              TableOidAttributeNumber - FirstLowInvalidHeapAttributeNumber);
    return selected;
}

// Whether the row in slot passes the query's quals: id = $1, then the security quals.
bool row_qualifies(TupleTableSlot *slot, AttrNumber id_attnum, Datum session_id,
                   ExprState *security, ExprContext *econtext) {
    bool isnull;
    Datum id = slot_getattr(slot, id_attnum, &isnull);
    if (isnull || !DatumGetBool(DirectFunctionCall2(uuid_eq, id, session_id)))
        return false;
    if (!security)
        return true;
    econtext->ecxt_scantuple = slot;
    bool pass = ExecQual(security, econtext);
    ResetExprContext(econtext);
    return pass;
}

Datum copy_varlena(TupleTableSlot *slot, AttrNumber attnum, MemoryContext upper) {
    bool isnull;
    Datum d = slot_getattr(slot, attnum, &isnull);
    if (isnull)
        return (Datum)0;
    MemoryContext old = MemoryContextSwitchTo(upper);
    Datum copy = PointerGetDatum(PG_DETOAST_DATUM_COPY(d));
    MemoryContextSwitchTo(old);
    return copy;
}

char *copy_text(TupleTableSlot *slot, AttrNumber attnum, MemoryContext upper) {
    bool isnull;
    Datum d = slot_getattr(slot, attnum, &isnull);
    if (isnull)
        return nullptr;
    MemoryContext old = MemoryContextSwitchTo(upper);
    char *copy = TextDatumGetCString(d);
    MemoryContextSwitchTo(old);
    return copy;
}

int32 int32_or(TupleTableSlot *slot, AttrNumber attnum, int32 if_null) {
    if (attnum == InvalidAttrNumber)
        return if_null;
    bool isnull;
    Datum d = slot_getattr(slot, attnum, &isnull);
    return isnull ? if_null : DatumGetInt32(d);
}

void fill(TupleTableSlot *slot, const Columns &cols, Relation rel, Datum session_id,
          MemoryContext upper, WritableSession *out) {
    out->user_id = copy_text(slot, cols.attnum[ColUserId], upper);
    out->organization_id = copy_text(slot, cols.attnum[ColOrganizationId], upper);
    out->latest_snapshot_number = int32_or(slot, cols.attnum[ColLatestNumber], 0);
    out->message_count = int32_or(slot, cols.attnum[ColMessageCount], 0);
    out->latest_state_hash = copy_varlena(slot, cols.attnum[ColLatestHash], upper);
    out->latest_fingerprint = copy_varlena(slot, cols.attnum[ColLatestFingerprint], upper);
    out->latest_fingerprint_patch =
        cols.attnum[ColFingerprintPatch] == InvalidAttrNumber
            ? (Datum)0
            : copy_varlena(slot, cols.attnum[ColFingerprintPatch], upper);
    out->row = slot->tts_tid;
    out->snapshot_count = int32_or(slot, cols.attnum[ColSnapshotCount], 0);
    out->keep_snapshots = int32_or(slot, cols.attnum[ColKeepSnapshots], -1);
    MemoryContext old = MemoryContextSwitchTo(upper);
    out->id = datumCopy(session_id, false, UUID_LEN);
    MemoryContextSwitchTo(old);
    bool isnull;
    out->visibility = slot_getattr(slot, cols.attnum[ColVisibility], &isnull); // an enum: by value
    out->placement = placement_of(RelationGetRelid(rel), session_id);
}

// The row-level security quals of the lock query, compiled, kept across calls for one
// relation, role, row_security setting and FORCE-exemption state (what check_enable_rls
// and get_policies_for_relation decide by), as the plan cache keeps the query's plan. Any
// invalidation of the relation (its policies, RLS settings, owner), of a role or a role
// membership, or of a function drops it. Kept only when every function the quals call is
// built in or written in C (their fn_extra caches outlive a transaction safely) and no other
// extension adds policies by hook; else the quals are compiled for each call.
struct SecurityCache {
    MemoryContext context = nullptr;
    bool valid = false;
    Oid relid = InvalidOid;
    Oid user = InvalidOid;
    bool row_security = false;
    bool no_force = false;
    bool declined = false;        // the quals have subqueries: run the query instead
    ExprState *quals = nullptr;   // nullptr when no quals apply (RLS off or bypassed)
    bool pin_path = true;         // a function of the quals may read search_path
    bool in_use = false;          // being evaluated (a nested save compiles its own)
    LocalTransactionId in_use_lxid = InvalidLocalTransactionId;
};
SecurityCache security_cache;
bool callbacks_registered = false;
uint64 invalidations = 0; // counts the callbacks' calls: one during a build voids it

void invalidate_security(Datum, Oid relid) {
    invalidations++;
    if (!OidIsValid(relid) || relid == security_cache.relid)
        security_cache.valid = false;
}
void invalidate_security_sys(Datum, int, uint32) {
    invalidations++;
    security_cache.valid = false;
}

// What the functions the quals call allow.
struct QualFunctions {
    bool other_than_c = false;      // one is in another language than C or internal
    bool may_read_search_path = false; // one could depend on search_path
};

bool note_function(Oid funcid, void *context) {
    auto *found = static_cast<QualFunctions *>(context);
    HeapTuple proc = SearchSysCache1(PROCOID, ObjectIdGetDatum(funcid));
    if (!HeapTupleIsValid(proc)) {
        found->other_than_c = found->may_read_search_path = true;
        return false;
    }
    auto *form = reinterpret_cast<Form_pg_proc>(GETSTRUCT(proc));
    if (form->prolang != INTERNALlanguageId && form->prolang != ClanguageId)
        found->other_than_c = true;
    // Built-in functions that read search_path (regclass input, to_regclass,
    // has_table_privilege(text, ...)) are stable, none immutable; the extension's identity
    // functions read the claims and settings only.
    bool immutable_builtin =
        funcid < FirstGenbkiObjectId && form->provolatile == PROVOLATILE_IMMUTABLE;
    bool identity = form->pronamespace == installed_extension_schema() &&
                    form->prolang == ClanguageId &&
                    (strcmp(NameStr(form->proname), "current_user_id") == 0 ||
                     strcmp(NameStr(form->proname), "current_organization_id") == 0);
    if (!immutable_builtin && !identity)
        found->may_read_search_path = true;
    ReleaseSysCache(proc);
    return false; // look at every function
}

bool walk_functions(Node *node, void *context) {
    if (!node)
        return false;
    check_functions_in_node(node, note_function, context);
    return walk_expression(node, walk_functions, context);
}

struct Security {
    bool declined;
    ExprState *quals;
    bool cached;   // quals is the cache's (release_security clears its in_use)
    bool pin_path; // evaluate quals with search_path pinned
};

// The security quals of the query for this call.
Security security_for(Query *query) {
    RangeTblEntry *rte = static_cast<RangeTblEntry *>(linitial(query->rtable));
    Oid user = GetUserId();
    bool no_force = InNoForceRLSOperation();
    SecurityCache &c = security_cache;
    if (c.in_use && c.in_use_lxid != local_transaction_id())
        c.in_use = false; // left set by an error in an earlier transaction
    if (c.valid && !c.in_use && c.relid == rte->relid && c.user == user &&
        c.row_security == row_security && c.no_force == no_force) {
        if (!c.declined && c.quals) {
            c.in_use = true;
            c.in_use_lxid = local_transaction_id();
        }
        return {c.declined, c.quals, c.quals != nullptr, c.pin_path};
    }
    if (!callbacks_registered) {
        CacheRegisterRelcacheCallback(invalidate_security, (Datum)0);
        CacheRegisterSyscacheCallback(AUTHOID, invalidate_security_sys, (Datum)0);
        CacheRegisterSyscacheCallback(AUTHMEMROLEMEM, invalidate_security_sys, (Datum)0);
        CacheRegisterSyscacheCallback(PROCOID, invalidate_security_sys, (Datum)0);
        callbacks_registered = true;
    }
    uint64 invalidations_before = invalidations;
    List *quals = NIL;
    List *check_options = NIL;
    bool has_row_security = false;
    bool has_sublinks = false;
    get_row_security_policies(query, rte, 1, &quals, &check_options, &has_row_security,
                              &has_sublinks);
    if (has_sublinks)
        return {true, nullptr, false, true};
    if (quals)
        fix_opfuncids(reinterpret_cast<Node *>(quals));
    QualFunctions functions;
    walk_functions(reinterpret_cast<Node *>(quals), &functions);
    bool cacheable = !row_security_policy_hook_permissive &&
                     !row_security_policy_hook_restrictive && !c.in_use &&
                     !functions.other_than_c;
    if (!cacheable)
        return {false, quals ? ExecInitQual(quals, nullptr) : nullptr, false, true};
    if (c.context)
        MemoryContextDelete(c.context);
    c = SecurityCache{};
    c.context = AllocSetContextCreate(CacheMemoryContext, "session_persist lock quals",
                                      ALLOCSET_SMALL_SIZES);
    c.relid = rte->relid;
    c.user = user;
    c.row_security = row_security;
    c.no_force = no_force;
    c.pin_path = functions.may_read_search_path;
    if (quals) {
        MemoryContext old = MemoryContextSwitchTo(c.context);
        c.quals = ExecInitQual(static_cast<List *>(copyObjectImpl(quals)), nullptr);
        MemoryContextSwitchTo(old);
        c.in_use = true;
        c.in_use_lxid = local_transaction_id();
    }
    // Invalidations that arrived while it was built leave it invalid.
    c.valid = invalidations == invalidations_before;
    return {false, c.quals, c.quals != nullptr, c.pin_path};
}

void release_security(const Security &s) {
    if (s.cached)
        security_cache.in_use = false;
}

// The scan, the quals and the lock, with the snapshot SPI would take pushed.
DirectLock find_and_lock(Relation rel, Relation index, const Columns &cols, Datum session_id,
                         ExprState *security, ExprContext *econtext, MemoryContext upper,
                         WritableSession *out) {
    Snapshot snapshot = GetActiveSnapshot();
    // As the executor does for a query with row marks.
    CommandId cid = GetCurrentCommandId(true);
    TupleTableSlot *slot = table_slot_create(rel, nullptr);
    ScanKeyData key;
    ScanKeyInit(&key, 1, BTEqualStrategyNumber, F_UUID_EQ, session_id);
    IndexScanDesc scan = begin_index_scan(rel, index, snapshot, 1);
    index_rescan(scan, &key, 1, nullptr, 0);
    DirectLock result = DirectLock::none;
    while (index_getnext_slot(scan, ForwardScanDirection, slot)) {
        if (!row_qualifies(slot, cols.attnum[ColId], session_id, security, econtext))
            continue;
        // LockRows (nodeLockRows.c): lock the row, or its last version under READ COMMITTED.
        ItemPointerData tid = slot->tts_tid;
        TM_FailureData tmfd;
        int flags = IsolationUsesXactSnapshot() ? 0 : TUPLE_LOCK_FLAG_FIND_LAST_VERSION;
        TM_Result lock = table_tuple_lock(rel, &tid, snapshot, slot, cid,
                                          LockTupleNoKeyExclusive, LockWaitBlock, flags, &tmfd);
        switch (lock) {
        case TM_Ok:
            // A newer version was locked: test it again, as EvalPlanQual does.
            if (tmfd.traversed &&
                !row_qualifies(slot, cols.attnum[ColId], session_id, security, econtext))
                continue;
            fill(slot, cols, rel, session_id, upper, out);
            result = DirectLock::locked;
            break;
        case TM_SelfModified:
            continue; // changed by this command or a later one: treated as deleted
        case TM_Updated:
            if (IsolationUsesXactSnapshot())
                ereport(ERROR, (errcode(ERRCODE_T_R_SERIALIZATION_FAILURE),
                                errmsg("could not serialize access due to concurrent update")));
            elog(ERROR, "unexpected table_tuple_lock status: %u", lock);
            break;
        case TM_Deleted:
            if (IsolationUsesXactSnapshot())
                ereport(ERROR, (errcode(ERRCODE_T_R_SERIALIZATION_FAILURE),
                                errmsg("could not serialize access due to concurrent update")));
            continue;
        case TM_Invisible:
            elog(ERROR, "attempted to lock invisible tuple");
            break;
        default:
            elog(ERROR, "unrecognized table_tuple_lock status: %u", lock);
        }
        break;
    }
    index_endscan(scan);
    ExecDropSingleTupleTableSlot(slot);
    return result;
}

} // namespace

DirectLock lock_session_directly(Datum session_id, MemoryContext upper, WritableSession *out) {
    if (citus_loaded())
        return DirectLock::declined;
    Oid relid = sessions_table();
    Relation rel = table_open(relid, RowShareLock);
    // A table with inheritance children: the query would scan them too.
    if (rel->rd_rel->relkind != RELKIND_RELATION || rel->rd_rel->relhassubclass) {
        table_close(rel, NoLock);
        return DirectLock::declined;
    }
    Columns cols;
    Oid index_oid = primary_key_index(rel);
    if (!find_columns(rel, &cols) || !OidIsValid(index_oid)) {
        table_close(rel, NoLock);
        return DirectLock::declined;
    }
    Relation index = index_open(index_oid, RowShareLock);
    if (IndexRelationGetNumberOfKeyAttributes(index) != 1 ||
        index->rd_index->indkey.values[0] != cols.attnum[ColId] ||
        index->rd_rel->relam != BTREE_AM_OID ||
        get_opcode(get_opfamily_member(index->rd_opfamily[0], UUIDOID, UUIDOID,
                                       BTEqualStrategyNumber)) != F_UUID_EQ) {
        index_close(index, NoLock);
        table_close(rel, NoLock);
        return DirectLock::declined;
    }

    Query *query = select_for_update_query(rel, selected_columns(cols));
    Security security = security_for(query);
    if (security.declined) {
        index_close(index, NoLock);
        table_close(rel, NoLock);
        return DirectLock::declined;
    }
    // The executor's start-up checks: a read-only transaction, then privileges.
    if (XactReadOnly && !isTempNamespace(RelationGetNamespace(rel)))
        PreventCommandIfReadOnly("SELECT FOR NO KEY UPDATE");
    check_query_permissions(query);

    // The policies' functions run with search_path = pg_catalog, pg_temp, as sp::run runs
    // every query (the query's own operator, uuid =, is the index's), unless each of them is
    // known not to read it.
    int level = -1;
    if (security.quals && security.pin_path) {
        level = NewGUCNestLevel();
        set_config_option("search_path", "pg_catalog, pg_temp", PGC_USERSET, PGC_S_SESSION,
                          GUC_ACTION_SAVE, true, 0, false);
    }
    ExprContext *econtext = CreateStandaloneExprContext();

    // A new snapshot after a command counter increment, as SPI takes for a query that is not
    // read-only, and the increment after it.
    CommandCounterIncrement();
    PushActiveSnapshot(GetTransactionSnapshot());
    DirectLock result =
        find_and_lock(rel, index, cols, session_id, security.quals, econtext, upper, out);
    PopActiveSnapshot();
    CommandCounterIncrement();
    release_security(security);

    FreeExprContext(econtext, true);
    if (level >= 0)
        AtEOXact_GUC(true, level);
    index_close(index, NoLock);
    table_close(rel, NoLock);
    return result;
}

} // namespace sp
