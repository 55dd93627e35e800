/*
 * filter.h - what every message filter does before and after its own
 * transform: check the crypto library, open the store read-only, load the
 * global settings (limits, syslog), read the message with limits, and
 * turn a refusal into the status line Postfix reads.
 *
 * API: filter_run() is the whole of a filter's main after its options:
 * read, transform, commit, exit.  The programs whose output is not one
 * committed file (mailseal-filter's copies, pdfwrap's PDF and notice,
 * dlp-scan's verdict or hold, pgp-sign writing from memory) call
 * filter_open() then their own work, then filter_close().  A message over a limit is refused with its enhanced
 * status code (exit 69); one that cannot be parsed is a data error (exit
 * 65).
 */
#ifndef MAILSEAL_FILTER_H
#define MAILSEAL_FILTER_H

#include "addr.h"
#include "err.h"
#include "msg.h"
#include "output.h"
#include "settings.h"
#include "store.h"

#include <popt.h>

typedef struct ms_filter {
	ms_store *store;
	ms_settings *settings;
	ms_message *msg;
} ms_filter;

/* filter_open - store, settings and the message on stdin, read in the
 * given mode (msg.h) */
ms_err filter_open(ms_filter *filter, msg_read_mode mode);

/* filter_problem - a message that could not be read: a limit is a
 * refusal (MS_POLICY, its status line first), anything else a data error
 * (MS_DATA) */
ms_err filter_problem(msg_problem problem);

/* filter_close - release what filter_open took */
void filter_close(ms_filter *filter);

/* filter_sender - the signing sender: option (when not empty) or the
 * single From address; a refusal (5.7.1) when neither is usable */
ms_err filter_sender(ms_filter *filter, const char *option, ms_addr *sender);

/* filter_transform - a filter's own work: write the transformed message
 * to out (not yet committed); MS_OK commits it */
typedef ms_err (*filter_transform)(ms_filter *filter, ms_output *out,
    void *arg);

/* filter_run - the filter main: quiet diagnostics (reasons go to syslog,
 * never into a bounce), filter_open in mode, an output in the store, the
 * transform, the output committed only when the transform succeeded and
 * discarded otherwise, filter_close, and the exit status of the result
 * (ritual_end) */
void filter_run(poptContext ctx, msg_read_mode mode, filter_transform fn,
    void *arg) __attribute__((noreturn));

/* filter_refuse - print "CODE text" as the first stderr line and return
 * MS_POLICY; the text must not contain message content */
ms_err filter_refuse(const char *code, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

#endif
