-- Message templates a step names by templateId instead of
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
