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

-- Odd stories are saved while the reply streams, as the seed's auto-saving clients do: each
-- turn is saved three times (the user message and the first third of the assistant reply,
-- then two thirds, then the complete turn with its tool result and the new memory). Even
-- stories are saved once per turn. Save number (seq) of the complete turn t: t, or 3t.
CREATE FUNCTION bench.streaming(p_story integer) RETURNS boolean
    LANGUAGE sql IMMUTABLE
    RETURN p_story % 2 = 1;
CREATE FUNCTION bench.saves_per_turn(p_story integer) RETURNS integer
    LANGUAGE sql IMMUTABLE
    RETURN CASE WHEN bench.streaming(p_story) THEN 3 ELSE 1 END;

-- The states a client saves during turn t, given the state after turn t - 1: one, or for a
-- streaming story the two partial ones first (the reply without its token count, marked
-- "status": "streaming", cut to a third and to two thirds; memory as before the turn).
CREATE FUNCTION bench.turn_states(p_prev jsonb, p_story integer, p_turn integer) RETURNS jsonb[]
    LANGUAGE plpgsql STABLE AS $$
DECLARE
    t record;
    reply jsonb;
    states jsonb[] := '{}';
BEGIN
    SELECT messages, memory INTO STRICT t FROM bench.turns WHERE story = p_story AND turn = p_turn;
    IF bench.streaming(p_story) THEN
        reply := t.messages -> 1;
        FOR part IN 1 .. 2 LOOP
            states := states || (p_prev || jsonb_build_object(
                'turn', p_turn,
                'messages', (p_prev -> 'messages') || jsonb_build_array(
                    t.messages -> 0,
                    (reply - 'tokens') || jsonb_build_object(
                        'content', left(reply ->> 'content', length(reply ->> 'content') * part / 3),
                        'status', 'streaming'))));
        END LOOP;
    END IF;
    RETURN states || (p_prev || jsonb_build_object('turn', p_turn, 'memory', t.memory,
                                                   'messages', (p_prev -> 'messages') || t.messages));
END;
$$;

-- States the timed scripts read by primary key (story, seq), so that building JSON is never
-- timed. Stored uncompressed (STORAGE EXTERNAL): an INSERT ... SELECT of an already
-- compressed value copies the compressed bytes as they are, which would spare the baselines
-- the compression that a state arriving from a client costs.
CREATE TABLE bench.growing (
    story integer,
    seq   integer,
    turn  integer NOT NULL,
    state jsonb NOT NULL,
    PRIMARY KEY (story, seq)
);
CREATE TABLE bench.small (
    story integer,
    n     integer,
    state jsonb NOT NULL,
    PRIMARY KEY (story, n)
);
ALTER TABLE bench.growing ALTER COLUMN state SET STORAGE EXTERNAL;
ALTER TABLE bench.small ALTER COLUMN state SET STORAGE EXTERNAL;

-- Stages every save of turns p_from .. p_to of a story (built turn by turn from the state
-- before p_from, so each costs O(state)).
CREATE PROCEDURE bench.build_growing(p_story integer, p_from integer, p_to integer)
    LANGUAGE plpgsql AS $$
DECLARE
    s jsonb := bench.state_at(p_story, p_from - 1);
    per integer := bench.saves_per_turn(p_story);
    states jsonb[];
BEGIN
    FOR t IN p_from .. p_to LOOP
        states := bench.turn_states(s, p_story, t);
        FOR i IN 1 .. per LOOP
            INSERT INTO bench.growing VALUES (p_story, per * (t - 1) + i, t, states[i])
                ON CONFLICT DO NOTHING;
        END LOOP;
        s := states[per];
    END LOOP;
END;
$$;

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

-- The seed design (SPEC.md, "Compatibility with the seed application"), the baseline a
-- user of the seed app already has: a session table with counters, a snapshot table that
-- keeps every state in full, and a PL/pgSQL save that numbers by MAX() + 1, inserts, and
-- updates the session's counters. As in the seed, the function is SECURITY DEFINER with no
-- ownership check. Two choices make it a stronger baseline than the seed as shipped: lz4
-- instead of the default pglz (several times slower to compress, see the INSERT pglz
-- columns), and snapshot_size from pg_column_size (no text rendering of the state).
CREATE TABLE bench.seed_sessions (
    id               uuid PRIMARY KEY,
    user_id          text NOT NULL,
    name             text NOT NULL,
    status           text NOT NULL DEFAULT 'active',
    model            text,
    snapshot_count   integer NOT NULL DEFAULT 0,
    last_snapshot_at timestamptz,
    snapshot_size    integer,
    created_at       timestamptz NOT NULL DEFAULT now(),
    updated_at       timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX ON bench.seed_sessions (user_id, updated_at DESC);
CREATE TABLE bench.seed_snapshots (
    id                  uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    session_id          uuid NOT NULL REFERENCES bench.seed_sessions (id) ON DELETE CASCADE,
    snapshot_number     integer NOT NULL,
    snapshot_data       jsonb COMPRESSION lz4 NOT NULL,
    snapshot_size       integer,
    compression_enabled boolean NOT NULL DEFAULT false,
    created_at          timestamptz NOT NULL DEFAULT now(),
    UNIQUE (session_id, snapshot_number)
);
CREATE FUNCTION bench.seed_create_session_snapshot(p_session_id uuid, p_snapshot_data jsonb)
    RETURNS uuid LANGUAGE plpgsql SECURITY DEFINER AS $$
DECLARE
    v_number integer;
    v_size   integer := pg_column_size(p_snapshot_data);
    v_id     uuid;
BEGIN
    SELECT coalesce(max(snapshot_number), 0) + 1 INTO v_number
      FROM bench.seed_snapshots WHERE session_id = p_session_id;
    INSERT INTO bench.seed_snapshots (session_id, snapshot_number, snapshot_data, snapshot_size)
    VALUES (p_session_id, v_number, p_snapshot_data, v_size)
    RETURNING id INTO v_id;
    UPDATE bench.seed_sessions
       SET snapshot_count = snapshot_count + 1, last_snapshot_at = now(), snapshot_size = v_size,
           updated_at = now()
     WHERE id = p_session_id;
    RETURN v_id;
END;
$$;

-- Creates benchmark sessions k = p_from .. p_to owned by p_user (as a superuser, so the
-- session row guard lets the owner be set), in the extension and in the seed design.
CREATE FUNCTION bench.make_sessions(p_from integer, p_to integer, p_user text DEFAULT 'bench_user')
    RETURNS void LANGUAGE sql
    BEGIN ATOMIC
        INSERT INTO free_agent_sessions (id, user_id, name, model)
        SELECT bench.sid(k), p_user, 'bench session ' || k, 'model-x'
          FROM generate_series(p_from, p_to) k;
        INSERT INTO bench.seed_sessions (id, user_id, name, model)
        SELECT bench.sid(k), p_user, 'bench session ' || k, 'model-x'
          FROM generate_series(p_from, p_to) k;
    END;

-- Saves turns 1 .. p_upto of a story into session k, untimed (the lead-in of a turn band),
-- as its client would (three saves per turn for a streaming story). Builds each state from
-- the previous one, so the lead-in costs O(state) per save. The seed design's session gets
-- as many rows, numbered the same, with an empty state: its save only reads their numbers.
CREATE PROCEDURE bench.presave(p_k integer, p_story integer, p_upto integer)
    LANGUAGE plpgsql AS $$
DECLARE
    s jsonb := bench.state_at(p_story, 0);
    states jsonb[];
    saves integer := p_upto * bench.saves_per_turn(p_story);
BEGIN
    FOR t IN 1 .. p_upto LOOP
        states := bench.turn_states(s, p_story, t);
        FOR i IN 1 .. array_length(states, 1) LOOP
            PERFORM create_session_snapshot(bench.sid(p_k), states[i]);
        END LOOP;
        s := states[array_length(states, 1)];
        IF t % 50 = 0 THEN
            COMMIT;
        END IF;
    END LOOP;
    INSERT INTO bench.seed_snapshots (session_id, snapshot_number, snapshot_data, snapshot_size)
    SELECT bench.sid(p_k), n, '{}', 0 FROM generate_series(1, saves) n;
    UPDATE bench.seed_sessions SET snapshot_count = saves WHERE id = bench.sid(p_k);
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

-- sessions_list is read as a PostgREST gateway reads it: the gateway logs in as
-- `authenticator` (NOINHERIT, no rights of its own) and in each request's transaction
-- switches to `authenticated` (listed in session_persist.jwt_roles) and sets the JWT's
-- claims, transaction-local. Only for such a role does the extension believe the claims.
DO $$
BEGIN
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'authenticated') THEN
        CREATE ROLE authenticated NOLOGIN;
    END IF;
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'authenticator') THEN
        CREATE ROLE authenticator LOGIN NOINHERIT;
    END IF;
END
$$;
GRANT authenticated TO authenticator;
ALTER DATABASE postgres SET session_persist.jwt_roles = 'anon,authenticated';
-- States past warn_snapshot_bytes (turns ~250 on) draw a WARNING per save; keep it off the
-- terminal.
ALTER ROLE bench_user SET client_min_messages = error;
ALTER ROLE CURRENT_USER SET client_min_messages = error;
