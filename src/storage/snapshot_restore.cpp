#include "snapshot_restore.hpp"

#include "delta_apply.hpp"
#include "core/error.hpp"
#include "guard.hpp"
#include "jsonb_glue.hpp"
#include "session_access.hpp"
#include "spi_util.hpp"
#include "core/state_hash.hpp"

namespace sp {

namespace {

// Columns of Sql::ChainRange.
enum ChainRangeColumn {
    RangeNumber = 1,
    RangeKind,
    RangeState,
    RangeDelta,
    RangeHash,
    RangeId,
    RangeSize,
    RangeCreatedAt,
    RangeMetadata
};

[[noreturn]] void raise_corrupt(Datum session_id, int32 number, const char *detail) {
    raise(sqlstate::data_corrupted,
          psprintf("snapshot %d of session %s does not verify", number, uuid_text(session_id)),
          detail, "Run verify_session() on the session; restore it from a backup if needed.");
}

bool is_keyframe(uint64 row) {
    bool isnull;
    Datum kind = column(row, RangeKind, &isnull);
    return !isnull && strcmp(TextDatumGetCString(kind), "full") == 0;
}

} // namespace

void verify_state_hash(Datum session_id, int32 number, Jsonb *state, Datum expected) {
    if (!state_hash_equals(expected, state_hash_of(state)))
        raise_corrupt(session_id, number, "The restored state does not match its stored hash.");
}

bool restore_snapshot(Datum session_id, int32 number, MemoryContext upper, bool read_only,
                      RestoredSnapshot *out) {
    Datum args[] = {session_id, Int32GetDatum(number)};
    run(Sql::ChainRange, args, nullptr, read_only);
    uint64 rows = SPI_processed;
    if (rows == 0)
        return false;
    uint64 last = rows - 1;
    int32 found = column_int32(last, RangeNumber);
    if (number != PG_INT32_MAX && found != number)
        return false;
    if (!is_keyframe(0))
        raise_corrupt(session_id, found, "The chain does not start at a keyframe.");

    bool isnull;
    Jsonb *state;
    if (rows == 1) {
        state = DatumGetJsonbP(column_copy(0, RangeState, &isnull, upper));
    } else {
        // Keyframe + deltas, applied in one pass (delta_apply.hpp).
        Jsonb *keyframe = DatumGetJsonbP(column(0, RangeState, &isnull));
        Jsonb **deltas = static_cast<Jsonb **>(palloc(sizeof(Jsonb *) * (rows - 1)));
        for (uint64 i = 1; i < rows; ++i) {
            Datum delta = column(i, RangeDelta, &isnull);
            if (isnull || is_keyframe(i))
                raise_corrupt(session_id, column_int32(i, RangeNumber),
                              "A delta snapshot has no delta.");
            deltas[i - 1] = DatumGetJsonbP(delta);
        }
        MemoryContext old = MemoryContextSwitchTo(upper);
        state = apply_delta_chain(keyframe, deltas, static_cast<int>(rows - 1));
        MemoryContextSwitchTo(old);
    }
    if (!state)
        raise_corrupt(session_id, found, "The keyframe has no state.");
    verify_state_hash(session_id, found, state, column(last, RangeHash, &isnull));

    out->state = state;
    out->snapshot_number = found;
    out->id = column_copy(last, RangeId, &isnull, upper);
    out->snapshot_size = column_int64(last, RangeSize);
    out->created_at = column(last, RangeCreatedAt, &isnull);
    out->metadata = column_copy(last, RangeMetadata, &isnull, upper);
    return true;
}

} // namespace sp
