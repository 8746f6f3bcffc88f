// What differs between the PostgreSQL versions session_persist builds against (15 to 18).
// Every `#if PG_VERSION_NUM` of src/ is in this file: the rest of the code calls the neutral
// helpers below, so a new major version means reading one file, not grepping for guards.
#pragma once

#include "pg.hpp"

extern "C" {
#include "executor/executor.h"
#include "nodes/parsenodes.h"
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

} // namespace sp
