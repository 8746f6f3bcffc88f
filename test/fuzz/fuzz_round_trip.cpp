// Round trip: for documents a, b, c derived from the input (b from a, c from b),
// apply(a, diff(a, b)) is b byte for byte, and the chain [diff(a, b), diff(b, c)] applied to
// a is c. Every delta and result is a well-formed jsonb datum as PostgreSQL lays it out.
#include "core/delta_codec.hpp"
#include "fuzz_common.hpp"

#include <cstring>

using namespace sp;
using namespace sp::fuzz;

namespace {

// The delta turning a into b, encoded as it is stored ({} when they are equal).
std::string delta_of(const std::string &a, const std::string &b) {
    delta::Arena arena;
    jsonb::Node d;
    bool changed = delta::diff(root(a), root(b), &d, arena, nullptr);
    FUZZ_CHECK(changed == (a != b));
    std::string encoded = jsonb::encode(changed ? d : jsonb::Node::object());
    check_canonical(encoded);
    FUZZ_CHECK(changed || encoded == jsonb::encode(jsonb::Node::object()));
    return encoded;
}

std::string apply_chain(const std::string &base, const std::vector<std::string> &deltas) {
    Stored keyframe({base}), chain(deltas);
    return jsonb::encode(delta::apply(keyframe.roots()[0], chain.roots(), "XX001", nullptr));
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    FuzzedDataProvider in(data, size);
    Gen gen(in);
    std::string a = jsonb::encode(gen.value(6));
    std::string b = jsonb::encode(gen.mutate(root(a), 8));
    std::string c = jsonb::encode(gen.mutate(root(b), 8));
    check_canonical(a);
    check_canonical(b);
    check_canonical(c);
    int deepest = std::max({nesting(root(a)), nesting(root(b)), nesting(root(c))});

    std::string ab, bc;
    try {
        ab = delta_of(a, b);
        bc = delta_of(b, c);
    } catch (const Error &e) {
        // Documents that differ past the codec's nesting limit are refused, nothing else is.
        if (strcmp(e.sqlstate(), "54001") == 0 && deepest > 1000)
            return 0;
        fprintf(stderr, "diff refused: %s %s\n", e.sqlstate(), e.what());
        abort();
    }
    try {
        FUZZ_CHECK(apply_chain(a, {ab}) == b);
        FUZZ_CHECK(apply_chain(b, {bc}) == c);
        FUZZ_CHECK(apply_chain(a, {ab, bc}) == c);
        // the SQL function's path: a user's delta, misfits reported as 22023
        std::vector<jsonb::Value> one{root(ab)};
        FUZZ_CHECK(jsonb::encode(delta::apply(root(a), one, "22023", nullptr)) == b);
    } catch (const Error &e) {
        // what diff makes, apply takes: no refusal at all here
        fprintf(stderr, "apply refused a delta made by diff: %s %s\n", e.sqlstate(), e.what());
        abort();
    }
    return 0;
}
