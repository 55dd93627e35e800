/*
 * pdfwrap - the whole message as an AES-256 encrypted PDF with its
 * attachments embedded, sent with a short notice (pdfwrap(1)).  The
 * password is static (a file, or the store per recipient or domain) or
 * random per message and recipient, derived so that a retry yields the
 * same one, and then told to the sender in a separate notice, or a
 * one-time password that pdfwrap-otp(1) derives again from the password
 * ID in the notice, or random and sent by SMS: the job is spooled in the
 * store for sms-send(1), never sent from here.  Any
 * failure writes nothing (ENC-1): never the plaintext original.  The
 * PDF itself is pdfmsg.c's; this file holds the options, the password
 * choice, the notices and the output message.
 */
#include "addr.h"
#include "diag.h"
#include "filter.h"
#include "msgpart.h"
#include "msgwrite.h"
#include "output.h"
#include "paths.h"
#include "pdfmsg.h"
#include "pdfpass.h"
#include "reply.h"
#include "ritual.h"
#include "secret.h"
#include "smsjob.h"
#include "mslimits.h"

#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static const char usage[] =
"usage: pdfwrap [--store DIR] [-f SENDER] [-q QUEUEID]\n"
"               [--password-mode static | random | sms | otp]\n"
"               [--password-file FILE]\n"
"               [--sender-notice FILE | --sender-notice-fd FD]\n"
"               [--language LANG]\n"
"               [--attach-original] RECIPIENT ...\n"
"       pdfwrap -h | --version\n";

static char *opt_sender, *opt_queue_id, *opt_mode, *opt_password_file;
static char *opt_sender_notice, *opt_language;
static int opt_attach_original, opt_notice_fd = -1;

static struct poptOption options[] = {
	{ NULL, 'f', POPT_ARG_STRING, &opt_sender, 0, NULL, NULL },
	{ NULL, 'q', POPT_ARG_STRING, &opt_queue_id, 0, NULL, NULL },
	{ "password-mode", '\0', POPT_ARG_STRING, &opt_mode, 0, NULL, NULL },
	{ "password-file", '\0', POPT_ARG_STRING, &opt_password_file, 0,
	  NULL, NULL },
	{ "sender-notice", '\0', POPT_ARG_STRING, &opt_sender_notice, 0,
	  NULL, NULL },
	{ "sender-notice-fd", '\0', POPT_ARG_INT, &opt_notice_fd, 0, NULL,
	  NULL },
	{ "language", '\0', POPT_ARG_STRING, &opt_language, 0, NULL, NULL },
	{ "attach-original", '\0', POPT_ARG_NONE, &opt_attach_original, 0,
	  NULL, NULL },
	POPT_TABLEEND
};

typedef enum password_mode {
	MODE_STATIC,
	MODE_RANDOM,
	MODE_SMS,
	MODE_OTP
} password_mode;

/* load_template - pdf/templates/NAME.LANG.txt from the store, else the
 * shipped share/pdfwrap/NAME.LANG.txt */
static ms_err
load_template(const ms_store *store, const char *name, GString **out)
{
	char *file = g_strdup_printf("%s.%s.txt", name, opt_language);
	GByteArray *data = NULL;
	ms_err err;

	*out = NULL;
	err = store_read(store, "pdf/templates", file, PDF_TEMPLATE_MAX, &data);
	if (err == MS_NOTFOUND) {
		char *path = g_build_filename(paths_sharedir(), "pdfwrap", file,
		    NULL);
		char *text = NULL;
		gsize len = 0;

		if (g_file_get_contents(path, &text, &len, NULL) &&
		    len <= PDF_TEMPLATE_MAX) {
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
 * mail is written (pdf.md 5.2: the notice goes first); into the open
 * descriptor of --sender-notice-fd instead when given, from its start */
static ms_err
write_notice_file(const char *path, const GString *text)
{
	int fd = opt_notice_fd >= 0 ? opt_notice_fd : open(path, O_WRONLY |
	    O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0600);
	size_t done = 0;

	if (fd >= 0 && opt_notice_fd >= 0 && (ftruncate(fd, 0) != 0 ||
	    lseek(fd, 0, SEEK_SET) != 0)) {
		diag_error("cannot write the sender notice: %s",
		    strerror(errno));
		return MS_TEMP;
	}
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
	subject = pdfmsg_header_value(f->msg, "Subject");
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
	secret_string_free(body);
	secret_string_free(mail);
	return err;
}

/* write_output - the outer header, the notice and the PDF; an OTP
 * password ID goes into the notice and the file name, an SMS reference
 * into the notice */
static ms_err
write_output(ms_filter *f, const ms_addr *sender, const char *otp_id,
    const char *sms_reference, const GByteArray *pdf)
{
	char *file = otp_id != NULL ? g_strdup_printf("message-%s.pdf",
	    otp_id) : g_strdup("message.pdf");
	GString *notice = NULL, *mail;
	msg_root root = { .type = MSG_ROOT_MIXED };
	ms_output *out = NULL;
	ms_err err;

	err = load_template(f->store, otp_id != NULL ? "notice-otp" :
	    sms_reference != NULL ? "notice-sms" : "notice", &notice);
	if (err != MS_OK) {
		g_free(file);
		return err;
	}
	g_string_replace(notice, "%SENDER%", sender->text, 0);
	g_string_replace(notice, "%FILE%", file, 0);
	if (otp_id != NULL)
		g_string_replace(notice, "%ID%", otp_id, 0);
	if (sms_reference != NULL)
		g_string_replace(notice, "%REF%", sms_reference, 0);
	root.boundary = msg_boundary_new("=_mailseal-pdf-", NULL, 0, NULL, 0);
	mail = msg_outer_headers(f->msg);
	err = output_open(f->store, &out);
	if (err == MS_OK)
		err = msg_write_root(out, mail, &root);
	if (err == MS_OK)
		err = msg_write_part(out, &root, MSG_PART_TEXT, NULL);
	if (err == MS_OK)
		err = msg_write_base64(out, notice->str, notice->len);
	if (err == MS_OK)
		err = msg_write_part(out, &root, MSG_PART_ATTACHMENT, file);
	if (err == MS_OK)
		err = msg_write_base64(out, pdf->data, pdf->len);
	if (err == MS_OK)
		err = msg_write_close(out, &root);
	if (err == MS_OK) {
		err = output_commit(out);
		out = NULL;
	}
	output_discard(out);
	msg_root_clear(&root);
	g_string_free(notice, TRUE);
	g_string_free(mail, TRUE);
	g_free(file);
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
mode_from_settings(const ms_settings *settings, password_mode *mode)
{
	const char *value = settings_get(settings, "pdf-password-mode");
	ms_err err = MS_OK;

	if (strcmp(value, "static") == 0) {
		*mode = MODE_STATIC;
	} else if (strcmp(value, "random-to-sender") == 0) {
		*mode = MODE_RANDOM;
	} else if (strcmp(value, "otp") == 0) {
		*mode = MODE_OTP;
	} else if (strcmp(value, "sms") == 0) {
		*mode = MODE_SMS;
	} else if (strcmp(value, "none") == 0) {
		err = filter_refuse("5.7.1", "PDF encryption is not "
		    "configured for the recipient");
	} else {
		diag_error("pdf-password-mode %s is not supported by this "
		    "version", value);
		err = MS_CONFIG;
	}
	return err;
}

/* get_sender - -f, else the single From address; random mode needs it
 * (the password goes there), the notice of static mode can do without */
static ms_err
get_sender(ms_filter *f, password_mode mode, ms_addr *sender)
{
	const char *why = NULL;

	if (mode == MODE_RANDOM || mode == MODE_SMS ||
	    (opt_sender != NULL && *opt_sender != '\0'))
		return filter_sender(f, opt_sender, sender);
	if (msg_from_address(f->msg, sender, &why) != MS_OK) {
		addr_clear(sender);
		sender->text = g_strdup("the sender");
	}
	return MS_OK;
}

/* otp_password - a new password ID under the recipient's newest client
 * secret (made on first use) and its password */
static ms_err
otp_password(ms_filter *f, const ms_addr *recipient, char **password,
    char **id)
{
	unsigned char secret[PDFPASS_OTP_SECRET_LEN];
	char derived[PDFPASS_LEN + 1], written[PDFPASS_OTP_ID_LEN + 1];
	unsigned generation = 0;
	ms_err err;

	err = pdfpass_otp_secret(f->store, recipient, 0, true, secret,
	    &generation);
	if (err == MS_NOTFOUND)
		err = MS_CONFIG;
	if (err != MS_OK)
		return err;
	pdfpass_otp_new_id(generation, written);
	pdfpass_otp_derive(secret, written, recipient->key, derived);
	sodium_memzero(secret, sizeof(secret));
	*password = g_strdup(derived);
	*id = g_strdup(written);
	sodium_memzero(derived, sizeof(derived));
	return MS_OK;
}

/* sms_number - the recipient's E.164 number; a refusal without one */
static ms_err
sms_number(const ms_settings *settings, char **number)
{
	const char *value = settings_get(settings, "sms-number");
	ms_err err = MS_OK;

	*number = NULL;
	if (*value == '\0') {
		err = filter_refuse("5.7.1", "no mobile number on file for the "
		    "PDF password by SMS: set sms-number for the recipient "
		    "or choose another pdf-password-mode");
	} else if (!smsjob_number_ok(value)) {
		diag_error("sms-number of the recipient is not an E.164 "
		    "number");
		err = MS_CONFIG;
	} else {
		*number = g_strdup(value);
	}
	return err;
}

/* reply_link - the PDF's reply link when the recipient's pdf-reply-url is
 * set (pdf.md section 6): a token sealed under pdf/reply.key naming the
 * message, the sender and the recipient, as *uri and the *text to click
 * (g_free); both stay NULL otherwise */
static ms_err
reply_link(ms_filter *f, const ms_settings *settings, const ms_addr *sender,
    const ms_addr *recipient, char **uri, char **text)
{
	const char *url = settings_get(settings, "pdf-reply-url");
	unsigned char key[REPLY_KEY_LEN];
	reply_claims claims;
	char *subject, *token, **ids, until[32];
	size_t url_len = strlen(url);
	time_t exp;
	struct tm tm;
	ms_err err;

	*uri = NULL;
	*text = NULL;
	if (url_len == 0)
		return MS_OK;
	if (sender->key == NULL) {
		diag_warn("no reply link: the message has no sender address");
		return MS_OK;
	}
	err = reply_key_load(f->store, false, key);
	if (err == MS_NOTFOUND) {
		diag_error("pdf-reply-url is set but the store has no "
		    "pdf/reply.key (%d random octets, 0600)",
		    (int)REPLY_KEY_LEN);
		err = MS_CONFIG;
	}
	if (err != MS_OK)
		return err;
	memset(&claims, 0, sizeof(claims));
	ids = msg_header_texts(f->msg, "Message-ID");
	claims.msgid = g_strstrip(g_strdup(ids != NULL && ids[0] != NULL ?
	    ids[0] : ""));
	g_strfreev(ids);
	if (*claims.msgid == '<' && claims.msgid[strlen(claims.msgid) - 1] ==
	    '>') {
		claims.msgid[strlen(claims.msgid) - 1] = '\0';
		memmove(claims.msgid, claims.msgid + 1, strlen(claims.msgid));
	}
	/* a Message-ID that is no claim a token can carry is left out */
	if (!reply_claim_ok(claims.msgid))
		claims.msgid[0] = '\0';
	claims.internal_sender = g_strdup(sender->key);
	claims.external_recipient = g_strdup(recipient->key);
	subject = pdfmsg_header_value(f->msg, "Subject");
	claims.subject_hash = reply_subject_hash(subject);
	g_free(subject);
	claims.iat = (long long)time(NULL);
	claims.exp = claims.iat +
	    (long long)settings_get_number(settings, "pdf-reply-expiry");
	token = reply_token_make(key, &claims);
	sodium_memzero(key, sizeof(key));
	if (token == NULL) {
		diag_warn("no reply link: the addresses cannot be put into a "
		    "token");
		reply_claims_clear(&claims);
		return MS_OK;
	}
	while (url_len > 0 && url[url_len - 1] == '/')
		url_len--;
	*uri = g_strdup_printf("%.*s/reply?t=%s", (int)url_len, url, token);
	exp = (time_t)claims.exp;
	if (gmtime_r(&exp, &tm) == NULL ||
	    strftime(until, sizeof(until), "%Y-%m-%d", &tm) == 0)
		g_strlcpy(until, "?", sizeof(until));
	*text = g_strdup_printf("reply securely through the portal (valid "
	    "until %s)", until);
	g_free(token);
	reply_claims_clear(&claims);
	return MS_OK;
}

/* spool_sms - commit the SMS job before any output (pdf.md 5.3): the
 * text names the password and the reference, never the subject.  With a
 * queue id the job's name is derived (job_name): a retry whose job is
 * still spooled or already done spools nothing again */
static ms_err
spool_sms(ms_filter *f, const char *number, const ms_addr *sender,
    const ms_addr *recipient, const char *password, const char *job_name,
    const char *reference)
{
	smsjob job;
	ms_err err;

	if (job_name != NULL && smsjob_known(f->store, job_name)) {
		diag_info("the SMS for this queue file and recipient is "
		    "already spooled or sent");
		return MS_OK;
	}
	memset(&job, 0, sizeof(job));
	job.name = g_strdup(job_name);
	job.number = g_strdup(number);
	job.sender = g_strdup(sender->text);
	job.recipient = g_strdup(recipient->text);
	job.reference = g_strdup(reference);
	job.text = g_strdup_printf("Password for the encrypted PDF "
	    "(reference %s): %s", reference, password);
	job.expires = (long long)time(NULL) +
	    (long long)settings_get_number(f->settings, "sms-expiry");
	err = smsjob_write(f->store, &job);
	smsjob_clear(&job);
	return err;
}

/* sms_password - with a queue id, the password, reference and job name
 * derived for it (a retry finds its job); without, a fresh password and
 * reference and no job name */
static ms_err
sms_password(ms_filter *f, const ms_addr *recipient, char **password,
    char **reference, char **job_name)
{
	char fresh[PDFPASS_LEN + 1], ref[PDFPASS_SMS_REFERENCE_LEN + 1];
	char job[PDFPASS_LEN + 2];
	ms_err err;

	if (opt_queue_id == NULL || *opt_queue_id == '\0') {
		pdfpass_generate(fresh);
		*password = g_strdup(fresh);
		*reference = smsjob_new_reference();
		sodium_memzero(fresh, sizeof(fresh));
		return MS_OK;
	}
	err = pdfpass_sms(f->store, opt_queue_id, recipient, fresh, ref, job);
	if (err == MS_OK) {
		*password = g_strdup(fresh);
		*reference = g_strdup(ref);
		*job_name = g_strdup(job);
	}
	sodium_memzero(fresh, sizeof(fresh));
	return err;
}

/* pdf_refusal - the status line Postfix reads for why pdfmsg_build made
 * no PDF, and the result that gives the exit status: over a limit is a
 * policy refusal (69), an unreadable part a data error (65) */
static ms_err
pdf_refusal(pdfmsg_reason reason, ms_err err)
{
	switch (reason) {
	case PDFMSG_TOO_MANY_ATTACHMENTS:
		return filter_refuse("5.7.1", "more than %d attachments for "
		    "a PDF", PDFMSG_MAX_ATTACHMENTS);
	case PDFMSG_ATTACHMENTS_TOO_LARGE:
		return filter_refuse("5.3.4", "attachments over %zu bytes "
		    "for a PDF", PDFMSG_MAX_ATTACHMENT_BYTES);
	case PDFMSG_BODY_TOO_LARGE:
		return filter_refuse("5.3.4", "the message is too large for "
		    "a PDF");
	case PDFMSG_UNREADABLE_PART:
		diag_status("5.6.0 a part of the message cannot be read");
		return MS_DATA;
	case PDFMSG_BUILT:
		break;
	}
	return err;
}

/* get_password - the user password for this message */
static ms_err
get_password(ms_filter *f, password_mode mode, const ms_addr *sender,
    const ms_addr *recipient, char **password, char **id)
{
	const char *why = NULL;
	ms_err err;

	*password = NULL;
	*id = NULL;
	if (mode == MODE_OTP)
		return otp_password(f, recipient, password, id);
	if (mode == MODE_RANDOM) {
		char derived[PDFPASS_LEN + 1];

		*id = message_id(f->msg);
		if (*id == NULL) {
			diag_status("5.6.0 no queue id and no Message-ID to "
			    "derive the password from");
			return MS_DATA;
		}
		err = pdfpass_random(f->store, *id, sender, recipient,
		    derived);
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
	ms_settings *settings = NULL;
	char *link_uri = NULL, *link_text = NULL;
	password_mode mode = MODE_STATIC;
	GByteArray *pdf = NULL;
	char *password = NULL, *id = NULL, *number = NULL, *reference = NULL;
	char *job_name = NULL;
	const char *why = NULL;
	size_t count = 0, i;
	ms_filter f;
	ms_err err;

	memset(&f, 0, sizeof(f));
	while (recipients != NULL && recipients[count] != NULL)
		count++;
	if (count == 0)
		ritual_usage_error("no RECIPIENT given");
	/* an empty -q is none, as for the password (queue_key) */
	ritual_queue_id(opt_queue_id != NULL && *opt_queue_id != '\0' ?
	    opt_queue_id : NULL);
	if (opt_mode != NULL && strcmp(opt_mode, "static") != 0 &&
	    strcmp(opt_mode, "random") != 0 && strcmp(opt_mode, "otp") != 0 &&
	    strcmp(opt_mode, "sms") != 0)
		ritual_usage_error("--password-mode is static, random, sms "
		    "or otp");
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
	err = settings_load(f.store, &recipient, &settings);
	if (err != MS_OK)
		goto out;
	if (opt_password_file != NULL)
		mode = MODE_STATIC;
	else if (opt_mode != NULL && strcmp(opt_mode, "random") == 0)
		mode = MODE_RANDOM;
	else if (opt_mode != NULL && strcmp(opt_mode, "otp") == 0)
		mode = MODE_OTP;
	else if (opt_mode != NULL && strcmp(opt_mode, "sms") == 0)
		mode = MODE_SMS;
	else if (opt_mode != NULL)
		mode = MODE_STATIC;
	else if ((err = mode_from_settings(settings, &mode)) != MS_OK)
		goto out;
	if (opt_sender_notice != NULL && opt_notice_fd >= 0)
		ritual_usage_error("--sender-notice and --sender-notice-fd "
		    "exclude each other");
	if (mode == MODE_RANDOM && opt_sender_notice == NULL &&
	    opt_notice_fd < 0) {
		diag_error("random passwords need --sender-notice FILE");
		err = MS_CONFIG;
		goto out;
	}
	err = get_sender(&f, mode, &sender);
	if (err != MS_OK)
		goto out;
	if (mode == MODE_SMS && (err = sms_number(settings, &number)) != MS_OK)
		goto out;
	err = reply_link(&f, settings, &sender, &recipient, &link_uri,
	    &link_text);
	if (err != MS_OK)
		goto out;
	if (mode == MODE_SMS)
		err = sms_password(&f, &recipient, &password, &reference,
		    &job_name);
	else
		err = get_password(&f, mode, &sender, &recipient, &password,
		    &id);
	if (err != MS_OK)
		goto out;
	{
		const pdf_link link = { "Reply", link_text, link_uri };
		pdfmsg_reason reason;

		err = pdfmsg_build(f.msg, password, link_uri != NULL ? &link :
		    NULL, opt_attach_original ||
		    settings_get_bool(settings, "pdf-attach-original"), &pdf,
		    &reason);
		err = pdf_refusal(reason, err);
	}
	if (err != MS_OK)
		goto out;
	if (mode == MODE_RANDOM) {
		err = sender_notice(&f, &sender, &recipient, id, password);
		if (err != MS_OK)
			goto out;
	}
	if (mode == MODE_SMS) {
		err = spool_sms(&f, number, &sender, &recipient, password,
		    job_name, reference);
		if (err != MS_OK)
			goto out;
	}
	err = write_output(&f, &sender, mode == MODE_OTP ? id : NULL,
	    reference, pdf);
out:
	secret_free(password);
	g_free(id);
	g_free(number);
	g_free(reference);
	g_free(job_name);
	g_free(link_uri);
	g_free(link_text);
	settings_free(settings);
	if (pdf != NULL)
		g_byte_array_free(pdf, TRUE);
	addr_clear(&recipient);
	addr_clear(&sender);
	filter_close(&f);
	ritual_end(ctx, err);
}
