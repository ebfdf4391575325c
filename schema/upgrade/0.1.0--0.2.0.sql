-- cadence 0.1.0 -> 0.2.0, the part written by hand: what changed in the
-- tables (schema/tables/) since 0.1.0, with the rows they hold, and the
-- drops of code that 0.2.0 no longer has or whose signature or result
-- changed.  The Makefile appends every schema/code/ part, which makes
-- 0.2.0's functions, triggers, policies, the constraint on the leads' time
-- zones, PUBLIC's privileges and the pg_extension_config_dump list (which
-- gains cadence.runner_seq).  test/upgrade/10_update.sh installs 0.1.0,
-- fills it, updates it and compares the catalog with a fresh install's.
--
-- Every statement may run again harmlessly (IF EXISTS, IF NOT EXISTS, or a
-- check of the catalog first): on Citus the update runs on every node while
-- the coordinator's DDL also reaches the workers.

\echo Use "ALTER EXTENSION cadence UPDATE TO '0.2.0'" to load this file. \quit

-- Rows 0.2.0's new constraints refuse are reported, with how to correct
-- them, before anything changes: the update then stops and changes nothing.
DO $$
DECLARE
	n bigint;
	example text;
BEGIN
	SELECT count(*), min(format('%s (tenant %s, lead %s)', timezone, tenant_id, id))
	  INTO n, example
	  FROM cadence.contacts
	 WHERE timezone IS NOT NULL AND NOT cadence.is_valid_timezone(timezone);
	IF n > 0 THEN
		RAISE EXCEPTION 'cannot update cadence: % lead(s) have a time zone PostgreSQL does not know, such as %',
			n, example
			USING ERRCODE = '23514',
				  DETAIL = '0.2.0 accepts only zones PostgreSQL knows (pg_timezone_names), or none.',
				  HINT = 'Correct them, or clear them (each lead then takes its cadence''s zone): '
						 'UPDATE cadence.contacts SET timezone = NULL WHERE NOT cadence.is_valid_timezone(timezone);';
	END IF;
	SELECT count(*), min(format('%s (tenant %s)', id, tenant_id))
	  INTO n, example
	  FROM cadence.providers
	 WHERE concat(settings ->> 'from', settings ->> 'fromName') ~ '[\x01-\x1f\x7f]';
	IF n > 0 THEN
		RAISE EXCEPTION 'cannot update cadence: % provider account(s) have a line break or other control character in settings.from or settings.fromName, such as %',
			n, example
			USING ERRCODE = '23514',
				  DETAIL = 'The sender goes into mail headers and SMTP commands, which must be one line each.',
				  HINT = 'Correct settings.from and settings.fromName of those accounts, then update again.';
	END IF;
END
$$;

--
-- Runners: a claim lasts as long as its runner (0.1.0: until a lease ran
-- out).  Each runner takes a token from cadence.runner_seq and holds an
-- advisory lock on it while it lives; the actions it sends carry it.
--
CREATE SEQUENCE IF NOT EXISTS cadence.runner_seq AS integer CYCLE;
COMMENT ON SEQUENCE cadence.runner_seq IS
	'Tokens of runner processes; see cadence.scheduled_actions.runner';
ALTER TABLE cadence.scheduled_actions ADD COLUMN IF NOT EXISTS runner bigint;
-- What 0.1.0's runners were sending: none of them runs 0.2.0's code, so
-- these actions get one token taken now, which no process holds.  The first
-- claim after the update takes them over as a dead runner's: a new attempt
-- under the same idempotency key (or failed when the attempts are spent),
-- with an action.unrecorded event for the attempt whose outcome was lost.
DO $$
BEGIN
	IF EXISTS (SELECT FROM pg_catalog.pg_attribute
				WHERE attrelid = 'cadence.scheduled_actions'::regclass
				  AND attname = 'lease_until' AND NOT attisdropped) THEN
		ALTER TABLE cadence.scheduled_actions DROP CONSTRAINT IF EXISTS scheduled_actions_check;
		UPDATE cadence.scheduled_actions SET runner = nextval('cadence.runner_seq')
		 WHERE status = 'sending' AND runner IS NULL;
		ALTER TABLE cadence.scheduled_actions DROP COLUMN lease_until;
	END IF;
	IF NOT EXISTS (SELECT FROM pg_catalog.pg_constraint
					WHERE conrelid = 'cadence.scheduled_actions'::regclass
					  AND conname = 'scheduled_actions_check') THEN
		ALTER TABLE cadence.scheduled_actions ADD CONSTRAINT scheduled_actions_check
			CHECK ((status = 'sending') = (runner IS NOT NULL));
	END IF;
END
$$;
DROP INDEX IF EXISTS cadence.scheduled_actions_lease_idx;
DROP INDEX IF EXISTS cadence.scheduled_actions_inflight_idx;
CREATE INDEX IF NOT EXISTS scheduled_actions_sending_idx
	ON cadence.scheduled_actions (runner, tenant_id, provider_id)
	WHERE status = 'sending';
COMMENT ON TABLE cadence.scheduled_actions IS
	'One planned execution of one cadence action for one run: due time, status, attempts, the runner holding it, provider result, engagement';
COMMENT ON COLUMN cadence.scheduled_actions.runner IS
	'While sending: the token of the runner holding the action (from cadence.runner_seq); it holds its claims as long as it lives (see src/dispatch/claim.c)';

--
-- Scheduling: a step with no allowed instant within 14 days is skipped.
--
ALTER TABLE cadence.scheduled_actions
	DROP CONSTRAINT IF EXISTS scheduled_actions_moved_reason_check,
	ADD CONSTRAINT scheduled_actions_moved_reason_check
		CHECK (moved_reason IN ('weekend', 'holiday', 'outside_business_hours', 'dst_gap',
								'quiet_hours', 'daily_cap', 'rate_limit', 'retry',
								'no_send_window'));
COMMENT ON COLUMN cadence.scheduled_actions.planned_at IS
	'When the plan puts the action; due_at starts equal and moves with retries and send-time limits; both are planned again from when the action before it ended';
COMMENT ON COLUMN cadence.scheduled_actions.moved_reason IS
	'Why due_at is not what the rule alone gives: weekend, holiday, outside_business_hours, dst_gap, quiet_hours, daily_cap, rate_limit, retry; no_send_window: no allowed instant within 14 days, so a runner skips it';

-- settings.maxContactsPerDay counts the runs a cadence starts each day
-- (0.1.0: the messages it sent).  The counts kept are carried over: on the
-- day of the update, a cadence that sent follow-ups reaches its cap sooner.
DO $$
BEGIN
	IF EXISTS (SELECT FROM pg_catalog.pg_attribute
				WHERE attrelid = 'cadence.daily_sends'::regclass
				  AND attname = 'sent' AND NOT attisdropped) THEN
		ALTER TABLE cadence.daily_sends RENAME COLUMN sent TO started;
	END IF;
	IF EXISTS (SELECT FROM pg_catalog.pg_constraint
				WHERE conrelid = 'cadence.daily_sends'::regclass
				  AND conname = 'daily_sends_sent_check') THEN
		ALTER TABLE cadence.daily_sends RENAME CONSTRAINT daily_sends_sent_check
			TO daily_sends_started_check;
	END IF;
END
$$;
COMMENT ON TABLE cadence.daily_sends IS
	'Runs of a cadence started (their first action handed to a provider) on each local day of its time zone, against settings.maxContactsPerDay; follow-ups are not counted';

--
-- The audit log's new event types (every provider request, the members,
-- accounts and do-not-contact entries the API changes): the types are
-- listed once, by cadence.event_types(), whose check the code parts add
-- (schema/code/internal/07_event_types.sql).  0.1.0's list goes.
--
ALTER TABLE cadence.events DROP CONSTRAINT IF EXISTS events_type_check;

--
-- Provider accounts: the sender is one line (checked above).
--
DO $$
BEGIN
	IF NOT EXISTS (SELECT FROM pg_catalog.pg_constraint
					WHERE conrelid = 'cadence.providers'::regclass
					  AND conname = 'providers_sender_on_one_line') THEN
		ALTER TABLE cadence.providers ADD CONSTRAINT providers_sender_on_one_line
			CHECK (concat(settings ->> 'from', settings ->> 'fromName') !~ '[\x01-\x1f\x7f]');
	END IF;
END
$$;

--
-- Code that 0.2.0 no longer has, or whose arguments or result changed
-- (CREATE OR REPLACE cannot change those).
--
-- Gone: the claims are read in C (src/base/identity.c); validation reports
-- duplicates itself; each webhook event is authorised by the account it
-- concerns (schema/code/internal/86_webhook_auth.sql), not by a tenant found first.
DROP FUNCTION IF EXISTS cadence.jwt_claims();
DROP FUNCTION IF EXISTS cadence.assert_unique(jsonb, jsonb, text, text, text);
DROP FUNCTION IF EXISTS cadence.calendly_tenant(text, jsonb, jsonb);
DROP FUNCTION IF EXISTS cadence.webhook_accounts(text, jsonb, text[], text[]);
-- New arguments: what a run does happens at an instant given (pause_run,
-- cancel_run, exit_run, exit_runs), a delivery is applied at the time it
-- was received (ingest_webhook); a signature is checked against one
-- account (verify_webhook), a refusal may carry a hint (refuse_webhook);
-- the step counters take an array (add_step_counts).
DROP FUNCTION IF EXISTS cadence.pause_run(bigint, timestamptz, text);
DROP FUNCTION IF EXISTS cadence.cancel_run(bigint, text);
DROP FUNCTION IF EXISTS cadence.exit_run(bigint, text, text);
DROP FUNCTION IF EXISTS cadence.exit_runs(text, bigint[], text, text, text);
DROP FUNCTION IF EXISTS cadence.ingest_webhook(text, jsonb, jsonb, text);
DROP FUNCTION IF EXISTS cadence.verify_webhook(text, text, jsonb, jsonb, text, jsonb, jsonb);
DROP FUNCTION IF EXISTS cadence.refuse_webhook(text, text);
DROP FUNCTION IF EXISTS cadence.add_step_counts(jsonb);
-- No trigger on cadence's tables, which Citus refuses on distributed
-- tables: events are published by the statements that write them
-- (src/base/publish.c), whoever deletes a run deletes its actions, and
-- upsert_provider clears the credentials of an account that moves.  A row
-- goes to a helper as jsonb (a shard's row type is its own).
DROP TRIGGER IF EXISTS events_publish ON cadence.events;
DROP TRIGGER IF EXISTS runs_delete_actions ON cadence.runs;
DROP TRIGGER IF EXISTS providers_credentials_follow_address ON cadence.providers;
DROP FUNCTION IF EXISTS cadence.publish_events();
DROP FUNCTION IF EXISTS cadence.delete_run_actions();
DROP FUNCTION IF EXISTS cadence.clear_moved_credentials();
DROP FUNCTION IF EXISTS cadence.cadence_head_json(cadence.cadences);
DROP FUNCTION IF EXISTS cadence.enrollment_json(cadence.runs);
-- A run's add_to_campaign step enrolls through plan_run_in, which takes the
-- tenant as an argument; in_tenant, which ran a statement acting for one,
-- is gone.
DROP FUNCTION IF EXISTS cadence.in_tenant(text, text, jsonb);

--
-- Privileges.  0.1.0's grant_access() gave its roles EXECUTE on every
-- function, internals included (in_tenant runs a statement for any
-- tenant); 0.2.0's gives a list (schema/code/admin/90_grants.sql) and starts from
-- nothing.  The update takes every such grant away at once, so that no role
-- keeps an internal function until grant_access() runs again (in the same
-- transaction: README, Upgrading).  The privileges recorded as the
-- extension's own stay the owner's alone, as a fresh install's.
--
DO $$
DECLARE
	g record;
BEGIN
	FOR g IN SELECT DISTINCT p.oid::regprocedure AS f, a.grantee
			   FROM pg_catalog.pg_proc p
			   JOIN pg_catalog.pg_depend d ON d.classid = 'pg_proc'::regclass
										  AND d.objid = p.oid AND d.deptype = 'e'
			   JOIN pg_catalog.pg_extension e ON e.oid = d.refobjid AND e.extname = 'cadence'
			  CROSS JOIN LATERAL pg_catalog.aclexplode(p.proacl) a
			  WHERE a.grantee <> p.proowner LOOP
		EXECUTE format('REVOKE ALL ON FUNCTION %s FROM %s', g.f,
					   CASE WHEN g.grantee = 0 THEN 'PUBLIC'
							ELSE quote_ident(pg_catalog.pg_get_userbyid(g.grantee)) END);
	END LOOP;
END
$$;

--
-- The step types and the provider kinds are listed once, in C: the checks
-- on cadence_actions.type and providers.kind call cadence.action_types()
-- and cadence.provider_kinds(), and the code parts add them after those
-- functions (schema/code/internal/05_checks.sql).  0.1.0's lists go.
--
ALTER TABLE cadence.cadence_actions DROP CONSTRAINT IF EXISTS cadence_actions_type_check;
ALTER TABLE cadence.providers DROP CONSTRAINT IF EXISTS providers_kind_check;
