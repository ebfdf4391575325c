# Sourced by the upgrade tests (test/upgrade/[0-9]*.sh): psql and TAP
# helpers, and the database they start from.  They run in test/suite's
# cluster with cadence preloaded (its worker sends for another database),
# beside the mock provider on 127.0.0.1:18025.

# The oldest released version (schema/released/), and the current one.
FROM=0.1.0
CURRENT=$(sed -n "s/^default_version = '\(.*\)'/\1/p" cadence.control)
APP_ROLE=crm_app

# q DB PSQL-ARGS...: psql, quiet, bare values.
q() {
	local db=$1
	shift
	psql -X -q -t -A -v ON_ERROR_STOP=1 -d "$db" "$@"
}

# is GOT WANT NAME, empty TEXT NAME: one TAP line each, with what went wrong
# as diagnostics.
tap_n=0
is() {
	tap_n=$((tap_n + 1))
	if [ "$1" = "$2" ]; then
		echo "ok $tap_n - $3"
	else
		echo "not ok $tap_n - $3"
		printf '#   got:  %s\n#   want: %s\n' "$1" "$2"
	fi
}
empty() {
	tap_n=$((tap_n + 1))
	if [ -z "$1" ]; then
		echo "ok $tap_n - $2"
	else
		echo "not ok $tap_n - $2"
		printf '%s\n' "$1" | head -60 | sed 's/^/#   /'
	fi
}

# install_filled DB: a new database with cadence $FROM, filled with what a
# database of that version held (test/upgrade/fill-$FROM.sql), and what a
# DBA adds beside it (test/upgrade/users.sql).
install_filled() {
	psql -X -q -d postgres -c "SET client_min_messages = warning" \
		-c "DROP DATABASE IF EXISTS $1" -c "CREATE DATABASE $1"
	q "$1" -c "CREATE EXTENSION cadence VERSION '$FROM'"
	q "$1" -f "test/upgrade/fill-$FROM.sql" >/dev/null
	q "$1" -f test/upgrade/users.sql >/dev/null
}

# install_fresh DB: a new database with the current cadence and the same
# additions.
install_fresh() {
	psql -X -q -d postgres -c "SET client_min_messages = warning" \
		-c "DROP DATABASE IF EXISTS $1" -c "CREATE DATABASE $1"
	q "$1" -c "CREATE EXTENSION cadence"
	q "$1" -f test/upgrade/users.sql >/dev/null
}

# update DB: what the README says to run, in one transaction: the update,
# then grant_access() again for the application's role.
update() {
	q "$1" -c "ALTER EXTENSION cadence UPDATE; SELECT cadence.grant_access('$APP_ROLE')" >/dev/null
}

# version DB: the installed version of cadence.
version() {
	q "$1" -c "SELECT extversion FROM pg_extension WHERE extname = 'cadence'"
}

# What the update from $FROM does to the columns of its tables, for
# compare: table.column=new_name (renamed), table.column= (dropped; what
# it held is carried by something new, see the upgrade script).
COLUMN_CHANGES='scheduled_actions.lease_until= daily_sends.sent=started'

# snapshot DB NAME, compare DB BEFORE AFTER [CHANGES]: test/upgrade/rows.sql
# and test/upgrade/compare.sql.
snapshot() {
	q "$1" -v snapshot="$2" -f test/upgrade/rows.sql
}
compare() {
	q "$1" -v before="$2" -v after="$3" -v changes="${4:-}" -f test/upgrade/compare.sql
}

# catalog DB FILE: the lines of test/upgrade/catalog.sql for DB, into FILE;
# when it cannot be read, FILE says so (catalog_diff then fails).
catalog() {
	if ! q "$1" -f test/upgrade/catalog.sql >"$2" 2>&1 || [ ! -s "$2" ]; then
		echo "test/upgrade/catalog.sql failed in database $1" >>"$2"
	fi
}

# catalog_diff NAME_A FILE_A NAME_B FILE_B [HINT]: nothing when both
# catalogs were read and are equal; else HINT and what differs, a line
# "-NAME_A ..." for what only A has and "+NAME_B ..." for what only B has.
catalog_diff() {
	local f
	for f in "$2" "$4"; do
		[ -f "$f" ] || { echo "no catalog was read into $f"; return; }
		if grep -q '^test/upgrade/catalog.sql failed' "$f"; then
			cat "$f"
			return
		fi
	done
	if ! cmp -s "$2" "$4"; then
		[ -n "${5:-}" ] && echo "$5"
		diff -U0 "$2" "$4" | sed -e '/^@@/d' -e "s/^---.*/--- $1/" -e "s/^+++.*/+++ $3/" \
			-e "s/^-\([^-]\)/-$1: \1/" -e "s/^+\([^+]\)/+$3: \1/"
	fi
}

# The actions of the fill that are due (two texts, one of them left
# sending by a runner that died, and an e-mail of the other tenant), and
# what the runner makes of them.
DUE_ACTIONS='1, 4, 13'
due_statuses() {
	q "$1" -c "SELECT string_agg(id || ':' || status || '/' || attempts, ' ' ORDER BY id)
				 FROM cadence.scheduled_actions WHERE id IN ($DUE_ACTIONS)"
}

# mock_reset, mock_keys: forget what the mock provider recorded; the
# idempotency keys of the texts and e-mails it received since, sorted.
mock_reset() {
	curl -sf -o /dev/null -X POST http://127.0.0.1:18025/_mock/reset
}
mock_keys() {
	curl -sf "http://127.0.0.1:18025/_mock/requests?kind=twilio,resend" |
		python3 -c 'import json, sys
print(" ".join(sorted(r.get("idempotencyKey") or "-" for r in json.load(sys.stdin)["requests"])))'
}

# due_keys DB: the idempotency keys of the due actions in DB, sorted.
due_keys() {
	q "$1" -c "SELECT string_agg(k, ' ' ORDER BY k) FROM (
				 SELECT cadence.idempotency_key(id) AS k FROM cadence.scheduled_actions
				  WHERE id IN ($DUE_ACTIONS)) AS s"
}
