-- Helpers for the tests that feed cadence.ingest_webhook():
--
--   pg_temp.hook(provider, payload, headers, url)
--       its answer in words: the signature check, the tally, per event its
--       kind and outcome, and the runs it ended or paused, as
--       "lead/cadence status"
--   pg_temp.try(sql)
--       'ok', or 'SQLSTATE: message' of the error sql raised

CREATE FUNCTION pg_temp.hook(provider text, payload jsonb, headers jsonb DEFAULT '{}',
							 url text DEFAULT NULL)
RETURNS TABLE (signature text, applied int, duplicates int, unmatched int, ignored int,
			   events text, runs text)
LANGUAGE sql AS $$
	SELECT r ->> 'signature', (r ->> 'applied')::int, (r ->> 'duplicates')::int,
		   (r ->> 'unmatched')::int, (r ->> 'ignored')::int,
		   (SELECT string_agg((x ->> 'kind') || ' ' || (x ->> 'outcome'), ', ')
			  FROM jsonb_array_elements(r -> 'results') AS x),
		   (SELECT string_agg(l.lead || '/' || l.cadence || ' ' || l.what, ', '
							  ORDER BY l.lead, l.cadence)
			  FROM jsonb_array_elements(r -> 'results') AS x,
				   jsonb_array_elements(coalesce(x -> 'runs', '[]')) AS y
			  LEFT JOIN cadence.runs ru ON ru.id = (y ->> 'runId')::bigint,
				   -- (a run enrolled by this very call is not visible to it yet)
				   LATERAL (SELECT coalesce(ru.lead_id, x -> 'leadIds' ->> 0) AS lead,
								   coalesce(ru.cadence_id, y ->> 'cadenceId') AS cadence,
								   coalesce(y ->> 'status', y ->> 'outcome') AS what) l)
	  FROM cadence.ingest_webhook(provider, payload, headers, url) AS r
$$;

CREATE FUNCTION pg_temp.try(sql text) RETURNS text LANGUAGE plpgsql AS $$
BEGIN
	EXECUTE sql;
	RETURN 'ok';
EXCEPTION WHEN OTHERS THEN
	RETURN SQLSTATE || ': ' || SQLERRM;
END
$$;
