/*
 * worker/round.h
 *		One round of a runner, the same for a dispatcher (worker/bgworker.c) and
 *		for the background worker of cadence.run_due_actions()
 *		(worker/run_due_actions.c).
 */
#ifndef CADENCE_WORKER_ROUND_H
#define CADENCE_WORKER_ROUND_H

#include "dispatch/dispatch.h"

/* How a round went. */
typedef enum CadenceRoundResult
{
	ROUND_DONE,
	ROUND_NOT_INSTALLED,		/* cadence is not installed in this database,
								 * at this library's version */
	ROUND_NO_SHARDS				/* cadence's tables are distributed by Citus
								 * and this node holds none of their shards */
} CadenceRoundResult;

/*
 * Claim up to limit actions (of tenant_id, or of all) at the runner's clock
 * now and commit, send them with no transaction open (poll_cb, when given,
 * is called while waiting), record what came back and commit; on a worker
 * node of a Citus cluster, in each shard group of the node in turn.  The
 * tallies go to *counts.  When next_due is given, it says when to look
 * again if nothing was claimed: when the next action falls due (0: nothing
 * scheduled), on a Citus worker node at most a second from now.  To be
 * called outside any transaction, by a background worker.
 */
extern CadenceRoundResult cadence_round(MemoryContext mcxt, TimestampTz now, bool realtime,
										int limit, const char *tenant_id,
										void (*poll_cb) (void *), void *poll_arg,
										DispatchCounts *counts, TimestampTz *next_due);

#endif							/* CADENCE_WORKER_ROUND_H */
