#!/usr/bin/env bash
# size_stats against the built-in aggregates it replaces (SPEC.md, "Performance": >= 3x
# faster than count/sum/min/max/avg + percentile_cont on 10M rows, percentiles within 1%).
#
#   bench/size_stats.sh            # ROWS=10000000 RUNS=5 by default
#   ROWS=1000000 RUNS=3 bench/size_stats.sh
#
# Builds the extension, starts a throwaway cluster (pg_virtualenv -t), loads ROWS
# deterministic log-normal sizes (fixed seed), times both queries RUNS times each,
# alternating, in one backend, serially (max_parallel_workers_per_gather = 0: percentile_cont
# cannot run in parallel, so both sides get one core; work_mem is large enough for the
# baseline's sort to stay in memory, its best case), checks the percentiles, and prints a
# Markdown report. A parallel size_stats run is printed apart, for information.
#
# The aggregate is created from a private copy of the freshly built library rather than by
# installing the extension: other checkouts on this machine install into the same
# PostgreSQL directories, and a benchmark that runs for minutes must not pick up their
# build halfway. So nothing shared is installed and no install lock is taken.
set -euo pipefail
trap 'echo "bench/size_stats.sh: failed at line $LINENO" >&2' ERR

if [ "${1:-}" = --inside ]; then
  # Inside pg_virtualenv: PGHOST/PGPORT/PGUSER point at the throwaway cluster.
  psql() { command psql -X -q -v ON_ERROR_STOP=1 "$@"; }
  psql -f "$WORK/size_stats.sql"
  psql -v rows="$ROWS" <<'SQL'
SELECT setseed(0.2024);
-- Log-normal sizes (median ~3 kB, p99 ~300 kB, a long tail) and one zero in a thousand.
CREATE UNLOGGED TABLE sizes AS
SELECT CASE WHEN i % 1000 = 0 THEN 0
            ELSE floor(exp(8 + 2 * sqrt(-2 * ln(1 - random())) * cos(2 * pi() * random())))::bigint
       END AS size
  FROM generate_series(1, :rows) i;
VACUUM (ANALYZE, FREEZE) sizes;
SQL
  baseline="SELECT count(size), sum(size), min(size), max(size), avg(size),
                   percentile_cont(array[0.5, 0.9, 0.99]) WITHIN GROUP (ORDER BY size)
              FROM sizes"
  native="SELECT size_stats(size) FROM sizes"
  floor="SELECT count(size) FROM sizes" # what any aggregate over the column costs at least
  settings="SET max_parallel_workers_per_gather = 0; SET work_mem = '2GB';"
  # One backend runs every timed query; \timing reports each one's wall time.
  {
    echo "$settings"
    echo "SELECT count(*) FROM sizes;" # warm the cache
    echo '\timing on'
    for _ in $(seq "$RUNS"); do
      echo "\\echo baseline"; echo "$baseline;"
      echo "\\echo size_stats"; echo "$native;"
      echo "\\echo scan_floor"; echo "$floor;"
    done
    echo "\\echo setup"; echo "SET max_parallel_workers_per_gather = 2;"
    for _ in $(seq "$RUNS"); do
      echo "\\echo size_stats_parallel"; echo "$native;"
    done
  } | psql -At >"$WORK/timings.out"
  awk '/^[a-z_]+$/ {which = $0}
       /^Time: / {print which, $2}' "$WORK/timings.out" >"$WORK/times"
  psql -At -F ' ' >"$WORK/accuracy" <<SQL
$settings
WITH exact AS (
  SELECT count(size) AS n, sum(size) AS total, min(size) AS lo, max(size) AS hi,
         avg(size) AS mean,
         percentile_cont(array[0.5, 0.9, 0.99]) WITHIN GROUP (ORDER BY size) AS p
    FROM sizes),
sketch AS (SELECT size_stats(size) AS s FROM sizes)
SELECT (s).count = n AND (s).total = total AND (s).min = lo AND (s).max = hi
         AND abs((s).mean - mean::float8) < 1e-9 * mean::float8,
       p[1], (s).p50, abs((s).p50 - p[1]) / p[1],
       p[2], (s).p90, abs((s).p90 - p[2]) / p[2],
       p[3], (s).p99, abs((s).p99 - p[3]) / p[3]
  FROM exact, sketch;
SQL
  psql -At -c "SELECT pg_size_pretty(pg_relation_size('sizes'))" >"$WORK/table_size"
  exit 0
fi

cd "$(dirname "$0")/.."
. scripts/lib.sh
ROWS=${ROWS:-10000000}
RUNS=${RUNS:-5}
WORK=$(mktemp -d /tmp/session_persist-size-stats.XXXXXX)
trap '[ -n "${KEEP_WORK:-}" ] || rm -rf "$WORK"' EXIT
export ROWS RUNS WORK

make -s -j"$(nproc)" PG_CONFIG="/usr/lib/postgresql/$PG_MAJOR/bin/pg_config" >/dev/null
cp session_persist.so "$WORK/"
# The aggregate's definitions from the install script, bound to the private library.
sed -e "s|@extschema@|public|g" -e "s|MODULE_PATHNAME|$WORK/session_persist.so|g" \
    sql/install/70_size_stats.sql | awk '/^-- Storage per user/ {exit} {print}' >"$WORK/size_stats.sql"
chmod -R a+rX "$WORK"

load_before=$(cut -d' ' -f1-3 /proc/loadavg)
pg_virtualenv -t -v "$PG_MAJOR" -o shared_buffers=1GB -o max_wal_size=8GB \
  "$PWD/bench/size_stats.sh" --inside >"$WORK/cluster.log" 2>&1 \
  || { cat "$WORK/cluster.log"; exit 1; }
load_after=$(cut -d' ' -f1-3 /proc/loadavg)

stats() { # label -> "median best" in ms
  grep "^$1 " "$WORK/times" | cut -d' ' -f2 | sort -n \
    | awk '{v[NR] = $1} END {m = (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2;
                             printf "%.0f %.0f", m, v[1]}'
}
read -r base_median base_best <<<"$(stats baseline)"
read -r native_median native_best <<<"$(stats size_stats)"
read -r parallel_median parallel_best <<<"$(stats size_stats_parallel)"
read -r floor_median floor_best <<<"$(stats scan_floor)"
read -r exact_ok p50 e50 r50 p90 e90 r90 p99 e99 r99 <"$WORK/accuracy"
pct() { awk -v r="$1" 'BEGIN {printf "%.3f%%", 100 * r}'; }
within() { awk -v a="$r50" -v b="$r90" -v c="$r99" 'BEGIN {print (a <= 0.01 && b <= 0.01 && c <= 0.01) ? "yes" : "NO"}'; }
ratio=$(awk -v b="$base_median" -v n="$native_median" 'BEGIN {printf "%.1f", b / n}')
verdict=$(awk -v r="$ratio" 'BEGIN {print (r >= 3) ? "met" : "NOT met"}')

cat <<EOF
## size_stats on $(printf "%'d" "$ROWS") rows

Command: \`bench/size_stats.sh\` (ROWS=$ROWS, RUNS=$RUNS), $(date -u +%Y-%m-%d), PostgreSQL $PG_MAJOR,
$(nproc) cores, table $(cat "$WORK/table_size") (unlogged, log-normal sizes, setseed 0.2024).
Serial plans (max_parallel_workers_per_gather = 0), work_mem = 2GB, shared_buffers = 1GB;
each query run $RUNS times, alternating, in one backend; wall time from psql's \\timing.
Load average before/after: $load_before / $load_after.

| query | median ms | best ms |
|---|---:|---:|
| baseline: count, sum, min, max, avg + percentile_cont(array[0.5, 0.9, 0.99]) | $base_median | $base_best |
| size_stats(size) | $native_median | $native_best |
| size_stats(size), 2 parallel workers (for information) | $parallel_median | $parallel_best |
| count(size) alone: the scan's floor (for information) | $floor_median | $floor_best |

Speed-up (baseline median / size_stats median): **${ratio}x** (target >= 3x: $verdict).

| | percentile_cont | size_stats | relative error |
|---|---:|---:|---:|
| p50 | $p50 | $e50 | $(pct "$r50") |
| p90 | $p90 | $e90 | $(pct "$r90") |
| p99 | $p99 | $e99 | $(pct "$r99") |

Percentiles within 1%: $(within). Count, total, min, max and mean exact: $([ "$exact_ok" = t ] && echo yes || echo NO).
EOF
