/*
 * expiry.h - "when does it end" for everything the store holds that
 * expires (certificates, roots, CRLs, OpenPGP keys): the window of
 * "expiring", days left and dates, the same for certstore list, pgp-keys
 * list and mailseal-expiry.
 *
 * API: expiry_days_parse() reads a DAYS operand of --expiring or --days;
 * expiry_within() tells whether an end falls inside a window;
 * expiry_days_left() counts calendar days (UTC) from now to an end;
 * expiry_date() prints an end.  An end of 0 means "never".
 * Limits: windows of at most EXPIRY_DAYS_MAX days.
 */
#ifndef MAILSEAL_EXPIRY_H
#define MAILSEAL_EXPIRY_H

#include <stdbool.h>
#include <time.h>

/* the window of "expiring" when none is given, in days (mailseal-check
 * warns at the same distance) */
#define EXPIRY_DAYS_DEFAULT 30
#define EXPIRY_DAYS_MAX 36500

/* expiry_days_parse - a number of days from 0 to EXPIRY_DAYS_MAX */
bool expiry_days_parse(const char *text, unsigned long *days);

/* expiry_within - end (not 0) falls before days from now: already past
 * or ending inside the window */
bool expiry_within(time_t end, time_t now, unsigned long days);

/* expiry_days_left - calendar days (UTC) from now's day to end's day:
 * 0 on the day itself, negative once the day has passed */
long expiry_days_left(time_t end, time_t now);

/* expiry_date - end as YYYY-MM-DD (UTC), or "never" for 0 (g_free) */
char *expiry_date(time_t end);

#endif
