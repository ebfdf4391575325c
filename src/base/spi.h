/*
 * base/spi.h
 *		The one way cadence's C code runs SQL (base/spi.c): a statement whose
 *		text is fixed is prepared once per process and kept (SPI_prepare and
 *		SPI_keepplan), so a runner parses and plans its statements once and
 *		not in every batch; a statement whose text is built at the call is
 *		run once.  Either way the result is checked, and the caller is back
 *		in its own memory context.  Callers must be connected to SPI.
 *
 * A runner plans its statements with a few planner methods off (see
 * dispatch/claim.c).  cadence_spi_use_runner_plans() turns that on for the
 * process; the settings then hold while each statement runs and nowhere
 * else in the session.
 */
#ifndef CADENCE_BASE_SPI_H
#define CADENCE_BASE_SPI_H

#include "executor/spi.h"
#include "utils/jsonb.h"

/* A statement of fixed text, prepared on first use: {sql} to declare it. */
typedef struct CadenceStatement
{
	const char *sql;
	SPIPlanPtr	plan;			/* kept for the life of the process */
} CadenceStatement;

/*
 * Run stmt with nargs arguments of the given types (the same at every call
 * of stmt); nulls as SPI takes them (NULL: none null).  An SPI result other
 * than expect is an error that says "could not <what>".  Reads that must
 * see what earlier statements of the same transaction changed (a claim's
 * reads after its own writes) pass read_only false.
 */
extern void cadence_spi_run(CadenceStatement *stmt, int nargs, Oid *types,
							Datum *values, const char *nulls, bool read_only,
							int expect, const char *what);

/* The same for a statement whose text is built at the call. */
extern void cadence_spi_run_once(const char *sql, int nargs, Oid *types,
								 Datum *values, const char *nulls,
								 bool read_only, int expect, const char *what);

/*
 * A jsonb column of an SPI result, copied into the current memory context
 * (SPI results end with SPI_finish); NULL when null.
 */
extern Jsonb *cadence_spi_jsonb(HeapTuple tup, TupleDesc desc, int col);

struct CadenceShardGroup;

/*
 * Run the statements that follow on a shard group of this node of a Citus
 * cluster (base/cluster.h), their tables' names replaced by their shards';
 * NULL: on the tables themselves.
 */
extern void cadence_spi_use_shards(const struct CadenceShardGroup *group);

/* Plan every statement this process runs the way runners plan theirs. */
extern void cadence_spi_use_runner_plans(void);

#endif							/* CADENCE_BASE_SPI_H */
