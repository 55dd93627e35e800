/*
 * test-sanitize.c - table-driven tests of common/portal/sanitize.c: the
 * ordinary mail it must keep, byte for byte, and a corpus of webmail XSS
 * payloads (Roundcube CVEs, mXSS vectors, URL obfuscations) it must
 * defuse.  Every output is also parsed again by gumbo and must hold only
 * allowed elements and attributes (sanitize-check.h).
 */
#include "sanitize.h"

#include "sanitize-check.h"
#include "unit.h"

#include <ctype.h>

typedef struct sanitize_case {
	const char *name;
	const char *html;
	size_t len;		/* 0: strlen */
	unsigned flags;
	const char *expected;	/* NULL: the properties only */
} sanitize_case;

#define LINK_END " rel=\"noopener noreferrer\" target=\"_blank\">"

static const sanitize_case cases[] = {
	/* ordinary mail, kept */
	{ "empty", "", 0, 0, "" },
	{ "plain text", "Hello, world", 0, 0, "Hello, world" },
	{ "escaping", "a &amp; b &lt;c&gt; \"q\" 'x'", 0, 0,
	  "a &amp; b &lt;c&gt; &quot;q&quot; &#39;x&#39;" },
	{ "formatting", "<p>Hi <b>bold</b> <i>it</i> <u>u</u><br>next</p>",
	  0, 0, "<p>Hi <b>bold</b> <i>it</i> <u>u</u><br>next</p>" },
	{ "link", "<a href=\"https://example.org/x?a=1&amp;b=2\">site</a>",
	  0, 0, "<a href=\"https://example.org/x?a=1&amp;b=2\"" LINK_END
	  "site</a>" },
	{ "mailto link", "<a href='mailto:bob@example.org' id=x>bob</a>", 0,
	  0, "<a href=\"mailto:bob@example.org\"" LINK_END "bob</a>" },
	{ "cid image", "<img src=\"cid:logo@x\" alt=\"Logo\" width=10>", 0,
	  0, "<img src=\"cid:logo@x\" alt=\"Logo\" width=\"10\">" },
	{ "data image", "<img src=\"data:image/png;base64,iVBO\">", 0, 0,
	  "<img src=\"data:image/png;base64,iVBO\">" },
	{ "remote image blocked", "<p>x<img src=\"https://t.example/p.gif\">"
	  "</p>", 0, 0, "<p>x</p>" },
	{ "remote image asked for", "<img src=\"https://t.example/p.gif\">",
	  0, SANITIZE_REMOTE_IMAGES,
	  "<img src=\"https://t.example/p.gif\">" },
	{ "nested lists", "<ul><li>a<ol start=3><li>b<li>c</ol><li>d</ul>",
	  0, 0, "<ul><li>a<ol start=\"3\"><li>b</li><li>c</li></ol></li>"
	  "<li>d</li></ul>" },
	{ "newsletter table", "<table width=600 border=0 cellpadding=4 "
	  "class=x><tr><td bgcolor=#eeeeee align=center colspan=2>"
	  "<font face=Arial color=red size=2>News</font></td></tr></table>",
	  0, 0, "<table width=\"600\" border=\"0\" cellpadding=\"4\"><tbody>"
	  "<tr><td bgcolor=\"#eeeeee\" align=\"center\" colspan=\"2\">"
	  "<font face=\"Arial\" color=\"red\" size=\"2\">News</font></td>"
	  "</tr></tbody></table>" },
	{ "headings, quote, pre", "<h1>T</h1><blockquote>q</blockquote>"
	  "<pre><code>a &lt; b</code></pre><hr>", 0, 0,
	  "<h1>T</h1><blockquote>q</blockquote><pre>\n<code>a &lt; b</code>"
	  "</pre><hr>" },
	{ "line end opening pre", "<pre>\n\nx\n</pre>", 0, 0,
	  "<pre>\n\nx\n</pre>" },
	{ "whole document", "<!DOCTYPE html><html><head><title>T</title>"
	  "<style>p{}</style></head><body bgcolor=red><div>x</div></body>"
	  "</html>", 0, 0, "<div>x</div>" },
	{ "unknown container unwrapped", "<custom-box><span>in</span>"
	  "</custom-box><center>c</center>", 0, 0,
	  "<span>in</span><center>c</center>" },
	{ "RLO in link text kept as text", "<a href=\"https://x.example/\">"
	  "invoice\xe2\x80\xaeGPJ.exe</a>", 0, 0,
	  "<a href=\"https://x.example/\"" LINK_END
	  "invoice\xe2\x80\xaeGPJ.exe</a>" },
	{ "style attribute dropped", "<p style=\"color:red\">r</p>", 0, 0,
	  "<p>r</p>" },
	{ "invalid UTF-8", "a\xff" "b", 0, 0, "a\xef\xbf\xbd" "b" },
	/* scripts and active content */
	{ "script", "a<script>alert(1)</script>b", 0, 0, "ab" },
	{ "script in head", "<head><script>alert(1)</script></head>x", 0, 0,
	  "x" },
	{ "comment then script", "<!-- --><script>alert(1)</script>ok", 0,
	  0, "ok" },
	{ "comment hiding a tag", "<!-- <img src=x onerror=alert(1)> -->ok",
	  0, 0, "ok" },
	{ "CDATA outside foreign content",
	  "<![CDATA[<img src=x onerror=alert(1)>]]>ok", 0, 0, "]]&gt;ok" },
	{ "CDATA in svg", "<svg><![CDATA[</svg><img src=x onerror=alert(1)>"
	  "]]></svg>ok", 0, 0, "ok" },
	{ "iframe", "<iframe src=\"javascript:alert(1)\"></iframe>x", 0, 0,
	  "x" },
	{ "iframe srcdoc", "<iframe srcdoc=\"&lt;script&gt;alert(1)&lt;/"
	  "script&gt;\"></iframe>", 0, 0, "" },
	{ "object and embed", "<object data=x.swf></object><embed src=x>y",
	  0, 0, "y" },
	{ "form, formaction", "<form action=https://e.example><button "
	  "formaction=javascript:alert(1)>go</button><input name=p></form>z",
	  0, 0, "z" },
	{ "base href", "<base href=\"javascript:/\"><a href=\"x\">r</a>", 0,
	  0, "r" },
	{ "meta refresh", "<meta http-equiv=refresh content=\"0;url="
	  "javascript:alert(1)\">m", 0, 0, "m" },
	{ "link stylesheet", "<link rel=stylesheet href=https://e.example/"
	  "s.css>l", 0, 0, "l" },
	{ "template", "<template><img src=x onerror=alert(1)></template>t",
	  0, 0, "t" },
	{ "map area (Roundcube #5240)", "<map><area href=javascript:alert(1)>"
	  "</map>a", 0, 0, "a" },
	/* event handlers, in every spelling */
	{ "onerror", "<img src=cid:a onerror=alert(1)>", 0, 0,
	  "<img src=\"cid:a\">" },
	{ "ONLOAD upper case", "<body ONLOAD=alert(1)><p OnClick=x>p</p>", 0,
	  0, "<p>p</p>" },
	{ "vertical tab in a name", "<p on\vload=alert(1)>v</p>", 0, 0, NULL },
	{ "slash before handler", "<img/src=cid:a/onerror=alert(1)>", 0, 0,
	  "<img src=\"cid:a/onerror=alert(1)\">" },
	/* URLs */
	{ "javascript href", "<a href=\"javascript:alert(1)\">j</a>", 0, 0,
	  "j" },
	{ "entity tab in scheme", "<a href=\"jav&#x09;ascript:alert(1)\">j</a>",
	  0, 0, "j" },
	{ "raw tab and newline in scheme",
	  "<a href=\"java\tscr\nipt:alert(1)\">j</a>", 0, 0, "j" },
	{ "NUL in scheme", "<a href=\"java\0script:alert(1)\">j</a>", 36, 0,
	  "j" },
	{ "decimal entity", "<a href=\"&#106;avascript:alert(1)\">j</a>", 0,
	  0, "j" },
	{ "entity colon", "<a href=\"javascript&colon;alert(1)\">j</a>", 0,
	  0, "j" },
	{ "leading spaces and controls", "<a href=\" \x01 javascript:"
	  "alert(1)\">j</a>", 0, 0, "j" },
	{ "upper case scheme", "<a href=\"JaVaScRiPt:alert(1)\">j</a>", 0,
	  0, "j" },
	{ "vbscript", "<a href=\"vbscript:msgbox(1)\">v</a>", 0, 0, "v" },
	{ "data text/html link", "<a href=\"data:text/html;base64,"
	  "PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==\">d</a>", 0, 0, "d" },
	{ "data svg image", "<img src=\"data:image/svg+xml,<svg onload="
	  "alert(1)>\">", 0, 0, "" },
	{ "relative link", "<a href=\"/local\">r</a>", 0, 0, "r" },
	{ "spaces around a good URL",
	  "<a href=\"  https://e.example/\n \">s</a>", 0, 0,
	  "<a href=\"https://e.example/\"" LINK_END "s</a>" },
	{ "style url", "<div style=\"background:url(javascript:alert(1))\">"
	  "s</div>", 0, 0, "<div>s</div>" },
	{ "srcset", "<img src=cid:a srcset=\"javascript:alert(1) 1x\">", 0,
	  0, "<img src=\"cid:a\">" },
	{ "xlink:href", "<svg><a xlink:href=\"javascript:alert(1)\"><text>"
	  "x</text></a></svg>y", 0, 0, "y" },
	{ "quote breaking out of a value", "<a title='\"><script>x</script>'"
	  " href=https://e.example/>t</a>", 0, 0,
	  "<a title=\"&quot;&gt;&lt;script&gt;x&lt;/script&gt;\" "
	  "href=\"https://e.example/\"" LINK_END "t</a>" },
	/* Roundcube CVE payloads */
	{ "CVE-2023-5631 svg animate", "<svg><animate attributeName=href "
	  "values=javascript:alert(1) /></svg>", 0, 0, "" },
	{ "CVE-2023-5631 svg use data", "<svg><use href=\"data:image/svg+xml;"
	  "base64,PHN2Zz48L3N2Zz4=#x\"/></svg>", 0, 0, "" },
	{ "CVE-2024-37383 svg animate attributeName",
	  "<svg><a><animate attributeName=\" href\" dur=5s repeatCount="
	  "indefinite keytimes=0 values=\"javascript:alert(1)\"/><text x=20"
	  " y=20>click</text></a></svg>", 0, 0, "" },
	{ "CVE-2020-35730 style in svg", "<p><svg><style>x</style><img src=x"
	  " onerror=alert(1)></svg></p>", 0, 0, "<p></p>" },
	{ "CVE-2018-19206 style end", "<svg><style><//><body onload="
	  "alert(1)>", 0, 0, "" },
	{ "CVE-2023-43770 link in text", "Visit https://e.example/?q=\""
	  "><script>alert(1)</script>", 0, 0,
	  "Visit https://e.example/?q=&quot;&gt;" },
	/* mXSS vectors */
	{ "noscript title", "<noscript><p title=\"</noscript><img src=x "
	  "onerror=alert(1)>\">", 0, 0,
	  "<p title=\"&lt;/noscript&gt;&lt;img src=x onerror=alert(1)&gt;\">"
	  "</p>" },
	{ "math mglyph style", "<math><mtext><table><mglyph><style><img src=x"
	  " onerror=alert(1)>", 0, 0, "" },
	{ "nested forms math", "<form><math><mtext></form><form><mglyph>"
	  "<style></math><img src onerror=alert(1)>", 0, 0, "" },
	{ "style in select in svg", "<svg></p><style><a id=\"</style><img "
	  "src=1 onerror=alert(1)>\">", 0, 0, "" },
	{ "xmp", "<xmp><img src=x onerror=alert(1)></xmp>", 0, 0,
	  "&lt;img src=x onerror=alert(1)&gt;" },
	{ "textarea", "<textarea><img src=x onerror=alert(1)></textarea>t",
	  0, 0, "t" },
	{ "title in body", "<title><img src=x onerror=alert(1)></title>t", 0,
	  0, "t" },
	{ "plaintext", "<plaintext><script>alert(1)</script>", 0, 0,
	  "&lt;script&gt;alert(1)&lt;/script&gt;" },
	{ "nested anchors", "<a href=https://a.example/><a href="
	  "javascript:x>in</a></a>", 0, 0,
	  "<a href=\"https://a.example/\"" LINK_END "</a>in" },
	{ "processing instruction", "<?xml-stylesheet href=x?><p>p</p>", 0,
	  0, "<p>p</p>" },
};

/* has_handler - an on...= attribute in a tag (outside quoted values,
 * where the text stays text) */
static bool
has_handler(const char *s)
{
	bool in_tag = false, in_value = false;

	for (; *s != '\0'; s++) {
		if (in_value) {
			in_value = *s != '"';
		} else if (*s == '<') {
			in_tag = true;
		} else if (!in_tag) {
			continue;
		} else if (*s == '>') {
			in_tag = false;
		} else if (*s == '"') {
			in_value = true;
		} else if (g_ascii_isspace(s[0]) &&
		    g_ascii_strncasecmp(s + 1, "on", 2) == 0) {
			const char *p = s + 3;

			while (g_ascii_isalpha(*p))
				p++;
			if (*p == '=')
				return true;
		}
	}
	return false;
}

static void
check_case(const sanitize_case *c)
{
	size_t len = c->len != 0 ? c->len : strlen(c->html);
	sanitize_report report;
	GString *out = html_sanitize(c->html, len, c->flags, &report);
	const char *why = NULL;
	char *lower;

	if (!unit_check(out != NULL, "%s: sanitized", c->name))
		return;
	lower = g_ascii_strdown(out->str, (gssize)out->len);
	if (c->expected != NULL &&
	    !unit_check(unit_streq(out->str, c->expected), "%s: output",
	    c->name))
		unit_note("got %s", unit_show(out->str));
	unit_check(strstr(lower, "<script") == NULL &&
	    strstr(lower, "javascript:") == NULL && !has_handler(lower),
	    "%s: no script, javascript: or handler", c->name);
	unit_check(sanitize_check_output(out->str, out->len, &why),
	    "%s: parsed again, allowed only (%s)", c->name,
	    why != NULL ? why : "yes");
	g_free(lower);
	g_string_free(out, TRUE);
}

static void
check_report(void)
{
	static const char html[] = "<img src=http://t.example/a.gif>"
	    "<img src=https://t.example/b.gif><script>x</script>"
	    "<p onclick=x>p</p><a href=javascript:x>j</a>";
	sanitize_report report;
	GString *out = html_sanitize(html, strlen(html), 0, &report);

	unit_check(out != NULL && report.remote_images == 2 &&
	    report.elements_dropped == 1 && report.attributes_dropped == 1 &&
	    report.urls_refused == 1 && !report.truncated,
	    "report counts what was removed");
	if (out != NULL)
		g_string_free(out, TRUE);
	out = html_sanitize("<p>x</p>", 8, 0, NULL);
	unit_check(out != NULL && strcmp(out->str, "<p>x</p>") == 0,
	    "report may be NULL");
	g_string_free(out, TRUE);
}

static void
check_limits(void)
{
	GString *deep = g_string_new(NULL), *out;
	sanitize_report report;
	const char *why = NULL;
	unsigned tags = 0;

	/* a nesting that would make the parser quadratic is refused */
	for (unsigned i = 0; i <= SANITIZE_NESTING_MAX; i++)
		g_string_append(deep, "<div>");
	unit_check(html_sanitize(deep->str, deep->len, 0, NULL) == NULL,
	    "nesting beyond %u refused", SANITIZE_NESTING_MAX);
	/* deep but allowed: elements beyond the depth limit unwrapped */
	g_string_truncate(deep, 0);
	for (unsigned i = 0; i < 1000; i++)
		g_string_append(deep, "<span>");
	g_string_append(deep, "deep");
	out = html_sanitize(deep->str, deep->len, 0, NULL);
	if (out != NULL)
		for (const char *p = out->str; (p = strstr(p, "<span>"));
		    p++)
			tags++;
	unit_check(out != NULL && tags < SANITIZE_DEPTH_MAX &&
	    strstr(out->str, "deep</span>") != NULL &&
	    sanitize_check_output(out->str, out->len, &why),
	    "depth beyond %u unwrapped, text kept, closed", SANITIZE_DEPTH_MAX);
	if (out != NULL)
		g_string_free(out, TRUE);
	/* input over the cap refused */
	g_string_truncate(deep, 0);
	g_string_set_size(deep, SANITIZE_INPUT_MAX + 1);
	memset(deep->str, 'a', deep->len);
	unit_check(html_sanitize(deep->str, deep->len, 0, NULL) == NULL,
	    "input over %zu octets refused", SANITIZE_INPUT_MAX);
	/* quotes grow six-fold: the output stops at its cap, well formed */
	g_string_truncate(deep, 0);
	g_string_append(deep, "<p>");
	for (size_t i = 0; i < SANITIZE_OUTPUT_MAX / 6 + 10; i++)
		g_string_append_c(deep, i % 1000 == 0 ? '\n' : '"');
	g_string_append(deep, "</p><b>x</b>");
	out = html_sanitize(deep->str, deep->len, 0, &report);
	unit_check(out != NULL && report.truncated &&
	    out->len <= SANITIZE_OUTPUT_MAX &&
	    g_str_has_suffix(out->str, "</p>"),
	    "output capped at %zu octets, elements closed",
	    SANITIZE_OUTPUT_MAX);
	if (out != NULL)
		g_string_free(out, TRUE);
	g_string_free(deep, TRUE);
}

static void
check_urls(void)
{
	static const struct {
		const char *url;
		bool image, remote_ok;
		const char *expected;
	} urls[] = {
		{ "https://e.example/", false, false, "https://e.example/" },
		{ "HTTP://e.example/", false, false, "HTTP://e.example/" },
		{ "\x1f https://e.example/\t", false, false,
		  "https://e.example/" },
		{ "java\tscript:x", false, false, NULL },
		{ "cid:a", false, false, NULL },
		{ "cid:a", true, false, "cid:a" },
		{ "http://t.example/x", true, false, NULL },
		{ "http://t.example/x", true, true, "http://t.example/x" },
		{ "data:image/gif,GIF89a", true, false, "data:image/gif,GIF89a" },
		{ "data:image/svg+xml,x", true, true, NULL },
		{ "mailto:a@b", true, true, NULL },
		{ "//e.example/", false, false, NULL },
	};

	for (size_t i = 0; i < G_N_ELEMENTS(urls); i++) {
		char *got = sanitize_url(urls[i].url, urls[i].image,
		    urls[i].remote_ok, NULL);

		unit_check(unit_streq(got, urls[i].expected),
		    "sanitize_url %s image=%d remote=%d",
		    unit_show(urls[i].url), urls[i].image, urls[i].remote_ok);
		g_free(got);
	}
}

int
main(void)
{
	for (size_t i = 0; i < G_N_ELEMENTS(cases); i++)
		check_case(&cases[i]);
	check_report();
	check_limits();
	check_urls();
	return unit_done();
}
