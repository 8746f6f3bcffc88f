-- Reads the states of a band once before it is timed, so that no side pays alone for the
-- first, cold read of the staging rows (it detoasts them, as a save and an INSERT do).
-- Same variables as save_growing.sql.
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
SELECT jsonb_typeof((SELECT state FROM bench.growing WHERE story = :story AND seq = :seq));
