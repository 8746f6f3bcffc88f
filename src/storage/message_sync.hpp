// Getting messages into a session's history (session_messages): validating them, appending
// them after the session's last message, and finding which elements of a saved state's
// top-level "messages" array are new since the previous snapshot (SPEC.md,
// "p_sync_messages").
#pragma once

#include "pg.hpp"

#include "core/fingerprint.hpp"
#include "row_writer.hpp"
#include "session_access.hpp"

namespace sp {

// Where a state's top-level messages array stood (core/message_versions.hpp), as kept in
// every snapshot's fingerprint.
using MessagesMark = fingerprint::MessagesMark;

// The new versions in `state`'s top-level messages array (checked to be messages) since
// snapshot `previous_number` (0: none), as a jsonb array; NULL when there are none.
// `previous` is that snapshot's mark from its fingerprint (nullptr when unreadable); when it
// is missing or cannot tell, the previous snapshot is restored to find the full mark.
// `known_new_from` (>= 0) says the previous array is a prefix of the new one, as the storage
// plan found: the elements from there on are new, with no hashing. create_session_snapshot
// appends them with the snapshot's own rows (insert_messages).
// Whether the state has a top-level "messages" array.
bool has_messages_array(Jsonb *state);

// *change receives how the array relates to the previous snapshot's (for its message
// references): the new versions are the elements whose source is -1, in order.
struct MessagesChange {
    uint32 length;  // elements of the state's array
    uint32 shared;  // leading elements equal to the previous snapshot's
    int32 *source;  // [length - shared]: the previous array's index the element equals, or
                    // new_version, or grown(order)

    static constexpr int32 new_version = -1;
    // a new version written over the history row of the version before it (grow_in_place)
    static int32 grown(int32 order) { return -1 - order; }
    static int32 grown_order(int32 source) { return -1 - source; }
};
Jsonb *new_messages_to_sync(Datum session_id, Jsonb *state, int32 previous_number,
                            const MessagesMark *previous, int32 known_new_from,
                            MessagesChange *change);

// The elements of the state's array the change says are new versions, as an array
// (checked to be messages); NULL when there are none.
Jsonb *fresh_messages(Jsonb *state, const MessagesChange &change);

// A message the client changed in place by extending it (a reply saved while it streams,
// then complete; a tool message whose status changes), alone (every message after it is
// still there, at its place), with the same role and content that starts with the previous
// version's: its history row takes the new version instead of a
// new row being added (SPEC: "the history keeps the newest version"), and the snapshots that
// saved the earlier version refer to it as a cut of that row (core/message_refs.hpp). Only
// for a session whose previous snapshot refers to its history, and a row changed within the
// last 32 snapshots. Marks those elements grown in *change; call before fresh_messages.
void grow_in_place(Datum session_id, int32 number, Jsonb *state, uint32 previous_length,
                   MessagesChange *change);

// The message references (core/message_refs.hpp, a bytea) of snapshot `number`, whose state's
// messages array relates to snapshot number - 1's by `change`, its new versions being
// synced as history rows first_new_order, first_new_order + 1, ... `whole`: the whole list
// (a keyframe, or the previous snapshot stored its messages inline: `previous_by_ref` false);
// else what to keep of the previous snapshot's list and what follows.
Datum snapshot_message_refs(Datum session_id, int32 number, Jsonb *state,
                            const MessagesChange &change, int32 first_new_order,
                            bool previous_by_ref, bool whole);

// 22023 unless every element of `messages` from `start` on is a message: an object with a
// "role" (system, user, assistant, tool) and a "content" key. `what` names the array in
// the message ("p_messages"); `hint` (may be NULL) says what to do instead.
void check_messages(JsonbContainer *messages, int32 start, const char *what, const char *hint);

// Appends `messages` (a checked array) after the session's last message, numbered
// session.message_count + 1 ..., updates message_count, last_message_at and updated_at, and
// notifies listeners. Call only after lock_session_for_write.
void append_messages(Datum session_id, const WritableSession &session, Jsonb *messages);

// The parts create_session_snapshot shares (row_writer.hpp): inserts the rows of `messages`
// (a checked array) numbered after session.message_count, first in snapshot
// `first_snapshot_number`, created at `now`; and counts `added` messages on the session
// row being updated.
void insert_messages(Datum session_id, const WritableSession &session, Jsonb *messages,
                     int32 first_snapshot_number, Datum now);
void count_messages(RowWriter *sessions, int32 added, Datum now);

} // namespace sp
