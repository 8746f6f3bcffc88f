#include "core/jsonb_format.hpp"

#include "core/error.hpp"

#include <cstring>

namespace sp::jsonb {

namespace {

uint32_t read_u32(const char *p) {
    uint32_t v;
    memcpy(&v, p, sizeof v);
    return v;
}

uint32_t int_align(uint32_t offset) {
    return (offset + 3u) & ~3u;
}

} // namespace

Container::Container(const char *data, uint32_t length, const char *corrupt_sqlstate)
    : data_(data), length_(length), corrupt_sqlstate_(corrupt_sqlstate) {
    if (length < sizeof(uint32_t))
        corrupt("container shorter than its header");
    header_ = read_u32(data);
    count_ = header_ & count_mask;
    if ((header_ & (flag_object | flag_array)) == 0)
        corrupt("container is neither object nor array");
    entries_ = is_object() ? count_ * 2 : count_;
    if (is_scalar() && (count_ != 1 || is_object()))
        corrupt("malformed scalar container");
    uint64_t header_bytes = sizeof(uint32_t) + uint64_t(entries_) * sizeof(uint32_t);
    if (header_bytes > length)
        corrupt("container entries overrun its length");
    payload_ = data + header_bytes;
}

void Container::corrupt(const char *what) const {
    throw Error(corrupt_sqlstate_, std::string("malformed jsonb: ") + what);
}

uint32_t Container::offset_of(uint32_t index) const {
    // As PostgreSQL's getJsonbOffset: add up the lengths back to the nearest entry that
    // stores its end offset (every offset_stride-th does), or to the position of the last
    // call when that comes first. A forward walk costs O(1) per entry, any other access at
    // most offset_stride steps: an object's keys and values are read alternately.
    uint32_t offset = 0;
    for (uint32_t i = index; i > 0; --i) {
        if (i == cached_index_) {
            offset += cached_offset_;
            break;
        }
        uint32_t e = read_u32(data_ + sizeof(uint32_t) * i); // entry i - 1
        offset += e & offlen_mask;
        if (e & has_offset)
            break;
    }
    cached_index_ = index;
    cached_offset_ = offset;
    return offset;
}

Value Container::entry(uint32_t index) const {
    if (index >= entries_)
        corrupt("entry index out of range");
    uint32_t e = read_u32(data_ + sizeof(uint32_t) * (1 + index));
    uint32_t start = offset_of(index);
    uint32_t field = e & offlen_mask;
    uint32_t end = (e & has_offset) ? field : start + field;
    uint64_t payload_size = length_ - static_cast<uint64_t>(payload_ - data_);
    if (end < start || end > payload_size)
        corrupt("entry overruns its container");
    Value v;
    v.type = static_cast<Type>(e & type_mask);
    switch (v.type) {
    case Type::String:
        v.data = payload_ + start;
        v.length = end - start;
        break;
    case Type::Numeric:
    case Type::Container: {
        // Numerics and containers are int-aligned; the padding belongs to the entry.
        uint32_t aligned = int_align(static_cast<uint32_t>(payload_ - data_) + start) -
                           static_cast<uint32_t>(payload_ - data_);
        if (aligned > end)
            corrupt("entry padding overruns its data");
        v.data = payload_ + aligned;
        v.length = end - aligned;
        if (v.type == Type::Numeric && v.length < 4)
            corrupt("numeric shorter than its header");
        break;
    }
    case Type::False:
    case Type::True:
    case Type::Null:
        break;
    default:
        corrupt("unknown entry type");
    }
    return v;
}

bool Container::find(std::string_view key, Value *out) const {
    if (!is_object())
        return false;
    uint32_t lo = 0, hi = count_;
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        int c = compare_keys(this->key(mid), key);
        if (c == 0) {
            *out = value(mid);
            return true;
        }
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return false;
}

int compare_keys(std::string_view a, std::string_view b) {
    if (a.size() != b.size())
        return a.size() < b.size() ? -1 : 1;
    int c = a.empty() ? 0 : memcmp(a.data(), b.data(), a.size());
    return c;
}

Value root_value(const char *data, uint32_t length, const char *corrupt_sqlstate) {
    Container root(data, length, corrupt_sqlstate);
    if (root.is_scalar())
        return root.element(0);
    Value v;
    v.type = Type::Container;
    v.data = data;
    v.length = length;
    return v;
}

// PostgreSQL numerics: a 4-byte varlena header, a uint16 "short" header, base-10000
// digits. Only non-negative integers below 10000^3 are needed here (dscale 0, weight 0..2).
namespace {
constexpr uint16_t numeric_short = 0x8000;
constexpr uint16_t numeric_short_sign = 0x2000;
constexpr uint16_t numeric_short_dscale = 0x1F80;
constexpr uint16_t numeric_short_weight_sign = 0x0040;
constexpr uint16_t numeric_short_weight = 0x003F;
constexpr uint16_t numeric_format_mask = 0xC000;

uint32_t varlena_4b_header(uint32_t length) {
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
    return length & 0x3FFFFFFF;
#else
    return length << 2;
#endif
}

uint32_t varlena_4b_length(uint32_t header) {
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
    return header & 0x3FFFFFFF;
#else
    return (header >> 2) & 0x3FFFFFFF;
#endif
}
} // namespace

std::string encode_small_int(uint32_t value) {
    uint16_t digits[3];
    int n = 0;
    if (value >= 100000000u)
        digits[n++] = static_cast<uint16_t>(value / 100000000u);
    if (value >= 10000u)
        digits[n++] = static_cast<uint16_t>((value / 10000u) % 10000u);
    if (value > 0)
        digits[n++] = static_cast<uint16_t>(value % 10000u);
    int weight = n > 0 ? n - 1 : 0;
    while (n > 0 && digits[n - 1] == 0) // PostgreSQL strips trailing zero digits
        --n;
    uint16_t header = numeric_short | static_cast<uint16_t>(weight & numeric_short_weight);
    uint32_t length = 4 + 2 + 2 * n;
    std::string out(length, '\0');
    uint32_t vl = varlena_4b_header(length);
    memcpy(&out[0], &vl, 4);
    memcpy(&out[4], &header, 2);
    memcpy(&out[6], digits, 2 * n);
    return out;
}

bool decode_small_int(const Value &v, uint32_t *out) {
    if (v.type != Type::Numeric || v.length < 6)
        return false;
    uint32_t vl = read_u32(v.data);
    // A numeric stored in jsonb normally has a 4-byte header; PostgreSQL may also store
    // a 1-byte header (low bit set on little-endian). Accept only the 4-byte form.
    if ((vl & 0x3) != 0 || varlena_4b_length(vl) != v.length)
        return false;
    uint16_t header;
    memcpy(&header, v.data + 4, 2);
    if ((header & numeric_format_mask) != numeric_short || (header & numeric_short_sign) ||
        (header & numeric_short_dscale) || (header & numeric_short_weight_sign))
        return false;
    int weight = header & numeric_short_weight;
    int n = static_cast<int>((v.length - 6) / 2);
    if ((v.length - 6) % 2 != 0 || weight > 2 || n > weight + 1)
        return false;
    uint64_t result = 0;
    for (int i = 0; i <= weight; ++i) {
        uint16_t d = 0;
        if (i < n)
            memcpy(&d, v.data + 6 + 2 * i, 2);
        if (d >= 10000)
            return false;
        result = result * 10000 + d;
    }
    if (n == 0)
        result = 0;
    if (result > 0xFFFFFFFFu)
        return false;
    *out = static_cast<uint32_t>(result);
    return true;
}

} // namespace sp::jsonb
