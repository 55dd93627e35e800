/*
 * diag.c - diagnostics with masked control characters, optional syslog, and
 * the registry of temporary files removed on a fatal exit or a deadline.
 * Limits: at most DIAG_CLEANUP_SLOTS temp files registered at once.
 */
#include "diag.h"
#include "err.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

#define DIAG_CLEANUP_SLOTS 64

static const char *progname = "mailseal";
static bool to_syslog;
static bool quiet;
static char queue_id[33];	/* "" for none */
static char *volatile cleanup_paths[DIAG_CLEANUP_SLOTS];

void
diag_init(const char *argv0)
{
	const char *slash;

	if (argv0 == NULL || *argv0 == '\0')
		return;
	slash = strrchr(argv0, '/');
	progname = slash ? slash + 1 : argv0;
}

const char *
diag_progname(void)
{
	return progname;
}

void
diag_use_syslog(bool on)
{
	if (on && !to_syslog)
		openlog(progname, LOG_PID, LOG_MAIL);
	to_syslog = on;
}

bool
diag_set_queue_id(const char *id)
{
	size_t n = strlen(id);

	if (n == 0 || n >= sizeof queue_id)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!g_ascii_isalnum(id[i]))
			return false;
	memcpy(queue_id, id, n + 1);
	return true;
}

const char *
diag_queue_id(void)
{
	return queue_id[0] != '\0' ? queue_id : NULL;
}

void
diag_set_quiet(bool on)
{
	quiet = on;
}

/* utf8_sequence_length - length of a valid UTF-8 sequence at s, else 0 */
static size_t
utf8_sequence_length(const unsigned char *s, size_t left)
{
	size_t need, i;
	unsigned int cp;

	if (s[0] < 0x80)
		return 1;
	if ((s[0] & 0xe0) == 0xc0) {
		need = 2;
		cp = s[0] & 0x1f;
	} else if ((s[0] & 0xf0) == 0xe0) {
		need = 3;
		cp = s[0] & 0x0f;
	} else if ((s[0] & 0xf8) == 0xf0) {
		need = 4;
		cp = s[0] & 0x07;
	} else
		return 0;
	if (left < need)
		return 0;
	for (i = 1; i < need; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (s[i] & 0x3f);
	}
	/* overlong forms, surrogates and out-of-range values are masked */
	if ((need == 2 && cp < 0x80) || (need == 3 && cp < 0x800) ||
	    (need == 4 && (cp < 0x10000 || cp > 0x10ffff)) ||
	    (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	/* C1 controls can steer terminals too */
	if (cp >= 0x80 && cp < 0xa0)
		return 0;
	return need;
}

char *
diag_mask(const char *text, size_t len)
{
	const unsigned char *s = (const unsigned char *)text;
	char *out, *o;
	size_t i, n;

	out = malloc(len + 1);
	if (out == NULL)
		abort();
	o = out;
	for (i = 0; i < len;) {
		if (s[i] < 0x20 || s[i] == 0x7f) {
			*o++ = '?';
			i++;
			continue;
		}
		n = utf8_sequence_length(s + i, len - i);
		if (n == 0) {
			*o++ = '?';
			i++;
			continue;
		}
		memcpy(o, s + i, n);
		o += n;
		i += n;
	}
	*o = '\0';
	return out;
}

/* emit - format, mask and write one diagnostic line; the attribute lets
 * the compiler check callers and accept fmt as a format (clang's
 * -Wformat-nonliteral in the fuzz build rejects it otherwise) */
static void emit(int priority, const char *label, bool to_stderr,
    const char *fmt, va_list ap) __attribute__((format(printf, 4, 0)));

static void
emit(int priority, const char *label, bool to_stderr, const char *fmt,
     va_list ap)
{
	char *raw = NULL, *masked;
	int n;
	int saved_errno = errno;

	n = vasprintf(&raw, fmt, ap);
	if (n < 0) {
		raw = NULL;
		n = 0;
	}
	masked = diag_mask(raw ? raw : "", (size_t)n);
	if (to_stderr) {
		if (label)
			fprintf(stderr, "%s: %s: %s\n", progname, label, masked);
		else
			fprintf(stderr, "%s\n", masked);
		fflush(stderr);
	}
	if (to_syslog)
		syslog(priority, "%s%s%s%s%s", queue_id,
		    queue_id[0] != '\0' ? ": " : "", label ? label : "",
		    label ? ": " : "", masked);
	free(masked);
	free(raw);
	errno = saved_errno;
}

void
diag_info(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	emit(LOG_INFO, NULL, !quiet, fmt, ap);
	va_end(ap);
}

void
diag_warn(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	emit(LOG_WARNING, "warning", true, fmt, ap);
	va_end(ap);
}

void
diag_error(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	emit(LOG_ERR, "error", true, fmt, ap);
	va_end(ap);
}

void
diag_status(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	emit(LOG_NOTICE, NULL, true, fmt, ap);
	va_end(ap);
}

void
diag_fatal(int exit_code, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	emit(LOG_CRIT, "fatal", true, fmt, ap);
	va_end(ap);
	diag_cleanup_run();
	fflush(stdout);
	_exit(exit_code);
}

int
diag_cleanup_register(const char *path)
{
	int slot;
	char *copy;

	copy = strdup(path);
	if (copy == NULL)
		diag_fatal(EXIT_TEMPFAIL, "out of memory");
	for (slot = 0; slot < DIAG_CLEANUP_SLOTS; slot++) {
		if (cleanup_paths[slot] == NULL) {
			cleanup_paths[slot] = copy;
			return slot;
		}
	}
	unlink(copy);
	free(copy);
	diag_fatal(EXIT_TEMPFAIL, "too many temporary files at once");
}

void
diag_cleanup_forget(int slot)
{
	char *path;

	if (slot < 0 || slot >= DIAG_CLEANUP_SLOTS)
		return;
	path = cleanup_paths[slot];
	cleanup_paths[slot] = NULL;
	free(path);
}

void
diag_cleanup_run(void)
{
	int slot;

	for (slot = 0; slot < DIAG_CLEANUP_SLOTS; slot++) {
		if (cleanup_paths[slot] != NULL)
			unlink(cleanup_paths[slot]);
	}
}

void
diag_list_append(GString *list, const char *text)
{
	char *m = diag_mask(text, strlen(text));

	g_string_append_printf(list, "%s%s", list->len ? ", " : "", m);
	free(m);
}

void
diag_log_value(GString *line, const char *value, size_t max)
{
	const unsigned char *s = (const unsigned char *)value;
	size_t i;

	for (i = 0; s[i] != '\0' && i < max; i++) {
		if (s[i] > 0x20 && s[i] < 0x7f && s[i] != '\\')
			g_string_append_c(line, (char)s[i]);
		else
			g_string_append_printf(line, "\\x%02x", s[i]);
	}
	if (s[i] != '\0')
		g_string_append(line, "...");
}
