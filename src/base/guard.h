/*
 * base/guard.h
 *		One row's work in a subtransaction, so that its error fails that row
 *		alone and the rest of a batch goes on.
 */
#ifndef CADENCE_BASE_GUARD_H
#define CADENCE_BASE_GUARD_H

/*
 * Run fn(arg) in a subtransaction.  An error a row's data can cause (see
 * base/guard.c) rolls back what fn did in the database and comes back as its
 * message, in the caller's memory context; any other is raised again.
 * NULL when fn succeeded.  What fn changed in memory stays.  In a
 * transaction; SPI connections made before stay usable.
 */
extern char *cadence_guarded(void (*fn) (void *), void *arg);

#endif							/* CADENCE_BASE_GUARD_H */
