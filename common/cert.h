/*
 * cert.h - certificates: fingerprints, addresses, the certificate and key
 * store with its address index, and the usability decision (chain to a
 * root in the root store, validity, revocation, key usage, address).
 *
 * API: crypto_init() once (version floor, DEC-10).  certdb_* read and
 * write the stores (writers hold the store lock).  trust_open() loads the
 * root store and the CRL store once per process; trust_check() decides
 * whether one certificate is usable for a purpose and an address and says
 * why not; trust_find() is the indexed lookup by address (KEY-4 order:
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

typedef struct cert_verdict {
	bool usable;
	GPtrArray *reasons;	/* why not usable (strings) */
	GPtrArray *notes;	/* remarks that do not block use */
} cert_verdict;

/* trust_open - load the root store and attach the CRL store */
ms_err trust_open(const ms_store *store, ms_trust **out);

/* trust_free - release a trust context */
void trust_free(ms_trust *trust);

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
