// Pruning a session's chain, shared by cleanup_old_snapshots, cleanup_all_snapshots and the
// automatic retention of create_session_snapshot (SPEC.md, "cleanup_old_snapshots",
// "Retention").
#pragma once

#include "pg.hpp"

namespace sp {

struct CleanupRequest {
    int32 keep_count; // at least 1
    Datum older_than; // timestamptz; only snapshots older than it are deleted
    bool has_older_than;
};

// What pruning a chain changed, for the session's counters.
struct Pruned {
    int32 deleted = 0;
    int64 deleted_size = 0;   // their snapshot_size
    int64 stored_change = 0;  // stored bytes: deltas rewritten as keyframes, less those deleted
};

// Prunes the chain of one session the caller has locked for writing (lock_session_for_write),
// whose latest snapshot is `latest`, to its newest keep_count snapshots; kept deltas whose
// base goes are rewritten as keyframes first. Leaves the session's counters to the caller.
// Call inside SPI.
Pruned prune_chain(Datum session_id, int32 latest, const CleanupRequest &req);

// prune_chain, then the session's counters; returns the number deleted.
int32 cleanup_session(Datum session_id, int32 latest, const CleanupRequest &req);

// The retention count for a session whose own keep_snapshots is `session_keep` (-1: none):
// it, else session_persist.keep_snapshots; 0 keeps every snapshot.
int32 retention_count(int32 session_keep);

// How far over its retention count a session may grow before a save prunes it back: a
// quarter of the count, at least 5 (SPEC.md), so pruning is amortized over many saves.
inline int32 retention_slack(int32 keep) {
    return Max((keep + 3) / 4, 5);
}

} // namespace sp
