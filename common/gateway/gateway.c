/*
 * gateway.c - the gateway's transforms as library calls (gateway.h): the
 * DLP scan of dlp-scan(1) and mailseal-filter(1), one code path.  The
 * text comes from the message module's MIME view, the same one the
 * encryption protects; whatever cannot be read is an "unscannable"
 * condition for the policy, never a silent pass.
 */
#include "gateway.h"
#include "addr.h"
#include "diag.h"
#include "dlp-text.h"
#include "dlp.h"
#include "filter.h"
#include "msgpart.h"
#include "paths.h"
#include "quarantine.h"

#include <gio/gio.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

static const char *
level_name(dlp_confidence c)
{
	return c >= DLP_HIGH ? "high" : c >= DLP_MEDIUM ? "medium" :
	    c >= DLP_LOW ? "low" : "none";
}

/* masked - a label safe for a log line or the terminal (free) */
static char *
masked(const char *text)
{
	return diag_mask(text, strlen(text));
}

/* one scan of one message */
typedef struct scan {
	const gw_context *ctx;
	ms_message *msg;
	const ms_settings *settings;	/* the sender's */
	dlp_engine *engine;
	policy_set *policies;
	dlp_result *result;
	dlp_text_report report;
	GPtrArray *fired;
	GString *rules;			/* enforced rules that fired */
	const char *recipients;		/* "a@x,b@y" */
	gw_dlp_verdict *verdict;
} scan;

/* load_tag_key - the correlation tags' HMAC key, dlp-tag.key in
 * the store (dlp.md 7: a separate key, rotated by replacing the file);
 * without it each run has a random key and tags correlate within one
 * message only */
static ms_err
load_tag_key(scan *s)
{
	GByteArray *key = NULL;
	ms_err err = store_read(s->ctx->store, NULL, "dlp-tag.key", 1024,
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
		char *path = policy_find(s->ctx->store, paths_sharedir(), names[i],
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
	    *s->ctx->sender != '\0' ? s->ctx->sender : "<>", recipients);
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
	gw_dlp_verdict *v = s->verdict;

	s->rules = g_string_new(NULL);
	for (guint i = 0; i < s->fired->len; i++) {
		const policy_rule *r = g_ptr_array_index(s->fired, i);
		policy_action a = policy_rule_action(r);

		incident(s, r, recipients);
		if (policy_rule_mode(r) != POLICY_ENFORCE)
			continue;
		g_string_append_printf(s->rules, "%s%s", s->rules->len ? "," :
		    "", policy_rule_name(r));
		if (a > v->action)
			v->action = a;
		if (a == POLICY_BLOCK && v->block_rule == NULL)
			v->block_rule = g_strdup(policy_rule_name(r));
	}
	if (s->report.unscannable != 0 && s->fired->len == 0) {
		char *why = masked(s->report.why->str);

		diag_info("incident: no rule for unscannable content: %s", why);
		free(why);
	}
}

/* explain - a dry run: what was found and which rules fired */
static void
explain(const scan *s, FILE *out)
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
		fprintf(out, "finding: part=%s detector=%s confidence=%s total=%u "
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

		fprintf(out, "unscannable: %s\n", why);
		free(why);
	}
	for (guint i = 0; i < s->fired->len; i++) {
		const policy_rule *r = g_ptr_array_index(s->fired, i);
		policy_mode m = policy_rule_mode(r);

		fprintf(out, "rule: %s mode=%s action=%s\n", policy_rule_name(r),
		    m == POLICY_AUDIT ? "audit" : "enforce",
		    policy_action_name(policy_rule_action(r)));
	}
	fprintf(out, "verdict: %s%s%s\n", policy_action_name(s->verdict->action),
	    s->rules->len ? "; rules=" : "", s->rules->str);
}

/* recipients_text - "a@x,b@y" for logs and the quarantine record */
static char *
recipients_text(const char *const *args)
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

/* parse_tree - the whole MIME tree; a tree over MIME-L2 or MIME-L3 is
 * the unscannable limit_exceeded for the policy, not a refusal here */
static ms_err
parse_tree(scan *s)
{
	msg_problem problem;
	ms_err err = msg_parse_full(s->msg, &problem);

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

/* hold - the message as received, kept in the store's quarantine with
 * its envelope, subject and verdict; a full quarantine defers */
static ms_err
hold(scan *s)
{
	gw_dlp_verdict *v = s->verdict;
	GString *head = msg_original_head(s->msg, NULL);
	GByteArray *copy = NULL;
	struct iovec message[2];	/* the header block, the body */
	quarantine_hold h = { 0 };
	bool joined = false;
	ms_err err;

	message[0].iov_base = head->str;
	message[0].iov_len = head->len;
	message[1].iov_base = (void *)msg_original_body(s->msg,
	    &message[1].iov_len, &copy);
	h.queue_id = s->ctx->queue_id;
	h.sender = s->ctx->sender;
	h.recipients = s->ctx->recipients;
	h.subject = s->msg->mime != NULL ?
	    g_mime_message_get_subject(s->msg->mime) : NULL;
	h.verdict = policy_action_name(v->action);
	h.rules = s->rules->str;
	h.auth = gw_auth_name(s->ctx->sender_auth);
	h.max_size = settings_get_number(s->ctx->settings,
	    "quarantine-max-size");
	err = quarantine_put(s->ctx->store, message, 2, &h,
	    &v->quarantine_id, &joined);
	if (err == MS_OK)
		diag_info("quarantined as %s%s: rules=%s", v->quarantine_id,
		    joined ? " (recipients joined)" : "", s->rules->str);
	if (copy != NULL)
		g_byte_array_free(copy, TRUE);
	g_string_free(head, TRUE);
	return err;
}

/* run - load the sender's policies, scan, decide and act */
static ms_err
run(scan *s, const ms_addr *sender)
{
	gw_dlp_verdict *v = s->verdict;
	dlp_text_limits limits;
	policy_facts facts = { 0 };
	ms_err err;

	s->engine = dlp_engine_new(&err);
	if (s->engine == NULL)
		return err;
	err = load_tag_key(s);
	if (err == MS_OK)
		err = load_policies(s);
	if (err == MS_OK)
		err = parse_tree(s);
	if (err != MS_OK)
		return err;
	s->result = dlp_result_new();
	limits.max_text = (size_t)settings_get_number(s->settings,
	    "dlp-text-limit");
	limits.max_seconds = (unsigned)settings_get_number(s->settings,
	    "dlp-time-limit");
	if (!s->msg->headers_only)
		err = dlp_text_scan(s->msg, s->engine, &limits, s->result,
		    &s->report);
	if (err != MS_OK)
		return err;
	facts.result = s->result;
	facts.report = &s->report;
	facts.size = s->msg->raw_len;
	facts.sender = sender != NULL ? sender->text : NULL;
	facts.recipients = s->ctx->recipients;
	s->fired = policy_evaluate(s->policies, &facts);
	decide(s, s->recipients);
	v->unscannable = s->report.unscannable;
	v->rules = g_strdup(s->rules->str);
	if (s->ctx->explain != NULL) {
		explain(s, s->ctx->explain);
		return MS_OK;
	}
	if (v->action == POLICY_BLOCK)
		/* the rule's name only, never content: stderr reaches the
		 * DSN */
		return filter_refuse("5.7.1", "message refused by data loss "
		    "prevention rule %s", v->block_rule);
	if (v->action == POLICY_QUARANTINE)
		return hold(s);
	return MS_OK;
}

static const char *const auth_names[] = {
	[GW_AUTH_NONE] = "none",
	[GW_AUTH_SASL] = "sasl",
	[GW_AUTH_CLIENT] = "client",
	[GW_AUTH_ENVELOPE] = "envelope",
};

const char *
gw_auth_name(gw_sender_auth auth)
{
	return (size_t)auth < G_N_ELEMENTS(auth_names) ? auth_names[auth] :
	    "none";
}

gw_sender_auth
gw_auth_from_name(const char *name)
{
	for (size_t i = 0; name != NULL && i < G_N_ELEMENTS(auth_names); i++)
		if (strcmp(name, auth_names[i]) == 0)
			return (gw_sender_auth)i;
	return GW_AUTH_NONE;
}

bool
gw_internal_domain(const ms_settings *settings, const char *domain)
{
	char **list = settings_get_list(settings, "internal-domains");
	bool yes = false;

	for (size_t i = 0; list[i] != NULL && !yes; i++) {
		const char *why;
		char *d = addr_domain_normalize(list[i], strlen(list[i]), &why);

		yes = d != NULL && g_ascii_strcasecmp(d, domain) == 0;
		free(d);
	}
	g_strfreev(list);
	return yes;
}

/* internal_network - address is in one of the internal-networks */
static ms_err
internal_network(const ms_settings *settings, const char *address,
    bool *yes)
{
	char **list = settings_get_list(settings, "internal-networks");
	GInetAddress *ip = g_inet_address_new_from_string(address);
	ms_err err = MS_OK;

	*yes = false;
	for (size_t i = 0; list[i] != NULL && err == MS_OK; i++) {
		GInetAddressMask *mask = g_inet_address_mask_new_from_string(
		    list[i], NULL);

		if (mask == NULL) {
			diag_error("internal-networks: %s is no network "
			    "(ADDRESS/LENGTH)", list[i]);
			err = MS_CONFIG;
			break;
		}
		if (ip != NULL && g_inet_address_mask_matches(mask, ip))
			*yes = true;
		g_object_unref(mask);
	}
	if (ip != NULL)
		g_object_unref(ip);
	g_strfreev(list);
	return err;
}

/* login_may_use - the SASL login may send as addr: the login is the
 * address, or a line "ADDRESS LOGIN..." or "@DOMAIN LOGIN..." of the
 * store's sender-logins file names it, as Postfix's
 * smtpd_sender_login_maps does */
static ms_err
login_may_use(const ms_store *store, const char *login, const ms_addr *addr,
    bool *yes)
{
	GByteArray *data = NULL;
	ms_addr as_addr;
	const char *why;
	gchar **lines;
	ms_err err;

	*yes = false;
	if (addr_parse_str(login, &as_addr, &why) == MS_OK) {
		*yes = addr_equal(&as_addr, addr);
		addr_clear(&as_addr);
		if (*yes)
			return MS_OK;
	}
	err = store_read(store, NULL, "sender-logins", 1024 * 1024, &data);
	if (err == MS_NOTFOUND)
		return MS_OK;
	if (err != MS_OK) {
		diag_error("sender-logins cannot be read");
		return MS_TEMP;
	}
	g_byte_array_append(data, (const guint8 *)"", 1);
	lines = g_strsplit((const char *)data->data, "\n", -1);
	for (size_t i = 0; lines[i] != NULL && !*yes; i++) {
		gchar **f = g_strsplit_set(g_strstrip(lines[i]), " \t,", -1);
		bool match = false;

		if (f[0] == NULL || *f[0] == '\0' || *f[0] == '#') {
			g_strfreev(f);
			continue;
		}
		if (*f[0] == '@')
			match = g_ascii_strcasecmp(f[0] + 1, addr->domain) == 0;
		else if (addr_parse_str(f[0], &as_addr, &why) == MS_OK) {
			match = addr_equal(&as_addr, addr);
			addr_clear(&as_addr);
		}
		for (size_t k = 1; match && f[k] != NULL && !*yes; k++)
			*yes = *f[k] != '\0' && strcmp(f[k], login) == 0;
		g_strfreev(f);
	}
	g_strfreev(lines);
	g_byte_array_free(data, TRUE);
	return MS_OK;
}

ms_err
gw_sender_trust(gw_context *ctx, const char **why)
{
	ms_addr addr;
	bool yes = false;
	ms_err err = MS_OK;

	ctx->sender_auth = GW_AUTH_NONE;
	*why = NULL;
	if (ctx->sender == NULL || *ctx->sender == '\0') {
		*why = "the null sender";
		return MS_OK;
	}
	if (addr_parse_str(ctx->sender, &addr, why) != MS_OK) {
		*why = "a sender address that does not parse";
		return MS_OK;
	}
	if (ctx->sasl_user != NULL && *ctx->sasl_user != '\0') {
		err = login_may_use(ctx->store, ctx->sasl_user, &addr, &yes);
		if (err == MS_OK && yes)
			ctx->sender_auth = GW_AUTH_SASL;
		else if (err == MS_OK)
			*why = "the SASL login may not use the sender address";
	} else if (ctx->client_address != NULL &&
	    *ctx->client_address != '\0') {
		err = internal_network(ctx->settings, ctx->client_address,
		    &yes);
		if (err == MS_OK && yes && gw_internal_domain(ctx->settings,
		    addr.domain))
			ctx->sender_auth = GW_AUTH_CLIENT;
		else if (err == MS_OK)
			*why = yes ? "the sender is in no internal domain" :
			    "no SASL login, and the client is in no internal "
			    "network";
	} else if (ctx->sasl_user == NULL && ctx->client_address == NULL) {
		if (settings_get_bool(ctx->settings, "trust-envelope-sender"))
			ctx->sender_auth = GW_AUTH_ENVELOPE;
		else
			*why = "no client address and no SASL login given, "
			    "and trust-envelope-sender is no";
	} else
		*why = "neither a SASL login nor a client address";
	addr_clear(&addr);
	return err;
}

ms_err
gw_dlp_scan(const gw_context *ctx, ms_message *msg, gw_dlp_verdict *verdict)
{
	scan s = { 0 };
	ms_addr sender = { 0 };
	ms_settings *own = NULL;
	const char *why = NULL;
	char *recipients;
	ms_err err = MS_OK;

	memset(verdict, 0, sizeof(*verdict));
	verdict->action = POLICY_PASS;
	if (ctx->skip_dlp) {
		/* released from quarantine: an administrator decided */
		verdict->skipped = true;
		verdict->rules = g_strdup("");
		return MS_OK;
	}
	recipients = recipients_text(ctx->recipients);
	s.ctx = ctx;
	s.msg = msg;
	s.recipients = recipients;
	s.verdict = verdict;
	s.settings = ctx->settings;
	dlp_text_report_init(&s.report);
	/* the null sender, and a sender that is no address: the global
	 * settings apply */
	if (*ctx->sender != '\0' &&
	    addr_parse_str(ctx->sender, &sender, &why) == MS_OK) {
		err = settings_load_under(ctx->settings, ctx->store, &sender,
		    &own);
		s.settings = own;
	}
	if (err == MS_OK && !settings_get_bool(s.settings, "dlp")) {
		/* switched off for this sender: an explicit verdict */
		verdict->scan_off = true;
		verdict->rules = g_strdup("");
		if (ctx->explain != NULL)
			fprintf(ctx->explain, "verdict: pass; scan=off\n");
	} else if (err == MS_OK)
		err = run(&s, sender.text != NULL ? &sender : NULL);
	if (s.fired != NULL)
		g_ptr_array_free(s.fired, TRUE);
	if (s.rules != NULL)
		g_string_free(s.rules, TRUE);
	dlp_text_report_clear(&s.report);
	dlp_result_free(s.result);
	policy_set_free(s.policies);
	dlp_engine_free(s.engine);
	settings_free(own);
	addr_clear(&sender);
	g_free(recipients);
	return err;
}

char *
gw_dlp_field(const gw_dlp_verdict *verdict)
{
	GString *value = g_string_new(policy_action_name(verdict->action));

	if (verdict->rules != NULL && *verdict->rules != '\0')
		g_string_append_printf(value, "; rules=%s", verdict->rules);
	if (verdict->scan_off)
		g_string_append(value, "; scan=off");
	if (verdict->skipped)
		g_string_append(value, "; scan=released");
	if (verdict->unscannable != 0 &&
	    verdict->action < POLICY_QUARANTINE)
		append_reasons(value, verdict->unscannable);
	if (verdict->quarantine_id != NULL)
		g_string_append_printf(value, "; id=%s",
		    verdict->quarantine_id);
	return g_string_free(value, FALSE);
}

void
gw_dlp_verdict_clear(gw_dlp_verdict *verdict)
{
	g_free(verdict->rules);
	g_free(verdict->block_rule);
	g_free(verdict->quarantine_id);
	memset(verdict, 0, sizeof(*verdict));
}
