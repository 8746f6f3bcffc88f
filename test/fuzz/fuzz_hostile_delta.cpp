// Hostile deltas: a valid base document and one to three well-formed jsonb documents used as
// deltas, shaped like deltas often enough to get deep into apply (real keys and indexes of
// the base, wrong types, out-of-range counts). apply must refuse with sp::Error 22023 (54001
// for nesting past the limit) or return a well-formed document; and it must agree with a
// plain model of the delta format (README, "Delta format") on which it does and on the result.
#include "core/delta_codec.hpp"
#include "fuzz_common.hpp"

#include <charconv>
#include <cstdio>
#include <cstring>

using namespace sp;
using namespace sp::fuzz;

namespace {

// ------------------------------------------------------------------ the model

struct J {
    Type type = Type::Null; // Container means object or array, by `object`
    bool object = false;
    std::string bytes; // a string's or numeric's bytes
    std::vector<J> elements;
    std::vector<std::pair<std::string, J>> members; // in jsonb key order

    bool operator==(const J &o) const {
        return type == o.type && object == o.object && bytes == o.bytes && elements == o.elements &&
               members == o.members;
    }
    bool is_object() const { return type == Type::Container && object; }
    bool is_array() const { return type == Type::Container && !object; }
    const J *member(std::string_view key) const {
        for (const auto &m : members)
            if (m.first == key)
                return &m.second;
        return nullptr;
    }
};

J model_of(const Value &v) {
    J j;
    j.type = v.type;
    if (!v.is_container()) {
        j.bytes.assign(v.data, v.length);
        return j;
    }
    Container c(v, "XX001");
    j.object = c.is_object();
    for (uint32_t i = 0; i < c.size(); ++i) {
        if (j.object)
            j.members.emplace_back(std::string(c.key(i)), model_of(c.value(i)));
        else
            j.elements.push_back(model_of(c.element(i)));
    }
    return j;
}

// The model as a tree of views into it, to encode.
Node node_of(const J &j) {
    if (j.is_object()) {
        Node n = Node::object();
        for (const auto &m : j.members)
            n.members.emplace_back(m.first, node_of(m.second));
        return n;
    }
    if (j.is_array()) {
        Node n = Node::array();
        for (const J &e : j.elements)
            n.elements.push_back(node_of(e));
        return n;
    }
    return Gen::leaf(j.type, j.bytes);
}

struct Misfit {};

bool key_less(const std::pair<std::string, J> &a, const std::pair<std::string, J> &b) {
    if (a.first.size() != b.first.size())
        return a.first.size() < b.first.size();
    return a.first < b.first; // std::string compares bytes as unsigned char
}

// The text "h" names a key hash by: 16 lowercase hex digits.
std::string hash_text(uint64_t h) {
    char text[17];
    snprintf(text, sizeof text, "%016llx", static_cast<unsigned long long>(h));
    return text;
}

// README: {} unchanged; {"r": V} replaced; {"o": {k: D}, "x": [k...], "h": [H...]} object
// members patched (added when missing and D is exactly {"r": V}), removed, and removed when
// their key hashes to H (each H one at least, after "x"; none of them patched);
// {"n": N, "p": {i: D}, "a": [V]} keep N elements, patch element i < N, append. Anything else
// does not fit.
void model_apply(J &target, const J &d, int depth) {
    if (!d.is_object())
        throw Misfit{};
    static const char *const ops[] = {"r", "o", "x", "h", "n", "p", "a"};
    for (const auto &m : d.members)
        if (std::none_of(std::begin(ops), std::end(ops),
                         [&](const char *op) { return m.first == op; }))
            throw Misfit{};
    const J *r = d.member("r"), *o = d.member("o"), *x = d.member("x"), *h = d.member("h");
    const J *n = d.member("n"), *p = d.member("p"), *a = d.member("a");
    if (r) {
        if (d.members.size() != 1)
            throw Misfit{};
        target = *r;
        return;
    }
    if ((o || x || h) && (n || p || a))
        throw Misfit{};
    if ((o || x || h || n || p || a) && depth > 1000) // the codec's limit (54001)
        throw Misfit{};
    if (o || x || h) {
        if (!target.is_object())
            throw Misfit{};
        std::vector<std::string> removed;
        if (x) {
            if (!x->is_array())
                throw Misfit{};
            for (const J &k : x->elements) {
                if (k.type != Type::String)
                    throw Misfit{};
                removed.push_back(k.bytes);
            }
        }
        std::vector<std::string> removed_hashes;
        if (h) {
            if (!h->is_array())
                throw Misfit{};
            for (const J &t : h->elements) {
                if (t.type != Type::String || t.bytes.size() != 16 ||
                    !std::all_of(t.bytes.begin(), t.bytes.end(), [](char ch) {
                        return (ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'f');
                    }))
                    throw Misfit{};
                removed_hashes.push_back(t.bytes);
            }
        }
        auto hash_removed = [&](const std::string &key) {
            return std::find(removed_hashes.begin(), removed_hashes.end(),
                             hash_text(delta::key_hash(key))) != removed_hashes.end();
        };
        J result = target;
        if (o) {
            if (!o->is_object())
                throw Misfit{};
            for (const auto &patch : o->members) {
                const std::string &key = patch.first;
                const J &sub = patch.second;
                if (std::find(removed.begin(), removed.end(), key) != removed.end() ||
                    hash_removed(key))
                    throw Misfit{};
                auto it = std::find_if(result.members.begin(), result.members.end(),
                                       [&](const auto &m) { return m.first == key; });
                if (it != result.members.end()) {
                    model_apply(it->second, sub, depth + 1);
                } else {
                    if (!sub.is_object() || sub.members.size() != 1 || !sub.member("r"))
                        throw Misfit{};
                    result.members.emplace_back(key, *sub.member("r"));
                }
            }
        }
        for (const std::string &key : removed) {
            auto it = std::find_if(result.members.begin(), result.members.end(),
                                   [&](const auto &m) { return m.first == key; });
            if (it == result.members.end())
                throw Misfit{};
            result.members.erase(it);
        }
        for (const std::string &text : removed_hashes) {
            auto gone = std::remove_if(result.members.begin(), result.members.end(),
                                       [&](const auto &m) {
                                           return hash_text(delta::key_hash(m.first)) == text;
                                       });
            if (gone == result.members.end())
                throw Misfit{};
            result.members.erase(gone, result.members.end());
        }
        std::sort(result.members.begin(), result.members.end(), key_less);
        target = std::move(result);
        return;
    }
    if (!n && !p && !a)
        return; // {}
    if (!target.is_array())
        throw Misfit{};
    size_t keep = target.elements.size();
    if (n) {
        uint32_t wanted;
        Value nv{Type::Numeric, n->bytes.data(), static_cast<uint32_t>(n->bytes.size())};
        if (n->type != Type::Numeric || !jsonb::decode_small_int(nv, &wanted) || wanted > keep)
            throw Misfit{};
        keep = wanted;
        target.elements.resize(keep);
    }
    if (p) {
        if (!p->is_object())
            throw Misfit{};
        for (const auto &[key, sub] : p->members) {
            // a decimal index without leading zeros, below the kept count
            if (key.empty() || key.size() > 10 || (key.size() > 1 && key[0] == '0') ||
                !std::all_of(key.begin(), key.end(),
                             [](char ch) { return ch >= '0' && ch <= '9'; }))
                throw Misfit{};
            uint64_t index = std::stoull(key);
            if (index >= keep)
                throw Misfit{};
            model_apply(target.elements[index], sub, depth + 1);
        }
    }
    if (a) {
        if (!a->is_array())
            throw Misfit{};
        for (const J &e : a->elements)
            target.elements.push_back(e);
    }
}

// ------------------------------------------------------------------ delta-shaped documents

class DeltaGen {
  public:
    explicit DeltaGen(Gen &gen) : gen_(gen) {}

    // A document meant as a delta for `target` (a view, or null when unknown).
    Node delta(const Value *target, int depth) {
        if (depth > 6)
            return Node::object();
        switch (gen_.pick(12)) {
        case 0:
            return Node::object();
        case 1:
        case 2:
            return one("r", gen_.value(2));
        case 3:
        case 4:
        case 5:
            return object_ops(target, depth);
        case 6:
        case 7:
        case 8:
            return array_ops(target, depth);
        case 9: // any keys, any values
        {
            Node d = Node::object();
            static const char *const keys[] = {"r", "o", "x", "n", "p", "a", "q", "", "rr"};
            for (int i = gen_.pick(4); i >= 0; --i)
                d.members.emplace_back(keys[gen_.pick(9)],
                                       gen_.pick(2) ? gen_.value(2) : delta(nullptr, depth + 1));
            Gen::settle(d);
            return d;
        }
        case 10: // not even an object
            return gen_.pick(2) ? gen_.scalar() : gen_.array(2);
        default: { // nested past the limit, or close to it
            Node d = one("r", gen_.scalar());
            int levels = gen_.in().ConsumeIntegralInRange<int>(995, 1005);
            for (int i = 0; i < levels; ++i)
                d = gen_.pick(2) ? one("o", one("k", std::move(d)))
                                 : one("p", one("0", std::move(d)));
            return d;
        }
        }
    }

  private:
    static Node one(std::string_view key, Node value) {
        Node n = Node::object();
        n.members.emplace_back(key, std::move(value));
        return n;
    }

    bool is(const Value *target, bool object) {
        return target && target->is_container() &&
               (object ? Container(*target, "XX001").is_object()
                       : Container(*target, "XX001").is_array());
    }

    Node object_ops(const Value *target, int depth) {
        Node d = Node::object();
        bool object = is(target, true);
        int keys = object ? static_cast<int>(Container(*target, "XX001").size()) : 0;
        if (gen_.pick(4) != 0) {
            Node o = Node::object();
            for (int i = gen_.pick(5); i > 0; --i) {
                if (keys > 0 && gen_.pick(3) != 0) { // an existing member
                    Container c(*target, "XX001");
                    uint32_t k = gen_.pick(keys);
                    Value v = c.value(k);
                    o.members.emplace_back(c.key(k), delta(&v, depth + 1));
                } else { // a new one, usually added properly
                    o.members.emplace_back(gen_.key(i), gen_.pick(4) ? one("r", gen_.value(2))
                                                                     : delta(nullptr, depth + 1));
                }
            }
            Gen::settle(o);
            d.members.emplace_back("o", gen_.pick(10) ? std::move(o) : gen_.value(1));
        }
        if (gen_.pick(3) == 0) {
            Node x = Node::array();
            for (int i = gen_.pick(4); i > 0; --i) {
                if (keys > 0 && gen_.pick(3) != 0)
                    x.elements.push_back(
                        Gen::leaf(Type::String, Container(*target, "XX001").key(gen_.pick(keys))));
                else
                    x.elements.push_back(gen_.pick(4) ? Gen::leaf(Type::String, gen_.key(i))
                                                      : gen_.scalar());
            }
            d.members.emplace_back("x", gen_.pick(10) ? std::move(x) : gen_.value(1));
        }
        if (gen_.pick(3) == 0) { // removals by key hash: mostly of the target's keys
            Node h = Node::array();
            for (int i = gen_.pick(4); i > 0; --i) {
                std::string text;
                switch (gen_.pick(6)) {
                case 0:
                    text = hash_text(delta::key_hash(gen_.key(i)));
                    break;
                case 1:
                    text = hash_text(gen_.in().ConsumeIntegral<uint64_t>());
                    break;
                case 2: // not quite a hash
                    text = gen_.pick(2) ? hash_text(gen_.in().ConsumeIntegral<uint64_t>()).substr(1)
                                        : "ABCDEF0123456789";
                    break;
                default:
                    text = keys > 0 ? hash_text(delta::key_hash(
                                          Container(*target, "XX001").key(gen_.pick(keys))))
                                    : hash_text(delta::key_hash(gen_.key(i)));
                }
                h.elements.push_back(gen_.pick(8) ? Gen::leaf(Type::String, gen_.keep(text))
                                                  : gen_.scalar());
            }
            d.members.emplace_back("h", gen_.pick(10) ? std::move(h) : gen_.value(1));
        }
        Gen::settle(d);
        return d;
    }

    Node array_ops(const Value *target, int depth) {
        Node d = Node::object();
        bool array = is(target, false);
        uint32_t size = array ? Container(*target, "XX001").size() : 0;
        uint32_t keep = size;
        if (gen_.pick(2)) {
            switch (gen_.pick(6)) {
            case 0:
                d.members.emplace_back("n", gen_.value(1));
                break;
            case 1:
                keep = size + 1 + gen_.pick(3);
                d.members.emplace_back("n", number(keep));
                break;
            default:
                keep = size ? gen_.in().ConsumeIntegralInRange<uint32_t>(0, size) : 0;
                d.members.emplace_back("n", number(keep));
            }
        }
        if (gen_.pick(2)) {
            Node p = Node::object();
            for (int i = gen_.pick(5); i > 0; --i) {
                std::string index;
                switch (gen_.pick(8)) {
                case 0:
                    index = gen_.key(i);
                    break;
                case 1:
                    index = std::to_string(keep + gen_.pick(3));
                    break;
                case 2: {
                    static const char *const odd[] = {"01",         "-1",         "+1",
                                                      "1.0",        " 1",         "1 ",
                                                      "4294967296", "4294967295", "99999999999"};
                    index = odd[gen_.pick(9)];
                    break;
                }
                default:
                    index = std::to_string(keep ? gen_.pick(static_cast<int>(std::min(keep, 1000u)))
                                                : 0);
                }
                Value element;
                const Value *at = nullptr;
                uint32_t i_index = 0;
                auto [end, ec] =
                    std::from_chars(index.data(), index.data() + index.size(), i_index);
                if (array && ec == std::errc() && end == index.data() + index.size() &&
                    i_index < size) {
                    element = Container(*target, "XX001").element(i_index);
                    at = &element;
                }
                p.members.emplace_back(gen_.keep(index), delta(at, depth + 1));
            }
            Gen::settle(p);
            d.members.emplace_back("p", gen_.pick(10) ? std::move(p) : gen_.value(1));
        }
        if (gen_.pick(2))
            d.members.emplace_back("a", gen_.pick(8) ? gen_.array(2) : gen_.value(1));
        Gen::settle(d);
        return d;
    }

    Node number(uint32_t n) {
        return Gen::leaf(Type::Numeric, gen_.keep(jsonb::encode_small_int(n)));
    }

    Gen &gen_;
};

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    FuzzedDataProvider in(data, size);
    Gen gen(in);
    DeltaGen deltas(gen);

    std::string base = jsonb::encode(gen.value(5));
    check_canonical(base);
    J model = model_of(root(base));
    bool model_fits = true;
    std::vector<std::string> chain;
    for (int count = 1 + gen.pick(3); count > 0; --count) {
        // The next delta is aimed at the document the model says the chain leads to.
        std::string current = model_fits ? jsonb::encode(node_of(model)) : base;
        Value target = root(current);
        chain.push_back(jsonb::encode(deltas.delta(&target, 0)));
        check_canonical(chain.back());
        if (model_fits) {
            try {
                model_apply(model, model_of(root(chain.back())), 0);
            } catch (const Misfit &) {
                model_fits = false;
            }
        }
    }
    int deepest = 0;
    for (const std::string &d : chain)
        deepest = std::max(deepest, nesting(root(d)));

    Stored keyframe({base}), stored(chain);
    try {
        std::string result =
            jsonb::encode(delta::apply(keyframe.roots()[0], stored.roots(), "22023", nullptr));
        check_canonical(result);
        if (!model_fits) {
            fprintf(stderr, "apply accepted a chain the model refuses\n");
            abort();
        }
        FUZZ_CHECK(model_of(root(result)) == model);
    } catch (const Error &e) {
        bool too_deep = strcmp(e.sqlstate(), "54001") == 0 && deepest > 1000;
        if (!too_deep && strcmp(e.sqlstate(), "22023") != 0) {
            fprintf(stderr, "unexpected error %s: %s\n", e.sqlstate(), e.what());
            abort();
        }
        if (model_fits) {
            fprintf(stderr, "apply refused a chain the model accepts: %s\n", e.what());
            abort();
        }
    }
    return 0;
}
