-- bench/setup.sql: the benchmark's own objects (schema bench), made by bench/run as a
-- superuser after CREATE EXTENSION session_persist. Nothing here is timed.
\set ON_ERROR_STOP on
SET client_min_messages = warning;

CREATE SCHEMA bench;
GRANT USAGE ON SCHEMA bench TO PUBLIC;

-- The session id of benchmark session k: readable, and the same in the project's tables
-- and the baselines' so that both sides save, restore and delete the same sessions.
CREATE FUNCTION bench.sid(k integer) RETURNS uuid
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    RETURN ('00000000-0000-4000-8000-' || lpad(k::text, 12, '0'))::uuid;

-- What each turn of a story adds (gen.py turns): the messages, and the memory object as it
-- stands after the turn.
CREATE TABLE bench.turns (
    story    integer,
    turn     integer,
    messages jsonb NOT NULL,
    memory   jsonb NOT NULL,
    PRIMARY KEY (story, turn)
);

-- The agent state after turn t of a story: every message so far, the memory, the counter.
CREATE FUNCTION bench.state_at(p_story integer, p_turn integer) RETURNS jsonb
    LANGUAGE sql STABLE
    RETURN jsonb_build_object(
        'version', 1,
        'agent', jsonb_build_object('name', 'bench-agent-' || p_story, 'model', 'model-x',
                                    'system_prompt', 'You are a careful coding agent. '
                                        || repeat('Follow the repository conventions. ', 8)),
        'turn', p_turn,
        'memory', (SELECT memory FROM bench.turns WHERE story = p_story AND turn = p_turn),
        'messages', (SELECT coalesce(jsonb_agg(m.value ORDER BY t.turn, m.ordinality), '[]')
                       FROM bench.turns t, jsonb_array_elements(t.messages) WITH ORDINALITY m
                      WHERE t.story = p_story AND t.turn <= p_turn));

-- States the timed scripts read by primary key, so that building JSON is never timed.
-- Stored uncompressed (STORAGE EXTERNAL): an INSERT ... SELECT of an already compressed
-- value copies the compressed bytes as they are, which would spare the baselines the
-- compression that a state arriving from a client costs.
CREATE TABLE bench.growing (
    story integer,
    turn  integer,
    state jsonb NOT NULL,
    PRIMARY KEY (story, turn)
);
CREATE TABLE bench.small (
    story integer,
    n     integer,
    state jsonb NOT NULL,
    PRIMARY KEY (story, n)
);
ALTER TABLE bench.growing ALTER COLUMN state SET STORAGE EXTERNAL;
ALTER TABLE bench.small ALTER COLUMN state SET STORAGE EXTERNAL;

-- The baselines: every state stored in full in a bare table.
CREATE TABLE bench.bare_lz4 (
    session_id uuid,
    n          integer,
    state      jsonb COMPRESSION lz4 NOT NULL,
    PRIMARY KEY (session_id, n)
);
CREATE TABLE bench.bare_pglz (
    session_id uuid,
    n          integer,
    state      jsonb COMPRESSION pglz NOT NULL,
    PRIMARY KEY (session_id, n)
);

-- Creates benchmark sessions k = p_from .. p_to owned by p_user (as a superuser, so the
-- session row guard lets the owner be set).
CREATE FUNCTION bench.make_sessions(p_from integer, p_to integer, p_user text DEFAULT 'bench_user')
    RETURNS void LANGUAGE sql
    BEGIN ATOMIC
        INSERT INTO free_agent_sessions (id, user_id, name, model)
        SELECT bench.sid(k), p_user, 'bench session ' || k, 'model-x'
          FROM generate_series(p_from, p_to) k;
    END;

-- Saves turns 1 .. p_upto of a story into session k, untimed (the lead-in of a turn band).
-- Builds each state from the previous one, so the lead-in costs O(state) per turn.
CREATE PROCEDURE bench.presave(p_k integer, p_story integer, p_upto integer)
    LANGUAGE plpgsql AS $$
DECLARE
    s jsonb := bench.state_at(p_story, 0);
    t record;
BEGIN
    FOR t IN SELECT turn, messages, memory FROM bench.turns
              WHERE story = p_story AND turn <= p_upto ORDER BY turn LOOP
        s := s || jsonb_build_object('turn', t.turn, 'memory', t.memory,
                                     'messages', (s -> 'messages') || t.messages);
        PERFORM create_session_snapshot(bench.sid(p_k), s);
        IF t.turn % 50 = 0 THEN
            COMMIT;
        END IF;
    END LOOP;
END;
$$;

-- The role the clients run as: no superuser, so every call goes through row-level security.
DO $$
BEGIN
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'bench_user') THEN
        CREATE ROLE bench_user LOGIN;
    END IF;
END
$$;
GRANT SELECT ON ALL TABLES IN SCHEMA bench TO bench_user;
GRANT INSERT, DELETE ON bench.bare_lz4, bench.bare_pglz TO bench_user;
-- States past warn_snapshot_bytes (turns ~250 on) draw a WARNING per save; keep it off the
-- terminal.
ALTER ROLE bench_user SET client_min_messages = error;
ALTER ROLE CURRENT_USER SET client_min_messages = error;
