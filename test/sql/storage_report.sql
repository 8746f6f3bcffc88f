-- storage_report: storage per user over the rows the caller may see (row-level security
-- decides: the function runs as the caller). A client sees its own line and what others
-- share with it; a BYPASSRLS role sees every user. Other tests leave rows behind, so the
-- superuser and service views are filtered to this test's users.
SET client_min_messages = warning;

CREATE ROLE regress_sp_rep_alice;
CREATE ROLE regress_sp_rep_bob;
CREATE ROLE regress_sp_rep_carol;
CREATE ROLE regress_sp_rep_service BYPASSRLS;

-- It runs as the caller (not SECURITY DEFINER); p_user_id is optional.
SELECT prosecdef AS security_definer, provolatile, pg_get_function_arguments(oid) AS arguments
  FROM pg_proc WHERE oid = 'storage_report(text)'::regprocedure;

-- alice: a private session (4 growing states) and a public one (2 states).
SET ROLE regress_sp_rep_alice;
INSERT INTO free_agent_sessions (id, name, visibility) VALUES
  ('00000000-0000-0000-0000-0000000005a1', 'alice private', 'private'),
  ('00000000-0000-0000-0000-0000000005a2', 'alice public', 'public');
SELECT count(*) AS saved FROM generate_series(1, 4) n,
  LATERAL create_session_snapshot('00000000-0000-0000-0000-0000000005a1',
          jsonb_build_object('messages', (SELECT jsonb_agg(jsonb_build_object('role', 'user', 'content', repeat('m', 200) || k))
                                            FROM generate_series(1, n * 5) k)));
SELECT count(*) AS saved FROM generate_series(1, 2) n,
  LATERAL create_session_snapshot('00000000-0000-0000-0000-0000000005a2',
          jsonb_build_object('step', n, 'notes', repeat('public ', 50 * n)));
RESET ROLE;
-- bob: a private session with one state and one without any snapshot.
SET ROLE regress_sp_rep_bob;
INSERT INTO free_agent_sessions (id, name) VALUES
  ('00000000-0000-0000-0000-0000000005b1', 'bob private'),
  ('00000000-0000-0000-0000-0000000005b2', 'bob empty');
SELECT snapshot_number FROM create_session_snapshot('00000000-0000-0000-0000-0000000005b1', '{"bob":1}');
RESET ROLE;
-- carol: one session, never saved.
SET ROLE regress_sp_rep_carol;
INSERT INTO free_agent_sessions (id, name) VALUES ('00000000-0000-0000-0000-0000000005c1', 'carol empty');
RESET ROLE;

-- What each user really has, read as the superuser (a view: it follows the cleanup below).
CREATE TEMP VIEW truth AS
SELECT s.user_id, count(DISTINCT s.id) AS sessions, count(c.snapshot_number) AS snapshots,
       coalesce(sum(c.snapshot_size), 0) AS logical_bytes,
       coalesce(sum(c.stored_bytes), 0) AS stored_bytes,
       min(c.snapshot_size) AS min_size, max(c.snapshot_size) AS max_size,
       percentile_cont(array[0.5, 0.9, 0.99]) WITHIN GROUP (ORDER BY c.snapshot_size) AS p
  FROM free_agent_sessions s LEFT JOIN session_snapshot_chain c ON c.session_id = s.id
 WHERE s.user_id LIKE 'regress_sp_rep_%'
 GROUP BY s.user_id;
CREATE TEMP TABLE public_truth AS
SELECT s.user_id, count(DISTINCT s.id) AS sessions, count(c.snapshot_number) AS snapshots,
       sum(c.snapshot_size) AS logical_bytes, sum(c.stored_bytes) AS stored_bytes,
       min(c.snapshot_size) AS min_size, max(c.snapshot_size) AS max_size,
       percentile_cont(array[0.5, 0.9, 0.99]) WITHIN GROUP (ORDER BY c.snapshot_size) AS p
  FROM free_agent_sessions s JOIN session_snapshot_chain c ON c.session_id = s.id
 WHERE s.user_id LIKE 'regress_sp_rep_%' AND s.visibility = 'public'
 GROUP BY s.user_id;
GRANT SELECT ON truth, public_truth TO PUBLIC;

-- Each line against the truth: counts shown, bytes and statistics compared.
CREATE FUNCTION pg_temp.check_report(p_report_user text, p_truth regclass)
    RETURNS TABLE (user_id text, sessions bigint, snapshots bigint, sizes_counted bigint,
                   bytes_match boolean, ratio_match boolean, stats_match boolean)
    LANGUAGE plpgsql AS $$
BEGIN
  RETURN QUERY EXECUTE format($q$
    SELECT r.user_id, r.sessions, r.snapshots, (r.snapshot_sizes).count,
           r.logical_bytes = t.logical_bytes AND r.stored_bytes = t.stored_bytes
             AND (r.snapshot_sizes).total IS NOT DISTINCT FROM nullif(t.logical_bytes, 0),
           r.stored_ratio IS NOT DISTINCT FROM round(t.stored_bytes / nullif(t.logical_bytes, 0), 4),
           (r.snapshot_sizes).min IS NOT DISTINCT FROM t.min_size
             AND (r.snapshot_sizes).max IS NOT DISTINCT FROM t.max_size
             AND coalesce(abs((r.snapshot_sizes).p50 - t.p[1]) <= 0.01 * t.p[1]
                      AND abs((r.snapshot_sizes).p90 - t.p[2]) <= 0.01 * t.p[2]
                      AND abs((r.snapshot_sizes).p99 - t.p[3]) <= 0.01 * t.p[3],
                      (r.snapshot_sizes).p50 IS NULL AND t.p IS NULL)
      FROM storage_report(%L) r LEFT JOIN %s t ON t.user_id = r.user_id
     WHERE r.user_id LIKE 'regress_sp_rep_%%'
     ORDER BY r.user_id$q$, p_report_user, p_truth);
END $$;
GRANT EXECUTE ON FUNCTION pg_temp.check_report(text, regclass) TO PUBLIC;

-- alice sees her own line only (bob's sessions are private); all of her storage counts.
SET ROLE regress_sp_rep_alice;
SELECT * FROM pg_temp.check_report(NULL, 'truth');
SELECT user_id, sessions, snapshots, stored_ratio > 0 AS has_ratio
  FROM storage_report() WHERE user_id LIKE 'regress_sp_rep_%';
RESET ROLE;

-- bob sees his line (the empty session counts, with no sizes) and alice's public session.
SET ROLE regress_sp_rep_bob;
SELECT * FROM pg_temp.check_report(NULL, 'truth') WHERE user_id = 'regress_sp_rep_bob';
SELECT * FROM pg_temp.check_report(NULL, 'public_truth') WHERE user_id = 'regress_sp_rep_alice';
SELECT user_id, snapshots, snapshot_sizes FROM storage_report('regress_sp_rep_bob');
-- One user: p_user_id narrows the report; it never widens what RLS lets through.
SELECT * FROM pg_temp.check_report('regress_sp_rep_alice', 'public_truth');
RESET ROLE;

-- carol's line has her session and no sizes (no ratio without bytes); she also sees
-- alice's public session.
SET ROLE regress_sp_rep_carol;
SELECT * FROM storage_report('regress_sp_rep_carol');
SELECT * FROM pg_temp.check_report(NULL, 'public_truth') WHERE user_id = 'regress_sp_rep_alice';
SELECT * FROM pg_temp.check_report(NULL, 'truth') WHERE user_id = 'regress_sp_rep_carol';
SELECT count(*) AS bob_lines FROM storage_report('regress_sp_rep_bob');
RESET ROLE;

-- An anonymous gateway request (a JWT without sub) sees public sessions only.
SET session_persist.jwt_roles = 'regress_sp_rep_carol'; -- carol as a gateway role here
BEGIN;
SET LOCAL ROLE regress_sp_rep_carol;
SELECT set_config('request.jwt.claims', '{"role":"anon"}', true) IS NOT NULL AS anonymous;
SELECT * FROM pg_temp.check_report(NULL, 'public_truth');
COMMIT;
RESET session_persist.jwt_roles;

-- A role that bypasses RLS sees every user, complete.
SET ROLE regress_sp_rep_service;
SELECT * FROM pg_temp.check_report(NULL, 'truth');
SELECT * FROM pg_temp.check_report('regress_sp_rep_bob', 'truth');
RESET ROLE;

-- The report follows cleanup: counters and sizes drop together.
SET ROLE regress_sp_rep_alice;
SELECT cleanup_old_snapshots('00000000-0000-0000-0000-0000000005a1', 1) AS deleted;
SELECT * FROM pg_temp.check_report(NULL, 'truth');
RESET ROLE;

DELETE FROM free_agent_sessions WHERE user_id LIKE 'regress_sp_rep_%';
DROP ROLE regress_sp_rep_alice, regress_sp_rep_bob, regress_sp_rep_carol, regress_sp_rep_service;
