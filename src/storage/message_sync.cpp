#include "message_sync.hpp"

#include "args.hpp"
#include "catalog.hpp"
#include "core/error.hpp"
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

// [from, size) of an array.
Indexes index_range(uint32 from, uint32 size) {
    Indexes out{static_cast<uint32 *>(palloc(sizeof(uint32) * Max(size - Min(from, size), 1u))), 0};
    for (uint32 i = from; i < size; ++i)
        out.at[out.count++] = i;
    return out;
}

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

// The indexes of the new versions in `state`'s messages array (core/message_versions.hpp)
// into *out; false when `previous` cannot tell.
bool new_versions(Jsonb *state, const MessagesMark &previous, Indexes *out) {
    return cpp_call([&] {
        jsonb::Value list;
        root_container(state, sqlstate::data_corrupted).find("messages", &list);
        std::optional<std::vector<uint32_t>> fresh = messages::new_elements(
            previous, jsonb::Container(list, sqlstate::data_corrupted));
        if (!fresh)
            return false;
        out->at = static_cast<uint32 *>(
            pg_call([&] { return palloc(sizeof(uint32) * Max(fresh->size(), size_t{1})); }));
        out->count = static_cast<uint32>(fresh->size());
        std::copy(fresh->begin(), fresh->end(), out->at);
        return true;
    });
}

} // namespace

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
        set_column(&rows, "content", message_text(message, "content"));
        set_column(&rows, "metadata", message_metadata(element));
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
                            const MessagesMark *previous, int32 known_new_from) {
    JsonbContainer *messages = state_messages(state);
    if (!messages)
        return nullptr;
    // The first snapshot's messages are all new; an array the previous one's is a prefix of
    // (as the storage plan found) has its new elements after it; otherwise compare.
    int32 new_from = previous_number == 0 ? 0 : known_new_from;
    Indexes fresh{};
    if (new_from >= 0)
        fresh = index_range(static_cast<uint32>(new_from), array_length(messages));
    else if (!previous || !new_versions(state, *previous, &fresh)) {
        // no usable mark, or it cannot tell (the array changed before its window)
        MessagesMark full = full_mark_of_snapshot(session_id, previous_number);
        new_versions(state, full, &fresh);
    }
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

} // namespace sp
