/*
 * pdfwrap - the whole message as an AES-256 encrypted PDF with its
 * attachments embedded, sent with a short notice (pdfwrap(1)).  The
 * password is static (a file, or the store per recipient or domain) or
 * random per message and recipient, derived so that a retry yields the
 * same one, and then told to the sender in a separate notice.  Any
 * failure writes nothing (ENC-1): never the plaintext original.
 */
#include "addr.h"
#include "diag.h"
#include "filter.h"
#include "msgpart.h"
#include "output.h"
#include "pdf.h"
#include "pdfpass.h"
#include "ritual.h"
#include "secret.h"

#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#ifndef MAILSEAL_SHAREDIR
#define MAILSEAL_SHAREDIR "/usr/local/share/mailseal"
#endif

/* pdf.md section 7 */
#define MAX_ATTACHMENTS 100
#define MAX_ATTACHMENT_BYTES ((size_t)25 * 1024 * 1024)
#define TEMPLATE_MAX (64 * 1024)

static const char usage[] =
"usage: pdfwrap [--store DIR] [-f SENDER] [-q QUEUEID]\n"
"               [--password-mode static | random] [--password-file FILE]\n"
"               [--sender-notice FILE] [--language LANG] RECIPIENT ...\n"
"       pdfwrap -h | --version\n";

static char *opt_sender, *opt_queue_id, *opt_mode, *opt_password_file;
static char *opt_sender_notice, *opt_language;

static struct poptOption options[] = {
	{ NULL, 'f', POPT_ARG_STRING, &opt_sender, 0, NULL, NULL },
	{ NULL, 'q', POPT_ARG_STRING, &opt_queue_id, 0, NULL, NULL },
	{ "password-mode", '\0', POPT_ARG_STRING, &opt_mode, 0, NULL, NULL },
	{ "password-file", '\0', POPT_ARG_STRING, &opt_password_file, 0,
	  NULL, NULL },
	{ "sender-notice", '\0', POPT_ARG_STRING, &opt_sender_notice, 0,
	  NULL, NULL },
	{ "language", '\0', POPT_ARG_STRING, &opt_language, 0, NULL, NULL },
	POPT_TABLEEND
};

typedef enum password_mode {
	MODE_STATIC,
	MODE_RANDOM
} password_mode;

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
	bool too_many, too_large, unreadable;
} content;

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
	char *converted = NULL, *valid;
	GString *clean;
	const char *p;

	if (bytes->len == 0)
		return g_strdup("");
	if (charset != NULL && g_ascii_strcasecmp(charset, "utf-8") != 0 &&
	    g_ascii_strcasecmp(charset, "us-ascii") != 0)
		converted = g_convert_with_fallback((const char *)bytes->data,
		    (gssize)bytes->len, "UTF-8", charset, "?", NULL, NULL,
		    NULL);
	if (converted != NULL)
		valid = g_utf8_make_valid(converted, -1);
	else
		valid = g_utf8_make_valid((const char *)bytes->data,
		    (gssize)bytes->len);
	g_free(converted);
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

	if (c->attachments->len >= MAX_ATTACHMENTS) {
		c->too_many = true;
		secret_bytes_free(data);
		return false;
	}
	if (data->len > MAX_ATTACHMENT_BYTES - c->bytes) {
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
	fallback = g_strdup_printf("part-%s.bin",
	    *node->path != '\0' ? node->path : "0");
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
	bytes = msg_part_content(node->object, MAX_ATTACHMENT_BYTES + 1);
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
		char *plain = pdf_html_text(text, strlen(text));

		g_string_append(c->html, plain);
		g_string_append_c(c->html, '\n');
		g_free(plain);
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

/* header_value - the decoded values of a field joined with ", " */
static char *
header_value(const ms_message *msg, const char *name)
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

/* wipe_string - free a GString that held plaintext */
static void
wipe_string(GString *s)
{
	if (s == NULL)
		return;
	sodium_memzero(s->str, s->len);
	g_string_free(s, TRUE);
}

/* build_pdf - the encrypted PDF of the whole message */
static ms_err
build_pdf(ms_message *msg, const char *password, GByteArray **out)
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
	c.plain = g_string_new(NULL);
	c.html = g_string_new(NULL);
	c.html_parts = g_ptr_array_new();
	c.attachments = g_ptr_array_new_with_free_func(attachment_free);
	err = msg_walk(msg, visit, &c);
	if (err != MS_OK)
		goto out;
	if (c.too_many) {
		err = filter_refuse("5.7.1", "more than %d attachments for "
		    "a PDF", MAX_ATTACHMENTS);
		goto out;
	}
	if (c.too_large) {
		err = filter_refuse("5.3.4", "attachments over %zu bytes "
		    "for a PDF", MAX_ATTACHMENT_BYTES);
		goto out;
	}
	if (c.unreadable) {
		diag_status("5.6.0 a part of the message cannot be read");
		err = MS_DATA;
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
		err = filter_refuse(c.too_many ? "5.7.1" : "5.3.4",
		    "too many or too large attachments for a PDF");
		goto out;
	}
	for (i = 0; i < G_N_ELEMENTS(fields); i++) {
		char *value = header_value(msg, fields[i]);

		if (*value == '\0') {
			g_free(value);
			continue;
		}
		g_ptr_array_add(cover, g_strdup(fields[i]));
		g_ptr_array_add(cover, value);
	}
	for (i = 0; i < c.attachments->len; i++) {
		attachment *a = g_ptr_array_index(c.attachments, i);
		char *sum = g_compute_checksum_for_data(G_CHECKSUM_SHA256,
		    a->data->data, a->data->len);

		g_ptr_array_add(cover, g_strdup("Attachment"));
		g_ptr_array_add(cover, g_strdup_printf("%s (%s, %u bytes, "
		    "SHA-256 %.16s)", a->name, a->mime_type, a->data->len,
		    sum));
		g_free(sum);
	}
	g_ptr_array_add(cover, NULL);
	g_ptr_array_add(cover, NULL);
	body = c.plain->len > 0 ? c.plain->str : c.html->str;
	err = pdf_render((const char *const *)cover->pdata, body, &rendered,
	    &truncated);
	if (err != MS_OK)
		goto out;
	if (truncated) {
		/* never cut silently: the full text travels as a file */
		GByteArray *full = g_byte_array_new();

		g_byte_array_append(full, (const guint8 *)body,
		    (guint)strlen(body));
		if (!add_attachment(&c, "message-body.txt", "body.txt",
		    "text/plain", full)) {
			err = filter_refuse("5.3.4", "the message is too "
			    "large for a PDF");
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
	wipe_string(c.plain);
	wipe_string(c.html);
	for (i = 0; i < c.html_parts->len; i++)
		secret_bytes_free(g_ptr_array_index(c.html_parts, i));
	g_ptr_array_free(c.html_parts, TRUE);
	g_ptr_array_free(c.attachments, TRUE);
	g_ptr_array_free(cover, TRUE);
	return err;
}

/* sharedir - where the shipped templates are */
static const char *
sharedir(void)
{
	const char *env = getenv("MAILSEAL_SHAREDIR");

	return env != NULL && *env != '\0' ? env : MAILSEAL_SHAREDIR;
}

/* load_template - pdf/templates/NAME.LANG.txt from the store, else the
 * shipped share/pdfwrap/NAME.LANG.txt */
static ms_err
load_template(const ms_store *store, const char *name, GString **out)
{
	char *file = g_strdup_printf("%s.%s.txt", name, opt_language);
	GByteArray *data = NULL;
	ms_err err;

	*out = NULL;
	err = store_read(store, "pdf/templates", file, TEMPLATE_MAX, &data);
	if (err == MS_NOTFOUND) {
		char *path = g_build_filename(sharedir(), "pdfwrap", file,
		    NULL);
		char *text = NULL;
		gsize len = 0;

		if (g_file_get_contents(path, &text, &len, NULL) &&
		    len <= TEMPLATE_MAX) {
			data = g_byte_array_new_take((guint8 *)text, len);
			err = MS_OK;
		} else {
			g_free(text);
			diag_error("no template %s in the store or in %s",
			    file, path);
			err = MS_CONFIG;
		}
		g_free(path);
	}
	if (err == MS_OK) {
		if (!g_utf8_validate((const char *)data->data,
		    (gssize)data->len, NULL)) {
			diag_error("template %s is not UTF-8", file);
			err = MS_CONFIG;
		} else {
			*out = g_string_new_len((const char *)data->data,
			    (gssize)data->len);
		}
		g_byte_array_free(data, TRUE);
	} else if (err != MS_CONFIG) {
		err = MS_CONFIG;
	}
	g_free(file);
	return err;
}

/* append_base64 - data in base64 lines of 76 characters */
static void
append_base64(GString *out, const void *data, size_t len)
{
	char *encoded = g_base64_encode(data, len);
	size_t total = strlen(encoded), at;

	for (at = 0; at < total; at += 76) {
		g_string_append_len(out, encoded + at,
		    (gssize)MIN(76, total - at));
		g_string_append_c(out, '\n');
	}
	g_free(encoded);
}

/* write_notice_file - the sender's notice, 0600, synced before the PDF
 * mail is written (pdf.md 5.2: the notice goes first) */
static ms_err
write_notice_file(const char *path, const GString *text)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW |
	    O_CLOEXEC, 0600);
	size_t done = 0;

	if (fd < 0) {
		diag_error("cannot create the sender notice: %s",
		    strerror(errno));
		return MS_TEMP;
	}
	while (done < text->len) {
		ssize_t n = write(fd, text->str + done, text->len - done);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			diag_error("cannot write the sender notice: %s",
			    strerror(errno));
			close(fd);
			return MS_TEMP;
		}
		done += (size_t)n;
	}
	if (fsync(fd) != 0 || close(fd) != 0) {
		diag_error("cannot write the sender notice: %s",
		    strerror(errno));
		return MS_TEMP;
	}
	return MS_OK;
}

/* sender_notice - the separate message that tells the sender the
 * password; it never carries the PDF or the body */
static ms_err
sender_notice(ms_filter *f, const ms_addr *sender, const ms_addr *recipient,
    const char *id, const char *password)
{
	GString *body = NULL, *mail;
	char *subject;
	ms_err err;

	err = load_template(f->store, "sender-notice", &body);
	if (err != MS_OK)
		return err;
	subject = header_value(f->msg, "Subject");
	g_string_replace(body, "%RECIPIENT%", recipient->text, 0);
	g_string_replace(body, "%SUBJECT%", subject, 0);
	g_string_replace(body, "%ID%", id, 0);
	g_string_replace(body, "%PASSWORD%", password, 0);
	g_free(subject);
	mail = g_string_new(NULL);
	msg_header_append(mail, "From", sender->text);
	msg_header_append(mail, "To", sender->text);
	g_string_append_printf(mail, "Subject: PDF password for your "
	    "message to %s\n", recipient->text);
	g_string_append(mail, "Auto-Submitted: auto-generated\n"
	    "MIME-Version: 1.0\n"
	    "Content-Type: text/plain; charset=utf-8\n"
	    "Content-Transfer-Encoding: base64\n\n");
	append_base64(mail, body->str, body->len);
	err = write_notice_file(opt_sender_notice, mail);
	wipe_string(body);
	wipe_string(mail);
	return err;
}

/* write_output - the outer header, the notice and the PDF */
static ms_err
write_output(ms_filter *f, const ms_addr *sender, const GByteArray *pdf)
{
	GString *notice = NULL, *mail;
	unsigned char random[12];
	char boundary[64];
	ms_output *out = NULL;
	ms_err err;

	err = load_template(f->store, "notice", &notice);
	if (err != MS_OK)
		return err;
	g_string_replace(notice, "%SENDER%", sender->text, 0);
	g_string_replace(notice, "%FILE%", "message.pdf", 0);
	randombytes_buf(random, sizeof(random));
	snprintf(boundary, sizeof(boundary), "=_mailseal-pdf-"
	    "%02x%02x%02x%02x%02x%02x%02x%02x%02x%02x%02x%02x",
	    random[0], random[1], random[2], random[3], random[4], random[5],
	    random[6], random[7], random[8], random[9], random[10],
	    random[11]);
	mail = msg_outer_headers(f->msg);
	if (!msg_has_field(mail, "MIME-Version"))
		g_string_append(mail, "MIME-Version: 1.0\n");
	g_string_append_printf(mail,
	    "Content-Type: multipart/mixed; boundary=\"%s\"\n\n"
	    "This is a message in MIME format.\n\n"
	    "--%s\n"
	    "Content-Type: text/plain; charset=utf-8\n"
	    "Content-Transfer-Encoding: base64\n\n", boundary, boundary);
	append_base64(mail, notice->str, notice->len);
	g_string_append_printf(mail, "\n--%s\n"
	    "Content-Type: application/pdf; name=\"message.pdf\"\n"
	    "Content-Transfer-Encoding: base64\n"
	    "Content-Disposition: attachment; filename=\"message.pdf\"\n\n",
	    boundary);
	append_base64(mail, pdf->data, pdf->len);
	g_string_append_printf(mail, "\n--%s--\n", boundary);
	err = output_open(f->store, &out);
	if (err == MS_OK)
		err = output_write(out, mail->str, mail->len);
	if (err == MS_OK) {
		err = output_commit(out);
		out = NULL;
	}
	output_discard(out);
	g_string_free(notice, TRUE);
	g_string_free(mail, TRUE);
	return err;
}

/* message_id - what makes the random password stable across retries */
static char *
message_id(const ms_message *msg)
{
	char **ids;
	char *id = NULL;

	if (opt_queue_id != NULL && *opt_queue_id != '\0')
		return g_strdup(opt_queue_id);
	ids = msg_header_texts(msg, "Message-ID");
	if (ids != NULL && ids[0] != NULL && *ids[0] != '\0')
		id = g_strdup(ids[0]);
	g_strfreev(ids);
	return id;
}

/* mode_from_settings - the recipient's pdf-password-mode */
static ms_err
mode_from_settings(ms_filter *f, const ms_addr *recipient,
    password_mode *mode)
{
	ms_settings *settings = NULL;
	const char *value;
	ms_err err;

	err = settings_load(f->store, recipient, &settings);
	if (err != MS_OK)
		return err;
	value = settings_get(settings, "pdf-password-mode");
	if (strcmp(value, "static") == 0) {
		*mode = MODE_STATIC;
	} else if (strcmp(value, "random-to-sender") == 0) {
		*mode = MODE_RANDOM;
	} else if (strcmp(value, "none") == 0) {
		err = filter_refuse("5.7.1", "PDF encryption is not "
		    "configured for the recipient");
	} else {
		diag_error("pdf-password-mode %s is not supported by this "
		    "version", value);
		err = MS_CONFIG;
	}
	settings_free(settings);
	return err;
}

/* get_sender - -f, else the single From address; random mode needs it
 * (the password goes there), the notice of static mode can do without */
static ms_err
get_sender(ms_filter *f, password_mode mode, ms_addr *sender)
{
	const char *why = NULL;

	if (mode == MODE_RANDOM ||
	    (opt_sender != NULL && *opt_sender != '\0'))
		return filter_sender(f, opt_sender, sender);
	if (msg_from_address(f->msg, sender, &why) != MS_OK) {
		addr_clear(sender);
		sender->text = g_strdup("the sender");
	}
	return MS_OK;
}

/* get_password - the user password for this message */
static ms_err
get_password(ms_filter *f, password_mode mode, const ms_addr *recipient,
    char **password, char **id)
{
	const char *why = NULL;
	ms_err err;

	*password = NULL;
	*id = NULL;
	if (mode == MODE_RANDOM) {
		char derived[PDFPASS_LEN + 1];

		*id = message_id(f->msg);
		if (*id == NULL) {
			diag_status("5.6.0 no queue id and no Message-ID to "
			    "derive the password from");
			return MS_DATA;
		}
		err = pdfpass_random(f->store, *id, recipient, derived);
		if (err == MS_OK)
			*password = g_strdup(derived);
		sodium_memzero(derived, sizeof(derived));
		return err;
	}
	if (opt_password_file != NULL) {
		*password = secret_read_file(opt_password_file);
		if (*password == NULL)
			return MS_CONFIG;
		return pdfpass_check_static(*password);
	}
	err = pdfpass_static(f->store, recipient, time(NULL), password, &why);
	if (err == MS_NOTFOUND)
		return filter_refuse("5.7.1", "no static PDF password for the "
		    "recipient");
	if (err == MS_POLICY)
		return filter_refuse("5.7.1", "the static PDF password for "
		    "the recipient %s", why);
	return err;
}

int
main(int argc, char **argv)
{
	static const ms_program prog = { usage, options };
	poptContext ctx = ritual_begin(argc, argv, &prog);
	const char **recipients = poptGetArgs(ctx);
	ms_addr recipient = { 0 }, sender = { 0 };
	password_mode mode = MODE_STATIC;
	GByteArray *pdf = NULL;
	char *password = NULL, *id = NULL;
	const char *why = NULL;
	size_t count = 0, i;
	ms_filter f;
	ms_err err;

	memset(&f, 0, sizeof(f));
	while (recipients != NULL && recipients[count] != NULL)
		count++;
	if (count == 0)
		ritual_usage_error("no RECIPIENT given");
	if (opt_mode != NULL && strcmp(opt_mode, "static") != 0 &&
	    strcmp(opt_mode, "random") != 0)
		ritual_usage_error("--password-mode is static or random");
	if (opt_language == NULL)
		opt_language = "en";
	if (strlen(opt_language) < 2 || strlen(opt_language) > 8 ||
	    strspn(opt_language, "abcdefghijklmnopqrstuvwxyz") !=
	    strlen(opt_language))
		ritual_usage_error("--language is a lowercase language code");
	if (opt_password_file != NULL && opt_mode != NULL &&
	    strcmp(opt_mode, "static") != 0)
		ritual_usage_error("--password-file is for static mode");
	/* one password per PDF: store passwords and random passwords are
	 * per recipient, so one recipient per run */
	if (opt_password_file == NULL && count != 1)
		ritual_usage_error("one RECIPIENT per run unless "
		    "--password-file is given");
	for (i = 0; i < count; i++) {
		ms_addr check;

		if (addr_parse_str(recipients[i], &check, &why) != MS_OK)
			ritual_usage_error("RECIPIENT is not an address: %s",
			    why);
		addr_clear(&check);
	}
	diag_set_quiet(true);
	err = filter_open(&f, MSG_READ_FULL);
	if (err != MS_OK)
		goto out;
	if (addr_parse_str(recipients[0], &recipient, &why) != MS_OK) {
		err = MS_USAGE;
		goto out;
	}
	if (opt_password_file != NULL)
		mode = MODE_STATIC;
	else if (opt_mode != NULL)
		mode = strcmp(opt_mode, "random") == 0 ? MODE_RANDOM :
		    MODE_STATIC;
	else if ((err = mode_from_settings(&f, &recipient, &mode)) != MS_OK)
		goto out;
	if (mode == MODE_RANDOM && opt_sender_notice == NULL) {
		diag_error("random passwords need --sender-notice FILE");
		err = MS_CONFIG;
		goto out;
	}
	err = get_sender(&f, mode, &sender);
	if (err != MS_OK)
		goto out;
	err = get_password(&f, mode, &recipient, &password, &id);
	if (err != MS_OK)
		goto out;
	err = build_pdf(f.msg, password, &pdf);
	if (err != MS_OK)
		goto out;
	if (mode == MODE_RANDOM) {
		err = sender_notice(&f, &sender, &recipient, id, password);
		if (err != MS_OK)
			goto out;
	}
	err = write_output(&f, &sender, pdf);
out:
	secret_free(password);
	g_free(id);
	if (pdf != NULL)
		g_byte_array_free(pdf, TRUE);
	addr_clear(&recipient);
	addr_clear(&sender);
	filter_close(&f);
	ritual_end(ctx, err);
}
