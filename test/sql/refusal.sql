-- Shared by the regression tests (\i test/sql/refusal.sql): runs a statement and shows how
-- it was refused, as a user would read it: "SQLSTATE: message [detail]", or "no error".
CREATE FUNCTION pg_temp.refusal(q text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE st text; msg text; det text;
BEGIN
  EXECUTE q;
  RETURN 'no error';
EXCEPTION WHEN OTHERS THEN
  GET STACKED DIAGNOSTICS st = RETURNED_SQLSTATE, msg = MESSAGE_TEXT, det = PG_EXCEPTION_DETAIL;
  RETURN st || ': ' || msg || coalesce(' [' || nullif(det, '') || ']', '');
END $$;
