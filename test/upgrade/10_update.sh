#!/usr/bin/env bash
# ALTER EXTENSION cadence UPDATE of a database in use.  A database of the
# oldest released version, filled as it would be (test/upgrade/fill-*.sql),
# is updated the way the README says; then its catalog must equal a fresh
# install of the current version, no row may be lost or changed, and the
# runs in flight go on: the runner sends what was due.  An update that
# must be refused changes nothing.  Prints TAP.
set -uo pipefail
cd "$(dirname "$0")/../.."
. test/upgrade/common.sh
db=cadence_updated
fresh=cadence_fresh
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
echo "1..12"

install_filled "$db"
is "$(version "$db")" "$FROM" "cadence $FROM installs beside the current library"
snapshot "$db" before
update "$db"
is "$(version "$db")" "$CURRENT" "ALTER EXTENSION cadence UPDATE takes it to $CURRENT"
snapshot "$db" after
empty "$(compare "$db" before after "$COLUMN_CHANGES")" "no row of any table, nor any sequence, is lost or changed"

install_fresh "$fresh"
catalog "$fresh" "$out/fresh"
catalog "$db" "$out/updated"
empty "$(catalog_diff "fresh $CURRENT" "$out/fresh" "updated from $FROM" "$out/updated" \
	"A change to the schema since $FROM that schema/upgrade/$FROM--$CURRENT.sql does not make (or makes differently):")" \
	"its catalog equals a fresh install's: functions, tables, constraints, indexes, policies, triggers, types, comments, privileges"

# The runs in flight go on.
mock_reset
sent=$(q "$db" -c "SELECT cadence.run_due_actions(50) ->> 'sent'")
is "$sent" 3 "the runner sends the three actions that were due"
is "$(due_statuses "$db")" "1:sent/1 4:sent/2 13:sent/1" \
	"the text whose runner had died goes out as its second attempt"
is "$(mock_keys)" "$(due_keys "$db")" "the provider got each once, under its idempotency key"
is "$(q "$db" -c "SELECT string_agg(id || ':' || current_step, ' ' ORDER BY id) FROM cadence.runs")" \
	"1:2 2:2 3:0 4:2 5:0 6:3" "the runs move on to their next step, or end after their last"

# What the DBA added still works: the application role reads through the
# API, the trigger on contacts enrolls.
is "$(q "$db" -c "SET ROLE $APP_ROLE" -c "SET cadence.tenant_id = 'acme'" -c "SET cadence.user_id = 'olivia'" \
		-c "SELECT string_agg(c ->> 'id', ' ' ORDER BY c ->> 'id') FROM jsonb_array_elements(cadence.list_cadences()) AS c")" \
	"welcome winback" "the application's role reads its tenant's cadences"
q "$db" -c "UPDATE cadence.contacts SET owner_id = 'sam' WHERE id = 'lead-5'"
is "$(q "$db" -c "SELECT cadence_id || ':' || status FROM cadence.runs WHERE lead_id = 'lead-5'")" \
	"welcome:active" "the DBA's trigger on contacts enrolls a lead who gets an owner"

# A lead whose zone 0.2.0 refuses stops the update before it changes
# anything, and the error says which lead and how to correct it.
refused=cadence_refused
install_filled "$refused"
q "$refused" -c "UPDATE cadence.contacts SET timezone = 'Mars/Olympus_Mons' WHERE id = 'lead-2'"
is "$(q "$refused" -v VERBOSITY=verbose -c "ALTER EXTENSION cadence UPDATE" 2>&1 | sed -n 's/^.*ERROR:  \([0-9A-Z]*\): .*\(Mars\/Olympus_Mons (tenant [a-z]*, lead lead-2)\).*/\1 \2/p')" \
	"23514 Mars/Olympus_Mons (tenant acme, lead lead-2)" \
	"an unknown time zone stops the update with 23514, naming the lead"
is "$(version "$refused"):$(q "$refused" -c "SELECT count(*) FROM pg_catalog.pg_attribute
										  WHERE attrelid = 'cadence.scheduled_actions'::regclass
											AND attname = 'lease_until'")" \
	"$FROM:1" "and leaves the database at $FROM, untouched"
