
-- 68_verify: verify_session finds what is wrong with a session's chain, hashes and counters.
-- It reads as the caller (RLS applies) and changes nothing; no rows means healthy.

CREATE FUNCTION @extschema@.verify_session(p_session_id uuid)
    RETURNS TABLE (snapshot_number integer, problem text)
    LANGUAGE plpgsql STABLE
    SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    s           @extschema@.free_agent_sessions;
    link        record;
    previous    integer := NULL;
    first       boolean := true;
    counted     record;
    latest      record;
    messages    record;
BEGIN
    IF p_session_id IS NULL THEN
        RAISE EXCEPTION 'p_session_id must not be null' USING ERRCODE = 'null_value_not_allowed';
    END IF;
    SELECT * INTO s FROM @extschema@.free_agent_sessions WHERE id = p_session_id;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'session % not found', p_session_id
            USING ERRCODE = CASE WHEN current_setting('session_persist.http_status_codes', true) = 'on'
                                 THEN 'PT404' ELSE 'P0002' END,
                  DETAIL = 'It does not exist or is not visible to the current user.';
    END IF;

    -- The chain: starts at a keyframe, every delta applies to the snapshot before it, and
    -- every snapshot restores to a state with its stored hash.
    FOR link IN SELECT c.snapshot_number, c.kind, c.base_number
                  FROM @extschema@.session_snapshot_chain c
                 WHERE c.session_id = p_session_id ORDER BY c.snapshot_number
    LOOP
        IF first AND link.kind <> 'full' THEN
            snapshot_number := link.snapshot_number;
            problem := 'the oldest snapshot is a delta whose base is gone';
            RETURN NEXT;
        ELSIF link.kind = 'delta' AND link.base_number IS DISTINCT FROM previous THEN
            snapshot_number := link.snapshot_number;
            problem := format('delta against snapshot %s, but the snapshot before it is %s',
                              link.base_number, coalesce(previous::text, 'none'));
            RETURN NEXT;
        END IF;
        BEGIN
            PERFORM @extschema@.get_snapshot(p_session_id, link.snapshot_number);
        EXCEPTION WHEN data_corrupted OR invalid_parameter_value THEN
            snapshot_number := link.snapshot_number;
            problem := 'does not restore: ' || SQLERRM;
            RETURN NEXT;
        END;
        previous := link.snapshot_number;
        first := false;
    END LOOP;

    -- The counters against the rows they count.
    SELECT count(*)::integer AS n, coalesce(max(c.snapshot_number), 0) AS latest,
           coalesce(sum(c.snapshot_size), 0)::bigint AS size,
           coalesce(sum(c.stored_bytes), 0)::bigint AS stored
      INTO counted
      FROM @extschema@.session_snapshot_chain c WHERE c.session_id = p_session_id;
    snapshot_number := NULL;
    IF s.snapshot_count <> counted.n THEN
        problem := format('snapshot_count is %s but %s snapshots exist', s.snapshot_count, counted.n);
        RETURN NEXT;
    END IF;
    IF s.latest_snapshot_number <> counted.latest THEN
        problem := format('latest_snapshot_number is %s but the latest snapshot is %s',
                          s.latest_snapshot_number, counted.latest);
        RETURN NEXT;
    END IF;
    IF s.total_snapshot_size <> counted.size THEN
        problem := format('total_snapshot_size is %s but the snapshots add up to %s',
                          s.total_snapshot_size, counted.size);
        RETURN NEXT;
    END IF;
    IF s.stored_bytes <> counted.stored THEN
        problem := format('stored_bytes is %s but the snapshots store %s', s.stored_bytes, counted.stored);
        RETURN NEXT;
    END IF;

    -- The latest snapshot's hash, size and time, copied to the session row by every save.
    SELECT c.state_hash, c.snapshot_size, c.created_at INTO latest
      FROM @extschema@.session_snapshot_chain c
     WHERE c.session_id = p_session_id AND c.snapshot_number = counted.latest;
    IF counted.n > 0 AND s.latest_state_hash IS DISTINCT FROM latest.state_hash THEN
        problem := 'latest_state_hash is not the hash of the latest snapshot';
        RETURN NEXT;
    END IF;
    IF s.latest_snapshot_size <> coalesce(latest.snapshot_size, 0) THEN
        problem := format('latest_snapshot_size is %s but the latest snapshot is %s bytes',
                          s.latest_snapshot_size, coalesce(latest.snapshot_size, 0));
        RETURN NEXT;
    END IF;
    IF s.last_snapshot_at IS DISTINCT FROM latest.created_at THEN
        problem := CASE WHEN counted.n = 0
                        THEN format('last_snapshot_at is %s but the session has no snapshots',
                                    s.last_snapshot_at)
                        ELSE format('last_snapshot_at is %s but the latest snapshot was saved at %s',
                                    coalesce(s.last_snapshot_at::text, 'NULL'), latest.created_at)
                   END;
        RETURN NEXT;
    END IF;

    -- The message history: numbered 1..n without gaps, counted exactly.
    SELECT count(*)::integer AS n, coalesce(max(m.message_order), 0) AS last_order,
           max(m.created_at) AS last_at
      INTO messages
      FROM @extschema@.session_messages m WHERE m.session_id = p_session_id;
    IF s.message_count <> messages.n THEN
        problem := format('message_count is %s but %s messages exist', s.message_count, messages.n);
        RETURN NEXT;
    END IF;
    IF s.last_message_at IS DISTINCT FROM messages.last_at THEN
        problem := CASE WHEN messages.n = 0
                        THEN format('last_message_at is %s but the session has no messages',
                                    s.last_message_at)
                        ELSE format('last_message_at is %s but the newest message was added at %s',
                                    coalesce(s.last_message_at::text, 'NULL'), messages.last_at)
                   END;
        RETURN NEXT;
    END IF;
    IF messages.last_order <> messages.n THEN
        problem := format('message_order runs to %s over %s messages', messages.last_order, messages.n);
        RETURN NEXT;
    END IF;
END $$;
COMMENT ON FUNCTION @extschema@.verify_session(uuid) IS
    'The problems found in a session''s chain, hashes and counters; no rows when healthy';
