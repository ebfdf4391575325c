/*
 * base/text.c
 *		Base64 both ways, and text from elsewhere made fit for a row (see
 *		base/text.h).
 */
#include "postgres.h"

#include "common/base64.h"
#include "mb/pg_wchar.h"

#include "base/text.h"

/*
 * cadence_base64
 *		Base64 of len bytes, without line breaks.
 */
char *
cadence_base64(const char *data, int len)
{
	int			cap = pg_b64_enc_len(len) + 1;
	char	   *out = palloc(cap);
	int			n = pg_b64_encode(data, len, out, cap);

	if (n < 0)
		elog(ERROR, "could not encode base64");
	out[n] = '\0';
	return out;
}

/*
 * cadence_unbase64
 *		Decode base64; NULL when it is not base64.
 */
char *
cadence_unbase64(const char *text, int *len)
{
	int			tl = strlen(text);
	int			cap = pg_b64_dec_len(tl) + 1;
	char	   *out = palloc(cap);

	*len = pg_b64_decode(text, tl, out, cap);
	return *len < 0 ? NULL : out;
}

/*
 * cadence_clean_text
 *		Text fit to keep where members read it (an action's last error, an
 *		event): what is valid in the database encoding, control characters
 *		turned into spaces, at most max_chars characters ("..." ends a text
 *		that was cut).
 */
char *
cadence_clean_text(const char *s, int max_chars)
{
	int			len = pg_encoding_verifymbstr(GetDatabaseEncoding(), s, strlen(s));
	char	   *out = pnstrdup(s, len);
	unsigned char *p;

	for (p = (unsigned char *) out; *p; p++)
		if (*p < 0x20 || *p == 0x7f)
			*p = ' ';
	if (pg_mbstrlen_with_len(out, len) > max_chars)
		out = psprintf("%.*s...", pg_mbcharcliplen(out, len, Max(max_chars - 3, 0)), out);
	return out;
}
