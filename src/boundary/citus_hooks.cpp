#include "citus_hooks.hpp"

#include "pg.hpp"

#include "core/error.hpp"
#include "catalog.hpp"
#include "guard.hpp"
#include "identity.hpp"

extern "C" {
#include "catalog/pg_proc.h"
#include "nodes/nodeFuncs.h"
#include "optimizer/planner.h"
#include "utils/array.h"
#include "utils/syscache.h"
}

namespace {

planner_hook_type previous_planner = nullptr;

// -1: not known yet; citus must be in shared_preload_libraries, so the answer never changes.
int citus_state = -1;

// Whether `function` is one of ours whose first parameter is p_session_id (the argument
// distribute_session_persist() delegates by).
bool takes_session_id(Oid function) {
    HeapTuple tuple = SearchSysCache1(PROCOID, ObjectIdGetDatum(function));
    if (!HeapTupleIsValid(tuple))
        return false;
    bool isnull;
    Datum names = SysCacheGetAttr(PROCOID, tuple, Anum_pg_proc_proargnames, &isnull);
    bool found = false;
    if (!isnull) {
        Datum *elements;
        int count;
        deconstruct_array(DatumGetArrayTypeP(names), TEXTOID, -1, false, TYPALIGN_INT, &elements,
                          nullptr, &count);
        found = count > 0 && strcmp(TextDatumGetCString(elements[0]), "p_session_id") == 0;
    }
    Oid schema = ((Form_pg_proc)GETSTRUCT(tuple))->pronamespace;
    ReleaseSysCache(tuple);
    return found && schema == sp::installed_extension_schema();
}

bool is_null_argument(Node *arg, ParamListInfo params) {
    while (arg && IsA(arg, RelabelType))
        arg = reinterpret_cast<Node *>(reinterpret_cast<RelabelType *>(arg)->arg);
    if (!arg)
        return false;
    if (IsA(arg, Const))
        return reinterpret_cast<Const *>(arg)->constisnull;
    if (IsA(arg, Param)) {
        Param *param = reinterpret_cast<Param *>(arg);
        if (param->paramkind != PARAM_EXTERN || !params || params->paramFetch ||
            param->paramid < 1 || param->paramid > params->numParams)
            return false;
        return params->params[param->paramid - 1].isnull;
    }
    return false;
}

// The p_session_id argument of a call: positional first, or named.
Node *session_id_argument(FuncExpr *call) {
    ListCell *cell;
    foreach (cell, call->args) {
        Node *arg = static_cast<Node *>(lfirst(cell));
        if (IsA(arg, NamedArgExpr)) {
            NamedArgExpr *named = reinterpret_cast<NamedArgExpr *>(arg);
            if (strcmp(named->name, "p_session_id") == 0)
                return reinterpret_cast<Node *>(named->arg);
        } else if (cell == list_head(call->args)) {
            return arg;
        }
    }
    return nullptr;
}

void refuse_null_session_id(Node *expr, ParamListInfo params) {
    if (!expr || !IsA(expr, FuncExpr))
        return;
    FuncExpr *call = reinterpret_cast<FuncExpr *>(expr);
    if (!is_null_argument(session_id_argument(call), params))
        return;
    if (!takes_session_id(call->funcid))
        return;
    ereport(ERROR,
            (errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED), errmsg("p_session_id must not be null"),
             errdetail("%s() needs the id of a session.", get_func_name(call->funcid))));
}

// The calls Citus may delegate: SELECT f(...) and SELECT * FROM f(...).
void check_delegable_calls(Query *query, ParamListInfo params) {
    if (query->commandType != CMD_SELECT)
        return;
    ListCell *cell;
    foreach (cell, query->targetList)
        refuse_null_session_id(
            reinterpret_cast<Node *>(static_cast<TargetEntry *>(lfirst(cell))->expr), params);
    foreach (cell, query->rtable) {
        RangeTblEntry *rte = static_cast<RangeTblEntry *>(lfirst(cell));
        if (rte->rtekind != RTE_FUNCTION)
            continue;
        ListCell *f;
        foreach (f, rte->functions)
            refuse_null_session_id(static_cast<RangeTblFunction *>(lfirst(f))->funcexpr, params);
    }
}

// The claims last handed to Citus in this transaction (propagated: any at all).
char *propagated_claims = nullptr;
char *propagated_sub = nullptr;
bool propagated = false;
bool xact_callback_registered = false;

void transaction_ended(XactEvent event, void *) {
    if (event == XACT_EVENT_COMMIT || event == XACT_EVENT_ABORT ||
        event == XACT_EVENT_PARALLEL_COMMIT || event == XACT_EVENT_PARALLEL_ABORT ||
        event == XACT_EVENT_PREPARE)
        propagated = false;
}

bool same_setting(const char *a, const char *b) {
    return strcmp(a ? a : "", b ? b : "") == 0;
}

void remember(char **slot, const char *value) {
    if (*slot)
        pfree(*slot);
    *slot = value ? MemoryContextStrdup(TopMemoryContext, value) : nullptr;
}

void set_local(const char *name, const char *value) {
    char *command = psprintf("SET LOCAL %s TO %s", name, quote_literal_cstr(value ? value : ""));
    if (SPI_execute(command, false, 0) != SPI_OK_UTILITY)
        elog(ERROR, "session_persist: could not run %s", command);
    pfree(command);
}

// Re-sets a gateway role's claims with SET LOCAL, once per transaction and value, so Citus
// sends them to the workers (see citus_hooks.hpp).
void propagate_claims() {
    if (!IsTransactionBlock() || !sp::caller_is_jwt_role())
        return;
    const char *claims = GetConfigOption("request.jwt.claims", true, false);
    const char *sub = GetConfigOption("request.jwt.claim.sub", true, false);
    bool fresh = !propagated;
    if (fresh && same_setting(claims, nullptr) && same_setting(sub, nullptr))
        return;
    if (!fresh && same_setting(claims, propagated_claims) && same_setting(sub, propagated_sub))
        return;
    if (!xact_callback_registered) {
        RegisterXactCallback(transaction_ended, nullptr);
        xact_callback_registered = true;
    }
    SPI_connect();
    const char *mode = GetConfigOption("citus.propagate_set_commands", true, false);
    if (!mode || strcmp(mode, "local") != 0)
        set_local("citus.propagate_set_commands", "local");
    set_local("request.jwt.claims", claims);
    if (sub || !fresh)
        set_local("request.jwt.claim.sub", sub);
    SPI_finish();
    remember(&propagated_claims, claims);
    remember(&propagated_sub, sub);
    propagated = true;
}

PlannedStmt *plan_statement(Query *parse, const char *query_string, int cursor_options,
                            ParamListInfo params) {
    if (sp::citus_loaded()) {
        check_delegable_calls(parse, params);
        propagate_claims();
    }
    if (previous_planner)
        return previous_planner(parse, query_string, cursor_options, params);
    return standard_planner(parse, query_string, cursor_options, params);
}

} // namespace

namespace sp {

bool citus_loaded() {
    if (citus_state < 0)
        citus_state = GetConfigOption("citus.propagate_set_commands", true, false) ? 1 : 0;
    return citus_state == 1;
}

void install_citus_hooks() {
    previous_planner = planner_hook;
    planner_hook = plan_statement;
}

int allow_nested_distributed_execution() {
    if (!citus_loaded())
        return -1;
    int level = NewGUCNestLevel();
    set_config_option("citus.allow_nested_distributed_execution", "on", PGC_USERSET, PGC_S_SESSION,
                      GUC_ACTION_SAVE, true, 0, false);
    return level;
}

void end_nested_distributed_execution(int nest_level) {
    if (nest_level >= 0)
        AtEOXact_GUC(true, nest_level);
}

} // namespace sp
