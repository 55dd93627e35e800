/*
 * latin.h - the PDF body's fast path for plain Latin text (pdf.c): a
 * paragraph of printable ASCII and Latin-1/Latin Extended-A letters,
 * every one in the body font, is broken into lines at its spaces from a
 * cache of words shaped once (kerned, without ligatures), and a page's
 * lines are drawn as one glyph run with their text (so the PDF's text
 * stays extractable).  Browsers shape words the same way; shaping each
 * paragraph again (what a PangoLayout does) was most of pdfwrap's time
 * on a long text.
 *
 * API: latin_new() for a pango context and font, latin_break() for the
 * lines of one paragraph, latin_draw() for one line, latin_flush() to
 * draw a page's lines in one call (cairo's work per call is large).
 * Anything else (other scripts, tabs, a word wider than a line, a
 * character the font lacks) is refused and goes through a PangoLayout as
 * before.
 * Limits: LATIN_WORDS_MAX words of at most LATIN_WORD_MAX bytes are kept;
 * longer or further ones are shaped each time.
 */
#ifndef MAILSEAL_LATIN_H
#define MAILSEAL_LATIN_H

#include <cairo.h>
#include <glib.h>
#include <pango/pango.h>
#include <stdbool.h>
#include <stddef.h>

#define LATIN_WORDS_MAX 65536
#define LATIN_WORD_MAX 64

typedef struct latin latin;

/* one line of a paragraph: bytes [start, end), end after its last word */
typedef struct latin_line {
	size_t start, end;
} latin_line;

/* latin_new - the fast path for text in font (a pango font description
 * string) laid out in context, or NULL when that font cannot serve it */
latin *latin_new(PangoContext *context, const char *font);

/* latin_free - the cache and fonts, word texts wiped */
void latin_free(latin *l);

/* latin_words - how many different words the cache holds */
size_t latin_words(const latin *l);

/* latin_break - the lines of paragraph text (len bytes, no line feed) in
 * width pango units, into lines (latin_line, emptied first); false when
 * the paragraph is not for the fast path */
bool latin_break(latin *l, const char *text, size_t len, int width,
    GArray *lines);

/* latin_draw - text[start, end), one line latin_break gave, with its
 * baseline's left end at x, y (points); drawn at the next latin_flush */
void latin_draw(latin *l, const char *text, size_t start, size_t end,
    double x, double y);

/* latin_flush - draw the lines latin_draw gathered on cr in one call (l
 * may be NULL): before anything else is drawn, and before a page ends */
void latin_flush(latin *l, cairo_t *cr);

#endif
