// The session_persist.* settings of SPEC.md ("Settings").
#pragma once

#include <cstdint>

namespace sp::settings {

extern int max_snapshot_bytes;  // larger states are refused (54000); superuser-only
extern int warn_snapshot_bytes; // larger states are saved with a WARNING
extern int keyframe_interval;   // most deltas after a keyframe
extern bool notify;             // NOTIFY session_persist on saves, appends, forks, deletes
extern bool http_status_codes;  // PostgREST PTnnn codes instead of P0002/40001/54000
extern char *organization_id;   // organization of plain SQL clients (no JWT)
extern int keep_snapshots;      // snapshots kept per session that sets none (0: all)
extern char *keep_for;          // age past which cleanup_all_snapshots() prunes ('' : none)
extern char *jwt_roles;         // the gateway roles whose request.jwt.claims are believed
extern uint64_t jwt_roles_generation; // changes whenever jwt_roles is assigned

// session_persist.keep_for as an interval Datum; *has is false when it is empty.
uintptr_t keep_for_interval(bool *has);

} // namespace sp::settings
