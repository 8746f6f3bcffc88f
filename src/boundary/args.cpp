#include "args.hpp"

#include "core/error.hpp"
#include "guard.hpp"
#include "settings.hpp"

extern "C" {
#include "access/detoast.h"
}

namespace sp {

void require_arg(FunctionCallInfo fcinfo, int index, const char *name) {
    if (PG_ARGISNULL(index))
        raise(sqlstate::null_value_not_allowed, psprintf("%s must not be null", name));
}

void check_value_size(const char *what, int64 bytes, const char *hint) {
    if (bytes > settings::max_snapshot_bytes)
        raise(sqlstate::program_limit_exceeded,
              psprintf("%s is too large: %lld bytes", what, static_cast<long long>(bytes)),
              psprintf("session_persist.max_snapshot_bytes is %d bytes.",
                       settings::max_snapshot_bytes),
              hint ? hint
                   : "Keep large artifacts out of the session (store them elsewhere and reference "
                     "them), or ask an administrator to raise the limit.");
}

void check_datum_size(const char *what, Datum value) {
    check_value_size(what, static_cast<int64>(toast_raw_datum_size(value)));
}

void check_session_name(const char *value, int bytes, const char *what) {
    constexpr int max_name_chars = 200; // as free_agent_sessions' CHECK constraint
    int chars = pg_mbstrlen_with_len(value, bytes);
    if (chars < 1 || chars > max_name_chars)
        raise(sqlstate::invalid_parameter_value,
              psprintf("%s must be 1 to %d characters, not %d", what, max_name_chars, chars));
}

const char *json_value_type_name(const JsonbValue *value) {
    switch (value->type) {
    case jbvBinary:
        return JsonContainerIsObject(value->val.binary.data) ? "object" : "array";
    case jbvObject:
        return "object";
    case jbvArray:
        return "array";
    case jbvString:
        return "string";
    case jbvNumeric:
        return "number";
    case jbvBool:
        return "boolean";
    default:
        return "null";
    }
}

const char *json_type_name(Jsonb *value) {
    if (!JB_ROOT_IS_SCALAR(value))
        return JB_ROOT_IS_OBJECT(value) ? "object" : "array";
    JsonbValue scalar;
    JsonbExtractScalar(&value->root, &scalar);
    return json_value_type_name(&scalar);
}

void require_json_object(Jsonb *value, const char *what) {
    if (!JB_ROOT_IS_OBJECT(value))
        raise(sqlstate::invalid_parameter_value,
              psprintf("%s must be a JSON object, not %s", what, json_type_name(value)));
}

} // namespace sp
