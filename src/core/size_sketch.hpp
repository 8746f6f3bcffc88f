// SizeSketch: the state of the size_stats aggregate. Exact count, total, min and max, plus a
// mergeable relative-error quantile sketch (log-spaced buckets, DDSketch-style) for the
// percentiles. No PostgreSQL here.
//
// The struct is deliberately plain (trivially destructible): it lives in an aggregate's
// memory context and PostgreSQL errors may longjmp over the frames that use it. Its bucket
// array comes from the Allocator it carries, so the glue can put it in the aggregate
// context (where hash aggregation accounts for it) and the unit tests in malloc'd memory.
#pragma once

#include <cstddef>
#include <cstdint>
#include <type_traits>

namespace sp {

struct SketchAllocator {
    // Returns a block of new_bytes holding the first old_bytes of `old` (old may be null
    // with old_bytes 0). Reports failure itself (throws or raises); never returns null.
    void *(*resize)(void *context, void *old, size_t old_bytes, size_t new_bytes);
    void *context;
};

struct SizeSketch {
    // Every reported percentile is within this relative error of the exact
    // (percentile_cont) value; the issue asks for 1%.
    static constexpr double relative_accuracy = 0.005;

    int64_t count;       // values added, zeros included
    int64_t zero_count;  // zeros have no logarithm: counted apart
    uint64_t total_low;  // total as an unsigned 128-bit number (low and high words), so
    uint64_t total_high; // that no sum of bigints can overflow
    int64_t min;         // meaningful when count > 0
    int64_t max;
    // buckets[i] counts the positive values whose bucket index is first_index + i.
    int32_t first_index;
    int32_t capacity;
    uint64_t *buckets;
    SketchAllocator allocator;

    // An empty sketch; allocates nothing until the first positive value.
    static SizeSketch empty(SketchAllocator allocator);

    // Throws sp::Error 22023 for a negative value.
    void add(int64_t value);
    // Takes one earlier add(value) back. Returns false when it cannot do so exactly (the
    // value is the current min or max and others remain: their new value is unknown); the
    // caller then recomputes from scratch, as PostgreSQL does when an inverse transition
    // function returns NULL. Throws sp::Error XX000 if value was never added.
    bool remove(int64_t value);
    void merge(const SizeSketch &other);
    // A copy of `other` whose buckets come from `allocator`.
    static SizeSketch copy(const SizeSketch &other, SketchAllocator allocator);

    // The value percentile_cont(q) would return for the values added, within
    // relative_accuracy. Requires count > 0 and 0 <= q <= 1.
    double quantile(double q) const;
    double mean() const;
    // The total as a decimal string (it may exceed 64 bits); `out` holds at least 40 chars.
    void total_text(char *out) const;
    bool total_fits_int64() const { return total_high == 0 && total_low <= INT64_MAX; }

    // Serialization, for parallel aggregation: a compact, versioned, byte-order-independent
    // encoding. serialized_size_bound() is enough room for serialize().
    size_t serialized_size_bound() const;
    size_t serialize(unsigned char *out) const;
    // Throws sp::Error XX001 when the bytes are not a serialized sketch.
    static SizeSketch deserialize(const unsigned char *data, size_t size,
                                  SketchAllocator allocator);

    // The bucket of a positive value and the value a bucket stands for.
    static int32_t bucket_index(int64_t value);
    static double bucket_value(int32_t index);
    static int32_t max_bucket_index();
    // bucket_value narrowed to the integers that fall in the bucket.
    static double integer_estimate(int32_t index);

  private:
    void reserve(int32_t index);
    int32_t used_first() const;
    int32_t used_last() const;
    double value_at_rank(int64_t rank) const;
};

static_assert(std::is_trivially_destructible_v<SizeSketch>,
              "SizeSketch must survive PostgreSQL's longjmp: no destructor");
static_assert(std::is_trivially_copyable_v<SizeSketch>, "SizeSketch is a plain struct");

} // namespace sp
