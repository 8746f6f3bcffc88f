-- The project's restore of the latest state of a random session sbase .. sbase+nsess-1.
\set k :sbase + random(0, :nsess - 1)
SELECT get_latest_snapshot(bench.sid(:k));
