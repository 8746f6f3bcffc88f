-- The project's sessions_list: the 100 newest sessions of a random user, as that user,
-- through row-level security, in the transaction a PostgREST gateway runs per request: the
-- login role (authenticator) switches to `authenticated` (one of session_persist.jwt_roles)
-- and sets the JWT's claims, both transaction-local.
\set u random(0, :nusers - 1)
BEGIN;
SELECT set_config('role', 'authenticated', true), set_config('request.jwt.claims', '{"sub":"user_' || CAST(:u AS text) || '","role":"authenticated"}', true);
SELECT * FROM sessions_list WHERE user_id = 'user_' || CAST(:u AS text) ORDER BY updated_at DESC LIMIT 100;
COMMIT;
