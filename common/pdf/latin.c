/*
 * latin.c - plain Latin paragraphs from a cache of shaped words (see
 * latin.h).  A word is what lies between spaces; shaping it alone gives
 * the glyphs shaping the whole paragraph would (the body font has no
 * kerning across a space that text mail would notice; ligatures are
 * off), and the lines break where a PangoLayout breaks plain words: at
 * spaces, the spaces at a break hanging at the end of the line.
 */
#include "latin.h"
#include "secret.h"

#include <pango/pangocairo.h>
#include <sodium.h>
#include <string.h>

/* the letters past ASCII the fast path takes: Latin-1 and Latin
 * Extended-A, without the soft hyphen (a break opportunity pango hides) */
#define LATIN_FIRST 0xa0
#define LATIN_END 0x180
#define SOFT_HYPHEN 0xad

typedef struct shaped {
	PangoGlyphString *glyphs;
	int width;		/* pango units */
} shaped;

enum coverage { COVERAGE_UNKNOWN, COVERAGE_YES, COVERAGE_NO };

struct latin {
	PangoFont *font;
	PangoAnalysis analysis;
	GHashTable *words;	/* word text -> shaped * */
	GString *key;		/* the word looked up */
	shaped space;
	shaped scratch;		/* a word the cache does not keep */
	PangoGlyphString *line;	/* the run being drawn */
	/* the page's lines since the last latin_flush, for one call */
	GArray *glyphs;		/* cairo_glyph_t */
	GArray *clusters;	/* cairo_text_cluster_t */
	GString *text;
	guint8 coverage[LATIN_END - LATIN_FIRST];
};

/* word_free, shaped_free - the cache's destroy functions; a word is
 * message text, so it is wiped */
static void
word_free(void *p)
{
	char *word = p;

	sodium_memzero(word, strlen(word));
	g_free(word);
}

static void
shaped_free(void *p)
{
	shaped *s = p;

	pango_glyph_string_free(s->glyphs);
	g_free(s);
}

/* attribute_free - a GSList free function for pango attributes */
static void
attribute_free(void *attribute)
{
	pango_attribute_destroy(attribute);
}

/* shape - text[0, len) into s; false when a glyph is missing.  The
 * positions are not rounded to whole points (a PangoLayout's default):
 * glyphs at their own advances let cairo write a line with no position
 * adjustment between them, which is most of its work per glyph.  (Right-
 * to-left runs keep the layout's rounding: poppler reads Arabic written
 * unrounded as broken words.) */
static bool
shape(latin *l, const char *text, size_t len, shaped *s)
{
	int i;

	pango_shape_with_flags(text, (int)len, text, (int)len, &l->analysis,
	    s->glyphs, PANGO_SHAPE_NONE);
	for (i = 0; i < s->glyphs->num_glyphs; i++)
		if ((s->glyphs->glyphs[i].glyph & PANGO_GLYPH_UNKNOWN_FLAG) != 0)
			return false;
	s->width = pango_glyph_string_get_width(s->glyphs);
	return true;
}

/* lookup - the shaped word text[0, len): from the cache, shaped into it,
 * or shaped into the scratch run (valid until the next call); NULL when
 * the font lacks a glyph */
static const shaped *
lookup(latin *l, const char *text, size_t len)
{
	shaped *s;
	bool keep;

	keep = len <= LATIN_WORD_MAX;
	if (keep) {
		g_string_truncate(l->key, 0);
		g_string_append_len(l->key, text, (gssize)len);
		s = g_hash_table_lookup(l->words, l->key->str);
		if (s != NULL)
			return s;
		keep = g_hash_table_size(l->words) < LATIN_WORDS_MAX;
	}
	if (!keep)
		return shape(l, text, len, &l->scratch) ? &l->scratch : NULL;
	s = g_new(shaped, 1);
	s->glyphs = pango_glyph_string_new();
	if (!shape(l, text, len, s)) {
		shaped_free(s);
		return NULL;
	}
	g_hash_table_insert(l->words, g_strndup(text, len), s);
	return s;
}

/* covered - whether the font has character c (LATIN_FIRST <= c <
 * LATIN_END), asked once */
static bool
covered(latin *l, gunichar c)
{
	guint8 *known = &l->coverage[c - LATIN_FIRST];

	if (*known == COVERAGE_UNKNOWN)
		*known = pango_font_has_char(l->font, c) ? COVERAGE_YES :
		    COVERAGE_NO;
	return *known == COVERAGE_YES;
}

/* plain - whether every character of text[0, len) is one the fast path
 * takes */
static bool
plain(latin *l, const char *text, size_t len)
{
	const char *p = text, *end = text + len;

	while (p < end) {
		unsigned char byte = (unsigned char)*p;
		gunichar c;

		if (byte >= 0x20 && byte < 0x7f) {
			p++;
			continue;
		}
		if (byte < 0x80)
			return false;
		c = g_utf8_get_char_validated(p, end - p);
		if (c >= (gunichar)-2 || c < LATIN_FIRST || c >= LATIN_END ||
		    c == SOFT_HYPHEN || !covered(l, c))
			return false;
		p = g_utf8_next_char(p);
	}
	return true;
}

latin *
latin_new(PangoContext *context, const char *font)
{
	PangoFontDescription *desc = pango_font_description_from_string(font);
	PangoLanguage *language = pango_context_get_language(context);
	PangoFontset *fontset;
	PangoFont *chosen = NULL;
	latin *l;
	gunichar c;

	/* the language a PangoLayout itemizes with when none is set, so
	 * that the font is the one the layout would take (and fontconfig's
	 * sort for it is shared) */
	if (language == NULL)
		language = pango_language_get_default();
	fontset = pango_context_load_fontset(context, desc, language);
	pango_font_description_free(desc);
	if (fontset != NULL) {
		chosen = pango_fontset_get_font(fontset, 'a');
		g_object_unref(fontset);
	}
	if (chosen == NULL)
		return NULL;
	/* the font pango picks for a Latin letter must hold all of ASCII,
	 * or pango would mix in another font within a word */
	for (c = 0x20; c < 0x7f; c++) {
		if (!pango_font_has_char(chosen, c)) {
			g_object_unref(chosen);
			return NULL;
		}
	}
	l = g_new0(latin, 1);
	l->font = chosen;
	l->analysis.font = chosen;
	l->analysis.level = 0;
	l->analysis.gravity = PANGO_GRAVITY_SOUTH;
	l->analysis.script = PANGO_SCRIPT_LATIN;
	l->analysis.language = language;
	/* no ligatures: every glyph stands for one character, so a reader's
	 * search and copy find the words without the PDF's ActualText, and
	 * cairo writes the line as one run */
	l->analysis.extra_attrs = g_slist_prepend(NULL,
	    pango_attr_font_features_new("liga 0, clig 0"));
	l->words = g_hash_table_new_full(g_str_hash, g_str_equal, word_free,
	    shaped_free);
	l->key = g_string_new(NULL);
	l->space.glyphs = pango_glyph_string_new();
	l->scratch.glyphs = pango_glyph_string_new();
	l->line = pango_glyph_string_new();
	l->glyphs = g_array_new(FALSE, FALSE, sizeof(cairo_glyph_t));
	l->clusters = g_array_new(FALSE, FALSE, sizeof(cairo_text_cluster_t));
	l->text = g_string_new(NULL);
	/* a space must be one glyph, so that a run of them is that glyph
	 * repeated */
	if (!shape(l, " ", 1, &l->space) || l->space.glyphs->num_glyphs != 1) {
		latin_free(l);
		return NULL;
	}
	return l;
}

void
latin_free(latin *l)
{
	if (l == NULL)
		return;
	g_hash_table_destroy(l->words);
	secret_string_free(l->key);
	pango_glyph_string_free(l->space.glyphs);
	pango_glyph_string_free(l->scratch.glyphs);
	pango_glyph_string_free(l->line);
	g_array_free(l->glyphs, TRUE);
	g_array_free(l->clusters, TRUE);
	secret_string_free(l->text);
	g_slist_free_full(l->analysis.extra_attrs, attribute_free);
	g_object_unref(l->font);
	g_free(l);
}

size_t
latin_words(const latin *l)
{
	return g_hash_table_size(l->words);
}

bool
latin_break(latin *l, const char *text, size_t len, int width,
    GArray *lines)
{
	size_t i = 0, start = 0, end = 0;
	gint64 x = 0;
	bool any = false;
	latin_line line;

	g_array_set_size(lines, 0);
	if (!plain(l, text, len))
		return false;
	for (;;) {
		size_t spaces = 0, word;
		const shaped *w;

		while (i < len && text[i] == ' ') {
			spaces++;
			i++;
		}
		if (i == len)
			break;
		word = i;
		while (i < len && text[i] != ' ')
			i++;
		w = lookup(l, text + word, i - word);
		if (w == NULL)
			return false;
		if (any && x + (gint64)spaces * l->space.width + w->width >
		    width) {
			/* the spaces before the word hang at the line's end */
			line.start = start;
			line.end = end;
			g_array_append_val(lines, line);
			start = word;
			x = 0;
			spaces = 0;
		}
		x += (gint64)spaces * l->space.width + w->width;
		/* a word wider than a line is broken inside by pango */
		if (x > width)
			return false;
		end = i;
		any = true;
	}
	line.start = start;
	line.end = any ? end : start;
	g_array_append_val(lines, line);
	return true;
}

/* append - the glyphs of part after those of run, its clusters moved by
 * offset bytes */
static void
append(PangoGlyphString *run, const PangoGlyphString *part, size_t offset)
{
	int at = run->num_glyphs, i;

	pango_glyph_string_set_size(run, at + part->num_glyphs);
	memcpy(run->glyphs + at, part->glyphs,
	    (size_t)part->num_glyphs * sizeof(*part->glyphs));
	for (i = 0; i < part->num_glyphs; i++)
		run->log_clusters[at + i] = part->log_clusters[i] +
		    (int)offset;
}

/* add_run - the glyphs of run (text[0, len)) with their clusters to the
 * page's, the run's origin at x, y in points */
static void
add_run(latin *l, const PangoGlyphString *run, const char *text, size_t len,
    double x, double y)
{
	int at = 0, cursor = 0;

	while (at < run->num_glyphs) {
		int first = run->log_clusters[at], count = 0, next;
		cairo_text_cluster_t cluster;

		while (at < run->num_glyphs &&
		    run->log_clusters[at] == first) {
			const PangoGlyphInfo *info = &run->glyphs[at];

			/* an empty glyph draws nothing (pango's renderer
			 * skips it too); its bytes stay in the cluster */
			if (info->glyph != PANGO_GLYPH_EMPTY) {
				cairo_glyph_t glyph;

				glyph.index = info->glyph;
				glyph.x = x + (double)(cursor +
				    info->geometry.x_offset) / PANGO_SCALE;
				glyph.y = y + (double)info->geometry.y_offset /
				    PANGO_SCALE;
				g_array_append_val(l->glyphs, glyph);
				count++;
			}
			cursor += info->geometry.width;
			at++;
		}
		next = at < run->num_glyphs ? run->log_clusters[at] : (int)len;
		cluster.num_bytes = next - first;
		cluster.num_glyphs = count;
		g_array_append_val(l->clusters, cluster);
	}
	g_string_append_len(l->text, text, (gssize)len);
}

void
latin_draw(latin *l, const char *text, size_t start, size_t end, double x,
    double y)
{
	size_t i = start;

	if (end <= start)
		return;
	pango_glyph_string_set_size(l->line, 0);
	while (i < end) {
		size_t word = i;
		const shaped *w;

		if (text[i] == ' ') {
			append(l->line, l->space.glyphs, i - start);
			i++;
			continue;
		}
		while (i < end && text[i] != ' ')
			i++;
		/* never NULL: latin_break took the same words */
		w = lookup(l, text + word, i - word);
		if (w == NULL)
			return;
		append(l->line, w->glyphs, word - start);
	}
	add_run(l, l->line, text + start, end - start, x, y);
}

void
latin_flush(latin *l, cairo_t *cr)
{
	if (l == NULL || l->clusters->len == 0)
		return;
	cairo_save(cr);
	cairo_set_scaled_font(cr, pango_cairo_font_get_scaled_font(
	    PANGO_CAIRO_FONT(l->font)));
	cairo_show_text_glyphs(cr, l->text->str, (int)l->text->len,
	    (const cairo_glyph_t *)(void *)l->glyphs->data,
	    (int)l->glyphs->len,
	    (const cairo_text_cluster_t *)(void *)l->clusters->data,
	    (int)l->clusters->len, 0);
	cairo_restore(cr);
	g_array_set_size(l->glyphs, 0);
	g_array_set_size(l->clusters, 0);
	sodium_memzero(l->text->str, l->text->len);
	g_string_truncate(l->text, 0);
}
