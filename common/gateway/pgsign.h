/*
 * pgsign.h - OpenPGP signing of a whole message as a library call,
 * through GPGME (gpg runs as GPGME starts it): PGP/MIME (RFC 3156) or a
 * cleartext signature of a plain text message, as the signed entity's
 * content fields and body (smsign.h), so that a signed copy is written
 * or encrypted as it stands.  The signed part is made 7-bit safe and
 * canonical first, as for S/MIME (ENC-3).
 *
 * API: pgsign_choose_signer() once per sender on a context of pgp_open();
 * pgsign_sign() per message, or pgsign_sign_parts() and pgsign_send() to
 * write the signed message without copying its body.  Used by
 * pgp-sign(1) and by mailseal-filter(1), in process.  Errors: no key
 * for the sender is MS_NOTFOUND; a failure of gpg is MS_TEMP.
 */
#ifndef MAILSEAL_PGSIGN_H
#define MAILSEAL_PGSIGN_H

#include <gpgme.h>
#include <stdbool.h>
#include <sys/uio.h>

#include "addr.h"
#include "err.h"
#include "msg.h"
#include "smsign.h"

/* pgsign_choose_signer - the sender's newest usable signing key becomes
 * the context's one signer; MS_NOTFOUND when the sender has none (the
 * caller says what that means: a refusal for pgp-sign) */
ms_err pgsign_choose_signer(gpgme_ctx_t pgp, const ms_addr *sender);

/* pgsign_sign - msg signed with the context's signer: with cleartext, a
 * text/plain root whose text is UTF-8 gets a cleartext signature, any
 * other message PGP/MIME */
ms_err pgsign_sign(gpgme_ctx_t pgp, ms_message *msg, bool cleartext,
    smsign_entity *out);

/* the signed entity in pieces: its content fields, then its body as a
 * list of pieces (struct iovec, LF line ends) that point into the message
 * or into buffers the parts own */
typedef struct pgsign_parts {
	GString *head;
	GArray *body;		/* struct iovec */
	GPtrArray *owned;	/* what the pieces point into, but msg */
} pgsign_parts;

/* pgsign_sign_parts - pgsign_sign, its body left in pieces; they point
 * into msg, which must outlive them */
ms_err pgsign_sign_parts(gpgme_ctx_t pgp, ms_message *msg, bool cleartext,
    pgsign_parts *out);

/* pgsign_parts_clear - free what pgsign_sign_parts made */
void pgsign_parts_clear(pgsign_parts *parts);

/* pgsign_send - the signed message, msg's own fields and then parts,
 * straight to standard output (output_send): every piece is complete in
 * memory before the first byte is written */
ms_err pgsign_send(const ms_message *msg, const pgsign_parts *parts);

#endif
