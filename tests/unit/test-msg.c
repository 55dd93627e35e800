/*
 * test-msg.c - tests of message input (common/msg.c) against security.md
 * section 10 and the bad-input catalogue (section 15): the limits
 * MIME-L1..L4 give a defined problem, never a crash, also for 10,000
 * levels of nesting; ambiguity and damage are flags; CRLF works; what we
 * serialize parses back to the same structure.
 */
#include "msg.h"
#include "msgpart.h"
#include "mslimits.h"

#include <fcntl.h>
#include <sys/wait.h>
#include <time.h>

#include "unit.h"

static ms_limits defaults;

typedef struct msg_case {
	const char *name;
	const char *text;
	size_t len;		/* 0: strlen(text) */
	msg_problem problem;	/* expected problem (NONE: parsed) */
	unsigned parts;		/* when parsed: part count */
	unsigned depth;		/* ... deepest level */
	unsigned flags;		/* ... flags that must be set */
	unsigned noflags;	/* ... flags that must not be set */
} msg_case;

/* a literal with its exact length, NUL bytes included */
#define BYTES(s) s, sizeof(s) - 1
#define ALL_FLAGS (MSG_FLAG_AMBIGUOUS | MSG_FLAG_MALFORMED | \
	MSG_FLAG_8BIT_HEADERS)
#define SIMPLE "From: a@x.test\nTo: b@y.test\nSubject: hello\n" \
	"MIME-Version: 1.0\nContent-Type: text/plain\n\nhello, world\n"
#define MULTI3 "From: a@x.test\nSubject: three\nMIME-Version: 1.0\n" \
	"Content-Type: multipart/mixed; boundary=\"b1\"\n\n" \
	"preamble\n--b1\nContent-Type: text/plain\n\none\n" \
	"--b1\nContent-Type: text/html\n\n<p>two</p>\n" \
	"--b1\nContent-Type: application/octet-stream\n" \
	"Content-Transfer-Encoding: base64\n\nAAECAw==\n--b1--\nepilogue\n"

static const msg_case cases[] = {
	{ "simple text message", SIMPLE, 0, MSG_PROBLEM_NONE, 1, 1, 0,
	  ALL_FLAGS },
	{ "multipart/mixed with 3 parts (4 with itself)", MULTI3, 0,
	  MSG_PROBLEM_NONE, 4, 2, 0, ALL_FLAGS },
	{ "CRLF line endings",
	  "From: a@x.test\r\nSubject: crlf\r\nContent-Type: text/plain\r\n"
	  "\r\nbody\r\n", 0, MSG_PROBLEM_NONE, 1, 1, 0, ALL_FLAGS },
	{ "CRLF multipart with 3 parts",
	  "Subject: crlf\r\nContent-Type: multipart/mixed; boundary=q\r\n"
	  "\r\n--q\r\n\r\none\r\n--q\r\n\r\ntwo\r\n--q\r\n\r\nthree\r\n"
	  "--q--\r\n", 0, MSG_PROBLEM_NONE, 4, 2, 0, ALL_FLAGS },
	{ "message/rfc822 counts a level and a part",
	  "Subject: outer\nContent-Type: message/rfc822\n\n"
	  "Subject: inner\nContent-Type: text/plain\n\ninner body\n", 0,
	  MSG_PROBLEM_NONE, 2, 2, 0, ALL_FLAGS },
	{ "multipart with a forwarded multipart",
	  "Content-Type: multipart/mixed; boundary=o\n\n--o\n\ntext\n"
	  "--o\nContent-Type: message/rfc822\n\n"
	  "Subject: fwd\nContent-Type: multipart/alternative; boundary=i\n\n"
	  "--i\n\nplain\n--i\nContent-Type: text/html\n\n<p>x</p>\n--i--\n"
	  "--o--\n", 0, MSG_PROBLEM_NONE, 6, 4, 0, ALL_FLAGS },
	/* bad-input row 43: empty, header only, body without headers */
	{ "empty input", "", 0, MSG_PROBLEM_EMPTY, 0, 0, 0, 0 },
	{ "header only, no body", "Subject: x\n", 0, MSG_PROBLEM_NONE, 1, 1,
	  0, 0 },
	{ "a lone newline", "\n", 0, MSG_PROBLEM_NONE, 1, 1, 0, 0 },
	{ "body without headers", "hello world\n", 0,
	  MSG_PROBLEM_UNPARSABLE, 0, 0, 0, 0 },
	{ "binary garbage", "\x01\x02\x03\xff", 0, MSG_PROBLEM_UNPARSABLE,
	  0, 0, 0, 0 },
	/* MIME-A1: GMime uses the last of two Content-Type fields, common
	 * clients the first: that is ambiguity and is flagged */
	{ "duplicate Content-Type",
	  "Content-Type: text/plain\nContent-Type: text/html\n\nbody\n", 0,
	  MSG_PROBLEM_NONE, 1, 1, MSG_FLAG_AMBIGUOUS, 0 },
	{ "repeated identical Content-Type",
	  "Content-Type: text/plain\nContent-Type: text/plain\n\nbody\n", 0,
	  MSG_PROBLEM_NONE, 1, 1, MSG_FLAG_AMBIGUOUS, 0 },
	{ "duplicate Content-Transfer-Encoding",
	  "Content-Transfer-Encoding: base64\n"
	  "Content-Transfer-Encoding: 7bit\n\nbody\n", 0, MSG_PROBLEM_NONE,
	  1, 1, MSG_FLAG_AMBIGUOUS, 0 },
	{ "two boundary= parameters (amavis CVE-2024-28054)",
	  "Content-Type: multipart/mixed; boundary=a; boundary=b\n\n--a\n\n"
	  "x\n--a--\n", 0, MSG_PROBLEM_NONE, 2, 2, MSG_FLAG_AMBIGUOUS, 0 },
	{ "filename and filename* disagree",
	  "Content-Type: text/plain\nContent-Disposition: attachment; "
	  "filename=a.txt; filename*=utf-8''b.exe\n\nx\n", 0,
	  MSG_PROBLEM_NONE, 1, 1, MSG_FLAG_AMBIGUOUS, 0 },
	{ "duplicate Content-Type in a nested part",
	  "Content-Type: multipart/mixed; boundary=z\n\n--z\n"
	  "Content-Type: text/plain\nContent-Type: text/html\n\nx\n--z--\n",
	  0, MSG_PROBLEM_NONE, 2, 2, MSG_FLAG_AMBIGUOUS, 0 },
	{ "repeated Received fields are not ambiguity",
	  "Received: a\nReceived: b\nSubject: x\n\nbody\n", 0,
	  MSG_PROBLEM_NONE, 1, 1, 0, MSG_FLAG_AMBIGUOUS },
	/* damage */
	{ "multipart without boundary (row 1)",
	  "Content-Type: multipart/mixed\n\nbody\n", 0, MSG_PROBLEM_NONE, 1,
	  1, MSG_FLAG_MALFORMED, 0 },
	{ "multipart without closing boundary (row 2)",
	  "Content-Type: multipart/mixed; boundary=b\n\n--b\n\ntext\n", 0,
	  MSG_PROBLEM_NONE, 2, 2, MSG_FLAG_MALFORMED, 0 },
	/* row 11: GMime cuts a header at a NUL and joins what is left to
	 * the next line when writing, so a NUL is always flagged */
	{ "NUL in a top-level header (row 11)",
	  BYTES("Subject: a\0\nContent-Type: multipart/mixed; boundary=zz\n"
	  "\n--zz\n\nsecret\n--zz--\n"), MSG_PROBLEM_NONE, 2, 2,
	  MSG_FLAG_MALFORMED, 0 },
	{ "NUL in a nested header (row 11)",
	  BYTES("Content-Type: multipart/mixed; boundary=zz\n\n--zz\nX: a\0\n"
	  "Content-Type: text/html\n\nsecret\n--zz--\n"),
	  MSG_PROBLEM_NONE, 2, 2, MSG_FLAG_MALFORMED, 0 },
	{ "NUL in a body", BYTES("Subject: x\n\nbin\0ary\n"), MSG_PROBLEM_NONE,
	  1, 1, MSG_FLAG_MALFORMED, 0 },
	/* row 40: raw 8-bit headers, valid UTF-8 or not, at any level */
	{ "raw UTF-8 in a header", "Subject: caf\xc3\xa9\n\nbody\n", 0,
	  MSG_PROBLEM_NONE, 1, 1, MSG_FLAG_8BIT_HEADERS, 0 },
	{ "raw Latin-1 in a header", "Subject: caf\xe9\n\nbody\n", 0,
	  MSG_PROBLEM_NONE, 1, 1, MSG_FLAG_8BIT_HEADERS, 0 },
	{ "raw UTF-8 in a nested part header",
	  "Content-Type: multipart/mixed; boundary=z\n\n--z\n"
	  "Content-Description: caf\xc3\xa9\n\nx\n--z--\n", 0,
	  MSG_PROBLEM_NONE, 2, 2, MSG_FLAG_8BIT_HEADERS, 0 },
	{ "raw UTF-8 in a forwarded message header",
	  "Content-Type: message/rfc822\n\nSubject: caf\xc3\xa9\n\nx\n", 0,
	  MSG_PROBLEM_NONE, 2, 2, MSG_FLAG_8BIT_HEADERS, 0 },
	{ "raw UTF-8 only in a body",
	  "Subject: x\nContent-Type: text/plain; charset=utf-8\n"
	  "Content-Transfer-Encoding: 8bit\n\ncaf\xc3\xa9\n", 0,
	  MSG_PROBLEM_NONE, 1, 1, 0, MSG_FLAG_8BIT_HEADERS },
	{ "RFC 2047 encoded header is not 8-bit",
	  "Subject: =?utf-8?q?caf=C3=A9?=\n\nbody\n", 0, MSG_PROBLEM_NONE, 1,
	  1, 0, MSG_FLAG_8BIT_HEADERS },
};

/* parse_case - parse, compare, and check a serialize/parse round trip */
static void
check_case(const msg_case *c)
{
	size_t len = c->len ? c->len : strlen(c->text);
	ms_message *msg = NULL;
	msg_problem problem = MSG_PROBLEM_NONE;
	ms_err err;
	bool pass;

	err = msg_parse_buffer(c->text, len, &msg, &problem);
	if (c->problem != MSG_PROBLEM_NONE) {
		pass = err == MS_DATA && problem == c->problem && msg == NULL;
		if (!unit_check(pass, "%s: %s", c->name,
		    msg_problem_text(c->problem)))
			unit_note("got %s, %s", ms_err_name(err),
			    msg_problem_text(problem));
		msg_free(msg);
		return;
	}
	pass = err == MS_OK && msg != NULL && msg->parts == c->parts &&
	    msg->depth == c->depth && (msg->flags & c->flags) == c->flags &&
	    (msg->flags & c->noflags) == 0 && msg->raw_len == len;
	if (!unit_check(pass, "%s: parts %u, depth %u, flags %#x, not %#x",
	    c->name, c->parts, c->depth, c->flags, c->noflags) && msg)
		unit_note("got %s (%s): parts %u depth %u flags %#x",
		    ms_err_name(err), msg_problem_text(problem), msg->parts,
		    msg->depth, msg->flags);
	msg_free(msg);
}

/* check_round_trips - what msg_serialize writes parses to the same
 * structure, and writing that again gives the same bytes */
static void
check_round_trips(void)
{
	static const char *const texts[] = { SIMPLE, MULTI3,
		"Subject: crlf\r\nContent-Type: multipart/mixed; boundary=q\r\n"
		"\r\n--q\r\n\r\none\r\n--q\r\n\r\ntwo\r\n--q--\r\n",
		"Subject: outer\nContent-Type: message/rfc822\n\n"
		"Subject: inner\n\ninner body\n",
	};

	for (size_t i = 0; i < G_N_ELEMENTS(texts); i++) {
		ms_message *first = NULL, *second = NULL;
		msg_problem problem;
		GByteArray *out1 = NULL, *out2 = NULL;
		bool pass;

		pass = msg_parse_buffer(texts[i], strlen(texts[i]), &first,
		    &problem) == MS_OK;
		if (pass) {
			out1 = msg_serialize(GMIME_OBJECT(first->mime));
			pass = out1 != NULL && out1->len > 0 &&
			    memchr(out1->data, '\r', out1->len) == NULL;
		}
		if (pass)
			pass = msg_parse_buffer((const char *)out1->data,
			    out1->len, &second, &problem) == MS_OK &&
			    second->parts == first->parts &&
			    second->depth == first->depth &&
			    second->flags == first->flags;
		if (pass) {
			out2 = msg_serialize(GMIME_OBJECT(second->mime));
			pass = out2 != NULL && out2->len == out1->len &&
			    memcmp(out2->data, out1->data, out1->len) == 0;
		}
		unit_check(pass, "msg_serialize round trip %zu: same "
		    "structure, LF endings, stable bytes", i + 1);
		if (pass && i == 0) {
			const char *subject = g_mime_message_get_subject(
			    second->mime);

			unit_check(subject && strcmp(subject, "hello") == 0 &&
			    g_strstr_len((const char *)out1->data,
			    (gssize)out1->len, "hello, world\n") != NULL,
			    "round trip keeps the subject and the body");
		}
		if (out1)
			g_byte_array_free(out1, TRUE);
		if (out2)
			g_byte_array_free(out2, TRUE);
		msg_free(first);
		msg_free(second);
	}
}

/* nested_multipart - levels multiparts, one inside the other, around
 * one text part (which sits at depth levels + 1) */
static GString *
nested_multipart(unsigned levels)
{
	GString *s = g_string_new("From: a@x.test\nSubject: nested\n"
	    "MIME-Version: 1.0\n");

	for (unsigned i = 0; i < levels; i++)
		g_string_append_printf(s, "Content-Type: multipart/mixed; "
		    "boundary=\"b%u\"\n\n--b%u\n", i, i);
	g_string_append(s, "Content-Type: text/plain\n\nhello\n");
	for (unsigned i = levels; i-- > 0;)
		g_string_append_printf(s, "--b%u--\n", i);
	return s;
}

/* nested_messages - levels message/rfc822 wrappers around a text body */
static GString *
nested_messages(unsigned levels)
{
	GString *s = g_string_new("");

	for (unsigned i = 0; i < levels; i++)
		g_string_append_printf(s, "Subject: level %u\n"
		    "Content-Type: message/rfc822\n\n", i);
	g_string_append(s, "Subject: innermost\n\nhello\n");
	return s;
}

/* nested_same_boundary - row 6: nested multiparts reusing one boundary */
static GString *
nested_same_boundary(unsigned levels)
{
	GString *s = g_string_new("");

	for (unsigned i = 0; i < levels; i++)
		g_string_append(s, "Content-Type: multipart/mixed; "
		    "boundary=\"same\"\n\n--same\n");
	g_string_append(s, "\nhello\n");
	for (unsigned i = 0; i < levels; i++)
		g_string_append(s, "--same--\n");
	return s;
}

static double
seconds_since(const struct timespec *start)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (double)(now.tv_sec - start->tv_sec) +
	    (double)(now.tv_nsec - start->tv_nsec) / 1e9;
}

/* expect - parse s and check problem (and depth when parsed) */
static void
expect(GString *s, msg_problem want, unsigned want_depth, const char *what)
{
	ms_message *msg = NULL;
	msg_problem problem = MSG_PROBLEM_NONE;
	struct timespec start;
	double took;
	ms_err err;
	bool pass;

	clock_gettime(CLOCK_MONOTONIC, &start);
	err = msg_parse_buffer(s->str, s->len, &msg, &problem);
	took = seconds_since(&start);
	if (want == MSG_PROBLEM_NONE)
		pass = err == MS_OK && msg->depth == want_depth;
	else
		pass = err == MS_DATA && problem == want && msg == NULL;
	/* "quickly": generous, so sanitizer builds pass too */
	pass = pass && took < 20.0;
	if (!unit_check(pass, "%s: %s (%.2f s, %zu octets)", what,
	    want == MSG_PROBLEM_NONE ? "parsed" : msg_problem_text(want),
	    took, s->len))
		unit_note("got %s, %s, depth %u", ms_err_name(err),
		    msg_problem_text(problem), msg ? msg->depth : 0);
	msg_free(msg);
	g_string_free(s, TRUE);
}

static void
check_depth(void)
{
	ms_limits lim = defaults;
	unsigned d = defaults.mime_depth;

	limits_set(&defaults);
	/* the default limit (32): 31 multiparts put the text at 32 */
	expect(nested_multipart(d - 1), MSG_PROBLEM_NONE, d,
	    "multiparts nested to the depth limit");
	expect(nested_multipart(d), MSG_PROBLEM_TOO_DEEP, 0,
	    "multiparts nested one past the depth limit");
	expect(nested_messages(d - 1), MSG_PROBLEM_NONE, d,
	    "message/rfc822 nested to the depth limit");
	expect(nested_messages(d), MSG_PROBLEM_TOO_DEEP, 0,
	    "message/rfc822 nested one past the depth limit");
	/* row 7: far deeper than any limit; GMime itself stops at 1024 */
	expect(nested_multipart(100), MSG_PROBLEM_TOO_DEEP, 0,
	    "100 nested multiparts");
	expect(nested_multipart(1000), MSG_PROBLEM_TOO_DEEP, 0,
	    "1000 nested multiparts");
	expect(nested_multipart(10000), MSG_PROBLEM_TOO_DEEP, 0,
	    "10000 nested multiparts");
	expect(nested_messages(1000), MSG_PROBLEM_TOO_DEEP, 0,
	    "1000 nested message/rfc822");
	expect(nested_messages(10000), MSG_PROBLEM_TOO_DEEP, 0,
	    "10000 nested message/rfc822");
	/* row 6: GMime nests multiparts that reuse their parent's boundary
	 * (the innermost claims each "--same" line), so only the limit
	 * stops them, in linear time */
	expect(nested_same_boundary(3), MSG_PROBLEM_NONE, 4,
	    "3 multiparts reusing one boundary nest (row 6)");
	expect(nested_same_boundary(10000), MSG_PROBLEM_TOO_DEEP, 0,
	    "10000 multiparts reusing one boundary (row 6)");
	/* a lower limit from policy */
	lim.mime_depth = 3;
	limits_set(&lim);
	expect(nested_multipart(2), MSG_PROBLEM_NONE, 3,
	    "depth limit 3: 2 multiparts");
	expect(nested_multipart(3), MSG_PROBLEM_TOO_DEEP, 0,
	    "depth limit 3: 3 multiparts");
	{
		/* a forward inside a multipart: multipart 1, message 2,
		 * its body 3, a multipart there would be 3 and text 4 */
		GString *s = g_string_new(
		    "Content-Type: multipart/mixed; boundary=o\n\n--o\n"
		    "Content-Type: message/rfc822\n\nSubject: fwd\n"
		    "Content-Type: multipart/mixed; boundary=i\n\n--i\n\nx\n"
		    "--i--\n--o--\n");

		expect(s, MSG_PROBLEM_TOO_DEEP, 0,
		    "depth limit 3: message/rfc822 levels count");
	}
	limits_set(&defaults);
}

/* many_parts - one multipart holding n text parts (n + 1 parts) */
static GString *
many_parts(unsigned n)
{
	GString *s = g_string_new("Content-Type: multipart/mixed; "
	    "boundary=p\n\n");

	for (unsigned i = 0; i < n; i++)
		g_string_append_printf(s, "--p\n\n%u\n", i);
	g_string_append(s, "--p--\n");
	return s;
}

static void
check_parts(void)
{
	ms_limits lim = defaults;

	lim.mime_parts = 10;
	limits_set(&lim);
	expect(many_parts(9), MSG_PROBLEM_NONE, 2,
	    "part limit 10: a multipart with 9 parts");
	expect(many_parts(10), MSG_PROBLEM_TOO_MANY_PARTS, 0,
	    "part limit 10: a multipart with 10 parts");
	expect(nested_messages(10), MSG_PROBLEM_TOO_MANY_PARTS, 0,
	    "part limit 10: 10 message/rfc822 levels are 11 parts");
	limits_set(&defaults);
	/* row 8: 100,000 parts against the default 1,000 */
	expect(many_parts(100000), MSG_PROBLEM_TOO_MANY_PARTS, 0,
	    "100000 parts in one multipart");
}

/* header_lines - n fields "X-Hn: " padded to width octets each (with
 * the newline), then a body */
static GString *
header_lines(unsigned n, size_t width, const char *eol)
{
	GString *s = g_string_new("");

	for (unsigned i = 0; i < n; i++) {
		size_t start = s->len;

		g_string_append_printf(s, "X-H%u: ", i);
		while (s->len - start < width - strlen(eol))
			g_string_append_c(s, 'v');
		g_string_append(s, eol);
	}
	g_string_append_printf(s, "%sbody%s", eol, eol);
	return s;
}

/* folded_field - one field of total octets, folded into lines of 60 */
static GString *
folded_field(size_t total)
{
	GString *s = g_string_new("Subject: x\nX-Long: ");

	while (s->len - 11 < total - 1) {
		if ((s->len - 11) % 60 == 59) {
			g_string_append(s, "\n\t");
			continue;
		}
		g_string_append_c(s, 'v');
	}
	g_string_append(s, "\n\nbody\n");
	return s;
}

static void
check_header_limits(void)
{
	ms_limits lim = defaults;
	GString *s;

	lim.header_section = 1024;
	lim.header_field = 512;
	limits_set(&lim);
	/* the section: 16 fields of 64 octets are 1024, one more octet is
	 * too many (the blank line does not count) */
	expect(header_lines(16, 64, "\n"), MSG_PROBLEM_NONE, 1,
	    "header section of exactly 1024 octets, limit 1024");
	s = header_lines(16, 64, "\n");
	g_string_insert_c(s, 0, 'Y');
	expect(s, MSG_PROBLEM_HEADER_TOO_LARGE, 0,
	    "header section of 1025 octets, limit 1024");
	expect(header_lines(40, 60, "\n"), MSG_PROBLEM_HEADER_TOO_LARGE, 0,
	    "header section of 2400 octets, limit 1024");
	expect(header_lines(16, 64, "\r\n"), MSG_PROBLEM_NONE, 1,
	    "CRLF header section of 1024 octets, limit 1024");
	expect(header_lines(17, 64, "\r\n"), MSG_PROBLEM_HEADER_TOO_LARGE, 0,
	    "CRLF header section of 1088 octets, limit 1024");
	/* row 9: no blank line at all, the header never ends */
	s = header_lines(40, 60, "\n");
	g_string_truncate(s, 40 * 60);
	expect(s, MSG_PROBLEM_HEADER_TOO_LARGE, 0,
	    "header section without an end, over the limit");
	/* one field: folded continuation lines count toward it */
	expect(folded_field(512), MSG_PROBLEM_NONE, 1,
	    "one folded field of 512 octets, field limit 512");
	expect(folded_field(513), MSG_PROBLEM_HEADER_TOO_LARGE, 0,
	    "one folded field of 513 octets, field limit 512");
	expect(folded_field(900), MSG_PROBLEM_HEADER_TOO_LARGE, 0,
	    "one folded field of 900 octets, field limit 512");
	/* the same octets as separate fields are fine */
	expect(header_lines(10, 90, "\n"), MSG_PROBLEM_NONE, 1,
	    "ten fields of 90 octets, field limit 512");
	/* only the top-level header section is limited here; body lines
	 * that look like headers are not counted */
	s = header_lines(2, 40, "\n");
	for (unsigned i = 0; i < 100; i++)
		g_string_append(s, "X-Not-A-Header: in the body\n");
	expect(s, MSG_PROBLEM_NONE, 1,
	    "header-like body lines do not count");
	limits_set(&defaults);

	/* row 9 at the default limits: a 1 MB header line */
	s = g_string_new("Subject: ");
	for (unsigned i = 0; i < 1024 * 1024; i++)
		g_string_append_c(s, 'x');
	g_string_append(s, "\n\nbody\n");
	expect(s, MSG_PROBLEM_HEADER_TOO_LARGE, 0,
	    "a 1 MB header field at the default limits");
}

static void
check_size_limit(void)
{
	ms_limits lim = defaults;
	GString *s = g_string_new("Subject: size\n\n");

	lim.message_size = 1000;
	limits_set(&lim);
	while (s->len < 1000)
		g_string_append_c(s, 'x');
	expect(g_string_new_len(s->str, (gssize)s->len), MSG_PROBLEM_NONE, 1,
	    "a message of exactly 1000 octets, limit 1000");
	g_string_append_c(s, 'x');
	expect(s, MSG_PROBLEM_TOO_LARGE, 0,
	    "a message of 1001 octets, limit 1000");
	limits_set(&defaults);
}

/* check_read_fd - the file (mmap) and pipe paths of msg_read_fd */
static void
check_read_fd(void)
{
	char *dir = unit_tmpdir("msg");
	char *path = g_build_filename(dir, "in.eml", NULL);
	ms_message *msg = NULL;
	msg_problem problem;
	ms_limits lim = defaults;
	int fd, pipefd[2];
	ms_err err;

	if (!unit_write_file(path, MULTI3, strlen(MULTI3))) {
		unit_check(false, "write a message file");
		goto out;
	}
	fd = open(path, O_RDONLY);
	err = msg_read_fd(fd, &msg, &problem);
	unit_check(err == MS_OK && msg->parts == 4 &&
	    msg->raw_len == strlen(MULTI3) &&
	    memcmp(msg->raw, MULTI3, msg->raw_len) == 0,
	    "msg_read_fd from a regular file (mapped)");
	msg_free(msg);
	msg = NULL;
	close(fd);

	lim.message_size = 100;
	limits_set(&lim);
	fd = open(path, O_RDONLY);
	err = msg_read_fd(fd, &msg, &problem);
	unit_check(err == MS_DATA && problem == MSG_PROBLEM_TOO_LARGE &&
	    msg == NULL, "msg_read_fd: a file over the size limit");
	close(fd);
	limits_set(&defaults);

	/* a pipe is read to EOF: feed it from a child */
	if (pipe(pipefd) == 0) {
		pid_t pid;
		int status;

		fflush(stdout);
		pid = fork();
		if (pid == 0) {
			size_t len = strlen(MULTI3), off = 0;

			close(pipefd[0]);
			/* dribble so the reader sees short reads */
			while (off < len) {
				size_t n = len - off < 7 ? len - off : 7;
				ssize_t w = write(pipefd[1], MULTI3 + off, n);

				if (w <= 0)
					_exit(1);
				off += (size_t)w;
			}
			_exit(0);
		}
		close(pipefd[1]);
		err = msg_read_fd(pipefd[0], &msg, &problem);
		close(pipefd[0]);
		waitpid(pid, &status, 0);
		unit_check(err == MS_OK && msg->parts == 4 &&
		    msg->raw_len == strlen(MULTI3),
		    "msg_read_fd from a pipe");
		msg_free(msg);
		msg = NULL;
	}
	/* an empty file and an empty pipe */
	unit_write_file(path, "", 0);
	fd = open(path, O_RDONLY);
	err = msg_read_fd(fd, &msg, &problem);
	unit_check(err == MS_DATA && problem == MSG_PROBLEM_EMPTY,
	    "msg_read_fd: an empty file");
	close(fd);
	if (pipe(pipefd) == 0) {
		close(pipefd[1]);
		err = msg_read_fd(pipefd[0], &msg, &problem);
		close(pipefd[0]);
		unit_check(err == MS_DATA && problem == MSG_PROBLEM_EMPTY,
		    "msg_read_fd: an empty pipe");
	}
	/* a read error is temporary, never a short message (REL-4) */
	fd = open(dir, O_RDONLY | O_DIRECTORY);
	err = msg_read_fd(fd, &msg, &problem);
	unit_check(err == MS_TEMP && msg == NULL,
	    "msg_read_fd: a read error is MS_TEMP");
	close(fd);
out:
	unit_rmtree(dir);
	g_free(path);
	g_free(dir);
}

static void
check_texts(void)
{
	static const msg_problem all[] = { MSG_PROBLEM_NONE,
		MSG_PROBLEM_EMPTY, MSG_PROBLEM_TOO_LARGE,
		MSG_PROBLEM_HEADER_TOO_LARGE, MSG_PROBLEM_TOO_DEEP,
		MSG_PROBLEM_TOO_MANY_PARTS, MSG_PROBLEM_UNPARSABLE };
	bool pass = true;

	for (size_t i = 0; i < G_N_ELEMENTS(all); i++) {
		const char *status = msg_problem_status(all[i]);

		pass = pass && msg_problem_text(all[i]) != NULL &&
		    status != NULL && status[0] == '5' && strlen(status) == 5;
	}
	unit_check(pass, "every problem has a text and a 5.x.y status");
	unit_check(strcmp(msg_problem_status(MSG_PROBLEM_TOO_LARGE),
	    "5.3.4") == 0 &&
	    strcmp(msg_problem_status(MSG_PROBLEM_HEADER_TOO_LARGE),
	    "5.3.4") == 0, "size problems map to 5.3.4");
}

/* check_7bit_clean - msg_7bit_clean line by line: 8-bit, NUL, bare CR,
 * long lines and fragile lines (trailing white space, "From ") */
static void
check_7bit_clean(void)
{
	static const struct {
		const char *name;
		const char *text;
		size_t len;
		bool clean;
	} clean_cases[] = {
		{ "LF text", "Subject: x\n\nline\n", 0, true },
		{ "CRLF text", "Subject: x\r\n\r\nline\r\n", 0, true },
		{ "no final line end", "Subject: x\n\nline", 0, true },
		{ "8-bit byte", "Subject: x\n\ncaf\xc3\xa9\n", 0, false },
		{ "NUL", "Subject: x\n\na\0b\n", 17, false },
		{ "bare CR", "Subject: x\n\na\rb\n", 0, false },
		{ "CR CR LF", "Subject: x\n\na\r\r\n", 0, false },
		{ "CR at the end", "Subject: x\n\na\r", 0, false },
		{ "trailing space", "Subject: x\n\na \r\nb\n", 0, false },
		{ "trailing tab last", "Subject: x\n\na\t", 0, false },
		{ "From line", "Subject: x\n\nFrom me\n", 0, false },
		{ "From not at a line start", "Subject: x\n\n>From me\n", 0,
		  true },
	};
	GString *text = g_string_new("Subject: x\n\n");
	ms_message *msg = NULL;
	msg_problem problem;

	for (size_t i = 0; i < G_N_ELEMENTS(clean_cases); i++) {
		size_t len = clean_cases[i].len ? clean_cases[i].len :
		    strlen(clean_cases[i].text);

		msg = NULL;
		if (msg_parse_buffer(clean_cases[i].text, len, &msg, &problem) !=
		    MS_OK) {
			unit_check(false, "7-bit: %s parses", clean_cases[i].name);
			continue;
		}
		unit_check(msg_7bit_clean(msg) == clean_cases[i].clean,
		    "7-bit: %s", clean_cases[i].name);
		msg_free(msg);
	}
	/* 998 characters are allowed on a line (RFC 5322 2.1.1), 999 not */
	for (int extra = 0; extra < 2; extra++) {
		g_string_truncate(text, strlen("Subject: x\n\n"));
		for (int i = 0; i < 998 + extra; i++)
			g_string_append_c(text, 'a');
		g_string_append(text, "\r\n");
		msg = NULL;
		unit_check(msg_parse_buffer(text->str, text->len, &msg,
		    &problem) == MS_OK && msg_7bit_clean(msg) == (extra == 0),
		    "7-bit: a line of %d characters", 998 + extra);
		msg_free(msg);
	}
	g_string_free(text, TRUE);
}

/* reference_7bit_clean - msg_7bit_clean's rules written line by line and
 * octet by octet, to hold the fast scan against */
static bool
reference_7bit_clean(const unsigned char *p, size_t len)
{
	size_t start = 0;

	while (start <= len) {
		size_t end = start, text;

		while (end < len && p[end] != '\n')
			end++;
		if (end == len && start == len)
			break;		/* nothing after the last line end */
		text = end;
		if (text > start && p[text - 1] == '\r' && end < len)
			text--;		/* the CR of a CRLF */
		for (size_t i = start; i < text; i++)
			if (p[i] == '\0' || p[i] == '\r' || p[i] >= 0x80)
				return false;
		if (text - start > 998)
			return false;
		if (text > start && (p[text - 1] == ' ' ||
		    p[text - 1] == '\t'))
			return false;
		if (text - start >= 5 && memcmp(p + start, "From ", 5) == 0)
			return false;
		start = end + 1;
	}
	return true;
}

/* text_7bit_clean - msg_7bit_clean over text as a message's raw bytes */
static bool
text_7bit_clean(const GString *text)
{
	ms_message m = { 0 };

	m.raw = text->str;
	m.raw_len = text->len;
	return msg_7bit_clean(&m);
}

/* append_repeated - count copies of c */
static void
append_repeated(GString *text, char c, size_t count)
{
	for (size_t i = 0; i < count; i++)
		g_string_append_c(text, c);
}

/* check_7bit_positions - the scan looks at sixteen octets at a time: each
 * thing that makes a message unclean is found at every position across
 * those blocks, and random text gets the reference's verdict */
static void
check_7bit_positions(void)
{
	static const struct {
		const char *name;
		const char *bytes;
		size_t len;
	} features[] = {
		{ "an 8-bit octet", BYTES("a\x80") },
		{ "an octet 0xff", BYTES("a\xff") },
		{ "a NUL", BYTES("a\0") },
		{ "a bare CR", BYTES("a\rb") },
		{ "CR CR LF", BYTES("a\r\r\n") },
		{ "a trailing space", BYTES("a \n") },
		{ "a trailing tab before CRLF", BYTES("a\t\r\n") },
		{ "a From line", BYTES("\nFrom x\n") },
	};
	static const unsigned char alphabet[] = "aZ09 \t\r\n\nFrom>\0\x80";
	GString *text = g_string_new(NULL);
	GRand *rand = g_rand_new_with_seed(7);
	unsigned wrong = 0, unclean = 0, runs = 20000;
	ms_message none = { 0 };	/* raw NULL, no octets */

	unit_check(msg_7bit_clean(&none), "7-bit: no octets at all");

	for (size_t f = 0; f < G_N_ELEMENTS(features); f++) {
		bool all = true;

		for (size_t at = 0; at < 48; at++) {
			g_string_assign(text, "Subject: x\n\n");
			append_repeated(text, 'x', at);
			g_string_append_len(text, features[f].bytes,
			    (gssize)features[f].len);
			g_string_append(text, "and more text after it\n");
			all = all && !text_7bit_clean(text);
			/* the same line without the feature is clean */
			g_string_truncate(text, strlen("Subject: x\n\n"));
			append_repeated(text, 'x', at + 40);
			g_string_append_c(text, '\n');
			all = all && text_7bit_clean(text);
		}
		unit_check(all, "7-bit: %s at any offset", features[f].name);
	}
	for (int extra = 0; extra < 2; extra++) {
		bool all = true;

		for (size_t at = 0; at < 17; at++) {
			g_string_assign(text, "Subject: x\n\n");
			for (size_t i = 0; i < at; i++)
				g_string_append(text, "y\n");
			append_repeated(text, 'a', (size_t)(998 + extra));
			all = all && text_7bit_clean(text) == (extra == 0);
		}
		unit_check(all, "7-bit: a last line of %d characters without "
		    "a line end", 998 + extra);
	}
	for (unsigned run = 0; run < runs; run++) {
		unsigned len = (unsigned)g_rand_int_range(rand, 0, 80);
		bool want;

		g_string_truncate(text, 0);
		for (unsigned i = 0; i < len; i++) {
			/* mostly plain letters, so that clean texts occur */
			unsigned pick = (unsigned)g_rand_int_range(rand, 0, 64);

			g_string_append_c(text, (char)(pick < sizeof(alphabet) -
			    1 ? alphabet[pick] : 'q'));
		}
		want = reference_7bit_clean((const unsigned char *)text->str,
		    text->len);
		unclean += !want;
		if (text_7bit_clean(text) != want && wrong++ == 0)
			unit_note("differs from the reference on %s",
			    unit_show_len(text->str, text->len));
	}
	unit_check(wrong == 0 && unclean > runs / 10 &&
	    unclean < runs - runs / 10, "7-bit: %u random texts as the "
	    "reference judges them (%u unclean)", runs, unclean);
	g_rand_free(rand);
	g_string_free(text, TRUE);
}

/* check_bare_cr - a message with bare CR line ends (old Mac style) is
 * read with LF line ends, from memory and from a mapped file, so no body
 * text lands in a header field; a stray CR in a message with LF or CRLF
 * line ends is left as it was */
static void
check_bare_cr(void)
{
	static const struct {
		const char *name;
		const char *text;
		const char *raw;	/* what the reader reads */
		const char *subject;	/* NULL: not checked */
		const char *body;
	} cr_cases[] = {
		{ "CR line ends", "From: a@x\rTo: b@y\rSubject: s\r\rbody\r",
		  "From: a@x\nTo: b@y\nSubject: s\n\nbody\n", "s", "body\n" },
		{ "CR line ends, no body, no empty line",
		  "From: a@x\rSubject: s\r",
		  "From: a@x\nSubject: s\n", "s", "" },
		{ "CR header, a CRLF in the body stays",
		  "From: a@x\rSubject: s\r\rl1\r\nl2\r",
		  "From: a@x\nSubject: s\n\nl1\r\nl2\n", "s", "l1\r\nl2\n" },
		{ "CR line ends and an mbox From line",
		  "From a@x Mon Dec  7 10:00:00 2026\rSubject: s\r\rb\r",
		  "From a@x Mon Dec  7 10:00:00 2026\nSubject: s\n\nb\n", "s",
		  "b\n" },
		{ "LF message, a stray CR in a field",
		  "From: a@x\nSubject: s\rt\n\nbody\n",
		  "From: a@x\nSubject: s\rt\n\nbody\n", NULL, "body\n" },
		{ "LF message, a stray CR in its first field",
		  "Subject: s\rt\nFrom: a@x\n\nbody\n",
		  "Subject: s\rt\nFrom: a@x\n\nbody\n", NULL, "body\n" },
		{ "LF first line, CR after it",
		  "From: a@x\nSubject: s\rTo: b@y\r\rbody\r",
		  "From: a@x\nSubject: s\rTo: b@y\r\rbody\r", NULL, "" },
		{ "CRLF message, a stray CR in the body",
		  "From: a@x\r\nSubject: s\r\n\r\nb\rc\r\n",
		  "From: a@x\r\nSubject: s\r\n\r\nb\rc\r\n", "s", "b\rc\r\n" },
	};
	char *dir = unit_tmpdir("msg-cr");
	char *path = g_build_filename(dir, "in.eml", NULL);

	for (size_t i = 0; i < G_N_ELEMENTS(cr_cases); i++) {
		const char *name = cr_cases[i].name;
		const char *text = cr_cases[i].text;

		for (int from_file = 0; from_file < 2; from_file++) {
			ms_message *msg = NULL;
			msg_problem problem;
			const char *subject, *received;
			size_t len;
			ms_err err;
			int fd = -1;

			if (from_file) {
				if (!unit_write_file(path, text, strlen(text))) {
					unit_check(false, "write %s", name);
					continue;
				}
				fd = open(path, O_RDONLY);
				err = msg_read_fd(fd, &msg, &problem);
			} else
				err = msg_parse_buffer(text, strlen(text), &msg,
				    &problem);
			if (!unit_check(err == MS_OK, "%s (%s): parses", name,
			    from_file ? "file" : "memory")) {
				if (fd >= 0)
					close(fd);
				continue;
			}
			unit_check(msg->raw_len == strlen(cr_cases[i].raw) &&
			    memcmp(msg->raw, cr_cases[i].raw,
			    msg->raw_len) == 0, "%s (%s): read as %s", name,
			    from_file ? "file" : "memory",
			    unit_show(cr_cases[i].raw));
			received = msg_received(msg, &len);
			unit_check(len == msg->raw_len &&
			    memcmp(received, msg->raw, len) == 0,
			    "%s: the received bytes are the ones read", name);
			subject = g_mime_object_get_header(
			    GMIME_OBJECT(msg->mime), "Subject");
			unit_check(cr_cases[i].subject == NULL ||
			    (subject != NULL &&
			    strcmp(subject, cr_cases[i].subject) == 0),
			    "%s: Subject is %s", name,
			    unit_show(cr_cases[i].subject));
			unit_check(msg->raw_len - msg->header_len ==
			    strlen(cr_cases[i].body) && memcmp(msg->raw +
			    msg->header_len, cr_cases[i].body,
			    strlen(cr_cases[i].body)) == 0, "%s: body %s",
			    name, unit_show(cr_cases[i].body));
			msg_free(msg);
			if (fd >= 0)
				close(fd);
		}
	}
	unit_rmtree(dir);
	g_free(path);
	g_free(dir);
}

int
main(void)
{
	defaults = *limits_get();
	msg_library_init();
	msg_library_init();
	for (size_t i = 0; i < G_N_ELEMENTS(cases); i++)
		check_case(&cases[i]);
	check_round_trips();
	check_depth();
	check_parts();
	check_header_limits();
	check_size_limit();
	check_read_fd();
	check_texts();
	check_7bit_clean();
	check_7bit_positions();
	check_bare_cr();
	g_mime_shutdown();
	return unit_done();
}
