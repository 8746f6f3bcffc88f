-- The project's save of a growing session: client c saves turns t0..t1 of its sessions
-- sbase + j*nclients + c, one after the other. States come from bench.growing by primary
-- key, so generating JSON is never timed. (pgbench: -D n=-1 -D t0 -D t1 -D sbase
-- -D nclients -D nstories; n counts this client's transactions.)
\set n :n + 1
\set turn :t0 + :n % (:t1 - :t0 + 1)
\set sess :sbase + (:n / (:t1 - :t0 + 1)) * :nclients + :client_id
\set story :sess % :nstories
SELECT create_session_snapshot(bench.sid(:sess), (SELECT state FROM bench.growing WHERE story = :story AND turn = :turn));
