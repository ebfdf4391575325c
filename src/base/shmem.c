/*
 * base/shmem.c
 *		The shared state (see base/shmem.h), the dispatcher's wake-up at
 *		commit and what cadence.worker_status() reports.
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "access/xact.h"
#include "funcapi.h"
#include "fmgr.h"
#include "miscadmin.h"
#include "storage/ipc.h"
#include "storage/latch.h"
#include "storage/proc.h"
#include "storage/shmem.h"
#include "catalog/pg_type.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/timestamp.h"

#include "base/compat.h"
#include "base/gucs.h"
#include "base/shmem.h"

PG_FUNCTION_INFO_V1(cadence_worker_status);

CadenceShared *cadence_shared = NULL;

static shmem_request_hook_type prev_shmem_request_hook = NULL;
static shmem_startup_hook_type prev_shmem_startup_hook = NULL;

/* The current transaction asked to wake the dispatcher at commit. */
static bool wake_at_commit = false;
static bool xact_callback_registered = false;

/*
 * shmem_request
 *		Ask for room for the shared state.
 */
static void
shmem_request(void)
{
	if (prev_shmem_request_hook)
		prev_shmem_request_hook();
	RequestAddinShmemSpace(MAXALIGN(sizeof(CadenceShared)));
}

/*
 * shmem_startup
 *		Create (in the postmaster) or attach to the shared state.
 */
static void
shmem_startup(void)
{
	bool		found;

	if (prev_shmem_startup_hook)
		prev_shmem_startup_hook();

	LWLockAcquire(AddinShmemInitLock, LW_EXCLUSIVE);
	cadence_shared = ShmemInitStruct("cadence", sizeof(CadenceShared), &found);
	if (!found)
	{
		int			i;

		memset(cadence_shared, 0, sizeof(CadenceShared));
		SpinLockInit(&cadence_shared->mutex);
		for (i = 0; i < CADENCE_MAX_DISPATCHERS; i++)
			cadence_shared->dispatchers[i].procno = -1;
		pg_atomic_init_u64(&cadence_shared->claimed, 0);
		pg_atomic_init_u64(&cadence_shared->sent, 0);
		pg_atomic_init_u64(&cadence_shared->failed, 0);
		pg_atomic_init_u64(&cadence_shared->retried, 0);
		pg_atomic_init_u64(&cadence_shared->skipped, 0);
		pg_atomic_init_u64(&cadence_shared->moved, 0);
		pg_atomic_init_u64(&cadence_shared->executed, 0);
		for (i = 0; i < EVENT_NCHANNELS; i++)
			pg_atomic_init_u32(&cadence_shared->listeners[i], 0);
	}
	LWLockRelease(AddinShmemInitLock);
}

/*
 * cadence_shmem_init
 *		Install the hooks; called from _PG_init while preloading.
 */
void
cadence_shmem_init(void)
{
	prev_shmem_request_hook = shmem_request_hook;
	shmem_request_hook = shmem_request;
	prev_shmem_startup_hook = shmem_startup_hook;
	shmem_startup_hook = shmem_startup;
}

/* The slot of this process when it is a dispatcher, else -1. */
static int my_slot = -1;

/*
 * cadence_shared_set_dispatcher
 *		Record a dispatcher's pid and latch in its slot (pid 0: it is gone).
 */
void
cadence_shared_set_dispatcher(int slot, pid_t pid)
{
	CadenceDispatcherSlot *d;

	if (cadence_shared == NULL || slot < 0 || slot >= CADENCE_MAX_DISPATCHERS)
		return;
	d = &cadence_shared->dispatchers[slot];
	SpinLockAcquire(&cadence_shared->mutex);
	d->pid = pid;
	d->procno = pid ? GetNumberFromPGProc(MyProc) : -1;
	d->started_at = pid ? GetCurrentTimestamp() : 0;
	d->in_flight = 0;
	SpinLockRelease(&cadence_shared->mutex);
	my_slot = pid ? slot : -1;
}

/*
 * cadence_shared_set_in_flight
 *		How many requests this dispatcher has out (nothing for a session).
 */
void
cadence_shared_set_in_flight(int n)
{
	if (cadence_shared == NULL || my_slot < 0)
		return;
	SpinLockAcquire(&cadence_shared->mutex);
	cadence_shared->dispatchers[my_slot].in_flight = n;
	SpinLockRelease(&cadence_shared->mutex);
}

/*
 * cadence_wake_dispatchers
 *		Set the running dispatchers' latches.
 */
void
cadence_wake_dispatchers(void)
{
	int			i;

	if (cadence_shared == NULL)
		return;
	for (i = 0; i < CADENCE_MAX_DISPATCHERS; i++)
	{
		int			procno;

		SpinLockAcquire(&cadence_shared->mutex);
		procno = cadence_shared->dispatchers[i].procno;
		SpinLockRelease(&cadence_shared->mutex);
		if (procno >= 0)
			SetLatch(&GetPGProcByNumber(procno)->procLatch);
	}
}

/*
 * at_xact_end
 *		Wake the dispatchers when a transaction that created due work
 *		commits.
 */
static void
at_xact_end(XactEvent event, void *arg)
{
	if (event != XACT_EVENT_COMMIT && event != XACT_EVENT_PARALLEL_COMMIT &&
		event != XACT_EVENT_ABORT && event != XACT_EVENT_PARALLEL_ABORT)
		return;
	if (wake_at_commit && (event == XACT_EVENT_COMMIT ||
						   event == XACT_EVENT_PARALLEL_COMMIT))
		cadence_wake_dispatchers();
	wake_at_commit = false;
}

/*
 * cadence_wake_dispatcher_at_commit
 *		Remember to wake the dispatchers when this transaction commits.
 */
void
cadence_wake_dispatcher_at_commit(void)
{
	if (cadence_shared == NULL)
		return;
	if (!xact_callback_registered)
	{
		RegisterXactCallback(at_xact_end, NULL);
		xact_callback_registered = true;
	}
	wake_at_commit = true;
}

/*
 * cadence_worker_state(OUT ...) RETURNS record
 *		The dispatchers' shared state and the counters of every runner since
 *		the server started; cadence.worker_status() wraps it.
 */
Datum
cadence_worker_status(PG_FUNCTION_ARGS)
{
	TupleDesc	tupdesc;
	Datum		values[14];
	bool		nulls[14];
	Datum		pids[CADENCE_MAX_DISPATCHERS];
	int			npids = 0;
	TimestampTz started_at = 0;
	TimestampTz last_claim_at = 0;
	int			in_flight = 0;
	int			i;

	if (get_call_result_type(fcinfo, NULL, &tupdesc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "return type must be a row type");
	memset(nulls, 0, sizeof(nulls));
	if (cadence_shared != NULL)
	{
		SpinLockAcquire(&cadence_shared->mutex);
		for (i = 0; i < CADENCE_MAX_DISPATCHERS; i++)
		{
			CadenceDispatcherSlot *d = &cadence_shared->dispatchers[i];

			if (d->pid == 0)
				continue;
			pids[npids++] = Int32GetDatum(d->pid);
			if (started_at == 0 || d->started_at < started_at)
				started_at = d->started_at;
			in_flight += d->in_flight;
		}
		last_claim_at = cadence_shared->last_claim_at;
		SpinLockRelease(&cadence_shared->mutex);
	}
	values[0] = BoolGetDatum(npids > 0);
	values[1] = BoolGetDatum(cadence_shared != NULL);
	values[2] = cadence_database_name ? CStringGetTextDatum(cadence_database_name) : (Datum) 0;
	nulls[2] = cadence_database_name == NULL;
	values[3] = PointerGetDatum(construct_array(pids, npids, INT4OID, 4, true, TYPALIGN_INT));
	values[4] = TimestampTzGetDatum(started_at);
	nulls[4] = started_at == 0;
	values[5] = TimestampTzGetDatum(last_claim_at);
	nulls[5] = last_claim_at == 0;
	values[6] = Int32GetDatum(in_flight);
	for (i = 7; i < 14; i++)
		nulls[i] = cadence_shared == NULL;
	if (cadence_shared != NULL)
	{
		values[7] = Int64GetDatum(pg_atomic_read_u64(&cadence_shared->claimed));
		values[8] = Int64GetDatum(pg_atomic_read_u64(&cadence_shared->sent));
		values[9] = Int64GetDatum(pg_atomic_read_u64(&cadence_shared->failed));
		values[10] = Int64GetDatum(pg_atomic_read_u64(&cadence_shared->retried));
		values[11] = Int64GetDatum(pg_atomic_read_u64(&cadence_shared->skipped));
		values[12] = Int64GetDatum(pg_atomic_read_u64(&cadence_shared->moved));
		values[13] = Int64GetDatum(pg_atomic_read_u64(&cadence_shared->executed));
	}
	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(BlessTupleDesc(tupdesc),
													  values, nulls)));
}
