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

CREATE TABLE cadence.suppressions (
	tenant_id	text COLLATE "C" NOT NULL,
	channel		text NOT NULL
				CHECK (channel IN ('sms', 'email', 'whatsapp', 'call', 'all')),
	address		text COLLATE "C" NOT NULL,
	reason		text NOT NULL DEFAULT 'manual'
				CHECK (reason IN ('manual', 'unsubscribe', 'bounce',
								  'spam_report', 'stop_keyword', 'invalid')),
	created_at	timestamptz NOT NULL DEFAULT now(),
	PRIMARY KEY (tenant_id, channel, address)
);
COMMENT ON TABLE cadence.suppressions IS
	'Do-not-contact list per channel and address (email, phone, WhatsApp number); channel all blocks every channel';

CREATE TABLE cadence.holidays (
	tenant_id	text COLLATE "C" NOT NULL,
	calendar	text COLLATE "C" NOT NULL DEFAULT 'default',
	day			date NOT NULL,
	name		text,
	PRIMARY KEY (tenant_id, calendar, day)
);
COMMENT ON TABLE cadence.holidays IS
	'Holiday calendars: local dates on which no business-day step is planned; a cadence names its calendar in settings.holidayCalendar';
