// append_session_messages and get_session_messages: the message history (SPEC.md,
// "session_messages").
#include "pg.hpp"

#include "args.hpp"
#include "citus_forward.hpp"
#include "core/error.hpp"
#include "guard.hpp"
#include "message_sync.hpp"
#include "session_access.hpp"
#include "spi_util.hpp"

namespace {

using namespace sp;

constexpr int32 max_page = 1000;

} // namespace

// Appends a JSON array of messages in one go: role and content become columns, the rest of
// each message its metadata. Returns the new message_order values.
SP_FUNCTION(sp_append_session_messages) {
    require_arg(fcinfo, 0, "p_session_id");
    require_arg(fcinfo, 1, "p_messages");
    check_datum_size("p_messages", PG_GETARG_DATUM(1));
    Datum session_id = PG_GETARG_DATUM(0);
    Jsonb *messages = PG_GETARG_JSONB_P(1);
    if (!JB_ROOT_IS_ARRAY(messages) || JB_ROOT_IS_SCALAR(messages))
        raise(sqlstate::invalid_parameter_value,
              psprintf("p_messages must be a JSON array, not %s", json_type_name(messages)),
              nullptr, "Pass an array of messages, e.g. [{\"role\":\"user\",\"content\":\"hi\"}].");
    check_messages(&messages->root, 0, "p_messages", nullptr);

    ReturnSetInfo *rsinfo = materialized_srf(fcinfo);
    if (forward_append(fcinfo, rsinfo)) // Citus: the session is on another node
        return (Datum)0;
    MemoryContext upper = CurrentMemoryContext;
    SPI_connect();
    WritableSession session = lock_session_for_write(session_id, upper);
    append_messages(session_id, session, messages);
    SPI_finish();
    for (int32 i = 1; i <= static_cast<int32>(JB_ROOT_COUNT(messages)); ++i) {
        Datum order = Int32GetDatum(session.message_count + i);
        bool isnull = false;
        tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, &order, &isnull);
    }
    return (Datum)0;
}

// One page of history in message_order: the messages after p_after, at most p_limit. Keyset
// pagination over the (session_id, message_order) key, so every page costs the same.
SP_FUNCTION(sp_get_session_messages) {
    require_arg(fcinfo, 0, "p_session_id");
    require_arg(fcinfo, 1, "p_after");
    require_arg(fcinfo, 2, "p_limit");
    Datum session_id = PG_GETARG_DATUM(0);
    int32 after = PG_GETARG_INT32(1);
    int32 limit = PG_GETARG_INT32(2);
    if (after < 0)
        raise(sqlstate::invalid_parameter_value,
              psprintf("p_after must be 0 or more, not %d", after), nullptr,
              "Pass 0 for the first page, then the last message_order of the previous page.");
    if (limit < 1 || limit > max_page)
        raise(sqlstate::invalid_parameter_value,
              psprintf("p_limit must be 1 to %d, not %d", max_page, limit), nullptr,
              "Read longer histories page by page.");

    ReturnSetInfo *rsinfo = materialized_srf(fcinfo);
    SPI_connect();
    Datum args[] = {session_id, Int32GetDatum(after), Int32GetDatum(limit)};
    run(Sql::MessagesPage, args, nullptr, true);
    uint64 rows = SPI_processed;
    if (rows == 0)
        require_visible_session(session_id); // P0002 rather than an empty page
    int natts = SPI_tuptable->tupdesc->natts;
    Datum *values = static_cast<Datum *>(palloc(sizeof(Datum) * natts));
    bool *nulls = static_cast<bool *>(palloc(sizeof(bool) * natts));
    for (uint64 row = 0; row < rows; ++row) {
        heap_deform_tuple(SPI_tuptable->vals[row], SPI_tuptable->tupdesc, values, nulls);
        tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
    }
    SPI_finish();
    return (Datum)0;
}
