/*
 * dispatch/liveness.c
 *		Runner tokens and the advisory locks that say a runner lives (see
 *		dispatch/liveness.h, and the claim rule in dispatch/claim.c).
 *
 * The locks are the ones pg_advisory_lock(int, int) takes, with the first
 * key CADENCE_RUNNER_LOCK_KEY, so a DBA sees the live runners in pg_locks
 * (locktype advisory, classid 1667326053, objid the token's low 32 bits).
 * The server releases a session lock when its process exits, whatever the
 * exit: a crash restart clears them all.
 *
 * A token is the node group of the server that issued it (Citus's
 * pg_dist_local_group; 0 on a single server and on a Citus coordinator) in
 * its high 32 bits, and a number of cadence.runner_seq in its low 32 bits.
 * Each node of a cluster has its own sequence and its own lock manager, so
 * the group keeps the tokens of two nodes apart, and tells a runner which
 * claims it can judge: only those of its own node, whose locks it sees.
 * Those of another node are that node's runners' to take over.
 */
#include "postgres.h"

#include "catalog/namespace.h"
#include "commands/sequence.h"
#include "miscadmin.h"
#include "storage/lock.h"
#include "utils/lsyscache.h"

#include "base/cluster.h"
#include "dispatch/liveness.h"

/* This process's token; 0 until its first claim, or after renouncing. */
static int64 my_token = 0;

/* The node group of a token. */
#define TOKEN_GROUP(token) ((int32) ((uint64) (token) >> 32))

/* The advisory lock tag of a token. */
static void
runner_tag(LOCKTAG *tag, int64 token)
{
	SET_LOCKTAG_ADVISORY(*tag, MyDatabaseId, (uint32) CADENCE_RUNNER_LOCK_KEY,
						 (uint32) token, 2);
}

/*
 * cadence_runner_token
 *		Take a token and lock it for the life of the process, once.  The
 *		sequence is read without a privilege check: the runner's role uses
 *		it only through cadence's own code.
 */
int64
cadence_runner_token(void)
{
	Oid			seq;
	int64		group;

	if (my_token != 0)
		return my_token;
	group = cadence_node_group();
	seq = get_relname_relid("runner_seq", get_namespace_oid("cadence", false));
	if (!OidIsValid(seq))
		elog(ERROR, "cadence.runner_seq is missing");
	for (;;)
	{
		int64		token = (group << 32) | (uint32) nextval_internal(seq, false);
		LOCKTAG		tag;

		runner_tag(&tag, token);
		/* Taken already only after the sequence wrapped round: skip it. */
		if (LockAcquire(&tag, ExclusiveLock, true, true) == LOCKACQUIRE_OK)
		{
			my_token = token;
			return my_token;
		}
	}
}

/*
 * cadence_runner_renounce
 *		Release the token's lock; this process's claims are then a dead
 *		runner's.
 */
void
cadence_runner_renounce(void)
{
	LOCKTAG		tag;

	if (my_token == 0)
		return;
	runner_tag(&tag, my_token);
	LockRelease(&tag, ExclusiveLock, true);
	ereport(LOG,
			errmsg("cadence runner %lld gives up its claims, to be taken over as a dead runner's",
				   (long long) my_token));
	my_token = 0;
}

/*
 * cadence_runner_gone
 *		Try the token's lock without waiting: free means its runner is gone.
 *		Another node's runner is never judged gone here: its lock is in
 *		that node's lock manager.
 */
bool
cadence_runner_gone(int64 token)
{
	LOCKTAG		tag;

	if (token == my_token || TOKEN_GROUP(token) != cadence_node_group())
		return false;
	runner_tag(&tag, token);
	return LockAcquire(&tag, ExclusiveLock, false, true) != LOCKACQUIRE_NOT_AVAIL;
}
