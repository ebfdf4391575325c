/*
 * base/identity.c
 *		Who is calling.  A session claims a tenant and a user: PostgREST's
 *		request.jwt.claims (tenant_id at the top level or under app_metadata,
 *		and sub), else the settings cadence.tenant_id and cadence.user_id.
 *		The claimed tenant becomes the caller's tenant only when the user is
 *		a member of it (a cadence.members row), or when the role the session
 *		runs as bypasses row-level security (a superuser, a BYPASSRLS role
 *		such as Supabase's service_role, the runners).  Otherwise the caller
 *		has no tenant: the policies show it nothing and every API function
 *		refuses it.  The role is the one outside any SECURITY DEFINER
 *		function (GetOuterUserId), so that an API function running as the
 *		extension's owner still judges its caller.
 *
 *		The row-level security policies call cadence.current_tenant() for
 *		every row a scan reads, so the answer is kept for as long as it
 *		cannot change: within one transaction, while the snapshot, the
 *		command, the role and the claims stay the same.  A membership
 *		removed by a transaction that commits is seen by the next snapshot,
 *		that is by the caller's next statement.  The membership row is read
 *		through the index of cadence.members, below row-level security and
 *		name resolution: no SQL runs, so nothing a session put on its
 *		search_path can stand in for it.  On a Citus cluster members is a
 *		reference table, and the row is read from its placement on the node
 *		that asks.
 *
 *		Only the API asks who is calling.  What cadence's own code does for
 *		a tenant that is not the caller's (a webhook routed to the tenant
 *		whose message it names, a run's steps) goes through internal entry
 *		points that take the tenant as an argument.
 */
#include "postgres.h"

#include "access/genam.h"
#include "access/htup_details.h"
#include "access/stratnum.h"
#include "access/table.h"
#include "access/xact.h"
#include "catalog/namespace.h"
#include "catalog/pg_collation.h"
#include "catalog/pg_type.h"
#include "miscadmin.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/fmgroids.h"
#include "utils/guc.h"
#include "utils/jsonb.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/rel.h"
#include "utils/snapmgr.h"

#include "base/cluster.h"
#include "base/json.h"
#include "base/compat.h"
#include "base/gucs.h"
#include "base/identity.h"

PG_FUNCTION_INFO_V1(cadence_current_tenant);
PG_FUNCTION_INFO_V1(cadence_current_user_id);
PG_FUNCTION_INFO_V1(cadence_current_member_role);
PG_FUNCTION_INFO_V1(cadence_require_tenant);
PG_FUNCTION_INFO_V1(cadence_require_member_of);
PG_FUNCTION_INFO_V1(cadence_caller_is_engine);

/*
 * What the caller was worked out from.  It holds while the transaction
 * lasts (identity_xact_callback forgets it) and these stay the same: the
 * active snapshot (which decides whether a membership row is seen), the
 * session's role and its claims.
 */
typedef struct CallerKey
{
	bool		valid;
	TransactionId xmin;
	TransactionId xmax;
	uint32		xcnt;
	CommandId	curcid;
	uint64		completions;
	Oid			outer_user;
	char	   *claims;
	char	   *tenant_setting;
	char	   *user_setting;
} CallerKey;

static MemoryContext identity_cxt = NULL;
static CallerKey key;
static CadenceCaller caller;

/*
 * same_text
 *		Two strings, either of which may be NULL, are equal.
 */
static bool
same_text(const char *a, const char *b)
{
	if (a == NULL || b == NULL)
		return a == b;
	return strcmp(a, b) == 0;
}

/*
 * text_or_null
 *		A copy of a setting's value, NULL when it is unset or empty.
 */
static char *
text_or_null(const char *s)
{
	return s == NULL || s[0] == '\0' ? NULL : pstrdup(s);
}

/*
 * claim_text
 *		A claim of a JSON object as text: a string or a number; NULL when
 *		absent, empty or of another type.
 */
static char *
claim_text(JsonbContainer *obj, const char *name)
{
	JsonbValue *v = cadence_jsonb_member(obj, name, NULL);

	if (v == NULL)
		return NULL;
	if (v->type == jbvString)
		return v->val.string.len == 0 ? NULL
			: pnstrdup(v->val.string.val, v->val.string.len);
	if (v->type == jbvNumeric)
		return DatumGetCString(DirectFunctionCall1(numeric_out,
												   NumericGetDatum(v->val.numeric)));
	return NULL;
}

/*
 * read_claims
 *		The tenant (tenant_id at the top level, else under app_metadata) and
 *		the user (sub) of PostgREST's JWT claims.
 */
static void
read_claims(const char *claims, char **tenant, char **user)
{
	Jsonb	   *jb = DatumGetJsonbP(DirectFunctionCall1(jsonb_in,
														CStringGetDatum(claims)));
	JsonbValue *meta;

	if (!JB_ROOT_IS_OBJECT(jb))
		return;
	*tenant = claim_text(&jb->root, "tenant_id");
	if (*tenant == NULL)
	{
		meta = cadence_jsonb_member(&jb->root, "app_metadata", NULL);
		if (meta != NULL && meta->type == jbvBinary &&
			JsonContainerIsObject(meta->val.binary.data))
			*tenant = claim_text(meta->val.binary.data, "tenant_id");
	}
	*user = claim_text(&jb->root, "sub");
}

/*
 * member_role
 *		The role of user_id in tenant_id (owner, admin, member) as snap sees
 *		cadence.members (its placement on this node under Citus), or NULL
 *		when there is no such row (or no table yet).
 */
static char *
member_role(const char *tenant_id, const char *user_id, Snapshot snap)
{
	Oid			relid;
	Oid			index;
	Relation	rel;
	ScanKeyData keys[2];
	SysScanDesc scan;
	HeapTuple	tup;
	char	   *role = NULL;

	cadence_local_placement("members", "members_pkey", snap, &relid, &index);
	if (!OidIsValid(relid))
		return NULL;
	rel = table_open(relid, AccessShareLock);
	ScanKeyEntryInitialize(&keys[0], 0, get_attnum(relid, "tenant_id"),
						   BTEqualStrategyNumber, InvalidOid, C_COLLATION_OID,
						   F_TEXTEQ, CStringGetTextDatum(tenant_id));
	ScanKeyEntryInitialize(&keys[1], 0, get_attnum(relid, "user_id"),
						   BTEqualStrategyNumber, InvalidOid, C_COLLATION_OID,
						   F_TEXTEQ, CStringGetTextDatum(user_id));
	scan = systable_beginscan(rel, index, OidIsValid(index), snap, 2, keys);
	tup = systable_getnext(scan);
	if (HeapTupleIsValid(tup))
	{
		bool		isnull;
		Datum		d = heap_getattr(tup, get_attnum(relid, "role"),
									 RelationGetDescr(rel), &isnull);

		if (!isnull)
			role = TextDatumGetCString(d);
	}
	systable_endscan(scan);
	table_close(rel, AccessShareLock);
	return role;
}

/*
 * key_holds
 *		Is what was worked out last still the answer?
 */
static bool
key_holds(const char *claims)
{
	Snapshot	snap;

	if (!key.valid || !ActiveSnapshotSet())
		return false;
	snap = GetActiveSnapshot();
	return snap->xmin == key.xmin && snap->xmax == key.xmax &&
		snap->xcnt == key.xcnt && snap->curcid == key.curcid &&
		snap->snapXactCompletionCount == key.completions &&
		GetOuterUserId() == key.outer_user &&
		same_text(claims, key.claims) &&
		same_text(cadence_tenant_id, key.tenant_setting) &&
		same_text(cadence_user_id, key.user_setting);
}

/*
 * work_out_caller
 *		Read the claims, look the membership up and remember the answer with
 *		what it depends on.
 */
static void
work_out_caller(const char *claims)
{
	Snapshot	snap = ActiveSnapshotSet() ? GetActiveSnapshot() : GetTransactionSnapshot();
	Oid			outer = GetOuterUserId();
	char	   *tenant = NULL;
	char	   *user = NULL;
	MemoryContext old;

	key.valid = false;
	if (identity_cxt == NULL)
		identity_cxt = AllocSetContextCreate(TopMemoryContext, "cadence identity",
											 ALLOCSET_SMALL_SIZES);
	MemoryContextReset(identity_cxt);
	memset(&caller, 0, sizeof(caller));
	old = MemoryContextSwitchTo(identity_cxt);

	if (claims != NULL && claims[0] != '\0')
		read_claims(claims, &tenant, &user);
	if (tenant == NULL)
		tenant = text_or_null(cadence_tenant_id);
	if (user == NULL)
		user = text_or_null(cadence_user_id);
	caller.claimed_tenant = tenant;
	caller.user_id = user;
	caller.bypass = superuser_arg(outer) || has_bypassrls_privilege(outer);
	if (tenant != NULL && user != NULL)
		caller.role = member_role(tenant, user, snap);
	if (tenant != NULL && (caller.bypass || caller.role != NULL))
		caller.tenant_id = tenant;

	key.claims = claims ? pstrdup(claims) : NULL;
	key.tenant_setting = cadence_tenant_id ? pstrdup(cadence_tenant_id) : NULL;
	key.user_setting = cadence_user_id ? pstrdup(cadence_user_id) : NULL;
	MemoryContextSwitchTo(old);

	key.xmin = snap->xmin;
	key.xmax = snap->xmax;
	key.xcnt = snap->xcnt;
	key.curcid = snap->curcid;
	key.completions = snap->snapXactCompletionCount;
	key.outer_user = outer;
	key.valid = ActiveSnapshotSet();
}

/*
 * cadence_caller
 *		The caller: worked out again only when something it depends on
 *		changed.
 */
const CadenceCaller *
cadence_caller(void)
{
	static CompatSettingSlot claims_slot;
	const char *claims = compat_string_setting("request.jwt.claims", &claims_slot);

	if (!key_holds(claims))
		work_out_caller(claims);
	return &caller;
}

/*
 * refuse_tenant
 *		42501 saying why user_id (NULL: none named) may not act for the
 *		tenant claimed (NULL: none named).
 */
static void pg_attribute_noreturn()
refuse_tenant(const char *claimed, const char *user_id)
{
	if (claimed == NULL)
		ereport(ERROR,
				errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				errmsg("no tenant is set for this session"),
				errhint("Send a JWT with a tenant_id claim, or SET cadence.tenant_id."));
	if (user_id == NULL)
		ereport(ERROR,
				errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				errmsg("a session without a user id is not a member of tenant \"%s\"",
					   claimed),
				errhint("Send a JWT with a sub claim, or SET cadence.user_id."));
	ereport(ERROR,
			errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
			errmsg("user \"%s\" is not a member of tenant \"%s\"", user_id, claimed),
			errhint("An owner or admin of the tenant adds members with cadence.set_member()."));
}

/*
 * cadence_caller_tenant
 *		The caller's tenant, or 42501 saying why there is none.
 */
char *
cadence_caller_tenant(void)
{
	const CadenceCaller *c = cadence_caller();

	if (c->tenant_id == NULL)
		refuse_tenant(c->claimed_tenant, c->user_id);
	return pstrdup(c->tenant_id);
}

/*
 * identity_xact_callback, identity_subxact_callback
 *		Nothing worked out in a transaction outlives it, nor what a
 *		subtransaction saw once it is rolled back.
 */
static void
identity_xact_callback(XactEvent event, void *arg)
{
	key.valid = false;
}

static void
identity_subxact_callback(SubXactEvent event, SubTransactionId sub,
						  SubTransactionId parent, void *arg)
{
	if (event == SUBXACT_EVENT_ABORT_SUB)
		key.valid = false;
}

void
cadence_identity_init(void)
{
	RegisterXactCallback(identity_xact_callback, NULL);
	RegisterSubXactCallback(identity_subxact_callback, NULL);
}

/*
 * text_result
 *		A string as a text result, or SQL NULL.
 */
static Datum
text_result(FunctionCallInfo fcinfo, const char *s)
{
	if (s == NULL)
		PG_RETURN_NULL();
	PG_RETURN_TEXT_P(cstring_to_text(s));
}

/*
 * cadence.current_tenant() RETURNS text
 *		The caller's tenant: the one it claims, when it is a member of it or
 *		bypasses row-level security; else NULL.  What every policy calls.
 */
Datum
cadence_current_tenant(PG_FUNCTION_ARGS)
{
	return text_result(fcinfo, cadence_caller()->tenant_id);
}

/*
 * cadence.current_user_id() RETURNS text
 *		The user the session names: the JWT's sub, else cadence.user_id.
 */
Datum
cadence_current_user_id(PG_FUNCTION_ARGS)
{
	return text_result(fcinfo, cadence_caller()->user_id);
}

/*
 * cadence.current_member_role() RETURNS text
 *		owner, admin or member: the caller's role in its tenant; NULL for a
 *		caller that is not a member (a role bypassing row-level security
 *		that names a tenant it has no row in).
 */
Datum
cadence_current_member_role(PG_FUNCTION_ARGS)
{
	const CadenceCaller *c = cadence_caller();

	return text_result(fcinfo, c->tenant_id ? c->role : NULL);
}

/*
 * cadence.require_tenant() RETURNS text
 *		The caller's tenant, or 42501: no tenant named, or not a member.
 */
Datum
cadence_require_tenant(PG_FUNCTION_ARGS)
{
	PG_RETURN_TEXT_P(cstring_to_text(cadence_caller_tenant()));
}

/*
 * cadence.require_member_of(tenant_id text) RETURNS text
 *		tenant_id, when the caller may act for it: its user is a member of
 *		it, or its role bypasses row-level security; else 42501, as
 *		require_tenant() says it for a session naming that tenant.  For
 *		what acts on a row of a tenant other than the one the session names
 *		(a trigger on the application's lead table).
 */
Datum
cadence_require_member_of(PG_FUNCTION_ARGS)
{
	const CadenceCaller *c = cadence_caller();
	char	   *tenant = PG_ARGISNULL(0) ? NULL : text_to_cstring(PG_GETARG_TEXT_PP(0));

	if (tenant != NULL && tenant[0] == '\0')
		tenant = NULL;
	if (tenant == NULL || !(c->bypass || (c->user_id != NULL &&
										  member_role(tenant, c->user_id,
													  GetActiveSnapshot()) != NULL)))
		refuse_tenant(tenant, c->user_id);
	PG_RETURN_TEXT_P(cstring_to_text(tenant));
}

/*
 * cadence.caller_is_engine() RETURNS boolean
 *		Whether the caller is the engine or a DBA rather than a user: its
 *		role bypasses row-level security.  Such a caller may do whatever an
 *		owner may.
 */
Datum
cadence_caller_is_engine(PG_FUNCTION_ARGS)
{
	PG_RETURN_BOOL(cadence_caller()->bypass);
}
