-- Provider accounts.  Credentials are readable only by the extension owner
-- and the dispatcher's role; grant_access() leaves that column out.

CREATE TABLE cadence.providers (
	tenant_id			text COLLATE "C" NOT NULL,
	id					text COLLATE "C" NOT NULL DEFAULT gen_random_uuid()::text,
	channel				text NOT NULL
						CHECK (channel IN ('sms', 'email', 'whatsapp', 'webhook', 'ai',
										   'calendar')),
	-- one of cadence.provider_kinds(), checked once that function exists
	-- (providers_kind_known, schema/code/internal/75_tenant.sql)
	kind				text NOT NULL,
	base_url			text NOT NULL,
	credentials			jsonb NOT NULL DEFAULT '{}'
						CHECK (jsonb_typeof(credentials) = 'object'),
	settings			jsonb NOT NULL DEFAULT '{}'
						CHECK (jsonb_typeof(settings) = 'object')
						-- the sender goes into mail headers and SMTP commands
						CONSTRAINT providers_sender_on_one_line
						CHECK (concat(settings ->> 'from', settings ->> 'fromName')
							   !~ '[\x01-\x1f\x7f]'),
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
