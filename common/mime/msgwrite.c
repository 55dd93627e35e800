/*
 * msgwrite.c - the one MIME writer (see msgwrite.h).  The frames are
 * fixed text: every parameter we write is our own (a digest name, a
 * boundary from msg_boundary_new, a file name we chose), never text taken
 * from a message, so nothing here needs quoting or encoding.
 */
#include "msgwrite.h"
#include "diag.h"
#include "msgpart.h"

#include <sodium.h>
#include <string.h>

char *
msg_boundary_new(const char *prefix, const char *avoid, size_t avoid_len,
    const char *avoid2, size_t avoid2_len)
{
	for (;;) {
		GString *b = g_string_new(prefix);
		guint8 rnd[12];

		randombytes_buf(rnd, sizeof(rnd));
		for (size_t i = 0; i < sizeof(rnd); i++)
			g_string_append_printf(b, "%02x", rnd[i]);
		if ((avoid_len == 0 ||
		    memmem(avoid, avoid_len, b->str, b->len) == NULL) &&
		    (avoid2_len == 0 ||
		    memmem(avoid2, avoid2_len, b->str, b->len) == NULL))
			return g_string_free(b, FALSE);
		g_string_free(b, TRUE);
	}
}

/* root_is_multipart - the root type has parts and a boundary */
static bool
root_is_multipart(msg_root_type type)
{
	return type == MSG_ROOT_SIGNED_SMIME || type == MSG_ROOT_SIGNED_PGP ||
	    type == MSG_ROOT_ENCRYPTED_PGP || type == MSG_ROOT_MIXED;
}

/* multipart_fields - a multipart root's Content-Type with our own
 * parameters, the empty line and the preamble for readers without MIME */
static void
multipart_fields(GString *s, const char *subtype, const char *protocol,
    const char *micalg, const char *boundary, const char *preamble)
{
	g_string_append_printf(s, "Content-Type: multipart/%s;", subtype);
	if (protocol != NULL)
		g_string_append_printf(s, " protocol=\"%s\";\n", protocol);
	if (micalg != NULL)
		g_string_append_printf(s, " micalg=%s;", micalg);
	g_string_append_printf(s, " boundary=\"%s\"\n\n%s\n", boundary,
	    preamble);
}

/* root_fields - the root's Content-* fields and, for a multipart, the
 * empty line and the preamble */
static void
root_fields(GString *s, const msg_root *root)
{
	const char *smime_type = NULL;

	switch (root->type) {
	case MSG_ROOT_SIGNED_SMIME:
		multipart_fields(s, "signed", "application/pkcs7-signature",
		    root->micalg, root->boundary, "This is a cryptographically "
		    "signed message in MIME format.\n");
		return;
	case MSG_ROOT_SIGNED_PGP:
		multipart_fields(s, "signed", "application/pgp-signature",
		    root->micalg, root->boundary, "This is an OpenPGP/MIME "
		    "signed message (RFC 4880 and 3156).");
		return;
	case MSG_ROOT_ENCRYPTED_PGP:
		multipart_fields(s, "encrypted", "application/pgp-encrypted",
		    NULL, root->boundary, "This is an OpenPGP/MIME encrypted "
		    "message (RFC 4880 and 3156).");
		return;
	case MSG_ROOT_MIXED:
		multipart_fields(s, "mixed", NULL, NULL, root->boundary,
		    "This is a message in MIME format.\n");
		return;
	case MSG_ROOT_ENVELOPED:
		smime_type = "enveloped-data";
		break;
	case MSG_ROOT_AUTH_ENVELOPED:
		smime_type = "authEnveloped-data";
		break;
	case MSG_ROOT_OPAQUE_SIGNED:
		smime_type = "signed-data";
		break;
	case MSG_ROOT_TEXT:
		g_string_append_printf(s, "Content-Type: text/plain; "
		    "charset=%s\nContent-Transfer-Encoding: %s\n\n",
		    root->charset, root->encoding);
		return;
	}
	g_string_append_printf(s, "Content-Type: application/pkcs7-mime; "
	    "smime-type=%s;\n name=\"smime.p7m\"\n"
	    "Content-Transfer-Encoding: base64\n"
	    "Content-Disposition: attachment; filename=\"smime.p7m\"\n%s\n",
	    smime_type, root->type == MSG_ROOT_OPAQUE_SIGNED ? "" :
	    "Content-Description: S/MIME encrypted message\n");
}

ms_err
msg_write_root(ms_output *out, const GString *outer, msg_root *root)
{
	GString *s = g_string_new(outer->str);
	ms_err err;

	root->parts = 0;
	if (root_is_multipart(root->type) && root->boundary == NULL)
		root->boundary = msg_boundary_new("=-mailseal-", outer->str,
		    outer->len, NULL, 0);
	if (!msg_has_field(outer, "MIME-Version"))
		g_string_append(s, "MIME-Version: 1.0\n");
	root_fields(s, root);
	err = output_write(out, s->str, s->len);
	g_string_free(s, TRUE);
	return err;
}

ms_err
msg_write_part(ms_output *out, msg_root *root, msg_part_type type,
    const char *name)
{
	GString *s = g_string_new(NULL);
	ms_err err;

	/* the line end before a delimiter belongs to the delimiter; the
	 * first one follows the preamble's own */
	g_string_append_printf(s, "%s--%s\n", root->parts++ == 0 ? "" : "\n",
	    root->boundary);
	switch (type) {
	case MSG_PART_CONTENT:
		break;
	case MSG_PART_SMIME_SIGNATURE:
		g_string_append(s, "Content-Type: application/pkcs7-signature; "
		    "name=\"smime.p7s\"\nContent-Transfer-Encoding: base64\n"
		    "Content-Disposition: attachment; filename=\"smime.p7s\"\n"
		    "Content-Description: S/MIME cryptographic signature\n\n");
		break;
	case MSG_PART_PGP_SIGNATURE:
		g_string_append(s, "Content-Type: application/pgp-signature; "
		    "name=\"signature.asc\"\n"
		    "Content-Description: OpenPGP digital signature\n"
		    "Content-Disposition: attachment; "
		    "filename=\"signature.asc\"\n\n");
		break;
	case MSG_PART_PGP_VERSION:
		g_string_append(s, "Content-Type: application/pgp-encrypted\n"
		    "Content-Description: PGP/MIME version identification\n\n"
		    "Version: 1\n");
		break;
	case MSG_PART_PGP_CIPHERTEXT:
		g_string_append(s, "Content-Type: application/octet-stream; "
		    "name=\"encrypted.asc\"\n"
		    "Content-Description: OpenPGP encrypted message\n"
		    "Content-Disposition: inline; filename=\"encrypted.asc\"\n\n");
		break;
	case MSG_PART_TEXT:
		g_string_append(s, "Content-Type: text/plain; charset=utf-8\n"
		    "Content-Transfer-Encoding: base64\n\n");
		break;
	case MSG_PART_ATTACHMENT:
		g_string_append_printf(s, "Content-Type: %s; name=\"%s\"\n"
		    "Content-Transfer-Encoding: base64\n"
		    "Content-Disposition: attachment; filename=\"%s\"\n\n",
		    g_str_has_suffix(name, ".pdf") ? "application/pdf" :
		    "application/octet-stream", name, name);
		break;
	}
	err = output_write(out, s->str, s->len);
	g_string_free(s, TRUE);
	return err;
}

ms_err
msg_write_close(ms_output *out, msg_root *root)
{
	char *end = g_strdup_printf("\n--%s--\n", root->boundary);
	ms_err err = output_write(out, end, strlen(end));

	g_free(end);
	return err;
}

BIO *
msg_base64_bio(ms_output *out)
{
	BIO *b64 = BIO_new(BIO_f_base64());

	if (b64 == NULL)
		diag_fatal(EXIT_TEMPFAIL, "out of memory");
	BIO_push(b64, output_bio(out));
	return b64;
}

ms_err
msg_base64_bio_end(BIO *b64)
{
	ms_err err = BIO_flush(b64) == 1 ? MS_OK : MS_TEMP;

	BIO_pop(b64);
	BIO_free(b64);
	return err;
}

ms_err
msg_write_base64(ms_output *out, const void *data, size_t len)
{
	BIO *b64 = msg_base64_bio(out);
	ms_err err = MS_OK;

	/* BIO_write takes an int: large contents go in pieces */
	for (size_t at = 0; err == MS_OK && at < len;) {
		int n = (int)MIN(len - at, (size_t)1 << 30);

		if (BIO_write(b64, (const char *)data + at, n) != n)
			err = MS_TEMP;
		at += (size_t)n;
	}
	if (msg_base64_bio_end(b64) != MS_OK)
		err = MS_TEMP;
	return err;
}

void
msg_root_clear(msg_root *root)
{
	g_free(root->boundary);
	root->boundary = NULL;
}
