/*
 * test-pdf.c - table-driven tests of pdfwrap's text and password code
 * (common/pdf.c, common/pdfpass.c): the published random-password and
 * OTP test vectors, password IDs read back, attachment names made safe, HTML made text,
 * reply tokens sealed and opened (common/reply.c), the typed reasons
 * pdfmsg_build gives for a message that gets no PDF (common/pdfmsg.c),
 * and which paragraphs the Latin fast path takes and how it breaks them
 * (common/latin.c).
 */
#include "latin.h"
#include "msg.h"
#include "pdf.h"
#include "pdfmsg.h"
#include "pdfpass.h"
#include "reply.h"

#include "unit.h"

#include <pango/pangocairo.h>

typedef struct name_case {
	const char *input;
	const char *expected;
} name_case;

static const name_case name_cases[] = {
	{ "report.pdf", "report.pdf" },
	{ "../../etc/passwd", "passwd" },
	{ "..\\..\\boot.ini", "boot.ini" },
	{ "..", "fallback.bin" },
	{ "", "fallback.bin" },
	{ ".hidden", "hidden" },
	{ "dir/", "fallback.bin" },
	{ "a\001b\033c.txt", "abc.txt" },
	/* a right-to-left override would hide the real ending */
	{ "invoice\xe2\x80\xaetxt.exe", "invoicetxt.exe" },
	{ "caf\xc3\xa9.txt", "caf\xc3\xa9.txt" },
	{ "bad\xff\xfe.txt", "bad\xef\xbf\xbd\xef\xbf\xbd.txt" },
	{ "trailing. . ", "trailing" },
};

typedef struct otp_case {
	unsigned generation;
	unsigned char nonce_start;	/* nonce bytes start, start+1, ... */
	bool nonce_zero;
	const char *recipient;
	const char *id;
	const char *password;
} otp_case;

/* the vectors in pdfwrap-otp(1): secret 00 01 .. 1f */
static const otp_case otp_cases[] = {
	{ 1, 0xa0, false, "bob@example.test",
	  "2622-22F2-N8KC-9B77-NUMU-KCFC-PGQC-VDPH", "NFJWGSKBBYX9SX3E" },
	{ 1, 0xa0, false, "Bob@Example.TEST",
	  "2622-22F2-N8KC-9B77-NUMU-KCFC-PGQC-VDPH", "NFJWGSKBBYX9SX3E" },
	{ 1, 0xa0, false, "carol@example.test",
	  "2622-22F2-N8KC-9B77-NUMU-KCFC-PGQC-VDPH", "7UCYYX9DHAJN4UBL" },
	{ 2, 0, true, "bob@example.test",
	  "2622-22J2-2222-2222-2222-2222-2222-2222", "H8JU3YSJ5EM8TGDD" },
};

typedef struct id_case {
	const char *input;
	const char *written;	/* NULL: refused */
	unsigned generation;
} id_case;

static const id_case id_cases[] = {
	{ "2622-22F2-N8KC-9B77-NUMU-KCFC-PGQC-VDPH",
	  "2622-22F2-N8KC-9B77-NUMU-KCFC-PGQC-VDPH", 1 },
	{ "262222f2n8kc9b77 numu kcfc pgqc vdph",
	  "2622-22F2-N8KC-9B77-NUMU-KCFC-PGQC-VDPH", 1 },
	{ "2622-22J2-2222-2222-2222-2222-2222-2222",
	  "2622-22J2-2222-2222-2222-2222-2222-2222", 2 },
	/* one symbol short, one too many, a look-alike, version 2, gen 0 */
	{ "2622-22F2-N8KC-9B77-NUMU-KCFC-PGQC-VDP", NULL, 0 },
	{ "2622-22F2-N8KC-9B77-NUMU-KCFC-PGQC-VDPHH", NULL, 0 },
	{ "2622-22F2-N8KC-9B77-NUMU-KCFC-PGQC-VDP0", NULL, 0 },
	{ "4222-22F2-N8KC-9B77-NUMU-KCFC-PGQC-VDPH", NULL, 0 },
	{ "2622-2222-N8KC-9B77-NUMU-KCFC-PGQC-VDPH", NULL, 0 },
	{ "", NULL, 0 },
};

/* check_otp - the OTP vectors and password IDs */
static void
check_otp(const unsigned char *secret)
{
	char password[PDFPASS_LEN + 1], id[PDFPASS_OTP_ID_LEN + 1];
	char other[PDFPASS_OTP_ID_LEN + 1];
	size_t i;

	for (i = 0; i < G_N_ELEMENTS(otp_cases); i++) {
		const otp_case *c = &otp_cases[i];
		unsigned char nonce[16];
		size_t j;

		for (j = 0; j < sizeof(nonce); j++)
			nonce[j] = c->nonce_zero ? 0 :
			    (unsigned char)(c->nonce_start + j);
		pdfpass_otp_make_id(c->generation, nonce, id);
		unit_check(strcmp(id, c->id) == 0, "OTP id %s", id);
		pdfpass_otp_derive(secret, id, c->recipient, password);
		unit_check(strcmp(password, c->password) == 0,
		    "OTP vector %s %s -> %s", c->id, c->recipient, password);
	}
	for (i = 0; i < G_N_ELEMENTS(id_cases); i++) {
		const id_case *c = &id_cases[i];
		unsigned generation = 0;
		ms_err err = pdfpass_otp_parse_id(c->input, id, &generation);

		if (c->written == NULL) {
			unit_check(err == MS_DATA, "id %s refused",
			    unit_show(c->input));
		} else {
			unit_check(err == MS_OK && strcmp(id, c->written) ==
			    0 && generation == c->generation, "id %s read",
			    unit_show(c->input));
		}
	}
	pdfpass_otp_new_id(7, id);
	pdfpass_otp_new_id(7, other);
	unit_check(strcmp(id, other) != 0, "two new ids differ");
	{
		unsigned generation = 0;

		unit_check(pdfpass_otp_parse_id(id, other, &generation) ==
		    MS_OK && generation == 7 && strcmp(id, other) == 0,
		    "a new id reads back");
	}
}

#define CLAIMS_TAIL "\"internal_sender\":\"a@x.test\"," \
	"\"external_recipient\":\"b@y.test\",\"subject_hash\":\"00\"," \
	"\"iat\":1,\"exp\":2}"

/* sealed claims that are genuine but not what this version writes */
static const char *const odd_claims[] = {
	"{\"v\":2,\"msgid\":\"\"," CLAIMS_TAIL,
	"{\"v\":1,\"v\":1,\"msgid\":\"\"," CLAIMS_TAIL,
	"{\"v\":1,\"msgid\":\"\"," CLAIMS_TAIL "{}",
	"{\"v\":1,\"msgid\":\"a\\u0000b\"," CLAIMS_TAIL,
	"{\"v\":1,\"msgid\":\"a\\nb\"," CLAIMS_TAIL,
	"{\"v\":1,\"msgid\":1," CLAIMS_TAIL,
	"{\"v\":1.0,\"msgid\":\"\"," CLAIMS_TAIL,
	"[1]",
	"",
};

/* check_reply - tokens open to their claims, in a URL too; a changed
 * token, another key or a non-token is refused */
static void
check_reply(const unsigned char *key)
{
	static const char *const not_tokens[] = {
		"", "?", "https://portal.test/reply", "https://p.test/reply?x=1",
		"https://p.test/reply?t=", "!!!!", "AAAA",
		"https://p.test/reply?t=a%41",
	};
	unsigned char other_key[REPLY_KEY_LEN];
	reply_claims claims = {
		"m1@example.test", "alice@example.test", "bob@example.test",
		NULL, 1000, 2000
	}, got;
	const char *why = NULL;
	char *token, *url, *changed;
	size_t i;

	claims.subject_hash = reply_subject_hash("Hello");
	unit_check(strcmp(claims.subject_hash, "185f8db32271fe25f561a6fc938b2e2"
	    "64306ec304eda518007d1764826381969") == 0, "subject hash");
	token = reply_token_make(key, &claims);
	unit_check(reply_token_open(key, token, &got, &why) == MS_OK &&
	    strcmp(got.msgid, claims.msgid) == 0 &&
	    strcmp(got.internal_sender, claims.internal_sender) == 0 &&
	    strcmp(got.external_recipient, claims.external_recipient) == 0 &&
	    strcmp(got.subject_hash, claims.subject_hash) == 0 &&
	    got.iat == 1000 && got.exp == 2000, "a token opens to its claims");
	reply_claims_clear(&got);
	unit_check(strstr(token, "alice") == NULL && strstr(token, "=") ==
	    NULL, "the token is sealed base64url");
	url = g_strdup_printf("https://p.test/reply?lang=de&t=%s#top", token);
	unit_check(reply_token_open(key, url, &got, &why) == MS_OK &&
	    strcmp(got.internal_sender, "alice@example.test") == 0,
	    "a reply URL opens");
	reply_claims_clear(&got);
	changed = g_strdup(token);
	changed[30] = changed[30] == 'A' ? 'B' : 'A';
	unit_check(reply_token_open(key, changed, &got, &why) == MS_DATA &&
	    got.msgid == NULL, "a changed token is refused");
	memcpy(other_key, key, sizeof(other_key));
	other_key[0] ^= 1;
	unit_check(reply_token_open(other_key, token, &got, &why) == MS_DATA,
	    "another key does not open it");
	for (i = 0; i < G_N_ELEMENTS(not_tokens); i++)
		unit_check(reply_token_open(key, not_tokens[i], &got, &why) ==
		    MS_DATA, "not a token: %s", unit_show(not_tokens[i]));
	{
		static const char good_claims[] =
		    "{\"v\":1,\"msgid\":\"\"," CLAIMS_TAIL;
		char *good = reply_token_seal(key, good_claims,
		    strlen(good_claims));

		unit_check(reply_token_open(key, good, &got, &why) == MS_OK &&
		    got.exp == 2, "hand-sealed claims open");
		reply_claims_clear(&got);
		g_free(good);
	}
	for (i = 0; i < G_N_ELEMENTS(odd_claims); i++) {
		char *odd = reply_token_seal(key, odd_claims[i],
		    strlen(odd_claims[i]));

		unit_check(reply_token_open(key, odd, &got, &why) == MS_DATA &&
		    got.msgid == NULL, "claims refused: %s",
		    unit_show(odd_claims[i]));
		g_free(odd);
	}
	g_free(changed);
	g_free(url);
	g_free(token);
	g_free(claims.subject_hash);
}

/* a message with a number of small attachments and one large one */
typedef struct refusal_case {
	unsigned attachments;
	size_t large;		/* octets of one more attachment, 0 for none */
	ms_err err;
	pdfmsg_reason reason;
} refusal_case;

static const refusal_case refusal_cases[] = {
	{ 2, 0, MS_OK, PDFMSG_BUILT },
	{ PDFMSG_MAX_ATTACHMENTS, 0, MS_OK, PDFMSG_BUILT },
	{ PDFMSG_MAX_ATTACHMENTS + 1, 0, MS_POLICY,
	  PDFMSG_TOO_MANY_ATTACHMENTS },
	{ 1, PDFMSG_MAX_ATTACHMENT_BYTES + 1, MS_POLICY,
	  PDFMSG_ATTACHMENTS_TOO_LARGE },
};

static void
check_refusals(void)
{
	size_t i;

	for (i = 0; i < G_N_ELEMENTS(refusal_cases); i++) {
		const refusal_case *c = &refusal_cases[i];
		GString *text = g_string_new("From: a@example.test\n"
		    "To: b@example.test\nSubject: s\nMIME-Version: 1.0\n"
		    "Content-Type: multipart/mixed; boundary=b\n\n"
		    "--b\nContent-Type: text/plain\n\nbody\n");
		pdfmsg_reason reason = PDFMSG_BUILT;
		GByteArray *pdf = NULL;
		ms_message *msg = NULL;
		msg_problem problem;
		unsigned k;
		ms_err err;

		for (k = 0; k < c->attachments; k++)
			g_string_append_printf(text, "--b\nContent-Type: "
			    "application/octet-stream; name=f%u.bin\n\n"
			    "part %u\n", k, k);
		if (c->large > 0) {
			g_string_append(text, "--b\nContent-Type: "
			    "application/octet-stream; name=large.bin\n"
			    "Content-Transfer-Encoding: binary\n\n");
			for (k = 0; k < c->large; k++)
				g_string_append_c(text, 'x');
			g_string_append_c(text, '\n');
		}
		g_string_append(text, "--b--\n");
		err = msg_parse_buffer(text->str, text->len, &msg, &problem);
		unit_check(err == MS_OK, "refusal case %zu parses", i);
		if (err == MS_OK) {
			err = pdfmsg_build(msg, "twelve chars", NULL, false,
			    &pdf, &reason);
			unit_check(err == c->err && reason == c->reason &&
			    (err == MS_OK) == (pdf != NULL),
			    "refusal case %zu: %s, reason %d", i,
			    ms_err_name(err), (int)reason);
		}
		if (pdf != NULL)
			g_byte_array_free(pdf, TRUE);
		msg_free(msg);
		g_string_free(text, TRUE);
	}
}

typedef struct latin_case {
	const char *text;
	bool taken;		/* false: left to a PangoLayout */
	unsigned lines;		/* 0: more than one */
} latin_case;

/* a line of the body is 483 points wide, 10-point text */
#define LATIN_WIDTH (483 * PANGO_SCALE)
#define REPEAT4(s) s s s s
#define REPEAT16(s) REPEAT4(REPEAT4(s))

static const latin_case latin_cases[] = {
	{ "", true, 1 },
	{ "plain words", true, 1 },
	{ "   an indented line", true, 1 },
	{ "trailing spaces   ", true, 1 },
	{ "na\xc3\xafve caf\xc3\xa9 \xc5\x92uvre \xc5\x81\xc3\xb3" "d\xc5\xba "
	  "Stra\xc3\x9f" "e office", true, 1 },
	{ REPEAT16("several words on a line "), true, 0 },
	/* a tab stop, a soft hyphen, other scripts, a letter past Latin
	 * Extended-A, a word wider than a line: pango's */
	{ "a\ttab", false, 0 },
	{ "soft\xc2\xadhyphen", false, 0 },
	{ "Arabic \xd9\x85\xd8\xb1\xd8\xad\xd8\xa8\xd8\xa7", false, 0 },
	{ "CJK \xe4\xb8\xad\xe6\x96\x87", false, 0 },
	{ "Greek \xce\xb1\xce\xb2", false, 0 },
	{ "\xc7\x85 Latin Extended-B", false, 0 },
	{ "combining e\xcc\x81", false, 0 },
	{ REPEAT16("averyveryverylongword"), false, 0 },
	{ "cut \xc3", false, 0 },
};

/* squeezed - the words of text[0, len) joined by single spaces (g_free) */
static char *
squeezed(const char *text, size_t len)
{
	char *copy = g_strndup(text, len);
	char **words = g_strsplit(copy, " ", -1), **p;
	GString *out = g_string_new(NULL);

	for (p = words; *p != NULL; p++) {
		if (**p == '\0')
			continue;
		if (out->len > 0)
			g_string_append_c(out, ' ');
		g_string_append(out, *p);
	}
	g_strfreev(words);
	g_free(copy);
	return g_string_free(out, FALSE);
}

/* latin_words_equal - whether the lines of text hold its words, in
 * order, each line but the first starting on a word and each ending
 * after one */
static bool
latin_words_equal(const char *text, const GArray *lines)
{
	GString *joined = g_string_new(NULL);
	char *have, *want;
	bool ok = true;
	guint i;

	for (i = 0; i < lines->len; i++) {
		const latin_line *line = &g_array_index(lines, latin_line, i);

		if (line->end < line->start || (line->end > line->start &&
		    text[line->end - 1] == ' ') ||
		    (i > 0 && text[line->start] == ' '))
			ok = false;
		g_string_append_c(joined, ' ');
		g_string_append_len(joined, text + line->start,
		    (gssize)(line->end - line->start));
	}
	have = squeezed(joined->str, joined->len);
	want = squeezed(text, strlen(text));
	ok = ok && strcmp(have, want) == 0;
	g_free(have);
	g_free(want);
	g_string_free(joined, TRUE);
	return ok;
}

/* check_latin - the fast path's choices and line breaks, and its cache
 * holding each word once */
static void
check_latin(void)
{
	PangoFontMap *fontmap = pango_cairo_font_map_new();
	PangoContext *context = pango_font_map_create_context(fontmap);
	latin *l = latin_new(context, "Noto Sans, DejaVu Sans 10");
	GArray *lines = g_array_new(FALSE, FALSE, sizeof(latin_line));
	size_t i, before;
	bool taken;

	if (!unit_check(l != NULL, "the body font serves the Latin path"))
		goto out;
	for (i = 0; i < G_N_ELEMENTS(latin_cases); i++) {
		const latin_case *c = &latin_cases[i];

		taken = latin_break(l, c->text, strlen(c->text), LATIN_WIDTH,
		    lines);

		unit_check(taken == c->taken, "latin %s: %s",
		    unit_show(c->text), taken ? "taken" : "left to pango");
		if (!taken || !c->taken)
			continue;
		unit_check(c->lines == 0 ? lines->len > 1 :
		    lines->len == c->lines, "latin %s: %u lines",
		    unit_show(c->text), lines->len);
		unit_check(latin_words_equal(c->text, lines),
		    "latin %s: every word once, in order, broken at spaces",
		    unit_show(c->text));
	}
	/* shaping is per word, not per occurrence */
	before = latin_words(l);
	taken = latin_break(l, REPEAT16("alpha beta gamma "),
	    strlen(REPEAT16("alpha beta gamma ")), LATIN_WIDTH, lines);
	unit_check(taken && latin_words(l) == before + 3,
	    "three words, each shaped once (%zu)", latin_words(l) - before);
out:
	latin_free(l);
	g_array_free(lines, TRUE);
	g_object_unref(context);
	g_object_unref(fontmap);
}

int
main(void)
{
	unsigned char key[32];
	char password[PDFPASS_LEN + 1];
	size_t i;

	for (i = 0; i < sizeof(key); i++)
		key[i] = (unsigned char)i;
	/* the vector in pdfwrap(1) */
	pdfpass_derive(key, sizeof(key), "4XyZ1", "alice@example.test",
	    "bob@example.test", password);
	unit_check(strcmp(password, "AX6MNY3QQFD32YSR") == 0,
	    "random password test vector (%s)", password);
	pdfpass_derive(key, sizeof(key), "4XyZ1", "alice@example.test",
	    "carol@example.test", password);
	unit_check(strcmp(password, "AX6MNY3QQFD32YSR") != 0,
	    "another recipient, another password");
	pdfpass_derive(key, sizeof(key), "4XyZ1", "mallory@example.test",
	    "bob@example.test", password);
	unit_check(strcmp(password, "AX6MNY3QQFD32YSR") != 0,
	    "another sender, another password");
	check_otp(key);
	check_reply(key);
	msg_library_init();
	check_refusals();
	check_latin();
	unit_check(pdfpass_check_static("twelve chars") == MS_OK,
	    "a 12-character static password is accepted");
	unit_check(pdfpass_check_static("eleven char") != MS_OK,
	    "an 11-character static password is refused");
	for (i = 0; i < G_N_ELEMENTS(name_cases); i++) {
		char *safe = pdf_safe_name(name_cases[i].input,
		    "fallback.bin");

		unit_check(strcmp(safe, name_cases[i].expected) == 0,
		    "safe name %s -> %s", unit_show(name_cases[i].input),
		    unit_show(safe));
		g_free(safe);
	}
	return unit_done();
}
