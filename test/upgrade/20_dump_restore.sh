#!/usr/bin/env bash
# pg_dump of a database in use (a filled 0.1.0 database, updated), restored
# with pg_restore into a fresh cluster whose worker sends for it: every row
# comes back (cadence's tables are pg_extension_config_dump tables), the
# catalog and privileges are those of the dumped database, and it works:
# the worker sends what was due, the sequences go on, the application's
# role reads.  Prints TAP.
set -uo pipefail
cd "$(dirname "$0")/../.."
. test/upgrade/common.sh
db=cadence_dumped
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
echo "1..8"

install_filled "$db"
update "$db"
snapshot "$db" dumped
catalog "$db" "$out/catalog.dumped"
pg_dump -Fc -d "$db" -f "$out/dump" 2>"$out/pg_dump.err"
is "$?:$(cat "$out/pg_dump.err")" "0:" "pg_dump dumps a filled database"

# Into a fresh cluster: its own port and directories, cadence preloaded,
# the worker sending for the restored database.
mock_reset
(
	unset PGHOST PGPORT PGUSER PGPASSWORD PGDATABASE PGSYSCONFDIR PG_CLUSTER_CONF_ROOT
	pg_virtualenv -t -v "${PGVERSION:-15}" \
		-o shared_preload_libraries=cadence \
		-o cadence.allow_private_networks=on \
		-o cadence.database_name=cadence_restored -o cadence.enabled=off \
		test/upgrade/restore.sh "$out"
) >"$out/restore.log" 2>&1
restored=$(cat "$out/restore.status" 2>/dev/null)
is "$restored" 0 "pg_restore --single-transaction restores it into a fresh cluster"
[ "$restored" = 0 ] || sed 's/^/#   /' "$out/restore.log" | tail -30
empty "$(cat "$out/rows.diff" 2>/dev/null || echo 'not compared')" \
	"every row and every sequence comes back as it was"
empty "$(catalog_diff dumped "$out/catalog.dumped" restored "$out/catalog.restored")" \
	"the catalog, the application role's privileges included, is the dumped database's"
is "$(cat "$out/sent" 2>/dev/null)" "1:sent/1 4:sent/2 13:sent/1" \
	"the new cluster's worker sends what was due"
is "$(mock_keys)" "$(cat "$out/keys" 2>/dev/null)" "the provider got each once, under its idempotency key"
is "$(cat "$out/new_run" 2>/dev/null)" t "a new run takes an id after the restored ones"
is "$(cat "$out/app_read" 2>/dev/null)" "lead-1 lead-2 lead-3 lead-4 lead-5 lead-6 lead-7" \
	"the application's role reads its tenant's leads"
