/*
 * ritual.h - the one main() ritual every program follows.
 *
 * ritual_begin(): make sure fds 0-2 are open, umask(077), ignore SIGPIPE,
 * set the program name, parse options with popt (the program's table plus
 * the common --store, -h, --version), print usage on -h (exit 0) and on a
 * bad option (exit 64).  ritual_output() writes a complete output to stdout
 * in one go; ritual_end() checks that stdout was flushed and closed without
 * error and exits with the status for a module result.  ritual_deadline()
 * arms the internal deadline (REL-2): on expiry, registered temp files are
 * removed and the process exits 75.
 *
 * ritual_admin_main() is the whole main() of an admin tool with
 * subcommands (certstore, smime-ca, pgp-keys): a table names each command,
 * its handler, whether it writes (then the store is created when missing
 * and the store lock is held around the handler) and which of the
 * program's options it takes; anything else is a usage error (exit 64).
 */
#ifndef MAILSEAL_RITUAL_H
#define MAILSEAL_RITUAL_H

#include <popt.h>
#include <stdbool.h>
#include <stddef.h>

#include "err.h"
#include "settings.h"
#include "store.h"

typedef struct ms_program {
	const char *usage;		/* same words as the man page SYNOPSIS */
	const struct poptOption *options;	/* the program's table or NULL */
} ms_program;

/* the common options' values, filled by ritual_begin */
typedef struct ms_common_opts {
	const char *store;		/* --store DIR, or NULL */
} ms_common_opts;

extern ms_common_opts ritual_opts;

/* ritual_begin - set up the process and parse options; returns the popt
 * context positioned after the options (poptGetArgs for operands) */
poptContext ritual_begin(int argc, char **argv, const ms_program *prog);

/* ritual_usage_error - print why and the usage on stderr, exit 64 */
void ritual_usage_error(const char *fmt, ...)
	__attribute__((format(printf, 1, 2), noreturn));

/* ritual_queue_id - a -q QUEUEID option, NULL when not given: every
 * syslog line of the program then starts with it (diag_set_queue_id);
 * anything but letters and digits is a usage error */
void ritual_queue_id(const char *id);

/* ritual_deadline - exit 75 after seconds (0 disarms) */
void ritual_deadline(unsigned seconds);

/* ritual_output - write len bytes to stdout, checking every write */
ms_err ritual_output(const void *data, size_t len);

/* ritual_end - flush and close stdout, then exit with the status for err
 * (a failed flush or close turns success into 75) */
void ritual_end(poptContext ctx, ms_err err) __attribute__((noreturn));

/* ritual_exit_status - like ritual_end but with an explicit exit status */
void ritual_exit_status(poptContext ctx, int status)
	__attribute__((noreturn));

/* ritual_option_given - the program option long_name was on the command
 * line (its value differs from the one it had before parsing) */
bool ritual_option_given(const char *long_name);

/* what an admin command's handler gets */
typedef struct ms_admin {
	ms_store *store;
	ms_settings *settings;	/* the global settings */
	void *data;		/* the program's own, set by its open hook */
} ms_admin;

typedef struct ms_command {
	const char *name;
	ms_err (*run)(ms_admin *admin, const char **args);
	bool writes;		/* store created if missing, lock held */
	const char *options;	/* long names of the program's options it
				 * takes, space-separated ("" for none) */
} ms_command;

typedef struct ms_admin_program {
	ms_program program;
	const ms_command *commands;	/* ends with a NULL name */
	bool quiet;		/* information to syslog only (audit lines) */
	ms_err (*init)(void);	/* before the store is opened; NULL: none */
	/* after the store is open, before the lock; NULL for none */
	ms_err (*open)(ms_admin *admin, const ms_command *command);
	void (*close)(ms_admin *admin);
} ms_admin_program;

/* ritual_admin_main - run the command named by the first operand with
 * the rest as its operands (never NULL), and exit */
void ritual_admin_main(int argc, char **argv, const ms_admin_program *prog)
	__attribute__((noreturn));

#endif
