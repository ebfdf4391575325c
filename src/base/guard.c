/*
 * base/guard.c
 *		cadence_guarded (see base/guard.h), as PL/pgSQL runs an exception block.
 *
 * Only errors that a row's data can cause are kept to that row: a value
 * that cannot be read (22, data exception: an unknown zone, settings or
 * JSON that do not parse), a constraint (23), a limit (54: a message too
 * large), an object in the wrong state (55: a cadence that is not active),
 * PL/pgSQL's own (P0).  Anything else (a missing privilege or function, a
 * deadlock, out of memory) would fail every row alike: it is raised again,
 * for the whole statement to fail, rather than fail every action.
 */
#include "postgres.h"

#include "access/xact.h"
#include "utils/memutils.h"
#include "utils/resowner.h"

#include "base/guard.h"

/* Can the data of one row cause this error? */
static bool
row_error(int sqlerrcode)
{
	int			class = ERRCODE_TO_CATEGORY(sqlerrcode);

	return class == ERRCODE_DATA_EXCEPTION ||
		class == ERRCODE_INTEGRITY_CONSTRAINT_VIOLATION ||
		class == ERRCODE_PROGRAM_LIMIT_EXCEEDED ||
		class == ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE ||
		class == ERRCODE_PLPGSQL_ERROR;
}

/*
 * cadence_guarded
 *		Begin a subtransaction, run fn, and release it; on error roll it
 *		back and return the error's message, or raise it again when no row
 *		could have caused it.
 */
char *
cadence_guarded(void (*fn) (void *), void *arg)
{
	MemoryContext mcxt = CurrentMemoryContext;
	ResourceOwner owner = CurrentResourceOwner;
	char	   *volatile error = NULL;

	BeginInternalSubTransaction(NULL);
	MemoryContextSwitchTo(mcxt);
	PG_TRY();
	{
		fn(arg);
		ReleaseCurrentSubTransaction();
	}
	PG_CATCH();
	{
		ErrorData  *edata;

		MemoryContextSwitchTo(mcxt);
		edata = CopyErrorData();
		FlushErrorState();
		RollbackAndReleaseCurrentSubTransaction();
		MemoryContextSwitchTo(mcxt);
		CurrentResourceOwner = owner;
		if (!row_error(edata->sqlerrcode))
			ReThrowError(edata);
		error = edata->message;
	}
	PG_END_TRY();
	MemoryContextSwitchTo(mcxt);
	CurrentResourceOwner = owner;
	return error;
}
