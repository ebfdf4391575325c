/*
 * runs/enroll.h
 *		Enrolling leads in a cadence (runs/enroll.c), for the tenant the
 *		caller names.  Callers must be connected to SPI.
 */
#ifndef CADENCE_RUNS_ENROLL_H
#define CADENCE_RUNS_ENROLL_H

#include "datatype/timestamp.h"
#include "utils/jsonb.h"

typedef enum EnrollOutcome
{
	OUTCOME_ENROLLED,
	OUTCOME_ALREADY_ENROLLED,
	OUTCOME_REFUSED
} EnrollOutcome;

/* What happened to one lead of the list. */
typedef struct LeadResult
{
	char	   *lead_id;
	EnrollOutcome outcome;
	int64		run_id;
	const char *reason;			/* why refused, else NULL */
	char	   *zone;			/* zone it is planned in */
	char	   *lead_zone;		/* its own zone, for quiet hours (or NULL) */
	int			schedule;		/* its schedule, in the chunk's list */
} LeadResult;

/*
 * Plan runs of cadence_id (of tenant_id) for the leads of results[0..n),
 * whose lead_id the caller fills, at trigger_at; fills every outcome.
 */
extern void cadence_enroll(const char *tenant_id, const char *cadence_id,
						   LeadResult *results, int n, TimestampTz trigger_at,
						   Jsonb *options);

#endif							/* CADENCE_RUNS_ENROLL_H */
