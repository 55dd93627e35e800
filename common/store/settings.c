/*
 * settings.c - typed settings with global -> wildcard -> domain -> user
 * inheritance (see settings.h).  The table of known keys is the single
 * definition of names, types, defaults and allowed levels; the section-5
 * page documents the same table.
 */
#include "settings.h"
#include "counters.h"
#include "diag.h"
#include "kv.h"
#include "mslimits.h"
#include "parse.h"

#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

typedef enum key_type {
	TYPE_ENUM,	/* one word of allowed */
	TYPE_LIST,	/* words of allowed, no repeats, may be empty */
	TYPE_NUMBER,	/* decimal with optional K, M or G suffix */
	TYPE_BOOL,	/* yes or no */
	TYPE_STRING,	/* any printable UTF-8 text */
	TYPE_FINGERPRINT,	/* an OpenPGP fingerprint (40 or 64 hex) or
				 * empty for none */
	TYPE_CERT_FINGERPRINT,	/* a certificate's SHA-256 fingerprint (64
				 * lowercase hex, as certstore prints it) or
				 * empty for none */
	TYPE_FIELD_TRIGGER,	/* "Name" or "Name: value", or empty */
	TYPE_HTTPS_URL,		/* an https:// URL of printable ASCII, or
				 * empty */
	TYPE_NAMES		/* names of letters, digits, '-', '_', '.'
				 * (not first), no repeats, may be empty */
} key_type;

#define LEVEL_ALL 0x0fu
#define LEVEL_GLOBAL (1u << SETTINGS_GLOBAL)

typedef struct key_def {
	const char *name;
	key_type type;
	const char *allowed;	/* space-separated words for enum and list */
	const char *fallback;	/* default value */
	unsigned levels;	/* bit mask of settings_level */
	unsigned long long max;	/* numbers: 1..max, the range of the
				 * variable the value ends up in */
} key_def;

static const key_def keys[] = {
	{ "encrypt-mode", TYPE_ENUM, "none allow mandatory", "allow",
	  LEVEL_ALL, 0 },
	{ "methods", TYPE_LIST, "smime pgp pdf webmail", "smime pgp",
	  LEVEL_ALL, 0 },
	{ "sign", TYPE_ENUM, "none smime pgp", "none", LEVEL_ALL, 0 },
	{ "pgp-format", TYPE_ENUM, "mime inline", "mime", LEVEL_ALL, 0 },
	/* domain-to-domain encryption: this key serves every recipient of
	 * the domain (a partner gateway's key) */
	{ "pgp-domain-key", TYPE_FINGERPRINT, NULL, "",
	  (1u << SETTINGS_WILDCARD) | (1u << SETTINGS_DOMAIN), 0 },
	/* the S/MIME counterpart: a certificate in the certificate store */
	{ "smime-domain-cert", TYPE_CERT_FINGERPRINT, NULL, "",
	  (1u << SETTINGS_WILDCARD) | (1u << SETTINGS_DOMAIN), 0 },
	/* route-recipient: message triggers that make encryption mandatory
	 * for one message; global only, because the Subject is rewritten
	 * once for every recipient (ENC-4: they can only raise the mode) */
	{ "encrypt-trigger-subject", TYPE_STRING, NULL, "[encrypt]",
	  LEVEL_GLOBAL, 0 },
	{ "encrypt-trigger-header", TYPE_FIELD_TRIGGER, NULL, "",
	  LEVEL_GLOBAL, 0 },
	/* route-recipient: the pdf and webmail methods are available only
	 * when configured */
	{ "pdf-password-mode", TYPE_ENUM,
	  "none static random-to-sender sms otp", "none", LEVEL_ALL, 0 },
	{ "webmail-url", TYPE_HTTPS_URL, NULL, "", LEVEL_ALL, 0 },
	/* pdfwrap's reply link (pdf.md section 6): the reply portal's base
	 * URL (no link when empty) and how long a link stays valid */
	{ "pdf-reply-url", TYPE_HTTPS_URL, NULL, "", LEVEL_ALL, 0 },
	/* pdfwrap: the message as received embedded as message.eml too */
	{ "pdf-attach-original", TYPE_BOOL, NULL, "no", LEVEL_ALL, 0 },
	{ "pdf-reply-expiry", TYPE_NUMBER, NULL, "2592000", LEVEL_ALL,
	  (unsigned long long)366 * 86400 },
	/* pdfwrap's sms mode: the recipient's mobile number (E.164, checked
	 * where it is used), and sms-send's gateway file, retries and
	 * expiry; private gateway addresses only for tests or a local
	 * relay */
	{ "sms-number", TYPE_STRING, NULL, "", 1u << SETTINGS_USER, 0 },
	{ "sms-credentials-file", TYPE_STRING, NULL, "", LEVEL_GLOBAL, 0 },
	{ "sms-allow-private-addresses", TYPE_BOOL, NULL, "no", LEVEL_GLOBAL,
	  0 },
	{ "sms-retry-delay", TYPE_NUMBER, NULL, "300", LEVEL_GLOBAL, 86400 },
	{ "sms-max-attempts", TYPE_NUMBER, NULL, "6", LEVEL_GLOBAL, 100 },
	{ "sms-expiry", TYPE_NUMBER, NULL, "86400", LEVEL_GLOBAL,
	  (unsigned long long)30 * 86400 },
	{ "syslog", TYPE_BOOL, NULL, "yes", LEVEL_GLOBAL, 0 },
	{ "limit-message-size", TYPE_NUMBER, NULL, "64M", LEVEL_GLOBAL,
	  SIZE_MAX },
	{ "limit-header-section", TYPE_NUMBER, NULL, "100K", LEVEL_GLOBAL,
	  SIZE_MAX },
	{ "limit-header-field", TYPE_NUMBER, NULL, "64K", LEVEL_GLOBAL,
	  SIZE_MAX },
	{ "limit-mime-depth", TYPE_NUMBER, NULL, "32", LEVEL_GLOBAL,
	  UINT_MAX },
	{ "limit-mime-parts", TYPE_NUMBER, NULL, "1000", LEVEL_GLOBAL,
	  UINT_MAX },
	/* OpenPGP key lookup (pgp-keys lookup only; never in the mail path) */
	{ "pgp-keyserver", TYPE_STRING, NULL, "", LEVEL_GLOBAL, 0 },
	{ "lookup-ca-file", TYPE_STRING, NULL, "", LEVEL_GLOBAL, 0 },
	{ "lookup-resolve", TYPE_STRING, NULL, "", LEVEL_GLOBAL, 0 },
	{ "lookup-allow-private-addresses", TYPE_BOOL, NULL, "no",
	  LEVEL_GLOBAL, 0 },
	/* crl-sync (never in the mail path, CRL-1): URLs beside the
	 * distribution points of the stored certificates, transport limits
	 * and the SSRF exceptions (CRL-2, CRL-3) */
	{ "crl-urls", TYPE_STRING, NULL, "", LEVEL_GLOBAL, 0 },
	{ "crl-jobs", TYPE_NUMBER, NULL, "4", LEVEL_GLOBAL, 32 },
	{ "crl-timeout", TYPE_NUMBER, NULL, "120", LEVEL_GLOBAL, 3600 },
	{ "crl-max-size", TYPE_NUMBER, NULL, "64M", LEVEL_GLOBAL,
	  (unsigned long long)1024 * 1024 * 1024 },
	{ "crl-allow-private-addresses", TYPE_BOOL, NULL, "no", LEVEL_GLOBAL,
	  0 },
	{ "crl-allow-addresses", TYPE_STRING, NULL, "", LEVEL_GLOBAL, 0 },
	{ "crl-ca-file", TYPE_STRING, NULL, "", LEVEL_GLOBAL, 0 },
	{ "crl-resolve", TYPE_STRING, NULL, "", LEVEL_GLOBAL, 0 },
	/* CRL-5: what an unknown revocation status (a CRL past nextUpdate
	 * plus the grace, or a distribution point without a CRL) means */
	{ "revocation", TYPE_ENUM, "hard soft", "soft", LEVEL_GLOBAL, 0 },
	{ "revocation-grace", TYPE_NUMBER, NULL, "86400", LEVEL_GLOBAL,
	  (unsigned long long)366 * 86400 },
	/* REL-2: below Postfix's time limit (mailseal_time_limit = 300s
	 * in the example configuration), so a slow run defers itself */
	{ "time-limit", TYPE_NUMBER, NULL, "240", LEVEL_GLOBAL, 86400 },
	/* mailseal-filter: how finished messages go back to the MTA; an
	 * empty command means $MAILSEAL_SENDMAIL, then sendmail -G -i; a
	 * non-empty reinject-smtp (HOST:PORT) uses SMTP instead */
	{ "reinject-command", TYPE_STRING, NULL, "", LEVEL_GLOBAL, 0 },
	{ "reinject-smtp", TYPE_STRING, NULL, "", LEVEL_GLOBAL, 0 },
	/* direction and sender trust: our domains and networks, and whether
	 * an envelope sender is believed when nothing else vouches for it */
	{ "internal-domains", TYPE_STRING, NULL, "", LEVEL_GLOBAL, 0 },
	{ "internal-networks", TYPE_STRING, NULL, "", LEVEL_GLOBAL, 0 },
	{ "trust-envelope-sender", TYPE_BOOL, NULL, "no", LEVEL_GLOBAL, 0 },
	{ "encrypt-internal", TYPE_BOOL, NULL, "no", LEVEL_GLOBAL, 0 },
	/* an OpenPGP copy to several recipients' keys hides the key IDs */
	{ "pgp-hide-recipients", TYPE_BOOL, NULL, "yes", LEVEL_GLOBAL, 0 },
	/* the reinjection listener's message_size_limit (Postfix's default):
	 * a copy above it is refused with 5.3.4 before any goes out */
	{ "reinject-max-size", TYPE_NUMBER, NULL, "10240000", LEVEL_GLOBAL,
	  (unsigned long long)4 * 1024 * 1024 * 1024 },
	/* dlp-scan: DLP rules are the sender's (dlp.md 4.6), so these
	 * follow the sender's chain; a user may be switched off or given
	 * other policy files, never a policy of another file layout */
	{ "dlp", TYPE_BOOL, NULL, "yes", LEVEL_ALL, 0 },
	{ "dlp-policies", TYPE_NAMES, NULL, "default", LEVEL_ALL, 0 },
	/* dlp-scan's hard limits: text extracted per message and a time
	 * budget below time-limit; past either: unscannable limit_exceeded */
	{ "dlp-text-limit", TYPE_NUMBER, NULL, "50M", LEVEL_GLOBAL,
	  SIZE_MAX },
	{ "dlp-time-limit", TYPE_NUMBER, NULL, "60", LEVEL_GLOBAL, 86400 },
	/* the quarantine's bound in octets: past it a new hold
	 * defers, so that outside senders cannot fill the disk */
	{ "quarantine-max-size", TYPE_NUMBER, NULL, "1G", LEVEL_GLOBAL,
	  SIZE_MAX },
	/* who hears of the quarantine: the sender (authenticated senders
	 * only) on the events listed, empty for none; a DLP officer of
	 * every hold; entries older than the retention (seconds, dlp.md
	 * 4.3's 14 days) go at the next dlp-scan quarantine sweep */
	{ "quarantine-notify", TYPE_LIST, "hold release delete",
	  "hold release delete", LEVEL_GLOBAL, 0 },
	{ "dlp-officer", TYPE_STRING, NULL, "", LEVEL_GLOBAL, 0 },
	{ "quarantine-retention", TYPE_NUMBER, NULL, "1209600", LEVEL_GLOBAL,
	  (unsigned long long)3660 * 86400 },
};

#define NKEYS (sizeof(keys) / sizeof(keys[0]))

struct ms_settings {
	char *values[NKEYS];	/* NULL: default */
	char *origins[NKEYS];	/* "file:line" of the value in force */
	GPtrArray *chain;	/* files consulted, in order, with status */
};

static int
key_index(const char *name)
{
	for (size_t i = 0; i < NKEYS; i++)
		if (strcmp(keys[i].name, name) == 0)
			return (int)i;
	return -1;
}

static const char *const level_names[] = {
	"global", "wildcard domain", "domain", "user"
};

/* word_allowed - is word one of the space-separated words of allowed */
static bool
word_allowed(const char *allowed, const char *word, size_t len)
{
	const char *p = allowed;

	while (*p) {
		size_t n = strcspn(p, " ");

		if (n == len && strncmp(p, word, len) == 0)
			return true;
		p += n;
		while (*p == ' ')
			p++;
	}
	return false;
}

/* validate - check value against the key's type; *why on failure */
static bool
validate(const key_def *def, const char *value, const char **why)
{
	unsigned long long number;
	const char *p;

	switch (def->type) {
	case TYPE_ENUM:
		if (!word_allowed(def->allowed, value, strlen(value))) {
			*why = def->allowed;
			return false;
		}
		return true;
	case TYPE_LIST: {
		char **words = g_strsplit_set(value, " \t,", -1);
		bool ok = true;

		for (int i = 0; ok && words[i] != NULL; i++) {
			if (words[i][0] == '\0')
				continue;
			if (!word_allowed(def->allowed, words[i],
			    strlen(words[i]))) {
				*why = def->allowed;
				ok = false;
			}
			for (int j = 0; ok && j < i; j++)
				if (strcmp(words[i], words[j]) == 0) {
					*why = "a word is repeated";
					ok = false;
				}
		}
		g_strfreev(words);
		return ok;
	}
	case TYPE_NUMBER:
		if (!parse_size(value, &number)) {
			*why = "a number with an optional K, M or G suffix";
			return false;
		}
		/* every number is a limit: 0 would refuse all mail with a
		 * bounce, and a value past max would be truncated when
		 * stored (2^32 as limit-mime-depth became 0) */
		if (number == 0 || number > def->max) {
			*why = "a number from 1 up to the limit's range";
			return false;
		}
		return true;
	case TYPE_BOOL:
		if (strcmp(value, "yes") != 0 && strcmp(value, "no") != 0) {
			*why = "yes no";
			return false;
		}
		return true;
	case TYPE_FINGERPRINT: {
		size_t len = strlen(value);

		if (len != 0 && len != 40 && len != 64) {
			*why = "an OpenPGP fingerprint of 40 or 64 hex digits";
			return false;
		}
		for (p = value; *p; p++)
			if (!g_ascii_isxdigit(*p)) {
				*why = "an OpenPGP fingerprint of 40 or 64 hex "
				    "digits";
				return false;
			}
		return true;
	}
	case TYPE_CERT_FINGERPRINT: {
		size_t len = strlen(value);
		bool ok = len == 0 || len == 64;

		for (p = value; ok && *p; p++)
			ok = (*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f');
		if (!ok)
			*why = "a SHA-256 fingerprint of 64 lowercase hex digits";
		return ok;
	}
	case TYPE_FIELD_TRIGGER: {
		/* a field name is printable ASCII without ':' (RFC 5322
		 * 3.6.8); the value after ':' is free text */
		size_t name = strcspn(value, ":");
		bool ok = true;

		for (size_t i = 0; ok && i < name; i++)
			ok = value[i] > 0x20 && value[i] < 0x7f;
		if (*value != '\0' && name == 0)
			ok = false;
		for (p = value + name; ok && *p; p++)
			ok = (unsigned char)*p >= 0x20 && *p != 0x7f;
		if (!ok)
			*why = "a header field name, optionally followed by "
			    "\": value\"";
		return ok;
	}
	case TYPE_HTTPS_URL: {
		bool ok = *value == '\0' ||
		    (g_ascii_strncasecmp(value, "https://", 8) == 0 &&
		    value[8] != '\0');

		for (p = value; ok && *p; p++)
			ok = *p > 0x20 && *p < 0x7f;
		if (!ok)
			*why = "an https:// URL without spaces";
		return ok;
	}
	case TYPE_NAMES: {
		char **words = g_strsplit_set(value, " \t,", -1);
		bool ok = true;

		for (int i = 0; ok && words[i] != NULL; i++) {
			if (words[i][0] == '\0')
				continue;
			ok = words[i][0] != '.' && strlen(words[i]) <= 64;
			for (p = words[i]; ok && *p; p++)
				ok = g_ascii_isalnum(*p) || *p == '-' ||
				    *p == '_' || *p == '.';
			for (int j = 0; ok && j < i; j++)
				ok = strcmp(words[i], words[j]) != 0;
		}
		g_strfreev(words);
		if (!ok)
			*why = "names of letters, digits, '-', '_' and '.', "
			    "each once";
		return ok;
	}
	case TYPE_STRING:
		for (p = value; *p; p++)
			if ((unsigned char)*p < 0x20 || *p == 0x7f) {
				*why = "printable text";
				return false;
			}
		return true;
	}
	return false;
}

ms_settings *
settings_new_defaults(void)
{
	ms_settings *s = g_new0(ms_settings, 1);

	s->chain = g_ptr_array_new_with_free_func(g_free);
	return s;
}

void
settings_apply(const ms_settings *settings)
{
	ms_limits limits = *limits_get();

	limits.message_size = (size_t)settings_get_number(settings,
	    "limit-message-size");
	limits.header_section = (size_t)settings_get_number(settings,
	    "limit-header-section");
	limits.header_field = (size_t)settings_get_number(settings,
	    "limit-header-field");
	limits.mime_depth = (unsigned)settings_get_number(settings,
	    "limit-mime-depth");
	limits.mime_parts = (unsigned)settings_get_number(settings,
	    "limit-mime-parts");
	limits_set(&limits);
	diag_use_syslog(settings_get_bool(settings, "syslog"));
}

ms_err
settings_open_store(const char *option, bool create, ms_store **store,
    ms_settings **settings)
{
	ms_err err;

	*settings = NULL;
	err = store_open(store_locate(option), create, store);
	if (err != MS_OK) {
		*store = NULL;
		return err;
	}
	err = settings_load(*store, NULL, settings);
	if (err != MS_OK) {
		store_close(*store);
		*store = NULL;
		*settings = NULL;
		return err;
	}
	settings_apply(*settings);
	return MS_OK;
}

void
settings_free(ms_settings *settings)
{
	if (settings == NULL)
		return;
	for (size_t i = 0; i < NKEYS; i++) {
		g_free(settings->values[i]);
		g_free(settings->origins[i]);
	}
	g_ptr_array_free(settings->chain, TRUE);
	g_free(settings);
}

/* comment_after_value - the value holds a '#' after a blank: in these
 * files a comment is a line of its own, so "smime  # only smime" is the
 * value, and saying so is the useful diagnostic */
static bool
comment_after_value(const char *value)
{
	return strstr(value, " #") != NULL || strstr(value, "\t#") != NULL;
}

/* edit_distance - Levenshtein distance of two keys (each at most
 * KV_KEY_MAX octets, so the two rows stay small) */
static size_t
edit_distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b), row[KV_KEY_MAX + 2];

	if (la > KV_KEY_MAX || lb > KV_KEY_MAX)
		return SIZE_MAX;
	for (size_t j = 0; j <= lb; j++)
		row[j] = j;
	for (size_t i = 1; i <= la; i++) {
		size_t diagonal = row[0];

		row[0] = i;
		for (size_t j = 1; j <= lb; j++) {
			size_t above = row[j];
			size_t best = diagonal + (a[i - 1] != b[j - 1]);

			if (above + 1 < best)
				best = above + 1;
			if (row[j - 1] + 1 < best)
				best = row[j - 1] + 1;
			row[j] = best;
			diagonal = above;
		}
	}
	return row[lb];
}

/* nearest_key - the known key an unknown one is most likely a typo of
 * (at most two edits away), or NULL */
static const char *
nearest_key(const char *unknown)
{
	const char *best = NULL;
	size_t best_distance = 3;

	for (size_t i = 0; i < NKEYS; i++) {
		size_t d = edit_distance(unknown, keys[i].name);

		if (d < best_distance) {
			best_distance = d;
			best = keys[i].name;
		}
	}
	return best;
}

/* entry_ok - why entry e may not stand in a file of level (appended
 * to why, without the "file:line: " prefix), or true with *index set:
 * the one judgement the loader and settings_check_text share */
static bool
entry_ok(const kv_entry *e, settings_level level, int *index, GString *why)
{
	const char *expected = NULL, *near;
	int idx = key_index(e->key);

	*index = idx;
	if (idx < 0) {
		near = nearest_key(e->key);
		g_string_append_printf(why, "unknown key \"%s\"", e->key);
		if (near != NULL)
			g_string_append_printf(why, " (did you mean \"%s\"?)",
			    near);
		return false;
	}
	if ((keys[idx].levels & (1u << level)) == 0) {
		if (keys[idx].levels == LEVEL_GLOBAL)
			g_string_append_printf(why, "\"%s\" may only be set in "
			    "global.conf", e->key);
		else
			g_string_append_printf(why, "\"%s\" may not be set at "
			    "the %s level", e->key, level_names[level]);
		return false;
	}
	if (!validate(&keys[idx], e->value, &expected)) {
		if (comment_after_value(e->value))
			g_string_append_printf(why, "bad value for \"%s\": a "
			    "'#' after a value is not a comment (a comment is "
			    "a line of its own)", e->key);
		else
			g_string_append_printf(why, "bad value for \"%s\" "
			    "(expected: %s)", e->key, expected);
		return false;
	}
	return true;
}

ms_err
settings_parse_text(ms_settings *settings, const char *name,
    settings_level level, const char *text, size_t len)
{
	GString *why = g_string_new(NULL);
	ms_err err = MS_OK;
	kv_file *kv;

	if (kv_parse(name, text, len, KV_COMMENTS, &kv) != MS_OK) {
		g_string_free(why, TRUE);
		return MS_CONFIG;
	}
	for (size_t i = 0; i < kv_size(kv) && err == MS_OK; i++) {
		const kv_entry *e = kv_at(kv, i);
		int idx;

		/* an unknown key defers like a bad value: it may be a
		 * misspelt security key (encrypt-mod = mandatory), and
		 * mail sent under the default would be mail sent plain */
		if (!entry_ok(e, level, &idx, why)) {
			diag_error("%s:%zu: %s (mail defers until the line is "
			    "corrected)", name, e->line, why->str);
			err = MS_CONFIG;
		} else if (settings != NULL) {
			g_free(settings->values[idx]);
			g_free(settings->origins[idx]);
			settings->values[idx] = g_strdup(e->value);
			settings->origins[idx] = g_strdup_printf("%s:%zu",
			    name, e->line);
		}
	}
	kv_free(kv);
	g_string_free(why, TRUE);
	return err;
}

size_t
settings_check_text(const char *name, settings_level level,
    const char *text, size_t len, settings_report_fn *report, void *arg)
{
	GString *why = g_string_new(NULL);
	size_t found = 0;
	kv_file *kv;

	if (kv_parse(name, text, len, KV_COMMENTS, &kv) != MS_OK) {
		report(arg, 0, "not a settings file: correct the line named "
		    "on standard error (lines are \"key = value\", comment "
		    "lines start with '#')");
		g_string_free(why, TRUE);
		return 1;
	}
	for (size_t i = 0; i < kv_size(kv); i++) {
		const kv_entry *e = kv_at(kv, i);
		int idx;

		g_string_truncate(why, 0);
		if (!entry_ok(e, level, &idx, why)) {
			g_string_append(why, ": correct or remove the line "
			    "(until then mail defers)");
			report(arg, e->line, why->str);
			found++;
		} else if (comment_after_value(e->value)) {
			g_string_printf(why, "the value of \"%s\" holds a "
			    "'#' after a blank, which is part of the value, "
			    "not a comment: move the comment to a line of its "
			    "own", e->key);
			report(arg, e->line, why->str);
			found++;
		}
	}
	kv_free(kv);
	g_string_free(why, TRUE);
	return found;
}

/* load_file - apply one settings file if it exists */
static ms_err
load_file(ms_settings *settings, const ms_store *store, const char *subdir,
    const char *file, settings_level level)
{
	GByteArray *data;
	ms_err err;
	char *shown = g_strdup_printf("%s/%s", subdir, file);

	/* a valid 254-octet address or 253-octet domain plus ".conf" is
	 * longer than a file name can be: no such file can exist, and
	 * store_path() would treat the name as an internal error */
	if (!store_name_ok(file)) {
		g_ptr_array_add(settings->chain, g_strdup_printf(
		    "%-15s %s (absent: not a possible file name)",
		    level_names[level], shown));
		g_free(shown);
		return MS_OK;
	}
	err = store_read(store, subdir, file, LIMIT_SETTINGS_FILE, &data);
	if (err == MS_NOTFOUND) {
		g_ptr_array_add(settings->chain, g_strdup_printf(
		    "%-15s %s (absent)", level_names[level], shown));
		g_free(shown);
		return MS_OK;
	}
	if (err != MS_OK) {
		if (err == MS_DATA)
			diag_error("%s: settings file too large", shown);
		g_free(shown);
		return MS_CONFIG;
	}
	g_ptr_array_add(settings->chain, g_strdup_printf("%-15s %s",
	    level_names[level], shown));
	err = settings_parse_text(settings, shown, level,
	    (const char *)data->data, data->len);
	g_byte_array_free(data, TRUE);
	g_free(shown);
	return err;
}

/* load_domain_levels - wildcard files, broadest first, then the domain */
static ms_err
load_domain_levels(ms_settings *settings, const ms_store *store,
    const char *domain)
{
	ms_err err;
	const char *dots[128];
	size_t ndots = 0;
	char *file;

	/* an address literal has no domain files and no parent domains:
	 * "[192.0.2.1]" must not pick up a wildcard file "*.1].conf" */
	if (domain[0] == '[')
		return MS_OK;
	/* "a.b.example.com": wildcards *.com, *.example.com, *.b.example.com
	 * apply to it (a wildcard matches subdomains, not the apex) */
	for (const char *p = domain; *p && ndots < 128; p++)
		if (*p == '.')
			dots[ndots++] = p;
	for (size_t i = ndots; i-- > 0;) {
		file = g_strdup_printf("*%s.conf", dots[i]);
		err = load_file(settings, store, "settings/domain", file,
		    SETTINGS_WILDCARD);
		g_free(file);
		if (err != MS_OK)
			return err;
	}
	file = g_strdup_printf("%s.conf", domain);
	err = load_file(settings, store, "settings/domain", file,
	    SETTINGS_DOMAIN);
	g_free(file);
	return err;
}

/* load_levels - the wildcard, domain and user levels over s */
static ms_err
load_levels(ms_settings *s, const ms_store *store, const char *domain,
    const ms_addr *addr)
{
	ms_err err = MS_OK;

	if (domain != NULL)
		err = load_domain_levels(s, store, domain);
	if (err == MS_OK && addr != NULL) {
		/* a user file exists only for addresses that are safe as a
		 * file name; others inherit from their domain */
		if (addr_is_filename_safe(addr->key)) {
			char *file = g_strdup_printf("%s.conf", addr->key);

			err = load_file(s, store, "settings/user", file,
			    SETTINGS_USER);
			g_free(file);
		} else
			g_ptr_array_add(s->chain, g_strdup_printf(
			    "%-15s (none: the address is not usable as a "
			    "file name)", level_names[SETTINGS_USER]));
	}
	return err;
}

static ms_err
load_common(const ms_store *store, const char *domain, const ms_addr *addr,
    ms_settings **out)
{
	ms_settings *s = settings_new_defaults();
	ms_err err;

	*out = NULL;
	counter_add(COUNTER_SETTINGS);
	err = load_file(s, store, "settings", "global.conf", SETTINGS_GLOBAL);
	if (err == MS_OK)
		err = load_levels(s, store, domain, addr);
	if (err != MS_OK) {
		settings_free(s);
		return err;
	}
	*out = s;
	return MS_OK;
}

ms_err
settings_load_under(const ms_settings *global, const ms_store *store,
    const ms_addr *addr, ms_settings **out)
{
	ms_settings *s = settings_new_defaults();
	ms_err err;

	*out = NULL;
	for (size_t i = 0; i < NKEYS; i++) {
		s->values[i] = g_strdup(global->values[i]);
		s->origins[i] = g_strdup(global->origins[i]);
	}
	for (guint i = 0; i < global->chain->len; i++)
		g_ptr_array_add(s->chain,
		    g_strdup(g_ptr_array_index(global->chain, i)));
	err = load_levels(s, store, addr->domain, addr);
	if (err != MS_OK) {
		settings_free(s);
		return err;
	}
	*out = s;
	return MS_OK;
}

ms_err
settings_load(const ms_store *store, const ms_addr *addr, ms_settings **out)
{
	return load_common(store, addr ? addr->domain : NULL, addr, out);
}

ms_err
settings_load_domain(const ms_store *store, const char *domain,
    ms_settings **out)
{
	return load_common(store, domain, NULL, out);
}

static int
known_key(const char *key)
{
	int idx = key_index(key);

	if (idx < 0)
		diag_fatal(EXIT_TEMPFAIL, "internal error: unknown setting "
		    "\"%s\"", key);
	return idx;
}

const char *
settings_get(const ms_settings *settings, const char *key)
{
	int idx = known_key(key);

	if (settings != NULL && settings->values[idx] != NULL)
		return settings->values[idx];
	return keys[idx].fallback;
}

bool
settings_get_bool(const ms_settings *settings, const char *key)
{
	return strcmp(settings_get(settings, key), "yes") == 0;
}

unsigned long long
settings_get_number(const ms_settings *settings, const char *key)
{
	unsigned long long value = 0;

	if (!parse_size(settings_get(settings, key), &value))
		diag_fatal(EXIT_TEMPFAIL, "internal error: bad number for %s",
		    key);
	return value;
}

char **
settings_get_list(const ms_settings *settings, const char *key)
{
	char **words = g_strsplit_set(settings_get(settings, key), " \t,",
	    -1);
	GPtrArray *out = g_ptr_array_new();

	for (int i = 0; words[i] != NULL; i++)
		if (words[i][0] != '\0')
			g_ptr_array_add(out, g_strdup(words[i]));
	g_ptr_array_add(out, NULL);
	g_strfreev(words);
	return (char **)g_ptr_array_free(out, FALSE);
}

const char *
settings_origin(const ms_settings *settings, const char *key)
{
	int idx = known_key(key);

	if (settings != NULL && settings->origins[idx] != NULL)
		return settings->origins[idx];
	return "default";
}

void
settings_explain(const ms_settings *settings, FILE *out)
{
	fprintf(out, "settings chain (least specific first):\n");
	for (guint i = 0; i < settings->chain->len; i++)
		fprintf(out, "  %s\n",
		    (const char *)g_ptr_array_index(settings->chain, i));
	fprintf(out, "effective values:\n");
	for (size_t i = 0; i < NKEYS; i++)
		fprintf(out, "  %-22s = %-24s (%s)\n", keys[i].name,
		    settings_get(settings, keys[i].name),
		    settings_origin(settings, keys[i].name));
}
