/*
 * fuzz-reply.c - libFuzzer target for the reply token reader
 * (common/reply.c), which a portal feeds with whatever a stranger puts in
 * a URL.
 *
 * The first byte chooses the way in.  Even: the rest is a token or URL as
 * a portal would pass it (almost never authentic, so this covers the
 * URL, base64 and length handling).  Odd: the rest is sealed as claims
 * text under the fuzzing key (reply_token_seal), so the JSON reader
 * behind the authentication is reached too.  Invariants, a violation aborts:
 *   - a refusal leaves the claims empty and says why;
 *   - accepted claims are valid UTF-8 without controls, exp >= iat >= 0;
 *   - accepted claims seal again into a token that opens to the same.
 */
#include "fuzz.h"
#include "reply.h"

#include <glib.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);


static int
clean(const char *s)
{
	for (const unsigned char *p = (const unsigned char *)s; *p; p++)
		if (*p < 0x20 || *p == 0x7f)
			return 0;
	return g_utf8_validate(s, -1, NULL);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	unsigned char key[REPLY_KEY_LEN];
	reply_claims claims, again;
	const char *why = NULL;
	char *text;
	ms_err err;

	if (size < 1 || size > 2 * REPLY_TOKEN_MAX)
		return 0;
	memset(key, 0x5a, sizeof(key));
	if (data[0] & 1)
		text = reply_token_seal(key, data + 1, size - 1);
	else
		text = g_strndup((const char *)data + 1, size - 1);
	err = reply_token_open(key, text, &claims, &why);
	if (err != MS_OK) {
		require(err == MS_DATA && why != NULL);
		require(claims.msgid == NULL && claims.internal_sender == NULL);
		g_free(text);
		return 0;
	}
	require(clean(claims.msgid) && clean(claims.internal_sender) &&
	    clean(claims.external_recipient) && clean(claims.subject_hash));
	require(claims.iat >= 0 && claims.exp >= claims.iat);
	g_free(text);
	text = reply_token_make(key, &claims);
	require(text != NULL);
	require(reply_token_open(key, text, &again, &why) == MS_OK);
	require(strcmp(again.msgid, claims.msgid) == 0 &&
	    strcmp(again.internal_sender, claims.internal_sender) == 0 &&
	    strcmp(again.external_recipient, claims.external_recipient) == 0 &&
	    strcmp(again.subject_hash, claims.subject_hash) == 0 &&
	    again.iat == claims.iat && again.exp == claims.exp);
	reply_claims_clear(&again);
	reply_claims_clear(&claims);
	g_free(text);
	return 0;
}
