/*
 * certdb.h - the certificate and key store: certs/, roots/ and keys/ with
 * the indexes by address, subject and key identifier.  Readers take no
 * lock; writers (certdb_add, certdb_remove, certdb_key_save) hold the
 * store lock.  Limits: store objects of at most LIMIT_STORE_OBJECT bytes.
 */
#ifndef MAILSEAL_CERTDB_H
#define MAILSEAL_CERTDB_H

#include "cert.h"

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

/* certdb_read - parse one PEM certificate file of dir (certs or roots) */
ms_err certdb_read(const ms_store *store, const char *dir, const char *fpr,
    X509 **out);

/* certdb_index_read - the fingerprint lines of an index record */
ms_err certdb_index_read(const ms_store *store, const char *dir,
    const char *name, GPtrArray **fprs);

/* certdb_subject_key - the index name of a subject: hex SHA-256 of its
 * DER (g_free) */
char *certdb_subject_key(const X509_NAME *name);

#endif
