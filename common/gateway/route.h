/*
 * route.h - the per-recipient routing decision: which protection a
 * recipient's copy gets (S/MIME, OpenPGP, PDF, web mail, plain text or a
 * refusal) from the recipient's settings and what the stores hold, and
 * whether the sender's mail is signed (route-recipient(1)).
 *
 * API: route_open() once per run; route_decide() per recipient, with
 * forced set when the message itself demands encryption (a trigger or a
 * DLP verdict); route_signing() once for the sender; route_free().  With a
 * non-NULL explain stream both also write, for an administrator, every
 * setting with its origin and every certificate and key considered with
 * the reason it was taken or refused.  The stores are only read; the
 * OpenPGP keyring is opened on first need, so S/MIME-only routing never
 * starts gpg.  Errors: store, keyring and configuration failures are
 * MS_CONFIG or MS_TEMP (the mail defers), never "no key".
 */
#ifndef MAILSEAL_ROUTE_H
#define MAILSEAL_ROUTE_H

#include <stdbool.h>
#include <stdio.h>

#include "addr.h"
#include "trust.h"
#include "err.h"
#include "msg.h"
#include "settings.h"
#include "store.h"

typedef enum route_method {
	ROUTE_PLAIN,
	ROUTE_SMIME,
	ROUTE_PGP,
	ROUTE_PDF,
	ROUTE_WEBMAIL,
	ROUTE_REJECT
} route_method;

typedef struct route_decision {
	route_method method;
	bool domain_key;	/* smime or pgp through a domain certificate
				 * or key, not the recipient's own */
	char *fingerprint;	/* that certificate or key, or NULL */
	char *own_keys;		/* smime or pgp through the recipient's own
				 * certificates (SHA-256, 64 lowercase hex)
				 * or keys (fingerprints): "a,b", else NULL */
	const char *reason;	/* ROUTE_REJECT: a word for why, or NULL */
} route_decision;

/* a domain certificate (S/MIME) or key (OpenPGP) that serves every
 * recipient of a group, as route_decide chose it */
typedef struct route_domain_key {
	bool used;		/* false: the recipients' own certificates */
	char *fingerprint;	/* the certificate's SHA-256 (64 lowercase
				 * hex) or the key's fingerprint */
} route_domain_key;

typedef enum route_sign {
	ROUTE_SIGN_NONE,	/* the settings do not ask for signing */
	ROUTE_SIGN_SMIME,
	ROUTE_SIGN_PGP,
	ROUTE_SIGN_MISSING	/* asked for, but the sender has no usable
				 * key: the mail goes unsigned */
} route_sign;

typedef struct ms_route ms_route;

/* route_open - a routing context on an open store, with its global
 * settings (kept, not copied: they outlive the context) and a trust
 * context to use (kept, not freed), or NULL to open one on first need */
ms_err route_open(const ms_store *store, const ms_settings *global,
    ms_trust *trust, ms_route **out);

/* route_free - release a routing context */
void route_free(ms_route *route);

/* route_decide - the method for one recipient; forced raises the
 * recipient's encrypt-mode to mandatory for this message */
ms_err route_decide(ms_route *route, const ms_addr *recipient, bool forced,
    FILE *explain, route_decision *decision);

/* route_decision_clear - free what route_decide filled in */
void route_decision_clear(route_decision *decision);

/* route_signing - whether mail from sender (NULL: none known) is signed */
ms_err route_signing(ms_route *route, const ms_addr *sender, FILE *explain,
    route_sign *sign);

/* what in a message asks for encryption: the subject trigger, the
 * trigger field and a DLP verdict "must-encrypt" (X-Mailseal-DLP), as
 * the global settings configure them */
typedef struct route_triggers {
	bool subject;
	bool header;
	bool dlp;
	char *subject_word;	/* the subject trigger, or NULL when off */
	char *header_name;	/* the trigger field, or NULL when off */
	char *header_value;	/* the value it must have, or NULL: any */
} route_triggers;

/* route_triggers_find - which triggers msg carries */
void route_triggers_find(const ms_settings *settings, const ms_message *msg,
    route_triggers *t);

/* route_triggers_field - "subject,header,dlp" for those that fired, or
 * NULL (g_free) */
char *route_triggers_field(const route_triggers *t);

/* route_triggers_remove - take the subject trigger out of every Subject
 * and remove the trigger field: they must not reach the recipient */
void route_triggers_remove(ms_message *msg, const route_triggers *t);

/* route_triggers_clear - free what route_triggers_find filled in */
void route_triggers_clear(route_triggers *t);

/* route_method_name - the output word for a method */
const char *route_method_name(route_method method);

/* route_sign_name - the sign= value, or NULL for none */
const char *route_sign_name(route_sign sign);

#endif
