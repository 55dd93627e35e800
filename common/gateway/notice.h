/*
 * notice.h - the quarantine's notices (mailseal-settings(5)
 * quarantine-notify, dlp-officer): a short text/plain message to the
 * sender when an entry is held, released, deleted or expired, and to the
 * DLP officer when one is held.
 *
 * API: notice_quarantine() reads the entry's record and sends what the
 * global settings ask for.  A notice names the entry (id, subject,
 * recipients, rules, time), never the held message's body; the sender is
 * told only when the record says the sender was authenticated, so a
 * forged sender never gets mail from us; the officer is told of every
 * hold.  Notices come from the null sender with Auto-Submitted:
 * auto-generated and the loop marker (marker.h), built by GMime, and are
 * reinjected as mailseal-filter reinjects (reinject-smtp, else the
 * reinjection command).  Limits: the record's values as the quarantine
 * keeps them (masked, the subject cut at QUARANTINE_SUBJECT_MAX).
 */
#ifndef MAILSEAL_NOTICE_H
#define MAILSEAL_NOTICE_H

#include <glib.h>

#include "err.h"
#include "settings.h"
#include "store.h"

typedef enum notice_event {
	NOTICE_HOLD,		/* the message was held */
	NOTICE_RELEASE,		/* released and sent on */
	NOTICE_DELETE,		/* deleted by an administrator */
	NOTICE_EXPIRE		/* deleted by the sweep, past retention */
} notice_event;

/* notice_quarantine - the notices of event for the entry id with the
 * record meta (global settings): MS_OK when every notice asked for went
 * out (or none was asked for); else the failure, already logged.  The
 * event itself stands either way: the caller logs and goes on */
ms_err notice_quarantine(const ms_store *store, const ms_settings *settings,
    const char *id, const GByteArray *meta, notice_event event);

/* notice_hold - the hold notices of entry id, once per entry: the runs
 * of one queue file that join the entry (one per recipient under
 * Postfix) send none again; a failure is logged as a warning and the
 * hold stands */
void notice_hold(ms_store *store, const ms_settings *settings,
    const char *id);

#endif
