-- create_session_snapshot's p_sync_messages: the elements of the state's top-level
-- "messages" array that the history lacks go to it, in the same transaction: one row per
-- message version. Let P be the previous snapshot's messages and M the new, and L the length
-- of the prefix they share: the new versions are the elements of M[L:] that are not among
-- P[L:] (each element of P[L:] accounts for one equal element of M). So appended messages
-- are added; a message changed in place is added as its new version, without the messages
-- around it; a truncated, compacted or rewritten context adds what it did not have.
SET client_min_messages = warning;
\i test/sql/refusal.sql
-- Saves a state whose messages are the given contents (odd positions user, even assistant).
CREATE FUNCTION pg_temp.save(s uuid, contents text[], sync boolean DEFAULT true) RETURNS int LANGUAGE sql AS $$
  SELECT snapshot_number FROM create_session_snapshot(s,
    jsonb_build_object('model', 'm1', 'messages',
      coalesce((SELECT jsonb_agg(jsonb_build_object('role', CASE WHEN i % 2 = 1 THEN 'user' ELSE 'assistant' END,
                                                    'content', c) ORDER BY i)
                  FROM unnest(contents) WITH ORDINALITY u(c, i)), '[]')),
    p_sync_messages => sync)
$$;
CREATE FUNCTION pg_temp.history(s uuid) RETURNS text LANGUAGE sql AS $$
  SELECT coalesce(string_agg(content, ' ' ORDER BY message_order), '(none)')
         || format('  [count %s, exact %s]', max(f.message_count), max(f.message_count) = count(m.*))
    FROM free_agent_sessions f LEFT JOIN session_messages m ON m.session_id = f.id
   WHERE f.id = s
$$;

INSERT INTO free_agent_sessions (id, name) VALUES ('00000000-0000-0000-0000-000000000401', 'sync');

-- First snapshot: all of M is new.
SELECT pg_temp.save('00000000-0000-0000-0000-000000000401', '{a,b}');
SELECT pg_temp.history('00000000-0000-0000-0000-000000000401');
-- Appended: only M[n:].
SELECT pg_temp.save('00000000-0000-0000-0000-000000000401', '{a,b,c,d}');
SELECT pg_temp.history('00000000-0000-0000-0000-000000000401');
-- A save that changes something else but no message adds nothing.
SELECT snapshot_number FROM create_session_snapshot('00000000-0000-0000-0000-000000000401',
  get_latest_snapshot('00000000-0000-0000-0000-000000000401') || '{"model":"m2"}');
SELECT pg_temp.history('00000000-0000-0000-0000-000000000401');
-- An unchanged save (change detection) adds nothing either.
SELECT snapshot_number, created FROM create_session_snapshot('00000000-0000-0000-0000-000000000401',
  get_latest_snapshot('00000000-0000-0000-0000-000000000401'));
SELECT pg_temp.history('00000000-0000-0000-0000-000000000401');
-- Truncated context that kept the recent messages: what follows d is new.
SELECT pg_temp.save('00000000-0000-0000-0000-000000000401', '{c,d,e}');
SELECT pg_temp.history('00000000-0000-0000-0000-000000000401');
-- Truncated harder, and shorter than before: still what follows e.
SELECT pg_temp.save('00000000-0000-0000-0000-000000000401', '{e,f}');
SELECT pg_temp.history('00000000-0000-0000-0000-000000000401');
-- Rewritten (a summary): nothing equals f, so all of M is new.
SELECT pg_temp.save('00000000-0000-0000-0000-000000000401', '{summary,g}');
SELECT pg_temp.history('00000000-0000-0000-0000-000000000401');
-- Messages inserted before a kept one are new too (the history never loses a message), and
-- of two copies of g, one was in P and one is new.
SELECT pg_temp.save('00000000-0000-0000-0000-000000000401', '{x,y,z,g,w,g,v,i}');
SELECT pg_temp.history('00000000-0000-0000-0000-000000000401');
-- Emptied context (n was 4, M = []): nothing to add; then the next save finds n = 0, so
-- all of M is new.
SELECT pg_temp.save('00000000-0000-0000-0000-000000000401', '{}');
SELECT pg_temp.save('00000000-0000-0000-0000-000000000401', '{j}');
SELECT pg_temp.history('00000000-0000-0000-0000-000000000401');
-- A state without "messages", or whose messages is not an array, syncs nothing; the next
-- state with messages then counts as having no previous messages.
SELECT snapshot_number FROM create_session_snapshot('00000000-0000-0000-0000-000000000401', '{"notes":"no messages"}');
SELECT snapshot_number FROM create_session_snapshot('00000000-0000-0000-0000-000000000401', '{"messages":{"role":"user","content":"not an array"}}');
SELECT pg_temp.history('00000000-0000-0000-0000-000000000401');
SELECT pg_temp.save('00000000-0000-0000-0000-000000000401', '{k}');
SELECT pg_temp.history('00000000-0000-0000-0000-000000000401');
-- p_sync_messages => false keeps the history as it is; the next synced save compares with
-- that unsynced snapshot, so what it added is not synced later either.
SELECT pg_temp.save('00000000-0000-0000-0000-000000000401', '{k,l}', false);
SELECT pg_temp.save('00000000-0000-0000-0000-000000000401', '{k,l,m}');
SELECT pg_temp.history('00000000-0000-0000-0000-000000000401');

-- Synced messages keep their other keys as metadata, and content parts as JSON text.
INSERT INTO free_agent_sessions (id, name) VALUES ('00000000-0000-0000-0000-000000000402', 'rich');
SELECT snapshot_number FROM create_session_snapshot('00000000-0000-0000-0000-000000000402',
  '{"messages":[{"role":"user","content":[{"type":"text","text":"hi"}],"id":"m1"},
                {"role":"assistant","content":null,"tool_calls":[{"id":"t1"}]},
                {"role":"tool","content":"ok","tool_call_id":"t1"}]}');
SELECT message_order, role, content, metadata FROM get_session_messages('00000000-0000-0000-0000-000000000402');
-- Elements are compared by their jsonb binary form (as change detection compares states):
-- key order does not matter, but 1.50 and 1.5 are different elements.
SELECT snapshot_number FROM create_session_snapshot('00000000-0000-0000-0000-000000000402',
  '{"messages":[{"content":"ok","tool_call_id":"t1","role":"tool"},{"role":"user","content":"n","n":1.50}]}');
SELECT snapshot_number FROM create_session_snapshot('00000000-0000-0000-0000-000000000402',
  '{"messages":[{"role":"user","content":"n","n":1.5}, {"role":"assistant","content":"done"}]}');
SELECT message_order, role, content, metadata FROM get_session_messages('00000000-0000-0000-0000-000000000402');

-- An element that is not a message refuses the whole save: nothing written.
SELECT pg_temp.refusal($$SELECT create_session_snapshot('00000000-0000-0000-0000-000000000402',
  '{"messages":[{"role":"user","content":"n","n":1.5},{"role":"assistant","content":"done"},{"role":"developer","content":"x"}]}')$$);
SELECT pg_temp.refusal($$SELECT create_session_snapshot('00000000-0000-0000-0000-000000000402',
  '{"messages":[{"role":"user","content":"n","n":1.5},{"role":"assistant","content":"done"},"plain text"]}')$$);
SELECT pg_temp.refusal($$SELECT create_session_snapshot('00000000-0000-0000-0000-000000000402',
  '{"messages":[{"role":"user","content":"n","n":1.5},{"role":"assistant","content":"done"},{"role":"user"}]}')$$);
SELECT snapshot_count, message_count FROM free_agent_sessions WHERE id = '00000000-0000-0000-0000-000000000402';
-- Only the new elements are checked, and p_sync_messages => false saves any state.
SELECT snapshot_number FROM create_session_snapshot('00000000-0000-0000-0000-000000000402',
  '{"messages":[{"role":"user","content":"n","n":1.5},{"role":"assistant","content":"done"},{"role":"developer","content":"x"}]}',
  p_sync_messages => false);
SELECT snapshot_number FROM create_session_snapshot('00000000-0000-0000-0000-000000000402',
  '{"messages":[{"role":"developer","content":"x"},{"role":"user","content":"fine"}]}');
SELECT message_order, role, content FROM get_session_messages('00000000-0000-0000-0000-000000000402', 5);

-- Direct appends and synced saves share one numbering.
SELECT * FROM append_session_messages('00000000-0000-0000-0000-000000000402', '[{"role":"system","content":"direct"}]');
SELECT snapshot_number FROM create_session_snapshot('00000000-0000-0000-0000-000000000402',
  '{"messages":[{"role":"developer","content":"x"},{"role":"user","content":"fine"},{"role":"assistant","content":"synced"}]}');
SELECT message_order, role, content FROM get_session_messages('00000000-0000-0000-0000-000000000402', 5);
-- A rolled-back save leaves neither snapshot nor messages.
BEGIN;
SELECT snapshot_number FROM create_session_snapshot('00000000-0000-0000-0000-000000000402',
  '{"messages":[{"role":"assistant","content":"synced"},{"role":"user","content":"gone"}]}');
ROLLBACK;
SELECT snapshot_count, latest_snapshot_number, message_count,
       message_count = (SELECT count(*) FROM session_messages WHERE session_id = s.id) AS exact
  FROM free_agent_sessions s WHERE id = '00000000-0000-0000-0000-000000000402';

-- A growing agent state: 200 turns, each saved, the history holds each message once.
INSERT INTO free_agent_sessions (id, name) VALUES ('00000000-0000-0000-0000-000000000403', 'growing');
SELECT count(*) AS saves FROM generate_series(1, 200) t,
  LATERAL pg_temp.save('00000000-0000-0000-0000-000000000403', ARRAY(SELECT 'turn ' || i FROM generate_series(1, 2 * t) i));
SELECT message_count, (SELECT array_agg(content ORDER BY message_order) = ARRAY(SELECT 'turn ' || i FROM generate_series(1, 400) i)
                         FROM session_messages WHERE session_id = s.id) AS each_once
  FROM free_agent_sessions s WHERE id = '00000000-0000-0000-0000-000000000403';

-- Without a usable fingerprint of the previous snapshot (say, rows restored from an older
-- dump), the save falls back to a keyframe and finds the new messages by restoring the
-- previous state: the history still gains only the new message.
UPDATE free_agent_sessions SET latest_fingerprint = NULL WHERE id = '00000000-0000-0000-0000-000000000403';
SELECT pg_temp.save('00000000-0000-0000-0000-000000000403', ARRAY(SELECT 'turn ' || i FROM generate_series(1, 401) i)) AS snapshot_number;
SELECT kind FROM session_snapshot_chain
 WHERE session_id = '00000000-0000-0000-0000-000000000403' AND snapshot_number = 201;
SELECT message_count, (SELECT content FROM session_messages WHERE session_id = s.id ORDER BY message_order DESC LIMIT 1) AS last,
       (SELECT count(*) FROM verify_session(s.id)) AS problems
  FROM free_agent_sessions s WHERE id = '00000000-0000-0000-0000-000000000403';

-- Shared read-only sessions: a save (and so a sync) is refused.
CREATE ROLE regress_sp_sync_owner;
CREATE ROLE regress_sp_sync_other;
SET ROLE regress_sp_sync_owner;
INSERT INTO free_agent_sessions (id, name, visibility) VALUES ('00000000-0000-0000-0000-000000000411', 'public', 'public');
RESET ROLE;
SET ROLE regress_sp_sync_other;
SELECT pg_temp.refusal($$SELECT pg_temp.save('00000000-0000-0000-0000-000000000411', '{x}')$$);
RESET ROLE;
SELECT message_count FROM free_agent_sessions WHERE id = '00000000-0000-0000-0000-000000000411';
DELETE FROM free_agent_sessions WHERE id = '00000000-0000-0000-0000-000000000411';
DROP ROLE regress_sp_sync_owner;
DROP ROLE regress_sp_sync_other;

-- ---------------------------------------------------------------- how real clients save
-- Each pattern below, then: the history holds one row per message version, and the final
-- conversation (the last state's messages) appears in it complete and in order.
CREATE FUNCTION pg_temp.save_json(s uuid, messages jsonb) RETURNS int LANGUAGE sql AS $$
  SELECT snapshot_number FROM create_session_snapshot(s, jsonb_build_object('messages', messages))
$$;
CREATE FUNCTION pg_temp.msg(role text, content text, extra jsonb DEFAULT '{}') RETURNS jsonb LANGUAGE sql AS $$
  SELECT jsonb_build_object('role', role, 'content', content) || extra
$$;
-- The history's rows as "content" or "content{status}", and whether the latest state's
-- messages are a subsequence of it (in order).
CREATE FUNCTION pg_temp.versions(s uuid) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
  rows text[];
  conversation jsonb := get_latest_snapshot(s) -> 'messages';
  at int := 1;
  m jsonb;
  found boolean;
BEGIN
  SELECT array_agg(content || coalesce('{' || (metadata ->> 'status') || '}', '') ORDER BY message_order)
    INTO rows FROM session_messages WHERE session_id = s;
  FOR m IN SELECT * FROM jsonb_array_elements(conversation) LOOP
    found := false;
    WHILE at <= coalesce(array_length(rows, 1), 0) AND NOT found LOOP
      found := rows[at] = (m ->> 'content') || coalesce('{' || (m ->> 'status') || '}', '');
      at := at + 1;
    END LOOP;
    IF NOT found THEN
      -- After a compaction the kept messages come before the summary in the history.
      IF EXISTS (SELECT FROM jsonb_array_elements(conversation) c
                  WHERE NOT ((c ->> 'content') || coalesce('{' || (c ->> 'status') || '}', '')) = ANY (rows)) THEN
        RETURN array_to_string(rows, ' ') || '  [conversation NOT in the history: ' || (m ->> 'content') || ']';
      END IF;
      RETURN array_to_string(rows, ' ') || format('  [%s rows, every message of the conversation of %s in it]',
                                                   coalesce(array_length(rows, 1), 0), jsonb_array_length(conversation));
    END IF;
  END LOOP;
  RETURN array_to_string(rows, ' ') || format('  [%s rows, conversation of %s in order]',
                                               coalesce(array_length(rows, 1), 0), jsonb_array_length(conversation));
END $$;

INSERT INTO free_agent_sessions (id, name) VALUES
  ('00000000-0000-0000-0000-000000000411', 'streaming'),
  ('00000000-0000-0000-0000-000000000412', 'tool status'),
  ('00000000-0000-0000-0000-000000000413', 'edit and resend'),
  ('00000000-0000-0000-0000-000000000414', 'compaction'),
  ('00000000-0000-0000-0000-000000000415', 'long compaction'),
  ('00000000-0000-0000-0000-000000000416', 'rewritten');

-- Streaming: each reply is saved twice while it streams and once complete, 30 turns. The
-- reply grows (each version extends the one before), so its row takes each new version: 2
-- rows per turn, the question and the reply as it ended, 60 rows. (The snapshots saved while
-- it streamed still restore their partial versions: message_refs.sql.)
SELECT count(*) AS saves FROM generate_series(1, 30) t,
  LATERAL (SELECT pg_temp.save_json('00000000-0000-0000-0000-000000000411',
                    coalesce((SELECT jsonb_agg(x ORDER BY o) FROM (
                        SELECT 2 * k - 1 AS o, pg_temp.msg('user', 'q' || k) AS x FROM generate_series(1, t) k
                        UNION ALL
                        SELECT 2 * k, pg_temp.msg('assistant', 'a' || k || ' once upon a time') FROM generate_series(1, t - 1) k) z), '[]')
                    || jsonb_build_array(pg_temp.msg('assistant', v)))
             FROM unnest(ARRAY['a' || t || ' once', 'a' || t || ' once upon', 'a' || t || ' once upon a time']) v) s;
SELECT count(*) AS rows, count(DISTINCT content) AS versions
  FROM session_messages WHERE session_id = '00000000-0000-0000-0000-000000000411';
-- The chain stores each streamed version as a patch of that one message, not the array.
SELECT count(*) AS snapshots, count(*) FILTER (WHERE kind = 'full') AS keyframes,
       max(stored_bytes) FILTER (WHERE kind = 'delta') < 200 AS every_delta_under_200_bytes
  FROM session_snapshot_chain WHERE session_id = '00000000-0000-0000-0000-000000000411';
SELECT substr(pg_temp.versions('00000000-0000-0000-0000-000000000411'), 1, 60) AS first_turns,
       regexp_replace(pg_temp.versions('00000000-0000-0000-0000-000000000411'), '^.*  \[', '[') AS verdict;

-- A tool call whose result changes status between saves: the tool message's row takes each
-- new status (its content extends, '' to 'sunny'), so the history has it once, as it ended.
SELECT pg_temp.save_json('00000000-0000-0000-0000-000000000412', jsonb_build_array(
  pg_temp.msg('user', 'weather?'), pg_temp.msg('assistant', 'calling', '{"tool_calls":[{"id":"c1"}]}'),
  pg_temp.msg('tool', '', '{"tool_call_id":"c1","status":"pending"}')));
SELECT pg_temp.save_json('00000000-0000-0000-0000-000000000412', jsonb_build_array(
  pg_temp.msg('user', 'weather?'), pg_temp.msg('assistant', 'calling', '{"tool_calls":[{"id":"c1"}]}'),
  pg_temp.msg('tool', '', '{"tool_call_id":"c1","status":"running"}')));
SELECT pg_temp.save_json('00000000-0000-0000-0000-000000000412', jsonb_build_array(
  pg_temp.msg('user', 'weather?'), pg_temp.msg('assistant', 'calling', '{"tool_calls":[{"id":"c1"}]}'),
  pg_temp.msg('tool', 'sunny', '{"tool_call_id":"c1","status":"done"}'),
  pg_temp.msg('assistant', 'it is sunny')));
SELECT pg_temp.versions('00000000-0000-0000-0000-000000000412');

-- Edit and resend: the client drops its tail and sends a replacement; only the
-- replacement (and what follows it) is added.
SELECT pg_temp.save('00000000-0000-0000-0000-000000000413', '{q1,a1,q2,a2}');
SELECT pg_temp.save('00000000-0000-0000-0000-000000000413', '{q1,a1,q2-edited}');
SELECT pg_temp.save('00000000-0000-0000-0000-000000000413', '{q1,a1,q2-edited,a2-new}');
SELECT pg_temp.versions('00000000-0000-0000-0000-000000000413');

-- Compaction: a summary plus the recent messages, then more turns: the summary and the new
-- turns are added, the kept messages are not (within the mark's window, and beyond it,
-- where the previous snapshot is read to tell).
SELECT pg_temp.save('00000000-0000-0000-0000-000000000414', '{m1,m2,m3,m4,m5,m6,m7,m8}');
SELECT pg_temp.save('00000000-0000-0000-0000-000000000414', '{summary,m6,m7,m8,m9}');
SELECT pg_temp.versions('00000000-0000-0000-0000-000000000414');
CREATE FUNCTION pg_temp.turns(first int, last int) RETURNS jsonb LANGUAGE sql AS $$
  SELECT jsonb_agg(pg_temp.msg(CASE WHEN i % 2 = 1 THEN 'user' ELSE 'assistant' END, 'm' || i) ORDER BY i)
    FROM generate_series(first, last) i
$$;
SELECT pg_temp.save_json('00000000-0000-0000-0000-000000000415', pg_temp.turns(1, 80));
SELECT pg_temp.save_json('00000000-0000-0000-0000-000000000415',
                         jsonb_build_array(pg_temp.msg('system', 'summary')) || pg_temp.turns(41, 81));
SELECT count(*) AS rows, count(DISTINCT content) AS distinct_contents,
       string_agg(content, ' ' ORDER BY message_order) FILTER (WHERE message_order > 80) AS added_by_compaction
  FROM session_messages WHERE session_id = '00000000-0000-0000-0000-000000000415';

-- A context rewritten into a summary: only the summary is new.
SELECT pg_temp.save('00000000-0000-0000-0000-000000000416', '{q1,a1,q2,a2}');
SELECT pg_temp.save('00000000-0000-0000-0000-000000000416', '{summary}');
SELECT pg_temp.save('00000000-0000-0000-0000-000000000416', '{summary,q3}');
SELECT pg_temp.versions('00000000-0000-0000-0000-000000000416');
SELECT s.id, v.* FROM free_agent_sessions s, LATERAL verify_session(s.id) v
 WHERE s.id BETWEEN '00000000-0000-0000-0000-000000000411' AND '00000000-0000-0000-0000-000000000416';
