-- session_persist 1.0 -> 1.1 (ALTER EXTENSION session_persist UPDATE).
-- Every change made to sql/install/ since 1.0 was released, in the same order.
\echo Use "ALTER EXTENSION session_persist UPDATE TO '1.1'" to load this file. \quit
