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
 *
 * On a worker node of a Citus cluster a runner works on one of the node's
 * shard groups at a time (worker/round.c), with the same statements: while
 * cadence_spi_use_shards() names a group, each statement is run with the
 * names of cadence's tables in its text replaced by their relations on this
 * node (cadence.runs becomes cadence.runs_102042), and its plan is kept per
 * statement and group, generic from the start: the plan cache would plan
 * each statement five times in each group before it settles on the plan a
 * single server's runner uses after its first five batches.  So the
 * statements stay plain PostgreSQL, local to the node, with no round trip
 * through Citus's planner; functions they call that read the tables by
 * their own names reach the same shards through Citus, in the same
 * transaction.
 */
#include "postgres.h"

#include "lib/stringinfo.h"
#include "utils/guc.h"
#include "utils/hsearch.h"
#include "utils/jsonb.h"
#include "utils/memutils.h"

#include "base/cluster.h"
#include "base/spi.h"

/* The planner methods a runner leaves out (see dispatch/claim.c). */
static const char *const runner_plans_off[] = {
	"enable_seqscan", "enable_bitmapscan", "enable_mergejoin"
};

static bool use_runner_plans = false;

/* The shard group the statements run on, or NULL: the tables themselves. */
static const CadenceShardGroup *shard_group = NULL;

/* A kept plan of a statement on a shard group. */
typedef struct ShardPlanKey
{
	CadenceStatement *stmt;
	int64		group;
} ShardPlanKey;

typedef struct ShardPlan
{
	ShardPlanKey key;
	SPIPlanPtr	plan;
} ShardPlan;

static HTAB *shard_plans = NULL;

/*
 * cadence_spi_use_shards
 *		Run the statements that follow on a shard group of this node (NULL:
 *		on the tables).
 */
void
cadence_spi_use_shards(const CadenceShardGroup *group)
{
	shard_group = group;
}

/*
 * is_name_char
 *		Can c continue an unquoted SQL name?
 */
static bool
is_name_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		c == '_' || c == '$';
}

/*
 * on_shards
 *		The text of sql with each cadence.<table> of the group replaced by its
 *		relation on this node.
 */
static char *
on_shards(const char *sql, const CadenceShardGroup *group)
{
	StringInfoData out;
	const char *p = sql;

	initStringInfo(&out);
	while (*p)
	{
		const char *at = strstr(p, "cadence.");
		int			k;
		bool		replaced = false;

		if (at == NULL)
			break;
		appendBinaryStringInfo(&out, p, at - p);
		p = at + strlen("cadence.");
		appendStringInfoString(&out, "cadence.");
		if (at > sql && is_name_char(at[-1]))
			continue;
		for (k = 0; k < group->ntables && !replaced; k++)
		{
			size_t		len = strlen(group->tables[k]);

			if (strncmp(p, group->tables[k], len) == 0 && !is_name_char(p[len]))
			{
				appendStringInfoString(&out, group->shards[k]);
				p += len;
				replaced = true;
			}
		}
	}
	appendStringInfoString(&out, p);
	return out.data;
}

/*
 * prepare_kept
 *		Prepare sql and keep its plan for the life of the process.
 */
static SPIPlanPtr
prepare_kept(const char *sql, int nargs, Oid *types, int options, const char *what)
{
	/* As SPI_execute_with_args plans: parallel query allowed. */
	SPIPlanPtr	plan = SPI_prepare_cursor(sql, nargs, types, CURSOR_OPT_PARALLEL_OK | options);

	if (plan == NULL)
		elog(ERROR, "could not prepare the statement to %s: %s", what,
			 SPI_result_code_string(SPI_result));
	if (SPI_keepplan(plan) != 0)
		elog(ERROR, "could not keep the statement to %s", what);
	return plan;
}

/*
 * plan_on_shards
 *		The kept plan of stmt on the current shard group.
 */
static SPIPlanPtr
plan_on_shards(CadenceStatement *stmt, int nargs, Oid *types, const char *what)
{
	ShardPlanKey key;
	ShardPlan  *entry;
	bool		found;

	if (shard_plans == NULL)
	{
		HASHCTL		ctl;

		ctl.keysize = sizeof(ShardPlanKey);
		ctl.entrysize = sizeof(ShardPlan);
		ctl.hcxt = TopMemoryContext;
		shard_plans = hash_create("cadence statements on shards", 256, &ctl,
								  HASH_ELEM | HASH_BLOBS | HASH_CONTEXT);
	}
	memset(&key, 0, sizeof(key));
	key.stmt = stmt;
	key.group = shard_group->key;
	entry = hash_search(shard_plans, &key, HASH_FIND, NULL);
	if (entry == NULL)
	{
		SPIPlanPtr	plan = prepare_kept(on_shards(stmt->sql, shard_group), nargs, types,
										CURSOR_OPT_GENERIC_PLAN, what);

		entry = hash_search(shard_plans, &key, HASH_ENTER, &found);
		entry->plan = plan;
	}
	return entry->plan;
}

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
	SPIPlanPtr	plan;

	if (shard_group != NULL)
		plan = plan_on_shards(stmt, nargs, types, what);
	else
	{
		if (stmt->plan == NULL)
			stmt->plan = prepare_kept(stmt->sql, nargs, types, 0, what);
		plan = stmt->plan;
	}
	run_checked(mcxt, plan, stmt->sql, nargs, types, values, nulls, read_only, expect,
				what);
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
	MemoryContext mcxt = CurrentMemoryContext;

	run_checked(mcxt, NULL, shard_group ? on_shards(sql, shard_group) : sql, nargs, types,
				values, nulls, read_only, expect, what);
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
