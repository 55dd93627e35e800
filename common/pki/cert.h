/*
 * cert.h - certificates: fingerprints, addresses, the certificate and key
 * store with its address index, and the usability decision (chain to a
 * root in the root store, validity, revocation, key usage, address).
 *
 * API: crypto_init() once (version floor, DEC-10).  certdb_* read and
 * write the stores (writers hold the store lock).  trust_open() loads the
 * root store and the CRL store once per process; trust_check() decides
 * whether one certificate is usable for a purpose and an address and says
 * why not, as cert_flag bits that callers decide on and texts made from
 * them (cert_flag_text) for people; trust_find() is the indexed lookup by address (KEY-4 order:
 * newest notBefore first).  Limits: chains of at most CERT_CHAIN_MAX
 * certificates; store objects of at most LIMIT_STORE_OBJECT bytes.
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
#include "limits.h"

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

/* certdb_load - a certificate by fingerprint from certs/ or roots/ */
ms_err certdb_load(const ms_store *store, const char *fpr, bool *is_root,
    X509 **out);

/* certdb_add - store a certificate (and index it); lock held */
ms_err certdb_add(ms_store *store, X509 *cert, bool root, bool *was_new);

/* certdb_remove - remove a certificate or root and its index entries */
ms_err certdb_remove(ms_store *store, const char *fpr);

/* certdb_missing - an index entry names a file of dir that is not there:
 * logged with what to do; MS_TEMP */
ms_err certdb_missing(const char *dir, const char *fpr);

/* certdb_list - fingerprints in certs/ (or roots/) */
ms_err certdb_list(const ms_store *store, bool roots, GPtrArray **fprs);

/* certdb_lookup - fingerprints indexed for an address (not yet checked) */
ms_err certdb_lookup(const ms_store *store, const ms_addr *addr,
    GPtrArray **fprs);

/* certdb_issuers - fingerprints of stored CA certificates whose subject
 * equals name */
ms_err certdb_issuers(const ms_store *store, const X509_NAME *name,
    GPtrArray **fprs);

/* certdb_key_save - store the private key of cert, and index cert by
 * issuer and serial and by subject key identifier, the two ways a CMS
 * RecipientInfo names its recipient; lock held */
ms_err certdb_key_save(ms_store *store, X509 *cert, EVP_PKEY *key);

/* certdb_keyid_issuer_serial / certdb_keyid_ski - index names for the
 * recipient identifiers of CMS RecipientInfos (g_free) */
char *certdb_keyid_issuer_serial(const X509_NAME *issuer,
    const ASN1_INTEGER *serial);
char *certdb_keyid_ski(const ASN1_OCTET_STRING *ski);

/* certdb_keyid_lookup - fingerprints of certificates with a private key
 * for a key id from the functions above */
ms_err certdb_keyid_lookup(const ms_store *store, const char *keyid,
    GPtrArray **fprs);

/* certdb_key_load - the private key for a certificate */
ms_err certdb_key_load(const ms_store *store, const char *fpr,
    EVP_PKEY **out);

/* certdb_key_cert_load - the certificate kept with a private key (it
 * stays when the certificate is removed from the certificate store) */
ms_err certdb_key_cert_load(const ms_store *store, const char *fpr,
    X509 **out);

/* certdb_has_key - a private key is stored for fpr */
bool certdb_has_key(const ms_store *store, const char *fpr);

typedef struct ms_trust ms_trust;

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
	CERT_NO_PRIVATE_KEY = 1u << 17		/* for signing: none stored */
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

/* trust_open - load the root store and attach the CRL store; the
 * revocation settings come from settings (the global ones, loaded by the
 * caller: opening the trust store reads no configuration) */
ms_err trust_open(const ms_store *store, const ms_settings *settings,
    ms_trust **out);

/* trust_free - release a trust context */
void trust_free(ms_trust *trust);

/* trust_cert_load - certdb_load through the trust context: a certificate
 * of certs/ or roots/ is read and parsed once, however many steps of a
 * run use it (a reference the caller frees) */
ms_err trust_cert_load(ms_trust *trust, const char *fpr, X509 **out);

/* trust_load_roots - load the roots with this subject (by index);
 * *found tells whether there is any */
ms_err trust_load_roots(ms_trust *trust, const X509_NAME *subject,
    bool *found);

/* trust_no_cache - decide every verdict in full (for diagnostics) */
void trust_no_cache(ms_trust *trust);

/* trust_roots - the root certificates loaded so far (owned by trust) */
STACK_OF(X509) *trust_roots(ms_trust *trust);

/* verdict_init / verdict_clear - manage a verdict's lists */
void verdict_init(cert_verdict *verdict);
void verdict_clear(cert_verdict *verdict);

/* trust_check - is cert usable for purpose (and addr, when not NULL) */
ms_err trust_check(ms_trust *trust, X509 *cert, cert_purpose purpose,
    const ms_addr *addr, cert_verdict *verdict);

/* trust_check_with - trust_check with extra untrusted certificates (those
 * a signed message carries) for building the chain */
ms_err trust_check_with(ms_trust *trust, X509 *cert, cert_purpose purpose,
    const ms_addr *addr, STACK_OF(X509) *extra, cert_verdict *verdict);

/* trust_find - usable certificates for addr, newest notBefore first:
 * their fingerprints, and when certs is not NULL the certificates */
ms_err trust_find(ms_trust *trust, const ms_addr *addr, cert_purpose purpose,
    GPtrArray **fprs, STACK_OF(X509) **certs);

/* trust_chain - the verified chain above cert (issuers, excluding cert);
 * NULL when it does not verify */
STACK_OF(X509) *trust_chain(ms_trust *trust, X509 *cert);

#endif
