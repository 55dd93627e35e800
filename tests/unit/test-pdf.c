/*
 * test-pdf.c - table-driven tests of pdfwrap's text and password code
 * (common/pdf.c, common/pdfpass.c): the published random-password test
 * vector, attachment names made safe, HTML made text.
 */
#include "pdf.h"
#include "pdfpass.h"

#include "unit.h"

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

typedef struct html_case {
	const char *input;
	const char *expected;
} html_case;

static const html_case html_cases[] = {
	{ "<p>a &amp; b</p>", "\na & b\n" },
	{ "x<br>y", "x\ny" },
	{ "<script>alert(1)</script>ok", "ok" },
	{ "<STYLE>p{}</STYLE>ok", "ok" },
	{ "<!-- hidden -->shown", "shown" },
	{ "<ul><li>one<li>two</ul>", "\n\n- one\n- two\n" },
	{ "&#228;&#x20ac;&lt;&gt;&quot;", "\xc3\xa4\xe2\x82\xac<>\"" },
	{ "&#0;&#x110000;&bogus; &", "&bogus; &" },
	{ "a   \n\t b", "a b" },
	{ "<b>unclosed", "unclosed" },
	{ "<script>never closed", "" },
	{ "tail <", "tail" },
};

int
main(void)
{
	unsigned char key[32];
	char password[PDFPASS_LEN + 1];
	size_t i;

	for (i = 0; i < sizeof(key); i++)
		key[i] = (unsigned char)i;
	/* the vector in pdfwrap(1) */
	pdfpass_derive(key, sizeof(key), "4XyZ1", "bob@example.test",
	    password);
	unit_check(strcmp(password, "C6ELLKMFENBW3XX2") == 0,
	    "random password test vector (%s)", password);
	pdfpass_derive(key, sizeof(key), "4XyZ1", "carol@example.test",
	    password);
	unit_check(strcmp(password, "C6ELLKMFENBW3XX2") != 0,
	    "another recipient, another password");
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
	for (i = 0; i < G_N_ELEMENTS(html_cases); i++) {
		const char *in = html_cases[i].input;
		char *text = pdf_html_text(in, strlen(in));

		unit_check(strcmp(text, html_cases[i].expected) == 0,
		    "html %s -> %s", unit_show(in), unit_show(text));
		g_free(text);
	}
	return unit_done();
}
