// NOTIFY session_persist: a small JSON payload of ids, delivered at commit (SPEC.md).
#pragma once

#include "pg.hpp"

namespace sp {

// `event` is "snapshot" (a save), "messages" (rows added to the history: appends, synced
// messages, and the histories written by import and fork), "fork" (a new session made by
// fork_session) or "delete" (a session deleted); number is the snapshot or last message
// number (0: none). Does nothing when session_persist.notify is off.
void notify_session_event(Datum session_id, const char *event, int32 number);

} // namespace sp
