// Fingerprint deltas, as a save makes them: for objects a, b, c derived from the input (b from
// a, c from b), delta_from(fingerprint of a, b), when it returns a delta, turns a into b byte
// for byte; the fingerprint it returns is b's own; a budget the unlimited delta fits in
// gives that same delta, a smaller one none. The fingerprint goes through serialize/parse as
// it does between saves (b's as a patch over a's base), and a second save (b to c) chains onto
// the first.
#include "core/delta_codec.hpp"
#include "core/fingerprint.hpp"
#include "fuzz_common.hpp"

#include <cstring>
#include <optional>

using namespace sp;
using namespace sp::fuzz;

namespace {

std::string members_bytes(const std::vector<fingerprint::Member> &members) {
    fingerprint::Print print;
    print.members = members;
    return fingerprint::serialize(print);
}

// The fingerprint a save stores and the next one reads back.
std::vector<fingerprint::Member> stored(const std::vector<fingerprint::Member> &members) {
    fingerprint::Print back;
    FUZZ_CHECK(fingerprint::parse(members_bytes(members), &back));
    return back.members;
}

// One save: the delta from `previous` (the fingerprint of `before`) to `after`, encoded, or
// nothing when over `budget`. *next receives after's fingerprint.
std::optional<std::string> save(const std::vector<fingerprint::Member> &previous,
                                const std::string &after, uint64_t budget,
                                std::vector<fingerprint::Member> *next) {
    delta::Arena arena;
    std::optional<jsonb::Node> d =
        fingerprint::delta_from(previous, root_container(after), next, arena, budget);
    FUZZ_CHECK(members_bytes(*next) ==
               members_bytes(fingerprint::members_of(root_container(after))));
    if (!d)
        return std::nullopt;
    std::string encoded = jsonb::encode(*d);
    check_canonical(encoded);
    return encoded;
}

std::string apply_chain(const std::string &base, const std::vector<std::string> &deltas) {
    std::vector<jsonb::Value> roots;
    for (const std::string &d : deltas)
        roots.push_back(root(d));
    return jsonb::encode(delta::apply(root(base), roots, "XX001", nullptr));
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    FuzzedDataProvider in(data, size);
    Gen gen(in);
    // A save's state is an object; mutations may make b or c something else: wrap it then.
    auto as_object = [&](jsonb::Node n) {
        if (n.kind == jsonb::Node::Kind::Object ||
            (n.kind == jsonb::Node::Kind::View && n.view.is_container() &&
             Container(n.view, "XX001").is_object()))
            return n;
        jsonb::Node o = jsonb::Node::object();
        o.members.emplace_back("state", std::move(n));
        return o;
    };
    std::string a = jsonb::encode(gen.object(5));
    std::string b = jsonb::encode(as_object(gen.mutate(root(a), 6)));
    std::string c = jsonb::encode(as_object(gen.mutate(root(b), 6)));
    uint64_t tight = gen.in().ConsumeIntegral<uint32_t>();
    try {
        std::vector<fingerprint::Member> print_b, print_c;
        std::optional<std::string> ab =
            save(stored(fingerprint::members_of(root_container(a))), b, UINT64_MAX, &print_b);
        FUZZ_CHECK(ab.has_value());
        FUZZ_CHECK(apply_chain(a, {*ab}) == b);

        // The budget: the delta is built exactly when its encoding fits.
        std::vector<fingerprint::Member> unused;
        std::optional<std::string> within =
            save(stored(fingerprint::members_of(root_container(a))), b, ab->size(), &unused);
        FUZZ_CHECK(within && *within == *ab);
        std::optional<std::string> limited =
            save(stored(fingerprint::members_of(root_container(a))), b, tight, &unused);
        FUZZ_CHECK(!limited || *limited == *ab);
        if (tight >= ab->size())
            FUZZ_CHECK(limited.has_value());

        // Between saves the session keeps a base and a patch: b's fingerprint as a patch
        // over a's reads back as b's.
        fingerprint::Print base_print, next_print, patched;
        base_print.members = fingerprint::members_of(root_container(a));
        next_print.members = print_b;
        std::string base = fingerprint::serialize(base_print);
        std::vector<fingerprint::Member> base_members;
        FUZZ_CHECK(fingerprint::parse(
            base, fingerprint::serialize_patch(next_print, base, &base_print.members), &patched,
            &base_members));
        FUZZ_CHECK(members_bytes(patched.members) == members_bytes(print_b));
        FUZZ_CHECK(members_bytes(base_members) == base);

        std::optional<std::string> bc = save(patched.members, c, UINT64_MAX, &print_c);
        FUZZ_CHECK(bc.has_value());
        FUZZ_CHECK(apply_chain(b, {*bc}) == c);
        FUZZ_CHECK(apply_chain(a, {*ab, *bc}) == c);
    } catch (const Error &e) {
        fprintf(stderr, "unexpected error %s: %s\n", e.sqlstate(), e.what());
        abort();
    }
    return 0;
}
