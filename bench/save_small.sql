-- The project's save of small states that change everywhere: client c saves into session
-- sbase + c, states 1..nsmall of story c % nstories in a loop (-D n=-1 -D sbase -D nsmall
-- -D nstories).
\set n :n + 1
\set sess :sbase + :client_id
\set story :client_id % :nstories
\set m 1 + :n % :nsmall
SELECT create_session_snapshot(bench.sid(:sess), (SELECT state FROM bench.small WHERE story = :story AND n = :m));
