/*
 * run.h - run a sibling program or the reinjection command, never through
 * a shell: the argument vector is handed to the kernel as it is, so an
 * address such as "$(touch /tmp/x)@example.net" is only ever a word.
 *
 * API: run_program() starts argv[0] (an absolute path) with standard input
 * read from the start of in_fd, standard output appended to out_fd (or
 * /dev/null when out_fd is -1) and standard error kept in memory, waits
 * for it and gives its exit status (128 + signal number for a signal).
 * run_bindir() is the directory the running program was installed in,
 * where its siblings live.  Limits: RUN_STDERR_MAX octets of a child's
 * diagnostics are kept.
 */
#ifndef MAILSEAL_RUN_H
#define MAILSEAL_RUN_H
#include <glib.h>
#include "err.h"
#include "settings.h"
#include "mslimits.h"

/* run_program - run argv; *status is the exit status; *errtext (may be
 * NULL) the first RUN_STDERR_MAX octets of its standard error (g_string_free) */
ms_err run_program(char *const argv[], int in_fd, int out_fd, int *status,
    GString **errtext);

/* run_program_fd3 - run_program with fd3 (when not -1) open in the child
 * as its descriptor 3, read and written in place (a memory file that
 * must never be a file on disk) */
ms_err run_program_fd3(char *const argv[], int in_fd, int out_fd, int fd3,
    int *status, GString **errtext);

/* run_program_tied - run_program for a child that must not outlive us:
 * it is killed when this process dies (the reinjection command: a filter
 * killed while it runs must not leave a copy being queued that the retry
 * will queue again) */
ms_err run_program_tied(char *const argv[], int in_fd, int out_fd,
    int *status, GString **errtext);

/* run_relay_errtext - a child's diagnostics (errtext of run_program) on
 * our standard error, ending in a line end: its first line is the status
 * line Postfix reads when the child refused */
void run_relay_errtext(const GString *text);

/* run_reinject_command - the command that hands a finished message back
 * to the mail system, as an argument vector (g_strfreev): the
 * reinject-command setting, else $MAILSEAL_SENDMAIL, else
 * "/usr/sbin/sendmail -G -i"; split into words as a shell would, but
 * nothing is evaluated; NULL (logged) when it cannot be split or does
 * not start with an absolute path */
char **run_reinject_command(const ms_settings *settings);

/* run_status_err - the library's value for a child's exit status (as
 * run_program gives it): 0 is MS_OK, 69 a refusal (MS_POLICY), 65 input
 * that can never be processed (MS_DATA), 64 a wrong call (MS_INTERNAL);
 * anything else, 75 and a signal included, MS_TEMP */
ms_err run_status_err(int status);

/* run_bindir - the directory of the running executable (static storage),
 * or NULL when it cannot be read */
const char *run_bindir(void);

/* run_memfile - a new anonymous read-write file (memfd, else an unlinked
 * temporary file), or -1 */
int run_memfile(const char *name);

/* run_file_size - the size of an open file, or -1 */
long long run_file_size(int fd);

/* run_copy_fd - copy all of in_fd (from its start) to out_fd, checking
 * every read and write */
ms_err run_copy_fd(int in_fd, int out_fd);
#endif
