/*
 * text.c - part bytes to UTF-8 and HTML to text (see text.h), one
 * implementation for DLP and the PDF: what DLP scanned is what the
 * recipient reads.
 */
#include "text.h"
#include "htmlnest.h"
#include "diag.h"
#include "err.h"

#include <errno.h>
#include <gumbo.h>
#include <string.h>

#define REPLACEMENT "\xef\xbf\xbd"

/* ---- charsets ---- */

/* names mail carries that iconv does not know, or knows as a smaller
 * set than the one the sending program meant (Outlook's Korean is
 * Windows code page 949, a superset of EUC-KR; GB2312 mail is GBK or
 * GB18030 in practice) */
static const struct {
	const char *alias;
	const char *name;	/* NULL: read as UTF-8 */
} charset_aliases[] = {
	{ "ks_c_5601-1987", "CP949" }, { "ks_c_5601-1989", "CP949" },
	{ "ks_c_5601", "CP949" }, { "ksc5601", "CP949" },
	{ "ksc_5601", "CP949" }, { "euc-kr", "CP949" },
	{ "korean", "CP949" }, { "x-windows-949", "CP949" },
	{ "gb2312", "GB18030" }, { "gbk", "GB18030" },
	{ "x-gbk", "GB18030" }, { "gb_2312-80", "GB18030" },
	{ "x-euc-cn", "GB18030" }, { "chinese", "GB18030" },
	{ "x-sjis", "CP932" }, { "shift_jis", "CP932" },
	{ "shift-jis", "CP932" }, { "sjis", "CP932" },
	{ "ms_kanji", "CP932" }, { "windows-31j", "CP932" },
	{ "x-euc-jp", "EUC-JP" }, { "x-mac-roman", "MACINTOSH" },
	{ "macintosh", "MACINTOSH" }, { "mac", "MACINTOSH" },
	{ "unicode-1-1-utf-7", "UTF-7" }, { "x-unicode20utf7", "UTF-7" },
	{ "iso-8859-8-i", "ISO-8859-8" }, { "iso-8859-8-e", "ISO-8859-8" },
	{ "iso-8859-6-i", "ISO-8859-6" }, { "iso-8859-6-e", "ISO-8859-6" },
	{ "windows-874", "CP874" }, { "x-cp1250", "CP1250" },
	{ "x-cp1251", "CP1251" }, { "x-user-defined", NULL },
	{ "unknown-8bit", NULL }, { "x-unknown", NULL },
	{ "unknown", NULL }, { "default", NULL }, { "utf-8", NULL },
	{ "utf8", NULL }, { "us-ascii", NULL }, { "ascii", NULL },
};

/* utf8_valid_copy - data read as UTF-8: each invalid octet and each NUL
 * becomes U+FFFD (g_utf8_make_valid does exactly that) */
static char *
utf8_valid_copy(const guint8 *data, size_t len)
{
	if (len > G_MAXSSIZE)
		diag_fatal(EXIT_TEMPFAIL, "part too large for memory");
	return g_utf8_make_valid((const gchar *)data, (gssize)len);
}

/* code_unit - the octets of one code unit of charset: an invalid unit
 * of UTF-16 or UTF-32 is skipped whole, or the rest would be read out of
 * step */
static size_t
code_unit(const char *charset)
{
	if (g_ascii_strncasecmp(charset, "utf-16", 6) == 0 ||
	    g_ascii_strncasecmp(charset, "ucs-2", 5) == 0 ||
	    g_ascii_strncasecmp(charset, "utf16", 5) == 0)
		return 2;
	if (g_ascii_strncasecmp(charset, "utf-32", 6) == 0 ||
	    g_ascii_strncasecmp(charset, "ucs-4", 5) == 0 ||
	    g_ascii_strncasecmp(charset, "utf32", 5) == 0)
		return 4;
	return 1;
}

/* open_charset - an iconv descriptor to UTF-8 for charset, or (GIConv)-1
 * when it is to be read as UTF-8 (no charset, UTF-8, ASCII, unknown) */
static GIConv
open_charset(const char *charset)
{
	GIConv cd;

	if (charset == NULL || *charset == '\0')
		return (GIConv)-1;
	for (size_t i = 0; i < G_N_ELEMENTS(charset_aliases); i++)
		if (g_ascii_strcasecmp(charset, charset_aliases[i].alias) == 0) {
			if (charset_aliases[i].name == NULL)
				return (GIConv)-1;
			return g_iconv_open("UTF-8", charset_aliases[i].name);
		}
	cd = g_iconv_open("UTF-8", charset);
	/* "x-foo" for a charset iconv knows as "foo" */
	if (cd == (GIConv)-1 && g_ascii_strncasecmp(charset, "x-", 2) == 0)
		cd = g_iconv_open("UTF-8", charset + 2);
	return cd;
}

/* decode_iconv - data through cd; a code unit of unit octets iconv
 * refuses (EILSEQ, or a sequence cut at the end) becomes one U+FFFD and
 * decoding goes on with the next: each iteration consumes input or
 * output, so it ends */
static GString *
decode_iconv(GIConv cd, const guint8 *data, size_t len, size_t unit)
{
	GString *out = g_string_sized_new(len + len / 2 + 1);
	gchar *in = (gchar *)data;
	gsize in_left = len;
	char buf[4096];

	while (in_left > 0) {
		gchar *o = buf;
		gsize o_left = sizeof(buf);
		gsize rc = g_iconv(cd, &in, &in_left, &o, &o_left);
		int saved = errno;

		g_string_append_len(out, buf, o - buf);
		if (rc != (gsize)-1 || saved == E2BIG)
			continue;
		g_string_append(out, REPLACEMENT);
		unit = unit < in_left ? unit : in_left;
		in += unit;
		in_left -= unit;
	}
	{
		gchar *o = buf;
		gsize o_left = sizeof(buf);

		(void)g_iconv(cd, NULL, NULL, &o, &o_left);
		g_string_append_len(out, buf, o - buf);
	}
	return out;
}

char *
text_decode_charset(const guint8 *data, size_t len, const char *charset,
    size_t *out_len)
{
	GIConv cd;
	GString *decoded;
	char *text;

	if (len == 0)
		text = g_strdup("");
	else if ((cd = open_charset(charset)) == (GIConv)-1)
		text = utf8_valid_copy(data, len);
	else {
		decoded = decode_iconv(cd, data, len, code_unit(charset));
		g_iconv_close(cd);
		/* iconv writes valid UTF-8; a NUL of the charset is made
		 * U+FFFD like a NUL in UTF-8 text */
		text = utf8_valid_copy((const guint8 *)decoded->str,
		    decoded->len);
		g_string_free(decoded, TRUE);
	}
	if (out_len != NULL)
		*out_len = strlen(text);
	return text;
}

/* ---- HTML ---- */

typedef struct html_out {
	GString *text;
	bool space;		/* white space seen, not yet written */
	unsigned pre;		/* inside pre, textarea, listing */
} html_out;

/* line_break - end the line unless at the start of one */
static void
line_break(html_out *h)
{
	h->space = false;
	if (h->text->len > 0 && h->text->str[h->text->len - 1] != '\n')
		g_string_append_c(h->text, '\n');
}

/* paragraph_break - an empty line before and after a paragraph */
static void
paragraph_break(html_out *h)
{
	line_break(h);
	if (h->text->len > 1 && h->text->str[h->text->len - 2] != '\n')
		g_string_append_c(h->text, '\n');
}

/* append_text - text (UTF-8 from gumbo) with HTML's white space rules */
static void
append_text(html_out *h, const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		char c = s[i];

		if (h->pre > 0) {
			if (c != '\r')
				g_string_append_c(h->text, c);
			continue;
		}
		if (c == ' ' || c == '\t' || c == '\n' || c == '\r' ||
		    c == '\f') {
			h->space = true;
			continue;
		}
		if (h->space && h->text->len > 0 &&
		    h->text->str[h->text->len - 1] != '\n')
			g_string_append_c(h->text, ' ');
		h->space = false;
		g_string_append_c(h->text, c);
	}
}

/* append_node_text - a text node's text; gumbo 0.10 can emit an
 * invalid octet for a numeric character reference that overflows, so
 * its text is checked like any input */
static void
append_node_text(html_out *h, const char *text)
{
	size_t len = strlen(text);
	char *valid;

	if (g_utf8_validate_len(text, len, NULL)) {
		append_text(h, text, len);
		return;
	}
	valid = utf8_valid_copy((const guint8 *)text, len);
	append_text(h, valid, strlen(valid));
	g_free(valid);
}

/* append_attribute - an attribute's value as a word of its own */
static void
append_attribute(html_out *h, const GumboElement *e, const char *name)
{
	const GumboAttribute *a = gumbo_get_attribute(&e->attributes, name);

	if (a == NULL || a->value[0] == '\0')
		return;
	h->space = true;
	append_node_text(h, a->value);
	h->space = true;
}

typedef enum layout {
	LAYOUT_INLINE,		/* leaves nothing */
	LAYOUT_LINE,		/* on lines of its own */
	LAYOUT_PARAGRAPH,	/* between empty lines */
	LAYOUT_CELL,		/* a table cell: a tab before the next */
	LAYOUT_DROPPED		/* script, style: no text at all */
} layout;

static layout
tag_layout(GumboTag tag)
{
	switch (tag) {
	case GUMBO_TAG_SCRIPT: case GUMBO_TAG_STYLE:
		return LAYOUT_DROPPED;
	case GUMBO_TAG_P: case GUMBO_TAG_H1: case GUMBO_TAG_H2:
	case GUMBO_TAG_H3: case GUMBO_TAG_H4: case GUMBO_TAG_H5:
	case GUMBO_TAG_H6: case GUMBO_TAG_BLOCKQUOTE: case GUMBO_TAG_PRE:
	case GUMBO_TAG_TABLE: case GUMBO_TAG_UL: case GUMBO_TAG_OL:
	case GUMBO_TAG_DL: case GUMBO_TAG_LISTING:
		return LAYOUT_PARAGRAPH;
	case GUMBO_TAG_TITLE: case GUMBO_TAG_DIV: case GUMBO_TAG_LI:
	case GUMBO_TAG_TR: case GUMBO_TAG_DT: case GUMBO_TAG_DD:
	case GUMBO_TAG_HR: case GUMBO_TAG_ADDRESS: case GUMBO_TAG_ARTICLE:
	case GUMBO_TAG_ASIDE: case GUMBO_TAG_CENTER: case GUMBO_TAG_DETAILS:
	case GUMBO_TAG_FIELDSET:
	case GUMBO_TAG_FIGCAPTION: case GUMBO_TAG_FIGURE:
	case GUMBO_TAG_FOOTER: case GUMBO_TAG_FORM: case GUMBO_TAG_HEADER:
	case GUMBO_TAG_HGROUP: case GUMBO_TAG_MAIN: case GUMBO_TAG_MENU:
	case GUMBO_TAG_NAV: case GUMBO_TAG_SECTION: case GUMBO_TAG_SUMMARY:
	case GUMBO_TAG_CAPTION: case GUMBO_TAG_LEGEND:
	case GUMBO_TAG_OPTION: case GUMBO_TAG_TEXTAREA:
	case GUMBO_TAG_PLAINTEXT:
		return LAYOUT_LINE;
	case GUMBO_TAG_TD: case GUMBO_TAG_TH:
		return LAYOUT_CELL;
	default:
		return LAYOUT_INLINE;
	}
}

static bool
keeps_white_space(GumboTag tag)
{
	return tag == GUMBO_TAG_PRE || tag == GUMBO_TAG_TEXTAREA ||
	    tag == GUMBO_TAG_LISTING || tag == GUMBO_TAG_PLAINTEXT;
}

/* enter - an element's opening; false when its content is dropped */
static bool
enter(html_out *h, const GumboNode *node, unsigned flags)
{
	const GumboElement *e = &node->v.element;
	layout l = tag_layout(e->tag);

	if (l == LAYOUT_DROPPED)
		return false;
	if (l == LAYOUT_PARAGRAPH)
		paragraph_break(h);
	else if (l == LAYOUT_LINE)
		line_break(h);
	else if (l == LAYOUT_CELL && h->text->len > 0 &&
	    h->text->str[h->text->len - 1] != '\n') {
		g_string_append_c(h->text, '\t');
		h->space = false;
	}
	if (e->tag == GUMBO_TAG_LI)
		g_string_append(h->text, "- ");
	else if (e->tag == GUMBO_TAG_BR) {
		g_string_append_c(h->text, '\n');
		h->space = false;
	}
	if (keeps_white_space(e->tag))
		h->pre++;
	append_attribute(h, e, "alt");
	if (flags & TEXT_HTML_TITLES)
		append_attribute(h, e, "title");
	return true;
}

/* leave - an element's end */
static void
leave(html_out *h, const GumboNode *node)
{
	layout l = tag_layout(node->v.element.tag);

	if (keeps_white_space(node->v.element.tag) && h->pre > 0)
		h->pre--;
	if (l == LAYOUT_PARAGRAPH)
		paragraph_break(h);
	else if (l == LAYOUT_LINE)
		line_break(h);
}

/* a node to visit, or (leaving) an element whose end is due */
typedef struct visit {
	const GumboNode *node;
	bool leaving;
} visit;

/* deeper than a browser keeps (Blink caps the depth at 512), HTML is
 * read piece by piece (htmlnest.h) */
#define TEXT_HTML_MAX_DEPTH 512

/* append_piece - the text of one piece of HTML parsed on its own */
static void
append_piece(html_out *h, const char *html, size_t len, unsigned flags,
    GArray *stack)
{
	GumboOptions options = kGumboDefaultOptions;
	GumboOutput *parsed;
	visit v;

	/* parse errors are not wanted: do not keep them (memory) */
	options.max_errors = 0;
	parsed = gumbo_parse_with_options(&options, html, len);
	v.node = parsed->document;
	v.leaving = false;
	g_array_append_val(stack, v);
	/* depth first without recursion: children pushed in reverse, each
	 * element's end below its children */
	while (stack->len > 0) {
		const GumboVector *children;

		v = g_array_index(stack, visit, stack->len - 1);
		g_array_set_size(stack, stack->len - 1);
		if (v.leaving) {
			leave(h, v.node);
			continue;
		}
		switch (v.node->type) {
		case GUMBO_NODE_TEXT:
		case GUMBO_NODE_WHITESPACE:
		case GUMBO_NODE_CDATA:
			append_node_text(h, v.node->v.text.text);
			continue;
		case GUMBO_NODE_COMMENT:
			continue;
		case GUMBO_NODE_DOCUMENT:
			children = &v.node->v.document.children;
			break;
		case GUMBO_NODE_ELEMENT:
		case GUMBO_NODE_TEMPLATE:
		default:
			if (!enter(h, v.node, flags))
				continue;
			v.leaving = true;
			g_array_append_val(stack, v);
			children = &v.node->v.element.children;
			break;
		}
		for (unsigned i = children->length; i > 0; i--) {
			visit child = { children->data[i - 1], false };

			g_array_append_val(stack, child);
		}
	}
	gumbo_destroy_output(&options, parsed);
}

GString *
text_html_to_text(const char *html, size_t len, unsigned flags)
{
	GArray *stack = g_array_new(FALSE, FALSE, sizeof(visit));
	html_out h = { g_string_sized_new(len / 2 + 16), false, 0 };
	char *valid = NULL;

	if (len > 0 && !g_utf8_validate_len(html, len, NULL)) {
		valid = utf8_valid_copy((const guint8 *)html, len);
		html = valid;
		len = strlen(valid);
	}
	/* deeper nesting than a browser keeps is read piece by piece */
	for (size_t from = 0, cut; from < len; from = cut) {
		cut = html_nest_cut(html, len, from, TEXT_HTML_MAX_DEPTH);
		append_piece(&h, html + from, cut - from, flags, stack);
	}
	/* no line ends or spaces at either end */
	while (h.text->len > 0 && (h.text->str[h.text->len - 1] == '\n' ||
	    h.text->str[h.text->len - 1] == ' '))
		g_string_truncate(h.text, h.text->len - 1);
	g_array_free(stack, TRUE);
	g_free(valid);
	return h.text;
}
