/*
 * test-settings.c - table-driven tests of common/settings.c: what one
 * settings file may contain at each level (settings_parse_text), and how
 * global -> wildcard -> domain -> user inheritance resolves through
 * settings_load over a scratch store.
 */
#include "settings.h"
#include "mslimits.h"

#include <sys/stat.h>

#include "unit.h"

#define G SETTINGS_GLOBAL
#define W SETTINGS_WILDCARD
#define D SETTINGS_DOMAIN
#define U SETTINGS_USER

typedef struct parse_case {
	settings_level level;
	const char *text;
	size_t len;		/* 0: strlen(text) */
	bool ok;
} parse_case;

static const parse_case parse_cases[] = {
	/* layout: blank lines, comments, whitespace around '=' */
	{ G, "", 0, true },
	{ G, "\n\n\n", 0, true },
	{ G, "   \n\t\n", 0, true },
	{ G, "# a comment\n", 0, true },
	{ G, "   # an indented comment\n", 0, true },
	{ G, "# caf\xc3\xa9 is UTF-8\n", 0, true },
	{ G, "encrypt-mode = none\n", 0, true },
	{ G, "encrypt-mode=none", 0, true },
	{ G, "  encrypt-mode   =   mandatory  \n", 0, true },
	{ G, "encrypt-mode\t=\tallow\n", 0, true },
	{ G, "encrypt-mode = none\r\n", 0, true },
	{ G, "# head\n\nencrypt-mode = none\n\n# tail\n", 0, true },
	{ G, "encrypt-mode = none\nsign = pgp\nmethods = smime\n"
	     "syslog = no\n", 0, true },
	/* refused: no '=', empty key, unknown or miscased key */
	{ G, "encrypt-mode none\n", 0, false },
	{ G, "encrypt-mode\n", 0, false },
	{ G, "= none\n", 0, false },
	{ G, "unknown-key = 1\n", 0, false },
	{ G, "Encrypt-Mode = none\n", 0, false },
	{ G, "encrypt mode = none\n", 0, false },
	{ G, "[global]\n", 0, false },
	{ G, "; comment\n", 0, false },
	/* refused: a key set twice, even to the same value */
	{ G, "encrypt-mode = none\nencrypt-mode = allow\n", 0, false },
	{ G, "encrypt-mode = none\nencrypt-mode = none\n", 0, false },
	{ G, "encrypt-mode = none\n  encrypt-mode=none\n", 0, false },
	/* enums: one allowed word, case-sensitive */
	{ G, "encrypt-mode = allow\n", 0, true },
	{ G, "encrypt-mode = None\n", 0, false },
	{ G, "encrypt-mode = maybe\n", 0, false },
	{ G, "encrypt-mode =\n", 0, false },
	{ G, "encrypt-mode = none allow\n", 0, false },
	{ G, "encrypt-mode = none # trailing comment\n", 0, false },
	{ G, "encrypt-mode = \"none\"\n", 0, false },
	{ G, "encrypt-mode = non\n", 0, false },
	{ G, "encrypt-mode = nonee\n", 0, false },
	{ G, "encrypt-mode = n\xc3\xb6ne\n", 0, false },
	{ G, "sign = pgp\n", 0, true },
	{ G, "sign = smime\n", 0, true },
	{ G, "sign = yes\n", 0, false },
	/* lists: words and commas, may be empty, no repeats */
	{ G, "methods = smime pgp\n", 0, true },
	{ G, "methods = smime, pgp\n", 0, true },
	{ G, "methods = smime,pgp,pdf,webmail\n", 0, true },
	{ G, "methods = pdf\t webmail\n", 0, true },
	{ G, "methods =\n", 0, true },
	{ G, "methods = ,\n", 0, true },
	{ G, "methods = smime smime\n", 0, false },
	{ G, "methods = smime, pgp, smime\n", 0, false },
	{ G, "methods = smime,smime\n", 0, false },
	{ G, "methods = smtp\n", 0, false },
	{ G, "methods = SMIME\n", 0, false },
	{ G, "methods = smime;pgp\n", 0, false },
	/* booleans */
	{ G, "syslog = yes\n", 0, true },
	{ G, "syslog = no\n", 0, true },
	{ G, "syslog = true\n", 0, false },
	{ G, "syslog = YES\n", 0, false },
	{ G, "syslog = 1\n", 0, false },
	{ G, "syslog =\n", 0, false },
	/* numbers: decimal, optional K/M/G (also lower case), 1..range */
	{ G, "limit-message-size = 1024\n", 0, true },
	{ G, "limit-message-size = 1K\n", 0, true },
	{ G, "limit-message-size = 10M\n", 0, true },
	{ G, "limit-message-size = 10m\n", 0, true },
	{ G, "limit-message-size = 2G\n", 0, true },
	{ G, "limit-message-size = 007\n", 0, true },
	{ G, "limit-message-size = 18446744073709551615\n", 0, true },
	{ G, "limit-message-size = 17179869183G\n", 0, true },
	{ G, "limit-message-size = 0\n", 0, false },
	{ G, "limit-message-size = 0K\n", 0, false },
	{ G, "limit-message-size = 18446744073709551616\n", 0, false },
	{ G, "limit-message-size = 99999999999999999999999\n", 0, false },
	{ G, "limit-message-size = 17179869184G\n", 0, false },
	{ G, "limit-message-size = 18014398509481984K\n", 0, false },
	{ G, "limit-message-size = 1T\n", 0, false },
	{ G, "limit-message-size = 1KB\n", 0, false },
	{ G, "limit-message-size = 1 K\n", 0, false },
	{ G, "limit-message-size = K\n", 0, false },
	{ G, "limit-message-size = -1\n", 0, false },
	{ G, "limit-message-size = +1\n", 0, false },
	{ G, "limit-message-size = 1.5M\n", 0, false },
	{ G, "limit-message-size = 0x10\n", 0, false },
	{ G, "limit-message-size =\n", 0, false },
	{ G, "limit-message-size = ten\n", 0, false },
	{ G, "limit-header-section = 100K\n", 0, true },
	{ G, "limit-header-field = 64K\n", 0, true },
	{ G, "limit-mime-parts = 10000\n", 0, true },
	{ G, "limit-mime-depth = 4294967295\n", 0, true },
	{ G, "limit-mime-depth = 4294967296\n", 0, false },
	{ G, "limit-mime-depth = 4294967297\n", 0, false },
	{ G, "limit-mime-depth = 4G\n", 0, false },
	{ G, "limit-mime-parts = 4194304K\n", 0, false },
	/* bytes: NUL anywhere, invalid UTF-8 anywhere (comments too) */
	{ G, "encrypt-mode = none\0\n", 21, false },
	{ G, "\0", 1, false },
	{ G, "# \0 in a comment\n", 17, false },
	{ G, "# caf\xe9\n", 0, false },
	{ G, "encrypt-mode = none\n# \xc3\x28\n", 0, false },
	{ G, "encrypt-mode = \xff\n", 0, false },
	{ G, "# overlong \xc0\xaf\n", 0, false },
	/* levels: limits and syslog only in global.conf */
	{ W, "encrypt-mode = mandatory\nmethods = smime\nsign = smime\n", 0,
	  true },
	{ D, "encrypt-mode = mandatory\nmethods = pgp\nsign = pgp\n", 0,
	  true },
	{ U, "encrypt-mode = mandatory\nmethods = pdf\nsign = none\n", 0,
	  true },
	{ U, "limit-message-size = 1M\n", 0, false },
	{ D, "limit-message-size = 1M\n", 0, false },
	{ W, "limit-mime-depth = 8\n", 0, false },
	{ U, "limit-mime-parts = 8\n", 0, false },
	{ D, "limit-header-field = 1K\n", 0, false },
	{ U, "limit-header-section = 1K\n", 0, false },
	{ D, "syslog = no\n", 0, false },
	{ U, "syslog = no\n", 0, false },
	{ U, "unknown = x\n", 0, false },
	{ U, "encrypt-mode = none\nencrypt-mode = none\n", 0, false },
	/* smime-domain-cert: 64 lowercase hex or empty, domain levels */
	{ D, "smime-domain-cert = "
	     "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef\n",
	  0, true },
	{ W, "smime-domain-cert =\n", 0, true },
	{ D, "smime-domain-cert = "
	     "0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF\n",
	  0, false },
	{ D, "smime-domain-cert = "
	     "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcde\n",
	  0, false },
	{ D, "smime-domain-cert = "
	     "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdeg\n",
	  0, false },
	{ G, "smime-domain-cert =\n", 0, false },
	{ U, "smime-domain-cert =\n", 0, false },
	/* triggers: global only; a field name, optionally ": value" */
	{ G, "encrypt-trigger-subject = [secure]\n", 0, true },
	{ G, "encrypt-trigger-subject =\n", 0, true },
	{ G, "encrypt-trigger-subject = a\x01b\n", 0, false },
	{ D, "encrypt-trigger-subject = [secure]\n", 0, false },
	{ U, "encrypt-trigger-subject = [secure]\n", 0, false },
	{ G, "encrypt-trigger-header = X-Encrypt\n", 0, true },
	{ G, "encrypt-trigger-header = X-Encrypt: yes\n", 0, true },
	{ G, "encrypt-trigger-header = X-Encrypt:\n", 0, true },
	{ G, "encrypt-trigger-header =\n", 0, true },
	{ G, "encrypt-trigger-header = X Encrypt\n", 0, false },
	{ G, "encrypt-trigger-header = : yes\n", 0, false },
	{ G, "encrypt-trigger-header = X-Encr\xc3\xbf\n", 0, false },
	{ G, "encrypt-trigger-header = X-Encrypt: a\x7f\n", 0, false },
	{ D, "encrypt-trigger-header = X-Encrypt\n", 0, false },
	/* pdf-password-mode and webmail-url: all levels */
	{ U, "pdf-password-mode = random-to-sender\n", 0, true },
	{ D, "pdf-password-mode = otp\n", 0, true },
	{ G, "pdf-password-mode = none\n", 0, true },
	{ G, "pdf-password-mode = random\n", 0, false },
	{ U, "webmail-url = https://portal.example.org/mail\n", 0, true },
	{ G, "webmail-url =\n", 0, true },
	{ D, "webmail-url = HTTPS://portal.example.org\n", 0, true },
	{ G, "webmail-url = http://portal.example.org\n", 0, false },
	{ G, "webmail-url = https://\n", 0, false },
	{ G, "webmail-url = https://portal example.org\n", 0, false },
	{ G, "webmail-url = portal.example.org\n", 0, false },
	/* the reply link: all levels, expiry up to 366 days */
	{ D, "pdf-reply-url = https://reply.example.org\n", 0, true },
	{ U, "pdf-reply-url = http://reply.example.org\n", 0, false },
	{ U, "pdf-reply-expiry = 7d\n", 0, false },
	{ U, "pdf-reply-expiry = 604800\n", 0, true },
	{ G, "pdf-reply-expiry = 31622400\n", 0, true },
	{ G, "pdf-reply-expiry = 31622401\n", 0, false },
	{ G, "pdf-reply-expiry = 0\n", 0, false },
	{ U, "pdf-attach-original = yes\n", 0, true },
	{ D, "pdf-attach-original = maybe\n", 0, false },
};

static const char *const level_name[] = { "global", "wildcard", "domain",
	"user" };

static void
check_parse_table(void)
{
	for (size_t i = 0; i < G_N_ELEMENTS(parse_cases); i++) {
		const parse_case *c = &parse_cases[i];
		size_t len = c->len ? c->len : strlen(c->text);
		ms_settings *s = settings_new_defaults();
		ms_err with, without;

		/* with and without a settings object the verdict is the
		 * same (the fuzz target and the loader use both) */
		without = settings_parse_text(NULL, "case.conf", c->level,
		    c->text, len);
		with = settings_parse_text(s, "case.conf", c->level, c->text,
		    len);
		unit_check(with == without &&
		    with == (c->ok ? MS_OK : MS_CONFIG),
		    "settings_parse_text %s %s is %s", level_name[c->level],
		    unit_show_len(c->text, len),
		    c->ok ? "accepted" : "refused");
		settings_free(s);
	}
}

/* check_line_limit - LIMIT_KV_LINE octets per line, not one more
 * (the newline not counted) */
static void
check_line_limit(void)
{
	size_t n = LIMIT_KV_LINE;
	char *line = g_malloc(n + 2);

	memset(line, ' ', n + 2);
	line[0] = '#';
	line[n] = '\n';
	unit_check(settings_parse_text(NULL, "long.conf", G, line, n + 1) ==
	    MS_OK, "a %zu-octet line is accepted", n);
	line[n] = ' ';
	line[n + 1] = '\n';
	unit_check(settings_parse_text(NULL, "long.conf", G, line, n + 2) ==
	    MS_CONFIG, "a %zu-octet line is refused", n + 1);
	unit_check(settings_parse_text(NULL, "long.conf", G, line, n + 1) ==
	    MS_CONFIG, "a %zu-octet last line without newline is refused",
	    n + 1);
	g_free(line);
}

/* check_values - what a parsed file puts into the settings */
static void
check_values(void)
{
	ms_settings *s = settings_new_defaults();
	static const char text[] =
	    "# test\n"
	    "encrypt-mode = none\n"
	    "methods = pdf, smime\n"
	    "\n"
	    "limit-message-size = 10M\n"
	    "limit-mime-depth = 7\n";
	char **list;
	ms_err err;

	unit_check(strcmp(settings_get(s, "encrypt-mode"), "allow") == 0 &&
	    strcmp(settings_origin(s, "encrypt-mode"), "default") == 0,
	    "defaults: encrypt-mode = allow from default");
	unit_check(strcmp(settings_get(NULL, "sign"), "none") == 0 &&
	    strcmp(settings_origin(NULL, "sign"), "default") == 0,
	    "defaults with NULL settings");
	err = settings_parse_text(s, "t.conf", G, text, strlen(text));
	unit_check(err == MS_OK, "settings_parse_text applies a file");
	unit_check(strcmp(settings_get(s, "encrypt-mode"), "none") == 0 &&
	    strcmp(settings_origin(s, "encrypt-mode"), "t.conf:2") == 0,
	    "encrypt-mode = none from t.conf:2");
	list = settings_get_list(s, "methods");
	unit_check(g_strv_length(list) == 2 && strcmp(list[0], "pdf") == 0 &&
	    strcmp(list[1], "smime") == 0, "methods list is pdf, smime");
	g_strfreev(list);
	unit_check(settings_get_number(s, "limit-message-size") ==
	    10ULL * 1024 * 1024 &&
	    strcmp(settings_origin(s, "limit-message-size"), "t.conf:5") == 0,
	    "limit-message-size = 10M is 10485760 from t.conf:5");
	unit_check(settings_get_number(s, "limit-mime-depth") == 7,
	    "limit-mime-depth = 7");
	unit_check(settings_get_number(s, "limit-header-field") == 65536 &&
	    settings_get_number(s, "limit-header-section") == 102400 &&
	    settings_get_number(s, "limit-mime-parts") == 1000,
	    "numeric defaults are 64K, 100K, 1000");
	unit_check(settings_get_bool(s, "syslog") &&
	    strcmp(settings_origin(s, "syslog"), "default") == 0,
	    "syslog defaults to yes");
	list = settings_get_list(s, "sign");
	unit_check(g_strv_length(list) == 1 && strcmp(list[0], "none") == 0,
	    "settings_get_list on an enum gives one word");
	g_strfreev(list);
	/* a later file overrides an earlier one, origin follows */
	err = settings_parse_text(s, "u.conf", U, "encrypt-mode = mandatory\n",
	    25);
	unit_check(err == MS_OK &&
	    strcmp(settings_get(s, "encrypt-mode"), "mandatory") == 0 &&
	    strcmp(settings_origin(s, "encrypt-mode"), "u.conf:1") == 0,
	    "a later file overrides: mandatory from u.conf:1");
	/* an empty methods list is a value, not the default */
	err = settings_parse_text(s, "e.conf", D, "methods =\n", 10);
	list = settings_get_list(s, "methods");
	unit_check(err == MS_OK && g_strv_length(list) == 0 &&
	    strcmp(settings_origin(s, "methods"), "e.conf:1") == 0,
	    "methods = (empty) is an empty list from e.conf:1");
	g_strfreev(list);
	settings_free(s);
	settings_free(NULL);
}

/* scratch store for the inheritance tests */
static char *root;
static ms_store *store;

static bool
put(const char *rel, const char *content)
{
	char *path = g_build_filename(root, rel, NULL);
	bool ok = unit_write_file(path, content, strlen(content));

	if (!ok)
		unit_note("cannot write %s", path);
	g_free(path);
	return ok;
}

typedef struct inherit_case {
	const char *address;
	const char *key;	/* setting checked */
	const char *value;	/* its effective value */
	const char *origin;	/* and where it came from */
} inherit_case;

#define GLOBAL_FILE "settings/global.conf"
#define WILD_EXAMPLE "settings/domain/*.example.com.conf"
#define WILD_SUB "settings/domain/*.sub.example.com.conf"
#define WILD_COM "settings/domain/*.com.conf"
#define DOMAIN_EXAMPLE "settings/domain/example.com.conf"
#define DOMAIN_DEPT "settings/domain/dept.example.com.conf"

static const inherit_case inherit_cases[] = {
	/* apex: *.example.com does not apply, *.com does */
	{ "bob@example.com", "encrypt-mode", "none", GLOBAL_FILE ":2" },
	{ "bob@example.com", "sign", "pgp", DOMAIN_EXAMPLE ":1" },
	{ "bob@example.com", "methods", "pgp", WILD_COM ":1" },
	{ "bob@example.com", "syslog", "no", GLOBAL_FILE ":3" },
	{ "bob@Example.COM", "sign", "pgp", DOMAIN_EXAMPLE ":1" },
	/* one level down: the wildcard applies */
	{ "bob@a.example.com", "encrypt-mode", "allow", WILD_EXAMPLE ":1" },
	{ "bob@a.example.com", "methods", "smime", WILD_EXAMPLE ":2" },
	{ "bob@a.example.com", "sign", "smime", GLOBAL_FILE ":4" },
	/* a domain file beats the wildcards above it */
	{ "bob@dept.example.com", "encrypt-mode", "none", DOMAIN_DEPT ":1" },
	{ "bob@dept.example.com", "methods", "smime", WILD_EXAMPLE ":2" },
	/* sub.example.com is the apex of *.sub.example.com */
	{ "bob@sub.example.com", "encrypt-mode", "allow", WILD_EXAMPLE ":1" },
	/* below it, the narrower wildcard wins over the broader */
	{ "bob@x.sub.example.com", "encrypt-mode", "mandatory",
	  WILD_SUB ":1" },
	{ "bob@y.x.sub.example.com", "encrypt-mode", "mandatory",
	  WILD_SUB ":1" },
	{ "bob@x.sub.example.com", "methods", "smime", WILD_EXAMPLE ":2" },
	/* the user file wins; the key is case-folded */
	{ "alice@x.sub.example.com", "encrypt-mode", "none",
	  "settings/user/alice@x.sub.example.com.conf:2" },
	{ "ALICE@X.Sub.Example.COM", "encrypt-mode", "none",
	  "settings/user/alice@x.sub.example.com.conf:2" },
	{ "\"alice\"@x.sub.example.com", "encrypt-mode", "none",
	  "settings/user/alice@x.sub.example.com.conf:2" },
	{ "alice@x.sub.example.com", "methods", "smime", WILD_EXAMPLE ":2" },
	/* a key that is no safe file name skips the user level, even
	 * though a file of exactly that name exists */
	{ "\"a;b\"@x.sub.example.com", "encrypt-mode", "mandatory",
	  WILD_SUB ":1" },
	{ "a|b@x.sub.example.com", "encrypt-mode", "mandatory",
	  WILD_SUB ":1" },
	/* unrelated domains see the global file and defaults */
	{ "bob@other.test", "encrypt-mode", "none", GLOBAL_FILE ":2" },
	{ "bob@other.test", "methods", "smime pgp", "default" },
	{ "bob@notexample.com", "encrypt-mode", "none", GLOBAL_FILE ":2" },
	{ "bob@notexample.com", "methods", "pgp", WILD_COM ":1" },
	/* an IDN reaches its A-label file */
	{ "bob@b\xc3\xbc" "cher.example", "encrypt-mode", "mandatory",
	  "settings/domain/xn--bcher-kva.example.conf:1" },
	/* an address literal has no domain or wildcard levels */
	{ "bob@[192.0.2.1]", "encrypt-mode", "none", GLOBAL_FILE ":2" },
};

static void
check_inherit_table(void)
{
	for (size_t i = 0; i < G_N_ELEMENTS(inherit_cases); i++) {
		const inherit_case *c = &inherit_cases[i];
		ms_settings *s = NULL;
		ms_addr addr;
		bool pass;

		pass = addr_parse_str(c->address, &addr, NULL) == MS_OK &&
		    settings_load(store, &addr, &s) == MS_OK;
		if (pass)
			pass = strcmp(settings_get(s, c->key), c->value) == 0 &&
			    strcmp(settings_origin(s, c->key), c->origin) == 0;
		if (!unit_check(pass, "settings_load %s: %s = %s from %s",
		    unit_show(c->address), c->key, c->value, c->origin) &&
		    s != NULL)
			unit_note("got %s from %s", settings_get(s, c->key),
			    settings_origin(s, c->key));
		settings_free(s);
		addr_clear(&addr);
	}
}

/* check_inherit_misc - global only, by domain, explain, long names,
 * errors in files */
static void
check_inherit_misc(void)
{
	ms_settings *s = NULL;
	ms_addr addr;
	ms_err err;
	char *text = NULL, *domain, *address;
	size_t text_len = 0;
	FILE *mem;

	err = settings_load(store, NULL, &s);
	unit_check(err == MS_OK &&
	    strcmp(settings_get(s, "encrypt-mode"), "none") == 0,
	    "settings_load with no address: global only");
	settings_free(s);

	err = settings_load_domain(store, "x.sub.example.com", &s);
	unit_check(err == MS_OK &&
	    strcmp(settings_get(s, "encrypt-mode"), "mandatory") == 0 &&
	    strcmp(settings_origin(s, "encrypt-mode"), WILD_SUB ":1") == 0,
	    "settings_load_domain x.sub.example.com: mandatory");

	/* settings_explain lists the chain least specific first */
	mem = open_memstream(&text, &text_len);
	settings_explain(s, mem);
	fclose(mem);
	unit_check(text != NULL &&
	    strstr(text, "settings/global.conf") != NULL &&
	    strstr(text, "*.com.conf") < strstr(text, "*.example.com.conf") &&
	    strstr(text, "*.example.com.conf") <
	    strstr(text, "*.sub.example.com.conf") &&
	    strstr(text, "x.sub.example.com.conf (absent)") != NULL &&
	    strstr(text, "mandatory") != NULL,
	    "settings_explain shows the chain in order");
	free(text);
	settings_free(s);

	/* a 254-octet address: its user file name (key + ".conf") and its
	 * domain file name are longer than a file name may be */
	domain = g_strdup_printf("%s.%s.%s.%.60s",
	    "b123456789012345678901234567890123456789012345678901234567890ab",
	    "c123456789012345678901234567890123456789012345678901234567890ab",
	    "d123456789012345678901234567890123456789012345678901234567890ab",
	    "e123456789012345678901234567890123456789012345678901234567890ab");
	address = g_strdup_printf("a@%s", domain);
	err = addr_parse_str(address, &addr, NULL);
	if (unit_check(err == MS_OK && strlen(address) == 254,
	    "a 254-octet address parses")) {
		s = NULL;
		err = settings_load(store, &addr, &s);
		unit_check(err == MS_OK &&
		    strcmp(settings_get(s, "encrypt-mode"), "none") == 0,
		    "settings_load for a 254-octet address: its files are "
		    "absent, no internal error");
		settings_free(s);
		err = settings_load_domain(store, domain, &s);
		unit_check(err == MS_OK, "settings_load_domain for a "
		    "252-octet domain");
		settings_free(s);
	}
	addr_clear(&addr);
	g_free(address);
	g_free(domain);

	/* a global-only key in a domain file: configuration error */
	(void)addr_parse_str("bob@bad-level.test", &addr, NULL);
	s = NULL;
	err = settings_load(store, &addr, &s);
	unit_check(err == MS_CONFIG && s == NULL,
	    "limit-message-size in a domain file: MS_CONFIG");
	addr_clear(&addr);

	/* an unparsable user file fails the whole load */
	(void)addr_parse_str("broken@other.test", &addr, NULL);
	s = NULL;
	err = settings_load(store, &addr, &s);
	unit_check(err == MS_CONFIG && s == NULL,
	    "a broken user file: MS_CONFIG");
	addr_clear(&addr);

	/* a symlinked settings file is refused, not followed */
	(void)addr_parse_str("link@other.test", &addr, NULL);
	s = NULL;
	err = settings_load(store, &addr, &s);
	unit_check(err == MS_CONFIG && s == NULL,
	    "a symlinked user file: MS_CONFIG");
	addr_clear(&addr);

	/* a settings file over 1 MiB */
	(void)addr_parse_str("huge@other.test", &addr, NULL);
	s = NULL;
	err = settings_load(store, &addr, &s);
	unit_check(err == MS_CONFIG && s == NULL,
	    "a settings file over 1 MiB: MS_CONFIG");
	addr_clear(&addr);

	/* an empty file is fine and sets nothing */
	(void)addr_parse_str("empty@other.test", &addr, NULL);
	s = NULL;
	err = settings_load(store, &addr, &s);
	unit_check(err == MS_OK &&
	    strcmp(settings_origin(s, "encrypt-mode"), GLOBAL_FILE ":2") == 0,
	    "an empty user file: inherits");
	settings_free(s);
	addr_clear(&addr);
}

/* check_global_limits - limit-* in global.conf reach limits_get() through
 * settings_apply, never as a side effect of loading */
static void
check_global_limits(void)
{
	ms_limits saved = *limits_get();
	ms_settings *s = NULL;
	ms_err err;

	put(GLOBAL_FILE, "limit-mime-depth = 9\nlimit-message-size = 2M\n"
	    "limit-mime-parts = 77\nlimit-header-field = 3K\n"
	    "limit-header-section = 5K\n");
	err = settings_load(store, NULL, &s);
	unit_check(err == MS_OK && limits_get()->mime_depth ==
	    saved.mime_depth && limits_get()->message_size ==
	    saved.message_size,
	    "loading settings leaves the limits in force as they are");
	if (err == MS_OK)
		settings_apply(s);
	unit_check(err == MS_OK && limits_get()->mime_depth == 9 &&
	    limits_get()->message_size == 2u * 1024 * 1024 &&
	    limits_get()->mime_parts == 77 &&
	    limits_get()->header_field == 3u * 1024 &&
	    limits_get()->header_section == 5u * 1024,
	    "settings_apply puts the global limit-* settings into force");
	settings_free(s);
	limits_set(&saved);

	put(GLOBAL_FILE, "limit-mime-depth = 4294967296\n");
	err = settings_load(store, NULL, &s);
	unit_check(err == MS_CONFIG && limits_get()->mime_depth ==
	    saved.mime_depth,
	    "limit-mime-depth = 2^32 is refused, the limit is unchanged");
	settings_free(s);
	limits_set(&saved);
}

static void
check_inheritance(void)
{
	ms_err err;
	char *huge, *link_path;
	size_t huge_len = LIMIT_SETTINGS_FILE + 1;
	bool ok;

	root = unit_tmpdir("settings");
	err = store_open(root, true, &store);
	if (!unit_check(err == MS_OK, "store_open creates a scratch store"))
		return;
	ok = put(GLOBAL_FILE, "# global\nencrypt-mode = none\nsyslog = no\n"
	    "sign = smime\n") &&
	    put(WILD_COM, "methods = pgp\n") &&
	    put(WILD_EXAMPLE, "encrypt-mode = allow\nmethods = smime\n") &&
	    put(WILD_SUB, "encrypt-mode = mandatory\n") &&
	    put(DOMAIN_EXAMPLE, "sign = pgp\n") &&
	    put(DOMAIN_DEPT, "encrypt-mode = none\n") &&
	    put("settings/domain/xn--bcher-kva.example.conf",
	    "encrypt-mode = mandatory\n") &&
	    put("settings/domain/*.1].conf", "encrypt-mode = mandatory\n") &&
	    put("settings/domain/*.0.2.1].conf",
	    "encrypt-mode = mandatory\n") &&
	    put("settings/domain/[192.0.2.1].conf",
	    "encrypt-mode = mandatory\n") &&
	    put("settings/domain/bad-level.test.conf",
	    "limit-message-size = 1M\n") &&
	    put("settings/user/alice@x.sub.example.com.conf",
	    "# alice\nencrypt-mode = none\n") &&
	    put("settings/user/\"a;b\"@x.sub.example.com.conf",
	    "encrypt-mode = none\n") &&
	    put("settings/user/broken@other.test.conf", "encrypt-mode\n") &&
	    put("settings/user/empty@other.test.conf", "") &&
	    put("settings/user/target.txt", "encrypt-mode = none\n");
	huge = g_malloc(huge_len);
	memset(huge, '\n', huge_len);
	link_path = g_build_filename(root, "settings/user",
	    "link@other.test.conf", NULL);
	ok = ok && put("settings/user/huge@other.test.conf", "") &&
	    symlink("target.txt", link_path) == 0;
	{
		char *path = g_build_filename(root, "settings/user",
		    "huge@other.test.conf", NULL);

		ok = ok && unit_write_file(path, huge, huge_len);
		g_free(path);
	}
	g_free(huge);
	g_free(link_path);
	if (!unit_check(ok, "settings files written"))
		return;
	check_inherit_table();
	check_inherit_misc();
	check_global_limits();
	store_close(store);
	unit_rmtree(root);
	g_free(root);
}

int
main(void)
{
	check_parse_table();
	check_line_limit();
	check_values();
	check_inheritance();
	return unit_done();
}
