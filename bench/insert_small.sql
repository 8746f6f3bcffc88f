-- Baseline of save_small.sql: the same states inserted in full into a bare table
-- (numbered apart in each round of an interleaved run).
\set n :n + 1
\set sess :sbase + :client_id
\set story :client_id % :nstories
\set m 1 + :n % :nsmall
\set k :round * 100000000 + :n + 1
INSERT INTO bench.@TABLE@ (session_id, n, state) VALUES (bench.sid(:sess), :k, (SELECT state FROM bench.small WHERE story = :story AND n = :m));
