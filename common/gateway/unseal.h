/*
 * unseal.h - opening incoming mail: S/MIME and OpenPGP decryption and
 * signature verification as transforms on a parsed message, used by
 * smime-dec, pgp-dec, smime-verify, pgp-verify and mailseal-filter
 * --incoming (which runs a decryption and then a verification in one
 * process, on the message it parsed once).
 *
 * API: unseal_init() a context on the store; each transform looks at the
 * root of msg only (DEC-2, VER-2) and returns a typed result.  A
 * decryption writes the decrypted message, or the message as received
 * marked "X-Mailseal-Decrypt: failed" (DEC-1), to out; when the root is
 * not encrypted it writes nothing (UNSEAL_NOT_ENCRYPTED) and msg stands.
 * A verification writes msg with extra (status fields an earlier step
 * decided) and X-Mailseal-Signature to out.  The transforms neither strip
 * incoming X-Mailseal-* fields (the caller does, DEC-8, before the first
 * transform) nor commit out.
 */
#ifndef MAILSEAL_UNSEAL_H
#define MAILSEAL_UNSEAL_H

#include <gpgme.h>
#include <stdbool.h>

#include "trust.h"
#include "decrypt.h"
#include "err.h"
#include "msg.h"
#include "output.h"
#include "smime.h"
#include "store.h"

typedef struct unseal_ctx {
	ms_store *store;
	const ms_settings *settings;	/* the global settings */
	const char *passphrase_file;	/* OpenPGP: NULL for the setting */
	bool learn;		/* S/MIME: learn valid signers (KEY-2, 7) */
	ms_trust *trust;	/* opened on first need */
	gpgme_ctx_t pgp;	/* opened on first need */
	/* the envelope recipients: a decryption uses only a key bound to
	 * one of them (its own certificate or key, or the smime-domain-cert
	 * or pgp-domain-key of its domain); NULL: any key of the store, for
	 * a filter run by hand without an envelope */
	const ms_addr *rcpts;
	size_t nrcpts;
	/* after a decryption: served[i] when the key that opened it is bound
	 * to rcpts[i], whom alone the plaintext may reach (the caller's
	 * array of nrcpts) */
	bool *served;
	ms_settings **rcpt_settings;	/* each recipient's, on first need */
} unseal_ctx;

typedef enum unseal_outcome {
	UNSEAL_NOT_ENCRYPTED,	/* nothing written: msg stands as it is */
	UNSEAL_DECRYPTED,	/* out holds the decrypted message */
	UNSEAL_DECRYPT_FAILED	/* out holds msg marked failed (DEC-1), or
				 * not for the recipients (failure
				 * DECRYPT_NOT_FOR_RECIPIENT) */
} unseal_outcome;

typedef struct unseal_decryption {
	unseal_outcome outcome;
	decrypt_failure failure;	/* why, when failed */
	char key[65];		/* decrypted: the fingerprint of the key that
				 * opened it (its certificate's SHA-256, or
				 * the OpenPGP key's), for the log; else "" */
} unseal_decryption;

/* unseal_init - a context on store and its global settings;
 * unseal_clear releases it */
void unseal_init(unseal_ctx *ctx, ms_store *store,
    const ms_settings *settings);
void unseal_clear(unseal_ctx *ctx);

/* unseal_recipients - the envelope recipients the next decryption is for
 * (see unseal_ctx), and served, an array of n that it fills */
void unseal_recipients(unseal_ctx *ctx, const ms_addr *rcpts, size_t n,
    bool *served);

/* unseal_smime_decrypt - decrypt an S/MIME enveloped root; MS_TEMP when
 * the key store failed (the message waits), else MS_OK with *res */
ms_err unseal_smime_decrypt(unseal_ctx *ctx, ms_message *msg,
    ms_output *out, unseal_decryption *res);

/* unseal_pgp_decrypt - decrypt a PGP/MIME encrypted root, or a text/plain
 * root that is exactly one armored OpenPGP message; MS_TEMP or MS_CONFIG
 * when gpg-agent or the passphrase failed */
ms_err unseal_pgp_decrypt(unseal_ctx *ctx, ms_message *msg, ms_output *out,
    unseal_decryption *res);

/* unseal_pgp_wants - the root is for the OpenPGP transforms: PGP/MIME,
 * or a text/plain root that is one armored message or one cleartext-
 * signed block */
bool unseal_pgp_wants(ms_message *msg);

/* unseal_read_decrypted - the message a decryption wrote to out, read
 * (headers only) and parsed with the limits, to be verified next; a limit
 * is a refusal as for the message received (filter_problem) */
ms_err unseal_read_decrypted(ms_output *out, ms_message **msg);

/* unseal_message_free - wipe a decrypted message's bytes, then free it */
void unseal_message_free(ms_message *msg);

/* unseal_smime_verify - verify an S/MIME signature at the root (opaque
 * signed data is delivered unwrapped); *status for the caller */
ms_err unseal_smime_verify(unseal_ctx *ctx, ms_message *msg,
    const char *extra, ms_output *out, sig_status *status);

/* unseal_pgp_verify - verify an OpenPGP signature at the root (PGP/MIME or
 * cleartext-signed text/plain) */
ms_err unseal_pgp_verify(unseal_ctx *ctx, ms_message *msg,
    const char *extra, ms_output *out, sig_status *status);

/* unseal_pgp_signer_status - VER-8 for a signer's key from its
 * pgp_key_flag bits: not bound to the From address is a mismatch, a
 * revoked key revoked, any other reason untrusted */
sig_status unseal_pgp_signer_status(unsigned key_flags);

#endif
