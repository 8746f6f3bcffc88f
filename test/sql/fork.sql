-- fork_session: a new session of the caller's that starts from a snapshot of a readable
-- session, with the messages up to that snapshot (those whose first_snapshot_number is at
-- most its number: synced by it or an earlier save, or appended before it was saved).
SET client_min_messages = warning;
\i test/sql/refusal.sql
CREATE FUNCTION pg_temp.describe(s uuid) RETURNS TABLE (name text, mine boolean, visibility text, snapshots int,
  state jsonb, first_snapshot_metadata jsonb, history text, counted boolean)
LANGUAGE sql AS $$
  SELECT f.name, f.user_id = current_user_id(), f.visibility::text, f.snapshot_count, get_latest_snapshot(f.id),
         (SELECT metadata - 'source_session_id' FROM session_snapshot_chain WHERE session_id = f.id AND snapshot_number = 1),
         (SELECT coalesce(string_agg(message_order || ':' || content, ' ' ORDER BY message_order), '(none)')
            FROM session_messages WHERE session_id = f.id),
         f.message_count = (SELECT count(*) FROM session_messages WHERE session_id = f.id)
    FROM free_agent_sessions f WHERE f.id = s
$$;

INSERT INTO free_agent_sessions (id, name, model, description, metadata) VALUES
  ('00000000-0000-0000-0000-000000000601', 'origin', 'm1', 'the original', '{"k":"v"}');
SELECT * FROM append_session_messages('00000000-0000-0000-0000-000000000601', '[{"role":"system","content":"sys"}]');
SELECT snapshot_number FROM create_session_snapshot('00000000-0000-0000-0000-000000000601',
  '{"turn":1,"messages":[{"role":"user","content":"q1"}]}');
SELECT * FROM append_session_messages('00000000-0000-0000-0000-000000000601', '[{"role":"system","content":"between"}]');
SELECT snapshot_number FROM create_session_snapshot('00000000-0000-0000-0000-000000000601',
  '{"turn":2,"messages":[{"role":"user","content":"q1"},{"role":"assistant","content":"a1"}]}');
SELECT snapshot_number FROM create_session_snapshot('00000000-0000-0000-0000-000000000601',
  '{"turn":3,"messages":[{"role":"user","content":"q1"},{"role":"assistant","content":"a1"},{"role":"user","content":"q2"}]}');
SELECT * FROM append_session_messages('00000000-0000-0000-0000-000000000601', '[{"role":"system","content":"after 3"}]');
SELECT * FROM pg_temp.describe('00000000-0000-0000-0000-000000000601');

-- Fork at snapshot 1: its state; sys (appended before it) and q1 (synced by it).
SELECT fork_session('00000000-0000-0000-0000-000000000601', 1) AS fork1 \gset
SELECT * FROM pg_temp.describe(:'fork1');
SELECT description, model, metadata, status FROM free_agent_sessions WHERE id = :'fork1';
-- Fork at snapshot 2, named.
SELECT fork_session('00000000-0000-0000-0000-000000000601', 2, 'what if') AS fork2 \gset
SELECT * FROM pg_temp.describe(:'fork2');
-- Fork at the latest (NULL): everything up to snapshot 3, not the message appended after it.
SELECT fork_session('00000000-0000-0000-0000-000000000601') AS fork3 \gset
SELECT * FROM pg_temp.describe(:'fork3');
-- The fork goes on by itself: its next save syncs only what is new.
SELECT snapshot_number FROM create_session_snapshot(:'fork3',
  '{"turn":4,"messages":[{"role":"user","content":"q1"},{"role":"assistant","content":"a1"},{"role":"user","content":"q2"},{"role":"assistant","content":"a2"}]}');
SELECT history FROM pg_temp.describe(:'fork3');
SELECT history FROM pg_temp.describe('00000000-0000-0000-0000-000000000601');
-- A pruned snapshot cannot be forked; the rest still can.
SELECT cleanup_old_snapshots('00000000-0000-0000-0000-000000000601', 2);
SELECT pg_temp.refusal($$SELECT fork_session('00000000-0000-0000-0000-000000000601', 1)$$);
SELECT history FROM pg_temp.describe(fork_session('00000000-0000-0000-0000-000000000601', 2));
-- A session without snapshots forks its whole history and no state.
INSERT INTO free_agent_sessions (id, name) VALUES ('00000000-0000-0000-0000-000000000602', 'no snapshots');
SELECT * FROM append_session_messages('00000000-0000-0000-0000-000000000602', '[{"role":"user","content":"only"}]');
SELECT fork_session('00000000-0000-0000-0000-000000000602') AS fork_bare \gset
SELECT * FROM pg_temp.describe(:'fork_bare');
-- A 200-character name gets no room for the suffix: it is cut to stay within 200.
UPDATE free_agent_sessions SET name = repeat('n', 200) WHERE id = '00000000-0000-0000-0000-000000000602';
SELECT fork_session('00000000-0000-0000-0000-000000000602') AS fork_long \gset
SELECT char_length(name), right(name, 8) FROM free_agent_sessions WHERE id = :'fork_long';

-- Bad input.
SELECT pg_temp.refusal($$SELECT fork_session(NULL)$$);
SELECT pg_temp.refusal($$SELECT fork_session('00000000-0000-0000-0000-000000000601', 0)$$);
SELECT pg_temp.refusal($$SELECT fork_session('00000000-0000-0000-0000-000000000601', 99)$$);
SELECT pg_temp.refusal($$SELECT fork_session('00000000-0000-0000-0000-000000000601', NULL, '')$$);
SELECT pg_temp.refusal($$SELECT fork_session('00000000-0000-0000-0000-000000000601', NULL, repeat('x', 201))$$);
SELECT pg_temp.refusal($$SELECT fork_session('00000000-0000-0000-0000-00000000ffff')$$);
SELECT pg_temp.refusal($$SELECT fork_session('00000000-0000-0000-0000-000000000602', 1)$$);

-- Access: a readable (public) session of another user forks into a private session of the
-- caller's; a foreign private one is not found; anonymous callers cannot fork.
CREATE ROLE regress_sp_fork_owner;
CREATE ROLE regress_sp_fork_other;
CREATE ROLE regress_sp_fork_anon;
GRANT ALL ON ALL TABLES IN SCHEMA public TO regress_sp_fork_owner, regress_sp_fork_other, regress_sp_fork_anon;
SET ROLE regress_sp_fork_owner;
INSERT INTO free_agent_sessions (id, name, visibility) VALUES
  ('00000000-0000-0000-0000-000000000611', 'private', 'private'),
  ('00000000-0000-0000-0000-000000000612', 'public', 'public');
SELECT snapshot_number FROM create_session_snapshot('00000000-0000-0000-0000-000000000611', '{"secret":1}');
SELECT snapshot_number FROM create_session_snapshot('00000000-0000-0000-0000-000000000612',
  '{"messages":[{"role":"user","content":"shared question"}]}');
RESET ROLE;
SET ROLE regress_sp_fork_other;
SELECT pg_temp.refusal($$SELECT fork_session('00000000-0000-0000-0000-000000000611')$$);
SELECT pg_temp.refusal($$SELECT fork_session('00000000-0000-0000-0000-000000000611', 1)$$);
SELECT fork_session('00000000-0000-0000-0000-000000000612') AS fork_public \gset
SELECT * FROM pg_temp.describe(:'fork_public');
-- The fork is theirs to write; the source stays read-only for them.
SELECT * FROM append_session_messages(:'fork_public', '[{"role":"assistant","content":"my answer"}]');
SELECT pg_temp.refusal($$SELECT append_session_messages('00000000-0000-0000-0000-000000000612', '[{"role":"assistant","content":"x"}]')$$);
RESET ROLE;
SET session_persist.jwt_roles = 'regress_sp_fork_anon'; -- a gateway role: its claims count
BEGIN;
SET LOCAL ROLE regress_sp_fork_anon;
SELECT set_config('request.jwt.claims', '{"role":"anon"}', true);
SELECT pg_temp.refusal($$SELECT fork_session('00000000-0000-0000-0000-000000000612')$$);
ROLLBACK;
RESET session_persist.jwt_roles;
SELECT user_id, count(*) FROM free_agent_sessions WHERE user_id LIKE 'regress_sp_fork%' GROUP BY 1 ORDER BY 1;
-- Every session this file made or changed verifies (chain, hashes, counters): no rows.
SELECT s.id, v.* FROM free_agent_sessions s, LATERAL verify_session(s.id) v WHERE s.user_id LIKE 'regress_sp_fork%';
DELETE FROM free_agent_sessions WHERE user_id LIKE 'regress_sp_fork%';
REVOKE ALL ON ALL TABLES IN SCHEMA public FROM regress_sp_fork_owner, regress_sp_fork_other, regress_sp_fork_anon;
DROP ROLE regress_sp_fork_owner;
DROP ROLE regress_sp_fork_other;
DROP ROLE regress_sp_fork_anon;
