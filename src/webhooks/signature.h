/*
 * webhooks/signature.h
 *		HMACs for signing and checking webhooks (webhooks/signature.c).
 */
#ifndef CADENCE_WEBHOOKS_SIGNATURE_H
#define CADENCE_WEBHOOKS_SIGNATURE_H

#include "common/sha2.h"

/*
 * HMAC-SHA1 (sha1) or HMAC-SHA256 of data under key into mac, which has
 * room for PG_SHA256_DIGEST_LENGTH bytes; returns the MAC's length.
 */
extern int	cadence_hmac_compute(bool sha1, const char *key, int keylen,
								 const char *data, int len, uint8 *mac);

#endif							/* CADENCE_WEBHOOKS_SIGNATURE_H */
