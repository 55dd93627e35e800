/*
 * policy.c - DLP policy files: parser and evaluator (see policy.h and
 * mailseal-policy(5) for the language).  Lines are tokenized into bare
 * words and double-quoted strings; each rule is a block that starts with
 * "rule NAME" and runs to the next rule or the end of the file.
 */
#include "policy.h"
#include "diag.h"
#include "mslimits.h"
#include "parse.h"

#include <errno.h>
#include <string.h>

typedef enum cond_kind {
	COND_DETECTOR,		/* built-in, keyword or regex detector */
	COND_SIZE,
	COND_ATTACHMENT_TYPE,
	COND_ATTACHMENT_NAME,
	COND_UNSCANNABLE,
	COND_SENDER,
	COND_RECIPIENT
} cond_kind;

typedef enum cond_op { OP_GE, OP_GT, OP_LE, OP_LT, OP_EQ } cond_op;

typedef struct condition {
	cond_kind kind;
	int detector;
	cond_op op;
	unsigned long long number;
	bool unique;
	dlp_confidence min;
	unsigned reasons;		/* DLP_UNSCANNABLE_* */
	GPtrArray *words;		/* globs or addresses, lowercase */
} condition;

struct policy_rule {
	char *name;
	char *origin;			/* "file:line" of "rule" */
	GPtrArray *when, *except;	/* condition * */
	bool any;			/* match any instead of all */
	bool has_action;
	policy_action action;
	policy_mode mode;
	char *severity;
	GPtrArray *skip;		/* addresses and @domains, lowercase */
	bool stop;
	GArray *detectors;		/* int */
};

struct policy_set {
	dlp_engine *engine;
	GPtrArray *rules;		/* policy_rule * */
	unsigned next_custom;
};

static const char *const action_names[] = {
	"pass", "warn", "must-encrypt", "quarantine", "block"
};

const char *
policy_action_name(policy_action action)
{
	return (unsigned)action < G_N_ELEMENTS(action_names) ?
	    action_names[action] : "pass";
}

static void
condition_free(gpointer p)
{
	condition *c = p;

	if (c->words != NULL)
		g_ptr_array_free(c->words, TRUE);
	g_free(c);
}

static void
rule_free(gpointer p)
{
	policy_rule *r = p;

	g_free(r->name);
	g_free(r->origin);
	g_ptr_array_free(r->when, TRUE);
	g_ptr_array_free(r->except, TRUE);
	g_ptr_array_free(r->skip, TRUE);
	g_array_free(r->detectors, TRUE);
	g_free(r->severity);
	g_free(r);
}

policy_set *
policy_set_new(dlp_engine *engine)
{
	policy_set *set = g_new0(policy_set, 1);

	set->engine = engine;
	set->rules = g_ptr_array_new_with_free_func(rule_free);
	return set;
}

void
policy_set_free(policy_set *set)
{
	if (set == NULL)
		return;
	g_ptr_array_free(set->rules, TRUE);
	g_free(set);
}

size_t
policy_rule_count(const policy_set *set)
{
	return set->rules->len;
}

const char *
policy_rule_name(const policy_rule *rule)
{
	return rule->name;
}

policy_action
policy_rule_action(const policy_rule *rule)
{
	return rule->action;
}

policy_mode
policy_rule_mode(const policy_rule *rule)
{
	return rule->mode;
}

const char *
policy_rule_severity(const policy_rule *rule)
{
	return rule->severity;
}

const GArray *
policy_rule_detectors(const policy_rule *rule)
{
	return rule->detectors;
}

/* ---- parsing ---- */

/* tokenize - bare words (ended by space, tab or comma) and "strings"
 * (\" and \\ are escapes, any other backslash stays, so a regex reads as
 * written); NULL with *why on an unterminated string */
static GPtrArray *
tokenize(const char *line, const char **why)
{
	GPtrArray *tokens = g_ptr_array_new_with_free_func(g_free);
	const char *p = line;

	while (*p) {
		GString *tok;

		if (*p == ' ' || *p == '\t' || *p == ',') {
			p++;
			continue;
		}
		tok = g_string_new(NULL);
		if (*p == '"') {
			p++;
			while (*p && *p != '"') {
				if (p[0] == '\\' && (p[1] == '"' || p[1] == '\\'))
					p++;
				g_string_append_c(tok, *p);
				p++;
			}
			if (*p != '"') {
				g_string_free(tok, TRUE);
				g_ptr_array_free(tokens, TRUE);
				*why = "unterminated quoted string";
				return NULL;
			}
			p++;
		} else {
			while (*p && *p != ' ' && *p != '\t' && *p != ',')
				g_string_append_c(tok, *p++);
		}
		g_ptr_array_add(tokens, g_string_free(tok, FALSE));
	}
	return tokens;
}

static bool
parse_op(const char *text, cond_op *op)
{
	static const struct { const char *text; cond_op op; } ops[] = {
		{ ">=", OP_GE }, { ">", OP_GT }, { "<=", OP_LE },
		{ "<", OP_LT }, { "=", OP_EQ }, { "==", OP_EQ }
	};

	for (size_t i = 0; i < G_N_ELEMENTS(ops); i++)
		if (strcmp(text, ops[i].text) == 0) {
			*op = ops[i].op;
			return true;
		}
	return false;
}

static bool
parse_level(const char *text, dlp_confidence *c)
{
	if (strcmp(text, "low") == 0)
		*c = DLP_LOW;
	else if (strcmp(text, "medium") == 0)
		*c = DLP_MEDIUM;
	else if (strcmp(text, "high") == 0)
		*c = DLP_HIGH;
	else
		return false;
	return true;
}

static bool
qualifier_word(const char *word)
{
	return strcmp(word, "count") == 0 || strcmp(word, "unique") == 0 ||
	    strcmp(word, "confidence") == 0;
}

/* parse_qualifiers - [count OP N] [unique] [confidence >= LEVEL] from
 * tokens[i..] */
static bool
parse_qualifiers(GPtrArray *t, guint i, condition *c, const char **why)
{
	while (i < t->len) {
		const char *w = g_ptr_array_index(t, i);

		if (strcmp(w, "count") == 0 && i + 2 < t->len) {
			if (!parse_op(g_ptr_array_index(t, i + 1), &c->op) ||
			    !parse_size(g_ptr_array_index(t, i + 2),
			    &c->number)) {
				*why = "count wants an operator and a number";
				return false;
			}
			i += 3;
		} else if (strcmp(w, "unique") == 0) {
			c->unique = true;
			i++;
		} else if (strcmp(w, "confidence") == 0 && i + 2 < t->len &&
		    strcmp(g_ptr_array_index(t, i + 1), ">=") == 0) {
			if (!parse_level(g_ptr_array_index(t, i + 2),
			    &c->min)) {
				*why = "confidence is low, medium or high";
				return false;
			}
			i += 3;
		} else {
			*why = "expected count OP N, unique or "
			    "confidence >= LEVEL";
			return false;
		}
	}
	return true;
}

static int
builtin_id(const dlp_engine *engine, const char *name)
{
	for (int id = 1; id <= DLP_BUILTIN_COUNT; id++) {
		const char *n = dlp_detector_name(engine, id);

		if (n != NULL && strcmp(n, name) == 0)
			return id;
	}
	return 0;
}

/* words_from - tokens[i..] up to a qualifier, as a lowercase list */
static GPtrArray *
words_from(GPtrArray *t, guint *i, bool lower)
{
	GPtrArray *words = g_ptr_array_new_with_free_func(g_free);

	while (*i < t->len && !qualifier_word(g_ptr_array_index(t, *i))) {
		const char *w = g_ptr_array_index(t, *i);

		g_ptr_array_add(words, lower ? g_utf8_strdown(w, -1) :
		    g_strdup(w));
		(*i)++;
	}
	return words;
}

/* parse_condition - tokens[1..] of a when or except line */
static condition *
parse_condition(policy_set *set, policy_rule *rule, GPtrArray *t,
    const char **why, char *buf, size_t buf_len)
{
	condition *c = g_new0(condition, 1);
	const char *kind = t->len > 1 ? g_ptr_array_index(t, 1) : "";
	guint i = 2;

	c->op = OP_GE;
	c->number = 1;
	c->min = DLP_LOW;
	*why = NULL;
	if (strcmp(kind, "size") == 0) {
		c->kind = COND_SIZE;
		if (t->len != 4 || !parse_op(g_ptr_array_index(t, 2), &c->op) ||
		    !parse_size(g_ptr_array_index(t, 3), &c->number))
			*why = "size wants an operator and a size";
	} else if (strcmp(kind, "attachment-type") == 0 ||
	    strcmp(kind, "attachment-name") == 0 ||
	    strcmp(kind, "sender") == 0 || strcmp(kind, "recipient") == 0) {
		c->kind = kind[0] == 's' ? COND_SENDER : kind[0] == 'r' ?
		    COND_RECIPIENT : kind[11] == 't' ? COND_ATTACHMENT_TYPE :
		    COND_ATTACHMENT_NAME;
		c->words = words_from(t, &i, true);
		if (c->words->len == 0 || i != t->len)
			*why = "a list of patterns or addresses";
	} else if (strcmp(kind, "unscannable") == 0) {
		c->kind = COND_UNSCANNABLE;
		for (; i < t->len; i++) {
			unsigned bit = dlp_unscannable_bit(
			    g_ptr_array_index(t, i));

			if (bit == 0) {
				*why = "unknown unscannable reason";
				break;
			}
			c->reasons |= bit;
		}
		if (c->reasons == 0)
			c->reasons = DLP_UNSCANNABLE_ALL;
	} else if (strcmp(kind, "keyword") == 0 || strcmp(kind, "regex") == 0) {
		GPtrArray *words = words_from(t, &i, false);
		char *name = g_strdup_printf("%s/%s-%u", rule->name, kind,
		    ++set->next_custom);
		ms_err err;

		c->kind = COND_DETECTOR;
		if (words->len == 0)
			*why = "keyword and regex want at least one word or "
			    "pattern";
		else if (kind[0] == 'k') {
			g_ptr_array_add(words, NULL);
			err = dlp_engine_add_keywords(set->engine, name,
			    (const char *const *)words->pdata, words->len - 1,
			    DLP_HIGH, &c->detector, why);
			if (err != MS_OK && *why == NULL)
				*why = "bad keywords";
		} else if (words->len != 1) {
			*why = "regex wants one quoted pattern";
		} else {
			err = dlp_engine_add_regex(set->engine, name,
			    g_ptr_array_index(words, 0), DLP_HIGH,
			    &c->detector, buf, buf_len);
			if (err != MS_OK)
				*why = buf;
		}
		g_ptr_array_free(words, TRUE);
		g_free(name);
		if (*why == NULL)
			(void)parse_qualifiers(t, i, c, why);
	} else if ((c->detector = builtin_id(set->engine, kind)) != 0) {
		c->kind = COND_DETECTOR;
		(void)parse_qualifiers(t, i, c, why);
	} else {
		*why = "unknown condition (a detector name, keyword, regex, "
		    "size, attachment-type, attachment-name, sender, "
		    "recipient or unscannable)";
	}
	if (*why != NULL) {
		condition_free(c);
		return NULL;
	}
	if (c->kind == COND_DETECTOR)
		g_array_append_val(rule->detectors, c->detector);
	return c;
}

/* rule_done - checks at the end of a rule */
static bool
rule_done(const policy_rule *r, const char **why)
{
	if (r->when->len == 0)
		*why = "rule has no when condition";
	else if (!r->has_action)
		*why = "rule has no action";
	else
		return true;
	return false;
}

static bool
name_ok(const char *name)
{
	if (*name == '\0' || *name == '.' || strlen(name) > 64)
		return false;
	for (const char *p = name; *p; p++)
		if (!g_ascii_isalnum(*p) && *p != '-' && *p != '_' && *p != '.')
			return false;
	return true;
}

ms_err
policy_parse_text(policy_set *set, const char *file, const char *text,
    size_t len)
{
	size_t pos = 0, lineno = 0, rule_line = 0;
	policy_rule *rule = NULL;
	const char *why = NULL;
	char buf[200];

	if (memchr(text, '\0', len) != NULL ||
	    !g_utf8_validate(text, (gssize)len, NULL)) {
		diag_error("%s: not UTF-8 text", file);
		return MS_CONFIG;
	}
	while (pos < len && why == NULL) {
		const char *nl = memchr(text + pos, '\n', len - pos);
		size_t n = nl ? (size_t)(nl - (text + pos)) : len - pos;
		char *line;
		GPtrArray *t;
		const char *word;

		lineno++;
		if (n > LIMIT_SETTINGS_LINE) {
			why = "line too long";
			break;
		}
		line = g_strndup(text + pos, n);
		pos += n + (nl ? 1 : 0);
		g_strstrip(line);
		if (line[0] == '\0' || line[0] == '#') {
			g_free(line);
			continue;
		}
		t = tokenize(line, &why);
		g_free(line);
		if (t == NULL)
			break;
		word = g_ptr_array_index(t, 0);
		if (strcmp(word, "rule") == 0) {
			if (rule != NULL && !rule_done(rule, &why)) {
				lineno = rule_line;
			} else if (t->len != 2 ||
			    !name_ok(g_ptr_array_index(t, 1))) {
				why = "rule wants one name of letters, digits, "
				    "'-', '_' and '.'";
			} else if (set->rules->len >= POLICY_RULES_MAX) {
				why = "too many rules";
			} else {
				rule = g_new0(policy_rule, 1);
				rule->name = g_strdup(g_ptr_array_index(t, 1));
				rule->origin = g_strdup_printf("%s:%zu", file,
				    lineno);
				rule->when = g_ptr_array_new_with_free_func(
				    condition_free);
				rule->except = g_ptr_array_new_with_free_func(
				    condition_free);
				rule->skip = g_ptr_array_new_with_free_func(
				    g_free);
				rule->detectors = g_array_new(FALSE, FALSE,
				    sizeof(int));
				rule->severity = g_strdup("medium");
				g_ptr_array_add(set->rules, rule);
				rule_line = lineno;
			}
		} else if (rule == NULL) {
			why = "expected \"rule NAME\"";
		} else if (strcmp(word, "when") == 0 ||
		    strcmp(word, "except") == 0) {
			condition *c = parse_condition(set, rule, t, &why, buf,
			    sizeof(buf));

			if (c != NULL)
				g_ptr_array_add(word[0] == 'w' ? rule->when :
				    rule->except, c);
		} else if (strcmp(word, "match") == 0 && t->len == 2 &&
		    (strcmp(g_ptr_array_index(t, 1), "all") == 0 ||
		    strcmp(g_ptr_array_index(t, 1), "any") == 0)) {
			rule->any = strcmp(g_ptr_array_index(t, 1), "any") == 0;
		} else if (strcmp(word, "action") == 0 && t->len == 2) {
			size_t a;

			for (a = 1; a < G_N_ELEMENTS(action_names); a++)
				if (strcmp(g_ptr_array_index(t, 1),
				    action_names[a]) == 0)
					break;
			if (a == G_N_ELEMENTS(action_names))
				why = "action is warn, must-encrypt, quarantine "
				    "or block";
			else {
				rule->action = (policy_action)a;
				rule->has_action = true;
			}
		} else if (strcmp(word, "mode") == 0 && t->len == 2) {
			const char *m = g_ptr_array_index(t, 1);

			if (strcmp(m, "enforce") == 0)
				rule->mode = POLICY_ENFORCE;
			else if (strcmp(m, "audit") == 0)
				rule->mode = POLICY_AUDIT;
			else if (strcmp(m, "off") == 0)
				rule->mode = POLICY_OFF;
			else
				why = "mode is enforce, audit or off";
		} else if (strcmp(word, "severity") == 0 && t->len == 2) {
			dlp_confidence ignored;

			if (!parse_level(g_ptr_array_index(t, 1), &ignored))
				why = "severity is low, medium or high";
			else {
				g_free(rule->severity);
				rule->severity = g_strdup(
				    g_ptr_array_index(t, 1));
			}
		} else if (strcmp(word, "skip") == 0 && t->len >= 2) {
			for (guint i = 1; i < t->len; i++)
				g_ptr_array_add(rule->skip, g_utf8_strdown(
				    g_ptr_array_index(t, i), -1));
		} else if (strcmp(word, "stop") == 0 && t->len == 1) {
			rule->stop = true;
		} else {
			why = "unknown or malformed line (when, except, match, "
			    "action, mode, severity, skip, stop, rule)";
		}
		g_ptr_array_free(t, TRUE);
	}
	if (why == NULL && rule != NULL && !rule_done(rule, &why))
		lineno = rule_line;
	if (why != NULL) {
		diag_error("%s:%zu: %s", file, lineno, why);
		return MS_CONFIG;
	}
	return MS_OK;
}

char *
policy_find(const ms_store *store, const char *sharedir, const char *name,
    ms_err *err)
{
	char *file, *path;

	*err = MS_CONFIG;
	if (!name_ok(name)) {
		diag_error("dlp-policies: bad policy name");
		return NULL;
	}
	file = g_strconcat(name, ".policy", NULL);
	path = store != NULL ? store_path(store, "policies", file) : NULL;
	if (path == NULL || !g_file_test(path, G_FILE_TEST_IS_REGULAR)) {
		g_free(path);
		path = g_build_filename(sharedir, "policies", file, NULL);
		if (!g_file_test(path, G_FILE_TEST_IS_REGULAR)) {
			char *masked = diag_mask(name, strlen(name));

			diag_error("policy %s: not in the store's policies/ "
			    "nor in %s/policies", masked, sharedir);
			free(masked);
			g_free(path);
			g_free(file);
			return NULL;
		}
	}
	g_free(file);
	*err = MS_OK;
	return path;
}

ms_err
policy_load_file(policy_set *set, const char *path)
{
	gchar *text = NULL;
	gsize len = 0;
	GError *error = NULL;
	ms_err err;

	if (!g_file_get_contents(path, &text, &len, &error)) {
		diag_error("policy %s: %s", path, error->message);
		g_error_free(error);
		return MS_CONFIG;
	}
	if (len > LIMIT_SETTINGS_FILE) {
		diag_error("policy %s: larger than %zu octets", path,
		    (size_t)LIMIT_SETTINGS_FILE);
		g_free(text);
		return MS_CONFIG;
	}
	err = policy_parse_text(set, path, text, len);
	g_free(text);
	return err;
}

/* ---- evaluation ---- */

static bool
compare(unsigned long long value, cond_op op, unsigned long long number)
{
	switch (op) {
	case OP_GE:
		return value >= number;
	case OP_GT:
		return value > number;
	case OP_LE:
		return value <= number;
	case OP_LT:
		return value < number;
	case OP_EQ:
		return value == number;
	}
	return false;
}

/* address_matches - "user@domain" exactly, or "@domain" for a domain and
 * its subdomains, case-insensitive */
static bool
address_matches(const GPtrArray *list, const char *address)
{
	char *lower;
	bool hit = false;

	if (address == NULL)
		return false;
	lower = g_utf8_strdown(address, -1);
	for (guint i = 0; !hit && i < list->len; i++) {
		const char *want = g_ptr_array_index(list, i);

		if (want[0] == '@') {
			const char *at = strrchr(lower, '@');
			size_t dl = strlen(want + 1), al;

			if (at == NULL)
				continue;
			al = strlen(at + 1);
			hit = strcmp(at + 1, want + 1) == 0 || (al > dl &&
			    at[al - dl] == '.' &&
			    strcmp(at + 1 + al - dl, want + 1) == 0);
		} else
			hit = strcmp(lower, want) == 0;
	}
	g_free(lower);
	return hit;
}

static bool
glob_any(const GPtrArray *globs, const char *text)
{
	char *lower;
	bool hit = false;

	if (text == NULL)
		return false;
	lower = g_utf8_strdown(text, -1);
	for (guint i = 0; !hit && i < globs->len; i++)
		hit = g_pattern_match_simple(g_ptr_array_index(globs, i),
		    lower);
	g_free(lower);
	return hit;
}

static bool
holds(const condition *c, const policy_facts *f)
{
	const GPtrArray *atts = f->report->attachments;

	switch (c->kind) {
	case COND_DETECTOR:
		return compare(c->unique ?
		    dlp_result_unique(f->result, c->detector, c->min) :
		    dlp_result_total(f->result, c->detector, c->min), c->op,
		    c->number);
	case COND_SIZE:
		return compare(f->size, c->op, c->number);
	case COND_ATTACHMENT_TYPE:
	case COND_ATTACHMENT_NAME:
		for (guint i = 0; i < atts->len; i++) {
			const dlp_attachment *a = g_ptr_array_index(atts, i);

			if (c->kind == COND_ATTACHMENT_NAME ?
			    glob_any(c->words, a->name) :
			    glob_any(c->words, a->declared_type) ||
			    glob_any(c->words, a->detected_type))
				return true;
		}
		return false;
	case COND_UNSCANNABLE:
		return (f->report->unscannable & c->reasons) != 0;
	case COND_SENDER:
		return address_matches(c->words, f->sender);
	case COND_RECIPIENT:
		for (size_t i = 0; f->recipients && f->recipients[i]; i++)
			if (address_matches(c->words, f->recipients[i]))
				return true;
		return false;
	}
	return false;
}

static bool
fires(const policy_rule *r, const policy_facts *f)
{
	bool hit = !r->any;

	if (r->skip->len > 0 && address_matches(r->skip, f->sender))
		return false;
	for (guint i = 0; i < r->when->len; i++) {
		bool h = holds(g_ptr_array_index(r->when, i), f);

		if (r->any && h) {
			hit = true;
			break;
		}
		if (!r->any && !h) {
			hit = false;
			break;
		}
	}
	for (guint i = 0; hit && i < r->except->len; i++)
		if (holds(g_ptr_array_index(r->except, i), f))
			hit = false;
	return hit;
}

GPtrArray *
policy_evaluate(const policy_set *set, const policy_facts *facts)
{
	GPtrArray *fired = g_ptr_array_new();

	for (guint i = 0; i < set->rules->len; i++) {
		policy_rule *r = g_ptr_array_index(set->rules, i);

		if (r->mode == POLICY_OFF || !fires(r, facts))
			continue;
		g_ptr_array_add(fired, r);
		/* an audit rule never changes what happens, stop included */
		if (r->stop && r->mode == POLICY_ENFORCE)
			break;
	}
	return fired;
}
