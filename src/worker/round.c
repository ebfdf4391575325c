/*
 * worker/round.c
 *		One round of a runner (see worker/round.h): claim and commit, send with
 *		no transaction open, record and commit.  While a batch is sending, what
 *		has come back is recorded every second, so that a runner that dies
 *		leaves no more than that second's answers unrecorded (each of them
 *		a message its provider may then see twice).
 *
 * What a round claimed stays claimed, under the runner's token, until it
 * is recorded.  If recording fails (three times, a transaction each) or
 * anything else goes wrong after the claim committed, the runner gives its
 * token up (dispatch/liveness.h): the actions it holds are then a dead runner's,
 * taken over by the next claim as a new attempt, bounded by
 * cadence.max_attempts, with an action.unrecorded event for the attempt
 * whose outcome was lost.  A runner never keeps a claim it cannot finish.
 *
 * On a worker node of a Citus cluster a round is one such round in each
 * shard group the node holds, on the shards themselves (base/spi.c): a
 * claim, its runner's liveness lock and the actions it holds are on one
 * node, and a runner takes over only the claims of its own node's dead
 * runners (dispatch/liveness.c).  A node that holds no shard (the
 * coordinator) has nothing to send from.
 */
#include "postgres.h"

#include "access/xact.h"
#include "executor/spi.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "utils/snapmgr.h"
#include "utils/timestamp.h"

#include "base/cluster.h"
#include "base/shmem.h"
#include "base/spi.h"
#include "dispatch/liveness.h"
#include "worker/round.h"

/* Transactions a round tries to record its outcomes in, and the pause after each. */
#define RECORD_TRIES		3
#define RECORD_PAUSE_MS		200

/* How often a batch that is sending records what has come back. */
#define RECORD_EVERY_MS		1000

/*
 * How often the runners of a worker node of a Citus cluster look for due
 * work: the transactions that plan it commit on the coordinator, and wake
 * no runner here.
 */
#define CLUSTER_POLL_MS		1000

/* A batch being sent, for record_progress. */
typedef struct Sending
{
	DispatchBatch *batch;
	DispatchCounts *seen;
	void		(*poll_cb) (void *);
	void	   *poll_arg;
	TimestampTz recorded_at;
} Sending;

/*
 * begin_work / end_work
 *		A short transaction with SPI and a snapshot, as a background worker
 *		needs.
 */
static void
begin_work(const char *activity)
{
	SetCurrentStatementStartTimestamp();
	StartTransactionCommand();
	SPI_connect();
	PushActiveSnapshot(GetTransactionSnapshot());
	pgstat_report_activity(STATE_RUNNING, activity);
}

static void
end_work(void)
{
	SPI_finish();
	PopActiveSnapshot();
	CommitTransactionCommand();
	pgstat_report_activity(STATE_IDLE, NULL);
	pgstat_report_stat(false);
}

/*
 * extension_installed
 *		Is cadence installed in this database, at this library's version?
 *		Between installing a new library and ALTER EXTENSION cadence UPDATE
 *		the tables are still the old version's: a runner waits for the
 *		update, which takes over what the old runners were sending.
 */
static bool
extension_installed(void)
{
	return SPI_execute("SELECT 1 FROM pg_catalog.pg_extension WHERE extname = 'cadence'"
					   " AND extversion = '" CADENCE_VERSION "'",
					   true, 1) == SPI_OK_SELECT && SPI_processed == 1;
}

/*
 * publish_counts
 *		Add what the batch counted since *seen, now committed, to the
 *		server's counters.
 */
static void
publish_counts(const DispatchBatch *batch, DispatchCounts *seen)
{
	const DispatchCounts *c = &batch->counts;

	if (cadence_shared != NULL)
	{
		pg_atomic_fetch_add_u64(&cadence_shared->claimed, c->claimed - seen->claimed);
		pg_atomic_fetch_add_u64(&cadence_shared->sent, c->sent - seen->sent);
		pg_atomic_fetch_add_u64(&cadence_shared->failed, c->failed - seen->failed);
		pg_atomic_fetch_add_u64(&cadence_shared->retried, c->retried - seen->retried);
		pg_atomic_fetch_add_u64(&cadence_shared->skipped, c->skipped - seen->skipped);
		pg_atomic_fetch_add_u64(&cadence_shared->moved, c->moved - seen->moved);
		pg_atomic_fetch_add_u64(&cadence_shared->executed, c->executed - seen->executed);
	}
	*seen = *c;
}

/*
 * add_counts
 *		Add a batch's tallies to a round's.
 */
static void
add_counts(DispatchCounts *to, const DispatchCounts *c)
{
	to->claimed += c->claimed;
	to->sent += c->sent;
	to->skipped += c->skipped;
	to->failed += c->failed;
	to->retried += c->retried;
	to->moved += c->moved;
	to->manual += c->manual;
	to->executed += c->executed;
	to->resumed += c->resumed;
}

/*
 * record
 *		Write the outcomes of the sends in a transaction; try again in a new
 *		one if it fails (a deadlock with a session that locks runs in
 *		another order, say), RECORD_TRIES times in all.
 */
static void
record(DispatchBatch *batch)
{
	DispatchMarks marks = {0};
	volatile int attempt;

	for (attempt = 1;; attempt++)
	{
		MemoryContext mcxt = CurrentMemoryContext;
		volatile bool done = false;

		cadence_dispatch_save_marks(batch, &marks);
		PG_TRY();
		{
			begin_work("cadence: recording outcomes");
			cadence_dispatch_record(batch);
			end_work();
			done = true;
		}
		PG_CATCH();
		{
			if (attempt >= RECORD_TRIES)
				PG_RE_THROW();
			MemoryContextSwitchTo(mcxt);
			EmitErrorReport();
			FlushErrorState();
			AbortCurrentTransaction();
		}
		PG_END_TRY();
		if (done)
			return;
		cadence_dispatch_restore_marks(batch, &marks);
		pg_usleep(RECORD_PAUSE_MS * 1000L * attempt);
	}
}

/*
 * record_progress
 *		While sending: the caller's poll, and every RECORD_EVERY_MS a record
 *		of the answers that have come back.
 */
static void
record_progress(void *arg)
{
	Sending    *s = arg;
	MemoryContext mcxt = CurrentMemoryContext;

	if (s->poll_cb)
		s->poll_cb(s->poll_arg);
	if (!TimestampDifferenceExceeds(s->recorded_at, GetCurrentTimestamp(), RECORD_EVERY_MS))
		return;
	s->recorded_at = GetCurrentTimestamp();
	if (cadence_dispatch_classify_finished(s->batch) == 0)
		return;
	record(s->batch);
	publish_counts(s->batch, s->seen);
	pgstat_report_activity(STATE_RUNNING, "cadence: sending");
	MemoryContextSwitchTo(mcxt);
}

/*
 * round_on
 *		Claim, send, record, on the tables or on one shard group of this node
 *		(base/spi.h); the batch's counts are added to *counts.  The claim's
 *		transaction is begun already when begun says so.
 */
static void
round_on(const CadenceShardGroup *group, bool begun, MemoryContext mcxt, TimestampTz now,
		 bool realtime, int limit, const char *tenant_id, void (*poll_cb) (void *),
		 void *poll_arg, DispatchCounts *counts, TimestampTz *next_due)
{
	DispatchBatch *volatile batch = NULL;
	DispatchCounts seen = {0};

	cadence_spi_use_shards(group);
	PG_TRY();
	{
		if (!begun)
			begin_work("cadence: claiming due actions");
		batch = cadence_dispatch_claim(mcxt, now, realtime, limit, tenant_id);
		if (batch->nitems == 0 && next_due != NULL)
			*next_due = cadence_dispatch_next_due();
		end_work();
		publish_counts(batch, &seen);

		if (cadence_dispatch_has_sends(batch))
		{
			Sending		s = {batch, &seen, poll_cb, poll_arg, GetCurrentTimestamp()};

			pgstat_report_activity(STATE_RUNNING, "cadence: sending");
			cadence_dispatch_send(batch, record_progress, &s);
			record(batch);
			publish_counts(batch, &seen);
		}
	}
	PG_CATCH();
	{
		cadence_spi_use_shards(NULL);
		/* What it claimed and could not record is for another runner. */
		if (batch != NULL)
			cadence_runner_renounce();
		PG_RE_THROW();
	}
	PG_END_TRY();
	cadence_spi_use_shards(NULL);
	if (batch->orphans)
		cadence_runner_renounce();
	add_counts(counts, &batch->counts);
}

/*
 * cadence_round
 *		Claim, send, record: on a single server once, on a worker node of a
 *		Citus cluster once in each of its shard groups, up to limit actions
 *		in all, starting each time from the group after the one the last
 *		round started from.
 */
CadenceRoundResult
cadence_round(MemoryContext mcxt, TimestampTz now, bool realtime, int limit,
			  const char *tenant_id, void (*poll_cb) (void *), void *poll_arg,
			  DispatchCounts *counts, TimestampTz *next_due)
{
	static int	first_group = 0;
	List	   *groups = NIL;
	bool		distributed;
	int			n;
	int			k;

	memset(counts, 0, sizeof(DispatchCounts));
	if (next_due != NULL)
		*next_due = 0;
	begin_work("cadence: claiming due actions");
	if (!extension_installed())
	{
		end_work();
		return ROUND_NOT_INSTALLED;
	}
	distributed = cadence_distributed();
	if (!distributed)
	{
		/* The claim in the same transaction. */
		round_on(NULL, true, mcxt, now, realtime, limit, tenant_id, poll_cb, poll_arg,
				 counts, next_due);
		return ROUND_DONE;
	}
	groups = cadence_local_shard_groups(mcxt);
	end_work();
	n = list_length(groups);
	if (n == 0)
		return ROUND_NO_SHARDS;
	first_group = (first_group + 1) % n;
	for (k = 0; k < n && counts->claimed < limit; k++)
	{
		TimestampTz due = 0;

		round_on(list_nth(groups, (first_group + k) % n), false, mcxt, now, realtime,
				 limit - counts->claimed, tenant_id, poll_cb, poll_arg, counts, &due);
		if (next_due != NULL && due != 0 && (*next_due == 0 || due < *next_due))
			*next_due = due;
	}
	/* Work planned through the coordinator wakes no runner here. */
	if (next_due != NULL)
	{
		TimestampTz poll = TimestampTzPlusMilliseconds(GetCurrentTimestamp(), CLUSTER_POLL_MS);

		if (*next_due == 0 || *next_due > poll)
			*next_due = poll;
	}
	return ROUND_DONE;
}
