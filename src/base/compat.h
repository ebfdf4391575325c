/*
 * base/compat.h
 *		Shims over differences between the PostgreSQL major versions cadence
 *		builds against (15, 16, 17).  Nothing else belongs here.
 */
#ifndef CADENCE_BASE_COMPAT_H
#define CADENCE_BASE_COMPAT_H

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

/*
 * PGPROC lost its pgprocno field in 17: a process's number is its place in
 * ProcGlobal->allProcs, which 17 computes with this macro.
 */
#if PG_VERSION_NUM < 170000
#define GetNumberFromPGProc(proc) ((proc)->pgprocno)
#endif

/*
 * compat_string_setting(name, where)
 *		The current value of a string setting, as GetConfigOption(name, true,
 *		false) gives it.  Before 16 that call binary-searches the settings by
 *		name; *where (zeroed at first) remembers where name was found (or that
 *		it was not, among how many settings), so a caller reading it for every
 *		row of a scan pays one string comparison.  The array is read afresh
 *		each time and the name at the slot checked: a setting added since may
 *		have moved it.
 */
typedef struct CompatSettingSlot
{
	int			index;			/* where name was found, plus one; 0: not */
	int			count;			/* how many settings there were then */
} CompatSettingSlot;

#if PG_VERSION_NUM < 160000
#include "utils/guc_tables.h"

static inline const char *
compat_string_setting(const char *name, CompatSettingSlot *where)
{
	struct config_generic **vars = get_guc_variables();
	int			n = GetNumConfigOptions();
	int			k = where->index - 1;

	if (k < 0 && where->count == n)
		return NULL;
	if (k < 0 || k >= n || strcmp(vars[k]->name, name) != 0)
	{
		for (k = 0; k < n && strcmp(vars[k]->name, name) != 0; k++)
			;
		where->index = k < n ? k + 1 : 0;
		where->count = n;
		if (k == n)
			return NULL;
	}
	if (vars[k]->vartype != PGC_STRING)
		return GetConfigOption(name, true, false);
	return *((struct config_string *) vars[k])->variable;
}
#else
#include "utils/guc.h"

static inline const char *
compat_string_setting(const char *name, CompatSettingSlot *where)
{
	return GetConfigOption(name, true, false);
}
#endif

#endif							/* CADENCE_BASE_COMPAT_H */
