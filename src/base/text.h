/*
 * base/text.h
 *		Base64 both ways, and text from elsewhere made fit for a row
 *		(base/text.c).
 */
#ifndef CADENCE_BASE_TEXT_H
#define CADENCE_BASE_TEXT_H

/* Base64 without line breaks, and back (NULL when not base64). */
extern char *cadence_base64(const char *data, int len);
extern char *cadence_unbase64(const char *text, int *len);

/*
 * Text fit for a row members read: valid in the database encoding, control
 * characters turned into spaces, at most max_chars characters.
 */
extern char *cadence_clean_text(const char *s, int max_chars);

#endif							/* CADENCE_BASE_TEXT_H */
