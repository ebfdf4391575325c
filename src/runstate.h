/*
 * runstate.h
 *		What the run state machine (runstate.c) offers the dispatcher; the
 *		rest of it is SQL-callable.  Callers must be connected to SPI.
 */
#ifndef CADENCE_RUNSTATE_H
#define CADENCE_RUNSTATE_H

#include "definition.h"

/*
 * Re-plan the rest of a run from happened_at, when the action before its
 * current step ended later than planned.  defs caches cadence versions
 * (see cadence_def_cached).
 */
extern void cadence_run_reanchor(const char *tenant_id, int64 run_id,
								 TimestampTz happened_at, List **defs);

#endif							/* CADENCE_RUNSTATE_H */
