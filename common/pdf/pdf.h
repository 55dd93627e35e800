/*
 * pdf.h - the PDF a message becomes (pdfwrap(1)): pages laid out with
 * pango and cairo, then files embedded and the whole encrypted with
 * AES-256 (R6) through qpdf's C API.  Everything stays in memory: no
 * temporary file ever holds plaintext.
 *
 * API: pdf_render() lays out a cover block and a UTF-8 body on A4 pages
 * (words wrapped, pages numbered "Page N of M", scripts shaped by pango)
 * with an optional link (a reply link, pdf.md section 6);
 * pdf_protect() adds the attachments as embedded files and encrypts.
 * Limits: at most PDF_MAX_PAGES pages are rendered; the caller learns that
 * the body was cut and attaches the full text.  qpdf copies attachment data
 * internally and frees it without wiping (known limit; the process is
 * short-lived).
 */
#ifndef MAILSEAL_PDF_H
#define MAILSEAL_PDF_H

#include <glib.h>
#include <stdbool.h>
#include <stddef.h>

#include "err.h"

#define PDF_MAX_PAGES 500

/* one embedded file */
typedef struct pdf_attachment {
	const char *name;	/* UTF-8 file name, already made safe */
	const char *mime_type;	/* lowercase "type/subtype" */
	const guint8 *data;
	size_t len;
} pdf_attachment;

/* a link drawn under the cover block as "label: text" */
typedef struct pdf_link {
	const char *label;	/* UTF-8 */
	const char *text;	/* UTF-8, what the reader clicks */
	const char *uri;	/* printable ASCII */
} pdf_link;

/* pdf_render - a PDF of the cover lines ("Label: value" pairs, NULL
 * terminated, UTF-8), an optional link and the body (valid UTF-8);
 * *truncated tells that the body did not fit in PDF_MAX_PAGES pages */
ms_err pdf_render(const char *const *cover, const pdf_link *link,
    const char *body, GByteArray **out, bool *truncated);

/* pdf_protect - embed the attachments in pdf and encrypt with AES-256
 * (R6), user_password to open, a random owner password nobody learns */
ms_err pdf_protect(const GByteArray *pdf, const pdf_attachment *attachments,
    size_t count, const char *user_password, GByteArray **out);

/* pdf_safe_name - a file name fit for an embedded file: valid UTF-8, no
 * control characters, no directory part, never "." or ".."; fallback
 * when nothing is left (g_free) */
char *pdf_safe_name(const char *name, const char *fallback);

#endif
