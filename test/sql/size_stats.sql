-- The size_stats(bigint) aggregate: exact count, total, min, max, mean; percentiles within
-- 1% of percentile_cont; the same answer serially, in parallel, per partition and as a
-- moving window.
SET client_min_messages = warning;
CREATE FUNCTION pg_temp.refusal(q text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE st text; msg text; det text; hnt text;
BEGIN
  EXECUTE q;
  RETURN 'no error';
EXCEPTION WHEN OTHERS THEN
  GET STACKED DIAGNOSTICS st = RETURNED_SQLSTATE, msg = MESSAGE_TEXT, det = PG_EXCEPTION_DETAIL,
                          hnt = PG_EXCEPTION_HINT;
  RETURN st || ': ' || msg || coalesce(' [' || nullif(det, '') || ']', '')
         || coalesce(' (' || nullif(hnt, '') || ')', '');
END $$;
-- 1 when |estimate - exact| <= 1% of exact.
CREATE FUNCTION pg_temp.within_1pct(estimate float8, exact float8) RETURNS boolean
    LANGUAGE sql IMMUTABLE AS $$ SELECT abs(estimate - exact) <= 0.01 * abs(exact) $$;

-- A small set a reader can check: 1 .. 100, a NULL (skipped).
SELECT (s).count, (s).total, (s).min, (s).max, (s).mean,
       round((s).p50::numeric, 1) AS p50, round((s).p90::numeric, 1) AS p90,
       round((s).p99::numeric, 1) AS p99
  FROM (SELECT size_stats(v) AS s
          FROM (SELECT v FROM generate_series(1, 100) v UNION ALL SELECT NULL) d) q;
SELECT percentile_cont(array[0.5, 0.9, 0.99]) WITHIN GROUP (ORDER BY v) AS exact
  FROM generate_series(1, 100) v;
-- One value; zeros; integer input (cast to bigint).
SELECT size_stats(42);
SELECT size_stats(v) FROM (VALUES (0), (0), (0), (7)) d(v);
SELECT size_stats(v::int) FROM generate_series(1, 3) v;

-- No sizes: count 0 and NULL statistics (like count() and sum()).
SELECT size_stats(v) FROM generate_series(1, 0) v;
SELECT size_stats(NULL::bigint) FROM generate_series(1, 5);
SELECT (size_stats(v)).count, (size_stats(v)).p50 IS NULL AS p50_null FROM generate_series(1, 0) v;

-- Negative sizes are refused (22023), wherever they come in the input.
SELECT pg_temp.refusal($$SELECT size_stats(-1)$$);
SELECT pg_temp.refusal($$SELECT size_stats(v) FROM (VALUES (5), (NULL), (-9223372036854775808)) d(v)$$);
-- Sums past bigint stay exact (numeric, as sum(bigint)).
SELECT (s).total = 3 * 9223372036854775807::numeric AS total_exact, (s).mean, (s).p99
  FROM (SELECT size_stats(9223372036854775807) AS s FROM generate_series(1, 3)) q;

-- Generated data (fixed seed): log-normal sizes (median ~3 kB, long tail) with zeros and
-- NULLs, and uniform sizes. A plain table, so that parallel workers can read it.
SELECT setseed(0.42);
CREATE TABLE size_stats_data AS
SELECT i AS id,
       CASE WHEN i % 1000 = 0 THEN NULL
            WHEN i % 997 = 0 THEN 0
            ELSE floor(exp(8 + 2 * sqrt(-2 * ln(1 - random())) * cos(2 * pi() * random())))::bigint
       END AS skewed,
       floor(random() * 1000000)::bigint AS uniform
  FROM generate_series(1, 200000) i;
ANALYZE size_stats_data;

-- Against the built-in aggregates on the same rows.
CREATE TEMP TABLE exact AS
SELECT count(skewed) AS count, sum(skewed) AS total, min(skewed) AS min, max(skewed) AS max,
       avg(skewed) AS mean,
       percentile_cont(array[0.5, 0.9, 0.99]) WITHIN GROUP (ORDER BY skewed) AS p,
       percentile_cont(array[0.5, 0.9, 0.99]) WITHIN GROUP (ORDER BY uniform) AS up
  FROM size_stats_data;
SELECT count, total, min, max, round(mean, 1) AS mean, p AS skewed_percentiles,
       up AS uniform_percentiles
  FROM exact;
CREATE TEMP TABLE serial AS
SELECT size_stats(skewed) AS s, size_stats(uniform) AS u FROM size_stats_data;
SELECT (s).count = e.count AS count, (s).total = e.total AS total, (s).min = e.min AS min,
       (s).max = e.max AS max, abs((s).mean - e.mean::float8) < 1e-9 * e.mean::float8 AS mean,
       pg_temp.within_1pct((s).p50, e.p[1]) AS p50, pg_temp.within_1pct((s).p90, e.p[2]) AS p90,
       pg_temp.within_1pct((s).p99, e.p[3]) AS p99,
       pg_temp.within_1pct((u).p50, e.up[1]) AS uniform_p50,
       pg_temp.within_1pct((u).p90, e.up[2]) AS uniform_p90,
       pg_temp.within_1pct((u).p99, e.up[3]) AS uniform_p99
  FROM serial, exact e;

-- Per group (hash aggregation, 100 groups): every group within 1% too.
SELECT count(*) AS groups,
       count(*) FILTER (WHERE (s).count = e_count AND (s).total = e_total AND (s).min = e_min
                          AND (s).max = e_max) AS exact_groups,
       count(*) FILTER (WHERE pg_temp.within_1pct((s).p50, e_p[1])
                          AND pg_temp.within_1pct((s).p90, e_p[2])
                          AND pg_temp.within_1pct((s).p99, e_p[3])) AS groups_within_1pct
  FROM (SELECT id % 100 AS g, size_stats(skewed) AS s, count(skewed) AS e_count,
               sum(skewed) AS e_total, min(skewed) AS e_min, max(skewed) AS e_max,
               percentile_cont(array[0.5, 0.9, 0.99]) WITHIN GROUP (ORDER BY skewed) AS e_p
          FROM size_stats_data GROUP BY 1) q;

-- Parallel: partial states from the workers are serialized, sent, deserialized and merged.
-- The merge is exact (same buckets as one pass), so the answer is identical.
SET parallel_setup_cost = 0;
SET parallel_tuple_cost = 0;
SET min_parallel_table_scan_size = 0;
SET max_parallel_workers_per_gather = 2;
SET parallel_leader_participation = off;
SELECT set_config(CASE WHEN current_setting('server_version_num')::int >= 160000
                       THEN 'debug_parallel_query' ELSE 'force_parallel_mode' END,
                  'regress', false) AS forced;
EXPLAIN (COSTS OFF) SELECT size_stats(skewed), size_stats(uniform) FROM size_stats_data;
CREATE FUNCTION pg_temp.workers_launched(q text) RETURNS int LANGUAGE plpgsql AS $$
DECLARE plan jsonb;
BEGIN
  EXECUTE 'EXPLAIN (ANALYZE, FORMAT JSON) ' || q INTO plan;
  RETURN jsonb_path_query_first(plan, '$.**."Workers Launched"');
END $$;
SELECT pg_temp.workers_launched('SELECT size_stats(skewed) FROM size_stats_data') > 0 AS ran_in_workers;
SELECT size_stats(skewed) AS s, size_stats(uniform) AS u FROM size_stats_data \gset parallel_
SELECT :'parallel_s' = s::text AS skewed_identical, :'parallel_u' = u::text AS uniform_identical
  FROM serial;
RESET parallel_setup_cost;
RESET parallel_tuple_cost;
RESET min_parallel_table_scan_size;
RESET max_parallel_workers_per_gather;
RESET parallel_leader_participation;
SELECT set_config(CASE WHEN current_setting('server_version_num')::int >= 160000
                       THEN 'debug_parallel_query' ELSE 'force_parallel_mode' END,
                  'off', false) AS forced;

-- Partitionwise: one partial state per partition, merged in one process.
CREATE TABLE size_stats_parts (id int, skewed bigint) PARTITION BY RANGE (id);
CREATE TABLE size_stats_parts_1 PARTITION OF size_stats_parts FOR VALUES FROM (MINVALUE) TO (50000);
CREATE TABLE size_stats_parts_2 PARTITION OF size_stats_parts FOR VALUES FROM (50000) TO (150000);
CREATE TABLE size_stats_parts_3 PARTITION OF size_stats_parts FOR VALUES FROM (150000) TO (MAXVALUE);
INSERT INTO size_stats_parts SELECT id, skewed FROM size_stats_data;
ANALYZE size_stats_parts;
SET enable_partitionwise_aggregate = on;
SET max_parallel_workers_per_gather = 0;
EXPLAIN (COSTS OFF) SELECT size_stats(skewed) FROM size_stats_parts;
SELECT (SELECT size_stats(skewed) FROM size_stats_parts)::text = s::text AS identical FROM serial;
RESET enable_partitionwise_aggregate;
RESET max_parallel_workers_per_gather;

-- A moving window (10 rows): the inverse transition takes sizes back, and recomputes when
-- the size leaving is the frame's minimum or maximum. Checked against the exact figures of
-- each frame.
SELECT count(*) AS frames,
       count(*) FILTER (WHERE (w).count = x.count AND (w).total IS NOT DISTINCT FROM x.total
                          AND (w).min IS NOT DISTINCT FROM x.min
                          AND (w).max IS NOT DISTINCT FROM x.max) AS exact_frames,
       count(*) FILTER (WHERE x.count = 0 AND (w).p50 IS NULL
                           OR pg_temp.within_1pct((w).p50, x.p[1])
                          AND pg_temp.within_1pct((w).p90, x.p[2])
                          AND pg_temp.within_1pct((w).p99, x.p[3])) AS frames_within_1pct
  FROM (SELECT id, size_stats(skewed) OVER (ORDER BY id ROWS BETWEEN 9 PRECEDING AND CURRENT ROW) AS w
          FROM size_stats_data WHERE id <= 3000 OR id BETWEEN 4990 AND 5010) q
  -- the frames' contents, from another query so that nothing shares size_stats's window
  JOIN (SELECT id, array_agg(skewed) OVER (ORDER BY id ROWS BETWEEN 9 PRECEDING AND CURRENT ROW) AS frame
          FROM size_stats_data WHERE id <= 3000 OR id BETWEEN 4990 AND 5010) f USING (id)
  CROSS JOIN LATERAL (
       SELECT count(v) AS count, sum(v) AS total, min(v) AS min, max(v) AS max,
              percentile_cont(array[0.5, 0.9, 0.99]) WITHIN GROUP (ORDER BY v) AS p
         FROM unnest(f.frame) v) x;
-- A frame of NULLs only counts nothing.
SELECT id, w
  FROM (SELECT id, size_stats(v) OVER (ORDER BY id ROWS BETWEEN 1 PRECEDING AND CURRENT ROW) AS w
          FROM (VALUES (1, 5), (2, NULL), (3, NULL), (4, 7), (5, 3)) d(id, v)) q;

DROP TABLE size_stats_parts;
DROP TABLE size_stats_data;
