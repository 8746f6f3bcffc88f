#include "guard.hpp"

#include "settings.hpp"

#include <cstdio>
#include <cstring>
#include <new>

namespace sp {

namespace {

int make_sqlstate(const char *s) {
    return MAKE_SQLSTATE(s[0], s[1], s[2], s[3], s[4]);
}

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

void copy_text(char *to, size_t size, const char *from) {
    snprintf(to, size, "%s", from);
}

// The SQLSTATE actually reported for one of SPEC.md's codes under the current settings.
int reported_sqlstate(const char *sqlstate) {
    return make_sqlstate(settings::http_status_codes ? http_sqlstate(sqlstate) : sqlstate);
}

} // namespace

void raise(const char *sqlstate, const char *message, const char *detail, const char *hint) {
    ereport(ERROR, (errcode(reported_sqlstate(sqlstate)), errmsg_internal("%s", message),
                    detail ? errdetail_internal("%s", detail) : 0, hint ? errhint("%s", hint) : 0));
    pg_unreachable();
}

namespace {
// What a catch block learned, kept in plain storage: the error is raised only after the
// handler (and the exception object) is gone, because ereport longjmps.
ErrorData *captured_pg_error;
CaughtText captured;
} // namespace

void capture_current_exception() noexcept {
    captured_pg_error = nullptr;
    captured.detail[0] = captured.hint[0] = '\0';
    try {
        throw;
    } catch (const PgError &e) {
        captured_pg_error = e.data;
    } catch (const Error &e) {
        copy_text(captured.sqlstate, sizeof captured.sqlstate, e.sqlstate());
        copy_text(captured.message, sizeof captured.message, e.what());
        copy_text(captured.detail, sizeof captured.detail, e.detail().c_str());
        copy_text(captured.hint, sizeof captured.hint, e.hint().c_str());
    } catch (const std::bad_alloc &) {
        copy_text(captured.sqlstate, sizeof captured.sqlstate, "53200");
        copy_text(captured.message, sizeof captured.message, "out of memory in session_persist");
    } catch (const std::exception &e) {
        copy_text(captured.sqlstate, sizeof captured.sqlstate, sqlstate::internal_error);
        snprintf(captured.message, sizeof captured.message, "session_persist internal error: %s",
                 e.what());
    } catch (...) {
        copy_text(captured.sqlstate, sizeof captured.sqlstate, sqlstate::internal_error);
        copy_text(captured.message, sizeof captured.message,
                  "session_persist internal error: unknown C++ exception");
    }
}

void raise_captured() {
    if (captured_pg_error) {
        ErrorData *e = captured_pg_error;
        captured_pg_error = nullptr;
        ReThrowError(e);
    }
    raise(captured.sqlstate, captured.message, captured.detail[0] ? captured.detail : nullptr,
          captured.hint[0] ? captured.hint : nullptr);
}

} // namespace sp
