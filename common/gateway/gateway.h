/*
 * gateway.h - the gateway's transforms as library calls on a parsed
 * message and a context: the DLP scan with its typed verdict (what
 * dlp-scan(1) does, in the process that calls it), and the context the
 * gateway's path carries from step to step.  Signing is smsign.h,
 * encryption smenc.h, routing route.h.
 *
 * API: fill a gw_context (the configuration is passed in: nothing here
 * loads the global settings); gw_dlp_scan() for the verdict, with the
 * quarantine copy and the incident log written as dlp-scan writes them;
 * gw_dlp_field() for the X-Mailseal-DLP value a copy carries;
 * gw_dlp_verdict_clear().  A context with skip_dlp set (a message
 * released from quarantine) gets the verdict "pass" without a scan.
 * Errors: MS_POLICY for a block (its 5.7.1 line is on stderr), MS_CONFIG
 * for a broken policy or key file, MS_TEMP for the store.
 */
#ifndef MAILSEAL_GATEWAY_H
#define MAILSEAL_GATEWAY_H

#include <stdbool.h>
#include <stdio.h>

#include "err.h"
#include "msg.h"
#include "policy.h"
#include "settings.h"
#include "store.h"

typedef enum gw_direction {
	GW_OUTGOING,		/* from our users to the world */
	GW_INCOMING		/* from the world to our users */
} gw_direction;

/* how the envelope sender was vouched for */
typedef enum gw_sender_auth {
	GW_AUTH_NONE,		/* not known: nothing vouches for it */
	GW_AUTH_SASL,		/* the client logged in as sasl_user, which
				 * may use the sender address */
	GW_AUTH_CLIENT,		/* an internal network and an internal
				 * sender domain */
	GW_AUTH_ENVELOPE	/* neither known, and trust-envelope-sender */
} gw_sender_auth;

typedef struct gw_context {
	ms_store *store;
	const ms_settings *settings;	/* the global settings */
	const char *sender;		/* envelope sender, "" for <> */
	gw_sender_auth sender_auth;
	const char *sasl_user;		/* the SASL login ("": none), or NULL
					 * when the caller does not know */
	const char *client_address;	/* the SMTP client ("": local), or
					 * NULL when the caller does not know */
	gw_direction direction;
	const char *const *recipients;	/* NULL-terminated */
	const char *queue_id;		/* or NULL */
	bool skip_dlp;			/* released from quarantine: every
					 * step but the DLP scan */
	FILE *explain;			/* a dry run: findings and rules
					 * here, nothing held or refused */
} gw_context;

typedef struct gw_dlp_verdict {
	policy_action action;		/* the most severe enforced action */
	char *rules;			/* enforced rules that fired, "a,b" */
	char *block_rule;		/* POLICY_BLOCK: the first such rule */
	char *quarantine_id;		/* POLICY_QUARANTINE: where it is held */
	unsigned unscannable;		/* DLP_UNSCANNABLE_* bits */
	bool scan_off;			/* dlp = no for the sender */
	bool skipped;			/* the context skipped the scan */
} gw_dlp_verdict;

/* gw_sender_trust - how ctx->sender is vouched for, into
 * ctx->sender_auth: a SASL login that may use the address (the login is
 * the address, or the store's sender-logins file lists it for the address
 * or its @domain), else an internal network with a sender in an internal
 * domain, else, when the caller knows neither (no options: procmail, by
 * hand), the trust-envelope-sender setting.  *why, when not vouched for,
 * says why for the log.  MS_CONFIG for settings that do not parse */
ms_err gw_sender_trust(gw_context *ctx, const char **why);

/* gw_auth_name - the word for how a sender was vouched for ("none",
 * "sasl", "client", "envelope"); gw_auth_from_name the reverse, NONE for
 * anything else */
const char *gw_auth_name(gw_sender_auth auth);
gw_sender_auth gw_auth_from_name(const char *name);

/* gw_internal_domain - domain is one of the internal-domains */
bool gw_internal_domain(const ms_settings *settings, const char *domain);

/* gw_dlp_scan - scan msg (parsed in full here when it was read headers
 * only) under the sender's policies; a quarantine verdict holds a copy
 * in the store; a block is a refusal (MS_POLICY, its status line on
 * stderr); every fired rule is logged as an incident */
ms_err gw_dlp_scan(const gw_context *ctx, ms_message *msg,
    gw_dlp_verdict *verdict);

/* gw_dlp_field - the X-Mailseal-DLP value for a verdict, as dlp-scan(1)
 * writes it (g_free) */
char *gw_dlp_field(const gw_dlp_verdict *verdict);

/* gw_dlp_verdict_clear - free what gw_dlp_scan filled in */
void gw_dlp_verdict_clear(gw_dlp_verdict *verdict);

#endif
