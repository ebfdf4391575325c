#!/usr/bin/env bash
# DROP DATABASE of the worker's database while the worker is connected to
# it: the worker notices the waiting DROP and leaves, so the DROP goes
# through (PostgreSQL gives other sessions five seconds).  Prints TAP.
set -uo pipefail
echo "1..2"
running=$(psql -X -t -A -d cadence_e2e -c "SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'cadence dispatcher'")
[ "$running" = 1 ] && echo "ok 1 - the dispatcher is connected to cadence_e2e" ||
	echo "not ok 1 - the dispatcher is connected to cadence_e2e (got $running)"
if out=$(PGOPTIONS='-c statement_timeout=30s' psql -X -q -d postgres -c 'DROP DATABASE cadence_e2e' 2>&1); then
	echo "ok 2 - DROP DATABASE is not blocked by it"
else
	echo "not ok 2 - DROP DATABASE is not blocked by it: $out"
fi
