-- Baseline of save_small.sql: the seed design's save of the same states.
\set n :n + 1
\set sess :sbase + :client_id
\set story :client_id % :nstories
\set m 1 + :n % :nsmall
SELECT bench.seed_create_session_snapshot(bench.sid(:sess), (SELECT state FROM bench.small WHERE story = :story AND n = :m));
