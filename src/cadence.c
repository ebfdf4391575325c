/*
 * cadence.c
 *		Library entry point: module magic, the settings every part of cadence
 *		reads, and (when preloaded) the shared state, the watch on LISTEN
 *		and the background dispatcher.  The scheduling math, the planner, the runner and the
 *		worker live in their own files.
 */
#include "postgres.h"

#include "fmgr.h"
#include "miscadmin.h"
#include "utils/guc.h"

#include "base/compat.h"
#include "base/gucs.h"
#include "base/identity.h"
#include "base/listeners.h"
#include "base/shmem.h"
#include "worker/bgworker.h"

PG_MODULE_MAGIC;

char	   *cadence_tenant_id = NULL;
char	   *cadence_user_id = NULL;
char	   *cadence_acting_tenant = NULL;
bool		cadence_notify = true;
char	   *cadence_database_name = NULL;
char	   *cadence_role = NULL;
bool		cadence_enabled = true;
int			cadence_workers = 1;
int			cadence_batch_size = 1000;
int			cadence_max_inflight = 64;
int			cadence_http_timeout_ms = 10000;
int			cadence_max_attempts = 5;
int			cadence_retry_base_seconds = 30;
char	   *cadence_allowed_hosts = NULL;
bool		cadence_allow_private_networks = false;
int			cadence_webhook_max_bytes = 1024 * 1024;
int			cadence_webhook_max_events = 5000;

void		_PG_init(void);

/*
 * define_session_settings
 *		Who the session is, for applications without PostgREST, the tenant
 *		cadence's own code acts for, and whether the session publishes
 *		events.
 */
static void
define_session_settings(void)
{
	DefineCustomStringVariable("cadence.tenant_id",
							   gettext_noop("Tenant of the current session, used when no PostgREST JWT claim names one."),
							   gettext_noop("Applications without PostgREST run SET cadence.tenant_id = '...' after connecting."),
							   &cadence_tenant_id, "", PGC_USERSET, 0,
							   NULL, NULL, NULL);
	DefineCustomStringVariable("cadence.user_id",
							   gettext_noop("User of the current session, used when no PostgREST JWT claim names one."),
							   gettext_noop("Matched against cadence.members.user_id to decide what the session may change."),
							   &cadence_user_id, "", PGC_USERSET, 0,
							   NULL, NULL, NULL);
	DefineCustomStringVariable("cadence.acting_tenant",
							   gettext_noop("Tenant cadence's own code acts for (a routed webhook); empty for none."),
							   gettext_noop("Set by ingest_webhook for the events it applies, never by sessions: only a superuser may set it."),
							   &cadence_acting_tenant, "", PGC_SUSET,
							   GUC_NO_SHOW_ALL | GUC_NOT_IN_SAMPLE,
							   NULL, NULL, NULL);
	DefineCustomBoolVariable("cadence.notify",
							 gettext_noop("Publish run and step events with pg_notify (sequence.enrollment.created, ...)."),
							 gettext_noop("Turn off in a session that loads many runs nobody listens to."),
							 &cadence_notify, true, PGC_USERSET, 0,
							 NULL, NULL, NULL);
}

/*
 * define_dispatch_settings
 *		How due actions are sent, by the background worker and by
 *		cadence.run_due_actions() alike.  What a runner in a session may
 *		tune for itself is PGC_SUSET; the worker's own shape is PGC_SIGHUP.
 */
static void
define_dispatch_settings(void)
{
	DefineCustomBoolVariable("cadence.enabled",
							 gettext_noop("Whether the background worker sends due actions."),
							 gettext_noop("Turn it off to let pg_cron drive cadence.run_due_actions() instead."),
							 &cadence_enabled, true, PGC_SIGHUP, 0,
							 NULL, NULL, NULL);
	DefineCustomIntVariable("cadence.workers",
							gettext_noop("Background dispatchers sending for cadence.database_name at once."),
							gettext_noop("Each takes its own batches; more than one pays on machines with cores to spare."),
							&cadence_workers, 1, 1, CADENCE_MAX_DISPATCHERS, PGC_SIGHUP, 0,
							NULL, NULL, NULL);
	DefineCustomIntVariable("cadence.batch_size",
							gettext_noop("Due actions the background worker claims at a time."),
							NULL,
							&cadence_batch_size, 1000, 1, 100000, PGC_SIGHUP, 0,
							NULL, NULL, NULL);
	DefineCustomIntVariable("cadence.max_inflight",
							gettext_noop("Provider requests in flight at once, per runner."),
							NULL,
							&cadence_max_inflight, 64, 1, 4096, PGC_SUSET, 0,
							NULL, NULL, NULL);
	DefineCustomIntVariable("cadence.http_timeout_ms",
							gettext_noop("Time a provider has to answer one request."),
							gettext_noop("A request without an answer in time is retried later with the same idempotency key."),
							&cadence_http_timeout_ms, 10000, 100, 600000, PGC_SUSET,
							GUC_UNIT_MS, NULL, NULL, NULL);
	DefineCustomIntVariable("cadence.max_attempts",
							gettext_noop("Attempts at sending one action before it fails for good."),
							NULL,
							&cadence_max_attempts, 5, 1, 100, PGC_SUSET, 0,
							NULL, NULL, NULL);
	DefineCustomIntVariable("cadence.retry_base_seconds",
							gettext_noop("Wait before the first retry; each later retry waits twice as long, with jitter."),
							gettext_noop("A provider's Retry-After is honoured when longer."),
							&cadence_retry_base_seconds, 30, 1, 86400, PGC_SUSET,
							GUC_UNIT_S, NULL, NULL, NULL);
	DefineCustomStringVariable("cadence.allowed_hosts",
							   gettext_noop("Hosts provider requests may go to: a comma-separated list of names or *.domain; empty allows any."),
							   NULL,
							   &cadence_allowed_hosts, "", PGC_SUSET, 0,
							   NULL, NULL, NULL);
	DefineCustomBoolVariable("cadence.allow_private_networks",
							 gettext_noop("Whether provider requests may go to loopback, private, link-local and other non-public addresses."),
							 gettext_noop("Off, a request whose host resolves to such an address is refused before any connection is made. Turn it on for providers inside your own network, or a mock on this machine."),
							 &cadence_allow_private_networks, false, PGC_SUSET, 0,
							 NULL, NULL, NULL);
}

/*
 * define_webhook_settings
 *		The caps on one webhook delivery: what its sender controls.  Only a
 *		superuser may change them, so that no caller raises them for itself.
 */
static void
define_webhook_settings(void)
{
	DefineCustomIntVariable("cadence.webhook_max_bytes",
							gettext_noop("Largest webhook delivery (body, headers and URL) cadence.ingest_webhook() takes."),
							gettext_noop("A larger one is refused whole (SQLSTATE 54000) before anything in it is read."),
							&cadence_webhook_max_bytes, 1024 * 1024, 1024, 1024 * 1024 * 1024, PGC_SUSET,
							GUC_UNIT_BYTE, NULL, NULL, NULL);
	DefineCustomIntVariable("cadence.webhook_max_events",
							gettext_noop("Most events one webhook delivery may carry (a SendGrid batch, a WhatsApp entry list)."),
							gettext_noop("A delivery with more is refused whole (SQLSTATE 54000) before any event is applied."),
							&cadence_webhook_max_events, 5000, 1, 1000000, PGC_SUSET, 0,
							NULL, NULL, NULL);
}

/*
 * define_worker_settings
 *		Where the background worker connects; fixed at server start, so
 *		defined only while preloading.
 */
static void
define_worker_settings(void)
{
	DefineCustomStringVariable("cadence.database_name",
							   gettext_noop("Database whose due actions the background worker sends."),
							   NULL,
							   &cadence_database_name, "postgres", PGC_POSTMASTER, 0,
							   NULL, NULL, NULL);
	DefineCustomStringVariable("cadence.role",
							   gettext_noop("Role the background worker connects as; empty means the bootstrap superuser."),
							   gettext_noop("It must bypass row-level security (a superuser or a role with BYPASSRLS): it sends for every tenant."),
							   &cadence_role, "", PGC_POSTMASTER, 0,
							   NULL, NULL, NULL);
}

/*
 * _PG_init
 *		Define cadence's settings, and have what is known of the caller
 *		forgotten when a transaction ends (base/identity.c).  Runs when the
 *		library is loaded, either at server start (shared_preload_libraries)
 *		or at the first call of one of its functions; the shared state and
 *		the background worker exist only in the first case.
 */
void
_PG_init(void)
{
	define_session_settings();
	define_dispatch_settings();
	define_webhook_settings();
	if (process_shared_preload_libraries_in_progress)
		define_worker_settings();
	MarkGUCPrefixReserved("cadence");
	cadence_identity_init();

	if (!process_shared_preload_libraries_in_progress)
		return;
	cadence_shmem_init();
	cadence_listeners_init();
	cadence_register_launcher();
}
