// Who may read or write a session (SPEC.md, "Identity and access"), decided as the caller so
// that row-level security is the single authority. Call between SPI_connect/SPI_finish.
#pragma once

#include "pg.hpp"

#include "catalog.hpp"

namespace sp {

struct RowWriter;

struct WritableSession {
    char *user_id;         // owner (copied to chain and message rows)
    char *organization_id; // may be NULL
    int32 latest_snapshot_number;
    int32 message_count;
    Datum latest_state_hash;  // bytea, 0 when the session has no snapshot
    Datum latest_fingerprint; // bytea, 0 when none: the base (core/fingerprint.hpp)
    Datum latest_fingerprint_patch; // bytea, 0 when none
    ItemPointerData row;      // where the locked row is (for row_writer.hpp's update)
    int32 snapshot_count;     // live snapshots
    int32 keep_snapshots;     // the session's own retention count, -1 when NULL (the default)
    Datum id;                 // the session's id
    Datum visibility;         // session_visibility: copied to chain and message rows (their
                              // read policy tests it)
    Placement placement;      // the relations that hold the session's rows on this node
};

// Locks the session's row until the end of the transaction (other sessions are not
// blocked). P0002 when the caller cannot see it, 42501 when it can see but not write it.
WritableSession lock_session_for_write(Datum session_id, MemoryContext upper);

// Like lock_session_for_write, but returns false instead of raising 42501 / P0002, and
// (with skip_locked) instead of waiting for a session another transaction has locked.
bool try_lock_session_for_write(Datum session_id, MemoryContext upper, WritableSession *out,
                                bool skip_locked = false);

// A new version of the session row locked by lock_session_for_write, written directly
// (row_writer.hpp): start_session_update opens the table and starts from the locked row; the
// caller sets the columns it changes; finish_session_update sets updated_at to `now`, writes
// the row and makes it visible to the rest of the statement.
void start_session_update(RowWriter *w, const WritableSession &session);
void finish_session_update(RowWriter *w, Datum now);

// The relation of the session's rows for the row writer (placement.chain, .messages), or
// 0A000 when they are on another Citus node than the one running this call.
Oid local_relation(const WritableSession &session, Oid relation);

// The session's visibility as text (for queries).
Datum visibility_text(const WritableSession &session);

// Sets the copy of the session's visibility in a chain or message row being written (when
// the installed schema has that column).
void set_visibility_copy(RowWriter *w, const WritableSession &session);

// The latest snapshot number of a session the caller can see; P0002 otherwise.
int32 require_visible_session(Datum session_id);

// Raises P0002 for a session that does not exist or is not visible.
[[noreturn]] void raise_session_not_found(Datum session_id);

} // namespace sp
