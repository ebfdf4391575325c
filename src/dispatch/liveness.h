/*
 * dispatch/liveness.h
 *		Who holds a claim on an action, and whether that runner still lives.
 *
 * Every runner process (a dispatcher, or the background worker of one
 * cadence.run_due_actions() call) takes a token (its node group, and a
 * number from cadence.runner_seq) before its first claim and holds a session-level advisory lock on it,
 * (1667326053, token), until it exits; the actions it claims carry the
 * token.  A runner whose lock is free is gone: it was killed, it crashed,
 * or it gave its token up after failing to record what it sent.
 */
#ifndef CADENCE_DISPATCH_LIVENESS_H
#define CADENCE_DISPATCH_LIVENESS_H

#include "postgres.h"

/* The first key of the runners' advisory locks (pg_locks.classid). */
#define CADENCE_RUNNER_LOCK_KEY 1667326053

/*
 * This process's token, taken (with its lock) on first use; in a
 * transaction.
 */
extern int64 cadence_runner_token(void);

/*
 * Give the token up: the claims this process still holds become a dead
 * runner's, which the next claim takes over.  The next claim of this
 * process takes a new token.
 */
extern void cadence_runner_renounce(void);

/*
 * Is the runner of that token gone?  In a transaction; a gone runner's lock
 * is then held until the transaction ends, so that two claims do not take
 * over the same runner's actions at once.  Never true of this process's
 * own token.
 */
extern bool cadence_runner_gone(int64 token);

#endif							/* CADENCE_DISPATCH_LIVENESS_H */
