/*
 * base/listeners.h
 *		The channels cadence publishes events on, and whether anyone listens
 *		to one (listeners.c), so that an event nobody can hear is not
 *		published.
 */
#ifndef CADENCE_BASE_LISTENERS_H
#define CADENCE_BASE_LISTENERS_H

#include "postgres.h"

/* The channels events are published on (schema/code/88_triggers.sql). */
typedef enum EventChannel
{
	CHANNEL_ENROLLMENT_CREATED,
	CHANNEL_ENROLLMENT_COMPLETED,
	CHANNEL_ENROLLMENT_REPLIED,
	CHANNEL_ENROLLMENT_EXITED,
	CHANNEL_STEP_EXECUTED,
	CHANNEL_STEP_PENDING_MANUAL,
	EVENT_NCHANNELS
} EventChannel;

/* A channel's name, as LISTEN spells it. */
extern const char *cadence_channel_name(EventChannel channel);

/*
 * Whether an event published on that channel now may reach a listener: false
 * only when cadence is preloaded and no session listens on it.  Once it has
 * said false, a LISTEN on any of the channels waits for this transaction.
 */
extern bool cadence_channel_heard(EventChannel channel);

/* Watch LISTEN and UNLISTEN in every backend (_PG_init, when preloading). */
extern void cadence_listeners_init(void);

#endif							/* CADENCE_BASE_LISTENERS_H */
