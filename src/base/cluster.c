/*
 * base/cluster.c
 *		What a node of a Citus cluster needs to know of it: its node group,
 *		whether cadence's tables are distributed, where a reference table's
 *		rows are on this node.  Both are read from
 *		Citus's metadata tables directly, with no SQL, and are what they are
 *		without Citus (group 0, not distributed).
 */
#include "postgres.h"

#include "access/genam.h"
#include "access/heapam.h"
#include "access/htup_details.h"
#include "access/stratnum.h"
#include "access/table.h"
#include "access/tableam.h"
#include "catalog/namespace.h"
#include "catalog/pg_namespace.h"
#include "utils/fmgroids.h"
#include "utils/lsyscache.h"
#include "utils/snapmgr.h"

#include "base/cluster.h"

/*
 * cadence_node_group
 *		The one row of pg_catalog.pg_dist_local_group, when Citus is
 *		installed in the database.
 */
int32
cadence_node_group(void)
{
	Oid			relid = get_relname_relid("pg_dist_local_group", PG_CATALOG_NAMESPACE);
	Relation	rel;
	TableScanDesc scan;
	HeapTuple	tup;
	int32		group = 0;

	if (!OidIsValid(relid))
		return 0;
	rel = table_open(relid, AccessShareLock);
	scan = table_beginscan(rel, GetLatestSnapshot(), 0, NULL);
	tup = heap_getnext(scan, ForwardScanDirection);
	if (HeapTupleIsValid(tup))
	{
		bool		isnull;
		Datum		d = heap_getattr(tup, 1, RelationGetDescr(rel), &isnull);

		if (!isnull)
			group = DatumGetInt32(d);
	}
	table_endscan(scan);
	table_close(rel, AccessShareLock);
	return group;
}

/*
 * cadence_distributed
 *		Whether pg_catalog.pg_dist_partition has a row for
 *		cadence.scheduled_actions (its first column, logicalrelid).
 */
bool
cadence_distributed(void)
{
	Oid			partitions = get_relname_relid("pg_dist_partition", PG_CATALOG_NAMESPACE);
	Oid			nsp = get_namespace_oid("cadence", true);
	Oid			actions = OidIsValid(nsp) ? get_relname_relid("scheduled_actions", nsp) : InvalidOid;
	Relation	rel;
	ScanKeyData key;
	SysScanDesc scan;
	bool		found;

	if (!OidIsValid(partitions) || !OidIsValid(actions))
		return false;
	rel = table_open(partitions, AccessShareLock);
	ScanKeyInit(&key, 1, BTEqualStrategyNumber, F_OIDEQ, ObjectIdGetDatum(actions));
	scan = systable_beginscan(rel, InvalidOid, false, GetLatestSnapshot(), 1, &key);
	found = HeapTupleIsValid(systable_getnext(scan));
	systable_endscan(scan);
	table_close(rel, AccessShareLock);
	return found;
}

/*
 * cadence_local_placement
 *		The relation holding the rows of cadence.<name>, and its index named
 *		<index>: the table itself, or, once Citus made it a reference table,
 *		the placement of its one shard on this node (<name>_<shardid>, with
 *		<index>_<shardid>), since the table on a node of a cluster is then an
 *		empty shell.  The shard is found in pg_dist_shard, read directly.
 *		InvalidOid when there is no such table.
 */
void
cadence_local_placement(const char *name, const char *index, Snapshot snap, Oid *relid,
						Oid *indexid)
{
	Oid			nsp = get_namespace_oid("cadence", true);
	Oid			shards = get_relname_relid("pg_dist_shard", PG_CATALOG_NAMESPACE);
	Oid			by_relid = get_relname_relid("pg_dist_shard_logical_relid_index",
											 PG_CATALOG_NAMESPACE);

	*relid = OidIsValid(nsp) ? get_relname_relid(name, nsp) : InvalidOid;
	*indexid = OidIsValid(nsp) ? get_relname_relid(index, nsp) : InvalidOid;
	if (OidIsValid(*relid) && OidIsValid(shards) && OidIsValid(by_relid))
	{
		Relation	rel = table_open(shards, AccessShareLock);
		ScanKeyData skey;
		SysScanDesc scan;
		HeapTuple	tup;

		/* pg_dist_shard (logicalrelid regclass, shardid bigint, ...) */
		ScanKeyInit(&skey, 1, BTEqualStrategyNumber, F_OIDEQ,
					ObjectIdGetDatum(*relid));
		scan = systable_beginscan(rel, by_relid, true, snap, 1, &skey);
		tup = systable_getnext(scan);
		if (HeapTupleIsValid(tup))
		{
			bool		isnull;
			int64		shardid = DatumGetInt64(heap_getattr(tup, 2, RelationGetDescr(rel),
															 &isnull));
			char	   *shard = psprintf("%s_" INT64_FORMAT, name, shardid);
			char	   *shard_index = psprintf("%s_" INT64_FORMAT, index, shardid);

			*relid = get_relname_relid(shard, nsp);
			*indexid = get_relname_relid(shard_index, nsp);
		}
		systable_endscan(scan);
		table_close(rel, AccessShareLock);
	}
}
