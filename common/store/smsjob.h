/*
 * smsjob.h - the spool of SMS jobs between pdfwrap(1), which never
 * touches the network, and sms-send(1), which posts them (pdf.md 5.3).
 *
 * A job is one file spool/sms/NAME in the store (directory 0700, file
 * 0600, written by store_write: temp file, fsync, rename), of
 * "key = value" lines: number, sender, recipient, reference, text,
 * expires, attempts, next-attempt.  The text holds the password: the
 * file is wiped (overwritten with zeros) before it is removed, and every
 * copy in memory is wiped by smsjob_clear().  A job that is done (sent or
 * given up) leaves an empty file of its name in spool/sms-done, so that a
 * retry of the same queue file, whose job name is derived, spools nothing
 * again; sms-send prunes them after SMSJOB_DONE_KEEP seconds.  Limits: a
 * job file is at most SMSJOB_MAX bytes; numbers are E.164 (+ and 8 to 15
 * digits).
 */
#ifndef MAILSEAL_SMSJOB_H
#define MAILSEAL_SMSJOB_H

#include <stdbool.h>
#include <time.h>

#include "err.h"
#include "store.h"
#include "mslimits.h"

#define SMSJOB_DIR "spool/sms"
#define SMSJOB_DONE_DIR "spool/sms-done"
/* longer than Postfix keeps a message in its queue (5 days by default) */
#define SMSJOB_DONE_KEEP (14 * 86400)

typedef struct smsjob {
	char *name;		/* file name in SMSJOB_DIR */
	char *number;		/* E.164 */
	char *sender;		/* told when the job is given up */
	char *recipient;
	char *reference;	/* short, also in the recipient's notice */
	char *text;		/* the SMS: password and reference, secret */
	long long expires;
	unsigned attempts;
	long long next_attempt;
} smsjob;

/* smsjob_number_ok - text is an E.164 number */
bool smsjob_number_ok(const char *text);

/* smsjob_new_reference - a short random reference (g_free) */
char *smsjob_new_reference(void);

/* smsjob_write - commit job (a new name when job->name is NULL); takes
 * and releases the store lock */
ms_err smsjob_write(ms_store *store, smsjob *job);

/* smsjob_read - the job named name; MS_NOTFOUND when gone, MS_DATA when
 * malformed */
ms_err smsjob_read(const ms_store *store, const char *name, smsjob *job);

/* smsjob_remove - mark the job done, then wipe and unlink its file
 * (takes the lock) */
ms_err smsjob_remove(ms_store *store, const smsjob *job);

/* smsjob_known - a job of this name is spooled or done */
bool smsjob_known(const ms_store *store, const char *name);

/* smsjob_prune_done - forget done jobs older than SMSJOB_DONE_KEEP */
ms_err smsjob_prune_done(ms_store *store, time_t now);

/* smsjob_clear - wipe and free the fields */
void smsjob_clear(smsjob *job);

#endif
