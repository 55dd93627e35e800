/*
 * crlstore.h - the CRL store: crls/HASH.rN in OpenSSL's hashed layout
 * (X509_LOOKUP_hash_dir), HASH being X509_NAME_hash_ex of the issuer.
 *
 * API: crl_find_issuer() verifies a CRL's signature against a CA in the
 * root or certificate store (CRL-4 step 1); crl_install() checks dates and
 * rollback against the installed CRL of the same issuer (CRL-4 steps 2-3)
 * and replaces it atomically, keeping the numbering contiguous; a delta
 * CRL is kept next to the complete CRL it builds on.  crl_prune() removes
 * the CRLs of issuers no longer in the stores.  Limits: at most CRL_SLOTS
 * CRLs per name hash.
 */
#ifndef MAILSEAL_CRLSTORE_H
#define MAILSEAL_CRLSTORE_H

#include <openssl/x509.h>

#include "trust.h"
#include "err.h"
#include "store.h"
#include "mslimits.h"

#define CRL_SLOTS 64
#define CRL_CLOCK_SKEW 300	/* seconds a thisUpdate may lie ahead */

/* crl_find_issuer - the CA certificate whose key signed crl (new
 * reference), or NULL; the CA must be allowed to sign CRLs */
X509 *crl_find_issuer(ms_trust *trust, const ms_store *store,
    X509_CRL *crl);

/* crl_install - validate crl against its issuer and the installed CRL and
 * write it; lock held.  *why explains an MS_DATA refusal.  *file gets the
 * "HASH.rN" name written (g_free). */
ms_err crl_install(ms_store *store, ms_trust *trust, X509_CRL *crl,
    const char **why, char **file);

/* crl_installed - the installed complete (or delta) CRL of issuer and
 * its "HASH.rN" name (g_free); MS_NOTFOUND when there is none */
ms_err crl_installed(const ms_store *store, const X509_NAME *issuer,
    bool delta, X509_CRL **crl, char **file);

/* crl_installed_by - crl_installed of the CRL that ca's key signed: two
 * CAs (a root and its renewal) may share a name */
ms_err crl_installed_by(const ms_store *store, X509 *ca, bool delta,
    X509_CRL **crl, char **file);

/* crl_read - parse crls/name; MS_TEMP, logged, for a damaged file */
ms_err crl_read(const ms_store *store, const char *name, X509_CRL **out);

/* crl_prune - remove CRLs no CA in the stores signed (and damaged ones),
 * keeping every hash's numbering contiguous; lock held.  The names
 * removed are added to removed (g_free). */
ms_err crl_prune(ms_store *store, ms_trust *trust, GPtrArray *removed);

/* crl_url_ok - an http or https URL of printable ASCII */
bool crl_url_ok(const char *url);

/* crl_distribution_urls - the http(s) URLs of cert's CRL distribution
 * points (with delta, of its freshestCRL); *skipped counts the names
 * that are not usable (LDAP, relative names, indirect CRLs) */
GPtrArray *crl_distribution_urls(X509 *cert, bool delta,
    unsigned *skipped);

/* crl_number - the CRL number as a BIGNUM-free comparable hex string, or
 * NULL when absent (g_free) */
char *crl_number_hex(X509_CRL *crl);

#endif
