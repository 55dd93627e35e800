/*
 * pdf.c - render a message as PDF pages and protect them (see pdf.h).
 *
 * Layout: one pango layout for the cover block (markup we build, every
 * value escaped: the sender's text is never markup); the body (plain
 * text, in pieces) paragraph by paragraph, plain Latin ones from a cache
 * of shaped words (latin.h), every run of others through a pango layout.
 * Pagination is ours: a counting pass finds the number of pages, a
 * drawing pass draws each line where it falls and the page footer; the
 * body is shaped once, in the counting pass.
 * qpdf then reads the cairo output from memory, adds the embedded files
 * (deflated only where that pays) and writes it encrypted (ENC-8: R6
 * only, a random owner password), every stream passed through as it is.
 */
#include "pdf.h"
#include "diag.h"
#include "latin.h"
#include "mslimits.h"

#include <cairo-pdf.h>
#include <cairo.h>
#include <gio/gio.h>
#include <pango/pangocairo.h>
#include <qpdf/qpdf-c.h>
#include <sodium.h>
#include <stdint.h>
#include <string.h>

/* A4 in points; margins leave room for the footer */
#define PAGE_WIDTH 595.0
#define PAGE_HEIGHT 842.0
#define MARGIN 56.0
#define FOOTER_GAP 28.0
#define TEXT_WIDTH (PAGE_WIDTH - 2 * MARGIN)
#define TEXT_HEIGHT (PAGE_HEIGHT - 2 * MARGIN - FOOTER_GAP)
#define COVER_GAP 14.0
#define FONT "Noto Sans, DejaVu Sans 10"
#define FOOTER_FONT "Noto Sans, DejaVu Sans 8"
#define OWNER_PASSWORD_LEN 32
/* an attachment is stored deflated when a fast trial on its first
 * FLATE_PROBE bytes saves a tenth or more; smaller ones are always tried */
#define FLATE_PROBE ((size_t)64 * 1024)
#define FLATE_BLOCK ((size_t)64 * 1024)
#define CHUNK_SPACE_SEARCH 256
/* the layouts of the counting pass are kept for the drawing pass (shaping
 * is most of the work) for this much body text; past it they are made
 * again, so memory stays bounded for the longest bodies */
#define KEPT_TEXT_MAX ((size_t)512 * 1024)

static const char password_alphabet[] = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ";

/* append_fn - cairo's stream callback: append to a growable buffer */
static cairo_status_t
append_fn(void *closure, const unsigned char *data, unsigned int length)
{
	GByteArray *buffer = closure;

	if (length > PDF_OUTPUT_MAX - buffer->len)
		return CAIRO_STATUS_WRITE_ERROR;
	g_byte_array_append(buffer, data, length);
	return CAIRO_STATUS_SUCCESS;
}

typedef struct render {
	cairo_t *cr;
	PangoLayout *footer;
	bool draw;		/* false: only count pages */
	double y;		/* points used on the current page */
	unsigned page;		/* 1-based */
	unsigned total;		/* from the counting pass */
	bool full;		/* PDF_MAX_PAGES reached */
	bool missing;		/* a character without a glyph in any font */
	bool wrap;		/* each page's content in a structure element
				 * (a page with a link needs one, pdf.md 3.2) */
	GPtrArray *kept;	/* the body's layouts of the counting pass,
				 * NULL past KEPT_TEXT_MAX */
	latin *latin;		/* the fast path, NULL when the font has none */
	GArray *lines;		/* latin_line: a paragraph's lines */
	double line_height;	/* of a line of body text, points */
	double baseline;	/* from its top, points */
} render;

/* page_begin, page_end - the structure element around a page's content:
 * cairo 1.16 writes a damaged structure tree for a link outside one */
static void
page_begin(render *r)
{
	if (r->draw && r->wrap)
		cairo_tag_begin(r->cr, "Document", "");
}

static void
page_end(render *r)
{
	if (r->draw && r->wrap)
		cairo_tag_end(r->cr, "Document");
}

/* draw_footer - "Page N of M" centred under the text area */
static void
draw_footer(render *r)
{
	char *text;
	int width, height;

	if (r->full)
		text = g_strdup_printf("Page %u of %u \xe2\x80\x94 the rest of "
		    "the text is in the attached file message-body.txt",
		    r->page, r->total);
	else
		text = g_strdup_printf("Page %u of %u", r->page, r->total);
	pango_layout_set_text(r->footer, text, -1);
	g_free(text);
	pango_layout_get_pixel_size(r->footer, &width, &height);
	cairo_move_to(r->cr, (PAGE_WIDTH - width) / 2,
	    PAGE_HEIGHT - MARGIN - height);
	pango_cairo_show_layout(r->cr, r->footer);
}

/* next_page - finish the current page; false when the page limit is
 * reached (the current page stays the last one) */
static bool
next_page(render *r)
{
	if (r->page >= PDF_MAX_PAGES) {
		r->full = true;
		return false;
	}
	if (r->draw) {
		latin_flush(r->latin, r->cr);
		draw_footer(r);
		page_end(r);
		cairo_show_page(r->cr);
	}
	r->page++;
	r->y = 0;
	page_begin(r);
	return true;
}

/* flow - place the lines of layout after what the page holds; with
 * link (cairo link attributes), every line is that link */
static void
flow(render *r, PangoLayout *layout, const char *link)
{
	PangoLayoutIter *iter = pango_layout_get_iter(layout);

	/* what the fast path gathered comes first */
	if (r->draw)
		latin_flush(r->latin, r->cr);
	do {
		PangoRectangle logical;
		double height, baseline;

		pango_layout_iter_get_line_extents(iter, NULL, &logical);
		height = (double)logical.height / PANGO_SCALE;
		baseline = (double)(pango_layout_iter_get_baseline(iter) -
		    logical.y) / PANGO_SCALE;
		if (r->y > 0 && r->y + height > TEXT_HEIGHT && !next_page(r))
			break;
		if (r->draw) {
			cairo_move_to(r->cr,
			    MARGIN + (double)logical.x / PANGO_SCALE,
			    MARGIN + r->y + baseline);
			if (link != NULL)
				cairo_tag_begin(r->cr, CAIRO_TAG_LINK, link);
			pango_cairo_show_layout_line(r->cr,
			    pango_layout_iter_get_line_readonly(iter));
			if (link != NULL)
				cairo_tag_end(r->cr, CAIRO_TAG_LINK);
		}
		r->y += height;
	} while (pango_layout_iter_next_line(iter));
	pango_layout_iter_free(iter);
}

static PangoLayout *new_layout(PangoContext *context, const char *font);

/* layout_free - a GPtrArray free function that passes over NULL */
static void
layout_free(void *layout)
{
	if (layout != NULL)
		g_object_unref(layout);
}

/* chunk_end - where the next piece of body text to lay out ends: after
 * the last line break within PDF_CHUNK_MAX bytes, else after a space, else
 * at a character boundary.  Pango finds a line's character offset by
 * counting from the start of its layout, so one layout for a long text
 * takes quadratic time: short layouts keep it linear. */
static const char *
chunk_end(const char *p, const char *end)
{
	const char *stop, *q;

	if ((size_t)(end - p) <= PDF_CHUNK_MAX)
		return end;
	stop = p + PDF_CHUNK_MAX;
	for (q = stop; q > p; q--)
		if (q[-1] == '\n')
			return q;
	for (q = stop; q > stop - CHUNK_SPACE_SEARCH; q--)
		if (q[-1] == ' ')
			return q;
	/* a UTF-8 continuation byte never starts a character */
	while (stop > p + 1 && ((unsigned char)*stop & 0xc0) == 0x80)
		stop--;
	return stop;
}

/* flow_layout - place text[0, len) after what the page holds through a
 * PangoLayout: the counting pass keeps its layout for the drawing pass
 * (piece counts the layouts of a pass) while keep holds */
static void
flow_layout(render *r, PangoContext *context, const char *text, size_t len,
    size_t *piece, bool keep)
{
	PangoLayout *layout = *piece < r->kept->len ?
	    g_ptr_array_index(r->kept, *piece) : NULL;
	bool fresh = layout == NULL;

	if (fresh) {
		layout = new_layout(context, FONT);
		pango_layout_set_text(layout, text, (int)len);
		if (pango_layout_get_unknown_glyphs_count(layout) > 0)
			r->missing = true;
	}
	flow(r, layout, NULL);
	if (fresh && !r->draw && keep) {
		g_ptr_array_add(r->kept, layout);
		layout = NULL;
	} else if (fresh && !r->draw) {
		/* a placeholder: made again when drawn */
		g_ptr_array_add(r->kept, NULL);
	}
	if (fresh && layout != NULL)
		g_object_unref(layout);
	(*piece)++;
}

/* flow_latin - place a plain Latin paragraph after what the page holds
 * by the fast path (latin.h); false, with nothing placed, when it is not
 * one */
static bool
flow_latin(render *r, const char *text, size_t len)
{
	guint i;

	if (r->latin == NULL || !latin_break(r->latin, text, len,
	    (int)(TEXT_WIDTH * PANGO_SCALE), r->lines))
		return false;
	for (i = 0; i < r->lines->len; i++) {
		const latin_line *line = &g_array_index(r->lines, latin_line, i);

		if (r->y > 0 && r->y + r->line_height > TEXT_HEIGHT &&
		    !next_page(r))
			break;
		if (r->draw)
			latin_draw(r->latin, text, line->start, line->end,
			    MARGIN, MARGIN + r->y + r->baseline);
		r->y += r->line_height;
	}
	return true;
}

/* flow_piece - place one piece of body text (no final line break) after
 * what the page holds: plain Latin paragraphs by the fast path, every
 * run of other paragraphs through one PangoLayout */
static void
flow_piece(render *r, PangoContext *context, const char *text, size_t len,
    size_t *piece, bool keep)
{
	const char *p = text, *end = text + len, *other = NULL;

	while (!r->full) {
		const char *feed = memchr(p, '\n', (size_t)(end - p));
		const char *stop = feed != NULL ? feed : end;

		if (other == NULL && !flow_latin(r, p, (size_t)(stop - p)))
			other = p;
		else if (other != NULL && r->latin != NULL &&
		    latin_break(r->latin, p, (size_t)(stop - p),
		    (int)(TEXT_WIDTH * PANGO_SCALE), r->lines)) {
			/* the run of other paragraphs ends before this one */
			flow_layout(r, context, other, (size_t)(p - 1 - other),
			    piece, keep);
			other = NULL;
			if (!r->full)
				flow_latin(r, p, (size_t)(stop - p));
		}
		if (feed == NULL)
			break;
		p = feed + 1;
	}
	if (other != NULL && !r->full)
		flow_layout(r, context, other, (size_t)(end - other), piece,
		    keep);
}

/* flow_text - place text after what the page holds, piece by piece */
static void
flow_text(render *r, PangoContext *context, const char *text, size_t len)
{
	const char *p = text, *end = text + len;
	size_t piece = 0;

	while (p < end && !r->full) {
		const char *stop = chunk_end(p, end);
		size_t n = (size_t)(stop - p);

		/* the line break that ends a piece is the end of its text,
		 * not an empty line */
		if (n > 0 && p[n - 1] == '\n')
			n--;
		flow_piece(r, context, p, n, &piece,
		    (size_t)(stop - text) <= KEPT_TEXT_MAX);
		p = stop;
	}
}

/* run_pass - lay the cover, the link and the body out once: counting or
 * drawing */
static void
run_pass(render *r, PangoContext *context, PangoLayout *cover,
    PangoLayout *link, const char *link_attributes, const char *body,
    size_t body_len)
{
	r->y = 0;
	r->page = 1;
	r->full = false;
	page_begin(r);
	flow(r, cover, NULL);
	if (link != NULL && !r->full)
		flow(r, link, link_attributes);
	if (!r->full) {
		r->y += COVER_GAP;
		flow_text(r, context, body, body_len);
	}
	if (r->draw) {
		latin_flush(r->latin, r->cr);
		draw_footer(r);
		page_end(r);
		cairo_show_page(r->cr);
	}
}

/* link_markup - the link's text, coloured and underlined like a link */
static char *
link_markup(const pdf_link *link)
{
	char *label = g_markup_escape_text(link->label, -1);
	char *text = g_markup_escape_text(link->text, -1);
	char *markup = g_strdup_printf("<b>%s:</b> <span foreground=\"#1a4fb5\" "
	    "underline=\"single\">%s</span>", label, text);

	g_free(label);
	g_free(text);
	return markup;
}

/* link_attributes - cairo's attribute string for a link to uri: the
 * value single-quoted, quote and backslash escaped */
static char *
link_attributes(const char *uri)
{
	GString *out = g_string_new("uri='");

	for (; *uri != '\0'; uri++) {
		if (*uri == '\'' || *uri == '\\')
			g_string_append_c(out, '\\');
		g_string_append_c(out, *uri);
	}
	g_string_append_c(out, '\'');
	return g_string_free(out, FALSE);
}

/* cover_markup - "<b>Label:</b> value" lines, every piece escaped */
static char *
cover_markup(const char *const *cover)
{
	GString *markup = g_string_new(NULL);
	size_t i;

	for (i = 0; cover[i] != NULL && cover[i + 1] != NULL; i += 2) {
		char *label = g_markup_escape_text(cover[i], -1);
		char *value = g_markup_escape_text(cover[i + 1], -1);

		g_string_append_printf(markup, "%s<b>%s:</b> %s",
		    i > 0 ? "\n" : "", label, value);
		g_free(label);
		g_free(value);
	}
	return g_string_free(markup, FALSE);
}

/* new_layout - a layout for the text area */
static PangoLayout *
new_layout(PangoContext *context, const char *font)
{
	PangoLayout *layout = pango_layout_new(context);
	PangoFontDescription *desc = pango_font_description_from_string(font);

	pango_layout_set_font_description(layout, desc);
	pango_font_description_free(desc);
	pango_layout_set_width(layout, (int)(TEXT_WIDTH * PANGO_SCALE));
	pango_layout_set_wrap(layout, PANGO_WRAP_WORD_CHAR);
	pango_layout_set_auto_dir(layout, TRUE);
	return layout;
}

/* line_metrics - the height and baseline of a line of body text, as a
 * PangoLayout places it, in points */
static void
line_metrics(PangoContext *context, double *height, double *baseline)
{
	PangoLayout *layout = new_layout(context, FONT);
	PangoLayoutIter *iter;
	PangoRectangle logical;

	pango_layout_set_text(layout, "x", -1);
	iter = pango_layout_get_iter(layout);
	pango_layout_iter_get_line_extents(iter, NULL, &logical);
	*height = (double)logical.height / PANGO_SCALE;
	*baseline = (double)(pango_layout_iter_get_baseline(iter) -
	    logical.y) / PANGO_SCALE;
	pango_layout_iter_free(iter);
	g_object_unref(layout);
}

ms_err
pdf_render(const char *const *cover, const pdf_link *link, const char *body,
    GByteArray **out, bool *truncated)
{
	GByteArray *buffer = g_byte_array_new();
	cairo_surface_t *surface;
	PangoFontMap *fontmap;
	PangoContext *context;
	PangoLayout *cover_layout, *link_layout = NULL;
	render r;
	char *markup, *attributes = NULL;
	size_t body_len = strlen(body);
	cairo_status_t status;

	*out = NULL;
	*truncated = false;
	if (body_len > PDF_BODY_TEXT_MAX) {
		const char *end = g_utf8_find_prev_char(body,
		    body + PDF_BODY_TEXT_MAX + 1);

		body_len = end != NULL ? (size_t)(end - body) : 0;
		*truncated = true;
	}
	surface = cairo_pdf_surface_create_for_stream(append_fn, buffer,
	    PAGE_WIDTH, PAGE_HEIGHT);
	memset(&r, 0, sizeof(r));
	r.cr = cairo_create(surface);
	r.kept = g_ptr_array_new_with_free_func(layout_free);
	/* a font map of our own, not pango's per-thread default, so its
	 * font caches are freed with it */
	fontmap = pango_cairo_font_map_new();
	context = pango_font_map_create_context(fontmap);
	pango_cairo_update_context(r.cr, context);
	r.latin = latin_new(context, FONT);
	r.lines = g_array_new(FALSE, FALSE, sizeof(latin_line));
	line_metrics(context, &r.line_height, &r.baseline);
	cover_layout = new_layout(context, FONT);
	markup = cover_markup(cover);
	pango_layout_set_markup(cover_layout, markup, -1);
	g_free(markup);
	if (link != NULL) {
		link_layout = new_layout(context, FONT);
		markup = link_markup(link);
		pango_layout_set_markup(link_layout, markup, -1);
		g_free(markup);
		attributes = link_attributes(link->uri);
		r.wrap = true;
	}
	r.footer = pango_layout_new(context);
	{
		PangoFontDescription *desc =
		    pango_font_description_from_string(FOOTER_FONT);

		pango_layout_set_font_description(r.footer, desc);
		pango_font_description_free(desc);
	}
	cairo_set_source_rgb(r.cr, 0, 0, 0);
	/* the counting pass, then the drawing pass with the page total */
	run_pass(&r, context, cover_layout, link_layout, attributes, body,
	    body_len);
	r.total = r.page;
	r.draw = true;
	run_pass(&r, context, cover_layout, link_layout, attributes, body,
	    body_len);
	if (r.full)
		*truncated = true;
	/* never a failure (pdf.md section 7): the text is still there,
	 * only drawn as boxes */
	if (r.missing)
		diag_warn("some characters have no font and show as boxes "
		    "(fonts-noto-core, fonts-noto-cjk)");
	g_object_unref(cover_layout);
	if (link_layout != NULL)
		g_object_unref(link_layout);
	g_free(attributes);
	g_object_unref(r.footer);
	g_ptr_array_free(r.kept, TRUE);
	latin_free(r.latin);
	g_array_free(r.lines, TRUE);
	g_object_unref(context);
	g_object_unref(fontmap);
	status = cairo_status(r.cr);
	cairo_destroy(r.cr);
	cairo_surface_finish(surface);
	if (status == CAIRO_STATUS_SUCCESS)
		status = cairo_surface_status(surface);
	cairo_surface_destroy(surface);
	if (status != CAIRO_STATUS_SUCCESS) {
		diag_error("cannot render the PDF: %s",
		    cairo_status_to_string(status));
		sodium_memzero(buffer->data, buffer->len);
		g_byte_array_free(buffer, TRUE);
		return MS_INTERNAL;
	}
	*out = buffer;
	return MS_OK;
}

/* qpdf_failed - report qpdf's error or first warning; true if any */
static bool
qpdf_failed(qpdf_data q, const char *step)
{
	qpdf_error e = NULL;

	if (qpdf_has_error(q))
		e = qpdf_get_error(q);
	else if (qpdf_more_warnings(q))
		/* a warning on a PDF we just built means a bug */
		e = qpdf_next_warning(q);
	if (e == NULL)
		return false;
	diag_error("qpdf: %s: %s", step, qpdf_get_error_full_text(q, e));
	return true;
}

/* ascii_name - the /F fallback: printable ASCII, the rest '_' */
static char *
ascii_name(const char *name)
{
	char *copy = g_strdup(name);
	char *p;

	for (p = copy; *p != '\0'; p++)
		if ((unsigned char)*p < 0x20 || (unsigned char)*p > 0x7e)
			*p = '_';
	return copy;
}

/* deflate_with - data in zlib format (PDF's FlateDecode) at level, or
 * NULL when that is not smaller than the data itself */
static GByteArray *
deflate_with(const guint8 *data, size_t len, int level)
{
	GConverter *z = G_CONVERTER(g_zlib_compressor_new(
	    G_ZLIB_COMPRESSOR_FORMAT_ZLIB, level));
	GByteArray *out = g_byte_array_sized_new((guint)MIN(len, G_MAXUINT));
	guint8 *block = g_malloc(FLATE_BLOCK);
	size_t at = 0;
	bool ok = false;

	for (;;) {
		gsize used = 0, made = 0;
		GConverterResult result = g_converter_convert(z, data + at,
		    len - at, block, FLATE_BLOCK, G_CONVERTER_INPUT_AT_END,
		    &used, &made, NULL);

		if (result == G_CONVERTER_ERROR || made >= len - out->len)
			break;
		at += used;
		g_byte_array_append(out, block, (guint)made);
		if (result == G_CONVERTER_FINISHED) {
			ok = true;
			break;
		}
	}
	sodium_memzero(block, FLATE_BLOCK);
	g_free(block);
	g_object_unref(z);
	if (!ok) {
		sodium_memzero(out->data, out->len);
		g_byte_array_free(out, TRUE);
		return NULL;
	}
	return out;
}

/* deflated - the attachment deflated for the PDF, or NULL to store it as
 * it is: data that is already compressed (JPEG, ZIP, ...) would only cost
 * time, so a fast trial on its beginning decides */
static GByteArray *
deflated(const guint8 *data, size_t len)
{
	if (len > FLATE_PROBE) {
		GByteArray *trial = deflate_with(data, FLATE_PROBE, 1);
		bool worth = trial != NULL &&
		    trial->len <= FLATE_PROBE / 10 * 9;

		if (trial != NULL) {
			sodium_memzero(trial->data, trial->len);
			g_byte_array_free(trial, TRUE);
		}
		if (!worth)
			return NULL;
	}
	return deflate_with(data, len, 6);
}

/* embed - one attachment as file specification, appended to names */
static void
embed(qpdf_data q, qpdf_oh names, size_t index, const pdf_attachment *a)
{
	qpdf_oh stream = qpdf_oh_new_stream(q);
	qpdf_oh dict, params, spec, files;
	char *type_name = g_strconcat("/", a->mime_type, NULL);
	char *fallback = ascii_name(a->name);
	char key[24];

	GByteArray *packed = deflated(a->data, a->len);

	if (packed != NULL) {
		qpdf_oh_replace_stream_data(q, stream, packed->data,
		    packed->len, qpdf_oh_new_name(q, "/FlateDecode"),
		    qpdf_oh_new_null(q));
		sodium_memzero(packed->data, packed->len);
		g_byte_array_free(packed, TRUE);
	} else {
		qpdf_oh_replace_stream_data(q, stream, a->data, a->len,
		    qpdf_oh_new_null(q), qpdf_oh_new_null(q));
	}
	dict = qpdf_oh_get_dict(q, stream);
	qpdf_oh_replace_key(q, dict, "/Type", qpdf_oh_new_name(q,
	    "/EmbeddedFile"));
	qpdf_oh_replace_key(q, dict, "/Subtype", qpdf_oh_new_name(q,
	    type_name));
	params = qpdf_oh_new_dictionary(q);
	qpdf_oh_replace_key(q, params, "/Size", qpdf_oh_new_integer(q,
	    (long long)a->len));
	qpdf_oh_replace_key(q, dict, "/Params", params);
	files = qpdf_oh_new_dictionary(q);
	qpdf_oh_replace_key(q, files, "/F", stream);
	qpdf_oh_replace_key(q, files, "/UF", stream);
	spec = qpdf_oh_new_dictionary(q);
	qpdf_oh_replace_key(q, spec, "/Type", qpdf_oh_new_name(q,
	    "/Filespec"));
	qpdf_oh_replace_key(q, spec, "/F", qpdf_oh_new_string(q, fallback));
	qpdf_oh_replace_key(q, spec, "/UF", qpdf_oh_new_unicode_string(q,
	    a->name));
	qpdf_oh_replace_key(q, spec, "/Desc", qpdf_oh_new_unicode_string(q,
	    a->name));
	qpdf_oh_replace_key(q, spec, "/EF", files);
	spec = qpdf_make_indirect_object(q, spec);
	/* name tree keys must be sorted: fixed-width numbers are */
	snprintf(key, sizeof(key), "%06zu", index + 1);
	qpdf_oh_append_item(q, names, qpdf_oh_new_string(q, key));
	qpdf_oh_append_item(q, names, spec);
	g_free(type_name);
	g_free(fallback);
}

/* owner_password - random, never shown to anyone (ENC-8) */
static void
owner_password(char out[OWNER_PASSWORD_LEN + 1])
{
	unsigned char random[OWNER_PASSWORD_LEN];
	size_t i;

	randombytes_buf(random, sizeof(random));
	for (i = 0; i < OWNER_PASSWORD_LEN; i++)
		out[i] = password_alphabet[random[i] & 31];
	out[OWNER_PASSWORD_LEN] = '\0';
	sodium_memzero(random, sizeof(random));
}

ms_err
pdf_protect(const GByteArray *pdf, const pdf_attachment *attachments,
    size_t count, const char *user_password, GByteArray **out)
{
	qpdf_data q;
	char owner[OWNER_PASSWORD_LEN + 1];
	const unsigned char *written;
	size_t i, written_len;
	ms_err err = MS_INTERNAL;

	*out = NULL;
	if (sodium_init() < 0)
		return MS_INTERNAL;
	q = qpdf_init();
	/* qpdf would print to stderr, which pipe(8) copies into DSNs */
	qpdf_silence_errors(q);
	qpdf_set_suppress_warnings(q, QPDF_TRUE);
	if ((qpdf_read_memory(q, "pdfwrap", (const char *)pdf->data,
	    pdf->len, NULL) & QPDF_ERRORS) != 0 || qpdf_failed(q, "read"))
		goto out;
	if (count > 0) {
		qpdf_oh root = qpdf_get_root(q);
		qpdf_oh names = qpdf_oh_new_array(q);
		qpdf_oh tree = qpdf_oh_new_dictionary(q);
		qpdf_oh catalog_names;

		for (i = 0; i < count; i++)
			embed(q, names, i, &attachments[i]);
		qpdf_oh_replace_key(q, tree, "/Names", names);
		if (qpdf_oh_has_key(q, root, "/Names") &&
		    qpdf_oh_is_dictionary(q, catalog_names =
		    qpdf_oh_get_key(q, root, "/Names"))) {
			qpdf_oh_replace_key(q, catalog_names,
			    "/EmbeddedFiles", tree);
		} else {
			catalog_names = qpdf_oh_new_dictionary(q);
			qpdf_oh_replace_key(q, catalog_names,
			    "/EmbeddedFiles", tree);
			qpdf_oh_replace_key(q, root, "/Names",
			    catalog_names);
		}
		qpdf_oh_replace_key(q, root, "/PageMode",
		    qpdf_oh_new_name(q, "/UseAttachments"));
		if (qpdf_failed(q, "embed"))
			goto out;
	}
	if ((qpdf_init_write_memory(q) & QPDF_ERRORS) != 0 ||
	    qpdf_failed(q, "write setup"))
		goto out;
	/* streams are written as they are: cairo's are deflated already,
	 * the attachments were deflated above where that pays */
	qpdf_set_decode_level(q, qpdf_dl_none);
	qpdf_set_compress_streams(q, QPDF_FALSE);
	owner_password(owner);
	qpdf_set_r6_encryption_parameters2(q, user_password, owner,
	    QPDF_TRUE, QPDF_TRUE, QPDF_TRUE, QPDF_TRUE, QPDF_TRUE, QPDF_TRUE,
	    qpdf_r3p_full, QPDF_TRUE);
	sodium_memzero(owner, sizeof(owner));
	if (qpdf_failed(q, "encryption"))
		goto out;
	if ((qpdf_write(q) & QPDF_ERRORS) != 0 || qpdf_failed(q, "write"))
		goto out;
	written_len = qpdf_get_buffer_length(q);
	written = qpdf_get_buffer(q);
	if (written == NULL || written_len == 0 || written_len > G_MAXUINT) {
		diag_error("qpdf wrote no usable output");
		goto out;
	}
	*out = g_byte_array_sized_new((guint)written_len);
	g_byte_array_append(*out, written, (guint)written_len);
	err = MS_OK;
out:
	qpdf_cleanup(&q);
	return err;
}

char *
pdf_safe_name(const char *name, const char *fallback)
{
	char *valid, *base, *result;
	const char *p, *slash;
	GString *clean;

	if (name == NULL || *name == '\0')
		return g_strdup(fallback);
	valid = g_utf8_make_valid(name, -1);
	/* no directory part, whichever separator the sender meant */
	base = valid;
	for (slash = valid; *slash != '\0'; slash++)
		if (*slash == '/' || *slash == '\\')
			base = (char *)slash + 1;
	clean = g_string_new(NULL);
	for (p = base; *p != '\0'; p = g_utf8_next_char(p)) {
		gunichar c = g_utf8_get_char(p);

		/* control and format characters (bidi overrides hide a
		 * name's real ending) are dropped */
		if (g_unichar_iscntrl(c) ||
		    g_unichar_type(c) == G_UNICODE_FORMAT)
			continue;
		/* a leading dot would make a hidden or relative name */
		if (clean->len == 0 && (c == '.' || c == ' '))
			continue;
		if (clean->len > 200)
			break;
		g_string_append_unichar(clean, c);
	}
	while (clean->len > 0 && (clean->str[clean->len - 1] == ' ' ||
	    clean->str[clean->len - 1] == '.'))
		g_string_truncate(clean, clean->len - 1);
	g_free(valid);
	if (clean->len == 0) {
		g_string_free(clean, TRUE);
		return g_strdup(fallback);
	}
	result = g_string_free(clean, FALSE);
	return result;
}
