/*
 * smime.h - CMS operations for the S/MIME filters: encryption to
 * recipient certificates, decryption with the key store after our own
 * parameter allow-list (DEC-4), signing with SMIMECapabilities, and
 * verification that classifies every outcome (VER-1..VER-9).
 *
 * API: smime_encrypt() and smime_sign() stream DER into a BIO;
 * smime_check_enveloped() and smime_decrypt() take a bounded DER buffer
 * and release plaintext only after CMS_decrypt succeeded, which for
 * AES-GCM includes the tag check (DEC-3), or say why not as a
 * decrypt_failure; smime_verify() fills a sig_result.  Capabilities learned from verified mail live in
 * caps/FPR (KEY-7).
 *
 * Limits (OpenSSL 3.0): Ed25519 signatures (RFC 8419) are signed and
 * checked here beside OpenSSL's CMS layer, which cannot; Ed448 signatures
 * and X25519/X448 key agreement (RFC 8418) are not supported.
 */
#ifndef MAILSEAL_SMIME_H
#define MAILSEAL_SMIME_H

#include <openssl/cms.h>
#include <stdbool.h>

#include "addr.h"
#include "cert.h"
#include "trust.h"
#include "decrypt.h"
#include "err.h"
#include "store.h"

/* smime_cipher_by_name - aes256-cbc, aes128-cbc, aes256-gcm, aes128-gcm */
const EVP_CIPHER *smime_cipher_by_name(const char *name);

/* smime_segments_bio - a BIO reading a[0..alen) then b[0..blen) */
BIO *smime_segments_bio(const char *a, size_t alen, const char *b,
    size_t blen);

/* smime_encrypt - EnvelopedData (CBC) or AuthEnvelopedData (GCM) of in
 * for every certificate, as BER streamed into out; line ends of in are
 * made canonical (CRLF) on the way */
ms_err smime_encrypt(STACK_OF(X509) *certs, const EVP_CIPHER *cipher,
    bool oaep, BIO *in, BIO *out);

/* smime_signing_digest - the digest a signature by key uses: wanted for
 * RSA and ECDSA, SHA-512 for Ed25519 (RFC 8419); NULL for a key type we
 * cannot sign with (Ed448, key agreement keys) */
const EVP_MD *smime_signing_digest(const EVP_PKEY *key, const EVP_MD *wanted);

/* smime_sign - SignedData of in (detached or with content) by signer,
 * chain included, our SMIMECapabilities, DER streamed into out; in is
 * taken as it is when canonical, else its line ends are made CRLF.  The
 * digest is smime_signing_digest(key, digest). */
ms_err smime_sign(X509 *signer, EVP_PKEY *key, STACK_OF(X509) *chain,
    const EVP_MD *digest, bool detached, bool canonical, BIO *in, BIO *out);

/* smime_micalg - the micalg parameter for a digest ("sha-256", ...) */
const char *smime_micalg(const EVP_MD *digest);

/* smime_check_enveloped - DEC-4 on a DER ContentInfo: the content type,
 * recipient info types, cipher, IV or nonce and tag length must be on our
 * allow-list; *aead tells AuthEnvelopedData.  MS_DATA with *why. */
ms_err smime_check_enveloped(const unsigned char *der, size_t len,
    bool *aead, const char **why);

/* smime_enveloped_ok - smime_check_enveloped that also says which kind of
 * failure it found (*failure; *why is the detail for the log) */
ms_err smime_enveloped_ok(const unsigned char *der, size_t len, bool *aead,
    decrypt_failure *failure, const char **why);

/* smime_key_filter - may the private key of the certificate fpr open
 * this message?  (the envelope recipients' keys only) */
typedef bool (*smime_key_filter)(const char *fpr, X509 *cert, void *data);

/* smime_decrypt - decrypt with a key from the store that allow (NULL:
 * any) accepts; on MS_OK *plain holds the whole plaintext and *used (when
 * not NULL; g_free) the fingerprint of the certificate whose key opened
 * it; nothing is returned on any failure, and *failure says which (*why:
 * the detail for the log).  MS_DATA for a message we cannot or may not
 * open, MS_NOTFOUND when no key of ours that allow accepts is a recipient
 * (DECRYPT_NOT_FOR_RECIPIENT when allow refused one, else
 * DECRYPT_NO_KEY), MS_TEMP when the store failed. */
ms_err smime_decrypt(const ms_store *store, const unsigned char *der,
    size_t len, smime_key_filter allow, void *allow_data, GByteArray **plain,
    char **used, decrypt_failure *failure, const char **why);

typedef enum sig_status {
	SIG_NONE,	/* not signed at the root */
	SIG_VALID,
	SIG_INVALID,	/* signature does not verify, malformed, weak */
	SIG_UNTRUSTED,	/* no chain to our roots, expired, wrong usage */
	SIG_REVOKED,
	SIG_MISMATCH	/* signer address is not the From address */
} sig_status;

typedef struct sig_result {
	sig_status status;
	char *detail;	/* short, content-free, escaped for a header */
	char *signer;	/* signer address, when known */
	char *fingerprint;	/* signer certificate, when known */
	X509 *signer_cert;	/* reference, when verified */
	STACK_OF(X509) *certs;	/* certificates carried by the message */
	CMS_SignerInfo *signer_info;	/* borrowed from cms */
} sig_result;

/* smime_signer_status - VER-4 for one signer certificate from the
 * findings of trust_check (cert_flag bits): revoked, untrusted, not bound
 * to the From address (or no single From address), or valid */
sig_status smime_signer_status(unsigned refused, bool have_from);

/* sig_status_word - the first word of X-Mailseal-Signature */
const char *sig_status_word(sig_status status);

/* sig_result_clear - free a result */
void sig_result_clear(sig_result *res);

/* smime_verify - verify cms (detached content in dcont, or NULL for
 * opaque signed data, whose content goes into *content); from is the
 * single From address or NULL when the From field is unusable */
ms_err smime_verify(ms_trust *trust, CMS_ContentInfo *cms, BIO *dcont,
    const ms_addr *from, sig_result *res, GByteArray **content);

/* smime_caps_learn - store the SMIMECapabilities of a verified signer */
ms_err smime_caps_learn(ms_store *store, const char *fpr,
    CMS_SignerInfo *si);

/* smime_caps_gcm - the stored capabilities of fpr list AES-GCM */
bool smime_caps_gcm(const ms_store *store, const char *fpr);

#endif
