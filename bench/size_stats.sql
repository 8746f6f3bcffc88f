-- The project's size aggregate over bench.sizes.
SELECT size_stats(v) FROM bench.sizes;
