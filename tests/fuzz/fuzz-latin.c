/*
 * fuzz-latin.c - libFuzzer target for the PDF body's Latin fast path
 * (common/pdf/latin.c), which lays out whatever text a sender wrote.
 *
 * The input is one paragraph, broken at a line's width and, when taken,
 * drawn onto a cairo recording surface.  Invariants, a violation aborts:
 *   - a taken paragraph gives at least one line, in order, inside it;
 *   - the lines hold the paragraph's words, each once and in order, every
 *     line but the first starting on a word and none ending in a space;
 *   - the glyph runs and clusters handed to cairo are ones it accepts.
 */
#include "fuzz.h"
#include "latin.h"

#include <cairo.h>
#include <glib.h>
#include <pango/pangocairo.h>
#include <stdint.h>
#include <string.h>

#define WIDTH (483 * PANGO_SCALE)
#define INPUT_MAX 4096

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
const char *__lsan_default_suppressions(void);

/* __lsan_default_suppressions - what tests/lsan.supp says of pdfwrap:
 * fontconfig's configuration parser keeps a few blocks past exit (the
 * font map lives as long as the process) */
const char *
__lsan_default_suppressions(void)
{
	return "leak:libfontconfig.so.1\nleak:libcairo.so.2\n";
}

static PangoFontMap *fontmap;
static PangoContext *context;

/* words - the words of text[0, len) joined by single spaces */
static GString *
words(const char *text, size_t len)
{
	GString *out = g_string_new(NULL);
	size_t i = 0;

	while (i < len) {
		size_t start;

		while (i < len && text[i] == ' ')
			i++;
		if (i == len)
			break;
		start = i;
		while (i < len && text[i] != ' ')
			i++;
		if (out->len > 0)
			g_string_append_c(out, ' ');
		g_string_append_len(out, text + start, (gssize)(i - start));
	}
	return out;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *text = (const char *)data;
	GArray *lines;
	GString *joined, *have, *want;
	cairo_surface_t *surface;
	cairo_t *cr;
	latin *l;
	guint i;

	if (size > INPUT_MAX)
		return 0;
	if (fontmap == NULL) {
		fontmap = pango_cairo_font_map_new();
		context = pango_font_map_create_context(fontmap);
	}
	l = latin_new(context, "Noto Sans, DejaVu Sans 10");
	require(l != NULL);
	lines = g_array_new(FALSE, FALSE, sizeof(latin_line));
	if (!latin_break(l, text, size, WIDTH, lines)) {
		g_array_free(lines, TRUE);
		latin_free(l);
		return 0;
	}
	require(lines->len >= 1);
	joined = g_string_new(NULL);
	surface = cairo_recording_surface_create(CAIRO_CONTENT_COLOR_ALPHA,
	    NULL);
	cr = cairo_create(surface);
	for (i = 0; i < lines->len; i++) {
		const latin_line *line = &g_array_index(lines, latin_line, i);

		require(line->start <= line->end && line->end <= size);
		require(i == 0 || line->start >= g_array_index(lines,
		    latin_line, i - 1).end);
		require(i == 0 || text[line->start] != ' ');
		require(line->end == line->start || text[line->end - 1] != ' ');
		g_string_append_c(joined, ' ');
		g_string_append_len(joined, text + line->start,
		    (gssize)(line->end - line->start));
		latin_draw(l, text, line->start, line->end, 56,
		    56 + 14.0 * i);
	}
	latin_flush(l, cr);
	require(cairo_status(cr) == CAIRO_STATUS_SUCCESS);
	have = words(joined->str, joined->len);
	want = words(text, size);
	require(strcmp(have->str, want->str) == 0);
	g_string_free(have, TRUE);
	g_string_free(want, TRUE);
	g_string_free(joined, TRUE);
	cairo_destroy(cr);
	cairo_surface_destroy(surface);
	g_array_free(lines, TRUE);
	latin_free(l);
	return 0;
}
