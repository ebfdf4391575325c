/*
 * cadence.c
 *		Library entry point: module magic and the settings every part of
 *		cadence reads.  The scheduling math, the planner and (when preloaded)
 *		the background worker live in their own files.
 */
#include "postgres.h"

#include "fmgr.h"
#include "utils/guc.h"

#include "compat.h"
#include "cadence.h"

PG_MODULE_MAGIC;

/* Identity of the caller for applications that do not go through PostgREST. */
char	   *cadence_tenant_id = NULL;
char	   *cadence_user_id = NULL;

void		_PG_init(void);

/*
 * _PG_init
 *		Define cadence's settings.  Runs when the library is loaded, either at
 *		server start (shared_preload_libraries) or at the first call of one of
 *		its functions, so nothing here may depend on being preloaded.
 */
void
_PG_init(void)
{
	DefineCustomStringVariable("cadence.tenant_id",
							   gettext_noop("Tenant of the current session, used when no PostgREST JWT claim names one."),
							   gettext_noop("Applications without PostgREST run SET cadence.tenant_id = '...' after connecting."),
							   &cadence_tenant_id,
							   "",
							   PGC_USERSET,
							   0,
							   NULL, NULL, NULL);

	DefineCustomStringVariable("cadence.user_id",
							   gettext_noop("User of the current session, used when no PostgREST JWT claim names one."),
							   gettext_noop("Matched against cadence.members.user_id to decide what the session may change."),
							   &cadence_user_id,
							   "",
							   PGC_USERSET,
							   0,
							   NULL, NULL, NULL);

	MarkGUCPrefixReserved("cadence");
}
