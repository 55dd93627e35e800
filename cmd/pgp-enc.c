/*
 * pgp-enc - encrypt a message as PGP/MIME (RFC 3156) to the OpenPGP keys
 * of every envelope recipient (pgp-enc(1)): read, pgenc_collect() and
 * pgenc_encrypt_entity() or pgenc_encrypt_inline() (pgenc.h, the
 * encryption mailseal-filter does in process), write, exit.  Every
 * recipient must be covered, otherwise nothing is written and the exit is
 * 69 (ENC-1).
 */
#include "diag.h"
#include "filter.h"
#include "msgpart.h"
#include "output.h"
#include "pgenc.h"
#include "pgp.h"
#include "ritual.h"

static const char usage[] =
"usage: pgp-enc [--store DIR] [-q QUEUEID] [--inline] [--hide-recipients]\n"
"               [--force] RECIPIENT ...\n"
"       pgp-enc -h | --version\n";

static int opt_hide, opt_force, opt_inline;
static const char *opt_queue_id;

static struct poptOption options[] = {
	{ NULL, 'q', POPT_ARG_STRING, &opt_queue_id, 0, NULL, NULL },
	{ "inline", '\0', POPT_ARG_NONE, &opt_inline, 0, NULL, NULL },
	{ "hide-recipients", '\0', POPT_ARG_NONE, &opt_hide, 0, NULL, NULL },
	{ "force", '\0', POPT_ARG_NONE, &opt_force, 0, NULL, NULL },
	POPT_TABLEEND
};

/* encrypt - the message encrypted to every recipient's key, or refused:
 * never plaintext, never a partial set of recipients (ENC-1) */
static ms_err
encrypt(ms_filter *f, ms_output *out, void *arg)
{
	const char **recipients = arg;
	GPtrArray *keys = g_ptr_array_new();
	GString *uncovered = g_string_new(NULL);
	gpgme_ctx_t pgp = NULL;
	bool all_inline = false;
	ms_err err;

	err = pgp_open(f->store, false, NULL, &pgp);
	if (err == MS_OK && !opt_force && msg_root_encrypted(f->msg)) {
		diag_info("already encrypted at the root: passed on unchanged");
		err = msg_output_original(out, f->msg, NULL);
		goto out;
	}
	if (err == MS_OK)
		err = pgenc_collect(pgp, f->store, recipients, keys, uncovered,
		    &all_inline);
	if (err == MS_OK && uncovered->len > 0)
		err = filter_refuse("5.7.1", "no usable OpenPGP key for: %s",
		    uncovered->str);
	if (err != MS_OK)
		goto out;
	if (opt_inline || all_inline)
		err = pgenc_encrypt_inline(pgp, f->msg, keys, opt_hide != 0,
		    out);
	else {
		GString *outer = msg_outer_headers(f->msg);
		GString *content = msg_content_headers(f->msg);
		size_t body = msg_body_offset(f->msg);

		g_string_append_c(content, '\n');
		err = pgenc_encrypt_entity(pgp, outer, content->str,
		    content->len, f->msg->raw + body, f->msg->raw_len - body,
		    keys, opt_hide != 0, out);
		g_string_free(content, TRUE);
		g_string_free(outer, TRUE);
	}
	if (err == MS_OK)
		diag_info("encrypted to %u OpenPGP key(s)", keys->len);
out:
	pgp_keys_free(keys);
	g_string_free(uncovered, TRUE);
	pgp_close(pgp);
	return err;
}

int
main(int argc, char **argv)
{
	static const ms_program prog = { usage, options };
	poptContext ctx = ritual_begin(argc, argv, &prog);
	const char **recipients = poptGetArgs(ctx);

	if (recipients == NULL || recipients[0] == NULL)
		ritual_usage_error("no RECIPIENT given");
	ritual_queue_id(opt_queue_id);
	/* gpg's start-up probe runs while the message is read */
	pgp_start();
	filter_run(ctx, MSG_READ_HEADERS, encrypt, recipients);
}
