/*
 * certstatus.h - a certificate's status at a glance: one word for what it
 * is good for now (certstore list, mailseal-expiry), and when it ends.
 *
 * API: cert_status() decides the word through the trust decision;
 * cert_end() gives notAfter as a time; cert_candidates() walks the
 * certificates an address lookup considers, with their verdicts (for
 * saying why one is refused).  The words: usable, valid (a root
 * valid by its dates), expiring (usable, ending within the window),
 * expired, not-yet-valid, revoked, untrusted, revocation-unknown,
 * unusable (any other reason: usage, key, address).
 */
#ifndef MAILSEAL_CERTSTATUS_H
#define MAILSEAL_CERTSTATUS_H

#include <time.h>

#include "trust.h"
#include "store.h"

/* cert_end - notAfter of cert as seconds since the epoch; false when the
 * time cannot be read */
bool cert_end(X509 *cert, time_t *end);

/* cert_addresses_text - the texts of addrs (ms_addr) joined by commas,
 * or "-" when there is none (g_free) */
char *cert_addresses_text(const GPtrArray *addrs);

/* cert_ends_within - notAfter falls before window days from now (already
 * past included); a time that cannot be read counts as ending, so that
 * a report tells rather than hides it */
bool cert_ends_within(X509 *cert, unsigned long window);

/* cert_status - one word for cert now: a root by its dates; any other by
 * the trust decision for encryption or, when its usage allows only that,
 * signing; "expiring" when usable and ending within window days */
ms_err cert_status(ms_trust *trust, X509 *cert, bool root,
    unsigned long window, const char **status);

/* cert_candidate_fn - what cert_candidates calls for each certificate */
typedef void (*cert_candidate_fn)(const char *fpr, X509 *cert,
    cert_verdict *verdict, void *data);

/* cert_candidates - each certificate the index names for addr, loaded
 * and judged for purpose and addr (trust_check), in the index's order:
 * the ones an address lookup considers, for saying why each is taken or
 * refused; *count gets how many there were.  For reasons in full, call
 * trust_no_cache first. */
ms_err cert_candidates(ms_trust *trust, const ms_store *store,
    const ms_addr *addr, cert_purpose purpose, cert_candidate_fn each,
    void *data, unsigned *count);

#endif
