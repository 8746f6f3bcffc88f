#include "guard.hpp"

#include "settings.hpp"

#include <cstdio>
#include <cstring>
#include <new>

namespace sp {

namespace {

int make_sqlstate(const char *s) { return MAKE_SQLSTATE(s[0], s[1], s[2], s[3], s[4]); }

// PostgREST sends PTnnn as HTTP status nnn; 42501 and 22xxx already map to 403 and 400.
const char *http_sqlstate(const char *sqlstate) {
    if (strcmp(sqlstate, sqlstate::not_found) == 0)
        return "PT404";
    if (strcmp(sqlstate, sqlstate::serialization_failure) == 0)
        return "PT409";
    if (strcmp(sqlstate, sqlstate::program_limit_exceeded) == 0)
        return "PT413";
    return sqlstate;
}

// Room for an exception's text once its C++ object is gone.
struct CaughtText {
    char sqlstate[6];
    char message[1024];
    char detail[1024];
    char hint[512];
};

void copy_text(char *to, size_t size, const char *from) { snprintf(to, size, "%s", from); }

} // namespace

int reported_sqlstate(const char *sqlstate) {
    return make_sqlstate(settings::http_status_codes ? http_sqlstate(sqlstate) : sqlstate);
}

void raise(const char *sqlstate, const char *message, const char *detail, const char *hint) {
    ereport(ERROR, (errcode(reported_sqlstate(sqlstate)), errmsg_internal("%s", message),
                    detail ? errdetail_internal("%s", detail) : 0,
                    hint ? errhint("%s", hint) : 0));
    pg_unreachable();
}

Datum guarded(FunctionCallInfo fcinfo, Body body) {
    // Everything a catch block learns is copied into plain storage; the error is raised
    // only after the handler (and the exception object) is gone, because ereport longjmps.
    static CaughtText caught;
    ErrorData *pg_error = nullptr;
    bool failed = false;
    try {
        return body(fcinfo);
    } catch (const PgError &e) {
        pg_error = e.data;
    } catch (const Error &e) {
        failed = true;
        copy_text(caught.sqlstate, sizeof caught.sqlstate, e.sqlstate());
        copy_text(caught.message, sizeof caught.message, e.what());
        copy_text(caught.detail, sizeof caught.detail, e.detail().c_str());
        copy_text(caught.hint, sizeof caught.hint, e.hint().c_str());
    } catch (const std::bad_alloc &) {
        failed = true;
        copy_text(caught.sqlstate, sizeof caught.sqlstate, "53200");
        copy_text(caught.message, sizeof caught.message, "out of memory in session_persist");
        caught.detail[0] = caught.hint[0] = '\0';
    } catch (const std::exception &e) {
        failed = true;
        copy_text(caught.sqlstate, sizeof caught.sqlstate, sqlstate::internal_error);
        snprintf(caught.message, sizeof caught.message, "session_persist internal error: %s",
                 e.what());
        caught.detail[0] = caught.hint[0] = '\0';
    } catch (...) {
        failed = true;
        copy_text(caught.sqlstate, sizeof caught.sqlstate, sqlstate::internal_error);
        copy_text(caught.message, sizeof caught.message,
                  "session_persist internal error: unknown C++ exception");
        caught.detail[0] = caught.hint[0] = '\0';
    }
    if (pg_error)
        ReThrowError(pg_error);
    Assert(failed);
    (void)failed;
    raise(caught.sqlstate, caught.message, caught.detail[0] ? caught.detail : nullptr,
          caught.hint[0] ? caught.hint : nullptr);
}

} // namespace sp
