-- Messages stored once. A save that syncs the state's "messages" array to the history keeps
-- the array out of the chain: the chain row refers to the history rows (message_refs), and
-- every restore puts the array back exactly. Elements a history row cannot give back byte
-- for byte (content that is not a string) stay in the chain, inline; so do the messages of
-- saves that do not sync.
SET client_min_messages = warning;
\i test/sql/refusal.sql
CREATE TEMP TABLE saved (session_id uuid, snapshot_number int, state jsonb, PRIMARY KEY (session_id, snapshot_number));
-- Saves a state and remembers it.
CREATE FUNCTION pg_temp.save(s uuid, state jsonb, sync boolean DEFAULT true) RETURNS int LANGUAGE plpgsql AS $$
DECLARE n int;
BEGIN
  SELECT snapshot_number INTO n FROM create_session_snapshot(s, state, p_sync_messages => sync);
  INSERT INTO saved VALUES (s, n, state) ON CONFLICT DO NOTHING;
  RETURN n;
END $$;
-- Every kept snapshot of a session against what was saved, through get_snapshot and the
-- session_snapshots view, byte for byte (jsonb_state_hash); and verify_session's findings.
CREATE FUNCTION pg_temp.check(s uuid) RETURNS TABLE (kept bigint, exact bigint, view_exact bigint, problems bigint) LANGUAGE sql AS $$
  SELECT count(*),
         count(*) FILTER (WHERE jsonb_state_hash(g.snapshot_data) = jsonb_state_hash(v.state)),
         count(*) FILTER (WHERE jsonb_state_hash(w.snapshot_data) = jsonb_state_hash(v.state)),
         (SELECT count(*) FROM verify_session(s))
    FROM session_snapshot_chain c JOIN saved v USING (session_id, snapshot_number)
    JOIN session_snapshots w USING (session_id, snapshot_number),
         LATERAL get_snapshot(c.session_id, c.snapshot_number) g
   WHERE c.session_id = s
$$;
-- How the chain stores a session: rows with references, rows whose stored state or delta
-- still holds a "messages" key, and whether any stored state or delta contains a message's text.
CREATE FUNCTION pg_temp.storage(s uuid, marker text) RETURNS TABLE (snapshots bigint, by_reference bigint, text_in_chain boolean) LANGUAGE sql AS $$
  SELECT count(*), count(message_refs),
         bool_or(coalesce(state::text, '') LIKE '%' || marker || '%' OR coalesce(delta::text, '') LIKE '%' || marker || '%')
    FROM session_snapshot_chain WHERE session_id = s
$$;

INSERT INTO free_agent_sessions (id, name) VALUES
  ('00000000-0000-0000-0000-000000000901', 'a conversation'),
  ('00000000-0000-0000-0000-000000000902', 'every message shape'),
  ('00000000-0000-0000-0000-000000000903', 'streamed, edited, compacted'),
  ('00000000-0000-0000-0000-000000000904', 'sync off and on'),
  ('00000000-0000-0000-0000-000000000905', 'pruned');

-- A conversation of 40 turns: the chain holds no message text, the history holds each
-- message once, and every snapshot restores exactly.
DO $$
DECLARE msgs jsonb := '[]';
BEGIN
  FOR t IN 1..40 LOOP
    msgs := msgs || jsonb_build_array(
      jsonb_build_object('role', 'user', 'content', 'question-marker ' || t),
      jsonb_build_object('role', 'assistant', 'content', 'answer-marker ' || repeat('words ', 10 * t), 'tokens', t));
    PERFORM pg_temp.save('00000000-0000-0000-0000-000000000901',
      jsonb_build_object('turn', t, 'memory', jsonb_build_object('topic', 'topic ' || t / 7), 'messages', msgs));
  END LOOP;
END $$;
SELECT * FROM pg_temp.storage('00000000-0000-0000-0000-000000000901', 'marker');
SELECT count(*) AS history_rows, count(DISTINCT content) AS distinct_contents
  FROM session_messages WHERE session_id = '00000000-0000-0000-0000-000000000901';
SELECT * FROM pg_temp.check('00000000-0000-0000-0000-000000000901');
-- what the chain stores per snapshot is the change, not the conversation
SELECT max(stored_bytes) FILTER (WHERE kind = 'delta') < 100 AS small_deltas,
       sum(stored_bytes) < (SELECT sum(octet_length(content)) FROM session_messages
                             WHERE session_id = '00000000-0000-0000-0000-000000000901') / 10 AS chain_much_smaller
  FROM session_snapshot_chain WHERE session_id = '00000000-0000-0000-0000-000000000901';

-- Every shape a message may take comes back exactly: content null, an array of parts, an
-- object, a number, an empty string, text with escapes and non-ASCII; extra keys of every
-- type, keys sorting before and after role and content; roles of each kind.
SELECT pg_temp.save('00000000-0000-0000-0000-000000000902', '{"messages": [
  {"role": "system", "content": "You are careful."},
  {"role": "user", "content": [{"type": "text", "text": "look"}, {"type": "image_url", "image_url": {"url": "x"}}]},
  {"role": "assistant", "content": null, "tool_calls": [{"id": "c1", "type": "function", "function": {"name": "f", "arguments": "{}"}}]},
  {"role": "tool", "content": "", "tool_call_id": "c1", "a": 1, "zzzzzzzzzzzz": [true, false, null]},
  {"role": "assistant", "content": "ünïcödé \"quoted\" \\ back\nslash \u0001", "n": 1.50, "b": false},
  {"role": "user", "content": {"nested": {"deep": [1, 2.0, "3"]}}},
  {"role": "user", "content": 42}]}');
SELECT pg_temp.save('00000000-0000-0000-0000-000000000902',
  (SELECT state FROM saved WHERE session_id = '00000000-0000-0000-0000-000000000902' AND snapshot_number = 1)
  || jsonb_build_object('messages', (SELECT state -> 'messages' FROM saved WHERE session_id = '00000000-0000-0000-0000-000000000902' AND snapshot_number = 1)
                                    || '[{"role": "assistant", "content": "done", "metadata": {"k": "v"}}]'::jsonb));
SELECT * FROM pg_temp.check('00000000-0000-0000-0000-000000000902');
-- the history has every message (content that is not a string as its JSON text)
SELECT message_order, role, content FROM session_messages
 WHERE session_id = '00000000-0000-0000-0000-000000000902' ORDER BY message_order;

-- A reply saved while it streams, a tool call that gains its status, an edit-and-resend, a
-- compaction beyond the mark's window, a rewrite into a summary: each snapshot restores
-- exactly, and the history holds one row per version.
DO $$
DECLARE msgs jsonb := '[]'; base jsonb;
BEGIN
  FOR t IN 1..50 LOOP
    msgs := msgs || jsonb_build_array(jsonb_build_object('role', 'user', 'content', 'q' || t));
    base := msgs;
    -- streaming: two partial versions, then the complete reply
    PERFORM pg_temp.save('00000000-0000-0000-0000-000000000903', jsonb_build_object('turn', t, 'messages',
      base || jsonb_build_array(jsonb_build_object('role', 'assistant', 'content', 'rep ' || t, 'status', 'streaming'))));
    PERFORM pg_temp.save('00000000-0000-0000-0000-000000000903', jsonb_build_object('turn', t, 'messages',
      base || jsonb_build_array(jsonb_build_object('role', 'assistant', 'content', 'reply ' || t || ' part', 'status', 'streaming'))));
    msgs := base || jsonb_build_array(jsonb_build_object('role', 'assistant', 'content', 'reply ' || t || ' part and the rest'));
    IF t % 5 = 0 THEN   -- a tool call whose status changes, with a message after it
      msgs := msgs || jsonb_build_array(jsonb_build_object('role', 'tool', 'content', 'run ' || t, 'status', 'pending'),
                                        jsonb_build_object('role', 'assistant', 'content', 'waiting ' || t));
      PERFORM pg_temp.save('00000000-0000-0000-0000-000000000903', jsonb_build_object('turn', t, 'messages', msgs));
      msgs := jsonb_set(msgs, ARRAY[(jsonb_array_length(msgs) - 2)::text, 'status'], '"done"');
    END IF;
    IF t % 7 = 0 THEN   -- edit and resend: the last exchange replaced
      PERFORM pg_temp.save('00000000-0000-0000-0000-000000000903', jsonb_build_object('turn', t, 'messages', msgs));
      msgs := (msgs - (jsonb_array_length(msgs) - 1)) - (jsonb_array_length(msgs) - 2)
              || jsonb_build_array(jsonb_build_object('role', 'user', 'content', 'q' || t || ' edited'),
                                   jsonb_build_object('role', 'assistant', 'content', 'reply to the edit ' || t));
    END IF;
    IF t = 40 THEN      -- compaction: a summary and the last 4 messages (beyond the window)
      msgs := jsonb_build_array(jsonb_build_object('role', 'system', 'content', 'summary of 40 turns'))
              || (SELECT jsonb_agg(value ORDER BY ord) FROM jsonb_array_elements(msgs) WITH ORDINALITY e(value, ord)
                   WHERE ord > jsonb_array_length(msgs) - 4);
    END IF;
    IF t = 45 THEN      -- rewritten into a summary
      msgs := jsonb_build_array(jsonb_build_object('role', 'system', 'content', 'rewritten at 45'));
    END IF;
    PERFORM pg_temp.save('00000000-0000-0000-0000-000000000903', jsonb_build_object('turn', t, 'messages', msgs));
  END LOOP;
END $$;
SELECT * FROM pg_temp.check('00000000-0000-0000-0000-000000000903');
SELECT snapshots = by_reference AS all_by_reference, text_in_chain
  FROM pg_temp.storage('00000000-0000-0000-0000-000000000903', 'reply ');
SELECT count(*) AS history_rows, count(*) = count(DISTINCT (role, content, metadata)) AS one_row_per_version
  FROM session_messages WHERE session_id = '00000000-0000-0000-0000-000000000903';
-- A reply that grows while it streams ('reply 7 part', then 'reply 7 part and the rest') has
-- one row, as it ended; the snapshots saved while it streamed refer to the first bytes of it.
-- ('rep 7' is not the start of 'reply 7 part': that version has a row of its own.)
SELECT string_agg(content, ' | ' ORDER BY message_order) AS turn_7
  FROM session_messages WHERE session_id = '00000000-0000-0000-0000-000000000903' AND content ~ '^(q|rep|reply )7( |$)';
SELECT g.snapshot_data -> 'messages' -> -1 AS streamed
  FROM (SELECT snapshot_number AS n FROM saved WHERE session_id = '00000000-0000-0000-0000-000000000903'
          AND state -> 'messages' -> -1 ->> 'content' ~ '^(rep|reply) 7( |$)') s,
       LATERAL get_snapshot('00000000-0000-0000-0000-000000000903', s.n) g ORDER BY s.n;

-- Pruned hard, the rest still restores (repairs write the cut references too).
SELECT cleanup_old_snapshots('00000000-0000-0000-0000-000000000903', 3) > 0 AS pruned;
SELECT * FROM pg_temp.check('00000000-0000-0000-0000-000000000903');

-- Saves that do not sync keep their messages in the chain; syncing again refers to the
-- history for what it adds. Snapshots without messages, or whose messages is not an array,
-- come and go between them.
SELECT pg_temp.save('00000000-0000-0000-0000-000000000904', '{"messages": [{"role": "user", "content": "m1"}]}');
SELECT pg_temp.save('00000000-0000-0000-0000-000000000904', '{"messages": [{"role": "user", "content": "m1"}, {"role": "assistant", "content": "m2"}]}', false);
SELECT pg_temp.save('00000000-0000-0000-0000-000000000904', '{"messages": [{"role": "user", "content": "m1"}, {"role": "assistant", "content": "m2"}, {"role": "user", "content": "m3"}]}');
SELECT pg_temp.save('00000000-0000-0000-0000-000000000904', '{"messages": {"not": "an array"}}');
SELECT pg_temp.save('00000000-0000-0000-0000-000000000904', '{"other": 1}');
SELECT pg_temp.save('00000000-0000-0000-0000-000000000904', '{"messages": [{"role": "user", "content": "m4"}]}');
SELECT pg_temp.save('00000000-0000-0000-0000-000000000904', '{"messages": [{"role": "user", "content": "m4"}, {"role": "user", "content": "m5"}]}');
SELECT pg_temp.save('00000000-0000-0000-0000-000000000904', '{"messages": [{"role": "user", "content": "m4"}, {"role": "user", "content": "m5"}], "x": 1}', false);
SELECT snapshot_number, kind, message_refs IS NOT NULL AS by_reference, (coalesce(state, delta))::text LIKE '%"m_"%' AS text_in_chain
  FROM session_snapshot_chain WHERE session_id = '00000000-0000-0000-0000-000000000904' ORDER BY snapshot_number;
SELECT * FROM pg_temp.check('00000000-0000-0000-0000-000000000904');

-- Pruning repairs a chain by reference (the new oldest snapshot becomes a keyframe with the
-- whole list), automatically or by cleanup; every kept snapshot still restores.
UPDATE free_agent_sessions SET keep_snapshots = 5 WHERE id = '00000000-0000-0000-0000-000000000905';
DO $$
DECLARE msgs jsonb := '[]';
BEGIN
  FOR t IN 1..60 LOOP
    msgs := msgs || jsonb_build_array(jsonb_build_object('role', 'user', 'content', 'p' || t));
    PERFORM pg_temp.save('00000000-0000-0000-0000-000000000905', jsonb_build_object('turn', t, 'messages', msgs));
  END LOOP;
END $$;
SELECT * FROM pg_temp.check('00000000-0000-0000-0000-000000000905');
SELECT cleanup_old_snapshots('00000000-0000-0000-0000-000000000905', 2);
SELECT * FROM pg_temp.check('00000000-0000-0000-0000-000000000905');
SELECT count(*) AS history_rows FROM session_messages WHERE session_id = '00000000-0000-0000-0000-000000000905';

-- Fork and export/import of a session by reference give the same states.
SELECT fork_session('00000000-0000-0000-0000-000000000903', p_name => 'forked') AS forked \gset
SELECT jsonb_state_hash(get_latest_snapshot(:'forked'))
     = jsonb_state_hash(get_latest_snapshot('00000000-0000-0000-0000-000000000903')) AS fork_exact;
SELECT import_session(export_session('00000000-0000-0000-0000-000000000902')) AS imported \gset
SELECT jsonb_state_hash(get_latest_snapshot(:'imported'))
     = jsonb_state_hash(get_latest_snapshot('00000000-0000-0000-0000-000000000902')) AS import_exact;

-- A history row a snapshot refers to that was changed behind the extension's back (only the
-- tables' owner can) is found, never returned as if it were the saved state: XX001 naming
-- the message, and verify_session lists the snapshots.
UPDATE session_messages SET content = 'tampered'
 WHERE session_id = '00000000-0000-0000-0000-000000000901' AND message_order = 3;
SELECT pg_temp.refusal($$SELECT get_latest_snapshot('00000000-0000-0000-0000-000000000901')$$);
SELECT count(*) > 0 AS problems_listed FROM verify_session('00000000-0000-0000-0000-000000000901');
DELETE FROM session_messages WHERE session_id = '00000000-0000-0000-0000-000000000901' AND message_order = 3;
SELECT pg_temp.refusal($$SELECT get_latest_snapshot('00000000-0000-0000-0000-000000000901')$$);
-- a damaged reference list is corruption too
UPDATE session_snapshot_chain SET message_refs = '\x44ff'
 WHERE session_id = '00000000-0000-0000-0000-000000000902' AND snapshot_number = 2;
SELECT pg_temp.refusal($$SELECT get_snapshot('00000000-0000-0000-0000-000000000902', 2)$$);

DELETE FROM free_agent_sessions;
