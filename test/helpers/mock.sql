-- Helpers for tests that talk to the mock provider (test/mock/provider.py),
-- which test/suite starts on 127.0.0.1:18025 (SMTP on 18026).  They reach
-- it with curl through COPY ... PROGRAM, so they need a superuser.
--
--   pg_temp.mock_post(path, body)    POST a control request (reset, fail)
--   pg_temp.mock_requests(kind)      the requests it recorded, oldest first

CREATE FUNCTION pg_temp.mock_post(path text, body jsonb DEFAULT '{}') RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
	EXECUTE format('COPY (SELECT %L::text) TO PROGRAM %L'
				   ' WITH (FORMAT csv, QUOTE E''\x01'', DELIMITER E''\x02'')',
				   body,
				   'curl -sf -o /dev/null -X POST -H "Content-Type: application/json"'
				   ' --data-binary @- http://127.0.0.1:18025' || path);
END
$$;

CREATE TEMP TABLE mock_reply (line text);
CREATE FUNCTION pg_temp.mock_requests(kind text DEFAULT '') RETURNS SETOF jsonb
LANGUAGE plpgsql AS $$
BEGIN
	TRUNCATE mock_reply;
	EXECUTE format('COPY mock_reply FROM PROGRAM %L'
				   ' WITH (FORMAT csv, QUOTE E''\x01'', DELIMITER E''\x02'')',
				   'curl -sf "http://127.0.0.1:18025/_mock/requests?kind=' || kind || '"');
	RETURN QUERY SELECT r FROM mock_reply, jsonb_array_elements(line::jsonb -> 'requests') AS r;
END
$$;
