/*
 * pdfmsg.c - a message as the content of pdfwrap's PDF (see pdfmsg.h):
 * msg_walk sorts every entity into body text (text/plain as is,
 * text/html through text_html_to_text, both decoded by text.h) or an
 * embedded file, under the limits of pdf.md section 7.  S/MIME objects
 * are embedded as their DER under the names mail programs use; the entity
 * inside opaque signed data is read from the CMS (never verified here,
 * and the PDF says so) and walked like the message itself.
 */
#include "pdfmsg.h"
#include "codec.h"
#include "diag.h"
#include "msgpart.h"
#include "pdf.h"
#include "secret.h"
#include "text.h"

#include <openssl/cms.h>
#include <openssl/err.h>
#include <sodium.h>
#include <string.h>

/* opaque signed data inside opaque signed data is shown this deep */
#define SIGNED_DEPTH_MAX 2

/* one original part that becomes an embedded file */
typedef struct attachment {
	char *name;
	char *mime_type;
	GByteArray *data;
} attachment;

/* what the walk over the message collects */
typedef struct content {
	GString *plain;		/* text/plain bodies, UTF-8 */
	GString *html;		/* text/html bodies as text */
	GPtrArray *html_parts;	/* the HTML bodies kept as files too */
	GPtrArray *attachments;	/* attachment * */
	size_t bytes;		/* attachment bytes so far */
	unsigned signed_depth;	/* inside opaque signed data */
	bool too_many, too_large, unreadable;
} content;

/* attachment_free - a GPtrArray free function; the data is wiped */
static void
attachment_free(void *p)
{
	attachment *a = p;

	g_free(a->name);
	g_free(a->mime_type);
	secret_bytes_free(a->data);
	g_free(a);
}

/* utf8_text - bytes in charset as clean UTF-8 text: line ends LF,
 * control characters other than tab and line feed dropped (g_free) */
static char *
utf8_text(const GByteArray *bytes, const char *charset)
{
	char *valid;
	GString *clean;
	const char *p;

	valid = text_decode_charset(bytes->data, bytes->len, charset, NULL);
	clean = g_string_sized_new(strlen(valid));
	for (p = valid; *p != '\0'; p++) {
		unsigned char c = (unsigned char)*p;

		if (c == '\r') {
			if (p[1] != '\n')
				g_string_append_c(clean, '\n');
			continue;
		}
		if (c < 0x20 && c != '\n' && c != '\t')
			continue;
		if (c == 0x7f)
			continue;
		g_string_append_c(clean, (char)c);
	}
	g_free(valid);
	return g_string_free(clean, FALSE);
}

/* type_ok - a MIME type usable as a PDF name */
static bool
type_ok(const char *type)
{
	const char *p;

	if (type == NULL || strchr(type, '/') == NULL || strlen(type) > 100)
		return false;
	for (p = type; *p != '\0'; p++)
		if (!g_ascii_isalnum(*p) && strchr("/.+-_", *p) == NULL)
			return false;
	return true;
}

/* add_attachment - keep one part as an embedded file (takes data) */
static bool
add_attachment(content *c, const char *name, const char *fallback,
    const char *type, GByteArray *data)
{
	attachment *a;

	if (c->attachments->len >= PDFMSG_MAX_ATTACHMENTS) {
		c->too_many = true;
		secret_bytes_free(data);
		return false;
	}
	if (data->len > PDFMSG_MAX_ATTACHMENT_BYTES - c->bytes) {
		c->too_large = true;
		secret_bytes_free(data);
		return false;
	}
	c->bytes += data->len;
	a = g_new0(attachment, 1);
	a->name = pdf_safe_name(name, fallback);
	a->mime_type = g_strdup(type_ok(type) ? type :
	    "application/octet-stream");
	a->data = data;
	g_ptr_array_add(c->attachments, a);
	return true;
}

/* fallback_name - the file name of a part that has none: the names mail
 * programs give S/MIME objects, else part-PATH.bin (g_free) */
static char *
fallback_name(const msg_node *node)
{
	if (strcmp(node->mime_type, "application/pkcs7-signature") == 0 ||
	    strcmp(node->mime_type, "application/x-pkcs7-signature") == 0)
		return g_strdup("smime.p7s");
	if (GMIME_IS_APPLICATION_PKCS7_MIME(node->object))
		return g_strdup(g_mime_application_pkcs7_mime_get_smime_type(
		    GMIME_APPLICATION_PKCS7_MIME(node->object)) ==
		    GMIME_SECURE_MIME_TYPE_CERTS_ONLY ? "certs.p7c" :
		    "smime.p7m");
	return g_strdup_printf("part-%s.bin",
	    *node->path != '\0' ? node->path : "0");
}

/* cms_signed_content - the entity that CMS signed data in der carries,
 * read without verifying the signature; NULL for any other content or
 * detached signed data */
static GByteArray *
cms_signed_content(const GByteArray *der)
{
	const unsigned char *p = der->data;
	CMS_ContentInfo *cms = d2i_CMS_ContentInfo(NULL, &p, (long)der->len);
	ASN1_OCTET_STRING **inner;
	GByteArray *out = NULL;

	if (cms != NULL && OBJ_obj2nid(CMS_get0_type(cms)) ==
	    NID_pkcs7_signed && (inner = CMS_get0_content(cms)) != NULL &&
	    *inner != NULL) {
		out = g_byte_array_sized_new((guint)ASN1_STRING_length(*inner));
		g_byte_array_append(out, ASN1_STRING_get0_data(*inner),
		    (guint)ASN1_STRING_length(*inner));
	}
	CMS_ContentInfo_free(cms);
	ERR_clear_error();
	return out;
}

static bool visit(const msg_node *node, void *data);

/* show_signed - the entity inside opaque signed data, walked like the
 * message itself: its text shown under a line that says the signature
 * was not verified here, its parts embedded */
static void
show_signed(content *c, GByteArray *entity)
{
	ms_message *inner = NULL;
	msg_problem problem;

	g_string_append(c->plain, "\n\n--- signed content (the signature "
	    "is not verified) ---\n");
	c->signed_depth++;
	/* the signed data itself is embedded in any case: content that is
	 * no message is only not shown */
	if (msg_parse_buffer((const char *)entity->data, entity->len, &inner,
	    &problem) != MS_OK || msg_walk(inner, visit, c) != MS_OK)
		g_string_append(c->plain, "(not shown: it is no MIME entity; "
		    "see the attached signed data)\n");
	c->signed_depth--;
	msg_free(inner);
	secret_bytes_free(entity);
}

/* visit_pkcs7 - an application/pkcs7-mime part is kept as the file a mail
 * program saves: its DER under its own name or smime.p7m, certs.p7c.
 * Signed data also shows the entity it carries. */
static bool
visit_pkcs7(content *c, const msg_node *node)
{
	GByteArray *der = msg_part_content(node->object,
	    PDFMSG_MAX_ATTACHMENT_BYTES + 1);
	char *fallback;
	bool go_on;

	if (der == NULL) {
		c->unreadable = true;
		return false;
	}
	if (c->signed_depth < SIGNED_DEPTH_MAX) {
		GByteArray *entity = cms_signed_content(der);

		if (entity != NULL)
			show_signed(c, entity);
	}
	fallback = fallback_name(node);
	go_on = add_attachment(c, node->filename, fallback, node->mime_type,
	    der);
	g_free(fallback);
	return go_on;
}

/* visit - sort every entity into body text or embedded file */
static bool
visit(const msg_node *node, void *data)
{
	content *c = data;
	GByteArray *bytes;
	char *fallback, *text;
	bool body;

	if (node->kind == MSG_NODE_HEADERS) {
		if (node->depth > 0) {
			char *headers = g_utf8_make_valid(node->header_text,
			    -1);

			g_string_append_printf(c->plain, "\n\n--- attached "
			    "message ---\n%s\n", headers);
			g_free(headers);
		}
		return true;
	}
	if (node->kind == MSG_NODE_ENCRYPTED &&
	    GMIME_IS_APPLICATION_PKCS7_MIME(node->object))
		return visit_pkcs7(c, node);
	fallback = fallback_name(node);
	if (node->kind != MSG_NODE_LEAF) {
		/* encrypted or opaque: kept whole, as received */
		bytes = msg_serialize(node->object);
		if (bytes == NULL) {
			c->unreadable = true;
			g_free(fallback);
			return false;
		}
		body = add_attachment(c, NULL, fallback, node->mime_type,
		    bytes);
		g_free(fallback);
		return body;
	}
	bytes = msg_part_content(node->object,
	    PDFMSG_MAX_ATTACHMENT_BYTES + 1);
	if (bytes == NULL) {
		c->unreadable = true;
		g_free(fallback);
		return false;
	}
	body = !node->attachment && node->filename == NULL &&
	    (strcmp(node->mime_type, "text/plain") == 0 ||
	    strcmp(node->mime_type, "text/html") == 0);
	if (!body) {
		bool go_on = add_attachment(c, node->filename, fallback,
		    node->mime_type, bytes);

		g_free(fallback);
		return go_on;
	}
	g_free(fallback);
	text = utf8_text(bytes, node->charset);
	if (strcmp(node->mime_type, "text/html") == 0) {
		GString *plain = text_html_to_text(text, strlen(text), 0);

		g_string_append_len(c->html, plain->str, plain->len);
		g_string_append_c(c->html, '\n');
		g_string_free(plain, TRUE);
		/* also kept as a file: an HTML alternative may say more
		 * than its text part */
		g_ptr_array_add(c->html_parts, bytes);
	} else {
		if (c->plain->len > 0)
			g_string_append_c(c->plain, '\n');
		g_string_append(c->plain, text);
		secret_bytes_free(bytes);
	}
	sodium_memzero(text, strlen(text));
	g_free(text);
	return true;
}

/* collect_boundary - g_mime_message_foreach: "--boundary" of every
 * multipart into a GPtrArray */
static void
collect_boundary(GMimeObject *parent, GMimeObject *part, gpointer data)
{
	const char *boundary;

	(void)parent;
	if (GMIME_IS_MULTIPART(part) && (boundary =
	    g_mime_multipart_get_boundary(GMIME_MULTIPART(part))) != NULL)
		g_ptr_array_add(data, g_strconcat("--", boundary, NULL));
}

/* boundary_line - line (without its line end) is a delimiter of one of
 * boundaries; *closing for a close delimiter */
static bool
boundary_line(const char *line, size_t len, const GPtrArray *boundaries,
    bool *closing)
{
	size_t i;

	for (i = 0; i < boundaries->len; i++) {
		const char *b = g_ptr_array_index(boundaries, i);
		size_t n = strlen(b), at;

		if (len < n || memcmp(line, b, n) != 0)
			continue;
		at = n;
		*closing = len - at >= 2 && memcmp(line + at, "--", 2) == 0;
		if (*closing)
			at += 2;
		while (at < len && (line[at] == ' ' || line[at] == '\t'))
			at++;
		if (at == len)
			return true;
	}
	return false;
}

/* field_line - line starts a header field: a name of printable
 * characters, optional blanks, a colon */
static bool
field_line(const char *line, size_t len)
{
	size_t at = 0;

	while (at < len && line[at] > ' ' && line[at] < 0x7f &&
	    line[at] != ':')
		at++;
	if (at == 0)
		return false;
	while (at < len && (line[at] == ' ' || line[at] == '\t'))
		at++;
	return at < len && line[at] == ':';
}

/* header_ends_repaired - the raw message with an empty line put before
 * each line that ends a header section without one: a line that is no
 * field, no continuation and no delimiter.  GMime drops such lines, and
 * with a long one the rest of the message, where mail programs take the
 * line as the first of the body; with the empty line GMime reads the
 * part as they do, every byte kept.  NULL when nothing needed it. */
static GString *
header_ends_repaired(const ms_message *msg)
{
	GPtrArray *boundaries = g_ptr_array_new_with_free_func(g_free);
	const char *p = msg->raw, *end = msg->raw + msg->raw_len;
	GString *out = NULL;
	bool header = true, first = true;

	g_mime_message_foreach(msg->mime, collect_boundary, boundaries);
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *next = nl != NULL ? nl + 1 : end;
		size_t len = (size_t)((nl != NULL ? nl : end) - p);
		bool closing = false, crlf = len > 0 && p[len - 1] == '\r';

		if (crlf)
			len--;
		if (boundary_line(p, len, boundaries, &closing)) {
			header = !closing;
		} else if (header && len == 0) {
			header = false;
		} else if (header && !field_line(p, len) && p[0] != ' ' &&
		    p[0] != '\t' && !(first && len >= 5 &&
		    memcmp(p, "From ", 5) == 0)) {
			if (out == NULL) {
				out = g_string_sized_new(msg->raw_len + 64);
				g_string_append_len(out, msg->raw,
				    (gssize)(p - msg->raw));
			}
			g_string_append(out, crlf ? "\r\n" : "\n");
			header = false;
		}
		if (out != NULL)
			g_string_append_len(out, p, (gssize)(next - p));
		first = false;
		p = next;
	}
	g_ptr_array_free(boundaries, TRUE);
	return out;
}

/* walk_content - msg_walk over msg, or over its repaired copy when a
 * part's header runs into its body (see header_ends_repaired) */
static ms_err
walk_content(const ms_message *msg, content *c)
{
	GString *fixed = NULL;
	ms_message *again = NULL;
	msg_problem problem;
	ms_err err;

	if ((msg->flags & MSG_FLAG_MALFORMED) != 0 && msg->mime != NULL &&
	    !msg->headers_only)
		fixed = header_ends_repaired(msg);
	if (fixed == NULL ||
	    msg_parse_buffer(fixed->str, fixed->len, &again, &problem) !=
	    MS_OK) {
		if (fixed != NULL)
			secret_string_free(fixed);
		return msg_walk(msg, visit, c);
	}
	secret_string_free(fixed);
	err = msg_walk(again, visit, c);
	msg_free(again);
	return err;
}

char *
pdfmsg_header_value(const ms_message *msg, const char *name)
{
	char **values = msg_header_texts(msg, name);
	char *joined, *valid;

	if (values == NULL)
		return g_strdup("");
	joined = g_strjoinv(", ", values);
	g_strfreev(values);
	valid = g_utf8_make_valid(joined, -1);
	g_free(joined);
	return valid;
}

/* refused - MS_POLICY for a limit, MS_DATA for an unreadable part */
static ms_err
refused(pdfmsg_reason why, pdfmsg_reason *reason)
{
	*reason = why;
	return why == PDFMSG_UNREADABLE_PART ? MS_DATA : MS_POLICY;
}

ms_err
pdfmsg_build(ms_message *msg, const char *password, const pdf_link *link,
    bool attach_original, GByteArray **out, pdfmsg_reason *reason)
{
	static const char *const fields[] = {
		"From", "To", "Cc", "Date", "Subject"
	};
	content c = { 0 };
	GPtrArray *cover = g_ptr_array_new_with_free_func(g_free);
	pdf_attachment *list = NULL;
	GByteArray *rendered = NULL;
	const char *body;
	bool truncated;
	size_t i, count;
	ms_err err;

	*out = NULL;
	*reason = PDFMSG_BUILT;
	c.plain = g_string_new(NULL);
	c.html = g_string_new(NULL);
	c.html_parts = g_ptr_array_new();
	c.attachments = g_ptr_array_new_with_free_func(attachment_free);
	err = walk_content(msg, &c);
	if (err != MS_OK)
		goto out;
	if (c.too_many || c.too_large || c.unreadable) {
		err = refused(c.too_many ? PDFMSG_TOO_MANY_ATTACHMENTS :
		    c.too_large ? PDFMSG_ATTACHMENTS_TOO_LARGE :
		    PDFMSG_UNREADABLE_PART, reason);
		goto out;
	}
	/* the HTML parts as files too, when there is room */
	for (i = 0; i < c.html_parts->len; i++) {
		char *name = g_strdup_printf("message-%zu.html", i + 1);

		add_attachment(&c, name, name, "text/html",
		    g_ptr_array_index(c.html_parts, i));
		g_ptr_array_index(c.html_parts, i) = NULL;
		g_free(name);
	}
	if (c.too_many || c.too_large) {
		err = refused(c.too_many ? PDFMSG_TOO_MANY_ATTACHMENTS :
		    PDFMSG_ATTACHMENTS_TOO_LARGE, reason);
		goto out;
	}
	/* the message as received, when asked and when there is room: it
	 * is a copy of what the PDF already shows, so no room is no refusal */
	if (attach_original) {
		if (c.attachments->len < PDFMSG_MAX_ATTACHMENTS &&
		    msg->raw_len <= PDFMSG_MAX_ATTACHMENT_BYTES - c.bytes) {
			GByteArray *raw = g_byte_array_sized_new(
			    (guint)msg->raw_len);

			g_byte_array_append(raw, (const guint8 *)msg->raw,
			    (guint)msg->raw_len);
			add_attachment(&c, "message.eml", "message.eml",
			    "message/rfc822", raw);
		} else {
			diag_warn("the original message does not fit into "
			    "the PDF as well; it is not attached");
		}
	}
	for (i = 0; i < G_N_ELEMENTS(fields); i++) {
		char *value = pdfmsg_header_value(msg, fields[i]);

		if (*value == '\0') {
			g_free(value);
			continue;
		}
		g_ptr_array_add(cover, g_strdup(fields[i]));
		g_ptr_array_add(cover, value);
	}
	for (i = 0; i < c.attachments->len; i++) {
		attachment *a = g_ptr_array_index(c.attachments, i);
		char *sum = codec_sha256_hex(a->data->data, a->data->len);

		g_ptr_array_add(cover, g_strdup("Attachment"));
		g_ptr_array_add(cover, g_strdup_printf("%s (%s, %u bytes, "
		    "SHA-256 %.16s)", a->name, a->mime_type, a->data->len,
		    sum));
		g_free(sum);
	}
	g_ptr_array_add(cover, NULL);
	g_ptr_array_add(cover, NULL);
	body = c.plain->len > 0 ? c.plain->str : c.html->str;
	err = pdf_render((const char *const *)cover->pdata, link, body,
	    &rendered, &truncated);
	if (err != MS_OK)
		goto out;
	if (truncated) {
		/* never cut silently: the full text travels as a file */
		GByteArray *full = g_byte_array_new();

		g_byte_array_append(full, (const guint8 *)body,
		    (guint)strlen(body));
		if (!add_attachment(&c, "message-body.txt", "body.txt",
		    "text/plain", full)) {
			err = refused(PDFMSG_BODY_TOO_LARGE, reason);
			goto out;
		}
	}
	count = c.attachments->len;
	list = g_new0(pdf_attachment, count + 1);
	for (i = 0; i < count; i++) {
		attachment *a = g_ptr_array_index(c.attachments, i);

		list[i].name = a->name;
		list[i].mime_type = a->mime_type;
		list[i].data = a->data->data;
		list[i].len = a->data->len;
	}
	err = pdf_protect(rendered, list, count, password, out);
	if (err == MS_OK)
		diag_info("PDF of %u bytes with %zu attachment(s)",
		    (*out)->len, count);
out:
	secret_bytes_free(rendered);
	g_free(list);
	secret_string_free(c.plain);
	secret_string_free(c.html);
	for (i = 0; i < c.html_parts->len; i++)
		secret_bytes_free(g_ptr_array_index(c.html_parts, i));
	g_ptr_array_free(c.html_parts, TRUE);
	g_ptr_array_free(c.attachments, TRUE);
	g_ptr_array_free(cover, TRUE);
	return err;
}
