/*
 * reinject.h - hand a finished message back to the mail system: to the
 * reinjection SMTP listener when reinject-smtp is set, else through the
 * reinjection command (run_reinject_command: Postfix's sendmail by
 * default) as "CMD [-R hdrs] -f SENDER -- RCPT...".
 *
 * API: reinject_send() sends the message in fd (read from its start) from
 * sender ("" for the null sender) to rcpts (char *).  Whatever the mail
 * system answers after the message was taken from the sender is no
 * refusal of that message: a command's non-zero status and every SMTP
 * failure are MS_TEMP, so the copy waits for a retry.  Limits: each SMTP
 * step has REINJECT_SMTP_TIMEOUT seconds.
 */
#ifndef MAILSEAL_REINJECT_H
#define MAILSEAL_REINJECT_H
#include <glib.h>
#include "err.h"
#include "settings.h"

#define REINJECT_SMTP_TIMEOUT 120	/* seconds per SMTP step */

enum {
	/* REL-8: a later bounce carries the header only (sendmail's
	 * -R hdrs, SMTP's RET=HDRS): for decrypted mail */
	REINJECT_HDRS_ONLY = 1 << 0,
	/* the command is killed when this process dies, before its copy
	 * can be queued, rather than queue one that a retry sends again */
	REINJECT_TIED = 1 << 1,
	/* a failed command's diagnostics go to our standard error (its
	 * first line is what Postfix reads) */
	REINJECT_RELAY_ERRORS = 1 << 2,
};

/* reinject_send - send fd from sender to rcpts; flags: REINJECT_* */
ms_err reinject_send(const ms_settings *settings, const char *sender,
    GPtrArray *rcpts, int fd, unsigned flags);
#endif
