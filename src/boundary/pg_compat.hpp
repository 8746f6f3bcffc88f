// What differs between the PostgreSQL versions session_persist builds against (15 to 18).
// Every `#if PG_VERSION_NUM` of src/ is in this file: the rest of the code calls the neutral
// helpers below, so a new major version means reading one file, not grepping for guards.
#pragma once

#include "pg.hpp"

extern "C" {
#include "access/genam.h"
#include "executor/executor.h"
#include "nodes/nodeFuncs.h"
#include "nodes/parsenodes.h"
#include "storage/proc.h"
#include "utils/relcache.h"
#if PG_VERSION_NUM >= 160000
#include "parser/parse_relation.h"
#endif
#if PG_VERSION_NUM < 150000 || defined(SP_TEST_PRE15_SRF)
#include "utils/tuplestore.h"
#endif
}

namespace sp {

// Sets up a set-returning function that fills rsinfo->setResult in one call: a tuplestore
// with the row type the caller expects. SP_TEST_PRE15_SRF builds the pre-15 path on a newer
// server, so the suite can run it.
inline ReturnSetInfo *materialized_srf(FunctionCallInfo fcinfo) {
#if PG_VERSION_NUM >= 150000 && !defined(SP_TEST_PRE15_SRF)
    InitMaterializedSRF(fcinfo, MAT_SRF_USE_EXPECTED_DESC);
    return reinterpret_cast<ReturnSetInfo *>(fcinfo->resultinfo);
#else
    auto *rsinfo = reinterpret_cast<ReturnSetInfo *>(fcinfo->resultinfo);
    if (!rsinfo || !IsA(rsinfo, ReturnSetInfo) || !(rsinfo->allowedModes & SFRM_Materialize) ||
        !rsinfo->expectedDesc)
        ereport(ERROR, (errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
                        errmsg("set-valued function called in context that cannot accept a set")));
    MemoryContext old = MemoryContextSwitchTo(rsinfo->econtext->ecxt_per_query_memory);
    rsinfo->setDesc = CreateTupleDescCopy(rsinfo->expectedDesc);
    rsinfo->setResult = tuplestore_begin_heap(true, false, work_mem);
    rsinfo->returnMode = SFRM_Materialize;
    MemoryContextSwitchTo(old);
    return rsinfo;
#endif
}

// Makes settings under `prefix.` that the extension does not define an error to set (15
// renamed EmitWarningsOnPlaceholders, which only warned).
inline void reserve_guc_prefix(const char *prefix) {
#if PG_VERSION_NUM >= 150000
    MarkGUCPrefixReserved(prefix);
#else
    EmitWarningsOnPlaceholders(prefix);
#endif
}

// Gives estate a range table of one relation, rte (index 1), for single-row writes that
// skip the planner, set up as logical replication's apply worker does.
//  - 16 moved the permission fields out of the RTE into a list of RTEPermissionInfo; an
//    update looks its entry up (for the updated columns), and an RTE without one fails with
//    "invalid perminfoindex 0". The entry requires no privileges: the executor checks them
//    only in a plan's start-up, which these writes never run (row_writer.hpp says who may
//    write).
//  - 18 takes the set of range-table indexes that partition pruning kept: ours, always.
inline void init_single_range_table(EState *estate, RangeTblEntry *rte) {
#if PG_VERSION_NUM >= 160000
    List *perminfos = NIL;
    addRTEPermissionInfo(&perminfos, rte);
#endif
#if PG_VERSION_NUM >= 180000
    ExecInitRangeTable(estate, list_make1(rte), perminfos, bms_make_singleton(1));
#elif PG_VERSION_NUM >= 160000
    ExecInitRangeTable(estate, list_make1(rte), perminfos);
#else
    ExecInitRangeTable(estate, list_make1(rte));
#endif
}

// A query of one relation as the parser makes it for SELECT <columns> FROM rel ... FOR [NO
// KEY] UPDATE: a range table entry that requires SELECT of `selected` (column numbers offset
// by FirstLowInvalidHeapAttributeNumber) and UPDATE. 16 moved the privileges into a list of
// RTEPermissionInfo.
inline Query *select_for_update_query(Relation rel, Bitmapset *selected) {
    RangeTblEntry *rte = makeNode(RangeTblEntry);
    rte->rtekind = RTE_RELATION;
    rte->relid = RelationGetRelid(rel);
    rte->relkind = rel->rd_rel->relkind;
    rte->rellockmode = RowShareLock;
    rte->inh = false;
    rte->inFromCl = true;
    Query *query = makeNode(Query);
    query->commandType = CMD_SELECT;
    query->rtable = list_make1(rte);
#if PG_VERSION_NUM >= 160000
    RTEPermissionInfo *perminfo = addRTEPermissionInfo(&query->rteperminfos, rte);
    perminfo->requiredPerms = ACL_SELECT | ACL_SELECT_FOR_UPDATE;
    perminfo->checkAsUser = InvalidOid;
    perminfo->selectedCols = selected;
#else
    rte->requiredPerms = ACL_SELECT | ACL_SELECT_FOR_UPDATE;
    rte->checkAsUser = InvalidOid;
    rte->selectedCols = selected;
#endif
    return query;
}

// The executor's privilege check of a query's range table (ERROR 42501 when one is missing).
inline void check_query_permissions(Query *query) {
#if PG_VERSION_NUM >= 160000
    ExecCheckPermissions(query->rtable, query->rteperminfos, true);
#else
    ExecCheckRTPerms(query->rtable, true);
#endif
}

// The relation's primary key index, InvalidOid when none (18: not a deferrable one).
inline Oid primary_key_index(Relation rel) {
#if PG_VERSION_NUM >= 180000
    return RelationGetPrimaryKeyIndex(rel, false);
#else
    return RelationGetPrimaryKeyIndex(rel);
#endif
}

// index_beginscan (18 takes the instrumentation of EXPLAIN ANALYZE: none).
inline IndexScanDesc begin_index_scan(Relation heap, Relation index, Snapshot snapshot,
                                      int nkeys) {
#if PG_VERSION_NUM >= 180000
    return index_beginscan(heap, index, snapshot, nullptr, nkeys, 0);
#else
    return index_beginscan(heap, index, snapshot, nkeys, 0);
#endif
}

// expression_tree_walker with a walker(Node *, void *) (15 declares the walker without its
// parameters; the cast through void (*)() is the one -Wcast-function-type allows).
inline bool walk_expression(Node *node, bool (*walker)(Node *, void *), void *context) {
#if PG_VERSION_NUM >= 160000
    return expression_tree_walker(node, walker, context);
#else
    return expression_tree_walker(
        node, reinterpret_cast<bool (*)()>(reinterpret_cast<void (*)()>(walker)), context);
#endif
}

// This backend's local transaction id (17 moved it into PGPROC's vxid).
inline LocalTransactionId local_transaction_id() {
#if PG_VERSION_NUM >= 170000
    return MyProc->vxid.lxid;
#else
    return MyProc->lxid;
#endif
}

} // namespace sp
