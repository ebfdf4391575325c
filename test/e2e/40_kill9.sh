#!/usr/bin/env bash
# kill -9 of the dispatcher in the middle of a batch.  The provider holds
# the first requests for a few seconds; while they hang, the dispatcher is
# killed.  The postmaster restarts the server, the launcher starts a new
# dispatcher, and its first claim finds the killed runner's lock free and
# takes its actions over at once (no time to wait out): each is sent again
# with the same idempotency key, as a new attempt, and the audit log says
# the earlier attempt's outcome was never recorded.  Then: every action
# sent, none lost, and the provider (which honours Idempotency-Key)
# delivered each message once.
#
# Runs in the e2e cluster (test/suite), database cadence_e2e; prints TAP.
set -uo pipefail
cd "$(dirname "$0")/../.."
db=cadence_e2e
n=30
q() { psql -X -q -t -A -v ON_ERROR_STOP=1 -d "$db" "$@"; }
ok() { if [ "$1" = "$2" ]; then echo "ok $3 - $4"; else echo "not ok $3 - $4 (got '$1', want '$2')"; fi; }

# wait_sql SQL SECONDS: poll until SQL prints t.
wait_sql() {
	local deadline=$((SECONDS + $2))
	while [ $SECONDS -lt $deadline ]; do
		[ "$(q -c "$1" 2>/dev/null)" = t ] && return 0
		sleep 0.1
	done
	return 1
}

echo "1..8"
curl -sf -o /dev/null -X POST http://127.0.0.1:18025/_mock/reset
curl -sf -o /dev/null -X POST -H 'Content-Type: application/json' \
	-d '{"kind": "resend", "mode": "hang", "hangSeconds": 4, "times": '"$n"'}' \
	http://127.0.0.1:18025/_mock/fail

q <<SQL
INSERT INTO cadence.providers (tenant_id, id, channel, kind, base_url, credentials, settings, is_default)
VALUES ('k9', 'resend', 'email', 'resend', 'http://127.0.0.1:18025', '{"apiKey": "re_secret"}',
		'{"from": "sales@acme.test"}', true);
INSERT INTO cadence.contacts (tenant_id, id, first_name, email, timezone)
SELECT 'k9', 'lead-' || g, 'Lead' || g, 'lead' || g || '@x.test', 'UTC' FROM generate_series(1, $n) g;
SET cadence.tenant_id = 'k9';
SELECT cadence.upsert_cadence('{"id": "k9", "name": "k9", "timezone": "UTC", "isActive": true,
	"days": [{"dayNumber": 1, "actions": [{"type": "email", "scheduleRule": {"kind": "immediately"},
		"config": {"email": {"subject": "Hi", "bodyText": "Hello {{firstName}}"}}}]}]}') IS NOT NULL;
SELECT count(*) FROM cadence.plan_runs('k9', ARRAY(SELECT 'lead-' || g FROM generate_series(1, $n) g));
SQL

# Every first request hangs, so the whole batch stays in flight until the
# kill: wait until all of it is claimed, then kill.
wait_sql "SELECT count(*) = $n FROM cadence.scheduled_actions WHERE tenant_id = 'k9' AND status = 'sending'" 30
pid=$(q -c "SELECT pid FROM pg_stat_activity WHERE backend_type = 'cadence dispatcher'")
in_flight=$(q -c "SELECT count(*) FROM cadence.scheduled_actions WHERE tenant_id = 'k9' AND status = 'sending'")
runner=$(q -c "SELECT min(runner) FROM cadence.scheduled_actions WHERE tenant_id = 'k9' AND status = 'sending'")
killed_at=$(q -c "SELECT clock_timestamp()")
kill -9 "$pid"
ok "$([ -n "$pid" ] && [ "$in_flight" -gt 0 ] && echo yes)" yes 1 "the dispatcher was killed with $in_flight actions in flight"

# The postmaster restarts everything; wait for it to accept connections.
for _ in $(seq 1 100); do pg_isready -q -d "$db" && q -c 'SELECT 1' >/dev/null 2>&1 && break; sleep 0.2; done
wait_sql "SELECT count(*) = $n FROM cadence.scheduled_actions WHERE tenant_id = 'k9' AND status = 'sent'" 60
ok "$(q -c "SELECT count(*) FROM cadence.scheduled_actions WHERE tenant_id = 'k9' AND status = 'sent'")" "$n" 2 \
	"after the restart every action is sent: none lost"

ok "$(q -c "SELECT count(*) FROM cadence.events WHERE tenant_id = 'k9' AND type = 'action.unrecorded'
			  AND (payload ->> 'runner')::bigint = $runner AND (payload ->> 'attempt')::int = 1")" "$in_flight" 3 \
	"each action the killed runner held has an event: attempt 1 by runner $runner, never recorded"
ok "$(q -c "SELECT bool_and(e.created_at < '$killed_at'::timestamptz + interval '15 s')
			  FROM cadence.events e WHERE e.tenant_id = 'k9' AND e.type = 'action.unrecorded'")" t 4 \
	"they were taken over as soon as the server was back, with no lease to run out"
ok "$(q -c "SELECT string_agg(DISTINCT attempts::text, ',') FROM cadence.scheduled_actions
			  WHERE tenant_id = 'k9' AND id IN (SELECT scheduled_action_id FROM cadence.events
												 WHERE tenant_id = 'k9' AND type = 'action.unrecorded')")" 2 5 \
	"taking over counted as an attempt: they were sent at attempt 2"

requests=$(curl -sf "http://127.0.0.1:18025/_mock/requests?kind=resend")
keys=$(printf '%s' "$requests" | python3 -c 'import json, sys; r = json.load(sys.stdin)["requests"]; print(len({x["idempotencyKey"] for x in r}))')
ok "$keys" "$n" 6 "the provider saw $n idempotency keys, one per action"
delivered=$(printf '%s' "$requests" | python3 -c 'import json, sys; r = json.load(sys.stdin)["requests"]; print(len({x["idempotencyKey"] for x in r if x.get("status") == 200 and not x.get("duplicate")}))')
ok "$delivered" "$n" 7 "each message was delivered once; repeats were requests cut off by the kill"
ok "$(q -c "SELECT (cadence.worker_status() ->> 'running')::text")" true 8 "a new dispatcher runs"
