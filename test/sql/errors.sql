-- SQLSTATEs for HTTP gateways: with session_persist.http_status_codes on, PostgREST's PTnnn
-- codes replace P0002, 40001 and 54000 (SPEC.md, "Errors").
SET client_min_messages = warning;
\i test/sql/refusal.sql

INSERT INTO free_agent_sessions (id, name) VALUES ('00000000-0000-0000-0000-0000000000e1', 'errors');
SELECT snapshot_number FROM create_session_snapshot('00000000-0000-0000-0000-0000000000e1', '{"a":1}');

SHOW session_persist.http_status_codes;
SELECT pg_temp.refusal($$SELECT get_latest_snapshot('00000000-0000-0000-0000-00000000ffff')$$);
SELECT pg_temp.refusal($$SELECT create_session_snapshot('00000000-0000-0000-0000-0000000000e1', '{"a":2}', 0)$$);

SET session_persist.http_status_codes = on;
SELECT pg_temp.refusal($$SELECT get_latest_snapshot('00000000-0000-0000-0000-00000000ffff')$$);
SELECT pg_temp.refusal($$SELECT * FROM get_snapshot('00000000-0000-0000-0000-0000000000e1', 7)$$);
SELECT pg_temp.refusal($$SELECT * FROM verify_session('00000000-0000-0000-0000-00000000ffff')$$);
SELECT pg_temp.refusal($$SELECT create_session_snapshot('00000000-0000-0000-0000-0000000000e1', '{"a":2}', 0)$$);
SET session_persist.max_snapshot_bytes = 100;
SELECT pg_temp.refusal($$SELECT create_session_snapshot('00000000-0000-0000-0000-0000000000e1', jsonb_build_object('a', repeat('x', 200)))$$);
RESET session_persist.max_snapshot_bytes;
-- 22xxx and 42501 are already 400 and 403 for PostgREST: unchanged.
SELECT pg_temp.refusal($$SELECT create_session_snapshot('00000000-0000-0000-0000-0000000000e1', '[]')$$);
SELECT pg_temp.refusal($$SELECT create_session_snapshot(NULL, '{}')$$);
RESET session_persist.http_status_codes;

-- The settings and their defaults.
SELECT name, setting, unit, context FROM pg_settings WHERE name LIKE 'session_persist.%' ORDER BY name;
-- An unknown session_persist.* setting is a typo, not a placeholder.
SELECT pg_temp.refusal($$SET session_persist.keyframe_intervall = 5$$);
SELECT pg_temp.refusal($$SET session_persist.keyframe_interval = 0$$);

-- After every error above the backend is still usable.
SELECT get_latest_snapshot('00000000-0000-0000-0000-0000000000e1');

DELETE FROM free_agent_sessions;
