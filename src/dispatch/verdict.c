/*
 * dispatch/verdict.c
 *		Settling an item of a batch, which every step of dispatch does, and
 *		what each verdict writes.
 */
#include "postgres.h"

#include "base/text.h"
#include "dispatch/dispatch.h"

const DispatchVerdictInfo cadence_verdicts[] = {
	[VERDICT_SEND] = {NULL, NULL, false, false},
	[VERDICT_SENT] = {"sent", "action.sent", false, true},
	[VERDICT_RETRY] = {"scheduled", "action.retry", false, false},
	[VERDICT_FAILED] = {"failed", "action.failed", false, true},
	[VERDICT_SKIPPED] = {"skipped", "action.skipped", true, true},
	[VERDICT_MOVED] = {"scheduled", "action.rescheduled", true, false},
	[VERDICT_RELEASED] = {"planned", NULL, true, false},
	[VERDICT_MANUAL] = {"pending_manual", "action.pending_manual", true, false},
	[VERDICT_EXECUTE] = {NULL, NULL, false, false},
	[VERDICT_BUSY] = {"scheduled", NULL, true, false},
};

/* Longest error text an action and its event keep, in characters. */
#define MAX_ERROR_CHARS		500

/*
 * cadence_dispatch_verdict
 *		Settle an item (the time is the runner's clock).  The error goes to
 *		the action's last_error and its event, which members read: it is
 *		kept short and free of control characters whatever it quotes.
 */
void
cadence_dispatch_verdict(DispatchItem *item, DispatchVerdict verdict,
						 const char *reason, const char *error)
{
	item->verdict = verdict;
	item->reason = reason ? pstrdup(reason) : NULL;
	item->error = error ? cadence_clean_text(error, MAX_ERROR_CHARS) : NULL;
}
