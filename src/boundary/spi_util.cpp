#include "spi_util.hpp"

namespace sp {

// The extension's queries name its tables by schema, but their operators and functions
// (=, <=, count ...) are found on search_path, and several queries run as the tables' owner
// (as_table_owner): an operator a caller put ahead of pg_catalog would run with the owner's
// rights. So each query is prepared and run with search_path = pg_catalog, pg_temp; the plan
// cache, which re-plans when search_path differs from the one a plan was made with, then
// never re-plans under the caller's. The caller's setting is back when the query ends, or
// with the (sub)transaction's abort on an error.
int run(Sql q, Datum *values, const char *nulls, bool read_only, long max_rows) {
    int level = NewGUCNestLevel();
    set_config_option("search_path", "pg_catalog, pg_temp", PGC_USERSET, PGC_S_SESSION,
                      GUC_ACTION_SAVE, true, 0, false);
    int rc = SPI_execute_plan(plan(q), values, nulls, read_only, max_rows);
    AtEOXact_GUC(true, level);
    if (rc < 0)
        elog(ERROR, "session_persist: query %d failed: %s", static_cast<int>(q),
             SPI_result_code_string(rc));
    return rc;
}

Datum column(uint64 row, int col, bool *isnull) {
    return SPI_getbinval(SPI_tuptable->vals[row], SPI_tuptable->tupdesc, col, isnull);
}

int32 column_int32(uint64 row, int col) {
    bool isnull;
    Datum d = column(row, col, &isnull);
    return isnull ? 0 : DatumGetInt32(d);
}

int64 column_int64(uint64 row, int col) {
    bool isnull;
    Datum d = column(row, col, &isnull);
    return isnull ? 0 : DatumGetInt64(d);
}

Datum column_copy(uint64 row, int col, bool *isnull, MemoryContext upper) {
    Datum d = column(row, col, isnull);
    if (*isnull)
        return (Datum)0;
    Form_pg_attribute att = TupleDescAttr(SPI_tuptable->tupdesc, col - 1);
    if (att->attbyval)
        return d;
    MemoryContext old = MemoryContextSwitchTo(upper);
    Datum copy = att->attlen == -1 ? PointerGetDatum(PG_DETOAST_DATUM_COPY(d))
                                   : datumCopy(d, false, att->attlen);
    MemoryContextSwitchTo(old);
    return copy;
}

char *column_cstring(uint64 row, int col, MemoryContext upper) {
    char *value = SPI_getvalue(SPI_tuptable->vals[row], SPI_tuptable->tupdesc, col);
    return value ? MemoryContextStrdup(upper, value) : nullptr;
}

char *uuid_text(Datum uuid) {
    return DatumGetCString(DirectFunctionCall1(uuid_out, uuid));
}

} // namespace sp
