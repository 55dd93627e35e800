/*
 * diag.h - diagnostics: "prog: warning: text" and "prog: fatal: text" on
 * stderr, optionally also to syslog (facility mail).
 *
 * API: diag_init() once, then diag_warn/diag_info/diag_fatal.  Control
 * characters in the formatted text are masked as '?', so a hostile value
 * copied into a message cannot forge log lines.  Temporary files registered
 * with diag_cleanup_register() are unlinked on a fatal exit and by the
 * deadline alarm (REL-2), which is async-signal-safe.  With a queue id
 * set (diag_set_queue_id), every syslog line starts "QUEUEID: ", as
 * Postfix's own lines do, so that one search finds every line of a
 * message across the programs that handled it; standard error is left
 * as it is (its first line is the status Postfix reads).
 * diag_log_value() writes a value for a key=value log line.
 * Never pass message content, keys or passwords to these functions.
 */
#ifndef MAILSEAL_DIAG_H
#define MAILSEAL_DIAG_H

#include <stdarg.h>
#include <glib.h>
#include <stdbool.h>
#include <stddef.h>

/* diag_init - set the program name used as prefix */
void diag_init(const char *argv0);

/* diag_progname - the program name set by diag_init */
const char *diag_progname(void);

/* diag_use_syslog - also log to syslog, facility mail */
void diag_use_syslog(bool on);

/* diag_set_queue_id - the queue id every syslog line of this process
 * starts with; false, and nothing set, for anything but 1 to 32 letters
 * and digits (what Postfix queue ids are made of) */
bool diag_set_queue_id(const char *id);

/* diag_queue_id - the queue id set, or NULL */
const char *diag_queue_id(void);

/* diag_set_quiet - suppress info lines on stderr (syslog still gets them) */
void diag_set_quiet(bool on);

/* diag_info - an informational line */
void diag_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* diag_warn - "prog: warning: ..." */
void diag_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* diag_error - "prog: error: ..." (the caller decides what follows) */
void diag_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* diag_status - the first stderr line Postfix reads: "5.7.1 text" */
void diag_status(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* diag_fatal - "prog: fatal: ...", clean up temp files, exit with code */
void diag_fatal(int exit_code, const char *fmt, ...)
	__attribute__((format(printf, 2, 3), noreturn));

/* diag_mask - copy text with control characters and non-UTF-8 masked;
 * the result is malloc'd and never NULL */
char *diag_mask(const char *text, size_t len);

/* diag_list_append - append text, masked, to a ", "-separated list (the
 * recipients a refusal names) */
void diag_list_append(GString *list, const char *text);

/* diag_log_value - append value to a key=value log line so that it holds
 * no space, control character or other byte outside printable ASCII
 * (written \xHH, as is a backslash): a hostile value cannot make a field
 * of its own or a line of its own.  At most max bytes of value are
 * written; a longer one ends in "..." */
void diag_log_value(GString *line, const char *value, size_t max);

/* diag_cleanup_register - unlink path at fatal exit or deadline; the path
 * is copied.  Returns a slot number for diag_cleanup_forget. */
int diag_cleanup_register(const char *path);

/* diag_cleanup_forget - the file was renamed or removed: forget it */
void diag_cleanup_forget(int slot);

/* diag_cleanup_run - unlink every registered file (async-signal-safe) */
void diag_cleanup_run(void);

#endif
