#include "core/size_sketch.hpp"

#include "core/error.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <string>

namespace sp {

namespace {

// Bucket k holds the values in (gamma^(k-1), gamma^k]; reporting 2 gamma^k / (gamma + 1)
// for all of them is off by at most (gamma - 1) / (gamma + 1) = relative_accuracy.
const double gamma_ratio =
    (1 + SizeSketch::relative_accuracy) / (1 - SizeSketch::relative_accuracy);
const double log_gamma = std::log(gamma_ratio);
const double inverse_log_gamma = 1 / log_gamma;
const double bucket_value_factor = 2 / (gamma_ratio + 1);
const int32_t last_bucket_index = SizeSketch::bucket_index(INT64_MAX);

// A new bucket range gets this much slack each way, so that a column of similar sizes
// settles after a few growths.
constexpr int32_t growth_slack = 64;

// A sketch's serialized form starts with this byte; a later layout gets a new number.
constexpr unsigned char format_version = 1;
constexpr size_t max_varint_bytes = 10;

using uint128 = unsigned __int128;

uint128 total_of(const SizeSketch &s) {
    return (uint128(s.total_high) << 64) | s.total_low;
}

void set_total(SizeSketch &s, uint128 total) {
    s.total_low = uint64_t(total);
    s.total_high = uint64_t(total >> 64);
}

unsigned char *put_varint(unsigned char *out, uint64_t value) {
    while (value >= 0x80) {
        *out++ = static_cast<unsigned char>(value | 0x80);
        value >>= 7;
    }
    *out++ = static_cast<unsigned char>(value);
    return out;
}

[[noreturn]] void corrupted(const char *detail) {
    throw Error(sqlstate::data_corrupted, "size_stats state is corrupted", detail);
}

struct Reader {
    const unsigned char *at;
    const unsigned char *end;

    uint64_t varint() {
        uint64_t value = 0;
        for (int shift = 0; shift < 64; shift += 7) {
            if (at == end)
                corrupted("The state ends in the middle of a number.");
            unsigned char byte = *at++;
            if (shift == 63 && byte > 1)
                corrupted("A number does not fit 64 bits.");
            value |= uint64_t(byte & 0x7f) << shift;
            if (!(byte & 0x80))
                return value;
        }
        corrupted("A number does not fit 64 bits.");
    }
    int64_t non_negative() {
        uint64_t value = varint();
        if (value > uint64_t(INT64_MAX))
            corrupted("A count or size is out of range.");
        return int64_t(value);
    }
};

} // namespace

int32_t SizeSketch::bucket_index(int64_t value) {
    return static_cast<int32_t>(std::ceil(std::log(double(value)) * inverse_log_gamma));
}

double SizeSketch::bucket_value(int32_t index) {
    return std::exp(index * log_gamma) * bucket_value_factor;
}

int32_t SizeSketch::max_bucket_index() {
    return last_bucket_index;
}

// Sizes are integers, so a bucket's estimate can be narrowed to the integers the bucket
// holds: below about 1 / relative_accuracy each bucket holds at most one, and small sizes
// come out exact. Past 2^50 doubles no longer tell neighbouring integers apart.
double SizeSketch::integer_estimate(int32_t index) {
    double estimate = bucket_value(index);
    if (estimate > 0x1p50)
        return estimate;
    auto highest = int64_t(std::floor(std::exp(index * log_gamma)));
    while (bucket_index(highest + 1) == index)
        ++highest;
    while (highest > 1 && bucket_index(highest) > index)
        --highest;
    auto lowest = std::max(int64_t(1), int64_t(std::ceil(std::exp((index - 1) * log_gamma))));
    while (lowest > 1 && bucket_index(lowest - 1) == index)
        --lowest;
    while (bucket_index(lowest) < index)
        ++lowest;
    if (lowest > highest) // no integer in this bucket: it cannot have been used
        return estimate;
    return std::clamp(estimate, double(lowest), double(highest));
}

SizeSketch SizeSketch::empty(SketchAllocator allocator) {
    SizeSketch s{};
    s.allocator = allocator;
    return s;
}

SizeSketch SizeSketch::copy(const SizeSketch &other, SketchAllocator allocator) {
    SizeSketch s = empty(allocator);
    s.merge(other);
    return s;
}

void SizeSketch::reserve(int32_t index) {
    int32_t last = first_index + capacity - 1;
    if (capacity > 0 && index >= first_index && index <= last)
        return;
    int32_t new_first, new_last;
    if (capacity == 0) {
        new_first = index - growth_slack;
        new_last = index + growth_slack;
    } else {
        // Grow by half again in the direction of the new value, so that a range found
        // one value at a time costs a logarithmic number of copies.
        int32_t slack = std::max(growth_slack, capacity / 2);
        new_first = index < first_index ? index - slack : first_index;
        new_last = index > last ? index + slack : last;
    }
    new_first = std::max(new_first, int32_t(0));
    new_last = std::min(new_last, last_bucket_index);
    int32_t new_capacity = new_last - new_first + 1;
    auto *grown = static_cast<uint64_t *>(allocator.resize(
        allocator.context, buckets, sizeof(uint64_t) * capacity, sizeof(uint64_t) * new_capacity));
    int32_t shift = capacity == 0 ? 0 : first_index - new_first;
    if (capacity > 0)
        std::memmove(grown + shift, grown, sizeof(uint64_t) * capacity);
    std::memset(grown, 0, sizeof(uint64_t) * shift);
    std::memset(grown + shift + capacity, 0, sizeof(uint64_t) * (new_capacity - shift - capacity));
    buckets = grown;
    first_index = new_first;
    capacity = new_capacity;
}

void SizeSketch::add(int64_t value) {
    if (value < 0)
        throw Error(sqlstate::invalid_parameter_value,
                    "size_stats cannot take a negative size: " + std::to_string(value), {},
                    "Sizes are byte counts, zero or more.");
    if (value == 0) {
        ++zero_count;
    } else {
        int32_t index = bucket_index(value);
        if (index < first_index || index >= first_index + capacity)
            reserve(index);
        ++buckets[index - first_index];
    }
    if (count == 0) {
        min = max = value;
    } else {
        min = std::min(min, value);
        max = std::max(max, value);
    }
    ++count;
    uint64_t low = total_low + uint64_t(value);
    total_high += low < total_low;
    total_low = low;
}

bool SizeSketch::remove(int64_t value) {
    if (value < 0 || count == 0)
        throw Error(sqlstate::internal_error,
                    "size_stats cannot remove a size it was not given: " + std::to_string(value));
    if (count > 1 && min != max && (value == min || value == max))
        return false;
    if (value == 0) {
        if (zero_count == 0)
            throw Error(sqlstate::internal_error,
                        "size_stats cannot remove a size it was not given: 0");
        --zero_count;
    } else {
        int32_t index = bucket_index(value);
        if (index < first_index || index >= first_index + capacity ||
            buckets[index - first_index] == 0)
            throw Error(sqlstate::internal_error,
                        "size_stats cannot remove a size it was not given: " +
                            std::to_string(value));
        --buckets[index - first_index];
    }
    --count;
    set_total(*this, total_of(*this) - uint64_t(value));
    if (count == 0)
        min = max = 0;
    return true;
}

int32_t SizeSketch::used_first() const {
    for (int32_t i = 0; i < capacity; ++i)
        if (buckets[i])
            return first_index + i;
    return first_index + capacity;
}

int32_t SizeSketch::used_last() const {
    for (int32_t i = capacity - 1; i >= 0; --i)
        if (buckets[i])
            return first_index + i;
    return first_index - 1;
}

void SizeSketch::merge(const SizeSketch &other) {
    if (other.count == 0)
        return;
    int32_t from = other.used_first(), to = other.used_last();
    if (from <= to) {
        reserve(from);
        reserve(to);
        for (int32_t index = from; index <= to; ++index)
            buckets[index - first_index] += other.buckets[index - other.first_index];
    }
    if (count == 0) {
        min = other.min;
        max = other.max;
    } else {
        min = std::min(min, other.min);
        max = std::max(max, other.max);
    }
    count += other.count;
    zero_count += other.zero_count;
    set_total(*this, total_of(*this) + total_of(other));
}

// The estimate of the rank-th smallest value (0-based). The extremes are known exactly;
// an estimate never leaves [min, max], which only brings it nearer the truth.
double SizeSketch::value_at_rank(int64_t rank) const {
    if (rank <= 0)
        return double(min);
    if (rank >= count - 1)
        return double(max);
    if (rank < zero_count)
        return 0;
    uint64_t seen = uint64_t(zero_count);
    for (int32_t i = 0; i < capacity; ++i) {
        seen += buckets[i];
        if (uint64_t(rank) < seen)
            return std::clamp(integer_estimate(first_index + i), double(min), double(max));
    }
    return double(max);
}

// percentile_cont's interpolation between the two values around rank q (n - 1). Both are
// estimated within relative_accuracy, and so is any mix of them with non-negative weights.
double SizeSketch::quantile(double q) const {
    double position = q * double(count - 1);
    double lower_rank = std::floor(position);
    double fraction = position - lower_rank;
    double lower = value_at_rank(int64_t(lower_rank));
    if (fraction == 0)
        return lower;
    double upper = value_at_rank(int64_t(lower_rank) + 1);
    return lower + fraction * (upper - lower);
}

double SizeSketch::mean() const {
    return (double(total_high) * 18446744073709551616.0 + double(total_low)) / double(count);
}

void SizeSketch::total_text(char *out) const {
    char digits[40];
    int n = 0;
    uint128 total = total_of(*this);
    do {
        digits[n++] = char('0' + int(total % 10));
        total /= 10;
    } while (total != 0);
    for (int i = 0; i < n; ++i)
        out[i] = digits[n - 1 - i];
    out[n] = '\0';
}

size_t SizeSketch::serialized_size_bound() const {
    int32_t used = std::max(0, used_last() - used_first() + 1);
    return 1 + 8 * max_varint_bytes + size_t(used) * max_varint_bytes;
}

size_t SizeSketch::serialize(unsigned char *out) const {
    unsigned char *at = out;
    *at++ = format_version;
    at = put_varint(at, uint64_t(count));
    at = put_varint(at, uint64_t(zero_count));
    at = put_varint(at, total_low);
    at = put_varint(at, total_high);
    at = put_varint(at, uint64_t(min));
    at = put_varint(at, uint64_t(max));
    int32_t from = used_first(), to = used_last();
    if (from > to) { // no positive value
        from = 0;
        to = -1;
    }
    at = put_varint(at, uint64_t(from));
    at = put_varint(at, uint64_t(to - from + 1));
    for (int32_t index = from; index <= to; ++index)
        at = put_varint(at, buckets[index - first_index]);
    return size_t(at - out);
}

SizeSketch SizeSketch::deserialize(const unsigned char *data, size_t size,
                                   SketchAllocator allocator) {
    Reader in{data, data + size};
    if (size == 0 || *in.at++ != format_version)
        corrupted("Unknown state format version.");
    SizeSketch s = empty(allocator);
    s.count = in.non_negative();
    s.zero_count = in.non_negative();
    s.total_low = in.varint();
    s.total_high = in.varint();
    s.min = in.non_negative();
    s.max = in.non_negative();
    uint64_t from = in.varint();
    uint64_t used = in.varint();
    if (s.zero_count > s.count || (s.count > 0 && s.min > s.max) ||
        (s.count == 0 && (s.min | s.max | s.total_low | s.total_high) != 0))
        corrupted("Its counts or extremes contradict each other.");
    if (used > uint64_t(last_bucket_index) + 1 || from > uint64_t(last_bucket_index) + 1 - used)
        corrupted("Its bucket range is out of range.");
    uint64_t bucketed = 0;
    if (used > 0) {
        s.reserve(int32_t(from));
        s.reserve(int32_t(from + used - 1));
        for (uint64_t i = 0; i < used; ++i) {
            uint64_t n = in.varint();
            if (n > uint64_t(INT64_MAX) - bucketed)
                corrupted("Its buckets hold more values than it counts.");
            bucketed += n;
            s.buckets[int32_t(from + i) - s.first_index] = n;
        }
    }
    if (bucketed + uint64_t(s.zero_count) != uint64_t(s.count))
        corrupted("Its buckets do not add up to its count.");
    if (in.at != in.end)
        corrupted("Bytes follow the state.");
    return s;
}

} // namespace sp
