/*
 * runs/definition.h
 *		A cadence version loaded for planning: zone, windows, and the chain of
 *		steps.  Loaded through SPI, so callers must be connected to SPI; the
 *		result lives in the caller's current memory context.
 */
#ifndef CADENCE_RUNS_DEFINITION_H
#define CADENCE_RUNS_DEFINITION_H

#include "schedule/chain.h"

typedef struct CadenceDef
{
	char	   *tenant_id;
	char	   *cadence_id;
	char	   *status;			/* draft, active, paused, archived */
	int32		version;
	char	   *timezone;		/* the cadence's own zone */
	pg_tz	   *tz;
	bool		recipient_time; /* plan in the lead's zone when it has one */
	int			max_starts_per_day; /* settings.maxContactsPerDay (0: none) */
	CadenceWindows windows;
	int			nsteps;
	PlanStep   *steps;			/* in step order */
} CadenceDef;

/*
 * Load a visible, undeleted cadence of tenant_id at version (0: its current
 * version).  missing_ok false: an invisible cadence is an error 42501 (a
 * write naming what the caller cannot see).  Returns NULL when missing_ok.
 */
extern CadenceDef *cadence_def_load(const char *tenant_id,
									const char *cadence_id, int32 version,
									bool missing_ok);

/*
 * cadence_def_load for a version that exists (an error otherwise), looked
 * up first in *cache, a List the caller keeps for as long as the versions
 * it holds may be reused (one batch, one statement).
 */
extern CadenceDef *cadence_def_cached(List **cache, const char *tenant_id,
									  const char *cadence_id, int32 version);

/* The zone a lead is planned in: its own when asked for and valid. */
extern pg_tz *cadence_def_zone(const CadenceDef *def, const char *lead_tz,
							   const char **zone_name);

/*
 * Where a run of def in zone run_zone is planned, for a lead whose own zone
 * is lead_zone (NULL or unknown: the run's zone keeps its quiet hours).
 */
extern void cadence_def_plan_zone(const CadenceDef *def, const char *run_zone,
								  const char *lead_zone, PlanZone *out);

/* Index of the step with this number in def->steps, or -1. */
extern int	cadence_def_step_index(const CadenceDef *def, int32 step_number);

/* The kinds of step (runs/step_types.c): done by a person; carried out by
 * the runner; the manual types as a sentence lists them. */
extern bool cadence_step_is_manual(const char *type);
extern bool cadence_step_is_logic(const char *type);
extern char *cadence_manual_step_types(void);

#endif							/* CADENCE_RUNS_DEFINITION_H */
