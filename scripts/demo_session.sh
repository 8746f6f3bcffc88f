#!/usr/bin/env bash
# The demo itself, run by scripts/demo inside a throwaway cluster (PG* variables set).
set -euo pipefail
TURNS=$1
q() { psql -X -q -v ON_ERROR_STOP=1 "$@"; }
ADMIN_USER=$PGUSER ADMIN_PASSWORD=${PGPASSWORD:-}
admin() { PGUSER=$ADMIN_USER PGPASSWORD=$ADMIN_PASSWORD q "$@"; }

q <<'SQL'
CREATE EXTENSION session_persist;
CREATE ROLE demo_user LOGIN PASSWORD 'demo';
GRANT CREATE ON SCHEMA public TO demo_user;
SQL
export PGUSER=demo_user PGPASSWORD=demo

# The agent's state after turn t: the conversation so far, a memory of facts, the turn.
# (Built server-side from deterministic text so the demo needs nothing but psql.)
q <<'SQL'
CREATE FUNCTION demo_text(seed int, words int) RETURNS text LANGUAGE sql IMMUTABLE AS $$
  SELECT string_agg((ARRAY['the','agent','reads','a','file','and','plans','next','step','user',
                           'asks','about','tests','database','session','restore','memory','tool',
                           'returns','result','with','error','fix','code','review'])[1 + (seed * 31 + i * 17) % 25], ' ')
    FROM generate_series(1, words) i $$;
CREATE FUNCTION demo_state(t int) RETURNS jsonb LANGUAGE sql IMMUTABLE AS $$
  SELECT jsonb_build_object(
    'turn', t,
    'messages', (SELECT jsonb_agg(m ORDER BY k, r) FROM generate_series(1, t) k,
                   LATERAL (VALUES
                     (1, jsonb_build_object('role', 'user', 'content', demo_text(k, 30))),
                     (2, jsonb_build_object('role', 'assistant', 'content', demo_text(k + 7, 150 + k % 200))),
                     (3, CASE WHEN k % 3 = 0 THEN jsonb_build_object('role', 'tool', 'content', demo_text(k + 3, 400)) END)
                   ) v(r, m) WHERE m IS NOT NULL),
    'memory', (SELECT jsonb_object_agg('fact_' || f, demo_text(f + t / (1 + f), 8)) FROM generate_series(1, 20) f),
    'model', 'demo-model') $$;
SQL

SID=$(q -At -c "SELECT id FROM create_session('demo: refactor the parser', 'demo-model')")
echo "session $SID created by role demo_user"
echo
echo "auto-saving after every turn (every 25th shown):"
printf '  %5s  %-6s  %12s  %12s  %11s\n' turn kind state_bytes stored_bytes save_time
# Each turn prints as it is saved (line-buffered through the pipe), with the time the save
# took on the server (clock_timestamp around the call).
start=$(date +%s.%N)
{
  for t in $(seq 1 "$TURNS"); do
    echo "SELECT $t AS turn, kind, snapshot_size, stored_bytes,
                 round(extract(epoch FROM clock_timestamp() - a.t0)::numeric * 1000, 2)
            FROM (SELECT clock_timestamp() AS t0) a,
                 LATERAL create_session_snapshot('$SID', demo_state($t), p_metadata => '{\"trigger\":\"auto\"}');"
  done
} | stdbuf -oL psql -X -q -v ON_ERROR_STOP=1 -At -F ' ' \
  | awk -v total="$TURNS" '$1 % 25 == 0 || $1 == 1 || $1 == total { printf "  %5d  %-6s  %12d  %12d  %8.2f ms\n", $1, $2, $3, $4, $5; fflush() }'
awk -v n="$TURNS" -v t0="$start" -v t1="$(date +%s.%N)" \
  'BEGIN { printf "  %d saves in %.1f s: %.0f saves/s (one client, states built in SQL each turn)\n", n, t1 - t0, n / (t1 - t0) }'

echo
echo "a retried save of the same state writes nothing:"
q -At -F ' ' -c "SELECT 'snapshot ' || snapshot_number || ', created = ' || created FROM create_session_snapshot('$SID', demo_state($TURNS))"

echo
echo "browser refresh: a new connection restores the latest state"
q -At -c "SELECT format('  restored turn %s with %s messages; identical to what was saved: %s',
                        s->>'turn', jsonb_array_length(s->'messages'), s = demo_state($TURNS))
            FROM get_latest_snapshot('$SID') s"
q -At -c "SELECT format('  restore time (median of 20): %s ms for a %s-byte state',
                        round((percentile_cont(0.5) WITHIN GROUP (ORDER BY ms))::numeric, 2),
                        (SELECT snapshot_size FROM get_snapshot('$SID')))
            FROM (SELECT extract(epoch FROM clock_timestamp() - t0) * 1000 AS ms
                    FROM generate_series(1, 20) i,
                         LATERAL (SELECT clock_timestamp() AS t0) a,
                         LATERAL (SELECT get_latest_snapshot('$SID') IS NOT NULL) r) x"

echo
echo "two tabs: the stale one (which last saw snapshot 1) is refused instead of overwriting"
q -c "SELECT create_session_snapshot('$SID', '{\"turn\": 0}', p_expected_number => 1)" 2>&1 | sed 's/^/  /' || true

echo
echo "another user cannot see the session:"
admin -c "CREATE ROLE demo_other LOGIN PASSWORD 'other'"
PGUSER=demo_other PGPASSWORD=other q -c "SELECT get_latest_snapshot('$SID')" 2>&1 | sed 's/^/  /' || true

echo
echo "storage before pruning:"
q -c "SELECT snapshot_count AS snapshots, pg_size_pretty(total_snapshot_size) AS if_stored_in_full,
             pg_size_pretty(stored_bytes) AS stored_uncompressed,
             round(100.0 * stored_bytes / total_snapshot_size, 1) AS percent
        FROM sessions_list WHERE id = '$SID'"
admin -c "SELECT pg_size_pretty(pg_total_relation_size('session_snapshot_chain')) AS chain_table_on_disk"

echo "pruning to the newest 10 snapshots:"
q -At -c "SELECT '  deleted ' || cleanup_old_snapshots('$SID', 10) || ' snapshots'"
q -At -c "SELECT '  kept: ' || string_agg(snapshot_number || ' (' || kind || ')', ', ' ORDER BY snapshot_number)
            FROM session_snapshots WHERE session_id = '$SID'"
q -At -c "SELECT '  verify_session: ' || CASE WHEN count(*) = 0 THEN 'healthy' ELSE string_agg(problem, '; ') END
            FROM verify_session('$SID')"
q -At -c "SELECT '  every kept snapshot restores exactly: ' || bool_and(snapshot_data = demo_state((snapshot_data->>'turn')::int))
            FROM session_snapshots WHERE session_id = '$SID'"
q -c "SELECT name, status, snapshot_count, latest_snapshot_number, pg_size_pretty(stored_bytes) AS stored
        FROM sessions_list"
