-- The delta codec: jsonb_apply_delta(a, jsonb_delta(a, b)) = b for all a, b, byte for byte,
-- checked on thousands of random pairs (fixed seed); deltas that do not fit fail with 22023.
SET client_min_messages = warning;
\i test/sql/refusal.sql

-- What deltas look like.
SELECT jsonb_delta('{"a":1,"b":[1,2]}', '{"a":1,"b":[1,2]}') AS unchanged;
SELECT jsonb_delta('{"a":1,"b":[1,2],"gone":true}', '{"a":1,"b":[1,2,3],"c":"x"}') AS grown;
SELECT jsonb_delta('{"memory":{"k1":"old","k2":"same"}}', '{"memory":{"k1":"new","k2":"same"}}') AS nested;
SELECT jsonb_delta('[1,2,3,4,5,6]', '[1,2,9,4]') AS shrunk_and_changed;
SELECT jsonb_delta('{"a":1}', '[1]') AS replaced, jsonb_delta('1', '"one"') AS scalar;
SELECT jsonb_apply_delta('{"a":1,"b":[1,2]}', '{"o":{"b":{"a":[3]},"c":{"r":"x"}},"x":["a"]}');
SELECT jsonb_apply_delta('[1,2,3]', '{"n":1,"a":[7]}'), jsonb_apply_delta('"s"', '{}');
-- NULL is refused (22004), never passed through as a silent NULL.
SELECT pg_temp.refusal($$SELECT jsonb_delta(NULL, '{}')$$);
SELECT pg_temp.refusal($$SELECT jsonb_apply_delta('{}', NULL)$$);
SELECT pg_temp.refusal($$SELECT jsonb_state_hash(NULL)$$);

-- Random documents: nested objects and arrays, unicode and escapes, empty containers,
-- numbers, nulls; b derived from a by growing, shrinking and changing arrays in the middle,
-- adding, removing and changing keys.
SELECT setseed(0.42);
CREATE FUNCTION pg_temp.rand_scalar() RETURNS jsonb LANGUAGE sql VOLATILE AS $$
  SELECT CASE (random() * 9)::int
    WHEN 0 THEN 'null'::jsonb
    WHEN 1 THEN to_jsonb(random() < 0.5)
    WHEN 2 THEN to_jsonb((random() * 1e6)::int - 500000)
    WHEN 3 THEN to_jsonb(round((random() * 1e4)::numeric, 3))
    WHEN 4 THEN to_jsonb(repeat(chr(97 + (random() * 25)::int), (random() * 40)::int))
    WHEN 5 THEN to_jsonb('héllo ☃ 日本語 "q" \ / ' || chr(9) || chr(10) || (random() * 100)::int)
    WHEN 6 THEN '{}'::jsonb
    WHEN 7 THEN '[]'::jsonb
    ELSE to_jsonb(''::text) END $$;
CREATE FUNCTION pg_temp.rand_json(depth int) RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE r float := random(); out jsonb;
BEGIN
  IF depth <= 0 OR r < 0.35 THEN RETURN pg_temp.rand_scalar(); END IF;
  IF r < 0.7 THEN
    SELECT coalesce(jsonb_object_agg('k' || (random() * 40)::int, pg_temp.rand_json(depth - 1)), '{}')
      INTO out FROM generate_series(1, (random() * 8)::int);
  ELSE
    SELECT coalesce(jsonb_agg(pg_temp.rand_json(depth - 1)), '[]')
      INTO out FROM generate_series(1, (random() * 8)::int);
  END IF;
  RETURN out;
END $$;
CREATE FUNCTION pg_temp.mutate(doc jsonb, depth int) RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE r float := random(); out jsonb;
BEGIN
  IF depth <= 0 THEN RETURN pg_temp.rand_json(1); END IF;
  IF jsonb_typeof(doc) = 'object' THEN
    SELECT coalesce(jsonb_object_agg(key, CASE WHEN random() < 0.3 THEN pg_temp.mutate(value, depth - 1) ELSE value END), '{}')
      INTO out FROM jsonb_each(doc) WHERE random() > 0.1;
    IF random() < 0.3 THEN out := out || jsonb_build_object('new' || (random() * 9)::int, pg_temp.rand_json(2)); END IF;
    RETURN out;
  ELSIF jsonb_typeof(doc) = 'array' THEN
    IF r < 0.3 THEN            -- grown by appending
      RETURN doc || jsonb_build_array(pg_temp.rand_json(2), pg_temp.rand_json(1));
    ELSIF r < 0.45 THEN        -- shrunk
      SELECT coalesce(jsonb_agg(value ORDER BY ord), '[]') INTO out
        FROM jsonb_array_elements(doc) WITH ORDINALITY e(value, ord) WHERE ord <= jsonb_array_length(doc) / 2;
      RETURN out;
    ELSIF r < 0.8 THEN         -- changed in the middle
      SELECT coalesce(jsonb_agg(CASE WHEN random() < 0.25 THEN pg_temp.mutate(value, depth - 1) ELSE value END ORDER BY ord), '[]')
        INTO out FROM jsonb_array_elements(doc) WITH ORDINALITY e(value, ord);
      RETURN out;
    ELSE
      RETURN pg_temp.rand_json(2);
    END IF;
  ELSIF random() < 0.5 THEN
    RETURN pg_temp.rand_scalar();
  END IF;
  RETURN doc;
END $$;

CREATE TEMP TABLE pairs AS
  SELECT i, a, pg_temp.mutate(a, 4) AS b
    FROM (SELECT i, pg_temp.rand_json(4) AS a FROM generate_series(1, 2500) i) s;
-- unrelated pairs, and deep nesting
INSERT INTO pairs SELECT 10000 + i, pg_temp.rand_json(3), pg_temp.rand_json(3) FROM generate_series(1, 500) i;
INSERT INTO pairs SELECT 20000 + d,
       (repeat('{"x":[', d) || '1' || repeat(']}', d))::jsonb,
       (repeat('{"x":[', d) || '[2, {"y": null}]' || repeat(']}', d))::jsonb
  FROM generate_series(1, 300, 37) d;
-- large arrays and objects (past the 32-entry offset stride)
INSERT INTO pairs SELECT 30000 + n,
       (SELECT jsonb_agg(g) FROM generate_series(1, n) g),
       (SELECT jsonb_agg(CASE WHEN g % 17 = 0 THEN to_jsonb('changed'::text) ELSE to_jsonb(g) END) FROM generate_series(1, n + n / 3) g)
  FROM generate_series(30, 300, 30) n;
INSERT INTO pairs SELECT 40000 + n,
       (SELECT jsonb_object_agg('key' || g, g) FROM generate_series(1, n) g),
       (SELECT jsonb_object_agg('key' || g, CASE WHEN g % 7 = 0 THEN g * 2 ELSE g END) FROM generate_series(3, n + 5) g)
  FROM generate_series(10, 100, 15) n;

SELECT count(*) AS pairs,
       count(*) FILTER (WHERE jsonb_typeof(a) IS DISTINCT FROM jsonb_typeof(b) OR a <> b) AS different,
       count(*) FILTER (WHERE jsonb_apply_delta(a, jsonb_delta(a, b)) = b) AS restored,
       count(*) FILTER (WHERE jsonb_state_hash(jsonb_apply_delta(a, jsonb_delta(a, b))) = jsonb_state_hash(b)) AS byte_exact,
       count(*) FILTER (WHERE jsonb_delta(b, b) = '{}') AS self_empty
  FROM pairs;
-- Deltas of related documents are smaller than the documents.
SELECT (sum(pg_column_size(jsonb_delta(a, b))) < sum(pg_column_size(b))) AS smaller
  FROM pairs WHERE i < 10000;

-- A delta that does not fit its base: 22023, never a wrong document.
SELECT pg_temp.refusal($$SELECT jsonb_apply_delta('[1,2]', '{"o":{"a":{"r":1}}}')$$);
SELECT pg_temp.refusal($$SELECT jsonb_apply_delta('{"a":1}', '{"a":[1]}')$$);
SELECT pg_temp.refusal($$SELECT jsonb_apply_delta('{"a":1}', '{"o":{"b":{"a":[1]}}}')$$);
SELECT pg_temp.refusal($$SELECT jsonb_apply_delta('{"a":1}', '{"x":["b"]}')$$);
SELECT pg_temp.refusal($$SELECT jsonb_apply_delta('{"a":1}', '{"x":[1]}')$$);
SELECT pg_temp.refusal($$SELECT jsonb_apply_delta('{"a":1}', '{"o":{"a":{"r":2}},"x":["a"]}')$$);
SELECT pg_temp.refusal($$SELECT jsonb_apply_delta('[1,2]', '{"n":3}')$$);
SELECT pg_temp.refusal($$SELECT jsonb_apply_delta('[1,2]', '{"n":-1}')$$);
SELECT pg_temp.refusal($$SELECT jsonb_apply_delta('[1,2]', '{"n":1.5}')$$);
SELECT pg_temp.refusal($$SELECT jsonb_apply_delta('[1,2]', '{"p":{"2":{"r":0}}}')$$);
SELECT pg_temp.refusal($$SELECT jsonb_apply_delta('[1,2]', '{"p":{"01":{"r":0}}}')$$);
SELECT pg_temp.refusal($$SELECT jsonb_apply_delta('[1,2]', '{"a":{"x":1}}')$$);
SELECT pg_temp.refusal($$SELECT jsonb_apply_delta('[1,2]', '{"a":[3],"o":{}}')$$);
SELECT pg_temp.refusal($$SELECT jsonb_apply_delta('"s"', '{"a":[3]}')$$);
SELECT pg_temp.refusal($$SELECT jsonb_apply_delta('{}', '{"r":1,"o":{}}')$$);
SELECT pg_temp.refusal($$SELECT jsonb_apply_delta('{}', '[1]')$$);
SELECT pg_temp.refusal($$SELECT jsonb_apply_delta('{}', '"r"')$$);
SELECT pg_temp.refusal($$SELECT jsonb_apply_delta('{}', '{"q":1}')$$);

-- At the codec's nesting limit: a difference 1001 levels down (each level an array whose
-- other element makes a patch cheaper than a replacement) gives a delta that applies; one
-- level more is refused by jsonb_delta, never made and then refused by jsonb_apply_delta.
CREATE FUNCTION pg_temp.nested(levels int, innermost int) RETURNS jsonb LANGUAGE sql AS $$
  SELECT (repeat('["' || repeat('s', 100) || '", ', levels) || innermost || repeat(']', levels))::jsonb
$$;
SELECT jsonb_apply_delta(pg_temp.nested(1001, 1), jsonb_delta(pg_temp.nested(1001, 1), pg_temp.nested(1001, 2)))
       = pg_temp.nested(1001, 2) AS applies_at_the_limit;
SELECT pg_temp.refusal($$SELECT jsonb_delta(pg_temp.nested(1002, 1), pg_temp.nested(1002, 2))$$);

-- Errors raised deep inside the C++ codec surface with their SQLSTATE and the backend goes
-- on: nesting past the codec's limit (54001) and a cancelled long diff (57014).
SELECT pg_temp.refusal($$SELECT jsonb_delta((repeat('[', 1200) || '1' || repeat(']', 1200))::jsonb,
                                            (repeat('[', 1200) || '2' || repeat(']', 1200))::jsonb)$$);
CREATE TEMP TABLE big AS
  SELECT (SELECT jsonb_agg(jsonb_build_object('i', g, 't', md5(g::text))) FROM generate_series(1, 300000) g) AS a;
SET statement_timeout = '50ms';
SELECT count(*) FROM big, generate_series(1, 1000) r, LATERAL jsonb_delta(big.a, big.a || to_jsonb(r));
RESET statement_timeout;
SELECT jsonb_apply_delta('{"still":"working"}', '{"o":{"ok":{"r":true}}}');
