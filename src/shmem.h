/*
 * shmem.h
 *		State shared between the dispatcher and every backend: whether the
 *		dispatcher runs, what it is doing, its counters, and its latch, so
 *		that a transaction creating due work can wake it when it commits.
 *		Only plain values live here: no pointers into a process's memory, no
 *		CURL handles, no file descriptors.  It exists only when cadence is in
 *		shared_preload_libraries.
 */
#ifndef CADENCE_SHMEM_H
#define CADENCE_SHMEM_H

#include "postgres.h"

#include "datatype/timestamp.h"
#include "port/atomics.h"
#include "storage/spin.h"

typedef struct CadenceShared
{
	slock_t		mutex;			/* protects the fields up to the counters */
	pid_t		dispatcher_pid; /* 0 when not running */
	int			dispatcher_procno;	/* its PGPROC number, for its latch */
	TimestampTz started_at;
	TimestampTz last_claim_at;
	int			in_flight;		/* requests out right now */

	/* Since the server started, over all runners of this server. */
	pg_atomic_uint64 claimed;
	pg_atomic_uint64 sent;
	pg_atomic_uint64 failed;
	pg_atomic_uint64 retried;
	pg_atomic_uint64 skipped;
	pg_atomic_uint64 moved;
} CadenceShared;

/* The shared state, or NULL when cadence was not preloaded. */
extern CadenceShared *cadence_shared;

/* Reserve and attach the shared state (from _PG_init, when preloading). */
extern void cadence_shmem_init(void);

/* The dispatcher announces itself, or that it stopped (pid 0). */
extern void cadence_shared_set_dispatcher(pid_t pid);

/*
 * Wake the dispatcher when the current transaction commits; nothing
 * happens if it aborts, or when there is no dispatcher.
 */
extern void cadence_wake_dispatcher_at_commit(void);

#endif							/* CADENCE_SHMEM_H */
