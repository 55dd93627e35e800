/*
 * ca.h - the built-in CA: a root in the root store, end-user certificates
 * with the S/MIME baseline profile of pki.md section 1 (checked by a lint
 * gate before anything is issued), revocation and CRLs.
 *
 * API: ca_init() once per store; ca_load() then ca_issue(),
 * ca_sign_request(), ca_revoke(), ca_publish_crl(), ca_crl_due() or
 * ca_issued_list(); ca_free().  State lives in ca/ (mailseal-store(5)).
 * Writers take the store lock inside, except ca_publish_crl (lock held).
 */
#ifndef MAILSEAL_CA_H
#define MAILSEAL_CA_H

#include <openssl/bio.h>
#include <openssl/x509.h>
#include <stdbool.h>

#include "addr.h"
#include "err.h"
#include "store.h"
#include "limits.h"

#define ROOT_DAYS_DEFAULT 3650
#define ISSUE_DAYS_DEFAULT 730
#define CRL_DAYS_DEFAULT 7
#define P12_ITERATIONS 2048
#define SERIAL_BYTES 16
#define NAME_MAX_CHARS 64	/* X.520 ub-common-name */


/* the CA's state record: "key=value" lines */
typedef struct ca_state {
	char *name;
	char *key_type;
	char *crl_url;		/* may be empty */
	unsigned long long crl_number;
} ca_state;

typedef struct ms_ca {
	ca_state state;
	X509 *cert;
	EVP_PKEY *key;
} ms_ca;

/* ca_text_ok - printable UTF-8 of 1..max characters, no controls, no
 * space at either end */
bool ca_text_ok(const char *s, size_t max);

/* ca_url_ok - an http(s) URL safe to put into a distribution point */
bool ca_url_ok(const char *url);

/* ca_init - create the root (type rsa3072 or ec-p256); *fpr_out gets
 * its fingerprint; MS_USAGE when the store has a CA already */
ms_err ca_init(ms_store *store, const char *name, const char *type,
    int days, const char *crl_url, char **fpr_out);

/* ca_load - the CA of a store; MS_USAGE when there is none */
ms_err ca_load(ms_store *store, ms_ca *c);

/* ca_free - release a loaded CA */
void ca_free(ms_ca *c);

/* ca_issue - an end-user certificate and key for addr, stored and
 * indexed; *fpr_out gets its fingerprint */
ms_err ca_issue(ms_store *store, const ms_ca *c, const ms_addr *addr,
    const char *display, const char *type, int days, char **fpr_out);

/* ca_sign_request - a certificate of the same profile for a PKCS#10
 * request made elsewhere: its self-signature verified, only its e-mail
 * address taken, no key stored; MS_DATA (said why) for a request that
 * does not verify, names no or several addresses or asks for more */
ms_err ca_sign_request(ms_store *store, const ms_ca *c, X509_REQ *req,
    int days, char **fpr_out);

/* ca_revoke - record a revocation and publish a CRL (PEM also to pem
 * when not NULL); MS_DATA when fpr was not issued by this CA */
ms_err ca_revoke(ms_store *store, ms_ca *c, const char *fpr, int days,
    BIO *pem);

/* ca_publish_crl - a fresh CRL into the CRL store; lock held */
ms_err ca_publish_crl(ms_store *store, ms_ca *c, int days, BIO *pem);

typedef enum ca_cert_status {
	CA_CERT_VALID,
	CA_CERT_REVOKED,	/* in ca/revoked, whatever its dates */
	CA_CERT_EXPIRED
} ca_cert_status;

/* one certificate this CA issued */
typedef struct ca_issued {
	char *fingerprint;
	char *serial;		/* upper-case hex, as in ca/revoked */
	X509 *cert;
	ca_cert_status status;
} ca_issued;

/* ca_issued_list - the certificates of the certificate store this CA
 * signed, with their status: *out holds ca_issued, freed with it */
ms_err ca_issued_list(const ms_store *store, const ms_ca *c,
    GPtrArray **out);

/* ca_status_name - "valid", "revoked" or "expired" */
const char *ca_status_name(ca_cert_status status);

/* ca_crl_due - true when the CA's installed CRL is missing, not signed
 * by it, or has less than half its period to run; *days gets the period
 * for the next one (that of the installed CRL, else CRL_DAYS_DEFAULT) */
bool ca_crl_due(const ms_store *store, const ms_ca *c, int *days);

#endif
