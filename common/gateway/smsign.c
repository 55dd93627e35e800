/*
 * smsign.c - S/MIME signing of a whole message (smsign.h): the one code
 * path behind smime-sign(1) and the signed copies of mailseal-filter(1).
 */
#include "smsign.h"
#include "msgwrite.h"
#include "ca.h"
#include "certdb.h"
#include "diag.h"
#include "filter.h"
#include "msgpart.h"
#include "smime.h"

#include <string.h>

ms_err
smsign_find_signer(ms_store *store, ms_trust *trust,
    const ms_addr *sender, bool auto_enroll, smsign_signer *signer)
{
	GPtrArray *fprs = NULL;
	char *issued = NULL;
	ms_err err;

	memset(signer, 0, sizeof(*signer));
	err = trust_find(trust, sender, CERT_PURPOSE_SIGN, &fprs, NULL);
	for (guint i = 0; err == MS_OK && i < fprs->len &&
	    signer->key == NULL; i++) {
		const char *fpr = g_ptr_array_index(fprs, i);

		if (!certdb_has_key(store, fpr))
			continue;
		X509_free(signer->cert);
		signer->cert = NULL;
		err = certdb_load(store, fpr, NULL, &signer->cert);
		if (err == MS_OK)
			err = certdb_key_load(store, fpr, &signer->key);
	}
	if (err == MS_NOTFOUND)
		err = MS_OK;
	if (err == MS_OK && signer->key == NULL && auto_enroll) {
		ms_ca ca;

		X509_free(signer->cert);
		signer->cert = NULL;
		err = ca_load(store, &ca);
		if (err == MS_USAGE) {
			diag_error("--auto-enroll: the store has no CA");
			err = MS_CONFIG;
		}
		if (err == MS_OK) {
			err = ca_issue(store, &ca, sender, NULL, "rsa3072",
			    730, &issued);
			ca_free(&ca);
		}
		if (err == MS_OK)
			err = certdb_load(store, issued, NULL, &signer->cert);
		if (err == MS_OK)
			err = certdb_key_load(store, issued, &signer->key);
		if (err == MS_OK)
			diag_info("auto-enrolled %s", sender->text);
	}
	if (err == MS_OK && signer->key != NULL)
		signer->chain = trust_chain(trust, signer->cert);
	if (err != MS_OK || signer->key == NULL)
		smsign_signer_clear(signer);
	g_free(issued);
	if (fprs != NULL)
		g_ptr_array_free(fprs, TRUE);
	return err;
}

void
smsign_signer_clear(smsign_signer *signer)
{
	X509_free(signer->cert);
	EVP_PKEY_free(signer->key);
	sk_X509_pop_free(signer->chain, X509_free);
	memset(signer, 0, sizeof(*signer));
}

/* append_base64 - der in base64 lines onto body */
static ms_err
append_base64(GByteArray *body, const char *der, size_t len)
{
	BIO *b64 = BIO_new(BIO_f_base64()), *mem = BIO_new(BIO_s_mem());
	char *text;
	long n;
	ms_err err = MS_OK;

	if (b64 == NULL || mem == NULL) {
		BIO_free(b64);
		BIO_free(mem);
		return MS_INTERNAL;
	}
	BIO_push(b64, mem);
	if (BIO_write(b64, der, (int)len) != (int)len || BIO_flush(b64) != 1)
		err = MS_TEMP;
	n = BIO_get_mem_data(mem, &text);
	if (err == MS_OK)
		g_byte_array_append(body, (const guint8 *)text, (guint)n);
	BIO_free_all(b64);
	return err;
}

/* append_lf - data with LF line ends onto body */
static void
append_lf(GByteArray *body, const char *data, size_t len)
{
	GByteArray *lf = msg_crlf_to_lf((const guint8 *)data, len);

	g_byte_array_append(body, lf->data, lf->len);
	g_byte_array_free(lf, TRUE);
}

/* append_text - a C string onto body */
static void
append_text(GByteArray *body, const char *text)
{
	g_byte_array_append(body, (const guint8 *)text, (guint)strlen(text));
}

ms_err
smsign_signing_entity(ms_message *msg, msg_entity *e)
{
	msg_problem problem;

	if (msg_signing_entity(msg, e) == MS_OK)
		return MS_OK;
	/* over a parsing limit: a deliberate refusal with its code */
	if (msg_parse_full(msg, &problem) != MS_OK)
		return filter_refuse(msg_problem_status(problem), "%s",
		    msg_problem_text(problem));
	return MS_INTERNAL;
}

ms_err
smsign_sign(ms_message *msg, const smsign_signer *signer,
    const EVP_MD *digest, bool opaque, smsign_entity *out)
{
	BIO *in = NULL, *sig = NULL;
	char *boundary = NULL, *der, *text;
	long der_len;
	msg_entity e;
	ms_err err;

	memset(out, 0, sizeof(*out));
	err = smsign_signing_entity(msg, &e);
	if (err != MS_OK)
		return err;
	in = smime_segments_bio(e.head, e.head_len, e.body, e.body_len);
	sig = BIO_new(BIO_s_mem());
	if (in == NULL || sig == NULL)
		diag_fatal(EXIT_TEMPFAIL, "out of memory");
	err = smime_sign(signer->cert, signer->key, signer->chain, digest,
	    !opaque, e.canonical, in, sig);
	if (err != MS_OK)
		goto done;
	der_len = BIO_get_mem_data(sig, &der);
	out->head = g_string_new(NULL);
	out->body = g_byte_array_new();
	if (opaque) {
		g_string_append(out->head,
		    "Content-Type: application/pkcs7-mime; smime-type=signed-data;\n"
		    " name=\"smime.p7m\"\n"
		    "Content-Transfer-Encoding: base64\n"
		    "Content-Disposition: attachment; filename=\"smime.p7m\"\n\n");
		err = append_base64(out->body, der, (size_t)der_len);
		goto done;
	}
	boundary = msg_boundary_new("=-mailseal-", e.head, e.head_len,
	    e.body, e.body_len);
	/* the signed bytes go out with LF line ends; a receiver makes them
	 * canonical again before verifying (RFC 8551 3.1.1) */
	g_string_append_printf(out->head,
	    "Content-Type: multipart/signed; protocol=\"application/pkcs7-signature\";\n"
	    " micalg=%s; boundary=\"%s\"\n\n",
	    smime_micalg(smime_signing_digest(signer->key, digest)), boundary);
	text = g_strdup_printf(
	    "This is a cryptographically signed message in MIME format.\n\n"
	    "--%s\n", boundary);
	append_text(out->body, text);
	g_free(text);
	append_lf(out->body, e.head, e.head_len);
	append_lf(out->body, e.body, e.body_len);
	text = g_strdup_printf("\n--%s\n"
	    "Content-Type: application/pkcs7-signature; name=\"smime.p7s\"\n"
	    "Content-Transfer-Encoding: base64\n"
	    "Content-Disposition: attachment; filename=\"smime.p7s\"\n"
	    "Content-Description: S/MIME cryptographic signature\n\n",
	    boundary);
	append_text(out->body, text);
	g_free(text);
	err = append_base64(out->body, der, (size_t)der_len);
	if (err == MS_OK) {
		text = g_strdup_printf("\n--%s--\n", boundary);
		append_text(out->body, text);
		g_free(text);
	}
done:
	if (err != MS_OK)
		smsign_entity_clear(out);
	BIO_free(sig);
	BIO_free(in);
	g_free(boundary);
	msg_entity_clear(&e);
	return err;
}

void
smsign_entity_clear(smsign_entity *entity)
{
	if (entity->head != NULL)
		g_string_free(entity->head, TRUE);
	if (entity->body != NULL)
		g_byte_array_free(entity->body, TRUE);
	memset(entity, 0, sizeof(*entity));
}

GString *
smsign_outer_fields(const ms_message *msg)
{
	GString *outer = msg_outer_headers(msg);

	if (!msg_has_field(outer, "MIME-Version"))
		g_string_append(outer, "MIME-Version: 1.0\n");
	return outer;
}

ms_err
smsign_write(const ms_message *msg, const smsign_entity *entity,
    ms_output *out)
{
	GString *outer = smsign_outer_fields(msg);
	ms_err err = output_write(out, outer->str, outer->len);

	if (err == MS_OK)
		err = output_write(out, entity->head->str, entity->head->len);
	if (err == MS_OK)
		err = output_write(out, entity->body->data, entity->body->len);
	g_string_free(outer, TRUE);
	return err;
}
