/*
 * err.h - result values shared by the common modules, and their one mapping
 * to sysexits(3) exit codes as Postfix pipe(8) reads them.
 *
 * Modules return an ms_err; only the edge (the main ritual) turns it into an
 * exit status with ms_exit_code().  Under pipe(8) only 75 (and 71, and death
 * by a signal) defers; every other non-zero status bounces.
 */
#ifndef MAILSEAL_ERR_H
#define MAILSEAL_ERR_H

/* Exit statuses (sysexits.h values, spelled out so no header drift matters). */
enum {
	EXIT_DONE = 0,
	EXIT_NOTFOUND = 1,	/* query commands: nothing found */
	EXIT_USAGE = 64,	/* bad command line */
	EXIT_DATAERR = 65,	/* input that can never be processed */
	EXIT_UNAVAILABLE = 69,	/* deliberate policy refusal (5.7.x) */
	EXIT_TEMPFAIL = 75,	/* transient, internal or configuration */
	EXIT_CONFIG = 78	/* configuration, outside the mail path */
};

typedef enum ms_err {
	MS_OK = 0,
	MS_NOTFOUND,	/* a lookup found nothing */
	MS_USAGE,	/* the caller asked for something malformed */
	MS_DATA,	/* input data is malformed or over a hard limit */
	MS_POLICY,	/* refused by policy */
	MS_TEMP,	/* transient: lock busy, disk full, resource exhausted */
	MS_CONFIG,	/* configuration error: defers so mail is not lost */
	MS_INTERNAL	/* a bug or library failure: defers */
} ms_err;

/* ms_exit_code - the exit status for a module result */
int ms_exit_code(ms_err err);

/* ms_exit_code_offline - the exit status for a program that never runs
 * under pipe(8) (crl-sync from cron): as ms_exit_code, except that a
 * configuration error is 78, so it stands apart from a retry */
int ms_exit_code_offline(ms_err err);

/* ms_err_name - a short word for a result, for diagnostics */
const char *ms_err_name(ms_err err);

#endif
