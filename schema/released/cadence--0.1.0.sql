-- cadence install script, assembled by the Makefile from schema/*.sql in
-- name order.  Each part holds one concern: identity, tables, security,
-- scheduling, validation, the cadence contract, grants.

\echo Use "CREATE EXTENSION cadence" to load this file. \quit

-- Every object lives here; the schema belongs to the extension, so DROP
-- EXTENSION takes it away with everything else.
CREATE SCHEMA cadence;
COMMENT ON SCHEMA cadence IS 'sales cadences: definitions, runs, scheduled actions and their dispatch';
REVOKE ALL ON SCHEMA cadence FROM PUBLIC;
-- Who is calling.  PostgREST puts the verified JWT in request.jwt.claims;
-- other applications SET cadence.tenant_id / cadence.user_id.  Everything
-- that decides visibility or write rights goes through these functions.

CREATE FUNCTION cadence.jwt_claims() RETURNS jsonb
LANGUAGE sql STABLE PARALLEL SAFE
AS $$
	SELECT CASE
		WHEN coalesce(current_setting('request.jwt.claims', true), '') = '' THEN '{}'::jsonb
		ELSE current_setting('request.jwt.claims', true)::jsonb
	END
$$;
COMMENT ON FUNCTION cadence.jwt_claims() IS
	'The PostgREST JWT claims of the current request, or {} outside PostgREST';

CREATE FUNCTION cadence.current_tenant() RETURNS text
LANGUAGE sql STABLE PARALLEL SAFE
AS $$
	SELECT coalesce(
		nullif(c ->> 'tenant_id', ''),
		nullif(c -> 'app_metadata' ->> 'tenant_id', ''),
		nullif(current_setting('cadence.tenant_id', true), ''))
	FROM cadence.jwt_claims() AS c
$$;
COMMENT ON FUNCTION cadence.current_tenant() IS
	'Tenant of the caller: JWT claim tenant_id (top level or under app_metadata), else the setting cadence.tenant_id';

CREATE FUNCTION cadence.current_user_id() RETURNS text
LANGUAGE sql STABLE PARALLEL SAFE
AS $$
	SELECT coalesce(
		nullif(c ->> 'sub', ''),
		nullif(current_setting('cadence.user_id', true), ''))
	FROM cadence.jwt_claims() AS c
$$;
COMMENT ON FUNCTION cadence.current_user_id() IS
	'User of the caller: JWT claim sub, else the setting cadence.user_id';

CREATE FUNCTION cadence.require_tenant() RETURNS text
LANGUAGE plpgsql STABLE
AS $$
DECLARE
	t text := cadence.current_tenant();
BEGIN
	IF t IS NULL THEN
		RAISE EXCEPTION 'no tenant is set for this session'
			USING ERRCODE = '42501',
				  HINT = 'Send a JWT with a tenant_id claim, or SET cadence.tenant_id.';
	END IF;
	RETURN t;
END
$$;
COMMENT ON FUNCTION cadence.require_tenant() IS
	'The caller''s tenant, or error 42501 when the session names none';
-- Tenant membership.  A DBA or a service role inserts rows; the ids are
-- whatever the application uses (UUID strings in Supabase).

CREATE TABLE cadence.members (
	tenant_id	text COLLATE "C" NOT NULL,
	user_id		text COLLATE "C" NOT NULL,
	role		text NOT NULL DEFAULT 'member'
				CHECK (role IN ('owner', 'admin', 'member')),
	created_at	timestamptz NOT NULL DEFAULT now(),
	PRIMARY KEY (tenant_id, user_id)
);
COMMENT ON TABLE cadence.members IS
	'Who belongs to a tenant and with which role: owner and admin may change any cadence, member only their own';

CREATE FUNCTION cadence.current_member_role() RETURNS text
LANGUAGE sql STABLE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
	SELECT m.role FROM cadence.members m
	 WHERE m.tenant_id = cadence.current_tenant()
	   AND m.user_id = cadence.current_user_id()
$$;
COMMENT ON FUNCTION cadence.current_member_role() IS
	'Role of the caller in the caller''s tenant (owner, admin, member), or NULL for a non-member';
-- Cadence definitions.  A cadence has numbered days, each with ordered
-- actions (seed 000's shape).  Days and actions are kept per version:
-- editing a cadence that already has runs creates a new version, and runs
-- keep the version they were planned from.

CREATE TABLE cadence.cadences (
	tenant_id		text COLLATE "C" NOT NULL,
	id				text COLLATE "C" NOT NULL DEFAULT gen_random_uuid()::text,
	name			text NOT NULL CHECK (name <> ''),
	description		text,
	status			text NOT NULL DEFAULT 'draft'
					CHECK (status IN ('draft', 'active', 'paused', 'archived')),
	timezone		text NOT NULL DEFAULT 'UTC',
	trigger			jsonb NOT NULL DEFAULT '{}'
					CHECK (jsonb_typeof(trigger) = 'object'),
	settings		jsonb NOT NULL DEFAULT '{}'
					CHECK (jsonb_typeof(settings) = 'object'),
	exit_conditions	jsonb NOT NULL DEFAULT '{}'
					CHECK (jsonb_typeof(exit_conditions) = 'object'),
	owner_id		text COLLATE "C",
	version			integer NOT NULL DEFAULT 1 CHECK (version > 0),
	created_at		timestamptz NOT NULL DEFAULT now(),
	updated_at		timestamptz NOT NULL DEFAULT now(),
	deleted_at		timestamptz,
	PRIMARY KEY (tenant_id, id)
);
COMMENT ON TABLE cadence.cadences IS
	'Cadence definitions: name, status, time zone, trigger, settings, exit conditions, owner and current version';
CREATE INDEX cadences_active_idx ON cadence.cadences (tenant_id)
	WHERE status = 'active' AND deleted_at IS NULL;

CREATE TABLE cadence.cadence_days (
	tenant_id	text COLLATE "C" NOT NULL,
	cadence_id	text COLLATE "C" NOT NULL,
	version		integer NOT NULL,
	day_number	integer NOT NULL CHECK (day_number >= 1),
	PRIMARY KEY (tenant_id, cadence_id, version, day_number),
	FOREIGN KEY (tenant_id, cadence_id)
		REFERENCES cadence.cadences (tenant_id, id) ON DELETE CASCADE
);
COMMENT ON TABLE cadence.cadence_days IS
	'The numbered days of each cadence version; day N starts N-1 days (or business days) after the trigger day';

CREATE TABLE cadence.cadence_actions (
	tenant_id		text COLLATE "C" NOT NULL,
	cadence_id		text COLLATE "C" NOT NULL,
	version			integer NOT NULL,
	day_number		integer NOT NULL,
	position		integer NOT NULL CHECK (position >= 1),
	step_number		integer NOT NULL CHECK (step_number >= 1),
	action_id		text COLLATE "C" NOT NULL CHECK (action_id <> ''),
	name			text,
	type			text NOT NULL
					CHECK (type IN ('sms', 'email', 'whatsapp', 'call_task',
									'manual_task', 'manual_email', 'linkedin_task',
									'webhook', 'condition', 'lead_action')),
	schedule_rule	jsonb NOT NULL
					CHECK (schedule_rule ->> 'kind' IN
						   ('immediately', 'timeOfDay', 'afterPrevious', 'delay')),
	config			jsonb NOT NULL DEFAULT '{}'
					CHECK (jsonb_typeof(config) = 'object'),
	variants		jsonb CHECK (jsonb_typeof(variants) = 'array'),
	condition		jsonb CHECK (jsonb_typeof(condition) = 'object'),
	PRIMARY KEY (tenant_id, cadence_id, version, action_id),
	UNIQUE (tenant_id, cadence_id, version, step_number),
	UNIQUE (tenant_id, cadence_id, version, day_number, position),
	FOREIGN KEY (tenant_id, cadence_id, version, day_number)
		REFERENCES cadence.cadence_days (tenant_id, cadence_id, version, day_number)
		ON DELETE CASCADE
);
COMMENT ON TABLE cadence.cadence_actions IS
	'The ordered actions of each day of a cadence version: type, schedule rule, channel config, A/B variants, branch condition';
-- The default lead directory, the do-not-contact list and holiday calendars.

CREATE TABLE cadence.contacts (
	tenant_id			text COLLATE "C" NOT NULL,
	id					text COLLATE "C" NOT NULL DEFAULT gen_random_uuid()::text,
	first_name			text,
	last_name			text,
	email				text,
	phone				text,
	whatsapp			text,
	timezone			text,
	company				text,
	owner_id			text COLLATE "C",
	status				text NOT NULL DEFAULT 'new',
	tags				text[] NOT NULL DEFAULT '{}',
	attributes			jsonb NOT NULL DEFAULT '{}'
						CHECK (jsonb_typeof(attributes) = 'object'),
	unsubscribed		boolean NOT NULL DEFAULT false,
	last_activity_at	timestamptz,
	created_at			timestamptz NOT NULL DEFAULT now(),
	updated_at			timestamptz NOT NULL DEFAULT now(),
	PRIMARY KEY (tenant_id, id)
);
COMMENT ON TABLE cadence.contacts IS
	'Leads: names, addresses per channel, IANA time zone, company, owner, status, tags, free attributes, global opt-out';
CREATE INDEX contacts_last_activity_idx
	ON cadence.contacts (tenant_id, last_activity_at);
-- How an inbound message (a reply, a STOP, a meeting booked) finds its lead,
-- and a reply finds the lead's colleagues (settings.pauseCompanyOnReply).
CREATE INDEX contacts_email_idx ON cadence.contacts (tenant_id, lower(email));
CREATE INDEX contacts_phone_idx ON cadence.contacts (tenant_id, phone);
CREATE INDEX contacts_whatsapp_idx ON cadence.contacts (tenant_id, whatsapp);
CREATE INDEX contacts_company_idx ON cadence.contacts (tenant_id, lower(company))
	WHERE company IS NOT NULL;

CREATE TABLE cadence.suppressions (
	tenant_id	text COLLATE "C" NOT NULL,
	channel		text NOT NULL
				CHECK (channel IN ('sms', 'email', 'whatsapp', 'call', 'all')),
	address		text COLLATE "C" NOT NULL
				CHECK (address = lower(address) AND address <> ''),
	reason		text NOT NULL DEFAULT 'manual'
				CHECK (reason IN ('manual', 'unsubscribe', 'bounce',
								  'spam_report', 'stop_keyword', 'invalid')),
	created_at	timestamptz NOT NULL DEFAULT now(),
	PRIMARY KEY (tenant_id, channel, address)
);
COMMENT ON TABLE cadence.suppressions IS
	'Do-not-contact list per channel and address (email in lower case, phone or WhatsApp number in E.164); channel all blocks every channel';

CREATE TABLE cadence.holidays (
	tenant_id	text COLLATE "C" NOT NULL,
	calendar	text COLLATE "C" NOT NULL DEFAULT 'default',
	day			date NOT NULL,
	name		text,
	PRIMARY KEY (tenant_id, calendar, day)
);
COMMENT ON TABLE cadence.holidays IS
	'Holiday calendars: local dates on which no business-day step is planned; a cadence names its calendar in settings.holidayCalendar';
-- Runs (one enrollment of one lead in one cadence version), their scheduled
-- actions, the audit log and the manual task list.
--
-- The two state machines, written down once:
--
--   run:               active --pause--> paused --resume--> active
--                      active --auto-reply--> paused (resume_at set: a
--                                      runner resumes it then)
--                      active --last action done--> completed
--                      active|paused --cancel--> cancelled
--                      active|paused --exit condition, or a condition
--                                      step that stops--> replied | bounced |
--                                      unsubscribed | meeting_booked |
--                                      completed | cancelled
--                      active --unrecoverable error--> failed
--                      Every state but active and paused is final.
--
--   scheduled action:  planned --the run reaches its step--> scheduled
--                      scheduled --claimed by a runner--> sending
--                      sending --provider accepted--> sent
--                      sending --retryable error--> scheduled (later due_at)
--                      sending --permanent error, attempts spent--> failed
--                      scheduled|sending --not sendable (suppressed, opted
--                                out, missing variable, no address)--> skipped
--                      scheduled|sending --quiet hours, daily cap, rate
--                                limit--> scheduled (later due_at)
--                      scheduled|sending --manual step due--> pending_manual
--                      pending_manual --done by a person--> completed
--                      sending --condition or lead action step
--                                carried out by the runner--> completed
--                      scheduled --run paused--> planned (scheduled again
--                                when it resumes)
--                      planned|scheduled|pending_manual --run ended-->
--                                cancelled (skipped when skipped past, or
--                                jumped over by a condition step)
--                      sent, skipped, failed, completed, cancelled are final
--                      (a sent action still collects opened/clicked/replied).
--
--   Only the action of a run's current step is ever scheduled, so the
--   runners' index of due work holds nothing but work they may do.  When an
--   action ends (sent, skipped, failed, completed) the run moves to its next
--   planned action, re-planned from when the ended one happened if that was
--   late, or completes.

CREATE TABLE cadence.runs (
	tenant_id			text COLLATE "C" NOT NULL,
	id					bigint GENERATED ALWAYS AS IDENTITY,
	cadence_id			text COLLATE "C" NOT NULL,
	cadence_version		integer NOT NULL,
	lead_id				text COLLATE "C" NOT NULL,
	status				text NOT NULL DEFAULT 'active'
						CHECK (status IN ('active', 'paused', 'completed', 'replied',
										  'bounced', 'unsubscribed', 'meeting_booked',
										  'cancelled', 'failed')),
	current_step		integer NOT NULL DEFAULT 1 CHECK (current_step >= 0),
	first_day			integer NOT NULL DEFAULT 1 CHECK (first_day >= 1),
	timezone			text NOT NULL,
	assigned_to			text COLLATE "C",
	exit_reason			text,
	trigger_at			timestamptz NOT NULL,
	enrolled_at			timestamptz NOT NULL DEFAULT now(),
	paused_at			timestamptz,
	resume_at			timestamptz,
	completed_at		timestamptz,
	last_activity_at	timestamptz,
	metadata			jsonb NOT NULL DEFAULT '{}'
						CHECK (jsonb_typeof(metadata) = 'object'),
	PRIMARY KEY (tenant_id, id),
	FOREIGN KEY (tenant_id, cadence_id)
		REFERENCES cadence.cadences (tenant_id, id),
	FOREIGN KEY (tenant_id, lead_id)
		REFERENCES cadence.contacts (tenant_id, id)
);
COMMENT ON TABLE cadence.runs IS
	'One enrollment of one lead in one cadence version, with its status, position, assignee and exit reason';
COMMENT ON COLUMN cadence.runs.current_step IS
	'Step number of the action the run waits on (0 once nothing is left)';
COMMENT ON COLUMN cadence.runs.first_day IS
	'The cadence day planned on the trigger day: 1, or later for a run enrolled at a later step';
COMMENT ON COLUMN cadence.runs.timezone IS
	'The zone the run is planned in: the cadence''s, or the lead''s own in recipient time';
COMMENT ON COLUMN cadence.runs.resume_at IS
	'When a paused run resumes by itself (an out-of-office reply until a return date); NULL: only resume_run resumes it';
-- At most one live run of a cadence per lead, even under concurrent
-- enrollment; also how an event about a lead finds the lead's live runs.
CREATE UNIQUE INDEX runs_one_live_per_lead
	ON cadence.runs (tenant_id, lead_id, cadence_id)
	WHERE status IN ('active', 'paused');
-- The runs of a lead that are over (a reply after the last touch still
-- answers its message); runs_one_live_per_lead has the live ones.  Partial,
-- so that enrolling writes no entry here.
CREATE INDEX runs_ended_lead_idx ON cadence.runs (tenant_id, lead_id)
	WHERE status NOT IN ('active', 'paused');
-- Enrollment listings and statistics of one cadence.
CREATE INDEX runs_cadence_status_idx ON cadence.runs (tenant_id, cadence_id, status);
-- Paused runs that resume by themselves, for the runners.
CREATE INDEX runs_resume_idx ON cadence.runs (resume_at)
	WHERE status = 'paused' AND resume_at IS NOT NULL;

-- scheduled_actions and events name their run by (tenant_id, run_id)
-- without a foreign key: the planner writes a run and all its actions in
-- one statement, and a per-row key check would cost more than the insert
-- itself (and go quadratic when stale statistics make the check's plan
-- scan).  Deleting a run deletes its actions (runs_delete_actions below);
-- events, the audit log, outlive what they describe.
CREATE TABLE cadence.scheduled_actions (
	tenant_id			text COLLATE "C" NOT NULL,
	id					bigint GENERATED ALWAYS AS IDENTITY,
	run_id				bigint NOT NULL,
	cadence_id			text COLLATE "C" NOT NULL,
	cadence_version		integer NOT NULL,
	action_id			text COLLATE "C" NOT NULL,
	step_number			integer NOT NULL CHECK (step_number >= 1),
	day_number			integer NOT NULL CHECK (day_number >= 1),
	type				text NOT NULL,
	due_at				timestamptz NOT NULL,
	planned_at			timestamptz NOT NULL,
	status				text NOT NULL DEFAULT 'scheduled'
						CHECK (status IN ('planned', 'scheduled', 'sending', 'sent',
										  'skipped', 'failed', 'pending_manual',
										  'completed', 'cancelled')),
	moved_reason		text CHECK (moved_reason IN ('weekend', 'holiday',
													 'outside_business_hours',
													 'dst_gap', 'quiet_hours',
													 'daily_cap', 'rate_limit',
													 'retry')),
	attempts			integer NOT NULL DEFAULT 0 CHECK (attempts >= 0),
	lease_until			timestamptz,
	provider_id			text COLLATE "C",
	provider_message_id	text COLLATE "C",
	variant				text,
	rendered			jsonb,
	skip_reason			text,
	last_error			text,
	sent_at				timestamptz,
	completed_at		timestamptz,
	delivered_at		timestamptz,
	opened_at			timestamptz,
	clicked_at			timestamptz,
	replied_at			timestamptz,
	bounced_at			timestamptz,
	created_at			timestamptz NOT NULL DEFAULT now(),
	updated_at			timestamptz NOT NULL DEFAULT now(),
	-- An action is addressed through its run: the key also serves every
	-- statement about one run's actions.
	PRIMARY KEY (tenant_id, run_id, id),
	CHECK ((status = 'sending') = (lease_until IS NOT NULL))
);
COMMENT ON TABLE cadence.scheduled_actions IS
	'One planned execution of one cadence action for one run: due time, status, attempts, lease, provider result, engagement';
COMMENT ON COLUMN cadence.scheduled_actions.planned_at IS
	'When the plan puts the action; due_at starts equal and moves with retries and send-time limits, and an action done much later than planned re-plans the steps after it';
COMMENT ON COLUMN cadence.scheduled_actions.attempts IS
	'Sending attempts so far; every attempt carries the same idempotency key, cadence-<installation>-<id>';
COMMENT ON COLUMN cadence.scheduled_actions.variant IS
	'The A/B variant the run got for this step: the same for the run on every attempt';
COMMENT ON COLUMN cadence.scheduled_actions.replied_at IS
	'First reply to this message (an auto-reply does not count); opened_at, clicked_at, delivered_at and bounced_at alike come from provider webhooks';
COMMENT ON COLUMN cadence.scheduled_actions.rendered IS
	'What was sent: recipient, subject, text, provider account and kind, the AI rewrite if any; never credentials';
-- The dispatcher's hot path: due work across all tenants, oldest first.
CREATE INDEX scheduled_actions_due_idx ON cadence.scheduled_actions (due_at)
	WHERE status = 'scheduled';
-- Leases that ran out (a runner died mid-batch), and what each provider
-- account has in flight (its concurrency limit).
CREATE INDEX scheduled_actions_lease_idx ON cadence.scheduled_actions (lease_until)
	WHERE status = 'sending';
CREATE INDEX scheduled_actions_inflight_idx
	ON cadence.scheduled_actions (tenant_id, provider_id)
	WHERE status = 'sending';
-- What a webhook names: our idempotency key (the id of an action sent),
-- or the provider's message id.  Partial, so that planning writes no entry
-- here.
CREATE INDEX scheduled_actions_sent_id_idx ON cadence.scheduled_actions (id)
	WHERE status = 'sent';
CREATE INDEX scheduled_actions_provider_msg_idx
	ON cadence.scheduled_actions (provider_message_id)
	WHERE provider_message_id IS NOT NULL;

CREATE FUNCTION cadence.delete_run_actions() RETURNS trigger
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	DELETE FROM cadence.scheduled_actions a
	 USING gone g
	 WHERE a.tenant_id = g.tenant_id AND a.run_id = g.id;
	RETURN NULL;
END
$$;
CREATE TRIGGER runs_delete_actions AFTER DELETE ON cadence.runs
	REFERENCING OLD TABLE AS gone
	FOR EACH STATEMENT EXECUTE FUNCTION cadence.delete_run_actions();

CREATE TABLE cadence.events (
	tenant_id			text COLLATE "C" NOT NULL,
	id					bigint GENERATED ALWAYS AS IDENTITY,
	run_id				bigint,
	scheduled_action_id	bigint,
	cadence_id			text COLLATE "C",
	lead_id				text COLLATE "C",
	type				text NOT NULL
						CHECK (type IN (
							'cadence.created', 'cadence.updated', 'cadence.versioned',
							'cadence.activated', 'cadence.deactivated',
							'cadence.deleted', 'cadence.duplicated',
							'cadence.variant_winner',
							'run.enrolled', 'run.paused', 'run.resumed',
							'run.cancelled', 'run.completed', 'run.exited',
							'run.skipped_to', 'run.branched', 'run.failed',
							'action.rescheduled', 'action.sending', 'action.sent',
							'action.retry', 'action.failed', 'action.skipped',
							'action.pending_manual', 'action.completed',
							'action.executed', 'action.cancelled',
							'action.engagement',
							'lead.replied', 'lead.opted_out', 'lead.opted_in',
							'lead.help', 'lead.meeting_booked', 'lead.assigned',
							'lead.stage_changed', 'lead.updated',
							'user.notified')),
	payload				jsonb NOT NULL DEFAULT '{}',
	created_at			timestamptz NOT NULL DEFAULT now(),
	PRIMARY KEY (tenant_id, id)
);
COMMENT ON TABLE cadence.events IS
	'Append-only audit log of everything that happened to a cadence, run or scheduled action, with a JSON payload';
CREATE INDEX events_run_idx ON cadence.events (tenant_id, run_id, id);

CREATE TABLE cadence.tasks (
	tenant_id			text COLLATE "C" NOT NULL,
	id					bigint GENERATED ALWAYS AS IDENTITY,
	run_id				bigint NOT NULL,
	scheduled_action_id	bigint NOT NULL,
	lead_id				text COLLATE "C" NOT NULL,
	assignee_id			text COLLATE "C",
	type				text NOT NULL
						CHECK (type IN ('call', 'manual_task', 'manual_email',
										'linkedin')),
	title				text NOT NULL,
	description			text,
	due_at				timestamptz NOT NULL,
	status				text NOT NULL DEFAULT 'open'
						CHECK (status IN ('open', 'completed', 'skipped', 'cancelled')),
	outcome				text,
	notes				text,
	created_at			timestamptz NOT NULL DEFAULT now(),
	completed_at		timestamptz,
	PRIMARY KEY (tenant_id, id),
	UNIQUE (tenant_id, scheduled_action_id),
	FOREIGN KEY (tenant_id, run_id)
		REFERENCES cadence.runs (tenant_id, id) ON DELETE CASCADE,
	FOREIGN KEY (tenant_id, run_id, scheduled_action_id)
		REFERENCES cadence.scheduled_actions (tenant_id, run_id, id) ON DELETE CASCADE
);
COMMENT ON TABLE cadence.tasks IS
	'Manual work (calls, hand-written emails, LinkedIn touches) waiting for a person, for the assignee''s task list';
CREATE INDEX tasks_assignee_idx ON cadence.tasks (tenant_id, assignee_id, status, due_at);
-- Provider accounts.  Credentials are readable only by the extension owner
-- and the dispatcher's role; grant_access() leaves that column out.

CREATE TABLE cadence.providers (
	tenant_id			text COLLATE "C" NOT NULL,
	id					text COLLATE "C" NOT NULL DEFAULT gen_random_uuid()::text,
	channel				text NOT NULL
						CHECK (channel IN ('sms', 'email', 'whatsapp', 'webhook', 'ai',
										   'calendar')),
	kind				text NOT NULL
						CHECK (kind IN ('twilio', 'resend', 'sendgrid', 'postmark',
										'smtp', 'whatsapp_cloud', 'webhook',
										'anthropic', 'calendly')),
	base_url			text NOT NULL,
	credentials			jsonb NOT NULL DEFAULT '{}'
						CHECK (jsonb_typeof(credentials) = 'object'),
	settings			jsonb NOT NULL DEFAULT '{}'
						CHECK (jsonb_typeof(settings) = 'object'),
	rate_per_second		numeric CHECK (rate_per_second > 0),
	max_concurrency		integer CHECK (max_concurrency > 0),
	is_default			boolean NOT NULL DEFAULT false,
	created_at			timestamptz NOT NULL DEFAULT now(),
	PRIMARY KEY (tenant_id, id)
);
COMMENT ON TABLE cadence.providers IS
	'Per-tenant provider accounts per channel: kind, base URL, credentials (hidden from ordinary roles), rate and concurrency limits';
COMMENT ON COLUMN cadence.providers.credentials IS
	'API keys and secrets, and the secrets that sign the provider''s webhooks (authToken, webhookSecret, appSecret, signingKey); never granted to application roles, never copied into events or views';
CREATE UNIQUE INDEX providers_one_default_per_channel
	ON cadence.providers (tenant_id, channel) WHERE is_default;
-- Message templates a step names by templateId (seed 003) instead of
-- carrying its own subject and body.

CREATE TABLE cadence.templates (
	tenant_id	text COLLATE "C" NOT NULL,
	id			text COLLATE "C" NOT NULL DEFAULT gen_random_uuid()::text,
	name		text NOT NULL CHECK (name <> ''),
	channel		text NOT NULL DEFAULT 'email'
				CHECK (channel IN ('email', 'sms', 'whatsapp')),
	subject		text,
	body_html	text,
	body_text	text,
	created_at	timestamptz NOT NULL DEFAULT now(),
	updated_at	timestamptz NOT NULL DEFAULT now(),
	PRIMARY KEY (tenant_id, id),
	CHECK (body_html IS NOT NULL OR body_text IS NOT NULL)
);
COMMENT ON TABLE cadence.templates IS
	'Reusable message content ({{variable}} placeholders) that steps reference by templateId; the step''s own subject or body, when given, wins';
-- What the runners share to keep limits across runners: the next free send
-- slot of each rate-limited provider account, and how many messages each
-- cadence has sent on each local day (settings.maxContactsPerDay).  Rows
-- are locked while a runner claims, so concurrent runners take turns.

CREATE TABLE cadence.provider_slots (
	tenant_id		text COLLATE "C" NOT NULL,
	provider_id		text COLLATE "C" NOT NULL,
	next_slot_at	timestamptz NOT NULL,
	PRIMARY KEY (tenant_id, provider_id),
	FOREIGN KEY (tenant_id, provider_id)
		REFERENCES cadence.providers (tenant_id, id) ON DELETE CASCADE
);
COMMENT ON TABLE cadence.provider_slots IS
	'Requests-per-second limit of a provider account: the earliest instant its next request may start, shared by every runner';

CREATE TABLE cadence.daily_sends (
	tenant_id	text COLLATE "C" NOT NULL,
	cadence_id	text COLLATE "C" NOT NULL,
	day			date NOT NULL,
	sent		integer NOT NULL DEFAULT 0 CHECK (sent >= 0),
	PRIMARY KEY (tenant_id, cadence_id, day),
	FOREIGN KEY (tenant_id, cadence_id)
		REFERENCES cadence.cadences (tenant_id, id) ON DELETE CASCADE
);
COMMENT ON TABLE cadence.daily_sends IS
	'Messages a cadence has handed to providers on each local day of its time zone, against settings.maxContactsPerDay';
-- What comes back: provider webhooks and app events already applied (so a
-- redelivery is recognised), the per-step counters the statistics read,
-- and the A/B variants declared winners.

CREATE TABLE cadence.inbound_events (
	tenant_id	text COLLATE "C" NOT NULL,
	source		text COLLATE "C" NOT NULL,
	event_key	text COLLATE "C" NOT NULL,
	kind		text NOT NULL,
	received_at	timestamptz NOT NULL DEFAULT now(),
	PRIMARY KEY (tenant_id, source, event_key)
);
COMMENT ON TABLE cadence.inbound_events IS
	'Webhook deliveries and app events applied, by the sender''s own event id (sg_event_id, svix-id, MessageSid and status, ...): a redelivery is recognised and applied once';

-- One row per cadence step and A/B variant ('' without one), kept by the
-- runners (sent, failed, skipped) and by ingest_webhook (the rest) in the
-- transactions that change the actions, so that sequence_stats() reads a
-- few rows however many actions there are.  Every counter counts actions,
-- each at most once (a second open of a message is not a second open).
CREATE TABLE cadence.step_stats (
	tenant_id	text COLLATE "C" NOT NULL,
	cadence_id	text COLLATE "C" NOT NULL,
	step_number	integer NOT NULL,
	variant		text COLLATE "C" NOT NULL DEFAULT '',
	sent		bigint NOT NULL DEFAULT 0,
	failed		bigint NOT NULL DEFAULT 0,
	skipped		bigint NOT NULL DEFAULT 0,
	delivered	bigint NOT NULL DEFAULT 0,
	opened		bigint NOT NULL DEFAULT 0,
	clicked		bigint NOT NULL DEFAULT 0,
	replied		bigint NOT NULL DEFAULT 0,
	bounced		bigint NOT NULL DEFAULT 0,
	PRIMARY KEY (tenant_id, cadence_id, step_number, variant),
	FOREIGN KEY (tenant_id, cadence_id)
		REFERENCES cadence.cadences (tenant_id, id) ON DELETE CASCADE
);
COMMENT ON TABLE cadence.step_stats IS
	'Per cadence step and A/B variant: actions sent, failed, skipped, and of those sent how many were delivered, opened, clicked, replied to, bounced';

CREATE TABLE cadence.variant_winners (
	tenant_id	text COLLATE "C" NOT NULL,
	cadence_id	text COLLATE "C" NOT NULL,
	action_id	text COLLATE "C" NOT NULL,
	variant		text COLLATE "C" NOT NULL,
	declared_at	timestamptz NOT NULL DEFAULT now(),
	declared_by	text COLLATE "C",
	PRIMARY KEY (tenant_id, cadence_id, action_id),
	FOREIGN KEY (tenant_id, cadence_id)
		REFERENCES cadence.cadences (tenant_id, id) ON DELETE CASCADE
);
COMMENT ON TABLE cadence.variant_winners IS
	'The A/B variant declared the winner of a step: runs enrolled from declared_at on get it, runs already under way keep theirs';
-- Row-level security: a session sees only its tenant's rows, and only a
-- tenant's owners and admins, or the cadence's own owner, may change a
-- cadence.  Policies call the identity functions through a sub-select so
-- they are evaluated once per statement, not once per row.

CREATE FUNCTION cadence.can_write_cadence(p_tenant_id text, p_owner_id text)
RETURNS boolean
LANGUAGE sql STABLE
AS $$
	SELECT (SELECT rolsuper OR rolbypassrls FROM pg_catalog.pg_roles
			 WHERE rolname = current_user)
		OR (p_tenant_id = cadence.current_tenant()
			AND (cadence.current_member_role() IN ('owner', 'admin')
				 OR (cadence.current_member_role() IS NOT NULL
					 AND p_owner_id = cadence.current_user_id())))
$$;
COMMENT ON FUNCTION cadence.can_write_cadence(text, text) IS
	'True when the caller may change a cadence of this tenant owned by this user: tenant owner or admin, the cadence''s owner, or a role that bypasses row-level security (a DBA, Supabase''s service_role)';

ALTER TABLE cadence.members ENABLE ROW LEVEL SECURITY;
CREATE POLICY members_read ON cadence.members FOR SELECT
	USING (tenant_id = (SELECT cadence.current_tenant()));
CREATE POLICY members_admin ON cadence.members FOR ALL
	USING (tenant_id = (SELECT cadence.current_tenant())
		   AND (SELECT cadence.current_member_role()) IN ('owner', 'admin'))
	WITH CHECK (tenant_id = (SELECT cadence.current_tenant())
				AND (SELECT cadence.current_member_role()) IN ('owner', 'admin'));

ALTER TABLE cadence.cadences ENABLE ROW LEVEL SECURITY;
CREATE POLICY cadences_read ON cadence.cadences FOR SELECT
	USING (tenant_id = (SELECT cadence.current_tenant()));
CREATE POLICY cadences_create ON cadence.cadences FOR INSERT
	WITH CHECK (cadence.can_write_cadence(tenant_id, owner_id));
CREATE POLICY cadences_change ON cadence.cadences FOR UPDATE
	USING (cadence.can_write_cadence(tenant_id, owner_id))
	WITH CHECK (cadence.can_write_cadence(tenant_id, owner_id));
CREATE POLICY cadences_remove ON cadence.cadences FOR DELETE
	USING (cadence.can_write_cadence(tenant_id, owner_id));

-- Days, actions and declared A/B winners follow the write rights of their
-- cadence.
DO $$
DECLARE
	t text;
BEGIN
	FOREACH t IN ARRAY ARRAY['cadence_days', 'cadence_actions', 'variant_winners'] LOOP
		EXECUTE format('ALTER TABLE cadence.%I ENABLE ROW LEVEL SECURITY', t);
		EXECUTE format($p$
			CREATE POLICY %1$s_read ON cadence.%1$I FOR SELECT
				USING (tenant_id = (SELECT cadence.current_tenant()))$p$, t);
		EXECUTE format($p$
			CREATE POLICY %1$s_write ON cadence.%1$I FOR ALL
				USING (EXISTS (SELECT 1 FROM cadence.cadences c
							   WHERE c.tenant_id = %1$I.tenant_id
								 AND c.id = %1$I.cadence_id
								 AND cadence.can_write_cadence(c.tenant_id, c.owner_id)))
				WITH CHECK (EXISTS (SELECT 1 FROM cadence.cadences c
									WHERE c.tenant_id = %1$I.tenant_id
									  AND c.id = %1$I.cadence_id
									  AND cadence.can_write_cadence(c.tenant_id, c.owner_id)))$p$, t);
	END LOOP;
END
$$;

-- Leads, templates, runs and their history, what came back, and the
-- runners' shared counters: any member of the tenant.
DO $$
DECLARE
	t text;
BEGIN
	FOREACH t IN ARRAY ARRAY['contacts', 'suppressions', 'holidays', 'templates',
							 'runs', 'scheduled_actions', 'events', 'tasks',
							 'provider_slots', 'daily_sends', 'inbound_events',
							 'step_stats'] LOOP
		EXECUTE format('ALTER TABLE cadence.%I ENABLE ROW LEVEL SECURITY', t);
		EXECUTE format($p$
			CREATE POLICY %1$s_tenant ON cadence.%1$I FOR ALL
				USING (tenant_id = (SELECT cadence.current_tenant()))
				WITH CHECK (tenant_id = (SELECT cadence.current_tenant()))$p$, t);
	END LOOP;
END
$$;

-- Provider accounts: readable by the tenant, changed by owners and admins.
ALTER TABLE cadence.providers ENABLE ROW LEVEL SECURITY;
CREATE POLICY providers_read ON cadence.providers FOR SELECT
	USING (tenant_id = (SELECT cadence.current_tenant()));
CREATE POLICY providers_admin ON cadence.providers FOR ALL
	USING (tenant_id = (SELECT cadence.current_tenant())
		   AND (SELECT cadence.current_member_role()) IN ('owner', 'admin'))
	WITH CHECK (tenant_id = (SELECT cadence.current_tenant())
				AND (SELECT cadence.current_member_role()) IN ('owner', 'admin'));
-- Scheduling math (src/schedule.c): when a cadence step is due.
--
-- STABLE, not IMMUTABLE: the answers follow the time zone database, which
-- an operating-system tzdata update changes under a running server, so an
-- index or generated column built on them could silently go stale.  Nothing
-- here reads tables, so every function is PARALLEL SAFE.  EXECUTE stays at
-- the default for functions: this is pure computation over its arguments.

CREATE FUNCTION cadence.calculate_next_step_due(
	prev		timestamptz,
	rule		jsonb,
	tz			text,
	settings	jsonb DEFAULT '{}')
RETURNS timestamptz
LANGUAGE C STRICT STABLE PARALLEL SAFE
AS 'MODULE_PATHNAME', 'cadence_calculate_next_step_due';
COMMENT ON FUNCTION cadence.calculate_next_step_due(timestamptz, jsonb, text, jsonb) IS
	'When a step with schedule rule rule (immediately, timeOfDay, afterPrevious, delay) is due after a step at prev, in IANA zone tz, moved into the business hours, weekends and holidays of settings; never earlier than prev';

CREATE FUNCTION cadence.explain_next_step_due(
	prev			timestamptz,
	rule			jsonb,
	tz				text,
	settings		jsonb DEFAULT '{}',
	OUT due_at		timestamptz,
	OUT moved_reason text)
RETURNS record
LANGUAGE C STRICT STABLE PARALLEL SAFE
AS 'MODULE_PATHNAME', 'cadence_explain_next_step_due';
COMMENT ON FUNCTION cadence.explain_next_step_due(timestamptz, jsonb, text, jsonb) IS
	'calculate_next_step_due with the first reason the due time moved from the rule''s own instant: weekend, holiday, outside_business_hours or dst_gap (NULL when it did not move)';

CREATE FUNCTION cadence.validate_schedule_rule(rule jsonb, path text DEFAULT 'scheduleRule')
RETURNS void
LANGUAGE C IMMUTABLE PARALLEL SAFE
AS 'MODULE_PATHNAME', 'cadence_validate_schedule_rule';
COMMENT ON FUNCTION cadence.validate_schedule_rule(jsonb, text) IS
	'Raise 22023 when rule is not a valid schedule rule; the message names path, e.g. invalid days[0].actions[1].scheduleRule.timeOfDay: "25:00"';

CREATE FUNCTION cadence.validate_settings(settings jsonb, path text DEFAULT 'settings')
RETURNS void
LANGUAGE C IMMUTABLE PARALLEL SAFE
AS 'MODULE_PATHNAME', 'cadence_validate_settings_sql';
COMMENT ON FUNCTION cadence.validate_settings(jsonb, text) IS
	'Raise 22023 when the scheduling keys of settings (businessHours, excludeWeekends, holidays) are malformed or leave no weekday open; other keys are not checked';

CREATE FUNCTION cadence.is_valid_timezone(tz text)
RETURNS boolean
LANGUAGE C STRICT STABLE PARALLEL SAFE
AS 'MODULE_PATHNAME', 'cadence_is_valid_timezone';
COMMENT ON FUNCTION cadence.is_valid_timezone(text) IS
	'Whether cadence accepts tz as a time zone name (an IANA name such as America/New_York that PostgreSQL knows)';
-- The planner and the run state machine (src/planner.c, src/runstate.c).
-- All run as the caller, so row-level security applies to what they read
-- and write.

CREATE FUNCTION cadence.plan_runs(cadence_id text, lead_ids text[],
								  trigger_at timestamptz DEFAULT now(),
								  options jsonb DEFAULT '{}')
RETURNS TABLE (lead_id text, outcome text, run_id bigint, reason text)
LANGUAGE C VOLATILE
AS 'MODULE_PATHNAME', 'cadence_plan_runs';
COMMENT ON FUNCTION cadence.plan_runs(text, text[], timestamptz, jsonb) IS
	'Enroll a list of leads (an array, or ARRAY(SELECT ...)) in an active cadence in one call: one row per lead, enrolled, already_enrolled (with the live run) or refused (with why). options: assignedTo, metadata, startAtStep';

CREATE FUNCTION cadence.plan_run_for_lead(cadence_id text, lead_id text,
										  trigger_at timestamptz DEFAULT now(),
										  options jsonb DEFAULT '{}')
RETURNS bigint
LANGUAGE C VOLATILE
AS 'MODULE_PATHNAME', 'cadence_plan_run_for_lead';
COMMENT ON FUNCTION cadence.plan_run_for_lead(text, text, timestamptz, jsonb) IS
	'Enroll one lead in an active cadence and plan all its actions; returns the run id, the live run''s id when the lead is already enrolled';

CREATE FUNCTION cadence.preview_schedule(cadence_id text, lead_id text DEFAULT NULL,
										 as_of timestamptz DEFAULT now())
RETURNS TABLE (step_number integer, day_number integer, action_id text,
			   type text, due_at timestamptz, local_time timestamp,
			   timezone text, reason text)
LANGUAGE C STABLE
AS 'MODULE_PATHNAME', 'cadence_preview_schedule';
COMMENT ON FUNCTION cadence.preview_schedule(text, text, timestamptz) IS
	'The timeline a run of the cadence started at as_of would get (for the lead''s zone in recipient time), with the reason where a time moved; writes nothing';

CREATE FUNCTION cadence.advance_to_next_step(run_id bigint,
											 happened_at timestamptz DEFAULT now(),
											 outcome text DEFAULT NULL)
RETURNS jsonb
LANGUAGE C VOLATILE
AS 'MODULE_PATHNAME', 'cadence_advance_to_next_step';
COMMENT ON FUNCTION cadence.advance_to_next_step(bigint, timestamptz, text) IS
	'The run''s current step is done (at happened_at): re-plan what follows from then, or complete the run after its last step';

CREATE FUNCTION cadence.complete_manual_step(run_id bigint, step_number integer,
											 notes text DEFAULT NULL,
											 outcome text DEFAULT NULL,
											 completed_at timestamptz DEFAULT now())
RETURNS jsonb
LANGUAGE C VOLATILE
AS 'MODULE_PATHNAME', 'cadence_complete_manual_step';
COMMENT ON FUNCTION cadence.complete_manual_step(bigint, integer, text, text, timestamptz) IS
	'A person did the run''s current manual step (call, manual email, task): record notes and outcome and go on';

CREATE FUNCTION cadence.pause_run(run_id bigint, resume_at timestamptz DEFAULT NULL,
								  reason text DEFAULT NULL)
RETURNS jsonb
LANGUAGE C VOLATILE
AS 'MODULE_PATHNAME', 'cadence_pause_run';
COMMENT ON FUNCTION cadence.pause_run(bigint, timestamptz, text) IS
	'Pause an active run: nothing of it is dispatched until it resumes, by resume_run or, when resume_at is given, by a runner at that time';

CREATE FUNCTION cadence.resume_run(run_id bigint, resume_at timestamptz DEFAULT now())
RETURNS jsonb
LANGUAGE C VOLATILE
AS 'MODULE_PATHNAME', 'cadence_resume_run';
COMMENT ON FUNCTION cadence.resume_run(bigint, timestamptz) IS
	'Resume a paused run: what is left moves later by the time it was paused, into the cadence''s open windows';

CREATE FUNCTION cadence.cancel_run(run_id bigint, reason text DEFAULT NULL)
RETURNS jsonb
LANGUAGE C VOLATILE
AS 'MODULE_PATHNAME', 'cadence_cancel_run';
COMMENT ON FUNCTION cadence.cancel_run(bigint, text) IS
	'End a run; its open actions and tasks are cancelled';

CREATE FUNCTION cadence.exit_run(run_id bigint, status text, reason text DEFAULT NULL)
RETURNS jsonb
LANGUAGE C VOLATILE
AS 'MODULE_PATHNAME', 'cadence_exit_run';
COMMENT ON FUNCTION cadence.exit_run(bigint, text, text) IS
	'End an active or paused run with an outcome (replied, meeting_booked, bounced, unsubscribed, completed, failed, cancelled) and a reason; its open actions and tasks are cancelled';

CREATE FUNCTION cadence.skip_to_step(run_id bigint, step_number integer,
									 at timestamptz DEFAULT now())
RETURNS jsonb
LANGUAGE C VOLATILE
AS 'MODULE_PATHNAME', 'cadence_skip_to_step';
COMMENT ON FUNCTION cadence.skip_to_step(bigint, integer, timestamptz) IS
	'Skip a run forward: open steps before step_number are skipped, that step is due at the first open moment from at, the rest follow by their rules';
-- Validation of the cadence contract: seed 000's UpsertCadenceRequest and
-- seed 003's Create Sequence body.  upsert_cadence() passes every body
-- through validate_cadence_body() before it writes anything, so a bad body
-- writes nothing.  Each error names the JSON path of the offending field and
-- its value, under a SQLSTATE a client can act on:
--
--   22023 invalid_parameter_value   wrong JSON type, unknown field, unknown
--                                   action/step/trigger type, unknown time
--                                   zone, bad schedule rule, settings or URL
--   23502 not_null_violation        a required field is missing (or null)
--   23505 unique_violation          duplicate dayNumber, stepNumber, action
--                                   id or variant id
--   23514 check_violation           a value outside its range (dayNumber or
--                                   stepNumber below 1, empty name or id)
--   22003 numeric_value_out_of_range  an integer beyond 2147483647
--
-- Schedule rules and scheduling settings are checked by the C validators of
-- schema/60_schedule.sql, the same code that computes due times, so what is
-- accepted here is exactly what the planner can plan.
--
-- A JSON null is treated as an absent field everywhere: it satisfies no
-- required field and leaves an optional one at its default.

-- What a JSON value is, for error messages: 'string "one"', 'number 1.5',
-- 'an array'.  Long values are cut at 60 characters.
CREATE FUNCTION cadence.json_describe(v jsonb) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
	SELECT CASE pg_catalog.jsonb_typeof(v)
		WHEN 'object' THEN 'an object'
		WHEN 'array' THEN 'an array'
		WHEN 'null' THEN 'null'
		ELSE pg_catalog.jsonb_typeof(v) || ' ' ||
			 CASE WHEN pg_catalog.length(v::text) > 60
				  THEN pg_catalog.left(v::text, 57) || '...'
				  ELSE v::text END
	END
$$;

-- The path of a member: 'key' at the top level, else 'parent.key'.
CREATE FUNCTION cadence.json_path(parent text, key text) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
	SELECT CASE WHEN coalesce(parent, '') = '' THEN key ELSE parent || '.' || key END
$$;

-- {key: value}, or {} when value is NULL: builds objects whose optional
-- members are omitted rather than null.
CREATE FUNCTION cadence.json_opt(key text, value jsonb) RETURNS jsonb
LANGUAGE sql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
	SELECT CASE WHEN value IS NULL THEN '{}'::jsonb
				ELSE pg_catalog.jsonb_build_object(key, value) END
$$;

-- Raise 23502 for a missing required field.
CREATE FUNCTION cadence.raise_missing(path text, hint text DEFAULT NULL) RETURNS void
LANGUAGE plpgsql IMMUTABLE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	IF hint IS NULL THEN
		RAISE EXCEPTION 'missing required field %', path USING ERRCODE = '23502';
	END IF;
	RAISE EXCEPTION 'missing required field %', path USING ERRCODE = '23502', HINT = hint;
END
$$;

-- Raise 22023 unless v is of the expected JSON type: object, array,
-- string, boolean, number, or integer (a whole number that fits int4;
-- beyond that 22003).
CREATE FUNCTION cadence.expect_type(v jsonb, path text, expected text) RETURNS void
LANGUAGE plpgsql IMMUTABLE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	IF expected = 'integer' THEN
		IF jsonb_typeof(v) = 'number' AND v::numeric = trunc(v::numeric) THEN
			IF abs(v::numeric) > 2147483647 THEN
				RAISE EXCEPTION '% is out of range, got %', path, cadence.json_describe(v)
					USING ERRCODE = '22003',
						  HINT = 'Integers here go up to 2147483647.';
			END IF;
			RETURN;
		END IF;
	ELSIF jsonb_typeof(v) = expected THEN
		RETURN;
	END IF;
	RAISE EXCEPTION '% must be % %, got %', path,
		CASE WHEN expected IN ('integer', 'object', 'array') THEN 'an' ELSE 'a' END,
		expected, coalesce(cadence.json_describe(v), 'nothing')
		USING ERRCODE = '22023';
END
$$;

-- The member key of obj, checked to be of the expected type (see
-- expect_type); NULL when absent or JSON null, or 23502 when required.
CREATE FUNCTION cadence.json_field(obj jsonb, key text, path text, expected text,
								   required boolean DEFAULT false) RETURNS jsonb
LANGUAGE plpgsql IMMUTABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	v jsonb := obj -> key;
	full_path text := cadence.json_path(path, key);
BEGIN
	IF v IS NULL OR jsonb_typeof(v) = 'null' THEN
		IF required THEN
			PERFORM cadence.raise_missing(full_path);
		END IF;
		RETURN NULL;
	END IF;
	PERFORM cadence.expect_type(v, full_path, expected);
	RETURN v;
END
$$;

-- Raise 22023 for the first member of obj not in allowed, so that a
-- misspelt field ("timeZone") is an error instead of a silent default.
-- Members in ignored are accepted and have no effect (the read-only fields
-- get_cadence returns, so that its output can be sent back).
CREATE FUNCTION cadence.reject_unknown_keys(obj jsonb, allowed text[], path text,
											ignored text[] DEFAULT '{}') RETURNS void
LANGUAGE plpgsql IMMUTABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	bad text;
BEGIN
	SELECT k INTO bad
	  FROM jsonb_object_keys(obj) AS k
	 WHERE k <> ALL (allowed || ignored)
	 ORDER BY k
	 LIMIT 1;
	IF bad IS NOT NULL THEN
		RAISE EXCEPTION 'unknown field %', cadence.json_path(path, bad)
			USING ERRCODE = '22023',
				  HINT = 'Valid fields here: ' || array_to_string(allowed, ', ') || '.' ||
						 CASE WHEN cardinality(ignored) > 0
							  THEN ' Read-only, ignored: ' || array_to_string(ignored, ', ') || '.'
							  ELSE '' END;
	END IF;
END
$$;

-- seen with v appended, or 23505 when seen (a JSON array) already holds v:
-- 'duplicate dayNumber 1 at days[1].dayNumber'.
CREATE FUNCTION cadence.assert_unique(seen jsonb, v jsonb, label text, path text,
									  hint text DEFAULT NULL) RETURNS jsonb
LANGUAGE plpgsql IMMUTABLE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	IF seen @> jsonb_build_array(v) THEN
		IF hint IS NULL THEN
			RAISE EXCEPTION 'duplicate % % at %', label, v::text, path USING ERRCODE = '23505';
		END IF;
		RAISE EXCEPTION 'duplicate % % at %', label, v::text, path
			USING ERRCODE = '23505', HINT = hint;
	END IF;
	RETURN seen || jsonb_build_array(v);
END
$$;

-- The action types cadence can run, in the order error hints list them.
-- cadence.cadence_actions checks the same list.
CREATE FUNCTION cadence.action_types() RETURNS text[]
LANGUAGE sql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
	SELECT ARRAY['sms', 'email', 'whatsapp', 'call_task', 'manual_task',
				 'manual_email', 'linkedin_task', 'webhook', 'condition',
				 'lead_action']
$$;

-- The trigger {type, config}: type one of manual, lead_assigned,
-- inactivity, stage_changed, event; config an object.  For inactivity,
-- config.inactiveDays (when given) is a whole number of days, at least 1;
-- for lead_assigned, config.assignedTo (when given) is a user id string.
-- No trigger means manual enrollment only.  Returns the trigger as given.
CREATE FUNCTION cadence.validate_trigger(trigger jsonb, path text) RETURNS jsonb
LANGUAGE plpgsql IMMUTABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	kind text;
	config jsonb;
	config_path text := cadence.json_path(path, 'config');
BEGIN
	IF trigger IS NULL THEN
		RETURN '{"type": "manual", "config": {}}';
	END IF;
	PERFORM cadence.reject_unknown_keys(trigger, ARRAY['type', 'config'], path);
	kind := cadence.json_field(trigger, 'type', path, 'string', required => true) #>> '{}';
	IF kind NOT IN ('manual', 'lead_assigned', 'inactivity', 'stage_changed', 'event') THEN
		RAISE EXCEPTION 'unknown trigger type "%" at %', kind, cadence.json_path(path, 'type')
			USING ERRCODE = '22023',
				  HINT = 'Valid trigger types: manual, lead_assigned, inactivity, stage_changed, event.';
	END IF;
	config := coalesce(cadence.json_field(trigger, 'config', path, 'object'), '{}');
	IF kind = 'inactivity'
	   AND (cadence.json_field(config, 'inactiveDays', config_path, 'integer'))::int < 1 THEN
		RAISE EXCEPTION '%.inactiveDays must be at least 1, got %', config_path,
			config -> 'inactiveDays'
			USING ERRCODE = '23514';
	ELSIF kind = 'lead_assigned' THEN
		PERFORM cadence.json_field(config, 'assignedTo', config_path, 'string');
	END IF;
	RETURN trigger;
END
$$;

-- exitConditions: which outcomes end a run, each a boolean.  Returns them
-- as given ({} when absent: the runner's defaults apply).
CREATE FUNCTION cadence.validate_exit_conditions(conditions jsonb, path text) RETURNS jsonb
LANGUAGE plpgsql IMMUTABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	k text;
BEGIN
	IF conditions IS NULL THEN
		RETURN '{}';
	END IF;
	PERFORM cadence.reject_unknown_keys(conditions,
		ARRAY['onReply', 'onMeetingBooked', 'onBounce', 'onUnsubscribe', 'onAutoReply'],
		path);
	FOR k IN SELECT jsonb_object_keys(conditions) ORDER BY 1 LOOP
		PERFORM cadence.json_field(conditions, k, path, 'boolean');
	END LOOP;
	RETURN conditions;
END
$$;

-- The settings the runners read when they send (path is the settings'
-- path): quietHours {"sms": {"start": "21:00", "end": "08:00"} | null |
-- false, ...} per channel (sms, email, whatsapp); maxContactsPerDay, a
-- whole number of at least 1; timezoneMode cadence or recipient;
-- holidayCalendar, fromEmail and fromName, strings; and those read when
-- something comes back: pauseCompanyOnReply, a boolean, and
-- autoReplyPauseDays, 1 to 366.  Scheduling keys are checked by
-- validate_settings (C).
CREATE FUNCTION cadence.validate_send_settings(settings jsonb, path text) RETURNS void
LANGUAGE plpgsql IMMUTABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	quiet jsonb := cadence.json_field(settings, 'quietHours', path, 'object');
	quiet_path text := cadence.json_path(path, 'quietHours');
	channel text;
	hours jsonb;
	p text;
	mode text;
BEGIN
	FOR channel, hours IN SELECT * FROM jsonb_each(coalesce(quiet, '{}')) ORDER BY 1 LOOP
		p := cadence.json_path(quiet_path, channel);
		IF channel NOT IN ('sms', 'email', 'whatsapp') THEN
			RAISE EXCEPTION 'unknown channel "%" at %', channel, p
				USING ERRCODE = '22023', HINT = 'Quiet hours are set per channel: sms, email, whatsapp.';
		END IF;
		CONTINUE WHEN jsonb_typeof(hours) = 'null' OR hours = 'false';
		PERFORM cadence.expect_type(hours, p, 'object');
		PERFORM cadence.reject_unknown_keys(hours, ARRAY['start', 'end'], p);
		IF cadence.json_field(hours, 'start', p, 'string', required => true) #>> '{}' !~ '^([01][0-9]|2[0-3]):[0-5][0-9]$' THEN
			RAISE EXCEPTION 'invalid %.start: %', p, hours -> 'start'
				USING ERRCODE = '22023', DETAIL = 'A time is written "HH:mm", from "00:00" to "23:59".';
		END IF;
		IF cadence.json_field(hours, 'end', p, 'string', required => true) #>> '{}' !~ '^([01][0-9]|2[0-3]):[0-5][0-9]$' THEN
			RAISE EXCEPTION 'invalid %.end: %', p, hours -> 'end'
				USING ERRCODE = '22023', DETAIL = 'A time is written "HH:mm", from "00:00" to "23:59".';
		END IF;
	END LOOP;
	IF (cadence.json_field(settings, 'maxContactsPerDay', path, 'integer'))::int < 1 THEN
		RAISE EXCEPTION '%.maxContactsPerDay must be at least 1, got %', path,
			settings -> 'maxContactsPerDay'
			USING ERRCODE = '23514', HINT = 'Leave it out for no daily cap.';
	END IF;
	mode := cadence.json_field(settings, 'timezoneMode', path, 'string') #>> '{}';
	IF mode NOT IN ('cadence', 'recipient') THEN
		RAISE EXCEPTION 'invalid %.timezoneMode: "%"', path, mode
			USING ERRCODE = '22023',
				  HINT = 'Use "cadence" (the cadence''s zone) or "recipient" (the lead''s own zone).';
	END IF;
	PERFORM cadence.json_field(settings, 'holidayCalendar', path, 'string');
	PERFORM cadence.json_field(settings, 'fromEmail', path, 'string');
	PERFORM cadence.json_field(settings, 'fromName', path, 'string');
	PERFORM cadence.json_field(settings, 'pauseCompanyOnReply', path, 'boolean');
	IF (cadence.json_field(settings, 'autoReplyPauseDays', path, 'integer'))::int
	   NOT BETWEEN 1 AND 366 THEN
		RAISE EXCEPTION '%.autoReplyPauseDays must be between 1 and 366, got %', path,
			settings -> 'autoReplyPauseDays'
			USING ERRCODE = '23514';
	END IF;
END
$$;

-- What each action type needs in its config (path is the config's path):
--   sms          sms.body, or sms.templateId (a cadence.templates row)
--   email        email.subject and email.bodyHtml or email.bodyText,
--                or email.templateId
--   whatsapp     whatsapp.body, or whatsapp.template.name
--   webhook      webhook.url, an http or https URL
--   lead_action  leadAction, see validate_lead_action
-- Other types need nothing; their config is free-form.
CREATE FUNCTION cadence.validate_action_config(action_type text, config jsonb, path text)
RETURNS void
LANGUAGE plpgsql IMMUTABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	channel jsonb;
	channel_path text := cadence.json_path(path, action_type);
	url text;
BEGIN
	-- Any step may name its provider account; message steps may ask for an
	-- AI rewrite (true, or {"prompt", "providerId"}).
	PERFORM cadence.json_field(config, 'providerId', path, 'string');
	IF jsonb_typeof(config -> 'aiPersonalization') = 'object' THEN
		PERFORM cadence.reject_unknown_keys(config -> 'aiPersonalization',
			ARRAY['prompt', 'providerId'], cadence.json_path(path, 'aiPersonalization'));
		PERFORM cadence.json_field(config -> 'aiPersonalization', 'prompt',
								   cadence.json_path(path, 'aiPersonalization'), 'string');
		PERFORM cadence.json_field(config -> 'aiPersonalization', 'providerId',
								   cadence.json_path(path, 'aiPersonalization'), 'string');
	ELSIF config ? 'aiPersonalization' THEN
		PERFORM cadence.json_field(config, 'aiPersonalization', path, 'boolean');
	END IF;
	IF action_type = 'lead_action' THEN
		PERFORM cadence.validate_lead_action(
			cadence.json_field(config, 'leadAction', path, 'object', required => true),
			cadence.json_path(path, 'leadAction'));
	END IF;
	IF action_type NOT IN ('sms', 'email', 'whatsapp', 'webhook') THEN
		RETURN;
	END IF;
	channel := cadence.json_field(config, action_type, path, 'object', required => true);

	IF action_type = 'sms' THEN
		IF cadence.json_field(channel, 'templateId', channel_path, 'string') IS NULL THEN
			PERFORM cadence.json_field(channel, 'body', channel_path, 'string', required => true);
		END IF;

	ELSIF action_type = 'email' THEN
		IF cadence.json_field(channel, 'templateId', channel_path, 'string') IS NULL THEN
			IF cadence.json_field(channel, 'subject', channel_path, 'string') IS NULL THEN
				PERFORM cadence.raise_missing(cadence.json_path(channel_path, 'subject'),
					'An email action needs subject and bodyHtml or bodyText, or a templateId.');
			END IF;
			IF cadence.json_field(channel, 'bodyHtml', channel_path, 'string') IS NULL
			   AND cadence.json_field(channel, 'bodyText', channel_path, 'string') IS NULL THEN
				PERFORM cadence.raise_missing(cadence.json_path(channel_path, 'bodyHtml'),
					'An email action needs subject and bodyHtml or bodyText, or a templateId.');
			END IF;
		END IF;

	ELSIF action_type = 'whatsapp' THEN
		IF cadence.json_field(channel, 'body', channel_path, 'string') IS NULL THEN
			IF cadence.json_field(channel, 'template', channel_path, 'object') IS NULL THEN
				PERFORM cadence.raise_missing(cadence.json_path(channel_path, 'body'),
					'A WhatsApp action needs body, or template.name for an approved template.');
			END IF;
			PERFORM cadence.json_field(channel -> 'template', 'name',
				cadence.json_path(channel_path, 'template'), 'string', required => true);
		END IF;

	ELSE	-- webhook
		url := cadence.json_field(channel, 'url', channel_path, 'string', required => true) #>> '{}';
		IF url !~* '^https?://[^/?#[:space:]]+' THEN
			RAISE EXCEPTION '%.url must be an http or https URL, got "%"', channel_path, url
				USING ERRCODE = '22023';
		END IF;
	END IF;
END
$$;

-- One action of seed 000's shape, validated and normalised: id (default_id
-- when absent), type, name, scheduleRule, config ({} when absent),
-- variants, condition; optional members omitted when null, so the result
-- has exactly the shape get_cadence returns.  scheduleRule and config are
-- kept as given.
CREATE FUNCTION cadence.normalize_action(action jsonb, path text, default_id text)
RETURNS jsonb
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	action_id text;
	action_type text;
	action_name jsonb;
	rule jsonb;
	config jsonb;
	variants jsonb;
	condition jsonb;
BEGIN
	PERFORM cadence.expect_type(action, path, 'object');
	PERFORM cadence.reject_unknown_keys(action,
		ARRAY['id', 'type', 'name', 'scheduleRule', 'config', 'variants', 'condition'], path);

	action_id := coalesce(cadence.json_field(action, 'id', path, 'string') #>> '{}', default_id);
	IF action_id = '' THEN
		RAISE EXCEPTION '%.id must not be empty', path USING ERRCODE = '23514';
	END IF;

	action_type := cadence.json_field(action, 'type', path, 'string', required => true) #>> '{}';
	IF action_type <> ALL (cadence.action_types()) THEN
		RAISE EXCEPTION 'unknown action type "%" at %.type', action_type, path
			USING ERRCODE = '22023',
				  HINT = 'Valid types: ' || array_to_string(cadence.action_types(), ', ') || '.';
	END IF;

	action_name := cadence.json_field(action, 'name', path, 'string');

	rule := cadence.json_field(action, 'scheduleRule', path, 'object', required => true);
	PERFORM cadence.validate_schedule_rule(rule, cadence.json_path(path, 'scheduleRule'));

	-- With variants, what is sent is each variant laid over the config: the
	-- config itself may leave to them what they all set.
	config := coalesce(cadence.json_field(action, 'config', path, 'object'), '{}');
	variants := cadence.json_field(action, 'variants', path, 'array');
	IF variants IS NULL THEN
		PERFORM cadence.validate_action_config(action_type, config, cadence.json_path(path, 'config'));
	ELSE
		PERFORM cadence.validate_variants(variants, action_type, config,
										  cadence.json_path(path, 'variants'));
	END IF;

	condition := cadence.json_field(action, 'condition', path, 'object',
									required => action_type = 'condition');
	IF condition IS NOT NULL THEN
		PERFORM cadence.validate_condition(condition, action_type = 'condition',
										   cadence.json_path(path, 'condition'));
	END IF;

	RETURN jsonb_build_object('id', action_id, 'type', action_type,
							  'scheduleRule', rule, 'config', config)
		|| cadence.json_opt('name', action_name)
		|| cadence.json_opt('variants', variants)
		|| cadence.json_opt('condition', condition);
END
$$;

-- days[] of seed 000, validated and normalised: each day {dayNumber,
-- actions}; dayNumber a unique integer of at least 1; actions in the
-- order given, an action without an id getting 'd<day>-a<position>'; action
-- ids unique across the cadence.  Returns the days sorted by dayNumber.
-- A day may have no actions, and days may be empty (a draft).
CREATE FUNCTION cadence.normalize_days(days jsonb, path text) RETURNS jsonb
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	i int;
	j int;
	day jsonb;
	day_path text;
	day_number int;
	actions jsonb;
	action jsonb;
	out_actions jsonb;
	out_days jsonb := '[]';
	seen_days jsonb := '[]';
	seen_ids jsonb := '[]';
BEGIN
	FOR i IN 0 .. jsonb_array_length(days) - 1 LOOP
		day := days -> i;
		day_path := format('%s[%s]', path, i);
		PERFORM cadence.expect_type(day, day_path, 'object');
		PERFORM cadence.reject_unknown_keys(day, ARRAY['dayNumber', 'actions'], day_path);

		day_number := (cadence.json_field(day, 'dayNumber', day_path, 'integer', required => true))::int;
		IF day_number < 1 THEN
			RAISE EXCEPTION '%.dayNumber must be at least 1, got %', day_path, day_number
				USING ERRCODE = '23514', HINT = 'Day 1 is the day a lead is enrolled.';
		END IF;
		seen_days := cadence.assert_unique(seen_days, to_jsonb(day_number), 'dayNumber',
										   day_path || '.dayNumber');

		actions := coalesce(cadence.json_field(day, 'actions', day_path, 'array'), '[]');
		out_actions := '[]';
		FOR j IN 0 .. jsonb_array_length(actions) - 1 LOOP
			action := cadence.normalize_action(actions -> j,
				format('%s.actions[%s]', day_path, j), format('d%s-a%s', day_number, j + 1));
			seen_ids := cadence.assert_unique(seen_ids, action -> 'id', 'action id',
				format('%s.actions[%s].id', day_path, j),
				'Action ids are unique within a cadence; an action without one gets d<dayNumber>-a<position>.');
			out_actions := out_actions || jsonb_build_array(action);
		END LOOP;
		out_days := out_days || jsonb_build_array(
			jsonb_build_object('dayNumber', day_number, 'actions', out_actions));
	END LOOP;

	RETURN (SELECT coalesce(jsonb_agg(d ORDER BY (d ->> 'dayNumber')::int), '[]')
			  FROM jsonb_array_elements(out_days) AS d);
END
$$;

-- Seed 003's steps[] (a linear sequence) as seed 000's days[]:
--
--   steps[] sorted by stepNumber    the actions of day 1, in that order
--     (integer >= 1, unique)        (no steps: no days)
--   id                              action id, default 'step-<stepNumber>'
--   type auto_email                 email
--        manual_email               manual_email
--        call                       call_task
--        linkedin                   linkedin_task
--        task                       manual_task
--   name                            name
--   delayDays, delayHours, sendAt   scheduleRule {"kind": "delay",
--                                     "days": delayDays (default 0),
--                                     "hours": delayHours (default 0),
--                                     "businessDays": settings.excludeWeekends
--                                                     (default false),
--                                     "sendAt": sendAt (only when given)}
--                                   the delay counts from the previous step
--   templateId, subject, body       email steps: config.email.templateId,
--                                     .subject, .bodyHtml
--                                   other steps: config.task.templateId,
--                                     .subject, .body
--   taskDescription                 config.task.description
--   variants                        variants
--
-- An auto_email step needs templateId, or subject and body.  The body's
-- other fields (settings, exitConditions, channel, ...) are read by
-- validate_cadence_body as for days[].  Errors name the step's own fields
-- (steps[2].delayDays, steps[2].sendAt).
CREATE FUNCTION cadence.steps_to_days(steps jsonb, settings jsonb) RETURNS jsonb
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	i int;
	step jsonb;
	p text;
	step_number int;
	step_type text;
	action_type text;
	delay_days int;
	delay_hours int;
	send_at jsonb;
	rule jsonb;
	content jsonb;
	task jsonb;
	is_email boolean;
	action jsonb;
	numbered jsonb := '[]';
	seen_steps jsonb := '[]';
	seen_ids jsonb := '[]';
BEGIN
	FOR i IN 0 .. jsonb_array_length(steps) - 1 LOOP
		step := steps -> i;
		p := format('steps[%s]', i);
		PERFORM cadence.expect_type(step, p, 'object');
		PERFORM cadence.reject_unknown_keys(step,
			ARRAY['id', 'stepNumber', 'type', 'name', 'templateId', 'subject', 'body',
				  'delayDays', 'delayHours', 'sendAt', 'taskDescription', 'variants'], p);

		step_number := (cadence.json_field(step, 'stepNumber', p, 'integer', required => true))::int;
		IF step_number < 1 THEN
			RAISE EXCEPTION '%.stepNumber must be at least 1, got %', p, step_number
				USING ERRCODE = '23514';
		END IF;
		seen_steps := cadence.assert_unique(seen_steps, to_jsonb(step_number), 'stepNumber',
											p || '.stepNumber');

		step_type := cadence.json_field(step, 'type', p, 'string', required => true) #>> '{}';
		action_type := CASE step_type
			WHEN 'auto_email' THEN 'email'
			WHEN 'manual_email' THEN 'manual_email'
			WHEN 'call' THEN 'call_task'
			WHEN 'linkedin' THEN 'linkedin_task'
			WHEN 'task' THEN 'manual_task'
		END;
		IF action_type IS NULL THEN
			RAISE EXCEPTION 'unknown step type "%" at %.type', step_type, p
				USING ERRCODE = '22023',
					  HINT = 'Valid step types: auto_email, manual_email, call, linkedin, task.';
		END IF;
		is_email := step_type IN ('auto_email', 'manual_email');

		-- The delay, checked here so that errors name delayDays/delayHours.
		delay_days := coalesce(cadence.json_field(step, 'delayDays', p, 'integer'), '0')::int;
		delay_hours := coalesce(cadence.json_field(step, 'delayHours', p, 'integer'), '0')::int;
		IF delay_days < 0 OR delay_hours < 0 THEN
			RAISE EXCEPTION 'invalid %.%: %', p,
				CASE WHEN delay_days < 0 THEN 'delayDays' ELSE 'delayHours' END,
				least(delay_days, delay_hours)
				USING ERRCODE = '22023', DETAIL = 'A delay is a whole number, 0 or more.';
		END IF;
		send_at := cadence.json_field(step, 'sendAt', p, 'string');
		rule := jsonb_build_object('kind', 'delay', 'days', delay_days, 'hours', delay_hours,
								   'businessDays', coalesce(settings -> 'excludeWeekends', 'false'))
			|| cadence.json_opt('sendAt', send_at);
		-- Validated under the step's path: errors read steps[i].sendAt.
		PERFORM cadence.validate_schedule_rule(rule, p);

		IF step_type = 'auto_email'
		   AND cadence.json_field(step, 'templateId', p, 'string') IS NULL THEN
			IF cadence.json_field(step, 'subject', p, 'string') IS NULL THEN
				PERFORM cadence.raise_missing(p || '.templateId',
					'An auto_email step needs templateId, or subject and body.');
			END IF;
			IF cadence.json_field(step, 'body', p, 'string') IS NULL THEN
				PERFORM cadence.raise_missing(p || '.body',
					'An auto_email step needs templateId, or subject and body.');
			END IF;
		END IF;

		content := cadence.json_opt('templateId', cadence.json_field(step, 'templateId', p, 'string'))
			|| cadence.json_opt('subject', cadence.json_field(step, 'subject', p, 'string'))
			|| cadence.json_opt(CASE WHEN is_email THEN 'bodyHtml' ELSE 'body' END,
								cadence.json_field(step, 'body', p, 'string'));
		task := cadence.json_opt('description',
								 cadence.json_field(step, 'taskDescription', p, 'string'));
		IF NOT is_email THEN
			task := content || task;
			content := '{}';
		END IF;

		action := cadence.normalize_action(
			jsonb_build_object('type', action_type, 'scheduleRule', rule,
							   'config', cadence.json_opt('email', nullif(content, '{}'))
										 || cadence.json_opt('task', nullif(task, '{}')))
				|| cadence.json_opt('id', step -> 'id')
				|| cadence.json_opt('name', step -> 'name')
				|| cadence.json_opt('variants', step -> 'variants'),
			p, 'step-' || step_number);
		seen_ids := cadence.assert_unique(seen_ids, action -> 'id', 'action id', p || '.id');
		numbered := numbered || jsonb_build_array(
			jsonb_build_object('stepNumber', step_number, 'action', action));
	END LOOP;

	IF jsonb_array_length(numbered) = 0 THEN
		RETURN '[]';
	END IF;
	RETURN jsonb_build_array(jsonb_build_object('dayNumber', 1, 'actions',
		(SELECT jsonb_agg(n -> 'action' ORDER BY (n ->> 'stepNumber')::int)
		   FROM jsonb_array_elements(numbered) AS n)));
END
$$;

-- A cadence body (seed 000's UpsertCadenceRequest, or seed 003's Create
-- Sequence body with steps[] instead of days[]), validated through and
-- through and normalised to:
--   {id?, name, description?, isActive?, timezone, trigger, settings,
--    exitConditions, days}
-- with days in get_cadence's shape.  Nothing is looked up but time zones,
-- so the result depends on the body alone.
--
--   id              optional non-empty string (absent: upsert generates one)
--   name            required non-empty string
--   description     optional string
--   isActive        optional boolean (absent: status unchanged)
--   timezone        optional IANA zone; else settings.timezone; else UTC
--                   (both given: they must agree)
--   trigger         optional {type, config}, see validate_trigger
--   settings        optional object, checked by validate_settings (C)
--   channel         optional email, linkedin or multi (seed 003), kept as
--                   settings.channel
--   exitConditions  optional object of booleans
--   days | steps    exactly one of them (days may be empty)
--   status, version, ownerId, createdAt, updatedAt
--                   read-only: accepted so that get_cadence's output can be
--                   sent back, and ignored
CREATE FUNCTION cadence.validate_cadence_body(body jsonb) RETURNS jsonb
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	v_id jsonb;
	v_name jsonb;
	v_description jsonb;
	v_is_active jsonb;
	v_settings jsonb;
	v_channel text;
	v_zone jsonb;
	v_settings_zone jsonb;
	v_zone_path text;
	v_trigger jsonb;
	v_exit jsonb;
	v_days jsonb;
BEGIN
	IF jsonb_typeof(body) IS DISTINCT FROM 'object' THEN
		RAISE EXCEPTION 'a cadence must be a JSON object, got %',
			coalesce(cadence.json_describe(body), 'nothing')
			USING ERRCODE = '22023';
	END IF;
	PERFORM cadence.reject_unknown_keys(body,
		ARRAY['id', 'name', 'description', 'isActive', 'timezone', 'trigger', 'settings',
			  'channel', 'exitConditions', 'days', 'steps'],
		'', ARRAY['status', 'version', 'ownerId', 'createdAt', 'updatedAt']);

	v_id := cadence.json_field(body, 'id', '', 'string');
	IF v_id #>> '{}' = '' THEN
		RAISE EXCEPTION 'id must not be empty' USING ERRCODE = '23514',
			HINT = 'Leave id out to have one generated.';
	END IF;

	v_name := cadence.json_field(body, 'name', '', 'string', required => true);
	IF btrim(v_name #>> '{}') = '' THEN
		RAISE EXCEPTION 'name must not be empty' USING ERRCODE = '23514';
	END IF;

	v_description := cadence.json_field(body, 'description', '', 'string');
	v_is_active := cadence.json_field(body, 'isActive', '', 'boolean');

	v_settings := coalesce(cadence.json_field(body, 'settings', '', 'object'), '{}');
	PERFORM cadence.validate_settings(v_settings, 'settings');
	PERFORM cadence.validate_send_settings(v_settings, 'settings');
	v_channel := cadence.json_field(body, 'channel', '', 'string') #>> '{}';
	IF v_channel NOT IN ('email', 'linkedin', 'multi') THEN
		RAISE EXCEPTION 'unknown channel "%" at channel', v_channel
			USING ERRCODE = '22023', HINT = 'Valid channels: email, linkedin, multi.';
	END IF;
	v_settings := v_settings || cadence.json_opt('channel', to_jsonb(v_channel));

	v_zone := cadence.json_field(body, 'timezone', '', 'string');
	v_settings_zone := cadence.json_field(v_settings, 'timezone', 'settings', 'string');
	IF v_zone <> v_settings_zone THEN
		RAISE EXCEPTION 'timezone % disagrees with settings.timezone %', v_zone, v_settings_zone
			USING ERRCODE = '22023',
				  HINT = 'Give the time zone once, or the same in both places.';
	END IF;
	v_zone_path := CASE WHEN v_zone IS NULL AND v_settings_zone IS NOT NULL
						THEN 'settings.timezone' ELSE 'timezone' END;
	v_zone := coalesce(v_zone, v_settings_zone, '"UTC"');
	IF NOT cadence.is_valid_timezone(v_zone #>> '{}') THEN
		RAISE EXCEPTION 'unknown time zone % at %', v_zone, v_zone_path
			USING ERRCODE = '22023',
				  HINT = 'Use an IANA time zone name such as America/New_York or UTC.';
	END IF;

	v_trigger := cadence.validate_trigger(
		cadence.json_field(body, 'trigger', '', 'object'), 'trigger');
	v_exit := cadence.validate_exit_conditions(
		cadence.json_field(body, 'exitConditions', '', 'object'), 'exitConditions');

	IF cadence.json_field(body, 'steps', '', 'array') IS NOT NULL THEN
		IF cadence.json_field(body, 'days', '', 'array') IS NOT NULL THEN
			RAISE EXCEPTION 'a cadence has days or steps, not both'
				USING ERRCODE = '22023',
					  HINT = 'steps (seed 003) become the actions of day 1.';
		END IF;
		v_days := cadence.steps_to_days(body -> 'steps', v_settings);
	ELSE
		v_days := cadence.normalize_days(
			cadence.json_field(body, 'days', '', 'array', required => true), 'days');
	END IF;
	PERFORM cadence.validate_step_references(v_days);

	RETURN jsonb_build_object('name', v_name, 'timezone', v_zone, 'trigger', v_trigger,
							  'settings', v_settings, 'exitConditions', v_exit,
							  'days', v_days)
		|| cadence.json_opt('id', v_id)
		|| cadence.json_opt('description', v_description)
		|| cadence.json_opt('isActive', v_is_active);
END
$$;
COMMENT ON FUNCTION cadence.validate_cadence_body(jsonb) IS
	'Validate a cadence body (seed 000 days[] or seed 003 steps[]) and return it normalised; every error names the JSON path and value under a real SQLSTATE';
-- Validation of what steps may carry beyond a schedule and a message: A/B
-- variants, conditions and their branches, and lead actions (seed 004).
-- Called by normalize_action and validate_cadence_body
-- (schema/65_validate.sql), with the same kind of errors: the JSON path,
-- the bad value, a real SQLSTATE.

-- variants: A/B variants of a message step (sms, email, whatsapp), an array
-- of at least two objects, each with a unique string id (recorded on the
-- scheduled action that used it), an optional non-negative weight and name;
-- its other members are laid over the step's config (see variant_config),
-- and the config each variant sends must itself be valid.
CREATE FUNCTION cadence.validate_variants(variants jsonb, action_type text, config jsonb,
										  path text)
RETURNS void
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	i int;
	p text;
	seen jsonb := '[]';
BEGIN
	IF action_type NOT IN ('sms', 'email', 'whatsapp') THEN
		RAISE EXCEPTION '% are for message steps, not %', path, action_type
			USING ERRCODE = '22023', HINT = 'A/B variants go on sms, email and whatsapp steps.';
	END IF;
	IF jsonb_array_length(variants) < 2 THEN
		RAISE EXCEPTION '% needs at least two variants, got %', path, jsonb_array_length(variants)
			USING ERRCODE = '23514';
	END IF;
	FOR i IN 0 .. jsonb_array_length(variants) - 1 LOOP
		p := format('%s[%s]', path, i);
		PERFORM cadence.expect_type(variants -> i, p, 'object');
		seen := cadence.assert_unique(seen,
			cadence.json_field(variants -> i, 'id', p, 'string', required => true),
			'variant id', cadence.json_path(p, 'id'));
		IF (cadence.json_field(variants -> i, 'weight', p, 'number'))::numeric < 0 THEN
			RAISE EXCEPTION '%.weight must not be negative, got %', p, variants -> i -> 'weight'
				USING ERRCODE = '23514';
		END IF;
		PERFORM cadence.json_field(variants -> i, 'name', p, 'string');
		IF variants -> i ? action_type THEN
			PERFORM cadence.json_field(variants -> i, action_type, p, 'object');
		END IF;
		PERFORM cadence.validate_action_config(action_type,
			cadence.variant_config(config, action_type, variants -> i), p);
	END LOOP;
END
$$;

-- A branch of a condition step (path is its path):
--   {"action": "continue"}                      the next step, as planned
--   {"action": "jump", "toStep": "a7" | 7}      forward to that step (an
--                                                action id or step number)
--   {"action": "stop", "status"?, "reason"?}    end the run: completed
--                                                (default), replied,
--                                                meeting_booked, bounced,
--                                                unsubscribed or cancelled
CREATE FUNCTION cadence.validate_branch(branch jsonb, path text) RETURNS void
LANGUAGE plpgsql IMMUTABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	v_action text;
	v_to jsonb;
	v_status text;
BEGIN
	PERFORM cadence.expect_type(branch, path, 'object');
	PERFORM cadence.reject_unknown_keys(branch, ARRAY['action', 'toStep', 'status', 'reason'], path);
	v_action := cadence.json_field(branch, 'action', path, 'string', required => true) #>> '{}';
	IF v_action NOT IN ('continue', 'jump', 'stop') THEN
		RAISE EXCEPTION 'unknown branch action "%" at %.action', v_action, path
			USING ERRCODE = '22023', HINT = 'A branch continues, jumps (toStep) or stops (status).';
	END IF;
	IF v_action = 'jump' THEN
		v_to := branch -> 'toStep';
		IF v_to IS NULL OR jsonb_typeof(v_to) = 'null' THEN
			PERFORM cadence.raise_missing(cadence.json_path(path, 'toStep'),
				'A jump names the step it goes to, by action id or step number.');
		END IF;
		IF jsonb_typeof(v_to) = 'string' THEN
			RETURN;
		END IF;
		PERFORM cadence.expect_type(v_to, cadence.json_path(path, 'toStep'), 'integer');
	ELSIF branch ? 'toStep' THEN
		RAISE EXCEPTION '%.toStep is for a jump, not for %', path, v_action
			USING ERRCODE = '22023';
	END IF;
	v_status := cadence.json_field(branch, 'status', path, 'string') #>> '{}';
	IF v_status IS NOT NULL AND v_action <> 'stop' THEN
		RAISE EXCEPTION '%.status is for a stop, not for %', path, v_action
			USING ERRCODE = '22023';
	END IF;
	IF v_status NOT IN ('completed', 'replied', 'meeting_booked', 'bounced', 'unsubscribed',
						'cancelled') THEN
		RAISE EXCEPTION 'invalid %.status: "%"', path, v_status
			USING ERRCODE = '22023',
				  HINT = 'A run stops as completed, replied, meeting_booked, bounced, unsubscribed or cancelled.';
	END IF;
	PERFORM cadence.json_field(branch, 'reason', path, 'string');
END
$$;

-- A step's condition (path is its path): {"when", "step"?, "then"?,
-- "else"?}.  when is one of cadence.condition_hint()'s; step, an action id
-- whose message alone is looked at.  then and else (branches, default
-- continue) belong to condition steps; on any other step the condition
-- decides whether the step happens at all (else it is skipped).
CREATE FUNCTION cadence.validate_condition(condition jsonb, branching boolean, path text)
RETURNS void
LANGUAGE plpgsql IMMUTABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	v_when text;
BEGIN
	PERFORM cadence.reject_unknown_keys(condition,
		CASE WHEN branching THEN ARRAY['when', 'step', 'then', 'else']
			 ELSE ARRAY['when', 'step'] END, path);
	v_when := cadence.json_field(condition, 'when', path, 'string', required => true) #>> '{}';
	IF v_when NOT IN ('always', 'if_replied', 'if_not_replied', 'if_opened', 'if_not_opened',
					  'if_clicked', 'if_bounced', 'if_unsubscribed') THEN
		RAISE EXCEPTION 'unknown condition "%" at %.when', v_when, path
			USING ERRCODE = '22023', HINT = cadence.condition_hint();
	END IF;
	PERFORM cadence.json_field(condition, 'step', path, 'string');
	IF cadence.json_field(condition, 'then', path, 'object') IS NOT NULL THEN
		PERFORM cadence.validate_branch(condition -> 'then', cadence.json_path(path, 'then'));
	END IF;
	IF cadence.json_field(condition, 'else', path, 'object') IS NOT NULL THEN
		PERFORM cadence.validate_branch(condition -> 'else', cadence.json_path(path, 'else'));
	END IF;
END
$$;

-- config.leadAction of a lead_action step (path is its path); see
-- apply_lead_action for what each does.
CREATE FUNCTION cadence.validate_lead_action(spec jsonb, path text) RETURNS void
LANGUAGE plpgsql IMMUTABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	v_action text := cadence.json_field(spec, 'action', path, 'string', required => true) #>> '{}';
	v_list text;
BEGIN
	CASE v_action
	WHEN 'update_status' THEN
		PERFORM cadence.reject_unknown_keys(spec, ARRAY['action', 'status'], path);
		IF btrim(cadence.json_field(spec, 'status', path, 'string', required => true) #>> '{}') = '' THEN
			RAISE EXCEPTION '%.status must not be empty', path USING ERRCODE = '23514';
		END IF;
	WHEN 'mark_qualified' THEN
		PERFORM cadence.reject_unknown_keys(spec, ARRAY['action'], path);
	WHEN 'tag_lead' THEN
		PERFORM cadence.reject_unknown_keys(spec, ARRAY['action', 'tags', 'removeTags'], path);
		FOREACH v_list IN ARRAY ARRAY['tags', 'removeTags'] LOOP
			PERFORM cadence.json_field(spec, v_list, path, 'array');
			IF EXISTS (SELECT 1 FROM jsonb_array_elements(coalesce(spec -> v_list, '[]')) AS t
						WHERE jsonb_typeof(t) <> 'string' OR t #>> '{}' = '') THEN
				RAISE EXCEPTION '%.% must hold non-empty strings, got %', path, v_list, spec -> v_list
					USING ERRCODE = '22023';
			END IF;
		END LOOP;
		IF jsonb_array_length(coalesce(spec -> 'tags', '[]'))
		   + jsonb_array_length(coalesce(spec -> 'removeTags', '[]')) = 0 THEN
			PERFORM cadence.raise_missing(cadence.json_path(path, 'tags'),
				'tag_lead adds tags, removes removeTags, or both.');
		END IF;
	WHEN 'assign_to_user' THEN
		PERFORM cadence.reject_unknown_keys(spec, ARRAY['action', 'userId'], path);
		PERFORM cadence.json_field(spec, 'userId', path, 'string', required => true);
	WHEN 'notify_user' THEN
		PERFORM cadence.reject_unknown_keys(spec, ARRAY['action', 'userId', 'message'], path);
		PERFORM cadence.json_field(spec, 'userId', path, 'string');
		PERFORM cadence.json_field(spec, 'message', path, 'string');
	WHEN 'add_to_campaign' THEN
		PERFORM cadence.reject_unknown_keys(spec, ARRAY['action', 'cadenceId', 'startAtStep'], path);
		PERFORM cadence.json_field(spec, 'cadenceId', path, 'string', required => true);
		IF (cadence.json_field(spec, 'startAtStep', path, 'integer'))::int < 1 THEN
			RAISE EXCEPTION '%.startAtStep must be at least 1, got %', path, spec -> 'startAtStep'
				USING ERRCODE = '23514';
		END IF;
	ELSE
		RAISE EXCEPTION 'unknown lead action "%" at %.action', v_action, path
			USING ERRCODE = '22023', HINT = cadence.lead_action_hint();
	END CASE;
END
$$;

-- What a cadence's steps say about other steps (its normalised days):
-- every jump goes forward to a step that exists, and a condition's "step"
-- names a step before it.  22023 naming the condition's action otherwise.
CREATE FUNCTION cadence.validate_step_references(days jsonb) RETURNS void
LANGUAGE plpgsql IMMUTABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	v_steps jsonb;
	j record;
	v_branch text;
	v_to jsonb;
	v_target int;
BEGIN
	-- {action id: step number}, in the order the steps are numbered.
	SELECT coalesce(jsonb_object_agg(a ->> 'id', n), '{}') INTO v_steps
	  FROM (SELECT a, row_number() OVER (ORDER BY (d ->> 'dayNumber')::int, p) AS n
			  FROM jsonb_array_elements(days) AS d,
				   jsonb_array_elements(d -> 'actions') WITH ORDINALITY AS x(a, p)) s;
	FOR j IN
		SELECT (v_steps ->> (a ->> 'id'))::int AS n, a ->> 'id' AS id, a -> 'condition' AS c
		  FROM jsonb_array_elements(days) AS d, jsonb_array_elements(d -> 'actions') AS a
		 WHERE a ? 'condition'
	LOOP
		IF j.c ->> 'step' IS NOT NULL AND coalesce((v_steps ->> (j.c ->> 'step'))::int >= j.n, true) THEN
			RAISE EXCEPTION 'the condition of "%" looks at step "%", which does not come before it',
				j.id, j.c ->> 'step'
				USING ERRCODE = '22023',
					  HINT = 'condition.step names the action id of an earlier step.';
		END IF;
		FOR v_branch, v_to, v_target IN
			SELECT b.key, b.value -> 'toStep',
				   CASE jsonb_typeof(b.value -> 'toStep')
					   WHEN 'string' THEN (v_steps ->> (b.value ->> 'toStep'))::int
					   ELSE (b.value ->> 'toStep')::int END
			  FROM jsonb_each(j.c) AS b
			 WHERE b.key IN ('then', 'else') AND b.value ->> 'action' = 'jump'
		LOOP
			IF v_target IS NULL OR v_target > (SELECT count(*) FROM jsonb_object_keys(v_steps)) THEN
				RAISE EXCEPTION 'the % branch of condition "%" jumps to %, which is not a step of the cadence',
					v_branch, j.id, v_to
					USING ERRCODE = '22023';
			ELSIF v_target <= j.n THEN
				RAISE EXCEPTION 'the % branch of condition "%" (step %) jumps back to step %',
					v_branch, j.id, j.n, v_target
					USING ERRCODE = '22023',
						  HINT = 'A condition jumps forward; to repeat a touch, add it again later in the cadence.';
			END IF;
		END LOOP;
	END LOOP;
END
$$;
-- The cadence contract of seed 000 as SQL functions: JSON in, JSON out,
-- named arguments, so that PostgREST or Supabase RPC can expose them as
-- they are.  All are SECURITY INVOKER: row-level security applies to the
-- caller, and every write also checks cadence.can_write_cadence() itself.
--
--   list_cadences()                          CadenceSummary[]
--   get_cadence(id)                          Cadence
--   upsert_cadence(body)                     Cadence, created or replaced
--   activate(id), deactivate(id)             {"success": true}
--   delete_cadence(id)                       {"success": true}, drafts only
--   duplicate_cadence(id, new_id, new_name)  Cadence, the clone
--
-- Reading a cadence that is missing, deleted or not the caller's tenant's
-- fails with P0002 (not found); a write naming one fails with 42501, as a
-- write the caller may not make does, so no one learns whether an id
-- exists where they cannot see.
--
-- The status of a cadence, written down once (cadence.next_status):
--
--   (new)                  --upsert, isActive false or absent--> draft
--   (new)                  --upsert, isActive true-->            active
--   draft|paused|archived  --activate, upsert isActive true-->   active
--   active                 --deactivate, upsert isActive false--> paused
--   draft                  --delete_cadence-->                   (deleted)
--
-- Anything else leaves the status as it is (deactivating a draft keeps it
-- a draft).  A cadence becomes active only with at least one action.
-- Deleting is soft: the row stays with deleted_at set, hidden from list and
-- get, and its id is never reused.
--
-- Versions: days and actions are stored per version.  An upsert that
-- changes them while any run references the current version writes them
-- as version + 1 and keeps the old rows for those runs; otherwise it
-- replaces the current version's rows.  An upsert that leaves days and
-- actions as they are keeps the version.

-- The status after a request: is_active true activates, false deactivates,
-- NULL leaves the status alone; status NULL is a cadence being created.
CREATE FUNCTION cadence.next_status(status text, is_active boolean) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
	SELECT CASE
		WHEN is_active THEN 'active'
		WHEN status IS NULL THEN 'draft'
		WHEN NOT is_active AND status = 'active' THEN 'paused'
		ELSE status
	END
$$;

-- The days and actions of one version of a cadence, in get_cadence's
-- shape: days by dayNumber, actions by position, optional members omitted.
CREATE FUNCTION cadence.days_json(p_tenant_id text, p_cadence_id text, p_version integer)
RETURNS jsonb
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
	SELECT coalesce(jsonb_agg(
			jsonb_build_object('dayNumber', d.day_number, 'actions', (
				SELECT coalesce(jsonb_agg(
						jsonb_build_object('id', a.action_id, 'type', a.type,
										   'scheduleRule', a.schedule_rule,
										   'config', a.config)
						|| cadence.json_opt('name', to_jsonb(a.name))
						|| cadence.json_opt('variants', a.variants)
						|| cadence.json_opt('condition', a.condition)
						ORDER BY a.position), '[]')
				  FROM cadence.cadence_actions a
				 WHERE a.tenant_id = d.tenant_id
				   AND a.cadence_id = d.cadence_id
				   AND a.version = d.version
				   AND a.day_number = d.day_number))
			ORDER BY d.day_number), '[]')
	  FROM cadence.cadence_days d
	 WHERE d.tenant_id = p_tenant_id
	   AND d.cadence_id = p_cadence_id
	   AND d.version = p_version
$$;

-- The members a cadence summary and a full cadence share.
CREATE FUNCTION cadence.cadence_head_json(c cadence.cadences) RETURNS jsonb
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
	SELECT jsonb_build_object(
			'id', c.id,
			'name', c.name,
			'status', c.status,
			'isActive', c.status = 'active',
			'timezone', c.timezone,
			'version', c.version,
			'ownerId', c.owner_id,
			'createdAt', c.created_at,
			'updatedAt', c.updated_at)
		|| cadence.json_opt('description', to_jsonb(c.description))
$$;

-- A cadence of a tenant as get_cadence returns it (the current version's
-- days and actions), or NULL when there is none or it was deleted.  The
-- one builder behind get_cadence, upsert_cadence and duplicate_cadence.
CREATE FUNCTION cadence.cadence_json(p_tenant_id text, p_cadence_id text) RETURNS jsonb
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
	SELECT cadence.cadence_head_json(c)
		|| jsonb_build_object(
			'trigger', c.trigger,
			'settings', c.settings,
			'exitConditions', c.exit_conditions,
			'days', cadence.days_json(c.tenant_id, c.id, c.version))
	  FROM cadence.cadences c
	 WHERE c.tenant_id = p_tenant_id
	   AND c.id = p_cadence_id
	   AND c.deleted_at IS NULL
$$;

-- Write normalised days (validate_cadence_body's output, or days_json's)
-- as the rows of one version.  Actions are numbered 1.. across the whole
-- version in day and position order (step_number).
CREATE FUNCTION cadence.store_days(p_tenant_id text, p_cadence_id text, p_version integer,
								   p_days jsonb) RETURNS void
LANGUAGE sql
SET search_path = pg_catalog, pg_temp
AS $$
	INSERT INTO cadence.cadence_days (tenant_id, cadence_id, version, day_number)
	SELECT p_tenant_id, p_cadence_id, p_version, (d.value ->> 'dayNumber')::int
	  FROM jsonb_array_elements(p_days) AS d;

	INSERT INTO cadence.cadence_actions
		(tenant_id, cadence_id, version, day_number, position, step_number,
		 action_id, name, type, schedule_rule, config, variants, condition)
	SELECT p_tenant_id, p_cadence_id, p_version, (d.value ->> 'dayNumber')::int,
		   a.position,
		   row_number() OVER (ORDER BY (d.value ->> 'dayNumber')::int, a.position),
		   a.value ->> 'id', a.value ->> 'name', a.value ->> 'type',
		   a.value -> 'scheduleRule', a.value -> 'config',
		   a.value -> 'variants', a.value -> 'condition'
	  FROM jsonb_array_elements(p_days) AS d,
		   jsonb_array_elements(d.value -> 'actions') WITH ORDINALITY AS a (value, position);
$$;

-- Append a cadence.* event to the audit log, with the acting user.
CREATE FUNCTION cadence.log_cadence_event(p_tenant_id text, p_cadence_id text, p_type text,
										  p_payload jsonb DEFAULT '{}') RETURNS void
LANGUAGE sql
SET search_path = pg_catalog, pg_temp
AS $$
	INSERT INTO cadence.events (tenant_id, cadence_id, type, payload)
	VALUES (p_tenant_id, p_cadence_id, p_type,
			p_payload || cadence.json_opt('userId', to_jsonb(cadence.current_user_id())));
$$;

-- Log cadence.activated or cadence.deactivated when a status change is one.
CREATE FUNCTION cadence.log_status_change(p_tenant_id text, p_cadence_id text,
										  p_from text, p_to text) RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	IF p_to = 'active' AND p_from IS DISTINCT FROM 'active' THEN
		PERFORM cadence.log_cadence_event(p_tenant_id, p_cadence_id, 'cadence.activated',
										  cadence.json_opt('from', to_jsonb(p_from)));
	ELSIF p_from = 'active' AND p_to <> 'active' THEN
		PERFORM cadence.log_cadence_event(p_tenant_id, p_cadence_id, 'cadence.deactivated',
										  jsonb_build_object('to', p_to));
	END IF;
END
$$;

-- Raise 55000 when a cadence would be active without any action.
CREATE FUNCTION cadence.check_activation(p_cadence_id text, p_status text,
										 p_action_count bigint) RETURNS void
LANGUAGE plpgsql IMMUTABLE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	IF p_status = 'active' AND p_action_count = 0 THEN
		RAISE EXCEPTION 'cadence "%" has no actions and cannot be active', p_cadence_id
			USING ERRCODE = '55000',
				  HINT = 'Add at least one action with upsert_cadence, then activate it.';
	END IF;
END
$$;

-- Raise 42501: the caller may not do verb to the cadence, or cannot see it.
CREATE FUNCTION cadence.raise_write_denied(p_cadence_id text, p_verb text DEFAULT 'change',
										   p_hint text DEFAULT NULL) RETURNS void
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	who text := cadence.current_user_id();
BEGIN
	RAISE EXCEPTION '% may not % cadence "%"',
		CASE WHEN who IS NULL THEN 'a session without a user id'
			 ELSE format('user "%s"', who) END,
		p_verb, p_cadence_id
		USING ERRCODE = '42501',
			  HINT = coalesce(p_hint,
				'Only the cadence''s owner or an owner or admin of the tenant may change it.');
END
$$;

-- Raise 23505 for the id of a deleted cadence, which is never reused.
CREATE FUNCTION cadence.raise_deleted_id(p_cadence_id text) RETURNS void
LANGUAGE plpgsql IMMUTABLE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	RAISE EXCEPTION 'cadence id "%" belonged to a deleted cadence', p_cadence_id
		USING ERRCODE = '23505',
			  HINT = 'The ids of deleted cadences are not reused; choose another id.';
END
$$;

-- Raise 42501 unless the caller may create a cadence in the tenant: a
-- member of it, or a role that bypasses row-level security.
CREATE FUNCTION cadence.check_can_create(p_tenant_id text, p_cadence_id text) RETURNS void
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	IF NOT coalesce(cadence.can_write_cadence(p_tenant_id, cadence.current_user_id()), false) THEN
		PERFORM cadence.raise_write_denied(p_cadence_id, 'create',
			format('Only members of tenant "%s" may create cadences in it.', p_tenant_id));
	END IF;
END
$$;

-- The live cadence of the tenant, locked for a change the caller may make;
-- 42501 when it is missing, deleted or the caller may not change it.
CREATE FUNCTION cadence.lock_cadence_for_write(p_tenant_id text, p_cadence_id text)
RETURNS cadence.cadences
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	c cadence.cadences;
BEGIN
	SELECT * INTO c
	  FROM cadence.cadences x
	 WHERE x.tenant_id = p_tenant_id AND x.id = p_cadence_id AND x.deleted_at IS NULL;
	IF NOT FOUND OR NOT coalesce(cadence.can_write_cadence(c.tenant_id, c.owner_id), false) THEN
		PERFORM cadence.raise_write_denied(p_cadence_id);
	END IF;
	-- Lock it; it may have been deleted while we waited.
	SELECT * INTO c
	  FROM cadence.cadences x
	 WHERE x.tenant_id = p_tenant_id AND x.id = p_cadence_id AND x.deleted_at IS NULL
	   FOR UPDATE;
	IF NOT FOUND THEN
		PERFORM cadence.raise_write_denied(p_cadence_id);
	END IF;
	RETURN c;
END
$$;

-- Activate or deactivate a cadence (activate and deactivate).
CREATE FUNCTION cadence.set_active(p_cadence_id text, p_is_active boolean) RETURNS jsonb
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	v_tenant text := cadence.require_tenant();
	c cadence.cadences := cadence.lock_cadence_for_write(v_tenant, p_cadence_id);
	v_status text := cadence.next_status(c.status, p_is_active);
BEGIN
	IF v_status <> c.status THEN
		PERFORM cadence.check_activation(p_cadence_id, v_status,
			(SELECT count(*) FROM cadence.cadence_actions a
			  WHERE a.tenant_id = c.tenant_id AND a.cadence_id = c.id
				AND a.version = c.version));
		UPDATE cadence.cadences x
		   SET status = v_status, updated_at = now()
		 WHERE x.tenant_id = c.tenant_id AND x.id = c.id;
		PERFORM cadence.log_status_change(c.tenant_id, c.id, c.status, v_status);
	END IF;
	RETURN '{"success": true}';
END
$$;


-- The API.

CREATE FUNCTION cadence.list_cadences() RETURNS jsonb
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	v_tenant text := cadence.require_tenant();
BEGIN
	RETURN (
		SELECT coalesce(jsonb_agg(
				cadence.cadence_head_json(c)
				|| jsonb_build_object(
					'dayCount', (SELECT count(*) FROM cadence.cadence_days d
								  WHERE d.tenant_id = c.tenant_id AND d.cadence_id = c.id
									AND d.version = c.version),
					'actionCount', (SELECT count(*) FROM cadence.cadence_actions a
									 WHERE a.tenant_id = c.tenant_id AND a.cadence_id = c.id
									   AND a.version = c.version))
				ORDER BY c.updated_at DESC, c.id), '[]')
		  FROM cadence.cadences c
		 WHERE c.tenant_id = v_tenant AND c.deleted_at IS NULL);
END
$$;
COMMENT ON FUNCTION cadence.list_cadences() IS
	'The caller''s tenant''s cadences (not deleted) as CadenceSummary objects, most recently updated first';

CREATE FUNCTION cadence.get_cadence(id text) RETURNS jsonb
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	v_id text := get_cadence.id;
	v_cadence jsonb := cadence.cadence_json(cadence.require_tenant(), v_id);
BEGIN
	IF v_cadence IS NULL THEN
		RAISE EXCEPTION 'cadence "%" not found', v_id USING ERRCODE = 'P0002';
	END IF;
	RETURN v_cadence;
END
$$;
COMMENT ON FUNCTION cadence.get_cadence(text) IS
	'One cadence of the caller''s tenant in seed 000''s Cadence shape, with the days and actions of its current version; P0002 when there is none';

CREATE FUNCTION cadence.upsert_cadence(body jsonb) RETURNS jsonb
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	v_tenant text := cadence.require_tenant();
	-- Everything is validated before anything is written.
	v_new jsonb := cadence.validate_cadence_body(body);
	v_id text := coalesce(v_new ->> 'id', gen_random_uuid()::text);
	v_days jsonb := v_new -> 'days';
	v_action_count bigint := (SELECT count(*)
								FROM jsonb_array_elements(v_days) AS d,
									 jsonb_array_elements(d.value -> 'actions'));
	v_old cadence.cadences;
	v_status text;
	v_version integer := 1;
BEGIN
	SELECT * INTO v_old
	  FROM cadence.cadences c
	 WHERE c.tenant_id = v_tenant AND c.id = v_id;
	IF v_old.deleted_at IS NOT NULL THEN
		PERFORM cadence.raise_deleted_id(v_id);
	END IF;

	IF v_old.id IS NULL THEN
		-- Create.
		PERFORM cadence.check_can_create(v_tenant, v_id);
		v_status := cadence.next_status(NULL, (v_new -> 'isActive')::boolean);
		PERFORM cadence.check_activation(v_id, v_status, v_action_count);
		INSERT INTO cadence.cadences
			(tenant_id, id, name, description, status, timezone, trigger, settings,
			 exit_conditions, owner_id, version)
		VALUES (v_tenant, v_id, v_new ->> 'name', v_new ->> 'description', v_status,
				v_new ->> 'timezone', v_new -> 'trigger', v_new -> 'settings',
				v_new -> 'exitConditions', cadence.current_user_id(), v_version);
		PERFORM cadence.store_days(v_tenant, v_id, v_version, v_days);
		PERFORM cadence.log_cadence_event(v_tenant, v_id, 'cadence.created',
										  jsonb_build_object('version', v_version));
	ELSE
		-- Replace.
		v_old := cadence.lock_cadence_for_write(v_tenant, v_id);
		v_status := cadence.next_status(v_old.status, (v_new -> 'isActive')::boolean);
		PERFORM cadence.check_activation(v_id, v_status, v_action_count);
		v_version := v_old.version;
		IF cadence.days_json(v_tenant, v_id, v_old.version) IS DISTINCT FROM v_days THEN
			IF EXISTS (SELECT 1 FROM cadence.runs r
						WHERE r.tenant_id = v_tenant AND r.cadence_id = v_id
						  AND r.cadence_version = v_old.version) THEN
				-- Runs were planned from this version: keep it for them.
				v_version := v_old.version + 1;
			ELSE
				DELETE FROM cadence.cadence_days d
				 WHERE d.tenant_id = v_tenant AND d.cadence_id = v_id
				   AND d.version = v_old.version;
			END IF;
			PERFORM cadence.store_days(v_tenant, v_id, v_version, v_days);
		END IF;
		UPDATE cadence.cadences c
		   SET name = v_new ->> 'name',
			   description = v_new ->> 'description',
			   status = v_status,
			   timezone = v_new ->> 'timezone',
			   trigger = v_new -> 'trigger',
			   settings = v_new -> 'settings',
			   exit_conditions = v_new -> 'exitConditions',
			   version = v_version,
			   updated_at = now()
		 WHERE c.tenant_id = v_tenant AND c.id = v_id;
		IF v_version > v_old.version THEN
			PERFORM cadence.log_cadence_event(v_tenant, v_id, 'cadence.versioned',
				jsonb_build_object('fromVersion', v_old.version, 'toVersion', v_version));
		ELSE
			PERFORM cadence.log_cadence_event(v_tenant, v_id, 'cadence.updated',
											  jsonb_build_object('version', v_version));
		END IF;
	END IF;
	PERFORM cadence.log_status_change(v_tenant, v_id, v_old.status, v_status);

	RETURN cadence.cadence_json(v_tenant, v_id);
END
$$;
COMMENT ON FUNCTION cadence.upsert_cadence(jsonb) IS
	'Create or replace a cadence from seed 000''s UpsertCadenceRequest (or seed 003''s steps body): validates it all first, replaces days and actions wholesale (as a new version when runs use the current one), returns get_cadence';

CREATE FUNCTION cadence.activate(id text) RETURNS jsonb
LANGUAGE sql
SET search_path = pg_catalog, pg_temp
AS $$
	SELECT cadence.set_active(id, true)
$$;
COMMENT ON FUNCTION cadence.activate(text) IS
	'Make a cadence active so leads can be enrolled; it needs at least one action (55000 otherwise); returns {"success": true}';

CREATE FUNCTION cadence.deactivate(id text) RETURNS jsonb
LANGUAGE sql
SET search_path = pg_catalog, pg_temp
AS $$
	SELECT cadence.set_active(id, false)
$$;
COMMENT ON FUNCTION cadence.deactivate(text) IS
	'Pause an active cadence: no new enrollments; other statuses are left alone; returns {"success": true}';

CREATE FUNCTION cadence.delete_cadence(id text) RETURNS jsonb
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	v_tenant text := cadence.require_tenant();
	c cadence.cadences := cadence.lock_cadence_for_write(v_tenant, delete_cadence.id);
BEGIN
	IF c.status <> 'draft' THEN
		RAISE EXCEPTION 'cadence "%" is %; only a draft can be deleted', c.id, c.status
			USING ERRCODE = '55000',
				  HINT = 'Deactivate the cadence instead: it takes no new enrollments and keeps its runs and history.';
	END IF;
	UPDATE cadence.cadences x
	   SET deleted_at = now(), updated_at = now()
	 WHERE x.tenant_id = c.tenant_id AND x.id = c.id;
	PERFORM cadence.log_cadence_event(c.tenant_id, c.id, 'cadence.deleted');
	RETURN '{"success": true}';
END
$$;
COMMENT ON FUNCTION cadence.delete_cadence(text) IS
	'Delete a draft cadence (soft: hidden from list and get, its id never reused); 55000 for any other status; returns {"success": true}';

CREATE FUNCTION cadence.duplicate_cadence(id text, new_id text DEFAULT NULL,
										  new_name text DEFAULT NULL) RETURNS jsonb
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	v_tenant text := cadence.require_tenant();
	v_source_id text := duplicate_cadence.id;
	v_id text := coalesce(new_id, gen_random_uuid()::text);
	v_name text;
	src cadence.cadences;
	v_taken_deleted_at timestamptz;
BEGIN
	SELECT * INTO src
	  FROM cadence.cadences c
	 WHERE c.tenant_id = v_tenant AND c.id = v_source_id AND c.deleted_at IS NULL;
	IF NOT FOUND THEN
		PERFORM cadence.raise_write_denied(v_source_id, 'duplicate',
			'Only cadences of your own tenant can be duplicated.');
	END IF;

	v_name := coalesce(new_name, src.name || ' (copy)');
	IF v_id = '' THEN
		RAISE EXCEPTION 'new_id must not be empty' USING ERRCODE = '23514',
			HINT = 'Leave new_id out to have one generated.';
	END IF;
	IF btrim(v_name) = '' THEN
		RAISE EXCEPTION 'new_name must not be empty' USING ERRCODE = '23514';
	END IF;

	SELECT c.deleted_at INTO v_taken_deleted_at
	  FROM cadence.cadences c
	 WHERE c.tenant_id = v_tenant AND c.id = v_id;
	IF FOUND THEN
		IF v_taken_deleted_at IS NOT NULL THEN
			PERFORM cadence.raise_deleted_id(v_id);
		END IF;
		RAISE EXCEPTION 'cadence "%" already exists', v_id
			USING ERRCODE = '23505',
				  HINT = 'Choose another new_id, or leave it out to have one generated.';
	END IF;

	PERFORM cadence.check_can_create(v_tenant, v_id);
	INSERT INTO cadence.cadences
		(tenant_id, id, name, description, status, timezone, trigger, settings,
		 exit_conditions, owner_id, version)
	VALUES (v_tenant, v_id, v_name, src.description, 'draft', src.timezone, src.trigger,
			src.settings, src.exit_conditions, cadence.current_user_id(), 1);
	PERFORM cadence.store_days(v_tenant, v_id, 1,
							   cadence.days_json(src.tenant_id, src.id, src.version));
	PERFORM cadence.log_cadence_event(v_tenant, v_id, 'cadence.duplicated',
		jsonb_build_object('sourceId', src.id, 'sourceVersion', src.version));

	RETURN cadence.cadence_json(v_tenant, v_id);
END
$$;
COMMENT ON FUNCTION cadence.duplicate_cadence(text, text, text) IS
	'Copy a cadence''s current version into a new draft (version 1, owned by the caller, named "<name> (copy)" unless new_name is given); returns the clone';
-- Dispatch: the runner any session (or pg_cron) can call, the background
-- worker's status, and a way to try a template.  The worker itself is C
-- (src/worker.c) and needs no SQL.

CREATE FUNCTION cadence.run_due_actions("limit" integer DEFAULT 50,
										as_of timestamptz DEFAULT now(),
										tenant_id text DEFAULT NULL)
RETURNS jsonb
LANGUAGE C VOLATILE
-- Its statements go from arrays of keys to rows by key: see the planning
-- note in src/dispatch_claim.c.
SET enable_seqscan = off
SET enable_bitmapscan = off
SET enable_mergejoin = off
AS 'MODULE_PATHNAME', 'cadence_run_due_actions';
COMMENT ON FUNCTION cadence.run_due_actions(integer, timestamptz, text) IS
	'Resume the paused runs whose time has come, send up to limit actions due at as_of (of one tenant, or of all) and record what happened: {"claimed", "sent", "skipped", "failed", "retried", "moved", "pendingManual", "executed", "resumed"}; safe in several sessions and beside the background worker. For pg_cron: SELECT cadence.run_due_actions(500)';

CREATE FUNCTION cadence.idempotency_key(action_id bigint) RETURNS text
LANGUAGE C STABLE STRICT PARALLEL SAFE
AS 'MODULE_PATHNAME', 'cadence_idempotency_key_sql';
COMMENT ON FUNCTION cadence.idempotency_key(bigint) IS
	'The idempotency key every request of a scheduled action carries, cadence-<installation>-<id>; e-mail goes out with Message-ID <key@sender''s host>';

CREATE FUNCTION cadence.hmac(message bytea, key bytea, algorithm text) RETURNS bytea
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE
AS 'MODULE_PATHNAME', 'cadence_hmac';
COMMENT ON FUNCTION cadence.hmac(bytea, bytea, text) IS
	'HMAC-SHA1 (algorithm sha1) or HMAC-SHA256 (sha256) of message under key, as webhook signatures use them';

CREATE FUNCTION cadence.verify_ecdsa(message bytea, signature bytea, public_key text)
RETURNS boolean
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE
AS 'MODULE_PATHNAME', 'cadence_verify_ecdsa';
COMMENT ON FUNCTION cadence.verify_ecdsa(bytea, bytea, text) IS
	'Whether signature (DER) is an ECDSA signature of SHA-256(message) under public_key (base64 DER or PEM), as SendGrid signs its event webhook';

CREATE FUNCTION cadence.worker_state(
	OUT running boolean, OUT preloaded boolean, OUT database text, OUT pids integer[],
	OUT started_at timestamptz, OUT last_claim_at timestamptz, OUT in_flight integer,
	OUT claimed bigint, OUT sent bigint, OUT failed bigint, OUT retried bigint,
	OUT skipped bigint, OUT moved bigint, OUT executed bigint)
RETURNS record
LANGUAGE C VOLATILE
AS 'MODULE_PATHNAME', 'cadence_worker_status';
COMMENT ON FUNCTION cadence.worker_state() IS
	'The background dispatchers'' shared state and the counters of every runner since the server started';

CREATE FUNCTION cadence.worker_status() RETURNS jsonb
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

CREATE FUNCTION cadence.render_template(template text, vars jsonb DEFAULT '{}',
										html boolean DEFAULT false)
RETURNS text
LANGUAGE C STABLE PARALLEL SAFE
AS 'MODULE_PATHNAME', 'cadence_render_template';
COMMENT ON FUNCTION cadence.render_template(text, jsonb, boolean) IS
	'A message template filled from vars the way the runner fills it: {{name}}, {{name|fallback}}, dotted paths, values HTML-escaped when html; 22023 naming a variable with no value and no fallback';
-- What a runner works out in the database for a step: the template
-- variables of a lead, the A/B variant a run gets, whether a condition
-- holds, and what a lead action does.  The runners call these from C
-- (src/dispatch_claim.c, src/dispatch_logic.c, src/runstate.c).

-- The template variables of a lead in a run: its attributes, then its own
-- fields under camelCase names ({{firstName}}, {{company}}, ...), the run's
-- assignee and metadata ({{run.source}}).  A plain SQL expression, STABLE
-- like the functions it calls, so that the runners' statements inline it.
CREATE FUNCTION cadence.template_vars(lead_id text, first_name text, last_name text,
									  email text, phone text, whatsapp text,
									  company text, timezone text, owner_id text,
									  status text, tags text[], attributes jsonb,
									  assigned_to text, run_metadata jsonb)
RETURNS jsonb
LANGUAGE sql STABLE PARALLEL SAFE
AS $$
	SELECT attributes || pg_catalog.jsonb_strip_nulls(pg_catalog.jsonb_build_object(
		'leadId', lead_id, 'firstName', first_name, 'lastName', last_name,
		'fullName', NULLIF(pg_catalog.concat_ws(' ', first_name, last_name), ''),
		'email', email, 'phone', phone, 'whatsapp', whatsapp, 'company', company,
		'timezone', timezone, 'ownerId', owner_id, 'status', status,
		'tags', pg_catalog.to_jsonb(tags), 'attributes', attributes,
		'assignedTo', assigned_to, 'run', run_metadata))
$$;
COMMENT ON FUNCTION cadence.template_vars(text, text, text, text, text, text, text, text, text, text, text[], jsonb, text, jsonb) IS
	'The variables a message template of a run sees: the lead''s attributes and fields (firstName, company, ...), assignedTo, and the run''s metadata as run';

-- The variant of variants (an A/B test's array) a run gets: a point drawn
-- from a hash of the run and the action, never from a random number, falls
-- into one variant's share of the summed weights (1 each when not given).
-- The same run always gets the same variant; runs spread over the variants
-- in proportion to their weights.  All weights 0: the first variant.
CREATE FUNCTION cadence.pick_variant(variants jsonb, run_id bigint, action_id text)
RETURNS jsonb
LANGUAGE sql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
	WITH v AS (
		SELECT e, ord, coalesce((e ->> 'weight')::numeric, 1) AS weight
		  FROM jsonb_array_elements(variants) WITH ORDINALITY AS x(e, ord)),
	point AS (
		SELECT abs(hashtextextended(run_id::text || ':' || action_id, 0) % 1000000)::numeric
			   / 1000000 * (SELECT sum(weight) FROM v) AS at)
	SELECT coalesce(
		(SELECT c.e FROM (SELECT e, ord, sum(weight) OVER (ORDER BY ord) AS upto FROM v) c, point
		  WHERE c.upto > point.at ORDER BY c.ord LIMIT 1),
		variants -> 0)
$$;
COMMENT ON FUNCTION cadence.pick_variant(jsonb, bigint, text) IS
	'The A/B variant a run gets for a step: weighted, and always the same for the same run';

-- The variant a run gets for a step: the declared winner when the run was
-- enrolled after it was declared (and it is still one of the variants),
-- else pick_variant's.
CREATE FUNCTION cadence.step_variant(tenant_id text, cadence_id text, action_id text,
									 variants jsonb, run_id bigint, enrolled_at timestamptz)
RETURNS jsonb
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
	SELECT coalesce(
		(SELECT e FROM cadence.variant_winners w, jsonb_array_elements(variants) AS e
		  WHERE w.tenant_id = step_variant.tenant_id AND w.cadence_id = step_variant.cadence_id
			AND w.action_id = step_variant.action_id AND w.declared_at <= enrolled_at
			AND e ->> 'id' = w.variant),
		cadence.pick_variant(variants, run_id, action_id))
$$;

-- A step's config with a variant laid over it: the variant's members
-- other than id, weight and name replace the config's, and its channel
-- object (sms, email, whatsapp, webhook, task) is merged into the step's
-- one member by member, so a variant names only what it changes:
--   {"id": "B", "weight": 30, "email": {"subject": "Quick question"}}
CREATE FUNCTION cadence.variant_config(config jsonb, action_type text, variant jsonb)
RETURNS jsonb
LANGUAGE sql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
	SELECT config || (variant - 'id' - 'weight' - 'name')
		|| coalesce((SELECT jsonb_object_agg(k, (config -> k) || (variant -> k))
					   FROM jsonb_object_keys(variant) AS k
					  WHERE jsonb_typeof(config -> k) = 'object'
						AND jsonb_typeof(variant -> k) = 'object'), '{}')
$$;
COMMENT ON FUNCTION cadence.variant_config(jsonb, text, jsonb) IS
	'A step''s config as one A/B variant of it sends it: the variant''s members over the step''s, channel objects merged member by member';

-- Does a condition hold for a run at one of its steps?  condition.when:
--   always                          true
--   if_replied, if_not_replied      a message before this step got a reply
--   if_opened, if_not_opened        ... was opened (or clicked)
--   if_clicked                      ... had a link clicked
--   if_bounced                      ... bounced
--   if_unsubscribed                 the lead opted out: contacts.unsubscribed,
--                                   or an opt-out, STOP or spam report on the
--                                   do-not-contact list for its addresses
-- condition.step (an action id) looks at that step's message only.
CREATE FUNCTION cadence.condition_holds(tenant_id text, run_id bigint, step_number integer,
										condition jsonb)
RETURNS boolean
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	v_when text := condition ->> 'when';
	v_step text := condition ->> 'step';
	e record;
BEGIN
	IF v_when = 'always' THEN
		RETURN true;
	ELSIF v_when = 'if_unsubscribed' THEN
		RETURN EXISTS (
			SELECT 1 FROM cadence.runs r
			  JOIN cadence.contacts c ON c.tenant_id = r.tenant_id AND c.id = r.lead_id
			 WHERE r.tenant_id = condition_holds.tenant_id AND r.id = condition_holds.run_id
			   AND (c.unsubscribed
					OR EXISTS (SELECT 1 FROM cadence.suppressions s
								WHERE s.tenant_id = c.tenant_id
								  AND s.reason IN ('unsubscribe', 'stop_keyword', 'spam_report')
								  AND s.address IN (lower(c.email), c.phone, c.whatsapp))));
	END IF;
	SELECT coalesce(bool_or(a.replied_at IS NOT NULL), false) AS replied,
		   coalesce(bool_or(a.opened_at IS NOT NULL OR a.clicked_at IS NOT NULL), false) AS opened,
		   coalesce(bool_or(a.clicked_at IS NOT NULL), false) AS clicked,
		   coalesce(bool_or(a.bounced_at IS NOT NULL), false) AS bounced
	  INTO e
	  FROM cadence.scheduled_actions a
	 WHERE a.tenant_id = condition_holds.tenant_id AND a.run_id = condition_holds.run_id
	   AND a.step_number < condition_holds.step_number
	   AND (v_step IS NULL OR a.action_id = v_step);
	CASE v_when
		WHEN 'if_replied' THEN RETURN e.replied;
		WHEN 'if_not_replied' THEN RETURN NOT e.replied;
		WHEN 'if_opened' THEN RETURN e.opened;
		WHEN 'if_not_opened' THEN RETURN NOT e.opened;
		WHEN 'if_clicked' THEN RETURN e.clicked;
		WHEN 'if_bounced' THEN RETURN e.bounced;
		ELSE
			RAISE EXCEPTION 'unknown condition "%"', v_when
				USING ERRCODE = '22023', HINT = cadence.condition_hint();
	END CASE;
END
$$;
COMMENT ON FUNCTION cadence.condition_holds(text, bigint, integer, jsonb) IS
	'Whether a step''s condition (if_replied, if_opened, if_clicked, if_bounced, if_unsubscribed, their negations, always) holds for a run';

-- The conditions there are, as error hints list them.
CREATE FUNCTION cadence.condition_hint() RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$
	SELECT 'Conditions: if_replied, if_not_replied, if_opened, if_not_opened, if_clicked, if_bounced, if_unsubscribed, always.'::text
$$;

-- Run fn (a statement) with the session's tenant set to tenant_id when the
-- caller has none (a runner, a service role), and put it back afterwards.
-- Functions that take the tenant from the session (plan_run_for_lead) can
-- then be called for a row of any tenant the caller may see.
CREATE FUNCTION cadence.in_tenant(tenant_id text, statement text, arg jsonb)
RETURNS jsonb
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	v_saved text := current_setting('cadence.tenant_id', true);
	v_result jsonb;
BEGIN
	IF cadence.current_tenant() IS DISTINCT FROM tenant_id THEN
		PERFORM set_config('cadence.tenant_id', tenant_id, true);
	END IF;
	EXECUTE statement INTO v_result USING arg;
	PERFORM set_config('cadence.tenant_id', coalesce(v_saved, ''), true);
	RETURN v_result;
END
$$;

-- A lead action step (config.leadAction) done for a run; returns what it
-- did.  leadAction.action:
--   update_status   {"status": "unresponsive"}: the lead's status
--   mark_qualified  the lead's status becomes qualified
--   tag_lead        {"tags": [...], "removeTags": [...]}
--   assign_to_user  {"userId": "..."}: the lead's owner, the run's assignee,
--                   and the run's open tasks
--   notify_user     {"userId"?, "message"?}: an event and a pg_notify on
--                   channel cadence.notify_user for the user (default the
--                   run's assignee, else the lead's owner); message is a
--                   template of the lead's variables
--   add_to_campaign {"cadenceId": "...", "startAtStep"?}: enrolls the lead in
--                   that (active) cadence with the same assignee, at `at`
CREATE FUNCTION cadence.apply_lead_action(tenant_id text, run_id bigint, spec jsonb,
										  at timestamptz DEFAULT now())
RETURNS jsonb
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	v_action text := spec ->> 'action';
	r record;
	v_user text;
	v_message text;
	v_payload jsonb;
	v_run bigint;
BEGIN
	SELECT ru.lead_id, ru.cadence_id, ru.assigned_to, ru.metadata, ct.owner_id, ct.status,
		   cadence.template_vars(ct.id, ct.first_name, ct.last_name, ct.email, ct.phone,
			   ct.whatsapp, ct.company, ct.timezone, ct.owner_id, ct.status, ct.tags,
			   ct.attributes, ru.assigned_to, ru.metadata) AS vars
	  INTO r
	  FROM cadence.runs ru
	  JOIN cadence.contacts ct ON ct.tenant_id = ru.tenant_id AND ct.id = ru.lead_id
	 WHERE ru.tenant_id = apply_lead_action.tenant_id AND ru.id = apply_lead_action.run_id;
	IF NOT FOUND THEN
		RAISE EXCEPTION 'the lead of run % does not exist', run_id USING ERRCODE = 'P0002';
	END IF;

	CASE v_action
	WHEN 'update_status', 'mark_qualified' THEN
		UPDATE cadence.contacts c
		   SET status = CASE v_action WHEN 'mark_qualified' THEN 'qualified' ELSE spec ->> 'status' END,
			   updated_at = now()
		 WHERE c.tenant_id = apply_lead_action.tenant_id AND c.id = r.lead_id;
		RETURN jsonb_build_object('status', CASE v_action WHEN 'mark_qualified' THEN 'qualified'
														  ELSE spec ->> 'status' END,
								  'previousStatus', r.status);
	WHEN 'tag_lead' THEN
		UPDATE cadence.contacts c
		   SET tags = ARRAY(SELECT DISTINCT t
							  FROM unnest(c.tags || ARRAY(SELECT jsonb_array_elements_text(
															 coalesce(spec -> 'tags', '[]')))) AS t
							 WHERE t <> ALL (ARRAY(SELECT jsonb_array_elements_text(
													   coalesce(spec -> 'removeTags', '[]'))))
							 ORDER BY t),
			   updated_at = now()
		 WHERE c.tenant_id = apply_lead_action.tenant_id AND c.id = r.lead_id
		RETURNING jsonb_build_object('tags', to_jsonb(c.tags)) INTO v_payload;
		RETURN v_payload;
	WHEN 'assign_to_user' THEN
		v_user := spec ->> 'userId';
		UPDATE cadence.contacts c SET owner_id = v_user, updated_at = now()
		 WHERE c.tenant_id = apply_lead_action.tenant_id AND c.id = r.lead_id;
		UPDATE cadence.runs ru SET assigned_to = v_user
		 WHERE ru.tenant_id = apply_lead_action.tenant_id AND ru.id = apply_lead_action.run_id;
		UPDATE cadence.tasks t SET assignee_id = v_user
		 WHERE t.tenant_id = apply_lead_action.tenant_id AND t.run_id = apply_lead_action.run_id
		   AND t.status = 'open';
		RETURN jsonb_build_object('userId', v_user, 'previousOwnerId', r.owner_id);
	WHEN 'notify_user' THEN
		v_user := coalesce(spec ->> 'userId', r.assigned_to, r.owner_id);
		v_message := cadence.render_template(
			coalesce(spec ->> 'message', '{{fullName|A lead}} reached a step of cadence ' || r.cadence_id),
			r.vars);
		v_payload := jsonb_strip_nulls(jsonb_build_object('tenantId', tenant_id, 'userId', v_user,
			'runId', run_id, 'leadId', r.lead_id, 'cadenceId', r.cadence_id, 'message', v_message));
		INSERT INTO cadence.events (tenant_id, run_id, cadence_id, lead_id, type, payload)
		VALUES (tenant_id, run_id, r.cadence_id, r.lead_id, 'user.notified', v_payload);
		PERFORM pg_notify('cadence.notify_user', v_payload::text);
		RETURN v_payload - 'tenantId';
	WHEN 'add_to_campaign' THEN
		v_run := (cadence.in_tenant(tenant_id,
			'SELECT to_jsonb(cadence.plan_run_for_lead($1 ->> ''cadenceId'', $1 ->> ''leadId'','
			|| ' ($1 ->> ''at'')::timestamptz, $1 -> ''options''))',
			jsonb_build_object('cadenceId', spec ->> 'cadenceId', 'leadId', r.lead_id, 'at', at,
				'options', jsonb_strip_nulls(jsonb_build_object(
					'assignedTo', r.assigned_to, 'startAtStep', spec -> 'startAtStep',
					'metadata', jsonb_build_object('enrolledByRun', run_id))))))::bigint;
		RETURN jsonb_build_object('cadenceId', spec ->> 'cadenceId', 'runId', v_run);
	ELSE
		RAISE EXCEPTION 'unknown lead action "%"', v_action
			USING ERRCODE = '22023', HINT = cadence.lead_action_hint();
	END CASE;
END
$$;
COMMENT ON FUNCTION cadence.apply_lead_action(text, bigint, jsonb, timestamptz) IS
	'Do a lead action step for a run (update_status, mark_qualified, tag_lead, assign_to_user, notify_user, add_to_campaign) and say what it did';

-- The lead actions there are, as error hints list them.
CREATE FUNCTION cadence.lead_action_hint() RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$
	SELECT 'Lead actions: update_status, mark_qualified, tag_lead, assign_to_user, notify_user, add_to_campaign.'::text
$$;

-- A condition or lead action step of a run, carried out: returns the
-- outcome the step's action records, with the branch the run takes:
--   {"when": "if_replied", "met": true, "branch": {"action": "stop",
--    "status": "completed", "reason": "qualified"}}
--   {"leadAction": "tag_lead", "result": {...}, "branch": {"action": "continue"}}
-- A condition's then (when it holds) or else (when not) is the branch,
-- continue when absent; a jump's toStep (an action id or a step number) is
-- returned as the step number of the run's cadence version.  at is the
-- runner's clock.
CREATE FUNCTION cadence.execute_logic_step(tenant_id text, run_id bigint, step_number integer,
										   step_type text, config jsonb, condition jsonb,
										   at timestamptz)
RETURNS jsonb
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	v_met boolean;
	v_branch jsonb;
	v_to jsonb;
BEGIN
	IF step_type = 'lead_action' THEN
		RETURN jsonb_build_object('leadAction', config -> 'leadAction' ->> 'action',
			'result', cadence.apply_lead_action(tenant_id, run_id, config -> 'leadAction', at),
			'branch', jsonb_build_object('action', 'continue'));
	END IF;

	v_met := cadence.condition_holds(tenant_id, run_id, step_number, condition);
	v_branch := coalesce(CASE WHEN v_met THEN condition -> 'then' ELSE condition -> 'else' END,
						 '{"action": "continue"}');
	v_to := v_branch -> 'toStep';
	IF jsonb_typeof(v_to) = 'string' THEN
		SELECT to_jsonb(ca.step_number) INTO v_to
		  FROM cadence.runs r
		  JOIN cadence.cadence_actions ca ON ca.tenant_id = r.tenant_id
		   AND ca.cadence_id = r.cadence_id AND ca.version = r.cadence_version
		 WHERE r.tenant_id = execute_logic_step.tenant_id AND r.id = execute_logic_step.run_id
		   AND ca.action_id = v_branch ->> 'toStep';
		v_branch := v_branch || jsonb_build_object('toStep', v_to);
	END IF;
	RETURN jsonb_strip_nulls(jsonb_build_object('when', condition ->> 'when',
		'step', condition ->> 'step', 'met', v_met, 'branch', v_branch));
END
$$;
COMMENT ON FUNCTION cadence.execute_logic_step(text, bigint, integer, text, jsonb, jsonb, timestamptz) IS
	'Carry out a condition or lead action step of a run and name the branch it takes: continue, jump (toStep) or stop (status, reason)';
-- Auto-replies: telling an out-of-office message from a real reply, and
-- reading when its sender is back.  Both public functions are pure: they
-- look only at their arguments, never raise on odd input (NULLs, empty
-- strings, headers that are not a JSON object, dates that do not exist)
-- and answer NULL where they have nothing to say.
--
--   auto_reply_signal(headers, subject, body)    NULL for a human reply,
--       else the first of these that gives the message away:
--         auto_submitted      RFC 3834 Auto-Submitted, any value but "no"
--         auto_reply_header   X-Autoreply, X-Autorespond, X-Autoreply-From,
--                             X-Mail-Autoreply, Precedence: auto_reply
--         subject             "Automatic reply: ...", "Out of Office", ...
--         text                "I am out of the office until ...", ...
--   auto_reply_return_date(body, received_at, tz)   the first day the
--       sender says they are back, or NULL.
--
-- Text is compared folded (auto_reply_fold): lower case, accents and
-- German sharp s spelt out in ASCII, runs of white space as one space.  So
-- "RÉPONSE AUTOMATIQUE" and "Reponse automatique" are the same, whatever
-- the database's locale, and every pattern below is written in that form
-- ("buro" for "Büro", "ausser" for "außer").  The database is expected to
-- be UTF-8.  MIME encoded-words (=?UTF-8?Q?...?=) must be decoded by the
-- caller: they are not read here.

-- t folded for matching: lower case, no accents, ß as ss, typographic
-- apostrophes and dashes as ASCII, any run of white space as one space.
CREATE FUNCTION cadence.auto_reply_fold(t text) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
	SELECT btrim(regexp_replace(lower(translate(replace(replace(t, 'ß', 'ss'), 'ẞ', 'ss'),
			'ÀÁÂÃÄÅàáâãäåÈÉÊËèéêëÌÍÎÏìíîïÒÓÔÕÖòóôõöÙÚÛÜùúûüÇçÑñÝýÿ’‘´`–—' || chr(160),
			'AAAAAAaaaaaaEEEEeeeeIIIIiiiiOOOOOoooooUUUUuuuuCcNnYyy''''''''--' || ' ')),
		'\s+', ' ', 'g'))
$$;

-- A regular expression matching any of words (themselves regular
-- expressions), as one non-capturing group: '(?:a|b|c)'.
CREATE FUNCTION cadence.auto_reply_any(VARIADIC words text[]) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
	SELECT '(?:' || array_to_string(words, '|') || ')'
$$;

-- What the sender wrote themselves: the body up to the first quoted part
-- (a line starting with ">", "On ... wrote:" and its translations,
-- "-----Original Message-----", Outlook's line of underscores), at most
-- 1000 characters of it.  A human reply that quotes an earlier auto-reply
-- or our own email is judged on its own words (and one that answers below
-- the quote has none: it is taken for human).
CREATE FUNCTION cadence.auto_reply_own_text(body text) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
	SELECT left(regexp_replace(left(coalesce(body, ''), 4000),
		'(?:^|\n)[ \t]*(?:>|_{8,}|-{2,} ?(?:original message|urspr.ngliche nachricht|message d.origine|mensaje original|mensagem original)'
		'|(?:on|am|le|el|em|op|il) .{0,200}(?:wrote|schrieb|a .crit|escribi.|escreveu|schreef|ha scritto)).*$',
		'', 'i'), 1000)
$$;

-- The headers of a message as (name, value) rows, both trimmed and lower
-- case.  headers is a JSON object of name -> value, the value a string or,
-- for a repeated header, an array of strings; numbers and booleans are
-- taken as their text.  Anything else (headers not an object, JSON null,
-- nested objects) gives no rows.
CREATE FUNCTION cadence.auto_reply_headers(headers jsonb, OUT name text, OUT value text)
RETURNS SETOF record
LANGUAGE sql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
	SELECT lower(btrim(h.key, E' \t\r\n')), lower(btrim(v.value #>> '{}', E' \t\r\n'))
	  FROM jsonb_each(CASE WHEN jsonb_typeof(headers) = 'object' THEN headers END) AS h
	 CROSS JOIN LATERAL jsonb_array_elements(
			CASE WHEN jsonb_typeof(h.value) = 'array' THEN h.value
				 ELSE jsonb_build_array(h.value) END) AS v(value)
	 WHERE jsonb_typeof(v.value) IN ('string', 'number', 'boolean')
$$;

-- Which header gives an automatic message away: 'auto_submitted',
-- 'auto_reply_header' or NULL.
--
-- Auto-Submitted (RFC 3834) counts with any value but "no" (auto-replied,
-- auto-generated, auto-notified, with or without parameters after ";").
-- The de-facto headers count with any value except an explicit no:
-- X-Autoreply, X-Autorespond, X-Autoreply-From, X-Mail-Autoreply.  An
-- empty header says nothing.
--
-- Precedence counts only as auto_reply.  Precedence: bulk and list are
-- what mailing lists and Google Groups put on mail that people wrote by
-- hand, so a prospect answering from a group address would be taken for a
-- machine; junk is rare and non-standard, and the responders that send it
-- also say so in Auto-Submitted, a subject or the text.
--
-- X-Auto-Response-Suppress is deliberately not read: Outlook and Exchange
-- set it on ordinary mail to ask others not to auto-reply to it.
CREATE FUNCTION cadence.auto_reply_header_signal(headers jsonb) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
	SELECT CASE
		WHEN bool_or(name = 'auto-submitted'
					 AND btrim(split_part(value, ';', 1)) NOT IN ('no', ''))
			THEN 'auto_submitted'
		WHEN bool_or(name IN ('x-autoreply', 'x-autorespond', 'x-autoreply-from',
							  'x-mail-autoreply')
					 AND value NOT IN ('no', 'false', '0', '')
					 OR name = 'precedence' AND value IN ('auto_reply', 'auto-reply'))
			THEN 'auto_reply_header'
		END
	  FROM cadence.auto_reply_headers(headers)
$$;

-- What makes a subject that of an auto-reply.  Two kinds of marker:
--
--   machine words ("Automatic reply", "Autoreply", "Abwesenheitsnotiz",
--   "Réponse automatique", ...) count at the start of the subject, in
--   brackets, before a colon or at the very end;
--   away words ("Out of Office", "On vacation", "Ausente", "Afwezig", ...)
--   count only at the start or in brackets.
--
-- A human reply's subject starts with "Re:" and then our own subject, so
-- "Re: Out of office coverage for your team" is not an auto-reply, while
-- "Out of Office: Re: ..." and "Re: Pricing [Auto-Reply]" are.
--
-- This builds the regular expression for a folded subject; the callers
-- are PL/pgSQL, whose cached plans keep it as a constant.
CREATE FUNCTION cadence.auto_reply_subject_regex() RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
	WITH markers AS (
		SELECT cadence.auto_reply_any(
				'auto(?:matic|mated)?[- ]?(?:reply|replied|response|responder)',
				'autoresponder',
				'abwesenheitsnotiz', 'automatische antwort',          -- de
				'reponse automatique',                                -- fr
				'respuesta automatica',                               -- es
				'resposta automatica',                                -- pt
				'automatisch antwoord',                               -- nl
				'risposta automatica',                                -- it
				'automatiskt svar', 'automatisk svar', 'autosvar')    -- sv, da, no
			AS machine,
			   cadence.auto_reply_any(
				'out of (?:the )?office', 'ooo',
				'away from (?:the |my )?(?:office|desk)', 'away (?:until|till|through)',
				'on (?:[a-z]+ )?(?:vacation|holidays?|leave)',
				'vacation (?:reply|response|notice|message)',
				'abwesend', 'abwesenheit', 'nicht im bu(?:e)?ro', 'im urlaub',  -- de
				'absence du bureau', 'absente? du bureau', 'en conges?',      -- fr
				'fuera de (?:la )?oficina', 'de vacaciones', 'ausente',         -- es, pt
				'fora do escritorio', 'de ferias', 'em ferias',                 -- pt
				'afwezig', 'afwezigheid', 'met vakantie', 'op vakantie',        -- nl
				'fuori sede', 'fuori (?:dall.)?ufficio', 'assente', 'in ferie') -- it
			AS away
	)
	SELECT cadence.auto_reply_any(
			'^[\s\[(]*' || cadence.auto_reply_any(machine, away) || '\M',
			'[\[(]\s*' || cadence.auto_reply_any(machine, away) || '\M[^\])]*[\])]',
			'\m' || machine || '\s*(?::|$)')
	  FROM markers
$$;

-- What makes a body say that its sender is away, read in the sender's own
-- words (auto_reply_own_text), folded.  Either
--
--   a statement of absence, in the present tense and the first person:
--   "I am out of the office", "I'm currently on parental leave",
--   "I'm away until ...", "Ich bin bis 6.12. nicht im Büro", "Je suis
--   absente", "Estoy de vacaciones", "Ik ben afwezig", "Sono in ferie";
--   or limited access to email ("with limited access to email");
--   or "this is an automatic reply";
--
--   or a promise to be back ("I will be back on", "I will return on",
--   "Je serai de retour le", "wieder im Büro", ...) together with
--   something only auto-replies say as well: thanks for your message,
--   urgent matters, "in my absence", "upon my return".  A return alone is
--   what people write by hand too ("I'll be back on Monday and will call
--   you").
--
-- Past and planned absences are not statements of absence: "I was out of
-- office last week", "I'll be on vacation next week, can we talk after?",
-- "I'm on vacation next week" and "Ich bin nächste Woche im Urlaub" are
-- human replies.
--
-- This builds the three regular expressions for folded text: absence,
-- back (a promise to be back) and cue (what goes with it).
CREATE FUNCTION cadence.auto_reply_text_regexes(OUT absence text, OUT back text, OUT cue text)
LANGUAGE sql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
	WITH later AS (
		-- Words for a time to come, which make an absence a plan.
		SELECT cadence.auto_reply_any(
				'next', 'tomorrow', 'later', 'nachsten?', 'kommenden?', 'morgen',
				'ubermorgen', 'prochaine?', 'demain', 'proxim[ao]', 'manana',
				'amanha', 'volgende', 'prossim[ao]', 'domani') AS word
	), statement AS (
		SELECT
			-- Up to five words between the subject and the state, in the
			-- languages that put a time there ("ich bin bis zum 6.12.
			-- nicht im buro"), none of them a word for a time to come.
			$re$(?: (?!$re$ || word || $re$\M)[a-z0-9.']+){0,5} $re$ AS gap,
			-- Nor may one follow the state: "i'm on vacation next week".
			'(?! (?:all |for |the whole |during )?' ||
				cadence.auto_reply_any(word, 'this coming', 'la semaine prochaine',
					'la semana que viene', '(?:la|na|a) proxima semana',
					'semana que vem', 'la prossima settimana') || ')' AS now
		  FROM later
	), rules AS (
		SELECT
			cadence.auto_reply_any(
				$re$\m(?:i am|i'm|im)(?: (?:currently|presently|now|still|temporarily|unfortunately))? $re$ ||
				cadence.auto_reply_any(
					'out of (?:the )?office', 'ooo',
					'away from (?:the |my )?(?:office|desk|work|e ?-?mail)',
					'(?:on|out on) (?:a )?(?:[a-z]+ )?(?:leave|vacation|holidays?|sabbatical|pto|business trip)',
					'away (?:until|till|through|from|and|with|on)',
					'out (?:until|till|through)', 'not in the office', 'absent',
					'off (?:work|until|till)') || now,
				'\m(?:ich bin|ich befinde mich)' || gap ||
				cadence.auto_reply_any(
					'nicht im (?:bu(?:e)?ro|hause?|office)', 'ausser haus', 'abwesend',
					'im urlaub', 'in (?:elternzeit|mutterschutz|urlaub)',
					'auf (?:geschafts|dienst)reise') || now,
				'\mje (?:suis|serai)' || gap ||
				cadence.auto_reply_any(
					'absente?', 'en conges?', 'en vacances', 'en deplacement',
					'(?:en )?(?:dehors|hors) du bureau') || now,
				'\m(?:estoy|estare|me encuentro)' || gap ||
				cadence.auto_reply_any(
					'fuera de (?:la )?oficina', 'de vacaciones', 'ausente', 'de baja',
					'de permiso', 'de viaje') || now,
				'\m(?:estou|estarei|encontro-me|me encontro)' || gap ||
				cadence.auto_reply_any(
					'fora do escritorio', '(?:de|em) ferias', 'ausente', '(?:de|em) licenca') || now,
				'\mik ben' || gap ||
				cadence.auto_reply_any(
					'afwezig', 'niet (?:op kantoor|aanwezig)', '(?:met|op) vakantie',
					'met [a-z]*verlof', 'buiten kantoor') || now,
				'\m(?:sono|saro)' || gap ||
				cadence.auto_reply_any(
					$re$fuori (?:sede|ufficio|dall'ufficio)$re$, 'in ferie', 'assente',
					'in vacanza', 'in congedo', 'in maternita') || now,
				-- limited access to email, in each language
				'\m(?:limited|no|restricted|intermittent|sporadic) access to (?:my )?(?:e ?-?mails?|inbox|messages)',
				'\meingeschrankte?[a-z]* (?:zugriff|erreichbar)',
				'\macces (?:limite|restreint)',
				'\macceso limitado', '\macesso limitado', '\mbeperkt (?:toegang|bereikbaar)',
				'\maccesso limitato',
				-- the message says what it is
				'\m(?:this is an?|ceci est une?|dies ist eine|esta es una|esta e uma|dit is een|questa e una) '
				'(?:automatic|automated|auto[- ]?generated|automatische?|automatique|automatica|automatisch)'
			) AS absence,
			cadence.auto_reply_any(
				$re$\m(?:i will|i'll|ill|i shall) (?:be back|return|be returning|be in the office|be out of (?:the )?office)$re$,
				$re$\m(?:i am|i'm|im) (?:back|returning) (?:on|in|to|from)$re$,
				'\mback in the office (?:on|from)',
				'\mwieder (?:im bu(?:e)?ro|erreichbar|zuruck|zurueck|da)', '\mzuruck am',
				'\mde retour\M', '\mje reviendrai', '\mretour prevu',
				'\m(?:volvere|regresare|estare de vuelta|me reincorporare)\M',
				'\m(?:retornarei|voltarei|estarei de volta)\M',
				'\m(?:ben ik (?:weer|terug)|weer (?:aanwezig|op kantoor|bereikbaar)|terug op)\M',
				'\m(?:rientrero|saro di ritorno|tornero in ufficio|di nuovo in ufficio)\M'
			) AS back,
			cadence.auto_reply_any(
				'\murgen(?:t|te|ce|ti|cia)', '\mdringend',
				'\m(?:in|during) my absence', '\min meiner abwesenheit', '\men mon absence',
				'\m(?:en|durante) mi ausencia', '\m(?:na|durante a) minha ausencia',
				'\m(?:tijdens|in) mijn afwezigheid', '\m(?:durante la|in) mia assenza',
				'\mthank(?:s| you) for your (?:e ?-?mail|message|note|mail)',
				'\mvielen dank fur ihre', '\mmerci (?:pour|de) votre', '\mgracias por su',
				'\mobrigad[oa] pel[ao]', '\mbedankt voor (?:uw|je)', '\mgrazie per',
				'\m(?:upon|on|after) my return', '\mwhen i (?:return|get back|am back)',
				'\mnach meiner (?:ruckkehr|rueckkehr)', '\ma mon retour',
				'\ma mi (?:regreso|vuelta)', '\m(?:no|apos o) meu retorno',
				'\mna mijn terugkeer', '\mal mio (?:rientro|ritorno)'
			) AS cue
		  FROM statement
	)
	SELECT absence, back, cue
	  FROM rules
$$;

-- The headers decide first, then the subject, then the text: what the
-- sending software says of itself beats what a person might have typed.
CREATE FUNCTION cadence.auto_reply_signal(headers jsonb, subject text, body text)
RETURNS text
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	text_rules record := cadence.auto_reply_text_regexes();
	own_text text := cadence.auto_reply_fold(cadence.auto_reply_own_text(body));
BEGIN
	RETURN coalesce(
		cadence.auto_reply_header_signal(headers),
		CASE WHEN cadence.auto_reply_fold(subject) ~ cadence.auto_reply_subject_regex()
				THEN 'subject'
			 WHEN own_text ~ text_rules.absence
				  OR (own_text ~ text_rules.back AND own_text ~ text_rules.cue)
				THEN 'text'
			 END);
END
$$;
COMMENT ON FUNCTION cadence.auto_reply_signal(jsonb, text, text) IS
	'NULL when an inbound email is a real reply, else what shows it is an automatic one (out of office): auto_submitted (RFC 3834 header), auto_reply_header (X-Autoreply, X-Autorespond, X-Autoreply-From, X-Mail-Autoreply, Precedence: auto_reply), subject ("Automatic reply:", "Out of Office", "Abwesenheitsnotiz", ...) or text ("I am out of the office", "Je suis absent", ...). headers: a JSON object of name -> value or array of values, names in any case. Never raises';

-- The month and weekday names, and the words for today and tomorrow, that
-- auto_reply_return_date reads, folded: English, German, French, Spanish,
-- Portuguese, Dutch, Italian.  n is the month (1-12), the ISO weekday
-- (1 = Monday) or days from today.  Abbreviations that are also common
-- words are left out ("ago" for agosto, "gen" for gennaio).
CREATE FUNCTION cadence.auto_reply_calendar_words(OUT word text, OUT kind text, OUT n integer)
RETURNS SETOF record
LANGUAGE sql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
	SELECT DISTINCT w, 'month', m
	  FROM (VALUES
		(1, '{january,jan,januar,janner,janvier,janv,enero,ene,janeiro,januari,gennaio}'),
		(2, '{february,feb,februar,fevrier,fevr,fev,febrero,fevereiro,februari,febbraio}'),
		(3, '{march,mar,marz,maerz,mars,marzo,marco,maart}'),
		(4, '{april,apr,avril,avr,abril,aprile}'),
		(5, '{may,mai,mayo,maio,mei,maggio}'),
		(6, '{june,jun,juni,juin,junio,junho,giugno}'),
		(7, '{july,jul,juli,juillet,juil,julio,julho,luglio}'),
		(8, '{august,aug,aout,agosto,augustus}'),
		(9, '{september,sept,sep,septembre,septiembre,setiembre,setembro,settembre}'),
		(10, '{october,oct,oktober,okt,octobre,octubre,outubro,ottobre}'),
		(11, '{november,nov,novembre,noviembre,novembro}'),
		(12, '{december,dec,dezember,dez,decembre,diciembre,dic,dezembro,dicembre}')
		) AS months(m, words), unnest(words::text[]) AS w
	UNION ALL
	SELECT DISTINCT w, 'weekday', d
	  FROM (VALUES
		(1, '{monday,mon,montag,lundi,lunes,segunda,maandag,lunedi}'),
		(2, '{tuesday,tue,tues,dienstag,mardi,martes,terca,dinsdag,martedi}'),
		(3, '{wednesday,wed,mittwoch,mercredi,miercoles,quarta,woensdag,mercoledi}'),
		(4, '{thursday,thu,thur,thurs,donnerstag,jeudi,jueves,quinta,donderdag,giovedi}'),
		(5, '{friday,fri,freitag,vendredi,viernes,sexta,vrijdag,venerdi}'),
		(6, '{saturday,sat,samstag,sonnabend,samedi,sabado,zaterdag,sabato}'),
		(7, '{sunday,sun,sonntag,dimanche,domingo,zondag,domenica}')
		) AS weekdays(d, words), unnest(words::text[]) AS w
	UNION ALL
	SELECT w, 'relative', d
	  FROM (VALUES
		(0, '{today,heute,hoy,hoje,vandaag,oggi}'),
		(1, '{tomorrow,morgen,demain,manana,amanha,domani}')
		) AS relative(d, words), unnest(words::text[]) AS w
$$;

-- A regular expression, without capturing groups, for the shape of one
-- date as people write it, folded: 2026-12-07, 12/07/2026, 12/7,
-- 07.12.2026, 7.12., December 7th, 2026, Dec. 7, 7 December, 7th of
-- December, 7. Dezember, 7 de diciembre de 2026, 1er décembre, the 7th,
-- each optionally after a weekday ("Monday, December 7"); a weekday alone
-- ("Mon", "next Monday", "el próximo lunes"); today, tomorrow.
--
-- NAME stands for any word: auto_reply_read_date looks it up in
-- auto_reply_calendar_words and reads no date when it is no month, weekday
-- or day word ("back on track").  Spelling out the 160 names here would
-- make the scan three times slower for nothing.  A lone word is not read
-- before "retour", so that French "jusqu'à mon retour" (until my return)
-- is not "until Monday".
CREATE FUNCTION cadence.auto_reply_date_regex() RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
	SELECT replace(
		'(?:(?:NAME\.?,? (?:the |den |le |el |il |de |op )?)?'
		'(?:[0-9]{4}[-/.][0-9]{1,2}[-/.][0-9]{1,2}'
		'|[0-9]{1,2}[/.][0-9]{1,2}(?:[/.](?:[0-9]{4}|[0-9]{2}))?\.?'
		'|(?:the )?[0-9]{1,2}(?:st|nd|rd|th|er|\.)?(?: of| de| di)? NAME\.?(?:,? (?:de )?[0-9]{4})?'
		'|NAME\.? (?:the )?[0-9]{1,2}(?:st|nd|rd|th)?(?:,? [0-9]{4})?'
		'|the [0-9]{1,2}(?:st|nd|rd|th))(?![0-9])'
		'|(?:next |nachsten |naechsten |kommenden |proximo |proxima |prochain |volgende |prossimo )?NAME\.?(?! retour))',
		'NAME', '[a-z]+\M')
$$;

-- The regular expression auto_reply_return_date scans a folded body with.
-- Each match is a phrase and the date after it, in one of three shapes,
-- whose capturing groups are:
--
--   1 English or 2 other return phrase, 3 the date: the sender is back on
--     that date ("back on", "returning", "in the office from", "de retour
--     le", "wieder erreichbar ab dem", "volveré el", "terug op", ...);
--   4 English or 5 other "until" phrase, 6 the date: the sender is away
--     through that date ("until", "till", "through", "from X to", "bis
--     zum", "jusqu'au", "du 1er au", "hasta el", "até", "tot en met",
--     "fino al", ...);
--   7 the date in German and Dutch word order, before the return: "ab dem
--     7.12. wieder im Büro", "vanaf maandag ben ik weer ...".
CREATE FUNCTION cadence.auto_reply_return_regex() RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
	WITH d AS (SELECT cadence.auto_reply_date_regex() AS d)
	SELECT '\m(?:(?:(' ||
		-- 1: English return
		cadence.auto_reply_any(
			'back(?: (?:in|at|to|into) (?:the office|office|work|my desk))?(?: (?:on|from|by|as of|starting|beginning))?',
			'return(?:s|ing)?(?: (?:to|in|into) (?:the office|office|work|my desk))?(?: (?:on|from|by|as of|starting))?',
			'(?:in|into|at) (?:the )?office (?:again )?(?:on|from|as of|starting)',
			'available (?:again )?(?:on|from|as of|starting)') ||
		'(?: the)?)|(' ||
		-- 2: other return
		cadence.auto_reply_any(
			'(?:zuruck|zurueck|wieder (?:im (?:bu(?:e)?ro|office|haus)|erreichbar|verfu(?:e)?gbar|da|anwesend))(?: (?:am|ab|ab dem|zum))?',
			'(?:de retour|retour(?: prevu)?|je reviendrai|je rentre|je serai au bureau)(?: au bureau)?(?: (?:le|des le|a partir du|a partir de|a compter du))?',
			'(?:volvere|regresare|regreso|vuelvo|de vuelta|de regreso|me reincorporare|me incorporare)(?: (?:a la oficina|al trabajo))?(?: (?:el|el dia|a partir del|a partir del dia|desde el))?',
			'(?:retorno|retornarei|voltarei|volto|de volta|regresso|regressarei)(?: (?:ao escritorio|ao trabalho))?(?: (?:em|no dia|dia|a partir de|a partir do dia|a partir do|a partir da|na|no))?',
			'(?:terug(?: op kantoor)?|weer (?:aanwezig|op kantoor|bereikbaar|beschikbaar))(?: (?:op|vanaf|per))?',
			'(?:rientrero|rientro|di ritorno|tornero|di nuovo in ufficio|nuovamente in ufficio)(?: in ufficio)?(?: (?:il|dal|a partire dal|da))?') ||
		')) (' || d || ')|(?:(' ||
		-- 4: English until
		cadence.auto_reply_any(
			'(?:until|till|til|through|thru|up until|up to and including|until and including)(?: the)?',
			'from ' || d || ' (?:to|until|till|through|thru|-)(?: the)?') ||
		')|(' ||
		-- 5: other until
		cadence.auto_reply_any(
			'bis(?: (?:einschliesslich|einschl\.|inklusive|inkl\.|zum|am))*',
			$re$jusqu' ?(?:au|a)$re$,
			'(?:du|del|dal|de) [0-9]{1,2}(?:er)?(?: (?:de )?[a-z]+\.?)? (?:au|al|a)',
			'hasta(?: el)?(?: dia)?',
			'ate(?: (?:o|a|ao))?(?: dia)?',
			'tot(?: en met)?(?: op)?',
			'fino (?:al|a)(?: giorno)?') ||
		')) (' || d || ')|' ||
		-- 7: German and Dutch, the date before the return
		'(?:ab|am|vanaf|per) (?:dem |den )?(' || d || '),? ' ||
		'(?:(?:bin|ben|werde|zal) (?:ich|ik) )?(?:wieder|weer|zuruck|zurueck|terug))'
	  FROM d
$$;

-- The date y-m-d, or NULL when there is no such date (February 30, month
-- 13, a year outside 1-9999).
CREATE FUNCTION cadence.auto_reply_make_date(y integer, m integer, d integer) RETURNS date
LANGUAGE sql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
	SELECT CASE
		WHEN NOT (y BETWEEN 1 AND 9999 AND m BETWEEN 1 AND 12 AND d BETWEEN 1 AND 31) THEN NULL
		WHEN d <= extract(day FROM make_date(y, m, 1) + interval '1 month - 1 day')
			THEN make_date(y, m, d)
		END
$$;

-- The date month m, day d, year y, or without a year (y NULL) its next
-- occurrence as seen from ref.  A year-less date that fell within the 30
-- days before ref is read as that recent date, not as next year's: an
-- auto-reply its sender forgot to turn off ("back on November 30"
-- arriving on December 2) is about the past, not about the year to come.
-- NULL when there is no such date.
CREATE FUNCTION cadence.auto_reply_resolve_date(y integer, m integer, d integer, ref date)
RETURNS date
LANGUAGE sql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
	SELECT CASE WHEN y IS NOT NULL THEN cadence.auto_reply_make_date(y, m, d)
		   ELSE (SELECT min(c)
				   FROM generate_series(-1, 1) AS k,
						cadence.auto_reply_make_date(extract(year FROM ref)::integer + k, m, d) AS c
				  WHERE c >= ref - 30) END
$$;

-- The date named by expr, one match of auto_reply_date_regex, as seen on
-- day ref: a year-less date by auto_reply_resolve_date; "the 7th" the next
-- 7th on or after ref; a weekday the next one after ref; tomorrow ref + 1.
-- A slash date is day/month when day_first, else month/day, unless one
-- part is above 12 (then that part is the day); a dotted date is always
-- day.month.  NULL when the date does not exist.
CREATE FUNCTION cadence.auto_reply_read_date(expr text, ref date, day_first boolean)
RETURNS date
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	p text[];
	y integer;
	m integer;
	d integer;
	result date;
BEGIN
	-- ISO: year, month, day.
	p := regexp_match(expr, '([0-9]{4})[-/.]([0-9]{1,2})[-/.]([0-9]{1,2})');
	IF p IS NOT NULL THEN
		RETURN cadence.auto_reply_make_date(p[1]::integer, p[2]::integer, p[3]::integer);
	END IF;

	-- Numeric: day.month or month/day, then a year of two or four digits.
	p := regexp_match(expr, '([0-9]{1,2})([/.])([0-9]{1,2})(?:[/.]([0-9]{2,4}))?');
	IF p IS NOT NULL THEN
		y := CASE length(p[4]) WHEN 4 THEN p[4]::integer WHEN 2 THEN 2000 + p[4]::integer END;
		IF p[2] = '.' OR p[1]::integer > 12 OR (day_first AND p[3]::integer <= 12) THEN
			RETURN cadence.auto_reply_resolve_date(y, p[3]::integer, p[1]::integer, ref);
		END IF;
		RETURN cadence.auto_reply_resolve_date(y, p[1]::integer, p[3]::integer, ref);
	END IF;

	-- A month name, after the day ("7 December") or before it ("Dec 7"),
	-- and a year of four digits at the end.
	y := substring(expr FROM '([0-9]{4})\.?$')::integer;
	SELECT c.n, x[1]::integer INTO m, d
	  FROM regexp_matches(expr, '([0-9]{1,2})(?:st|nd|rd|th|er|\.)?(?: of| de| di)? ([a-z]+)', 'g') AS x
	  JOIN cadence.auto_reply_calendar_words() AS c ON c.kind = 'month' AND c.word = x[2]
	 LIMIT 1;
	IF m IS NULL THEN
		SELECT c.n, x[2]::integer INTO m, d
		  FROM regexp_matches(expr, '([a-z]+)\.? (?:the )?([0-9]{1,2})', 'g') AS x
		  JOIN cadence.auto_reply_calendar_words() AS c ON c.kind = 'month' AND c.word = x[1]
		 LIMIT 1;
	END IF;
	IF m IS NOT NULL THEN
		RETURN cadence.auto_reply_resolve_date(y, m, d, ref);
	END IF;

	-- "the 7th": this month's 7th, or the next month's when that is past.
	d := substring(expr FROM '([0-9]{1,2})(?:st|nd|rd|th)')::integer;
	IF d IS NOT NULL THEN
		RETURN (SELECT min(c)
				  FROM generate_series(0, 2) AS k,
					   LATERAL (SELECT (date_trunc('month', ref::timestamp) + k * interval '1 month')::date AS first) AS f,
					   cadence.auto_reply_make_date(extract(year FROM f.first)::integer,
													extract(month FROM f.first)::integer, d) AS c
				 WHERE c >= ref);
	END IF;

	-- today, tomorrow; a weekday, the next one after ref.
	SELECT CASE c.kind WHEN 'relative' THEN ref + c.n
			   ELSE ref + (c.n - extract(isodow FROM ref)::integer + 6) % 7 + 1 END
	  INTO result
	  FROM regexp_matches(expr, '[a-z]+', 'g') AS x
	  JOIN cadence.auto_reply_calendar_words() AS c ON c.kind IN ('relative', 'weekday') AND c.word = x[1]
	 LIMIT 1;
	RETURN result;
END
$$;

-- The local date at which received_at falls in time zone tz (UTC when
-- NULL), or NULL when tz is not a time zone or the date is outside years
-- 2-9998.  Catching the error needs a subtransaction, which parallel
-- workers cannot start: hence PARALLEL UNSAFE, here and in its caller.
-- (Looking tz up in pg_timezone_names instead costs some 40 ms a call.)
CREATE FUNCTION cadence.auto_reply_local_date(received_at timestamptz, tz text) RETURNS date
LANGUAGE plpgsql IMMUTABLE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	local date;
BEGIN
	BEGIN
		local := (received_at AT TIME ZONE coalesce(tz, 'UTC'))::date;
	EXCEPTION WHEN data_exception THEN
		RETURN NULL;
	END;
	RETURN CASE WHEN local BETWEEN date '0002-01-01' AND date '9998-12-31' THEN local END;
END
$$;

CREATE FUNCTION cadence.auto_reply_return_date(body text, received_at timestamptz,
											   tz text DEFAULT 'UTC')
RETURNS date
LANGUAGE plpgsql IMMUTABLE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	t text := cadence.auto_reply_fold(cadence.auto_reply_own_text(body));
	-- The reference date: the local date the message arrived.
	ref date := cadence.auto_reply_local_date(received_at, tz);
	day_first_seen boolean;
	month_first_seen boolean;
	day_first boolean;
	m text[];
	back date;
BEGIN
	IF ref IS NULL OR t = '' THEN
		RETURN NULL;
	END IF;

	-- Slash dates: a part above 12 anywhere in the text says which order
	-- the sender writes (28/11 is day/month, 11/28 month/day).  Without
	-- such a clue they are month/day after an English phrase (US usage)
	-- and day/month after any other.
	SELECT bool_or(x[1]::integer > 12 AND x[2]::integer <= 12),
		   bool_or(x[2]::integer > 12 AND x[1]::integer <= 12)
	  INTO day_first_seen, month_first_seen
	  FROM regexp_matches(t, '(?:^|[^0-9/])([0-9]{1,2})/([0-9]{1,2})(?![0-9])', 'g') AS x;

	-- The phrases in text order; the first that names a date within the
	-- coming 366 days wins.  "Until X" means back on the day after X.
	FOR m IN SELECT x FROM regexp_matches(t, cadence.auto_reply_return_regex(), 'g') AS x LOOP
		day_first := CASE WHEN day_first_seen AND NOT month_first_seen THEN true
						  WHEN month_first_seen AND NOT day_first_seen THEN false
						  ELSE m[1] IS NULL AND m[4] IS NULL END;
		back := CASE WHEN m[3] IS NOT NULL THEN cadence.auto_reply_read_date(m[3], ref, day_first)
					 WHEN m[6] IS NOT NULL THEN cadence.auto_reply_read_date(m[6], ref, day_first) + 1
					 ELSE cadence.auto_reply_read_date(m[7], ref, day_first) END;
		IF back BETWEEN ref AND ref + 366 THEN
			RETURN back;
		END IF;
	END LOOP;
	RETURN NULL;
END
$$;
COMMENT ON FUNCTION cadence.auto_reply_return_date(text, timestamptz, text) IS
	'The first day the sender of an auto-reply says they are back ("back on Monday", "returning December 7th", "until 12/6/2026" = the day after, "bis 6.12.", "jusqu''au 6 décembre"), read relative to the local date in tz on which it was received_at; NULL when no such date can be read, it does not exist, is in the past or more than 366 days ahead, or tz is not a time zone. Slash dates are month/day unless a part above 12 or a non-English phrase says otherwise. Never raises';
-- The providers' webhook payloads, read into one shape, cadence.signal:
-- what happened (kind), to which message or lead, when, and the key the
-- provider gives the event (to recognise a redelivery).  One function per
-- format; each raises 22023 naming the member it needed for a payload it
-- cannot read, so a malformed delivery changes nothing.
--
-- kinds: delivered, opened, clicked, bounced (hard), delivery_failed (soft,
-- or a failure that is not the address's), complained, unsubscribed,
-- replied, opted_out, opted_in, help, meeting_booked, lead_assigned,
-- stage_changed, ignored (an event that changes nothing here: processed,
-- queued, sent, ...).

CREATE TYPE cadence.signal AS (
	source		text,			-- twilio, sendgrid, resend, postmark, sendgrid_inbound,
								-- calendly, whatsapp, app
	event_key	text,			-- the provider's id of this event
	kind		text,
	channel		text,			-- sms, email, whatsapp (when known)
	message_id	text,			-- the provider's id of the message concerned
	action_id	bigint,			-- our scheduled action, when the event names it
	thread_ids	text[],			-- message ids an inbound email replies to
	address		text,			-- the lead's address: e-mail (lower case) or phone
	account		text,			-- which provider account: Twilio AccountSid,
								-- WhatsApp phone_number_id, an inbound address
	lead_id		text,			-- app events name the lead
	tenant_id	text,			-- app events: the caller's tenant
	occurred_at	timestamptz,
	subject		text,			-- inbound messages
	body		text,
	headers		jsonb,			-- inbound e-mail headers, names in lower case
	detail		jsonb			-- what else is worth keeping in the event
);
COMMENT ON TYPE cadence.signal IS
	'One thing a provider or the application reports, read from its webhook payload by a cadence.signals_* function';

-- A member the format requires, as text; 22023 naming it when absent.
CREATE FUNCTION cadence.webhook_field(payload jsonb, key text, what text) RETURNS text
LANGUAGE plpgsql IMMUTABLE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	IF jsonb_typeof(payload) IS DISTINCT FROM 'object' THEN
		RAISE EXCEPTION '% must be a JSON object, got %', what,
			coalesce(cadence.json_describe(payload), 'nothing')
			USING ERRCODE = '22023';
	END IF;
	IF coalesce(payload ->> key, '') = '' THEN
		RAISE EXCEPTION '% has no %', what, key USING ERRCODE = '22023';
	END IF;
	RETURN payload ->> key;
END
$$;

-- An application/x-www-form-urlencoded body as a JSON object of strings.
CREATE FUNCTION cadence.form_decode(body text) RETURNS jsonb
LANGUAGE sql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
	SELECT coalesce(jsonb_object_agg(cadence.url_decode(split_part(f, '=', 1)),
									 cadence.url_decode(substr(f, strpos(f || '=', '=') + 1))),
					'{}')
	  FROM regexp_split_to_table(body, '&') AS f
	 WHERE f <> ''
$$;

-- %XX escapes and + of a URL-encoded string, decoded (UTF-8).
CREATE FUNCTION cadence.url_decode(s text) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
	SELECT convert_from(decode(coalesce(string_agg(
		CASE WHEN m[1] IS NOT NULL THEN m[1] ELSE encode(convert_to(m[2], 'UTF8'), 'hex') END,
		'' ORDER BY ord), ''), 'hex'), 'UTF8')
	  FROM regexp_matches(replace(s, '+', ' '), '%([0-9A-Fa-f]{2})|([^%]+|%)', 'g')
		   WITH ORDINALITY AS x(m, ord)
$$;

-- Header names in lower case, each value a string (the first of an array).
CREATE FUNCTION cadence.header_map(headers jsonb) RETURNS jsonb
LANGUAGE sql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
	SELECT coalesce(jsonb_object_agg(lower(key),
			   CASE jsonb_typeof(value) WHEN 'array' THEN value -> 0 ELSE value END), '{}')
	  FROM jsonb_each(CASE WHEN jsonb_typeof(headers) = 'object' THEN headers ELSE '{}' END)
$$;

-- A raw header block ("Name: value" lines, folded lines joined) as a
-- header_map; the first of repeated headers wins.
CREATE FUNCTION cadence.parse_header_block(block text) RETURNS jsonb
LANGUAGE sql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
	SELECT coalesce(jsonb_object_agg(name, value), '{}')
	  FROM (SELECT DISTINCT ON (lower(m[1])) lower(m[1]) AS name, btrim(m[2]) AS value
			  FROM regexp_split_to_table(regexp_replace(coalesce(block, ''), '\r?\n[ \t]+', ' ', 'g'),
										 '\r?\n') WITH ORDINALITY AS l(line, ord),
				   regexp_match(line, '^([!-9;-~]+):(.*)$') AS m
			 WHERE m IS NOT NULL
			 ORDER BY lower(m[1]), ord) h
$$;

-- The message ids an e-mail names as the one it answers: In-Reply-To, then
-- References, each <...> once.
CREATE FUNCTION cadence.thread_ids(headers jsonb) RETURNS text[]
LANGUAGE sql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
	SELECT coalesce(array_agg(id ORDER BY first), '{}')
	  FROM (SELECT m[1] AS id, min(ord) AS first
			  FROM regexp_matches(coalesce(headers ->> 'in-reply-to', '') || ' ' ||
								  coalesce(headers ->> 'references', ''), '<([^<>[:space:]]+)>', 'g')
				   WITH ORDINALITY AS x(m, ord)
			 GROUP BY m[1]) t
$$;

-- The address part of "Name <address>" (or of a bare address), lower case.
CREATE FUNCTION cadence.mailbox_address(mailbox text) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
	SELECT nullif(lower(btrim(coalesce(substring(mailbox FROM '<([^<>]+)>'), mailbox))), '')
$$;

-- The scheduled action an idempotency key (cadence-<installation>-<id>)
-- names, when it is one of this database's.
CREATE FUNCTION cadence.action_of_key(key text) RETURNS bigint
LANGUAGE sql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
	SELECT id FROM (SELECT substring(key FROM '^cadence-[0-9a-f]{16}-([0-9]{1,18})$')::bigint AS id) k
	 WHERE cadence.idempotency_key(id) = key
$$;

-- A date and time as providers write them (ISO 8601, RFC 2822), or NULL
-- when it cannot be read.
CREATE FUNCTION cadence.try_timestamptz(v text) RETURNS timestamptz
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	RETURN v::timestamptz;
EXCEPTION WHEN invalid_datetime_format OR datetime_field_overflow OR invalid_text_representation THEN
	RETURN NULL;
END
$$;

-- Unix seconds (a number or a numeric string) as a timestamp.
CREATE FUNCTION cadence.unix_time(v jsonb) RETURNS timestamptz
LANGUAGE sql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
	SELECT CASE WHEN (v #>> '{}') ~ '^[0-9]{1,12}(\.[0-9]+)?$' THEN to_timestamp((v #>> '{}')::numeric) END
$$;

-- What an incoming SMS or WhatsApp message is: exactly an opt-out keyword
-- (STOP, STOPALL, UNSUBSCRIBE, CANCEL, END, QUIT, REVOKE, OPTOUT, in any
-- case, punctuation aside) opts out; START or UNSTOP opts back in; YES
-- opts in a number that opted out and is a reply from any other
-- (opted_in_or_replied, settled once the number is known); HELP or INFO
-- asks for help; Twilio's OptOutType (Advanced Opt-Out) says so itself.
-- Anything else is a reply.
CREATE FUNCTION cadence.message_kind(body text, opt_out_type text) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
	SELECT CASE
		WHEN upper(opt_out_type) = 'STOP'
			 OR w IN ('STOP', 'STOPALL', 'UNSUBSCRIBE', 'CANCEL', 'END', 'QUIT', 'REVOKE', 'OPTOUT')
			THEN 'opted_out'
		WHEN upper(opt_out_type) = 'START' OR w IN ('START', 'UNSTOP') THEN 'opted_in'
		WHEN w = 'YES' THEN 'opted_in_or_replied'
		WHEN upper(opt_out_type) = 'HELP' OR w IN ('HELP', 'INFO') THEN 'help'
		ELSE 'replied' END
	  FROM (SELECT upper(regexp_replace(coalesce(body, ''), '[[:space:][:punct:]]+', '', 'g')) AS w) x
$$;

-- Twilio: a message status callback (MessageStatus) or an incoming message
-- (Body, SmsStatus received), which message_kind() tells apart.  WhatsApp
-- through Twilio (whatsapp: addresses) too.
-- A failed or undelivered message is a bounce when its ErrorCode says the
-- number cannot get messages (21211, 21214, 21610, 21612, 21614, 30005,
-- 30006), else a delivery failure.
CREATE FUNCTION cadence.signals_twilio(payload jsonb) RETURNS SETOF cadence.signal
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	v_sid text := cadence.webhook_field(payload, 'MessageSid', 'a Twilio webhook');
	v_status text := lower(coalesce(payload ->> 'MessageStatus', payload ->> 'SmsStatus', ''));
	v_from text := payload ->> 'From';
	v_channel text := CASE WHEN coalesce(v_from, '') LIKE 'whatsapp:%'
								OR coalesce(payload ->> 'To', '') LIKE 'whatsapp:%'
						   THEN 'whatsapp' ELSE 'sms' END;
	s cadence.signal;
BEGIN
	s.source := 'twilio';
	s.channel := v_channel;
	s.account := cadence.webhook_field(payload, 'AccountSid', 'a Twilio webhook');
	s.occurred_at := now();
	IF payload ? 'Body' AND v_status IN ('received', '') THEN
		s.event_key := v_sid;
		s.address := regexp_replace(cadence.webhook_field(payload, 'From', 'a Twilio incoming message'),
									'^whatsapp:', '');
		s.body := payload ->> 'Body';
		s.detail := jsonb_build_object('to', payload ->> 'To', 'messageSid', v_sid);
		s.kind := cadence.message_kind(s.body, payload ->> 'OptOutType');
		RETURN NEXT s;
		RETURN;
	END IF;
	IF v_status = '' THEN
		RAISE EXCEPTION 'a Twilio webhook has no MessageStatus and no Body' USING ERRCODE = '22023',
			HINT = 'Pass the form fields Twilio posted, as a JSON object or as the raw body.';
	END IF;
	s.event_key := v_sid || ':' || v_status;
	s.message_id := v_sid;
	s.address := regexp_replace(payload ->> 'To', '^whatsapp:', '');
	s.detail := jsonb_strip_nulls(jsonb_build_object('status', v_status,
		'errorCode', payload ->> 'ErrorCode'));
	s.kind := CASE
		WHEN v_status = 'delivered' THEN 'delivered'
		WHEN v_status = 'read' THEN 'opened'
		WHEN v_status IN ('undelivered', 'failed')
			 AND payload ->> 'ErrorCode' IN ('21211', '21214', '21610', '21612', '21614', '30005', '30006')
			THEN 'bounced'
		WHEN v_status IN ('undelivered', 'failed') THEN 'delivery_failed'
		ELSE 'ignored' END;
	RETURN NEXT s;
END
$$;

-- SendGrid's event webhook: an array of events.  Our message is named by
-- the custom argument cadence_idempotency_key, else by sg_message_id,
-- whose first part is the X-Message-Id the send returned.  bounce with
-- type bounce is hard; type blocked, deferred and dropped are failures of
-- the delivery; spamreport is a complaint; unsubscribe and
-- group_unsubscribe opt out.
CREATE FUNCTION cadence.signals_sendgrid(payload jsonb) RETURNS SETOF cadence.signal
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	e jsonb;
	i int := 0;
	v_event text;
	s cadence.signal;
BEGIN
	IF jsonb_typeof(payload) IS DISTINCT FROM 'array' THEN
		RAISE EXCEPTION 'a SendGrid event webhook must be a JSON array of events, got %',
			coalesce(cadence.json_describe(payload), 'nothing')
			USING ERRCODE = '22023';
	END IF;
	FOR e IN SELECT value FROM jsonb_array_elements(payload) LOOP
		v_event := cadence.webhook_field(e, 'event', format('SendGrid event [%s]', i));
		s := NULL;
		s.source := 'sendgrid';
		s.channel := 'email';
		s.event_key := cadence.webhook_field(e, 'sg_event_id', format('SendGrid event [%s]', i));
		s.message_id := nullif(split_part(e ->> 'sg_message_id', '.', 1), '');
		s.action_id := cadence.action_of_key(e ->> 'cadence_idempotency_key');
		s.address := lower(e ->> 'email');
		s.occurred_at := coalesce(cadence.unix_time(e -> 'timestamp'), now());
		s.detail := jsonb_strip_nulls(jsonb_build_object('event', v_event, 'type', e ->> 'type',
			'reason', e ->> 'reason', 'url', e ->> 'url', 'status', e ->> 'status'));
		s.kind := CASE v_event
			WHEN 'delivered' THEN 'delivered'
			WHEN 'open' THEN 'opened'
			WHEN 'click' THEN 'clicked'
			WHEN 'bounce' THEN CASE WHEN e ->> 'type' = 'blocked' THEN 'delivery_failed' ELSE 'bounced' END
			WHEN 'dropped' THEN 'delivery_failed'
			WHEN 'deferred' THEN 'delivery_failed'
			WHEN 'spamreport' THEN 'complained'
			WHEN 'unsubscribe' THEN 'unsubscribed'
			WHEN 'group_unsubscribe' THEN 'unsubscribed'
			ELSE 'ignored' END;
		RETURN NEXT s;
		i := i + 1;
	END LOOP;
END
$$;

-- Resend's webhooks ({type, created_at, data}); the event's id is the
-- svix-id (or webhook-id) header.  email.bounced with bounce.type
-- Permanent is hard, others are failures of the delivery.
CREATE FUNCTION cadence.signals_resend(payload jsonb, headers jsonb) RETURNS SETOF cadence.signal
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	v_type text := cadence.webhook_field(payload, 'type', 'a Resend webhook');
	v_data jsonb := payload -> 'data';
	s cadence.signal;
BEGIN
	s.source := 'resend';
	s.channel := 'email';
	s.message_id := cadence.webhook_field(v_data, 'email_id', 'the data of a Resend webhook');
	s.event_key := coalesce(headers ->> 'svix-id', headers ->> 'webhook-id',
							v_type || ':' || s.message_id || ':' || (payload ->> 'created_at'));
	s.address := cadence.mailbox_address(v_data -> 'to' ->> 0);
	s.occurred_at := coalesce(cadence.try_timestamptz(payload ->> 'created_at'), now());
	s.detail := jsonb_strip_nulls(jsonb_build_object('type', v_type,
		'bounce', v_data -> 'bounce', 'url', v_data -> 'click' ->> 'link'));
	s.kind := CASE v_type
		WHEN 'email.delivered' THEN 'delivered'
		WHEN 'email.opened' THEN 'opened'
		WHEN 'email.clicked' THEN 'clicked'
		WHEN 'email.bounced' THEN CASE WHEN v_data -> 'bounce' ->> 'type' = 'Permanent'
									   THEN 'bounced' ELSE 'delivery_failed' END
		WHEN 'email.delivery_delayed' THEN 'delivery_failed'
		WHEN 'email.failed' THEN 'delivery_failed'
		WHEN 'email.complained' THEN 'complained'
		ELSE 'ignored' END;
	RETURN NEXT s;
END
$$;

-- An inbound e-mail, from its parts: a reply, matched by the message ids
-- it names (In-Reply-To, References), else by its sender.  It happened
-- when it arrived (its Date header is the sender's clock).
CREATE FUNCTION cadence.inbound_email(source text, event_key text, sender text, recipient text,
									  subject text, body text, headers jsonb)
RETURNS cadence.signal
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	s cadence.signal;
BEGIN
	s.source := source;
	s.kind := 'replied';
	s.channel := 'email';
	s.event_key := event_key;
	s.address := cadence.mailbox_address(sender);
	s.account := cadence.mailbox_address(recipient);
	s.thread_ids := cadence.thread_ids(headers);
	s.subject := subject;
	s.body := body;
	s.headers := headers;
	s.occurred_at := now();
	s.detail := jsonb_strip_nulls(jsonb_build_object('from', s.address, 'subject', subject));
	IF s.address IS NULL THEN
		RAISE EXCEPTION 'an inbound % e-mail has no sender', source USING ERRCODE = '22023';
	END IF;
	RETURN s;
END
$$;

-- Postmark's inbound webhook (JSON): Headers is an array of {Name, Value};
-- the reply text without the quoted message is StrippedTextReply.
CREATE FUNCTION cadence.signals_postmark(payload jsonb) RETURNS SETOF cadence.signal
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
	SELECT cadence.inbound_email('postmark',
		cadence.webhook_field(payload, 'MessageID', 'a Postmark inbound webhook'),
		coalesce(payload -> 'FromFull' ->> 'Email', cadence.webhook_field(payload, 'From', 'a Postmark inbound webhook')),
		coalesce(payload ->> 'OriginalRecipient', payload -> 'ToFull' -> 0 ->> 'Email', payload ->> 'To'),
		payload ->> 'Subject',
		coalesce(nullif(payload ->> 'StrippedTextReply', ''), payload ->> 'TextBody'),
		(SELECT coalesce(jsonb_object_agg(lower(h ->> 'Name'), h ->> 'Value'), '{}')
		   FROM jsonb_array_elements(CASE WHEN jsonb_typeof(payload -> 'Headers') = 'array'
										  THEN payload -> 'Headers' ELSE '[]' END) AS h))
$$;

-- SendGrid's Inbound Parse (its form fields as a JSON object): headers is
-- the raw header block.
CREATE FUNCTION cadence.signals_sendgrid_inbound(payload jsonb) RETURNS SETOF cadence.signal
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
	SELECT cadence.inbound_email('sendgrid_inbound',
		coalesce(h ->> 'message-id', md5(payload::text)),
		cadence.webhook_field(payload, 'from', 'a SendGrid Inbound Parse webhook'),
		payload ->> 'to', payload ->> 'subject', payload ->> 'text', h)
	  FROM cadence.parse_header_block(
			   cadence.webhook_field(payload, 'headers', 'a SendGrid Inbound Parse webhook')) AS h
$$;

-- Calendly: invitee.created is a meeting booked by the invitee's e-mail;
-- other events change nothing here.
CREATE FUNCTION cadence.signals_calendly(payload jsonb) RETURNS SETOF cadence.signal
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	v_event text := cadence.webhook_field(payload, 'event', 'a Calendly webhook');
	v_invitee jsonb := payload -> 'payload';
	s cadence.signal;
BEGIN
	s.source := 'calendly';
	s.event_key := v_event || ':' || cadence.webhook_field(v_invitee, 'uri', 'the payload of a Calendly webhook');
	s.address := lower(cadence.webhook_field(v_invitee, 'email', 'the payload of a Calendly webhook'));
	s.occurred_at := coalesce(cadence.try_timestamptz(payload ->> 'created_at'), now());
	s.detail := jsonb_strip_nulls(jsonb_build_object('event', v_event, 'name', v_invitee ->> 'name',
		'meeting', v_invitee -> 'scheduled_event' ->> 'name',
		'startTime', v_invitee -> 'scheduled_event' ->> 'start_time',
		'invitee', v_invitee ->> 'uri'));
	s.kind := CASE v_event WHEN 'invitee.created' THEN 'meeting_booked' ELSE 'ignored' END;
	RETURN NEXT s;
END
$$;

-- WhatsApp Cloud API: entry[].changes[].value holds statuses (sent,
-- delivered, read, failed) of our messages and messages from leads, which
-- message_kind() reads.  A failed message is a failure of the delivery.
CREATE FUNCTION cadence.signals_whatsapp(payload jsonb) RETURNS SETOF cadence.signal
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	v jsonb;
	m jsonb;
	s cadence.signal;
BEGIN
	IF payload ->> 'object' IS DISTINCT FROM 'whatsapp_business_account' THEN
		RAISE EXCEPTION 'a WhatsApp webhook has object "whatsapp_business_account", got %',
			coalesce(cadence.json_describe(payload -> 'object'), 'nothing')
			USING ERRCODE = '22023';
	END IF;
	FOR v IN SELECT c -> 'value'
			   FROM jsonb_array_elements(coalesce(payload -> 'entry', '[]')) AS e,
					jsonb_array_elements(coalesce(e -> 'changes', '[]')) AS c
	LOOP
		FOR m IN SELECT value FROM jsonb_array_elements(coalesce(v -> 'statuses', '[]')) LOOP
			s := NULL;
			s.source := 'whatsapp';
			s.channel := 'whatsapp';
			s.account := v -> 'metadata' ->> 'phone_number_id';
			s.message_id := cadence.webhook_field(m, 'id', 'a WhatsApp status');
			s.event_key := s.message_id || ':' || (m ->> 'status');
			s.address := '+' || (m ->> 'recipient_id');
			s.occurred_at := coalesce(cadence.unix_time(m -> 'timestamp'), now());
			s.detail := jsonb_strip_nulls(jsonb_build_object('status', m ->> 'status',
				'errors', m -> 'errors'));
			s.kind := CASE m ->> 'status' WHEN 'delivered' THEN 'delivered' WHEN 'read' THEN 'opened'
										  WHEN 'failed' THEN 'delivery_failed' ELSE 'ignored' END;
			RETURN NEXT s;
		END LOOP;
		FOR m IN SELECT value FROM jsonb_array_elements(coalesce(v -> 'messages', '[]')) LOOP
			s := NULL;
			s.source := 'whatsapp';
			s.channel := 'whatsapp';
			s.account := v -> 'metadata' ->> 'phone_number_id';
			s.event_key := cadence.webhook_field(m, 'id', 'a WhatsApp message');
			s.address := '+' || cadence.webhook_field(m, 'from', 'a WhatsApp message');
			s.body := coalesce(m -> 'text' ->> 'body', m -> 'button' ->> 'text',
							   m -> 'interactive' -> 'button_reply' ->> 'title');
			s.occurred_at := coalesce(cadence.unix_time(m -> 'timestamp'), now());
			s.detail := jsonb_strip_nulls(jsonb_build_object('type', m ->> 'type',
				'context', m -> 'context' ->> 'id'));
			s.message_id := m -> 'context' ->> 'id';
			s.kind := cadence.message_kind(s.body, NULL);
			RETURN NEXT s;
		END LOOP;
	END LOOP;
END
$$;

-- The application's own events, for the caller's tenant:
--   {"type": "lead_assigned", "leadId", "assignedTo"}
--   {"type": "reply", "leadId", "channel"?, "text"?, "subject"?}
--   {"type": "meeting_booked", "leadId"}
--   {"type": "stage_changed", "leadId", "stage"}
-- each with an optional eventId (a redelivery with the same one is
-- recognised) and occurredAt.
CREATE FUNCTION cadence.signals_app(payload jsonb) RETURNS SETOF cadence.signal
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	v_type text := cadence.webhook_field(payload, 'type', 'an app event');
	s cadence.signal;
BEGIN
	s.source := 'app';
	s.tenant_id := cadence.require_tenant();
	s.lead_id := cadence.webhook_field(payload, 'leadId', 'an app event');
	s.event_key := coalesce(payload ->> 'eventId', md5(payload::text));
	s.occurred_at := coalesce(cadence.try_timestamptz(payload ->> 'occurredAt'), now());
	s.channel := payload ->> 'channel';
	s.body := payload ->> 'text';
	s.subject := payload ->> 'subject';
	CASE v_type
	WHEN 'lead_assigned' THEN
		s.kind := 'lead_assigned';
		s.detail := jsonb_build_object('assignedTo',
			cadence.webhook_field(payload, 'assignedTo', 'a lead_assigned event'));
	WHEN 'reply' THEN
		s.kind := 'replied';
	WHEN 'meeting_booked' THEN
		s.kind := 'meeting_booked';
	WHEN 'stage_changed' THEN
		s.kind := 'stage_changed';
		s.detail := jsonb_build_object('stage',
			cadence.webhook_field(payload, 'stage', 'a stage_changed event'));
	ELSE
		RAISE EXCEPTION 'unknown app event type "%"', v_type
			USING ERRCODE = '22023',
				  HINT = 'App events: lead_assigned, reply, meeting_booked, stage_changed.';
	END CASE;
	RETURN NEXT s;
END
$$;
-- Checking that a webhook comes from the provider: each scheme as the
-- provider documents it, with the secret kept in the provider account's
-- credentials.  A secret that is set makes its signature required; an
-- account without one accepts unsigned deliveries (say so in the answer).
--
--   twilio            credentials.authToken: X-Twilio-Signature, base64
--                     HMAC-SHA1 of the URL Twilio called followed by every
--                     POST parameter's name and value, sorted by name
--   resend            credentials.webhookSecret (whsec_...): Standard
--                     Webhooks, svix-* or webhook-* headers, base64
--                     HMAC-SHA256 of "id.timestamp.body"
--   sendgrid          credentials.webhookVerificationKey: ECDSA over the
--                     X-Twilio-Email-Event-Webhook-Timestamp and the body
--   calendly          credentials.signingKey: Calendly-Webhook-Signature
--                     t=...,v1=<hex HMAC-SHA256 of "t.body">
--   whatsapp          credentials.appSecret: X-Hub-Signature-256,
--                     sha256=<hex HMAC-SHA256 of the body>
--
-- Schemes over the body need it as the provider sent it, byte for byte: a
-- JSON string holding the raw body, not a parsed object.  Timestamps more
-- than five minutes away from now are refused (a replayed delivery).
-- A failed check is SQLSTATE 28000.

-- Refuse a webhook whose signature does not check out.
CREATE FUNCTION cadence.refuse_webhook(provider text, why text) RETURNS void
LANGUAGE plpgsql IMMUTABLE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	RAISE EXCEPTION 'the % webhook is refused: %', provider, why
		USING ERRCODE = '28000',
			  HINT = 'Check the signing secret in the provider account''s credentials, and pass the body exactly as received.';
END
$$;

-- A signed timestamp (Unix seconds) within five minutes of now.
CREATE FUNCTION cadence.check_webhook_time(provider text, ts text) RETURNS void
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	IF ts IS NULL OR ts !~ '^[0-9]{1,12}$' THEN
		PERFORM cadence.refuse_webhook(provider, 'no signed timestamp');
	ELSIF abs(extract(epoch FROM now()) - ts::bigint) > 300 THEN
		PERFORM cadence.refuse_webhook(provider,
			format('its timestamp is %s seconds away from now', abs(extract(epoch FROM now()) - ts::bigint)::bigint));
	END IF;
END
$$;

-- Twilio's X-Twilio-Signature of the form parameters params posted to url.
CREATE FUNCTION cadence.twilio_signature(auth_token text, url text, params jsonb) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
	SELECT encode(cadence.hmac(convert_to(url || coalesce(
			   (SELECT string_agg(key || value, '' ORDER BY key COLLATE "C")
				  FROM jsonb_each_text(params)), ''), 'UTF8'),
		   convert_to(auth_token, 'UTF8'), 'sha1'), 'base64')
$$;
COMMENT ON FUNCTION cadence.twilio_signature(text, text, jsonb) IS
	'The X-Twilio-Signature Twilio sends with the parameters params posted to url, under the account''s auth token';

-- The Standard Webhooks signature ("v1,<base64>") of a body under a
-- whsec_ secret.
CREATE FUNCTION cadence.standard_webhook_signature(secret text, id text, ts text, body text)
RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
	SELECT 'v1,' || encode(cadence.hmac(convert_to(id || '.' || ts || '.' || body, 'UTF8'),
		CASE WHEN secret LIKE 'whsec\_%' THEN decode(substr(secret, 7), 'base64')
			 ELSE convert_to(secret, 'UTF8') END, 'sha256'), 'base64')
$$;
COMMENT ON FUNCTION cadence.standard_webhook_signature(text, text, text, text) IS
	'The Standard Webhooks (Svix, Resend) signature v1,<base64 HMAC-SHA256 of "id.timestamp.body"> under a whsec_ secret';

-- Check one delivery against one account's secret: 'verified', or
-- 'unsigned' when the account has no secret for the scheme; raises 28000
-- when the signature is missing or wrong.  raw is the body as received
-- (NULL when only the parsed payload was given).
CREATE FUNCTION cadence.verify_webhook(provider text, raw text, payload jsonb, headers jsonb,
									   url text, credentials jsonb, settings jsonb)
RETURNS text
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	v_secret text;
	v_sig text;
	v_id text;
	v_ts text;
BEGIN
	v_secret := credentials ->> CASE provider
		WHEN 'twilio' THEN 'authToken'
		WHEN 'resend' THEN 'webhookSecret'
		WHEN 'sendgrid' THEN 'webhookVerificationKey'
		WHEN 'calendly' THEN 'signingKey'
		WHEN 'whatsapp' THEN 'appSecret' END;
	IF coalesce(v_secret, '') = '' THEN
		RETURN 'unsigned';
	END IF;

	IF provider = 'twilio' THEN
		v_sig := headers ->> 'x-twilio-signature';
		url := coalesce(url, settings ->> 'webhookUrl');
		IF v_sig IS NULL THEN
			PERFORM cadence.refuse_webhook(provider, 'it has no X-Twilio-Signature');
		ELSIF url IS NULL THEN
			RAISE EXCEPTION 'the URL Twilio called is needed to check X-Twilio-Signature'
				USING ERRCODE = '22023',
					  HINT = 'Pass it as ingest_webhook(..., url => ''https://...''), or set settings.webhookUrl of the Twilio account.';
		ELSIF cadence.twilio_signature(v_secret, url, payload) <> v_sig THEN
			PERFORM cadence.refuse_webhook(provider, 'its X-Twilio-Signature does not match');
		END IF;
		RETURN 'verified';
	END IF;

	IF raw IS NULL THEN
		RAISE EXCEPTION 'a signed % webhook must be passed as its raw body (a JSON string), so that its signature can be checked', provider
			USING ERRCODE = '22023';
	END IF;
	IF provider = 'resend' THEN
		v_id := coalesce(headers ->> 'svix-id', headers ->> 'webhook-id');
		v_ts := coalesce(headers ->> 'svix-timestamp', headers ->> 'webhook-timestamp');
		v_sig := coalesce(headers ->> 'svix-signature', headers ->> 'webhook-signature');
		IF v_id IS NULL OR v_sig IS NULL THEN
			PERFORM cadence.refuse_webhook(provider, 'it has no svix-id / svix-signature headers');
		END IF;
		PERFORM cadence.check_webhook_time(provider, v_ts);
		IF cadence.standard_webhook_signature(v_secret, v_id, v_ts, raw)
		   <> ALL (string_to_array(v_sig, ' ')) THEN
			PERFORM cadence.refuse_webhook(provider, 'no signature in svix-signature matches');
		END IF;
	ELSIF provider = 'sendgrid' THEN
		v_sig := headers ->> 'x-twilio-email-event-webhook-signature';
		v_ts := headers ->> 'x-twilio-email-event-webhook-timestamp';
		IF v_sig IS NULL THEN
			PERFORM cadence.refuse_webhook(provider, 'it has no X-Twilio-Email-Event-Webhook-Signature');
		END IF;
		PERFORM cadence.check_webhook_time(provider, v_ts);
		IF NOT cadence.verify_ecdsa(convert_to(v_ts || raw, 'UTF8'), decode(v_sig, 'base64'), v_secret) THEN
			PERFORM cadence.refuse_webhook(provider, 'its ECDSA signature does not verify');
		END IF;
	ELSIF provider = 'calendly' THEN
		v_sig := headers ->> 'calendly-webhook-signature';
		v_ts := substring(v_sig FROM '(?:^|,)t=([0-9]+)');
		IF v_sig IS NULL THEN
			PERFORM cadence.refuse_webhook(provider, 'it has no Calendly-Webhook-Signature');
		END IF;
		PERFORM cadence.check_webhook_time(provider, v_ts);
		IF encode(cadence.hmac(convert_to(v_ts || '.' || raw, 'UTF8'), convert_to(v_secret, 'UTF8'), 'sha256'), 'hex')
		   IS DISTINCT FROM substring(v_sig FROM '(?:^|,)v1=([0-9a-f]+)') THEN
			PERFORM cadence.refuse_webhook(provider, 'its Calendly-Webhook-Signature does not match');
		END IF;
	ELSIF provider = 'whatsapp' THEN
		v_sig := headers ->> 'x-hub-signature-256';
		IF v_sig IS NULL THEN
			PERFORM cadence.refuse_webhook(provider, 'it has no X-Hub-Signature-256');
		END IF;
		IF 'sha256=' || encode(cadence.hmac(convert_to(raw, 'UTF8'), convert_to(v_secret, 'UTF8'), 'sha256'), 'hex')
		   <> v_sig THEN
			PERFORM cadence.refuse_webhook(provider, 'its X-Hub-Signature-256 does not match');
		END IF;
	END IF;
	RETURN 'verified';
END
$$;
COMMENT ON FUNCTION cadence.verify_webhook(text, text, jsonb, jsonb, text, jsonb, jsonb) IS
	'Check a webhook delivery''s signature against a provider account''s secret: verified, unsigned (no secret set), or 28000';
-- What comes back, applied: cadence.ingest_webhook() takes a provider's
-- webhook (or an app event), reads it into signals (85_webhook_formats),
-- finds what each is about, checks the signature (86_webhook_auth), and in
-- the caller's transaction records the engagement, keeps the do-not-contact
-- list, and ends, pauses or resumes runs by their cadence's exit
-- conditions.  A redelivery is recognised by the provider's event id and
-- applied once.
--
-- Locks follow the order every writer of runs keeps (see src/dispatch.h):
-- every run a delivery may change is locked first, in key order, before
-- any of it is changed; the step counters last, in key order.

-- What a signal is about, once found.
CREATE TYPE cadence.signal_match AS (
	kind			text,		-- the signal's kind, settled (a YES from a
								-- number that opted out is an opt-in)
	tenant_id		text,
	provider_id		text,		-- the account that sent the message it is about
	action_tenant	text,		-- the scheduled action it is about
	run_id			bigint,
	action_id		bigint,
	cadence_id		text,
	lead_ids		text[],		-- the leads it is about
	run_ids			bigint[],	-- the live runs it may end or pause
	company_run_ids	bigint[]	-- live runs of the lead's colleagues
								-- (settings.pauseCompanyOnReply)
);

-- Whether a cadence's exit conditions end a run on key: onReply,
-- onMeetingBooked, onBounce and onUnsubscribe are on unless set to false;
-- onAutoReply (an out-of-office ends the run like a reply) is off unless
-- set to true.
CREATE FUNCTION cadence.exits_on(exit_conditions jsonb, key text) RETURNS boolean
LANGUAGE sql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
	SELECT coalesce((exit_conditions ->> key)::boolean, key <> 'onAutoReply')
$$;

-- The scheduled action a signal names (by our idempotency key, the
-- provider's message id, or an e-mail's thread ids), within scope (a
-- tenant, or NULL for any).  Only a message sent can be answered or named
-- by our key.
CREATE FUNCTION cadence.find_action(s cadence.signal, scope text)
RETURNS cadence.scheduled_actions
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	a cadence.scheduled_actions;
	v_id text;
BEGIN
	IF s.action_id IS NOT NULL THEN
		SELECT * INTO a FROM cadence.scheduled_actions x
		 WHERE x.id = s.action_id AND x.status = 'sent' AND (scope IS NULL OR x.tenant_id = scope);
		IF FOUND THEN
			RETURN a;
		END IF;
	END IF;
	IF s.message_id IS NOT NULL THEN
		SELECT * INTO a FROM cadence.scheduled_actions x
		 WHERE x.provider_message_id = s.message_id AND (scope IS NULL OR x.tenant_id = scope)
		 ORDER BY x.id LIMIT 1;
		IF FOUND THEN
			RETURN a;
		END IF;
	END IF;
	FOREACH v_id IN ARRAY coalesce(s.thread_ids, '{}') LOOP
		SELECT * INTO a FROM cadence.scheduled_actions x
		 WHERE x.id = cadence.action_of_key(split_part(v_id, '@', 1)) AND x.status = 'sent'
		   AND (scope IS NULL OR x.tenant_id = scope);
		IF FOUND THEN
			RETURN a;
		END IF;
		SELECT * INTO a FROM cadence.scheduled_actions x
		 WHERE x.provider_message_id IN (v_id, '<' || v_id || '>', split_part(v_id, '@', 1))
		   AND (scope IS NULL OR x.tenant_id = scope)
		 ORDER BY x.id LIMIT 1;
		IF FOUND THEN
			RETURN a;
		END IF;
	END LOOP;
	RETURN NULL;
END
$$;

-- The tenants a signal with no message of ours can be about: the
-- caller's; else those whose provider account received it (the Twilio
-- AccountSid, the WhatsApp phone number id, the address an e-mail was sent
-- to).
CREATE FUNCTION cadence.signal_tenants(s cadence.signal, scope text) RETURNS text[]
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
	SELECT CASE WHEN scope IS NOT NULL THEN ARRAY[scope] ELSE ARRAY(
		SELECT DISTINCT p.tenant_id FROM cadence.providers p
		 WHERE (s.source = 'twilio' AND p.kind = 'twilio' AND p.credentials ->> 'accountSid' = s.account)
			OR (s.source = 'whatsapp' AND p.kind = 'whatsapp_cloud'
				AND p.settings ->> 'phoneNumberId' = s.account)
			OR (s.channel = 'email' AND p.channel = 'email'
				AND lower(p.settings ->> 'from') = s.account)
		 ORDER BY 1) END
$$;

-- What a signal is about: its message (and so tenant, run and lead), or
-- its leads by address or id; and the live runs it may end or pause.
CREATE FUNCTION cadence.match_signal(s cadence.signal, scope text) RETURNS cadence.signal_match
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	m cadence.signal_match;
	a cadence.scheduled_actions;
	v_tenants text[];
BEGIN
	m.kind := s.kind;
	IF s.kind = 'ignored' THEN
		RETURN m;
	END IF;
	a := cadence.find_action(s, scope);
	IF a.id IS NOT NULL THEN
		m.tenant_id := a.tenant_id;
		m.provider_id := a.provider_id;
		m.action_tenant := a.tenant_id;
		m.run_id := a.run_id;
		m.action_id := a.id;
		m.cadence_id := a.cadence_id;
		SELECT ARRAY[r.lead_id] INTO m.lead_ids
		  FROM cadence.runs r WHERE r.tenant_id = a.tenant_id AND r.id = a.run_id;
	ELSIF s.lead_id IS NOT NULL THEN
		m.tenant_id := s.tenant_id;
		IF NOT EXISTS (SELECT 1 FROM cadence.contacts c
						WHERE c.tenant_id = s.tenant_id AND c.id = s.lead_id) THEN
			RAISE EXCEPTION 'lead "%" does not exist in tenant "%"', s.lead_id, s.tenant_id
				USING ERRCODE = 'P0002';
		END IF;
		m.lead_ids := ARRAY[s.lead_id];
	ELSIF s.address IS NOT NULL AND s.kind IN ('replied', 'opted_out', 'opted_in', 'opted_in_or_replied',
											   'help', 'complained', 'unsubscribed', 'meeting_booked') THEN
		v_tenants := cadence.signal_tenants(s, scope);
		SELECT c.tenant_id, array_agg(c.id ORDER BY c.id) INTO m.tenant_id, m.lead_ids
		  FROM cadence.contacts c
		 WHERE c.tenant_id = ANY (v_tenants)
		   AND CASE WHEN s.channel = 'email' OR s.source = 'calendly' THEN lower(c.email) = s.address
					ELSE c.phone = s.address OR c.whatsapp = s.address END
		 GROUP BY c.tenant_id ORDER BY c.tenant_id LIMIT 1;
		IF m.tenant_id IS NULL AND cardinality(v_tenants) = 1 THEN
			m.tenant_id := v_tenants[1];
		END IF;
	END IF;
	IF m.tenant_id IS NULL THEN
		RETURN m;
	END IF;

	IF m.kind = 'opted_in_or_replied' THEN
		m.kind := CASE WHEN EXISTS (SELECT 1 FROM cadence.suppressions x
									 WHERE x.tenant_id = m.tenant_id AND x.channel = s.channel
									   AND x.address = s.address AND x.reason = 'stop_keyword')
					   THEN 'opted_in' ELSE 'replied' END;
	END IF;

	-- The live runs it may end or pause: the message's own for a bounce,
	-- and for a reply to a message; every one of the lead's otherwise.
	m.run_ids := CASE
		WHEN m.kind = 'bounced' OR (m.kind = 'replied' AND m.run_id IS NOT NULL) THEN
			ARRAY(SELECT r.id FROM cadence.runs r
				   WHERE r.tenant_id = m.tenant_id AND r.id = m.run_id
					 AND r.status IN ('active', 'paused'))
		WHEN m.kind IN ('replied', 'complained', 'unsubscribed', 'opted_out', 'meeting_booked') THEN
			ARRAY(SELECT r.id FROM cadence.runs r
				   WHERE r.tenant_id = m.tenant_id AND r.lead_id = ANY (m.lead_ids)
					 AND r.status IN ('active', 'paused') ORDER BY r.id)
		ELSE '{}' END;
	IF m.kind = 'replied' THEN
		m.company_run_ids := ARRAY(
			SELECT o.id FROM cadence.contacts me
			  JOIN cadence.contacts co ON co.tenant_id = me.tenant_id
			   AND lower(co.company) = lower(me.company) AND co.id <> ALL (m.lead_ids)
			  JOIN cadence.runs o ON o.tenant_id = co.tenant_id AND o.lead_id = co.id
			   AND o.status = 'active'
			 WHERE me.tenant_id = m.tenant_id AND me.id = ANY (m.lead_ids)
			   AND me.company IS NOT NULL AND me.company <> ''
			   AND EXISTS (SELECT 1 FROM cadence.runs r
							 JOIN cadence.cadences c ON c.tenant_id = r.tenant_id AND c.id = r.cadence_id
							WHERE r.tenant_id = m.tenant_id AND r.id = ANY (m.run_ids)
							  AND (c.settings ->> 'pauseCompanyOnReply')::boolean)
			 ORDER BY o.id);
	END IF;
	RETURN m;
END
$$;

-- Mark engagement (delivered, opened, clicked, replied, bounced) on a
-- scheduled action, at most once: its <kind>_at column is set unless it is
-- already, and then the step counter to add is returned,
-- [{"t": tenant, "c": cadence, "s": step, "v": variant, "f": kind}]; [] when
-- it was marked before.
CREATE FUNCTION cadence.engage(tenant_id text, run_id bigint, action_id bigint, kind text,
							   at timestamptz)
RETURNS jsonb
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	v_count jsonb;
BEGIN
	EXECUTE format('UPDATE cadence.scheduled_actions SET %1$I = $4, updated_at = now()'
				   ' WHERE tenant_id = $1 AND run_id = $2 AND id = $3 AND %1$I IS NULL'
				   ' RETURNING jsonb_build_array(jsonb_build_object(''t'', tenant_id,'
				   '   ''c'', cadence_id, ''s'', step_number, ''v'', coalesce(variant, ''''),'
				   '   ''f'', $5))', kind || '_at')
		INTO v_count USING tenant_id, run_id, action_id, at, kind;
	RETURN coalesce(v_count, '[]');
END
$$;

-- The message a reply without a thread answers: the latest sent of the
-- runs, on the reply's channel when there is one.
CREATE FUNCTION cadence.answered_message(tenant_id text, run_ids bigint[], channel text)
RETURNS cadence.scheduled_actions
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
	SELECT a.* FROM cadence.scheduled_actions a
	 WHERE a.tenant_id = answered_message.tenant_id AND a.run_id = ANY (run_ids)
	   AND a.status = 'sent'
	 ORDER BY (a.type = channel) DESC, a.sent_at DESC LIMIT 1
$$;

-- Put an address on the do-not-contact list (kept as it is when already on).
CREATE FUNCTION cadence.suppress(tenant_id text, channel text, address text, reason text)
RETURNS void
LANGUAGE sql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
	INSERT INTO cadence.suppressions (tenant_id, channel, address, reason)
	SELECT tenant_id, channel, lower(address), reason WHERE coalesce(address, '') <> ''
	ON CONFLICT DO NOTHING
$$;

-- End each of the runs that is still live, when its cadence's exit
-- conditions say so for key; returns [{runId, status}] of those ended.
CREATE FUNCTION cadence.exit_runs(tenant_id text, run_ids bigint[], key text, status text,
								  reason text)
RETURNS jsonb
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	v_run bigint;
	v_ended jsonb := '[]';
BEGIN
	FOR v_run IN
		SELECT r.id FROM cadence.runs r
		  JOIN cadence.cadences c ON c.tenant_id = r.tenant_id AND c.id = r.cadence_id
		 WHERE r.tenant_id = exit_runs.tenant_id AND r.id = ANY (run_ids)
		   AND r.status IN ('active', 'paused')
		   AND cadence.exits_on(c.exit_conditions, key)
		 ORDER BY r.id
	LOOP
		PERFORM cadence.exit_run(v_run, status, reason);
		v_ended := v_ended || jsonb_build_object('runId', v_run, 'status', status);
	END LOOP;
	RETURN v_ended;
END
$$;

-- A lead-level event (lead.*) for each lead.
CREATE FUNCTION cadence.lead_event(tenant_id text, lead_ids text[], type text, payload jsonb)
RETURNS void
LANGUAGE sql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
	INSERT INTO cadence.events (tenant_id, lead_id, type, payload)
	SELECT tenant_id, l, type, payload FROM unnest(lead_ids) AS l
$$;

-- A reply (or an auto-reply) to the runs m is about.  A human reply marks
-- the message answered (the one replied to, else the run's latest sent,
-- on the same channel when there is one), ends the run when its cadence
-- exits on replies, and pauses the lead's colleagues' runs when the
-- cadence says so.  An auto-reply pauses the run until the return date
-- the text gives (at the same time of day), else for
-- settings.autoReplyPauseDays (7), or ends it when exitConditions
-- onAutoReply is set.  Returns what it did and the counters to add.
CREATE FUNCTION cadence.apply_reply(s cadence.signal, m cadence.signal_match)
RETURNS jsonb
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	v_auto text := cadence.auto_reply_signal(coalesce(s.headers, '{}'), s.subject, s.body);
	v_run record;
	v_action cadence.scheduled_actions;
	v_runs jsonb := '[]';
	v_counts jsonb := '[]';
	v_resume timestamptz;
	v_back date;
	v_pause_company boolean := false;
	v_detail jsonb := jsonb_strip_nulls(coalesce(s.detail, '{}')
		|| jsonb_build_object('source', s.source, 'text', left(s.body, 500), 'autoReply', v_auto));
BEGIN
	UPDATE cadence.contacts c SET last_activity_at = greatest(c.last_activity_at, s.occurred_at)
	 WHERE c.tenant_id = m.tenant_id AND c.id = ANY (m.lead_ids) AND v_auto IS NULL;

	-- The message replied to, when the reply named it, even if its run is over.
	IF m.action_id IS NOT NULL AND v_auto IS NULL THEN
		v_counts := v_counts || cadence.engage(m.action_tenant, m.run_id, m.action_id, 'replied',
											   s.occurred_at);
	END IF;

	FOR v_run IN
		SELECT r.id, r.status, r.cadence_id, r.timezone, c.exit_conditions, c.settings
		  FROM cadence.runs r JOIN cadence.cadences c ON c.tenant_id = r.tenant_id AND c.id = r.cadence_id
		 WHERE r.tenant_id = m.tenant_id AND r.id = ANY (m.run_ids) AND r.status IN ('active', 'paused')
		 ORDER BY r.id
	LOOP
		IF m.action_id IS NULL AND v_auto IS NULL THEN
			v_action := cadence.answered_message(m.tenant_id, ARRAY[v_run.id], s.channel);
			IF v_action.id IS NOT NULL THEN
				v_counts := v_counts || cadence.engage(m.tenant_id, v_run.id, v_action.id, 'replied',
													   s.occurred_at);
			END IF;
		END IF;
		INSERT INTO cadence.events (tenant_id, run_id, scheduled_action_id, cadence_id, lead_id, type, payload)
		SELECT m.tenant_id, v_run.id, CASE WHEN v_run.id = m.run_id THEN m.action_id END,
			   v_run.cadence_id, r.lead_id, 'action.engagement',
			   jsonb_build_object('kind', CASE WHEN v_auto IS NULL THEN 'replied' ELSE 'auto_replied' END)
			   || v_detail
		  FROM cadence.runs r WHERE r.tenant_id = m.tenant_id AND r.id = v_run.id;

		IF v_auto IS NULL OR cadence.exits_on(v_run.exit_conditions, 'onAutoReply') THEN
			IF cadence.exits_on(v_run.exit_conditions, 'onReply') THEN
				PERFORM cadence.exit_run(v_run.id, 'replied', coalesce(v_auto, 'reply'));
				v_runs := v_runs || jsonb_build_object('runId', v_run.id, 'status', 'replied');
			END IF;
			v_pause_company := v_pause_company OR v_auto IS NULL
				AND coalesce((v_run.settings ->> 'pauseCompanyOnReply')::boolean, false);
		ELSIF v_run.status = 'active' THEN
			v_back := cadence.auto_reply_return_date(s.body, s.occurred_at, v_run.timezone);
			v_resume := CASE WHEN v_back IS NOT NULL
				THEN (v_back + (s.occurred_at AT TIME ZONE v_run.timezone)::time) AT TIME ZONE v_run.timezone
				ELSE s.occurred_at + make_interval(days =>
					coalesce((v_run.settings ->> 'autoReplyPauseDays')::int, 7)) END;
			PERFORM cadence.pause_run(v_run.id, greatest(v_resume, now()), 'auto_reply');
			v_runs := v_runs || jsonb_build_object('runId', v_run.id, 'status', 'paused',
				'resumeAt', greatest(v_resume, now()));
		END IF;
	END LOOP;

	IF v_pause_company THEN
		FOR v_run IN SELECT r.id FROM cadence.runs r
					  WHERE r.tenant_id = m.tenant_id AND r.id = ANY (m.company_run_ids)
						AND r.status = 'active'
					  ORDER BY r.id LOOP
			PERFORM cadence.pause_run(v_run.id, NULL, 'company_replied');
			v_runs := v_runs || jsonb_build_object('runId', v_run.id, 'status', 'paused',
												   'reason', 'company_replied');
		END LOOP;
	END IF;

	-- No live run and no message named: the lead's latest message (of a
	-- run that ended) is the one answered.
	IF cardinality(m.run_ids) = 0 AND m.action_id IS NULL THEN
		v_action := cadence.answered_message(m.tenant_id,
			ARRAY(SELECT r.id FROM cadence.runs r
				   WHERE r.tenant_id = m.tenant_id AND r.lead_id = ANY (m.lead_ids)
					 AND r.status NOT IN ('active', 'paused')), s.channel);
		IF v_action.id IS NOT NULL AND v_auto IS NULL THEN
			v_counts := v_counts || cadence.engage(m.tenant_id, v_action.run_id, v_action.id,
												   'replied', s.occurred_at);
		END IF;
		PERFORM cadence.lead_event(m.tenant_id, m.lead_ids, 'lead.replied', v_detail);
	END IF;
	RETURN jsonb_build_object('runs', v_runs, 'counts', v_counts, 'autoReply', v_auto);
END
$$;

-- Apply one matched signal; returns what it did and the counters to add.
CREATE FUNCTION cadence.apply_signal(s cadence.signal, m cadence.signal_match)
RETURNS jsonb
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	v_counts jsonb := '[]';
	v_runs jsonb := '[]';
	v_channel text := coalesce(s.channel, 'email');
	v_detail jsonb := jsonb_strip_nulls(coalesce(s.detail, '{}') || jsonb_build_object('source', s.source));
	v_result jsonb;
BEGIN
	-- Engagement on the message, once each (a click is an open too).
	IF m.kind IN ('delivered', 'opened', 'clicked', 'bounced') AND m.action_id IS NOT NULL THEN
		IF m.kind = 'clicked' THEN
			v_counts := v_counts || cadence.engage(m.action_tenant, m.run_id, m.action_id, 'opened',
												   s.occurred_at);
		END IF;
		v_counts := v_counts || cadence.engage(m.action_tenant, m.run_id, m.action_id, m.kind,
											   s.occurred_at);
	END IF;
	IF m.action_id IS NOT NULL AND m.kind NOT IN ('replied') THEN
		INSERT INTO cadence.events (tenant_id, run_id, scheduled_action_id, cadence_id, lead_id, type, payload)
		VALUES (m.tenant_id, m.run_id, m.action_id, m.cadence_id, m.lead_ids[1], 'action.engagement',
				jsonb_build_object('kind', m.kind) || v_detail);
	END IF;

	CASE m.kind
	WHEN 'bounced' THEN
		PERFORM cadence.suppress(m.tenant_id, v_channel, s.address, 'bounce');
		v_runs := cadence.exit_runs(m.tenant_id, m.run_ids, 'onBounce', 'bounced', 'bounce');
	WHEN 'complained', 'unsubscribed', 'opted_out' THEN
		PERFORM cadence.suppress(m.tenant_id, v_channel, s.address,
			CASE m.kind WHEN 'complained' THEN 'spam_report' WHEN 'unsubscribed' THEN 'unsubscribe'
						ELSE 'stop_keyword' END);
		IF m.action_id IS NULL THEN
			PERFORM cadence.lead_event(m.tenant_id, m.lead_ids, 'lead.opted_out',
									   jsonb_build_object('kind', m.kind) || v_detail);
		END IF;
		v_runs := cadence.exit_runs(m.tenant_id, m.run_ids, 'onUnsubscribe', 'unsubscribed', m.kind);
	WHEN 'opted_in' THEN
		DELETE FROM cadence.suppressions x
		 WHERE x.tenant_id = m.tenant_id AND x.channel = v_channel AND x.address = lower(s.address)
		   AND x.reason = 'stop_keyword';
		PERFORM cadence.lead_event(m.tenant_id, m.lead_ids, 'lead.opted_in', v_detail);
	WHEN 'help' THEN
		PERFORM cadence.lead_event(m.tenant_id, m.lead_ids, 'lead.help', v_detail);
	WHEN 'replied' THEN
		v_result := cadence.apply_reply(s, m);
		v_runs := v_result -> 'runs';
		v_counts := v_counts || (v_result -> 'counts');
	WHEN 'meeting_booked' THEN
		UPDATE cadence.contacts c SET last_activity_at = greatest(c.last_activity_at, s.occurred_at)
		 WHERE c.tenant_id = m.tenant_id AND c.id = ANY (m.lead_ids);
		PERFORM cadence.lead_event(m.tenant_id, m.lead_ids, 'lead.meeting_booked', v_detail);
		v_runs := cadence.exit_runs(m.tenant_id, m.run_ids, 'onMeetingBooked', 'meeting_booked',
									'meeting_booked');
	WHEN 'lead_assigned' THEN
		UPDATE cadence.contacts c SET owner_id = s.detail ->> 'assignedTo', updated_at = now()
		 WHERE c.tenant_id = m.tenant_id AND c.id = s.lead_id;
		PERFORM cadence.lead_event(m.tenant_id, m.lead_ids, 'lead.assigned', v_detail);
		v_runs := cadence.enroll_on_trigger(s.lead_id, 'lead_assigned', s.detail ->> 'assignedTo',
											s.occurred_at);
	WHEN 'stage_changed' THEN
		UPDATE cadence.contacts c SET status = s.detail ->> 'stage', updated_at = now(),
			   last_activity_at = greatest(c.last_activity_at, s.occurred_at)
		 WHERE c.tenant_id = m.tenant_id AND c.id = s.lead_id;
		PERFORM cadence.lead_event(m.tenant_id, m.lead_ids, 'lead.stage_changed', v_detail);
		v_runs := cadence.enroll_on_trigger(s.lead_id, 'stage_changed', s.detail ->> 'stage',
											s.occurred_at);
	ELSE
		NULL;	-- delivered, opened, clicked, delivery_failed: the engagement above
	END CASE;
	RETURN jsonb_build_object('runs', v_runs, 'counts', v_counts);
END
$$;

-- Add engagement counted while applying (objects {t, c, s, v, f}) to
-- cadence.step_stats, in key order.
CREATE FUNCTION cadence.add_step_counts(counts jsonb) RETURNS void
LANGUAGE sql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
	INSERT INTO cadence.step_stats AS st (tenant_id, cadence_id, step_number, variant,
										  delivered, opened, clicked, replied, bounced)
	SELECT x ->> 't', x ->> 'c', (x ->> 's')::int, coalesce(x ->> 'v', ''),
		   count(*) FILTER (WHERE x ->> 'f' = 'delivered'), count(*) FILTER (WHERE x ->> 'f' = 'opened'),
		   count(*) FILTER (WHERE x ->> 'f' = 'clicked'), count(*) FILTER (WHERE x ->> 'f' = 'replied'),
		   count(*) FILTER (WHERE x ->> 'f' = 'bounced')
	  FROM jsonb_array_elements(counts) AS x
	 GROUP BY 1, 2, 3, 4 ORDER BY 1, 2, 3, 4
	ON CONFLICT (tenant_id, cadence_id, step_number, variant) DO UPDATE
	   SET delivered = st.delivered + excluded.delivered, opened = st.opened + excluded.opened,
		   clicked = st.clicked + excluded.clicked, replied = st.replied + excluded.replied,
		   bounced = st.bounced + excluded.bounced
$$;

-- The provider accounts a delivery's signature is checked against, for
-- the tenants it was matched to.
CREATE FUNCTION cadence.webhook_accounts(provider text, payload jsonb, tenants text[],
										 senders text[])
RETURNS SETOF cadence.providers
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
	SELECT p.* FROM cadence.providers p
	 WHERE p.tenant_id = ANY (tenants)
	   AND CASE provider
			WHEN 'twilio' THEN p.kind = 'twilio' AND p.credentials ->> 'accountSid' = payload ->> 'AccountSid'
			WHEN 'whatsapp' THEN p.kind = 'whatsapp_cloud'
				AND p.settings ->> 'phoneNumberId' IN (
					SELECT c -> 'value' -> 'metadata' ->> 'phone_number_id'
					  FROM jsonb_array_elements(payload -> 'entry') AS e,
						   jsonb_array_elements(e -> 'changes') AS c)
			WHEN 'resend' THEN p.kind = 'resend'
				AND (p.id = ANY (senders) OR NOT EXISTS (SELECT 1 FROM unnest(senders) x WHERE x IS NOT NULL))
			WHEN 'sendgrid' THEN p.kind = 'sendgrid'
				AND (p.id = ANY (senders) OR NOT EXISTS (SELECT 1 FROM unnest(senders) x WHERE x IS NOT NULL))
			ELSE false END
	 ORDER BY p.tenant_id, p.id
$$;

-- The tenant of a Calendly delivery when the caller names none: the one
-- whose calendly account's signing key verifies it.
CREATE FUNCTION cadence.calendly_tenant(raw text, payload jsonb, headers jsonb) RETURNS text
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	p cadence.providers;
BEGIN
	IF headers ->> 'calendly-webhook-signature' IS NULL THEN
		PERFORM cadence.refuse_webhook('calendly', 'it has no Calendly-Webhook-Signature');
	END IF;
	FOR p IN SELECT * FROM cadence.providers x
			  WHERE x.kind = 'calendly' AND coalesce(x.credentials ->> 'signingKey', '') <> ''
			  ORDER BY x.tenant_id, x.id
	LOOP
		BEGIN
			PERFORM cadence.verify_webhook('calendly', raw, payload, headers, NULL,
										   p.credentials, p.settings);
			RETURN p.tenant_id;
		EXCEPTION WHEN invalid_authorization_specification THEN
			NULL;	-- another tenant's key
		END;
	END LOOP;
	IF FOUND THEN
		PERFORM cadence.refuse_webhook('calendly', 'no calendly account''s signing key verifies it');
	END IF;
	RAISE EXCEPTION 'cannot tell which tenant this Calendly webhook is for'
		USING ERRCODE = '42501',
			  HINT = 'Call ingest_webhook with the tenant set (cadence.tenant_id, or a JWT), or give the tenant''s calendly account a signingKey.';
END
$$;

-- cadence.ingest_webhook(provider, payload, headers, url): see README.
CREATE FUNCTION cadence.ingest_webhook(provider text, payload jsonb, headers jsonb DEFAULT '{}',
									   url text DEFAULT NULL)
RETURNS jsonb
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	v_scope text := cadence.current_tenant();
	v_saved text := current_setting('cadence.tenant_id', true);
	v_headers jsonb := cadence.header_map(headers);
	v_raw text;
	v_body jsonb;
	v_signals cadence.signal[];
	v_matches cadence.signal_match[];
	v_fresh boolean[];
	v_signature text := 'unsigned';
	v_check text;
	v_account cadence.providers;
	v_results jsonb := '[]';
	v_counts jsonb := '[]';
	v_applied jsonb;
	v_outcome text;
	v_tally jsonb := '{"applied": 0, "duplicates": 0, "unmatched": 0, "ignored": 0}';
	i int;
BEGIN
	IF provider IS NULL OR provider NOT IN ('twilio', 'sendgrid', 'resend', 'postmark',
											'sendgrid_inbound', 'calendly', 'whatsapp', 'app') THEN
		RAISE EXCEPTION 'unknown webhook provider "%"', provider
			USING ERRCODE = '22023',
				  HINT = 'Providers: twilio, sendgrid, resend, postmark, sendgrid_inbound, calendly, whatsapp, app.';
	END IF;

	-- The body: parsed, or raw (a JSON string) and then parsed.
	IF jsonb_typeof(payload) = 'string' THEN
		v_raw := payload #>> '{}';
		IF provider IN ('twilio', 'sendgrid_inbound') AND ltrim(v_raw) !~ '^[{[]' THEN
			v_body := cadence.form_decode(v_raw);
		ELSE
			BEGIN
				v_body := v_raw::jsonb;
			EXCEPTION WHEN invalid_text_representation THEN
				RAISE EXCEPTION 'the body of this % webhook is not JSON', provider
					USING ERRCODE = '22023';
			END;
		END IF;
	ELSE
		v_body := payload;
	END IF;

	v_signals := ARRAY(SELECT s FROM (
		SELECT cadence.signals_twilio(v_body) AS s WHERE provider = 'twilio'
		UNION ALL SELECT cadence.signals_sendgrid(v_body) WHERE provider = 'sendgrid'
		UNION ALL SELECT cadence.signals_resend(v_body, v_headers) WHERE provider = 'resend'
		UNION ALL SELECT cadence.signals_postmark(v_body) WHERE provider = 'postmark'
		UNION ALL SELECT cadence.signals_sendgrid_inbound(v_body) WHERE provider = 'sendgrid_inbound'
		UNION ALL SELECT cadence.signals_calendly(v_body) WHERE provider = 'calendly'
		UNION ALL SELECT cadence.signals_whatsapp(v_body) WHERE provider = 'whatsapp'
		UNION ALL SELECT cadence.signals_app(v_body) WHERE provider = 'app') x);

	IF provider = 'calendly' AND v_scope IS NULL
	   AND EXISTS (SELECT 1 FROM unnest(v_signals) s WHERE s.kind <> 'ignored') THEN
		v_scope := cadence.calendly_tenant(v_raw, v_body, v_headers);
		v_signature := 'verified';
	END IF;

	-- What each signal is about.
	FOR i IN 1 .. coalesce(array_length(v_signals, 1), 0) LOOP
		v_matches[i] := cadence.match_signal(v_signals[i], v_scope);
	END LOOP;

	-- The signature, against the accounts of the tenants it reached.
	IF provider = 'calendly' AND v_signature <> 'verified' THEN
		FOR v_account IN SELECT * FROM cadence.providers p
						  WHERE p.tenant_id = v_scope AND p.kind = 'calendly' ORDER BY p.id LOOP
			v_check := cadence.verify_webhook(provider, v_raw, v_body, v_headers, url,
											  v_account.credentials, v_account.settings);
			v_signature := CASE WHEN v_check = 'verified' THEN v_check ELSE v_signature END;
		END LOOP;
	ELSE
		FOR v_account IN SELECT * FROM cadence.webhook_accounts(provider, v_body,
							ARRAY(SELECT DISTINCT m.tenant_id FROM unnest(v_matches) m
								   WHERE m.tenant_id IS NOT NULL),
							ARRAY(SELECT DISTINCT m.provider_id FROM unnest(v_matches) m))
		LOOP
			v_check := cadence.verify_webhook(provider, v_raw, v_body, v_headers, url,
											  v_account.credentials, v_account.settings);
			v_signature := CASE WHEN v_check = 'verified' THEN v_check ELSE v_signature END;
		END LOOP;
	END IF;

	-- Redeliveries are recognised; the rest is applied, every run it may
	-- change locked first.
	FOR i IN 1 .. coalesce(array_length(v_signals, 1), 0) LOOP
		v_fresh[i] := false;
		CONTINUE WHEN v_matches[i].tenant_id IS NULL OR v_matches[i].kind = 'ignored';
		INSERT INTO cadence.inbound_events (tenant_id, source, event_key, kind)
		VALUES (v_matches[i].tenant_id, v_signals[i].source, v_signals[i].event_key, v_matches[i].kind)
		ON CONFLICT DO NOTHING;
		v_fresh[i] := FOUND;
	END LOOP;
	PERFORM 1
	  FROM (SELECT DISTINCT (v_matches[j]).tenant_id, r AS run_id
			  FROM generate_subscripts(v_matches, 1) AS j,
				   unnest(coalesce((v_matches[j]).run_ids, '{}')
						  || coalesce((v_matches[j]).company_run_ids, '{}')) AS r
			 WHERE v_fresh[j]
			 ORDER BY 1, 2) k
	 CROSS JOIN LATERAL (SELECT 1 FROM cadence.runs x
						  WHERE x.tenant_id = k.tenant_id AND x.id = k.run_id
						  FOR UPDATE OFFSET 0) l;

	FOR i IN 1 .. coalesce(array_length(v_signals, 1), 0) LOOP
		v_applied := NULL;
		v_outcome := CASE WHEN v_signals[i].kind = 'ignored' THEN 'ignored'
						  WHEN v_matches[i].tenant_id IS NULL THEN 'unmatched'
						  WHEN NOT v_fresh[i] THEN 'duplicate'
						  ELSE 'applied' END;
		IF v_outcome = 'applied' THEN
			IF cadence.current_tenant() IS DISTINCT FROM v_matches[i].tenant_id THEN
				PERFORM set_config('cadence.tenant_id', v_matches[i].tenant_id, true);
			END IF;
			v_applied := cadence.apply_signal(v_signals[i], v_matches[i]);
			v_counts := v_counts || (v_applied -> 'counts');
		END IF;
		v_tally := jsonb_set(v_tally, ARRAY[CASE v_outcome WHEN 'duplicate' THEN 'duplicates' ELSE v_outcome END],
							 to_jsonb((v_tally ->> CASE v_outcome WHEN 'duplicate' THEN 'duplicates'
														ELSE v_outcome END)::int + 1));
		v_results := v_results || jsonb_strip_nulls(jsonb_build_object(
			'kind', v_matches[i].kind, 'eventKey', v_signals[i].event_key, 'outcome', v_outcome,
			'leadIds', to_jsonb(v_matches[i].lead_ids), 'actionId', v_matches[i].action_id,
			'runs', CASE WHEN jsonb_array_length(coalesce(v_applied -> 'runs', '[]')) > 0
						 THEN v_applied -> 'runs' END));
	END LOOP;
	PERFORM cadence.add_step_counts(v_counts);
	PERFORM set_config('cadence.tenant_id', coalesce(v_saved, ''), true);

	RETURN jsonb_build_object('provider', provider, 'signature', v_signature,
							  'received', coalesce(array_length(v_signals, 1), 0))
		|| v_tally || jsonb_build_object('results', v_results);
END
$$;
COMMENT ON FUNCTION cadence.ingest_webhook(text, jsonb, jsonb, text) IS
	'Apply a provider webhook (twilio, sendgrid, resend, postmark, sendgrid_inbound, calendly, whatsapp) or an app event (app): engagement, replies, bounces, opt-outs, meetings booked; exits, pauses and suppressions in the same transaction; signatures checked; redeliveries applied once';
-- Enrollment by what happens to a lead (a cadence's trigger), the
-- inactivity detector, and the events published with pg_notify.

-- Enroll a lead of the caller's tenant in every active cadence whose
-- trigger is of trigger_type and matches value: lead_assigned with
-- config.assignedTo equal to value (the new owner) or absent; stage_changed
-- with config.stage equal to value (the new stage) or absent.  The run's
-- assignee is the new owner for lead_assigned.  Returns one
-- {cadenceId, runId, outcome, reason?} per cadence.
CREATE FUNCTION cadence.enroll_on_trigger(lead_id text, trigger_type text, value text,
										  at timestamptz DEFAULT now())
RETURNS jsonb
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	v_tenant text := cadence.require_tenant();
	v_key text := CASE trigger_type WHEN 'lead_assigned' THEN 'assignedTo'
									WHEN 'stage_changed' THEN 'stage' END;
	v_cadence text;
	v_result jsonb := '[]';
BEGIN
	IF v_key IS NULL THEN
		RAISE EXCEPTION 'unknown enrollment trigger "%"', trigger_type
			USING ERRCODE = '22023', HINT = 'Triggers that enroll on an event: lead_assigned, stage_changed.';
	END IF;
	FOR v_cadence IN
		SELECT c.id FROM cadence.cadences c
		 WHERE c.tenant_id = v_tenant AND c.status = 'active' AND c.deleted_at IS NULL
		   AND c.trigger ->> 'type' = trigger_type
		   AND (c.trigger -> 'config' ->> v_key IS NULL OR c.trigger -> 'config' ->> v_key = value)
		 ORDER BY c.id
	LOOP
		SELECT v_result || jsonb_agg(jsonb_strip_nulls(jsonb_build_object('cadenceId', v_cadence,
				   'runId', p.run_id, 'outcome', p.outcome, 'reason', p.reason)))
		  INTO v_result
		  FROM cadence.plan_runs(v_cadence, ARRAY[lead_id], at,
				 CASE WHEN trigger_type = 'lead_assigned'
					  THEN jsonb_build_object('assignedTo', value,
											  'metadata', jsonb_build_object('trigger', trigger_type))
					  ELSE jsonb_build_object('metadata', jsonb_build_object('trigger', trigger_type))
				 END) AS p;
	END LOOP;
	RETURN v_result;
END
$$;
COMMENT ON FUNCTION cadence.enroll_on_trigger(text, text, text, timestamptz) IS
	'Enroll a lead in every active cadence whose trigger matches: lead_assigned (value: the new owner, matched against trigger.config.assignedTo) or stage_changed (value: the new stage, against trigger.config.stage)';

-- A row trigger for the application's lead table (or cadence.contacts):
-- when a lead gets an owner, on INSERT or when the owner changes, it is
-- enrolled in the cadences triggered by lead_assigned.  Arguments: the
-- lead id column (default id), the owner column (default owner_id), and
-- optionally the tenant column (else the session's tenant).  The lead must
-- be in cadence.contacts by then (mirror it first, or attach this to
-- cadence.contacts itself):
--   CREATE TRIGGER leads_assigned AFTER INSERT OR UPDATE OF owner_id
--     ON cadence.contacts FOR EACH ROW
--     EXECUTE FUNCTION cadence.lead_assigned_trigger('id', 'owner_id', 'tenant_id');
CREATE FUNCTION cadence.lead_assigned_trigger() RETURNS trigger
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	v_new jsonb := to_jsonb(NEW);
	v_owner_col text := coalesce(TG_ARGV[1], 'owner_id');
	v_owner text := v_new ->> v_owner_col;
	v_saved text := current_setting('cadence.tenant_id', true);
BEGIN
	IF v_owner IS NULL
	   OR (TG_OP = 'UPDATE' AND v_owner IS NOT DISTINCT FROM to_jsonb(OLD) ->> v_owner_col) THEN
		RETURN NULL;
	END IF;
	IF TG_NARGS > 2 AND cadence.current_tenant() IS DISTINCT FROM v_new ->> TG_ARGV[2] THEN
		PERFORM set_config('cadence.tenant_id', v_new ->> TG_ARGV[2], true);
	END IF;
	PERFORM cadence.enroll_on_trigger(v_new ->> coalesce(TG_ARGV[0], 'id'), 'lead_assigned', v_owner);
	PERFORM set_config('cadence.tenant_id', coalesce(v_saved, ''), true);
	RETURN NULL;
END
$$;
COMMENT ON FUNCTION cadence.lead_assigned_trigger() IS
	'Row trigger (AFTER INSERT OR UPDATE) enrolling a lead that gets an owner in the cadences triggered by lead_assigned; arguments: lead id column, owner column, tenant column';

-- The inactivity detector (seed 001): enroll up to limit leads of the
-- caller's tenant with no activity (contacts.last_activity_at, else when
-- they were created) for inactive_days (default: the cadence's
-- trigger.config.inactiveDays), oldest first, that are not in a live run of
-- the cadence and have not been enrolled in it since their last activity,
-- and are not opted out.  As a daily pg_cron job:
--   SELECT cron.schedule('reactivation', '0 9 * * *',
--     $$SET cadence.tenant_id = 'acme'; SELECT cadence.enroll_inactive('reactivation')$$);
CREATE FUNCTION cadence.enroll_inactive(cadence_id text, inactive_days integer DEFAULT NULL,
										"limit" integer DEFAULT 100, as_of timestamptz DEFAULT now())
RETURNS TABLE (lead_id text, outcome text, run_id bigint, reason text)
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	v_tenant text := cadence.require_tenant();
	v_days int := inactive_days;
BEGIN
	IF v_days IS NULL THEN
		SELECT (c.trigger -> 'config' ->> 'inactiveDays')::int INTO v_days
		  FROM cadence.cadences c WHERE c.tenant_id = v_tenant AND c.id = enroll_inactive.cadence_id;
	END IF;
	IF v_days IS NULL OR v_days < 1 THEN
		RAISE EXCEPTION 'inactive_days must be at least 1, got %', coalesce(v_days::text, 'nothing')
			USING ERRCODE = '22023',
				  HINT = 'Pass inactive_days, or give the cadence a trigger {"type": "inactivity", "config": {"inactiveDays": N}}.';
	END IF;
	IF "limit" < 1 THEN
		RAISE EXCEPTION 'limit must be at least 1, got %', "limit" USING ERRCODE = '22023';
	END IF;
	RETURN QUERY
	SELECT p.lead_id, p.outcome, p.run_id, p.reason
	  FROM cadence.plan_runs(enroll_inactive.cadence_id, ARRAY(
			SELECT c.id FROM cadence.contacts c
			 WHERE c.tenant_id = v_tenant AND NOT c.unsubscribed
			   AND coalesce(c.last_activity_at, c.created_at) < as_of - make_interval(days => v_days)
			   AND NOT EXISTS (SELECT 1 FROM cadence.runs r
								WHERE r.tenant_id = c.tenant_id AND r.lead_id = c.id
								  AND r.cadence_id = enroll_inactive.cadence_id
								  AND (r.status IN ('active', 'paused')
									   OR r.trigger_at >= coalesce(c.last_activity_at, c.created_at)))
			   AND NOT EXISTS (SELECT 1 FROM cadence.suppressions s
								WHERE s.tenant_id = c.tenant_id AND s.channel = 'all'
								  AND s.address IN (lower(c.email), c.phone, c.whatsapp))
			 ORDER BY coalesce(c.last_activity_at, c.created_at), c.id
			 LIMIT "limit"), as_of,
			jsonb_build_object('metadata', jsonb_build_object('trigger', 'inactivity',
														 'inactiveDays', v_days))) AS p;
END
$$;
COMMENT ON FUNCTION cadence.enroll_inactive(text, integer, integer, timestamptz) IS
	'Enroll up to limit leads idle for inactive_days (default the trigger''s inactiveDays) and not enrolled in the cadence since their last activity; for a daily pg_cron job';

-- Events published for listeners (seed 003's names), one pg_notify per
-- event, payload {"eventId", "type", "tenantId", "runId", "actionId",
-- "cadenceId", "leadId", "at", "data"} (data: the event's payload, left out
-- past 4,000 bytes; pg_notify takes 8,000):
--   sequence.enrollment.created    run.enrolled
--   sequence.enrollment.completed  run.completed
--   sequence.enrollment.replied    run.exited as replied
--   sequence.enrollment.exited     run.exited, run.cancelled
--   sequence.step.executed         action.sent, action.executed,
--                                  action.completed
--   sequence.step.pending_manual   action.pending_manual
-- SET cadence.notify = off turns them off (for a bulk load, say).
CREATE FUNCTION cadence.publish_events() RETURNS trigger
LANGUAGE C
AS 'MODULE_PATHNAME', 'cadence_publish_events';
COMMENT ON FUNCTION cadence.publish_events() IS
	'Statement trigger on cadence.events: publishes run and step events with pg_notify on seed 003''s channels, unless cadence.notify is off';
CREATE TRIGGER events_publish AFTER INSERT ON cadence.events
	REFERENCING NEW TABLE AS new_events
	FOR EACH STATEMENT EXECUTE FUNCTION cadence.publish_events();
-- What the team reads: a cadence's statistics (seed 003's stats response),
-- its enrollments, one enrollment with its steps, the manual task list, and
-- declaring an A/B winner.  JSON out, named arguments, SECURITY INVOKER.

-- A percentage of part in whole, one decimal (0 when whole is 0).
CREATE FUNCTION cadence.rate(part bigint, whole bigint) RETURNS numeric
LANGUAGE sql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
	SELECT CASE WHEN coalesce(whole, 0) = 0 THEN 0.0
				ELSE round(100.0 * coalesce(part, 0) / whole, 1) END
$$;

-- Counters of one step or variant (a cadence.step_stats row, or their sum)
-- with their rates: opens, clicks, replies and bounces per message sent.
CREATE FUNCTION cadence.step_counts_json(sent bigint, delivered bigint, opened bigint,
										 clicked bigint, replied bigint, bounced bigint,
										 failed bigint, skipped bigint)
RETURNS jsonb
LANGUAGE sql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
	SELECT jsonb_build_object(
		'sent', coalesce(sent, 0), 'delivered', coalesce(delivered, 0),
		'opened', coalesce(opened, 0), 'clicked', coalesce(clicked, 0),
		'replied', coalesce(replied, 0), 'bounced', coalesce(bounced, 0),
		'failed', coalesce(failed, 0), 'skipped', coalesce(skipped, 0),
		'openRate', cadence.rate(opened, sent), 'clickRate', cadence.rate(clicked, sent),
		'replyRate', cadence.rate(replied, sent), 'bounceRate', cadence.rate(bounced, sent))
$$;

-- seed 003's GET /sequences/:id/stats: enrollments by outcome and the
-- reply rate, then per step of the current version (by step number) the
-- messages sent, delivered, opened, clicked, replied to, bounced, failed
-- and skipped with their rates, and the same per A/B variant.  Read from
-- the counters the runners and ingest_webhook keep (cadence.step_stats)
-- and the runs' status index: a few rows however many actions there are.
CREATE FUNCTION cadence.sequence_stats(cadence_id text) RETURNS jsonb
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	v_tenant text := cadence.require_tenant();
	c cadence.cadences;
	v_runs jsonb;
	v_steps jsonb;
	v_total bigint;
BEGIN
	SELECT * INTO c FROM cadence.cadences x
	 WHERE x.tenant_id = v_tenant AND x.id = sequence_stats.cadence_id AND x.deleted_at IS NULL;
	IF NOT FOUND THEN
		RAISE EXCEPTION 'cadence "%" not found', sequence_stats.cadence_id USING ERRCODE = 'P0002';
	END IF;

	SELECT coalesce(jsonb_object_agg(r.status, r.n), '{}'), coalesce(sum(r.n), 0)
	  INTO v_runs, v_total
	  FROM (SELECT x.status, count(*) AS n FROM cadence.runs x
			 WHERE x.tenant_id = v_tenant AND x.cadence_id = c.id GROUP BY x.status) r;

	SELECT coalesce(jsonb_agg(
			jsonb_build_object('stepNumber', a.step_number, 'actionId', a.action_id,
							   'type', a.type)
			|| cadence.json_opt('name', to_jsonb(a.name))
			|| cadence.step_counts_json(t.sent, t.delivered, t.opened, t.clicked, t.replied,
										t.bounced, t.failed, t.skipped)
			|| CASE WHEN a.variants IS NULL THEN '{}' ELSE jsonb_build_object('variants', (
				SELECT jsonb_agg(jsonb_build_object('variantId', v ->> 'id',
						   'weight', coalesce((v ->> 'weight')::numeric, 1),
						   'winner', coalesce(w.variant = v ->> 'id', false))
					   || cadence.json_opt('name', v -> 'name')
					   || cadence.step_counts_json(s.sent, s.delivered, s.opened, s.clicked,
												   s.replied, s.bounced, s.failed, s.skipped)
					   ORDER BY o)
				  FROM jsonb_array_elements(a.variants) WITH ORDINALITY AS e(v, o)
				  LEFT JOIN cadence.step_stats s
					ON s.tenant_id = v_tenant AND s.cadence_id = c.id
				   AND s.step_number = a.step_number AND s.variant = v ->> 'id'
				  LEFT JOIN cadence.variant_winners w
					ON w.tenant_id = v_tenant AND w.cadence_id = c.id
				   AND w.action_id = a.action_id)) END
			ORDER BY a.step_number), '[]')
	  INTO v_steps
	  FROM cadence.cadence_actions a
	  LEFT JOIN LATERAL (
			SELECT sum(s.sent)::bigint AS sent, sum(s.delivered)::bigint AS delivered,
				   sum(s.opened)::bigint AS opened, sum(s.clicked)::bigint AS clicked,
				   sum(s.replied)::bigint AS replied, sum(s.bounced)::bigint AS bounced,
				   sum(s.failed)::bigint AS failed, sum(s.skipped)::bigint AS skipped
			  FROM cadence.step_stats s
			 WHERE s.tenant_id = v_tenant AND s.cadence_id = c.id
			   AND s.step_number = a.step_number) t ON true
	 WHERE a.tenant_id = v_tenant AND a.cadence_id = c.id AND a.version = c.version;

	RETURN jsonb_build_object('success', true, 'data', jsonb_build_object(
		'sequenceId', c.id,
		'totalEnrollments', v_total,
		'activeEnrollments', coalesce((v_runs ->> 'active')::bigint, 0),
		'pausedEnrollments', coalesce((v_runs ->> 'paused')::bigint, 0),
		'completedEnrollments', coalesce((v_runs ->> 'completed')::bigint, 0),
		'repliedEnrollments', coalesce((v_runs ->> 'replied')::bigint, 0),
		'replyRate', cadence.rate((v_runs ->> 'replied')::bigint, v_total),
		'meetingBookedEnrollments', coalesce((v_runs ->> 'meeting_booked')::bigint, 0),
		'meetingRate', cadence.rate((v_runs ->> 'meeting_booked')::bigint, v_total),
		'bouncedEnrollments', coalesce((v_runs ->> 'bounced')::bigint, 0),
		'unsubscribedEnrollments', coalesce((v_runs ->> 'unsubscribed')::bigint, 0),
		'cancelledEnrollments', coalesce((v_runs ->> 'cancelled')::bigint, 0),
		'failedEnrollments', coalesce((v_runs ->> 'failed')::bigint, 0),
		'stepStats', v_steps));
END
$$;
COMMENT ON FUNCTION cadence.sequence_stats(text) IS
	'A cadence''s statistics in seed 003''s shape: enrollments by outcome, reply and meeting rates, and per step (and A/B variant) messages sent, delivered, opened, clicked, replied to, bounced, with rates';

-- Count a cadence's step statistics again from its scheduled actions, for
-- after rows were changed by hand; returns the steps counted.
CREATE FUNCTION cadence.recount_stats(cadence_id text) RETURNS integer
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	v_tenant text := cadence.require_tenant();
	n int;
BEGIN
	PERFORM cadence.lock_cadence_for_write(v_tenant, recount_stats.cadence_id);
	DELETE FROM cadence.step_stats s
	 WHERE s.tenant_id = v_tenant AND s.cadence_id = recount_stats.cadence_id;
	INSERT INTO cadence.step_stats (tenant_id, cadence_id, step_number, variant, sent, failed,
									skipped, delivered, opened, clicked, replied, bounced)
	SELECT v_tenant, recount_stats.cadence_id, a.step_number, coalesce(a.variant, ''),
		   count(*) FILTER (WHERE a.status = 'sent'), count(*) FILTER (WHERE a.status = 'failed'),
		   count(*) FILTER (WHERE a.status = 'skipped'
							AND a.skip_reason NOT IN ('skipped_to_step', 'branched_past')),
		   count(a.delivered_at), count(a.opened_at), count(a.clicked_at), count(a.replied_at),
		   count(a.bounced_at)
	  FROM cadence.scheduled_actions a
	 WHERE a.tenant_id = v_tenant AND a.cadence_id = recount_stats.cadence_id
	 GROUP BY a.step_number, coalesce(a.variant, '');
	GET DIAGNOSTICS n = ROW_COUNT;
	RETURN n;
END
$$;
COMMENT ON FUNCTION cadence.recount_stats(text) IS
	'Count a cadence''s step statistics again from its scheduled actions (owners and admins)';

-- One page (1-based) of page_size rows, checked.
CREATE FUNCTION cadence.check_page(page integer, page_size integer) RETURNS void
LANGUAGE plpgsql IMMUTABLE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	IF page IS NULL OR page < 1 THEN
		RAISE EXCEPTION 'page must be at least 1, got %', coalesce(page::text, 'nothing')
			USING ERRCODE = '22023';
	END IF;
	IF page_size IS NULL OR page_size NOT BETWEEN 1 AND 500 THEN
		RAISE EXCEPTION 'page_size must be between 1 and 500, got %', coalesce(page_size::text, 'nothing')
			USING ERRCODE = '22023';
	END IF;
END
$$;

-- A run in seed 003's enrollment shape.
CREATE FUNCTION cadence.enrollment_json(r cadence.runs) RETURNS jsonb
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
	SELECT jsonb_strip_nulls(jsonb_build_object(
		'id', r.id, 'sequenceId', r.cadence_id, 'sequenceVersion', r.cadence_version,
		'contactId', r.lead_id, 'status', r.status, 'currentStepNumber', r.current_step,
		'assignedTo', r.assigned_to, 'exitReason', r.exit_reason, 'timezone', r.timezone,
		'enrolledAt', r.enrolled_at, 'pausedAt', r.paused_at, 'resumeAt', r.resume_at,
		'completedAt', r.completed_at, 'lastActivityAt', r.last_activity_at,
		'nextDueAt', (SELECT min(a.due_at) FROM cadence.scheduled_actions a
					   WHERE a.tenant_id = r.tenant_id AND a.run_id = r.id
						 AND a.status IN ('scheduled', 'planned', 'pending_manual')),
		'metadata', r.metadata))
$$;

-- seed 003's GET /sequences/:id/enrollments: a cadence's enrollments,
-- newest first, optionally of one status or assignee, one page at a time:
-- {"data": [...], "page", "pageSize", "total"}.
CREATE FUNCTION cadence.list_enrollments(cadence_id text, status text DEFAULT NULL,
										 assigned_to text DEFAULT NULL, page integer DEFAULT 1,
										 page_size integer DEFAULT 20)
RETURNS jsonb
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	v_tenant text := cadence.require_tenant();
	v_result jsonb;
BEGIN
	PERFORM cadence.check_page(page, page_size);
	IF status IS NOT NULL AND status NOT IN ('active', 'paused', 'completed', 'replied', 'bounced',
											 'unsubscribed', 'meeting_booked', 'cancelled', 'failed') THEN
		RAISE EXCEPTION 'unknown enrollment status "%"', status
			USING ERRCODE = '22023',
				  HINT = 'Statuses: active, paused, completed, replied, bounced, unsubscribed, meeting_booked, cancelled, failed.';
	END IF;
	IF NOT EXISTS (SELECT 1 FROM cadence.cadences c WHERE c.tenant_id = v_tenant
					  AND c.id = list_enrollments.cadence_id AND c.deleted_at IS NULL) THEN
		RAISE EXCEPTION 'cadence "%" not found', list_enrollments.cadence_id USING ERRCODE = 'P0002';
	END IF;
	WITH f AS (
		SELECT r FROM cadence.runs r
		 WHERE r.tenant_id = v_tenant AND r.cadence_id = list_enrollments.cadence_id
		   AND (list_enrollments.status IS NULL OR r.status = list_enrollments.status)
		   AND (list_enrollments.assigned_to IS NULL OR r.assigned_to = list_enrollments.assigned_to))
	SELECT jsonb_build_object(
		'data', coalesce((SELECT jsonb_agg(cadence.enrollment_json(p.r)
										   ORDER BY (p.r).enrolled_at DESC, (p.r).id DESC)
							FROM (SELECT f.r FROM f ORDER BY (f.r).enrolled_at DESC, (f.r).id DESC
								   LIMIT page_size OFFSET (page - 1)::bigint * page_size) p), '[]'),
		'page', page, 'pageSize', page_size, 'total', (SELECT count(*) FROM f))
	  INTO v_result;
	RETURN v_result;
END
$$;
COMMENT ON FUNCTION cadence.list_enrollments(text, text, text, integer, integer) IS
	'A cadence''s enrollments, newest first, filtered by status and assignee, one page at a time: {data, page, pageSize, total}';

-- seed 003's GET /sequences/:id/enrollments/:enrollmentId: a run and its
-- steps, with what happened to each.
CREATE FUNCTION cadence.get_enrollment(run_id bigint) RETURNS jsonb
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	r cadence.runs;
BEGIN
	SELECT * INTO r FROM cadence.runs x
	 WHERE x.tenant_id = cadence.require_tenant() AND x.id = get_enrollment.run_id;
	IF NOT FOUND THEN
		RAISE EXCEPTION 'run % not found', get_enrollment.run_id USING ERRCODE = 'P0002';
	END IF;
	RETURN cadence.enrollment_json(r) || jsonb_build_object('steps', (
		SELECT coalesce(jsonb_agg(jsonb_strip_nulls(jsonb_build_object(
				'stepNumber', a.step_number, 'actionId', a.action_id, 'type', a.type,
				'status', a.status, 'dueAt', a.due_at, 'movedReason', a.moved_reason,
				'attempts', a.attempts, 'variant', a.variant, 'skipReason', a.skip_reason,
				'lastError', a.last_error, 'providerMessageId', a.provider_message_id,
				'sentAt', a.sent_at, 'completedAt', a.completed_at,
				'deliveredAt', a.delivered_at, 'openedAt', a.opened_at,
				'clickedAt', a.clicked_at, 'repliedAt', a.replied_at, 'bouncedAt', a.bounced_at))
				ORDER BY a.step_number), '[]')
		  FROM cadence.scheduled_actions a
		 WHERE a.tenant_id = r.tenant_id AND a.run_id = r.id));
END
$$;
COMMENT ON FUNCTION cadence.get_enrollment(bigint) IS
	'One run of the caller''s tenant with each of its steps: status, due time, attempts, variant, outcome and engagement';

-- seed 003's GET /sequences/tasks: the manual steps waiting for a person,
-- by due time, optionally of one assignee, due by the end of due_date (in
-- the run's zone: overdue included), one page at a time.  status
-- pending_manual (default) means open tasks; also completed, skipped,
-- cancelled, or all.
CREATE FUNCTION cadence.list_tasks(assigned_to text DEFAULT NULL, status text DEFAULT 'pending_manual',
								   due_date date DEFAULT NULL, page integer DEFAULT 1,
								   page_size integer DEFAULT 50)
RETURNS jsonb
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	v_tenant text := cadence.require_tenant();
	v_status text := CASE status WHEN 'pending_manual' THEN 'open' ELSE status END;
	v_result jsonb;
BEGIN
	PERFORM cadence.check_page(page, page_size);
	IF v_status IS NULL OR v_status NOT IN ('open', 'completed', 'skipped', 'cancelled', 'all') THEN
		RAISE EXCEPTION 'unknown task status "%"', status
			USING ERRCODE = '22023', HINT = 'Statuses: pending_manual (open), completed, skipped, cancelled, all.';
	END IF;
	WITH t AS (
		SELECT t.*, r.cadence_id, r.timezone, a.step_number,
			   nullif(concat_ws(' ', c.first_name, c.last_name), '') AS lead_name,
			   c.company, c.phone, c.email
		  FROM cadence.tasks t
		  JOIN cadence.runs r ON r.tenant_id = t.tenant_id AND r.id = t.run_id
		  JOIN cadence.scheduled_actions a ON a.tenant_id = t.tenant_id AND a.run_id = t.run_id
		   AND a.id = t.scheduled_action_id
		  LEFT JOIN cadence.contacts c ON c.tenant_id = t.tenant_id AND c.id = t.lead_id
		 WHERE t.tenant_id = v_tenant
		   AND (v_status = 'all' OR t.status = v_status)
		   AND (list_tasks.assigned_to IS NULL OR t.assignee_id = list_tasks.assigned_to)
		   AND (due_date IS NULL OR t.due_at < (due_date + 1)::timestamp AT TIME ZONE r.timezone))
	SELECT jsonb_build_object(
		'data', coalesce((SELECT jsonb_agg(jsonb_strip_nulls(jsonb_build_object(
					'id', p.id, 'runId', p.run_id, 'sequenceId', p.cadence_id,
					'stepNumber', p.step_number, 'type', p.type, 'title', p.title,
					'description', p.description, 'assignedTo', p.assignee_id,
					'contactId', p.lead_id, 'contactName', p.lead_name, 'company', p.company,
					'phone', p.phone, 'email', p.email, 'status', p.status, 'dueAt', p.due_at,
					'outcome', p.outcome, 'notes', p.notes, 'completedAt', p.completed_at))
					ORDER BY p.due_at, p.id)
				  FROM (SELECT * FROM t ORDER BY t.due_at, t.id
						 LIMIT page_size OFFSET (page - 1)::bigint * page_size) p), '[]'),
		'page', page, 'pageSize', page_size, 'total', (SELECT count(*) FROM t))
	  INTO v_result;
	RETURN v_result;
END
$$;
COMMENT ON FUNCTION cadence.list_tasks(text, text, date, integer, integer) IS
	'The manual task list: open tasks (or of another status) by due time, of one assignee, due by a date, one page at a time: {data, page, pageSize, total}';

-- Declare variant_id the winner of a step's A/B test: runs enrolled from
-- now on (from this transaction's start) get it; runs under way keep
-- theirs.  Owners and admins.
CREATE FUNCTION cadence.declare_winner(cadence_id text, action_id text, variant_id text)
RETURNS jsonb
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	v_tenant text := cadence.require_tenant();
	c cadence.cadences := cadence.lock_cadence_for_write(v_tenant, declare_winner.cadence_id);
	v_at timestamptz := now();
BEGIN
	IF NOT EXISTS (SELECT 1 FROM cadence.cadence_actions a, jsonb_array_elements(a.variants) AS v
					WHERE a.tenant_id = v_tenant AND a.cadence_id = c.id AND a.version = c.version
					  AND a.action_id = declare_winner.action_id AND v ->> 'id' = variant_id) THEN
		RAISE EXCEPTION 'step "%" of cadence "%" has no variant "%"', declare_winner.action_id,
			c.id, variant_id
			USING ERRCODE = '22023';
	END IF;
	INSERT INTO cadence.variant_winners (tenant_id, cadence_id, action_id, variant, declared_at,
										 declared_by)
	VALUES (v_tenant, c.id, declare_winner.action_id, variant_id, v_at, cadence.current_user_id())
	ON CONFLICT ON CONSTRAINT variant_winners_pkey DO UPDATE
	   SET variant = excluded.variant, declared_at = excluded.declared_at,
		   declared_by = excluded.declared_by;
	PERFORM cadence.log_cadence_event(v_tenant, c.id, 'cadence.variant_winner',
		jsonb_build_object('actionId', declare_winner.action_id, 'variant', variant_id));
	RETURN jsonb_build_object('success', true, 'cadenceId', c.id, 'actionId', declare_winner.action_id,
							  'variant', variant_id, 'declaredAt', v_at);
END
$$;
COMMENT ON FUNCTION cadence.declare_winner(text, text, text) IS
	'Declare an A/B variant of a step the winner: runs enrolled from now on get it, runs under way keep theirs';
-- Privileges.  Nothing is granted to PUBLIC: a DBA names the roles that
-- may use cadence with grant_access() (for Supabase: 'authenticated').

REVOKE ALL ON ALL FUNCTIONS IN SCHEMA cadence FROM PUBLIC;

CREATE FUNCTION cadence.grant_access(role regrole) RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	t text;
BEGIN
	EXECUTE format('GRANT USAGE ON SCHEMA cadence TO %s', role);
	EXECUTE format('GRANT EXECUTE ON ALL FUNCTIONS IN SCHEMA cadence TO %s', role);
	EXECUTE format('REVOKE EXECUTE ON FUNCTION cadence.grant_access(regrole) FROM %s', role);
	-- Sending reads provider credentials: it is for the worker, pg_cron and
	-- the database owner, not for application roles.
	EXECUTE format('REVOKE EXECUTE ON FUNCTION cadence.run_due_actions(integer, timestamptz, text) FROM %s', role);
	FOREACH t IN ARRAY ARRAY['members', 'cadences', 'cadence_days',
							 'cadence_actions', 'contacts', 'suppressions',
							 'holidays', 'templates', 'runs', 'scheduled_actions',
							 'tasks', 'variant_winners'] LOOP
		EXECUTE format('GRANT SELECT, INSERT, UPDATE, DELETE ON cadence.%I TO %s', t, role);
	END LOOP;
	-- The runners' counters are theirs to change; ingest_webhook, which runs
	-- as its caller, adds engagement to the step counters.
	EXECUTE format('GRANT SELECT ON cadence.provider_slots, cadence.daily_sends TO %s', role);
	EXECUTE format('GRANT SELECT, INSERT, UPDATE ON cadence.step_stats TO %s', role);
	-- The audit log and the record of webhooks applied are append-only.
	EXECUTE format('GRANT SELECT, INSERT ON cadence.events, cadence.inbound_events TO %s', role);
	-- Every provider column but the credentials.
	EXECUTE format('GRANT SELECT (tenant_id, id, channel, kind, base_url, settings,
								  rate_per_second, max_concurrency, is_default,
								  created_at),
						  INSERT, UPDATE, DELETE ON cadence.providers TO %s', role);
END
$$;
COMMENT ON FUNCTION cadence.grant_access(regrole) IS
	'Let a role use cadence: schema, functions and tables, subject to row-level security; provider credentials stay hidden';
REVOKE ALL ON FUNCTION cadence.grant_access(regrole) FROM PUBLIC;

-- pg_dump keeps the user data held in extension tables (one call per
-- command: each call updates the pg_extension row).
DO $$
DECLARE
	rel text;
BEGIN
	FOREACH rel IN ARRAY ARRAY['members', 'cadences', 'cadence_days',
							   'cadence_actions', 'contacts', 'suppressions',
							   'holidays', 'templates', 'runs', 'scheduled_actions',
							   'events', 'tasks', 'providers', 'provider_slots',
							   'daily_sends', 'inbound_events', 'step_stats',
							   'variant_winners', 'runs_id_seq',
							   'scheduled_actions_id_seq', 'events_id_seq',
							   'tasks_id_seq'] LOOP
		PERFORM pg_catalog.pg_extension_config_dump('cadence.' || rel, '');
	END LOOP;
END
$$;
