/*
 * smime-verify - verify the S/MIME signature at the root of a message and
 * report it in X-Mailseal-Signature (smime-verify(1)).  Only the root
 * counts (VER-2); the signer must chain to the root store, not be
 * revoked, and carry the From address (VER-4).  Valid signers' certificates
 * and capabilities are learned into the store (KEY-2, KEY-7).
 */
#include "cert.h"
#include "diag.h"
#include "filter.h"
#include "limits.h"
#include "msgpart.h"
#include "output.h"
#include "ritual.h"
#include "smime.h"

#include <openssl/err.h>
#include <string.h>

static const char usage[] =
"usage: smime-verify [--store DIR] [--no-learn] [--decrypted]\n"
"       smime-verify -h | --version\n";

static int opt_no_learn, opt_decrypted;

static struct poptOption options[] = {
	{ "no-learn", '\0', POPT_ARG_NONE, &opt_no_learn, 0, NULL, NULL },
	{ "decrypted", '\0', POPT_ARG_NONE, &opt_decrypted, 0, NULL, NULL },
	POPT_TABLEEND
};

/* status_value - "word; detail; signer=...; fingerprint=..." */
static char *
status_value(const sig_result *res)
{
	GString *v = g_string_new(sig_status_word(res->status));

	if (res->detail != NULL)
		g_string_append_printf(v, "; %s", res->detail);
	if (res->signer != NULL && res->status != SIG_INVALID)
		g_string_append_printf(v, "; signer=%s", res->signer);
	if (res->fingerprint != NULL && res->status != SIG_INVALID)
		g_string_append_printf(v, "; fingerprint=%s", res->fingerprint);
	return g_string_free(v, FALSE);
}

/* learn - KEY-2: only from a valid, trusted signature bound to From;
 * never a root; failure to learn never fails delivery */
static void
learn(ms_filter *f, const sig_result *res)
{
	bool was_new;

	if (opt_no_learn || res->status != SIG_VALID ||
	    res->signer_cert == NULL)
		return;
	if (store_lock(f->store, 2000) != MS_OK) {
		diag_info("store busy: signer certificate not learned");
		return;
	}
	if (certdb_add(f->store, res->signer_cert, false, &was_new) ==
	    MS_OK && was_new)
		diag_info("learned certificate %s", res->fingerprint);
	if (res->signer_info != NULL)
		(void)smime_caps_learn(f->store, res->fingerprint,
		    res->signer_info);
	store_unlock(f->store);
}

static CMS_ContentInfo *
parse_cms(const GByteArray *der)
{
	const unsigned char *p = der->data;
	CMS_ContentInfo *cms = d2i_CMS_ContentInfo(NULL, &p, (long)der->len);

	ERR_clear_error();
	return cms;
}

int
main(int argc, char **argv)
{
	static const ms_program prog = { usage, options };
	poptContext ctx = ritual_begin(argc, argv, &prog);
	const char **args = poptGetArgs(ctx);
	ms_output *out = NULL;
	GByteArray *content = NULL, *sig = NULL, *inner = NULL;
	CMS_ContentInfo *cms = NULL;
	ms_trust *trust = NULL;
	sig_result res = { 0 };
	ms_addr from = { 0 };
	bool have_from;
	const char *why = NULL;
	char *value = NULL;
	GString *extra = g_string_new(NULL);
	msg_kind kind;
	ms_filter f;
	ms_err err;

	if (args != NULL && args[0] != NULL)
		ritual_usage_error("smime-verify takes no operands");
	diag_set_quiet(true);
	err = filter_open(&f, MSG_READ_HEADERS);
	if (err == MS_OK)
		err = output_open(f.store, &out);
	if (err == MS_OK)
		err = trust_open(f.store, f.settings, &trust);
	if (err != MS_OK)
		goto out;
	filter_strip_status(&f, opt_decrypted != 0);	/* DEC-8 */
	have_from = msg_from_address(f.msg, &from, &why) == MS_OK;
	res.status = SIG_NONE;
	kind = msg_root_kind(f.msg);
	if (kind == MSG_KIND_SMIME_DETACHED) {
		if (msg_signed_parts(f.msg, &content, &sig, &why) != MS_OK ||
		    (cms = parse_cms(sig)) == NULL) {
			res.status = SIG_INVALID;
			res.detail = g_strdup("malformed multipart/signed");
		} else {
			BIO *dcont = BIO_new_mem_buf(content->data,
			    (int)content->len);

			err = smime_verify(trust, cms, dcont,
			    have_from ? &from : NULL, &res, NULL);
			BIO_free(dcont);
		}
	} else if (kind == MSG_KIND_SMIME_OPAQUE ||
	    kind == MSG_KIND_SMIME_PKCS7) {
		GByteArray *der = NULL;

		if (msg_root_decoded(f.msg, limits_get()->message_size, &der) ==
		    MS_OK && (cms = parse_cms(der)) != NULL &&
		    OBJ_obj2nid(CMS_get0_type(cms)) == NID_pkcs7_signed)
			err = smime_verify(trust, cms, NULL,
			    have_from ? &from : NULL, &res, &inner);
		else if (kind == MSG_KIND_SMIME_OPAQUE) {
			res.status = SIG_INVALID;
			res.detail = g_strdup("malformed signed data");
		}
		if (der != NULL)
			g_byte_array_free(der, TRUE);
	} else if (kind == MSG_KIND_SIGNED_MALFORMED) {
		res.status = SIG_INVALID;
		res.detail = g_strdup("malformed multipart/signed");
	}
	if (err != MS_OK)
		goto out;
	if (res.status == SIG_MISMATCH && !have_from) {
		g_free(res.detail);
		res.detail = g_strdup(why);
	}
	value = status_value(&res);
	msg_header_append(extra, "X-Mailseal-Signature", value);
	learn(&f, &res);
	if (inner != NULL) {
		/* opaque signed data: deliver the signed entity itself */
		err = msg_output_unwrapped(out, f.msg, extra->str, inner->data,
		    inner->len, false);
		if (err == MS_DATA) {
			output_discard(out);
			err = output_open(f.store, &out);
			if (err == MS_OK)
				err = msg_output_original(out, f.msg,
				    extra->str);
		}
	} else
		err = msg_output_original(out, f.msg, extra->str);
	diag_info("signature: %s", value);
	if (err == MS_OK) {
		err = output_commit(out);
		out = NULL;
	}
out:
	g_free(value);
	g_string_free(extra, TRUE);
	sig_result_clear(&res);
	CMS_ContentInfo_free(cms);
	if (content)
		g_byte_array_free(content, TRUE);
	if (sig)
		g_byte_array_free(sig, TRUE);
	if (inner)
		g_byte_array_free(inner, TRUE);
	addr_clear(&from);
	trust_free(trust);
	output_discard(out);
	filter_close(&f);
	ritual_end(ctx, err);
}
