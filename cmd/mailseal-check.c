/*
 * mailseal-check - check a store and the Postfix configuration before
 * mail flows (mailseal-check(1)): one line per finding on standard
 * output, each saying what to do; exit 0 when there is none, 1 when
 * there are, 75 when something could not be checked.
 *
 * The checks are two tables: store checks (modes, settings files, the
 * secrets the settings need, the index, CRLs, expiry) and Postfix checks
 * (listeners, the pipe services, the reinjection listener, size limits),
 * the latter over what postconf(1) prints, so Postfix need not run.  A new
 * setting or filter argument is one more row of secret_needs or
 * pipe_needs, or one more function in a table.
 */
#include "addr.h"
#include "cert.h"
#include "certdb.h"
#include "diag.h"
#include "mslimits.h"
#include "parse.h"
#include "pdfpass.h"
#include "pgp.h"
#include "postconf.h"
#include "reply.h"
#include "ritual.h"
#include "settings.h"
#include "store.h"

#include <errno.h>
#include <limits.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static const char usage[] =
"usage: mailseal-check [--store DIR] [-c DIR | --config-directory DIR]\n"
"                      [--no-postfix]\n"
"       mailseal-check -h | --version\n";

static const char *opt_config_directory;
static int opt_no_postfix;

static struct poptOption options[] = {
	{ "config-directory", 'c', POPT_ARG_STRING, &opt_config_directory, 0,
	  NULL, NULL },
	{ "no-postfix", '\0', POPT_ARG_NONE, &opt_no_postfix, 0, NULL, NULL },
	POPT_TABLEEND
};

/* certificates and keys of ours are reported this long before they end */
#define EXPIRY_WARNING_DAYS 30
/* the store walk: deeper or longer is not a store these programs made */
#define WALK_DEPTH_MAX 8
#define WALK_ENTRIES_MAX 1000000
/* an encrypted copy: base64 (4/3) with line ends (78/76), plus the
 * S/MIME or OpenPGP envelope and signature */
#define GROWTH_PERCENT 137
#define GROWTH_EXTRA ((unsigned long long)64 * 1024)

typedef postconf_service service;

typedef enum direction {
	DIRECTION_NONE = 0,
	DIRECTION_OUTGOING = 1 << 0,
	DIRECTION_INCOMING = 1 << 1
} direction;

typedef struct checker {
	GString *out;		/* the findings, one per line */
	unsigned findings;
	bool incomplete;	/* something could not be checked */
	time_t now;
	const char *root;	/* the store's path as given */
	ms_store *store;	/* NULL when it cannot be opened */
	uid_t owner;		/* of the store's directory */
	bool owner_known;
	bool settings_clean;	/* every settings file loads */
	ms_settings *global;	/* global settings, when they load */
	GHashTable *seen;	/* findings already made, by text */
	ms_postconf *postfix;	/* Postfix, NULL when not read */
} checker;

/* finding - one line: where, what is wrong, what to do */
static void finding(checker *c, const char *where, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void
finding(checker *c, const char *where, const char *fmt, ...)
{
	va_list ap;
	char *text, *line, *masked;

	va_start(ap, fmt);
	text = g_strdup_vprintf(fmt, ap);
	va_end(ap);
	line = g_strdup_printf("%s: %s", where, text);
	g_free(text);
	if (g_hash_table_contains(c->seen, line)) {
		g_free(line);
		return;
	}
	/* store file names and Postfix values are the admin's text, but
	 * a finding is one line whatever they hold */
	masked = diag_mask(line, strlen(line));
	g_string_append_printf(c->out, "%s\n", masked);
	free(masked);
	g_hash_table_add(c->seen, line);
	c->findings++;
}

/* cannot_check - something stands between us and a check: 75 */
static void cannot_check(checker *c, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void
cannot_check(checker *c, const char *fmt, ...)
{
	va_list ap;
	char *text;

	va_start(ap, fmt);
	text = g_strdup_vprintf(fmt, ap);
	va_end(ap);
	diag_error("cannot check: %s", text);
	g_free(text);
	c->incomplete = true;
}

/* ---- the store: owners and modes ---- */

/* private_file - a file that holds a secret or a message: mode 0600.
 * Private keys in keys/ and ca/ (the certificates beside them are
 * public), and everything in the areas of secrets and messages. */
static bool
private_file(const char *relative)
{
	static const char *const areas[] = { "pdf", "spool", "quarantine",
	    "tmp", "gnupg/private-keys-v1.d", NULL };

	if (g_str_has_prefix(relative, "keys/") ||
	    g_str_has_prefix(relative, "ca/"))
		return g_str_has_suffix(relative, ".key");
	if (g_str_has_prefix(relative, "pdf/templates/"))
		return false;
	for (int i = 0; areas[i] != NULL; i++) {
		size_t n = strlen(areas[i]);

		if (strncmp(relative, areas[i], n) == 0 &&
		    relative[n] == '/')
			return true;
	}
	return false;
}

/* walk_entry - the owner and mode of one entry of the store */
static void
walk_entry(checker *c, const char *relative, const struct stat *st)
{
	const char *shown = *relative != '\0' ? relative : ".";

	if (S_ISLNK(st->st_mode)) {
		finding(c, shown, "a symbolic link, which the programs do not "
		    "follow: replace it by the file or directory itself");
		return;
	}
	if (c->owner_known && st->st_uid != c->owner && st->st_uid != 0)
		finding(c, shown, "belongs to uid %lu, the store to uid %lu: "
		    "chown it to the store's owner", (unsigned long)st->st_uid,
		    (unsigned long)c->owner);
	if ((st->st_mode & (S_IWGRP | S_IWOTH)) != 0)
		finding(c, shown, "writable by group or others: chmod go-w");
	else if (S_ISREG(st->st_mode) && private_file(relative) &&
	    (st->st_mode & (S_IRGRP | S_IROTH)) != 0)
		finding(c, shown, "a private file readable by group or "
		    "others: chmod 600");
}

/* walk - every entry below dir (relative to the store), bounded */
static void
walk(checker *c, const char *relative, unsigned depth, unsigned *entries)
{
	char *path = *relative != '\0' ?
	    g_build_filename(c->root, relative, NULL) : g_strdup(c->root);
	GDir *dir;
	const char *name;
	GError *error = NULL;

	dir = g_dir_open(path, 0, &error);
	if (dir == NULL) {
		cannot_check(c, "%s: %s", path, error->message);
		g_error_free(error);
		g_free(path);
		return;
	}
	while ((name = g_dir_read_name(dir)) != NULL) {
		char *child = *relative != '\0' ?
		    g_strdup_printf("%s/%s", relative, name) : g_strdup(name);
		char *child_path = g_build_filename(c->root, child, NULL);
		struct stat st;

		if (++*entries > WALK_ENTRIES_MAX) {
			cannot_check(c, "more than %u entries in the store",
			    WALK_ENTRIES_MAX);
			g_free(child_path);
			g_free(child);
			break;
		}
		if (lstat(child_path, &st) != 0)
			cannot_check(c, "%s: %s", child_path, strerror(errno));
		else {
			walk_entry(c, child, &st);
			if (S_ISDIR(st.st_mode) && depth < WALK_DEPTH_MAX)
				walk(c, child, depth + 1, entries);
		}
		g_free(child_path);
		g_free(child);
	}
	g_dir_close(dir);
	g_free(path);
}

static void
check_modes(checker *c)
{
	struct stat st;
	unsigned entries = 0;

	if (lstat(c->root, &st) != 0) {
		finding(c, c->root, "no store there: make it with "
		    "mailseal-init, or give --store");
		return;
	}
	if (!S_ISDIR(st.st_mode)) {
		finding(c, c->root, "the store is not a directory");
		return;
	}
	c->owner = st.st_uid;
	c->owner_known = true;
	walk_entry(c, "", &st);
	walk(c, "", 0, &entries);
}

/* ---- settings files ---- */

typedef struct settings_where {
	checker *c;
	const char *name;
} settings_where;

static void
settings_report(void *arg, size_t line, const char *problem)
{
	settings_where *w = arg;
	char *where = line > 0 ? g_strdup_printf("%s:%zu", w->name, line) :
	    g_strdup(w->name);

	finding(w->c, where, "%s", problem);
	g_free(where);
}

/* check_settings_file - every problem of one settings file */
static void
check_settings_file(checker *c, const char *subdir, const char *file,
    settings_level level)
{
	char *shown = g_strdup_printf("%s/%s", subdir, file);
	settings_where w = { c, shown };
	GByteArray *data;
	ms_err err;

	err = store_read(c->store, subdir, file, LIMIT_SETTINGS_FILE, &data);
	if (err == MS_DATA) {
		finding(c, shown, "larger than %zu octets: the file is not "
		    "read and mail defers", (size_t)LIMIT_SETTINGS_FILE);
		c->settings_clean = false;
	} else if (err == MS_OK) {
		if (settings_check_text(shown, level,
		    (const char *)data->data, data->len, settings_report,
		    &w) > 0)
			c->settings_clean = false;
		g_byte_array_free(data, TRUE);
	} else if (err != MS_NOTFOUND)
		cannot_check(c, "%s: %s", shown, ms_err_name(err));
	g_free(shown);
}

/* canonical_name - the name under which the loader looks for the file
 * that name means, or NULL when it never reads such a file; *level is
 * the level of that file */
static char *
canonical_name(const char *subdir, const char *name, settings_level *level,
    const char **why)
{
	size_t len = strlen(name);
	char *stem, *canonical = NULL;

	*why = "the name is not NAME.conf";
	if (len <= 5 || strcmp(name + len - 5, ".conf") != 0)
		return NULL;
	stem = g_strndup(name, len - 5);
	if (strcmp(subdir, "settings/user") == 0) {
		ms_addr addr;

		*level = SETTINGS_USER;
		if (addr_parse_str(stem, &addr, why) == MS_OK) {
			if (addr_is_filename_safe(addr.key))
				canonical = g_strdup_printf("%s.conf",
				    addr.key);
			else
				*why = "the address cannot be a file name";
			addr_clear(&addr);
		}
	} else {
		bool wildcard = g_str_has_prefix(stem, "*.");
		const char *domain = wildcard ? stem + 2 : stem;
		char *normal = addr_domain_normalize(domain, strlen(domain),
		    why);

		*level = wildcard ? SETTINGS_WILDCARD : SETTINGS_DOMAIN;
		if (normal != NULL)
			canonical = g_strdup_printf("%s%s.conf",
			    wildcard ? "*." : "", normal);
		g_free(normal);
	}
	g_free(stem);
	return canonical;
}

/* check_settings_dir - every file of settings/domain or settings/user:
 * its name is the one the loader reads, and its content */
static void
check_settings_dir(checker *c, const char *subdir)
{
	GPtrArray *names = NULL;

	if (store_list(c->store, subdir, &names) != MS_OK) {
		cannot_check(c, "cannot list %s", subdir);
		return;
	}
	for (guint i = 0; i < names->len; i++) {
		const char *name = g_ptr_array_index(names, i);
		char *shown = g_strdup_printf("%s/%s", subdir, name);
		settings_level level = SETTINGS_DOMAIN;
		const char *why = NULL;
		char *canonical = canonical_name(subdir, name, &level, &why);

		if (canonical == NULL)
			finding(c, shown, "never read (%s): rename or remove "
			    "it", why);
		else if (strcmp(canonical, name) != 0)
			finding(c, shown, "never read: the file for it is "
			    "%s/%s (lower case, as mailseal-settings(5) says); "
			    "rename it", subdir, canonical);
		else
			check_settings_file(c, subdir, name, level);
		g_free(canonical);
		g_free(shown);
	}
	g_ptr_array_free(names, TRUE);
}

static void
check_settings(checker *c)
{
	GPtrArray *names = NULL;

	if (c->store == NULL)
		return;
	c->settings_clean = true;
	check_settings_file(c, "settings", "global.conf", SETTINGS_GLOBAL);
	if (store_list(c->store, "settings", &names) == MS_OK) {
		for (guint i = 0; i < names->len; i++) {
			const char *name = g_ptr_array_index(names, i);
			char *shown = g_strdup_printf("settings/%s", name);

			if (strcmp(name, "global.conf") != 0)
				finding(c, shown, "never read: settings are "
				    "global.conf, domain/DOMAIN.conf and "
				    "user/ADDRESS.conf; move or remove it");
			g_free(shown);
		}
		g_ptr_array_free(names, TRUE);
	}
	check_settings_dir(c, "settings/domain");
	check_settings_dir(c, "settings/user");
	if (c->settings_clean &&
	    settings_load(c->store, NULL, &c->global) != MS_OK) {
		c->settings_clean = false;
		cannot_check(c, "the global settings do not load");
	}
}

/* ---- secrets the settings need ---- */

typedef struct secret_need {
	const char *key;	/* the setting that needs the secret */
	const char *value;	/* when it has this value; NULL: any but "" */
	const char *subdir, *file;	/* the secret, in the store */
	long long min_size, max_size;
	const char *make;	/* how to make it */
} secret_need;

static const secret_need secret_needs[] = {
	{ "pdf-password-mode", "random-to-sender", "pdf", "random.key",
	  PDFPASS_KEY_MIN, PDFPASS_PRIVATE_FILE_MAX,
	  "mailseal-init makes a missing one; or by hand: head -c 32 "
	  "/dev/urandom > pdf/random.key; chmod 600 pdf/random.key" },
	{ "pdf-reply-url", NULL, "pdf", "reply.key", REPLY_KEY_LEN,
	  REPLY_KEY_LEN,
	  "mailseal-init makes a missing one; or by hand: head -c 32 "
	  "/dev/urandom > pdf/reply.key; chmod 600 pdf/reply.key" },
};

/* pdf_method - the settings let the pdf method serve recipients */
static bool
pdf_method(const ms_settings *settings)
{
	char **methods = settings_get_list(settings, "methods");
	bool found = g_strv_contains((const char *const *)methods, "pdf");

	g_strfreev(methods);
	return found;
}

/* check_private_file - a secret the programs read: there, ours, 0600 */
static void
check_private_file(checker *c, const char *shown, const char *path,
    long long min_size, long long max_size, const char *needed_by,
    const char *make)
{
	struct stat st;

	if (lstat(path, &st) != 0) {
		if (errno == ENOENT)
			finding(c, shown, "missing, and %s needs it: %s",
			    needed_by, make);
		else
			cannot_check(c, "%s: %s", path, strerror(errno));
		return;
	}
	if (!S_ISREG(st.st_mode))
		finding(c, shown, "not a regular file, and %s needs one: %s",
		    needed_by, make);
	else if (st.st_size < min_size || st.st_size > max_size)
		finding(c, shown, "holds %lld octets, %s needs %lld%s: %s",
		    (long long)st.st_size, needed_by, min_size,
		    max_size > min_size ? " or more" : "", make);
	else if ((st.st_mode & 077) != 0 ||
	    (c->owner_known && st.st_uid != c->owner))
		finding(c, shown, "must belong to the store's owner with mode "
		    "0600: chown and chmod 600 it");
}

/* check_secrets_of - the secrets one file's effective settings need */
static void
check_secrets_of(checker *c, const ms_settings *s, const char *file,
    const char *user_key, const char *user_domain)
{
	const char *mode = settings_get(s, "pdf-password-mode");

	if (!pdf_method(s))
		return;
	for (size_t i = 0; i < G_N_ELEMENTS(secret_needs); i++) {
		const secret_need *n = &secret_needs[i];
		const char *value = settings_get(s, n->key);
		char *shown, *path, *needed_by;

		if (n->value != NULL ? strcmp(value, n->value) != 0 :
		    *value == '\0')
			continue;
		shown = g_strdup_printf("%s/%s", n->subdir, n->file);
		path = store_path(c->store, n->subdir, n->file);
		needed_by = g_strdup_printf("%s (%s, %s)", n->key,
		    n->value != NULL ? n->value : "set", file);
		check_private_file(c, shown, path, n->min_size, n->max_size,
		    needed_by, n->make);
		g_free(needed_by);
		g_free(path);
		g_free(shown);
	}
	if (strcmp(mode, "static") == 0 && user_key != NULL) {
		char *for_user = store_hash_name(user_key);
		char *for_domain = store_hash_name(user_domain);

		if (!store_exists(c->store, "pdf/static", for_user) &&
		    !store_exists(c->store, "pdf/static", for_domain))
			finding(c, file, "pdf-password-mode static, but "
			    "pdf/static/ holds no password for the address "
			    "or its domain: set one with pdfwrap's static "
			    "password file (pdfwrap(1))");
		g_free(for_user);
		g_free(for_domain);
	}
	if (strcmp(mode, "sms") == 0) {
		const char *credentials = settings_get(s,
		    "sms-credentials-file");

		if (*credentials == '\0')
			finding(c, file, "pdf-password-mode sms, but "
			    "sms-credentials-file is not set in global.conf: "
			    "set it to the SMS gateway file (sms-send(1))");
		else
			check_private_file(c, credentials, credentials, 1,
			    PDFPASS_PRIVATE_FILE_MAX, "pdf-password-mode sms",
			    "write the SMS gateway file (sms-send(1))");
	}
}

/* check_secrets_file - the secrets of one domain or user file's
 * effective settings; only a file the loader reads (the others are
 * findings already), and a wildcard file as a subdomain it covers sees
 * it */
static void
check_secrets_file(checker *c, const char *subdir, const char *name)
{
	settings_level level = SETTINGS_DOMAIN;
	const char *why = NULL;
	char *canonical = canonical_name(subdir, name, &level, &why);
	char *shown, *stem;
	ms_settings *s = NULL;
	ms_addr addr;

	if (canonical == NULL || strcmp(canonical, name) != 0) {
		g_free(canonical);
		return;
	}
	/* a canonical name ends in ".conf" */
	shown = g_strdup_printf("%s/%s", subdir, name);
	stem = g_strndup(name, strlen(name) - 5);
	if (level == SETTINGS_USER) {
		if (addr_parse_str(stem, &addr, &why) == MS_OK) {
			if (settings_load(c->store, &addr, &s) == MS_OK)
				check_secrets_of(c, s, shown, addr.key,
				    addr.domain);
			addr_clear(&addr);
		}
	} else {
		char *domain = level == SETTINGS_WILDCARD ?
		    g_strdup_printf("a%s", stem + 1) : g_strdup(stem);

		if (settings_load_domain(c->store, domain, &s) == MS_OK)
			check_secrets_of(c, s, shown, NULL, NULL);
		g_free(domain);
	}
	settings_free(s);
	g_free(stem);
	g_free(shown);
	g_free(canonical);
}

static void
check_secrets(checker *c)
{
	static const char *const subdirs[] = { "settings/domain",
	    "settings/user" };

	if (c->store == NULL || !c->settings_clean)
		return;
	check_secrets_of(c, c->global, "settings/global.conf", NULL, NULL);
	for (size_t d = 0; d < G_N_ELEMENTS(subdirs); d++) {
		GPtrArray *names = NULL;

		if (store_list(c->store, subdirs[d], &names) != MS_OK)
			continue;
		for (guint i = 0; i < names->len; i++)
			check_secrets_file(c, subdirs[d],
			    g_ptr_array_index(names, i));
		g_ptr_array_free(names, TRUE);
	}
}

/* ---- the index ---- */

typedef struct index_kind {
	const char *dir;	/* index/NAME, and NAME is the record type */
	const char *target;	/* where each fingerprint's file must be */
	const char *suffix;
} index_kind;

static const index_kind index_kinds[] = {
	{ "index/addr", "certs", ".pem" },
	{ "index/subject", "certs", ".pem" },
	{ "index/root", "roots", ".pem" },
	{ "index/keyid", "keys", ".key" },
};

/* index_target_exists - the file an index entry names; addr and subject
 * entries may name a root as well */
static bool
index_target_exists(checker *c, const index_kind *k, const char *fpr)
{
	char *file = g_strdup_printf("%s%s", fpr, k->suffix);
	bool found = store_exists(c->store, k->target, file) ||
	    (strcmp(k->target, "certs") == 0 &&
	    store_exists(c->store, "roots", file));

	g_free(file);
	return found;
}

static void
check_index_file(checker *c, const index_kind *k, const char *name)
{
	char *shown = g_strdup_printf("%s/%s", k->dir, name);
	GByteArray *body = NULL;
	char **lines;
	ms_err err;

	err = store_record_read(c->store, k->dir, name,
	    strrchr(k->dir, '/') + 1, LIMIT_STORE_OBJECT, &body);
	if (err != MS_OK) {
		if (err != MS_NOTFOUND)
			finding(c, shown, "damaged: remove it and import the "
			    "certificates again (certstore import)");
		g_free(shown);
		return;
	}
	g_byte_array_append(body, (const guint8 *)"", 1);
	lines = g_strsplit((const char *)body->data, "\n", -1);
	for (int i = 0; lines[i] != NULL; i++) {
		if (!cert_fingerprint_ok(lines[i]) ||
		    index_target_exists(c, k, lines[i]))
			continue;
		finding(c, shown, "names %s, but %s/%s%s is missing (a partial "
		    "restore?): restore the file, or certstore remove %s",
		    lines[i], k->target, lines[i], k->suffix, lines[i]);
	}
	g_strfreev(lines);
	g_byte_array_free(body, TRUE);
	g_free(shown);
}

static void
check_index(checker *c)
{
	if (c->store == NULL)
		return;
	for (size_t k = 0; k < G_N_ELEMENTS(index_kinds); k++) {
		GPtrArray *names = NULL;

		if (store_list(c->store, index_kinds[k].dir, &names) !=
		    MS_OK) {
			cannot_check(c, "cannot list %s", index_kinds[k].dir);
			continue;
		}
		for (guint i = 0; i < names->len; i++)
			check_index_file(c, &index_kinds[k],
			    g_ptr_array_index(names, i));
		g_ptr_array_free(names, TRUE);
	}
}

/* ---- CRLs and expiry ---- */

/* days_left - whole days from now to t (negative: past) */
static long
days_left(checker *c, const ASN1_TIME *t)
{
	int days = 0, seconds = 0;
	ASN1_TIME *now = ASN1_TIME_set(NULL, c->now);

	if (now == NULL || !ASN1_TIME_diff(&days, &seconds, now, t))
		days = 0;
	ASN1_TIME_free(now);
	if (days == 0 && seconds < 0)
		return -1;
	return days;
}

static void
check_crls(checker *c)
{
	GPtrArray *names = NULL;

	if (c->store == NULL)
		return;
	if (store_list(c->store, "crls", &names) != MS_OK) {
		cannot_check(c, "cannot list crls");
		return;
	}
	for (guint i = 0; i < names->len; i++) {
		const char *name = g_ptr_array_index(names, i);
		char *shown = g_strdup_printf("crls/%s", name);
		GByteArray *data = NULL;
		X509_CRL *crl = NULL;
		BIO *bio;

		if (store_read(c->store, "crls", name, LIMIT_STORE_OBJECT * 64,
		    &data) == MS_OK) {
			bio = BIO_new_mem_buf(data->data, (int)data->len);
			crl = bio ? PEM_read_bio_X509_CRL(bio, NULL, NULL,
			    NULL) : NULL;
			BIO_free(bio);
			g_byte_array_free(data, TRUE);
		}
		if (crl == NULL)
			finding(c, shown, "not a readable CRL: remove it and "
			    "run crl-sync");
		else if (X509_CRL_get0_nextUpdate(crl) != NULL &&
		    days_left(c, X509_CRL_get0_nextUpdate(crl)) < 0) {
			char *issuer = cert_name_text(
			    X509_CRL_get_issuer(crl));

			finding(c, shown, "the CRL of %s is past its next "
			    "update: run crl-sync, and check that its timer "
			    "or cron job runs", issuer);
			g_free(issuer);
		}
		X509_CRL_free(crl);
		g_free(shown);
	}
	g_ptr_array_free(names, TRUE);
}

/* check_expiry_of - certificates of certs/ with a key, or of roots/ */
static void
check_expiry_of(checker *c, bool roots)
{
	GPtrArray *fprs = NULL;

	if (certdb_list(c->store, roots, &fprs) != MS_OK) {
		cannot_check(c, "cannot list %s", roots ? "roots" : "certs");
		return;
	}
	for (guint i = 0; i < fprs->len; i++) {
		const char *fpr = g_ptr_array_index(fprs, i);
		char *shown = g_strdup_printf("%s/%s.pem", roots ? "roots" :
		    "certs", fpr);
		X509 *cert = NULL;
		long days;

		if (!roots && !certdb_has_key(c->store, fpr)) {
			g_free(shown);
			continue;
		}
		if (certdb_load(c->store, fpr, NULL, &cert) != MS_OK) {
			finding(c, shown, "cannot be read: import it again");
			g_free(shown);
			continue;
		}
		days = days_left(c, X509_get0_notAfter(cert));
		if (days < 0)
			finding(c, shown, "%s has expired: %s",
			    roots ? "this root" : "this certificate with a "
			    "private key", roots ? "import its successor "
			    "(certstore import --roots)" : "issue or import a "
			    "new one (smime-ca, certstore import)");
		else if (days < EXPIRY_WARNING_DAYS)
			finding(c, shown, "%s expires in %ld days: %s",
			    roots ? "this root" : "this certificate with a "
			    "private key", days, roots ? "import its "
			    "successor (certstore import --roots)" : "issue "
			    "or import a new one (smime-ca, certstore import)");
		X509_free(cert);
		g_free(shown);
	}
	g_ptr_array_free(fprs, TRUE);
}

static void
check_expiry(checker *c)
{
	if (c->store == NULL)
		return;
	check_expiry_of(c, false);
	check_expiry_of(c, true);
}

/* key_days_left - whole days until a subkey's expiry, or LONG_MAX when
 * it never expires */
static long
key_days_left(const checker *c, gpgme_subkey_t sub)
{
	if (sub->expires <= 0)
		return LONG_MAX;
	if ((time_t)sub->expires < c->now)
		return -1;
	return (long)(((time_t)sub->expires - c->now) / 86400);
}

/* check_pgp_keys - our OpenPGP keys (those with a secret part in the
 * store's keyring) that end within the warning days: the soonest of the
 * primary key and its usable subkeys */
static void
check_pgp_keys(checker *c)
{
	char *home = store_path(c->store, "gnupg", NULL);
	bool present = g_file_test(home, G_FILE_TEST_IS_DIR);
	gpgme_ctx_t ctx = NULL;
	gpgme_key_t key;
	gpgme_error_t gerr;

	g_free(home);
	if (!present)
		return;
	if (pgp_open(c->store, false, NULL, &ctx) != MS_OK) {
		cannot_check(c, "the OpenPGP keyring does not open");
		return;
	}
	gerr = gpgme_op_keylist_start(ctx, NULL, 1);
	while (gerr == 0 && (gerr = gpgme_op_keylist_next(ctx, &key)) == 0) {
		long soonest = LONG_MAX;
		char *where;

		for (gpgme_subkey_t sub = key->subkeys; sub != NULL;
		    sub = sub->next)
			if (!sub->revoked && key_days_left(c, sub) < soonest)
				soonest = key_days_left(c, sub);
		where = g_strdup_printf("gnupg key %s",
		    key->subkeys != NULL && key->subkeys->fpr != NULL ?
		    key->subkeys->fpr : "?");
		if (!key->revoked && soonest < 0)
			finding(c, where, "this key of ours has expired: extend "
			    "it (gpg --quick-set-expire) or make a new one "
			    "(pgp-keys generate)");
		else if (!key->revoked && soonest < EXPIRY_WARNING_DAYS)
			finding(c, where, "this key of ours expires in %ld "
			    "days: extend it (gpg --quick-set-expire) or make "
			    "a new one (pgp-keys generate)", soonest);
		g_free(where);
		gpgme_key_unref(key);
	}
	if (gpg_err_code(gerr) != GPG_ERR_EOF)
		cannot_check(c, "listing the OpenPGP keys: %s",
		    gpgme_strerror(gerr));
	gpgme_op_keylist_end(ctx);
	pgp_close(ctx);
}

/* ---- Postfix, as postconf prints it ---- */

/* param - a parameter as service s sees it (NULL: unknown) */
static const char *
param(const checker *c, const service *s, const char *name)
{
	return postconf_param(c->postfix, s, name);
}

/* main_param - a main.cf parameter, "" when unknown */
static const char *
main_param(const checker *c, const char *name)
{
	const char *value = postconf_param(c->postfix, NULL, name);

	return value != NULL ? value : "";
}

/* pipe_argv - where argv= starts in a pipe service's command, or NULL */
static char **
pipe_argv(const service *s)
{
	if (s->command[0] == NULL || strcmp(s->command[0], "pipe") != 0)
		return NULL;
	for (int i = 1; s->command[i] != NULL; i++)
		if (g_str_has_prefix(s->command[i], "argv="))
			return &s->command[i];
	return NULL;
}

/* filter_direction - which way a pipe service runs mailseal-filter */
static direction
filter_direction(const service *s)
{
	char **argv = pipe_argv(s);
	char *base;
	direction d = DIRECTION_NONE;

	if (argv == NULL)
		return DIRECTION_NONE;
	base = g_path_get_basename(*argv + 5);
	if (strcmp(base, "mailseal-filter") == 0) {
		d = DIRECTION_OUTGOING;
		for (int i = 1; argv[i] != NULL; i++)
			if (strcmp(argv[i], "--incoming") == 0)
				d = DIRECTION_INCOMING;
	}
	g_free(base);
	return d;
}

/* content_filter_direction - the direction of the filter a listener's
 * content_filter names */
static direction
content_filter_direction(const checker *c, const service *s)
{
	const char *value = param(c, s, "content_filter");
	char *name;
	const service *pipe;

	if (value == NULL || *value == '\0')
		return DIRECTION_NONE;
	name = g_strndup(value, strcspn(value, ":"));
	pipe = postconf_find(c->postfix, name, "unix");
	g_free(name);
	if (pipe == NULL)
		return DIRECTION_NONE;
	return filter_direction(pipe);
}

static bool
is_smtpd_listener(const service *s)
{
	return (strcmp(s->type, "inet") == 0 || strcmp(s->type, "pass") == 0)
	    && s->command[0] != NULL && strcmp(s->command[0], "smtpd") == 0;
}

/* loopback_host - a host part that only this machine reaches */
static bool
loopback_host(const char *host)
{
	return g_str_has_prefix(host, "127.") || strcmp(host, "[::1]") == 0 ||
	    strcmp(host, "::1") == 0 || strcmp(host, "localhost") == 0;
}

/* listener_loopback - an inet listener that only this machine reaches:
 * its address, else inet_interfaces */
static bool
listener_loopback(const checker *c, const service *s)
{
	const char *colon = strrchr(s->name, ':');
	char **interfaces;
	bool all = true;

	if (strcmp(s->type, "inet") != 0)
		return false;
	if (colon != NULL) {
		char *host = g_strndup(s->name, (gsize)(colon - s->name));
		bool loop = loopback_host(host);

		g_free(host);
		return loop;
	}
	interfaces = postconf_words(main_param(c, "inet_interfaces"));
	for (int i = 0; interfaces[i] != NULL; i++)
		if (strcmp(interfaces[i], "loopback-only") != 0 &&
		    !loopback_host(interfaces[i]))
			all = false;
	if (interfaces[0] == NULL)
		all = false;
	g_strfreev(interfaces);
	return all;
}

/* gate - what a listener's restrictions let in: a list that ends in
 * "reject" and permits only through these is a gate */
typedef enum gate_kind {
	GATE_OPEN = 0,
	GATE_NETWORKS = 1 << 0,		/* permit_mynetworks */
	GATE_LOGIN = 1 << 1		/* permit_sasl_authenticated */
} gate_kind;

static const char *const restriction_lists[] = {
	"smtpd_client_restrictions", "smtpd_helo_restrictions",
	"smtpd_sender_restrictions", "smtpd_relay_restrictions",
	"smtpd_recipient_restrictions"
};

static unsigned
listener_gate(const checker *c, const service *s)
{
	unsigned best = GATE_OPEN;

	for (size_t l = 0; l < G_N_ELEMENTS(restriction_lists); l++) {
		const char *value = param(c, s, restriction_lists[l]);
		char **words = postconf_words(value ? value : "");
		unsigned through = GATE_OPEN;
		bool closes = words[0] != NULL;
		int n = 0;

		for (; words[n] != NULL; n++) {
			if (strcmp(words[n], "permit_mynetworks") == 0)
				through |= GATE_NETWORKS;
			else if (strcmp(words[n],
			    "permit_sasl_authenticated") == 0)
				through |= GATE_LOGIN;
			else if (g_str_has_prefix(words[n], "permit"))
				closes = false;
		}
		if (closes && n > 0 && strcmp(words[n - 1], "reject") == 0 &&
		    through != GATE_OPEN && (best == GATE_OPEN ||
		    (through & GATE_LOGIN) == 0))
			best = through;
		g_strfreev(words);
	}
	return best;
}

/* sender_login_checked - a restriction refuses a sender address the
 * login may not use */
static bool
sender_login_checked(const checker *c, const service *s)
{
	const char *maps = param(c, s, "smtpd_sender_login_maps");
	bool found = false;

	for (size_t l = 0; l < G_N_ELEMENTS(restriction_lists); l++) {
		const char *value = param(c, s, restriction_lists[l]);
		char **words = postconf_words(value ? value : "");

		for (int i = 0; words[i] != NULL; i++)
			if (strcmp(words[i], "reject_sender_login_mismatch") ==
			    0 || strcmp(words[i],
			    "reject_authenticated_sender_login_mismatch") == 0)
				found = true;
		g_strfreev(words);
	}
	return found && maps != NULL && *maps != '\0';
}

/* check_listeners - the outgoing filter only where mail comes from
 * inside: a loopback or internal-network listener, or one that needs a
 * login that may use the sender address */
static void
check_listeners(checker *c)
{
	for (size_t i = 0; i < postconf_services(c->postfix); i++) {
		const service *s = postconf_service_at(c->postfix, i);
		char *where;
		unsigned through;

		if (!is_smtpd_listener(s) || content_filter_direction(c, s) != DIRECTION_OUTGOING ||
		    listener_loopback(c, s))
			continue;
		where = g_strdup_printf("master.cf %s/%s", s->name, s->type);
		through = listener_gate(c, s);
		if (through == GATE_OPEN)
			finding(c, where, "the outgoing filter (content_filter="
			    "%s) runs on a listener that receives from the "
			    "Internet: anyone could have mail signed with an "
			    "internal sender's key; run the incoming filter "
			    "here and the outgoing one on submission with a "
			    "login, or on a listener restricted to internal "
			    "networks (permit_mynetworks, reject)",
			    param(c, s, "content_filter"));
		else if ((through & GATE_LOGIN) != 0 &&
		    !sender_login_checked(c, s))
			finding(c, where, "the outgoing filter runs after a "
			    "login, but nothing checks that the login may use "
			    "the sender address: add -o smtpd_sender_"
			    "restrictions=reject_sender_login_mismatch and "
			    "set smtpd_sender_login_maps");
		g_free(where);
	}
}

/* the arguments each filter run needs on the pipe's argv= line: a
 * later argument is one more row */
typedef struct pipe_need {
	const char *option;	/* the word before the macro */
	const char *macro;
	unsigned directions;
	const char *why;
} pipe_need;

static const pipe_need pipe_needs[] = {
	{ "-q", "${queue_id}", DIRECTION_OUTGOING | DIRECTION_INCOMING,
	  "without it a retry sends copies again and the log has no queue "
	  "id" },
	{ "-f", "${sender}", DIRECTION_OUTGOING | DIRECTION_INCOMING,
	  "the envelope sender" },
	{ "--", "${recipient}", DIRECTION_OUTGOING | DIRECTION_INCOMING,
	  "the recipients, after \"--\" so none is read as an option" },
	{ "--client-address", "${client_address}", DIRECTION_OUTGOING,
	  "without it no sender is trusted by its network, and mail is "
	  "not signed" },
	{ "--sasl-username", "${sasl_username}", DIRECTION_OUTGOING,
	  "without it no logged-in sender is trusted, and mail is not "
	  "signed" },
};

/* pipe_user_uid - the uid of the pipe's user= (-1: none or unknown) */
static long
pipe_user_uid(const service *s, char **user)
{
	struct passwd *pw;

	*user = NULL;
	for (int i = 1; s->command[i] != NULL &&
	    !g_str_has_prefix(s->command[i], "argv="); i++)
		if (g_str_has_prefix(s->command[i], "user=")) {
			*user = g_strndup(s->command[i] + 5,
			    strcspn(s->command[i] + 5, ":"));
			pw = getpwnam(*user);
			return pw != NULL ? (long)pw->pw_uid : -1;
		}
	return -1;
}

/* check_pipe - one pipe service that runs mailseal-filter */
static void
check_pipe(checker *c, const service *s, direction d)
{
	char **argv = pipe_argv(s);
	char *where = g_strdup_printf("master.cf %s/%s", s->name, s->type);
	char *name, *user = NULL;
	const char *value;
	unsigned long long seconds;
	long uid;

	if (access(*argv + 5, X_OK) != 0)
		finding(c, where, "argv names %s, which is not an executable "
		    "file: install mailseal there or correct the path",
		    *argv + 5);
	for (size_t n = 0; n < G_N_ELEMENTS(pipe_needs); n++) {
		bool found = false;

		if ((pipe_needs[n].directions & d) == 0)
			continue;
		for (int i = 1; argv[i] != NULL && argv[i + 1] != NULL; i++)
			if (strcmp(argv[i], pipe_needs[n].option) == 0 &&
			    strcmp(argv[i + 1], pipe_needs[n].macro) == 0)
				found = true;
		if (!found)
			finding(c, where, "argv lacks \"%s %s\" (%s): add it",
			    pipe_needs[n].option, pipe_needs[n].macro,
			    pipe_needs[n].why);
	}
	uid = pipe_user_uid(s, &user);
	if (user == NULL)
		finding(c, where, "no user=: run the filter as the store's "
		    "owner (user=mailseal)");
	else if (uid < 0)
		finding(c, where, "user=%s is no user of this system: create "
		    "it or correct the name", user);
	else if (c->owner_known && (uid_t)uid != c->owner)
		finding(c, where, "user=%s is not the store's owner (uid %lu), "
		    "so the filter cannot use the store: chown -R the store "
		    "to %s", user, (unsigned long)c->owner, user);
	g_free(user);

	/* one recipient per run: one exit status per recipient, and no
	 * ciphertext that shows one recipient's keys to another */
	name = g_strdup_printf("%s_destination_recipient_limit", s->name);
	value = main_param(c, name);
	if (strcmp(value, "1") != 0) {
		char *shown = g_strdup_printf("main.cf %s", name);

		finding(c, shown, "is %s: set it to 1 (one recipient per "
		    "filter run, so that no recipient holds back another "
		    "or sees another's key in a shared ciphertext)",
		    *value != '\0' ? value : "unset");
		g_free(shown);
	}
	g_free(name);

	/* REL-2: the filter ends itself before Postfix kills it */
	name = g_strdup_printf("%s_time_limit", s->name);
	value = main_param(c, name);
	if (c->global != NULL && postconf_seconds(value, &seconds) &&
	    seconds <= settings_get_number(c->global, "time-limit")) {
		char *shown = g_strdup_printf("main.cf %s", name);

		finding(c, shown, "is %s, not more than the time-limit "
		    "setting (%s seconds): Postfix would kill a slow run "
		    "and bounce the message; set it above time-limit",
		    value, settings_get(c->global, "time-limit"));
		g_free(shown);
	}
	g_free(name);
	g_free(where);
}

static void
check_pipes(checker *c)
{
	for (size_t i = 0; i < postconf_services(c->postfix); i++) {
		const service *s = postconf_service_at(c->postfix, i);
		direction d = filter_direction(s);

		if (d != DIRECTION_NONE)
			check_pipe(c, s, d);
	}
}

/* reinject_listener - the smtpd service reinject-smtp (HOST:PORT) names */
static const service *
reinject_listener(const checker *c, const char *target)
{
	const char *port = strrchr(target, ':');

	for (size_t i = 0; port != NULL && i < postconf_services(c->postfix);
	    i++) {
		const service *s = postconf_service_at(c->postfix, i);
		const char *colon = strrchr(s->name, ':');

		if (!is_smtpd_listener(s) || strcmp(s->type, "inet") != 0)
			continue;
		if (strcmp(s->name, target) == 0 ||
		    strcmp(s->name, port + 1) == 0 ||
		    (colon != NULL && strcmp(colon, port) == 0))
			return s;
	}
	return NULL;
}

/* loopback_networks - mynetworks holds only loopback networks */
static bool
loopback_networks(const char *value)
{
	char **words = postconf_words(value);
	bool ok = words[0] != NULL;

	for (int i = 0; ok && words[i] != NULL; i++)
		ok = g_str_has_prefix(words[i], "127.") ||
		    g_str_has_prefix(words[i], "[::1]") ||
		    strcmp(words[i], "::1") == 0;
	g_strfreev(words);
	return ok;
}

/* check_reinjection - the way copies go back: a reinjection listener as
 * FILTER_README has it, or pickup without the filter */
static void
check_reinjection(checker *c)
{
	static const char *const overrides_needed[] = {
		"no_address_mappings", "no_header_body_checks", "no_milters",
		"no_unknown_recipient_checks"
	};
	const char *target = c->global != NULL ?
	    settings_get(c->global, "reinject-smtp") : "";
	const service *s;
	char *where, **received;
	GString *missing;

	if (*target == '\0') {
		s = postconf_find(c->postfix, "pickup", "unix");
		if (s != NULL && content_filter_direction(c, s) !=
		    DIRECTION_NONE)
			finding(c, "main.cf content_filter", "is %s, which "
			    "pickup uses too: reinjected copies would be "
			    "filtered again; set content_filter only with -o "
			    "on the listeners", main_param(c,
			    "content_filter"));
		return;
	}
	s = reinject_listener(c, target);
	if (s == NULL) {
		finding(c, "settings/global.conf", "reinject-smtp is %s, but "
		    "master.cf has no smtpd listener there: add the "
		    "reinjection listener (mailseal-filter(1))", target);
		return;
	}
	where = g_strdup_printf("master.cf %s/%s", s->name, s->type);
	if (content_filter_direction(c, s) != DIRECTION_NONE)
		finding(c, where, "the reinjection listener runs the filter "
		    "again (content_filter=%s): add -o content_filter=",
		    param(c, s, "content_filter"));
	if (!listener_loopback(c, s))
		finding(c, where, "the reinjection listener listens beyond "
		    "this machine: bind it to 127.0.0.1");
	if (listener_gate(c, s) != GATE_NETWORKS ||
	    !loopback_networks(param(c, s, "mynetworks") ?
	    param(c, s, "mynetworks") : ""))
		finding(c, where, "the reinjection listener takes mail past "
		    "the filter from more than this machine: add -o smtpd_"
		    "recipient_restrictions=permit_mynetworks,reject -o "
		    "mynetworks=127.0.0.0/8");
	received = postconf_words(param(c, s, "receive_override_options") ?
	    param(c, s, "receive_override_options") : "");
	missing = g_string_new(NULL);
	for (size_t i = 0; i < G_N_ELEMENTS(overrides_needed); i++)
		if (!g_strv_contains((const char *const *)received,
		    overrides_needed[i]))
			g_string_append_printf(missing, "%s%s",
			    missing->len > 0 ? "," : "", overrides_needed[i]);
	if (missing->len > 0)
		finding(c, where, "receive_override_options lacks %s (else "
		    "copies are expanded, checked or changed a second "
		    "time): add them", missing->str);
	g_string_free(missing, TRUE);
	g_strfreev(received);
	g_free(where);
}

/* size_param - a size limit as s sees it (0: none) */
static unsigned long long
size_param(const checker *c, const service *s, const char *name)
{
	const char *value = param(c, s, name);
	unsigned long long size = 0;

	if (value == NULL || !parse_decimal(value, ULLONG_MAX, &size))
		size = 0;
	return size;
}

/* check_sizes - a message Postfix takes in is one the filter reads and
 * whose encrypted copies the reinjection path takes back */
static void
check_sizes(checker *c)
{
	unsigned long long filter_limit = c->global != NULL ?
	    settings_get_number(c->global, "limit-message-size") : 0;
	unsigned long long back = size_param(c, NULL, "message_size_limit");
	const char *target = c->global != NULL ?
	    settings_get(c->global, "reinject-smtp") : "";
	const service *reinject = *target != '\0' ?
	    reinject_listener(c, target) : NULL;

	if (reinject != NULL) {
		unsigned long long at = size_param(c, reinject,
		    "message_size_limit");

		if (back == 0 || (at != 0 && at < back))
			back = at;
	}
	for (size_t i = 0; i < postconf_services(c->postfix); i++) {
		const service *s = postconf_service_at(c->postfix, i);
		direction d;
		unsigned long long in, grown;
		char *where;

		if (!is_smtpd_listener(s) || s == reinject)
			continue;
		d = content_filter_direction(c, s);
		if (d == DIRECTION_NONE)
			continue;
		in = size_param(c, s, "message_size_limit");
		where = g_strdup_printf("master.cf %s/%s", s->name, s->type);
		if (in == 0)
			finding(c, where, "message_size_limit is 0 (no limit): "
			    "set one the filter and the reinjection path "
			    "take");
		else if (filter_limit != 0 && in > filter_limit)
			finding(c, where, "takes messages of up to %llu "
			    "octets, the filter only up to %llu "
			    "(limit-message-size), so larger ones bounce "
			    "after they were accepted: lower "
			    "message_size_limit here (-o) or raise "
			    "limit-message-size", in, filter_limit);
		grown = in > (ULLONG_MAX - GROWTH_EXTRA) / GROWTH_PERCENT ?
		    ULLONG_MAX : in * GROWTH_PERCENT / 100 + GROWTH_EXTRA;
		if (in != 0 && d == DIRECTION_OUTGOING && back != 0 &&
		    grown > back)
			finding(c, where, "takes messages of up to %llu "
			    "octets, which grow to about %llu when "
			    "encrypted, but the reinjection path takes only "
			    "%llu: set -o message_size_limit=%llu here",
			    in, grown, back, back > GROWTH_EXTRA ?
			    (back - GROWTH_EXTRA) * 100 / GROWTH_PERCENT : 0);
		g_free(where);
	}
}

/* ---- the two tables ---- */

typedef struct check {
	const char *name;
	void (*run)(checker *c);
} check;

/* after the owners and modes, which need no open store: the checks that
 * read through the store's own code */
static const check store_checks[] = {
	{ "settings files", check_settings },
	{ "secrets the settings need", check_secrets },
	{ "the index", check_index },
	{ "CRLs", check_crls },
	{ "expiry", check_expiry },
	{ "OpenPGP keys' expiry", check_pgp_keys },
};

static const check postfix_checks[] = {
	{ "listeners", check_listeners },
	{ "pipe services", check_pipes },
	{ "reinjection", check_reinjection },
	{ "size limits", check_sizes },
};

int
main(int argc, char **argv)
{
	static const ms_program prog = { usage, options };
	poptContext ctx = ritual_begin(argc, argv, &prog);
	const char **args = poptGetArgs(ctx);
	checker c;
	ms_err err;
	int status;

	if (args != NULL && args[0] != NULL)
		ritual_usage_error("mailseal-check takes no operands");
	if (opt_config_directory != NULL && opt_no_postfix)
		ritual_usage_error("-c and --no-postfix exclude each other");
	memset(&c, 0, sizeof(c));
	c.out = g_string_new(NULL);
	c.seen = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
	c.now = time(NULL);
	c.root = store_locate(ritual_opts.store);
	if (crypto_init() != MS_OK)
		diag_fatal(EXIT_TEMPFAIL, "OpenSSL cannot start");
	check_modes(&c);
	/* the other store checks read through the store's own code, which
	 * refuses a store with bad modes (the findings above say why) */
	if (store_open(c.root, false, &c.store) != MS_OK && c.findings == 0)
		cannot_check(&c, "the store does not open");
	for (size_t i = 0; c.store != NULL &&
	    i < G_N_ELEMENTS(store_checks); i++)
		store_checks[i].run(&c);
	if (!opt_no_postfix &&
	    postconf_read(opt_config_directory, &c.postfix) != MS_OK)
		cannot_check(&c, "postconf cannot read the Postfix "
		    "configuration");
	if (c.postfix != NULL)
		for (size_t i = 0; i < G_N_ELEMENTS(postfix_checks); i++)
			postfix_checks[i].run(&c);
	err = ritual_output(c.out->str, c.out->len);
	status = err != MS_OK || c.incomplete ? EXIT_TEMPFAIL :
	    c.findings > 0 ? EXIT_NOTFOUND : EXIT_DONE;
	postconf_free(c.postfix);
	settings_free(c.global);
	store_close(c.store);
	g_hash_table_destroy(c.seen);
	g_string_free(c.out, TRUE);
	ritual_exit_status(ctx, status);
}
