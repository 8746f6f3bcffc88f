// export_session, import_session and fork_session: a session as one JSON document and back,
// and a new session that starts from another's snapshot.
//
// Document format, version 1 (export_session writes exactly these keys; import_session
// refuses any other key, so a misspelt field is an error rather than silently lost):
//   {"format": "session_persist.export", "version": 1,
//    "session": {"name", "description", "model", "status", "current_state", "visibility",
//                "memory_summary", "metadata", "completed_at"},      -- the editable fields
//    "messages": [{"message_order", "role", "content", "metadata", "created_at"}, ...],
//    "state": the latest snapshot's state or null, "snapshot_number": its number or null}
// On import the messages are numbered by their position in the array (message_order is
// informational), created_at is kept (now() when absent), the state becomes snapshot 1, and
// JSON null means the column's default.
#include "pg.hpp"

#include "args.hpp"
#include "core/error.hpp"
#include "guard.hpp"
#include "identity.hpp"
#include "message_sync.hpp"
#include "notify.hpp"
#include "session_access.hpp"
#include "snapshot_restore.hpp"
#include "jsonb_glue.hpp"
#include "row_writer.hpp"
#include "storage_plan.hpp"
#include "spi_util.hpp"

namespace {

using namespace sp;

constexpr const char *format_name = "session_persist.export";
constexpr int format_version = 1;

const char *const document_keys[] = {"format",   "version", "session",
                                     "messages", "state",   "snapshot_number"};
const char *const session_keys[] = {"name",           "description",   "model",
                                    "status",         "current_state", "visibility",
                                    "memory_summary", "metadata",      "completed_at"};
const char *const message_keys[] = {"message_order", "role", "content", "metadata", "created_at"};
const char *const statuses[] = {"active", "paused", "completed", "error", "archived"};
const char *const visibilities[] = {"private", "organization", "public"};

[[noreturn]] void refuse_document(const char *message) {
    raise(sqlstate::invalid_parameter_value, message, nullptr,
          "Pass a document made by export_session() (format \"session_persist.export\", "
          "version 1).");
}

bool is_container(const JsonbValue &value, bool object) {
    return value.type == jbvBinary && (object ? JsonContainerIsObject(value.val.binary.data)
                                              : JsonContainerIsArray(value.val.binary.data));
}

bool string_is(const JsonbValue &value, const char *expected) {
    return value.type == jbvString &&
           static_cast<size_t>(value.val.string.len) == strlen(expected) &&
           memcmp(value.val.string.val, expected, value.val.string.len) == 0;
}

template <size_t N> bool string_in(const JsonbValue &value, const char *const (&allowed)[N]) {
    for (const char *candidate : allowed)
        if (string_is(value, candidate))
            return true;
    return false;
}

// The value of `key`; false when absent or JSON null.
bool present(JsonbContainer *object, const char *key, JsonbValue *out) {
    return getKeyJsonValueFromContainer(object, key, strlen(key), out) && out->type != jbvNull;
}

template <size_t N>
void check_keys(JsonbContainer *object, const char *const (&allowed)[N], const char *what) {
    JsonbIterator *it = JsonbIteratorInit(object);
    JsonbValue value;
    JsonbIteratorToken token;
    while ((token = JsonbIteratorNext(&it, &value, true)) != WJB_DONE) {
        if (token != WJB_KEY || string_in(value, allowed))
            continue;
        refuse_document(psprintf("%s has an unknown key \"%s\"", what,
                                 pnstrdup(value.val.string.val, value.val.string.len)));
    }
}

void check_optional_type(JsonbContainer *object, const char *key, const char *what,
                         const char *expected) {
    JsonbValue value;
    if (present(object, key, &value) && strcmp(json_value_type_name(&value), expected) != 0)
        refuse_document(psprintf("%s's %s must be a JSON %s, not %s", what, key, expected,
                                 json_value_type_name(&value)));
}

template <size_t N>
void check_optional_choice(JsonbContainer *object, const char *key, const char *what,
                           const char *const (&allowed)[N]) {
    JsonbValue value;
    if (!present(object, key, &value) || string_in(value, allowed))
        return;
    StringInfoData list;
    initStringInfo(&list);
    for (size_t i = 0; i < N; ++i)
        appendStringInfo(&list, "%s%s", i ? ", " : "", allowed[i]);
    refuse_document(value.type == jbvString
                        ? psprintf("%s's %s \"%s\" is not one of %s", what, key,
                                   pnstrdup(value.val.string.val, value.val.string.len), list.data)
                        : psprintf("%s's %s must be a JSON string, not %s", what, key,
                                   json_value_type_name(&value)));
}

void check_session_fields(JsonbContainer *session) {
    const char *what = "p_document's session";
    check_keys(session, session_keys, what);
    JsonbValue name;
    if (!present(session, "name", &name))
        refuse_document("p_document's session has no name");
    if (name.type != jbvString)
        refuse_document(psprintf("p_document's session's name must be a JSON string, not %s",
                                 json_value_type_name(&name)));
    check_session_name(name.val.string.val, name.val.string.len, "p_document's session's name");
    for (const char *key : {"description", "model", "current_state", "completed_at"})
        check_optional_type(session, key, what, "string");
    check_optional_type(session, "metadata", what, "object");
    check_optional_choice(session, "status", what, statuses);
    check_optional_choice(session, "visibility", what, visibilities);
}

void check_imported_messages(JsonbContainer *messages) {
    check_messages(messages, 0, "p_document's messages", nullptr);
    int32 count = static_cast<int32>(JsonContainerSize(messages));
    for (int32 i = 0; i < count; ++i) {
        JsonbValue *element = getIthJsonbValueFromContainer(messages, i);
        const char *what = psprintf("p_document's messages[%d]", i);
        if (!is_container(*element, true))
            refuse_document(
                psprintf("%s must be a JSON object, not %s", what, json_value_type_name(element)));
        JsonbContainer *message = element->val.binary.data;
        check_keys(message, message_keys, what);
        JsonbValue content;
        if (!present(message, "content", &content) || content.type != jbvString)
            refuse_document(psprintf("%s's content must be a JSON string", what));
        check_optional_type(message, "metadata", what, "object");
        check_optional_type(message, "created_at", what, "string");
        check_optional_type(message, "message_order", what, "number");
    }
}

struct Document {
    Jsonb *session;  // the "session" object
    Jsonb *messages; // the "messages" array
    Jsonb *state;    // NULL when the document has none
};

Jsonb *as_jsonb(JsonbValue *value) {
    return JsonbValueToJsonb(value);
}

Document check_document(Jsonb *document) {
    require_json_object(document, "p_document");
    JsonbContainer *root = &document->root;
    JsonbValue value;
    if (!present(root, "format", &value) || !string_is(value, format_name))
        refuse_document("p_document is not a session_persist export: its format is not "
                        "\"session_persist.export\"");
    if (!present(root, "version", &value))
        refuse_document("p_document has no version");
    const char *version =
        value.type == jbvNumeric
            ? DatumGetCString(DirectFunctionCall1(numeric_out, NumericGetDatum(value.val.numeric)))
            : json_value_type_name(&value);
    if (strcmp(version, "1") != 0)
        refuse_document(psprintf("p_document has version %s; this session_persist reads version %d",
                                 version, format_version));
    check_keys(root, document_keys, "p_document");

    Document parts{};
    if (!present(root, "session", &value) || !is_container(value, true))
        refuse_document("p_document's session must be a JSON object");
    check_session_fields(value.val.binary.data);
    parts.session = as_jsonb(&value);

    if (!present(root, "messages", &value) || !is_container(value, false))
        refuse_document("p_document's messages must be a JSON array");
    check_imported_messages(value.val.binary.data);
    parts.messages = as_jsonb(&value);

    if (present(root, "state", &value)) {
        if (!is_container(value, true))
            refuse_document(psprintf("p_document's state must be a JSON object or null, not %s",
                                     json_value_type_name(&value)));
        parts.state = as_jsonb(&value);
    }
    check_optional_type(root, "snapshot_number", "p_document", "number");
    return parts;
}

void require_identity(const char *action) {
    if (!caller_user_id())
        raise(sqlstate::insufficient_privilege, psprintf("anonymous callers cannot %s", action),
              "The request carries a JWT without a \"sub\" claim.", "Sign in first.");
}

// Who a new session belongs to: the caller, who must have an identity.
struct NewSession {
    Datum id;
    Datum user_id;         // text
    Datum organization_id; // text, 0 when none
    Datum visibility;      // text, as the insert returned it
};

NewSession new_session_of_caller(const char *action) {
    require_identity(action);
    text *user = caller_user_id();
    text *organization = caller_organization_id();
    return {random_uuid(), PointerGetDatum(user), PointerGetDatum(organization), (Datum)0};
}

// The new session's visibility, as the insert returned it (an enum: its text is made here,
// not in the query, where Citus allows only immutable functions in RETURNING).
Datum returned_visibility(MemoryContext upper) {
    bool isnull;
    Datum value = column(0, 1, &isnull);
    MemoryContext spi = MemoryContextSwitchTo(upper);
    Datum text = CStringGetTextDatum(DatumGetCString(DirectFunctionCall1(enum_out, value)));
    MemoryContextSwitchTo(spi);
    return text;
}

// The history of a new session: message objects as export_session writes them (role,
// content, metadata, created_at), numbered from 1, all part of its first snapshot.
void import_messages(const NewSession &session, Jsonb *messages) {
    Datum args[] = {session.id,
                    Int32GetDatum(0),
                    session.user_id,
                    session.organization_id,
                    JsonbPGetDatum(messages),
                    session.visibility,
                    Int32GetDatum(1)};
    char nulls[] = {' ', ' ', ' ', null_flag(!session.organization_id), ' ', ' ', ' '};
    run(Sql::ImportMessages, args, nulls, false);
}

// Snapshot 1 of a new session, a keyframe, written by two statements (as the table owner,
// inside as_table_owner). Not save_snapshot(): on Citus the new session may be on another
// node than the one running this call, and the row writer writes only local rows; a planned
// statement goes where the row is. Its history was written explicitly, so the state's
// messages are not synced again.
void save_first_snapshot(const NewSession &session, Jsonb *state, const char *metadata) {
    int64 size = VARSIZE(state);
    Datum hash = state_hash_bytea(state_hash_of(state));
    StoragePlan storage = plan_storage(state, 1, (Datum)0, (Datum)0, false);
    Datum chain_args[] = {session.id,
                          session.user_id,
                          session.organization_id,
                          Int64GetDatum(size),
                          Int64GetDatum(storage.stored_bytes),
                          session.visibility,
                          JsonbPGetDatum(state),
                          hash,
                          DirectFunctionCall1(jsonb_in, CStringGetDatum(metadata))};
    char chain_nulls[] = {' ', ' ', null_flag(!session.organization_id), ' ', ' ', ' ', ' ',
                          ' ', ' '};
    run(Sql::InsertFirstSnapshot, chain_args, chain_nulls, false, 1);
    bool isnull;
    Datum created_at = column(0, 1, &isnull);
    Datum count_args[] = {session.id,
                          created_at,
                          Int64GetDatum(size),
                          Int64GetDatum(storage.stored_bytes),
                          hash,
                          storage.fingerprint_base};
    run(Sql::CountFirstSnapshot, count_args, nullptr, false);
}

} // namespace

// The session as one JSON document: its editable fields, its whole history and its latest
// state (null when it has none). Readable sessions only.
SP_FUNCTION(sp_export_session) {
    require_arg(fcinfo, 0, "p_session_id");
    Datum session_id = PG_GETARG_DATUM(0);
    MemoryContext upper = CurrentMemoryContext;
    SPI_connect();
    int32 latest = require_visible_session(session_id);
    RestoredSnapshot snapshot{};
    bool has_state = false;
    if (latest > 0) {
        has_state =
            restore_snapshot(session_id, PG_INT32_MAX, CurrentMemoryContext, true, &snapshot);
        if (!has_state)
            raise(sqlstate::data_corrupted,
                  psprintf("latest snapshot %d of session %s is missing", latest,
                           uuid_text(session_id)),
                  nullptr, "Run verify_session() on the session.");
    }
    Datum args[] = {session_id, has_state ? JsonbPGetDatum(snapshot.state) : (Datum)0,
                    Int32GetDatum(snapshot.snapshot_number)};
    char nulls[] = {' ', null_flag(!has_state), null_flag(!has_state)};
    run(Sql::ExportSession, args, nulls, true, 1);
    if (SPI_processed == 0)
        raise_session_not_found(session_id);
    bool isnull;
    Datum document = column_copy(0, 1, &isnull, upper);
    SPI_finish();
    PG_RETURN_DATUM(document);
}

// A new session owned by the caller from an export_session document. The whole document
// is checked before anything is written.
// The new session and everything in it are written as the tables' owner, once the caller
// has an identity (the owner columns are the caller's): on Citus one transaction must modify
// a shard through one role's connection, so the session row, its history and its first
// snapshot are all written by the same role.
SP_FUNCTION(sp_import_session) {
    require_arg(fcinfo, 0, "p_document");
    check_datum_size("p_document", PG_GETARG_DATUM(0));
    Document document = check_document(PG_GETARG_JSONB_P(0));
    NewSession session = new_session_of_caller("import sessions");
    MemoryContext upper = CurrentMemoryContext;
    SPI_connect();
    as_table_owner([&] {
        Datum args[] = {JsonbPGetDatum(document.session), session.id, session.user_id,
                        session.organization_id};
        char nulls[] = {' ', ' ', ' ', null_flag(!session.organization_id)};
        run(Sql::ImportSession, args, nulls, false, 1);
        session.visibility = returned_visibility(upper);
        if (JB_ROOT_COUNT(document.messages) > 0)
            import_messages(session, document.messages);
        if (document.state)
            save_first_snapshot(session, document.state, "{\"trigger\":\"import\"}");
    });
    if (JB_ROOT_COUNT(document.messages) > 0)
        notify_session_event(session.id, "messages", JB_ROOT_COUNT(document.messages));
    if (document.state)
        notify_session_event(session.id, "snapshot", 1);
    SPI_finish();
    PG_RETURN_DATUM(session.id);
}

// A new session of the caller's that starts where snapshot p_snapshot_number (NULL: the
// latest) of a readable session stood: that state as its snapshot 1, and the messages "up
// to it", those whose first_snapshot_number is at most that number (80_messages.sql). A
// session without snapshots forks its whole history and no state.
SP_FUNCTION(sp_fork_session) {
    require_arg(fcinfo, 0, "p_session_id");
    Datum source_id = PG_GETARG_DATUM(0);
    int32 number = PG_INT32_MAX;
    if (!PG_ARGISNULL(1)) {
        number = PG_GETARG_INT32(1);
        if (number < 1)
            raise(sqlstate::invalid_parameter_value,
                  psprintf("p_snapshot_number must be 1 or more, not %d", number));
    }
    if (!PG_ARGISNULL(2)) {
        text *name = PG_GETARG_TEXT_PP(2);
        check_session_name(VARDATA_ANY(name), VARSIZE_ANY_EXHDR(name), "p_name");
    }
    // Made before SPI_connect: the id is returned, and must outlive SPI_finish.
    NewSession session = new_session_of_caller("fork sessions");

    MemoryContext upper = CurrentMemoryContext;
    SPI_connect();
    // Restored as the caller: row-level security decides whether they may read the source.
    // Read-only, so the chain and the history rows it refers to are read in one snapshot
    // (a save of the source may rewrite both meanwhile: message_sync.hpp, grow_in_place).
    RestoredSnapshot snapshot{};
    bool has_state = restore_snapshot(source_id, number, CurrentMemoryContext, true, &snapshot);
    if (!has_state) {
        int32 latest = require_visible_session(source_id);
        if (number != PG_INT32_MAX)
            raise(sqlstate::not_found,
                  psprintf("snapshot %d of session %s not found", number, uuid_text(source_id)),
                  latest > 0 ? psprintf("The latest snapshot is %d; older ones may have been "
                                        "pruned by cleanup_old_snapshots().",
                                        latest)
                             : "The session has no snapshots yet.");
        if (latest > 0)
            raise(sqlstate::data_corrupted,
                  psprintf("latest snapshot %d of session %s is missing", latest,
                           uuid_text(source_id)),
                  nullptr, "Run verify_session() on the session.");
    }

    // Read as the caller; then written as the tables' owner (see import_session).
    Datum source_args[] = {source_id, PG_ARGISNULL(2) ? (Datum)0 : PG_GETARG_DATUM(2),
                           Int32GetDatum(has_state ? snapshot.snapshot_number : PG_INT32_MAX)};
    char source_nulls[] = {' ', null_flag(PG_ARGISNULL(2)), ' '};
    run(Sql::ForkSource, source_args, source_nulls, true, 1);
    if (SPI_processed == 0)
        raise_session_not_found(source_id);
    Datum fork_args[7];
    char fork_nulls[7];
    for (int i = 0; i < 4; ++i) {
        bool isnull;
        fork_args[3 + i] = column_copy(0, i + 1, &isnull, upper);
        fork_nulls[3 + i] = null_flag(isnull);
    }
    bool isnull;
    Jsonb *messages = DatumGetJsonbP(column_copy(0, 5, &isnull, upper));
    Datum session_id = session.id;
    fork_args[0] = session.id;
    fork_args[1] = session.user_id;
    fork_args[2] = session.organization_id;
    fork_nulls[0] = fork_nulls[1] = ' ';
    fork_nulls[2] = null_flag(!session.organization_id);
    int32 copied = JB_ROOT_COUNT(messages);
    as_table_owner([&] {
        run(Sql::ForkSession, fork_args, fork_nulls, false, 1);
        session.visibility = returned_visibility(upper);
        if (copied > 0)
            import_messages(session, messages);
        if (has_state)
            save_first_snapshot(session, snapshot.state,
                                psprintf("{\"trigger\":\"fork\",\"source_session_id\":\"%s\","
                                         "\"source_snapshot_number\":%d}",
                                         uuid_text(source_id), snapshot.snapshot_number));
    });
    if (copied > 0)
        notify_session_event(session_id, "messages", copied);
    if (has_state)
        notify_session_event(session_id, "snapshot", 1);
    notify_session_event(session_id, "fork", has_state ? 1 : 0);
    SPI_finish();
    PG_RETURN_DATUM(session_id);
}
