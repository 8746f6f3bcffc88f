#include "index_predicates.hpp"

#include "pg_compat.hpp"

extern "C" {
#include "access/transam.h"
#include "nodes/execnodes.h"
#include "nodes/nodeFuncs.h"
#include "optimizer/optimizer.h"
}

namespace sp {

namespace {

struct CachedPredicate {
    Oid index;
    List *predicate; // the index's predicate as IndexInfo has it, to compare with
    ExprState *compiled;
};

constexpr int max_cached = 32;
CachedPredicate cached[max_cached];
int ncached = 0;
MemoryContext cache_context = nullptr;

bool not_builtin(Oid funcid, void *) { return funcid >= FirstGenbkiObjectId; }

// Whether the expression calls a function that is not built in.
bool calls_non_builtin(Node *node, void *context) {
    if (!node)
        return false;
    if (check_functions_in_node(node, not_builtin, context))
        return true;
    return walk_expression(node, calls_non_builtin, context);
}

ExprState *compiled_predicate(Oid index, List *predicate) {
    int slot = ncached;
    for (int i = 0; i < ncached; i++)
        if (cached[i].index == index) {
            if (equal(cached[i].predicate, predicate))
                return cached[i].compiled;
            slot = i; // another index with the same OID since: compiled again (the old one
                      // stays in the context, a few hundred bytes)
            break;
        }
    if (slot == max_cached || calls_non_builtin(reinterpret_cast<Node *>(predicate), nullptr))
        return nullptr;
    if (!cache_context)
        cache_context = AllocSetContextCreate(TopMemoryContext, "session_persist index predicates",
                                              ALLOCSET_SMALL_SIZES);
    MemoryContext old = MemoryContextSwitchTo(cache_context);
    List *copy = static_cast<List *>(copyObjectImpl(predicate));
    // What ExecPrepareQual does, in a context of its own.
    ExprState *state = ExecInitQual(
        reinterpret_cast<List *>(expression_planner(reinterpret_cast<Expr *>(copyObjectImpl(copy)))),
        nullptr);
    MemoryContextSwitchTo(old);
    cached[slot] = {index, copy, state};
    if (slot == ncached)
        ncached++;
    return state;
}

} // namespace

void use_cached_index_predicates(ResultRelInfo *result) {
    for (int i = 0; i < result->ri_NumIndices; i++) {
        IndexInfo *info = result->ri_IndexRelationInfo[i];
        Relation index = result->ri_IndexRelationDescs[i];
        if (!info || !index || info->ii_Predicate == NIL || info->ii_PredicateState)
            continue;
        info->ii_PredicateState = compiled_predicate(RelationGetRelid(index), info->ii_Predicate);
    }
}

} // namespace sp
