-- The project's cleanup: session sbase + n keeps its newest :keep snapshots.
\set n :n + 1
\set k :sbase + :n
SELECT cleanup_old_snapshots(bench.sid(:k), :keep);
