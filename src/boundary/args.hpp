// Argument checks shared by the entry points: each refusal names the parameter, so a client
// knows what to fix (SPEC.md, "Errors").
#pragma once

#include "pg.hpp"

namespace sp {

// 22004 when argument `index` (named `name` in SQL) is NULL.
void require_arg(FunctionCallInfo fcinfo, int index, const char *name);

// 22023 unless the jsonb is an object; `what` names it in the message.
void require_json_object(Jsonb *value, const char *what);

// 22023 unless a session name of `bytes` bytes has 1 to 200 characters; `what` names it.
void check_session_name(const char *value, int bytes, const char *what);

// 54000 when a client-supplied value of `bytes` bytes is over session_persist.max_snapshot_bytes
// (every value a client stores has that limit, not only states); `what` names it.
void check_value_size(const char *what, int64 bytes, const char *hint = nullptr);
// The same for a varlena Datum (its uncompressed size, even when compressed or toasted).
void check_datum_size(const char *what, Datum value);

// "object", "array", "string", "number", "boolean" or "null": the JSON type of a jsonb, or
// of a value read from one.
const char *json_type_name(Jsonb *value);
const char *json_value_type_name(const JsonbValue *value);

} // namespace sp
