-- What the tenant API (api/75_tenant.sql) is built of: keeping a tenant's
-- owner, the JSON of a provider account and of a template, the channels
-- an account kind sends on, and the key of a do-not-contact entry.

-- Raise 55000 unless the tenant has an owner besides user_id.  The owners'
-- rows are locked first, so that two owners demoting each other at once
-- cannot leave the tenant without one.
CREATE OR REPLACE FUNCTION cadence.keep_an_owner(p_tenant_id text, p_user_id text) RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	PERFORM 1 FROM cadence.members m
	 WHERE m.tenant_id = p_tenant_id AND m.role = 'owner'
	 ORDER BY m.user_id FOR UPDATE;
	IF NOT EXISTS (SELECT 1 FROM cadence.members m
					WHERE m.tenant_id = p_tenant_id AND m.role = 'owner'
					  AND m.user_id <> p_user_id) THEN
		RAISE EXCEPTION 'tenant "%" would have no owner left', p_tenant_id
			USING ERRCODE = '55000',
				  HINT = 'Make another member an owner first.';
	END IF;
END
$$;

-- A provider account as the API shows it: never its credentials, only
-- the names of those it has.
CREATE OR REPLACE FUNCTION cadence.provider_json(p cadence.providers) RETURNS jsonb
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
	SELECT jsonb_build_object(
		'id', p.id, 'channel', p.channel, 'kind', p.kind, 'baseUrl', p.base_url,
		'settings', p.settings, 'ratePerSecond', p.rate_per_second,
		'maxConcurrency', p.max_concurrency, 'isDefault', p.is_default,
		'createdAt', p.created_at,
		'credentialKeys', (SELECT coalesce(jsonb_agg(k ORDER BY k), '[]')
							 FROM jsonb_object_keys(p.credentials) AS k))
$$;

-- The kinds of provider account, and the channels each sends on, its
-- default first (NULL for a kind that is not one): listed once, in
-- src/providers/provider.c.  cadence.providers checks its rows by them.
CREATE OR REPLACE FUNCTION cadence.provider_kinds() RETURNS text[]
LANGUAGE C IMMUTABLE PARALLEL SAFE
AS 'MODULE_PATHNAME', 'cadence_provider_kinds';
SELECT cadence.add_check('cadence.providers', 'providers_kind_known',
						 'kind = ANY (cadence.provider_kinds())');
CREATE OR REPLACE FUNCTION cadence.provider_channels(kind text) RETURNS text[]
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE
AS 'MODULE_PATHNAME', 'cadence_provider_channels';
COMMENT ON FUNCTION cadence.provider_channels(text) IS
	'The channels an account of this kind sends on, its default first; NULL for a kind that is not one';

-- channel and address of the do-not-contact list, checked; the address as
-- the list keeps it (lower case, trimmed).
CREATE OR REPLACE FUNCTION cadence.suppression_key(channel text, address text) RETURNS text
LANGUAGE plpgsql IMMUTABLE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	IF channel IS NULL OR channel NOT IN ('sms', 'email', 'whatsapp', 'call', 'all') THEN
		RAISE EXCEPTION 'unknown channel "%"', channel
			USING ERRCODE = '22023', HINT = 'Channels: sms, email, whatsapp, call, all.';
	END IF;
	IF coalesce(btrim(address), '') = '' OR address ~ '[[:cntrl:]]' THEN
		RAISE EXCEPTION 'invalid address "%"', address USING ERRCODE = '22023',
			HINT = 'An e-mail address, or a phone or WhatsApp number in E.164 form.';
	END IF;
	RETURN lower(btrim(address));
END
$$;

-- A template as the API shows it.
CREATE OR REPLACE FUNCTION cadence.template_json(t cadence.templates) RETURNS jsonb
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
	SELECT jsonb_build_object('id', t.id, 'name', t.name, 'channel', t.channel,
							  'createdAt', t.created_at, 'updatedAt', t.updated_at)
		|| cadence.json_opt('subject', to_jsonb(t.subject))
		|| cadence.json_opt('bodyHtml', to_jsonb(t.body_html))
		|| cadence.json_opt('bodyText', to_jsonb(t.body_text))
$$;
