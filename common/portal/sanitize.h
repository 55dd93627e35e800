/*
 * sanitize.h - HTML mail made safe to show: the portal's message view
 * puts the result in a sandboxed iframe (webmail.md P11, P12).
 *
 * API: html_sanitize() parses HTML with gumbo (the HTML5 algorithm a
 * browser uses, so no parser differential) and writes its own
 * serialization of an allow-list; sanitize_report says what was taken
 * out, so the page can say "remote content blocked".
 *
 * Guarantees: the output holds only the elements and attributes of the
 * allow-list (sanitize.c), every text and attribute value escaped (& < >
 * " '), no style attribute and no style element (CSS injection is a
 * recurring webmail bug class; a property allow-list may come later),
 * no on* attribute, no element in the SVG or MathML namespace, no
 * comment.  A URL is kept only after the checks a browser's URL parser
 * makes moot (character references decoded by the parser, ASCII tab
 * and line ends removed, leading and trailing C0 controls and spaces
 * stripped): http, https and mailto on a[href]; cid, data:image/(png,
 * gif, jpeg, webp) and, when asked, http and https on img[src].  Links
 * open in a new browsing context with rel="noopener noreferrer".
 *
 * Limits: input over SANITIZE_INPUT_MAX octets, or nested deeper than
 * SANITIZE_NESTING_MAX by a cheap count of tags before parsing (the
 * HTML5 tree builder's time grows with the square of the depth), is
 * refused (NULL: show the text part instead).  Elements deeper than
 * SANITIZE_DEPTH_MAX in the tree are unwrapped (their text kept).  The
 * output stops growing past SANITIZE_OUTPUT_MAX (report->truncated),
 * every element opened is still closed.  The walk has no recursion.
 * The output is a fragment for a body: it is defence in one layer only,
 * the frame's sandbox and CSP are the other.
 */
#ifndef MAILSEAL_SANITIZE_H
#define MAILSEAL_SANITIZE_H

#include <glib.h>
#include <stdbool.h>
#include <stddef.h>

/* larger HTML bodies are shown as their text part */
#define SANITIZE_INPUT_MAX ((size_t)4 * 1024 * 1024)
/* worst case: every octet a quote, written as &quot; (6 octets) */
#define SANITIZE_OUTPUT_MAX ((size_t)8 * 1024 * 1024)
/* tree depth kept as elements; a browser caps at a few hundred too */
#define SANITIZE_DEPTH_MAX 100u
/* open tags counted before parsing, beyond which the input is refused */
#define SANITIZE_NESTING_MAX 4096u

enum {
	/* keep http and https images (default: dropped and counted) */
	SANITIZE_REMOTE_IMAGES = 1u << 0
};

typedef struct sanitize_report {
	unsigned remote_images;	/* http(s) images left out */
	unsigned elements_dropped;	/* elements dropped with content */
	unsigned attributes_dropped;	/* attributes not on the list */
	unsigned urls_refused;	/* URLs of a scheme not allowed */
	bool truncated;		/* output limit reached */
} sanitize_report;

/* html_sanitize - html (len octets, UTF-8; invalid octets read as
 * U+FFFD) as an allow-listed HTML fragment; flags SANITIZE_*; report may
 * be NULL.  NULL when the input is over the limits above */
GString *html_sanitize(const char *html, size_t len, unsigned flags,
    sanitize_report *report);

/* sanitize_url - the URL value as a browser reads it (ASCII tab and line
 * ends removed, C0 controls and spaces trimmed), or NULL when its scheme
 * is not allowed for that attribute: for_image picks img[src]'s list
 * (cid, data images, and http(s) when remote is true), else a[href]'s;
 * *remote (may be NULL) is set when the URL is http(s).  g_free it */
char *sanitize_url(const char *value, bool for_image, bool remote_ok,
    bool *remote);

/* sanitize_element_allowed - whether an HTML element name (lower case)
 * may appear in the output; sanitize_attribute_allowed - whether an
 * attribute may appear on that element (the property the tests and the
 * fuzz target check by parsing the output again) */
bool sanitize_element_allowed(const char *element);
bool sanitize_attribute_allowed(const char *element, const char *attribute);

#endif
