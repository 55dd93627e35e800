/*
 * dlp-scan - scan a message for sensitive data and act on the sender's
 * DLP policies (dlp-scan(1), mailseal-policy(5)): read, gw_dlp_scan()
 * (gateway.h, the call mailseal-filter makes in process), then write the
 * message with X-Mailseal-DLP; a block is a refusal and a quarantine a
 * held copy, as the call decides.  "dlp-scan quarantine ..." manages the
 * held messages.
 */
#include "addr.h"
#include "diag.h"
#include "dlp.h"
#include "filter.h"
#include "gateway.h"
#include "msgpart.h"
#include "notice.h"
#include "output.h"
#include "quarantine.h"
#include "ritual.h"
#include "run.h"
#include "settings.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define DLP_FIELD "X-Mailseal-DLP"

static const char usage[] =
"usage: dlp-scan [--store DIR] [-n] [-f SENDER] [-q QUEUEID]\n"
"                RECIPIENT ...\n"
"       dlp-scan [--store DIR] quarantine list | show ID |\n"
"                release [--force] ID | delete ID | sweep\n"
"       dlp-scan -h | --version\n";

static const char *opt_sender, *opt_queue_id;
static int opt_dry_run, opt_print_patterns, opt_force;

static struct poptOption options[] = {
	{ "sender", 'f', POPT_ARG_STRING, &opt_sender, 0, NULL, NULL },
	{ NULL, 'q', POPT_ARG_STRING, &opt_queue_id, 0, NULL, NULL },
	{ "dry-run", 'n', POPT_ARG_NONE, &opt_dry_run, 0, NULL, NULL },
	{ "force", '\0', POPT_ARG_NONE, &opt_force, 0, NULL, NULL },
	/* for scripts/bench-dlp: the engine's own patterns */
	{ "print-patterns", '\0', POPT_ARG_NONE | POPT_ARGFLAG_DOC_HIDDEN,
	  &opt_print_patterns, 0, NULL, NULL },
	POPT_TABLEEND
};

/* write_verdict - the message as received with its X-Mailseal-DLP field;
 * the body is written from the received bytes, without a joined copy */
static ms_err
write_verdict(const ms_message *msg, const gw_dlp_verdict *verdict)
{
	char *value = gw_dlp_field(verdict);
	GString *extra = g_string_new(NULL), *head;
	GByteArray *copy = NULL;
	struct iovec message[2];	/* the header block, the body */
	ms_err err;

	msg_header_append(extra, DLP_FIELD, value);
	head = msg_original_head(msg, extra->str);
	message[0].iov_base = head->str;
	message[0].iov_len = head->len;
	message[1].iov_base = (void *)msg_original_body(msg,
	    &message[1].iov_len, &copy);
	err = output_send(message, 2);
	if (copy != NULL)
		g_byte_array_free(copy, TRUE);
	g_string_free(head, TRUE);
	g_string_free(extra, TRUE);
	g_free(value);
	return err;
}

/* run_scan - read, gw_dlp_scan(), write the message with its verdict */
static ms_err
run_scan(const char **args)
{
	gw_context ctx = { 0 };
	gw_dlp_verdict verdict = { 0 };
	ms_filter f;
	ms_addr sender = { 0 };
	const char *why = NULL;
	ms_err err;

	/* an empty -f is the null sender: the global settings apply */
	if (opt_sender != NULL && *opt_sender != '\0' &&
	    addr_parse_str(opt_sender, &sender, &why) != MS_OK)
		ritual_usage_error("-f: %s", why ? why : "bad address");
	addr_clear(&sender);
	err = filter_open(&f, MSG_READ_HEADERS);
	if (err != MS_OK)
		goto out;
	/* DEC-8: nobody else writes our verdict */
	msg_strip_status_headers(f.msg);
	ctx.store = f.store;
	ctx.settings = f.settings;
	ctx.sender = opt_sender != NULL ? opt_sender : "";
	ctx.recipients = args;
	ctx.queue_id = opt_queue_id;
	ctx.direction = GW_OUTGOING;
	ctx.explain = opt_dry_run ? stdout : NULL;
	err = gw_dlp_scan(&ctx, f.msg, &verdict);
	if (err == MS_OK && verdict.quarantine_id != NULL)
		notice_hold(f.store, f.settings, verdict.quarantine_id);
	if (err == MS_OK && !opt_dry_run)
		err = write_verdict(f.msg, &verdict);
out:
	gw_dlp_verdict_clear(&verdict);
	filter_close(&f);
	return err;
}

/* ---- quarantine management ---- */

/* list_entry - one line: id, time, state, size, sender, recipients,
 * verdict, rules, then the subject (the administrator's means to tell
 * entries apart; it stays in the store and this listing, never in a log
 * line) */
static void
list_entry(const char *id, const GByteArray *meta)
{
	static const char *const keys[] = {
		"time", "state", "size", "sender"
	};
	char *v[4], *verdict = quarantine_meta_value(meta, "verdict"),
	    *rules = quarantine_meta_value(meta, "rules"),
	    *subject = quarantine_meta_value(meta, "subject");
	char **rcpts = quarantine_meta_values(meta, "recipient");
	char *joined = g_strjoinv(",", rcpts);

	for (int k = 0; k < 4; k++)
		v[k] = quarantine_meta_value(meta, keys[k]);
	printf("%s %s %s %s %s %s %s %s %s\n", id, v[0] ? v[0] : "-",
	    v[1] ? v[1] : "-", v[2] ? v[2] : "-", v[3] ? v[3] : "-",
	    *joined ? joined : "-", verdict ? verdict : "-",
	    rules && *rules ? rules : "-", subject ? subject : "");
	for (int k = 0; k < 4; k++)
		g_free(v[k]);
	g_free(verdict);
	g_free(rules);
	g_free(subject);
	g_free(joined);
	g_strfreev(rcpts);
}

/* interrupted - an entry left "releasing" by a run that died: without
 * --force the release is refused (the run may have sent some copies;
 * sending again is the administrator's decision); with it the entry is
 * held again and released, and the reinjection journal of the release
 * keeps the recipients that run reached from a second copy */
static ms_err
interrupted(const char *id)
{
	ms_store *store = NULL;
	ms_settings *settings = NULL;
	GByteArray *meta = NULL;
	char *state = NULL, *releaser = NULL;
	ms_err err;

	err = settings_open_store(ritual_opts.store, false, &store, &settings);
	if (err == MS_OK)
		err = quarantine_meta(store, id, &meta);
	if (err == MS_OK) {
		state = quarantine_meta_value(meta, "state");
		releaser = quarantine_meta_value(meta, "releaser");
	}
	if (err == MS_OK && state != NULL && strcmp(state, "releasing") == 0) {
		if (!opt_force) {
			diag_error("%s: a release began (process and time: "
			    "%s) and did not finish; it may have sent some "
			    "copies: release --force sends the rest", id,
			    releaser != NULL ? releaser : "-");
			err = MS_NOTFOUND;
		} else {
			err = quarantine_unstick(store, id);
			if (err == MS_TEMP)
				diag_error("%s: the release that began (%s) "
				    "still runs", id, releaser != NULL ?
				    releaser : "-");
			else if (err == MS_OK)
				diag_info("quarantine: %s interrupted release "
				    "forced by uid %lu", id,
				    (unsigned long)getuid());
		}
	} else if (err == MS_NOTFOUND)
		err = MS_OK;	/* mailseal-filter says so */
	g_free(state);
	g_free(releaser);
	if (meta != NULL)
		g_byte_array_free(meta, TRUE);
	settings_free(settings);
	if (store != NULL)
		store_close(store);
	return err;
}

/* release - mailseal-filter --release ID: the message goes the whole
 * outgoing path to its recipients, only the DLP decision skipped; the
 * filter reads the entry from the store, never a message from us */
static ms_err
release(const char *id)
{
	const char *dir = run_bindir();
	char *path = dir != NULL ? g_build_filename(dir, "mailseal-filter",
	    NULL) : NULL;
	const char *argv[6];
	int n = 0;
	ms_err err;

	if (path == NULL || access(path, X_OK) != 0) {
		diag_error("mailseal-filter is not installed next to dlp-scan");
		g_free(path);
		return MS_CONFIG;
	}
	err = interrupted(id);
	if (err != MS_OK) {
		g_free(path);
		return err;
	}
	argv[n++] = path;
	if (ritual_opts.store != NULL) {
		argv[n++] = "--store";
		argv[n++] = ritual_opts.store;
	}
	argv[n++] = "--release";
	argv[n++] = id;
	argv[n] = NULL;
	fflush(NULL);
	execv(path, (char *const *)argv);
	diag_error("cannot run %s: %s", path, strerror(errno));
	g_free(path);
	return MS_TEMP;
}

/* held_before - the record says the entry was "held": only then is its
 * sender told of a deletion (a released message was delivered) */
static bool
held_before(const GByteArray *meta)
{
	char *state = quarantine_meta_value(meta, "state");
	bool held = state != NULL && strcmp(state, "held") == 0;

	g_free(state);
	return held;
}

/* removed - the notice of a deletion or expiry; a notice that cannot go
 * out is a warning: the entry is gone either way */
static void
removed(const ms_store *store, const ms_settings *settings, const char *id,
    const GByteArray *meta, notice_event event)
{
	if (held_before(meta) && notice_quarantine(store, settings, id, meta,
	    event) != MS_OK)
		diag_warn("quarantine %s: the sender's notice was not sent",
		    id);
}

/* sweep - remove the entries past quarantine-retention, each under the
 * store lock (holds and releases run meanwhile), with an audit line and
 * the sender's notice; an entry left "releasing" stays and is named */
static ms_err
sweep(ms_store *store, const ms_settings *settings)
{
	unsigned long long retention = settings_get_number(settings,
	    "quarantine-retention");
	time_t now = time(NULL);
	GPtrArray *ids = NULL;
	unsigned long removed_count = 0;
	ms_err err, first = MS_OK;

	err = quarantine_list(store, &ids);
	for (guint i = 0; err == MS_OK && i < ids->len; i++) {
		const char *id = g_ptr_array_index(ids, i);
		GByteArray *meta = NULL;
		ms_err one = quarantine_expire(store, id, now, retention,
		    &meta);

		if (one == MS_OK) {
			removed_count++;
			diag_info("quarantine: %s expired, removed by uid %lu",
			    id, (unsigned long)getuid());
			removed(store, settings, id, meta, NOTICE_EXPIRE);
			g_byte_array_free(meta, TRUE);
		} else if (one == MS_POLICY &&
		    quarantine_meta(store, id, &meta) == MS_OK) {
			char *state = quarantine_meta_value(meta, "state");

			if (state != NULL && strcmp(state, "releasing") == 0)
				diag_warn("quarantine: %s is still "
				    "\"releasing\": see dlp-scan(1), release "
				    "--force", id);
			g_free(state);
			g_byte_array_free(meta, TRUE);
		} else if (one != MS_POLICY && one != MS_NOTFOUND &&
		    first == MS_OK)
			first = one;	/* the others are still tried */
	}
	if (ids != NULL)
		g_ptr_array_free(ids, TRUE);
	if (err == MS_OK)
		diag_info("quarantine: sweep removed %lu entries",
		    removed_count);
	return err != MS_OK ? err : first;
}

static ms_err
quarantine_cmd(const char **args)
{
	const char *verb = args[1], *id = verb ? args[2] : NULL;
	ms_store *store = NULL;
	ms_settings *settings = NULL;
	GByteArray *data = NULL;
	ms_err err;

	bool no_id = verb != NULL && (strcmp(verb, "list") == 0 ||
	    strcmp(verb, "sweep") == 0);

	if (verb == NULL || (no_id ? id != NULL :
	    (id == NULL || args[3] != NULL)))
		ritual_usage_error("quarantine list | show ID | release "
		    "[--force] ID | delete ID | sweep");
	if (!no_id && strcmp(verb, "show") != 0 &&
	    strcmp(verb, "release") != 0 && strcmp(verb, "delete") != 0)
		ritual_usage_error("unknown quarantine command");
	if (opt_force && strcmp(verb, "release") != 0)
		ritual_usage_error("--force belongs to quarantine release");
	if (id != NULL && !quarantine_id_ok(id))
		ritual_usage_error("an ID is 32 lowercase hex digits");
	if (strcmp(verb, "release") == 0)
		return release(id);
	/* the settings for syslog (a deletion is logged) and the notices */
	err = settings_open_store(ritual_opts.store, false, &store, &settings);
	if (err != MS_OK)
		return err;
	if (strcmp(verb, "list") == 0) {
		GPtrArray *ids = NULL;

		err = quarantine_list(store, &ids);
		for (guint i = 0; err == MS_OK && i < ids->len; i++) {
			const char *one = g_ptr_array_index(ids, i);

			if (quarantine_meta(store, one, &data) != MS_OK)
				continue;
			list_entry(one, data);
			g_byte_array_free(data, TRUE);
			data = NULL;
		}
		if (ids != NULL)
			g_ptr_array_free(ids, TRUE);
	} else if (strcmp(verb, "show") == 0) {
		int fd = -1;

		err = quarantine_message(store, id, &fd);
		if (err == MS_OK)
			err = run_copy_fd(fd, STDOUT_FILENO);
		if (fd >= 0)
			close(fd);
	} else if (strcmp(verb, "sweep") == 0) {
		err = sweep(store, settings);
	} else {
		err = quarantine_delete(store, id, &data);
		if (err == MS_OK) {
			diag_info("quarantine: deleted %s by uid %lu", id,
			    (unsigned long)getuid());
			removed(store, settings, id, data, NOTICE_DELETE);
		}
	}
	if (err == MS_NOTFOUND)
		diag_error("%s: no such quarantine entry", id);
	if (data != NULL)
		g_byte_array_free(data, TRUE);
	settings_free(settings);
	store_close(store);
	return err;
}

static void
print_patterns(void)
{
	const char *pattern, *name;

	for (size_t i = 0; (pattern = dlp_builtin_pattern(i, &name)) != NULL;
	    i++)
		printf("%s\t%s\n", name, pattern);
}

int
main(int argc, char **argv)
{
	static const ms_program prog = { usage, options };
	poptContext ctx = ritual_begin(argc, argv, &prog);
	const char **args = poptGetArgs(ctx);
	ms_err err;

	if (opt_print_patterns) {
		print_patterns();
		ritual_end(ctx, MS_OK);
	}
	if (args != NULL && strcmp(args[0], "quarantine") == 0)
		ritual_end(ctx, quarantine_cmd(args));
	if (opt_force)
		ritual_usage_error("--force belongs to quarantine release");
	if (!opt_dry_run && (args == NULL || args[0] == NULL))
		ritual_usage_error("no recipients");
	for (int i = 0; args != NULL && args[i] != NULL; i++) {
		ms_addr a = { 0 };
		const char *why = NULL;

		if (addr_parse_str(args[i], &a, &why) != MS_OK)
			ritual_usage_error("recipient %d: %s", i + 1,
			    why ? why : "bad address");
		addr_clear(&a);
	}
	ritual_queue_id(opt_queue_id);
	diag_set_quiet(true);
	err = run_scan(args);
	ritual_end(ctx, err);
}
