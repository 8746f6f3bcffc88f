-- Baseline of cleanup.sql: a plain DELETE of the same rows (n <= :cut).
\set n :n + 1
\set k :sbase + :n
DELETE FROM bench.@TABLE@ WHERE session_id = bench.sid(:k) AND n <= :cut;
