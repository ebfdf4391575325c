/*
 * base/listeners.c
 *		Who listens on cadence's channels.  PostgreSQL cannot say whether a
 *		channel has listeners, and pg_notify of an event nobody hears costs
 *		as much as one somebody does; a bulk enrollment publishes one per
 *		run.  With cadence preloaded, a ProcessUtility hook sees every
 *		LISTEN, UNLISTEN and DISCARD ALL in every backend and keeps, in the
 *		shared state, how many backends listen on each channel; the
 *		publishers (publish.c) leave out what goes to a channel nobody
 *		listens on.  Without the shared state every event is published.
 *
 * The count never falls short of the listeners, so that no listener misses
 * an event:
 *	- a LISTEN counts its backend before it runs, and stays counted should
 *	  its transaction abort (one event too many is published, never one too
 *	  few); UNLISTEN, UNLISTEN * and DISCARD ALL take a backend out of the
 *	  count only when their transaction commits, unless a LISTEN of the
 *	  same channel or a rolled-back subtransaction undid them; a backend
 *	  leaves every count when it exits;
 *	- a publisher that finds no listener takes the skip lock (shared, till
 *	  its transaction ends) before it reads the count again, and a LISTEN
 *	  that counts a backend waits for the lock once, exclusively, after
 *	  counting: a transaction that left an event out commits before the
 *	  new listener starts listening, as if the event had been sent before
 *	  the LISTEN.  A publisher never waits for the lock: while a LISTEN
 *	  waits for it, it publishes everything.
 * The lock shows in pg_locks as an advisory lock of this database with
 * objsubid 3, which pg_advisory_lock() never uses.
 */
#include "postgres.h"

#include "access/xact.h"
#include "miscadmin.h"
#include "nodes/parsenodes.h"
#include "storage/ipc.h"
#include "storage/lock.h"
#include "tcop/utility.h"
#include "utils/resowner.h"

#include "base/listeners.h"
#include "base/shmem.h"

static const char *const channel_names[EVENT_NCHANNELS] = {
	[CHANNEL_ENROLLMENT_CREATED] = "sequence.enrollment.created",
	[CHANNEL_ENROLLMENT_COMPLETED] = "sequence.enrollment.completed",
	[CHANNEL_ENROLLMENT_REPLIED] = "sequence.enrollment.replied",
	[CHANNEL_ENROLLMENT_EXITED] = "sequence.enrollment.exited",
	[CHANNEL_STEP_EXECUTED] = "sequence.step.executed",
	[CHANNEL_STEP_PENDING_MANUAL] = "sequence.step.pending_manual",
};

/* The skip lock's key, in an advisory lock tag of this database. */
#define SKIP_LOCK_KEY	0x63616465
#define SKIP_LOCK_KIND	3

static ProcessUtility_hook_type prev_process_utility = NULL;

/* This backend is in the channel's count. */
static bool counted[EVENT_NCHANNELS];

/*
 * An UNLISTEN of the channel awaits the commit: the nesting level of the
 * outermost (sub)transaction that ran one, or 0.
 */
static int	unlisten_level[EVENT_NCHANNELS];

static bool exit_callback_registered = false;

/* What this transaction's publishers may do when a count is zero. */
typedef enum SkipState
{
	SKIP_UNDECIDED,				/* the skip lock was not asked for yet */
	SKIP_ALLOWED,				/* the skip lock is held */
	SKIP_NEVER					/* a LISTEN waits for the lock: publish */
} SkipState;

static SkipState skip_state = SKIP_UNDECIDED;

/*
 * cadence_channel_name
 *		A channel's name.
 */
const char *
cadence_channel_name(EventChannel channel)
{
	return channel_names[channel];
}

/*
 * channel_named
 *		The channel of that name, or -1 when it is none of cadence's.
 */
static int
channel_named(const char *name)
{
	int			ch;

	for (ch = 0; ch < EVENT_NCHANNELS; ch++)
		if (strcmp(name, channel_names[ch]) == 0)
			return ch;
	return -1;
}

static void
skip_lock_tag(LOCKTAG *tag)
{
	SET_LOCKTAG_ADVISORY(*tag, MyDatabaseId, SKIP_LOCK_KEY, 0, SKIP_LOCK_KIND);
}

/*
 * try_skip_lock
 *		Take the skip lock, shared, for the rest of the transaction (owned
 *		by the top transaction, so that a subtransaction's abort keeps it);
 *		false when a LISTEN waits for it.
 */
static bool
try_skip_lock(void)
{
	ResourceOwner saved = CurrentResourceOwner;
	LOCKTAG		tag;
	LockAcquireResult got;

	skip_lock_tag(&tag);
	CurrentResourceOwner = TopTransactionResourceOwner;
	PG_TRY();
	{
		got = LockAcquire(&tag, ShareLock, false, true);
	}
	PG_FINALLY();
	{
		CurrentResourceOwner = saved;
	}
	PG_END_TRY();
	return got != LOCKACQUIRE_NOT_AVAIL;
}

/*
 * cadence_channel_heard
 *		Whether an event published on the channel now may reach a listener.
 */
bool
cadence_channel_heard(EventChannel channel)
{
	if (cadence_shared == NULL ||
		pg_atomic_read_u32(&cadence_shared->listeners[channel]) > 0)
		return true;
	if (skip_state == SKIP_UNDECIDED)
		skip_state = try_skip_lock() ? SKIP_ALLOWED : SKIP_NEVER;
	if (skip_state == SKIP_NEVER)
		return true;
	pg_memory_barrier();
	return pg_atomic_read_u32(&cadence_shared->listeners[channel]) > 0;
}

/*
 * forget_at_exit
 *		Take the exiting backend out of every count it is in.
 */
static void
forget_at_exit(int code, Datum arg)
{
	int			ch;

	for (ch = 0; ch < EVENT_NCHANNELS; ch++)
		if (counted[ch])
		{
			counted[ch] = false;
			pg_atomic_fetch_sub_u32(&cadence_shared->listeners[ch], 1);
		}
}

/*
 * listen_starts
 *		A LISTEN is about to run: count this backend on the channel, and let
 *		the transactions that left out events of a channel nobody listened
 *		on finish first.
 */
static void
listen_starts(const char *name)
{
	int			ch = channel_named(name);
	LOCKTAG		tag;

	if (ch < 0)
		return;
	unlisten_level[ch] = 0;
	if (counted[ch])
		return;
	if (!exit_callback_registered)
	{
		before_shmem_exit(forget_at_exit, (Datum) 0);
		exit_callback_registered = true;
	}
	counted[ch] = true;
	pg_atomic_fetch_add_u32(&cadence_shared->listeners[ch], 1);

	skip_lock_tag(&tag);
	LockAcquire(&tag, ExclusiveLock, false, false);
	LockRelease(&tag, ExclusiveLock, false);
}

/*
 * unlisten_ran
 *		An UNLISTEN of the channel (NULL: of every channel) ran; it takes
 *		effect when the transaction commits.
 */
static void
unlisten_ran(const char *name)
{
	int			level = GetCurrentTransactionNestLevel();
	int			ch;

	for (ch = 0; ch < EVENT_NCHANNELS; ch++)
		if (name == NULL || strcmp(name, channel_names[ch]) == 0)
			if (unlisten_level[ch] == 0 || unlisten_level[ch] > level)
				unlisten_level[ch] = level;
}

/*
 * watch_utility
 *		The ProcessUtility hook: LISTEN, UNLISTEN and DISCARD ALL on their
 *		way through.
 */
static void
watch_utility(PlannedStmt *pstmt, const char *queryString, bool readOnlyTree,
			  ProcessUtilityContext context, ParamListInfo params,
			  QueryEnvironment *queryEnv, DestReceiver *dest, QueryCompletion *qc)
{
	Node	   *stmt = pstmt->utilityStmt;

	if (IsA(stmt, ListenStmt))
		listen_starts(((ListenStmt *) stmt)->conditionname);

	if (prev_process_utility)
		prev_process_utility(pstmt, queryString, readOnlyTree, context, params,
							 queryEnv, dest, qc);
	else
		standard_ProcessUtility(pstmt, queryString, readOnlyTree, context, params,
								queryEnv, dest, qc);

	if (IsA(stmt, UnlistenStmt))
		unlisten_ran(((UnlistenStmt *) stmt)->conditionname);
	else if (IsA(stmt, DiscardStmt) && ((DiscardStmt *) stmt)->target == DISCARD_ALL)
		unlisten_ran(NULL);
}

/*
 * at_xact_end
 *		At commit, the UNLISTENs that stand take the backend out of their
 *		channels' counts; at commit or abort, the next transaction starts
 *		with nothing pending and without the skip lock.
 */
static void
at_xact_end(XactEvent event, void *arg)
{
	bool		commit = event == XACT_EVENT_COMMIT || event == XACT_EVENT_PARALLEL_COMMIT;
	int			ch;

	if (!commit && event != XACT_EVENT_ABORT && event != XACT_EVENT_PARALLEL_ABORT &&
		event != XACT_EVENT_PREPARE)
		return;
	for (ch = 0; ch < EVENT_NCHANNELS; ch++)
	{
		if (commit && unlisten_level[ch] > 0 && counted[ch])
		{
			counted[ch] = false;
			pg_atomic_fetch_sub_u32(&cadence_shared->listeners[ch], 1);
		}
		unlisten_level[ch] = 0;
	}
	skip_state = SKIP_UNDECIDED;
}

/*
 * at_subxact_end
 *		A subtransaction's UNLISTENs pass to its parent when it commits, and
 *		are undone when it aborts.
 */
static void
at_subxact_end(SubXactEvent event, SubTransactionId sub,
			   SubTransactionId parent, void *arg)
{
	int			level = GetCurrentTransactionNestLevel();
	int			ch;

	if (event != SUBXACT_EVENT_COMMIT_SUB && event != SUBXACT_EVENT_ABORT_SUB)
		return;
	for (ch = 0; ch < EVENT_NCHANNELS; ch++)
		if (unlisten_level[ch] >= level)
			unlisten_level[ch] = event == SUBXACT_EVENT_COMMIT_SUB ? level - 1 : 0;
}

/*
 * cadence_listeners_init
 *		Install the hook and the callbacks; from _PG_init while preloading,
 *		so that every backend has them before it runs any statement.
 */
void
cadence_listeners_init(void)
{
	prev_process_utility = ProcessUtility_hook;
	ProcessUtility_hook = watch_utility;
	RegisterXactCallback(at_xact_end, NULL);
	RegisterSubXactCallback(at_subxact_end, NULL);
}
