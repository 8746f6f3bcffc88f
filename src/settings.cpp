#include "pg.hpp"
#include "pg_compat.hpp"

#include "settings.hpp"

extern "C" {
PG_MODULE_MAGIC;
void _PG_init(void);
}

namespace sp::settings {
int max_snapshot_bytes = 16 * 1024 * 1024;
int warn_snapshot_bytes = 1024 * 1024;
int keyframe_interval = 100;
bool notify = true;
bool http_status_codes = false;
char *organization_id = nullptr;
} // namespace sp::settings

void _PG_init(void) {
    using namespace sp::settings;
    DefineCustomIntVariable("session_persist.max_snapshot_bytes",
                            "Largest snapshot state accepted, in bytes of jsonb.",
                            "Only a superuser (or ALTER ROLE/DATABASE ... SET) may change it, so a "
                            "client cannot raise its own limit.",
                            &max_snapshot_bytes, 16 * 1024 * 1024, 1, MaxAllocSize, PGC_SUSET,
                            GUC_UNIT_BYTE, nullptr, nullptr, nullptr);
    DefineCustomIntVariable("session_persist.warn_snapshot_bytes",
                            "Snapshot states larger than this are saved with a WARNING.", nullptr,
                            &warn_snapshot_bytes, 1024 * 1024, 1, MaxAllocSize, PGC_USERSET,
                            GUC_UNIT_BYTE, nullptr, nullptr, nullptr);
    DefineCustomIntVariable("session_persist.keyframe_interval",
                            "Most deltas stored after a full snapshot (1 stores every snapshot "
                            "in full).",
                            nullptr, &keyframe_interval, 100, 1, 100000, PGC_USERSET, 0, nullptr,
                            nullptr, nullptr);
    DefineCustomBoolVariable("session_persist.notify",
                             "Send NOTIFY session_persist when sessions change.", nullptr, &notify,
                             true, PGC_USERSET, 0, nullptr, nullptr, nullptr);
    DefineCustomBoolVariable("session_persist.http_status_codes",
                             "Report PostgREST PTnnn SQLSTATEs (HTTP 404, 409, 413) instead of "
                             "P0002, 40001 and 54000.",
                             nullptr, &http_status_codes, false, PGC_USERSET, 0, nullptr, nullptr,
                             nullptr);
    DefineCustomStringVariable(
        "session_persist.organization_id", "Organization of callers whose JWT carries none.",
        "Only a superuser (or ALTER ROLE/DATABASE ... SET) may set it: it grants read access "
        "to the organization's shared sessions.",
        &organization_id, nullptr, PGC_SUSET, 0, nullptr, nullptr, nullptr);
    sp::reserve_guc_prefix("session_persist");
}
