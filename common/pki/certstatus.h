/*
 * certstatus.h - a certificate's status at a glance: one word for what it
 * is good for now (certstore list, mailseal-expiry), and when it ends.
 *
 * API: cert_status() decides the word through the trust decision;
 * cert_end() gives notAfter as a time.  The words: usable, valid (a root
 * valid by its dates), expiring (usable, ending within the window),
 * expired, not-yet-valid, revoked, untrusted, revocation-unknown,
 * unusable (any other reason: usage, key, address).
 */
#ifndef MAILSEAL_CERTSTATUS_H
#define MAILSEAL_CERTSTATUS_H

#include <time.h>

#include "trust.h"

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

#endif
