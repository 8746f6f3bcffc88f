// cleanup_old_snapshots: prunes a session's chain (SPEC.md, "cleanup_old_snapshots").
// Kept snapshots whose base is about to be deleted are first rewritten as keyframes, in the
// same transaction, so every kept snapshot still restores exactly.
#include "pg.hpp"

#include "catalog.hpp"
#include "citus_forward.hpp"
#include "args.hpp"
#include "core/error.hpp"
#include "guard.hpp"
#include "session_access.hpp"
#include "settings.hpp"
#include "snapshot_cleanup.hpp"
#include "snapshot_restore.hpp"
#include "storage_plan.hpp"
#include "spi_util.hpp"

namespace {

using namespace sp;

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
        if (!restore_snapshot(session_id, targets[i], scratch, false, &snapshot, true))
            raise(sqlstate::data_corrupted,
                  psprintf("snapshot %d of session %s cannot be restored for repair", targets[i],
                           uuid_text(session_id)));
        // the stored form, and with messages by reference the whole list of them
        int64 stored = VARSIZE(snapshot.stored_state) +
                       (snapshot.whole_refs ? VARSIZE(snapshot.whole_refs) - VARHDRSZ : 0);
        Datum rewrite[] = {session_id, Int32GetDatum(targets[i]),
                           JsonbPGetDatum(snapshot.stored_state), Int64GetDatum(stored),
                           PointerGetDatum(snapshot.whole_refs)};
        char nulls[] = {' ', ' ', ' ', ' ', null_flag(!snapshot.whole_refs)};
        run(Sql::RewriteAsKeyframe, rewrite, nulls, false);
        added += column_int64(0, 1);
        MemoryContextDelete(scratch);
    }
    return added;
}


// p_keep_count (at least 1) and p_older_than of a cleanup call; `keep_index` is the keep
// count's argument. A NULL keep count is allowed where `optional_keep`.
CleanupRequest cleanup_request(FunctionCallInfo fcinfo, int keep_index, bool optional_keep) {
    CleanupRequest req{};
    if (!optional_keep)
        require_arg(fcinfo, keep_index, "p_keep_count");
    req.keep_count = PG_ARGISNULL(keep_index) ? 0 : PG_GETARG_INT32(keep_index);
    if (!PG_ARGISNULL(keep_index) && req.keep_count < 1)
        raise(sqlstate::invalid_parameter_value,
              psprintf("p_keep_count must be at least 1, not %d", req.keep_count),
              "The latest snapshot is never deleted.");
    req.has_older_than = !PG_ARGISNULL(keep_index + 1);
    req.older_than = req.has_older_than ? PG_GETARG_DATUM(keep_index + 1) : (Datum)0;
    return req;
}

// Sessions are pruned this many at a time: their ids are all the all-sessions cleanup holds.
constexpr int32 sessions_per_batch = 1000;

// The next batch of sessions the caller may prune, after `after` (NULL: from the start).
uint64 next_batch(int32 keep_count, bool bypass, Datum after, bool from_start, Datum keep_for,
                  bool has_keep_for, bool by_policy) {
    Datum args[] = {Int32GetDatum(keep_count),
                    BoolGetDatum(bypass),
                    after,
                    Int32GetDatum(sessions_per_batch),
                    Int32GetDatum(settings::keep_snapshots),
                    keep_for,
                    BoolGetDatum(by_policy)};
    char nulls[] = {' ', ' ', null_flag(from_start), ' ', ' ', null_flag(!has_keep_for), ' '};
    run(Sql::WritableSessions, args, nulls, true);
    return SPI_processed;
}

} // namespace

namespace sp {

Pruned prune_chain(Datum session_id, int32 latest, const CleanupRequest &req) {
    Pruned pruned;
    int32 cutoff = latest - req.keep_count;
    if (cutoff < 1)
        return pruned;
    as_table_owner([&] {
        pruned.stored_change = repair_chain(session_id, cutoff, req);
        Datum args[] = {session_id, Int32GetDatum(cutoff), req.older_than};
        char nulls[] = {' ', ' ', null_flag(!req.has_older_than)};
        run(Sql::DeleteSnapshots, args, nulls, false);
        pruned.deleted = column_int32(0, 1);
        pruned.deleted_size = column_int64(0, 2);
        pruned.stored_change -= column_int64(0, 3);
    });
    return pruned;
}

int32 cleanup_session(Datum session_id, int32 latest, const CleanupRequest &req) {
    Pruned pruned = prune_chain(session_id, latest, req);
    if (pruned.deleted == 0 && pruned.stored_change == 0)
        return 0;
    as_table_owner([&] {
        Datum count_args[] = {session_id, Int32GetDatum(pruned.deleted),
                              Int64GetDatum(pruned.deleted_size),
                              Int64GetDatum(pruned.stored_change)};
        run(Sql::CountCleanup, count_args, nullptr, false);
    });
    return pruned.deleted;
}

int32 retention_count(int32 session_keep) {
    return session_keep >= 0 ? session_keep : settings::keep_snapshots;
}

} // namespace sp

SP_FUNCTION(sp_cleanup_old_snapshots) {
    if (PG_ARGISNULL(0))
        raise(sqlstate::null_value_not_allowed, "p_session_id must not be null", nullptr,
              "To prune every session you may write, call cleanup_all_snapshots().");
    CleanupRequest req = cleanup_request(fcinfo, 1, false);
    Datum session_id = PG_GETARG_DATUM(0);
    int32 deleted = 0;
    if (forward_cleanup(fcinfo, &deleted)) // Citus: the session is on another node
        PG_RETURN_INT32(deleted);
    MemoryContext upper = CurrentMemoryContext;
    SPI_connect();
    WritableSession session = lock_session_for_write(session_id, upper);
    deleted = cleanup_session(session_id, session.latest_snapshot_number, req);
    SPI_finish();
    PG_RETURN_INT32(deleted);
}

// Every session the caller may write, in batches of ids, each session pruned in its own SPI
// connection and memory context: memory does not grow with the number of sessions. A session
// deleted meanwhile, not the caller's after all, or locked by another transaction is passed
// over: waiting here while holding the locks of the sessions already pruned could deadlock
// with a client saving two sessions; it is pruned next time.
SP_FUNCTION(sp_cleanup_all_snapshots) {
    CleanupRequest req = cleanup_request(fcinfo, 0, true);
    int64 deleted = 0;
    // With no arguments, each session's retention policy: its keep_snapshots and keep_for,
    // else the settings. With either argument, those apply to every session (a keep count
    // of 1 when only p_older_than is given).
    bool by_policy = req.keep_count == 0 && !req.has_older_than;
    if (!by_policy && req.keep_count == 0)
        req.keep_count = 1;
    int32 listed_over = by_policy ? 1 : req.keep_count;
    bool has_keep_for = false;
    Datum keep_for = settings::keep_for_interval(&has_keep_for);
    Datum now = TimestampTzGetDatum(GetCurrentTransactionStartTimestamp());
    bool bypass = current_user_bypasses_rls();
    bool distributed = tables_distributed();
    MemoryContext call = CurrentMemoryContext;
    MemoryContext batch = AllocSetContextCreate(call, "cleanup_all_snapshots batch",
                                                ALLOCSET_DEFAULT_SIZES);
    MemoryContext per_session = AllocSetContextCreate(call, "cleanup_all_snapshots session",
                                                      ALLOCSET_DEFAULT_SIZES);
    Size memory_at_start = MemoryContextMemAllocated(TopMemoryContext, true);
    Size most_memory = memory_at_start;
    int64 sessions = 0;
    // The last id of the previous batch, kept outside the batch's context (reset per batch).
    pg_uuid_t last_id;
    Datum after = (Datum)0;
    bool from_start = true;
    SPI_connect();
    for (;;) {
        MemoryContextReset(batch);
        uint64 count =
            next_batch(listed_over, bypass, after, from_start, keep_for, has_keep_for, by_policy);
        if (count == 0)
            break;
        Datum *ids = static_cast<Datum *>(MemoryContextAlloc(batch, sizeof(Datum) * count));
        int32 *keeps = static_cast<int32 *>(MemoryContextAlloc(batch, sizeof(int32) * count));
        Datum *ages = static_cast<Datum *>(MemoryContextAlloc(batch, sizeof(Datum) * count));
        for (uint64 i = 0; i < count; ++i) {
            bool isnull;
            ids[i] = column_copy(i, 1, &isnull, batch);
            keeps[i] = column_int32(i, 2);
            ages[i] = column_copy(i, 3, &isnull, batch); // 0 when none
        }
        SPI_freetuptable(SPI_tuptable);
        for (uint64 i = 0; i < count; ++i) {
            check_for_interrupts();
            MemoryContext old = MemoryContextSwitchTo(per_session);
            SPI_connect();
            auto prune = [&] {
                WritableSession session;
                if (!try_lock_session_for_write(ids[i], per_session, &session, true))
                    return;
                if (!by_policy) {
                    deleted += cleanup_session(ids[i], session.latest_snapshot_number, req);
                    return;
                }
                if (keeps[i] > 0)
                    deleted += cleanup_session(ids[i], session.latest_snapshot_number,
                                               {keeps[i], (Datum)0, false});
                if (ages[i])
                    deleted += cleanup_session(
                        ids[i], session.latest_snapshot_number,
                        {1, DirectFunctionCall2(timestamptz_mi_interval, now, ages[i]), true});
            };
            // The batch lists only sessions the caller may write (WritableSessions). On Citus
            // the lock and the writes go through one role's connection, the owner's: locked
            // through the caller's and written through the owner's, the two would wait for
            // each other.
            if (distributed)
                as_table_owner(prune);
            else
                prune();
            SPI_finish();
            MemoryContextSwitchTo(old);
            MemoryContextReset(per_session);
            most_memory = Max(most_memory, MemoryContextMemAllocated(TopMemoryContext, true));
            ++sessions;
        }
        memcpy(&last_id, DatumGetUUIDP(ids[count - 1]), sizeof last_id);
        after = UUIDPGetDatum(&last_id);
        from_start = false;
        if (count < static_cast<uint64>(sessions_per_batch))
            break;
    }
    SPI_finish();
    ereport(DEBUG1, (errmsg_internal("cleanup_all_snapshots: %lld sessions looked at, %lld "
                                     "snapshots deleted, memory grew by at most %zu bytes",
                                     static_cast<long long>(sessions),
                                     static_cast<long long>(deleted),
                                     most_memory - memory_at_start)));
    MemoryContextDelete(per_session);
    MemoryContextDelete(batch);
    PG_RETURN_INT64(deleted);
}
