-- The database's share of dispatch: a runner's own rounds over every due
-- action, batches of 1,000, with each provider request answered at once
-- (201, as Twilio answers) instead of sent: the claim, the decisions, the
-- rendering, the record of outcomes and events and the runs' advance,
-- committed as a runner commits (cadence.dispatch_answered).  It bounds
-- what one runner on this machine can do.  Prints
-- "sql_loop_actions_per_s N".
\set QUIET 1
\pset tuples_only on
\pset format unaligned
SELECT count(*) AS due FROM cadence.scheduled_actions WHERE status = 'scheduled' \gset
SELECT clock_timestamp() AS t0 \gset
CALL cadence.dispatch_answered(1000, 201, '{"sid": "SM0123456789abcdef0123456789abcdef", "status": "queued"}');
SELECT 'sql_loop_actions_per_s ' || round(:due / extract(epoch FROM clock_timestamp() - :'t0'::timestamptz));
