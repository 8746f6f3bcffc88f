// create_session and get_session_summary: the session records themselves.
#include "pg.hpp"

#include "args.hpp"
#include "core/error.hpp"
#include "guard.hpp"
#include "identity.hpp"
#include "session_access.hpp"
#include "spi_util.hpp"

namespace {

using namespace sp;

void check_visibility(text *visibility) {
    const char *value = text_to_cstring(visibility);
    if (strcmp(value, "private") != 0 && strcmp(value, "organization") != 0 &&
        strcmp(value, "public") != 0)
        raise(sqlstate::invalid_parameter_value,
              psprintf("p_visibility must be private, organization or public, not \"%s\"", value));
}

} // namespace

// A new session owned by the caller; returns the free_agent_sessions row.
SP_FUNCTION(sp_create_session) {
    require_arg(fcinfo, 0, "p_name");
    text *name = PG_GETARG_TEXT_PP(0);
    check_session_name(VARDATA_ANY(name), VARSIZE_ANY_EXHDR(name), "p_name");
    if (!PG_ARGISNULL(3))
        require_json_object(PG_GETARG_JSONB_P(3), "p_metadata");
    if (!PG_ARGISNULL(4))
        check_visibility(PG_GETARG_TEXT_PP(4));
    if (!caller_user_id())
        raise(sqlstate::insufficient_privilege, "anonymous callers cannot create sessions",
              "The request carries a JWT without a \"sub\" claim.", "Sign in first.");
    Datum args[5];
    char nulls[5];
    for (int i = 0; i < 5; ++i) {
        args[i] = PG_ARGISNULL(i) ? (Datum)0 : PG_GETARG_DATUM(i);
        nulls[i] = null_flag(PG_ARGISNULL(i));
    }
    SPI_connect();
    run(Sql::InsertSession, args, nulls, false, 1);
    HeapTupleHeader row = SPI_returntuple(SPI_tuptable->vals[0], SPI_tuptable->tupdesc);
    SPI_finish();
    PG_RETURN_HEAPTUPLEHEADER(row);
}

// The seed's summary row: one row of counters, read from the session (no counting).
SP_FUNCTION(sp_get_session_summary) {
    require_arg(fcinfo, 0, "p_session_id");
    Datum session_id = PG_GETARG_DATUM(0);
    ReturnSetInfo *rsinfo = materialized_srf(fcinfo);
    SPI_connect();
    Datum args[] = {session_id};
    run(Sql::SessionForRead, args, nullptr, true, 1);
    if (SPI_processed == 0)
        raise_session_not_found(session_id);
    int natts = SPI_tuptable->tupdesc->natts;
    Datum *values = static_cast<Datum *>(palloc(sizeof(Datum) * natts));
    bool *nulls = static_cast<bool *>(palloc(sizeof(bool) * natts));
    heap_deform_tuple(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, values, nulls);
    // The tuplestore lives in the caller's context, so it copies what it stores.
    tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
    SPI_finish();
    return (Datum)0;
}
