/*
 * pgenc.h - OpenPGP encryption of a whole message as a library call,
 * through GPGME: PGP/MIME (RFC 3156) of an entity held in memory, or
 * PGP/INLINE (every part encrypted in place) of a parsed message.
 *
 * API: pgenc_collect() finds the keys that cover the recipients (their
 * own usable keys and their domains' pgp-domain-key, KEY-1) and whether
 * every recipient asks for PGP/INLINE; then pgenc_encrypt_entity() or
 * pgenc_encrypt_inline() writes the encrypted message.  Used by pgp-enc(1)
 * and by mailseal-filter(1), in process.  Errors: a checked key gpg will
 * not use is a refusal (5.7.1, MS_POLICY); a failure of gpg is MS_TEMP.
 */
#ifndef MAILSEAL_PGENC_H
#define MAILSEAL_PGENC_H

#include <glib.h>
#include <gpgme.h>
#include <stdbool.h>

#include "err.h"
#include "msg.h"
#include "output.h"
#include "store.h"

/* pgenc_collect - every usable key of every recipient (NULL-terminated
 * list of addresses) and its domain's pgp-domain-key, once per
 * fingerprint, appended to keys (gpgme_key_t, referenced: free with
 * pgp_keys_free); the recipients no key covers, listed in uncovered;
 * *all_inline when every recipient's pgp-format is inline */
ms_err pgenc_collect(gpgme_ctx_t pgp, const ms_store *store,
    const char *const *recipients, GPtrArray *keys, GString *uncovered,
    bool *all_inline);

/* pgenc_encrypt_entity - a PGP/MIME message to keys: outer (the
 * message's own fields and ours), then the entity head (its content
 * fields and the empty line) and body encrypted, in canonical form, as it
 * is held in memory; with hide the key IDs are left out */
ms_err pgenc_encrypt_entity(gpgme_ctx_t pgp, const GString *outer,
    const char *head, size_t head_len, const char *body, size_t body_len,
    GPtrArray *keys, bool hide, ms_output *out);

/* pgenc_encrypt_inline - msg with every text part replaced by its
 * armored ciphertext and every other part by an attachment NAME.pgp;
 * msg's tree is changed (parsed in full first) */
ms_err pgenc_encrypt_inline(gpgme_ctx_t pgp, ms_message *msg,
    GPtrArray *keys, bool hide, ms_output *out);

#endif
