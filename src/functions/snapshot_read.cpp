// get_latest_snapshot, get_snapshot and the reconstruction behind the session_snapshots view.
#include "pg.hpp"

#include "args.hpp"
#include "citus_hooks.hpp"
#include "core/error.hpp"
#include "guard.hpp"
#include "session_access.hpp"
#include "snapshot_restore.hpp"
#include "spi_util.hpp"

namespace {

using namespace sp;

// Restores snapshot `number`, or the latest when `latest`; false when the session has none.
// P0002 when the session is not visible, or a requested number does not exist.
bool restore_or_raise(Datum session_id, int32 number, bool latest, MemoryContext upper,
                      RestoredSnapshot *out) {
    SPI_connect();
    bool found = restore_snapshot(session_id, latest ? PG_INT32_MAX : number, upper, true, out);
    // restore_snapshot() reads PG_INT32_MAX as "the latest"; a caller who asked for snapshot
    // 2147483647 by number must get that one or none.
    if (found && !latest && out->snapshot_number != number)
        found = false;
    if (!found) {
        int32 latest_number = require_visible_session(session_id);
        if (!latest) {
            // The row is there but no keyframe precedes it: the chain is broken, not short.
            Datum args[] = {session_id, Int32GetDatum(number)};
            run(Sql::ChainLink, args, nullptr, true);
            if (SPI_processed > 0)
                raise(sqlstate::data_corrupted,
                      psprintf("snapshot %d of session %s does not restore", number,
                               uuid_text(session_id)),
                      "No keyframe precedes it in the chain.",
                      "Run verify_session() on the session.");
            raise(sqlstate::not_found,
                  psprintf("snapshot %d of session %s not found", number, uuid_text(session_id)),
                  latest_number > 0
                      ? psprintf("The latest snapshot is %d; older ones may have been "
                                 "pruned by cleanup_old_snapshots().",
                                 latest_number)
                      : "The session has no snapshots yet.");
        }
        if (latest_number > 0)
            raise(sqlstate::data_corrupted,
                  psprintf("latest snapshot %d of session %s is missing", latest_number,
                           uuid_text(session_id)),
                  nullptr, "Run verify_session() on the session.");
    }
    SPI_finish();
    return found;
}

} // namespace

// The latest state, or NULL when the session has no snapshot (seed-compatible).
SP_FUNCTION(sp_get_latest_snapshot) {
    require_arg(fcinfo, 0, "p_session_id");
    RestoredSnapshot snapshot;
    if (!restore_or_raise(PG_GETARG_DATUM(0), 0, true, CurrentMemoryContext, &snapshot))
        PG_RETURN_NULL();
    PG_RETURN_JSONB_P(snapshot.state);
}

// One snapshot as a row; no row when the session has none and no number was asked for.
SP_FUNCTION(sp_get_snapshot) {
    require_arg(fcinfo, 0, "p_session_id");
    int32 number = 0;
    bool latest = PG_ARGISNULL(1);
    if (!latest) {
        number = PG_GETARG_INT32(1);
        if (number < 1)
            raise(sqlstate::invalid_parameter_value,
                  psprintf("p_snapshot_number must be 1 or more, not %d", number));
    }
    ReturnSetInfo *rsinfo = materialized_srf(fcinfo);
    RestoredSnapshot s;
    if (restore_or_raise(PG_GETARG_DATUM(0), number, latest, CurrentMemoryContext, &s)) {
        Datum values[] = {s.id,
                          Int32GetDatum(s.snapshot_number),
                          JsonbPGetDatum(s.state),
                          Int64GetDatum(s.snapshot_size),
                          s.created_at,
                          s.metadata};
        bool nulls[lengthof(values)] = {};
        tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
    }
    return (Datum)0;
}

// snapshot_data(session_id, snapshot_number, state, state_hash): the session_snapshots view's
// snapshot_data column. A keyframe's state comes with the row (only its hash is checked); a
// delta is reconstructed from the chain, as the current user.
SP_FUNCTION(sp_snapshot_data) {
    require_arg(fcinfo, 0, "p_session_id");
    require_arg(fcinfo, 1, "p_snapshot_number");
    Datum session_id = PG_GETARG_DATUM(0);
    int32 number = PG_GETARG_INT32(1);
    if (!PG_ARGISNULL(2) && !PG_ARGISNULL(3)) {
        Jsonb *state = PG_GETARG_JSONB_P(2);
        verify_state_hash(session_id, number, state, PG_GETARG_DATUM(3));
        PG_RETURN_JSONB_P(state);
    }
    // On a Citus worker this runs inside Citus' query on the chain's shard, and the chain is
    // read again through the distributed table (the session's shard is on this node).
    int nest_level = allow_nested_distributed_execution();
    RestoredSnapshot snapshot;
    bool found = restore_or_raise(session_id, number, false, CurrentMemoryContext, &snapshot);
    end_nested_distributed_execution(nest_level);
    if (!found)
        PG_RETURN_NULL();
    PG_RETURN_JSONB_P(snapshot.state);
}
