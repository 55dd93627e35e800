/*
 * crlstate.h - what crl-sync remembers of one CRL URL between runs
 * (pki.md 4.4): crlstate/H, H the hex SHA-256 of the URL, a
 * self-validating store record of "key=value" lines.
 *
 * API: crl_state_read() (an absent or damaged record reads as empty, so
 * the next fetch is unconditional), crl_state_write() (lock held),
 * crl_state_prune() for URLs no longer named.  Limits: CRL_STATE_MAX
 * bytes per record.
 */
#ifndef MAILSEAL_CRLSTATE_H
#define MAILSEAL_CRLSTATE_H

#include <glib.h>
#include <openssl/x509.h>

#include "err.h"
#include "store.h"
#include "mslimits.h"

/* what crl-sync remembers of one URL between runs (pki.md 4.4) */
typedef struct crl_state {
	char *issuer;		/* hex DER of the issuer of the CRL installed
				 * from it, or NULL */
	char *etag;
	long long modified;
	long long last_attempt;
	long long last_success;
	long long failures;
} crl_state;

/* crl_state_read - the record of url into *st (empty when none) */
void crl_state_read(const ms_store *store, const char *url, crl_state *st);

/* crl_state_write - replace the record of url; lock held */
ms_err crl_state_write(ms_store *store, const char *url,
    const crl_state *st);

/* crl_state_clear - free what a record holds and empty it */
void crl_state_clear(crl_state *st);

/* crl_state_issuer_hex - a name as the hex DER kept in st->issuer
 * (g_free) */
char *crl_state_issuer_hex(const X509_NAME *name);

/* crl_state_issuer - the issuer name a record holds, or NULL */
X509_NAME *crl_state_issuer(const crl_state *st);

/* crl_state_prune - remove the records of URLs not in urls (a set of
 * URL strings); lock held */
ms_err crl_state_prune(ms_store *store, GHashTable *urls);

#endif
