/*
 * worker/bgworker.h
 *		The background workers (worker/bgworker.c): a launcher registered at
 *		server start when cadence is preloaded, which keeps cadence.workers
 *		dispatchers running for cadence.database_name.
 */
#ifndef CADENCE_WORKER_BGWORKER_H
#define CADENCE_WORKER_BGWORKER_H

/* Register the launcher (from _PG_init, while preloading). */
extern void cadence_register_launcher(void);

/*
 * The session settings of a runner process (a dispatcher, or the worker of
 * cadence.run_due_actions()), set once it is connected.
 */
extern void cadence_runner_settings(void);

#endif							/* CADENCE_WORKER_BGWORKER_H */
