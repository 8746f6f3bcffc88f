-- Baseline of sessions_list.sql: the same query on a plain copy of the rows with an index
-- on (user_id, updated_at DESC), no row-level security; the same transaction and set_config.
\set u random(0, :nusers - 1)
BEGIN;
SELECT set_config('role', 'authenticated', true), set_config('request.jwt.claims', '{"sub":"user_' || CAST(:u AS text) || '","role":"authenticated"}', true);
SELECT * FROM bench.sessions_copy WHERE user_id = 'user_' || CAST(:u AS text) ORDER BY updated_at DESC LIMIT 100;
COMMIT;
