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
--                      scheduled --claimed by a runner (runner set to its
--                                token, attempts + 1)--> sending
--                      sending --its runner died--> sending (taken over at
--                                once by another runner: a new attempt, or
--                                failed when the attempts are spent)
--                      sending --provider accepted--> sent
--                      any but sent --a provider accepted one of its
--                                requests, whenever the answer comes--> sent
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
--   action ends (sent, skipped, failed, completed) at T the run moves to its
--   next planned action, and everything after it is re-planned from T (what
--   happened re-anchors), or the run completes.

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
-- scan).  cadence never deletes a run; whoever deletes one deletes its
-- actions with it (a runner skips a due action whose run is gone, as
-- run_not_found); events, the audit log, outlive what they describe.
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
													 'retry', 'no_send_window')),
	attempts			integer NOT NULL DEFAULT 0 CHECK (attempts >= 0),
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
	runner				bigint,
	-- An action is addressed through its run: the key also serves every
	-- statement about one run's actions.
	PRIMARY KEY (tenant_id, run_id, id),
	CHECK ((status = 'sending') = (runner IS NOT NULL))
);
COMMENT ON TABLE cadence.scheduled_actions IS
	'One planned execution of one cadence action for one run: due time, status, attempts, the runner holding it, provider result, engagement';
COMMENT ON COLUMN cadence.scheduled_actions.planned_at IS
	'When the plan puts the action; due_at starts equal and moves with retries and send-time limits; both are planned again from when the action before it ended';
COMMENT ON COLUMN cadence.scheduled_actions.moved_reason IS
	'Why due_at is not what the rule alone gives: weekend, holiday, outside_business_hours, dst_gap, quiet_hours, daily_cap, rate_limit, retry; no_send_window: no allowed instant within 14 days, so a runner skips it';
COMMENT ON COLUMN cadence.scheduled_actions.attempts IS
	'Sending attempts so far; every attempt carries the same idempotency key, cadence-<installation>-<id>';
COMMENT ON COLUMN cadence.scheduled_actions.runner IS
	'While sending: the token of the runner holding the action (from cadence.runner_seq); it holds its claims as long as it lives (see src/dispatch/claim.c)';
COMMENT ON COLUMN cadence.scheduled_actions.variant IS
	'The A/B variant the run got for this step: the same for the run on every attempt';
COMMENT ON COLUMN cadence.scheduled_actions.replied_at IS
	'First reply to this message (an auto-reply does not count); opened_at, clicked_at, delivered_at and bounced_at alike come from provider webhooks';
COMMENT ON COLUMN cadence.scheduled_actions.rendered IS
	'What was sent: recipient, subject, text, provider account and kind, the AI rewrite if any; never credentials';
-- The dispatcher's hot path: due work across all tenants, oldest first.
CREATE INDEX scheduled_actions_due_idx ON cadence.scheduled_actions (due_at)
	WHERE status = 'scheduled';
-- The actions in flight, one index for both questions asked of them: the
-- runners holding some (a claim looks for those that died, runner by
-- runner), and what each provider account has out (its concurrency limit,
-- counted over the few entries in flight).  One entry per claim, not two.
CREATE INDEX scheduled_actions_sending_idx
	ON cadence.scheduled_actions (runner, tenant_id, provider_id)
	WHERE status = 'sending';
-- What a webhook names: our idempotency key (the id of an action sent),
-- or the provider's message id.  Partial, so that planning writes no entry
-- here.
CREATE INDEX scheduled_actions_sent_id_idx ON cadence.scheduled_actions (id)
	WHERE status = 'sent';
CREATE INDEX scheduled_actions_provider_msg_idx
	ON cadence.scheduled_actions (provider_message_id)
	WHERE provider_message_id IS NOT NULL;

-- Every request a runner makes to a provider is an event, with its
-- payload's attempt, runner (token) and outcome: accepted (2xx), refused
-- (httpStatus, the HTTP or SMTP status), timed_out, cut (the answer began
-- and the connection closed before its end), no_answer (no connection, or
-- one closed before any answer: the two read alike, so that no port tells
-- which) or blocked (the address policy refused it before any request).
-- Its type is what it did to the action: action.sent, action.retry or
-- action.failed, or action.request when the action had moved on without it
-- (a run cancelled meanwhile, a repeat of an action already sent).  An
-- attempt whose runner died before recording it is action.unrecorded
-- (outcome unrecorded), written by the runner that takes the action over.
CREATE TABLE cadence.events (
	tenant_id			text COLLATE "C" NOT NULL,
	id					bigint GENERATED ALWAYS AS IDENTITY,
	run_id				bigint,
	scheduled_action_id	bigint,
	cadence_id			text COLLATE "C",
	lead_id				text COLLATE "C",
	-- one of cadence.event_types(), checked by events_type_known, which
	-- the code parts make (schema/code/internal/07_event_types.sql)
	type				text NOT NULL,
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
