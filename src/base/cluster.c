/*
 * base/cluster.c
 *		What a node of a Citus cluster needs to know of it: its node group,
 *		whether cadence's tables are distributed, where a reference table's
 *		rows are on this node, which shard groups it holds.  The first three
 *		are read from Citus's metadata tables directly, with no SQL, and are
 *		what they are without Citus (group 0, not distributed); the shard
 *		groups, for the runners of a worker node, through SPI.
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
#include "executor/spi.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/fmgroids.h"
#include "utils/lsyscache.h"
#include "utils/snapmgr.h"

#include "base/cluster.h"
#include "base/spi.h"

/* This node's placements of cadence's Citus tables. */
#define LOCAL_PLACEMENTS \
"  FROM pg_catalog.pg_dist_shard s" \
"  JOIN pg_catalog.pg_dist_partition d ON d.logicalrelid = s.logicalrelid" \
"  JOIN pg_catalog.pg_dist_placement p ON p.shardid = s.shardid" \
"   AND p.groupid = (SELECT groupid FROM pg_catalog.pg_dist_local_group)" \
"  JOIN pg_catalog.pg_class c ON c.oid = s.logicalrelid" \
"   AND c.relnamespace = 'cadence'::pg_catalog.regnamespace"

/*
 * The shards here of tables whose id is an identity column, and whose id
 * has no default: Citus numbers the rows it inserts itself, and creates the
 * shards without it.  (Shards are found by name: Citus hides them from
 * pg_class.)  The default is this node's sequence of the table,
 * whose range is this node's (cadence.reserve_node_id_range()).
 */
static CadenceStatement missing_defaults_sql = {
"SELECT pg_catalog.format('ALTER TABLE %s ALTER COLUMN id SET DEFAULT pg_catalog.nextval(%L)',"
"                         sa.attrelid::pg_catalog.regclass, pg_catalog.pg_get_serial_sequence("
"                           pg_catalog.format('cadence.%I', c.relname), 'id')),"
"       c.relowner"
LOCAL_PLACEMENTS
"  JOIN pg_catalog.pg_attribute a ON a.attrelid = c.oid AND a.attname = 'id' AND a.attidentity <> ''"
"  JOIN pg_catalog.pg_attribute sa ON sa.attname = 'id'"
"   AND sa.attrelid = pg_catalog.to_regclass(pg_catalog.format('cadence.%I', c.relname || '_' || s.shardid))"
" WHERE d.partmethod = 'h' AND NOT sa.atthasdef"};

/*
 * Every placement here: reference tables' first (no shard range), then
 * the distributed tables' by shard group.
 */
static CadenceStatement placements_sql = {
"SELECT s.shardminvalue, c.relname::text, c.relname || '_' || s.shardid, s.shardid"
LOCAL_PLACEMENTS
" WHERE d.partmethod IN ('h', 'n')"
" ORDER BY s.shardminvalue IS NOT NULL, s.shardminvalue::int, c.relname"};

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

/*
 * give_shards_defaults
 *		Give the identity shards of this node the default their rows need
 *		when a runner inserts into them directly: as the owner of their table
 *		(whoever calls run_due_actions() may be the first to need it).
 */
static void
give_shards_defaults(void)
{
	char	  **alters;
	Oid		   *owners;
	uint64		n;
	uint64		i;
	Oid			user;
	int			sec;

	cadence_spi_run(&missing_defaults_sql, 0, NULL, NULL, NULL, true, SPI_OK_SELECT,
					"read the shards without their id's default");
	n = SPI_processed;
	alters = palloc(sizeof(char *) * Max(n, 1));
	owners = palloc(sizeof(Oid) * Max(n, 1));
	for (i = 0; i < n; i++)
	{
		bool		isnull;

		alters[i] = SPI_getvalue(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 1);
		owners[i] = DatumGetObjectId(SPI_getbinval(SPI_tuptable->vals[i],
												   SPI_tuptable->tupdesc, 2, &isnull));
	}
	GetUserIdAndSecContext(&user, &sec);
	for (i = 0; i < n; i++)
	{
		SetUserIdAndSecContext(owners[i], sec | SECURITY_LOCAL_USERID_CHANGE);
		cadence_spi_run_once(alters[i], 0, NULL, NULL, NULL, false, SPI_OK_UTILITY,
							 "give a shard its id's default");
		SetUserIdAndSecContext(user, sec);
	}
}

/* Room for a group's entries: every table of the extension. */
#define MAX_TABLES 64

/*
 * add_entry
 *		Add a table and its relation here to a group.
 */
static void
add_entry(CadenceShardGroup *group, const char *table, const char *shard)
{
	if (group->ntables >= MAX_TABLES)
		elog(ERROR, "cadence has more than %d tables", MAX_TABLES);
	group->tables[group->ntables] = pstrdup(table);
	group->shards[group->ntables] = pstrdup(shard);
	group->ntables++;
}

/*
 * new_group
 *		A group holding this node's placements of the reference tables.
 */
static CadenceShardGroup *
new_group(const CadenceShardGroup *reference)
{
	CadenceShardGroup *group = palloc0(sizeof(CadenceShardGroup));
	int			k;

	group->tables = palloc(sizeof(char *) * MAX_TABLES);
	group->shards = palloc(sizeof(char *) * MAX_TABLES);
	for (k = 0; k < reference->ntables; k++)
		add_entry(group, reference->tables[k], reference->shards[k]);
	return group;
}

/*
 * cadence_local_shard_groups
 *		This node's shard groups, each with this node's placements of the
 *		reference tables, allocated in mcxt.
 */
List *
cadence_local_shard_groups(MemoryContext mcxt)
{
	List	   *groups = NIL;
	CadenceShardGroup *reference;
	CadenceShardGroup *group = NULL;
	char	   *group_min = NULL;
	MemoryContext old;
	uint64		i;

	give_shards_defaults();
	cadence_spi_run(&placements_sql, 0, NULL, NULL, NULL, false, SPI_OK_SELECT,
					"read this node's shards");
	old = MemoryContextSwitchTo(mcxt);
	reference = new_group(&(CadenceShardGroup) {0});
	for (i = 0; i < SPI_processed; i++)
	{
		HeapTuple	tup = SPI_tuptable->vals[i];
		TupleDesc	desc = SPI_tuptable->tupdesc;
		char	   *min = SPI_getvalue(tup, desc, 1);
		char	   *table = SPI_getvalue(tup, desc, 2);
		char	   *shard = SPI_getvalue(tup, desc, 3);

		if (min == NULL)
		{
			add_entry(reference, table, shard);
			continue;
		}
		if (group_min == NULL || strcmp(min, group_min) != 0)
		{
			group = new_group(reference);
			groups = lappend(groups, group);
			group_min = min;
		}
		add_entry(group, table, shard);
		if (strcmp(table, "scheduled_actions") == 0)
		{
			bool		isnull;

			group->key = DatumGetInt64(SPI_getbinval(tup, desc, 4, &isnull));
		}
	}
	MemoryContextSwitchTo(old);
	return groups;
}

/* How many shards of cadence.scheduled_actions this node holds. */
static CadenceStatement holds_shards_sql = {
"SELECT count(*)" LOCAL_PLACEMENTS " WHERE c.relname = 'scheduled_actions'"};

/*
 * cadence_holds_shards
 *		Whether the runners of this node have anything to send from.
 */
bool
cadence_holds_shards(void)
{
	bool		isnull;

	cadence_spi_run(&holds_shards_sql, 0, NULL, NULL, NULL, true, SPI_OK_SELECT,
					"count this node's shards");
	return DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1,
									   &isnull)) > 0;
}

/* The worker nodes, for messages. */
static CadenceStatement worker_nodes_sql = {
"SELECT coalesce(pg_catalog.string_agg(pg_catalog.format('%s:%s', nodename, nodeport), ', '"
"                                      ORDER BY nodeid), 'none')"
"  FROM pg_catalog.pg_dist_node WHERE groupid <> 0 AND noderole = 'primary'"};

/*
 * cadence_worker_nodes
 *		"host:port, ..." of the primary worker nodes.
 */
char *
cadence_worker_nodes(void)
{
	cadence_spi_run(&worker_nodes_sql, 0, NULL, NULL, NULL, true, SPI_OK_SELECT,
					"read the worker nodes");
	return SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1);
}
