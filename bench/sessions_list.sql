-- The project's sessions_list: the 100 newest sessions of a random user, as that user
-- (request.jwt.claims, as a PostgREST gateway sets it), through row-level security.
\set u random(0, :nusers - 1)
SELECT set_config('request.jwt.claims', '{"sub":"user_' || CAST(:u AS text) || '"}', false);
SELECT * FROM sessions_list WHERE user_id = 'user_' || CAST(:u AS text) ORDER BY updated_at DESC LIMIT 100;
