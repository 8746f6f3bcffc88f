-- Baseline of restore_latest.sql: the latest full state by primary key (the seed's read).
\set k :sbase + random(0, :nsess - 1)
SELECT state FROM bench.@TABLE@ WHERE session_id = bench.sid(:k) ORDER BY n DESC LIMIT 1;
