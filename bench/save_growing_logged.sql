-- save_growing.sql's save (same sessions, stories and variables), then the session's counters
-- as they stand after it, into bench.retention_log: the retention rows read from them how many
-- snapshots each save pruned ((count before + snapshots numbered since) - count after). Both
-- sides of the retention comparison run this script, so both pay the small INSERT alike.
\set n :n + 1
\set len :t1 - :t0 + 1
\set r :n % (4 * :len)
\set streaming CASE WHEN :r < :len THEN 0 ELSE 1 END
\set sess :sbase + (2 * (:n / (4 * :len)) + :streaming) * :nclients + :client_id
\set story 2 * (:sess % (:nstories / 2)) + :streaming
\set seq CASE WHEN :streaming = 0 THEN :t0 + :r ELSE 3 * (:t0 - 1) + 1 + :r - :len END
SELECT create_session_snapshot(bench.sid(:sess), (SELECT state FROM bench.growing WHERE story = :story AND seq = :seq));
INSERT INTO bench.retention_log SELECT :sess, :n, snapshot_count, latest_snapshot_number FROM free_agent_sessions WHERE id = bench.sid(:sess);
