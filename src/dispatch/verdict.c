/*
 * dispatch/verdict.c
 *		Settling an item of a batch, which every step of dispatch does.
 */
#include "postgres.h"

#include "base/text.h"
#include "dispatch/dispatch.h"

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
