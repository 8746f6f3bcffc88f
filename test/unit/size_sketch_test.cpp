#include "core/size_sketch.hpp"

#include "core/error.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <random>
#include <string>
#include <vector>

using sp::SizeSketch;

namespace {

void *heap_resize(void *, void *old, size_t, size_t new_bytes) {
    void *grown = std::realloc(old, new_bytes);
    if (!grown)
        throw std::bad_alloc();
    return grown;
}

const sp::SketchAllocator heap{heap_resize, nullptr};

// Owns a sketch's malloc'd buckets for the length of a test.
struct Owned {
    SizeSketch s;
    explicit Owned(SizeSketch sketch = SizeSketch::empty(heap)) : s(sketch) {}
    Owned(const Owned &) = delete;
    Owned &operator=(const Owned &) = delete;
    ~Owned() { std::free(s.buckets); }
};

// What PostgreSQL's percentile_cont returns.
double percentile_cont(std::vector<int64_t> sorted, double q) {
    std::sort(sorted.begin(), sorted.end());
    double position = q * double(sorted.size() - 1);
    size_t lower = size_t(std::floor(position));
    size_t upper = size_t(std::ceil(position));
    return double(sorted[lower]) +
           (position - double(lower)) * double(sorted[upper] - sorted[lower]);
}

std::vector<int64_t> log_normal(size_t n, unsigned seed) {
    std::mt19937_64 random(seed);
    std::lognormal_distribution<double> size(8.0, 2.0); // median ~3 kB, long tail
    std::vector<int64_t> values(n);
    for (auto &v : values)
        v = int64_t(size(random));
    return values;
}

std::vector<int64_t> uniform(size_t n, int64_t low, int64_t high, unsigned seed) {
    std::mt19937_64 random(seed);
    std::uniform_int_distribution<int64_t> size(low, high);
    std::vector<int64_t> values(n);
    for (auto &v : values)
        v = size(random);
    return values;
}

const double quantiles[] = {0, 0.001, 0.01, 0.1, 0.25, 0.5, 0.75, 0.9, 0.95, 0.99, 0.999, 1};

void expect_accurate(const std::vector<int64_t> &values) {
    Owned sketch;
    for (int64_t v : values)
        sketch.s.add(v);
    std::vector<int64_t> sorted = values;
    std::sort(sorted.begin(), sorted.end());
    for (double q : quantiles) {
        double exact = percentile_cont(sorted, q);
        double estimate = sketch.s.quantile(q);
        double allowed = SizeSketch::relative_accuracy * exact * (1 + 1e-9);
        EXPECT_LE(std::fabs(estimate - exact), allowed) << "q=" << q << " exact=" << exact;
        EXPECT_LE(std::fabs(estimate - exact), 0.01 * exact) << "q=" << q;
    }
}

std::vector<unsigned char> bytes_of(const SizeSketch &s) {
    std::vector<unsigned char> out(s.serialized_size_bound());
    out.resize(s.serialize(out.data()));
    return out;
}

} // namespace

TEST(SizeSketch, SkewedDataWithinOnePercent) {
    expect_accurate(log_normal(200000, 1));
}

TEST(SizeSketch, UniformDataWithinOnePercent) {
    expect_accurate(uniform(200000, 1000, 1000000, 2));
}

TEST(SizeSketch, SmallIntegersAndZerosWithinOnePercent) {
    // Gaps between neighbours are large relative to the values here, so the interpolation
    // of percentile_cont matters.
    std::vector<int64_t> values = uniform(1001, 0, 20, 3);
    expect_accurate(values);
    expect_accurate({0, 0, 0, 7});
    expect_accurate({5});
    expect_accurate({1, 1000000000000});
}

TEST(SizeSketch, SmallSizesAreExact) {
    // Up to about 1 / relative_accuracy every integer has a bucket of its own.
    std::vector<int64_t> values;
    for (int64_t v = 1; v <= 100; ++v)
        values.push_back(v);
    Owned sketch;
    for (int64_t v : values)
        sketch.s.add(v);
    for (double q : quantiles)
        EXPECT_DOUBLE_EQ(sketch.s.quantile(q), percentile_cont(values, q)) << "q=" << q;
    for (int64_t v = 1; v <= 100; ++v)
        EXPECT_EQ(SizeSketch::integer_estimate(SizeSketch::bucket_index(v)), double(v));
}

TEST(SizeSketch, IntegerEstimateKeepsTheAccuracy) {
    for (int64_t v = 1; v < 5000000; v = v * 11 / 10 + 1) {
        int32_t index = SizeSketch::bucket_index(v);
        double estimate = SizeSketch::integer_estimate(index);
        EXPECT_LE(std::fabs(estimate - double(v)),
                  SizeSketch::relative_accuracy * double(v) * (1 + 1e-9))
            << v;
    }
}

TEST(SizeSketch, ExtremeValues) {
    expect_accurate({INT64_MAX, INT64_MAX - 1, 1, 0, INT64_MAX / 3});
}

TEST(SizeSketch, ExactCountTotalMinMaxMean) {
    Owned sketch;
    for (int64_t v : {30, 0, 10, 20})
        sketch.s.add(v);
    EXPECT_EQ(sketch.s.count, 4);
    EXPECT_EQ(sketch.s.zero_count, 1);
    EXPECT_EQ(sketch.s.min, 0);
    EXPECT_EQ(sketch.s.max, 30);
    EXPECT_DOUBLE_EQ(sketch.s.mean(), 15.0);
    char total[40];
    sketch.s.total_text(total);
    EXPECT_STREQ(total, "60");
}

TEST(SizeSketch, TotalBeyondSixtyFourBits) {
    Owned sketch;
    for (int i = 0; i < 4; ++i)
        sketch.s.add(INT64_MAX);
    EXPECT_FALSE(sketch.s.total_fits_int64());
    char total[40];
    sketch.s.total_text(total);
    EXPECT_STREQ(total, "36893488147419103228"); // 4 * 9223372036854775807
    EXPECT_DOUBLE_EQ(sketch.s.mean(), double(INT64_MAX));
}

TEST(SizeSketch, NegativeRefusedWith22023) {
    Owned sketch;
    sketch.s.add(5);
    try {
        sketch.s.add(-1);
        FAIL() << "no error";
    } catch (const sp::Error &e) {
        EXPECT_STREQ(e.sqlstate(), "22023");
        EXPECT_NE(std::string(e.what()).find("-1"), std::string::npos);
    }
    EXPECT_EQ(sketch.s.count, 1); // the refused value changed nothing
    EXPECT_EQ(sketch.s.min, 5);
}

TEST(SizeSketch, MergeEqualsSinglePass) {
    std::vector<int64_t> values = log_normal(100000, 4);
    values.push_back(0);
    Owned whole;
    for (int64_t v : values)
        whole.s.add(v);
    // Uneven parts, one of them empty, merged in an arbitrary order.
    Owned parts[4];
    for (size_t i = 0; i < values.size(); ++i)
        parts[i % 7 == 0 ? 0 : (i % 3 == 0 ? 1 : 2)].s.add(values[i]);
    Owned merged;
    merged.s.merge(parts[2].s);
    merged.s.merge(parts[3].s);
    merged.s.merge(parts[0].s);
    merged.s.merge(parts[1].s);
    EXPECT_EQ(bytes_of(merged.s), bytes_of(whole.s));
    for (double q : quantiles)
        EXPECT_EQ(merged.s.quantile(q), whole.s.quantile(q)) << "q=" << q;
}

TEST(SizeSketch, MergeIntoEmptyCopies) {
    Owned source;
    for (int64_t v : {4, 400, 40000})
        source.s.add(v);
    Owned copy(SizeSketch::copy(source.s, heap));
    EXPECT_NE(copy.s.buckets, source.s.buckets);
    EXPECT_EQ(bytes_of(copy.s), bytes_of(source.s));
}

TEST(SizeSketch, SerializationRoundTrip) {
    Owned original;
    for (int64_t v : log_normal(50000, 5))
        original.s.add(v);
    original.s.add(0);
    original.s.add(INT64_MAX);
    std::vector<unsigned char> bytes = bytes_of(original.s);
    EXPECT_LE(bytes.size(), original.s.serialized_size_bound());
    Owned back(SizeSketch::deserialize(bytes.data(), bytes.size(), heap));
    EXPECT_EQ(back.s.count, original.s.count);
    EXPECT_EQ(back.s.zero_count, original.s.zero_count);
    EXPECT_EQ(back.s.min, original.s.min);
    EXPECT_EQ(back.s.max, original.s.max);
    EXPECT_EQ(back.s.total_low, original.s.total_low);
    EXPECT_EQ(back.s.total_high, original.s.total_high);
    for (double q : quantiles)
        EXPECT_EQ(back.s.quantile(q), original.s.quantile(q)) << "q=" << q;
    EXPECT_EQ(bytes_of(back.s), bytes);
}

TEST(SizeSketch, EmptySerializationRoundTrip) {
    Owned empty;
    std::vector<unsigned char> bytes = bytes_of(empty.s);
    Owned back(SizeSketch::deserialize(bytes.data(), bytes.size(), heap));
    EXPECT_EQ(back.s.count, 0);
    EXPECT_EQ(back.s.buckets, nullptr);
}

TEST(SizeSketch, CorruptStatesRefusedWithXX001) {
    Owned original;
    for (int64_t v : {1, 2, 3, 1000})
        original.s.add(v);
    std::vector<unsigned char> good = bytes_of(original.s);
    auto refused = [](std::vector<unsigned char> bytes) {
        try {
            Owned s(SizeSketch::deserialize(bytes.data(), bytes.size(), heap));
            return std::string("no error");
        } catch (const sp::Error &e) {
            return std::string(e.sqlstate());
        }
    };
    EXPECT_EQ(refused({}), "XX001");
    for (size_t cut = 1; cut < good.size(); ++cut)
        EXPECT_EQ(refused({good.begin(), good.begin() + cut}), "XX001") << "cut at " << cut;
    std::vector<unsigned char> longer = good;
    longer.push_back(0);
    EXPECT_EQ(refused(longer), "XX001");
    std::vector<unsigned char> version = good;
    version[0] = 99;
    EXPECT_EQ(refused(version), "XX001");
    std::vector<unsigned char> miscounted = good;
    miscounted[1] = 5; // count 4 -> 5: the buckets no longer add up
    EXPECT_EQ(refused(miscounted), "XX001");
    EXPECT_EQ(refused(good), "no error");
}

TEST(SizeSketch, RemoveUndoesAdd) {
    std::vector<int64_t> values = log_normal(10000, 6);
    Owned window;
    window.s.add(0);
    window.s.add(INT64_MAX / 2); // keeps the extremes put while the others come and go
    for (int64_t v : values)
        window.s.add(v);
    for (int64_t v : values)
        ASSERT_TRUE(window.s.remove(v)) << v;
    Owned two;
    two.s.add(0);
    two.s.add(INT64_MAX / 2);
    EXPECT_EQ(bytes_of(window.s), bytes_of(two.s));
}

TEST(SizeSketch, RemoveOfAnExtremeAsksForARecount) {
    Owned s;
    for (int64_t v : {10, 20, 30})
        s.s.add(v);
    EXPECT_FALSE(s.s.remove(10));
    EXPECT_FALSE(s.s.remove(30));
    EXPECT_TRUE(s.s.remove(20));
    EXPECT_EQ(s.s.count, 2);
    Owned same;
    for (int64_t v : {7, 7})
        same.s.add(v);
    EXPECT_TRUE(same.s.remove(7));
    EXPECT_TRUE(same.s.remove(7));
    EXPECT_EQ(same.s.count, 0);
}

TEST(SizeSketch, RemoveOfAnUnknownValueIsAnError) {
    Owned s;
    for (int64_t v : {10, 20, 30})
        s.s.add(v);
    EXPECT_THROW(s.s.remove(25000), sp::Error);
    EXPECT_THROW(s.s.remove(0), sp::Error);
}

TEST(SizeSketch, BucketsCoverEveryBigint) {
    EXPECT_EQ(SizeSketch::bucket_index(1), 0);
    EXPECT_GT(SizeSketch::max_bucket_index(), 4000);
    EXPECT_LT(SizeSketch::max_bucket_index(), 5000); // bounded state size
    for (int64_t v : {int64_t(1), int64_t(2), int64_t(1000), int64_t(1) << 40, INT64_MAX}) {
        double estimate = SizeSketch::bucket_value(SizeSketch::bucket_index(v));
        EXPECT_LE(std::fabs(estimate - double(v)),
                  SizeSketch::relative_accuracy * double(v) * (1 + 1e-9))
            << v;
    }
}
