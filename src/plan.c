/*
 * plan.c
 *		Lays a cadence's chain of rules over the days of one run.
 */
#include "postgres.h"

#include "plan.h"

/*
 * plan_calendar_init
 *		Fix the calendar of a run that was triggered at trigger_at in tz.
 */
void
plan_calendar_init(PlanCalendar *cal, TimestampTz trigger_at, int32 first_day,
				   bool business_days, pg_tz *tz, const CadenceWindows *windows)
{
	cal->trigger_at = trigger_at;
	cal->trigger_date = cadence_local_date(trigger_at, tz);
	cal->first_day = first_day;
	cal->business_days = business_days;
	cal->tz = tz;
	cal->windows = windows;
}

/*
 * day_start
 *		When day day_number of the run starts: the trigger time on the run's
 *		first day, else the first open moment of that day's local date.
 */
static TimestampTz
day_start(const PlanCalendar *cal, int32 day_number)
{
	DateADT		date;

	if (day_number <= cal->first_day)
		return cal->trigger_at;
	date = cadence_add_days(cal->trigger_date, day_number - cal->first_day,
							cal->business_days, cal->windows);
	return cadence_window_start(date, cal->tz, cal->windows);
}

/*
 * plan_chain
 *		Each step is due by its rule after the one before it; a step that
 *		opens a day is also held back to that day's start.
 */
void
plan_chain(const PlanStep *steps, int nsteps, int from, TimestampTz prev,
		   const PlanCalendar *cal, TimestampTz *due,
		   CadenceMoveReason *reasons)
{
	int			i;

	for (i = from; i < nsteps; i++)
	{
		bool		opens_day = (i == 0 ||
								 steps[i].day_number != steps[i - 1].day_number);

		if (opens_day)
		{
			TimestampTz start = day_start(cal, steps[i].day_number);

			if (start > prev)
				prev = start;
		}
		due[i] = cadence_next_due(prev, &steps[i].rule, cal->tz, cal->windows,
								  &reasons[i]);
		prev = due[i];
	}
}
