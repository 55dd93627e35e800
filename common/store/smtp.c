/*
 * smtp.c - one message to a local SMTP listener over GIO (smtp.h).
 */
#include "smtp.h"
#include "diag.h"

#include <errno.h>
#include <gio/gio.h>
#include <string.h>
#include <unistd.h>

typedef struct session {
	GSocketConnection *conn;
	GDataInputStream *in;
	GOutputStream *out;
	const char *where;
	bool eightbit;		/* the server offers 8BITMIME */
	bool dsn;		/* and DSN (RFC 3461) */
} session;

/* keyword - an EHLO reply line "250-KEYWORD ..." or "250 KEYWORD" names
 * word */
static bool
keyword(const char *line, gsize len, const char *word)
{
	size_t n = strlen(word);

	return len >= 4 + n && g_ascii_strncasecmp(line + 4, word, n) == 0 &&
	    (len == 4 + n || line[4 + n] == ' ');
}

/* reply - read one reply; its code, or -1 when it cannot be read */
static int
reply(session *s)
{
	int code = -1;

	for (int n = 0; n < SMTP_REPLY_LINES; n++) {
		GError *gerr = NULL;
		gsize len = 0;
		char *line = g_data_input_stream_read_line(s->in, &len, NULL,
		    &gerr);

		if (line == NULL) {
			if (gerr != NULL)
				g_error_free(gerr);
			return -1;
		}
		if (len < 3 || len > SMTP_REPLY_MAX ||
		    !g_ascii_isdigit(line[0]) || !g_ascii_isdigit(line[1]) ||
		    !g_ascii_isdigit(line[2]) ||
		    (len > 3 && line[3] != ' ' && line[3] != '-')) {
			g_free(line);
			return -1;
		}
		code = (line[0] - '0') * 100 + (line[1] - '0') * 10 +
		    (line[2] - '0');
		if (keyword(line, len, "8BITMIME"))
			s->eightbit = true;
		if (keyword(line, len, "DSN"))
			s->dsn = true;
		if (len == 3 || line[3] == ' ') {
			g_free(line);
			return code;
		}
		g_free(line);
	}
	return -1;
}

/* put - write all of data */
static bool
put(session *s, const void *data, size_t len)
{
	GError *gerr = NULL;
	gsize done = 0;

	if (!g_output_stream_write_all(s->out, data, len, &done, NULL,
	    &gerr)) {
		if (gerr != NULL)
			g_error_free(gerr);
		return false;
	}
	return true;
}

/* command - send a command line and expect a reply code class */
static bool
command(session *s, const char *line, int want, const char *what)
{
	int code;

	if (!put(s, line, strlen(line)) || !put(s, "\r\n", 2) ||
	    !g_output_stream_flush(s->out, NULL, NULL)) {
		diag_error("SMTP reinjection to %s: cannot send %s", s->where,
		    what);
		return false;
	}
	code = reply(s);
	if (code / 100 != want / 100) {
		diag_error("SMTP reinjection to %s: %s answered %d", s->where,
		    what, code);
		return false;
	}
	return true;
}

/* body - the message from fd with CRLF line ends and leading dots
 * doubled, then the end-of-data line */
static bool
body(session *s, int fd)
{
	char buf[65536];
	GString *chunk = g_string_sized_new(sizeof buf * 2);
	bool line_start = true, ok = true;
	off_t at = 0;

	for (;;) {
		ssize_t n = pread(fd, buf, sizeof buf, at);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			diag_error("cannot read a finished copy: %s",
			    strerror(errno));
			ok = false;
			break;
		}
		if (n == 0)
			break;
		at += n;
		g_string_truncate(chunk, 0);
		for (ssize_t i = 0; i < n; i++) {
			char c = buf[i];

			if (c == '\r')
				continue;	/* line ends are ours */
			if (line_start && c == '.')
				g_string_append_c(chunk, '.');
			if (c == '\n') {
				g_string_append(chunk, "\r\n");
				line_start = true;
				continue;
			}
			g_string_append_c(chunk, c);
			line_start = false;
		}
		if (!put(s, chunk->str, chunk->len)) {
			ok = false;
			break;
		}
	}
	g_string_free(chunk, TRUE);
	if (ok && !line_start)
		ok = put(s, "\r\n", 2);
	return ok;
}

ms_err
smtp_send(const char *where, const char *sender, GPtrArray *rcpts, int fd,
    bool ret_hdrs, unsigned timeout)
{
	GSocketClient *client = g_socket_client_new();
	GError *gerr = NULL;
	session s = { NULL, NULL, NULL, where, false, false };
	char host[256], *line;
	ms_err err = MS_TEMP;
	bool ok;

	g_socket_client_set_timeout(client, timeout);
	s.conn = g_socket_client_connect_to_host(client, where, 25, NULL,
	    &gerr);
	g_object_unref(client);
	if (s.conn == NULL) {
		diag_error("SMTP reinjection: cannot connect to %s: %s", where,
		    gerr != NULL ? gerr->message : "unknown error");
		if (gerr != NULL)
			g_error_free(gerr);
		return MS_TEMP;
	}
	s.in = g_data_input_stream_new(g_io_stream_get_input_stream(
	    G_IO_STREAM(s.conn)));
	g_data_input_stream_set_newline_type(s.in,
	    G_DATA_STREAM_NEWLINE_TYPE_CR_LF);
	s.out = g_buffered_output_stream_new_sized(g_io_stream_get_output_stream(
	    G_IO_STREAM(s.conn)), 65536);
	if (gethostname(host, sizeof host) != 0 || host[0] == '\0')
		g_strlcpy(host, "localhost", sizeof host);
	host[sizeof host - 1] = '\0';
	for (char *p = host; *p; p++)
		if (!g_ascii_isalnum(*p) && *p != '.' && *p != '-')
			*p = '-';
	ok = reply(&s) == 220;
	if (!ok)
		diag_error("SMTP reinjection to %s: no greeting", where);
	if (ok) {
		line = g_strdup_printf("EHLO %s", host);
		ok = command(&s, line, 250, "EHLO");
		g_free(line);
	}
	if (ok && ret_hdrs && !s.dsn) {
		/* without it a bounce could carry the whole message */
		diag_error("SMTP reinjection to %s: the server does not offer "
		    "DSN, so headers-only bounces (RET=HDRS) cannot be asked "
		    "for: allow DSN on the reinjection listener", where);
		ok = false;
	}
	if (ok) {
		line = g_strdup_printf("MAIL FROM:<%s>%s%s", sender,
		    s.eightbit ? " BODY=8BITMIME" : "",
		    ret_hdrs ? " RET=HDRS" : "");
		ok = command(&s, line, 250, "MAIL FROM");
		g_free(line);
	}
	for (guint i = 0; ok && i < rcpts->len; i++) {
		line = g_strdup_printf("RCPT TO:<%s>",
		    (const char *)g_ptr_array_index(rcpts, i));
		ok = command(&s, line, 250, "RCPT TO");
		g_free(line);
	}
	if (ok)
		ok = command(&s, "DATA", 354, "DATA");
	if (ok) {
		ok = body(&s, fd);
		if (!ok)
			diag_error("SMTP reinjection to %s: the message could "
			    "not be sent", where);
	}
	if (ok)
		ok = command(&s, ".", 250, "the end of data");
	if (ok) {
		err = MS_OK;
		/* the copy is queued; QUIT is a courtesy */
		(void)command(&s, "QUIT", 221, "QUIT");
	}
	g_object_unref(s.out);
	g_object_unref(s.in);
	(void)g_io_stream_close(G_IO_STREAM(s.conn), NULL, NULL);
	g_object_unref(s.conn);
	return err;
}
