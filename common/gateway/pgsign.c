/*
 * pgsign.c - OpenPGP signing of a whole message (pgsign.h): the one code
 * path behind pgp-sign(1) and the OpenPGP signed copies of
 * mailseal-filter(1).
 */
#include "pgsign.h"
#include "msgwrite.h"
#include "diag.h"
#include "filter.h"
#include "mslimits.h"
#include "msgpart.h"
#include "pgp.h"

#include <string.h>

/* free_bytes - a GDestroyNotify for the buffers pgsign_parts owns */
static void
free_bytes(gpointer bytes)
{
	g_byte_array_free(bytes, TRUE);
}

/* parts_add - a piece of the body that stays where it is: data must
 * live as long as the parts (the message, or a buffer the parts own) */
static void
parts_add(pgsign_parts *parts, const void *data, size_t len)
{
	struct iovec piece = { (void *)data, len };

	if (len > 0)
		g_array_append_val(parts->body, piece);
}

/* parts_add_lf - a piece of the body with LF line ends: text without CR
 * is taken where it is when it lives as long as the parts (stays), else
 * it is copied, and converted when it has a CR */
static void
parts_add_lf(pgsign_parts *parts, const char *data, size_t len, bool stays)
{
	GByteArray *copy;

	if (len == 0)
		return;
	if (memchr(data, '\r', len) != NULL)
		copy = msg_crlf_to_lf((const guint8 *)data, len);
	else if (stays) {
		parts_add(parts, data, len);
		return;
	} else {
		copy = g_byte_array_sized_new((guint)len);
		g_byte_array_append(copy, (const guint8 *)data, (guint)len);
	}
	g_ptr_array_add(parts->owned, copy);
	parts_add(parts, copy->data, copy->len);
}

/* parts_add_text - our own text, copied into the parts */
static void
parts_add_text(pgsign_parts *parts, const GString *text)
{
	parts_add_lf(parts, text->str, text->len, false);
}

static void
parts_init(pgsign_parts *parts)
{
	parts->head = g_string_new(NULL);
	parts->body = g_array_new(FALSE, FALSE, sizeof(struct iovec));
	parts->owned = g_ptr_array_new_with_free_func(free_bytes);
}

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
sign_mime(gpgme_ctx_t pgp, ms_message *msg, pgsign_parts *out)
{
	gpgme_data_t plain = NULL, sig = NULL;
	char *boundary = NULL, *alg = NULL, *sigtext = NULL;
	size_t siglen = 0;
	gpgme_error_t gerr;
	msg_entity e;
	ms_err err;

	err = smsign_signing_entity(msg, &e);
	if (err != MS_OK)
		return err;
	/* the signed bytes are canonical CRLF; what goes out is LF, which a
	 * receiver makes canonical again before verifying */
	err = pgp_data_entity(e.head, e.head_len, e.body, e.body_len, true,
	    &plain);
	if (err == MS_OK && gpgme_data_new(&sig))
		err = MS_INTERNAL;
	if (err == MS_OK) {
		gpgme_set_armor(pgp, 1);
		gerr = pgp_sign_detached(pgp, plain, sig,
		    GPGME_SIG_MODE_DETACH);
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
		GString *text = g_string_new(NULL);

		boundary = msg_boundary_new("=-mailseal-pgp-", e.head,
		    e.head_len, e.body, e.body_len);
		parts_init(out);
		g_string_append_printf(out->head,
		    "Content-Type: multipart/signed;"
		    " protocol=\"application/pgp-signature\";\n"
		    " micalg=%s; boundary=\"%s\"\n\n",
		    alg, boundary);
		g_string_printf(text,
		    "This is an OpenPGP/MIME signed message (RFC 4880 and 3156).\n"
		    "--%s\n", boundary);
		parts_add_text(out, text);
		/* the raw body of a 7-bit message is written where it is;
		 * a rebuilt entity belongs to e and is copied */
		parts_add_lf(out, e.head, e.head_len, false);
		parts_add_lf(out, e.body, e.body_len, e.built == NULL);
		g_string_printf(text, "\n--%s\n"
		    "Content-Type: application/pgp-signature; name=\"signature.asc\"\n"
		    "Content-Description: OpenPGP digital signature\n"
		    "Content-Disposition: attachment; filename=\"signature.asc\"\n\n",
		    boundary);
		g_string_append_len(text, sigtext, (gssize)siglen);
		g_string_append_printf(text, "\n--%s--\n", boundary);
		parts_add_text(out, text);
		g_string_free(text, TRUE);
	}
	if (sigtext != NULL)
		gpgme_free(sigtext);
	gpgme_data_release(sig);
	gpgme_data_release(plain);
	g_free(alg);
	g_free(boundary);
	msg_entity_clear(&e);
	return err;
}

/* sign_inline - a cleartext signature over the text of a text/plain
 * root; false when the message is not such a message */
static ms_err
sign_inline(gpgme_ctx_t pgp, ms_message *msg, pgsign_parts *out, bool *done)
{
	GByteArray *text = NULL;
	gpgme_data_t plain = NULL, signed_text = NULL;
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
	parts_init(out);
	g_string_assign(out->head, "Content-Type: text/plain; charset=utf-8\n"
	    "Content-Transfer-Encoding: 8bit\n\n");
	parts_add_lf(out, data, len, false);
	gpgme_free(data);
	return MS_OK;
}

ms_err
pgsign_choose_signer(gpgme_ctx_t pgp, const ms_addr *sender)
{
	GPtrArray *keys = NULL;
	gpgme_key_t best;
	ms_err err;

	err = pgp_find_keys(pgp, sender, PGP_PURPOSE_SIGN, &keys, NULL);
	if (err != MS_OK) {
		pgp_keys_free(keys);	/* the empty list it made */
		return err;
	}
	/* one signature per message, by the newest usable key */
	best = g_ptr_array_index(keys, 0);
	for (guint i = 1; i < keys->len; i++) {
		gpgme_key_t k = g_ptr_array_index(keys, i);

		if (k->subkeys && best->subkeys &&
		    k->subkeys->timestamp > best->subkeys->timestamp)
			best = k;
	}
	gpgme_signers_clear(pgp);
	if (gpgme_signers_add(pgp, best))
		err = MS_INTERNAL;
	pgp_keys_free(keys);
	return err;
}

ms_err
pgsign_sign_parts(gpgme_ctx_t pgp, ms_message *msg, bool cleartext,
    pgsign_parts *out)
{
	bool done = false;
	ms_err err = MS_OK;

	memset(out, 0, sizeof(*out));
	if (cleartext)
		err = sign_inline(pgp, msg, out, &done);
	if (err == MS_OK && !done)
		err = sign_mime(pgp, msg, out);
	if (err != MS_OK)
		pgsign_parts_clear(out);
	return err;
}

void
pgsign_parts_clear(pgsign_parts *parts)
{
	if (parts->head != NULL)
		g_string_free(parts->head, TRUE);
	parts->head = NULL;
	g_clear_pointer(&parts->body, g_array_unref);
	g_clear_pointer(&parts->owned, g_ptr_array_unref);
}

ms_err
pgsign_sign(gpgme_ctx_t pgp, ms_message *msg, bool cleartext,
    smsign_entity *out)
{
	pgsign_parts parts;
	size_t len = 0;
	ms_err err;

	memset(out, 0, sizeof(*out));
	err = pgsign_sign_parts(pgp, msg, cleartext, &parts);
	if (err != MS_OK)
		return err;
	for (guint i = 0; i < parts.body->len; i++)
		len += g_array_index(parts.body, struct iovec, i).iov_len;
	/* sized once: no copies as the body grows */
	out->body = g_byte_array_sized_new((guint)len);
	for (guint i = 0; i < parts.body->len; i++) {
		struct iovec *piece = &g_array_index(parts.body, struct iovec,
		    i);

		g_byte_array_append(out->body, piece->iov_base,
		    (guint)piece->iov_len);
	}
	out->head = parts.head;
	parts.head = NULL;
	pgsign_parts_clear(&parts);
	return MS_OK;
}

ms_err
pgsign_send(const ms_message *msg, const pgsign_parts *parts)
{
	GString *outer = smsign_outer_fields(msg);
	struct iovec *iov = g_new(struct iovec, parts->body->len + 2);
	ms_err err;

	iov[0] = (struct iovec){ outer->str, outer->len };
	iov[1] = (struct iovec){ parts->head->str, parts->head->len };
	for (guint i = 0; i < parts->body->len; i++)
		iov[i + 2] = g_array_index(parts->body, struct iovec, i);
	err = output_send(iov, (int)parts->body->len + 2);
	g_free(iov);
	g_string_free(outer, TRUE);
	return err;
}
