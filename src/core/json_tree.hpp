// A mutable JSON tree whose leaves are views into existing jsonb buffers (a keyframe, a
// delta, a new state). Only what a delta touches is expanded into nodes; everything else
// stays a view and is copied as bytes when the tree is encoded back into jsonb.
#pragma once

#include "core/jsonb_format.hpp"

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace sp::jsonb {

struct Node {
    enum class Kind { View, Object, Array };

    Kind kind = Kind::View;
    Value view;                                             // Kind::View
    std::vector<std::pair<std::string_view, Node>> members; // Kind::Object, sorted by compare_keys
    std::vector<Node> elements;                             // Kind::Array

    static Node of(const Value &v) {
        Node n;
        n.view = v;
        return n;
    }
    static Node object() {
        Node n;
        n.kind = Kind::Object;
        return n;
    }
    static Node array() {
        Node n;
        n.kind = Kind::Array;
        return n;
    }
    // Sorts an object's members into jsonb key order (keys must be unique).
    void sort_members();
};

// Encodes a tree as a jsonb datum: 4 bytes left for the varlena header, then the root
// container, laid out exactly as PostgreSQL's convertToJsonb lays out the same value.
// A root that is a scalar view becomes PostgreSQL's one-element "raw scalar" array.
// Throws sp::Error 54000 when the result exceeds jsonb's 256 MB limit.
std::string encode(const Node &root);

} // namespace sp::jsonb
