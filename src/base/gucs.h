/*
 * base/gucs.h
 *		Settings shared across cadence's C files (defined in cadence.c).
 */
#ifndef CADENCE_BASE_GUCS_H
#define CADENCE_BASE_GUCS_H

/* Identity of the caller for applications without PostgREST. */
extern char *cadence_tenant_id;
extern char *cadence_user_id;

/* Whether events are published with pg_notify (base/publish.c). */
extern bool cadence_notify;

/* The dispatcher (background worker) and the runner. */
extern char *cadence_database_name;
extern char *cadence_role;
extern bool cadence_enabled;
extern int	cadence_workers;
extern int	cadence_batch_size;
extern int	cadence_max_inflight;
extern int	cadence_http_timeout_ms;
extern int	cadence_max_attempts;
extern int	cadence_retry_base_seconds;
extern char *cadence_allowed_hosts;
extern bool cadence_allow_private_networks;

/* The caps on one webhook delivery. */
extern int	cadence_webhook_max_bytes;
extern int	cadence_webhook_max_events;

#endif							/* CADENCE_BASE_GUCS_H */
