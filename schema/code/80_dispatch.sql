-- Dispatch: the runner any session (or pg_cron) can call, the background
-- worker's status, and a way to try a template.  The worker itself is C
-- (src/worker/bgworker.c) and needs no SQL.

CREATE OR REPLACE FUNCTION cadence.run_due_actions("limit" integer DEFAULT 50,
										as_of timestamptz DEFAULT now(),
										tenant_id text DEFAULT NULL)
RETURNS jsonb
LANGUAGE C VOLATILE
-- Its statements go from arrays of keys to rows by key: see the planning
-- note in src/dispatch/claim.c.
SET enable_seqscan = off
SET enable_bitmapscan = off
SET enable_mergejoin = off
-- Names in its statements resolve in pg_catalog, never in a schema of the
-- caller's path (pg_cron's superuser) that another role may write.
SET search_path = pg_catalog, pg_temp
AS 'MODULE_PATHNAME', 'cadence_run_due_actions';
COMMENT ON FUNCTION cadence.run_due_actions(integer, timestamptz, text) IS
	'Resume the paused runs whose time has come, send up to limit actions due at as_of (of one tenant, or of all) and record what happened: {"claimed", "sent", "skipped", "failed", "retried", "moved", "pendingManual", "executed", "resumed"}; safe in several sessions and beside the background worker. For pg_cron: SELECT cadence.run_due_actions(500)';

-- The database's share of dispatch, for the benchmark (bench/dispatch_sql.sql):
-- a runner's rounds over every due action, each request answered at once
-- by status and body (src/worker/answered_rounds.c).  Internal: granted to
-- no role.
CREATE OR REPLACE PROCEDURE cadence.dispatch_answered(batch_size integer, status integer, body text,
													  tenant_id text DEFAULT NULL)
LANGUAGE C
AS 'MODULE_PATHNAME', 'cadence_dispatch_answered';
COMMENT ON PROCEDURE cadence.dispatch_answered(integer, integer, text, text) IS
	'Run a runner''s rounds of batch_size over the actions due (of tenant_id, or of all) until a round takes nothing on, answering every provider request at once with status and body instead of sending it, committing as a runner does; measures the database''s share of dispatch';

CREATE OR REPLACE FUNCTION cadence.idempotency_key(action_id bigint) RETURNS text
LANGUAGE C STABLE STRICT PARALLEL SAFE
AS 'MODULE_PATHNAME', 'cadence_idempotency_key_sql';
COMMENT ON FUNCTION cadence.idempotency_key(bigint) IS
	'The idempotency key every request of a scheduled action carries, cadence-<installation>-<id>; e-mail goes out with Message-ID <key@sender''s host>';

CREATE OR REPLACE FUNCTION cadence.hmac(message bytea, key bytea, algorithm text) RETURNS bytea
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE
AS 'MODULE_PATHNAME', 'cadence_hmac';
COMMENT ON FUNCTION cadence.hmac(bytea, bytea, text) IS
	'HMAC-SHA1 (algorithm sha1) or HMAC-SHA256 (sha256) of message under key, as webhook signatures use them';

CREATE OR REPLACE FUNCTION cadence.verify_ecdsa(message bytea, signature bytea, public_key text)
RETURNS boolean
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE
AS 'MODULE_PATHNAME', 'cadence_verify_ecdsa';
COMMENT ON FUNCTION cadence.verify_ecdsa(bytea, bytea, text) IS
	'Whether signature (DER) is an ECDSA signature of SHA-256(message) under public_key (base64 DER or PEM), as SendGrid signs its event webhook';

CREATE OR REPLACE FUNCTION cadence.worker_state(
	OUT running boolean, OUT preloaded boolean, OUT database text, OUT pids integer[],
	OUT started_at timestamptz, OUT last_claim_at timestamptz, OUT in_flight integer,
	OUT claimed bigint, OUT sent bigint, OUT failed bigint, OUT retried bigint,
	OUT skipped bigint, OUT moved bigint, OUT executed bigint)
RETURNS record
LANGUAGE C VOLATILE
AS 'MODULE_PATHNAME', 'cadence_worker_status';
COMMENT ON FUNCTION cadence.worker_state() IS
	'The background dispatchers'' shared state and the counters of every runner since the server started';

CREATE OR REPLACE FUNCTION cadence.worker_status() RETURNS jsonb
LANGUAGE sql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
	SELECT to_jsonb(s) || jsonb_build_object('next_due_at',
		(SELECT min(a.due_at) FROM cadence.scheduled_actions a WHERE a.status = 'scheduled'))
		|| jsonb_build_object('next_resume_at',
		(SELECT min(r.resume_at) FROM cadence.runs r
		  WHERE r.status = 'paused' AND r.resume_at IS NOT NULL))
	  FROM cadence.worker_state() AS s
$$;
COMMENT ON FUNCTION cadence.worker_status() IS
	'Whether the background dispatchers run (their pids), the last claim, requests in flight, sent/failed/retried/skipped/moved/executed counters, and the next due time of scheduled work or of a paused run that resumes';

CREATE OR REPLACE FUNCTION cadence.address_scope(address inet) RETURNS text
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE
AS 'MODULE_PATHNAME', 'cadence_address_scope';
COMMENT ON FUNCTION cadence.address_scope(inet) IS
	'public, or the range of an address that provider requests are not sent to unless cadence.allow_private_networks is on: loopback, private, link_local, cgnat, unspecified, broadcast, multicast, documentation, benchmarking, reserved (IPv4-mapped, NAT64 and 6to4 addresses are judged by the IPv4 address they carry)';

CREATE OR REPLACE FUNCTION cadence.render_template(template text, vars jsonb DEFAULT '{}',
										html boolean DEFAULT false)
RETURNS text
LANGUAGE C STABLE PARALLEL SAFE
AS 'MODULE_PATHNAME', 'cadence_render_template';
COMMENT ON FUNCTION cadence.render_template(text, jsonb, boolean) IS
	'A message template filled from vars the way the runner fills it: {{name}}, {{name|fallback}}, dotted paths, values HTML-escaped when html; 22023 naming a variable with no value and no fallback, 54000 when it renders to more than 262,144 characters';
