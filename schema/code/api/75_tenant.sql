-- What an application changes besides its cadences, runs and leads: the
-- tenant's members, provider accounts, do-not-contact list, holiday
-- calendars and templates.  Applications write no table but contacts
-- directly (schema/code/internal/30_security.sql); these functions are how they change
-- the rest.  JSON out, named arguments, each a PostgREST RPC.  They run as
-- the extension's owner and touch the caller's tenant only:
--
--   set_member(user_id, role)          owners and admins; only an owner
--                                      makes someone an owner or changes
--                                      an owner's role
--   remove_member(user_id)             owners and admins (an owner: only
--                                      an owner); a tenant keeps an owner
--   upsert_provider(account)           owners and admins; credentials go
--                                      in, never come out
--   delete_provider(id)                owners and admins
--   add_suppression(channel, address, reason)    any member
--   remove_suppression(channel, address)         owners and admins
--   set_holiday(day, name, calendar), remove_holiday(day, calendar)
--                                      owners and admins
--   upsert_template(template), delete_template(id)  any member
--
-- Members, accounts and the do-not-contact list changed leave an event
-- (member.*, provider.*, suppression.*) with the acting user.  remove_* and
-- delete_* answer {"removed": false} when there was nothing to remove.

CREATE OR REPLACE FUNCTION cadence.set_member(user_id text, role text DEFAULT 'member') RETURNS jsonb
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	v_tenant text := cadence.require_role('admin', 'change the members');
	v_user text := set_member.user_id;
	v_role text := set_member.role;
	v_old text;
BEGIN
	IF coalesce(btrim(v_user), '') = '' THEN
		RAISE EXCEPTION 'user_id must not be empty' USING ERRCODE = '22023';
	END IF;
	IF v_role IS NULL OR v_role NOT IN ('owner', 'admin', 'member') THEN
		RAISE EXCEPTION 'unknown member role "%"', v_role
			USING ERRCODE = '22023', HINT = 'Roles: owner, admin, member.';
	END IF;
	SELECT m.role INTO v_old FROM cadence.members m
	 WHERE m.tenant_id = v_tenant AND m.user_id = v_user FOR UPDATE;
	IF 'owner' IN (v_role, v_old) AND v_role IS DISTINCT FROM v_old THEN
		PERFORM cadence.require_role('owner', 'make or unmake owners');
	END IF;
	IF v_old = 'owner' AND v_role <> 'owner' THEN
		PERFORM cadence.keep_an_owner(v_tenant, v_user);
	END IF;
	INSERT INTO cadence.members AS m (tenant_id, user_id, role)
	VALUES (v_tenant, v_user, v_role)
	ON CONFLICT ON CONSTRAINT members_pkey DO UPDATE SET role = excluded.role;
	PERFORM cadence.log_cadence_event(v_tenant, NULL, 'member.updated',
		jsonb_build_object('memberId', v_user, 'role', v_role)
		|| cadence.json_opt('previousRole', to_jsonb(v_old)));
	RETURN jsonb_build_object('userId', v_user, 'role', v_role)
		|| cadence.json_opt('previousRole', to_jsonb(v_old));
END
$$;
COMMENT ON FUNCTION cadence.set_member(text, text) IS
	'Add a user to the caller''s tenant or change its role (owner, admin, member); owners and admins, and only an owner touches owners';

CREATE OR REPLACE FUNCTION cadence.remove_member(user_id text) RETURNS jsonb
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	v_tenant text := cadence.require_role('admin', 'change the members');
	v_user text := remove_member.user_id;
	v_old text;
BEGIN
	SELECT m.role INTO v_old FROM cadence.members m
	 WHERE m.tenant_id = v_tenant AND m.user_id = v_user FOR UPDATE;
	IF NOT FOUND THEN
		RETURN '{"removed": false}';
	END IF;
	IF v_old = 'owner' THEN
		PERFORM cadence.require_role('owner', 'remove an owner');
		PERFORM cadence.keep_an_owner(v_tenant, v_user);
	END IF;
	DELETE FROM cadence.members m WHERE m.tenant_id = v_tenant AND m.user_id = v_user;
	PERFORM cadence.log_cadence_event(v_tenant, NULL, 'member.removed',
		jsonb_build_object('memberId', v_user, 'previousRole', v_old));
	RETURN jsonb_build_object('removed', true, 'userId', v_user, 'previousRole', v_old);
END
$$;
COMMENT ON FUNCTION cadence.remove_member(text) IS
	'Take a user out of the caller''s tenant: from its next statement on it sees and changes nothing of it; owners and admins';

-- upsert_provider(account): create or change a provider account of the
-- caller's tenant.  account:
--   id               optional (absent: generated); an existing id is changed
--   kind             one of cadence.provider_kinds() (required for a new
--                    one)
--   channel          the kind's channel (twilio: sms or whatsapp)
--   baseUrl          http(s)://..., smtp(s)://... for smtp (required for a
--                    new one)
--   credentials      an object of strings; absent keeps what the account
--                    has, unless baseUrl or kind change (then they are
--                    cleared); {} clears them
--   settings         an object (from, fromName, ...)
--   ratePerSecond, maxConcurrency   positive, or null for no limit
--   isDefault        true makes it the channel's default (the former
--                    default stops being one)
-- Members left out keep their value.  Returns the account without its
-- credentials (their names in credentialKeys).
CREATE OR REPLACE FUNCTION cadence.upsert_provider(account jsonb) RETURNS jsonb
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	v_tenant text := cadence.require_role('admin', 'change provider accounts');
	v_old cadence.providers;
	v_new cadence.providers;
	v_credentials jsonb;
	v_scheme text;
BEGIN
	PERFORM cadence.check_body(account, 'a provider account',
		ARRAY['id', 'kind', 'channel', 'baseUrl', 'credentials', 'settings', 'ratePerSecond',
			  'maxConcurrency', 'isDefault'],
		ARRAY['createdAt', 'credentialKeys']);
	v_new.id := coalesce(cadence.body_id(account), gen_random_uuid()::text);
	SELECT * INTO v_old FROM cadence.providers p
	 WHERE p.tenant_id = v_tenant AND p.id = v_new.id FOR UPDATE;

	v_new.tenant_id := v_tenant;
	v_new.kind := coalesce(cadence.json_field(account, 'kind', '', 'string',
											  required => v_old.id IS NULL) #>> '{}', v_old.kind);
	IF cadence.provider_channels(v_new.kind) IS NULL THEN
		RAISE EXCEPTION 'unknown provider kind "%"', v_new.kind
			USING ERRCODE = '22023',
				  HINT = 'Kinds: ' || array_to_string(cadence.provider_kinds(), ', ') || '.';
	END IF;
	v_new.channel := coalesce(cadence.json_field(account, 'channel', '', 'string') #>> '{}',
							  CASE WHEN v_old.kind = v_new.kind THEN v_old.channel END,
							  (cadence.provider_channels(v_new.kind))[1]);
	IF v_new.channel <> ALL (cadence.provider_channels(v_new.kind)) THEN
		RAISE EXCEPTION 'a % account sends on %, not on "%"', v_new.kind,
			array_to_string(cadence.provider_channels(v_new.kind), ' or '), v_new.channel
			USING ERRCODE = '22023';
	END IF;
	v_new.base_url := coalesce(cadence.json_field(account, 'baseUrl', '', 'string',
												  required => v_old.id IS NULL) #>> '{}',
							   v_old.base_url);
	v_scheme := CASE WHEN v_new.kind = 'smtp' THEN 'smtp' ELSE 'http' END;
	IF v_new.base_url !~* ('^' || v_scheme || 's?://[^/?#[:space:]]+') THEN
		RAISE EXCEPTION 'baseUrl of a % account must be an % or %s URL, got "%"', v_new.kind,
			v_scheme, v_scheme, v_new.base_url
			USING ERRCODE = '22023';
	END IF;
	v_credentials := cadence.json_field(account, 'credentials', '', 'object');
	IF EXISTS (SELECT 1 FROM jsonb_each(v_credentials) AS c WHERE jsonb_typeof(c.value) <> 'string') THEN
		RAISE EXCEPTION 'credentials must hold strings only'
			USING ERRCODE = '22023';
	END IF;
	v_new.settings := coalesce(cadence.json_field(account, 'settings', '', 'object'),
							   v_old.settings, '{}');
	v_new.rate_per_second := CASE WHEN account ? 'ratePerSecond'
		THEN (cadence.json_field(account, 'ratePerSecond', '', 'number'))::numeric
		ELSE v_old.rate_per_second END;
	v_new.max_concurrency := CASE WHEN account ? 'maxConcurrency'
		THEN (cadence.json_field(account, 'maxConcurrency', '', 'integer'))::int
		ELSE v_old.max_concurrency END;
	IF v_new.rate_per_second <= 0 OR v_new.max_concurrency < 1 THEN
		RAISE EXCEPTION 'ratePerSecond and maxConcurrency must be positive, got % and %',
			v_new.rate_per_second, v_new.max_concurrency
			USING ERRCODE = '23514', HINT = 'Use null for no limit.';
	END IF;
	v_new.is_default := coalesce((cadence.json_field(account, 'isDefault', '', 'boolean'))::boolean,
								 v_old.is_default, false);

	IF v_new.is_default THEN
		UPDATE cadence.providers p SET is_default = false
		 WHERE p.tenant_id = v_tenant AND p.channel = v_new.channel AND p.is_default
		   AND p.id <> v_new.id;
	END IF;
	INSERT INTO cadence.providers AS p (tenant_id, id, channel, kind, base_url, credentials,
										settings, rate_per_second, max_concurrency, is_default)
	VALUES (v_tenant, v_new.id, v_new.channel, v_new.kind, v_new.base_url,
			coalesce(v_credentials, '{}'), v_new.settings, v_new.rate_per_second,
			v_new.max_concurrency, v_new.is_default)
	ON CONFLICT ON CONSTRAINT providers_pkey DO UPDATE
	   SET credentials = CASE WHEN p.base_url IS DISTINCT FROM excluded.base_url
								   OR p.kind IS DISTINCT FROM excluded.kind
							  THEN '{}' ELSE p.credentials END,
		   channel = excluded.channel, kind = excluded.kind, base_url = excluded.base_url,
		   settings = excluded.settings, rate_per_second = excluded.rate_per_second,
		   max_concurrency = excluded.max_concurrency, is_default = excluded.is_default
	RETURNING * INTO v_new;
	-- New credentials go in after the address: sent again unchanged with a
	-- new baseUrl, they are still the ones the caller meant.
	IF v_old.id IS NOT NULL AND v_credentials IS NOT NULL THEN
		UPDATE cadence.providers p SET credentials = v_credentials
		 WHERE p.tenant_id = v_tenant AND p.id = v_new.id
		RETURNING * INTO v_new;
	END IF;

	PERFORM cadence.log_cadence_event(v_tenant, NULL, 'provider.saved',
		jsonb_build_object('providerId', v_new.id, 'kind', v_new.kind, 'channel', v_new.channel,
						   'baseUrl', v_new.base_url, 'created', v_old.id IS NULL,
						   'credentialsSet', v_credentials IS NOT NULL,
						   'credentialsCleared', v_credentials IS NULL
												 AND v_old.credentials <> '{}'
												 AND v_new.credentials = '{}'));
	RETURN cadence.provider_json(v_new);
END
$$;
COMMENT ON FUNCTION cadence.upsert_provider(jsonb) IS
	'Create or change a provider account of the caller''s tenant (owners and admins); credentials are write-only and are cleared when baseUrl or kind change without new ones';

CREATE OR REPLACE FUNCTION cadence.delete_provider(id text) RETURNS jsonb
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	v_tenant text := cadence.require_role('admin', 'change provider accounts');
	v_id text := delete_provider.id;
BEGIN
	DELETE FROM cadence.providers p WHERE p.tenant_id = v_tenant AND p.id = v_id;
	IF NOT FOUND THEN
		RETURN '{"removed": false}';
	END IF;
	PERFORM cadence.log_cadence_event(v_tenant, NULL, 'provider.deleted',
									  jsonb_build_object('providerId', v_id));
	RETURN jsonb_build_object('removed', true, 'id', v_id);
END
$$;
COMMENT ON FUNCTION cadence.delete_provider(text) IS
	'Delete a provider account of the caller''s tenant, with its credentials (owners and admins)';

CREATE OR REPLACE FUNCTION cadence.add_suppression(channel text, address text,
										reason text DEFAULT 'manual') RETURNS jsonb
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	v_tenant text := cadence.require_tenant();
	v_channel text := add_suppression.channel;
	v_address text := cadence.suppression_key(v_channel, add_suppression.address);
BEGIN
	IF reason IS NULL OR reason NOT IN ('manual', 'unsubscribe', 'bounce', 'spam_report',
										'stop_keyword', 'invalid') THEN
		RAISE EXCEPTION 'unknown suppression reason "%"', reason
			USING ERRCODE = '22023',
				  HINT = 'Reasons: manual, unsubscribe, bounce, spam_report, stop_keyword, invalid.';
	END IF;
	INSERT INTO cadence.suppressions (tenant_id, channel, address, reason)
	VALUES (v_tenant, v_channel, v_address, reason)
	ON CONFLICT ON CONSTRAINT suppressions_pkey DO NOTHING;
	IF NOT FOUND THEN
		RETURN jsonb_build_object('added', false, 'channel', v_channel, 'address', v_address);
	END IF;
	PERFORM cadence.log_cadence_event(v_tenant, NULL, 'suppression.added',
		jsonb_build_object('channel', v_channel, 'address', v_address, 'reason', reason));
	RETURN jsonb_build_object('added', true, 'channel', v_channel, 'address', v_address,
							  'reason', reason);
END
$$;
COMMENT ON FUNCTION cadence.add_suppression(text, text, text) IS
	'Put an address on the caller''s tenant''s do-not-contact list for a channel (or all); any member';

CREATE OR REPLACE FUNCTION cadence.remove_suppression(channel text, address text) RETURNS jsonb
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	v_tenant text := cadence.require_role('admin', 'remove addresses from the do-not-contact list');
	v_channel text := remove_suppression.channel;
	v_address text := cadence.suppression_key(v_channel, remove_suppression.address);
	v_reason text;
BEGIN
	DELETE FROM cadence.suppressions s
	 WHERE s.tenant_id = v_tenant AND s.channel = v_channel AND s.address = v_address
	RETURNING s.reason INTO v_reason;
	IF NOT FOUND THEN
		RETURN '{"removed": false}';
	END IF;
	PERFORM cadence.log_cadence_event(v_tenant, NULL, 'suppression.removed',
		jsonb_build_object('channel', v_channel, 'address', v_address, 'reason', v_reason));
	RETURN jsonb_build_object('removed', true, 'channel', v_channel, 'address', v_address,
							  'reason', v_reason);
END
$$;
COMMENT ON FUNCTION cadence.remove_suppression(text, text) IS
	'Take an address off the caller''s tenant''s do-not-contact list (owners and admins); the removal is kept in the audit log';

CREATE OR REPLACE FUNCTION cadence.set_holiday(day date, name text DEFAULT NULL,
									calendar text DEFAULT 'default') RETURNS jsonb
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	v_tenant text := cadence.require_role('admin', 'change holiday calendars');
BEGIN
	IF day IS NULL OR coalesce(btrim(calendar), '') = '' THEN
		RAISE EXCEPTION 'a holiday needs a day and a calendar name' USING ERRCODE = '22023';
	END IF;
	INSERT INTO cadence.holidays AS h (tenant_id, calendar, day, name)
	VALUES (v_tenant, set_holiday.calendar, set_holiday.day, set_holiday.name)
	ON CONFLICT ON CONSTRAINT holidays_pkey DO UPDATE SET name = excluded.name;
	RETURN jsonb_build_object('calendar', calendar, 'day', day)
		|| cadence.json_opt('name', to_jsonb(name));
END
$$;
COMMENT ON FUNCTION cadence.set_holiday(date, text, text) IS
	'Add a day to a holiday calendar of the caller''s tenant (owners and admins); cadences name their calendar in settings.holidayCalendar';

CREATE OR REPLACE FUNCTION cadence.remove_holiday(day date, calendar text DEFAULT 'default') RETURNS jsonb
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	v_tenant text := cadence.require_role('admin', 'change holiday calendars');
BEGIN
	DELETE FROM cadence.holidays h
	 WHERE h.tenant_id = v_tenant AND h.calendar = remove_holiday.calendar
	   AND h.day = remove_holiday.day;
	RETURN jsonb_build_object('removed', FOUND);
END
$$;
COMMENT ON FUNCTION cadence.remove_holiday(date, text) IS
	'Take a day off a holiday calendar of the caller''s tenant (owners and admins)';

-- upsert_template(template): create or replace a template of the caller's
-- tenant: {id?, name, channel? (email, sms, whatsapp; default email),
-- subject?, bodyHtml?, bodyText?}, one of the bodies at least.
CREATE OR REPLACE FUNCTION cadence.upsert_template(template jsonb) RETURNS jsonb
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	v_tenant text := cadence.require_tenant();
	v_new cadence.templates;
BEGIN
	PERFORM cadence.check_body(template, 'a template',
		ARRAY['id', 'name', 'channel', 'subject', 'bodyHtml', 'bodyText'],
		ARRAY['createdAt', 'updatedAt']);
	v_new.id := coalesce(cadence.body_id(template), gen_random_uuid()::text);
	v_new.name := cadence.json_field(template, 'name', '', 'string', required => true) #>> '{}';
	IF btrim(v_new.name) = '' THEN
		RAISE EXCEPTION 'name must not be empty' USING ERRCODE = '23514';
	END IF;
	v_new.channel := coalesce(cadence.json_field(template, 'channel', '', 'string') #>> '{}',
							  'email');
	IF v_new.channel NOT IN ('email', 'sms', 'whatsapp') THEN
		RAISE EXCEPTION 'unknown channel "%" at channel', v_new.channel
			USING ERRCODE = '22023', HINT = 'Templates are for email, sms or whatsapp.';
	END IF;
	v_new.subject := cadence.json_field(template, 'subject', '', 'string') #>> '{}';
	v_new.body_html := cadence.json_field(template, 'bodyHtml', '', 'string') #>> '{}';
	v_new.body_text := cadence.json_field(template, 'bodyText', '', 'string') #>> '{}';
	IF v_new.body_html IS NULL AND v_new.body_text IS NULL THEN
		PERFORM cadence.raise_missing('bodyText', 'A template has bodyHtml, bodyText or both.');
	END IF;
	INSERT INTO cadence.templates AS t (tenant_id, id, name, channel, subject, body_html,
										body_text)
	VALUES (v_tenant, v_new.id, v_new.name, v_new.channel, v_new.subject, v_new.body_html,
			v_new.body_text)
	ON CONFLICT ON CONSTRAINT templates_pkey DO UPDATE
	   SET name = excluded.name, channel = excluded.channel, subject = excluded.subject,
		   body_html = excluded.body_html, body_text = excluded.body_text, updated_at = now()
	RETURNING * INTO v_new;
	RETURN cadence.template_json(v_new);
END
$$;
COMMENT ON FUNCTION cadence.upsert_template(jsonb) IS
	'Create or replace a message template of the caller''s tenant, which steps name by templateId; any member';

CREATE OR REPLACE FUNCTION cadence.delete_template(id text) RETURNS jsonb
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	v_tenant text := cadence.require_tenant();
BEGIN
	DELETE FROM cadence.templates t WHERE t.tenant_id = v_tenant AND t.id = delete_template.id;
	RETURN jsonb_build_object('removed', FOUND);
END
$$;
COMMENT ON FUNCTION cadence.delete_template(text) IS
	'Delete a message template of the caller''s tenant; any member';
