// Builds jsonb documents in tests, without PostgreSQL, using the core's own encoder.
#pragma once

#include "core/delta_codec.hpp"
#include "core/json_tree.hpp"
#include "core/jsonb_format.hpp"

#include <deque>
#include <random>
#include <string>
#include <utility>
#include <vector>

namespace sp::test {

using jsonb::Node;
using jsonb::Type;
using jsonb::Value;

class Builder {
  public:
    Node str(const std::string &s) { return leaf(Type::String, keep(s)); }
    Node num(uint32_t n) { return leaf(Type::Numeric, keep(jsonb::encode_small_int(n))); }
    Node boolean(bool b) { return leaf(b ? Type::True : Type::False, {}); }
    Node null() { return leaf(Type::Null, {}); }
    Node obj(std::vector<std::pair<std::string, Node>> members) {
        Node n = Node::object();
        for (auto &[k, v] : members) {
            bool duplicate = false;
            for (auto &m : n.members)
                duplicate |= m.first == k;
            if (!duplicate)
                n.members.emplace_back(keep(k), std::move(v));
        }
        n.sort_members();
        return n;
    }
    Node arr(std::vector<Node> elements) {
        Node n = Node::array();
        n.elements = std::move(elements);
        return n;
    }
    // A random document; depth bounds nesting.
    Node random(std::mt19937 &rng, int depth) {
        int pick = std::uniform_int_distribution<int>(0, 9)(rng);
        if (depth <= 0 || pick < 4) {
            switch (pick % 5) {
            case 0:
                return num(rng() % 100000);
            case 1:
                return str(std::string(rng() % 30, char('a' + rng() % 26)) + "é\n\"");
            case 2:
                return boolean(rng() % 2);
            case 3:
                return null();
            default:
                return str("");
            }
        }
        size_t n = rng() % 12;
        if (pick < 7) {
            std::vector<std::pair<std::string, Node>> ms;
            for (size_t i = 0; i < n; ++i)
                ms.emplace_back("k" + std::to_string(rng() % 60), random(rng, depth - 1));
            return obj(std::move(ms));
        }
        std::vector<Node> es;
        for (size_t i = 0; i < n; ++i)
            es.push_back(random(rng, depth - 1));
        return arr(std::move(es));
    }

    // Keeps bytes alive as long as the builder, for views to point at.
    std::string_view keep(std::string s) {
        arena_.push_back(std::move(s));
        return arena_.back();
    }
    static Node leaf(Type t, std::string_view bytes) {
        Value v;
        v.type = t;
        v.data = bytes.data();
        v.length = static_cast<uint32_t>(bytes.size());
        return Node::of(v);
    }

  private:
    std::deque<std::string> arena_;
};

// The root of an encoded document (jsonb::encode output, 4 header bytes first).
inline Value root(const std::string &doc) {
    return jsonb::root_value(doc.data() + 4, static_cast<uint32_t>(doc.size() - 4), "XX001");
}
inline jsonb::Container root_container(const std::string &doc) {
    return jsonb::Container(doc.data() + 4, static_cast<uint32_t>(doc.size() - 4), "XX001");
}

// Narrows delta::key_hash for the life of the object, so that keys collide.
struct NarrowKeyHash {
    explicit NarrowKeyHash(uint64_t mask) { delta::testing::key_hash_mask = mask; }
    ~NarrowKeyHash() { delta::testing::key_hash_mask = UINT64_MAX; }
    NarrowKeyHash(const NarrowKeyHash &) = delete;
    NarrowKeyHash &operator=(const NarrowKeyHash &) = delete;
};

} // namespace sp::test
