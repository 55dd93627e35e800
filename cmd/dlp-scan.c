/*
 * dlp-scan - scan a message for sensitive data and act on the sender's
 * DLP policies (dlp-scan(1), mailseal-policy(5)): write the message with
 * X-Mailseal-DLP, refuse it (block), or hold it in the store's
 * quarantine.  The text comes from the message module's MIME view, the
 * same one the encryption filters protect; whatever cannot be read is an
 * "unscannable" condition for the policy, never a silent pass.
 * "dlp-scan quarantine ..." manages the held messages.
 */
#include "addr.h"
#include "diag.h"
#include "dlp-text.h"
#include "dlp.h"
#include "filter.h"
#include "limits.h"
#include "msgpart.h"
#include "output.h"
#include "policy.h"
#include "quarantine.h"
#include "ritual.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifndef MAILSEAL_SHAREDIR
#define MAILSEAL_SHAREDIR "/usr/local/share/mailseal"
#endif

#define DLP_FIELD "X-Mailseal-DLP"

static const char usage[] =
"usage: dlp-scan [--store DIR] [-n] [-f SENDER] RECIPIENT ...\n"
"       dlp-scan [--store DIR] quarantine list | show ID | release ID |\n"
"                delete ID\n"
"       dlp-scan -h | --version\n";

static const char *opt_sender;
static int opt_dry_run, opt_print_patterns;

static struct poptOption options[] = {
	{ "sender", 'f', POPT_ARG_STRING, &opt_sender, 0, NULL, NULL },
	{ "dry-run", 'n', POPT_ARG_NONE, &opt_dry_run, 0, NULL, NULL },
	/* for scripts/bench-dlp: the engine's own patterns */
	{ "print-patterns", '\0', POPT_ARG_NONE | POPT_ARGFLAG_DOC_HIDDEN,
	  &opt_print_patterns, 0, NULL, NULL },
	POPT_TABLEEND
};

static const char *
level_name(dlp_confidence c)
{
	return c >= DLP_HIGH ? "high" : c >= DLP_MEDIUM ? "medium" :
	    c >= DLP_LOW ? "low" : "none";
}

static const char *
sharedir(void)
{
	const char *env = getenv("MAILSEAL_SHAREDIR");

	return env != NULL && *env != '\0' ? env : MAILSEAL_SHAREDIR;
}

/* masked - a label safe for a log line or the terminal (free) */
static char *
masked(const char *text)
{
	return diag_mask(text, strlen(text));
}

/* ---- the scan ---- */

typedef struct scan {
	ms_filter f;
	ms_settings *settings;		/* the sender's */
	dlp_engine *engine;
	policy_set *policies;
	dlp_result *result;
	dlp_text_report report;
	GPtrArray *fired;
	policy_action verdict;
	GString *rules;			/* enforced rules that fired */
	const char *block_rule;
	bool scan_off;			/* dlp = no for the sender */
} scan;

/* load_tag_key - the correlation tags' HMAC key, dlp-tag.key in
 * the store (dlp.md 7: a separate key, rotated by replacing the file);
 * without it each run has a random key and tags correlate within one
 * message only */
static ms_err
load_tag_key(scan *s)
{
	GByteArray *key = NULL;
	ms_err err = store_read(s->f.store, NULL, "dlp-tag.key", 1024,
	    &key);

	if (err == MS_NOTFOUND)
		return MS_OK;
	if (err == MS_OK && key->len < 32) {
		diag_error("dlp-tag.key: shorter than 32 octets");
		err = MS_CONFIG;
	} else if (err == MS_OK)
		err = dlp_engine_set_tag_key(s->engine, key->data, key->len);
	else if (err == MS_DATA)
		err = MS_CONFIG;
	if (key != NULL) {
		sodium_memzero(key->data, key->len);
		g_byte_array_free(key, TRUE);
	}
	return err;
}

/* load_policies - the sender's policies, compiled into the engine */
static ms_err
load_policies(scan *s)
{
	char **names = settings_get_list(s->settings, "dlp-policies");
	ms_err err = MS_OK;

	s->policies = policy_set_new(s->engine);
	for (int i = 0; err == MS_OK && names[i] != NULL; i++) {
		char *path = policy_find(s->f.store, sharedir(), names[i],
		    &err);

		if (path != NULL)
			err = policy_load_file(s->policies, path);
		g_free(path);
	}
	g_strfreev(names);
	return err;
}

/* incident - syslog lines for a rule that fired: rule, detector, counts
 * and masked samples, never a value (dlp.md 7) */
static void
incident(const scan *s, const policy_rule *rule, const char *recipients)
{
	const GArray *ids = policy_rule_detectors(rule);
	bool audit = policy_rule_mode(rule) == POLICY_AUDIT;

	diag_info("incident: rule=%s mode=%s action=%s%s severity=%s "
	    "sender=%s recipients=%s", policy_rule_name(rule),
	    audit ? "audit" : "enforce",
	    audit ? "would-" : "", policy_action_name(policy_rule_action(rule)),
	    policy_rule_severity(rule),
	    opt_sender && *opt_sender ? opt_sender : "<>", recipients);
	for (guint k = 0; k < ids->len; k++) {
		int id = g_array_index(ids, int, k);

		for (size_t i = 0; i < dlp_result_count(s->result); i++) {
			const dlp_finding *fd = dlp_result_finding(s->result, i);
			char *part;

			if (dlp_finding_detector(fd) != id)
				continue;
			part = masked(dlp_finding_part(fd));
			diag_info("incident: rule=%s detector=%s part=%s "
			    "confidence=%s total=%u unique=%u sample=%s tag=%s",
			    policy_rule_name(rule), dlp_finding_name(fd), part,
			    level_name(dlp_finding_confidence(fd)),
			    dlp_finding_total(fd, DLP_LOW),
			    dlp_finding_unique(fd, DLP_LOW),
			    dlp_finding_sample(fd), dlp_finding_tag(fd));
			free(part);
		}
	}
	if (s->report.unscannable != 0) {
		char *why = masked(s->report.why->str);

		diag_info("incident: rule=%s unscannable=%s",
		    policy_rule_name(rule), why);
		free(why);
	}
}

/* decide - the most severe action of the enforced rules */
static void
decide(scan *s, const char *recipients)
{
	s->rules = g_string_new(NULL);
	for (guint i = 0; i < s->fired->len; i++) {
		const policy_rule *r = g_ptr_array_index(s->fired, i);
		policy_action a = policy_rule_action(r);

		incident(s, r, recipients);
		if (policy_rule_mode(r) != POLICY_ENFORCE)
			continue;
		g_string_append_printf(s->rules, "%s%s", s->rules->len ? "," :
		    "", policy_rule_name(r));
		if (a > s->verdict)
			s->verdict = a;
		if (a == POLICY_BLOCK && s->block_rule == NULL)
			s->block_rule = policy_rule_name(r);
	}
	if (s->report.unscannable != 0 && s->fired->len == 0) {
		char *why = masked(s->report.why->str);

		diag_info("incident: no rule for unscannable content: %s", why);
		free(why);
	}
}

/* explain - -n: what was found and which rules fired, on stdout */
static void
explain(const scan *s)
{
	for (size_t i = 0; i < dlp_result_count(s->result); i++) {
		const dlp_finding *fd = dlp_result_finding(s->result, i);
		char *part = masked(dlp_finding_part(fd));
		GString *rules = g_string_new(NULL);

		/* the fired rules that read this finding's detector */
		for (guint k = 0; k < s->fired->len; k++) {
			const policy_rule *r = g_ptr_array_index(s->fired, k);
			const GArray *ids = policy_rule_detectors(r);

			for (guint j = 0; j < ids->len; j++)
				if (g_array_index(ids, int, j) ==
				    dlp_finding_detector(fd)) {
					g_string_append_printf(rules, "%s%s",
					    rules->len ? "," : "",
					    policy_rule_name(r));
					break;
				}
		}
		printf("finding: part=%s detector=%s confidence=%s total=%u "
		    "unique=%u sample=%s tag=%s rules=%s\n", part,
		    dlp_finding_name(fd),
		    level_name(dlp_finding_confidence(fd)),
		    dlp_finding_total(fd, DLP_LOW),
		    dlp_finding_unique(fd, DLP_LOW), dlp_finding_sample(fd),
		    dlp_finding_tag(fd), rules->len ? rules->str : "-");
		g_string_free(rules, TRUE);
		free(part);
	}
	if (s->report.unscannable != 0) {
		char *why = masked(s->report.why->str);

		printf("unscannable: %s\n", why);
		free(why);
	}
	for (guint i = 0; i < s->fired->len; i++) {
		const policy_rule *r = g_ptr_array_index(s->fired, i);
		policy_mode m = policy_rule_mode(r);

		printf("rule: %s mode=%s action=%s\n", policy_rule_name(r),
		    m == POLICY_AUDIT ? "audit" : "enforce",
		    policy_action_name(policy_rule_action(r)));
	}
	printf("verdict: %s%s%s\n", policy_action_name(s->verdict),
	    s->rules->len ? "; rules=" : "", s->rules->str);
}

/* recipients_text - "a@x,b@y" for logs and the quarantine record */
static char *
recipients_text(const char **args)
{
	GString *t = g_string_new(NULL);

	for (int i = 0; args != NULL && args[i] != NULL; i++)
		g_string_append_printf(t, "%s%s", i ? "," : "", args[i]);
	return g_string_free(t, FALSE);
}

/* append_reasons - "; unscannable=a,b": what could not be read is
 * never passed silently, whatever the policy says of it */
static void
append_reasons(GString *value, unsigned bits)
{
	const char *sep = "; unscannable=";

	for (unsigned bit = 1; bit <= DLP_UNSCANNABLE_ALL; bit <<= 1)
		if (bits & bit) {
			g_string_append_printf(value, "%s%s", sep,
			    dlp_unscannable_name(bit));
			sep = ",";
		}
}

/* act - write, hold or refuse the message */
static ms_err
act(scan *s, const char *recipients)
{
	GString *value = g_string_new(policy_action_name(s->verdict));
	GString *extra = g_string_new(NULL), *head = NULL;
	GByteArray *copy = NULL;
	struct iovec message[2];	/* the header block, the body */
	ms_err err = MS_OK;

	if (s->verdict == POLICY_BLOCK) {
		/* the rule's name only, never content: stderr reaches the
		 * DSN */
		err = filter_refuse("5.7.1", "message refused by data loss "
		    "prevention rule %s", s->block_rule);
		goto done;
	}
	if (s->rules->len > 0)
		g_string_append_printf(value, "; rules=%s", s->rules->str);
	if (s->scan_off)
		g_string_append(value, "; scan=off");
	if (s->report.unscannable != 0 && s->verdict < POLICY_QUARANTINE)
		append_reasons(value, s->report.unscannable);
	/* the body as received, held once for the quarantine and the
	 * output: no copy of a large message is made to join it to a
	 * header block */
	message[1].iov_base = (void *)msg_original_body(s->f.msg,
	    &message[1].iov_len, &copy);
	if (s->verdict == POLICY_QUARANTINE) {
		GString *meta = g_string_new(NULL);
		char *id = NULL;

		head = msg_original_head(s->f.msg, NULL);
		message[0].iov_base = head->str;
		message[0].iov_len = head->len;
		g_string_append_printf(meta, "sender: %s\nrecipients: %s\n"
		    "rules: %s\n", opt_sender && *opt_sender ? opt_sender :
		    "<>", recipients, s->rules->str);
		err = quarantine_put(s->f.store, message, 2, meta->str, &id);
		g_string_free(head, TRUE);
		g_string_free(meta, TRUE);
		if (err != MS_OK)
			goto done;
		g_string_append_printf(value, "; id=%s", id);
		diag_info("quarantined as %s: rules=%s", id, s->rules->str);
		g_free(id);
	}
	msg_header_append(extra, DLP_FIELD, value->str);
	head = msg_original_head(s->f.msg, extra->str);
	message[0].iov_base = head->str;
	message[0].iov_len = head->len;
	err = output_send(message, 2);
	g_string_free(head, TRUE);
done:
	if (copy != NULL)
		g_byte_array_free(copy, TRUE);
	g_string_free(value, TRUE);
	g_string_free(extra, TRUE);
	return err;
}

/* parse_tree - the whole MIME tree; a tree over MIME-L2 or MIME-L3 is
 * the unscannable limit_exceeded for the policy, not a refusal here */
static ms_err
parse_tree(scan *s)
{
	msg_problem problem;
	ms_err err = msg_parse_full(s->f.msg, &problem);

	if (err == MS_DATA && (problem == MSG_PROBLEM_TOO_DEEP ||
	    problem == MSG_PROBLEM_TOO_MANY_PARTS)) {
		s->report.unscannable |= DLP_UNSCANNABLE_LIMIT;
		g_string_append_printf(s->report.why, "message: %s",
		    msg_problem_text(problem));
		return MS_OK;
	}
	if (err == MS_DATA)
		diag_status("%s %s", msg_problem_status(problem),
		    msg_problem_text(problem));
	return err;
}

static ms_err
run_scan(const char **args)
{
	scan s = { 0 };
	ms_addr sender = { 0 };
	const char *why = NULL;
	char *recipients = recipients_text(args);
	dlp_text_limits limits;
	policy_facts facts = { 0 };
	ms_err err;

	dlp_text_report_init(&s.report);
	/* an empty -f is the null sender: the global settings apply */
	if (opt_sender != NULL && *opt_sender != '\0' &&
	    addr_parse_str(opt_sender, &sender, &why) != MS_OK)
		ritual_usage_error("-f: %s", why ? why : "bad address");
	err = filter_open(&s.f, MSG_READ_HEADERS);
	if (err != MS_OK)
		goto out;
	/* DEC-8: nobody else writes our verdict */
	msg_strip_status_headers(s.f.msg);
	err = settings_load(s.f.store, sender.text ? &sender : NULL,
	    &s.settings);
	if (err != MS_OK)
		goto out;
	if (!settings_get_bool(s.settings, "dlp")) {
		/* switched off for this sender: an explicit verdict */
		s.rules = g_string_new(NULL);
		s.scan_off = true;
		s.fired = g_ptr_array_new();
		if (opt_dry_run) {
			printf("verdict: pass; scan=off\n");
			goto out;
		}
		s.verdict = POLICY_PASS;
		err = act(&s, recipients);
		goto out;
	}
	s.engine = dlp_engine_new(&err);
	if (s.engine == NULL)
		goto out;
	err = load_tag_key(&s);
	if (err == MS_OK)
		err = load_policies(&s);
	if (err == MS_OK)
		err = parse_tree(&s);
	if (err != MS_OK)
		goto out;
	s.result = dlp_result_new();
	limits.max_text = (size_t)settings_get_number(s.settings,
	    "dlp-text-limit");
	limits.max_seconds = (unsigned)settings_get_number(s.settings,
	    "dlp-time-limit");
	if (!s.f.msg->headers_only)
		err = dlp_text_scan(s.f.msg, s.engine, &limits, s.result,
		    &s.report);
	if (err != MS_OK)
		goto out;
	facts.result = s.result;
	facts.report = &s.report;
	facts.size = s.f.msg->raw_len;
	facts.sender = sender.text;
	facts.recipients = args;
	s.fired = policy_evaluate(s.policies, &facts);
	decide(&s, recipients);
	if (opt_dry_run)
		explain(&s);
	else
		err = act(&s, recipients);
out:
	if (s.fired != NULL)
		g_ptr_array_free(s.fired, TRUE);
	if (s.rules != NULL)
		g_string_free(s.rules, TRUE);
	dlp_text_report_clear(&s.report);
	dlp_result_free(s.result);
	policy_set_free(s.policies);
	dlp_engine_free(s.engine);
	settings_free(s.settings);
	filter_close(&s.f);
	addr_clear(&sender);
	g_free(recipients);
	return err;
}

/* ---- quarantine management ---- */

static ms_err
quarantine_cmd(const char **args)
{
	const char *verb = args[1], *id = verb ? args[2] : NULL;
	ms_store *store = NULL;
	GByteArray *data = NULL;
	ms_err err;

	if (verb == NULL || (strcmp(verb, "list") == 0 ? id != NULL :
	    (id == NULL || args[3] != NULL)))
		ritual_usage_error("quarantine list | show ID | release ID | "
		    "delete ID");
	if (strcmp(verb, "list") != 0 && strcmp(verb, "show") != 0 &&
	    strcmp(verb, "release") != 0 && strcmp(verb, "delete") != 0)
		ritual_usage_error("unknown quarantine command");
	if (id != NULL && !quarantine_id_ok(id))
		ritual_usage_error("an ID is 32 lowercase hex digits");
	err = store_open(store_locate(ritual_opts.store), false, &store);
	if (err != MS_OK)
		return err;
	if (strcmp(verb, "list") == 0) {
		GPtrArray *ids = NULL;

		err = quarantine_list(store, &ids);
		for (guint i = 0; err == MS_OK && i < ids->len; i++) {
			const char *one = g_ptr_array_index(ids, i);
			char *v[4] = { NULL };
			static const char *const keys[] = {
				"time", "state", "sender", "rules"
			};

			if (quarantine_meta(store, one, &data) != MS_OK)
				continue;
			for (int k = 0; k < 4; k++)
				v[k] = quarantine_meta_value(data, keys[k]);
			printf("%s %s %s %s %s\n", one, v[0] ? v[0] : "-",
			    v[1] ? v[1] : "-", v[2] ? v[2] : "-",
			    v[3] ? v[3] : "-");
			for (int k = 0; k < 4; k++)
				g_free(v[k]);
			g_byte_array_free(data, TRUE);
			data = NULL;
		}
		if (ids != NULL)
			g_ptr_array_free(ids, TRUE);
	} else if (strcmp(verb, "show") == 0) {
		err = quarantine_meta(store, id, &data);
		if (err == MS_OK)
			err = ritual_output(data->data, data->len);
	} else if (strcmp(verb, "release") == 0) {
		err = quarantine_release(store, id, &data);
		if (err == MS_POLICY) {
			diag_error("%s is not held (released already)", id);
			err = MS_NOTFOUND;
		} else if (err == MS_OK)
			err = ritual_output(data->data, data->len);
	} else {
		err = quarantine_delete(store, id);
	}
	if (err == MS_NOTFOUND && data == NULL &&
	    strcmp(verb, "release") != 0)
		diag_error("%s: no such quarantine entry", id);
	if (data != NULL)
		g_byte_array_free(data, TRUE);
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
	diag_set_quiet(true);
	err = run_scan(args);
	ritual_end(ctx, err);
}
