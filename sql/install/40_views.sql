
-- 40_views: the seed's read paths. Both run as the querying user (security_invoker).

-- Reconstructs one snapshot for the session_snapshots view (expensive: evaluated only for
-- the rows and columns a query reads, after ORDER BY/LIMIT).
CREATE FUNCTION @extschema@.snapshot_data(p_session_id uuid, p_snapshot_number integer,
                                          p_state jsonb, p_state_hash bytea)
    RETURNS jsonb
    AS 'MODULE_PATHNAME', 'sp_snapshot_data'
    LANGUAGE C STABLE COST 10000;

CREATE VIEW @extschema@.session_snapshots WITH (security_invoker = true) AS
SELECT c.id,
       c.session_id,
       c.snapshot_number,
       -- a keyframe whose messages are by reference is rebuilt like a delta
       @extschema@.snapshot_data(c.session_id, c.snapshot_number,
                                 CASE WHEN c.message_refs IS NULL THEN c.state END, c.state_hash)
           AS snapshot_data,
       c.snapshot_size,
       (c.kind = 'delta') AS compression_enabled,
       c.created_at,
       c.kind,
       c.stored_bytes,
       c.metadata
  FROM @extschema@.session_snapshot_chain c;

CREATE VIEW @extschema@.sessions_list WITH (security_invoker = true) AS
SELECT s.id, s.user_id, s.organization_id, s.name, s.description, s.status, s.model,
       s.current_state, s.snapshot_count, s.last_snapshot_at, s.created_at, s.updated_at,
       s.message_count, s.last_message_at, s.visibility, s.latest_snapshot_number,
       s.latest_snapshot_size, s.total_snapshot_size, s.stored_bytes
  FROM @extschema@.free_agent_sessions s;

GRANT SELECT ON @extschema@.session_snapshots, @extschema@.sessions_list TO PUBLIC;
