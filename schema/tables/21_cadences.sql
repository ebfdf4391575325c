-- Cadence definitions.  A cadence has numbered days, each with ordered
-- actions (the Cadence shape).  Days and actions are kept per version:
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
	-- one of cadence.action_types(), checked once that function exists
	-- (cadence_actions_type_known, schema/code/internal/65_validate.sql)
	type			text NOT NULL,
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
