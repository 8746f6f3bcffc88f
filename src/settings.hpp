// The session_persist.* settings of SPEC.md ("Settings").
#pragma once

namespace sp::settings {

extern int max_snapshot_bytes;  // larger states are refused (54000); superuser-only
extern int warn_snapshot_bytes; // larger states are saved with a WARNING
extern int keyframe_interval;   // most deltas after a keyframe
extern bool notify;             // NOTIFY session_persist on saves, appends, forks, deletes
extern bool http_status_codes;  // PostgREST PTnnn codes instead of P0002/40001/54000
extern char *organization_id;   // organization of plain SQL clients (no JWT)

} // namespace sp::settings
