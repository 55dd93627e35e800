/*
 * smime-sign - sign a message with the sender's S/MIME key and
 * certificate (smime-sign(1)).  The routing fields stay outside, the
 * content fields and body are signed after being made 7-bit safe in
 * canonical form, so the signature survives transport (ENC-3).
 */
#include "ca.h"
#include "cert.h"
#include "diag.h"
#include "filter.h"
#include "msgpart.h"
#include "msgwrite.h"
#include "output.h"
#include "ritual.h"
#include "smime.h"

#include <string.h>

static const char usage[] =
"usage: smime-sign [--store DIR] [-f SENDER] [--opaque]\n"
"                  [--digest sha256 | sha384 | sha512] [--auto-enroll]\n"
"       smime-sign -h | --version\n";

static const char *opt_sender, *opt_digest;
static int opt_opaque, opt_auto_enroll;

static struct poptOption options[] = {
	{ "sender", 'f', POPT_ARG_STRING, &opt_sender, 0, NULL, NULL },
	{ "opaque", '\0', POPT_ARG_NONE, &opt_opaque, 0, NULL, NULL },
	{ "digest", '\0', POPT_ARG_STRING, &opt_digest, 0, NULL, NULL },
	{ "auto-enroll", '\0', POPT_ARG_NONE, &opt_auto_enroll, 0, NULL,
	  NULL },
	POPT_TABLEEND
};

/* find_signer - the sender's newest usable signing certificate that has
 * a private key; with --auto-enroll, the built-in CA issues one */
static ms_err
find_signer(ms_filter *f, const ms_addr *sender, X509 **cert,
    EVP_PKEY **key, STACK_OF(X509) **chain)
{
	ms_trust *trust;
	GPtrArray *fprs = NULL;
	ms_err err;
	char *issued = NULL;

	*cert = NULL;
	*key = NULL;
	*chain = NULL;
	err = trust_open(f->store, &trust);
	if (err != MS_OK)
		return err;
	err = trust_find(trust, sender, CERT_PURPOSE_SIGN, &fprs, NULL);
	for (guint i = 0; err == MS_OK && i < fprs->len && *key == NULL; i++) {
		const char *fpr = g_ptr_array_index(fprs, i);

		if (!certdb_has_key(f->store, fpr))
			continue;
		err = certdb_load(f->store, fpr, NULL, cert);
		if (err == MS_OK)
			err = certdb_key_load(f->store, fpr, key);
	}
	if (err == MS_NOTFOUND)
		err = MS_OK;
	if (err == MS_OK && *key == NULL && opt_auto_enroll) {
		ms_ca ca;

		X509_free(*cert);
		*cert = NULL;
		err = ca_load(f->store, &ca);
		if (err == MS_USAGE) {
			diag_error("--auto-enroll: the store has no CA");
			err = MS_CONFIG;
		}
		if (err == MS_OK) {
			err = ca_issue(f->store, &ca, sender, NULL, "rsa3072",
			    730, &issued);
			ca_free(&ca);
		}
		if (err == MS_OK)
			err = certdb_load(f->store, issued, NULL, cert);
		if (err == MS_OK)
			err = certdb_key_load(f->store, issued, key);
		if (err == MS_OK)
			diag_info("auto-enrolled %s", sender->text);
	}
	if (err == MS_OK && *key != NULL)
		*chain = trust_chain(trust, *cert);
	if (err != MS_OK || *key == NULL) {
		X509_free(*cert);
		EVP_PKEY_free(*key);
		*cert = NULL;
		*key = NULL;
	}
	g_free(issued);
	if (fprs != NULL)
		g_ptr_array_free(fprs, TRUE);
	trust_free(trust);
	return err;
}


static ms_err
sign_message(ms_filter *f, X509 *cert, EVP_PKEY *key, STACK_OF(X509) *chain,
    const EVP_MD *digest, ms_output *out)
{
	GString *outer = msg_outer_headers(f->msg);
	msg_root root = { .type = opt_opaque ? MSG_ROOT_OPAQUE_SIGNED :
	    MSG_ROOT_SIGNED_SMIME, .micalg = smime_micalg(digest) };
	BIO *in = NULL, *sig = NULL, *b64;
	char *der;
	long der_len;
	msg_entity e;
	ms_err err;

	err = msg_signing_entity(f->msg, &e);
	if (err != MS_OK) {
		msg_problem problem;

		/* over a parsing limit: a deliberate refusal with its code */
		g_string_free(outer, TRUE);
		if (msg_parse_full(f->msg, &problem) != MS_OK)
			return filter_refuse(msg_problem_status(problem), "%s",
			    msg_problem_text(problem));
		return MS_INTERNAL;
	}
	in = smime_segments_bio(e.head, e.head_len, e.body, e.body_len);
	if (opt_opaque) {
		err = msg_write_root(out, outer, &root);
		if (err == MS_OK) {
			b64 = msg_base64_bio(out);
			err = smime_sign(cert, key, chain, digest, false,
			    e.canonical, in, b64);
			if (msg_base64_bio_end(b64) != MS_OK && err == MS_OK)
				err = MS_TEMP;
		}
		goto done;
	}
	sig = BIO_new(BIO_s_mem());
	err = smime_sign(cert, key, chain, digest, true, e.canonical, in, sig);
	if (err != MS_OK)
		goto done;
	der_len = BIO_get_mem_data(sig, &der);
	root.boundary = msg_boundary_new("=-mailseal-", e.head, e.head_len,
	    e.body, e.body_len);
	/* the signed bytes go out with LF line ends; a receiver makes them
	 * canonical again before verifying (RFC 8551 3.1.1) */
	err = msg_write_root(out, outer, &root);
	if (err == MS_OK)
		err = msg_write_part(out, &root, MSG_PART_CONTENT, NULL);
	if (err == MS_OK)
		err = output_write_lf(out, e.head, e.head_len);
	if (err == MS_OK)
		err = output_write_lf(out, e.body, e.body_len);
	if (err == MS_OK)
		err = msg_write_part(out, &root, MSG_PART_SMIME_SIGNATURE, NULL);
	if (err == MS_OK)
		err = msg_write_base64(out, der, (size_t)der_len);
	if (err == MS_OK)
		err = msg_write_close(out, &root);
done:
	BIO_free(sig);
	BIO_free(in);
	msg_root_clear(&root);
	msg_entity_clear(&e);
	g_string_free(outer, TRUE);
	return err;
}

int
main(int argc, char **argv)
{
	static const ms_program prog = { usage, options };
	poptContext ctx = ritual_begin(argc, argv, &prog);
	const char **args = poptGetArgs(ctx);
	const EVP_MD *digest = EVP_sha256();
	ms_output *out = NULL;
	X509 *cert = NULL;
	EVP_PKEY *key = NULL;
	STACK_OF(X509) *chain = NULL;
	ms_addr sender = { 0 };
	ms_filter f;
	ms_err err;

	if (args != NULL && args[0] != NULL)
		ritual_usage_error("smime-sign takes no operands");
	if (opt_digest != NULL) {
		if (strcmp(opt_digest, "sha256") == 0)
			digest = EVP_sha256();
		else if (strcmp(opt_digest, "sha384") == 0)
			digest = EVP_sha384();
		else if (strcmp(opt_digest, "sha512") == 0)
			digest = EVP_sha512();
		else
			ritual_usage_error("unknown --digest");
	}
	diag_set_quiet(true);
	err = filter_open(&f, MSG_READ_HEADERS);
	if (err == MS_OK)
		err = output_open(f.store, &out);
	if (err != MS_OK)
		goto out;
	err = filter_sender(&f, opt_sender, &sender);
	if (err != MS_OK)
		goto out;
	err = find_signer(&f, &sender, &cert, &key, &chain);
	if (err == MS_OK && key == NULL)
		err = filter_refuse("5.7.1", "no S/MIME signing key for the "
		    "sender %s", sender.text);
	if (err == MS_OK)
		err = sign_message(&f, cert, key, chain, digest, out);
	if (err == MS_OK) {
		err = output_commit(out);
		out = NULL;
	}
out:
	output_discard(out);
	X509_free(cert);
	EVP_PKEY_free(key);
	sk_X509_pop_free(chain, X509_free);
	addr_clear(&sender);
	filter_close(&f);
	ritual_end(ctx, err);
}
