#include "citus_forward.hpp"

#include "catalog.hpp"
#include "core/error.hpp"
#include "guard.hpp"
#include "session_access.hpp"
#include "spi_util.hpp"

namespace {

using namespace sp;

// A forwarded call that lands on this same backend again (the range's placement changed
// under us) must run here, not loop.
int forwarding_depth = 0;

// Whether the session's rows are on another Citus node than this one.
bool elsewhere(Datum session_id) {
    if (forwarding_depth > 0)
        return false;
    return !OidIsValid(local_placement(session_id).sessions);
}

// Runs the forwarding query; no row: the caller cannot see the session.
void run_forwarded(Sql q, FunctionCallInfo fcinfo, int nargs) {
    Datum args[FUNC_MAX_ARGS];
    char nulls[FUNC_MAX_ARGS];
    for (int i = 0; i < nargs; ++i) {
        args[i] = PG_GETARG_DATUM(i);
        nulls[i] = null_flag(PG_ARGISNULL(i));
    }
    ++forwarding_depth;
    PG_TRY();
    { run(q, args, nulls, false); }
    PG_FINALLY();
    { --forwarding_depth; }
    PG_END_TRY();
    if (SPI_processed == 0)
        raise_session_not_found(PG_GETARG_DATUM(0));
}

} // namespace

namespace sp {

bool forward_save(FunctionCallInfo fcinfo, Datum *result) {
    if (!tables_distributed()) // off Citus: no SPI connection, nothing to look up
        return false;
    MemoryContext upper = CurrentMemoryContext;
    SPI_connect();
    bool forwarded = elsewhere(PG_GETARG_DATUM(0));
    if (forwarded) {
        run_forwarded(Sql::ForwardSave, fcinfo, 5);
        bool isnull;
        *result = column_copy(0, 1, &isnull, upper);
    }
    SPI_finish();
    return forwarded;
}

bool forward_cleanup(FunctionCallInfo fcinfo, int32 *deleted) {
    if (!tables_distributed())
        return false;
    SPI_connect();
    bool forwarded = elsewhere(PG_GETARG_DATUM(0));
    if (forwarded) {
        run_forwarded(Sql::ForwardCleanup, fcinfo, 3);
        *deleted = column_int32(0, 1);
    }
    SPI_finish();
    return forwarded;
}

bool forward_append(FunctionCallInfo fcinfo, ReturnSetInfo *rsinfo) {
    if (!tables_distributed())
        return false;
    SPI_connect();
    bool forwarded = elsewhere(PG_GETARG_DATUM(0));
    if (forwarded) {
        run_forwarded(Sql::ForwardAppend, fcinfo, 2);
        for (uint64 row = 0; row < SPI_processed; ++row) {
            bool isnull;
            Datum order = column(row, 1, &isnull);
            tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, &order, &isnull);
        }
    }
    SPI_finish();
    return forwarded;
}

} // namespace sp
