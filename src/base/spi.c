/*
 * base/spi.c
 *		Statements run through SPI, prepared once per process when their text
 *		is fixed (see base/spi.h).
 *
 * A kept plan lives in the plan cache: when a table it reads changes (an
 * ALTER EXTENSION UPDATE, a new index, fresh statistics) it is planned
 * again at its next run, so keeping it for the life of the process is
 * safe.  The runner's planner settings are set at a new GUC nesting level
 * around each run, so they apply to the statement, to what it calls and to
 * its planning, and are gone when it returns or fails.
 */
#include "postgres.h"

#include "utils/guc.h"
#include "utils/jsonb.h"

#include "base/spi.h"

/* The planner methods a runner leaves out (see dispatch/claim.c). */
static const char *const runner_plans_off[] = {
	"enable_seqscan", "enable_bitmapscan", "enable_mergejoin"
};

static bool use_runner_plans = false;

/*
 * cadence_spi_use_runner_plans
 *		From now on, plan every statement of this process as a runner does.
 */
void
cadence_spi_use_runner_plans(void)
{
	use_runner_plans = true;
}

/*
 * run_checked
 *		Run a prepared plan, or the text itself when there is none, under the
 *		runner's planner settings when they are on; check the result, and go
 *		back to mcxt (SPI leaves its own context current).
 */
static void
run_checked(MemoryContext mcxt, SPIPlanPtr plan, const char *sql, int nargs,
			Oid *types, Datum *values, const char *nulls, bool read_only,
			int expect, const char *what)
{
	int			level = -1;
	int			rc;
	int			k;

	if (use_runner_plans)
	{
		level = NewGUCNestLevel();
		for (k = 0; k < lengthof(runner_plans_off); k++)
			(void) set_config_option(runner_plans_off[k], "off", PGC_SUSET,
									 PGC_S_OVERRIDE, GUC_ACTION_SAVE, true, 0,
									 false);
	}
	if (plan)
		rc = SPI_execute_plan(plan, values, nulls, read_only, 0);
	else
		rc = SPI_execute_with_args(sql, nargs, types, values, nulls, read_only, 0);
	if (level >= 0)
		AtEOXact_GUC(true, level);
	MemoryContextSwitchTo(mcxt);
	if (rc != expect)
		elog(ERROR, "could not %s: %s", what, SPI_result_code_string(rc));
}

/*
 * cadence_spi_run
 *		Prepare stmt on its first run in this process and keep the plan;
 *		run it.
 */
void
cadence_spi_run(CadenceStatement *stmt, int nargs, Oid *types, Datum *values,
				const char *nulls, bool read_only, int expect, const char *what)
{
	MemoryContext mcxt = CurrentMemoryContext;

	if (stmt->plan == NULL)
	{
		/* As SPI_execute_with_args plans: parallel query allowed. */
		SPIPlanPtr	plan = SPI_prepare_cursor(stmt->sql, nargs, types,
											  CURSOR_OPT_PARALLEL_OK);

		if (plan == NULL)
			elog(ERROR, "could not prepare the statement to %s: %s", what,
				 SPI_result_code_string(SPI_result));
		if (SPI_keepplan(plan) != 0)
			elog(ERROR, "could not keep the statement to %s", what);
		stmt->plan = plan;
	}
	run_checked(mcxt, stmt->plan, stmt->sql, nargs, types, values, nulls,
				read_only, expect, what);
}

/*
 * cadence_spi_run_once
 *		Run a statement whose text was built at the call: parsed and planned
 *		for this run only.
 */
void
cadence_spi_run_once(const char *sql, int nargs, Oid *types, Datum *values,
					 const char *nulls, bool read_only, int expect,
					 const char *what)
{
	run_checked(CurrentMemoryContext, NULL, sql, nargs, types, values, nulls,
				read_only, expect, what);
}

/*
 * cadence_spi_jsonb
 *		A jsonb column of an SPI result, copied (SPI results die with
 *		SPI_finish; the batch lives on); NULL when null.
 */
Jsonb *
cadence_spi_jsonb(HeapTuple tup, TupleDesc desc, int col)
{
	bool		isnull;
	Datum		d = SPI_getbinval(tup, desc, col, &isnull);

	return isnull ? NULL : DatumGetJsonbPCopy(d);
}
