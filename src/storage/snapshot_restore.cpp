#include "snapshot_restore.hpp"

#include "delta_apply.hpp"
#include "core/error.hpp"
#include "guard.hpp"
#include "jsonb_glue.hpp"
#include "session_access.hpp"
#include "spi_util.hpp"
#include "core/state_hash.hpp"
#include "core/message_refs.hpp"

namespace sp {

namespace {

// Columns of Sql::ChainRange.
enum ChainRangeColumn {
    RangeNumber = 1,
    RangeKind,
    RangeState,
    RangeDelta,
    RangeHash,
    RangeId,
    RangeSize,
    RangeCreatedAt,
    RangeMetadata,
    RangeMessageRefs
};
// Columns of Sql::MessagesByOrder.
enum MessageRowColumn { RowOrder = 1, RowRole, RowContent, RowMetadata };

[[noreturn]] void raise_corrupt(Datum session_id, int32 number, const char *detail) {
    raise(sqlstate::data_corrupted,
          psprintf("snapshot %d of session %s does not verify", number, uuid_text(session_id)),
          detail, "Run verify_session() on the session; restore it from a backup if needed.");
}

bool is_keyframe(uint64 row) {
    bool isnull;
    Datum kind = column(row, RangeKind, &isnull);
    return !isnull && strcmp(TextDatumGetCString(kind), "full") == 0;
}

// One element of the messages array being put back: a history row's order, or the element.
struct Slot {
    int32 order;
    jsonb::Value element; // or a cut reference's metadata
    bool cut;
    uint32 content_length;
};

// A history row, detoasted.
struct Row {
    text *role;
    text *content;
    Jsonb *metadata;
};

// The list of message references that `refs` (the chain rows' message_refs, NULL where a row
// has none) give the last row, as palloc'd slots; false when the last row has none.
bool fold_refs(Datum session_id, int32 number, bytea **refs, const int64 *sizes, uint64 rows,
               Slot **slots, uint32 *count, bytea **whole) {
    if (!refs[rows - 1])
        return false;
    cpp_call([&] {
        std::vector<message_refs::Ref> list;
        if (fold_chain_refs(refs, sizes, rows, &list) != message_refs::Folded::List)
            throw Error(sqlstate::data_corrupted,
                        pg_call([&] {
                            return psprintf("snapshot %d of session %s does not verify", number,
                                            uuid_text(session_id));
                        }),
                        "Its message references do not fit the chain before it.",
                        "Run verify_session() on the session; restore it from a backup if "
                        "needed.");
        *count = static_cast<uint32>(list.size());
        *slots = static_cast<Slot *>(
            pg_call([&] { return palloc(sizeof(Slot) * Max(list.size(), size_t{1})); }));
        for (uint32 i = 0; i < *count; ++i)
            (*slots)[i] = Slot{list[i].order, list[i].element, list[i].cut,
                               list[i].content_length};
        if (whole) {
            message_refs::Refs all;
            all.entries = std::move(list);
            std::string bytes = message_refs::encode(all);
            *whole = static_cast<bytea *>(
                pg_call([&] { return palloc(VARHDRSZ + bytes.size()); }));
            SET_VARSIZE(*whole, VARHDRSZ + bytes.size());
            memcpy(VARDATA(*whole), bytes.data(), bytes.size());
        }
    });
    return true;
}

// The state: `stored` (its stored form) with the messages array the slots describe, the
// rows read from the history as the current user. In the current memory context.
Jsonb *put_messages_back(Datum session_id, int32 number, Jsonb *stored, const Slot *slots,
                         uint32 count, bool read_only) {
    int32 low = PG_INT32_MAX, high = 0;
    for (uint32 i = 0; i < count; ++i)
        if (slots[i].order > 0) {
            low = Min(low, slots[i].order);
            high = Max(high, slots[i].order);
        }
    Row *rows = nullptr;
    if (high > 0) {
        Datum args[] = {session_id, Int32GetDatum(low), Int32GetDatum(high)};
        run(Sql::MessagesByOrder, args, nullptr, read_only);
        rows = static_cast<Row *>(palloc0(sizeof(Row) * (static_cast<int64>(high) - low + 1)));
        for (uint64 r = 0; r < SPI_processed; ++r) {
            int32 order = column_int32(r, RowOrder);
            bool isnull;
            Row &row = rows[order - low];
            row.role = DatumGetTextPP(column(r, RowRole, &isnull));
            row.content = DatumGetTextPP(column(r, RowContent, &isnull));
            row.metadata = DatumGetJsonbP(column(r, RowMetadata, &isnull));
        }
    }
    return cpp_call([&] {
        std::vector<jsonb::Node> elements;
        elements.reserve(count);
        for (uint32 i = 0; i < count; ++i) {
            if (slots[i].order == 0) {
                elements.push_back(jsonb::Node::of(slots[i].element));
                continue;
            }
            const Row &row = rows[slots[i].order - low];
            std::optional<jsonb::Node> message;
            if (row.role) {
                std::string_view content(VARDATA_ANY(row.content), VARSIZE_ANY_EXHDR(row.content));
                if (!slots[i].cut)
                    message = message_refs::message_from_row(
                        {VARDATA_ANY(row.role), VARSIZE_ANY_EXHDR(row.role)}, content,
                        root_container(row.metadata, sqlstate::data_corrupted));
                else if (slots[i].content_length <= content.size())
                    message = message_refs::message_from_row(
                        {VARDATA_ANY(row.role), VARSIZE_ANY_EXHDR(row.role)},
                        content.substr(0, slots[i].content_length),
                        jsonb::Container(slots[i].element, sqlstate::data_corrupted));
            }
            if (!message)
                throw Error(sqlstate::data_corrupted,
                            pg_call([&] {
                                return psprintf("snapshot %d of session %s does not verify",
                                                number, uuid_text(session_id));
                            }),
                            pg_call([&] {
                                return psprintf("Message %d of the session's history, which "
                                                "the snapshot refers to, is %s.",
                                                slots[i].order,
                                                row.role ? "not the message it refers to"
                                                         : "missing or not visible");
                            }),
                            "Run verify_session() on the session.");
            elements.push_back(std::move(*message));
        }
        return to_jsonb(message_refs::with_messages(
            root_container(stored, sqlstate::data_corrupted), std::move(elements)));
    });
}

} // namespace

void verify_state_hash(Datum session_id, int32 number, Jsonb *state, Datum expected) {
    if (!state_hash_equals(expected, state_hash_of(state)))
        raise_corrupt(session_id, number, "The restored state does not match its stored hash.");
}

bool restore_snapshot(Datum session_id, int32 number, MemoryContext upper, bool read_only,
                      RestoredSnapshot *out, bool stored_form) {
    Datum args[] = {session_id, Int32GetDatum(number)};
    run(Sql::ChainRange, args, nullptr, read_only);
    uint64 rows = SPI_processed;
    if (rows == 0)
        return false;
    uint64 last = rows - 1;
    int32 found = column_int32(last, RangeNumber);
    if (number != PG_INT32_MAX && found != number)
        return false;
    if (!is_keyframe(0))
        raise_corrupt(session_id, found, "The chain does not start at a keyframe.");

    bool isnull;
    Jsonb *state;
    if (rows == 1) {
        state = DatumGetJsonbP(column_copy(0, RangeState, &isnull, upper));
    } else {
        // Keyframe + deltas, applied in one pass (delta_apply.hpp).
        Jsonb *keyframe = DatumGetJsonbP(column(0, RangeState, &isnull));
        Jsonb **deltas = static_cast<Jsonb **>(palloc(sizeof(Jsonb *) * (rows - 1)));
        for (uint64 i = 1; i < rows; ++i) {
            Datum delta = column(i, RangeDelta, &isnull);
            if (isnull || is_keyframe(i))
                raise_corrupt(session_id, column_int32(i, RangeNumber),
                              "A delta snapshot has no delta.");
            deltas[i - 1] = DatumGetJsonbP(delta);
        }
        MemoryContext old = MemoryContextSwitchTo(upper);
        state = apply_delta_chain(keyframe, deltas, static_cast<int>(rows - 1));
        MemoryContextSwitchTo(old);
    }
    if (!state)
        raise_corrupt(session_id, found, "The keyframe has no state.");

    out->snapshot_number = found;
    out->id = column_copy(last, RangeId, &isnull, upper);
    out->snapshot_size = column_int64(last, RangeSize);
    out->created_at = column_copy(last, RangeCreatedAt, &isnull, upper);
    out->metadata = column_copy(last, RangeMetadata, &isnull, upper);
    Datum hash = column(last, RangeHash, &isnull);
    // Messages by reference: the lists along the chain, then the history rows.
    bytea **refs = static_cast<bytea **>(palloc(sizeof(bytea *) * rows));
    int64 *sizes = static_cast<int64 *>(palloc(sizeof(int64) * rows));
    for (uint64 i = 0; i < rows; ++i) {
        Datum r = column(i, RangeMessageRefs, &isnull);
        refs[i] = isnull ? nullptr : DatumGetByteaPP(r);
        sizes[i] = column_int64(i, RangeSize);
    }
    out->stored_state = state;
    out->whole_refs = nullptr;
    Slot *slots;
    uint32 count;
    if (fold_refs(session_id, found, refs, sizes, rows, &slots, &count,
                  stored_form ? &out->whole_refs : nullptr)) {
        MemoryContext old = MemoryContextSwitchTo(upper);
        if (out->whole_refs)
            out->whole_refs = reinterpret_cast<bytea *>(
                DatumGetPointer(datumCopy(PointerGetDatum(out->whole_refs), false, -1)));
        MemoryContextSwitchTo(old);
        if (stored_form) {
            // a repair rewrites the stored form and the list: the messages are not read, and
            // every later restore still checks the hash
            out->state = nullptr;
            return true;
        }
        Jsonb *full = put_messages_back(session_id, found, state, slots, count, read_only);
        old = MemoryContextSwitchTo(upper);
        state = reinterpret_cast<Jsonb *>(
            DatumGetPointer(datumCopy(PointerGetDatum(full), false, -1)));
        MemoryContextSwitchTo(old);
    }
    verify_state_hash(session_id, found, state, hash);
    out->state = state;
    return true;
}

} // namespace sp
