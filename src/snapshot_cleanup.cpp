// cleanup_old_snapshots: prunes a session's chain (SPEC.md, "cleanup_old_snapshots").
// Kept snapshots whose base is about to be deleted are first rewritten as keyframes, in the
// same transaction, so every kept snapshot still restores exactly.
#include "pg.hpp"

#include "catalog.hpp"
#include "args.hpp"
#include "core/error.hpp"
#include "guard.hpp"
#include "session_access.hpp"
#include "snapshot_restore.hpp"
#include "snapshot_storage.hpp"
#include "spi_util.hpp"

namespace {

using namespace sp;

struct CleanupRequest {
    int32 keep_count;
    Datum older_than; // timestamptz
    bool has_older_than;
};

// Rewrites kept deltas whose base goes away as keyframes; returns the change in stored bytes.
int64 repair_chain(Datum session_id, int32 cutoff, const CleanupRequest &req) {
    Datum args[] = {session_id, Int32GetDatum(cutoff), req.older_than};
    char nulls[] = {' ', ' ', null_flag(!req.has_older_than)};
    run(Sql::CleanupRepairTargets, args, nulls, false);
    uint64 count = SPI_processed;
    if (count == 0)
        return 0;
    int32 *targets = static_cast<int32 *>(palloc(sizeof(int32) * count));
    for (uint64 i = 0; i < count; ++i)
        targets[i] = column_int32(i, 1);

    int64 added = 0;
    for (uint64 i = 0; i < count; ++i) {
        MemoryContext scratch = AllocSetContextCreate(
            CurrentMemoryContext, "session_persist repair", ALLOCSET_DEFAULT_SIZES);
        RestoredSnapshot snapshot;
        if (!restore_snapshot(session_id, targets[i], scratch, false, &snapshot))
            raise(sqlstate::data_corrupted,
                  psprintf("snapshot %d of session %s cannot be restored for repair", targets[i],
                           uuid_text(session_id)));
        Datum rewrite[] = {session_id, Int32GetDatum(targets[i]), JsonbPGetDatum(snapshot.state),
                           Int64GetDatum(VARSIZE(snapshot.state))};
        run(Sql::RewriteAsKeyframe, rewrite, nullptr, false);
        added += column_int64(0, 1);
        MemoryContextDelete(scratch);
    }
    return added;
}

// Prunes one session the caller has locked; returns the number of snapshots deleted.
int32 cleanup_session(Datum session_id, int32 latest, const CleanupRequest &req) {
    int32 cutoff = latest - req.keep_count;
    if (cutoff < 1)
        return 0;
    int32 deleted = 0;
    as_table_owner([&] {
        int64 stored_change = repair_chain(session_id, cutoff, req);
        Datum args[] = {session_id, Int32GetDatum(cutoff), req.older_than};
        char nulls[] = {' ', ' ', null_flag(!req.has_older_than)};
        run(Sql::DeleteSnapshots, args, nulls, false);
        deleted = column_int32(0, 1);
        int64 deleted_size = column_int64(0, 2);
        stored_change -= column_int64(0, 3);
        if (deleted == 0 && stored_change == 0)
            return;
        Datum count_args[] = {session_id, Int32GetDatum(deleted), Int64GetDatum(deleted_size),
                              Int64GetDatum(stored_change)};
        run(Sql::CountCleanup, count_args, nullptr, false);
    });
    return deleted;
}

} // namespace

SP_FUNCTION(sp_cleanup_old_snapshots) {
    require_arg(fcinfo, 1, "p_keep_count");
    CleanupRequest req{};
    req.keep_count = PG_GETARG_INT32(1);
    if (req.keep_count < 1)
        raise(sqlstate::invalid_parameter_value,
              psprintf("p_keep_count must be at least 1, not %d", req.keep_count),
              "The latest snapshot is never deleted.");
    req.has_older_than = !PG_ARGISNULL(2);
    req.older_than = req.has_older_than ? PG_GETARG_DATUM(2) : (Datum)0;

    MemoryContext upper = CurrentMemoryContext;
    SPI_connect();
    int64 deleted = 0;
    if (!PG_ARGISNULL(0)) {
        Datum session_id = PG_GETARG_DATUM(0);
        WritableSession session = lock_session_for_write(session_id, upper);
        deleted = cleanup_session(session_id, session.latest_snapshot_number, req);
    } else {
        // Every session the caller may write that has more than keep_count snapshots.
        Datum args[] = {Int32GetDatum(req.keep_count), BoolGetDatum(current_user_bypasses_rls())};
        run(Sql::WritableSessions, args, nullptr, false);
        uint64 count = SPI_processed;
        Datum *ids = static_cast<Datum *>(palloc(sizeof(Datum) * count));
        for (uint64 i = 0; i < count; ++i) {
            bool isnull;
            ids[i] = column_copy(i, 1, &isnull, upper);
        }
        for (uint64 i = 0; i < count; ++i) {
            WritableSession session;
            // A session deleted meanwhile, not the caller's after all, or locked by another
            // transaction is skipped: waiting here while holding the locks of the sessions
            // already pruned could deadlock with a client saving two sessions.
            if (try_lock_session_for_write(ids[i], upper, &session, true))
                deleted += cleanup_session(ids[i], session.latest_snapshot_number, req);
        }
    }
    SPI_finish();
    PG_RETURN_INT32(static_cast<int32>(deleted));
}
