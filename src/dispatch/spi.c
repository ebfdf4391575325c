/*
 * dispatch/spi.c
 *		What every dispatch file uses: statements run through SPI and
 *		checked, statements over arrays filled item by item, verdicts.
 */
#include "postgres.h"

#include "executor/spi.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/jsonb.h"
#include "utils/lsyscache.h"

#include "base/text.h"
#include "dispatch/dispatch.h"

/* Longest error text an action and its event keep, in characters. */
#define MAX_ERROR_CHARS		500

/*
 * cadence_dispatch_spi
 *		SPI_execute_with_args, checked, back in the caller's memory context.
 */
void
cadence_dispatch_spi(const char *sql, int nargs, Oid *types, Datum *values,
					 const char *nulls, bool read_only, int expect, const char *what)
{
	MemoryContext mcxt = CurrentMemoryContext;
	int			rc = SPI_execute_with_args(sql, nargs, types, values, nulls, read_only, 0);

	MemoryContextSwitchTo(mcxt);
	if (rc != expect)
		elog(ERROR, "could not %s: %s", what, SPI_result_code_string(rc));
}

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

/*
 * cadence_dispatch_copy_jsonb
 *		A jsonb column of an SPI result, copied (SPI results die with
 *		SPI_finish; the batch lives on); NULL when null.
 */
Jsonb *
cadence_dispatch_copy_jsonb(HeapTuple tup, TupleDesc desc, int col)
{
	bool		isnull;
	Datum		d = SPI_getbinval(tup, desc, col, &isnull);

	return isnull ? NULL : DatumGetJsonbPCopy(d);
}

/*
 * cadence_columns_init
 *		ncols empty columns with room for cap rows.
 */
void
cadence_columns_init(DispatchColumns *c, int ncols, int cap)
{
	int			k;

	c->n = 0;
	c->cap = Max(cap, 1);
	c->ncols = ncols;
	c->values = palloc(sizeof(Datum *) * ncols);
	c->nulls = palloc(sizeof(bool *) * ncols);
	for (k = 0; k < ncols; k++)
	{
		c->values[k] = palloc(sizeof(Datum) * c->cap);
		c->nulls[k] = palloc(sizeof(bool) * c->cap);
	}
}

/*
 * cadence_columns_text
 *		Set column col of the current row to a C string (NULL allowed).
 */
void
cadence_columns_text(DispatchColumns *c, int col, const char *s)
{
	c->nulls[col][c->n] = s == NULL;
	c->values[col][c->n] = s ? CStringGetTextDatum(s) : (Datum) 0;
}

/*
 * cadence_columns_datum
 *		Set column col of the current row to a datum.
 */
void
cadence_columns_datum(DispatchColumns *c, int col, Datum d, bool isnull)
{
	c->nulls[col][c->n] = isnull;
	c->values[col][c->n] = d;
}

/* The array of one column, of element type typ. */
static Datum
column_array(DispatchColumns *c, int col, Oid typ)
{
	int16		typlen;
	bool		typbyval;
	char		typalign;
	int			dims[1] = {c->n};
	int			lbs[1] = {1};

	get_typlenbyvalalign(typ, &typlen, &typbyval, &typalign);
	return PointerGetDatum(construct_md_array(c->values[col], c->nulls[col], 1, dims, lbs,
											  typ, typlen, typbyval, typalign));
}

/*
 * cadence_columns_execute
 *		Run a statement whose parameters are the arrays of c, of element
 *		types elem_types.
 */
void
cadence_columns_execute(DispatchColumns *c, const char *sql, const Oid *elem_types,
						int expect)
{
	Oid		   *types = palloc(sizeof(Oid) * c->ncols);
	Datum	   *values = palloc(sizeof(Datum) * c->ncols);
	int			k;

	for (k = 0; k < c->ncols; k++)
	{
		types[k] = get_array_type(elem_types[k]);
		values[k] = column_array(c, k, elem_types[k]);
	}
	cadence_dispatch_spi(sql, c->ncols, types, values, NULL, false, expect,
						 "record the outcomes of a dispatch batch");
}
