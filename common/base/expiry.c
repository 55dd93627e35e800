/*
 * expiry.c - the window of "expiring", days left and dates (expiry.h).
 */
#include "expiry.h"
#include "parse.h"

#include <glib.h>

bool
expiry_days_parse(const char *text, unsigned long *days)
{
	unsigned long long value;

	if (!parse_decimal(text, EXPIRY_DAYS_MAX, &value))
		return false;
	*days = (unsigned long)value;
	return true;
}

bool
expiry_within(time_t end, time_t now, unsigned long days)
{
	/* days <= EXPIRY_DAYS_MAX: the sum stays far from overflow */
	return end != 0 && end < now + (time_t)days * 86400;
}

/* day_number - the UTC day of t, counted from 1970-01-01 (floor) */
static long
day_number(time_t t)
{
	long long seconds = (long long)t;

	return (long)(seconds >= 0 ? seconds / 86400 :
	    -((-seconds + 86399) / 86400));
}

long
expiry_days_left(time_t end, time_t now)
{
	return day_number(end) - day_number(now);
}

char *
expiry_date(time_t end)
{
	struct tm tm;

	if (end == 0 || gmtime_r(&end, &tm) == NULL)
		return g_strdup("never");
	return g_strdup_printf("%04d-%02d-%02d", tm.tm_year + 1900,
	    tm.tm_mon + 1, tm.tm_mday);
}
