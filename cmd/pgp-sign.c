/*
 * pgp-sign - sign a message with the sender's OpenPGP key, as PGP/MIME
 * (RFC 3156) or as a cleartext signature of a plain text message
 * (pgp-sign(1)).  Routing fields stay outside; the signed entity is made
 * 7-bit safe and canonical first, as for S/MIME (ENC-3).
 */
#include "diag.h"
#include "filter.h"
#include "limits.h"
#include "msgpart.h"
#include "msgwrite.h"
#include "output.h"
#include "pgp.h"
#include "ritual.h"

#include <string.h>

static const char usage[] =
"usage: pgp-sign [--store DIR] [-f SENDER] [--inline]\n"
"                [--passphrase-file FILE]\n"
"       pgp-sign -h | --version\n";

static const char *opt_sender, *opt_passphrase_file;
static int opt_inline;

static struct poptOption options[] = {
	{ "sender", 'f', POPT_ARG_STRING, &opt_sender, 0, NULL, NULL },
	{ "inline", '\0', POPT_ARG_NONE, &opt_inline, 0, NULL, NULL },
	{ "passphrase-file", '\0', POPT_ARG_STRING, &opt_passphrase_file, 0,
	  NULL, NULL },
	POPT_TABLEEND
};


/* micalg - from the signature actually made (RFC 3156 5) */
static char *
micalg(gpgme_ctx_t pgp)
{
	gpgme_sign_result_t result = gpgme_op_sign_result(pgp);
	const char *name = result && result->signatures ?
	    gpgme_hash_algo_name(result->signatures->hash_algo) : NULL;
	char *lower, *out;

	if (name == NULL)
		return NULL;
	lower = g_ascii_strdown(name, -1);
	out = g_strdup_printf("pgp-%s", lower);
	g_free(lower);
	return out;
}

static ms_err
sign_mime(gpgme_ctx_t pgp, ms_message *msg, ms_output *out)
{
	GString *outer = msg_outer_headers(msg);
	msg_root root = { .type = MSG_ROOT_SIGNED_PGP };
	gpgme_data_t plain = NULL, sig = NULL;
	char *alg = NULL, *sigtext = NULL;
	size_t siglen = 0;
	gpgme_error_t gerr;
	msg_entity e;
	ms_err err;

	err = msg_signing_entity(msg, &e);
	if (err != MS_OK) {
		msg_problem problem;

		g_string_free(outer, TRUE);
		if (msg_parse_full(msg, &problem) != MS_OK)
			return filter_refuse(msg_problem_status(problem), "%s",
			    msg_problem_text(problem));
		return MS_INTERNAL;
	}
	/* the signed bytes are canonical CRLF; what goes out is LF, which a
	 * receiver makes canonical again before verifying */
	err = pgp_data_entity(e.head, e.head_len, e.body, e.body_len, true,
	    &plain);
	if (err == MS_OK && gpgme_data_new(&sig))
		err = MS_INTERNAL;
	if (err == MS_OK) {
		gpgme_set_armor(pgp, 1);
		gerr = gpgme_op_sign(pgp, plain, sig, GPGME_SIG_MODE_DETACH);
		if (gerr)
			err = pgp_error(gerr, "sign");
		if (err == MS_NOTFOUND || err == MS_DATA)
			err = MS_TEMP;
	}
	if (err == MS_OK) {
		alg = micalg(pgp);
		sigtext = gpgme_data_release_and_get_mem(sig, &siglen);
		sig = NULL;
		if (alg == NULL || sigtext == NULL || siglen == 0)
			err = MS_TEMP;	/* fail closed: no signature made */
	}
	if (err == MS_OK) {
		root.micalg = alg;
		root.boundary = msg_boundary_new("=-mailseal-pgp-", e.head,
		    e.head_len, e.body, e.body_len);
		err = msg_write_root(out, outer, &root);
	}
	if (err == MS_OK)
		err = msg_write_part(out, &root, MSG_PART_CONTENT, NULL);
	if (err == MS_OK)
		err = output_write_lf(out, e.head, e.head_len);
	if (err == MS_OK)
		err = output_write_lf(out, e.body, e.body_len);
	if (err == MS_OK)
		err = msg_write_part(out, &root, MSG_PART_PGP_SIGNATURE, NULL);
	if (err == MS_OK)
		err = output_write_lf(out, sigtext, siglen);
	if (err == MS_OK)
		err = msg_write_close(out, &root);
	if (sigtext != NULL)
		gpgme_free(sigtext);
	gpgme_data_release(sig);
	gpgme_data_release(plain);
	g_free(alg);
	msg_root_clear(&root);
	msg_entity_clear(&e);
	g_string_free(outer, TRUE);
	return err;
}

/* sign_inline - a cleartext signature over the text of a text/plain
 * root; false when the message is not such a message */
static ms_err
sign_inline(gpgme_ctx_t pgp, ms_message *msg, ms_output *out, bool *done)
{
	msg_root root = { .type = MSG_ROOT_TEXT, .charset = "utf-8",
	    .encoding = "8bit" };
	GByteArray *text = NULL;
	gpgme_data_t plain = NULL, signed_text = NULL;
	GString *outer;
	char *data;
	size_t len = 0;
	gpgme_error_t gerr;
	ms_err err;

	*done = false;
	if (msg_root_text(msg, limits_get()->message_size, &text) != MS_OK)
		return MS_OK;
	if (!g_utf8_validate((const char *)text->data, (gssize)text->len,
	    NULL)) {
		g_byte_array_free(text, TRUE);
		return MS_OK;	/* not text we can label: PGP/MIME instead */
	}
	*done = true;
	err = pgp_data_entity((const char *)text->data, text->len, "", 0, true,
	    &plain);
	if (err == MS_OK && gpgme_data_new(&signed_text))
		err = MS_INTERNAL;
	if (err == MS_OK) {
		gerr = gpgme_op_sign(pgp, plain, signed_text,
		    GPGME_SIG_MODE_CLEAR);
		if (gerr)
			err = pgp_error(gerr, "sign");
		if (err == MS_NOTFOUND || err == MS_DATA)
			err = MS_TEMP;
	}
	g_byte_array_free(text, TRUE);
	gpgme_data_release(plain);
	if (err != MS_OK) {
		gpgme_data_release(signed_text);
		return err;
	}
	data = gpgme_data_release_and_get_mem(signed_text, &len);
	if (data == NULL || len == 0) {
		gpgme_free(data);
		return MS_TEMP;
	}
	outer = msg_outer_headers(msg);
	err = msg_write_root(out, outer, &root);
	if (err == MS_OK)
		err = output_write_lf(out, data, len);
	g_string_free(outer, TRUE);
	gpgme_free(data);
	return err;
}

int
main(int argc, char **argv)
{
	static const ms_program prog = { usage, options };
	poptContext ctx = ritual_begin(argc, argv, &prog);
	const char **args = poptGetArgs(ctx);
	gpgme_ctx_t pgp = NULL;
	GPtrArray *keys = NULL;
	ms_output *out = NULL;
	ms_addr sender = { 0 };
	bool done = false;
	ms_filter f;
	ms_err err;

	if (args != NULL && args[0] != NULL)
		ritual_usage_error("pgp-sign takes no operands");
	diag_set_quiet(true);
	err = filter_open(&f, MSG_READ_HEADERS);
	if (err == MS_OK)
		err = output_open(f.store, &out);
	if (err == MS_OK)
		err = pgp_open(f.store, false, opt_passphrase_file, &pgp);
	if (err != MS_OK)
		goto out;
	err = filter_sender(&f, opt_sender, &sender);
	if (err != MS_OK)
		goto out;
	err = pgp_find_keys(pgp, &sender, PGP_PURPOSE_SIGN, &keys, NULL);
	if (err == MS_NOTFOUND) {
		err = filter_refuse("5.7.1", "no OpenPGP signing key for the "
		    "sender %s", sender.text);
		goto out;
	}
	if (err != MS_OK)
		goto out;
	/* one signature per message, by the newest usable key */
	{
		gpgme_key_t best = g_ptr_array_index(keys, 0);

		for (guint i = 1; i < keys->len; i++) {
			gpgme_key_t k = g_ptr_array_index(keys, i);

			if (k->subkeys && best->subkeys &&
			    k->subkeys->timestamp > best->subkeys->timestamp)
				best = k;
		}
		if (gpgme_signers_add(pgp, best)) {
			err = MS_INTERNAL;
			goto out;
		}
	}
	if (opt_inline)
		err = sign_inline(pgp, f.msg, out, &done);
	if (err == MS_OK && !done)
		err = sign_mime(pgp, f.msg, out);
	if (err == MS_OK) {
		err = output_commit(out);
		out = NULL;
	}
out:
	output_discard(out);
	pgp_keys_free(keys);
	addr_clear(&sender);
	pgp_close(pgp);
	filter_close(&f);
	ritual_end(ctx, err);
}
