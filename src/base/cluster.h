/*
 * base/cluster.h
 *		What a node of a Citus cluster needs to know of it (base/cluster.c).
 */
#ifndef CADENCE_BASE_CLUSTER_H
#define CADENCE_BASE_CLUSTER_H

#include "postgres.h"

#include "nodes/pg_list.h"
#include "utils/snapshot.h"

/*
 * A shard group of cadence's distributed tables held by this node: the
 * relation each of cadence's Citus tables has here, for statements that
 * run on this node's shards directly (base/spi.c).
 */
typedef struct CadenceShardGroup
{
	int64		key;			/* the shard id of cadence.scheduled_actions */
	int			ntables;
	char	  **tables;			/* the tables' names, in schema cadence */
	char	  **shards;			/* their shards here: the group's own for a
								 * distributed table, this node's placement
								 * of a reference table */
} CadenceShardGroup;

/*
 * This server's Citus node group: 0 without Citus in the database, and on
 * a coordinator.  In a transaction.
 */
extern int32 cadence_node_group(void);

/*
 * Has Citus made cadence.scheduled_actions a distributed table (that is,
 * has cadence.distribute() run)?  In a transaction.
 */
extern bool cadence_distributed(void);

/*
 * The relation holding the rows of cadence.<name> on this node, and its
 * index named <index>: the table itself, or the local placement of a
 * reference table.  InvalidOid when there is no such table.
 */
extern void cadence_local_placement(const char *name, const char *index, Snapshot snap,
									Oid *relid, Oid *indexid);

/*
 * The shard groups this node holds (NIL on a coordinator, and without
 * Citus), in shard order, each ready for writing: the shards of tables with
 * an identity column get their default (Citus creates shards without it).
 * Allocated in mcxt; connected to SPI, in a transaction.
 */
extern List *cadence_local_shard_groups(MemoryContext mcxt);

/*
 * Does this node hold shards of cadence.scheduled_actions?  Only once
 * cadence_distributed(); connected to SPI.
 */
extern bool cadence_holds_shards(void);

/* The primary worker nodes, "host:port, ...", for messages; SPI. */
extern char *cadence_worker_nodes(void);

#endif							/* CADENCE_BASE_CLUSTER_H */
