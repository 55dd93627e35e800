/*
 * htmlnest.c - a bound on HTML nesting by counting tags (htmlnest.h).
 */
#include "htmlnest.h"

#include <glib.h>
#include <stdbool.h>
#include <string.h>

/* never_nests - an element that never nests in the parser's stack of
 * open elements: void, or closed by the next of its kind */
static bool
never_nests(const char *name, size_t len)
{
	static const char *const names[] = {
		"area", "base", "br", "col", "embed", "hr", "img", "input",
		"link", "meta", "param", "source", "track", "wbr", "p", "li",
		"dt", "dd", "tr", "td", "th", "option", "optgroup", "thead",
		"tbody", "tfoot", "colgroup", "caption", "html", "head", "body",
		"rb", "rt", "rp", "rtc"
	};

	for (size_t i = 0; i < G_N_ELEMENTS(names); i++)
		if (strlen(names[i]) == len &&
		    g_ascii_strncasecmp(names[i], name, len) == 0)
			return true;
	return false;
}

size_t
html_nest_cut(const char *html, size_t len, size_t from, unsigned max)
{
	const char *p = html + from, *end = html + len;
	unsigned depth = 0;

	while ((p = memchr(p, '<', (size_t)(end - p))) != NULL) {
		const char *tag = p++, *name;
		bool closing = p < end && *p == '/';
		size_t name_len = 0;

		name = p + (closing ? 1 : 0);
		while (name + name_len < end && g_ascii_isalnum(name[name_len]))
			name_len++;
		if (name_len == 0 || never_nests(name, name_len))
			continue;
		if (closing) {
			if (depth > 0)
				depth--;
			continue;
		}
		if (depth >= max && tag > html + from)
			return (size_t)(tag - html);
		depth++;
	}
	return len;
}
