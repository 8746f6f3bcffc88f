-- A reply saved while it streams (a partial version, a longer one, then the whole) takes one
-- history row (message_refs.sql), and the versions it replaced leave no lasting gaps: the row
-- writer prunes the pages they were on and offers them to the next rows
-- (src/storage/row_writer.hpp), so a streamed conversation's history takes about the pages of
-- the same conversation saved once a turn, before any VACUUM.
SET client_min_messages = warning;
INSERT INTO free_agent_sessions (id, name) VALUES
  ('00000000-0000-0000-0000-00000000a001', 'saved once a turn'),
  ('00000000-0000-0000-0000-00000000a002', 'streamed');
ALTER TABLE session_messages SET (autovacuum_enabled = off);
CREATE FUNCTION pg_temp.reply(t int, parts int) RETURNS text LANGUAGE sql AS $$
  SELECT string_agg(md5(t::text || ':' || k::text), ' ') FROM generate_series(1, 12 * parts) k $$;
CREATE FUNCTION pg_temp.conversation(turns int, last_parts int) RETURNS jsonb LANGUAGE sql AS $$
  SELECT jsonb_build_object('messages', coalesce(jsonb_agg(m ORDER BY t, r), '[]'), 'turn', turns)
    FROM generate_series(1, turns) t,
         LATERAL (VALUES (1, jsonb_build_object('role', 'user', 'content', 'question ' || t)),
                         (2, jsonb_build_object('role', 'assistant',
                                 'content', pg_temp.reply(t, CASE WHEN t = turns THEN last_parts ELSE 3 END)))) v(r, m) $$;
-- each save in a transaction of its own, as a client's are; the sessions one after the other
CREATE PROCEDURE pg_temp.save_turns(session uuid, saves_a_turn int) LANGUAGE plpgsql AS $$
BEGIN
    FOR t IN 1..100 LOOP
        FOR parts IN 4 - saves_a_turn..3 LOOP
            PERFORM create_session_snapshot(session, pg_temp.conversation(t, parts));
            COMMIT;
        END LOOP;
    END LOOP;
END $$;
CALL pg_temp.save_turns('00000000-0000-0000-0000-00000000a001', 1);
CALL pg_temp.save_turns('00000000-0000-0000-0000-00000000a002', 3);
SELECT p.rows = s.rows AS one_row_a_message,
       p.pages <= s.pages * 1.1 + 2 AS streamed_takes_about_the_same_pages
  FROM (SELECT count(DISTINCT (ctid::text::point)[0]) AS pages, count(*) AS rows FROM session_messages
         WHERE session_id = '00000000-0000-0000-0000-00000000a001') s,
       (SELECT count(DISTINCT (ctid::text::point)[0]) AS pages, count(*) AS rows FROM session_messages
         WHERE session_id = '00000000-0000-0000-0000-00000000a002') p;
SELECT get_latest_snapshot('00000000-0000-0000-0000-00000000a002') = pg_temp.conversation(100, 3) AS restores;
-- A message stays in its row up to a whole page (toast_tuple_target, 20_tables.sql): a 7 kB
-- reply adds no TOAST chunk; one larger than a page goes to TOAST as before.
CREATE FUNCTION pg_temp.history_toast_chunks() RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE n bigint;
BEGIN
    EXECUTE pg_catalog.format('SELECT count(*) FROM %s',
        (SELECT reltoastrelid::regclass FROM pg_class WHERE oid = 'session_messages'::regclass)) INTO n;
    RETURN n;
END $$;
INSERT INTO free_agent_sessions (id, name) VALUES ('00000000-0000-0000-0000-00000000a003', 'long replies');
CREATE TEMP TABLE toast_chunks AS SELECT pg_temp.history_toast_chunks() AS before;
SELECT create_session_snapshot('00000000-0000-0000-0000-00000000a003', jsonb_build_object('messages',
         jsonb_build_array(jsonb_build_object('role', 'assistant', 'content', left(pg_temp.reply(1, 40), 7000))))) IS NOT NULL AS saved;
SELECT pg_temp.history_toast_chunks() - before AS chunks_for_7_kb FROM toast_chunks;
SELECT create_session_snapshot('00000000-0000-0000-0000-00000000a003', jsonb_build_object('messages',
         jsonb_build_array(jsonb_build_object('role', 'assistant', 'content', left(pg_temp.reply(1, 40), 7000)),
                           jsonb_build_object('role', 'assistant', 'content', pg_temp.reply(2, 60))))) IS NOT NULL AS saved;
SELECT pg_temp.history_toast_chunks() - before > 0 AS larger_than_a_page_in_toast FROM toast_chunks;
SELECT octet_length(content) FROM session_messages
 WHERE session_id = '00000000-0000-0000-0000-00000000a003' ORDER BY message_order;
ALTER TABLE session_messages RESET (autovacuum_enabled);
DELETE FROM free_agent_sessions;
