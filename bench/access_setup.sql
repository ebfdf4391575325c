-- The access benchmark's fixture: an application role, a member of tenant
-- "stats" (bench/stats_setup.sql) using it, and a cadence body of 10,000
-- actions.
SET client_min_messages = warning;
CREATE ROLE cadence_bench_app NOLOGIN;
SELECT cadence.grant_access('cadence_bench_app');
INSERT INTO cadence.members (tenant_id, user_id, role) VALUES ('stats', 'stella', 'member');
CREATE TABLE public.bench_big_cadence AS
SELECT jsonb_build_object('name', 'Big', 'timezone', 'America/New_York',
		   'days', (SELECT jsonb_agg(jsonb_build_object('dayNumber', d, 'actions',
						(SELECT jsonb_agg(jsonb_build_object(
									'id', format('d%s-%s', d, k), 'type', 'email',
									'scheduleRule', '{"kind": "afterPrevious", "minutesAfterPrev": 30}'::jsonb,
									'config', jsonb_build_object('email', jsonb_build_object(
										'subject', 'Step ' || k, 'bodyHtml', '<p>Hi {{firstName}}</p>'))))
						   FROM generate_series(1, 10) AS k)))
					  FROM generate_series(1, 1000) AS d)) AS body;
