#include "message_sync.hpp"

#include "args.hpp"
#include "catalog.hpp"
#include "core/error.hpp"
#include "core/message_refs.hpp"
#include "core/state_hash.hpp"
#include "guard.hpp"
#include "jsonb_glue.hpp"
#include "notify.hpp"
#include "row_writer.hpp"
#include "snapshot_restore.hpp"
#include "spi_util.hpp"

namespace sp {

namespace {

const char *const message_roles[] = {"system", "user", "assistant", "tool"};

// The state's top-level "messages" array, if it has one.
JsonbContainer *state_messages(Jsonb *state) {
    if (!JB_ROOT_IS_OBJECT(state))
        return nullptr;
    JsonbValue value;
    if (!getKeyJsonValueFromContainer(&state->root, "messages", strlen("messages"), &value))
        return nullptr;
    if (value.type != jbvBinary || !JsonContainerIsArray(value.val.binary.data))
        return nullptr;
    return value.val.binary.data;
}

int32 array_length(JsonbContainer *array) {
    return static_cast<int32>(JsonContainerSize(array));
}

bool is_message_role(const JsonbValue &role) {
    if (role.type != jbvString)
        return false;
    for (const char *allowed : message_roles)
        if (static_cast<size_t>(role.val.string.len) == strlen(allowed) &&
            memcmp(role.val.string.val, allowed, role.val.string.len) == 0)
            return true;
    return false;
}

void check_message(const JsonbValue *element, int32 index, const char *what, const char *hint) {
    if (element->type != jbvBinary || !JsonContainerIsObject(element->val.binary.data))
        raise(sqlstate::invalid_parameter_value,
              psprintf("%s[%d] must be a JSON object, not %s", what, index,
                       json_value_type_name(element)),
              "A message is an object with a \"role\" and a \"content\".", hint);
    JsonbContainer *message = element->val.binary.data;
    JsonbValue role;
    if (!getKeyJsonValueFromContainer(message, "role", strlen("role"), &role))
        raise(sqlstate::invalid_parameter_value, psprintf("%s[%d] has no role", what, index),
              "A message's role is system, user, assistant or tool.", hint);
    if (!is_message_role(role))
        raise(sqlstate::invalid_parameter_value,
              role.type == jbvString
                  ? psprintf("%s[%d] has role \"%s\", not system, user, assistant or tool", what,
                             index, pnstrdup(role.val.string.val, role.val.string.len))
                  : psprintf("%s[%d] has a role that is a JSON %s, not a string", what, index,
                             json_value_type_name(&role)),
              "A message's role is system, user, assistant or tool.", hint);
    JsonbValue content;
    if (!getKeyJsonValueFromContainer(message, "content", strlen("content"), &content))
        raise(sqlstate::invalid_parameter_value, psprintf("%s[%d] has no content", what, index),
              "Content that is not a string (e.g. an array of content parts) is stored as its "
              "JSON text; null content as an empty string.",
              hint);
}

// The elements of `array` at `indexes`, as an array of their own.
// Indexes into a messages array, in palloc'd memory: they cross PostgreSQL calls that may
// raise an error, which a std::vector would not survive without leaking.
struct Indexes {
    uint32 *at;
    uint32 count;
};

Jsonb *array_elements(JsonbContainer *array, const Indexes &indexes) {
    JsonbParseState *state = nullptr;
    pushJsonbValue(&state, WJB_BEGIN_ARRAY, nullptr);
    for (uint32 k = 0; k < indexes.count; ++k)
        pushJsonbValue(&state, WJB_ELEM, getIthJsonbValueFromContainer(array, indexes.at[k]));
    return JsonbValueToJsonb(pushJsonbValue(&state, WJB_END_ARRAY, nullptr));
}

// The mark of the state snapshot `number` of the session had, with every element's hash:
// the previous snapshot is restored (as the table owner: the caller owns the session).
MessagesMark full_mark_of_snapshot(Datum session_id, int32 number) {
    RestoredSnapshot restored;
    bool found = false;
    as_table_owner([&] {
        found = restore_snapshot(session_id, number, CurrentMemoryContext, false, &restored);
    });
    if (!found)
        raise(sqlstate::data_corrupted,
              psprintf("snapshot %d of session %s is missing", number, uuid_text(session_id)),
              nullptr, "Run verify_session() on the session.");
    return cpp_call([&] {
        return messages::mark_of_state(root_of(restored.state, sqlstate::data_corrupted), true);
    });
}

// How `state`'s messages array relates to the one `previous` describes
// (core/message_versions.hpp), into *change (palloc'd); false when `previous` cannot tell.
bool versions_of(Jsonb *state, const MessagesMark &previous, MessagesChange *change) {
    return cpp_call([&] {
        jsonb::Value list;
        root_container(state, sqlstate::data_corrupted).find("messages", &list);
        std::optional<messages::Versions> v =
            messages::versions(previous, jsonb::Container(list, sqlstate::data_corrupted));
        if (!v)
            return false;
        change->shared = v->shared;
        change->source = static_cast<int32 *>(
            pg_call([&] { return palloc(sizeof(int32) * Max(v->source.size(), size_t{1})); }));
        for (size_t k = 0; k < v->source.size(); ++k)
            change->source[k] = static_cast<int32>(v->source[k]);
        return true;
    });
}

// The elements after `shared` all new.
void all_new_from(uint32 shared, MessagesChange *change) {
    change->shared = Min(shared, change->length);
    change->source = static_cast<int32 *>(
        palloc(sizeof(int32) * Max(change->length - change->shared, 1u)));
    for (uint32 k = 0; k < change->length - change->shared; ++k)
        change->source[k] = -1;
}

} // namespace

bool has_messages_array(Jsonb *state) {
    return state_messages(state) != nullptr;
}

void check_messages(JsonbContainer *messages, int32 start, const char *what, const char *hint) {
    for (int32 i = start; i < array_length(messages); ++i) {
        JsonbValue *element = getIthJsonbValueFromContainer(messages, i);
        check_message(element, i, what, hint);
        pfree(element);
    }
}

namespace {

// Column `name` of a message row, from a checked message: role and content as text (content
// that is not a JSON string as its JSON text, null content as ''), the other keys as
// metadata.
Datum message_text(JsonbContainer *message, const char *key) {
    JsonbValue value;
    getKeyJsonValueFromContainer(message, key, strlen(key), &value);
    if (value.type == jbvString)
        return PointerGetDatum(
            cstring_to_text_with_len(value.val.string.val, value.val.string.len));
    if (value.type == jbvNull)
        return CStringGetTextDatum("");
    Jsonb *json = JsonbValueToJsonb(&value);
    return CStringGetTextDatum(JsonbToCString(nullptr, &json->root, VARSIZE(json)));
}

Datum message_metadata(JsonbValue *element) {
    Datum message = JsonbPGetDatum(JsonbValueToJsonb(element));
    Datum without_role = DirectFunctionCall2(jsonb_delete, message, CStringGetTextDatum("role"));
    return DirectFunctionCall2(jsonb_delete, without_role, CStringGetTextDatum("content"));
}

} // namespace

void insert_messages(Datum session_id, const WritableSession &session, Jsonb *messages,
                     int32 first_snapshot_number, Datum now) {
    RowWriter rows;
    open_row_writer(&rows, local_relation(session, session.placement.messages));
    Datum user_id = CStringGetTextDatum(session.user_id);
    Datum organization_id =
        session.organization_id ? CStringGetTextDatum(session.organization_id) : (Datum)0;
    for (int32 i = 0; i < array_length(&messages->root); ++i) {
        JsonbValue *element = getIthJsonbValueFromContainer(&messages->root, i);
        JsonbContainer *message = element->val.binary.data;
        start_insert(&rows);
        set_column(&rows, "id", random_uuid());
        set_column(&rows, "session_id", session_id);
        set_column(&rows, "message_order", Int32GetDatum(session.message_count + i + 1));
        set_column(&rows, "user_id", user_id);
        set_column(&rows, "organization_id", organization_id, !session.organization_id);
        set_column(&rows, "role", message_text(message, "role"));
        set_column_compressed(&rows, "content", message_text(message, "content"));
        set_column_compressed(&rows, "metadata", message_metadata(element));
        set_column(&rows, "created_at", now);
        set_column(&rows, "first_snapshot_number", Int32GetDatum(first_snapshot_number));
        set_visibility_copy(&rows, session);
        insert_row(&rows);
    }
    close_row_writer(&rows);
}

void count_messages(RowWriter *sessions, int32 added, Datum now) {
    bool isnull;
    int32 count = DatumGetInt32(current_column(sessions, "message_count", &isnull));
    set_column(sessions, "message_count", Int32GetDatum(count + added));
    // The newest message's time: an imported history may carry times later than now.
    Datum last = current_column(sessions, "last_message_at", &isnull);
    if (isnull || DatumGetTimestampTz(last) < DatumGetTimestampTz(now))
        set_column(sessions, "last_message_at", now);
}

void append_messages(Datum session_id, const WritableSession &session, Jsonb *messages) {
    int32 count = JB_ROOT_COUNT(messages);
    if (count == 0)
        return;
    Datum now = TimestampTzGetDatum(GetCurrentTransactionStartTimestamp());
    insert_messages(session_id, session, messages, session.latest_snapshot_number + 1, now);
    RowWriter sessions;
    start_session_update(&sessions, session);
    count_messages(&sessions, count, now);
    finish_session_update(&sessions, now);
    notify_session_event(session_id, "messages", session.message_count + count);
}

Jsonb *new_messages_to_sync(Datum session_id, Jsonb *state, int32 previous_number,
                            const MessagesMark *previous, int32 known_new_from,
                            MessagesChange *change) {
    JsonbContainer *messages = state_messages(state);
    *change = MessagesChange{0, 0, nullptr};
    if (!messages)
        return nullptr;
    change->length = static_cast<uint32>(array_length(messages));
    // The first snapshot's messages are all new; an array the previous one's is a prefix of
    // (as the storage plan found) has its new elements after it; otherwise compare.
    int32 new_from = previous_number == 0 ? 0 : known_new_from;
    if (new_from >= 0)
        all_new_from(static_cast<uint32>(new_from), change);
    else if (!previous || !versions_of(state, *previous, change)) {
        // no usable mark, or it cannot tell (the array changed before its window)
        MessagesMark full = full_mark_of_snapshot(session_id, previous_number);
        if (!versions_of(state, full, change))
            all_new_from(0, change);
    }
    return fresh_messages(state, *change);
}

Jsonb *fresh_messages(Jsonb *state, const MessagesChange &change) {
    JsonbContainer *messages = state_messages(state);
    if (!messages)
        return nullptr;
    Indexes fresh{static_cast<uint32 *>(
                      palloc(sizeof(uint32) * Max(change.length - change.shared, 1u))),
                  0};
    for (uint32 k = 0; k < change.length - change.shared; ++k)
        if (change.source[k] == MessagesChange::new_version)
            fresh.at[fresh.count++] = change.shared + k;
    if (fresh.count == 0)
        return nullptr;
    for (uint32 k = 0; k < fresh.count; ++k) {
        JsonbValue *element = getIthJsonbValueFromContainer(messages, fresh.at[k]);
        check_message(element, static_cast<int32>(fresh.at[k]), "p_snapshot_data's messages",
                      "Save with p_sync_messages => false to keep the state's messages out of "
                      "the session's history.");
        pfree(element);
    }
    return array_elements(messages, fresh);
}

namespace {

// The whole list of message references of snapshot `number` (its chain's lists folded),
// as palloc'd bytes of the 'F' encoding; NULL when that snapshot has none.
bytea *whole_refs_of(Datum session_id, int32 number) {
    bytea **refs = nullptr;
    int64 *sizes = nullptr;
    uint64 rows = 0;
    as_table_owner([&] {
        Datum args[] = {session_id, Int32GetDatum(number)};
        run(Sql::ChainMessageRefs, args, nullptr, false);
        rows = SPI_processed;
        refs = static_cast<bytea **>(palloc(sizeof(bytea *) * Max(rows, uint64{1})));
        sizes = static_cast<int64 *>(palloc(sizeof(int64) * Max(rows, uint64{1})));
        for (uint64 i = 0; i < rows; ++i) {
            bool isnull;
            Datum r = column(i, 1, &isnull);
            refs[i] = isnull ? nullptr : DatumGetByteaPP(r);
            sizes[i] = column_int64(i, 2);
        }
    });
    if (rows == 0 || !refs[rows - 1])
        return nullptr;
    return cpp_call([&] {
        std::vector<message_refs::Ref> list;
        if (fold_chain_refs(refs, sizes, rows, &list) != message_refs::Folded::List)
            throw Error(sqlstate::data_corrupted,
                        "the message references of the session's chain do not fit together",
                        {}, "Run verify_session() on the session.");
        message_refs::Refs all;
        all.entries = std::move(list);
        std::string bytes = message_refs::encode(all);
        bytea *out = static_cast<bytea *>(pg_call([&] { return palloc(VARHDRSZ + bytes.size()); }));
        SET_VARSIZE(out, VARHDRSZ + bytes.size());
        memcpy(VARDATA(out), bytes.data(), bytes.size());
        return out;
    });
}

} // namespace

Datum snapshot_message_refs(Datum session_id, int32 number, Jsonb *state,
                            const MessagesChange &change, int32 first_new_order,
                            bool previous_by_ref, bool whole) {
    // The previous list is needed for what this one keeps or takes from it by index.
    bool takes_from_previous = false;
    for (uint32 k = 0; k < change.length - change.shared; ++k)
        takes_from_previous |= change.source[k] >= 0;
    bytea *previous = nullptr;
    if (previous_by_ref && (takes_from_previous || (whole && change.shared > 0)))
        previous = whole_refs_of(session_id, number - 1);
    if (previous_by_ref && (takes_from_previous || (whole && change.shared > 0)) && !previous)
        raise(sqlstate::data_corrupted,
              psprintf("snapshot %d of session %s has no message references", number - 1,
                       uuid_text(session_id)),
              nullptr, "Run verify_session() on the session.");
    return cpp_call([&] {
        jsonb::Value list;
        root_container(state, sqlstate::data_corrupted).find("messages", &list);
        jsonb::Container messages(list, sqlstate::data_corrupted);
        message_refs::Refs before;
        if (previous &&
            !message_refs::decode({VARDATA_ANY(previous), VARSIZE_ANY_EXHDR(previous)}, &before,
                                  UINT32_MAX)) // whole_refs_of's own encoding, bounded there
            throw Error(sqlstate::data_corrupted, "unreadable message references");
        auto previous_ref = [&](uint32 index, uint32 at) {
            if (previous && index < before.entries.size())
                return before.entries[index];
            if (previous)
                throw Error(sqlstate::data_corrupted,
                            "the previous snapshot's message references are too short");
            return message_refs::Ref::inline_element(messages.element(at));
        };
        message_refs::Refs refs;
        refs.whole = whole || !previous_by_ref;
        refs.keep = refs.whole ? 0 : change.shared;
        if (refs.whole)
            for (uint32 i = 0; i < change.shared; ++i)
                refs.entries.push_back(previous_ref(i, i));
        int32 next_order = first_new_order;
        for (uint32 k = 0; k < change.length - change.shared; ++k) {
            uint32 at = change.shared + k;
            jsonb::Value element = messages.element(at);
            if (change.source[k] >= 0)
                refs.entries.push_back(previous_ref(static_cast<uint32>(change.source[k]), at));
            else if (change.source[k] != MessagesChange::new_version)
                refs.entries.push_back(message_refs::Ref::row(MessagesChange::grown_order(change.source[k])));
            else if (message_refs::row_gives_back(element))
                refs.entries.push_back(message_refs::Ref::row(next_order++));
            else {
                ++next_order; // synced, but its row cannot give it back byte for byte
                refs.entries.push_back(message_refs::Ref::inline_element(element));
            }
        }
        std::string bytes = message_refs::encode(refs);
        bytea *out = static_cast<bytea *>(pg_call([&] { return palloc(VARHDRSZ + bytes.size()); }));
        SET_VARSIZE(out, VARHDRSZ + bytes.size());
        memcpy(VARDATA(out), bytes.data(), bytes.size());
        return PointerGetDatum(out);
    });
}

namespace {

// Chain rows back to this many snapshots are rewritten when a message grows in place; a
// message last changed longer ago gets a row of its own for its new version instead.
constexpr int32 grow_reach = 32;

// Columns of Sql::MessageRow.
enum MessageRowColumn { RowCtid = 1, RowRole, RowContent, RowMetadata, RowFirstSnapshot };

// Whether `s` (a jsonb string) starts with the bytes of `prefix`.
bool starts_with(const JsonbValue &s, text *prefix) {
    return s.type == jbvString &&
           static_cast<size_t>(s.val.string.len) >= VARSIZE_ANY_EXHDR(prefix) &&
           memcmp(s.val.string.val, VARDATA_ANY(prefix), VARSIZE_ANY_EXHDR(prefix)) == 0;
}

bool equals(const JsonbValue &s, text *t) {
    return s.type == jbvString && static_cast<size_t>(s.val.string.len) == VARSIZE_ANY_EXHDR(t) &&
           memcmp(s.val.string.val, VARDATA_ANY(t), VARSIZE_ANY_EXHDR(t)) == 0;
}

// Rewrites the chain's references to history row `order` as it stands (snapshots
// first..last) into references to its first `length` content bytes with `metadata`: the
// earlier version those snapshots saved.
void cut_references(Datum session_id, int32 first, int32 last, int32 order, uint32 length,
                    Jsonb *metadata) {
    as_table_owner([&] {
        Datum args[] = {session_id, Int32GetDatum(first), Int32GetDatum(last)};
        run(Sql::ChainRefsBetween, args, nullptr, false);
        SPITupleTable *rows = SPI_tuptable;
        uint64 count = SPI_processed;
        for (uint64 r = 0; r < count; ++r) {
            bool isnull;
            int32 number = DatumGetInt32(SPI_getbinval(rows->vals[r], rows->tupdesc, 1, &isnull));
            bytea *refs = DatumGetByteaPP(SPI_getbinval(rows->vals[r], rows->tupdesc, 2, &isnull));
            int64 size = DatumGetInt64(SPI_getbinval(rows->vals[r], rows->tupdesc, 3, &isnull));
            bytea *rewritten = cpp_call([&]() -> bytea * {
                message_refs::Refs list;
                if (!message_refs::decode({VARDATA_ANY(refs), VARSIZE_ANY_EXHDR(refs)}, &list,
                                          message_refs::max_entries_for(size)))
                    throw Error(sqlstate::data_corrupted,
                                "the message references of the session's chain are unreadable",
                                {}, "Run verify_session() on the session.");
                bool changed = false;
                for (message_refs::Ref &e : list.entries)
                    if (e.order == order && !e.cut) {
                        e = message_refs::Ref::cut_row(order, length,
                                                       root_of(metadata, sqlstate::data_corrupted));
                        changed = true;
                    }
                if (!changed)
                    return nullptr;
                std::string bytes = message_refs::encode(list);
                bytea *out = static_cast<bytea *>(
                    pg_call([&] { return palloc(VARHDRSZ + bytes.size()); }));
                SET_VARSIZE(out, VARHDRSZ + bytes.size());
                memcpy(VARDATA(out), bytes.data(), bytes.size());
                return out;
            });
            if (rewritten) {
                Datum set[] = {session_id, Int32GetDatum(number), PointerGetDatum(rewritten)};
                run(Sql::SetMessageRefs, set, nullptr, false);
            }
        }
    });
}

} // namespace

void grow_in_place(Datum session_id, int32 number, Jsonb *state, uint32 previous_length,
                   MessagesChange *change) {
    JsonbContainer *messages = state_messages(state);
    uint32 tail = change->length - change->shared;
    if (!messages || tail == 0)
        return;
    // New versions at an index whose previous element nothing in the new array equals.
    bool *claimed = static_cast<bool *>(palloc0(Max(previous_length, 1u)));
    for (uint32 k = 0; k < tail; ++k)
        if (change->source[k] >= 0 && static_cast<uint32>(change->source[k]) < previous_length)
            claimed[change->source[k]] = true;
    bool any = false;
    for (uint32 k = 0; k < tail; ++k) {
        uint32 at = change->shared + k;
        any |= change->source[k] == MessagesChange::new_version && at < previous_length &&
               !claimed[at];
    }
    if (!any)
        return;
    bytea *previous = whole_refs_of(session_id, number - 1);
    if (!previous)
        return;
    int32 *row_of = static_cast<int32 *>(palloc0(sizeof(int32) * previous_length));
    cpp_call([&] {
        message_refs::Refs list;
        if (!message_refs::decode({VARDATA_ANY(previous), VARSIZE_ANY_EXHDR(previous)}, &list,
                                  UINT32_MAX)) // whole_refs_of's own encoding, bounded there
            return;
        for (uint32 i = 0; i < previous_length && i < list.entries.size(); ++i)
            if (list.entries[i].order > 0 && !list.entries[i].cut)
                row_of[i] = list.entries[i].order;
    });
    for (uint32 k = 0; k < tail; ++k) {
        uint32 at = change->shared + k;
        if (change->source[k] != MessagesChange::new_version || at >= previous_length ||
            claimed[at] || row_of[at] == 0)
            continue;
        // only this message changed: every one after it is still there, at its place (an
        // edited question followed by a new reply is a new version, not a grown one)
        bool alone = true;
        for (uint32 j = at + 1; j < previous_length && alone; ++j)
            alone = j < change->length && change->source[j - change->shared] == static_cast<int32>(j);
        if (!alone)
            continue;
        int32 order = row_of[at];
        // the row as it stands, and the new version: same role, content that extends it
        ItemPointerData tid;
        text *role = nullptr, *content = nullptr;
        Jsonb *metadata = nullptr;
        int32 first = 0;
        as_table_owner([&] {
            Datum args[] = {session_id, Int32GetDatum(order)};
            run(Sql::MessageRow, args, nullptr, false);
            if (SPI_processed != 1)
                return;
            bool isnull;
            tid = *reinterpret_cast<ItemPointer>(DatumGetPointer(column(0, RowCtid, &isnull)));
            role = DatumGetTextPP(column(0, RowRole, &isnull));
            content = DatumGetTextPP(column(0, RowContent, &isnull));
            metadata = DatumGetJsonbP(column(0, RowMetadata, &isnull));
            first = column_int32(0, RowFirstSnapshot);
        });
        if (!role || number - first > grow_reach || !JB_ROOT_IS_OBJECT(metadata))
            continue;
        JsonbValue *element = getIthJsonbValueFromContainer(messages, at);
        if (element->type != jbvBinary || !JsonContainerIsObject(element->val.binary.data))
            continue;
        JsonbValue new_role, new_content;
        JsonbContainer *message = element->val.binary.data;
        if (!getKeyJsonValueFromContainer(message, "role", strlen("role"), &new_role) ||
            !getKeyJsonValueFromContainer(message, "content", strlen("content"), &new_content) ||
            !equals(new_role, role) || !starts_with(new_content, content))
            continue;
        check_message(element, static_cast<int32>(at), "p_snapshot_data's messages", nullptr);
        // earlier snapshots keep their version as a cut of the row; the row takes the new one
        cut_references(session_id, first, number - 1, order,
                       static_cast<uint32>(VARSIZE_ANY_EXHDR(content)), metadata);
        RowWriter rows;
        open_row_writer(&rows, messages_table());
        start_update(&rows, &tid);
        set_column_compressed(&rows, "content", message_text(message, "content"));
        set_column_compressed(&rows, "metadata", message_metadata(element));
        update_row(&rows);
        close_row_writer(&rows);
        change->source[k] = MessagesChange::grown(order);
    }
}

} // namespace sp
