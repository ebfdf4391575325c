-- What cadence does for a tenant other than the one a session names goes
-- through internal functions that take the tenant as an argument, and no
-- setting carries it.  The lead_assigned trigger on an application's own
-- lead table enrolls a lead in the tenant its row names, for a caller
-- that is a member of that tenant (or bypasses row-level security) only;
-- the internal functions are the extension owner's.
BEGIN;
SELECT plan(8);

CREATE ROLE cadence_test_leads NOLOGIN;
SELECT cadence.grant_access('cadence_test_leads');
INSERT INTO cadence.members (tenant_id, user_id, role) VALUES
	('acme', 'ann', 'owner'), ('globex', 'gus', 'owner');
INSERT INTO cadence.contacts (tenant_id, id, first_name, phone) VALUES
	('acme', 'lead-a', 'Ada', '+15550001'), ('acme', 'lead-b', 'Bo', '+15550002'),
	('globex', 'lead-g', 'Gil', '+15550009');

-- In each tenant, a cadence that enrolls a lead when it gets an owner.
\set body '{"id": "welcome", "name": "Welcome", "isActive": true, "trigger": {"type": "lead_assigned"}, "days": [{"dayNumber": 1, "actions": [{"id": "call", "type": "call_task", "scheduleRule": {"kind": "immediately"}}]}]}'
SET LOCAL cadence.tenant_id = 'acme';
SET LOCAL cadence.user_id = 'ann';
SELECT cadence.upsert_cadence(:'body') IS NOT NULL AS made;
SET LOCAL cadence.tenant_id = 'globex';
SET LOCAL cadence.user_id = 'gus';
SELECT cadence.upsert_cadence(:'body') IS NOT NULL AS made;
SET LOCAL cadence.tenant_id = '';
SET LOCAL cadence.user_id = '';

-- The application's lead table, with the trigger the README shows.
CREATE TABLE public.app_leads (tenant_id text, id text, owner_id text);
CREATE TRIGGER app_leads_assigned AFTER INSERT OR UPDATE OF owner_id ON public.app_leads
	FOR EACH ROW EXECUTE FUNCTION cadence.lead_assigned_trigger('id', 'owner_id', 'tenant_id');
GRANT INSERT, UPDATE ON public.app_leads TO cadence_test_leads;

CREATE FUNCTION pg_temp.runs_of(tenant text, lead text) RETURNS bigint
LANGUAGE sql AS $$
	SELECT count(*) FROM cadence.runs WHERE tenant_id = tenant AND lead_id = lead
$$;

\i test/helpers/request.sql

-- A member of acme gives an acme lead an owner: the lead is enrolled in
-- acme's cadence.
SET LOCAL ROLE cadence_test_leads;
SELECT pg_temp.request_as('acme', 'ann');
INSERT INTO public.app_leads VALUES ('acme', 'lead-a', 'ann');
RESET ROLE;
SELECT is(pg_temp.runs_of('acme', 'lead-a'), 1::bigint,
		  'a member''s row enrolls its lead in the tenant the row names');
SELECT is(current_setting('cadence.tenant_id'), '',
		  'and no tenant setting is left behind');

-- A member of globex names acme in its row: refused, nothing enrolled.
SET LOCAL ROLE cadence_test_leads;
SELECT pg_temp.request_as('globex', 'gus');
SELECT throws_ok($$INSERT INTO public.app_leads VALUES ('acme', 'lead-b', 'gus')$$, '42501',
				 'user "gus" is not a member of tenant "acme"',
				 'a row naming a tenant the caller is not a member of is refused');
RESET ROLE;
SELECT is(pg_temp.runs_of('acme', 'lead-b'), 0::bigint, 'and enrolls no one');

-- A role that bypasses row-level security acts for the tenant each row
-- names, whatever the session names.
SELECT set_config('request.jwt.claims', '', true);
SET LOCAL cadence.tenant_id = 'acme';
INSERT INTO public.app_leads VALUES ('globex', 'lead-g', 'gus');
SELECT is(pg_temp.runs_of('globex', 'lead-g'), 1::bigint,
		  'a DBA''s row enrolls its lead in the tenant the row names');
SET LOCAL cadence.tenant_id = '';

-- The internal functions, which take the tenant, are not an application
-- role's to call.
SET LOCAL ROLE cadence_test_leads;
SELECT pg_temp.request_as('globex', 'gus');
SELECT throws_ok($$SELECT cadence.enroll_on_trigger_in('acme', 'lead-b', 'lead_assigned', 'gus', now())$$,
				 '42501', NULL, 'an application role cannot enroll for a tenant it names');
SELECT throws_ok($$SELECT cadence.exit_run_in('acme', 1, 'replied', NULL, now())$$,
				 '42501', NULL, 'nor end a run of a tenant it names');
SELECT throws_ok($$SELECT cadence.plan_runs_in('acme', 'welcome', ARRAY['lead-b'], now(), '{}')$$,
				 '42501', NULL, 'nor plan runs for a tenant it names');
RESET ROLE;

SELECT * FROM finish();
ROLLBACK;
