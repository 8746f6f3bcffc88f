-- Baseline of save_growing.sql: the same states, inserted in full into a bare table
-- (@TABLE@ is bare_lz4 or bare_pglz).
\set n :n + 1
\set turn :t0 + :n % (:t1 - :t0 + 1)
\set sess :sbase + (:n / (:t1 - :t0 + 1)) * :nclients + :client_id
\set story :sess % :nstories
INSERT INTO bench.@TABLE@ (session_id, n, state) VALUES (bench.sid(:sess), :turn, (SELECT state FROM bench.growing WHERE story = :story AND turn = :turn));
