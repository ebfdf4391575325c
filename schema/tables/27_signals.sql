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
