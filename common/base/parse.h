/*
 * parse.h - the one parser of each small value type the settings, the
 * store records and the command lines share: sizes with K, M, G
 * suffixes, plain decimal numbers, and calendar days.
 *
 * All are strict: the whole text is the value (no sign, no space, no
 * trailing text), overflow is refused, never wrapped.
 */
#ifndef MAILSEAL_PARSE_H
#define MAILSEAL_PARSE_H

#include <stdbool.h>
#include <time.h>

/* parse_size - decimal digits with an optional K, M or G suffix (either
 * case; powers of 1024); 0 is a valid result, ranges are the caller's */
bool parse_size(const char *text, unsigned long long *out);

/* parse_decimal - decimal digits only, at most max */
bool parse_decimal(const char *text, unsigned long long max,
    unsigned long long *out);

/* parse_day - "YYYY-MM-DD", a real calendar day from 1970 to 9999, as
 * the start of that day in UTC */
bool parse_day(const char *text, time_t *out);

#endif
