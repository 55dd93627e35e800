/*
 * test-addr.c - table-driven tests of the address parser (common/addr.c):
 * what it accepts, the canonical text and lookup key it makes, what it
 * refuses (security.md section 8 and bad-input rows 31-36), addr_equal
 * and addr_is_filename_safe.
 */
#include "addr.h"

#include <stdlib.h>

#include "unit.h"

#define REFUSED NULL, NULL, false
#define SAME NULL, NULL

typedef struct parse_case {
	const char *input;
	size_t len;		/* 0: strlen(input) */
	const char *text;	/* canonical text; NULL: the input itself */
	const char *key;	/* lookup key; NULL: the canonical text */
	bool ok;
} parse_case;

static const parse_case parse_cases[] = {
	/* plain addresses */
	{ "user@example.com", 0, SAME, true },
	{ "first.last@example.com", 0, SAME, true },
	{ "user+tag@example.com", 0, SAME, true },
	{ "a@b.c", 0, SAME, true },
	{ "user@localhost", 0, SAME, true },
	{ "user@123.example", 0, SAME, true },
	{ "user@a-b.example", 0, SAME, true },
	{ "user@xn--bcher-kva.example", 0, SAME, true },
	/* every ASCII atext character is allowed unquoted (RFC 5322 3.2.3) */
	{ "!#$%&'*+-/=?^_`{|}~@x.test", 0, SAME, true },
	{ "a/b@x.test", 0, SAME, true },
	{ "a|b@x.test", 0, SAME, true },
	/* case: the domain is folded, the local part kept but folded in
	 * the key */
	{ "User@Example.COM", 0, "User@example.com", "user@example.com",
	  true },
	{ "USER@EXAMPLE.COM", 0, "USER@example.com", "user@example.com",
	  true },
	/* IDN domains become lowercase A-labels */
	{ "user@b\xc3\xbc" "cher.example", 0, "user@xn--bcher-kva.example",
	  NULL, true },
	{ "user@B\xc3\x9c" "CHER.Example", 0, "user@xn--bcher-kva.example",
	  NULL, true },
	{ "user@\xe4\xbe\x8b\xe3\x81\x88.test", 0, "user@xn--r8jz45g.test",
	  NULL, true },
	/* UTF-8 local parts (RFC 6531) are kept; only ASCII is folded */
	{ "J\xc3\xb6rg@example.com", 0, NULL, "j\xc3\xb6rg@example.com",
	  true },
	/* quoted local parts: unquoted when they are a valid dot-string */
	{ "\"bob\"@x.test", 0, "bob@x.test", NULL, true },
	{ "\"Bob.Smith\"@x.test", 0, "Bob.Smith@x.test", "bob.smith@x.test",
	  true },
	{ "\"b\\ob\"@x.test", 0, "bob@x.test", NULL, true },
	/* ... and kept quoted, as one unit, when they are not */
	{ "\"a;id\"@x", 0, SAME, true },
	{ "\"$(id)\"@x.test", 0, SAME, true },
	{ "\"`reboot`\"@x.test", 0, "`reboot`@x.test", NULL, true },
	{ "\"a@b\"@c.test", 0, SAME, true },
	{ "\".a\"@x.test", 0, SAME, true },
	{ "\"a..b\"@x.test", 0, SAME, true },
	{ "\"a\\\"b\"@x.test", 0, SAME, true },
	{ "\"a\\\\b\"@x.test", 0, SAME, true },
	{ "\"A;B\"@x.test", 0, NULL, "\"a;b\"@x.test", true },
	/* a space in a quoted local part is RFC 5321's qtextSMTP */
	{ "\"john smith\"@partner.example", 0, SAME, true },
	{ "\"a -r evil\"@x.test", 0, SAME, true },
	{ "\"a\\ b\"@x.test", 0, "\"a b\"@x.test", NULL, true },
	/* address literals (RFC 5321 4.1.3) */
	{ "user@[192.0.2.1]", 0, SAME, true },
	{ "user@[IPv6:2001:db8::1]", 0, SAME, true },
	{ "user@[ipv6:2001:DB8::1]", 0, "user@[IPv6:2001:db8::1]", NULL,
	  true },
	{ "user@[IPv6:2001:db8:0:0:0:0:0:1]", 0, "user@[IPv6:2001:db8::1]",
	  NULL, true },
	{ "user@[IPv6:::ffff:192.0.2.1]", 0, SAME, true },
	{ "user@[300.0.2.1]", 0, REFUSED },
	{ "user@[192.0.2]", 0, REFUSED },
	{ "user@[192.0.2.01]", 0, REFUSED },
	{ "user@[IPv6:2001:db8::g]", 0, REFUSED },
	{ "user@[IPv6:192.0.2.1]", 0, REFUSED },
	{ "user@[2001:db8::1]", 0, REFUSED },
	{ "user@[example.com]", 0, REFUSED },
	{ "user@[192.0.2.1", 0, REFUSED },
	{ "user@[]", 0, REFUSED },
	{ "user@[", 0, REFUSED },
	{ "user@]", 0, REFUSED },

	/* refused: empty, no '@', more than one '@' outside quotes */
	{ "", 0, REFUSED },
	{ "userexample.com", 0, REFUSED },
	{ "@example.com", 0, REFUSED },
	{ "user@", 0, REFUSED },
	{ "@", 0, REFUSED },
	{ "a@b@c.test", 0, REFUSED },
	{ "a@@c.test", 0, REFUSED },
	/* refused: a leading '-' (becomes an option: row 32) */
	{ "-user@x.test", 0, REFUSED },
	{ "-oQ/x@y.test", 0, REFUSED },
	{ "--output=/x@y.test", 0, REFUSED },
	{ "\"-x\"@y.test", 0, REFUSED },
	{ "\"\\-x\"@y.test", 0, REFUSED },
	/* refused: CR, LF, NUL, other controls, DEL (row 34) */
	{ "a\r@x.test", 0, REFUSED },
	{ "a\n@x.test", 0, REFUSED },
	{ "a@x.test\r\nRCPT TO:<evil@x.test>", 0, REFUSED },
	{ "a@x.test\n", 0, REFUSED },
	{ "a\0b@x.test", 10, REFUSED },
	{ "ab@x.test\0", 10, REFUSED },
	{ "\"x\0y\"@z.test", 12, REFUSED },
	{ "\0", 1, REFUSED },
	{ "a\x01@x.test", 0, REFUSED },
	{ "a\x1f@x.test", 0, REFUSED },
	{ "a\x7f@x.test", 0, REFUSED },
	{ "a@x\x7f.test", 0, REFUSED },
	{ "\"a\x7f\"@x.test", 0, REFUSED },
	/* refused: whitespace outside a quoted local part, a tab anywhere */
	{ "a b@x.test", 0, REFUSED },
	{ "a\tb@x.test", 0, REFUSED },
	{ " a@x.test", 0, REFUSED },
	{ "a@x.test ", 0, REFUSED },
	{ "\"a\tb\"@x.test", 0, REFUSED },
	{ "\"a b\"@x .test", 0, REFUSED },
	/* refused: Unicode whitespace and C1 controls */
	{ "a\xc2\xa0" "b@x.test", 0, REFUSED },
	{ "\"a\xc2\xa0" "b\"@x.test", 0, REFUSED },
	{ "a\xe3\x80\x80" "b@x.test", 0, REFUSED },
	{ "a\xe2\x80\xa8" "b@x.test", 0, REFUSED },
	{ "a\xc2\x85" "b@x.test", 0, REFUSED },
	{ "a@x\xc2\xa0" "y.test", 0, REFUSED },
	{ "a@x\xe3\x80\x80" "y.test", 0, REFUSED },
	{ "a\xc2\x9b" "b@x.test", 0, REFUSED },
	/* refused: dots in the wrong place in a dot-string */
	{ ".a@x.test", 0, REFUSED },
	{ "a.@x.test", 0, REFUSED },
	{ "a..b@x.test", 0, REFUSED },
	{ ".@x.test", 0, REFUSED },
	{ "../../etc/passwd@x", 0, REFUSED },
	/* refused: characters that are not atext, outside quotes */
	{ "$(touch${IFS}/tmp/x)@example.net", 0, REFUSED },
	{ "a(@b)@c.test", 0, REFUSED },
	{ "a(comment)@c.test", 0, REFUSED },
	{ "a\\|b@x.test", 0, REFUSED },
	{ "a\\@b@x.test", 0, REFUSED },
	{ "a,b@x.test", 0, REFUSED },
	{ "a;b@x.test", 0, REFUSED },
	{ "<a@x.test>", 0, REFUSED },
	{ "a:b@x.test", 0, REFUSED },
	{ "a[b]@x.test", 0, REFUSED },
	/* refused: broken quoting */
	{ "\"\"@x.test", 0, REFUSED },
	{ "\"unterminated@x.test", 0, REFUSED },
	{ "\"a\"b@x.test", 0, REFUSED },
	{ "a\"b\"@x.test", 0, REFUSED },
	{ "\"a\"\"b\"@x.test", 0, REFUSED },
	{ "\"a\\\"@x.test", 0, REFUSED },
	{ "\"@x.test", 0, REFUSED },
	{ "a\"@x.test", 0, REFUSED },
	/* refused: domains that are not LDH labels, an IDN or a literal */
	{ "a@x.test.", 0, REFUSED },
	{ "a@.x.test", 0, REFUSED },
	{ "a@x..test", 0, REFUSED },
	{ "a@.", 0, REFUSED },
	{ "a@-x.test", 0, REFUSED },
	{ "a@x-.test", 0, REFUSED },
	{ "a@x.-test", 0, REFUSED },
	{ "a@x.test-", 0, REFUSED },
	{ "a@x_y.test", 0, REFUSED },
	{ "a@x/y.test", 0, REFUSED },
	{ "a@x:25", 0, REFUSED },
	{ "a@x.test@", 0, REFUSED },
	{ "a@xn--.test", 0, REFUSED },
	{ "a@\xe2\x80\x8b.test", 0, REFUSED },
	/* refused: invalid UTF-8 (bad byte, truncated, overlong, surrogate) */
	{ "a@\xff.test", 0, REFUSED },
	{ "a@b\xc3\x28.test", 0, REFUSED },
	{ "\xc3\x28@x.test", 0, REFUSED },
	{ "a\xc3@x.test", 0, REFUSED },
	{ "\xc0\xaf@x.test", 0, REFUSED },
	{ "\xe0\x80\xaf@x.test", 0, REFUSED },
	{ "\xed\xa0\x80@x.test", 0, REFUSED },
	{ "\xf4\x90\x80\x80@x.test", 0, REFUSED },
	{ "\"\xff\"@x.test", 0, REFUSED },
	{ "\"a\xc3\"@x.test", 0, REFUSED },
};

/* clean_text - no controls and no DEL in a canonical form, and a space
 * only inside a quoted local part */
static bool
clean_text(const char *s)
{
	const char *close = *s == '"' ? strrchr(s, '"') : NULL;

	for (const char *p = s; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f ||
		    (*p == ' ' && (close == NULL || p > close)))
			return false;
	return true;
}

/* check_parse - one case: result, canonical text, key, and that the
 * canonical text is a fixed point (it parses to itself) */
static void
check_parse(const char *input, size_t len, bool want_ok,
    const char *want_text, const char *want_key)
{
	ms_addr addr, again;
	const char *why = NULL;
	ms_err err;
	bool pass;

	err = addr_parse(input, len, &addr, &why);
	if (!want_ok) {
		pass = err == MS_DATA && why != NULL && addr.local == NULL &&
		    addr.domain == NULL && addr.text == NULL &&
		    addr.key == NULL;
		if (!unit_check(pass, "addr_parse %s is refused (%s)",
		    unit_show_len(input, len), why ? why : "no reason given"))
			unit_note("got %s: %s", ms_err_name(err),
			    unit_show(addr.text));
		addr_clear(&addr);
		return;
	}
	if (want_text == NULL)
		want_text = input;
	if (want_key == NULL)
		want_key = want_text;
	pass = err == MS_OK && unit_streq(addr.text, want_text) &&
	    unit_streq(addr.key, want_key) && clean_text(addr.text);
	if (pass) {
		char *joined = g_strdup_printf("%s@%s", addr.local,
		    addr.domain);

		pass = strcmp(joined, addr.text) == 0 &&
		    addr_parse_str(addr.text, &again, NULL) == MS_OK &&
		    strcmp(again.text, addr.text) == 0 &&
		    strcmp(again.key, addr.key) == 0;
		g_free(joined);
		addr_clear(&again);
	}
	if (!unit_check(pass, "addr_parse %s -> %s key %s",
	    unit_show_len(input, len), unit_show(want_text),
	    unit_show(want_key)))
		unit_note("got %s (%s): text %s key %s", ms_err_name(err),
		    err == MS_OK ? "" : why, unit_show(addr.text),
		    unit_show(addr.key));
	addr_clear(&addr);
}

/* check_lengths - the limits at their edges: local part 64 octets,
 * address 254, label 63 (RFC 5321 4.5.3.1, RFC 1035 2.3.4) */
static void
check_lengths(void)
{
	char local64[65], local65[66], label63[64], label64[65];
	char *s, *d189, *d190;

	memset(local64, 'a', 64);
	local64[64] = '\0';
	memset(local65, 'a', 65);
	local65[65] = '\0';
	memset(label63, 'b', 63);
	label63[63] = '\0';
	memset(label64, 'b', 64);
	label64[64] = '\0';
	/* 63 + 1 + 63 + 1 + 61 = 189: with 64 + 1 that is 254 octets */
	d189 = g_strdup_printf("%s.%s.%.61s", label63, label63, label63);
	d190 = g_strdup_printf("%s.%s.%.62s", label63, label63, label63);

	s = g_strdup_printf("%s@x.test", local64);
	check_parse(s, strlen(s), true, NULL, NULL);
	g_free(s);
	s = g_strdup_printf("%s@x.test", local65);
	check_parse(s, strlen(s), false, NULL, NULL);
	g_free(s);
	/* 62 octets quoted are 64 as written: allowed; 63 are 65 */
	s = g_strdup_printf("\"%.61s;\"@x.test", local64);
	check_parse(s, strlen(s), true, NULL, NULL);
	g_free(s);
	s = g_strdup_printf("\"%.62s;\"@x.test", local64);
	check_parse(s, strlen(s), false, NULL, NULL);
	g_free(s);
	/* a quoted local part that unquotes to 64 octets is fine */
	s = g_strdup_printf("\"%s\"@x.test", local64);
	{
		char *want = g_strdup_printf("%s@x.test", local64);

		check_parse(s, strlen(s), true, want, NULL);
		g_free(want);
	}
	g_free(s);
	s = g_strdup_printf("%s@%s", local64, d189);
	if (unit_check(strlen(s) == 254, "254-octet address built"))
		check_parse(s, strlen(s), true, NULL, NULL);
	g_free(s);
	s = g_strdup_printf("%s@%s", local64, d190);
	if (unit_check(strlen(s) == 255, "255-octet address built"))
		check_parse(s, strlen(s), false, NULL, NULL);
	g_free(s);
	s = g_strdup_printf("a@%s.test", label63);
	check_parse(s, strlen(s), true, NULL, NULL);
	g_free(s);
	s = g_strdup_printf("a@%s.test", label64);
	check_parse(s, strlen(s), false, NULL, NULL);
	g_free(s);
	s = g_strdup_printf("a@%s", label64);
	check_parse(s, strlen(s), false, NULL, NULL);
	g_free(s);
	/* huge input is refused early, without work proportional to it */
	{
		size_t big = 1024 * 1024;
		char *huge = g_malloc(big);

		memset(huge, 'a', big);
		huge[big / 2] = '@';
		check_parse(huge, big, false, NULL, NULL);
		g_free(huge);
	}
	g_free(d189);
	g_free(d190);
}

/* check_api_edges - NULL input, NULL why, addr_clear twice */
static void
check_api_edges(void)
{
	ms_addr addr;
	const char *why = NULL;

	unit_check(addr_parse(NULL, 0, &addr, &why) == MS_DATA &&
	    why != NULL, "addr_parse NULL is refused");
	unit_check(addr_parse_str(NULL, &addr, NULL) == MS_DATA,
	    "addr_parse_str NULL with NULL why is refused");
	unit_check(addr_parse("a@x.test", 8, &addr, NULL) == MS_OK,
	    "addr_parse with NULL why works");
	addr_clear(&addr);
	addr_clear(&addr);
	unit_check(addr.key == NULL, "addr_clear twice is harmless");
	/* an explicit length shorter than the string is honoured */
	unit_check(addr_parse("a@x.test.evil", 8, &addr, NULL) == MS_OK &&
	    strcmp(addr.text, "a@x.test") == 0,
	    "addr_parse stops at the given length");
	addr_clear(&addr);
}

typedef struct equal_case {
	const char *a, *b;
	bool equal;
} equal_case;

static const equal_case equal_cases[] = {
	{ "bob@example.com", "bob@example.com", true },
	{ "Bob@Example.com", "bob@EXAMPLE.COM", true },
	{ "BOB@example.com", "bob@example.com", true },
	{ "\"bob\"@x.test", "bob@x.test", true },
	{ "\"BOB\"@x.test", "bob@X.TEST", true },
	{ "\"A;B\"@x.test", "\"a;b\"@x.test", true },
	{ "bob@b\xc3\xbc" "cher.example", "BOB@xn--bcher-kva.example", true },
	{ "bob@[IPv6:2001:db8:0::1]", "bob@[ipv6:2001:DB8::1]", true },
	{ "bob@x.test", "bob@y.test", false },
	{ "bob@x.test", "bobby@x.test", false },
	{ "a.b@x.test", "ab@x.test", false },
	{ "bob@sub.x.test", "bob@x.test", false },
	{ "\"a;b\"@x.test", "a@x.test", false },
	{ "bob+tag@x.test", "bob@x.test", false },
	{ "J\xc3\xb6rg@x.test", "j\xc3\xb6rg@x.test", true },
	/* only ASCII is folded: U+00D6 and U+00F6 stay different */
	{ "J\xc3\x96rg@x.test", "j\xc3\xb6rg@x.test", false },
};

static void
check_equal(void)
{
	for (size_t i = 0; i < G_N_ELEMENTS(equal_cases); i++) {
		const equal_case *c = &equal_cases[i];
		ms_addr a, b;
		bool pass;

		pass = addr_parse_str(c->a, &a, NULL) == MS_OK &&
		    addr_parse_str(c->b, &b, NULL) == MS_OK;
		if (pass)
			pass = addr_equal(&a, &b) == c->equal &&
			    addr_equal(&b, &a) == c->equal &&
			    addr_equal(&a, &a);
		unit_check(pass, "addr_equal %s %s %s", unit_show(c->a),
		    c->equal ? "==" : "!=", unit_show(c->b));
		addr_clear(&a);
		addr_clear(&b);
	}
	{
		ms_addr a, empty;

		memset(&empty, 0, sizeof(empty));
		(void)addr_parse_str("a@x.test", &a, NULL);
		unit_check(!addr_equal(&a, &empty) && !addr_equal(&empty, &a) &&
		    !addr_equal(&empty, &empty),
		    "addr_equal with a cleared address is false");
		addr_clear(&a);
	}
}

typedef struct safe_case {
	const char *name;
	bool safe;
} safe_case;

static const safe_case safe_cases[] = {
	{ "bob@example.com", true },
	{ "bob+tag@example.com", true },
	{ "a=b_c-d@x.test", true },
	{ "A.B@x.test", true },
	{ "", false },
	{ ".", false },
	{ "..", false },
	{ ".hidden@x.test", false },
	{ "-x@y.test", false },
	{ "a..b@x.test", false },
	{ "a/b@x.test", false },
	{ "../../etc/passwd@x", false },
	{ "a\\b@x.test", false },
	{ "a b@x.test", false },
	{ "a\tb@x.test", false },
	{ "a\nb@x.test", false },
	{ "a:b@x.test", false },
	{ "*.example.com", false },
	{ "\"a;b\"@x.test", false },
	{ "a|b@x.test", false },
	{ "a$b@x.test", false },
	{ "a'b@x.test", false },
	{ "a`b@x.test", false },
	{ "a~b@x.test", false },
	{ "user@[192.0.2.1]", false },
	{ "j\xc3\xb6rg@x.test", false },
};

/* check_bound - addresses bound to a key: no space even quoted */
static void
check_bound(void)
{
	static const struct {
		const char *input;
		bool ok;
	} cases[] = {
		{ "bob@example.test", true },
		{ "\"a;b\"@example.test", true },
		{ "\"john smith\"@example.test", false },
		{ "\"a\\ b\"@example.test", false },
		{ "a b@example.test", false },
	};

	for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
		ms_addr a;
		const char *why = NULL;
		ms_err err = addr_parse_bound(cases[i].input,
		    strlen(cases[i].input), &a, &why);

		unit_check((err == MS_OK) == cases[i].ok &&
		    (err == MS_OK || (why != NULL && a.text == NULL)),
		    "addr_parse_bound %s %s", unit_show(cases[i].input),
		    cases[i].ok ? "accepted" : "refused");
		addr_clear(&a);
	}
}

static void
check_filename_safe(void)
{
	char name255[256], name256[257];

	for (size_t i = 0; i < G_N_ELEMENTS(safe_cases); i++) {
		const safe_case *c = &safe_cases[i];

		unit_check(addr_is_filename_safe(c->name) == c->safe,
		    "addr_is_filename_safe %s is %s", unit_show(c->name),
		    c->safe ? "true" : "false");
	}
	memset(name255, 'a', 255);
	name255[255] = '\0';
	memset(name256, 'a', 256);
	name256[256] = '\0';
	unit_check(addr_is_filename_safe(name255),
	    "addr_is_filename_safe: 255 octets is safe");
	unit_check(!addr_is_filename_safe(name256),
	    "addr_is_filename_safe: 256 octets is not");

	/* the keys of parsed addresses: only the plain ones are safe */
	{
		static const safe_case keys[] = {
			{ "Bob@Example.COM", true },
			{ "a/b@x.test", false },
			{ "a|b@x.test", false },
			{ "\"a;id\"@x.test", false },
			{ "\"$(id)\"@x.test", false },
			{ "\"..\"@x.test", false },
			{ "user@[192.0.2.1]", false },
			{ "user@b\xc3\xbc" "cher.example", true },
		};

		for (size_t i = 0; i < G_N_ELEMENTS(keys); i++) {
			ms_addr a;
			bool pass = addr_parse_str(keys[i].name, &a, NULL) ==
			    MS_OK && addr_is_filename_safe(a.key) ==
			    keys[i].safe;

			unit_check(pass, "key of %s is %sfilename-safe",
			    unit_show(keys[i].name),
			    keys[i].safe ? "" : "not ");
			addr_clear(&a);
		}
	}
}

typedef struct domain_case {
	const char *input;
	const char *want;	/* NULL: refused */
} domain_case;

static const domain_case domain_cases[] = {
	{ "Example.COM", "example.com" },
	{ "b\xc3\xbc" "cher.example", "xn--bcher-kva.example" },
	{ "[192.0.2.1]", "[192.0.2.1]" },
	{ "[IPv6:2001:DB8::1]", "[IPv6:2001:db8::1]" },
	{ "", NULL },
	{ "x.test.", NULL },
	{ "x..test", NULL },
	{ "x_y.test", NULL },
	{ "x y.test", NULL },
	{ "x\ty.test", NULL },
	{ "-x.test", NULL },
};

static void
check_domains(void)
{
	for (size_t i = 0; i < G_N_ELEMENTS(domain_cases); i++) {
		const domain_case *c = &domain_cases[i];
		const char *why = NULL;
		char *got = addr_domain_normalize(c->input, strlen(c->input),
		    &why);

		unit_check(unit_streq(got, c->want) &&
		    (got != NULL || why != NULL),
		    "addr_domain_normalize %s -> %s", unit_show(c->input),
		    c->want ? unit_show(c->want) : "refused");
		g_free(got);
	}
}

int
main(void)
{
	for (size_t i = 0; i < G_N_ELEMENTS(parse_cases); i++) {
		const parse_case *c = &parse_cases[i];

		check_parse(c->input, c->len ? c->len : strlen(c->input),
		    c->ok, c->text, c->key);
	}
	check_lengths();
	check_api_edges();
	check_equal();
	check_bound();
	check_filename_safe();
	check_domains();
	return unit_done();
}
