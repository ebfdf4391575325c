/*
 * base/shmem.h
 *		State shared between the dispatchers and every backend: which
 *		dispatchers run, what they are doing, the counters, and their
 *		latches, so that a transaction creating due work can wake them when
 *		it commits; and how many backends listen on each of the channels
 *		events are published on.
 *		Only plain values live here: no pointers into a process's memory, no
 *		CURL handles, no file descriptors.  It exists only when cadence is in
 *		shared_preload_libraries.
 */
#ifndef CADENCE_BASE_SHMEM_H
#define CADENCE_BASE_SHMEM_H

#include "postgres.h"

#include "datatype/timestamp.h"
#include "port/atomics.h"
#include "storage/spin.h"

#include "base/listeners.h"

/* Dispatchers one server may run (cadence.workers). */
#define CADENCE_MAX_DISPATCHERS 16

/* One dispatcher's slot. */
typedef struct CadenceDispatcherSlot
{
	pid_t		pid;			/* 0 when not running */
	int			procno;			/* its PGPROC number, for its latch */
	TimestampTz started_at;
	int			in_flight;		/* its requests out right now */
} CadenceDispatcherSlot;

typedef struct CadenceShared
{
	slock_t		mutex;			/* protects the fields up to the counters */
	CadenceDispatcherSlot dispatchers[CADENCE_MAX_DISPATCHERS];
	TimestampTz last_claim_at;

	/* Since the server started, over all runners of this server. */
	pg_atomic_uint64 claimed;
	pg_atomic_uint64 sent;
	pg_atomic_uint64 failed;
	pg_atomic_uint64 retried;
	pg_atomic_uint64 skipped;
	pg_atomic_uint64 moved;
	pg_atomic_uint64 executed;	/* condition and lead action steps */

	/* Backends listening on each channel (base/listeners.c). */
	pg_atomic_uint32 listeners[EVENT_NCHANNELS];
} CadenceShared;

/* The shared state, or NULL when cadence was not preloaded. */
extern CadenceShared *cadence_shared;

/* Reserve and attach the shared state (from _PG_init, when preloading). */
extern void cadence_shmem_init(void);

/*
 * A dispatcher announces itself in its slot, or that it stopped (pid 0);
 * a running dispatcher reports how many requests it has out.
 */
extern void cadence_shared_set_dispatcher(int slot, pid_t pid);
extern void cadence_shared_set_in_flight(int n);

/*
 * Wake the dispatchers when the current transaction commits; nothing
 * happens if it aborts, or when there is none.
 */
extern void cadence_wake_dispatcher_at_commit(void);

/*
 * Wake the other dispatchers now: a runner stopped, and what it held is
 * theirs to take over.
 */
extern void cadence_wake_dispatchers(void);

#endif							/* CADENCE_BASE_SHMEM_H */
