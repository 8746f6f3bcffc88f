-- Baseline of save_growing.sql: the same states, inserted in full into a bare table
-- (@TABLE@ is bare_lz4 or bare_pglz), numbered by the save.
-- Each client saves sessions sbase + j*nclients + c in pairs: session 2i is a plain story
-- (even: one save per turn, turns t0..t1 = saves t0..t1), session 2i+1 a streaming story
-- (odd: three saves per turn, saves 3(t0-1)+1 .. 3*t1), one after the other; a pair is
-- 4 * (t1 - t0 + 1) transactions. (pgbench: -D n=-1 -D t0 -D t1 -D sbase -D nclients
-- -D nstories; n counts this client's transactions.)
\set n :n + 1
\set len :t1 - :t0 + 1
\set r :n % (4 * :len)
\set streaming CASE WHEN :r < :len THEN 0 ELSE 1 END
\set sess :sbase + (2 * (:n / (4 * :len)) + :streaming) * :nclients + :client_id
\set story 2 * (:sess % (:nstories / 2)) + :streaming
\set seq CASE WHEN :streaming = 0 THEN :t0 + :r ELSE 3 * (:t0 - 1) + 1 + :r - :len END
INSERT INTO bench.@TABLE@ (session_id, n, state) VALUES (bench.sid(:sess), :seq, (SELECT state FROM bench.growing WHERE story = :story AND seq = :seq));
