/*
 * schedule/sql.c
 *		SQL-callable wrappers over the scheduling math in schedule/math.c:
 *		cadence.calculate_next_step_due, cadence.explain_next_step_due and
 *		the validators cadence.validate_schedule_rule, cadence.validate_settings
 *		and cadence.is_valid_timezone, and cadence.settings_business_days.
 *
 * A query computing due times for a million rows usually passes the same
 * rule, zone and settings every time, so each call site keeps its parsed
 * arguments in fn_extra, keyed on the argument bytes, and a call that hits
 * the cache allocates nothing.
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "fmgr.h"
#include "funcapi.h"
#include "utils/builtins.h"
#include "utils/jsonb.h"
#include "utils/memutils.h"
#include "utils/timestamp.h"

#include "base/compat.h"
#include "schedule/schedule.h"

PG_FUNCTION_INFO_V1(cadence_calculate_next_step_due);
PG_FUNCTION_INFO_V1(cadence_explain_next_step_due);
PG_FUNCTION_INFO_V1(cadence_validate_schedule_rule);
PG_FUNCTION_INFO_V1(cadence_validate_settings_sql);
PG_FUNCTION_INFO_V1(cadence_is_valid_timezone);
PG_FUNCTION_INFO_V1(cadence_settings_business_days);

/* Rules cached per call site: a join over a cadence's steps has a few. */
#define RULE_CACHE_SIZE 8

/* Bytes of one cached argument, copied into the call site's memory. */
typedef struct CachedKey
{
	int			len;			/* -1: empty slot */
	int			cap;
	char	   *data;
} CachedKey;

typedef struct RuleCacheEntry
{
	CachedKey	key;
	CadenceRule rule;
} RuleCacheEntry;

typedef struct CallCache
{
	MemoryContext mcxt;
	RuleCacheEntry rules[RULE_CACHE_SIZE];
	int			next_rule;
	CachedKey	tz_key;
	pg_tz	   *tz;
	CachedKey	settings_key;
	MemoryContext settings_mcxt;	/* holds the parsed holidays */
	CadenceWindows windows;
} CallCache;

/*
 * key_matches
 *		Do the cached bytes equal the argument's data bytes?
 */
static inline bool
key_matches(const CachedKey *key, const struct varlena *arg)
{
	return key->len == (int) VARSIZE_ANY_EXHDR(arg) &&
		memcmp(key->data, VARDATA_ANY(arg), key->len) == 0;
}

/*
 * key_store
 *		Remember the argument's bytes, reusing the buffer when it is big enough.
 */
static void
key_store(CachedKey *key, MemoryContext mcxt, const struct varlena *arg)
{
	int			len = VARSIZE_ANY_EXHDR(arg);

	if (key->data == NULL || key->cap < len)
	{
		if (key->data)
			pfree(key->data);
		key->cap = Max(len, 64);
		key->data = MemoryContextAlloc(mcxt, key->cap);
	}
	memcpy(key->data, VARDATA_ANY(arg), len);
	key->len = len;
}

/*
 * get_cache
 *		The call site's cache, created on first use.
 */
static CallCache *
get_cache(FunctionCallInfo fcinfo)
{
	CallCache  *cache = (CallCache *) fcinfo->flinfo->fn_extra;
	int			i;

	if (cache == NULL)
	{
		MemoryContext mcxt = fcinfo->flinfo->fn_mcxt;

		cache = MemoryContextAllocZero(mcxt, sizeof(CallCache));
		cache->mcxt = mcxt;
		for (i = 0; i < RULE_CACHE_SIZE; i++)
			cache->rules[i].key.len = -1;
		cache->tz_key.len = -1;
		cache->settings_key.len = -1;
		cache->settings_mcxt = AllocSetContextCreate(mcxt, "cadence settings",
													 ALLOCSET_SMALL_SIZES);
		fcinfo->flinfo->fn_extra = cache;
	}
	return cache;
}

/*
 * cached_rule
 *		The parsed rule of a jsonb argument; errors name the path "rule".
 */
static const CadenceRule *
cached_rule(CallCache *cache, Datum arg)
{
	struct varlena *raw = PG_DETOAST_DATUM_PACKED(arg);
	RuleCacheEntry *e;
	int			i;

	for (i = 0; i < RULE_CACHE_SIZE; i++)
		if (key_matches(&cache->rules[i].key, raw))
			return &cache->rules[i].rule;

	e = &cache->rules[cache->next_rule];
	e->key.len = -1;
	cadence_parse_rule_into(DatumGetJsonbP(arg), "rule", &e->rule);
	key_store(&e->key, cache->mcxt, raw);
	cache->next_rule = (cache->next_rule + 1) % RULE_CACHE_SIZE;
	return &e->rule;
}

/*
 * cached_tz
 *		The zone named by a text argument.
 */
static pg_tz *
cached_tz(CallCache *cache, Datum arg)
{
	struct varlena *raw = PG_DETOAST_DATUM_PACKED(arg);

	if (!key_matches(&cache->tz_key, raw))
	{
		cache->tz_key.len = -1;
		cache->tz = cadence_lookup_tz(text_to_cstring((text *) raw));
		key_store(&cache->tz_key, cache->mcxt, raw);
	}
	return cache->tz;
}

/*
 * cached_windows
 *		The parsed settings of a jsonb argument; errors name "settings".
 */
static const CadenceWindows *
cached_windows(CallCache *cache, Datum arg)
{
	struct varlena *raw = PG_DETOAST_DATUM_PACKED(arg);

	if (!key_matches(&cache->settings_key, raw))
	{
		Jsonb	   *settings = DatumGetJsonbP(arg);
		MemoryContext old;

		cache->settings_key.len = -1;
		MemoryContextReset(cache->settings_mcxt);
		cache->settings_key.data = NULL;
		old = MemoryContextSwitchTo(cache->settings_mcxt);
		cadence_parse_settings_into(settings, "settings", &cache->windows);
		key_store(&cache->settings_key, cache->settings_mcxt, raw);
		MemoryContextSwitchTo(old);
	}
	return &cache->windows;
}

/*
 * next_step_due
 *		Shared body of calculate_next_step_due and explain_next_step_due.
 */
static TimestampTz
next_step_due(FunctionCallInfo fcinfo, CadenceMoveReason *reason)
{
	CallCache  *cache = get_cache(fcinfo);
	TimestampTz prev = PG_GETARG_TIMESTAMPTZ(0);
	const CadenceRule *rule = cached_rule(cache, PG_GETARG_DATUM(1));
	pg_tz	   *tz = cached_tz(cache, PG_GETARG_DATUM(2));
	const CadenceWindows *w = NULL;

	if (PG_NARGS() > 3)
		w = cached_windows(cache, PG_GETARG_DATUM(3));
	return cadence_next_due(prev, rule, tz, w, reason);
}

/*
 * cadence_calculate_next_step_due
 *		calculate_next_step_due(prev, rule, tz, settings) -> timestamptz
 */
Datum
cadence_calculate_next_step_due(PG_FUNCTION_ARGS)
{
	PG_RETURN_TIMESTAMPTZ(next_step_due(fcinfo, NULL));
}

/*
 * cadence_explain_next_step_due
 *		explain_next_step_due(prev, rule, tz, settings)
 *			-> (due_at timestamptz, moved_reason text)
 *		moved_reason is NULL when the rule's own instant was kept.
 */
Datum
cadence_explain_next_step_due(PG_FUNCTION_ARGS)
{
	CadenceMoveReason reason;
	TupleDesc	tupdesc;
	Datum		values[2];
	bool		nulls[2] = {false, false};

	if (get_call_result_type(fcinfo, NULL, &tupdesc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "return type must be a row type");
	values[0] = TimestampTzGetDatum(next_step_due(fcinfo, &reason));
	if (reason == CADENCE_MOVE_NONE)
		nulls[1] = true;
	else
		values[1] = CStringGetTextDatum(cadence_move_reason_name(reason));
	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(BlessTupleDesc(tupdesc),
													  values, nulls)));
}

/*
 * path_arg
 *		The path argument of a validator, or dflt when NULL.
 */
static char *
path_arg(FunctionCallInfo fcinfo, int argno, const char *dflt)
{
	if (PG_ARGISNULL(argno))
		return pstrdup(dflt);
	return text_to_cstring(PG_GETARG_TEXT_PP(argno));
}

/*
 * cadence_validate_schedule_rule
 *		validate_schedule_rule(rule, path): raise 22023 naming path when the
 *		rule is malformed; a NULL rule is missing.
 */
Datum
cadence_validate_schedule_rule(PG_FUNCTION_ARGS)
{
	char	   *path = path_arg(fcinfo, 1, "scheduleRule");
	CadenceRule rule;

	if (PG_ARGISNULL(0))
		ereport(ERROR,
				errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				errmsg("missing %s", path),
				errhint(CADENCE_RULE_KINDS_HINT));
	cadence_parse_rule_into(PG_GETARG_JSONB_P(0), path, &rule);
	PG_RETURN_VOID();
}

/*
 * cadence_validate_settings_sql
 *		validate_settings(settings, path): raise an error naming path when
 *		what planning reads of a cadence's settings is malformed or never
 *		open (schedule/validate.c); NULL is no settings.
 */
Datum
cadence_validate_settings_sql(PG_FUNCTION_ARGS)
{
	char	   *path = path_arg(fcinfo, 1, "settings");

	if (!PG_ARGISNULL(0))
		cadence_check_cadence_settings(PG_GETARG_JSONB_P(0), path);
	PG_RETURN_VOID();
}

/*
 * cadence_is_valid_timezone
 *		is_valid_timezone(tz): would cadence accept this zone name?
 */
Datum
cadence_is_valid_timezone(PG_FUNCTION_ARGS)
{
	char	   *name = text_to_cstring(PG_GETARG_TEXT_PP(0));

	PG_RETURN_BOOL(cadence_lookup_tz_noerror(name) != NULL);
}

/*
 * cadence_settings_business_days
 *		settings_business_days(settings): whether the settings exclude
 *		weekends, as the parser reads them, for a flat step's delay rule
 *		(businessDays); NULL is no settings.
 */
Datum
cadence_settings_business_days(PG_FUNCTION_ARGS)
{
	CadenceWindows w;

	if (PG_ARGISNULL(0))
		PG_RETURN_BOOL(false);
	cadence_parse_settings_into(PG_GETARG_JSONB_P(0), "settings", &w);
	PG_RETURN_BOOL(w.exclude_weekends);
}
