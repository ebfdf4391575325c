/*
 * dispatch/dispatch.h
 *		Sending due actions, in three steps that the background worker
 *		(worker/bgworker.c) and cadence.run_due_actions()
 *		(worker/run_due_actions.c) both run:
 *
 *		claim	in a transaction: take over the actions of runners that
 *				died, claim a batch of due actions, decide what each one
 *				needs (send, skip, move, manual task), lock the runs of
 *				those it writes itself, carry out condition and lead action
 *				steps, apply the limits (quiet
 *				hours, daily caps, provider rate and concurrency), render
 *				and build the provider requests, and record every outcome
 *				that needed no network
 *		send	outside any transaction: perform the requests (the AI
 *				rewrites first), classify each response
 *		record	in a transaction: write every outcome, advance the runs
 *
 * Calls go one way, down: worker/round.c runs the steps; claim.c calls
 * take.c (under liveness.c), logic.c, limits.c, build.c and settle.c;
 * send.c calls net/ and providers/; settle.c calls record.c and take.c's
 * run locks; record.c calls follow_up.c; every file settles items through
 * verdict.c.  No file calls
 * back into the one that called it.
 *
 * A runner commits between the steps (worker/round.c), so a batch survives as
 * claims that carry the runner's token; they last as long as the runner
 * lives (dispatch/claim.c).  A row the runner cannot read, decide or write
 * fails its own action with the error and the batch goes on.  A batch
 * lives in one memory context that the caller resets afterwards.
 *
 * Locks are taken runs first, then their actions, as the run state machine
 * and ingest_webhook take them: a claim locks the runs of the actions it
 * writes itself (skips, moves, manual steps, condition and lead action
 * steps, failures), skipping those whose run another transaction holds
 * (they stay due), and leaves the runs of the actions it only sends
 * alone; the record step locks the batch's runs, in key order, before it
 * writes an action.  So a runner that has
 * sent never waits for a lock while holding one another waits for, and
 * never loses what it sent to a deadlock.
 */
#ifndef CADENCE_DISPATCH_DISPATCH_H
#define CADENCE_DISPATCH_DISPATCH_H

#include "access/htup.h"
#include "access/tupdesc.h"
#include "base/columns.h"
#include "base/guard.h"
#include "providers/provider.h"
#include "storage/itemptr.h"

/* What happens to a claimed action. */
typedef enum DispatchVerdict
{
	VERDICT_SEND,				/* to be sent (claim) */
	VERDICT_SENT,				/* the provider accepted it */
	VERDICT_RETRY,				/* scheduled again later: an attempt failed */
	VERDICT_FAILED,				/* final failure */
	VERDICT_SKIPPED,			/* final: not sendable (reason says why) */
	VERDICT_MOVED,				/* scheduled again later, not an attempt:
								 * quiet hours, daily cap, rate limit */
	VERDICT_RELEASED,			/* back to planned: the run was paused */
	VERDICT_MANUAL,				/* waits for a person: pending_manual, task */
	VERDICT_EXECUTE,			/* a condition or lead action step, carried
								 * out in the claim (dispatch/logic.c) */
	VERDICT_BUSY				/* left as it was: another transaction holds
								 * its run */
} DispatchVerdict;

/* What a provider request got, as the audit log says it. */
typedef enum DispatchOutcome
{
	OUTCOME_NONE,				/* no request was made */
	OUTCOME_ACCEPTED,			/* 2xx */
	OUTCOME_REFUSED,			/* an HTTP or SMTP error status */
	OUTCOME_TIMED_OUT,			/* no whole answer in time */
	OUTCOME_CUT,				/* the connection closed mid-answer */
	OUTCOME_NO_ANSWER,			/* no answer at all: no connection, or one
								 * closed before answering (the two read
								 * alike, so that no port tells which) */
	OUTCOME_BLOCKED				/* refused by the address policy, unsent */
} DispatchOutcome;

/* A provider account of a tenant in the batch. */
typedef struct DispatchAccount
{
	CadenceAccount acct;
	char	   *tenant_id;
	char	   *channel;		/* sms, email, whatsapp, webhook, ai */
	double		rate_per_second;	/* 0: no limit */
	int			max_concurrency;	/* 0: no limit */
	int			inflight_allowed;	/* this runner's share right now
									 * (dispatch/limits.c); 0: no limit */
	int			index;			/* in batch->accounts */
} DispatchAccount;

/* One claimed action and everything decided about it. */
typedef struct DispatchItem
{
	/* the scheduled action */
	ItemPointerData ctid;		/* the version this runner claimed */
	char	   *tenant_id;
	int64		run_id;
	int64		id;
	int32		step_number;
	char	   *type;			/* sms, email, whatsapp, webhook, call_task ... */
	int32		attempts;		/* including this one */
	TimestampTz due_at;			/* when it was due */
	TimestampTz planned_at;		/* when the plan put it */
	int64		dead_runner;	/* taken over from this runner (0: not) */
	bool		exhausted;		/* claimed with its attempts spent already */
	bool		run_locked;		/* the claim holds its run (see above) */

	/* its run, step and lead */
	char	   *run_status;
	char	   *cadence_id;
	char	   *cadence_timezone;	/* the cadence's zone: its days for caps */
	char	   *timezone;		/* the run's zone */
	char	   *assigned_to;
	char	   *action_name;
	Jsonb	   *config;			/* the step's config, its A/B variant's
								 * members laid over it */
	char	   *variant;		/* the run's A/B variant of the step, or NULL */
	Jsonb	   *condition;		/* the step's condition, or NULL */
	Jsonb	   *settings;		/* the cadence's settings */
	Jsonb	   *vars;			/* template variables of the lead, NULL if
								 * the lead is gone */
	char	   *lead_id;
	char	   *lead_timezone;
	char	   *address;		/* the lead's address on this channel */
	bool		unsubscribed;
	bool		suppressed;
	char	   *template_subject;	/* a referenced cadence.templates row */
	char	   *template_html;
	char	   *template_text;

	/* sending */
	DispatchAccount *account;
	DispatchAccount *ai_account;
	CadenceMessage msg;
	CadenceHttpRequest *req;
	CadenceHttpRequest *ai_req;
	char	   *ai_prompt;
	char	   *ai_error;		/* why the AI rewrite was not used */
	TimestampTz not_before;		/* rate limit: start no earlier (0: now) */

	/* outcome */
	DispatchVerdict verdict;
	TimestampTz happened_at;
	TimestampTz new_due_at;		/* RETRY and MOVED */
	char	   *reason;			/* SKIPPED: why; MOVED: moved_reason */
	char	   *error;			/* RETRY and FAILED */
	char	   *provider_message_id;
	DispatchOutcome outcome;	/* what its request got */
	long		status;			/* the HTTP or SMTP status it got, or 0 */
	bool		written;		/* its outcome is in the database */
	bool		stale;			/* its claim had moved on: only its event
								 * was written */
	bool		undone;			/* claimed with its attempts spent: the
								 * claim's attempt does not count */
} DispatchItem;

/* Tallies of a batch, as run_due_actions reports them. */
typedef struct DispatchCounts
{
	int			claimed;
	int			sent;
	int			skipped;
	int			failed;
	int			retried;
	int			moved;
	int			manual;
	int			executed;
	int			resumed;		/* paused runs whose resume_at came */
} DispatchCounts;

typedef struct DispatchBatch
{
	MemoryContext mcxt;
	int64		runner;			/* the claiming runner's token */
	TimestampTz now;			/* the runner's clock (as_of) */
	bool		realtime;		/* now is the wall clock: actions happen when
								 * their requests finish */
	int			nitems;
	DispatchItem *items;
	int			naccounts;
	DispatchAccount **accounts; /* of the batch's tenants */
	DispatchCounts counts;
	int			focus;			/* writing only this item (-1: all) */
	bool		orphans;		/* some claim could not be written at all */
} DispatchBatch;

/*
 * Claim up to limit actions of one tenant or (NULL) of all: those whose
 * runner died, then those due at now; decide and prepare them, and record
 * what needed no network.  In a transaction, connected to SPI.  Returns a
 * batch allocated in mcxt.
 */
extern DispatchBatch *cadence_dispatch_claim(MemoryContext mcxt,
											 TimestampTz now, bool realtime,
											 int limit, const char *tenant_id);

/* Does the batch have requests to send? */
extern bool cadence_dispatch_has_sends(const DispatchBatch *batch);

/*
 * Perform the batch's requests and classify the responses.  Needs no
 * transaction; poll_cb (may be NULL) is called while waiting, and may
 * classify (and record) what has finished so far with
 * cadence_dispatch_classify_finished, which returns how many it did.
 */
extern void cadence_dispatch_send(DispatchBatch *batch,
								  void (*poll_cb) (void *), void *poll_arg);
extern int	cadence_dispatch_classify_finished(DispatchBatch *batch);

/*
 * Record the outcomes of the sends and advance the runs.  In a transaction,
 * connected to SPI.
 */
extern void cadence_dispatch_record(DispatchBatch *batch);

/* When the next action falls due (0: none); connected to SPI. */
extern TimestampTz cadence_dispatch_next_due(void);

/* --- between the dispatch files --- */

/*
 * What each verdict writes (dispatch/verdict.c): the action's new status,
 * its event, whether the claim's attempt is undone (it was no attempt),
 * and whether the step ends with it.
 */
typedef struct DispatchVerdictInfo
{
	const char *status;
	const char *event;
	bool		undo_attempt;
	bool		ends_step;
} DispatchVerdictInfo;

extern const DispatchVerdictInfo cadence_verdicts[];

/* Order two int64 (qsort and bsearch over ids). */
static inline int
cadence_int64_cmp(const void *a, const void *b)
{
	int64		x = *(const int64 *) a;
	int64		y = *(const int64 *) b;

	return (x > y) - (x < y);
}

/* Is item k of the batch one the current write is about? */
static inline bool
dispatch_in_focus(const DispatchBatch *batch, int k)
{
	return batch->focus < 0 || batch->focus == k;
}

/*
 * Claim the actions of dead runners and due work, up to limit, and read
 * what they need into the batch's items (dispatch/take.c).
 */
extern void cadence_dispatch_take(DispatchBatch *batch, int limit, const char *tenant_id);

/*
 * Write the outcomes of items whose verdict is not SEND (dispatch/record.c);
 * cadence_dispatch_settle does it so that one bad row cannot hold the others
 * back (dispatch/settle.c), locking their runs first when asked.
 */
extern void cadence_dispatch_write(DispatchBatch *batch);
extern void cadence_dispatch_settle(DispatchBatch *batch, bool lock_runs);

/*
 * What the outcomes written just now (fresh[k] for item k) set going: the
 * manual tasks, the runs' advance and re-plan, the step counters
 * (dispatch/follow_up.c).
 */
extern void cadence_dispatch_follow_up(DispatchBatch *batch, const bool *fresh);

/* What a write changes in a batch's memory, saved to undo a rollback. */
typedef struct DispatchMarks
{
	bool	   *written;		/* NULL until first saved */
	bool	   *stale;
	DispatchCounts counts;
} DispatchMarks;

extern void cadence_dispatch_save_marks(const DispatchBatch *batch, DispatchMarks *m);
extern void cadence_dispatch_restore_marks(DispatchBatch *batch, const DispatchMarks *m);

/*
 * Lock the runs of the batch's items whose outcome is in and still to be
 * written, runs before actions (see above): skip_locked for a claim, which
 * holds its actions already (an item whose run is held becomes
 * VERDICT_BUSY), once per item; in key order, waiting, for the record
 * step.
 */
extern void cadence_dispatch_lock_runs(DispatchBatch *batch, bool skip_locked);

/*
 * Carry out the batch's condition and lead action steps, and check the
 * conditions of other steps (dispatch/logic.c).
 */
extern void cadence_dispatch_execute(DispatchBatch *batch);

/*
 * Apply daily caps and provider rate and concurrency limits
 * (dispatch/limits.c).
 */
extern void cadence_dispatch_limit(DispatchBatch *batch);

/* Render an item's message and build its requests (dispatch/build.c). */
extern void cadence_dispatch_build(DispatchBatch *batch, DispatchItem *item);

/* config.aiPersonalization as an object ({} for true), or NULL. */
extern Jsonb *cadence_ai_config(Jsonb *config);

/*
 * The idempotency key of a scheduled action: cadence-<installation>-<id>
 * (dispatch/build.c).
 */
extern char *cadence_idempotency_key(int64 action_id);

/* Give an item a final or deferred verdict. */
extern void cadence_dispatch_verdict(DispatchItem *item, DispatchVerdict verdict,
									 const char *reason, const char *error);

#endif							/* CADENCE_DISPATCH_DISPATCH_H */
