#include "notify.hpp"

#include "guard.hpp"

#include "settings.hpp"
#include "spi_util.hpp"

extern "C" {
#include "lib/stringinfo.h"
}

namespace sp {

// The payload names the session and the event, never the user: any role can LISTEN, and
// ids alone keep it far below NOTIFY's limit (about 7,900 bytes).
void notify_session_event(Datum session_id, const char *event, int32 number) {
    if (!settings::notify)
        return;
    StringInfoData payload;
    initStringInfo(&payload);
    appendStringInfo(&payload, "{\"session_id\":\"%s\",\"event\":\"%s\"", uuid_text(session_id),
                     event);
    if (number > 0)
        appendStringInfo(&payload, ",\"%s\":%d",
                         strcmp(event, "messages") == 0 ? "message_order" : "snapshot_number",
                         number);
    appendStringInfoChar(&payload, '}');
    Async_Notify("session_persist", payload.data);
}

} // namespace sp

// AFTER DELETE trigger on free_agent_sessions: {"session_id", "event":"delete"}.
SP_FUNCTION(sp_notify_session_deleted) {
    if (!CALLED_AS_TRIGGER(fcinfo))
        sp::raise("39P01", "notify_session_deleted() must be called as a trigger");
    TriggerData *trigger = reinterpret_cast<TriggerData *>(fcinfo->context);
    HeapTuple row = trigger->tg_trigtuple;
    TupleDesc desc = RelationGetDescr(trigger->tg_relation);
    bool isnull;
    Datum session_id = heap_getattr(row, SPI_fnumber(desc, "id"), desc, &isnull);
    sp::notify_session_event(session_id, "delete", 0);
    return PointerGetDatum(nullptr);
}
