// The size_stats(bigint) aggregate: fmgr glue around the pure SizeSketch (core/size_sketch).
//
// The transition state is a SizeSketch in the aggregate's memory context, passed as an
// `internal` pointer; its buckets are palloc'd in that context too, so hash aggregation
// counts them against work_mem and a reset frees them. SizeSketch has no destructor, so a
// PostgreSQL error raised by palloc while the core runs skips nothing that needs running.
#include "pg.hpp"

#include "core/size_sketch.hpp"
#include "guard.hpp"

extern "C" {
#include "utils/numeric.h"
}

namespace {

using sp::SizeSketch;

void *aggregate_resize(void *context, void *old, size_t, size_t new_bytes) {
    if (old)
        return repalloc(old, new_bytes);
    return MemoryContextAlloc(static_cast<MemoryContext>(context), new_bytes);
}

MemoryContext aggregate_context(FunctionCallInfo fcinfo, const char *function) {
    MemoryContext context;
    if (!AggCheckCallContext(fcinfo, &context))
        sp::raise(sp::sqlstate::internal_error,
                  psprintf("%s called in non-aggregate context", function));
    return context;
}

SizeSketch *new_state(MemoryContext context) {
    auto *state = static_cast<SizeSketch *>(MemoryContextAlloc(context, sizeof(SizeSketch)));
    *state = SizeSketch::empty(sp::SketchAllocator{aggregate_resize, context});
    return state;
}

SizeSketch *state_arg(FunctionCallInfo fcinfo) {
    return PG_ARGISNULL(0) ? nullptr : reinterpret_cast<SizeSketch *>(PG_GETARG_POINTER(0));
}

Datum total_numeric(const SizeSketch &state) {
    if (state.total_fits_int64())
        return NumericGetDatum(int64_to_numeric(int64(state.total_low)));
    char digits[40];
    state.total_text(digits);
    return DirectFunctionCall3(numeric_in, CStringGetDatum(digits), ObjectIdGetDatum(InvalidOid),
                               Int32GetDatum(-1));
}

} // namespace

// Adds one size; NULLs are skipped, negative sizes refused (22023).
SP_FUNCTION(sp_size_stats_transition) {
    MemoryContext context = aggregate_context(fcinfo, "size_stats_transition");
    SizeSketch *state = state_arg(fcinfo);
    if (PG_ARGISNULL(1)) {
        if (!state)
            PG_RETURN_NULL();
        PG_RETURN_POINTER(state);
    }
    if (!state)
        state = new_state(context);
    state->add(PG_GETARG_INT64(1));
    PG_RETURN_POINTER(state);
}

// The moving-window inverse: takes a size back, or returns NULL so that PostgreSQL
// recomputes the frame when the size was the minimum or maximum.
SP_FUNCTION(sp_size_stats_inverse) {
    aggregate_context(fcinfo, "size_stats_inverse");
    SizeSketch *state = state_arg(fcinfo);
    if (!state)
        PG_RETURN_NULL();
    if (PG_ARGISNULL(1))
        PG_RETURN_POINTER(state);
    if (!state->remove(PG_GETARG_INT64(1)))
        PG_RETURN_NULL();
    PG_RETURN_POINTER(state);
}

// Merges a partial state (from a parallel worker or a partition) into another.
SP_FUNCTION(sp_size_stats_combine) {
    MemoryContext context = aggregate_context(fcinfo, "size_stats_combine");
    SizeSketch *into = state_arg(fcinfo);
    SizeSketch *from =
        PG_ARGISNULL(1) ? nullptr : reinterpret_cast<SizeSketch *>(PG_GETARG_POINTER(1));
    if (!from) {
        if (!into)
            PG_RETURN_NULL();
        PG_RETURN_POINTER(into);
    }
    // The first state must be a copy in this aggregate's context, never the other pointer.
    if (!into)
        into = new_state(context);
    into->merge(*from);
    PG_RETURN_POINTER(into);
}

SP_FUNCTION(sp_size_stats_serialize) {
    aggregate_context(fcinfo, "size_stats_serialize");
    auto *state = reinterpret_cast<SizeSketch *>(PG_GETARG_POINTER(0));
    auto *result = static_cast<bytea *>(palloc(VARHDRSZ + state->serialized_size_bound()));
    size_t size = state->serialize(reinterpret_cast<unsigned char *>(VARDATA(result)));
    SET_VARSIZE(result, VARHDRSZ + size);
    PG_RETURN_BYTEA_P(result);
}

SP_FUNCTION(sp_size_stats_deserialize) {
    MemoryContext context = aggregate_context(fcinfo, "size_stats_deserialize");
    bytea *bytes = PG_GETARG_BYTEA_PP(0);
    auto *state = static_cast<SizeSketch *>(MemoryContextAlloc(context, sizeof(SizeSketch)));
    *state = SizeSketch::deserialize(reinterpret_cast<const unsigned char *>(VARDATA_ANY(bytes)),
                                     VARSIZE_ANY_EXHDR(bytes),
                                     sp::SketchAllocator{aggregate_resize, context});
    PG_RETURN_POINTER(state);
}

// (count, total, min, max, mean, p50, p90, p99); over no sizes: count 0 and NULL stats,
// as count() and sum() answer. Reads the state only (a window calls it once per row).
SP_FUNCTION(sp_size_stats_final) {
    SizeSketch *state = state_arg(fcinfo);
    TupleDesc descriptor;
    if (get_call_result_type(fcinfo, nullptr, &descriptor) != TYPEFUNC_COMPOSITE)
        sp::raise(sp::sqlstate::internal_error, "size_stats_final must return a composite type");
    descriptor = BlessTupleDesc(descriptor);
    constexpr int columns = 8;
    if (descriptor->natts != columns)
        sp::raise(sp::sqlstate::internal_error, "size_stats_result has the wrong columns");
    Datum values[columns];
    bool nulls[columns];
    values[0] = Int64GetDatum(state ? state->count : 0);
    nulls[0] = false;
    if (!state || state->count == 0) {
        for (int i = 1; i < columns; ++i)
            nulls[i] = true;
    } else {
        values[1] = total_numeric(*state);
        values[2] = Int64GetDatum(state->min);
        values[3] = Int64GetDatum(state->max);
        values[4] = Float8GetDatum(state->mean());
        values[5] = Float8GetDatum(state->quantile(0.5));
        values[6] = Float8GetDatum(state->quantile(0.9));
        values[7] = Float8GetDatum(state->quantile(0.99));
        for (int i = 1; i < columns; ++i)
            nulls[i] = false;
    }
    PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(descriptor, values, nulls)));
}
