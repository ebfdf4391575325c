-- Tenant membership.  A DBA adds the first owner of a tenant (or a service
-- role does, with cadence.set_member); its owners and admins add the rest.
-- The ids are whatever the application uses (UUID strings in Supabase).

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
