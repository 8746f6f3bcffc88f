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
    open_row_writer(&rows, messages_table());
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
    Indexes fresh{static_cast<uint32 *>(
                      palloc(sizeof(uint32) * Max(change->length - change->shared, 1u))),
                  0};
    for (uint32 k = 0; k < change->length - change->shared; ++k)
        if (change->source[k] < 0)
            fresh.at[fresh.count++] = change->shared + k;
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
    uint64 rows = 0;
    as_table_owner([&] {
        Datum args[] = {session_id, Int32GetDatum(number)};
        run(Sql::ChainMessageRefs, args, nullptr, false);
        rows = SPI_processed;
        refs = static_cast<bytea **>(palloc(sizeof(bytea *) * Max(rows, uint64{1})));
        for (uint64 i = 0; i < rows; ++i) {
            bool isnull;
            Datum r = column(i, 1, &isnull);
            refs[i] = isnull ? nullptr : DatumGetByteaPP(r);
        }
    });
    if (rows == 0 || !refs[rows - 1])
        return nullptr;
    return cpp_call([&] {
        std::vector<message_refs::Ref> list;
        bool active = false;
        for (uint64 i = 0; i < rows; ++i) {
            message_refs::Refs step;
            if (!refs[i]) {
                active = false;
                continue;
            }
            if (!message_refs::decode({VARDATA_ANY(refs[i]), VARSIZE_ANY_EXHDR(refs[i])},
                                      &step) ||
                (!step.whole && !active) || !message_refs::fold(&list, step))
                throw Error(sqlstate::data_corrupted,
                            "the message references of the session's chain do not fit together",
                            {}, "Run verify_session() on the session.");
            active = true;
        }
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
            !message_refs::decode({VARDATA_ANY(previous), VARSIZE_ANY_EXHDR(previous)}, &before))
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

} // namespace sp
