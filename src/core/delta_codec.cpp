#include "core/delta_codec.hpp"

#include "core/error.hpp"

// Header-only: XXH3 is inlined, no library at run time.
#define XXH_INLINE_ALL
#include <xxhash.h>

#include <algorithm>
#include <charconv>
#include <cstring>

namespace sp::delta {

using jsonb::Container;
using jsonb::Node;
using jsonb::Type;
using jsonb::Value;

namespace testing {
uint64_t key_hash_mask = UINT64_MAX;
} // namespace testing

uint64_t key_hash(std::string_view key) {
    return XXH3_64bits(key.data(), key.size()) & testing::key_hash_mask;
}

namespace {

constexpr size_t key_hash_digits = 16;

std::string key_hash_text(uint64_t h) {
    static const char digits[] = "0123456789abcdef";
    std::string out(key_hash_digits, '0');
    for (size_t i = key_hash_digits; i-- > 0; h >>= 4)
        out[i] = digits[h & 15];
    return out;
}

// Exactly 16 lowercase hex digits (the only form key_hash_text writes).
bool parse_key_hash(std::string_view text, uint64_t *out) {
    if (text.size() != key_hash_digits)
        return false;
    uint64_t h = 0;
    for (char c : text) {
        int d = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
        if (d < 0)
            return false;
        h = h << 4 | static_cast<uint64_t>(d);
    }
    *out = h;
    return true;
}

// An array delta's "n": how many elements of the base it keeps, as a jsonb number.
Node kept_count(uint32_t keep, Arena &arena) {
    arena.push_back(jsonb::encode_small_int(keep));
    Value n;
    n.type = Type::Numeric;
    n.data = arena.back().data();
    n.length = static_cast<uint32_t>(arena.back().size());
    return Node::of(n);
}

constexpr int max_depth = 1000; // deeper deltas are refused (54001) rather than risking the stack
constexpr uint32_t poll_every = 4096; // elements between polls
constexpr size_t member_overhead = 8; // a key/value pair's JEntries

const char *const user_input = "22023";

Value string_value(std::string_view s) {
    Value v;
    v.type = Type::String;
    v.data = s.data();
    v.length = static_cast<uint32_t>(s.size());
    return v;
}

// The elements of an array from index `from` on, as an array node.
Node elements_from(const Container &array, uint32_t from) {
    Node elements = Node::array();
    elements.elements.reserve(array.size() - from);
    for (uint32_t i = from; i < array.size(); ++i)
        elements.elements.push_back(Node::of(array.element(i)));
    return elements;
}

void check_depth(int depth) {
    if (depth > max_depth)
        throw Error("54001", "jsonb nesting too deep for the delta codec",
                    "More than " + std::to_string(max_depth) + " nested levels differ.");
}

// ------------------------------------------------------------------ diff

struct Differ {
    Arena &arena;
    const Poll &poll;
    uint32_t work = 0;

    void tick() {
        if (++work % poll_every == 0 && poll)
            poll();
    }

    // Returns false when unchanged; else fills *out and *cost (its approximate encoded size).
    bool diff(const Value &a, const Value &b, Node *out, size_t *cost, int depth) {
        tick();
        if (a.same_bytes(b))
            return false;
        if (a.is_container() && b.is_container()) {
            Container ca(a, user_input), cb(b, user_input);
            if (ca.is_object() && cb.is_object())
                return objects(ca, cb, b, out, cost, depth);
            if (ca.is_array() && cb.is_array())
                return arrays(ca, cb, b, out, cost, depth);
        }
        *out = replace_with(b);
        *cost = b.length + member_overhead;
        return true;
    }

    bool objects(const Container &a, const Container &b, const Value &whole_b, Node *out,
                 size_t *cost, int depth) {
        check_depth(depth);
        std::vector<std::pair<std::string_view, Node>> patched;
        std::vector<std::string_view> removed;
        size_t total = 0;
        uint32_t i = 0, j = 0;
        while (i < a.size() || j < b.size()) {
            int c = i >= a.size()   ? 1
                    : j >= b.size() ? -1
                                    : jsonb::compare_keys(a.key(i), b.key(j));
            if (c < 0) {
                removed.push_back(a.key(i));
                total += a.key(i).size() + 4;
                ++i;
            } else if (c > 0) {
                Value v = b.value(j);
                patched.emplace_back(b.key(j), replace_with(v));
                total += b.key(j).size() + v.length + 2 * member_overhead;
                ++j;
            } else {
                Node sub;
                size_t sub_cost = 0;
                if (diff(a.value(i), b.value(j), &sub, &sub_cost, depth + 1)) {
                    patched.emplace_back(b.key(j), std::move(sub));
                    total += b.key(j).size() + sub_cost + member_overhead;
                }
                ++i;
                ++j;
            }
        }
        if (total >= whole_b.length) {
            *out = replace_with(whole_b);
            *cost = whole_b.length + member_overhead;
        } else {
            *out = object_patch(std::move(patched), std::move(removed));
            *cost = total + 2 * member_overhead;
        }
        return true;
    }

    bool arrays(const Container &a, const Container &b, const Value &whole_b, Node *out,
                size_t *cost, int depth) {
        check_depth(depth);
        uint32_t na = a.size(), nb = b.size();
        uint32_t keep = std::min(na, nb);
        Node patches = Node::object();
        size_t total = 0;
        for (uint32_t i = 0; i < keep; ++i) {
            Value ea = a.element(i), eb = b.element(i);
            Node sub;
            size_t sub_cost = 0;
            if (diff(ea, eb, &sub, &sub_cost, depth + 1)) {
                arena.push_back(std::to_string(i));
                patches.members.emplace_back(arena.back(), std::move(sub));
                total += sub_cost + arena.back().size() + member_overhead;
                if (total >= whole_b.length)
                    break; // a replacement is cheaper; stop diffing
            }
        }
        for (uint32_t i = keep; i < nb && total < whole_b.length; ++i)
            total += b.element(i).length + 4;
        if (total >= whole_b.length) {
            *out = replace_with(whole_b);
            *cost = whole_b.length + member_overhead;
            return true;
        }
        Node d = Node::object();
        if (nb > keep)
            d.members.emplace_back("a", elements_from(b, keep));
        if (keep < na)
            d.members.emplace_back("n", kept_count(keep, arena));
        if (!patches.members.empty()) {
            patches.sort_members();
            d.members.emplace_back("p", std::move(patches));
        }
        d.sort_members();
        *out = std::move(d);
        *cost = total + 3 * member_overhead;
        return true;
    }
};

// ------------------------------------------------------------------ apply

struct Applier {
    const char *misfit;
    const Poll &poll;
    uint32_t work = 0;

    [[noreturn]] void misfit_error(const std::string &what) const {
        throw Error(misfit, "delta does not fit its base document: " + what,
                    "A delta applies only to the document it was made from.");
    }

    void tick() {
        if (++work % poll_every == 0 && poll)
            poll();
    }

    // Turns a view of a container into an Object or Array node of views.
    void expand(Node &n) {
        if (n.kind != Node::Kind::View)
            return;
        if (!n.view.is_container())
            return;
        Container c(n.view, misfit);
        Node e;
        if (c.is_object()) {
            e = Node::object();
            e.members.reserve(c.size());
            for (uint32_t i = 0; i < c.size(); ++i)
                e.members.emplace_back(c.key(i), Node::of(c.value(i)));
        } else if (c.is_array()) {
            e = Node::array();
            e.elements.reserve(c.size());
            for (uint32_t i = 0; i < c.size(); ++i)
                e.elements.push_back(Node::of(c.element(i)));
        } else {
            return; // a scalar root stays a view
        }
        n = std::move(e);
    }

    static bool is_object(const Node &n) {
        if (n.kind == Node::Kind::Object)
            return true;
        return n.kind == Node::Kind::View && n.view.is_container() &&
               Container(n.view, "XX001").is_object();
    }
    static bool is_array(const Node &n) {
        if (n.kind == Node::Kind::Array)
            return true;
        return n.kind == Node::Kind::View && n.view.is_container() &&
               Container(n.view, "XX001").is_array();
    }

    void apply(Node &target, const Value &d, int depth) {
        tick();
        if (!d.is_container())
            misfit_error("a delta must be a JSON object");
        Container ops(d, misfit);
        if (!ops.is_object())
            misfit_error("a delta must be a JSON object");
        // One pass over the operations (at most three keys): a chain applies thousands.
        Value r, o, x, h, n, p, a;
        bool has_r = false, has_o = false, has_x = false, has_h = false, has_n = false,
             has_p = false, has_a = false;
        for (uint32_t i = 0; i < ops.size(); ++i) {
            std::string_view key = ops.key(i);
            Value v = ops.value(i);
            if (key.size() != 1)
                misfit_error("unknown operation (expected r, o, x, h, n, p or a)");
            switch (key[0]) {
            case 'r': has_r = true, r = v; break;
            case 'o': has_o = true, o = v; break;
            case 'x': has_x = true, x = v; break;
            case 'h': has_h = true, h = v; break;
            case 'n': has_n = true, n = v; break;
            case 'p': has_p = true, p = v; break;
            case 'a': has_a = true, a = v; break;
            default: misfit_error("unknown operation (expected r, o, x, h, n, p or a)");
            }
        }
        uint32_t known = has_r + has_o + has_x + has_h + has_n + has_p + has_a;
        if (known == 0)
            return;
        if (has_r) {
            if (known != 1)
                misfit_error("\"r\" cannot be combined with other operations");
            target = Node::of(r);
            return;
        }
        bool object_ops = has_o || has_x || has_h, array_ops = has_n || has_p || has_a;
        if (object_ops && array_ops)
            misfit_error("object and array operations in one delta");
        // Counted where apply descends into a container, as diff counts it: a replacement
        // one level below the deepest patch diff makes must apply.
        check_depth(depth);
        if (object_ops)
            patch_object(target, has_o ? &o : nullptr, has_x ? &x : nullptr,
                         has_h ? &h : nullptr, depth);
        else
            patch_array(target, has_n ? &n : nullptr, has_p ? &p : nullptr, has_a ? &a : nullptr,
                        depth);
    }

    static auto find_member(Node &obj, std::string_view key) {
        auto it = std::lower_bound(
            obj.members.begin(), obj.members.end(), key,
            [](const auto &m, std::string_view k) { return jsonb::compare_keys(m.first, k) < 0; });
        return (it != obj.members.end() && it->first == key) ? it : obj.members.end();
    }

    void patch_object(Node &target, const Value *o, const Value *x, const Value *h, int depth) {
        if (!is_object(target))
            misfit_error("object operations applied to a non-object");
        expand(target);
        std::vector<std::string_view> removed;
        if (x) {
            if (!x->is_container() || !Container(*x, misfit).is_array())
                misfit_error("\"x\" must be an array of keys");
            Container keys(*x, misfit);
            for (uint32_t i = 0; i < keys.size(); ++i) {
                Value k = keys.element(i);
                if (k.type != Type::String)
                    misfit_error("\"x\" must be an array of keys");
                removed.push_back(k.bytes());
            }
        }
        // "h": the members whose key hashes to one of these go (each must match one at least).
        std::vector<uint64_t> removed_hashes;
        if (h) {
            if (!h->is_container() || !Container(*h, misfit).is_array())
                misfit_error("\"h\" must be an array of key hashes");
            Container hashes(*h, misfit);
            removed_hashes.reserve(hashes.size());
            for (uint32_t i = 0; i < hashes.size(); ++i) {
                Value t = hashes.element(i);
                uint64_t v;
                if (t.type != Type::String || !parse_key_hash(t.bytes(), &v))
                    misfit_error("\"h\" must be an array of key hashes (16 hex digits)");
                removed_hashes.push_back(v);
            }
            std::sort(removed_hashes.begin(), removed_hashes.end());
        }
        auto hash_removed = [&](std::string_view key) {
            return !removed_hashes.empty() &&
                   std::binary_search(removed_hashes.begin(), removed_hashes.end(),
                                      key_hash(key));
        };
        std::vector<std::pair<std::string_view, Node>> added;
        if (o) {
            if (!o->is_container() || !Container(*o, misfit).is_object())
                misfit_error("\"o\" must be an object");
            Container patches(*o, misfit);
            for (uint32_t i = 0; i < patches.size(); ++i) {
                std::string_view key = patches.key(i);
                Value sub = patches.value(i);
                if (std::find(removed.begin(), removed.end(), key) != removed.end() ||
                    hash_removed(key))
                    misfit_error("key \"" + std::string(key) + "\" both patched and removed");
                auto it = find_member(target, key);
                if (it != target.members.end()) {
                    apply(it->second, sub, depth + 1);
                    continue;
                }
                Value replacement;
                if (!sub.is_container() || !Container(sub, misfit).is_object() ||
                    Container(sub, misfit).size() != 1 ||
                    !Container(sub, misfit).find("r", &replacement))
                    misfit_error("key \"" + std::string(key) +
                                 "\" is missing and the delta does not add it");
                added.emplace_back(key, Node::of(replacement));
            }
        }
        for (std::string_view key : removed) {
            auto it = find_member(target, key);
            if (it == target.members.end())
                misfit_error("key \"" + std::string(key) + "\" to remove is missing");
            target.members.erase(it);
        }
        if (!removed_hashes.empty()) {
            std::vector<bool> matched(removed_hashes.size());
            auto kept = std::remove_if(
                target.members.begin(), target.members.end(), [&](const auto &m) {
                    uint64_t k = key_hash(m.first);
                    auto at = std::lower_bound(removed_hashes.begin(), removed_hashes.end(), k);
                    if (at == removed_hashes.end() || *at != k)
                        return false;
                    matched[at - removed_hashes.begin()] = true;
                    return true;
                });
            target.members.erase(kept, target.members.end());
            for (size_t i = 0; i < matched.size(); ++i)
                if (!matched[i])
                    misfit_error("no key with hash " + key_hash_text(removed_hashes[i]) +
                                 " to remove");
        }
        // each added key at its place (a few keys into a large object: no sort of it all)
        for (auto &m : added) {
            auto at = std::lower_bound(target.members.begin(), target.members.end(), m.first,
                                       [](const auto &member, std::string_view k) {
                                           return jsonb::compare_keys(member.first, k) < 0;
                                       });
            target.members.insert(at, std::move(m));
        }
    }

    void patch_array(Node &target, const Value *n, const Value *p, const Value *a, int depth) {
        if (!is_array(target))
            misfit_error("array operations applied to a non-array");
        expand(target);
        uint32_t keep = static_cast<uint32_t>(target.elements.size());
        if (n) {
            uint32_t wanted;
            if (!jsonb::decode_small_int(*n, &wanted))
                misfit_error("\"n\" must be a non-negative integer");
            if (wanted > keep)
                misfit_error("\"n\" is " + std::to_string(wanted) + " but the array has " +
                             std::to_string(keep) + " elements");
            keep = wanted;
            target.elements.resize(keep);
        }
        if (p) {
            if (!p->is_container() || !Container(*p, misfit).is_object())
                misfit_error("\"p\" must be an object of element patches");
            Container patches(*p, misfit);
            for (uint32_t i = 0; i < patches.size(); ++i) {
                std::string_view key = patches.key(i);
                uint32_t index = 0;
                auto [end, ec] = std::from_chars(key.data(), key.data() + key.size(), index);
                if (ec != std::errc() || end != key.data() + key.size() || key.empty() ||
                    (key.size() > 1 && key[0] == '0'))
                    misfit_error("\"p\" keys must be element indexes");
                if (index >= keep)
                    misfit_error("patch of element " + std::to_string(index) + " beyond the kept " +
                                 std::to_string(keep));
                apply(target.elements[index], patches.value(i), depth + 1);
            }
        }
        if (a) {
            if (!a->is_container() || !Container(*a, misfit).is_array())
                misfit_error("\"a\" must be an array");
            Container appended(*a, misfit);
            target.elements.reserve(target.elements.size() + appended.size());
            for (uint32_t i = 0; i < appended.size(); ++i)
                target.elements.push_back(Node::of(appended.element(i)));
        }
    }
};

} // namespace

Node replace_with(const Value &v) {
    Node d = Node::object();
    d.members.emplace_back("r", Node::of(v));
    return d;
}

Node append_elements(const Container &array, uint32_t from) {
    Node d = Node::object();
    d.members.emplace_back("a", elements_from(array, from));
    return d;
}

Node array_patch(const Container &next, uint32_t base_size, const std::vector<uint32_t> &replaced,
                 Arena &arena) {
    uint32_t keep = std::min(base_size, next.size());
    Node d = Node::object();
    if (next.size() > keep)
        d.members.emplace_back("a", elements_from(next, keep));
    if (keep < base_size)
        d.members.emplace_back("n", kept_count(keep, arena));
    if (!replaced.empty()) {
        Node patches = Node::object();
        for (uint32_t i : replaced) {
            arena.push_back(std::to_string(i));
            patches.members.emplace_back(arena.back(), replace_with(next.element(i)));
        }
        patches.sort_members();
        d.members.emplace_back("p", std::move(patches));
    }
    d.sort_members();
    return d;
}

Node object_patch(std::vector<std::pair<std::string_view, Node>> patched,
                  std::vector<std::string_view> removed, std::vector<uint64_t> removed_hashes,
                  Arena *arena) {
    Node d = Node::object();
    if (!patched.empty()) {
        Node o = Node::object();
        o.members = std::move(patched);
        o.sort_members();
        d.members.emplace_back("o", std::move(o));
    }
    if (!removed.empty()) {
        std::sort(removed.begin(), removed.end(), [](std::string_view a, std::string_view b) {
            return jsonb::compare_keys(a, b) < 0;
        });
        Node x = Node::array();
        for (std::string_view k : removed)
            x.elements.push_back(Node::of(string_value(k)));
        d.members.emplace_back("x", std::move(x));
    }
    if (!removed_hashes.empty()) {
        std::sort(removed_hashes.begin(), removed_hashes.end());
        Node h = Node::array();
        for (uint64_t k : removed_hashes) {
            arena->push_back(key_hash_text(k));
            h.elements.push_back(Node::of(string_value(arena->back())));
        }
        d.members.emplace_back("h", std::move(h));
        d.sort_members();
    }
    return d;
}

bool diff(const Value &a, const Value &b, Node *out, Arena &arena, const Poll &poll) {
    Differ differ{arena, poll};
    size_t cost = 0;
    return differ.diff(a, b, out, &cost, 0);
}

Node apply(const Value &base, const std::vector<Value> &deltas, const char *misfit_sqlstate,
           const Poll &poll) {
    Applier applier{misfit_sqlstate, poll};
    Node root = Node::of(base);
    for (const Value &d : deltas)
        applier.apply(root, d, 0);
    return root;
}

} // namespace sp::delta
