/*
 * parse.c - sizes, decimal numbers and days (see parse.h).
 */
#include "parse.h"

#include <glib.h>
#include <string.h>

/* digits - the decimal run at the start of text into *value; the end of
 * the run, or NULL when there is none or it exceeds max */
static const char *
digits(const char *text, unsigned long long max, unsigned long long *value)
{
	const char *p = text;

	*value = 0;
	if (*p < '0' || *p > '9')
		return NULL;
	for (; *p >= '0' && *p <= '9'; p++) {
		unsigned digit = (unsigned)(*p - '0');

		if (*value > (max - digit) / 10)
			return NULL;
		*value = *value * 10 + digit;
	}
	return p;
}

bool
parse_size(const char *text, unsigned long long *out)
{
	unsigned long long value, mult = 1;
	const char *p = digits(text, ~0ULL, &value);

	if (p == NULL)
		return false;
	switch (*p) {
	case 'k': case 'K':
		mult = 1024ULL;
		break;
	case 'm': case 'M':
		mult = 1024ULL * 1024;
		break;
	case 'g': case 'G':
		mult = 1024ULL * 1024 * 1024;
		break;
	default:
		break;
	}
	if (mult != 1)
		p++;
	if (*p != '\0' || (value != 0 && value > ~0ULL / mult))
		return false;
	*out = value * mult;
	return true;
}

bool
parse_decimal(const char *text, unsigned long long max,
    unsigned long long *out)
{
	unsigned long long value;
	const char *p = digits(text, max, &value);

	if (p == NULL || *p != '\0')
		return false;
	*out = value;
	return true;
}

bool
parse_day(const char *text, time_t *out)
{
	unsigned long long year, month, day;
	GDateTime *when;

	/* exactly four, two and two digits: "2025-2-3" is no date */
	if (strlen(text) != 10 || text[4] != '-' || text[7] != '-' ||
	    strspn(text, "0123456789") != 4 ||
	    strspn(text + 5, "0123456789") != 2 ||
	    strspn(text + 8, "0123456789") != 2)
		return false;
	year = (unsigned long long)g_ascii_strtoull(text, NULL, 10);
	month = (unsigned long long)g_ascii_strtoull(text + 5, NULL, 10);
	day = (unsigned long long)g_ascii_strtoull(text + 8, NULL, 10);
	if (year < 1970 || month < 1 || month > 12 ||
	    !g_date_valid_dmy((GDateDay)day, (GDateMonth)month,
	    (GDateYear)year))
		return false;
	when = g_date_time_new_utc((gint)year, (gint)month, (gint)day, 0, 0,
	    0);
	if (when == NULL)
		return false;
	*out = (time_t)g_date_time_to_unix(when);
	g_date_time_unref(when);
	return true;
}
