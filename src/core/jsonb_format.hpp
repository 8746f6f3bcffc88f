// PostgreSQL's jsonb binary format, read and written without PostgreSQL headers.
//
// The delta codec works on this form directly: unchanged sub-documents are compared with
// memcmp and copied as bytes, never rebuilt. The writer reproduces PostgreSQL's own
// encoding (convertToJsonb) byte for byte, so a reconstructed state hashes exactly like the
// state that was saved. The layout constants mirror src/include/utils/jsonb.h, which
// documents the format; they are part of PostgreSQL's on-disk format and do not change.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace sp::jsonb {

// Container header
constexpr uint32_t count_mask = 0x0FFFFFFF;
constexpr uint32_t flag_scalar = 0x10000000;
constexpr uint32_t flag_object = 0x20000000;
constexpr uint32_t flag_array = 0x40000000;
// JEntry
constexpr uint32_t offlen_mask = 0x0FFFFFFF;
constexpr uint32_t type_mask = 0x70000000;
constexpr uint32_t has_offset = 0x80000000;
constexpr uint32_t offset_stride = 32;

enum class Type : uint32_t {
    String = 0x00000000,
    Numeric = 0x10000000,
    False = 0x20000000,
    True = 0x30000000,
    Null = 0x40000000,
    Container = 0x50000000,
};

// One value inside a jsonb buffer: its type and its bytes (without alignment padding).
// For a container the bytes are the whole self-contained container.
struct Value {
    Type type = Type::Null;
    const char *data = nullptr;
    uint32_t length = 0;

    std::string_view bytes() const { return {data, length}; }
    bool is_container() const { return type == Type::Container; }
    bool same_bytes(const Value &o) const { return type == o.type && bytes() == o.bytes(); }
};

// A read-only view of a container (object, array, or the one-element array that holds a
// scalar at the root). `data` points at the container header; `length` bounds all reads.
class Container {
  public:
    // Throws sp::Error (22023 or XX001 per `corrupt_sqlstate`) when the bytes are not a
    // well-formed container.
    Container(const char *data, uint32_t length, const char *corrupt_sqlstate);
    explicit Container(const Value &v, const char *corrupt_sqlstate)
        : Container(v.data, v.length, corrupt_sqlstate) {}

    bool is_object() const { return (header_ & flag_object) != 0; }
    bool is_array() const { return (header_ & flag_array) != 0 && !is_scalar(); }
    bool is_scalar() const { return (header_ & flag_scalar) != 0; }
    uint32_t size() const { return count_; } // elements, or key/value pairs

    // Element i of an array, key or value i of an object. Each call is O(1) amortised when
    // walking forward (it keeps a running offset) and costs at most PostgreSQL's offset
    // stride (32 entries) otherwise, so reading an object's keys and values in turn is linear.
    Value element(uint32_t i) const { return entry(i); }
    std::string_view key(uint32_t i) const { return entry(i).bytes(); }
    Value value(uint32_t i) const { return entry(i + count_); }
    // Binary search in an object's sorted keys; false when absent.
    bool find(std::string_view key, Value *out) const;

    const char *data() const { return data_; }
    uint32_t length() const { return length_; }

  private:
    Value entry(uint32_t index) const;
    uint32_t offset_of(uint32_t index) const;
    [[noreturn]] void corrupt(const char *what) const;

    const char *data_;
    uint32_t length_;
    uint32_t header_;
    uint32_t count_;
    uint32_t entries_; // number of JEntries
    const char *payload_;
    const char *corrupt_sqlstate_;
    // forward-walk cache
    mutable uint32_t cached_index_ = 0;
    mutable uint32_t cached_offset_ = 0;
};

// jsonb's key order: shorter keys first, then bytewise.
int compare_keys(std::string_view a, std::string_view b);

// The root of a jsonb datum (the bytes after the varlena header), as a Value.
Value root_value(const char *data, uint32_t length, const char *corrupt_sqlstate);

// Small non-negative integers as jsonb numerics (PostgreSQL's short numeric format), for
// the counts in deltas. decode returns false for anything that is not such an integer.
std::string encode_small_int(uint32_t value);
bool decode_small_int(const Value &v, uint32_t *out);

} // namespace sp::jsonb
