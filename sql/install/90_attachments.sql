
-- 90_attachments: no client attaches code or constraints to the extension's relations
-- (SPEC.md, "Identity and access").
--
-- Gateways grant ALL on new tables to their client roles (Supabase's default privileges),
-- which includes TRIGGER and REFERENCES. A client's trigger on these tables would run inside
-- the extension's writes as the tables' owner (cleanup, import, fork), and inside other
-- users' direct INSERTs and UPDATEs as them; a client's foreign key to a session would
-- reveal that a private id exists and stop its owner from deleting it. Revoking the two
-- privileges is not enough (a gateway may grant them again), so this event trigger refuses,
-- at the end of the command, any trigger on the extension's tables and views and any
-- foreign key that references them, unless the role running the command has the rights of
-- their owner. Rules need ownership already.
CREATE FUNCTION @extschema@.refuse_client_attachments() RETURNS event_trigger
    LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    protected oid[];
    found record;
BEGIN
    SELECT array_agg(d.objid) INTO protected
      FROM pg_depend d JOIN pg_extension e ON e.oid = d.refobjid
     WHERE d.refclassid = 'pg_extension'::regclass AND d.classid = 'pg_class'::regclass
       AND d.deptype = 'e' AND e.extname = 'session_persist';
    FOR found IN
        SELECT format('trigger %I on %s', t.tgname, t.tgrelid::regclass) AS what, t.tgrelid AS target
          FROM pg_event_trigger_ddl_commands() c JOIN pg_trigger t ON t.oid = c.objid
         WHERE c.classid = 'pg_trigger'::regclass AND t.tgrelid = ANY (protected)
        UNION ALL
        SELECT format('foreign key %I of %s referencing %s', k.conname, k.conrelid::regclass,
                      k.confrelid::regclass),
               k.confrelid
          FROM pg_event_trigger_ddl_commands() c JOIN pg_constraint k ON k.conrelid = c.objid
         WHERE c.classid = 'pg_class'::regclass AND k.contype = 'f'
           AND k.confrelid = ANY (protected) AND NOT k.conrelid = ANY (protected)
    LOOP
        IF NOT pg_has_role(current_user, (SELECT relowner FROM pg_class WHERE oid = found.target),
                           'USAGE') THEN
            RAISE EXCEPTION '% is refused: % belongs to session_persist', found.what,
                            found.target::regclass
                USING ERRCODE = 'insufficient_privilege',
                      DETAIL = 'Only the owner of session_persist''s tables may attach triggers or '
                               'foreign keys to them: they would run inside other users'' writes.',
                      HINT = 'Keep your own rows in your own tables, keyed by the session id '
                             'without a foreign key; read sessions through the extension''s functions.';
        END IF;
    END LOOP;
END $$;
REVOKE ALL ON FUNCTION @extschema@.refuse_client_attachments() FROM PUBLIC;
CREATE EVENT TRIGGER session_persist_refuse_client_attachments ON ddl_command_end
    WHEN TAG IN ('CREATE TRIGGER', 'CREATE TABLE', 'ALTER TABLE')
    EXECUTE FUNCTION @extschema@.refuse_client_attachments();
