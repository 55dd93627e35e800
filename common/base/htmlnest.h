/*
 * htmlnest.h - a cheap bound on how deep HTML nests, before an HTML5
 * parser sees it.  The tree builder looks through its stack of open
 * elements for each tag, so its time grows with the square of the depth;
 * text extraction cuts deep HTML into pieces, the sanitizer refuses it.
 *
 * API: html_nest_cut() counts start and end tags from an offset; the
 * count errs on the deep side: every start tag of an element that can
 * nest counts, "<div/>" included (HTML5 ignores the slash on elements
 * that are not void, outside SVG and MathML), and an end tag closes one.
 * No limit of its own: it reads each byte once.
 */
#ifndef MAILSEAL_HTMLNEST_H
#define MAILSEAL_HTMLNEST_H
#include <stddef.h>

/* html_nest_cut - the offset of the first start tag after from that
 * would nest deeper than max, or len when there is none */
size_t html_nest_cut(const char *html, size_t len, size_t from,
    unsigned max);
#endif
