/*
 * smsign.h - S/MIME signing of a whole message as a library call: the
 * sender's signing key and certificate from the stores, then the signed
 * entity (multipart/signed, or application/pkcs7-mime signed-data when
 * opaque) as its content fields and body, ready to be written behind the
 * message's own fields or encrypted as they stand, without being parsed
 * again.  The signed part is the message's content made 7-bit safe in
 * canonical form, so the signature survives transport (ENC-3).
 *
 * API: smsign_find_signer() once per sender; smsign_sign() per message;
 * smsign_write() for a program that outputs the signed message.  Used by
 * smime-sign(1) and by mailseal-filter(1), in process.  Limits: the signed
 * entity is built in memory (the message is already held whole).
 */
#ifndef MAILSEAL_SMSIGN_H
#define MAILSEAL_SMSIGN_H

#include <glib.h>
#include <openssl/evp.h>
#include <openssl/x509.h>
#include <stdbool.h>

#include "addr.h"
#include "trust.h"
#include "err.h"
#include "msg.h"
#include "msgpart.h"
#include "output.h"
#include "store.h"

typedef struct smsign_signer {
	X509 *cert;		/* NULL when the sender has no usable key */
	EVP_PKEY *key;
	STACK_OF(X509) *chain;
} smsign_signer;

/* the signed entity: what follows the message's own header fields */
typedef struct smsign_entity {
	GString *head;		/* its content fields and the empty line */
	GByteArray *body;	/* its body, LF line ends */
} smsign_entity;

/* smsign_find_signer - the sender's newest usable signing certificate
 * that has a private key; with auto_enroll, the store's own CA issues one
 * when there is none; signer->key stays NULL when none is found */
ms_err smsign_find_signer(ms_store *store, ms_trust *trust,
    const ms_addr *sender, bool auto_enroll, smsign_signer *signer);

/* smsign_signer_clear - free what smsign_find_signer filled in */
void smsign_signer_clear(smsign_signer *signer);

/* smsign_signing_entity - the entity of msg to sign (msgpart.h); over a
 * parsing limit a refusal (MS_POLICY, its status line on stderr) */
ms_err smsign_signing_entity(ms_message *msg, msg_entity *e);

/* smsign_sign - msg's content signed by signer with digest; a message
 * over a parsing limit is a refusal (MS_POLICY, its status line on
 * stderr) */
ms_err smsign_sign(ms_message *msg, const smsign_signer *signer,
    const EVP_MD *digest, bool opaque, smsign_entity *out);

/* smsign_entity_clear - free a signed entity */
void smsign_entity_clear(smsign_entity *entity);

/* smsign_outer_fields - msg's own header fields with MIME-Version, the
 * fields a signed copy starts with (g_string_free) */
GString *smsign_outer_fields(const ms_message *msg);

/* smsign_write - the signed message: msg's own fields, then entity */
ms_err smsign_write(const ms_message *msg, const smsign_entity *entity,
    ms_output *out);

#endif
