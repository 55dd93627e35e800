/*
 * pdfwrap-reply - open and check the reply token of a PDF that pdfwrap(1)
 * made (pdf.md section 6), for a reply portal's back end: the token, or
 * the whole reply URL, is read on standard input (never argv: it is a
 * credential), opened with pdf/reply.key (then pdf/reply.key.old), and
 * its claims are printed when it is genuine and not expired.  Single use
 * and login lockout are the portal's part.
 */
#include "diag.h"
#include "reply.h"
#include "ritual.h"
#include "settings.h"
#include "store.h"
#include "mslimits.h"

#include <errno.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* clocks of the gateway and the portal may differ this much */
#define CLOCK_SKEW 300

static const char usage[] =
"usage: pdfwrap-reply [--store DIR] [--json] < TOKEN\n"
"       pdfwrap-reply -h | --version\n";

static int opt_json;

static struct poptOption options[] = {
	{ "json", '\0', POPT_ARG_NONE, &opt_json, 0, NULL, NULL },
	POPT_TABLEEND
};

/* read_input - the first line of standard input, at most REPLY_INPUT_MAX */
static ms_err
read_input(char **out)
{
	GString *text = g_string_new(NULL);
	char chunk[1024];

	*out = NULL;
	for (;;) {
		ssize_t n = read(STDIN_FILENO, chunk, sizeof(chunk));

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			diag_error("cannot read standard input: %s",
			    strerror(errno));
			g_string_free(text, TRUE);
			return MS_TEMP;
		}
		if (n == 0)
			break;
		if (text->len + (size_t)n > REPLY_INPUT_MAX) {
			diag_error("the input is longer than %d octets",
			    REPLY_INPUT_MAX);
			g_string_free(text, TRUE);
			return MS_DATA;
		}
		g_string_append_len(text, chunk, n);
	}
	g_string_truncate(text, strcspn(text->str, "\r\n"));
	*out = g_strstrip(g_string_free(text, FALSE));
	return MS_OK;
}

/* iso_time - seconds since the epoch as an ISO 8601 UTC time */
static void
iso_time(long long when, char out[32])
{
	time_t t = (time_t)when;
	struct tm tm;

	if (gmtime_r(&t, &tm) == NULL ||
	    strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		g_strlcpy(out, "?", 32);
}

/* print_claims - the claims as "name: value" lines or one JSON object */
static ms_err
print_claims(const reply_claims *c)
{
	GString *out = g_string_new(NULL);
	char issued[32], expires[32];
	ms_err err;

	iso_time(c->iat, issued);
	iso_time(c->exp, expires);
	if (opt_json) {
		char *json = reply_claims_json(c);

		g_string_append_printf(out, "%s\n", json != NULL ? json : "{}");
		g_free(json);
	} else {
		g_string_append_printf(out, "msgid: %s\n"
		    "internal-sender: %s\nexternal-recipient: %s\n"
		    "subject-hash: %s\nissued: %s\nexpires: %s\n", c->msgid,
		    c->internal_sender, c->external_recipient,
		    c->subject_hash, issued, expires);
	}
	err = ritual_output(out->str, out->len);
	g_string_free(out, TRUE);
	return err;
}

/* open_token - with the current key, then the previous one */
static ms_err
open_token(const ms_store *store, const char *text, reply_claims *claims,
    const char **why)
{
	unsigned char key[REPLY_KEY_LEN];
	ms_err err;

	err = reply_key_load(store, false, key);
	if (err == MS_NOTFOUND) {
		diag_error("the store has no pdf/reply.key");
		return MS_CONFIG;
	}
	if (err != MS_OK)
		return err;
	err = reply_token_open(key, text, claims, why);
	if (err == MS_DATA) {
		const char *first = *why;
		ms_err old = reply_key_load(store, true, key);

		if (old == MS_OK)
			err = reply_token_open(key, text, claims, why);
		else if (old != MS_NOTFOUND)
			err = old;
		if (err == MS_DATA && old != MS_OK)
			*why = first;
	}
	sodium_memzero(key, sizeof(key));
	return err;
}

int
main(int argc, char **argv)
{
	static const ms_program prog = { usage, options };
	poptContext ctx = ritual_begin(argc, argv, &prog);
	ms_settings *settings = NULL;
	ms_store *store = NULL;
	reply_claims claims = { 0 };
	const char *why = NULL;
	char *text = NULL, when[32];
	long long now = (long long)time(NULL);
	ms_err err;

	if (poptGetArgs(ctx) != NULL)
		ritual_usage_error("no operands: the token is read on "
		    "standard input");
	err = settings_open_store(ritual_opts.store, false, &store, &settings);
	if (err != MS_OK)
		goto out;
	err = read_input(&text);
	if (err != MS_OK)
		goto out;
	err = open_token(store, text, &claims, &why);
	if (err == MS_DATA) {
		diag_error("invalid reply token: %s", why);
		err = MS_NOTFOUND;
		goto out;
	}
	if (err != MS_OK)
		goto out;
	if (claims.iat > now + CLOCK_SKEW) {
		diag_error("invalid reply token: issued in the future");
		err = MS_NOTFOUND;
	} else if (now >= claims.exp) {
		iso_time(claims.exp, when);
		diag_error("invalid reply token: expired at %s", when);
		err = MS_NOTFOUND;
	} else {
		diag_info("reply token accepted: sender=%s recipient=%s",
		    claims.internal_sender, claims.external_recipient);
		err = print_claims(&claims);
	}
out:
	reply_claims_clear(&claims);
	g_free(text);
	settings_free(settings);
	store_close(store);
	ritual_end(ctx, err);
}
