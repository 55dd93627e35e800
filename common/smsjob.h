/*
 * smsjob.h - the spool of SMS jobs between pdfwrap(1), which never
 * touches the network, and sms-send(1), which posts them (pdf.md 5.3).
 *
 * A job is one file spool/sms/NAME in the store (directory 0700, file
 * 0600, written by store_write: temp file, fsync, rename), of
 * "key = value" lines: number, sender, recipient, reference, text,
 * expires, attempts, next-attempt.  The text holds the password: the
 * file is wiped (overwritten with zeros) before it is removed, and every
 * copy in memory is wiped by smsjob_clear().  Limits: a job file is at
 * most SMSJOB_MAX bytes; numbers are E.164 (+ and 8 to 15 digits).
 */
#ifndef MAILSEAL_SMSJOB_H
#define MAILSEAL_SMSJOB_H

#include <stdbool.h>
#include <time.h>

#include "err.h"
#include "store.h"

#define SMSJOB_DIR "spool/sms"
#define SMSJOB_MAX 4096

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

/* smsjob_remove - wipe and unlink the job's file (takes the lock) */
ms_err smsjob_remove(ms_store *store, const smsjob *job);

/* smsjob_clear - wipe and free the fields */
void smsjob_clear(smsjob *job);

#endif
