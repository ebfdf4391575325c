/*
 * runs/step_types.c
 *		The types of step a cadence may hold, listed once: which are sent,
 *		which are done by a person and which the runner carries out in the
 *		database.  The validation of the cadence contract and the check on
 *		cadence.cadence_actions read the list through
 *		cadence.action_types().
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "lib/stringinfo.h"
#include "utils/array.h"
#include "utils/builtins.h"

#include "runs/definition.h"

PG_FUNCTION_INFO_V1(cadence_action_types);

typedef enum StepKind
{
	STEP_SENT,					/* through a provider account */
	STEP_MANUAL,				/* waits as pending_manual, with a task */
	STEP_LOGIC					/* a condition or a lead action */
} StepKind;

static const struct
{
	const char *type;
	StepKind	kind;
}			step_types[] = {
	{"sms", STEP_SENT},
	{"email", STEP_SENT},
	{"whatsapp", STEP_SENT},
	{"call_task", STEP_MANUAL},
	{"manual_task", STEP_MANUAL},
	{"manual_email", STEP_MANUAL},
	{"linkedin_task", STEP_MANUAL},
	{"webhook", STEP_SENT},
	{"condition", STEP_LOGIC},
	{"lead_action", STEP_LOGIC},
};

/*
 * is_of_kind
 *		Is type a step type of this kind?
 */
static bool
is_of_kind(const char *type, StepKind kind)
{
	int			i;

	for (i = 0; i < lengthof(step_types); i++)
		if (strcmp(step_types[i].type, type) == 0)
			return step_types[i].kind == kind;
	return false;
}

/*
 * cadence_step_is_manual
 *		Is a step of this type done by a person (it waits as pending_manual,
 *		with a task, until someone completes it)?
 */
bool
cadence_step_is_manual(const char *type)
{
	return is_of_kind(type, STEP_MANUAL);
}

/*
 * cadence_step_is_logic
 *		Is a step of this type carried out in the database by the runner
 *		(a condition or a lead action) rather than sent?
 */
bool
cadence_step_is_logic(const char *type)
{
	return is_of_kind(type, STEP_LOGIC);
}

/*
 * cadence_manual_step_types
 *		The manual step types as a sentence lists them: "a, b, c and d".
 */
char *
cadence_manual_step_types(void)
{
	StringInfoData buf;
	int			i;
	int			n = 0;
	int			total = 0;

	for (i = 0; i < lengthof(step_types); i++)
		total += step_types[i].kind == STEP_MANUAL;
	initStringInfo(&buf);
	for (i = 0; i < lengthof(step_types); i++)
	{
		if (step_types[i].kind != STEP_MANUAL)
			continue;
		if (n > 0)
			appendStringInfoString(&buf, n == total - 1 ? " and " : ", ");
		appendStringInfoString(&buf, step_types[i].type);
		n++;
	}
	return buf.data;
}

/*
 * cadence.action_types() RETURNS text[]
 *		Every step type, in the order the contract's documentation gives
 *		them.
 */
Datum
cadence_action_types(PG_FUNCTION_ARGS)
{
	Datum		names[lengthof(step_types)];
	int			i;

	for (i = 0; i < lengthof(step_types); i++)
		names[i] = CStringGetTextDatum(step_types[i].type);
	PG_RETURN_ARRAYTYPE_P(construct_array(names, lengthof(step_types), TEXTOID,
										  -1, false, TYPALIGN_INT));
}
