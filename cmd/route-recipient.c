/*
 * route-recipient - decide for each envelope recipient how its copy of a
 * message is protected, and whether it is signed (route-recipient(1)).
 * One line per recipient on standard output: "METHOD RECIPIENT" and
 * key=value fields.  The message counts only where it can raise the
 * protection (a trigger, a DLP verdict), never lower it (ENC-4).
 */
#include "diag.h"
#include "filter.h"
#include "msgpart.h"
#include "ritual.h"
#include "route.h"
#include "settings.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char usage[] =
"usage: route-recipient [--store DIR] [-n] [-f SENDER] [--rewrite FILE]\n"
"                       RECIPIENT ...\n"
"       route-recipient [--store DIR] [-f SENDER] --explain ADDRESS\n"
"       route-recipient -h | --version\n";

static const char *opt_sender, *opt_rewrite, *opt_explain;
static int opt_dry_run;

static struct poptOption options[] = {
	{ "sender", 'f', POPT_ARG_STRING, &opt_sender, 0, NULL, NULL },
	{ "dry-run", 'n', POPT_ARG_NONE, &opt_dry_run, 0, NULL, NULL },
	{ "rewrite", '\0', POPT_ARG_STRING, &opt_rewrite, 0, NULL, NULL },
	{ "explain", '\0', POPT_ARG_STRING, &opt_explain, 0, NULL, NULL },
	POPT_TABLEEND
};

#define DLP_FIELD "X-Mailseal-DLP"

/* write_all - write len bytes to fd */
static bool
write_all(int fd, const char *data, size_t len)
{
	while (len > 0) {
		ssize_t n = write(fd, data, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return false;
		data += n;
		len -= (size_t)n;
	}
	return true;
}

/* rewrite_message - the message without its triggers into path: a
 * temporary file in the same directory, synced and renamed, so the
 * caller finds either nothing or the whole message (STORE-1) */
static ms_err
rewrite_message(ms_filter *f, const route_triggers *t, const char *path)
{
	GString *head;
	GByteArray *body;
	char *tmp = g_strdup_printf("%s.XXXXXX", path);
	size_t offset = msg_body_offset(f->msg);
	int fd, slot;
	bool ok;

	route_triggers_remove(f->msg, t);
	head = msg_outer_headers(f->msg);
	{
		GString *content = msg_content_headers(f->msg);

		g_string_append(head, content->str);
		g_string_append_c(head, '\n');
		g_string_free(content, TRUE);
	}
	body = msg_crlf_to_lf((const guint8 *)f->msg->raw + offset,
	    f->msg->raw_len - offset);
	fd = mkstemp(tmp);
	if (fd < 0) {
		diag_error("--rewrite: cannot create a file next to %s: %s",
		    path, strerror(errno));
		g_string_free(head, TRUE);
		g_byte_array_free(body, TRUE);
		g_free(tmp);
		return MS_TEMP;
	}
	slot = diag_cleanup_register(tmp);
	ok = write_all(fd, head->str, head->len) &&
	    write_all(fd, (const char *)body->data, body->len) &&
	    fsync(fd) == 0;
	if (close(fd) != 0)
		ok = false;
	if (ok && rename(tmp, path) != 0)
		ok = false;
	if (!ok) {
		diag_error("--rewrite: cannot write %s: %s", path,
		    strerror(errno));
		(void)unlink(tmp);
	}
	diag_cleanup_forget(slot);
	g_string_free(head, TRUE);
	g_byte_array_free(body, TRUE);
	g_free(tmp);
	return ok ? MS_OK : MS_TEMP;
}

/* decision_line - "METHOD RECIPIENT key=value ..." */
static void
decision_line(GString *out, const char *recipient, const route_decision *d,
    const char *trigger, route_sign sign)
{
	g_string_append_printf(out, "%s %s", route_method_name(d->method),
	    recipient);
	if (d->domain_key)
		g_string_append_printf(out, " key=domain fpr=%s",
		    d->fingerprint);
	if (d->reason != NULL)
		g_string_append_printf(out, " reason=%s", d->reason);
	if (trigger != NULL)
		g_string_append_printf(out, " trigger=%s", trigger);
	if (d->method != ROUTE_REJECT && route_sign_name(sign) != NULL)
		g_string_append_printf(out, " sign=%s", route_sign_name(sign));
	g_string_append_c(out, '\n');
}

/* parse_recipients - every operand must be an address: an invalid one
 * is a usage error before anything is decided or printed */
static ms_addr *
parse_recipients(const char **args, int *count)
{
	ms_addr *addrs;
	int n = 0;

	while (args[n] != NULL)
		n++;
	addrs = g_new0(ms_addr, (gsize)n);
	for (int i = 0; i < n; i++) {
		const char *why = NULL;

		if (addr_parse_str(args[i], &addrs[i], &why) != MS_OK) {
			/* freed at the exit that follows; a static holds it
			 * so that a leak checker sees it reachable */
			static char *m;

			for (int k = 0; k < i; k++)
				addr_clear(&addrs[k]);
			g_free(addrs);
			m = diag_mask(args[i], strlen(args[i]));

			/* args[i] is masked: no control character reaches
			 * the log */
			ritual_usage_error("not a valid RECIPIENT \"%s\": %s",
			    m, why ? why : "invalid");
		}
	}
	*count = n;
	return addrs;
}

/* sender_address - -f SENDER, the single From address without -f, or
 * none (the null sender, or no usable From) */
static bool
sender_address(const ms_filter *f, ms_addr *sender)
{
	const char *why = NULL;

	if (opt_sender != NULL) {
		if (*opt_sender == '\0')
			return false;
		if (addr_parse_str(opt_sender, sender, &why) != MS_OK) {
			static char *m;	/* reachable until the exit */

			m = diag_mask(opt_sender, strlen(opt_sender));

			ritual_usage_error("not a valid SENDER \"%s\": %s", m,
			    why ? why : "invalid");
		}
		return true;
	}
	return msg_from_address(f->msg, sender, &why) == MS_OK;
}

int
main(int argc, char **argv)
{
	static const ms_program prog = { usage, options };
	poptContext ctx = ritual_begin(argc, argv, &prog);
	const char **args = poptGetArgs(ctx);
	const char *explain_args[2] = { NULL, NULL };
	ms_addr *recipients = NULL, sender = { 0 };
	bool have_sender = false;
	FILE *explain = NULL;
	GString *out = g_string_new(NULL);
	route_sign sign = ROUTE_SIGN_NONE;
	ms_route *route = NULL;
	route_triggers trig = { 0 };
	char *trigger = NULL;
	int count = 0;
	ms_filter f;
	ms_err err;

	if (opt_explain != NULL) {
		if (args != NULL && args[0] != NULL)
			ritual_usage_error("--explain takes no RECIPIENT");
		if (opt_rewrite != NULL)
			ritual_usage_error("--explain writes no --rewrite "
			    "file");
		explain_args[0] = opt_explain;
		args = explain_args;
		explain = stdout;
	} else if (args == NULL || args[0] == NULL)
		ritual_usage_error("no RECIPIENT given");
	if (opt_rewrite != NULL && *opt_rewrite == '\0')
		ritual_usage_error("--rewrite needs a FILE");
	recipients = parse_recipients(args, &count);
	diag_set_quiet(true);
	err = filter_open(&f, MSG_READ_HEADERS);
	if (err == MS_POLICY)
		err = MS_DATA;	/* a message no filter will take: 65 */
	if (err != MS_OK)
		goto out;
	have_sender = sender_address(&f, &sender);
	route_triggers_find(f.settings, f.msg, &trig);
	trigger = route_triggers_field(&trig);
	if (explain != NULL) {
		fprintf(explain, "message: subject trigger %s, trigger field "
		    "%s, " DLP_FIELD " %s\n", trig.subject_word == NULL ?
		    "off" : trig.subject ? "fired" : "absent",
		    trig.header_name == NULL ? "off" : trig.header ? "fired" :
		    "absent", trig.dlp ? "must-encrypt" : "absent");
	}
	err = route_open(f.store, f.settings, NULL, &route);
	if (err == MS_OK)
		err = route_signing(route, have_sender ? &sender : NULL,
		    explain, &sign);
	for (int i = 0; err == MS_OK && i < count; i++) {
		route_decision d;
		size_t line;

		err = route_decide(route, &recipients[i], trigger != NULL,
		    explain, &d);
		if (err != MS_OK)
			break;
		line = out->len;
		decision_line(out, args[i], &d, trigger, sign);
		/* the log line of postfix.md 14: addresses and words only */
		diag_info("%.*s", (int)(out->len - line - 1), out->str + line);
		route_decision_clear(&d);
	}
	if (err == MS_OK && explain != NULL)
		fprintf(explain, "decision:\n");
	/* the file first: decisions printed for a message the caller cannot
	 * find would be acted on with the trigger still in the Subject */
	if (err == MS_OK && opt_rewrite != NULL && !opt_dry_run) {
		/* only a changed message is written: the common case costs
		 * no copy */
		if (trig.subject || trig.header)
			err = rewrite_message(&f, &trig, opt_rewrite);
		else if (unlink(opt_rewrite) != 0 && errno != ENOENT) {
			diag_error("--rewrite: cannot remove %s: %s",
			    opt_rewrite, strerror(errno));
			err = MS_TEMP;
		}
	}
	if (err == MS_OK)
		err = ritual_output(out->str, out->len);
out:
	route_free(route);
	g_free(trigger);
	route_triggers_clear(&trig);
	if (have_sender)
		addr_clear(&sender);
	for (int i = 0; i < count; i++)
		addr_clear(&recipients[i]);
	g_free(recipients);
	g_string_free(out, TRUE);
	filter_close(&f);
	ritual_end(ctx, err);
}
