/*
 * compat.h
 *		Shims over differences between the PostgreSQL major versions cadence
 *		builds against (15, 16, 17).  Nothing else belongs here.
 */
#ifndef CADENCE_COMPAT_H
#define CADENCE_COMPAT_H

#include "postgres.h"

/* MarkGUCPrefixReserved replaced EmitWarningsOnPlaceholders in 15. */
#if PG_VERSION_NUM < 150000
#define MarkGUCPrefixReserved(prefix) EmitWarningsOnPlaceholders(prefix)
#endif

/* The jsonb/varlena helpers moved headers in 16. */
#if PG_VERSION_NUM >= 160000
#include "varatt.h"
#endif

/* ItemPointer <-> Datum conversions arrived in 16. */
#if PG_VERSION_NUM < 160000
#include "storage/itemptr.h"
#define DatumGetItemPointer(X) ((ItemPointer) DatumGetPointer(X))
#define ItemPointerGetDatum(X) PointerGetDatum(X)
#endif

#endif							/* CADENCE_COMPAT_H */
