// Small helpers over SPI results and arguments, shared by the glue files.
#pragma once

#include "pg.hpp"

#include "catalog.hpp"
#include "pg_compat.hpp"

namespace sp {

// Executes a kept plan; raises if SPI reports an error code.
int run(Sql q, Datum *values, const char *nulls, bool read_only, long max_rows = 0);

// Column `col` (1-based) of result row `row` of the last SPI call.
Datum column(uint64 row, int col, bool *isnull);
int32 column_int32(uint64 row, int col);
int64 column_int64(uint64 row, int col);
// Copied (and detoasted) into `upper`, the context current before SPI_connect, so that it
// outlives SPI_finish. The cstring form is NULL when the column is NULL.
char *column_cstring(uint64 row, int col, MemoryContext upper);
Datum column_copy(uint64 row, int col, bool *isnull, MemoryContext upper);

// The text of a uuid, for messages.
char *uuid_text(Datum uuid);

// ' ' or 'n' as SPI wants its nulls array.
inline char null_flag(bool isnull) {
    return isnull ? 'n' : ' ';
}

} // namespace sp
