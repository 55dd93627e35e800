/*
 * text.h - the text of a part as a person reads it, shared by the DLP
 * scanner and pdfwrap so the PDF shows the very text DLP scanned.
 *
 * API: text_decode_charset() turns part bytes in a declared charset into
 * UTF-8, one invalid byte at a time; text_html_to_text() parses HTML as a
 * browser does (gumbo, the HTML5 parsing algorithm, its entities and
 * error recovery) and keeps the text a reader sees.
 *
 * Limits: no recursion over the tree (an attacker nests at will); the
 * caller bounds the input size.  Hidden text is kept (no CSS is
 * applied), so nothing is hidden from DLP that a mail client might show.
 */
#ifndef MAILSEAL_TEXT_H
#define MAILSEAL_TEXT_H

#include <glib.h>
#include <stddef.h>

/* text_decode_charset - data declared in charset (NULL: none) as UTF-8
 * without NUL: each byte that is invalid in the charset becomes U+FFFD,
 * the rest is decoded; an unknown charset is read as UTF-8 the same way.
 * Never NULL, "" for no data; *out_len (may be NULL) gets the length */
char *text_decode_charset(const guint8 *data, size_t len,
    const char *charset, size_t *out_len);

enum {
	/* title attributes too, text no browser shows in the page but that
	 * a reader sees on hovering (DLP) */
	TEXT_HTML_TITLES = 1u << 0
};

/* text_html_to_text - the text of an HTML document (UTF-8, invalid
 * octets read as U+FFFD): character references decoded, white space
 * collapsed outside pre, inline elements leaving nothing (so a number
 * split by <b> stays whole), block elements a line end, list items
 * "- ", the alt text of images, script, style and comments dropped;
 * flags TEXT_HTML_*.  Never NULL */
GString *text_html_to_text(const char *html, size_t len, unsigned flags);

#endif
