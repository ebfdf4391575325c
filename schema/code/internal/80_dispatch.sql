-- What the runners and webhook checks use from C: an action's idempotency
-- key, HMAC and ECDSA, the worker's shared counters read for
-- worker_status (admin/80_dispatch.sql), and where a request may go.

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

CREATE OR REPLACE FUNCTION cadence.address_scope(address inet) RETURNS text
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE
AS 'MODULE_PATHNAME', 'cadence_address_scope';
COMMENT ON FUNCTION cadence.address_scope(inet) IS
	'public, or the range of an address that provider requests are not sent to unless cadence.allow_private_networks is on: loopback, private, link_local, cgnat, unspecified, broadcast, multicast, documentation, benchmarking, reserved (IPv4-mapped, NAT64 and 6to4 addresses are judged by the IPv4 address they carry)';
