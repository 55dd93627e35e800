/*
 * trust.h - the usability decision: chain to a root in the root store,
 * validity, revocation, key usage, address.
 *
 * API: trust_open() loads the root store and the CRL store once per
 * process; trust_check() decides whether one certificate is usable for a
 * purpose and an address and says why not (cert_verdict); trust_find() is
 * the indexed lookup by address (KEY-4 order: newest notBefore first).
 * Limits: chains of at most CERT_CHAIN_MAX certificates.
 */
#ifndef MAILSEAL_TRUST_H
#define MAILSEAL_TRUST_H

#include "cert.h"

typedef struct ms_trust ms_trust;

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
