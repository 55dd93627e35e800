/*
 * test-text.c - table-driven tests of common/text.c: charsets decoded
 * one invalid byte at a time, and HTML read as a browser reads it, the
 * one text DLP scans and the PDF shows.
 */
#include "text.h"
#include "htmlnest.h"

#include "unit.h"

typedef struct charset_case {
	const char *charset;
	const char *data;
	size_t len;
	const char *text;
} charset_case;

#define BYTES(s) s, sizeof(s) - 1

static const charset_case charset_cases[] = {
	{ NULL, BYTES(""), "" },
	{ "iso-8859-1", BYTES(""), "" },
	{ "utf-8", BYTES(""), "" },
	{ NULL, BYTES("plain"), "plain" },
	{ "us-ascii", BYTES("caf\xc3\xa9"), "caf\xc3\xa9" },
	{ "utf-8", BYTES("a\xff" "b"), "a\xef\xbf\xbd" "b" },
	{ "utf-8", BYTES("a\0b"), "a\xef\xbf\xbd" "b" },
	{ "iso-8859-1", BYTES("Gr\xfc\xdf" "e"), "Gr\xc3\xbc\xc3\x9f" "e" },
	{ "ISO-8859-15", BYTES("\xa4"), "\xe2\x82\xac" },
	{ "windows-1252", BYTES("\x80 5"), "\xe2\x82\xac 5" },
	/* one byte windows-1252 lacks: that byte alone is replaced */
	{ "windows-1252", BYTES("ab\x81" "cd\x80"),
	  "ab\xef\xbf\xbd" "cd\xe2\x82\xac" },
	/* Outlook's Korean, and a CP949 syllable EUC-KR lacks */
	{ "ks_c_5601-1987", BYTES("\xc7\xd1\xb1\xb9"),
	  "\xed\x95\x9c\xea\xb5\xad" },
	{ "KS_C_5601-1987", BYTES("\x81\x41"), "\xea\xb0\x82" },
	{ "euc-kr", BYTES("\x81\x41"), "\xea\xb0\x82" },
	/* a lead byte without its trail byte in the middle and at the end */
	{ "ks_c_5601-1987", BYTES("a\xc7" "b\xc7"),
	  "a\xef\xbf\xbd" "b\xef\xbf\xbd" },
	{ "shift_jis", BYTES("\x82\xa0"), "\xe3\x81\x82" },
	{ "x-sjis", BYTES("\x82\xa0"), "\xe3\x81\x82" },
	{ "gb2312", BYTES("\xc4\xe3"), "\xe4\xbd\xa0" },
	{ "iso-8859-8-i", BYTES("\xe0"), "\xd7\x90" },
	{ "unicode-1-1-utf-7", BYTES("+AOk-"), "\xc3\xa9" },
	{ "x-mac-roman", BYTES("\x8e"), "\xc3\xa9" },
	/* unknown and "unknown" charsets are read as UTF-8 */
	{ "no-such-charset", BYTES("ok\xc3\xa9\xff"),
	  "ok\xc3\xa9\xef\xbf\xbd" },
	{ "unknown-8bit", BYTES("ok\xff"), "ok\xef\xbf\xbd" },
	/* a NUL of the charset does not cut the text */
	{ "iso-8859-1", BYTES("a\0b"), "a\xef\xbf\xbd" "b" },
	{ "utf-16le", BYTES("a\0b\0"), "ab" },
	/* a lone surrogate: that code unit replaced, the rest in step */
	{ "utf-16le", BYTES("a\0\0\xd8" "b\0c\0"), "a\xef\xbf\xbd" "bc" },
	{ "utf-16le", BYTES("a\0\0\xd8"), "a\xef\xbf\xbd" },
};

typedef struct html_case {
	const char *html;
	unsigned flags;
	const char *text;
} html_case;

static const html_case html_cases[] = {
	{ "", 0, "" },
	{ "plain", 0, "plain" },
	{ "  a   \n\t b  ", 0, "a b" },
	/* inline markup leaves nothing: the number stays whole */
	{ "4556<b>7375</b><span class=\"x\">8689</span>9855", 0,
	  "4556737586899855" },
	{ "a<br>b<br><br>c", 0, "a\nb\n\nc" },
	{ "<p>one</p><p>two</p>", 0, "one\n\ntwo" },
	{ "<div>a</div><div>b</div>", 0, "a\nb" },
	{ "<ul><li>one<li>two</ul>after", 0, "- one\n- two\n\nafter" },
	{ "<table><tr><td>a<td>b<tr><td>c</table>", 0, "a\tb\nc" },
	{ "<pre>a\n  b</pre>c", 0, "a\n  b\n\nc" },
	/* character references as a browser decodes them */
	{ "&amp;&lt;&gt;&quot;&#65;&#x42;&eacute;&euro;", 0,
	  "&<>\"AB\xc3\xa9\xe2\x82\xac" },
	{ "&amp &copy 4556&#8203;7375", 0,
	  "& \xc2\xa9 4556\xe2\x80\x8b" "7375" },
	{ "&bogus; &#0; &#x110000;", 0,
	  "&bogus; \xef\xbf\xbd \xef\xbf\xbd" },
	{ "4556&shy;7375", 0, "4556\xc2\xad" "7375" },
	{ "a&nbsp;b", 0, "a\xc2\xa0" "b" },
	/* script, style and comments are no text */
	{ "x<script>var a = '<b>';</script>y", 0, "xy" },
	{ "x<STYLE>p { }</STYLE>y", 0, "xy" },
	{ "<script>never closed", 0, "" },
	{ "<!-- 4556 -->shown", 0, "shown" },
	/* hidden text is still text: no CSS is applied */
	{ "<span style=\"display:none\">4556</span>7375", 0, "45567375" },
	{ "<title>T</title>body", 0, "T\nbody" },
	/* alt text stands for the image; titles only when asked */
	{ "a<img alt=\"card &amp; no\" src=x>b", 0, "a card & no b" },
	{ "<a title='t>x' href=\"h\">l</a>", 0, "l" },
	{ "<a title='t>x' href=\"h\">l</a>", TEXT_HTML_TITLES, "t>x l" },
	/* what a browser makes of broken markup */
	{ "1 < 2 and 3 > 2", 0, "1 < 2 and 3 > 2" },
	{ "unterminated <b", 0, "unterminated" },
	{ "4556<", 0, "4556<" },
	{ "tail <", 0, "tail <" },
	{ "<b>unclosed", 0, "unclosed" },
	{ "</p>stray", 0, "stray" },
	{ "<table><b>moved</b><tr><td>cell</table>", 0, "moved\n\ncell" },
	{ "bad \xff byte", 0, "bad \xef\xbf\xbd byte" },
	{ "nul\0 inside", 0, "nul\xef\xbf\xbd inside" },
};

static void
check_charsets(void)
{
	for (size_t i = 0; i < G_N_ELEMENTS(charset_cases); i++) {
		const charset_case *c = &charset_cases[i];
		size_t len = 99;
		char *text = text_decode_charset((const guint8 *)c->data,
		    c->len, c->charset, &len);

		if (!unit_check(text != NULL && strcmp(text, c->text) == 0 &&
		    len == strlen(c->text), "%s %s gives %s",
		    c->charset ? c->charset : "(none)", unit_show(c->data),
		    unit_show(c->text)))
			unit_note("got %s", text ? unit_show(text) : "NULL");
		g_free(text);
	}
	/* the result is never NULL, even without a data pointer */
	{
		char *text = text_decode_charset(NULL, 0, "iso-2022-jp", NULL);

		unit_check(text != NULL && *text == '\0',
		    "no data in a charset gives an empty string");
		g_free(text);
	}
}

static void
check_html(void)
{
	for (size_t i = 0; i < G_N_ELEMENTS(html_cases); i++) {
		const html_case *c = &html_cases[i];
		size_t len = strlen(c->html);
		GString *out;

		/* the one case with a NUL is measured to its end */
		if (strncmp(c->html, "nul", 3) == 0)
			len = sizeof("nul\0 inside") - 1;
		out = text_html_to_text(c->html, len, c->flags);
		if (!unit_check(strcmp(out->str, c->text) == 0 &&
		    out->len == strlen(c->text), "html %s (%u) gives %s",
		    unit_show(c->html), c->flags, unit_show(c->text)))
			unit_note("got %s", unit_show(out->str));
		g_string_free(out, TRUE);
	}
}

/* check_deep - nesting an attacker chose costs no stack of ours */
static void
check_deep(void)
{
	GString *html = g_string_new(NULL);
	GString *out;

	for (unsigned i = 0; i < 200000; i++)
		g_string_append(html, "<div><q>");
	g_string_append(html, "4556");
	out = text_html_to_text(html->str, html->len, TEXT_HTML_TITLES);
	unit_check(strstr(out->str, "4556") != NULL,
	    "text 200000 elements deep is found");
	g_string_free(out, TRUE);
	g_string_free(html, TRUE);
}

/* html_nest_cut: where deep HTML is cut (max 3 here) */
static void
check_nest_cut(void)
{
	static const struct {
		const char *html;
		size_t cut;	/* (size_t)-1: the whole length */
		const char *what;
	} cases[] = {
		{ "<div><div><div><div>x", 15, "the fourth start tag" },
		{ "<div/><div/><div/><div/>x", 18,
		    "<div/> nests: HTML5 ignores the slash" },
		{ "<div></div><div></div><div></div><div></div>", (size_t)-1,
		    "closed elements do not add up" },
		{ "<br><br><br><br><img><hr><p><p><p><p>", (size_t)-1,
		    "void elements and p do not nest" },
		{ "<DIV><Span><B><I>x", 14, "upper case counts" },
		{ "a < b and c <3 <<<<", (size_t)-1, "a < that starts no tag" },
		{ "", (size_t)-1, "empty" },
	};

	for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
		size_t len = strlen(cases[i].html);
		size_t want = cases[i].cut == (size_t)-1 ? len : cases[i].cut;

		unit_check(html_nest_cut(cases[i].html, len, 0, 3) == want,
		    "html_nest_cut: %s", cases[i].what);
	}
	/* from an offset: the count starts again there */
	unit_check(html_nest_cut("<a><b><i><u><a><b>", 18, 12, 3) == 18,
	    "html_nest_cut: the count starts at from");
}

int
main(void)
{
	check_charsets();
	check_html();
	check_deep();
	check_nest_cut();
	return unit_done();
}
