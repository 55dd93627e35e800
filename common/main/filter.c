/*
 * filter.c - the common start and end of the message filters (see
 * filter.h).
 */
#include "filter.h"
#include "cert.h"
#include "diag.h"
#include "msgpart.h"
#include "ritual.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

ms_err
filter_refuse(const char *code, const char *fmt, ...)
{
	va_list ap;
	char *text = NULL;

	va_start(ap, fmt);
	if (vasprintf(&text, fmt, ap) < 0)
		text = NULL;
	va_end(ap);
	diag_status("%s %s", code, text ? text : "refused by policy");
	free(text);
	return MS_POLICY;
}


ms_err
filter_open(ms_filter *filter, msg_read_mode mode)
{
	msg_problem problem;
	ms_err err;

	memset(filter, 0, sizeof(*filter));
	err = crypto_init();
	if (err == MS_OK)
		err = settings_open_store(ritual_opts.store, false,
		    &filter->store, &filter->settings);
	if (err != MS_OK)
		return err;
	/* REL-2: a filter never runs into Postfix's own time limit, which
	 * would bounce; past its deadline it defers (exit 75) */
	ritual_deadline((unsigned)settings_get_number(filter->settings,
	    "time-limit"));
	err = msg_read_stdin_mode(mode, &filter->msg, &problem);
	if (err == MS_DATA)
		return filter_problem(problem);
	return err;
}

ms_err
filter_problem(msg_problem problem)
{
	switch (problem) {
	case MSG_PROBLEM_TOO_LARGE:
	case MSG_PROBLEM_HEADER_TOO_LARGE:
	case MSG_PROBLEM_TOO_DEEP:
	case MSG_PROBLEM_TOO_MANY_PARTS:
		/* a limit is a deliberate refusal (MIME-L*) */
		return filter_refuse(msg_problem_status(problem), "%s",
		    msg_problem_text(problem));
	default:
		diag_status("%s %s", msg_problem_status(problem),
		    msg_problem_text(problem));
		return MS_DATA;
	}
}

void
filter_close(ms_filter *filter)
{
	msg_free(filter->msg);
	settings_free(filter->settings);
	store_close(filter->store);
	memset(filter, 0, sizeof(*filter));
}

ms_err
filter_sender(ms_filter *filter, const char *option, ms_addr *sender)
{
	const char *why = NULL;

	if (option != NULL && *option != '\0') {
		if (addr_parse_str(option, sender, &why) != MS_OK)
			return filter_refuse("5.7.1", "sender address is not "
			    "usable for signing");
		return MS_OK;
	}
	if (msg_from_address(filter->msg, sender, &why) != MS_OK)
		return filter_refuse("5.7.1", "no single From address to sign "
		    "for");
	return MS_OK;
}

void
filter_run(poptContext ctx, msg_read_mode mode, filter_transform fn,
    void *arg)
{
	ms_output *out = NULL;
	ms_filter f;
	ms_err err;

	diag_set_quiet(true);
	err = filter_open(&f, mode);
	if (err == MS_OK)
		err = output_open(f.store, &out);
	if (err == MS_OK)
		err = fn(&f, out, arg);
	if (err == MS_OK) {
		err = output_commit(out);
		out = NULL;
	}
	output_discard(out);
	filter_close(&f);
	ritual_end(ctx, err);
}
