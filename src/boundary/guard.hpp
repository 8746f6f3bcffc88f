// The two crossings between C++ and PostgreSQL (CONVENTIONS.md, "the two hazards").
//
// 1. SP_FUNCTION(name) defines an fmgr entry point whose body runs inside one guard:
//    a C++ exception (sp::Error, std::bad_alloc, anything) is caught, the C++ frames end,
//    and only then is it raised as a PostgreSQL ERROR with its SQLSTATE. An exception
//    never reaches PostgreSQL's C frames.
// 2. sp::pg_call(fn) runs a PostgreSQL call from C++ code that has objects with
//    destructors alive: a PostgreSQL error inside it is caught (PG_TRY), copied, and
//    thrown as sp::PgError so the C++ stack unwinds normally; the entry guard re-raises it
//    unchanged (same SQLSTATE, message, detail).
// sp::cpp_call(fn) is guard (1) for a call into C++ from inside glue code (for example
// within PG_TRY), so that C++ work can be done anywhere without an exception escaping.
//
// Glue code that holds no C++ objects with destructors may call PostgreSQL directly.
#pragma once

#include "pg.hpp"

#include "core/error.hpp"

#include <type_traits>
#include <utility>

namespace sp {

// A PostgreSQL error captured by pg_call, travelling through C++ frames.
struct PgError {
    ErrorData *data;
};

// Raise an ERROR with SPEC.md's SQLSTATE for `sqlstate` (five characters), mapped to
// PostgREST's PTnnn codes when session_persist.http_status_codes is on.
[[noreturn]] void raise(const char *sqlstate, const char *message, const char *detail = nullptr,
                        const char *hint = nullptr);

// Records the exception being handled (call only inside a catch block); raise_captured()
// then raises it as a PostgreSQL ERROR once the handler has ended.
void capture_current_exception() noexcept;
[[noreturn]] void raise_captured();

// Runs C++ code that may throw (the pure core, or code using pg_call) from glue code,
// including from inside PG_TRY blocks: no exception leaves it, errors come out as ereport.
template <typename Fn> auto cpp_call(Fn &&fn) -> decltype(fn()) {
    try {
        return fn();
    } catch (...) {
        capture_current_exception();
    }
    raise_captured();
}

// After a PG_TRY block: PostgreSQL's error handler must be the one from before it. A C++
// exception that crossed the block would have left it pointing into a frame that is gone,
// and the next ERROR would jump there; stop the backend instead.
inline void check_error_handler(sigjmp_buf *before) {
    if (PG_exception_stack != before)
        elog(FATAL, "session_persist: an exception crossed a PostgreSQL error handler");
}

// Runs fn, which returns nothing; a PostgreSQL error inside it becomes a thrown sp::PgError.
// fn runs inside cpp_call, so a C++ exception from it is turned into that PostgreSQL error
// first and never crosses PG_TRY.
template <typename Fn> void pg_call_void(Fn &&fn) {
    MemoryContext caller_context = CurrentMemoryContext;
    sigjmp_buf *handler = PG_exception_stack;
    ErrorData *volatile captured = nullptr;
    PG_TRY();
    { cpp_call(fn); }
    PG_CATCH();
    {
        MemoryContextSwitchTo(caller_context);
        captured = CopyErrorData();
        FlushErrorState();
    }
    PG_END_TRY();
    check_error_handler(handler);
    if (captured)
        throw PgError{captured};
}

// Runs fn; a PostgreSQL error inside it becomes a thrown sp::PgError (see pg_call_void).
template <typename Fn> auto pg_call(Fn &&fn) -> decltype(fn()) {
    if constexpr (std::is_void_v<decltype(fn())>) {
        pg_call_void(fn);
    } else {
        // The result lives in this frame, not in the one that calls setjmp, so it is not
        // clobbered by the longjmp; it is read only when no error happened.
        decltype(fn()) result{};
        pg_call_void([&] { result = fn(); });
        return result;
    }
}

// Lets PostgreSQL cancel a long C++ loop (statement_timeout, pg_cancel_backend).
inline void check_for_interrupts() {
    if (INTERRUPTS_PENDING_CONDITION())
        pg_call([] { ProcessInterrupts(); });
}

using Body = Datum (*)(FunctionCallInfo);

// Runs an entry point's body; see (1) above.
inline Datum guarded(FunctionCallInfo fcinfo, Body body) {
    return cpp_call([&] { return body(fcinfo); });
}

} // namespace sp

#define SP_FUNCTION(name)                                                                          \
    static Datum name##_body(FunctionCallInfo fcinfo);                                             \
    extern "C" {                                                                                   \
    PG_FUNCTION_INFO_V1(name);                                                                     \
    Datum name(PG_FUNCTION_ARGS) {                                                                 \
        return sp::guarded(fcinfo, name##_body);                                                   \
    }                                                                                              \
    }                                                                                              \
    static Datum name##_body(FunctionCallInfo fcinfo)
