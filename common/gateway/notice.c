/*
 * notice.c - the quarantine's notices (see notice.h).
 */
#include "notice.h"
#include "addr.h"
#include "diag.h"
#include "instance.h"
#include "marker.h"
#include "msg.h"
#include "quarantine.h"
#include "reinject.h"
#include "run.h"

#include <errno.h>
#include <gmime/gmime.h>
#include <sodium.h>
#include <string.h>
#include <time.h>
#include <unistd.h>


/* the record's values a notice shows */
typedef struct entry {
	const char *id;
	char *time, *sender, *auth, *subject, *verdict, *rules, *size,
	    *queue_id, *recipients;
} entry;

static void
entry_read(entry *e, const char *id, const GByteArray *meta)
{
	char **rcpts = quarantine_meta_values(meta, "recipient");

	e->id = id;
	e->time = quarantine_meta_value(meta, "time");
	e->sender = quarantine_meta_value(meta, "sender");
	e->auth = quarantine_meta_value(meta, "auth");
	e->subject = quarantine_meta_value(meta, "subject");
	e->verdict = quarantine_meta_value(meta, "verdict");
	e->rules = quarantine_meta_value(meta, "rules");
	e->size = quarantine_meta_value(meta, "size");
	e->queue_id = quarantine_meta_value(meta, "queue-id");
	e->recipients = g_strjoinv(", ", rcpts);
	g_strfreev(rcpts);
}

static void
entry_clear(entry *e)
{
	g_free(e->time);
	g_free(e->sender);
	g_free(e->auth);
	g_free(e->subject);
	g_free(e->verdict);
	g_free(e->rules);
	g_free(e->size);
	g_free(e->queue_id);
	g_free(e->recipients);
}

/* field - "Label:      value\n", "-" for a missing value */
static void
field(GString *text, const char *label, const char *value)
{
	g_string_append_printf(text, "%-12s %s\n", label,
	    value != NULL && *value != '\0' ? value : "-");
}

/* build - the notice as GMime writes it: one text/plain part, from the
 * mailer daemon, with a fresh Message-ID and Date; NULL on failure */
static GByteArray *
build(const char *to, const char *subject, const char *text)
{
	GMimeMessage *message;
	GMimeTextPart *part;
	GMimeDataWrapper *wrapper;
	GMimeStream *stream, *content;
	GDateTime *now;
	GByteArray *out = NULL;
	char *message_id;

	msg_library_init();
	message = g_mime_message_new(TRUE);
	g_mime_message_add_mailbox(message, GMIME_ADDRESS_TYPE_FROM,
	    "Mail Delivery System", "MAILER-DAEMON");
	g_mime_message_add_mailbox(message, GMIME_ADDRESS_TYPE_TO, NULL, to);
	g_mime_message_set_subject(message, subject, "utf-8");
	now = g_date_time_new_now_local();
	g_mime_message_set_date(message, now);
	g_date_time_unref(now);
	message_id = g_mime_utils_generate_message_id(g_get_host_name());
	g_mime_message_set_message_id(message, message_id);
	g_free(message_id);
	/* RFC 3834: no vacation responder answers it */
	g_mime_object_set_header(GMIME_OBJECT(message), "Auto-Submitted",
	    "auto-generated", NULL);
	/* UTF-8 as the record holds it; GMime picks the transfer encoding */
	part = g_mime_text_part_new_with_subtype("plain");
	g_mime_text_part_set_charset(part, "utf-8");
	content = g_mime_stream_mem_new_with_buffer(text, strlen(text));
	wrapper = g_mime_data_wrapper_new_with_stream(content,
	    GMIME_CONTENT_ENCODING_DEFAULT);
	g_object_unref(content);
	g_mime_part_set_content(GMIME_PART(part), wrapper);
	g_object_unref(wrapper);
	g_mime_part_set_content_encoding(GMIME_PART(part),
	    g_mime_part_get_best_content_encoding(GMIME_PART(part),
	    GMIME_ENCODING_CONSTRAINT_7BIT));
	g_mime_message_set_mime_part(message, GMIME_OBJECT(part));
	g_object_unref(part);
	stream = g_mime_stream_mem_new();
	if (g_mime_object_write_to_stream(GMIME_OBJECT(message), NULL,
	    stream) > 0) {
		GByteArray *bytes = g_mime_stream_mem_get_byte_array(
		    GMIME_STREAM_MEM(stream));

		out = g_byte_array_sized_new(bytes->len);
		g_byte_array_append(out, bytes->data, bytes->len);
	}
	g_object_unref(stream);
	g_object_unref(message);
	return out;
}

/* marked_file - the loop marker (REL-7: a notice that comes back to the
 * filter is a loop, never held and noticed again) and the notice, in a
 * memory file; -1 on failure */
static int
marked_file(const ms_store *store, const GByteArray *notice)
{
	unsigned char key[MARKER_KEY_LEN];
	ms_message *parsed = NULL;
	msg_problem problem;
	GMimeStream *stream;
	char *marker;
	int fd;
	bool ok;

	if (instance_key(store, key) != MS_OK)
		return -1;
	if (msg_parse_buffer_mode((const char *)notice->data, notice->len,
	    MSG_READ_HEADERS, &parsed, &problem) != MS_OK) {
		sodium_memzero(key, sizeof key);
		diag_error("a notice does not parse: %s",
		    msg_problem_text(problem));
		return -1;
	}
	marker = marker_line(key, parsed, "", time(NULL));
	sodium_memzero(key, sizeof key);
	msg_free(parsed);
	fd = run_memfile("mailseal-notice");
	if (fd < 0) {
		diag_error("cannot create a temporary file: %s",
		    strerror(errno));
		g_free(marker);
		return -1;
	}
	stream = g_mime_stream_fs_new(fd);
	g_mime_stream_fs_set_owner(GMIME_STREAM_FS(stream), FALSE);
	ok = g_mime_stream_write_string(stream, marker) ==
	    (ssize_t)strlen(marker) &&
	    g_mime_stream_write(stream, (const char *)notice->data,
	    notice->len) == (ssize_t)notice->len &&
	    g_mime_stream_flush(stream) == 0;
	g_object_unref(stream);
	g_free(marker);
	if (!ok) {
		diag_error("cannot write a notice: %s", strerror(errno));
		close(fd);
		return -1;
	}
	return fd;
}

/* reinject - the notice in fd from the null sender to one address: no
 * bounce of it comes back to anyone, so no notice loop */
static ms_err
reinject(const ms_settings *settings, int fd, const char *to)
{
	GPtrArray *rcpts = g_ptr_array_new();
	ms_err err;

	g_ptr_array_add(rcpts, (gpointer)to);
	err = reinject_send(settings, "", rcpts, fd, 0);
	g_ptr_array_free(rcpts, TRUE);
	return err;
}

/* send_notice - build, mark and reinject one notice */
static ms_err
send_notice(const ms_store *store, const ms_settings *settings,
    const char *to, const char *subject, const GString *text)
{
	GByteArray *notice = build(to, subject, text->str);
	int fd;
	ms_err err;

	if (notice == NULL) {
		diag_error("cannot write a notice");
		return MS_INTERNAL;
	}
	fd = marked_file(store, notice);
	g_byte_array_free(notice, TRUE);
	if (fd < 0)
		return MS_TEMP;
	err = reinject(settings, fd, to);
	close(fd);
	return err;
}

/* wanted - the sender hears of event (quarantine-notify) */
static bool
wanted(const ms_settings *settings, notice_event event)
{
	static const char *const words[] = {
		[NOTICE_HOLD] = "hold", [NOTICE_RELEASE] = "release",
		[NOTICE_DELETE] = "delete", [NOTICE_EXPIRE] = "delete"
	};
	char **list = settings_get_list(settings, "quarantine-notify");
	bool yes = g_strv_contains((const char *const *)list, words[event]);

	g_strfreev(list);
	return yes;
}

/* address_ok - one mailbox, as the filter accepts envelope addresses */
static bool
address_ok(const char *text)
{
	ms_addr a = { 0 };
	const char *why = NULL;
	bool ok = text != NULL && addr_parse_str(text, &a, &why) == MS_OK;

	if (ok)
		addr_clear(&a);
	return ok;
}

/* sender_notice - what the sender is told: the entry as the sender wrote
 * it (subject, recipients) and the rules, never the body */
static ms_err
sender_notice(const ms_store *store, const ms_settings *settings,
    const entry *e, notice_event event)
{
	static const char *const subjects[] = {
		[NOTICE_HOLD] = "Your message is held for review",
		[NOTICE_RELEASE] = "Your held message was released",
		[NOTICE_DELETE] = "Your held message was deleted",
		[NOTICE_EXPIRE] = "Your held message expired"
	};
	static const char *const openings[] = {
		[NOTICE_HOLD] = "Your message was held by the data loss "
		    "prevention policy.\nIt has not been delivered; an "
		    "administrator will review it.\n",
		[NOTICE_RELEASE] = "Your held message was released by an "
		    "administrator and sent on\nto its recipients.\n",
		[NOTICE_DELETE] = "Your held message was deleted by an "
		    "administrator.\nIt will not be delivered.\n",
		[NOTICE_EXPIRE] = "Your held message was not released in time "
		    "and was deleted.\nIt will not be delivered.\n"
	};
	GString *text;
	ms_err err;

	text = g_string_new(openings[event]);
	g_string_append_c(text, '\n');
	field(text, "Subject:", e->subject);
	field(text, "Recipients:", e->recipients);
	field(text, "Rules:", e->rules);
	field(text, "Held:", e->time);
	field(text, "Reference:", e->id);
	err = send_notice(store, settings, e->sender, subjects[event], text);
	g_string_free(text, TRUE);
	return err;
}

/* officer_notice - what the DLP officer is told of a hold: the whole
 * record and how to act on it, never the body */
static ms_err
officer_notice(const ms_store *store, const ms_settings *settings,
    const char *officer, const entry *e)
{
	GString *text = g_string_new("A message was held in the "
	    "quarantine.\n\n");
	char *sender, *subject;
	ms_err err;

	sender = e->auth == NULL || strcmp(e->auth, "none") == 0 ?
	    g_strdup_printf("%s (not authenticated)", e->sender != NULL ?
	    e->sender : "-") : g_strdup_printf("%s (authenticated: %s)",
	    e->sender != NULL ? e->sender : "-", e->auth);
	field(text, "Id:", e->id);
	field(text, "Time:", e->time);
	field(text, "Sender:", sender);
	field(text, "Recipients:", e->recipients);
	field(text, "Subject:", e->subject);
	field(text, "Verdict:", e->verdict);
	field(text, "Rules:", e->rules);
	field(text, "Size:", e->size);
	field(text, "Queue id:", e->queue_id);
	g_string_append_printf(text, "\nTo look at it, release or delete "
	    "it:\n\n    dlp-scan quarantine show %s\n    dlp-scan quarantine "
	    "release %s\n    dlp-scan quarantine delete %s\n", e->id, e->id,
	    e->id);
	subject = g_strdup_printf("Quarantine: message held (%s)", e->id);
	err = send_notice(store, settings, officer, subject, text);
	g_free(subject);
	g_free(sender);
	g_string_free(text, TRUE);
	return err;
}

ms_err
notice_quarantine(const ms_store *store, const ms_settings *settings,
    const char *id, const GByteArray *meta, notice_event event)
{
	const char *officer = settings_get(settings, "dlp-officer");
	entry e = { 0 };
	ms_err err = MS_OK, err2;

	entry_read(&e, id, meta);
	/* Build 1: only a sender something vouched for gets our mail; a
	 * forged sender (and the null sender) gets none */
	if (wanted(settings, event) && e.auth != NULL &&
	    strcmp(e.auth, "none") != 0 && e.sender != NULL &&
	    strcmp(e.sender, "<>") != 0) {
		if (address_ok(e.sender))
			err = sender_notice(store, settings, &e, event);
		else
			diag_warn("quarantine %s: the sender is not one "
			    "address: no notice", id);
	}
	if (event == NOTICE_HOLD && *officer != '\0') {
		if (!address_ok(officer)) {
			diag_error("dlp-officer is not one address");
			err2 = MS_CONFIG;
		} else
			err2 = officer_notice(store, settings, officer, &e);
		if (err == MS_OK)
			err = err2;
	}
	entry_clear(&e);
	return err;
}

void
notice_hold(ms_store *store, const ms_settings *settings, const char *id)
{
	GByteArray *meta = NULL;
	bool first = false;
	ms_err err;

	err = quarantine_mark_once(store, id, "notified", &first);
	if (err == MS_OK && !first)
		return;		/* a run of the same queue file sent them */
	if (err == MS_OK)
		err = quarantine_meta(store, id, &meta);
	if (err == MS_OK)
		err = notice_quarantine(store, settings, id, meta, NOTICE_HOLD);
	/* the message is held safely: a notice lost is a warning, never a
	 * deferral that would hold it again */
	if (err != MS_OK)
		diag_warn("quarantine %s: a hold notice was not sent (%s); "
		    "the message stays held", id, ms_err_name(err));
	if (meta != NULL)
		g_byte_array_free(meta, TRUE);
}
