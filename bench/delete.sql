-- Baseline of cleanup.sql: a plain DELETE of the same rows (all but the newest :keep).
\set n :n + 1
\set k :sbase + :n
DELETE FROM bench.@TABLE@ WHERE session_id = bench.sid(:k)
   AND n <= (SELECT max(n) - :keep FROM bench.@TABLE@ WHERE session_id = bench.sid(:k));
