-- The default lead directory, the do-not-contact list and holiday calendars.
-- Applications write contacts directly (schema/code/internal/30_security.sql): its
-- constraints refuse what the runners could not read, its time zone
-- checked against PostgreSQL's (schema/code/api/60_schedule.sql).

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
