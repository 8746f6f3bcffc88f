-- Sessions: create_session, get_session_summary, and what a client may change directly.
SET client_min_messages = warning;
\i test/sql/refusal.sql

CREATE ROLE regress_sp_owner;
SET ROLE regress_sp_owner;

-- create_session returns the new row, owned by the caller.
SELECT name, model, description, metadata, visibility, status, user_id = current_user AS mine,
       snapshot_count, latest_snapshot_number, message_count, stored_bytes
  FROM create_session('first session', 'gpt-5', 'a test', '{"tags":["x"]}', 'organization');
SELECT name, model, visibility, metadata FROM create_session(p_name => 'named args');
SELECT count(*) FROM free_agent_sessions;

-- Bad input: a clear error, nothing written.
SELECT pg_temp.refusal($$SELECT create_session(NULL)$$);
SELECT pg_temp.refusal($$SELECT create_session('')$$);
SELECT pg_temp.refusal($$SELECT create_session(repeat('x', 201))$$);
SELECT pg_temp.refusal($$SELECT create_session('ok', p_metadata => '[1,2]')$$);
SELECT pg_temp.refusal($$SELECT create_session('ok', p_metadata => '"text"')$$);
SELECT pg_temp.refusal($$SELECT create_session('ok', p_visibility => 'everyone')$$);
SELECT length(name) FROM create_session(repeat('é', 200));
SELECT count(*) FROM free_agent_sessions;

-- Direct writes: the user-editable columns are the client's, updated_at follows.
INSERT INTO free_agent_sessions (id, name) VALUES ('00000000-0000-0000-0000-0000000000a1', 'inserted');
RESET ROLE;
UPDATE free_agent_sessions SET updated_at = '2000-01-01' WHERE id = '00000000-0000-0000-0000-0000000000a1';
SET ROLE regress_sp_owner;
UPDATE free_agent_sessions SET status = 'paused', current_state = 'waiting'
 WHERE id = '00000000-0000-0000-0000-0000000000a1';
SELECT status, current_state, updated_at > '2000-01-01' AS touched
  FROM free_agent_sessions WHERE id = '00000000-0000-0000-0000-0000000000a1';

-- ... and are checked like create_session's arguments.
SELECT pg_temp.refusal($$INSERT INTO free_agent_sessions (name) VALUES ('')$$);
SELECT pg_temp.refusal($$UPDATE free_agent_sessions SET name = repeat('n', 201) WHERE id = '00000000-0000-0000-0000-0000000000a1'$$);
SELECT pg_temp.refusal($$UPDATE free_agent_sessions SET metadata = '[1]' WHERE id = '00000000-0000-0000-0000-0000000000a1'$$);

-- ... but counters and owner copies are not, even for the owner.
SELECT pg_temp.refusal($$UPDATE free_agent_sessions SET snapshot_count = 99 WHERE id = '00000000-0000-0000-0000-0000000000a1'$$);
SELECT pg_temp.refusal($$UPDATE free_agent_sessions SET user_id = 'someone-else' WHERE id = '00000000-0000-0000-0000-0000000000a1'$$);
SELECT pg_temp.refusal($$INSERT INTO free_agent_sessions (name, snapshot_count) VALUES ('cheat', 5)$$);
SELECT pg_temp.refusal($$INSERT INTO free_agent_sessions (name, user_id) VALUES ('not mine', 'someone-else')$$);

-- The summary reads the counters.
SELECT session_id, name, status, snapshot_count, latest_snapshot_number, message_count, stored_bytes
  FROM get_session_summary('00000000-0000-0000-0000-0000000000a1');
SELECT pg_temp.refusal($$SELECT * FROM get_session_summary(NULL)$$);
SELECT pg_temp.refusal($$SELECT * FROM get_session_summary('00000000-0000-0000-0000-00000000ffff')$$);

DELETE FROM free_agent_sessions WHERE id = '00000000-0000-0000-0000-0000000000a1';
SELECT count(*) FROM free_agent_sessions;

RESET ROLE;
DELETE FROM free_agent_sessions;
DROP ROLE regress_sp_owner;
