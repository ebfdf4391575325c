/*
 * base/columns.c
 *		Arguments of one set-based statement, built row by row as columns
 *		and passed as one array each (see base/columns.h).
 */
#include "postgres.h"

#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"

#include "base/columns.h"

/*
 * cadence_columns_init
 *		ncols empty columns with room for cap rows.
 */
void
cadence_columns_init(CadenceColumns *c, int ncols, int cap)
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
 * cadence_columns_grow
 *		Make room for the current row, doubling every column when full.
 */
void
cadence_columns_grow(CadenceColumns *c)
{
	int			k;

	if (c->n < c->cap)
		return;
	c->cap *= 2;
	for (k = 0; k < c->ncols; k++)
	{
		c->values[k] = repalloc(c->values[k], sizeof(Datum) * c->cap);
		c->nulls[k] = repalloc(c->nulls[k], sizeof(bool) * c->cap);
	}
}

/*
 * cadence_columns_text
 *		Set column col of the current row to a C string (NULL allowed).
 */
void
cadence_columns_text(CadenceColumns *c, int col, const char *s)
{
	c->nulls[col][c->n] = s == NULL;
	c->values[col][c->n] = s ? CStringGetTextDatum(s) : (Datum) 0;
}

/*
 * cadence_columns_datum
 *		Set column col of the current row to a datum.
 */
void
cadence_columns_datum(CadenceColumns *c, int col, Datum d, bool isnull)
{
	c->nulls[col][c->n] = isnull;
	c->values[col][c->n] = d;
}

/*
 * column_array
 *		The array of one column, of element type typ.
 */
static Datum
column_array(CadenceColumns *c, int col, Oid typ)
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
cadence_columns_execute(CadenceColumns *c, CadenceStatement *stmt,
						const Oid *elem_types, int expect, const char *what)
{
	Oid		   *types = palloc(sizeof(Oid) * c->ncols);
	Datum	   *values = palloc(sizeof(Datum) * c->ncols);
	int			k;

	for (k = 0; k < c->ncols; k++)
	{
		types[k] = get_array_type(elem_types[k]);
		values[k] = column_array(c, k, elem_types[k]);
	}
	cadence_spi_run(stmt, c->ncols, types, values, NULL, false, expect, what);
}
