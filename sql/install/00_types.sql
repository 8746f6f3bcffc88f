-- session_persist install script of the current version (the control file's default_version),
-- assembled by the Makefile from sql/install/*.sql. Released versions are frozen in sql/released/.
\echo Use "CREATE EXTENSION session_persist" to load this file. \quit

-- 00_types: the enums of SPEC.md's data model.

CREATE TYPE @extschema@.session_status AS ENUM ('active', 'paused', 'completed', 'error', 'archived');
CREATE TYPE @extschema@.session_visibility AS ENUM ('private', 'organization', 'public');
