/*
 * smenc.c - S/MIME encryption of a whole message (smenc.h): the one code
 * path behind smime-enc(1) and the S/MIME copies of mailseal-filter(1).
 */
#include "smenc.h"
#include "certdb.h"
#include "diag.h"
#include "err.h"
#include "msgpart.h"
#include "msgwrite.h"
#include "smime.h"

#include <openssl/err.h>
#include <openssl/pem.h>
#include <stdlib.h>
#include <string.h>

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

/* smenc_collect - see smenc.h */
ms_err
smenc_collect(ms_filter *f, const char *const *recipients,
    const char *const *cert_files, STACK_OF(X509) *certs, GString *uncovered,
    bool *all_gcm)
{
	ms_trust *trust;
	ms_err err;

	err = trust_open(f->store, f->settings, &trust);
	if (err != MS_OK)
		return err;
	err = smenc_collect_trusted(f->store, trust, recipients, cert_files,
	    NULL, certs, uncovered, all_gcm);
	trust_free(trust);
	return err;
}

/* take_configured - a configured certificate (a --cert file, a domain
 * certificate) for every recipient: usable whatever addresses it carries,
 * since the administrator bound it to them, or a refusal (cert is
 * consumed; what names it in diagnostics) */
static ms_err
take_configured(const ms_store *store, ms_trust *trust, X509 *cert,
    const char *what, STACK_OF(X509) *certs, bool *all_gcm)
{
	cert_verdict verdict;
	char *fpr;
	ms_err err;

	verdict_init(&verdict);
	err = trust_check(trust, cert, CERT_PURPOSE_ENCRYPT, NULL, &verdict);
	for (guint r = 0; err == MS_OK && r < verdict.reasons->len; r++) {
		const char *why = g_ptr_array_index(verdict.reasons, r);
		const char *type = cert_unsupported_agreement_key(
		    X509_get0_pubkey(cert));

		if (cert_verdict_reason_flag(&verdict, r) & CERT_ADDRESS_FLAGS)
			continue;
		/* a key type we cannot encrypt to is named: it tells the
		 * administrator what to change and says nothing about the
		 * certificate's state */
		err = filter_refuse("5.7.1", "a configured encryption "
		    "certificate is not usable%s%s%s", type ? " (" : "",
		    type ? type : "", type ? " key: not supported)" : "");
		diag_info("%s: %s", what, why);
	}
	verdict_clear(&verdict);
	if (err != MS_OK) {
		X509_free(cert);
		return err;
	}
	fpr = cert_fingerprint(cert);
	if (!smime_caps_gcm(store, fpr))
		*all_gcm = false;
	g_free(fpr);
	add_unique_cert(certs, cert);
	return MS_OK;
}

/* uncovered_append - addr onto the list of recipients without a usable
 * certificate; when its certificates have a key type OpenSSL 3.0 cannot
 * encrypt to (X25519, X448), the type is named beside it */
static void
uncovered_append(const ms_store *store, GString *uncovered,
    const ms_addr *addr)
{
	GPtrArray *fprs = NULL;
	const char *type = NULL;
	char *item;

	if (certdb_lookup(store, addr, &fprs) == MS_OK)
		for (guint i = 0; i < fprs->len && type == NULL; i++) {
			X509 *cert;

			if (certdb_read(store, "certs",
			    g_ptr_array_index(fprs, i), &cert) != MS_OK)
				continue;
			type = cert_unsupported_agreement_key(
			    X509_get0_pubkey(cert));
			X509_free(cert);
		}
	if (fprs != NULL)
		g_ptr_array_free(fprs, TRUE);
	if (type == NULL) {
		diag_list_append(uncovered, addr->text);
		return;
	}
	item = g_strdup_printf("%s (%s key: not supported)", addr->text, type);
	diag_list_append(uncovered, item);
	g_free(item);
}

/* smenc_collect_trusted - see smenc.h */
ms_err
smenc_collect_trusted(const ms_store *store, ms_trust *trust,
    const char *const *recipients, const char *const *cert_files,
    const char *domain_fpr, STACK_OF(X509) *certs, GString *uncovered,
    bool *all_gcm)
{
	ms_err err;
	bool have_explicit = false;

	*all_gcm = true;
	for (int i = 0; cert_files != NULL && cert_files[i] != NULL; i++) {
		X509 *cert = load_cert_file(cert_files[i]);
		char *what;

		if (cert == NULL) {
			/* a configuration error: defer, so mail waits */
			diag_error("--cert %s: not a certificate", cert_files[i]);
			return MS_CONFIG;
		}
		what = g_strdup_printf("--cert %s", cert_files[i]);
		err = take_configured(store, trust, cert, what, certs, all_gcm);
		g_free(what);
		if (err != MS_OK)
			return err;
		have_explicit = true;
	}
	if (domain_fpr != NULL) {
		X509 *cert;
		char *what;

		/* as route_decide read it: parsed once per run */
		err = trust_cert_load(trust, domain_fpr, &cert);
		if (err == MS_NOTFOUND) {
			diag_error("domain certificate %s is not in the "
			    "certificate store", domain_fpr);
			err = MS_CONFIG;
		}
		if (err != MS_OK)
			return err;
		what = g_strdup_printf("domain certificate %s", domain_fpr);
		err = take_configured(store, trust, cert, what, certs, all_gcm);
		g_free(what);
		if (err != MS_OK)
			return err;
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
			if (!have_explicit)
				diag_list_append(uncovered, recipients[i]);
			continue;
		}
		ferr = trust_find(trust, &addr, CERT_PURPOSE_ENCRYPT, &fprs,
		    &found);
		if (ferr != MS_OK && ferr != MS_NOTFOUND) {
			g_ptr_array_free(fprs, TRUE);
			sk_X509_pop_free(found, X509_free);
			addr_clear(&addr);
			return ferr;
		}
		if (fprs->len == 0 && !have_explicit)
			uncovered_append(store, uncovered, &addr);
		for (guint j = 0; j < fprs->len; j++) {
			if (!smime_caps_gcm(store, g_ptr_array_index(fprs, j)))
				*all_gcm = false;
			add_unique_cert(certs, sk_X509_value(found, (int)j));
		}
		sk_X509_free(found);	/* the certificates moved to certs */
		g_ptr_array_free(fprs, TRUE);
		addr_clear(&addr);
	}
	return MS_OK;
}

ms_err
smenc_write(const ms_message *msg, STACK_OF(X509) *certs,
    const EVP_CIPHER *cipher, bool oaep, ms_output *out)
{
	GString *outer = msg_outer_headers(msg);
	GString *content = msg_content_headers(msg);
	size_t body = msg_body_offset(msg);
	ms_err err;

	/* the inner entity: the content header fields, an empty line, and
	 * the body exactly as received */
	g_string_append_c(content, '\n');
	err = smenc_write_entity(outer, content->str, content->len,
	    msg->raw + body, msg->raw_len - body, certs, cipher, oaep, out);
	g_string_free(outer, TRUE);
	g_string_free(content, TRUE);
	return err;
}

/* smenc_write_entity - see smenc.h */
ms_err
smenc_write_entity(const GString *outer_fields, const char *head,
    size_t head_len, const char *body, size_t body_len,
    STACK_OF(X509) *certs, const EVP_CIPHER *cipher, bool oaep,
    ms_output *out)
{
	msg_root root = { .type = EVP_CIPHER_get_mode(cipher) ==
	    EVP_CIPH_GCM_MODE ? MSG_ROOT_AUTH_ENVELOPED : MSG_ROOT_ENVELOPED };
	BIO *in, *b64;
	ms_err err;

	err = msg_write_root(out, outer_fields, &root);
	in = smime_segments_bio(head, head_len, body, body_len);
	b64 = msg_base64_bio(out);
	if (err == MS_OK)
		err = smime_encrypt(certs, cipher, oaep, in, b64);
	if (msg_base64_bio_end(b64) != MS_OK && err == MS_OK)
		err = MS_TEMP;
	BIO_free(in);
	return err;
}

