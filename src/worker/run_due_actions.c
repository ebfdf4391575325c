/*
 * worker/run_due_actions.c
 *		cadence.run_due_actions(limit, as_of, tenant_id): one round of
 *		dispatch from any session, the way pg_cron drives cadence without
 *		the background worker; and cadence.idempotency_key(), the key its
 *		requests carry.
 *
 * A function cannot commit, and a round must: its claim has to be
 * committed before any request leaves, and what came back committed
 * whatever becomes of the session that asked (else a session that dies
 * takes with it the claims, the attempt counts and the audit rows of
 * requests that were made).  So the round runs in a background worker of
 * its own (no shared_preload_libraries needed), the same round a
 * dispatcher runs (worker/round.c), connected to the caller's database as the
 * caller's role, with the caller's settings, as parallel workers get
 * them; the caller waits for it and returns its tally.  Being another
 * transaction, the round cannot see rows the caller has not committed,
 * and would wait for locks the caller holds while the caller waits for
 * it: a caller that has written anything is refused.  If the caller is
 * cancelled while waiting, the round still finishes and records what it
 * sent.
 */
#include "postgres.h"

#include "access/xact.h"
#include "commands/dbcommands.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "port/atomics.h"
#include "postmaster/bgworker.h"
#include "storage/dsm.h"
#include "storage/ipc.h"
#include "tcop/tcopprot.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/jsonb.h"
#include "utils/memutils.h"
#include "utils/snapmgr.h"
#include "utils/timestamp.h"

#include "base/cluster.h"
#include "base/shmem.h"
#include "worker/bgworker.h"
#include "worker/round.h"

PG_FUNCTION_INFO_V1(cadence_run_due_actions);
PG_FUNCTION_INFO_V1(cadence_idempotency_key_sql);

PGDLLEXPORT void cadence_round_main(Datum main_arg);

/* Room for an error's texts, coming back from the worker. */
#define ERROR_TEXT_LEN	1024

/*
 * What the caller hands the worker, and the worker's answer, in a dynamic
 * shared memory segment.
 */
typedef struct RoundRequest
{
	/* who the caller is */
	Oid			database;
	Oid			authenticated_user;
	Oid			outer_user;		/* SET ROLE, or invalid */
	bool		outer_is_superuser;
	Oid			current_user;	/* inside SECURITY DEFINER functions */
	int			sec_context;

	/* the round */
	int			limit;
	TimestampTz as_of;
	bool		realtime;
	bool		has_tenant;

	/* the answer */
	bool		done;
	DispatchCounts counts;
	int			sqlerrcode;
	char		message[ERROR_TEXT_LEN];
	char		detail[ERROR_TEXT_LEN];
	char		hint[ERROR_TEXT_LEN];

	/* the tenant (when given), then the caller's settings */
	Size		guc_offset;
	char		data[FLEXIBLE_ARRAY_MEMBER];
} RoundRequest;

/*
 * refuse_if_written
 *		The round cannot see what the caller's transaction wrote, and could
 *		deadlock on its locks.
 */
static void
refuse_if_written(void)
{
	if (TransactionIdIsValid(GetTopTransactionIdIfAny()))
		ereport(ERROR,
				errcode(ERRCODE_ACTIVE_SQL_TRANSACTION),
				errmsg("cadence.run_due_actions() cannot run in a transaction that has written"),
				errdetail("Its round runs and commits in a background worker of its own: "
						  "it would not see this transaction's uncommitted rows, and could "
						  "wait for its locks."),
				errhint("Commit first, or call it in a transaction of its own, as pg_cron does."));
}

/*
 * start_round
 *		Register the worker of the round described in seg.
 */
static BackgroundWorkerHandle *
start_round(dsm_segment *seg)
{
	BackgroundWorker w;
	BackgroundWorkerHandle *handle;

	memset(&w, 0, sizeof(w));
	w.bgw_flags = BGWORKER_SHMEM_ACCESS | BGWORKER_BACKEND_DATABASE_CONNECTION;
	w.bgw_start_time = BgWorkerStart_RecoveryFinished;
	w.bgw_restart_time = BGW_NEVER_RESTART;
	w.bgw_notify_pid = MyProcPid;
	w.bgw_main_arg = UInt32GetDatum(dsm_segment_handle(seg));
	snprintf(w.bgw_library_name, BGW_MAXLEN, "cadence");
	snprintf(w.bgw_function_name, BGW_MAXLEN, "cadence_round_main");
	snprintf(w.bgw_name, BGW_MAXLEN, "cadence runner for PID %d", MyProcPid);
	snprintf(w.bgw_type, BGW_MAXLEN, "cadence runner");
	if (!RegisterDynamicBackgroundWorker(&w, &handle))
		ereport(ERROR,
				errcode(ERRCODE_CONFIGURATION_LIMIT_EXCEEDED),
				errmsg("no background worker slot is free for cadence.run_due_actions()"),
				errdetail("Each call runs its round in a background worker of its own."),
				errhint("Raise max_worker_processes (now %d), or call it less often at once.",
						max_worker_processes));
	return handle;
}

/*
 * cadence.run_due_actions(limit int, as_of timestamptz, tenant_id text)
 *		RETURNS jsonb
 *		Resume the paused runs whose time has come and send up to limit
 *		actions due at as_of (the runner's clock: quiet hours, caps and
 *		retries are reckoned from it), of one tenant or of every tenant the
 *		caller sees, and say what happened.
 */
Datum
cadence_run_due_actions(PG_FUNCTION_ARGS)
{
	int			limit = PG_ARGISNULL(0) ? 50 : PG_GETARG_INT32(0);
	char	   *tenant = PG_ARGISNULL(2) ? NULL : text_to_cstring(PG_GETARG_TEXT_PP(2));
	Size		tenant_len = tenant ? strlen(tenant) + 1 : 0;
	Size		guc_len;
	dsm_segment *seg;
	RoundRequest *req;
	BackgroundWorkerHandle *handle;
	DispatchCounts c;
	char	   *json;

	if (limit < 1)
		ereport(ERROR,
				errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				errmsg("limit must be at least 1, got %d", limit));
	refuse_if_written();

	guc_len = EstimateGUCStateSpace();
	seg = dsm_create(offsetof(RoundRequest, data) + tenant_len + guc_len, 0);
	req = dsm_segment_address(seg);
	memset(req, 0, offsetof(RoundRequest, data));
	req->database = MyDatabaseId;
	req->authenticated_user = GetAuthenticatedUserId();
	req->outer_user = GetCurrentRoleId();
	req->outer_is_superuser = OidIsValid(req->outer_user) && superuser_arg(req->outer_user);
	GetUserIdAndSecContext(&req->current_user, &req->sec_context);
	req->limit = limit;
	req->as_of = PG_ARGISNULL(1) ? GetCurrentTransactionStartTimestamp()
		: PG_GETARG_TIMESTAMPTZ(1);
	/* as_of left at now(): things happen when their requests finish. */
	req->realtime = req->as_of == GetCurrentTransactionStartTimestamp();
	req->has_tenant = tenant != NULL;
	if (tenant)
		memcpy(req->data, tenant, tenant_len);
	req->guc_offset = tenant_len;
	SerializeGUCState(guc_len, req->data + req->guc_offset);

	handle = start_round(seg);
	if (WaitForBackgroundWorkerShutdown(handle) == BGWH_POSTMASTER_DIED)
		ereport(FATAL,
				errcode(ERRCODE_ADMIN_SHUTDOWN),
				errmsg("the server stopped during cadence.run_due_actions()"));
	pg_read_barrier();
	if (!req->done && req->sqlerrcode != 0)
		ereport(ERROR,
				errcode(req->sqlerrcode),
				errmsg_internal("%s", req->message),
				req->detail[0] ? errdetail_internal("%s", req->detail) : 0,
				req->hint[0] ? errhint("%s", req->hint) : 0);
	if (!req->done)
	{
		/* Its claims are a dead runner's now: let the dispatchers have them. */
		cadence_wake_dispatchers();
		ereport(ERROR,
				errcode(ERRCODE_OPERATOR_INTERVENTION),
				errmsg("the background worker of cadence.run_due_actions() stopped before its round ended"),
				errdetail("What it claimed and did not record is taken over by the next claim, as a new attempt."),
				errhint("The server log says why it stopped."));
	}
	c = req->counts;
	dsm_detach(seg);

	json = psprintf("{\"claimed\": %d, \"sent\": %d, \"skipped\": %d, \"failed\": %d,"
					" \"retried\": %d, \"moved\": %d, \"pendingManual\": %d,"
					" \"executed\": %d, \"resumed\": %d}",
					c.claimed, c.sent, c.skipped, c.failed, c.retried, c.moved, c.manual,
					c.executed, c.resumed);
	PG_RETURN_DATUM(DirectFunctionCall1(jsonb_in, CStringGetDatum(json)));
}

/*
 * become_caller
 *		The caller's settings, session user, role and security context, as
 *		a parallel worker takes its leader's; in a transaction, for the
 *		settings' checks that read the catalogs.
 */
static void
become_caller(RoundRequest *req)
{
	StartTransactionCommand();
	RestoreGUCState(req->data + req->guc_offset);
	SetCurrentRoleId(req->outer_user, req->outer_is_superuser);
	SetUserIdAndSecContext(req->current_user, req->sec_context);
	CommitTransactionCommand();
}

/*
 * report_error
 *		Hand the error being handled to the caller, which raises it.
 */
static void
report_error(RoundRequest *req)
{
	ErrorData  *edata;

	MemoryContextSwitchTo(TopMemoryContext);
	edata = CopyErrorData();
	req->sqlerrcode = edata->sqlerrcode;
	strlcpy(req->message, edata->message ? edata->message : "unknown error", ERROR_TEXT_LEN);
	strlcpy(req->detail, edata->detail ? edata->detail : "", ERROR_TEXT_LEN);
	strlcpy(req->hint, edata->hint ? edata->hint : "", ERROR_TEXT_LEN);
	pg_write_barrier();
}

/*
 * refuse_without_shards
 *		On a node of a Citus cluster that holds no shard of cadence's tables
 *		(the coordinator) there is nothing to send from: each worker node
 *		sends from its own shards.
 */
static void
refuse_without_shards(void)
{
	char	   *workers;

	StartTransactionCommand();
	SPI_connect();
	PushActiveSnapshot(GetTransactionSnapshot());
	workers = cadence_worker_nodes();
	ereport(ERROR,
			errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
			errmsg("cadence.run_due_actions() sends from the shards of the node it runs on, and this node holds none"),
			errdetail("Citus distributes cadence's tables in database \"%s\"; each worker node's runners send from the shards it holds.",
					  get_database_name(MyDatabaseId)),
			errhint("Call it on a worker node: %s.", workers));
}

/*
 * cadence_round_main
 *		The background worker of one cadence.run_due_actions() call.
 */
void
cadence_round_main(Datum main_arg)
{
	dsm_segment *seg;
	RoundRequest *req;
	MemoryContext mcxt;

	pqsignal(SIGTERM, die);
	BackgroundWorkerUnblockSignals();
	/* Mapped for the life of the process: there is no resource owner. */
	seg = dsm_attach(DatumGetUInt32(main_arg));
	if (seg == NULL)
		proc_exit(0);			/* the caller stopped waiting before we began */
	req = dsm_segment_address(seg);
	BackgroundWorkerInitializeConnectionByOid(req->database, req->authenticated_user, 0);
	pgstat_report_appname("cadence run_due_actions");
	mcxt = AllocSetContextCreate(TopMemoryContext, "cadence run_due_actions",
								 ALLOCSET_DEFAULT_SIZES);
	PG_TRY();
	{
		CadenceRoundResult result;

		become_caller(req);
		cadence_runner_settings();
		result = cadence_round(mcxt, req->as_of, req->realtime, req->limit,
							   req->has_tenant ? req->data : NULL, NULL, NULL, &req->counts,
							   NULL);
		if (result == ROUND_NOT_INSTALLED)
			ereport(ERROR,
					errcode(ERRCODE_UNDEFINED_OBJECT),
					errmsg("extension \"cadence\" %s is not installed in this database",
						   CADENCE_VERSION),
					errhint("CREATE EXTENSION cadence, or ALTER EXTENSION cadence UPDATE after installing a new version of its library."));
		if (result == ROUND_NO_SHARDS)
			refuse_without_shards();
		pg_write_barrier();
		req->done = true;
	}
	PG_CATCH();
	{
		report_error(req);
		PG_RE_THROW();
	}
	PG_END_TRY();
	proc_exit(0);
}

/*
 * cadence.idempotency_key(action_id bigint) RETURNS text
 *		The key every request of a scheduled action carries (and that comes
 *		back in webhooks: SendGrid's custom_args, the Message-ID of e-mail).
 */
Datum
cadence_idempotency_key_sql(PG_FUNCTION_ARGS)
{
	PG_RETURN_TEXT_P(cstring_to_text(cadence_idempotency_key(PG_GETARG_INT64(0))));
}
