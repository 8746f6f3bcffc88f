-- The seed application's calls and reads (its migration 003_add_session_snapshots.sql and
-- edge functions) work unchanged, with named and positional arguments.
SET client_min_messages = warning;

INSERT INTO free_agent_sessions (id, user_id, name, status, model)
VALUES ('00000000-0000-0000-0000-000000005eed', current_user, 'seed session', 'active', 'claude');

-- RPCs, positional and named (PostgREST calls them with named arguments).
SELECT snapshot_number, created FROM create_session_snapshot('00000000-0000-0000-0000-000000005eed', '{"messages":[],"turn":1}');
SELECT snapshot_number, created FROM create_session_snapshot(p_session_id => '00000000-0000-0000-0000-000000005eed',
                                                             p_snapshot_data => '{"messages":[],"turn":2}');
SELECT snapshot_number FROM create_session_snapshot(p_snapshot_data => '{"messages":[],"turn":3}',
                                                    p_session_id => '00000000-0000-0000-0000-000000005eed');
SELECT get_latest_snapshot('00000000-0000-0000-0000-000000005eed');
SELECT get_latest_snapshot(p_session_id => '00000000-0000-0000-0000-000000005eed');
SELECT cleanup_old_snapshots('00000000-0000-0000-0000-000000005eed', 2);
SELECT cleanup_old_snapshots(p_session_id => '00000000-0000-0000-0000-000000005eed', p_keep_count => 1);

-- The edge functions' reads.
SELECT id IS NOT NULL AS has_id, snapshot_number, snapshot_data, snapshot_size > 0 AS sized, created_at IS NOT NULL AS stamped
  FROM session_snapshots
 WHERE session_id = '00000000-0000-0000-0000-000000005eed'
 ORDER BY snapshot_number DESC
 LIMIT 1;
SELECT user_id = current_user AS owner, name, status, model, snapshot_count, last_snapshot_at IS NOT NULL AS saved
  FROM free_agent_sessions WHERE id = '00000000-0000-0000-0000-000000005eed';
SELECT id, user_id = current_user AS owner, organization_id, name, description, status, model, current_state,
       snapshot_count, last_snapshot_at IS NOT NULL AS saved, created_at IS NOT NULL AS created,
       updated_at IS NOT NULL AS updated, message_count, last_message_at
  FROM sessions_list WHERE id = '00000000-0000-0000-0000-000000005eed';
SELECT compression_enabled, snapshot_size > 0 AS sized FROM session_snapshots
 WHERE session_id = '00000000-0000-0000-0000-000000005eed';

-- The seed's types: status is the session_status enum, the view's columns keep their names.
SELECT 'completed'::session_status, 'public'::session_visibility;
SELECT attname FROM pg_attribute WHERE attrelid = 'session_snapshots'::regclass AND attnum > 0 ORDER BY attnum;

DELETE FROM free_agent_sessions;
