/*
 * base/json.h
 *		Reading members of a jsonb object and writing JSON text (base/json.c):
 *		the one way cadence's C code does either.
 */
#ifndef CADENCE_BASE_JSON_H
#define CADENCE_BASE_JSON_H

#include "datatype/timestamp.h"
#include "lib/stringinfo.h"
#include "utils/jsonb.h"

/*
 * The member key of a jsonb container, into *out (palloc'd when out is
 * NULL), or NULL when the container is not an object or has no such
 * member; the _len form for a key that is not NUL-terminated.
 */
extern JsonbValue *cadence_jsonb_member(JsonbContainer *c, const char *key,
										JsonbValue *out);
extern JsonbValue *cadence_jsonb_member_len(JsonbContainer *c, const char *key,
											int keylen, JsonbValue *out);

/* A non-empty string member of a jsonb object (palloc'd), or NULL. */
extern char *cadence_jsonb_string(Jsonb *obj, const char *key);

/* The same, but a missing member is an error: "<what> has no <key>". */
extern char *cadence_jsonb_require(Jsonb *obj, const char *key,
								   const char *what);

/* An object member of a jsonb object, or NULL. */
extern Jsonb *cadence_jsonb_object(Jsonb *obj, const char *key);

/*
 * JSON writing: the caller appends '{' or '[' and the closing bracket;
 * these add commas as needed.  Members with a NULL value are left out.
 */
extern void cadence_json_key(StringInfo buf, const char *key);
extern void cadence_json_string(StringInfo buf, const char *key,
								const char *value);
extern void cadence_json_raw(StringInfo buf, const char *key, const char *json);
extern void cadence_json_jsonb(StringInfo buf, const char *key, Jsonb *value);
extern void cadence_json_element(StringInfo buf, const char *value);

/*
 * A jsonb object built member by member, as jsonb_strip_nulls of
 * jsonb_build_object gives it: the same value, byte for byte, without a
 * statement evaluating it row by row.  Text members that are NULL are left
 * out.
 */
typedef struct CadenceJsonbObject
{
	JsonbParseState *state;
} CadenceJsonbObject;

extern void cadence_jsonb_begin(CadenceJsonbObject *o);
extern void cadence_jsonb_add_text(CadenceJsonbObject *o, const char *key,
								   const char *value);
extern void cadence_jsonb_add_int(CadenceJsonbObject *o, const char *key, int64 value);
extern void cadence_jsonb_add_timestamptz(CadenceJsonbObject *o, const char *key,
										  TimestampTz value);
extern Jsonb *cadence_jsonb_end(CadenceJsonbObject *o);

#endif							/* CADENCE_BASE_JSON_H */
