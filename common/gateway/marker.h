/*
 * marker.h - the loop marker of REL-7: every copy mailseal-filter
 * reinjects carries
 *
 *     X-Mailseal-Processed: v1; t=UNIXTIME; mac=HEX
 *
 * where mac is HMAC-SHA256 under this gateway's instance key of "v1",
 * the time and the Message-ID.  A message that comes back to the filter
 * with a valid marker younger than MARKER_WINDOW seconds is a mail loop
 * (a content filter set where reinjected mail passes again): the filter
 * defers it with 4.4.6 instead of encrypting it again and again.  Markers
 * that do not verify, or are older, are foreign and removed like every
 * X-Mailseal- field (DEC-8).
 *
 * API: marker_line() makes the field under the instance key
 * (instance.h); marker_loop() checks a message's markers.
 */
#ifndef MAILSEAL_MARKER_H
#define MAILSEAL_MARKER_H
#include <stdbool.h>
#include <time.h>
#include "err.h"
#include "instance.h"
#include "msg.h"
#include "store.h"

#define MARKER_KEY_LEN INSTANCE_KEY_LEN
#define MARKER_WINDOW 900	/* seconds: a loop comes back in seconds */

/* marker_line - "X-Mailseal-Processed: ...\n" for msg at now (g_free) */
char *marker_line(const unsigned char *key, const ms_message *msg,
    time_t now);

/* marker_loop - msg carries a valid marker of this gateway made within
 * MARKER_WINDOW seconds before now; *age is its age */
bool marker_loop(const unsigned char *key, const ms_message *msg,
    time_t now, long *age);
#endif
