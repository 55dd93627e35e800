/*
 * smime-enc - encrypt a message to the S/MIME certificates of every
 * envelope recipient (smime-enc(1)).  Every recipient must be covered;
 * otherwise nothing is written and the exit is 69 (ENC-1).
 */
#include "cert.h"
#include "encrypted.h"
#include "diag.h"
#include "filter.h"
#include "limits.h"
#include "msgpart.h"
#include "output.h"
#include "ritual.h"
#include "smime.h"

#include <openssl/err.h>
#include <openssl/pem.h>
#include <string.h>

static const char usage[] =
"usage: smime-enc [--store DIR] [--cipher aes256-cbc | aes128-cbc | aes256-gcm |\n"
"                 aes128-gcm] [--oaep] [--force] [--cert FILE] ... RECIPIENT ...\n"
"       smime-enc -h | --version\n";

static const char *opt_cipher;
static int opt_oaep, opt_force;
static const char **opt_certs;

static struct poptOption options[] = {
	{ "cipher", '\0', POPT_ARG_STRING, &opt_cipher, 0, NULL, NULL },
	{ "oaep", '\0', POPT_ARG_NONE, &opt_oaep, 0, NULL, NULL },
	{ "force", '\0', POPT_ARG_NONE, &opt_force, 0, NULL, NULL },
	{ "cert", '\0', POPT_ARG_ARGV, &opt_certs, 0, NULL, NULL },
	POPT_TABLEEND
};

/* load_cert_file - a PEM or DER certificate given with --cert */
static X509 *
load_cert_file(const char *path)
{
	BIO *bio = BIO_new_file(path, "rb");
	X509 *cert = NULL;

	if (bio != NULL) {
		cert = PEM_read_bio_X509(bio, NULL, NULL, NULL);
		if (cert == NULL) {
			ERR_clear_error();
			(void)BIO_reset(bio);
			cert = d2i_X509_bio(bio, NULL);
		}
		BIO_free(bio);
	}
	ERR_clear_error();
	return cert;
}

/* add_unique_cert - push cert unless the stack holds it */
static void
add_unique_cert(STACK_OF(X509) *certs, X509 *cert)
{
	for (int i = 0; i < sk_X509_num(certs); i++)
		if (X509_cmp(sk_X509_value(certs, i), cert) == 0) {
			X509_free(cert);
			return;
		}
	sk_X509_push(certs, cert);
}

/* collect - the certificates to encrypt to; uncovered recipients are
 * listed in *uncovered */
static ms_err
collect(ms_filter *f, const char **recipients, STACK_OF(X509) *certs,
    GString *uncovered, bool *all_gcm)
{
	ms_trust *trust;
	ms_err err;
	bool have_explicit = false;

	err = trust_open(f->store, &trust);
	if (err != MS_OK)
		return err;
	*all_gcm = true;
	for (int i = 0; opt_certs != NULL && opt_certs[i] != NULL; i++) {
		X509 *cert = load_cert_file(opt_certs[i]);
		cert_verdict verdict;
		char *fpr;

		if (cert == NULL) {
			/* a configuration error: defer, so mail waits */
			diag_error("--cert %s: not a certificate", opt_certs[i]);
			trust_free(trust);
			return MS_CONFIG;
		}
		verdict_init(&verdict);
		err = trust_check(trust, cert, CERT_PURPOSE_ENCRYPT, NULL,
		    &verdict);
		/* a configured (domain) certificate need not carry an
		 * address: the administrator bound it to the recipients */
		for (guint r = 0; err == MS_OK && r < verdict.reasons->len;
		    r++) {
			const char *why = g_ptr_array_index(verdict.reasons, r);

			if (strstr(why, "address") != NULL)
				continue;
			err = filter_refuse("5.7.1", "a configured encryption "
			    "certificate is not usable");
			diag_info("--cert %s: %s", opt_certs[i], why);
		}
		verdict_clear(&verdict);
		if (err != MS_OK) {
			X509_free(cert);
			trust_free(trust);
			return err;
		}
		fpr = cert_fingerprint(cert);
		if (!smime_caps_gcm(f->store, fpr))
			*all_gcm = false;
		g_free(fpr);
		add_unique_cert(certs, cert);
		have_explicit = true;
	}
	for (int i = 0; recipients[i] != NULL; i++) {
		ms_addr addr;
		const char *why;
		GPtrArray *fprs = NULL;
		STACK_OF(X509) *found = NULL;
		ms_err ferr;

		if (addr_parse_str(recipients[i], &addr, &why) != MS_OK) {
			/* an invalid address can hold no certificate */
			if (!have_explicit) {
				char *m = diag_mask(recipients[i],
				    strlen(recipients[i]));

				g_string_append_printf(uncovered, "%s%s",
				    uncovered->len ? ", " : "", m);
				free(m);
			}
			continue;
		}
		ferr = trust_find(trust, &addr, CERT_PURPOSE_ENCRYPT, &fprs,
		    &found);
		if (ferr != MS_OK && ferr != MS_NOTFOUND) {
			g_ptr_array_free(fprs, TRUE);
			sk_X509_pop_free(found, X509_free);
			addr_clear(&addr);
			trust_free(trust);
			return ferr;
		}
		if (fprs->len == 0 && !have_explicit)
			g_string_append_printf(uncovered, "%s%s",
			    uncovered->len ? ", " : "", addr.text);
		for (guint j = 0; j < fprs->len; j++) {
			if (!smime_caps_gcm(f->store, g_ptr_array_index(fprs, j)))
				*all_gcm = false;
			add_unique_cert(certs, sk_X509_value(found, (int)j));
		}
		sk_X509_free(found);	/* the certificates moved to certs */
		g_ptr_array_free(fprs, TRUE);
		addr_clear(&addr);
	}
	trust_free(trust);
	return MS_OK;
}

static ms_err
encrypt_message(ms_filter *f, STACK_OF(X509) *certs, const EVP_CIPHER *cipher,
    ms_output *out)
{
	const ms_message *msg = f->msg;
	GString *outer = msg_outer_headers(msg);
	GString *content = msg_content_headers(msg);
	size_t body = msg_body_offset(msg);
	bool aead = EVP_CIPHER_get_mode(cipher) == EVP_CIPH_GCM_MODE;
	BIO *in, *b64;
	ms_err err;

	if (!msg_has_field(outer, "MIME-Version"))
		g_string_append(outer, "MIME-Version: 1.0\n");
	g_string_append_printf(outer,
	    "Content-Type: application/pkcs7-mime; smime-type=%s;\n"
	    " name=\"smime.p7m\"\n"
	    "Content-Transfer-Encoding: base64\n"
	    "Content-Disposition: attachment; filename=\"smime.p7m\"\n"
	    "Content-Description: S/MIME encrypted message\n\n",
	    aead ? "authEnveloped-data" : "enveloped-data");
	/* the inner entity: the content header fields, an empty line, and
	 * the body exactly as received */
	g_string_append_c(content, '\n');
	err = output_write(out, outer->str, outer->len);
	in = smime_segments_bio(content->str, content->len, msg->raw + body,
	    msg->raw_len - body);
	b64 = BIO_new(BIO_f_base64());
	if (b64 == NULL)
		diag_fatal(EXIT_TEMPFAIL, "out of memory");
	BIO_push(b64, output_bio(out));
	if (err == MS_OK)
		err = smime_encrypt(certs, cipher, opt_oaep != 0, in, b64);
	if (err == MS_OK && BIO_flush(b64) != 1)
		err = MS_TEMP;
	BIO_pop(b64);
	BIO_free(b64);
	BIO_free(in);
	g_string_free(outer, TRUE);
	g_string_free(content, TRUE);
	return err;
}

int
main(int argc, char **argv)
{
	static const ms_program prog = { usage, options };
	poptContext ctx = ritual_begin(argc, argv, &prog);
	const char **recipients = poptGetArgs(ctx);
	const EVP_CIPHER *cipher = NULL;
	STACK_OF(X509) *certs = NULL;
	GString *uncovered = NULL;
	ms_output *out = NULL;
	ms_filter f;
	bool all_gcm;
	ms_err err;

	if (recipients == NULL || recipients[0] == NULL)
		ritual_usage_error("no RECIPIENT given");
	if (opt_cipher != NULL &&
	    (cipher = smime_cipher_by_name(opt_cipher)) == NULL)
		ritual_usage_error("unknown --cipher");
	diag_set_quiet(true);
	err = filter_open(&f, MSG_READ_HEADERS);
	if (err != MS_OK)
		goto out;
	err = output_open(f.store, &out);
	if (err != MS_OK)
		goto out;
	if (!opt_force && msg_root_encrypted(f.msg)) {
		diag_info("already encrypted at the root: passed on unchanged");
		err = msg_output_original(out, f.msg, NULL);
		goto commit;
	}
	certs = sk_X509_new_null();
	uncovered = g_string_new(NULL);
	err = collect(&f, recipients, certs, uncovered, &all_gcm);
	if (err != MS_OK)
		goto out;
	if (uncovered->len > 0) {
		/* ENC-1: never plaintext, never a partial set of recipients */
		err = filter_refuse("5.7.1", "no usable S/MIME certificate "
		    "for: %s", uncovered->str);
		goto out;
	}
	if (cipher == NULL)
		cipher = all_gcm ? EVP_aes_256_gcm() : EVP_aes_256_cbc();
	err = encrypt_message(&f, certs, cipher, out);
	if (err == MS_OK)
		diag_info("encrypted to %d certificate(s) with %s",
		    sk_X509_num(certs), EVP_CIPHER_get0_name(cipher));
commit:
	if (err == MS_OK) {
		err = output_commit(out);
		out = NULL;
	}
out:
	output_discard(out);
	sk_X509_pop_free(certs, X509_free);
	if (uncovered)
		g_string_free(uncovered, TRUE);
	filter_close(&f);
	ritual_end(ctx, err);
}
