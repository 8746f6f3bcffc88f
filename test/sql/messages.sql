-- The message history: append_session_messages, get_session_messages and the counters.
SET client_min_messages = warning;
\i test/sql/refusal.sql
-- What a reader checks: the history and the session's counters.
CREATE FUNCTION pg_temp.history(s uuid) RETURNS TABLE (message_order int, role text, content text, metadata jsonb)
LANGUAGE sql AS $$
  SELECT message_order, role, content, metadata FROM session_messages WHERE session_id = s ORDER BY message_order
$$;
CREATE FUNCTION pg_temp.counters(s uuid) RETURNS text LANGUAGE sql AS $$
  SELECT format('message_count=%s exact=%s last_message_at_set=%s', message_count,
                message_count = (SELECT count(*) FROM session_messages WHERE session_id = s),
                last_message_at IS NOT NULL)
    FROM free_agent_sessions WHERE id = s
$$;

INSERT INTO free_agent_sessions (id, name) VALUES
  ('00000000-0000-0000-0000-000000000301', 'chat'),
  ('00000000-0000-0000-0000-000000000302', 'long chat');

-- Appends number the messages 1, 2, 3 ... and return the new numbers.
SELECT * FROM append_session_messages('00000000-0000-0000-0000-000000000301',
  '[{"role":"system","content":"You are terse."},
    {"role":"user","content":"hello","name":"ada"}]');
SELECT * FROM append_session_messages('00000000-0000-0000-0000-000000000301',
  '[{"role":"assistant","content":null,"tool_calls":[{"id":"c1","type":"function"}]},
    {"role":"tool","content":"42","tool_call_id":"c1"},
    {"role":"assistant","content":[{"type":"text","text":"The answer is 42."}]},
    {"role":"user","content":{"type":"image","source":"s3://x"}},
    {"role":"user","content":7}]');
-- Content: a string as is; null as ''; anything else (content parts) as its JSON text.
-- Everything but role and content is the metadata.
SELECT * FROM pg_temp.history('00000000-0000-0000-0000-000000000301');
SELECT pg_temp.counters('00000000-0000-0000-0000-000000000301');
-- JSON-text content reads back as the JSON it was.
SELECT content::jsonb -> 0 ->> 'text' AS text_part FROM session_messages
 WHERE session_id = '00000000-0000-0000-0000-000000000301' AND message_order = 5;
-- An empty array appends nothing.
SELECT count(*) FROM append_session_messages('00000000-0000-0000-0000-000000000301', '[]');
SELECT pg_temp.counters('00000000-0000-0000-0000-000000000301');

-- Reading pages.
SELECT message_order, role, content, metadata FROM get_session_messages('00000000-0000-0000-0000-000000000301');
SELECT message_order, role FROM get_session_messages('00000000-0000-0000-0000-000000000301', 2, 2);
SELECT message_order FROM get_session_messages('00000000-0000-0000-0000-000000000301', p_after => 6);
SELECT count(*) FROM get_session_messages('00000000-0000-0000-0000-000000000301', p_after => 7);
SELECT count(*) FROM get_session_messages('00000000-0000-0000-0000-000000000302');
SELECT message_order, id IS NOT NULL AS has_id, created_at IS NOT NULL AS dated
  FROM get_session_messages('00000000-0000-0000-0000-000000000301', 0, 1);

-- Bad input: a clear error and nothing written.
SELECT pg_temp.refusal($$SELECT append_session_messages(NULL, '[]')$$);
SELECT pg_temp.refusal($$SELECT append_session_messages('00000000-0000-0000-0000-000000000301', NULL)$$);
SELECT pg_temp.refusal($$SELECT append_session_messages('00000000-0000-0000-0000-000000000301', '{"role":"user","content":"x"}')$$);
SELECT pg_temp.refusal($$SELECT append_session_messages('00000000-0000-0000-0000-000000000301', '"hi"')$$);
SELECT pg_temp.refusal($$SELECT append_session_messages('00000000-0000-0000-0000-000000000301', 'null')$$);
SELECT pg_temp.refusal($$SELECT append_session_messages('00000000-0000-0000-0000-000000000301', '[{"role":"user","content":"ok"}, "hi"]')$$);
SELECT pg_temp.refusal($$SELECT append_session_messages('00000000-0000-0000-0000-000000000301', '[{"role":"user","content":"ok"}, [1]]')$$);
SELECT pg_temp.refusal($$SELECT append_session_messages('00000000-0000-0000-0000-000000000301', '[{"role":"user","content":"ok"}, {"role":"robot","content":"x"}]')$$);
SELECT pg_temp.refusal($$SELECT append_session_messages('00000000-0000-0000-0000-000000000301', '[{"role":"developer","content":"x"}]')$$);
SELECT pg_temp.refusal($$SELECT append_session_messages('00000000-0000-0000-0000-000000000301', '[{"role":"USER","content":"x"}]')$$);
SELECT pg_temp.refusal($$SELECT append_session_messages('00000000-0000-0000-0000-000000000301', '[{"role":1,"content":"x"}]')$$);
SELECT pg_temp.refusal($$SELECT append_session_messages('00000000-0000-0000-0000-000000000301', '[{"content":"x"}]')$$);
SELECT pg_temp.refusal($$SELECT append_session_messages('00000000-0000-0000-0000-000000000301', '[{"role":"user"}]')$$);
SELECT pg_temp.refusal($$SELECT append_session_messages('00000000-0000-0000-0000-00000000ffff', '[{"role":"user","content":"x"}]')$$);
SELECT pg_temp.refusal($$SELECT * FROM get_session_messages(NULL)$$);
SELECT pg_temp.refusal($$SELECT * FROM get_session_messages('00000000-0000-0000-0000-000000000301', NULL)$$);
SELECT pg_temp.refusal($$SELECT * FROM get_session_messages('00000000-0000-0000-0000-000000000301', 0, NULL)$$);
SELECT pg_temp.refusal($$SELECT * FROM get_session_messages('00000000-0000-0000-0000-000000000301', -1)$$);
SELECT pg_temp.refusal($$SELECT * FROM get_session_messages('00000000-0000-0000-0000-000000000301', 0, 0)$$);
SELECT pg_temp.refusal($$SELECT * FROM get_session_messages('00000000-0000-0000-0000-000000000301', 0, 1001)$$);
SELECT count(*) AS limit_1000 FROM get_session_messages('00000000-0000-0000-0000-000000000301', 0, 1000);
SELECT pg_temp.refusal($$SELECT * FROM get_session_messages('00000000-0000-0000-0000-00000000ffff')$$);
SELECT pg_temp.counters('00000000-0000-0000-0000-000000000301');

-- Many messages: 2500 appended in batches of 100, read back in pages of 1000 and of 7;
-- every page continues where the previous ended, with no gap and no repeat.
SELECT sum(n)::int AS appended FROM generate_series(0, 24) b,
  LATERAL (SELECT count(*) AS n FROM append_session_messages('00000000-0000-0000-0000-000000000302',
           (SELECT jsonb_agg(jsonb_build_object('role', CASE WHEN i % 2 = 0 THEN 'user' ELSE 'assistant' END,
                                                'content', 'message ' || (b * 100 + i + 1)))
              FROM generate_series(0, 99) i))) a;
SELECT pg_temp.counters('00000000-0000-0000-0000-000000000302');
CREATE FUNCTION pg_temp.read_all(s uuid, page int) RETURNS TABLE (pages int, messages int, in_order boolean, content_matches boolean)
LANGUAGE plpgsql AS $$
DECLARE after int := 0; got int; orders int[] := '{}'; contents text[] := '{}'; r record;
BEGIN
  pages := 0;
  LOOP
    got := 0;
    FOR r IN SELECT * FROM get_session_messages(s, after, page) LOOP
      orders := orders || r.message_order; contents := contents || r.content;
      after := r.message_order; got := got + 1;
    END LOOP;
    EXIT WHEN got = 0;
    pages := pages + 1;
  END LOOP;
  messages := cardinality(orders);
  in_order := orders = ARRAY(SELECT generate_series(1, cardinality(orders)));
  content_matches := contents = ARRAY(SELECT 'message ' || i FROM generate_series(1, cardinality(orders)) i);
  RETURN NEXT;
END $$;
SELECT * FROM pg_temp.read_all('00000000-0000-0000-0000-000000000302', 1000);
SELECT * FROM pg_temp.read_all('00000000-0000-0000-0000-000000000302', 7);
-- sessions_list reads the counters.
SELECT name, message_count, last_message_at IS NOT NULL AS stamped FROM sessions_list
 WHERE id IN ('00000000-0000-0000-0000-000000000301', '00000000-0000-0000-0000-000000000302') ORDER BY name;
-- A rolled-back append leaves no trace; the next one continues the numbering.
BEGIN;
SELECT * FROM append_session_messages('00000000-0000-0000-0000-000000000301', '[{"role":"user","content":"undo me"}]');
ROLLBACK;
SELECT * FROM append_session_messages('00000000-0000-0000-0000-000000000301', '[{"role":"user","content":"again"}]');
SELECT pg_temp.counters('00000000-0000-0000-0000-000000000301');

-- ---------------------------------------------------------------- access
CREATE ROLE regress_sp_msg_owner;
CREATE ROLE regress_sp_msg_other;
GRANT ALL ON ALL TABLES IN SCHEMA public TO regress_sp_msg_owner, regress_sp_msg_other;
SET ROLE regress_sp_msg_owner;
INSERT INTO free_agent_sessions (id, name, visibility) VALUES
  ('00000000-0000-0000-0000-000000000311', 'owner private', 'private'),
  ('00000000-0000-0000-0000-000000000312', 'owner public', 'public');
SELECT * FROM append_session_messages('00000000-0000-0000-0000-000000000311', '[{"role":"user","content":"secret"}]');
SELECT * FROM append_session_messages('00000000-0000-0000-0000-000000000312', '[{"role":"user","content":"shared"}]');
RESET ROLE;
SET ROLE regress_sp_msg_other;
-- A foreign private session does not exist for them; a public one is readable, not writable.
SELECT pg_temp.refusal($$SELECT * FROM get_session_messages('00000000-0000-0000-0000-000000000311')$$);
SELECT pg_temp.refusal($$SELECT append_session_messages('00000000-0000-0000-0000-000000000311', '[{"role":"user","content":"x"}]')$$);
SELECT content FROM get_session_messages('00000000-0000-0000-0000-000000000312');
SELECT pg_temp.refusal($$SELECT append_session_messages('00000000-0000-0000-0000-000000000312', '[{"role":"user","content":"x"}]')$$);
-- Direct writes to the history are refused whatever was granted.
SELECT pg_temp.refusal($$INSERT INTO session_messages (session_id, message_order, user_id, role, content, first_snapshot_number)
                         VALUES ('00000000-0000-0000-0000-000000000312', 2, 'regress_sp_msg_owner', 'user', 'forged', 1)$$);
WITH changed AS (UPDATE session_messages SET content = 'edited' RETURNING 1) SELECT count(*) AS updated FROM changed;
RESET ROLE;
SET ROLE regress_sp_msg_owner;
SELECT pg_temp.refusal($$INSERT INTO session_messages (session_id, message_order, user_id, role, content, first_snapshot_number)
                         VALUES ('00000000-0000-0000-0000-000000000311', 2, 'regress_sp_msg_owner', 'user', 'forged', 1)$$);
WITH changed AS (DELETE FROM session_messages RETURNING 1) SELECT count(*) AS deleted FROM changed;
SELECT pg_temp.refusal($$UPDATE free_agent_sessions SET message_count = 99 WHERE id = '00000000-0000-0000-0000-000000000311'$$);
RESET ROLE;
SELECT session_id, message_order, content FROM session_messages
 WHERE session_id IN ('00000000-0000-0000-0000-000000000311', '00000000-0000-0000-0000-000000000312') ORDER BY 1, 2;
SELECT pg_temp.counters('00000000-0000-0000-0000-000000000311');

-- Every session this file made or changed verifies (chain, hashes, counters): no rows.
SELECT s.id, v.* FROM free_agent_sessions s, LATERAL verify_session(s.id) v WHERE s.id IN ('00000000-0000-0000-0000-000000000311', '00000000-0000-0000-0000-000000000312');
DELETE FROM free_agent_sessions WHERE id IN ('00000000-0000-0000-0000-000000000311', '00000000-0000-0000-0000-000000000312');
REVOKE ALL ON ALL TABLES IN SCHEMA public FROM regress_sp_msg_owner, regress_sp_msg_other;
DROP ROLE regress_sp_msg_owner;
DROP ROLE regress_sp_msg_other;
