/*
 * webhooks/signature.c
 *		Message authentication for webhooks, both ways: the HMACs that sign
 *		what cadence sends (Standard Webhooks) and check what providers send
 *		(Twilio's HMAC-SHA1, Standard Webhooks / Svix, Calendly and Meta's
 *		HMAC-SHA256), and the ECDSA P-256 signature of SendGrid's event
 *		webhook; and the one comparison of a secret or a MAC with what a
 *		caller presented, in constant time.  HMACs and SHA-256 come from
 *		PostgreSQL's own common/ headers; ECDSA and the constant-time
 *		compare from OpenSSL's libcrypto, which PostgreSQL and libcurl are
 *		built on.
 */
#include "postgres.h"

#include "common/cryptohash.h"
#include "common/hmac.h"
#include "common/sha1.h"
#include "common/sha2.h"
#include "fmgr.h"
#include "lib/stringinfo.h"
#include "utils/builtins.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

#include "base/compat.h"
#include "base/text.h"
#include "webhooks/signature.h"

PG_FUNCTION_INFO_V1(cadence_hmac);
PG_FUNCTION_INFO_V1(cadence_verify_ecdsa);
PG_FUNCTION_INFO_V1(cadence_secure_equal);

/*
 * cadence_hmac_compute
 *		HMAC of data under key with SHA-1 or SHA-256 into mac (room for
 *		PG_SHA256_DIGEST_LENGTH bytes); returns the MAC's length.
 */
int
cadence_hmac_compute(bool sha1, const char *key, int keylen, const char *data, int len,
					 uint8 *mac)
{
	pg_hmac_ctx *ctx = pg_hmac_create(sha1 ? PG_SHA1 : PG_SHA256);
	int			maclen = sha1 ? SHA1_DIGEST_LENGTH : PG_SHA256_DIGEST_LENGTH;

	if (ctx == NULL ||
		pg_hmac_init(ctx, (const uint8 *) key, keylen) < 0 ||
		pg_hmac_update(ctx, (const uint8 *) data, len) < 0 ||
		pg_hmac_final(ctx, mac, maclen) < 0)
		elog(ERROR, "could not compute an HMAC: %s", ctx ? pg_hmac_error(ctx) : "out of memory");
	pg_hmac_free(ctx);
	return maclen;
}

/*
 * cadence.hmac(message bytea, key bytea, algorithm text) RETURNS bytea
 *		algorithm sha1 or sha256.
 */
Datum
cadence_hmac(PG_FUNCTION_ARGS)
{
	bytea	   *message = PG_GETARG_BYTEA_PP(0);
	bytea	   *key = PG_GETARG_BYTEA_PP(1);
	char	   *algorithm = text_to_cstring(PG_GETARG_TEXT_PP(2));
	uint8		mac[PG_SHA256_DIGEST_LENGTH];
	int			maclen;
	bytea	   *result;

	if (strcmp(algorithm, "sha1") != 0 && strcmp(algorithm, "sha256") != 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("unknown HMAC algorithm \"%s\"", algorithm),
				 errhint("Use sha1 or sha256.")));
	maclen = cadence_hmac_compute(strcmp(algorithm, "sha1") == 0,
								  VARDATA_ANY(key), VARSIZE_ANY_EXHDR(key),
								  VARDATA_ANY(message), VARSIZE_ANY_EXHDR(message), mac);
	result = palloc(VARHDRSZ + maclen);
	SET_VARSIZE(result, VARHDRSZ + maclen);
	memcpy(VARDATA(result), mac, maclen);
	PG_RETURN_BYTEA_P(result);
}

/*
 * cadence.verify_ecdsa(message bytea, signature bytea, public_key text)
 *		RETURNS boolean
 *		Whether signature (DER, as SendGrid sends it base64-encoded) is an
 *		ECDSA signature of SHA-256(message) under public_key (a base64 DER
 *		SubjectPublicKeyInfo, what SendGrid shows as the verification key, or
 *		the same in PEM).  A key that cannot be read is an error; a signature
 *		that does not verify is false.
 */
Datum
cadence_verify_ecdsa(PG_FUNCTION_ARGS)
{
	bytea	   *message = PG_GETARG_BYTEA_PP(0);
	bytea	   *sig = PG_GETARG_BYTEA_PP(1);
	char	   *key_text = text_to_cstring(PG_GETARG_TEXT_PP(2));
	StringInfoData b64;
	char	   *der;
	int			derlen;
	const unsigned char *p;
	EVP_PKEY   *pkey;
	EVP_MD_CTX *ctx;
	int			ok;
	char	   *c;

	/* PEM or bare base64: keep the base64 characters between the markers. */
	initStringInfo(&b64);
	for (c = key_text; *c; c++)
	{
		if (*c == '-')
		{
			while (*c && *c != '\n')
				c++;
			if (!*c)
				break;
			continue;
		}
		if (!isspace((unsigned char) *c))
			appendStringInfoChar(&b64, *c);
	}
	der = cadence_unbase64(b64.data, &derlen);
	p = (const unsigned char *) der;
	pkey = der ? d2i_PUBKEY(NULL, &p, derlen) : NULL;
	if (pkey == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("the public key is not a base64 DER or PEM public key")));

	ctx = EVP_MD_CTX_new();
	ok = ctx != NULL &&
		EVP_DigestVerifyInit(ctx, NULL, EVP_sha256(), NULL, pkey) == 1 &&
		EVP_DigestVerify(ctx, (const unsigned char *) VARDATA_ANY(sig), VARSIZE_ANY_EXHDR(sig),
						 (const unsigned char *) VARDATA_ANY(message),
						 VARSIZE_ANY_EXHDR(message)) == 1;
	EVP_MD_CTX_free(ctx);
	EVP_PKEY_free(pkey);
	PG_RETURN_BOOL(ok);
}

/*
 * sha256_of
 *		SHA-256 of a text's bytes into digest.
 */
static void
sha256_of(text *t, uint8 *digest)
{
	pg_cryptohash_ctx *ctx = pg_cryptohash_create(PG_SHA256);

	if (ctx == NULL ||
		pg_cryptohash_init(ctx) < 0 ||
		pg_cryptohash_update(ctx, (const uint8 *) VARDATA_ANY(t), VARSIZE_ANY_EXHDR(t)) < 0 ||
		pg_cryptohash_final(ctx, digest, PG_SHA256_DIGEST_LENGTH) < 0)
		elog(ERROR, "could not compute a SHA-256 digest: %s",
			 ctx ? pg_cryptohash_error(ctx) : "out of memory");
	pg_cryptohash_free(ctx);
}

/*
 * cadence.secure_equal(presented text, expected text) RETURNS boolean
 *		Whether a signature, MAC or token a caller presented is the one
 *		expected, in time that tells nothing about either: both are hashed
 *		(so neither length nor the first differing byte shows) and the
 *		digests compared with OpenSSL's constant-time CRYPTO_memcmp.  Every
 *		check of a webhook secret goes through here, never through = in SQL.
 */
Datum
cadence_secure_equal(PG_FUNCTION_ARGS)
{
	uint8		presented[PG_SHA256_DIGEST_LENGTH];
	uint8		expected[PG_SHA256_DIGEST_LENGTH];

	sha256_of(PG_GETARG_TEXT_PP(0), presented);
	sha256_of(PG_GETARG_TEXT_PP(1), expected);
	PG_RETURN_BOOL(CRYPTO_memcmp(presented, expected, PG_SHA256_DIGEST_LENGTH) == 0);
}
