/*
 * smenc.h - S/MIME encryption of a whole message: the certificates of
 * every envelope recipient (and configured ones, such as a partner's
 * domain certificate), then the message as application/pkcs7-mime with
 * the routing fields outside and the content fields inside.
 *
 * API: smenc_collect() finds the certificates and lists the recipients
 * it could not cover; smenc_write() writes the encrypted message.  Used
 * by smime-enc(1) and, for its S/MIME copies, by mailseal-filter(1).
 */
#ifndef MAILSEAL_SMENC_H
#define MAILSEAL_SMENC_H
#include <glib.h>
#include <openssl/x509.h>
#include <stdbool.h>
#include "cert.h"
#include "filter.h"
#include "msg.h"
#include "output.h"

/* smenc_collect - usable encryption certificates for every recipient,
 * plus the certificates in cert_files (NULL-terminated, may be NULL:
 * when one is given it covers every recipient); uncovered recipients are
 * appended to uncovered ("a, b"); *all_gcm says whether every
 * certificate's learned capabilities include AES-GCM.  A configured
 * certificate that is not usable is a refusal (5.7.1, MS_POLICY); one
 * that cannot be read is MS_CONFIG. */
ms_err smenc_collect(ms_filter *f, const char *const *recipients,
    const char *const *cert_files, STACK_OF(X509) *certs, GString *uncovered,
    bool *all_gcm);

/* smenc_collect_trusted - smenc_collect with the caller's trust context
 * (one per message: the gateway opens it once for every step), and
 * besides the cert_files a certificate of the store by fingerprint that
 * covers every recipient like them (a domain certificate), or NULL; read
 * through the trust context, it is parsed once however often a run uses
 * it (trust_cert_load) */
ms_err smenc_collect_trusted(const ms_store *store, ms_trust *trust,
    const char *const *recipients, const char *const *cert_files,
    const char *domain_fpr, STACK_OF(X509) *certs, GString *uncovered,
    bool *all_gcm);

/* smenc_write_entity - an entity (head: its content fields and the empty
 * line; body) encrypted to certs into out, behind the message's own
 * fields outer_fields (MIME-Version added when absent) */
ms_err smenc_write_entity(const GString *outer_fields, const char *head,
    size_t head_len, const char *body, size_t body_len,
    STACK_OF(X509) *certs, const EVP_CIPHER *cipher, bool oaep,
    ms_output *out);

/* smenc_write - msg encrypted to certs with cipher into out */
ms_err smenc_write(const ms_message *msg, STACK_OF(X509) *certs,
    const EVP_CIPHER *cipher, bool oaep, ms_output *out);
#endif
