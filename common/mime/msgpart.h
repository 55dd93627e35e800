/*
 * msgpart.h - the message module's view of the root of a message: what
 * kind of cryptographic envelope it is (only the root counts: DEC-2,
 * VER-2), its header sections, its decoded body, the raw signed bytes of
 * a multipart/signed, the From address (VER-4), and the header and body
 * pieces the filters write.  Together with msg.h this is the only code
 * that interprets message structure.
 */
#ifndef MAILSEAL_MSGPART_H
#define MAILSEAL_MSGPART_H

#include <glib.h>

#include "addr.h"
#include "err.h"
#include "msg.h"
#include "output.h"

typedef enum msg_kind {
	MSG_KIND_PLAIN,			/* no cryptographic root */
	MSG_KIND_SMIME_ENVELOPED,	/* pkcs7-mime enveloped/authEnveloped */
	MSG_KIND_SMIME_OPAQUE,		/* pkcs7-mime signed-data */
	MSG_KIND_SMIME_PKCS7,		/* pkcs7-mime without a usable
					 * smime-type: decided by its DER */
	MSG_KIND_SMIME_DETACHED,	/* multipart/signed, pkcs7-signature */
	MSG_KIND_PGP_ENCRYPTED,		/* multipart/encrypted, pgp */
	MSG_KIND_PGP_SIGNED,		/* multipart/signed, pgp-signature */
	MSG_KIND_SIGNED_MALFORMED,	/* multipart/signed of another shape */
	MSG_KIND_PGP_INLINE_ENCRYPTED,	/* text/plain root with a line
					 * "-----BEGIN PGP MESSAGE-----" */
	MSG_KIND_PGP_INLINE_SIGNED	/* text/plain root with a line
					 * "-----BEGIN PGP SIGNED MESSAGE-----" */
} msg_kind;

/* msg_root_kind - classify the root entity: by its MIME structure, and a
 * text/plain root by the armor lines of its decoded body (whether that
 * is exactly one valid block is the decrypter's and verifier's check) */
msg_kind msg_root_kind(ms_message *msg);

/* msg_root_encrypted - ENC-7: the root is encrypted already, so a filter
 * passes the message on instead of encrypting it again: S/MIME enveloped
 * data whose DER says so, or PGP/MIME of RFC 3156's shape whose second
 * part GPGME identifies as OpenPGP encrypted data.  Never a substring
 * test; inline OpenPGP does not count. */
bool msg_root_encrypted(ms_message *msg);

/* msg_pgp_mime_ciphertext - for a PGP/MIME encrypted root of RFC 3156's
 * shape (two parts, the first application/pgp-encrypted stating
 * "Version: 1"), the decoded second part, at most max bytes; else NULL */
GByteArray *msg_pgp_mime_ciphertext(ms_message *msg, size_t max);

/* msg_root_text - the transfer-decoded body of a single-part text/plain
 * root (a root without Content-Type is text/plain), at most max bytes;
 * MS_NOTFOUND for another root, MS_DATA when it cannot be read */
ms_err msg_root_text(ms_message *msg, size_t max, GByteArray **out);

/* msg_body_offset - where the top-level body starts in msg->raw */
size_t msg_body_offset(const ms_message *msg);


/* msg_outer_headers - the message's own header fields (routing fields,
 * MIME-Version, trace): everything but the root entity's Content-* */
GString *msg_outer_headers(const ms_message *msg);

/* msg_content_headers - the root entity's Content-* fields */
GString *msg_content_headers(const ms_message *msg);

/* msg_root_decoded - the transfer-decoded body of a single-part root,
 * at most max bytes */
ms_err msg_root_decoded(const ms_message *msg, size_t max,
    GByteArray **out);

/* msg_part_content - the transfer-decoded content of a leaf part, at
 * most max bytes (its data pointer is never NULL, even when empty); NULL
 * for a multipart, an unreadable part or more */
GByteArray *msg_part_content(GMimeObject *part, size_t max);

/* msg_signed_parts - for a two-part multipart/signed root: the raw bytes
 * of part 1 in canonical CRLF form, exactly as received (never
 * re-serialised), and the decoded signature of part 2; parses the body
 * of a headers-only message first */
ms_err msg_signed_parts(ms_message *msg, GByteArray **content,
    GByteArray **signature, const char **why);

/* msg_names_recipient - the To or Cc field names addr (a recipient that
 * neither names is a blind one, whose copy must not show it to others) */
bool msg_names_recipient(const ms_message *msg, const ms_addr *addr);

/* msg_from_address - the single From mailbox, parsed by the one address
 * parser; MS_DATA (with *why) for no, several or ambiguous senders */
ms_err msg_from_address(const ms_message *msg, ms_addr *from,
    const char **why);

/* msg_entity_7bit - the root entity (content headers and body) with every
 * part in a 7-bit transfer encoding, in canonical CRLF form: what is
 * signed so the signature survives transport (RFC 8551 3.1); NULL when
 * the message is over a parsing limit */
GByteArray *msg_entity_7bit(ms_message *msg);

/* the entity to sign: one or two pieces; canonical when the pieces are
 * already in CRLF form, else OpenSSL makes the line ends canonical as it
 * hashes (the 7-bit fast path, which never copies the body) */
typedef struct msg_entity {
	const char *head;
	size_t head_len;
	const char *body;
	size_t body_len;
	bool canonical;
	GByteArray *built;	/* owned when the entity was rebuilt */
	GString *headers;	/* owned content header text */
} msg_entity;

/* msg_signing_entity - the entity to sign: the raw content fields and
 * body when the message is 7-bit clean (canonical false: line ends are
 * to be made CRLF while signing), else the entity rebuilt with 7-bit
 * encodings in CRLF form (canonical true); MS_DATA over a limit */
ms_err msg_signing_entity(ms_message *msg, msg_entity *e);

/* msg_entity_clear - free what msg_signing_entity made */
void msg_entity_clear(msg_entity *e);

/* msg_7bit_clean - the whole message is 7-bit text in SMTP's sense (no
 * octet over 127, no NUL, no bare CR, no line over 998 octets) and no
 * line ends in a space or tab, which a relay may strip, or starts with
 * "From ", which an mbox writer changes (RFC 3156 section 5); such a body
 * can be signed as it is, after line ends are made canonical */
bool msg_7bit_clean(const ms_message *msg);

/* msg_header_append - append "Name: value" with control characters in
 * value masked, for our own status fields */
void msg_header_append(GString *out, const char *name, const char *value);

/* msg_output_original - the message as received, with extra (our status
 * fields, may be NULL) after its own header fields; the body is copied
 * byte for byte */
ms_err msg_output_original(ms_output *out, const ms_message *msg,
    const char *extra);

/* the status fields of a failed decryption: one for every failure of the
 * cryptography (DEC-1), one for a message that only a key of another of
 * our recipients could open */
#define MSG_DECRYPT_FAILED "X-Mailseal-Decrypt: failed"
#define MSG_DECRYPT_NOT_FOR_RECIPIENT \
	"X-Mailseal-Decrypt: failed; reason=not-for-recipient"

/* msg_output_decrypt_failed - DEC-1: whatever out holds is dropped and
 * the message as received goes out with MSG_DECRYPT_FAILED, the one
 * visible outcome of every decryption failure, or
 * MSG_DECRYPT_NOT_FOR_RECIPIENT */
ms_err msg_output_decrypt_failed(ms_output *out, const ms_message *msg,
    bool not_for_recipient);

/* msg_output_unwrapped - the outer message's header fields, extra, then
 * an inner entity (decrypted, or unwrapped from opaque signed data) with
 * its line ends made LF.  Inner X-Mailseal-* fields are dropped (DEC-8);
 * an inner field that the outer header also has is dropped, the outer one
 * stays (nothing is "corrected" silently); with check_context, an inner
 * From that differs from the outer From adds
 * X-Mailseal-Decrypt-Context: mismatch (DEC-11).  MS_DATA when the inner
 * entity cannot be parsed. */
ms_err msg_output_unwrapped(ms_output *out, const ms_message *outer,
    const char *extra, const guint8 *entity, size_t len,
    bool check_context);

/* msg_header_texts - the values of every top-level field called name,
 * unfolded, RFC 2047 words decoded, trimmed (UTF-8; g_strfreev) */
char **msg_header_texts(const ms_message *msg, const char *name);

/* msg_header_edit_fn - the new text for a field's decoded value, or NULL
 * to keep the field as it is (g_free'd by the caller) */
typedef char *(*msg_header_edit_fn)(const char *text, void *data);

/* msg_header_edit - pass every top-level field called name through edit;
 * a changed field is encoded (RFC 2047 where needed) and folded anew,
 * every other field keeps its raw bytes.  Returns the number changed. */
unsigned msg_header_edit(ms_message *msg, const char *name,
    msg_header_edit_fn edit, void *data);

/* msg_header_remove - remove every top-level field called name; returns
 * the number removed */
unsigned msg_header_remove(ms_message *msg, const char *name);

/* msg_has_field - does header text hold a field called name */
bool msg_has_field(const GString *headers, const char *name);

/* msg_original_head - the header block msg_output_original writes: the
 * message's own fields, extra (may be NULL), the root's Content-* fields
 * and the empty line (g_string_free) */
GString *msg_original_head(const ms_message *msg, const char *extra);

/* msg_original_body - the body msg_output_original writes, line ends LF:
 * the received bytes themselves when they hold no CR, else a converted
 * copy, which *copy then owns (g_byte_array_free; NULL when none) */
const guint8 *msg_original_body(const ms_message *msg, size_t *len,
    GByteArray **copy);

/* what msg_walk shows of one entity of the tree */
typedef enum msg_node_kind {
	MSG_NODE_HEADERS,	/* the header fields of the message or of an
				 * attached message/rfc822 */
	MSG_NODE_LEAF,		/* a leaf part: msg_part_content(object) */
	MSG_NODE_ENCRYPTED,	/* an S/MIME or OpenPGP encrypted entity:
				 * not readable here */
	MSG_NODE_OPAQUE		/* message/partial, message/external-body:
				 * never reassembled or fetched (row 23); a
				 * multipart in which no part was found */
} msg_node_kind;

typedef struct msg_node {
	msg_node_kind kind;
	const char *path;	/* "1", "2.1"; "" for the top header */
	unsigned depth;		/* 0 for the top header, then MIME-L2's */
	const char *mime_type;	/* lowercase "type/subtype" */
	const char *charset;	/* the charset parameter, or NULL */
	const char *filename;	/* RFC 2231/2047 decoded name, or NULL */
	bool attachment;	/* Content-Disposition: attachment */
	GMimeObject *object;	/* the entity */
	const char *header_text;	/* HEADERS: "Name: value\n" lines,
					 * unfolded and RFC 2047 decoded */
} msg_node;

/* msg_visit_fn - called for every node; false stops the walk */
typedef bool (*msg_visit_fn)(const msg_node *node, void *data);

/* msg_walk - visit the message's header, then every entity of the tree
 * in document order with an explicit stack (no recursion, MIME-L2 was
 * checked when it was read); a multipart/signed is read through, its
 * signature part is a leaf like any other.  MS_USAGE on a headers-only
 * message. */
ms_err msg_walk(const ms_message *msg, msg_visit_fn visit, void *data);

/* msg_leaf_fn - a replacement for leaf (a new reference, or NULL to keep
 * it); an error in *err (MS_OK on entry) stops the walk */
typedef GMimeObject *(*msg_leaf_fn)(GMimeObject *leaf, void *data,
    ms_err *err);

/* msg_multipart_fn - called on each multipart before its parts, which it
 * may remove */
typedef void (*msg_multipart_fn)(GMimeMultipart *multipart, void *data);

/* msg_replace_leaves - for a transform that rewrites the tree: offer
 * every entity of the parsed message that is not a multipart (an attached
 * message/rfc822 counts as one, its inside is not entered) to leaf, in
 * document order, and put what it returns in its place; each multipart
 * goes to multipart (may be NULL) first.  Without recursion, MIME-L2 was
 * checked when the message was read.  Returns the first error. */
ms_err msg_replace_leaves(ms_message *msg, msg_leaf_fn leaf,
    msg_multipart_fn multipart, void *data);

/* msg_crlf_to_lf - CRLF line ends to LF (for output towards sendmail) */
GByteArray *msg_crlf_to_lf(const guint8 *data, size_t len);

#endif
