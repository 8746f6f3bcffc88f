-- What both sides of the growing-session comparison pay before doing anything: reading the
-- state passed in (detoasting it, as create_session_snapshot and the INSERT both must).
-- Same variables as save_growing.sql.
\set n :n + 1
\set turn :t0 + :n % (:t1 - :t0 + 1)
\set sess :sbase + (:n / (:t1 - :t0 + 1)) * :nclients + :client_id
\set story :sess % :nstories
SELECT jsonb_typeof((SELECT state FROM bench.growing WHERE story = :story AND turn = :turn));
