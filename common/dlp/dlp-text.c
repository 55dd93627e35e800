/*
 * dlp-text.c - text for the DLP engine from the message module's view of
 * a message (see dlp-text.h).  The tree comes from msg_walk(), the only
 * code that interprets structure; here each entity becomes UTF-8 text or
 * an unscannable reason.
 */
#include "dlp-text.h"
#include "dlp-extract.h"
#include "mslimits.h"
#include "msgpart.h"
#include "text.h"

#include <openssl/cms.h>
#include <openssl/err.h>
#include <openssl/objects.h>
#include <string.h>

static const char *const reason_names[] = {
	"limit_exceeded", "extraction_error", "unsupported_format",
	"password_protected", "user_encrypted"
};

const char *
dlp_unscannable_name(unsigned bit)
{
	for (unsigned i = 0; i < G_N_ELEMENTS(reason_names); i++)
		if (bit == 1u << i)
			return reason_names[i];
	return NULL;
}

unsigned
dlp_unscannable_bit(const char *name)
{
	for (unsigned i = 0; i < G_N_ELEMENTS(reason_names); i++)
		if (strcmp(name, reason_names[i]) == 0)
			return 1u << i;
	return 0;
}

static void
attachment_free(gpointer p)
{
	dlp_attachment *a = p;

	g_free(a->path);
	g_free(a->name);
	g_free(a->declared_type);
	g_free(a->detected_type);
	g_free(a);
}

void
dlp_text_report_init(dlp_text_report *report)
{
	memset(report, 0, sizeof(*report));
	report->why = g_string_new(NULL);
	report->attachments = g_ptr_array_new_with_free_func(attachment_free);
}

void
dlp_text_report_clear(dlp_text_report *report)
{
	if (report->why != NULL)
		g_string_free(report->why, TRUE);
	if (report->attachments != NULL)
		g_ptr_array_free(report->attachments, TRUE);
	memset(report, 0, sizeof(*report));
}

/* ---- parts ---- */

/* valid_utf8 - g_utf8_validate_len() (NUL is invalid there too) with the
 * ASCII run that most mail starts with, often all of it, checked eight
 * octets at a time */
static bool
valid_utf8(const guint8 *data, size_t len)
{
	const guint64 ones = 0x0101010101010101u, highs = ones << 7;
	size_t i;

	for (i = 0; len - i >= 8; i += 8) {
		guint64 word;

		memcpy(&word, data + i, sizeof(word));
		/* an octet with its high bit set, or a zero octet */
		if ((word & highs) != 0 || ((word - ones) & ~word & highs) != 0)
			break;
	}
	/* every octet before i is ASCII, so i starts a character */
	return g_utf8_validate_len((const gchar *)data + i, len - i, NULL);
}

/* utf8_charset - no charset, or one whose valid text is UTF-8 as it is */
static bool
utf8_charset(const char *charset)
{
	return charset == NULL || g_ascii_strcasecmp(charset, "utf-8") == 0 ||
	    g_ascii_strcasecmp(charset, "us-ascii") == 0 ||
	    g_ascii_strcasecmp(charset, "ascii") == 0;
}

/* sniff - a type from the content's first bytes, or NULL */
static const char *
sniff(const guint8 *d, size_t len)
{
	static const struct { const char *magic; size_t len; const char *type; }
	    magic[] = {
		{ "PK\003\004", 4, "application/zip" },
		{ "PK\005\006", 4, "application/zip" },
		{ "%PDF-", 5, "application/pdf" },
		{ "\320\317\021\340", 4, "application/x-ole-storage" },
		{ "\037\213", 2, "application/gzip" },
		{ "Rar!", 4, "application/vnd.rar" },
		{ "7z\274\257", 4, "application/x-7z-compressed" },
		{ "BZh", 3, "application/x-bzip2" },
		{ "\3757zXZ", 5, "application/x-xz" },
		{ "\211PNG", 4, "image/png" },
		{ "\377\330\377", 3, "image/jpeg" },
		{ "GIF8", 4, "image/gif" },
	};

	for (size_t i = 0; i < G_N_ELEMENTS(magic); i++)
		if (len >= magic[i].len &&
		    memcmp(d, magic[i].magic, magic[i].len) == 0)
			return magic[i].type;
	return NULL;
}

static bool
type_in(const char *type, const char *const *list)
{
	for (int i = 0; list[i] != NULL; i++) {
		size_t n = strlen(list[i]);

		if (list[i][n - 1] == '/' ? strncmp(type, list[i], n) == 0 :
		    strcmp(type, list[i]) == 0)
			return true;
	}
	return false;
}

/* text types beyond the text type itself: read as text */
static const char *const text_types[] = {
	"text/", "application/json", "application/xml", "application/x-sh",
	"application/javascript", "application/x-pem-file", "application/csv",
	"application/pgp-keys", "application/x-x509-ca-cert",
	"application/sql", "application/x-yaml", "application/yaml",
	"message/delivery-status", "message/disposition-notification",
	"application/ld+json", NULL
};

/* signatures carry no user content */
static const char *const signature_types[] = {
	"application/pkcs7-signature", "application/x-pkcs7-signature",
	"application/pgp-signature", NULL
};

/* not scanned, not flagged: a policy names them by type */
static const char *const media_types[] = {
	"image/", "audio/", "video/", "font/", NULL
};

typedef struct scan_state {
	dlp_engine *engine;
	const dlp_text_limits *limits;
	dlp_result *result;
	dlp_text_report *report;
	gint64 deadline;
	ms_err err;
	const char *prefix;	/* path of the signed data being read, or "" */
	unsigned nesting;	/* signed data inside signed data */
} scan_state;

static void
unscannable(scan_state *s, unsigned bit, const char *path)
{
	s->report->unscannable |= bit;
	g_string_append_printf(s->report->why, "%s%s: %s",
	    s->report->why->len ? "; " : "", *path ? path : "header",
	    dlp_unscannable_name(bit));
}

/* over_limits - the budget of text and time (limit_exceeded) */
static bool
over_limits(scan_state *s, size_t more, const char *path)
{
	if (g_get_monotonic_time() > s->deadline ||
	    more > s->limits->max_text - s->report->text_bytes ||
	    s->report->text_bytes > s->limits->max_text) {
		unscannable(s, DLP_UNSCANNABLE_LIMIT, path);
		return true;
	}
	return false;
}

/* scan_unit - one unit of UTF-8 text, header fields or not */
static bool
scan_unit(scan_state *s, const char *label, const char *text, size_t len,
    bool header)
{
	ms_err err;

	if (over_limits(s, len, label))
		return false;
	s->report->text_bytes += len;
	err = (header ? dlp_scan_header : dlp_scan_text)(s->engine, text, len,
	    label, s->result);
	if (err == MS_DATA) {
		unscannable(s, DLP_UNSCANNABLE_LIMIT, label);
		return true;
	}
	if (err != MS_OK) {
		s->err = err;
		return false;
	}
	return true;
}

/* scan - one unit of UTF-8 text of a body */
static bool
scan(scan_state *s, const char *label, const char *text, size_t len)
{
	return scan_unit(s, label, text, len, false);
}

typedef struct zip_scan {
	scan_state *s;
	const char *path;
	bool go_on;
} zip_scan;

static bool
zip_piece(const char *suffix, const char *text, size_t len, void *data)
{
	zip_scan *z = data;
	char *label = g_strconcat(z->path, suffix, NULL);

	z->go_on = scan(z->s, label, text, len);
	g_free(label);
	return z->go_on;
}

/* scan_zip - a ZIP or office document, extracted in a child process */
static bool
scan_zip(scan_state *s, const char *path, const GByteArray *data)
{
	dlp_extract_limits limits;
	gint64 left = (s->deadline - g_get_monotonic_time()) / G_USEC_PER_SEC;
	zip_scan z = { s, path, true };
	unsigned bits = 0;
	ms_err err;

	dlp_extract_limits_default(&limits,
	    s->limits->max_text - s->report->text_bytes,
	    left < 1 ? 1u : left > 86400 ? 86400u : (unsigned)left);
	err = dlp_extract_zip(data->data, data->len, &limits, zip_piece, &z,
	    &bits);
	if (err != MS_OK) {
		s->err = err;
		return false;
	}
	for (unsigned bit = 1; bit <= DLP_UNSCANNABLE_ALL; bit <<= 1)
		if (bits & bit)
			unscannable(s, bit, path);
	return z.go_on;
}

static bool
scan_leaf(scan_state *s, const msg_node *node, const char *label)
{
	size_t max = limits_get()->message_size;
	GByteArray *data;
	const char *detected;
	bool go_on = true, is_pkcs12;

	/* MIME-L8: a part decodes to at most twice the input size */
	max = max > G_MAXSIZE / 2 ? G_MAXSIZE : max * 2;
	data = msg_part_content(node->object, max);
	if (data == NULL) {
		unscannable(s, DLP_UNSCANNABLE_EXTRACTION, node->path);
		return true;
	}
	detected = sniff(data->data, data->len);
	if (node->filename != NULL || node->attachment ||
	    strncmp(node->mime_type, "text/", 5) != 0) {
		dlp_attachment *a = g_new0(dlp_attachment, 1);

		a->path = g_strdup(node->path);
		a->name = g_strdup(node->filename);
		a->declared_type = g_strdup(node->mime_type);
		a->detected_type = g_strdup(detected);
		g_ptr_array_add(s->report->attachments, a);
	}
	if (data->len == 0) {
		/* an empty part holds nothing to scan (and its data pointer
		 * may be NULL, which no search may be given) */
		g_byte_array_free(data, TRUE);
		return true;
	}
	is_pkcs12 = strcmp(node->mime_type, "application/pkcs12") == 0 ||
	    strcmp(node->mime_type, "application/x-pkcs12") == 0 ||
	    (node->filename != NULL && (g_str_has_suffix(node->filename,
	    ".p12") || g_str_has_suffix(node->filename, ".pfx")));
	if (type_in(node->mime_type, signature_types)) {
		/* nothing of the user's */
	} else if (is_pkcs12) {
		if (dlp_scan_pkcs12(s->engine, data->data, data->len, label,
		    s->result) != MS_OK) {
			s->err = MS_INTERNAL;
			go_on = false;
		}
	} else if (detected != NULL && strcmp(detected, "application/zip") ==
	    0) {
		go_on = scan_zip(s, node->path, data);
	} else if (detected != NULL && strncmp(detected, "image/", 6) != 0) {
		/* PDF, OLE documents, other archives: not read */
		unscannable(s, DLP_UNSCANNABLE_UNSUPPORTED, node->path);
	} else if (strcmp(node->mime_type, "text/html") == 0) {
		size_t len;
		char *utf8 = text_decode_charset(data->data, data->len,
		    node->charset, &len);
		GString *text = text_html_to_text(utf8, len,
		    TEXT_HTML_TITLES);

		go_on = scan(s, label, text->str, text->len);
		g_free(utf8);
		g_string_free(text, TRUE);
	} else if (type_in(node->mime_type, text_types) ||
	    (!type_in(node->mime_type, media_types) && detected == NULL &&
	    memchr(data->data, '\0', data->len) == NULL &&
	    valid_utf8(data->data, data->len))) {
		size_t len;
		char *utf8;

		/* valid UTF-8 in a UTF-8 or ASCII part is scanned where it
		 * is: no second copy of a large part */
		if (utf8_charset(node->charset) &&
		    valid_utf8(data->data, data->len)) {
			go_on = scan(s, label, (const char *)data->data,
			    data->len);
		} else {
			utf8 = text_decode_charset(data->data, data->len,
			    node->charset, &len);
			go_on = scan(s, label, utf8, len);
			g_free(utf8);
		}
	} else if (!type_in(node->mime_type, media_types) &&
	    detected == NULL) {
		unscannable(s, DLP_UNSCANNABLE_UNSUPPORTED, node->path);
	}
	g_byte_array_free(data, TRUE);
	return go_on;
}

static bool visit(const msg_node *node, void *data);

/* SIGNED_DATA_NESTING - signed data read inside signed data, at most */
#define SIGNED_DATA_NESTING 4

/* scan_signed_data - S/MIME signed data (application/pkcs7-mime,
 * smime-type=signed-data) carries its content readable inside the CMS
 * structure: that MIME entity is read like a message of its own */
static bool
scan_signed_data(scan_state *s, const msg_node *node)
{
	size_t max = limits_get()->message_size;
	GByteArray *der = msg_part_content(node->object, max);
	const unsigned char *p;
	CMS_ContentInfo *cms = NULL;
	ASN1_OCTET_STRING **content;
	ms_message *inner = NULL;
	msg_problem problem;
	const char *saved = s->prefix;
	bool go_on = true;

	if (s->nesting >= SIGNED_DATA_NESTING) {
		unscannable(s, DLP_UNSCANNABLE_LIMIT, node->path);
		goto done;
	}
	if (der != NULL) {
		p = der->data;
		cms = d2i_CMS_ContentInfo(NULL, &p, (long)der->len);
	}
	if (cms == NULL || OBJ_obj2nid(CMS_get0_type(cms)) !=
	    NID_pkcs7_signed || (content = CMS_get0_content(cms)) == NULL ||
	    *content == NULL || msg_parse_buffer((const char *)
	    ASN1_STRING_get0_data(*content), (size_t)ASN1_STRING_length(
	    *content), &inner, &problem) != MS_OK) {
		ERR_clear_error();
		unscannable(s, DLP_UNSCANNABLE_EXTRACTION, node->path);
		goto done;
	}
	s->prefix = node->path;
	s->nesting++;
	if (msg_walk(inner, visit, s) != MS_OK) {
		s->err = MS_INTERNAL;
		go_on = false;
	}
	s->nesting--;
	s->prefix = saved;
	go_on = go_on && s->err == MS_OK;
done:
	if (inner != NULL)
		msg_free(inner);
	CMS_ContentInfo_free(cms);
	if (der != NULL)
		g_byte_array_free(der, TRUE);
	return go_on;
}

/* scan_opaque - an entity not read part by part: a multipart in which
 * the reader found no part is scanned as the text it is and flagged, so
 * it is never a silent pass; message/partial and external bodies are
 * not read */
static bool
scan_opaque(scan_state *s, const msg_node *node)
{
	/* the body of the message is "1" when it is the one entity */
	const char *path = *node->path != '\0' ? node->path : "1";
	GByteArray *raw;
	char *text;
	size_t len;
	bool go_on;

	if (strncmp(node->mime_type, "multipart/", 10) != 0) {
		unscannable(s, DLP_UNSCANNABLE_UNSUPPORTED, path);
		return true;
	}
	unscannable(s, DLP_UNSCANNABLE_EXTRACTION, path);
	raw = msg_serialize(node->object);
	if (raw == NULL)
		return true;
	text = text_decode_charset(raw->data, raw->len, NULL, &len);
	go_on = scan(s, path, text, len);
	g_free(text);
	g_byte_array_free(raw, TRUE);
	return go_on;
}

/* signed_data - an S/MIME entity that is signed, not encrypted */
static bool
signed_data(const msg_node *node)
{
	return GMIME_IS_APPLICATION_PKCS7_MIME(node->object) &&
	    g_mime_application_pkcs7_mime_get_smime_type(
	    GMIME_APPLICATION_PKCS7_MIME(node->object)) ==
	    GMIME_SECURE_MIME_TYPE_SIGNED_DATA;
}

static bool
visit(const msg_node *original, void *data)
{
	scan_state *s = data;
	msg_node inside = *original;
	const msg_node *node = original;
	char *path = NULL, *label;
	bool go_on = true;

	if (*s->prefix != '\0') {
		/* inside signed data: "2" holds "2.1", "2.2", ... */
		path = *original->path == '\0' ? g_strdup(s->prefix) :
		    g_strdup_printf("%s.%s", s->prefix, original->path);
		inside.path = path;
		node = &inside;
	}
	if (g_get_monotonic_time() > s->deadline) {
		unscannable(s, DLP_UNSCANNABLE_LIMIT, node->path);
		g_free(path);
		return false;
	}
	s->report->parts++;
	switch (node->kind) {
	case MSG_NODE_HEADERS:
		label = *node->path ? g_strdup_printf("%s header", node->path) :
		    g_strdup("header");
		go_on = scan_unit(s, label, node->header_text,
		    strlen(node->header_text), true);
		g_free(label);
		g_free(path);
		return go_on;
	case MSG_NODE_ENCRYPTED:
		if (signed_data(node))
			go_on = scan_signed_data(s, node);
		else
			unscannable(s, DLP_UNSCANNABLE_ENCRYPTED, node->path);
		g_free(path);
		return go_on;
	case MSG_NODE_OPAQUE:
		go_on = scan_opaque(s, node);
		g_free(path);
		return go_on;
	case MSG_NODE_LEAF:
		break;
	}
	/* labels never carry the file name: the name may be the very
	 * value a finding must not reveal in a log line */
	if (node->filename != NULL) {
		label = g_strdup_printf("%s name", node->path);
		go_on = scan(s, label, node->filename, strlen(node->filename));
		g_free(label);
	}
	if (go_on)
		go_on = scan_leaf(s, node, node->path);
	g_free(path);
	return go_on;
}

/* scan_raw - the body as it was received, when the reader reported
 * damage: a header line GMime could not read (a part whose header runs
 * into its body without a blank line) is dropped from the tree, and its
 * text would otherwise pass unseen */
static bool
scan_raw(scan_state *s, const ms_message *msg)
{
	size_t start = msg->header_len < msg->raw_len ? msg->header_len :
	    msg->raw_len;
	char *text;
	size_t len;
	bool go_on;

	text = text_decode_charset((const guint8 *)msg->raw + start,
	    msg->raw_len - start, NULL, &len);
	/* addresses were counted in the parts already */
	go_on = scan_unit(s, "raw", text, len, true);
	g_free(text);
	return go_on;
}

ms_err
dlp_text_scan(const ms_message *msg, dlp_engine *engine,
    const dlp_text_limits *limits, dlp_result *result,
    dlp_text_report *report)
{
	scan_state s = { engine, limits, result, report, 0, MS_OK, "", 0 };
	ms_err err;

	s.deadline = g_get_monotonic_time() +
	    (gint64)limits->max_seconds * G_USEC_PER_SEC;
	err = msg_walk(msg, visit, &s);
	if (err != MS_OK)
		return err;
	if (s.err == MS_OK && (msg->flags & MSG_FLAG_MALFORMED) &&
	    !(report->unscannable & DLP_UNSCANNABLE_LIMIT))
		(void)scan_raw(&s, msg);
	if (dlp_result_undecided(result) &&
	    !(report->unscannable & DLP_UNSCANNABLE_LIMIT)) {
		report->unscannable |= DLP_UNSCANNABLE_LIMIT;
		g_string_append_printf(report->why, "%sregex limits: %s",
		    report->why->len ? "; " : "",
		    dlp_result_undecided_text(result));
	}
	return s.err;
}
