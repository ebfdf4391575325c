/*
 * base/cluster.h
 *		What a node of a Citus cluster needs to know of it (base/cluster.c).
 */
#ifndef CADENCE_BASE_CLUSTER_H
#define CADENCE_BASE_CLUSTER_H

#include "postgres.h"

#include "utils/snapshot.h"

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

#endif							/* CADENCE_BASE_CLUSTER_H */
