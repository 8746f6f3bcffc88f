-- export_session and import_session: a session as one JSON document and back.
SET client_min_messages = warning;
\i test/sql/refusal.sql

INSERT INTO free_agent_sessions (id, name, description, model, status, current_state, memory_summary, metadata, completed_at)
VALUES ('00000000-0000-0000-0000-000000000501', 'travel plan', 'a trip', 'gpt-x', 'completed', 'done',
        '{"facts":["likes trains"]}', '{"tags":["travel"]}', '2026-01-02 03:04:05+00');
SELECT snapshot_number FROM create_session_snapshot('00000000-0000-0000-0000-000000000501',
  '{"messages":[{"role":"user","content":"plan a trip"},{"role":"assistant","content":"where to?"}]}');
SELECT snapshot_number FROM create_session_snapshot('00000000-0000-0000-0000-000000000501',
  '{"messages":[{"role":"user","content":"plan a trip"},{"role":"assistant","content":"where to?"},{"role":"user","content":[{"type":"text","text":"Lisbon"}]}],"step":2}');
SELECT * FROM append_session_messages('00000000-0000-0000-0000-000000000501', '[{"role":"tool","content":"booked","tool_call_id":"b1"}]');

-- The document (timestamps masked).
SELECT jsonb_pretty(jsonb_set(d, '{messages}', (SELECT jsonb_agg(m - 'created_at') FROM jsonb_array_elements(d -> 'messages') m)))
  FROM export_session('00000000-0000-0000-0000-000000000501') d;
SELECT bool_and((m ->> 'created_at')::timestamptz = s.created_at) AS message_times
  FROM jsonb_array_elements(export_session('00000000-0000-0000-0000-000000000501') -> 'messages') m
  JOIN session_messages s ON s.session_id = '00000000-0000-0000-0000-000000000501'
                          AND s.message_order = (m ->> 'message_order')::int;

-- Round trip: a new session of the caller's with the same fields, messages and state.
CREATE TEMP TABLE imported AS
  SELECT import_session(export_session('00000000-0000-0000-0000-000000000501')) AS id;
SELECT (SELECT id FROM imported) <> '00000000-0000-0000-0000-000000000501' AS new_id,
       export_session((SELECT id FROM imported)) - 'snapshot_number'
         = export_session('00000000-0000-0000-0000-000000000501') - 'snapshot_number' AS equal_documents;
SELECT user_id = current_user AS mine, name, status, snapshot_count, latest_snapshot_number, message_count,
       last_message_at = (SELECT last_message_at FROM free_agent_sessions WHERE id = '00000000-0000-0000-0000-000000000501') AS same_last_message_at
  FROM free_agent_sessions WHERE id = (SELECT id FROM imported);
SELECT snapshot_number, snapshot_data, metadata FROM get_snapshot((SELECT id FROM imported));
-- The imported history is not synced again from the state: each message once.
SELECT message_order, role, content, metadata FROM get_session_messages((SELECT id FROM imported));

-- A session without snapshots or messages exports state null and imports without snapshot.
INSERT INTO free_agent_sessions (id, name) VALUES ('00000000-0000-0000-0000-000000000502', 'bare');
SELECT export_session('00000000-0000-0000-0000-000000000502');
SELECT import_session(export_session('00000000-0000-0000-0000-000000000502')) AS bare_copy \gset
SELECT snapshot_count, message_count, status, visibility, metadata
  FROM free_agent_sessions WHERE id = :'bare_copy';
-- A hand-written minimal document: defaults for what it leaves out.
SELECT import_session(
    '{"format":"session_persist.export","version":1,"session":{"name":"by hand"},
      "messages":[{"role":"user","content":"hi"}],"state":{"step":1}}') AS by_hand \gset
SELECT name, status, visibility, metadata, message_count, snapshot_count, get_latest_snapshot(id)
  FROM free_agent_sessions WHERE id = :'by_hand';

-- A history whose times run ahead of this server's clock (another server's, or the future):
-- last_message_at stays the newest message's time after more messages are appended.
SELECT import_session(
    '{"format":"session_persist.export","version":1,"session":{"name":"from a fast clock"},
      "messages":[{"role":"user","content":"hi","created_at":"2999-01-01 00:00:00+00"}],"state":null}') AS ahead \gset
SELECT count(*) AS appended FROM append_session_messages(:'ahead', '[{"role":"assistant","content":"hello"}]');
SELECT last_message_at = '2999-01-01 00:00:00+00' AS newest_kept FROM free_agent_sessions WHERE id = :'ahead';
SELECT * FROM verify_session(:'ahead');

-- Bad documents: 22023 (22004 for NULL) and nothing written.
CREATE TEMP TABLE before AS SELECT (SELECT count(*) FROM free_agent_sessions) AS sessions, (SELECT count(*) FROM session_messages) AS messages;
CREATE FUNCTION pg_temp.bad(change jsonb, remove text[] DEFAULT '{}') RETURNS text LANGUAGE sql AS $$
  SELECT pg_temp.refusal(format('SELECT import_session(%L)',
    (('{"format":"session_persist.export","version":1,"session":{"name":"n"},"messages":[{"role":"user","content":"x"}],"state":null}'::jsonb
      || change) - remove)::text))
$$;
SELECT pg_temp.refusal($$SELECT import_session(NULL)$$);
SELECT pg_temp.refusal($$SELECT import_session('[]')$$);
SELECT pg_temp.bad('{}', '{format}');
SELECT pg_temp.bad('{"format":"other"}');
SELECT pg_temp.bad('{}', '{version}');
SELECT pg_temp.bad('{"version":2}');
SELECT pg_temp.bad('{"version":"1"}');
SELECT pg_temp.bad('{"extra":1}');
SELECT pg_temp.bad('{}', '{session}');
SELECT pg_temp.bad('{"session":[]}');
SELECT pg_temp.bad('{"session":{}}');
SELECT pg_temp.bad('{"session":{"name":""}}');
SELECT pg_temp.bad('{"session":{"name":7}}');
SELECT pg_temp.bad('{"session":{"name":"n","nmae":"typo"}}');
SELECT pg_temp.bad('{"session":{"name":"n","status":"sleeping"}}');
SELECT pg_temp.bad('{"session":{"name":"n","visibility":true}}');
SELECT pg_temp.bad('{"session":{"name":"n","metadata":[1]}}');
SELECT pg_temp.bad('{"session":{"name":"n","model":3}}');
SELECT pg_temp.bad('{}', '{messages}');
SELECT pg_temp.bad('{"messages":{}}');
SELECT pg_temp.bad('{"messages":["hi"]}');
SELECT pg_temp.bad('{"messages":[{"role":"user","content":"ok"},{"role":"robot","content":"x"}]}');
SELECT pg_temp.bad('{"messages":[{"role":"user"}]}');
SELECT pg_temp.bad('{"messages":[{"role":"user","content":["parts"]}]}');
SELECT pg_temp.bad('{"messages":[{"role":"user","content":"x","metadata":"m"}]}');
SELECT pg_temp.bad('{"messages":[{"role":"user","content":"x","extra":1}]}');
SELECT pg_temp.bad('{"state":[1]}');
SELECT pg_temp.bad('{"state":"s"}');
SELECT pg_temp.bad('{"snapshot_number":"1"}');
SELECT (SELECT count(*) FROM free_agent_sessions) = sessions AS no_sessions_added,
       (SELECT count(*) FROM session_messages) = messages AS no_messages_added FROM before;

-- Access: a foreign private session cannot be exported; a public one can, and its import
-- belongs to the importer. Anonymous callers cannot import.
CREATE ROLE regress_sp_xfer_owner;
CREATE ROLE regress_sp_xfer_other;
CREATE ROLE regress_sp_xfer_anon;
GRANT ALL ON ALL TABLES IN SCHEMA public TO regress_sp_xfer_owner, regress_sp_xfer_other, regress_sp_xfer_anon;
SET ROLE regress_sp_xfer_owner;
INSERT INTO free_agent_sessions (id, name, visibility) VALUES
  ('00000000-0000-0000-0000-000000000511', 'private', 'private'),
  ('00000000-0000-0000-0000-000000000512', 'public', 'public');
SELECT * FROM append_session_messages('00000000-0000-0000-0000-000000000512', '[{"role":"user","content":"shared"}]');
SELECT snapshot_number FROM create_session_snapshot('00000000-0000-0000-0000-000000000512', '{"shared":true}');
RESET ROLE;
SET ROLE regress_sp_xfer_other;
SELECT pg_temp.refusal($$SELECT export_session('00000000-0000-0000-0000-000000000511')$$);
SELECT pg_temp.refusal($$SELECT export_session('00000000-0000-0000-0000-00000000ffff')$$);
SELECT pg_temp.refusal($$SELECT export_session(NULL)$$);
SELECT export_session('00000000-0000-0000-0000-000000000512') -> 'state' AS public_state;
SELECT import_session(export_session('00000000-0000-0000-0000-000000000512')) AS public_copy \gset
SELECT user_id, visibility, message_count, snapshot_count FROM free_agent_sessions
 WHERE id = :'public_copy';
RESET ROLE;
SET session_persist.jwt_roles = 'regress_sp_xfer_anon'; -- a gateway role: its claims count
BEGIN;
SET LOCAL ROLE regress_sp_xfer_anon;
SELECT set_config('request.jwt.claims', '{"role":"anon"}', true);
SELECT export_session('00000000-0000-0000-0000-000000000512') -> 'session' ->> 'name' AS anonymous_reads_public;
SELECT pg_temp.refusal($$SELECT import_session(export_session('00000000-0000-0000-0000-000000000512'))$$);
ROLLBACK;
RESET session_persist.jwt_roles;
-- Every session this file made or changed verifies (chain, hashes, counters): no rows.
SELECT s.id, v.* FROM free_agent_sessions s, LATERAL verify_session(s.id) v WHERE s.user_id IN ('regress_sp_xfer_owner', 'regress_sp_xfer_other');
DELETE FROM free_agent_sessions WHERE user_id IN ('regress_sp_xfer_owner', 'regress_sp_xfer_other');
REVOKE ALL ON ALL TABLES IN SCHEMA public FROM regress_sp_xfer_owner, regress_sp_xfer_other, regress_sp_xfer_anon;
DROP ROLE regress_sp_xfer_owner;
DROP ROLE regress_sp_xfer_other;
DROP ROLE regress_sp_xfer_anon;
