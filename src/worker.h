/*
 * worker.h
 *		The background workers (worker.c): a launcher registered at server
 *		start when cadence is preloaded, which keeps a dispatcher running
 *		for cadence.database_name.
 */
#ifndef CADENCE_WORKER_H
#define CADENCE_WORKER_H

/* Register the launcher (from _PG_init, while preloading). */
extern void cadence_register_launcher(void);

#endif							/* CADENCE_WORKER_H */
