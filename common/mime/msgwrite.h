/*
 * msgwrite.h - the message module's one MIME writer: the new root entity
 * a filter writes (multipart/signed, application/pkcs7-mime,
 * multipart/encrypted, multipart/mixed, or a single text part) after the
 * message's own header fields, its parts' frames, and one boundary
 * generator.  The contents between the frame pieces (a signed entity, a
 * CMS object, an armored OpenPGP message) are streamed by the caller to
 * the same output, so nothing is joined in memory.  Line ends are LF.
 *
 *	msg_write_root(out, outer, &root)	header, root fields, preamble
 *	msg_write_part(out, &root, fields)	"--boundary" and a part header
 *	... the part's content ...
 *	msg_write_close(out, &root)		the closing delimiter
 */
#ifndef MAILSEAL_MSGWRITE_H
#define MAILSEAL_MSGWRITE_H

#include <glib.h>
#include <openssl/evp.h>
#include <stdbool.h>

#include "err.h"
#include "output.h"

/* the root entities the filters write */
typedef enum msg_root_type {
	MSG_ROOT_SIGNED_SMIME,	/* multipart/signed, pkcs7-signature */
	MSG_ROOT_SIGNED_PGP,	/* multipart/signed, pgp-signature */
	MSG_ROOT_ENCRYPTED_PGP,	/* multipart/encrypted, pgp-encrypted */
	MSG_ROOT_MIXED,		/* multipart/mixed */
	MSG_ROOT_ENVELOPED,	/* application/pkcs7-mime enveloped-data */
	MSG_ROOT_AUTH_ENVELOPED,	/* ... authEnveloped-data */
	MSG_ROOT_OPAQUE_SIGNED,	/* ... signed-data */
	MSG_ROOT_TEXT		/* text/plain; charset, an encoding */
} msg_root_type;

/* the parts the filters write inside a multipart root */
typedef enum msg_part_type {
	MSG_PART_CONTENT,	/* the signed entity: its own fields follow */
	MSG_PART_SMIME_SIGNATURE,	/* smime.p7s, base64 */
	MSG_PART_PGP_SIGNATURE,	/* signature.asc */
	MSG_PART_PGP_VERSION,	/* application/pgp-encrypted, Version: 1 */
	MSG_PART_PGP_CIPHERTEXT,	/* encrypted.asc */
	MSG_PART_TEXT,		/* text/plain; charset=utf-8, base64 */
	MSG_PART_ATTACHMENT	/* a named attachment, base64 */
} msg_part_type;

typedef struct msg_root {
	msg_root_type type;
	const char *micalg;	/* SIGNED_*: "sha-256", "pgp-sha512" */
	const char *charset;	/* TEXT: the charset parameter */
	const char *encoding;	/* TEXT: "8bit", "base64" */
	char *boundary;		/* multiparts: set by msg_write_root */
	unsigned parts;		/* parts begun so far */
} msg_root;

/* msg_boundary_new - a random MIME boundary: prefix and 24 hex digits
 * from libsodium, checked to occur nowhere in avoid (avoid_len octets,
 * may be empty); g_free */
char *msg_boundary_new(const char *prefix, const char *avoid,
    size_t avoid_len, const char *avoid2, size_t avoid2_len);

/* msg_write_root - the message's own fields (outer, as from
 * msg_outer_headers, our status fields included), MIME-Version when
 * missing, the root's Content-* fields, the empty line and, for a
 * multipart, the preamble; a multipart root needs root->boundary set
 * (msg_boundary_new), else one is made that occurs nowhere in outer */
ms_err msg_write_root(ms_output *out, const GString *outer, msg_root *root);

/* msg_write_part - begin a part of a multipart root: the delimiter and,
 * but for MSG_PART_CONTENT, the part's header and empty line; name is
 * the file name of an ATTACHMENT (type application/pdf when it ends in
 * ".pdf", else application/octet-stream) */
ms_err msg_write_part(ms_output *out, msg_root *root, msg_part_type type,
    const char *name);

/* msg_write_close - the closing delimiter of a multipart root */
ms_err msg_write_close(ms_output *out, msg_root *root);

/* msg_write_base64 - data in base64, lines of 64 characters */
ms_err msg_write_base64(ms_output *out, const void *data, size_t len);

/* msg_base64_bio - a BIO that writes base64 lines to out, for content
 * produced by OpenSSL; msg_base64_bio_end flushes and frees it */
BIO *msg_base64_bio(ms_output *out);
ms_err msg_base64_bio_end(BIO *b64);

/* msg_root_clear - free what msg_write_root made */
void msg_root_clear(msg_root *root);

#endif
