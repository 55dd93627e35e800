/*
 * reply.h - the reply link of pdfwrap's PDFs (pdf.md section 6): a token
 * for a reply portal that names the message, its internal sender and its
 * external recipient, encrypted and authenticated under the store's reply
 * key so that no address shows in a URL, a proxy log or a referrer.
 *
 * Token: base64url without padding of nonce (24 random octets) and
 * XChaCha20-Poly1305-IETF(key, ad "mailseal-reply-v1", JSON {"v":1,
 * "msgid", "internal_sender", "external_recipient", "subject_hash",
 * "iat", "exp"}).  subject_hash is the lowercase hex SHA-256 of the
 * decoded Subject.  The key is pdf/reply.key in the store: exactly 32
 * octets, mode 0600, shared with the portal; pdf/reply.key.old (the key
 * before a change) still opens tokens.
 *
 * API: reply_key_load() reads the key, reply_token_make() seals claims,
 * reply_token_open() opens a token (or a whole reply URL) and checks its
 * form; the caller compares exp with the time.  Limits: tokens of at
 * most REPLY_TOKEN_MAX characters, claim strings of at most
 * REPLY_CLAIM_MAX octets.
 */
#ifndef MAILSEAL_REPLY_H
#define MAILSEAL_REPLY_H

#include <sodium.h>
#include <stdbool.h>

#include "err.h"
#include "store.h"
#include "mslimits.h"

#define REPLY_KEY_LEN crypto_aead_xchacha20poly1305_ietf_KEYBYTES
#define REPLY_AD "mailseal-reply-v1"

typedef struct reply_claims {
	char *msgid;			/* Message-ID without <>, or "" */
	char *internal_sender;		/* the address of our user */
	char *external_recipient;	/* the PDF's recipient */
	char *subject_hash;		/* 64 lowercase hex */
	long long iat;			/* issued, seconds since the epoch */
	long long exp;			/* expires, seconds since the epoch */
} reply_claims;

/* reply_key_load - pdf/reply.key (old: pdf/reply.key.old) into key;
 * MS_NOTFOUND when absent, MS_CONFIG when it is not 32 octets or others
 * may read it */
ms_err reply_key_load(const ms_store *store, bool old,
    unsigned char key[REPLY_KEY_LEN]);

/* reply_claim_ok - value may be a claim: valid UTF-8 without control
 * characters, at most REPLY_CLAIM_MAX octets */
bool reply_claim_ok(const char *value);

/* reply_subject_hash - lowercase hex SHA-256 of subject (g_free) */
char *reply_subject_hash(const char *subject);

/* reply_claims_json - the claims as the token holds them: one line of
 * JSON with "v":1 (g_free); NULL when a claim is NULL or not UTF-8 */
char *reply_claims_json(const reply_claims *claims);

/* reply_token_seal - the token of len octets of data, sealed as every
 * token is (g_free); reply_token_make seals claims with it */
char *reply_token_seal(const unsigned char key[REPLY_KEY_LEN],
    const void *data, size_t len);

/* reply_token_make - the sealed token of claims (g_free); NULL as for
 * reply_claims_json */
char *reply_token_make(const unsigned char key[REPLY_KEY_LEN],
    const reply_claims *claims);

/* reply_token_open - the claims of token, which may also be a URL whose
 * query holds t=TOKEN; MS_DATA (reason in *why) for a token that is
 * malformed, was not sealed under key or was tampered with */
ms_err reply_token_open(const unsigned char key[REPLY_KEY_LEN],
    const char *token, reply_claims *claims, const char **why);

/* reply_claims_clear - free the strings of claims */
void reply_claims_clear(reply_claims *claims);

#endif
