-- Baseline of size_stats.sql: the built-in aggregates and percentile_cont.
SELECT count(v), sum(v), min(v), max(v), avg(v),
       percentile_cont(ARRAY[0.5, 0.9, 0.99]) WITHIN GROUP (ORDER BY v) FROM bench.sizes;
