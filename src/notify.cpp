#include "notify.hpp"

#include "guard.hpp"

#include "settings.hpp"
#include "spi_util.hpp"

extern "C" {
#include "lib/stringinfo.h"
#include "utils/json.h"
}

namespace sp {

void notify_session_event(Datum session_id, const char *user_id, const char *event, int32 number) {
    if (!settings::notify)
        return;
    StringInfoData payload;
    initStringInfo(&payload);
    appendStringInfo(&payload, "{\"session_id\":\"%s\",\"user_id\":", uuid_text(session_id));
    if (user_id)
        escape_json(&payload, user_id);
    else
        appendStringInfoString(&payload, "null");
    appendStringInfo(&payload, ",\"event\":\"%s\"", event);
    if (number > 0)
        appendStringInfo(&payload, ",\"%s\":%d",
                         strcmp(event, "messages") == 0 ? "message_order" : "snapshot_number",
                         number);
    appendStringInfoChar(&payload, '}');
    // NOTIFY refuses payloads from about 7,900 bytes on (BLCKSZ - NAMEDATALEN - 128); ids keep
    // it far below unless user_id is absurdly long, in which case it is dropped rather than
    // failing the save.
    constexpr int max_payload_bytes = 6400;
    if (payload.len >= max_payload_bytes) {
        resetStringInfo(&payload);
        appendStringInfo(&payload, "{\"session_id\":\"%s\",\"event\":\"%s\"}",
                         uuid_text(session_id), event);
    }
    Async_Notify("session_persist", payload.data);
}

} // namespace sp

// AFTER DELETE trigger on free_agent_sessions: {"session_id", "user_id", "event":"delete"}.
SP_FUNCTION(sp_notify_session_deleted) {
    if (!CALLED_AS_TRIGGER(fcinfo))
        elog(ERROR, "sp_notify_session_deleted() must be called as a trigger");
    TriggerData *trigger = reinterpret_cast<TriggerData *>(fcinfo->context);
    HeapTuple row = trigger->tg_trigtuple;
    TupleDesc desc = RelationGetDescr(trigger->tg_relation);
    bool isnull;
    Datum session_id = heap_getattr(row, SPI_fnumber(desc, "id"), desc, &isnull);
    sp::notify_session_event(session_id, SPI_getvalue(row, desc, SPI_fnumber(desc, "user_id")),
                             "delete", 0);
    return PointerGetDatum(nullptr);
}
