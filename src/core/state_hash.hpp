// The hash that identifies a snapshot's state: XXH3-128 over the jsonb binary form.
// Equal jsonb values produced by PostgreSQL have equal binary forms, so equal hashes mean
// "unchanged" for change detection; restores recompute it to detect corruption.
// Pure C++: no PostgreSQL headers.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>

namespace sp {

struct StateHash {
    static constexpr size_t size = 16;
    uint8_t bytes[size];

    bool operator==(const StateHash &o) const { return memcmp(bytes, o.bytes, size) == 0; }
    bool operator!=(const StateHash &o) const { return !(*this == o); }
};

StateHash hash_state(const void *data, size_t length);

namespace detail {
// Whether the CPU has AVX2 (state_hash_avx2.cpp's build of XXH3 is then used).
extern const bool cpu_has_avx2;
// XXH3_64bits_update on an XXH3_state_t (xxhash.h; the same layout in every build), by the
// AVX2 build where the CPU has one: the same hash either way (fingerprint.cpp's running hash
// of an array).
void xxh3_64_update(void *state, const void *data, size_t length);
} // namespace detail

} // namespace sp
