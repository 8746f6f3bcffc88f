// Saving a snapshot (create_session_snapshot), callable from C++: import_session and
// fork_session save a new session's first snapshot through it rather than through SQL, so no
// statement is planned, and no function is looked up by name, in the middle of theirs.
#pragma once

#include "pg.hpp"

namespace sp {

struct SaveRequest {
    Datum session_id;
    Jsonb *state;        // a JSON object
    bool has_expected;   // p_expected_number given
    int32 expected;
    Jsonb *metadata;     // may be NULL
    bool sync_messages;  // sync the state's messages array to the history
};

// What create_session_snapshot returns: its OUT parameters.
struct SaveResult {
    Datum id;
    Datum session_id;
    int32 snapshot_number;
    bool created;
    const char *kind;
    int64 snapshot_size;
    int64 stored_bytes;
    Datum created_at;
};

// Saves as the caller (SPEC.md, "create_session_snapshot"): the session row is locked for the
// rest of the transaction. Connects to SPI itself (nesting is fine); the result lives in the
// caller's memory context.
SaveResult save_snapshot(const SaveRequest &request);

} // namespace sp
