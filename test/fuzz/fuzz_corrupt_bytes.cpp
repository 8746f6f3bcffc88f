// Corrupt bytes, as if read from a damaged page: arbitrary bytes, or a valid document or
// fingerprint with a few bytes overwritten, cut or shifted, given to everything that reads a
// stored state, a stored delta or a stored fingerprint. Each must refuse with sp::Error
// (XX001 on the restore path) or succeed; never read outside the bytes, never UB.
#include "core/delta_codec.hpp"
#include "core/fingerprint.hpp"
#include "fuzz_common.hpp"

#define XXH_INLINE_ALL
#include <xxhash.h>

#include <cstring>

using namespace sp;
using namespace sp::fuzz;

namespace {

// What a reader may answer to damaged bytes, besides success.
void expect_refusal(const Error &e, bool restore_path) {
    bool ok = strcmp(e.sqlstate(), "XX001") == 0 || strcmp(e.sqlstate(), "54000") == 0 ||
              strcmp(e.sqlstate(), "54001") == 0;
    if (!restore_path) // the SQL functions report damage below the root as 22023
        ok = ok || strcmp(e.sqlstate(), "22023") == 0;
    if (!ok) {
        fprintf(stderr, "unexpected error %s: %s\n", e.sqlstate(), e.what());
        abort();
    }
}

template <typename F> void refused_or_done(bool restore_path, F f) {
    try {
        f();
    } catch (const Error &e) {
        expect_refusal(e, restore_path);
    }
}

// Damages `bytes` in place: a few overwritten bytes or words, a cut, an inserted or dropped byte.
void damage(Gen &gen, std::string &bytes) {
    for (int n = 1 + gen.pick(4); n > 0 && !bytes.empty(); --n) {
        size_t at = gen.in().ConsumeIntegralInRange<size_t>(0, bytes.size() - 1);
        switch (gen.pick(7)) {
        case 0:
            bytes[at] = static_cast<char>(gen.in().ConsumeIntegral<uint8_t>());
            break;
        case 1:
            bytes[at] ^= static_cast<char>(1u << gen.pick(8));
            break;
        case 2: { // a 32-bit word (a header or JEntry when aligned) set to something telling
            static const uint32_t words[] = {0,          0xFFFFFFFF, 0x0FFFFFFF, 0x80000000,
                                             0x8FFFFFFF, 0x10000001, 0x20000001, 0x40000001,
                                             0x60000001, 0x50000004, 0x7FFFFFFF, 0x00000001};
            uint32_t w = gen.pick(3) ? words[gen.pick(12)] : gen.in().ConsumeIntegral<uint32_t>();
            at &= ~size_t(3);
            if (at + 4 <= bytes.size())
                memcpy(&bytes[at], &w, 4);
            break;
        }
        case 3:
            bytes.resize(at);
            break;
        case 4:
            bytes.insert(bytes.begin() + at,
                         static_cast<char>(gen.in().ConsumeIntegral<uint8_t>()));
            break;
        case 5:
            bytes.erase(bytes.begin() + at);
            break;
        default: { // a small count or length changed
            uint32_t w;
            at &= ~size_t(3);
            if (at + 4 <= bytes.size()) {
                memcpy(&w, &bytes[at], 4);
                w += static_cast<uint32_t>(gen.in().ConsumeIntegralInRange<int>(-3, 3));
                memcpy(&bytes[at], &w, 4);
            }
        }
        }
    }
}

// Reads everything there is to read, as a restore or a save would.
void walk(const Value &v, int depth) {
    if (!v.is_container()) {
        uint32_t n;
        jsonb::decode_small_int(v, &n);
        return;
    }
    if (depth > 1200)
        return;
    Container c(v, "XX001");
    for (uint32_t i = 0; i < c.size(); ++i) {
        if (c.is_object()) {
            c.key(i);
            walk(c.value(i), depth + 1);
        } else {
            walk(c.element(i), depth + 1);
        }
    }
    Value found;
    for (const char *key : {"a", "messages", "r", "k1", ""})
        c.find(key, &found);
    if (c.size() > 1) { // backwards, past the forward-walk cache
        c.element(c.size() - 1);
        c.element(0);
    }
}

void state_or_delta(Gen &gen, bool raw) {
    std::string valid = jsonb::encode(gen.value(4));
    std::string other = jsonb::encode(gen.mutate(root(valid), 4));
    std::string bytes;
    if (raw) {
        bytes = gen.in().ConsumeRandomLengthString(4096);
    } else {
        bytes = gen.pick(2) ? valid.substr(4) : other.substr(4);
        damage(gen, bytes);
    }
    ExactBytes damaged(bytes);
    Value sound = root(valid);

    // a stored keyframe, and a stored delta, on the restore path
    refused_or_done(true, [&] { walk(root_of(damaged), 0); });
    refused_or_done(true, [&] {
        delta::Arena arena;
        jsonb::Node d;
        std::vector<Value> chain;
        if (delta::diff(sound, root(other), &d, arena, nullptr)) {
            std::string encoded = jsonb::encode(d);
            ExactBytes stored(encoded.substr(4));
            chain.push_back(root_of(stored));
            std::string restored =
                jsonb::encode(delta::apply(root_of(damaged), chain, "XX001", nullptr));
        }
        jsonb::encode(delta::apply(root_of(damaged), {}, "XX001", nullptr));
    });
    refused_or_done(true, [&] {
        std::vector<Value> chain{root_of(damaged)};
        jsonb::encode(delta::apply(sound, chain, "XX001", nullptr));
        chain.push_back(root_of(damaged));
        jsonb::encode(delta::apply(root_of(damaged), chain, "XX001", nullptr));
    });
    // jsonb_delta / jsonb_apply_delta on a damaged argument
    refused_or_done(false, [&] {
        delta::Arena arena;
        jsonb::Node d;
        if (delta::diff(root_of(damaged), sound, &d, arena, nullptr))
            jsonb::encode(d);
    });
    refused_or_done(false, [&] {
        delta::Arena arena;
        jsonb::Node d;
        if (delta::diff(sound, root_of(damaged), &d, arena, nullptr))
            jsonb::encode(d);
    });
    refused_or_done(false, [&] {
        std::vector<Value> chain{root_of(damaged)};
        jsonb::encode(delta::apply(sound, chain, "22023", nullptr));
    });
    // a save of a damaged state: its fingerprint, its messages, a delta from a fingerprint
    refused_or_done(true, [&] { fingerprint::messages_mark(root_of(damaged)); });
    refused_or_done(true, [&] {
        Container top(damaged.data.get(), damaged.size, "XX001");
        if (!top.is_object())
            return;
        fingerprint::members_of(top);
        std::vector<fingerprint::Member> next;
        delta::Arena arena;
        std::vector<fingerprint::Member> before;
        if (root(valid).is_container() && Container(root(valid), "XX001").is_object())
            before = fingerprint::members_of(Container(root(valid), "XX001"));
        auto d = fingerprint::delta_from(before, top, &next, arena, UINT64_MAX);
        if (d)
            jsonb::encode(*d);
    });
}

void stored_fingerprint(Gen &gen, bool raw) {
    std::string doc = jsonb::encode(gen.object(4));
    Container top = root_container(doc);
    std::string bytes;
    if (raw) {
        bytes = gen.in().ConsumeRandomLengthString(4096);
    } else {
        fingerprint::Print print;
        print.keyframe_number = gen.in().ConsumeIntegral<uint32_t>();
        print.keyframe_bytes = gen.in().ConsumeIntegral<uint64_t>();
        print.messages = fingerprint::messages_mark(root(doc));
        print.members = fingerprint::members_of(top);
        bytes = fingerprint::serialize(print);
        damage(gen, bytes);
        if (gen.pick(2) && bytes.size() >= sizeof(uint64_t)) {
            // Seal the damage with a valid checksum (its last 8 bytes, XXH3-64 of the rest),
            // as a damage before the write would be, so the reader behind the check is fuzzed.
            size_t body = bytes.size() - sizeof(uint64_t);
            uint64_t sum = XXH3_64bits(bytes.data(), body);
            memcpy(&bytes[body], &sum, sizeof sum);
        }
    }
    ExactBytes stored(bytes);
    fingerprint::Print parsed;
    if (!fingerprint::parse({stored.data.get(), stored.size}, &parsed))
        return; // the save then writes a keyframe
    // what parses is what serializes back
    std::string again = fingerprint::serialize(parsed);
    fingerprint::Print reparsed;
    FUZZ_CHECK(fingerprint::parse(again, &reparsed) && fingerprint::serialize(reparsed) == again);
    FUZZ_CHECK(again.size() == bytes.size());
    // a save against whatever the damaged fingerprint says
    std::string next_doc = jsonb::encode(gen.mutate(root(doc), 4));
    Value next = root(next_doc);
    if (!next.is_container() || !Container(next, "XX001").is_object())
        return;
    std::vector<fingerprint::Member> next_members;
    delta::Arena arena;
    auto d =
        fingerprint::delta_from(parsed.members, Container(next, "XX001"), &next_members, arena,
                                gen.pick(2) ? UINT64_MAX : gen.in().ConsumeIntegral<uint32_t>());
    if (d)
        check_canonical(jsonb::encode(*d));
}

// A session's fingerprint patch (fingerprint::serialize_patch) damaged on disk, read over
// its sound base: it does not parse, or what parses serializes back to a patch that does.
void stored_patch(Gen &gen) {
    std::string doc = jsonb::encode(gen.object(4));
    std::string next_doc = jsonb::encode(gen.mutate(root(doc), 4));
    Value next = root(next_doc);
    if (!next.is_container() || !Container(next, "XX001").is_object())
        return;
    fingerprint::Print base_print;
    base_print.members = fingerprint::members_of(root_container(doc));
    std::string base = fingerprint::serialize(base_print);
    fingerprint::Print next_print;
    next_print.messages = fingerprint::messages_mark(next);
    next_print.members = fingerprint::members_of(Container(next, "XX001"));
    std::string patch = fingerprint::serialize_patch(next_print, base, &base_print.members);
    damage(gen, patch);
    if (gen.pick(2) && patch.size() >= sizeof(uint64_t)) { // sealed, as in stored_fingerprint
        size_t body = patch.size() - sizeof(uint64_t);
        uint64_t sum = XXH3_64bits(patch.data(), body);
        memcpy(&patch[body], &sum, sizeof sum);
    }
    ExactBytes stored(patch);
    fingerprint::Print parsed;
    std::vector<fingerprint::Member> base_members;
    if (!fingerprint::parse(base, {stored.data.get(), stored.size}, &parsed, &base_members))
        return;
    std::string again = fingerprint::serialize_patch(parsed, base, &base_members);
    fingerprint::Print reparsed;
    FUZZ_CHECK(fingerprint::parse(base, again, &reparsed));
    FUZZ_CHECK(fingerprint::serialize(reparsed) == fingerprint::serialize(parsed));
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    FuzzedDataProvider in(data, size);
    Gen gen(in);
    switch (gen.pick(5)) {
    case 0:
        state_or_delta(gen, false);
        break;
    case 1:
        state_or_delta(gen, true);
        break;
    case 2:
        stored_fingerprint(gen, false);
        break;
    case 3:
        stored_patch(gen);
        break;
    default:
        stored_fingerprint(gen, true);
    }
    return 0;
}
