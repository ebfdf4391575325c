/*
 * base/columns.h
 *		Arguments of one set-based statement built row by row (base/columns.c):
 *		a runner gathers the rows of a batch as columns, then runs one
 *		statement over unnest($1::type[], $2::type[], ...) instead of one
 *		statement per row.
 */
#ifndef CADENCE_BASE_COLUMNS_H
#define CADENCE_BASE_COLUMNS_H

#include "base/spi.h"

typedef struct CadenceColumns
{
	int			n;				/* rows filled */
	int			cap;
	int			ncols;
	Datum	  **values;
	bool	  **nulls;
} CadenceColumns;

/* ncols empty columns with room for cap rows. */
extern void cadence_columns_init(CadenceColumns *c, int ncols, int cap);

/* Make room for the current row (c->n) when the columns are full. */
extern void cadence_columns_grow(CadenceColumns *c);

/* Set a column of the current row (c->n) to a C string (NULL allowed). */
extern void cadence_columns_text(CadenceColumns *c, int col, const char *s);

/* Set a column of the current row (c->n) to a datum. */
extern void cadence_columns_datum(CadenceColumns *c, int col, Datum d,
								  bool isnull);

/* Run stmt with the arrays of c, of element types elem_types, as arguments. */
extern void cadence_columns_execute(CadenceColumns *c, CadenceStatement *stmt,
									const Oid *elem_types, int expect,
									const char *what);

#endif							/* CADENCE_BASE_COLUMNS_H */
