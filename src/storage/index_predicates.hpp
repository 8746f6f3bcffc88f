// The predicates of partial indexes, compiled once per backend. The executor compiles an
// index's predicate in each EState that inserts into it (ExecInsertIndexTuples:
// expression_planner, then ExecInitQual), and the row writer makes an EState per write: five
// partial indexes cost a small save 19k instructions, for predicates such as
// visibility = 'public'.
#pragma once

#include "pg.hpp"

struct ResultRelInfo;

namespace sp {

// Gives each partial index of result (after ExecOpenIndices) its compiled predicate, the one
// kept for that index when its predicate is the same expression and calls built-in functions
// only (they keep nothing of a transaction or a query in their fn_extra); other predicates
// are left to the executor, which compiles them as before.
void use_cached_index_predicates(ResultRelInfo *result);

} // namespace sp
