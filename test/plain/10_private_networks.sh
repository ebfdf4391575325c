#!/usr/bin/env bash
# Out of the box, no provider request reaches this machine or its network.
# On the cluster test/run leaves at its defaults (nobody set
# cadence.allow_private_networks), a listener on loopback stands in for an
# internal "metadata" service; webhook steps and provider accounts point
# at it in every spelling, and at a closed port beside it.  The listener
# must see no connection at all, and every action must fail at once with
# the same reason, open port or closed.  Then a session that turns the
# setting on reaches it, and an open port that does not answer the
# protocol still reads the same as the closed one.
#
# Runs in the plain cluster (test/suite), database cadence_outbound; prints
# TAP.
set -uo pipefail
cd "$(dirname "$0")/../.."
db=cadence_outbound
q() { psql -X -q -t -A -v ON_ERROR_STOP=1 -d "$db" "$@"; }
ok() { if [ "$1" = "$2" ]; then echo "ok $3 - $4"; else echo "not ok $3 - $4 (got '$1', want '$2')"; fi; }

# The listener: 127.0.0.1 and ::1 on one port, writing a line per
# connection it accepts; and a port where nothing listens.
log=$(mktemp)
python3 - "$log" <<'PY' &
import selectors, socket, sys
log = open(sys.argv[1], "a", buffering=1)
v4 = socket.socket(socket.AF_INET)
v4.bind(("127.0.0.1", 0))
port = v4.getsockname()[1]
socks = [v4]
try:
    v6 = socket.socket(socket.AF_INET6)
    v6.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
    v6.bind(("::1", port))
    socks.append(v6)
except OSError:
    pass
closed = socket.socket(socket.AF_INET)
closed.bind(("127.0.0.1", 0))
closed_port = closed.getsockname()[1]
closed.close()
sel = selectors.DefaultSelector()
for s in socks:
    s.listen(16)
    sel.register(s, selectors.EVENT_READ)
log.write("ports %d %d\n" % (port, closed_port))
while True:
    for key, _ in sel.select():
        conn, peer = key.fileobj.accept()
        log.write("connection from %s\n" % (peer[0],))
        conn.close()
PY
listener=$!
trap 'kill $listener 2>/dev/null; rm -f "$log"' EXIT
for _ in $(seq 1 100); do
	grep -q '^ports' "$log" && break
	sleep 0.1
done
read -r _ open closed < <(grep '^ports' "$log")
connections() { grep -c '^connection' "$log"; }

echo "1..7"
psql -X -q -d postgres -c "DROP DATABASE IF EXISTS $db" -c "CREATE DATABASE $db"
q -c "CREATE EXTENSION cadence"
ok "$(q -c "SELECT cadence.address_scope('127.0.0.1')" -c "SHOW cadence.allow_private_networks" | tail -1)" \
	off 1 "nobody set cadence.allow_private_networks: it is off"

q >/dev/null <<SQL
INSERT INTO cadence.members (tenant_id, user_id, role) VALUES ('metadata', 'mo', 'owner');
SET cadence.tenant_id = 'metadata';
SET cadence.user_id = 'mo';
INSERT INTO cadence.contacts (tenant_id, id, first_name, email, phone, timezone)
VALUES ('metadata', 'lee', 'Lee', 'lee@x.test', '+14155550199', 'UTC');
INSERT INTO cadence.providers (tenant_id, id, channel, kind, base_url, credentials, settings, is_default) VALUES
	('metadata', 'sms', 'sms', 'twilio', 'http://127.0.0.1:$open',
	 '{"accountSid": "AC1", "authToken": "secret"}', '{"from": "+15005550006"}', true),
	('metadata', 'mail', 'email', 'smtp', 'smtp://127.0.0.1:$open', '{}', '{"from": "a@x.test"}', true),
	('metadata', 'hooks', 'webhook', 'webhook', 'http://unused.invalid', '{"secret": "s"}', '{}', true),
	('metadata', 'ai', 'ai', 'anthropic', 'http://[::1]:$open', '{"apiKey": "k"}', '{}', true);
CREATE FUNCTION pg_temp.step(id text, step jsonb) RETURNS void LANGUAGE sql AS \$\$
	SELECT cadence.upsert_cadence(jsonb_build_object('id', id, 'name', id, 'timezone', 'UTC',
		'isActive', true, 'days', jsonb_build_array(jsonb_build_object('dayNumber', 1,
			'actions', jsonb_build_array(step || '{"scheduleRule": {"kind": "immediately"}}')))));
	SELECT cadence.plan_run_for_lead(id, 'lee', '2026-03-10 16:00Z');
\$\$;
SELECT pg_temp.step(c, jsonb_build_object('type', 'webhook', 'config',
		jsonb_build_object('webhook', jsonb_build_object('url', u))))
  FROM (VALUES ('open', 'http://127.0.0.1:$open/latest/meta-data/iam'),
			   ('closed', 'http://127.0.0.1:$closed/latest/meta-data/iam'),
			   ('v6', 'http://[::1]:$open/latest/meta-data/iam'),
			   ('mapped', 'http://[::ffff:127.0.0.1]:$open/latest/meta-data/iam'),
			   ('name', 'http://localhost:$open/latest/meta-data/iam')) AS t(c, u);
SELECT pg_temp.step('sms', '{"type": "sms", "config": {"aiPersonalization": true, "sms": {"body": "Hi"}}}');
SELECT pg_temp.step('mail', '{"type": "email", "config": {"email": {"subject": "Hi", "bodyText": "Hi"}}}');
SQL

ok "$(q -c "SELECT cadence.run_due_actions(50, '2026-03-10 16:00Z') ->> 'failed'")" 7 2 \
	"every request to the listener, in every spelling, fails"
ok "$(connections)" 0 3 "the listener saw no connection at all"
ok "$(q -c "SELECT string_agg(DISTINCT a.status || '/' || a.attempts || ': ' || a.last_error, ' | ')
			  FROM cadence.scheduled_actions a WHERE a.tenant_id = 'metadata'")" \
	"failed/1: the request was not sent: its host resolves to a non-public address (loopback) and cadence.allow_private_networks is off" \
	4 "open port or closed, v4, v6, mapped or by name: one reason, at the first attempt"
ok "$(q -c "SELECT rendered ->> 'aiError' FROM cadence.scheduled_actions a JOIN cadence.runs r ON r.id = a.run_id
			 WHERE r.tenant_id = 'metadata' AND r.cadence_id = 'sms'")" \
	"no answer: the request was not sent: its host resolves to a non-public address (loopback) and cadence.allow_private_networks is off" \
	5 "the AI account on ::1 is refused as well"

# Allowed by a superuser's session: the listener is reached, and says
# nothing that tells it from a closed port.
q >/dev/null <<SQL
SET cadence.tenant_id = 'metadata';
SELECT cadence.upsert_cadence(jsonb_build_object('id', c, 'name', c, 'timezone', 'UTC', 'isActive', true,
		'days', jsonb_build_array(jsonb_build_object('dayNumber', 1, 'actions', jsonb_build_array(
			jsonb_build_object('type', 'webhook', 'scheduleRule', '{"kind": "immediately"}'::jsonb,
				'config', jsonb_build_object('webhook', jsonb_build_object('url', u))))))))
  FROM (VALUES ('open-allowed', 'http://127.0.0.1:$open/'),
			   ('closed-allowed', 'http://127.0.0.1:$closed/')) AS t(c, u);
SELECT cadence.plan_run_for_lead(c, 'lee', '2026-03-10 16:00Z')
  FROM unnest(ARRAY['open-allowed', 'closed-allowed']) AS c;
SET cadence.allow_private_networks = on;
SELECT cadence.run_due_actions(50, '2026-03-10 16:00Z');
SQL
ok "$([ "$(connections)" -gt 0 ] && echo reached)" reached 6 "with the setting on, the listener is reached"
ok "$(q -c "SELECT count(DISTINCT a.last_error) || ' ' || min(a.last_error)
			  FROM cadence.scheduled_actions a JOIN cadence.runs r ON r.id = a.run_id
			 WHERE r.tenant_id = 'metadata' AND r.cadence_id IN ('open-allowed', 'closed-allowed')")" \
	"1 no valid answer: the connection failed or was cut" \
	7 "an open port that answers nothing reads as a closed one"

psql -X -q -d postgres -c "DROP DATABASE $db"
