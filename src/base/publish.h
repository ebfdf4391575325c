/*
 * base/publish.h
 *		Events published with pg_notify as the engine writes them
 *		(publish.c).
 */
#ifndef CADENCE_BASE_PUBLISH_H
#define CADENCE_BASE_PUBLISH_H

#include "postgres.h"

#include "executor/spi.h"

/* An event's columns, in the order publish.c reads them. */
#define CADENCE_EVENT_COLUMNS \
"type, id, tenant_id, run_id, scheduled_action_id, cadence_id, lead_id, created_at, payload"

/*
 * The RETURNING list of an INSERT INTO cadence.events that publishes the
 * events it writes, on the node that writes them: for the runners, which
 * write on their own node.
 */
#define CADENCE_PUBLISH_RETURNING \
" RETURNING cadence.publish_event(" CADENCE_EVENT_COLUMNS ")"

/*
 * Publish the events of the first nrows rows of an SPI result, whose
 * columns first, first + 1, ... (1-based) are CADENCE_EVENT_COLUMNS: for
 * statements of the API, which on a Citus cluster write on a worker on
 * behalf of a session on the coordinator.
 */
extern void cadence_publish_returned(SPITupleTable *tuptable, uint64 nrows, int first);

#endif							/* CADENCE_BASE_PUBLISH_H */
