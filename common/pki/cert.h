/*
 * cert.h - one certificate: fingerprint, addresses, dates, names, PEM
 * text; the OpenSSL version floor; the verdict record (cert_flag bits that
 * callers decide on, and texts made from them by cert_flag_text for
 * people).  The store of certificates and keys is certdb.h; the usability
 * decision (chain, validity, revocation, key usage, address) is trust.h.
 *
 * API: crypto_init() once (version floor, DEC-10).
 */
#ifndef MAILSEAL_CERT_H
#define MAILSEAL_CERT_H

#include <glib.h>
#include <openssl/evp.h>
#include <openssl/x509.h>
#include <stdbool.h>

#include "addr.h"
#include "err.h"
#include "settings.h"
#include "store.h"
#include "mslimits.h"

#define CERT_RSA_MIN_BITS 2048
#define CERT_RSA_MAX_BITS 8192

typedef enum cert_purpose {
	CERT_PURPOSE_ENCRYPT,
	CERT_PURPOSE_SIGN
} cert_purpose;

/* crypto_init - check the OpenSSL version floor; MS_CONFIG below it */
ms_err crypto_init(void);

/* crypto_log_errors - drain OpenSSL's error queue into diag_warn lines */
void crypto_log_errors(const char *what);

/* cert_unsupported_agreement_key - "X25519" or "X448" for a key of an
 * RFC 8418 key agreement type, which OpenSSL 3.0's CMS cannot encrypt to
 * or decrypt with (it does key agreement for EC keys only); else NULL */
const char *cert_unsupported_agreement_key(const EVP_PKEY *key);

/* cert_fingerprint - lowercase hex SHA-256 of the DER; g_free it */
char *cert_fingerprint(const X509 *cert);

/* cert_fingerprint_ok - 64 lowercase hex digits */
bool cert_fingerprint_ok(const char *fpr);

/* cert_addresses - the valid e-mail addresses of cert (SAN rfc822Name,
 * else subject emailAddress) as ms_addr pointers; *malformed counts the
 * addresses the one parser refused */
GPtrArray *cert_addresses(X509 *cert, unsigned *malformed);

/* cert_is_ca - basicConstraints says cA */
bool cert_is_ca(X509 *cert);

/* cert_date - an ASN1_TIME as YYYY-MM-DD (g_free) */
char *cert_date(const ASN1_TIME *time);

/* cert_subject_text - one-line RFC 2253 subject, masked (g_free) */
char *cert_name_text(const X509_NAME *name);

/* cert_to_pem - PEM text of a certificate (g_free) */
char *cert_to_pem(X509 *cert, size_t *len);

/* cert_flag - one finding of trust_check: a reason the certificate is not
 * usable, or a remark that does not block its use.  Decisions test these
 * bits; the words for humans come from cert_flag_text() alone. */
typedef enum cert_flag {
	CERT_CA = 1u << 0,			/* a CA certificate */
	CERT_UNREADABLE_KEY = 1u << 1,
	CERT_WEAK_KEY = 1u << 2,		/* size, curve or type */
	CERT_WRONG_USAGE = 1u << 3,		/* key usage or key type */
	CERT_WRONG_EXTENDED_USAGE = 1u << 4,
	CERT_MALFORMED_ADDRESS = 1u << 5,
	CERT_NO_ADDRESS = 1u << 6,
	CERT_ADDRESS_MISMATCH = 1u << 7,
	CERT_EXPIRED = 1u << 8,
	CERT_NOT_YET_VALID = 1u << 9,
	CERT_REVOKED = 1u << 10,
	CERT_ISSUER_EXPIRED = 1u << 11,
	CERT_ISSUER_NOT_YET_VALID = 1u << 12,
	CERT_ISSUER_REVOKED = 1u << 13,
	CERT_REVOCATION_UNKNOWN = 1u << 14,	/* CRL-5 */
	CERT_CRL_IN_GRACE = 1u << 15,		/* a remark only */
	CERT_UNTRUSTED = 1u << 16,		/* no chain to our roots, or a
						 * chain error */
	CERT_NO_PRIVATE_KEY = 1u << 17,		/* for signing: none stored */
	CERT_UNSUPPORTED_KEY = 1u << 18		/* a key type OpenSSL 3.0
						 * cannot use for the purpose
						 * (Ed448, X25519, X448) */
} cert_flag;

/* the findings about the address: a certificate the administrator bound
 * to recipients (--cert, smime-domain-cert) need not carry theirs */
#define CERT_ADDRESS_FLAGS (CERT_MALFORMED_ADDRESS | CERT_NO_ADDRESS | \
	CERT_ADDRESS_MISMATCH)
#define CERT_REVOKED_FLAGS (CERT_REVOKED | CERT_ISSUER_REVOKED)

typedef struct cert_verdict {
	bool usable;
	unsigned refused;	/* cert_flag bits: why not usable */
	unsigned noted;		/* cert_flag bits: remarks */
	GPtrArray *reasons;	/* the texts of refused, in the order found */
	GArray *reason_flags;	/* the cert_flag of each reason (unsigned) */
	GPtrArray *notes;	/* the texts of noted */
} cert_verdict;

/* cert_flag_text - the words for one flag ("expired", "weak key", ...) */
const char *cert_flag_text(cert_flag flag);

/* cert_verdict_add - record flag as a reason (blocking) or a remark; the
 * text is cert_flag_text(flag) followed by the formatted detail (NULL:
 * none), which must not contain message content */
void cert_verdict_add(cert_verdict *verdict, cert_flag flag, bool blocking,
    const char *detail_fmt, ...) __attribute__((format(printf, 4, 5)));

/* cert_verdict_reason_flag - the cert_flag of reason i */
unsigned cert_verdict_reason_flag(const cert_verdict *verdict, guint i);

/* cert_verdict_first - the first reason whose flag is in mask, or NULL */
const char *cert_verdict_first(const cert_verdict *verdict, unsigned mask);

/* verdict_init / verdict_clear - manage a verdict's lists */
void verdict_init(cert_verdict *verdict);
void verdict_clear(cert_verdict *verdict);

#endif
