/*
 * err.c - the single mapping from module results to exit statuses.
 */
#include "err.h"

int
ms_exit_code(ms_err err)
{
	switch (err) {
	case MS_OK:
		return EXIT_DONE;
	case MS_NOTFOUND:
		return EXIT_NOTFOUND;
	case MS_USAGE:
		return EXIT_USAGE;
	case MS_DATA:
		return EXIT_DATAERR;
	case MS_POLICY:
		return EXIT_UNAVAILABLE;
	case MS_TEMP:
	case MS_CONFIG:
	case MS_INTERNAL:
		return EXIT_TEMPFAIL;
	}
	/* an unknown value is a bug: defer rather than bounce */
	return EXIT_TEMPFAIL;
}

int
ms_exit_code_offline(ms_err err)
{
	return err == MS_CONFIG ? EXIT_CONFIG : ms_exit_code(err);
}

const char *
ms_err_name(ms_err err)
{
	switch (err) {
	case MS_OK:
		return "ok";
	case MS_NOTFOUND:
		return "not found";
	case MS_USAGE:
		return "usage";
	case MS_DATA:
		return "bad data";
	case MS_POLICY:
		return "refused by policy";
	case MS_TEMP:
		return "temporary failure";
	case MS_CONFIG:
		return "configuration error";
	case MS_INTERNAL:
		return "internal error";
	}
	return "unknown";
}
