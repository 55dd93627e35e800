/*
 * ca.h - the built-in CA: a root in the root store, end-user certificates
 * with the S/MIME baseline profile of pki.md section 1 (checked by a lint
 * gate before anything is issued), revocation and CRLs.
 *
 * API: ca_init() once per store, ca_renew() for a new root; ca_load()
 * then ca_issue(), ca_sign_request(), ca_revoke(), ca_publish_crl(),
 * ca_crl_due(), ca_crl_export() or ca_issued_list(); ca_free().  State
 * lives in ca/ (mailseal-store(5)).  Writers take the store lock inside,
 * except ca_publish_crl (lock held).
 *
 * Renewal: every root keeps its key until it expires, since the CRLs of
 * the certificates it issued are signed with it; the roots share one
 * subject name and are told apart by their key identifiers.
 */
#ifndef MAILSEAL_CA_H
#define MAILSEAL_CA_H

#include <openssl/bio.h>
#include <openssl/x509.h>
#include <stdbool.h>

#include "addr.h"
#include "err.h"
#include "store.h"
#include "mslimits.h"

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
	char *root;		/* the current root's fingerprint; NULL for a
				 * CA never renewed (ca/ca.pem, ca/ca.key) */
	char *previous;		/* earlier roots, "FPR,CRL-URL" words, oldest
				 * first; NULL when none */
} ca_state;

/* one generation of the CA: a root, its key, the CRL URL its
 * certificates carry ("" when none) */
typedef struct ca_root {
	char *fingerprint;
	char *crl_url;
	X509 *cert;
	EVP_PKEY *key;
} ca_root;

typedef struct ms_ca {
	ca_state state;
	X509 *cert;		/* the current root: it issues */
	EVP_PKEY *key;
	GPtrArray *roots;	/* ca_root, every generation, the current last */
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

/* ca_renew - a new root and key of type (NULL: the current type) with
 * the same subject, valid for days from now; the CA issues under it from
 * then on, the earlier roots stay trusted and keep their keys.  crl_url
 * is the new root's CRL URL, required (and different from every earlier
 * one) when the CA has one.  All or nothing: on failure the store is as
 * it was.  *fpr_out gets the new root's fingerprint. */
ms_err ca_renew(ms_store *store, const char *type, int days,
    const char *crl_url, char **fpr_out);

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

/* ca_root_of - the generation of c that issued cert, or NULL */
const ca_root *ca_root_of(const ms_ca *c, X509 *cert);

/* ca_root_expired - past the root's notAfter: it signs no more CRLs */
bool ca_root_expired(const ca_root *root);

/* ca_revoke - record a revocation and publish the CRL of the root that
 * issued fpr (PEM also to pem when not NULL); MS_DATA when no root of
 * this CA issued it */
ms_err ca_revoke(ms_store *store, ms_ca *c, const char *fpr, int days,
    BIO *pem);

/* ca_publish_crl - a fresh CRL of root (NULL: the current one) into the
 * CRL store; lock held */
ms_err ca_publish_crl(ms_store *store, ms_ca *c, const ca_root *root,
    int days, BIO *pem);

/* ca_crl_file_name - the file name root's CRL is published under: the
 * last path component of its CRL URL (g_free), NULL when it has none */
char *ca_crl_file_name(const ca_root *root);

/* ca_publish_dir - dir resolved (free()), or NULL and said why: it
 * must exist, and neither lie in the store nor hold it */
char *ca_publish_dir(const ms_store *store, const char *dir);

/* ca_crl_export - write root's installed CRL in DER to dir, named by
 * ca_crl_file_name, mode 0644, replaced atomically; dir must not lie in
 * the store.  *name_out gets the name written (g_free). */
ms_err ca_crl_export(const ms_store *store, const ca_root *root,
    const char *dir, char **name_out);

typedef enum ca_cert_status {
	CA_CERT_VALID,
	CA_CERT_REVOKED,	/* in ca/revoked, whatever its dates */
	CA_CERT_EXPIRED
} ca_cert_status;

/* one certificate this CA issued */
typedef struct ca_issued {
	char *fingerprint;
	char *serial;		/* upper-case hex, as in ca/revoked */
	char *root;		/* fingerprint of the root that issued it */
	X509 *cert;
	ca_cert_status status;
} ca_issued;

/* ca_issued_list - the certificates of the certificate store this CA
 * signed, with their status: *out holds ca_issued, freed with it */
ms_err ca_issued_list(const ms_store *store, const ms_ca *c,
    GPtrArray **out);

/* ca_status_name - "valid", "revoked" or "expired" */
const char *ca_status_name(ca_cert_status status);

/* ca_crl_due - true when root's installed CRL is missing, not signed by
 * it, or has less than half its period to run; *days gets the period for
 * the next one (that of the installed CRL, else CRL_DAYS_DEFAULT) */
bool ca_crl_due(const ms_store *store, const ca_root *root, int *days);

#endif
