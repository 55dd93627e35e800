/*
 * marker.h - the loop marker of REL-7: every copy mailseal-filter
 * reinjects carries
 *
 *     X-Mailseal-Processed: v2; t=UNIXTIME; mac=HEX
 *
 * where mac is HMAC-SHA256 under this gateway's instance key of "v2",
 * the time, the Message-ID and the envelope sender, each ended by a
 * newline but the last.  A message that comes back to the filter with
 * the same envelope sender and a valid marker younger than MARKER_WINDOW
 * seconds is a mail loop
 * (a content filter set where reinjected mail passes again): the filter
 * defers it with 4.4.6 instead of encrypting it again and again.  A copy
 * that a mailing list sends on has the list's envelope sender: no loop.
 * Markers
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

/* marker_line - "X-Mailseal-Processed: ...\n" for msg from the envelope
 * sender ("" for the null sender) at now (g_free) */
char *marker_line(const unsigned char *key, const ms_message *msg,
    const char *sender, time_t now);

/* marker_loop - msg, from the envelope sender, carries a valid marker of
 * this gateway made for that sender within MARKER_WINDOW seconds before
 * now; *age is its age */
bool marker_loop(const unsigned char *key, const ms_message *msg,
    const char *sender, time_t now, long *age);
#endif
