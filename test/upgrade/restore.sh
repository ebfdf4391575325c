#!/usr/bin/env bash
# test/upgrade/restore.sh DIR: the half of 20_dump_restore.sh that runs in
# the fresh cluster (pg_virtualenv, cadence preloaded with its worker off,
# database_name cadence_restored).  Restores DIR/dump as the README says
# (the roles first, then pg_restore, then what pg_dump does not keep),
# turns the worker on, and writes what the test asserts on into DIR.
set -uo pipefail
cd "$(dirname "$0")/../.."
. test/upgrade/common.sh
dir=$1
db=cadence_restored

psql -X -q -d postgres -c "CREATE ROLE $APP_ROLE" -c "CREATE DATABASE $db"
pg_restore --single-transaction --exit-on-error -d "$db" "$dir/dump"
echo $? >"$dir/restore.status"
q "$db" -f test/upgrade/trigger.sql

snapshot "$db" restored
compare "$db" dumped restored >"$dir/rows.diff"
catalog "$db" "$dir/catalog.restored"

# The worker sends the due actions once it is on (it looks every few
# seconds).
q "$db" -c "ALTER SYSTEM SET cadence.enabled = on" -c "SELECT pg_reload_conf()" >/dev/null
deadline=$((SECONDS + 60))
until [ "$(due_statuses "$db")" = "1:sent/1 4:sent/2 13:sent/1" ] || [ $SECONDS -ge $deadline ]; do
	sleep 0.2
done
due_statuses "$db" >"$dir/sent"
due_keys "$db" >"$dir/keys"

# A new run, due tomorrow, and a read as the application.
q "$db" -c "SET cadence.tenant_id = 'acme'" \
	-c "SELECT cadence.plan_run_for_lead('welcome', 'lead-5', now() + interval '1 day')" >/dev/null
q "$db" -c "SELECT max(id) FILTER (WHERE lead_id = 'lead-5') > 6 FROM cadence.runs" >"$dir/new_run"
q "$db" -c "SET ROLE $APP_ROLE" -c "SET cadence.tenant_id = 'acme'" -c "SET cadence.user_id = 'olivia'" \
	-c "SELECT string_agg(id, ' ' ORDER BY id) FROM cadence.contacts" >"$dir/app_read"
