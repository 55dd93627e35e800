/*
 * pgp-verify - verify the OpenPGP signature at the root of a message
 * (PGP/MIME, or a cleartext-signed text/plain body) and report it in
 * X-Mailseal-Signature (pgp-verify(1)), with the same words as
 * smime-verify.  Each signature is judged from GPGME's per-signature
 * result (VER-1), never from gpg's text (VER-6); the signer's key must
 * bind the single From address (VER-4, VER-8).  Keys are never imported
 * from mail (KEY-2).
 */
#include "diag.h"
#include "filter.h"
#include "limits.h"
#include "msgpart.h"
#include "output.h"
#include "pgp.h"
#include "ritual.h"
#include "smime.h"

#include <stdlib.h>
#include <string.h>

static const char usage[] =
"usage: pgp-verify [--store DIR] [--decrypted]\n"
"       pgp-verify -h | --version\n";

static int opt_decrypted;

static struct poptOption options[] = {
	{ "decrypted", '\0', POPT_ARG_NONE, &opt_decrypted, 0, NULL, NULL },
	POPT_TABLEEND
};

#define CLEAR_BEGIN "-----BEGIN PGP SIGNED MESSAGE-----"
#define CLEAR_END "-----END PGP SIGNATURE-----"

typedef struct outcome {
	sig_status status;
	const char *detail;
	char *signer;
	char *fingerprint;
} outcome;

/* set - the worst outcome wins */
static void
set(outcome *o, sig_status status, const char *detail)
{
	static const int rank[] = {
		[SIG_NONE] = 0, [SIG_VALID] = 1, [SIG_MISMATCH] = 2,
		[SIG_UNTRUSTED] = 3, [SIG_REVOKED] = 4, [SIG_INVALID] = 5
	};

	if (rank[status] >= rank[o->status]) {
		o->status = status;
		o->detail = detail;
	}
}

static bool
weak_hash(gpgme_hash_algo_t algo)
{
	return algo == GPGME_MD_MD5 || algo == GPGME_MD_SHA1 ||
	    algo == GPGME_MD_RMD160 || algo == GPGME_MD_NONE;
}

/* judge - every signature of the result, against the From address */
static void
judge(gpgme_ctx_t pgp, const ms_addr *from, outcome *o)
{
	gpgme_verify_result_t result = gpgme_op_verify_result(pgp);
	GPtrArray *fprs = g_ptr_array_new_with_free_func(g_free);
	int n = 0;

	o->status = SIG_NONE;
	if (result == NULL || result->signatures == NULL) {
		set(o, SIG_INVALID, "no signature");
		g_ptr_array_free(fprs, TRUE);
		return;
	}
	for (gpgme_signature_t sig = result->signatures; sig; sig = sig->next) {
		gpgme_err_code_t code = gpgme_err_code(sig->status);

		n++;
		if (code == GPG_ERR_BAD_SIGNATURE || sig->wrong_key_usage)
			set(o, SIG_INVALID, "signature does not verify");
		else if (weak_hash(sig->hash_algo))
			set(o, SIG_INVALID, "weak digest algorithm");
		else if (code == GPG_ERR_NO_PUBKEY)
			set(o, SIG_UNTRUSTED, "unknown key");
		else if ((sig->summary & GPGME_SIGSUM_KEY_REVOKED) ||
		    code == GPG_ERR_CERT_REVOKED)
			set(o, SIG_REVOKED, "signer key revoked");
		else if (code != GPG_ERR_NO_ERROR)
			set(o, SIG_UNTRUSTED, "signature not valid now");
		else if (!(sig->summary & GPGME_SIGSUM_VALID))
			set(o, SIG_UNTRUSTED, "signer key not trusted");
		else
			set(o, SIG_VALID, "signature verified");
		if (sig->fpr != NULL)
			g_ptr_array_add(fprs, g_strdup(sig->fpr));
		else
			set(o, SIG_UNTRUSTED, "no signer fingerprint");
	}
	/* VER-8: the signing key must be one we know for the From address:
	 * a valid user ID with that address, trusted, in our keyring */
	for (guint i = 0; i < fprs->len && o->status == SIG_VALID; i++) {
		const char *fpr = g_ptr_array_index(fprs, i);
		gpgme_key_t key = NULL;
		const char *why;

		if (from == NULL) {
			set(o, SIG_MISMATCH, "no single From address");
			break;
		}
		if (gpgme_get_key(pgp, fpr, &key, 0) != 0) {
			set(o, SIG_UNTRUSTED, "unknown key");
			break;
		}
		why = pgp_key_verdict(key, PGP_PURPOSE_VERIFY, from);
		if (why != NULL && strstr(why, "user ID") != NULL)
			set(o, SIG_MISMATCH, "signer is not the From address");
		else if (why != NULL && strcmp(why, "revoked") == 0)
			set(o, SIG_REVOKED, "signer key revoked");
		else if (why != NULL)
			set(o, SIG_UNTRUSTED, why);
		if (i == 0) {
			o->fingerprint = g_strdup(fpr);
			for (gpgme_user_id_t u = key->uids; u && !o->signer;
			    u = u->next)
				if (u->address && !u->revoked && !u->invalid)
					o->signer = diag_mask(u->address,
					    strlen(u->address));
		}
		gpgme_key_unref(key);
	}
	g_ptr_array_free(fprs, TRUE);
	(void)n;
}

#define SIG_BEGIN "-----BEGIN PGP SIGNATURE-----"

/* count_lines - lines of p..end that are exactly line (armor lines are
 * whole lines: a quoted or dash-escaped copy inside the text is not one) */
static int
count_lines(const char *p, const char *end, const char *line)
{
	size_t want = strlen(line);
	int n = 0;

	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t len = nl ? (size_t)(nl - p) : (size_t)(end - p);

		if (len > 0 && p[len - 1] == '\r')
			len--;
		if (len == want && memcmp(p, line, want) == 0)
			n++;
		p = nl ? nl + 1 : end;
	}
	return n;
}

/* clear_signed - the decoded body of a text/plain root that is exactly
 * one cleartext-signed block */
static GByteArray *
clear_signed(ms_message *msg)
{
	GByteArray *text = NULL;
	const char *p, *end;

	if (msg_root_text(msg, limits_get()->message_size, &text) != MS_OK)
		return NULL;
	p = (const char *)text->data;
	end = p + text->len;
	while (p < end && g_ascii_isspace(*p))
		p++;
	while (end > p && g_ascii_isspace(end[-1]))
		end--;
	/* exactly one signed block and one signature block, the signature
	 * ending the body: text after a signature, or a second signature,
	 * would be shown as signed (VER-2) */
	if ((size_t)(end - p) > strlen(CLEAR_BEGIN) + strlen(CLEAR_END) &&
	    strncmp(p, CLEAR_BEGIN, strlen(CLEAR_BEGIN)) == 0 &&
	    strncmp(end - strlen(CLEAR_END), CLEAR_END,
	    strlen(CLEAR_END)) == 0 &&
	    count_lines(p, end, CLEAR_BEGIN) == 1 &&
	    count_lines(p, end, SIG_BEGIN) == 1 &&
	    count_lines(p, end, CLEAR_END) == 1)
		return text;
	g_byte_array_free(text, TRUE);
	return NULL;
}

int
main(int argc, char **argv)
{
	static const ms_program prog = { usage, options };
	poptContext ctx = ritual_begin(argc, argv, &prog);
	const char **args = poptGetArgs(ctx);
	GByteArray *content = NULL, *sigbytes = NULL, *clear = NULL;
	gpgme_data_t sig = NULL, text = NULL;
	outcome o = { SIG_NONE, NULL, NULL, NULL };
	GString *value, *extra = g_string_new(NULL);
	gpgme_ctx_t pgp = NULL;
	ms_output *out = NULL;
	ms_addr from = { 0 };
	const char *why = NULL;
	bool have_from;
	msg_kind kind;
	ms_filter f;
	ms_err err;

	if (args != NULL && args[0] != NULL)
		ritual_usage_error("pgp-verify takes no operands");
	diag_set_quiet(true);
	err = filter_open(&f, MSG_READ_HEADERS);
	if (err == MS_OK)
		err = output_open(f.store, &out);
	if (err != MS_OK)
		goto out;
	filter_strip_status(&f, opt_decrypted != 0);	/* DEC-8 */
	have_from = msg_from_address(f.msg, &from, &why) == MS_OK;
	kind = msg_root_kind(f.msg);
	if (kind == MSG_KIND_PGP_SIGNED) {
		if (msg_signed_parts(f.msg, &content, &sigbytes, &why) != MS_OK)
			set(&o, SIG_INVALID, "malformed multipart/signed");
	} else if (kind == MSG_KIND_SIGNED_MALFORMED)
		set(&o, SIG_INVALID, "malformed multipart/signed");
	else
		clear = clear_signed(f.msg);
	if (content != NULL || clear != NULL) {
		gpgme_error_t gerr;

		err = pgp_open(f.store, false, NULL, &pgp);
		if (err != MS_OK)
			goto out;
		if (content != NULL) {
			gerr = gpgme_data_new_from_mem(&sig,
			    (const char *)sigbytes->data, sigbytes->len, 0);
			if (!gerr)
				gerr = gpgme_data_new_from_mem(&text,
				    (const char *)content->data, content->len,
				    0);
			if (!gerr)
				gerr = gpgme_op_verify(pgp, sig, text, NULL);
		} else {
			gpgme_data_t discard = NULL;

			gerr = gpgme_data_new_from_mem(&sig,
			    (const char *)clear->data, clear->len, 0);
			if (!gerr)
				gerr = gpgme_data_new(&discard);
			if (!gerr)
				gerr = gpgme_op_verify(pgp, sig, NULL, discard);
			gpgme_data_release(discard);
		}
		if (gerr && gpgme_op_verify_result(pgp) == NULL) {
			err = pgp_error(gerr, "verify");
			if (err == MS_DATA || err == MS_NOTFOUND) {
				set(&o, SIG_INVALID, "malformed signature");
				err = MS_OK;
			}
			if (err != MS_OK)
				goto out;
		} else
			judge(pgp, have_from ? &from : NULL, &o);
		/* a damaged keyring reads as empty: a store failure, not a
		 * stranger's key */
		if (o.status == SIG_UNTRUSTED && o.detail != NULL &&
		    strcmp(o.detail, "unknown key") == 0 &&
		    !pgp_keyring_sound()) {
			diag_error("the OpenPGP keyring cannot be read whole");
			err = MS_CONFIG;
			goto out;
		}
	}
	value = g_string_new(sig_status_word(o.status));
	if (o.detail != NULL)
		g_string_append_printf(value, "; %s", o.detail);
	if (o.signer != NULL && o.status != SIG_INVALID)
		g_string_append_printf(value, "; signer=%s; fingerprint=%s",
		    o.signer, o.fingerprint);
	msg_header_append(extra, "X-Mailseal-Signature", value->str);
	diag_info("signature: %s", value->str);
	g_string_free(value, TRUE);
	err = msg_output_original(out, f.msg, extra->str);
	if (err == MS_OK) {
		err = output_commit(out);
		out = NULL;
	}
out:
	gpgme_data_release(sig);
	gpgme_data_release(text);
	if (content)
		g_byte_array_free(content, TRUE);
	if (sigbytes)
		g_byte_array_free(sigbytes, TRUE);
	if (clear)
		g_byte_array_free(clear, TRUE);
	free(o.signer);
	g_free(o.fingerprint);
	g_string_free(extra, TRUE);
	addr_clear(&from);
	output_discard(out);
	pgp_close(pgp);
	filter_close(&f);
	ritual_end(ctx, err);
}
