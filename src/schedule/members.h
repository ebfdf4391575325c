/*
 * schedule/members.h
 *		The members of a rule or settings object, read and checked
 *		(schedule/members.c); every error is 22023 and names the JSON path
 *		and the bad value.  For schedule/parse.c.
 */
#ifndef CADENCE_SCHEDULE_MEMBERS_H
#define CADENCE_SCHEDULE_MEMBERS_H

#include "postgres.h"

#include "utils/jsonb.h"

/* "path.key", or "key" when path is empty (for error messages). */
extern char *cadence_json_path(const char *path, const char *key);

/* A JSON value as JSON text, shortened for an error message. */
extern char *cadence_json_text(const JsonbValue *v);

/* Raise "invalid <path>.<key>: <value>" with a detail. */
extern void cadence_invalid_member(const char *path, const char *key,
								   const JsonbValue *v, const char *detail)
			pg_attribute_noreturn();

/* Fetch key from an object; false when absent or JSON null. */
extern bool cadence_member_present(JsonbContainer *obj, const char *key, JsonbValue *v);

/* An "HH:mm" member as minutes, or -1 when absent and not required. */
extern int	cadence_member_hhmm(JsonbContainer *obj, const char *path,
								const char *key, bool required);

/* A whole-number member from 0 to CADENCE_RULE_MAX_NUMBER (absent: 0). */
extern int32 cadence_member_count(JsonbContainer *obj, const char *path,
								  const char *key, bool required);

/* A boolean member; absent is false. */
extern bool cadence_member_bool(JsonbContainer *obj, const char *path, const char *key);

#endif							/* CADENCE_SCHEDULE_MEMBERS_H */
