-- session_persist 1.0 install script, assembled by the Makefile from sql/install/*.sql.
\echo Use "CREATE EXTENSION session_persist" to load this file. \quit

-- 00_types: the enums of SPEC.md's data model.

CREATE TYPE @extschema@.session_status AS ENUM ('active', 'paused', 'completed', 'error', 'archived');
CREATE TYPE @extschema@.session_visibility AS ENUM ('private', 'organization', 'public');
