#include "pg.hpp"
#include "pg_compat.hpp"

#include "citus_hooks.hpp"
#include "settings.hpp"

extern "C" {
#include "utils/guc.h"
#include "utils/timestamp.h"
#include "utils/varlena.h"
}

extern "C" {
PG_MODULE_MAGIC;
void _PG_init(void);
}

namespace sp::settings {
int max_snapshot_bytes = 16 * 1024 * 1024;
int warn_snapshot_bytes = 1024 * 1024;
int keyframe_interval = 100;
bool notify = false;
bool http_status_codes = false;
char *organization_id = nullptr;
int keep_snapshots = 0;
char *keep_for = nullptr;
char *jwt_roles = nullptr;
uint64_t jwt_roles_generation = 0;

uintptr_t keep_for_interval(bool *has) {
    *has = keep_for && keep_for[0] != '\0';
    if (!*has)
        return 0;
    return DirectFunctionCall3(interval_in, CStringGetDatum(keep_for),
                               ObjectIdGetDatum(InvalidOid), Int32GetDatum(-1));
}
} // namespace sp::settings

namespace {

// session_persist.jwt_roles must be a comma-separated list of role names.
bool check_jwt_roles(char **newval, void **extra, GucSource source) {
    char *names = pstrdup(*newval);
    List *list = nullptr;
    bool ok = SplitIdentifierString(names, ',', &list);
    list_free(list);
    pfree(names);
    if (!ok)
        GUC_check_errdetail("List syntax is invalid: role names separated by commas.");
    return ok;
}

void assign_jwt_roles(const char *newval, void *extra) {
    ++sp::settings::jwt_roles_generation;
}

// session_persist.keep_for must be empty or a positive interval.
bool check_keep_for(char **newval, void **extra, GucSource source) {
    if (!*newval || (*newval)[0] == '\0')
        return true;
    volatile bool ok = false;
    MemoryContext caller = CurrentMemoryContext;
    PG_TRY();
    {
        Interval *value = DatumGetIntervalP(DirectFunctionCall3(
            interval_in, CStringGetDatum(*newval), ObjectIdGetDatum(InvalidOid), Int32GetDatum(-1)));
        ok = value->month > 0 || value->day > 0 || value->time > 0;
        if (!ok)
            GUC_check_errdetail("The age limit must be a positive interval, e.g. '30 days'.");
    }
    PG_CATCH();
    {
        MemoryContextSwitchTo(caller);
        FlushErrorState();
        GUC_check_errdetail("Not an interval: write it as, e.g., '30 days' or '12 hours'.");
    }
    PG_END_TRY();
    return ok;
}

} // namespace

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
                             "Send NOTIFY session_persist when sessions change.",
                             "Any role can LISTEN: turn it on only where every listener is "
                             "trusted. Payloads carry ids, never user ids.",
                             &notify, false, PGC_USERSET, 0, nullptr, nullptr, nullptr);
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
    DefineCustomIntVariable("session_persist.keep_snapshots",
                            "Snapshots kept per session that sets no keep_snapshots (0 keeps all).",
                            "A save that leaves a session more than a quarter (at least 5) over "
                            "it prunes the session back. Set per database or role by an "
                            "administrator (ALTER DATABASE/ROLE ... SET); a session's own "
                            "keep_snapshots wins.",
                            &keep_snapshots, 0, 0, INT_MAX, PGC_SUSET, 0, nullptr, nullptr, nullptr);
    DefineCustomStringVariable(
        "session_persist.keep_for",
        "Age past which cleanup_all_snapshots() prunes snapshots of sessions that set no keep_for.",
        "An interval, e.g. '30 days'; empty: no age limit. The latest snapshot is never pruned.",
        &keep_for, "", PGC_SUSET, 0, check_keep_for, nullptr, nullptr);
    DefineCustomStringVariable(
        "session_persist.jwt_roles",
        "Roles whose request.jwt.claims are believed (a gateway's client roles).",
        "Any client can set request.jwt.claims; for every role not listed here the identity is "
        "the role's name. Only a superuser (or ALTER ROLE/DATABASE ... SET) may change it.",
        &jwt_roles, "anon,authenticated", PGC_SUSET, GUC_LIST_INPUT, check_jwt_roles,
        assign_jwt_roles, nullptr);
    sp::reserve_guc_prefix("session_persist");
    sp::install_citus_hooks();
}
