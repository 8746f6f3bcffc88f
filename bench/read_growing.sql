-- Reads the states of a band once before it is timed, so that no side pays alone for the
-- first, cold read of the staging rows (it detoasts them, as a save and an INSERT do).
-- Same variables as save_growing.sql.
\set n :n + 1
\set turn :t0 + :n % (:t1 - :t0 + 1)
\set sess :sbase + (:n / (:t1 - :t0 + 1)) * :nclients + :client_id
\set story :sess % :nstories
SELECT jsonb_typeof((SELECT state FROM bench.growing WHERE story = :story AND turn = :turn));
