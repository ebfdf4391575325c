/*
 * worker/bgworker.c
 *		The background workers (when cadence is preloaded):
 *
 *		launcher	a static worker connected to no database.  It reads
 *					pg_database and keeps cadence.workers dispatchers running
 *					while cadence.database_name exists and cadence.enabled is
 *					on, starting one again (after a pause) when it stops; and
 *					then wakes the others at once, which take over what the
 *					stopped one held (dispatch/take.c).
 *		dispatcher	a dynamic worker connected to that database; several
 *					share the work through SKIP LOCKED claims.  It loops over
 *					rounds (worker/round.c): claim a batch and commit, send it
 *					with no transaction open, record the outcomes in one short
 *					transaction; when nothing is due it sleeps on its latch
 *					until the next due time, and transactions that create due
 *					work wake it when they commit.
 *
 * The dispatcher never blocks DROP DATABASE, ALTER DATABASE RENAME or DROP
 * EXTENSION: it holds locks only inside its short transactions, it checks
 * (between and during batches) whether someone wants its database
 * exclusively and then leaves, and without the extension (at the library's
 * version: an update not yet applied) it just waits.
 * An error ends the iteration, not the worker.
 */
#include "postgres.h"

#include "access/heapam.h"
#include "access/htup_details.h"
#include "access/table.h"
#include "access/tableam.h"
#include "access/xact.h"
#include "catalog/pg_database.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "postmaster/bgworker.h"
#include "postmaster/interrupt.h"
#include "storage/ipc.h"
#include "storage/latch.h"
#include "storage/lock.h"
#include "storage/proc.h"
#include "tcop/tcopprot.h"
#include "utils/guc.h"
#include "utils/memutils.h"
#include "utils/snapmgr.h"
#include "utils/timestamp.h"

#include "base/gucs.h"
#include "base/spi.h"
#include "base/shmem.h"
#include "worker/bgworker.h"
#include "worker/round.h"

/* The launcher starts the dispatcher again no sooner than this. */
#define RESTART_PAUSE_MS	5000

/* Longest sleep of an idle dispatcher, and its wait without the extension. */
#define MAX_SLEEP_MS		60000
#define NO_EXTENSION_MS		10000

/* Pause after an iteration failed. */
#define ERROR_PAUSE_MS		1000

/* How often a dispatcher looks for a waiting DROP DATABASE: busy, idle. */
#define DROP_CHECK_MS		200
#define NAP_SLICE_MS		500

PGDLLEXPORT void cadence_launcher_main(Datum main_arg);
PGDLLEXPORT void cadence_dispatcher_main(Datum main_arg);

/*
 * cadence_register_launcher
 *		Register the launcher; from _PG_init while preloading.
 */
void
cadence_register_launcher(void)
{
	BackgroundWorker w;

	memset(&w, 0, sizeof(w));
	w.bgw_flags = BGWORKER_SHMEM_ACCESS | BGWORKER_BACKEND_DATABASE_CONNECTION;
	w.bgw_start_time = BgWorkerStart_RecoveryFinished;
	w.bgw_restart_time = RESTART_PAUSE_MS / 1000;
	snprintf(w.bgw_library_name, BGW_MAXLEN, "cadence");
	snprintf(w.bgw_function_name, BGW_MAXLEN, "cadence_launcher_main");
	snprintf(w.bgw_name, BGW_MAXLEN, "cadence launcher");
	snprintf(w.bgw_type, BGW_MAXLEN, "cadence launcher");
	RegisterBackgroundWorker(&w);
}

/*
 * database_exists
 *		Is there a database of that name?  The launcher is connected to no
 *		database, so it reads the shared catalog pg_database by a plain scan
 *		(as the autovacuum launcher does); no index or cache is available.
 */
static bool
database_exists(const char *name)
{
	Relation	rel;
	TableScanDesc scan;
	HeapTuple	tup;
	bool		found = false;

	StartTransactionCommand();
	(void) GetTransactionSnapshot();
	rel = table_open(DatabaseRelationId, AccessShareLock);
	scan = table_beginscan_catalog(rel, 0, NULL);
	while (!found && HeapTupleIsValid(tup = heap_getnext(scan, ForwardScanDirection)))
		found = strcmp(NameStr(((Form_pg_database) GETSTRUCT(tup))->datname), name) == 0;
	table_endscan(scan);
	table_close(rel, AccessShareLock);
	CommitTransactionCommand();
	return found;
}

/*
 * start_dispatcher
 *		Ask the postmaster for the dispatcher of a slot, reporting to us when
 *		it stops.
 */
static BackgroundWorkerHandle *
start_dispatcher(int slot)
{
	BackgroundWorker w;
	BackgroundWorkerHandle *handle;
	pid_t		pid;

	memset(&w, 0, sizeof(w));
	w.bgw_flags = BGWORKER_SHMEM_ACCESS | BGWORKER_BACKEND_DATABASE_CONNECTION;
	w.bgw_start_time = BgWorkerStart_RecoveryFinished;
	w.bgw_restart_time = BGW_NEVER_RESTART;
	w.bgw_notify_pid = MyProcPid;
	w.bgw_main_arg = Int32GetDatum(slot);
	snprintf(w.bgw_library_name, BGW_MAXLEN, "cadence");
	snprintf(w.bgw_function_name, BGW_MAXLEN, "cadence_dispatcher_main");
	snprintf(w.bgw_name, BGW_MAXLEN, "cadence dispatcher %d", slot + 1);
	snprintf(w.bgw_type, BGW_MAXLEN, "cadence dispatcher");
	if (!RegisterDynamicBackgroundWorker(&w, &handle))
	{
		ereport(LOG,
				errmsg("cadence launcher could not start dispatcher %d", slot + 1),
				errhint("Raise max_worker_processes."));
		return NULL;
	}
	if (WaitForBackgroundWorkerStartup(handle, &pid) != BGWH_STARTED)
		return NULL;
	return handle;
}

/*
 * cadence_launcher_main
 *		Keep cadence.workers dispatchers running while they should.
 */
void
cadence_launcher_main(Datum main_arg)
{
	BackgroundWorkerHandle *handles[CADENCE_MAX_DISPATCHERS] = {0};
	TimestampTz last_start[CADENCE_MAX_DISPATCHERS] = {0};

	pqsignal(SIGHUP, SignalHandlerForConfigReload);
	pqsignal(SIGTERM, die);
	BackgroundWorkerUnblockSignals();
	BackgroundWorkerInitializeConnection(NULL, NULL, 0);
	pgstat_report_appname("cadence launcher");

	for (;;)
	{
		bool		exists = false;
		bool		checked = false;
		int			i;

		CHECK_FOR_INTERRUPTS();
		if (ConfigReloadPending)
		{
			ConfigReloadPending = false;
			ProcessConfigFile(PGC_SIGHUP);
		}
		for (i = 0; i < CADENCE_MAX_DISPATCHERS; i++)
		{
			pid_t		pid;

			if (handles[i] != NULL && GetBackgroundWorkerPid(handles[i], &pid) == BGWH_STOPPED)
			{
				pfree(handles[i]);
				handles[i] = NULL;
				/* What it held is free now: the others take it over. */
				cadence_wake_dispatchers();
			}
			if (handles[i] != NULL && i >= cadence_workers)
				TerminateBackgroundWorker(handles[i]);
			if (handles[i] != NULL || i >= cadence_workers || !cadence_enabled ||
				!TimestampDifferenceExceeds(last_start[i], GetCurrentTimestamp(), RESTART_PAUSE_MS))
				continue;
			if (!checked)
			{
				exists = database_exists(cadence_database_name);
				checked = true;
			}
			if (exists)
			{
				last_start[i] = GetCurrentTimestamp();
				handles[i] = start_dispatcher(i);
			}
		}
		(void) WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH,
						 RESTART_PAUSE_MS, PG_WAIT_EXTENSION);
		ResetLatch(MyLatch);
	}
}

/*
 * drop_pending
 *		Does another session want this database exclusively (DROP DATABASE,
 *		ALTER DATABASE ... RENAME)?  They hold or wait for an exclusive lock
 *		on it while they wait for us to leave.  A session lock needs no
 *		transaction, so this works while sending too.
 */
static bool
drop_pending(void)
{
	LOCKTAG		tag;

	SET_LOCKTAG_OBJECT(tag, InvalidOid, DatabaseRelationId, MyDatabaseId, 0);
	if (LockAcquire(&tag, AccessShareLock, true, true) == LOCKACQUIRE_NOT_AVAIL)
		return true;
	LockRelease(&tag, AccessShareLock, true);
	return false;
}

/*
 * leave_if_dropped
 *		Exit quietly when the database is wanted exclusively; the launcher
 *		starts a dispatcher again once it exists and is free.
 */
static void
leave_if_dropped(void *arg)
{
	static TimestampTz last_check = 0;

	if (!TimestampDifferenceExceeds(last_check, GetCurrentTimestamp(), DROP_CHECK_MS))
		return;
	last_check = GetCurrentTimestamp();
	if (drop_pending())
	{
		ereport(LOG,
				errmsg("cadence dispatcher leaves database \"%s\", which another session wants exclusively",
					   cadence_database_name));
		proc_exit(0);
	}
}

/*
 * say_idle
 *		Say once, while it lasts, that this node has nothing to send from.
 */
static void
say_idle(bool idle)
{
	static bool said = false;

	if (idle && !said)
		ereport(LOG,
				errmsg("cadence dispatcher idles: Citus distributes cadence's tables in database \"%s\" and this node holds none of their shards",
					   cadence_database_name),
				errhint("The dispatchers of the worker nodes send."));
	said = idle;
}

/*
 * iterate
 *		One round; returns how long to sleep after it.
 */
static long
iterate(MemoryContext batch_cxt)
{
	DispatchCounts counts;
	TimestampTz next_due = 0;
	CadenceRoundResult result;

	leave_if_dropped(NULL);
	result = cadence_round(batch_cxt, GetCurrentTimestamp(), true, cadence_batch_size, NULL,
						   leave_if_dropped, NULL, &counts, &next_due);
	say_idle(result == ROUND_NO_SHARDS);
	if (result == ROUND_NOT_INSTALLED)
		return NO_EXTENSION_MS;
	if (result == ROUND_NO_SHARDS)
		return MAX_SLEEP_MS;
	if (counts.claimed > 0)
		return 0;
	if (next_due == 0)
		return MAX_SLEEP_MS;
	return Min(Max((next_due - GetCurrentTimestamp()) / 1000 + 1, 0), MAX_SLEEP_MS);
}

/*
 * nap
 *		Sleep on the latch for up to ms, in slices short enough to notice a
 *		DROP DATABASE within its five-second wait for other sessions to leave.
 */
static void
nap(long ms)
{
	TimestampTz until = TimestampTzPlusMilliseconds(GetCurrentTimestamp(), ms);

	for (;;)
	{
		long		left = (until - GetCurrentTimestamp()) / 1000;
		int			rc;

		if (left <= 0)
			break;
		rc = WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH,
					   Min(left, NAP_SLICE_MS), PG_WAIT_EXTENSION);
		if (rc & WL_LATCH_SET)
		{
			ResetLatch(MyLatch);
			break;
		}
		leave_if_dropped(NULL);
	}
}

/*
 * cadence_runner_settings
 *		How the runner's statements are planned (see dispatch/claim.c; the
 *		settings hold while each of them runs, base/spi.h), and where their
 *		names resolve.
 */
void
cadence_runner_settings(void)
{
	cadence_spi_use_runner_plans();
	/* Names resolve in pg_catalog, whatever the role or database set. */
	SetConfigOption("search_path", "pg_catalog, pg_temp", PGC_SUSET, PGC_S_OVERRIDE);
}

/*
 * clear_dispatcher
 *		On exit: this slot's dispatcher is gone.
 */
static void
clear_dispatcher(int code, Datum arg)
{
	cadence_shared_set_dispatcher(DatumGetInt32(arg), 0);
}

/*
 * cadence_dispatcher_main
 *		Send due actions of cadence.database_name until told to stop.
 */
void
cadence_dispatcher_main(Datum main_arg)
{
	MemoryContext batch_cxt;

	pqsignal(SIGHUP, SignalHandlerForConfigReload);
	pqsignal(SIGTERM, die);
	BackgroundWorkerUnblockSignals();
	BackgroundWorkerInitializeConnection(cadence_database_name,
										 cadence_role[0] ? cadence_role : NULL, 0);
	pgstat_report_appname("cadence dispatcher");
	cadence_runner_settings();
	cadence_shared_set_dispatcher(DatumGetInt32(main_arg), MyProcPid);
	before_shmem_exit(clear_dispatcher, main_arg);
	batch_cxt = AllocSetContextCreate(TopMemoryContext, "cadence dispatch batch",
									  ALLOCSET_DEFAULT_SIZES);

	for (;;)
	{
		volatile long sleep_ms;

		MemoryContextReset(batch_cxt);
		PG_TRY();
		{
			sleep_ms = iterate(batch_cxt);
		}
		PG_CATCH();
		{
			/* Report, clean up, and go on after a pause. */
			MemoryContextSwitchTo(TopMemoryContext);
			EmitErrorReport();
			FlushErrorState();
			AbortCurrentTransaction();
			pgstat_report_activity(STATE_IDLE, NULL);
			sleep_ms = ERROR_PAUSE_MS;
		}
		PG_END_TRY();

		if (sleep_ms > 0)
			nap(sleep_ms);
		CHECK_FOR_INTERRUPTS();
		if (ConfigReloadPending)
		{
			ConfigReloadPending = false;
			ProcessConfigFile(PGC_SIGHUP);
		}
		if (!cadence_enabled)
			proc_exit(0);
	}
}
