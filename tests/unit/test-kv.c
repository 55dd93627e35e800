/*
 * test-kv.c - table-driven tests of the "key = value" reader and writer
 * (common/kv.c), the value parsers (common/parse.c), the codecs
 * (common/codec.c) and the JSON writer (common/jsonout.c), and a check that records in the forms the readers
 * replaced by kv.c wrote still load: the CA state, CRL states, SMS jobs
 * and static PDF passwords.
 */
#include "ca.h"
#include "codec.h"
#include "crlstate.h"
#include "jsonout.h"
#include "kv.h"
#include "mslimits.h"
#include "parse.h"
#include "pdfpass.h"
#include "smsjob.h"
#include "store.h"

#include <sys/stat.h>

#include "unit.h"

#define C KV_COMMENTS
#define L KV_LISTS

typedef struct kv_case {
	unsigned flags;
	const char *text;
	size_t len;		/* 0: strlen(text) */
	bool ok;
	const char *key;	/* checked when ok: kv_get(key) == value */
	const char *value;
	size_t count;		/* entries when ok */
} kv_case;

static const kv_case kv_cases[] = {
	/* layout */
	{ 0, "", 0, true, NULL, NULL, 0 },
	{ 0, "a = b\n", 0, true, "a", "b", 1 },
	{ 0, "a=b", 0, true, "a", "b", 1 },
	{ 0, "a=b\nc=d\n", 0, true, "c", "d", 2 },
	{ 0, "  a \t=\t b c  \n", 0, true, "a", "b c", 1 },
	{ 0, "a =\n", 0, true, "a", "", 1 },
	{ 0, "a = x = y\n", 0, true, "a", "x = y", 1 },
	{ 0, "crl-url = https://ca.example/x.crl?a=b\n", 0, true, "crl-url",
	  "https://ca.example/x.crl?a=b", 1 },
	{ 0, "last-attempt=0\n", 0, true, "last-attempt", "0", 1 },
	{ 0, "k.v_1-x = 1\n", 0, true, "k.v_1-x", "1", 1 },
	{ 0, "t = caf\xc3\xa9\n", 0, true, "t", "caf\xc3\xa9", 1 },
	{ 0, "t = a\tb\n", 0, true, "t", "a\tb", 1 },
	/* CRLF: the CR before each LF goes, nowhere else */
	{ 0, "a = b\r\n", 0, true, "a", "b", 1 },
	{ 0, "a = b\r\nc = d\r\n", 0, true, "c", "d", 2 },
	{ 0, "a = b\r", 0, false, NULL, NULL, 0 },
	{ 0, "a = b\rc\n", 0, false, NULL, NULL, 0 },
	{ 0, "a = b\r\r\n", 0, false, NULL, NULL, 0 },
	/* comments and blank lines: only where the format has them */
	{ 0, "\n", 0, false, NULL, NULL, 0 },
	{ 0, "a = b\n\n", 0, false, NULL, NULL, 0 },
	{ 0, "# note\na = b\n", 0, false, NULL, NULL, 0 },
	{ C, "\n", 0, true, NULL, NULL, 0 },
	{ C, "# note\n\n  # indented\n\t\na = b\n", 0, true, "a", "b", 1 },
	{ C, "a = b # not a comment\n", 0, true, "a", "b # not a comment",
	  1 },
	{ C, "\r\n# x\r\n", 0, true, NULL, NULL, 0 },
	/* keys */
	{ 0, "= b\n", 0, false, NULL, NULL, 0 },
	{ 0, "a b = c\n", 0, false, NULL, NULL, 0 },
	{ 0, "-a = c\n", 0, false, NULL, NULL, 0 },
	{ 0, ".a = c\n", 0, false, NULL, NULL, 0 },
	{ 0, "a/b = c\n", 0, false, NULL, NULL, 0 },
	{ 0, "caf\xc3\xa9 = c\n", 0, false, NULL, NULL, 0 },
	{ 0, "[section]\n", 0, false, NULL, NULL, 0 },
	{ 0, "a\n", 0, false, NULL, NULL, 0 },
	{ 0, "a : b\n", 0, false, NULL, NULL, 0 },
	{ 0, "0123456789012345678901234567890123456789012345678901234567890123"
	     " = 64\n", 0, true, NULL, NULL, 1 },
	{ 0, "01234567890123456789012345678901234567890123456789012345678901234"
	     " = 65\n", 0, false, NULL, NULL, 0 },
	/* duplicates: refused unless lists are allowed */
	{ 0, "a = 1\na = 1\n", 0, false, NULL, NULL, 0 },
	{ 0, "a = 1\nb = 2\n a=3\n", 0, false, NULL, NULL, 0 },
	{ L, "a = 1\na = 2\n", 0, true, "a", "1", 2 },
	/* bytes */
	{ 0, "a = b\0\n", 7, false, NULL, NULL, 0 },
	{ C, "# \0\n", 4, false, NULL, NULL, 0 },
	{ 0, "a = \xff\n", 0, false, NULL, NULL, 0 },
	{ C, "# \xc0\xaf\n", 0, false, NULL, NULL, 0 },
	{ 0, "a = \xed\xa0\x80\n", 0, false, NULL, NULL, 0 },
	{ 0, "a = b\x01\n", 0, false, NULL, NULL, 0 },
	{ 0, "a = b\x7f\n", 0, false, NULL, NULL, 0 },
	{ 0, "a = \x1b[31m\n", 0, false, NULL, NULL, 0 },
	{ C, "# \x0c\n", 0, false, NULL, NULL, 0 },
	/* the records in the forms the replaced readers wrote */
	{ 0, "name=Test CA\nkey=ec-p256\ncrl-url=\ncrl-number=3\n", 0, true,
	  "name", "Test CA", 4 },
	{ 0, "url=http://127.0.0.1:1/r.crl\nissuer=3011\netag=\"x\"\n"
	     "modified=0\nlast-attempt=1700000000\nlast-success=0\n"
	     "failures=2\n", 0, true, "etag", "\"x\"", 7 },
	{ 0, "number = +4915112345678\nsender = \nrecipient = b@example.org\n"
	     "reference = ABCD2345\ntext = Password: x\nexpires = 1\n"
	     "attempts = 0\nnext-attempt = 0\n", 0, true, "sender", "", 8 },
	{ C, "# static password\npassword = correct horse\n"
	     "not-after = 2030-01-01\n", 0, true, "password", "correct horse",
	  2 },
};

static void
check_kv_table(void)
{
	for (size_t i = 0; i < G_N_ELEMENTS(kv_cases); i++) {
		const kv_case *c = &kv_cases[i];
		size_t len = c->len ? c->len : strlen(c->text);
		kv_file *kv = NULL;
		ms_err err = kv_parse("case", c->text, len, c->flags, &kv);
		bool ok = err == MS_OK;

		if (ok && c->ok) {
			ok = kv_size(kv) == c->count && (c->key == NULL ||
			    unit_streq(kv_get(kv, c->key), c->value));
			unit_check(ok, "kv_parse(%s, flags %u) reads as expected",
			    unit_show_len(c->text, len), c->flags);
		} else
			unit_check(ok == c->ok && (ok || kv == NULL),
			    "kv_parse(%s, flags %u) %s",
			    unit_show_len(c->text, len), c->flags,
			    c->ok ? "accepted" : "refused");
		kv_free(kv);
	}
}

/* check_kv_limits - LIMIT_KV_LINE octets per line, LIMIT_KV_LINES lines */
static void
check_kv_limits(void)
{
	size_t n = LIMIT_KV_LINE;
	GString *text = g_string_new("a = ");
	kv_file *kv = NULL;

	while (text->len < n)
		g_string_append_c(text, 'x');
	g_string_append_c(text, '\n');
	unit_check(kv_parse("long", text->str, text->len, 0, &kv) == MS_OK,
	    "a line of %zu octets is read", n);
	kv_free(kv);
	g_string_insert_c(text, 4, 'x');
	unit_check(kv_parse("long", text->str, text->len, 0, &kv) == MS_DATA,
	    "a line of %zu octets is refused", n + 1);
	g_string_truncate(text, 0);
	for (size_t i = 0; i < LIMIT_KV_LINES; i++)
		g_string_append(text, "#\n");
	unit_check(kv_parse("many", text->str, text->len, C, &kv) == MS_OK,
	    "%u lines are read", LIMIT_KV_LINES);
	kv_free(kv);
	g_string_append(text, "#\n");
	unit_check(kv_parse("many", text->str, text->len, C, &kv) == MS_DATA,
	    "%u lines are refused", LIMIT_KV_LINES + 1);
	g_string_free(text, TRUE);
}

typedef struct append_case {
	const char *key;
	const char *value;
	const char *line;	/* NULL: refused */
} append_case;

static const append_case append_cases[] = {
	{ "a", "b", "a = b\n" },
	{ "a", "", "a = \n" },
	{ "crl-url", "http://x/?a=b", "crl-url = http://x/?a=b\n" },
	{ "t", "caf\xc3\xa9 a\tb", "t = caf\xc3\xa9 a\tb\n" },
	{ "a", " b", NULL },
	{ "a", "b ", NULL },
	{ "a", "b\t", NULL },
	{ "a", "b\nc = d", NULL },
	{ "a", "b\r", NULL },
	{ "a", "\xff", NULL },
	{ "a b", "c", NULL },
	{ "", "c", NULL },
	{ "-a", "c", NULL },
};

/* check_append - kv_append writes what kv_parse reads back, or refuses */
static void
check_append(void)
{
	for (size_t i = 0; i < G_N_ELEMENTS(append_cases); i++) {
		const append_case *c = &append_cases[i];
		GString *out = g_string_new(NULL);
		bool ok = kv_append(out, c->key, c->value);
		kv_file *kv = NULL;

		if (c->line == NULL) {
			unit_check(!ok && out->len == 0, "kv_append(%s, %s) "
			    "refused", unit_show(c->key), unit_show(c->value));
		} else {
			ok = ok && strcmp(out->str, c->line) == 0 &&
			    kv_parse("append", out->str, out->len, 0, &kv) ==
			    MS_OK && unit_streq(kv_get(kv, c->key), c->value);
			unit_check(ok, "kv_append(%s, %s) reads back",
			    unit_show(c->key), unit_show(c->value));
		}
		kv_free(kv);
		g_string_free(out, TRUE);
	}
}

/* check_only - unknown keys are named */
static void
check_only(void)
{
	static const char *const known[] = { "a", "b", NULL };
	kv_file *kv = NULL;

	unit_check(kv_parse("only", "a = 1\nb = 2\n", 12, 0, &kv) == MS_OK &&
	    kv_only(kv, "only", known), "kv_only: known keys pass");
	kv_free(kv);
	unit_check(kv_parse("only", "a = 1\nc = 2\n", 12, 0, &kv) == MS_OK &&
	    !kv_only(kv, "only", known), "kv_only: an unknown key fails");
	kv_free(kv);
}

typedef struct size_case {
	const char *text;
	bool ok;
	unsigned long long value;
} size_case;

static const size_case size_cases[] = {
	{ "0", true, 0 },
	{ "1", true, 1 },
	{ "007", true, 7 },
	{ "1K", true, 1024 },
	{ "1k", true, 1024 },
	{ "10M", true, 10485760 },
	{ "2g", true, 2147483648ULL },
	{ "18446744073709551615", true, 18446744073709551615ULL },
	{ "17179869183G", true, 17179869183ULL * 1073741824ULL },
	{ "18446744073709551616", false, 0 },
	{ "17179869184G", false, 0 },
	{ "", false, 0 },
	{ "K", false, 0 },
	{ "1KB", false, 0 },
	{ "1T", false, 0 },
	{ "1 K", false, 0 },
	{ " 1", false, 0 },
	{ "-1", false, 0 },
	{ "+1", false, 0 },
	{ "1.5M", false, 0 },
	{ "0x10", false, 0 },
};

static void
check_size(void)
{
	for (size_t i = 0; i < G_N_ELEMENTS(size_cases); i++) {
		const size_case *c = &size_cases[i];
		unsigned long long value = 0;
		bool ok = parse_size(c->text, &value);

		unit_check(ok == c->ok && (!ok || value == c->value),
		    "parse_size(%s) %s %llu", unit_show(c->text),
		    c->ok ? "is" : "refused", c->value);
	}
}

static void
check_decimal(void)
{
	unsigned long long value = 0;

	unit_check(parse_decimal("1000", 1000, &value) && value == 1000,
	    "parse_decimal: 1000 up to 1000");
	unit_check(!parse_decimal("1001", 1000, &value),
	    "parse_decimal: 1001 over 1000 refused");
	unit_check(!parse_decimal("1K", ~0ULL, &value) &&
	    !parse_decimal("", ~0ULL, &value) &&
	    !parse_decimal("-1", ~0ULL, &value) &&
	    !parse_decimal("1 ", ~0ULL, &value),
	    "parse_decimal: suffix, empty, sign, space refused");
}

typedef struct day_case {
	const char *text;
	long long when;		/* -1: refused */
} day_case;

static const day_case day_cases[] = {
	{ "1970-01-01", 0 },
	{ "2025-02-28", 1740700800 },
	{ "2024-02-29", 1709164800 },
	{ "2025-12-31", 1767139200 },
	{ "2025-02-29", -1 },
	{ "2025-02-31", -1 },
	{ "2025-04-31", -1 },
	{ "2100-02-29", -1 },
	{ "2025-13-01", -1 },
	{ "2025-00-10", -1 },
	{ "2025-01-00", -1 },
	{ "2025-01-32", -1 },
	{ "1969-12-31", -1 },
	{ "2025-1-01", -1 },
	{ "2025-01-1", -1 },
	{ "25-01-01", -1 },
	{ "2025-01-01 ", -1 },
	{ "2025-01-01x", -1 },
	{ "2025/01/01", -1 },
	{ "+025-01-01", -1 },
	{ "", -1 },
};

static void
check_day(void)
{
	for (size_t i = 0; i < G_N_ELEMENTS(day_cases); i++) {
		const day_case *c = &day_cases[i];
		time_t when = 0;
		bool ok = parse_day(c->text, &when);

		unit_check(c->when < 0 ? !ok : ok && (long long)when ==
		    c->when, "parse_day(%s) %s %lld", unit_show(c->text),
		    c->when < 0 ? "refused" : "is", c->when);
	}
}

typedef struct codec_case {
	const char *data;
	const char *hex;
	const char *base64;
	const char *sha256;
} codec_case;

static const codec_case codec_cases[] = {
	{ "", "", "",
	  "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855" },
	{ "abc", "616263", "YWJj",
	  "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad" },
	{ "\xff\x00\x10", "ff0010", "/wAQ", NULL },
	{ "ab", "6162", "YWI=", NULL },
};

typedef struct text_b64_case {
	const char *text;
	bool url;
	const char *bytes;	/* NULL: refused */
} text_b64_case;

static const text_b64_case text_b64_cases[] = {
	{ "YWJj", false, "abc" },
	{ "YWI=", false, "ab" },
	{ "YWI", false, "ab" },
	{ "YQ==", false, "a" },
	{ "YQ", false, "a" },
	{ " YW\r\n Jj\t", false, "abc" },
	{ "YW\nI=\n", false, "ab" },
	{ "-_8", true, "\xfb\xff" },
	{ "+/8=", false, "\xfb\xff" },
	{ "+/8", true, NULL },
	{ "-_8", false, NULL },
	{ "YWI=", true, NULL },
	{ "YQ==YQ", false, NULL },
	{ "YQ===", false, NULL },
	{ "Y", false, NULL },
	{ "", false, NULL },
	{ "  \n", false, NULL },
	{ "YW*j", false, NULL },
};

/* check_unbase64_text - base64 inside text, as DLP finds it */
static void
check_unbase64_text(void)
{
	for (size_t i = 0; i < G_N_ELEMENTS(text_b64_cases); i++) {
		const text_b64_case *c = &text_b64_cases[i];
		GByteArray *out = g_byte_array_new();
		bool ok = codec_unbase64_text(c->text, strlen(c->text), c->url,
		    out);

		if (c->bytes == NULL)
			unit_check(!ok && out->len == 0, "codec_unbase64_text"
			    "(%s, url %d) refused", unit_show(c->text), c->url);
		else
			unit_check(ok && out->len == strlen(c->bytes) &&
			    memcmp(out->data, c->bytes, out->len) == 0,
			    "codec_unbase64_text(%s, url %d) is %s",
			    unit_show(c->text), c->url, unit_show(c->bytes));
		g_byte_array_free(out, TRUE);
	}
}

static void
check_codec(void)
{
	for (size_t i = 0; i < G_N_ELEMENTS(codec_cases); i++) {
		const codec_case *c = &codec_cases[i];
		size_t len = strlen(c->hex) / 2, used = 0;
		unsigned char back[16];
		char *hex = codec_hex(c->data, len);
		char *b64 = codec_base64(c->data, len);
		GByteArray *bin = codec_unbase64(b64, strlen(b64), NULL);

		unit_check(strcmp(hex, c->hex) == 0 &&
		    codec_unhex(hex, back, sizeof(back), &used) &&
		    used == len && memcmp(back, c->data, len) == 0,
		    "codec_hex/codec_unhex of %s", unit_show(c->hex));
		unit_check(strcmp(b64, c->base64) == 0 && bin != NULL &&
		    bin->len == len && memcmp(bin->data, c->data, len) == 0,
		    "codec_base64/codec_unbase64 of %s", unit_show(c->hex));
		if (c->sha256 != NULL) {
			char *sum = codec_sha256_hex(c->data, len);

			unit_check(strcmp(sum, c->sha256) == 0,
			    "codec_sha256_hex of %s", unit_show(c->data));
			g_free(sum);
		}
		if (bin != NULL)
			g_byte_array_free(bin, TRUE);
		g_free(hex);
		g_free(b64);
	}
	{
		unsigned char out[4];
		size_t used = 0;
		GByteArray *bin;

		unit_check(codec_unhex("A0b1", out, sizeof(out), &used) &&
		    used == 2 && out[0] == 0xa0 && out[1] == 0xb1,
		    "codec_unhex reads either case");
		unit_check(!codec_unhex("abc", out, sizeof(out), &used) &&
		    !codec_unhex("zz", out, sizeof(out), &used) &&
		    !codec_unhex("0011223344", out, sizeof(out), &used) &&
		    !codec_unhex("00 11", out, sizeof(out), &used),
		    "codec_unhex refuses odd, non-hex, too long, spaces");
		unit_check(codec_unbase64("YW", 2, NULL) == NULL &&
		    codec_unbase64("YWI", 3, NULL) == NULL &&
		    codec_unbase64("YW*=", 4, NULL) == NULL &&
		    codec_unbase64("YWJj\n", 5, NULL) == NULL,
		    "codec_unbase64 refuses short, unpadded, bad characters");
		bin = codec_unbase64("YW\r\nJj\n", 7, " \r\n");
		unit_check(bin != NULL && bin->len == 3 &&
		    memcmp(bin->data, "abc", 3) == 0,
		    "codec_unbase64 skips the white space it is told to");
		if (bin != NULL)
			g_byte_array_free(bin, TRUE);
	}
	check_unbase64_text();
}

/* check_legacy_records - records the replaced readers wrote still load */
static void
check_legacy_records(void)
{
	static const char crl_old[] = "url=http://127.0.0.1:1/r.crl\n"
	    "issuer=\netag=\"abc\"\nmodified=1700000000\n"
	    "last-attempt=1700000100\nlast-success=1700000050\nfailures=2\n";
	static const char job_old[] = "number = +4915112345678\n"
	    "sender = a@example.org\nrecipient = b@example.org\n"
	    "reference = ABCD2345\ntext = Password for the PDF: x y\n"
	    "expires = 1800000000\nattempts = 3\nnext-attempt = 1700000000\n";
	static const char static_old[] = "# for b@example.org\n"
	    "password = correct horse battery\nnot-before = 2020-01-01\n"
	    "not-after = 2099-12-31\n";
	static const char static_bad_day[] = "password = correct horse "
	    "battery\nnot-after = 2099-02-31\n";
	char *root = unit_tmpdir("kv");
	char *fpr = NULL, *path, *name, *password = NULL;
	const char *why = NULL;
	ms_store *store = NULL;
	crl_state st;
	smsjob job;
	ms_addr addr;
	ms_ca ca;
	GString *ca_old;
	ms_err err;

	if (!unit_check(store_open(root, true, &store) == MS_OK &&
	    store_lock(store, 5000) == MS_OK, "scratch store, locked"))
		return;
	/* crl-sync's state record, "key=value" without spaces */
	name = store_hash_name("http://127.0.0.1:1/r.crl");
	err = store_record_write(store, "crlstate", name, "crl-state",
	    crl_old, strlen(crl_old), 0600);
	crl_state_read(store, "http://127.0.0.1:1/r.crl", &st);
	unit_check(err == MS_OK && unit_streq(st.etag, "\"abc\"") &&
	    st.issuer == NULL && st.modified == 1700000000 &&
	    st.last_attempt == 1700000100 && st.last_success == 1700000050 &&
	    st.failures == 2, "an old CRL state record loads");
	crl_state_clear(&st);
	g_free(name);

	/* an SMS job as pdfwrap spooled it */
	path = g_strdup_printf("%s/spool", root);
	mkdir(path, 0700);
	g_free(path);
	path = g_strdup_printf("%s/spool/sms", root);
	mkdir(path, 0700);
	g_free(path);
	err = store_write(store, SMSJOB_DIR, "0123abcd", job_old,
	    strlen(job_old), 0600);
	err = err == MS_OK ? smsjob_read(store, "0123abcd", &job) : err;
	unit_check(err == MS_OK && unit_streq(job.number, "+4915112345678") &&
	    unit_streq(job.text, "Password for the PDF: x y") &&
	    job.attempts == 3 && job.expires == 1800000000 &&
	    job.next_attempt == 1700000000, "an old SMS job loads");
	if (err == MS_OK)
		smsjob_clear(&job);

	/* a static PDF password file with comments */
	memset(&addr, 0, sizeof(addr));
	addr.key = "b@example.org";
	addr.domain = "example.org";
	path = g_strdup_printf("%s/pdf", root);
	mkdir(path, 0700);
	g_free(path);
	path = g_strdup_printf("%s/pdf/static", root);
	mkdir(path, 0700);
	g_free(path);
	name = store_hash_name("b@example.org");
	err = store_write(store, "pdf/static", name, static_old,
	    strlen(static_old), 0600);
	g_free(name);
	err = err == MS_OK ? pdfpass_static(store, &addr, 1700000000,
	    &password, &why) : err;
	unit_check(err == MS_OK && unit_streq(password,
	    "correct horse battery"), "an old static password file loads");
	g_free(password);
	password = NULL;
	/* 2099-02-31 is no day (it was read as 3 March) */
	name = store_hash_name("b@example.org");
	err = store_write(store, "pdf/static", name, static_bad_day,
	    strlen(static_bad_day), 0600);
	g_free(name);
	err = err == MS_OK ? pdfpass_static(store, &addr, 1700000000,
	    &password, &why) : err;
	unit_check(err == MS_CONFIG && password == NULL,
	    "a static password file with not-after 2099-02-31 is refused");
	g_free(password);

	/* the CA state as the old writer wrote it */
	store_unlock(store);
	err = ca_init(store, "Test CA", "ec-p256", 30, NULL, &fpr);
	ca_old = g_string_new("name=Test CA\nkey=ec-p256\ncrl-url=\n"
	    "crl-number=5\n");
	if (err == MS_OK && store_lock(store, 5000) == MS_OK) {
		err = store_record_write(store, "ca", "state", "ca-state",
		    ca_old->str, ca_old->len, 0600);
		store_unlock(store);
	}
	err = err == MS_OK ? ca_load(store, &ca) : err;
	unit_check(err == MS_OK && unit_streq(ca.state.name, "Test CA") &&
	    ca.state.crl_number == 5 && unit_streq(ca.state.crl_url, ""),
	    "an old CA state record loads");
	if (err == MS_OK)
		ca_free(&ca);
	g_string_free(ca_old, TRUE);
	g_free(fpr);
	store_close(store);
	unit_rmtree(root);
	g_free(root);
}

typedef struct json_case {
	const char *text;
	const char *json;	/* the line jsonout_list prints for it */
} json_case;

static const json_case json_cases[] = {
	{ "plain", "[\n  {\"s\": \"plain\"}\n]\n" },
	{ "q\"b\\", "[\n  {\"s\": \"q\\\"b\\\\\"}\n]\n" },
	{ "c\x01\x1b\x7f", "[\n  {\"s\": \"c\\u0001\\u001B\x7f\"}\n]\n" },
	{ "bad\xff\xfe", "[\n  {\"s\": \"bad\xef\xbf\xbd\xef\xbf\xbd\"}\n]\n" },
	{ "\xc3\x28", "[\n  {\"s\": \"\xef\xbf\xbd(\"}\n]\n" },
	{ NULL, "[\n  {\"s\": \"\"}\n]\n" },
};

/* check_jsonout - hostile strings give valid JSON, escaped by jansson */
static void
check_jsonout(void)
{
	json_t *empty = json_array();
	char *text = jsonout_list(empty);

	unit_check(strcmp(text, "[\n]\n") == 0, "jsonout_list of no members");
	g_free(text);
	json_decref(empty);
	for (size_t i = 0; i < G_N_ELEMENTS(json_cases); i++) {
		const json_case *c = &json_cases[i];
		json_t *array = json_array(), *object = json_object(), *back;

		json_object_set_new(object, "s", jsonout_string(c->text));
		json_array_append_new(array, object);
		text = jsonout_list(array);
		back = json_loads(text, JSON_REJECT_DUPLICATES, NULL);
		unit_check(strcmp(text, c->json) == 0 && back != NULL,
		    "jsonout of %s is %s and valid JSON", unit_show(c->text),
		    unit_show(c->json));
		json_decref(back);
		json_decref(array);
		g_free(text);
	}
}

int
main(void)
{
	check_kv_table();
	check_kv_limits();
	check_append();
	check_only();
	check_size();
	check_decimal();
	check_day();
	check_codec();
	check_jsonout();
	check_legacy_records();
	return unit_done();
}
