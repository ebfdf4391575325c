-- What the runners share to keep limits across runners: the next free send
-- slot of each rate-limited provider account, and how many runs of each
-- cadence have started on each local day (settings.maxContactsPerDay).  Rows
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
	started		integer NOT NULL DEFAULT 0 CHECK (started >= 0),
	PRIMARY KEY (tenant_id, cadence_id, day),
	FOREIGN KEY (tenant_id, cadence_id)
		REFERENCES cadence.cadences (tenant_id, id) ON DELETE CASCADE
);
COMMENT ON TABLE cadence.daily_sends IS
	'Runs of a cadence started (their first action handed to a provider) on each local day of its time zone, against settings.maxContactsPerDay; follow-ups are not counted';
