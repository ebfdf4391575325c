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

-- Runner tokens.  Every runner process (a dispatcher, the background worker
-- of a cadence.run_due_actions() call) takes one when it starts claiming and
-- holds the advisory lock (1667326053, token) for as long as it lives; the
-- actions it claims carry the token (scheduled_actions.runner).  Tokens
-- come back only after 2^31 runners, so a dead runner's claims are not
-- mistaken for a live one's; pg_dump keeps the sequence for the same reason.
CREATE SEQUENCE cadence.runner_seq AS integer CYCLE;
COMMENT ON SEQUENCE cadence.runner_seq IS
	'Tokens of runner processes; see cadence.scheduled_actions.runner';
