/*
 * worker/round.h
 *		One round of a runner, the same for a dispatcher (worker/bgworker.c) and
 *		for the background worker of cadence.run_due_actions()
 *		(worker/run_due_actions.c).
 */
#ifndef CADENCE_WORKER_ROUND_H
#define CADENCE_WORKER_ROUND_H

#include "dispatch/dispatch.h"

/*
 * Claim up to limit actions (of tenant_id, or of all) at the runner's clock
 * now and commit, send them with no transaction open (poll_cb, when given,
 * is called while waiting), record what came back and commit.  Returns the
 * batch, allocated in mcxt, or NULL when cadence is not installed in this
 * database.  When nothing was claimed and next_due is given, it says when
 * the next action falls due (0: nothing scheduled).  To be called outside
 * any transaction, by a background worker.
 */
extern DispatchBatch *cadence_round(MemoryContext mcxt, TimestampTz now, bool realtime,
									int limit, const char *tenant_id,
									void (*poll_cb) (void *), void *poll_arg,
									TimestampTz *next_due);

#endif							/* CADENCE_WORKER_ROUND_H */
