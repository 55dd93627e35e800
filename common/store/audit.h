/*
 * audit.h - the store's audit log (mailseal-store(5)): one line for each
 * change a program makes to the store, chained by SHA-256, and the same
 * line to syslog.
 *
 * A line is "TIME uid=N program=NAME prev=HASH WHAT": TIME in UTC
 * (2026-01-31T12:00:00Z), N the real user id, HASH the SHA-256 (hex) of
 * the line before without its newline, 64 zeros on the first line, WHAT
 * the change ("import certificate FPR", "remove openpgp-key FPR", ...).
 * Editing, removing or inserting a line breaks the chain at the line
 * after; syslog holds a second copy of every line with its hash, so a
 * log rewritten from the start does not match it.
 *
 * API: audit_record() appends after a change (before one that could not
 * be made again, a quarantine release), under the store lock (it takes
 * it, nested when the caller holds it), so concurrent writers chain one
 * after another; audit_verify() checks the whole chain.
 * WHAT names objects (fingerprints, addresses, ids, names), never a
 * password, key or message content; control characters are masked.
 */
#ifndef MAILSEAL_AUDIT_H
#define MAILSEAL_AUDIT_H

#include <stddef.h>

#include "err.h"
#include "store.h"

#define AUDIT_DIR "audit"
#define AUDIT_FILE "log"
/* longest line written; a longer WHAT is cut */
#define AUDIT_LINE_MAX 2048u
#define AUDIT_HASH_LEN 64

/* audit_record - append one line for a change already made.  When the
 * line cannot be written the change stands: the line goes to syslog and
 * stderr marked "not in the audit log" and MS_TEMP returns, so the
 * program exits 75 and the administrator knows */
ms_err audit_record(ms_store *store, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

typedef struct audit_report {
	unsigned long lines;		/* lines read */
	unsigned long bad_line;		/* first line that fails, 0: none */
	const char *why;		/* what is wrong with it */
	char last_hash[AUDIT_HASH_LEN + 1];	/* SHA-256 of the last line */
} audit_report;

/* audit_verify - check every line's form and its link to the line
 * before: MS_OK with report->bad_line 0 when the chain holds (a missing
 * log is an empty one), MS_OK with bad_line set when it is broken,
 * MS_TEMP when the log cannot be read */
ms_err audit_verify(ms_store *store, audit_report *report);

#endif
