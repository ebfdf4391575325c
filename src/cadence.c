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

typedef enum SettingType
{
	SETTING_BOOL,
	SETTING_INT,
	SETTING_STRING
} SettingType;

/* One setting: its name, type, variable, descriptions and bounds. */
typedef struct CadenceSetting
{
	const char *name;
	SettingType type;
	void	   *variable;
	const char *short_desc;
	const char *long_desc;
	bool		boot_bool;
	int			boot_int;
	int			min;
	int			max;
	const char *boot_string;
	GucContext	context;
	int			flags;
	bool		at_start_only;	/* defined only while preloading */
} CadenceSetting;

#define BOOL_SETTING(name, var, boot, ctx, fl, short_desc, long_desc) \
	{name, SETTING_BOOL, var, gettext_noop(short_desc), gettext_noop(long_desc), \
	 .boot_bool = boot, .context = ctx, .flags = fl}
#define INT_SETTING(name, var, boot, lo, hi, ctx, fl, short_desc, long_desc) \
	{name, SETTING_INT, var, gettext_noop(short_desc), gettext_noop(long_desc), \
	 .boot_int = boot, .min = lo, .max = hi, .context = ctx, .flags = fl}
#define STRING_SETTING(name, var, boot, ctx, fl, short_desc, long_desc) \
	{name, SETTING_STRING, var, gettext_noop(short_desc), gettext_noop(long_desc), \
	 .boot_string = boot, .context = ctx, .flags = fl}
/* A string fixed at server start, defined only while preloading. */
#define START_SETTING(name, var, boot, ctx, fl, short_desc, long_desc) \
	{name, SETTING_STRING, var, gettext_noop(short_desc), gettext_noop(long_desc), \
	 .boot_string = boot, .context = ctx, .flags = fl, .at_start_only = true}

static const CadenceSetting settings[] = {
	/*
	 * Who the session is, for applications without PostgREST, and whether
	 * it publishes events.
	 */
	STRING_SETTING("cadence.tenant_id", &cadence_tenant_id, "", PGC_USERSET, 0,
				"Tenant of the current session, used when no PostgREST JWT claim names one.",
				"Applications without PostgREST run SET cadence.tenant_id = '...' after connecting."),
	STRING_SETTING("cadence.user_id", &cadence_user_id, "", PGC_USERSET, 0,
				"User of the current session, used when no PostgREST JWT claim names one.",
				"Matched against cadence.members.user_id to decide what the session may change."),
	BOOL_SETTING("cadence.notify", &cadence_notify, true, PGC_USERSET, 0,
				"Publish run and step events with pg_notify (sequence.enrollment.created, ...).",
				"Turn off in a session that loads many runs nobody listens to."),

	/*
	 * The background dispatchers: whether they send, how many, how much
	 * each claims at a time.
	 */
	BOOL_SETTING("cadence.enabled", &cadence_enabled, true, PGC_SIGHUP, 0,
				"Whether the background worker sends due actions.",
				"Turn it off to let pg_cron drive cadence.run_due_actions() instead."),
	INT_SETTING("cadence.workers", &cadence_workers, 1, 1, CADENCE_MAX_DISPATCHERS, PGC_SIGHUP, 0,
				"Background dispatchers sending for cadence.database_name at once.",
				"Each takes its own batches; more than one pays on machines with cores to spare."),
	INT_SETTING("cadence.batch_size", &cadence_batch_size, 1000, 1, 100000, PGC_SIGHUP, 0,
				"Due actions the background worker claims at a time.",
				NULL),

	/*
	 * How a runner sends, the worker's and cadence.run_due_actions() alike;
	 * a runner in a session may tune it for itself (PGC_SUSET).
	 */
	INT_SETTING("cadence.max_inflight", &cadence_max_inflight, 64, 1, 4096, PGC_SUSET, 0,
				"Provider requests in flight at once, per runner.",
				NULL),
	INT_SETTING("cadence.http_timeout_ms", &cadence_http_timeout_ms, 10000, 100, 600000, PGC_SUSET, GUC_UNIT_MS,
				"Time a provider has to answer one request.",
				"A request without an answer in time is retried later with the same idempotency key."),

	/* When a runner tries again. */
	INT_SETTING("cadence.max_attempts", &cadence_max_attempts, 5, 1, 100, PGC_SUSET, 0,
				"Attempts at sending one action before it fails for good.",
				NULL),
	INT_SETTING("cadence.retry_base_seconds", &cadence_retry_base_seconds, 30, 1, 86400, PGC_SUSET, GUC_UNIT_S,
				"Wait before the first retry; each later retry waits twice as long, with jitter.",
				"A provider's Retry-After is honoured when longer."),

	/* Where provider requests may go. */
	STRING_SETTING("cadence.allowed_hosts", &cadence_allowed_hosts, "", PGC_SUSET, 0,
				"Hosts provider requests may go to: a comma-separated list of names or *.domain; empty allows any.",
				NULL),
	BOOL_SETTING("cadence.allow_private_networks", &cadence_allow_private_networks, false, PGC_SUSET, 0,
				"Whether provider requests may go to loopback, private, link-local and other non-public addresses.",
				"Off, a request whose host resolves to such an address is refused before any connection is made. Turn it on for providers inside your own network, or a mock on this machine."),

	/*
	 * The caps on one webhook delivery: what its sender controls.  Only a
	 * superuser may change them, so that no caller raises them for itself.
	 */
	INT_SETTING("cadence.webhook_max_bytes", &cadence_webhook_max_bytes, 1024 * 1024, 1024, 1024 * 1024 * 1024, PGC_SUSET, GUC_UNIT_BYTE,
				"Largest webhook delivery (body, headers and URL) cadence.ingest_webhook() takes.",
				"A larger one is refused whole (SQLSTATE 54000) before anything in it is read."),
	INT_SETTING("cadence.webhook_max_events", &cadence_webhook_max_events, 5000, 1, 1000000, PGC_SUSET, 0,
				"Most events one webhook delivery may carry (a SendGrid batch, a WhatsApp entry list).",
				"A delivery with more is refused whole (SQLSTATE 54000) before any event is applied."),

	/*
	 * Where the background worker connects: fixed at server start, so
	 * defined only while preloading.
	 */
	START_SETTING("cadence.database_name", &cadence_database_name, "postgres", PGC_POSTMASTER, 0,
				"Database whose due actions the background worker sends.",
				NULL),
	START_SETTING("cadence.role", &cadence_role, "", PGC_POSTMASTER, 0,
				"Role the background worker connects as; empty means the bootstrap superuser.",
				"It must bypass row-level security (a superuser or a role with BYPASSRLS): it sends for every tenant."),
};

/*
 * define_settings
 *		Define every setting of the table above; those fixed at server
 *		start only while preloading.
 */
static void
define_settings(void)
{
	int			i;

	for (i = 0; i < lengthof(settings); i++)
	{
		const CadenceSetting *s = &settings[i];

		if (s->at_start_only && !process_shared_preload_libraries_in_progress)
			continue;
		switch (s->type)
		{
			case SETTING_BOOL:
				DefineCustomBoolVariable(s->name, s->short_desc, s->long_desc,
										 (bool *) s->variable, s->boot_bool,
										 s->context, s->flags, NULL, NULL, NULL);
				break;
			case SETTING_INT:
				DefineCustomIntVariable(s->name, s->short_desc, s->long_desc,
										(int *) s->variable, s->boot_int, s->min,
										s->max, s->context, s->flags, NULL, NULL, NULL);
				break;
			case SETTING_STRING:
				DefineCustomStringVariable(s->name, s->short_desc, s->long_desc,
										   (char **) s->variable, s->boot_string,
										   s->context, s->flags, NULL, NULL, NULL);
				break;
		}
	}
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
	define_settings();
	MarkGUCPrefixReserved("cadence");
	cadence_identity_init();

	if (!process_shared_preload_libraries_in_progress)
		return;
	cadence_shmem_init();
	cadence_listeners_init();
	cadence_register_launcher();
}
