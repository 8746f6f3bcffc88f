#include "core/message_versions.hpp"

#define XXH_INLINE_ALL
#include <xxhash.h>

#include <algorithm>
#include <unordered_map>

namespace sp::messages {

namespace {

// The running hash of element hashes, one element at a time, so that a mark can be moved
// forward by the hashes of appended elements alone.
uint64_t fold(uint64_t running, uint64_t element) {
    return XXH3_64bits_withSeed(&element, sizeof element, running);
}

uint64_t prefix_hash_of(const std::vector<uint64_t> &hashes, uint32_t count) {
    uint64_t running = 0;
    for (uint32_t i = 0; i < count; ++i)
        running = fold(running, hashes[i]);
    return running;
}

std::vector<uint64_t> hashes_of(const jsonb::Container &array) {
    std::vector<uint64_t> hashes(array.size());
    for (uint32_t i = 0; i < array.size(); ++i)
        hashes[i] = element_hash(array.element(i));
    return hashes;
}

} // namespace

uint64_t element_hash(const jsonb::Value &e) {
    return XXH3_64bits_withSeed(e.data, e.length, static_cast<uint64_t>(e.type));
}

Mark mark_of(const jsonb::Container &messages, bool full) {
    Mark mark;
    if (!messages.is_array())
        return mark;
    std::vector<uint64_t> hashes = hashes_of(messages);
    mark.length = static_cast<uint32_t>(hashes.size());
    uint32_t start = full || mark.length <= window_size ? 0 : mark.length - window_size;
    mark.prefix_hash = prefix_hash_of(hashes, start);
    mark.window.assign(hashes.begin() + start, hashes.end());
    return mark;
}

std::optional<std::vector<uint32_t>> changed_elements(const Mark &previous,
                                                      const jsonb::Container &next) {
    uint32_t start = previous.window_start(), m = next.size();
    if (m < start)
        return std::nullopt;
    uint64_t running = 0;
    for (uint32_t i = 0; i < start; ++i)
        running = fold(running, element_hash(next.element(i)));
    if (running != previous.prefix_hash)
        return std::nullopt;
    std::vector<uint32_t> changed;
    for (uint32_t i = start; i < std::min(previous.length, m); ++i)
        if (element_hash(next.element(i)) != previous.window[i - start])
            changed.push_back(i);
    return changed;
}

Mark extended(const Mark &previous, const jsonb::Container &next) {
    Mark mark = previous;
    for (uint32_t i = previous.length; i < next.size(); ++i)
        mark.window.push_back(element_hash(next.element(i)));
    mark.length = next.size();
    size_t over = mark.window.size() > window_size ? mark.window.size() - window_size : 0;
    for (size_t i = 0; i < over; ++i)
        mark.prefix_hash = fold(mark.prefix_hash, mark.window[i]);
    mark.window.erase(mark.window.begin(), mark.window.begin() + static_cast<long>(over));
    return mark;
}

std::optional<jsonb::Container> messages_of_state(const jsonb::Value &root) {
    if (!root.is_container())
        return std::nullopt;
    jsonb::Container top(root, "XX001");
    jsonb::Value list;
    if (!top.is_object() || !top.find("messages", &list) || !list.is_container())
        return std::nullopt;
    jsonb::Container messages(list, "XX001");
    if (!messages.is_array())
        return std::nullopt;
    return messages;
}

Mark mark_of_state(const jsonb::Value &root, bool full) {
    std::optional<jsonb::Container> messages = messages_of_state(root);
    return messages ? mark_of(*messages, full) : Mark{};
}

std::optional<Versions> versions(const Mark &previous, const jsonb::Container &next) {
    std::vector<uint64_t> hashes = hashes_of(next);
    uint32_t m = static_cast<uint32_t>(hashes.size());
    uint32_t start = previous.window_start();
    if (start > 0 && (m < start || prefix_hash_of(hashes, start) != previous.prefix_hash))
        return std::nullopt;
    Versions out;
    // The shared prefix: at least the part before the window, then element by element.
    out.shared = start;
    while (out.shared < std::min(previous.length, m) &&
           hashes[out.shared] == previous.window[out.shared - start])
        ++out.shared;
    // Each element of the previous array after the shared prefix accounts for one equal
    // element of the new one (the first one left, in order); what is left over is new.
    std::unordered_map<uint64_t, std::vector<uint32_t>> unclaimed;
    for (uint32_t i = previous.length; i-- > out.shared;)
        unclaimed[previous.window[i - start]].push_back(i);
    out.source.reserve(m - out.shared);
    for (uint32_t i = out.shared; i < m; ++i) {
        auto found = unclaimed.find(hashes[i]);
        if (found != unclaimed.end() && !found->second.empty()) {
            out.source.push_back(found->second.back());
            found->second.pop_back();
        } else {
            out.source.push_back(-1);
        }
    }
    return out;
}

std::optional<std::vector<uint32_t>> new_elements(const Mark &previous,
                                                  const jsonb::Container &next) {
    std::optional<Versions> v = versions(previous, next);
    if (!v)
        return std::nullopt;
    std::vector<uint32_t> fresh;
    for (uint32_t k = 0; k < v->source.size(); ++k)
        if (v->source[k] < 0)
            fresh.push_back(v->shared + k);
    return fresh;
}

} // namespace sp::messages
