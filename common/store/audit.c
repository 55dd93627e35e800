/*
 * audit.c - the store's chained audit log (audit.h).  Lines are appended
 * under the store lock with store_append() (one write, fsync), so two
 * programs changing the store at once chain one after the other, never
 * both after the same line.  A line cut by a crash stays in the log: the
 * next writer ends it, chains after it and adds a line that says so;
 * audit_verify() names a cut last line.
 */
#include "audit.h"
#include "codec.h"
#include "diag.h"
#include "mslimits.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

/* the end of the log read to find its last line: lines are at most
 * AUDIT_LINE_MAX, so a longer last line was not written by us */
#define TAIL_MAX ((size_t)64 * 1024)

static const char zero_hash[AUDIT_HASH_LEN + 1] =
    "0000000000000000000000000000000000000000000000000000000000000000";

/* hash_line - SHA-256 hex of a line without its newline into out */
static void
hash_line(const char *line, size_t len, char out[AUDIT_HASH_LEN + 1])
{
	char *hex = codec_sha256_hex(line, len);

	memcpy(out, hex, AUDIT_HASH_LEN + 1);
	g_free(hex);
}

/* last_hash - the hash of the log's last line (zeros for an empty or
 * missing log); *cut when the log does not end with a newline */
static ms_err
last_hash(const ms_store *store, char out[AUDIT_HASH_LEN + 1], bool *cut)
{
	char *path = store_path(store, AUDIT_DIR, AUDIT_FILE);
	struct stat st;
	char *tail = NULL, *end, *start;
	size_t want;
	ssize_t got = -1;
	ms_err err = MS_TEMP;
	int fd;

	*cut = false;
	memcpy(out, zero_hash, sizeof(zero_hash));
	fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0 && errno == ENOENT) {
		g_free(path);
		return MS_OK;
	}
	if (fd < 0 || fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		diag_error("audit log %s: cannot read it", path);
		goto out;
	}
	if (st.st_size == 0) {
		err = MS_OK;
		goto out;
	}
	want = (size_t)st.st_size < TAIL_MAX ? (size_t)st.st_size : TAIL_MAX;
	tail = g_malloc(want);
	do
		got = pread(fd, tail, want, st.st_size - (off_t)want);
	while (got < 0 && errno == EINTR);
	if (got != (ssize_t)want) {
		diag_error("audit log %s: cannot read its end", path);
		goto out;
	}
	end = tail + want;
	*cut = end[-1] != '\n';
	if (!*cut)
		end--;
	start = end;
	while (start > tail && start[-1] != '\n')
		start--;
	if (start == tail && want < (size_t)st.st_size) {
		diag_error("audit log %s: its last line is longer than any "
		    "line written to it (damaged)", path);
		goto out;
	}
	hash_line(start, (size_t)(end - start), out);
	err = MS_OK;
out:
	if (fd >= 0)
		close(fd);
	g_free(tail);
	g_free(path);
	return err;
}

/* make_dir - the audit directory of a store made before it existed */
static ms_err
make_dir(const ms_store *store)
{
	char *dir = store_path(store, AUDIT_DIR, NULL);
	ms_err err = MS_OK;

	if (mkdir(dir, 0700) == 0)
		err = store_sync_dir(store_root(store));
	else if (errno != EEXIST) {
		diag_error("cannot create %s: %s", dir, strerror(errno));
		err = MS_TEMP;
	}
	g_free(dir);
	return err;
}

/* what_text - the change, masked and cut to fit a line */
static char *what_text(const char *fmt, va_list ap)
	__attribute__((format(printf, 1, 0)));

static char *
what_text(const char *fmt, va_list ap)
{
	char *raw = g_strdup_vprintf(fmt, ap);
	char *text = diag_mask(raw, strlen(raw));
	size_t max = AUDIT_LINE_MAX - 200;	/* room for the fields */
	const char *valid_end;

	g_free(raw);
	if (strlen(text) > max) {
		/* cut on a character boundary (masked text is UTF-8),
		 * leaving room for "..." inside the text's own size */
		(void)g_utf8_validate(text, (gssize)(max - 3), &valid_end);
		memcpy(text + (valid_end - text), "...", 4);
	}
	return text;
}

ms_err
audit_record(ms_store *store, const char *fmt, ...)
{
	char prev[AUDIT_HASH_LEN + 1], stamp[32];
	struct tm tm;
	time_t now = time(NULL);
	va_list ap;
	GString *line;
	char *what;
	const char *last;
	bool cut = false, locked;
	ms_err err;

	va_start(ap, fmt);
	what = what_text(fmt, ap);
	va_end(ap);
	if (gmtime_r(&now, &tm) == NULL ||
	    strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		strcpy(stamp, "1970-01-01T00:00:00Z");
	/* the lock covers the read of the last line and the append */
	err = store_lock(store, LIMIT_LOCK_TIMEOUT_MS);
	locked = err == MS_OK;
	if (err == MS_OK)
		err = make_dir(store);
	if (err == MS_OK)
		err = last_hash(store, prev, &cut);
	if (err != MS_OK)
		memcpy(prev, zero_hash, sizeof(zero_hash));
	line = g_string_new("");
	if (cut) {
		/* the cut line is ended and kept in the chain; the log says
		 * so itself, before this change */
		g_string_append_printf(line, "\n%s uid=%lu program=%s "
		    "prev=%s audit: the line before is incomplete (cut when it "
		    "was written, or since)\n", stamp,
		    (unsigned long)getuid(), diag_progname(), prev);
		hash_line(line->str + 1, line->len - 2, prev);
	}
	g_string_append_printf(line, "%s uid=%lu program=%s prev=%s %s\n",
	    stamp, (unsigned long)getuid(), diag_progname(), prev, what);
	if (err == MS_OK)
		err = store_append(store, AUDIT_DIR, AUDIT_FILE, line->str,
		    line->len, 0600);
	if (locked)
		store_unlock(store);
	free(what);
	/* the second copy, and the one that remains when the log failed:
	 * the change's own line (the last) */
	g_string_truncate(line, line->len - 1);
	last = strrchr(line->str, '\n');
	last = last != NULL ? last + 1 : line->str;
	openlog(diag_progname(), LOG_PID, LOG_MAIL);
	if (err == MS_OK)
		syslog(LOG_MAIL | LOG_NOTICE, "audit: %s", last);
	else {
		syslog(LOG_MAIL | LOG_ERR, "audit: %s (not in the audit log)",
		    last);
		diag_error("the change is made but is not in the audit log: "
		    "%s", last);
	}
	g_string_free(line, TRUE);
	return err == MS_OK ? MS_OK : MS_TEMP;
}

/* hex_ok - len lowercase hex digits */
static bool
hex_ok(const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (!g_ascii_isdigit(s[i]) && (s[i] < 'a' || s[i] > 'f'))
			return false;
	return true;
}

/* field - s starts with name followed by at least one character up to
 * the next space: the value's start and length */
static bool
field(const char **s, const char *name, const char **value, size_t *len)
{
	size_t n = strlen(name);

	if (strncmp(*s, name, n) != 0)
		return false;
	*value = *s + n;
	*len = strcspn(*value, " ");
	if (*len == 0 || (*value)[*len] != ' ')
		return false;
	*s = *value + *len + 1;
	return true;
}

/* line_form - the fields of a line (NUL-terminated, without its
 * newline): NULL when well formed, else what is wrong; *prev points to
 * the hash of the line before */
static const char *
line_form(const char *line, const char **prev)
{
	const char *s = line, *v;
	size_t len;
	struct tm tm;
	const char *end;

	memset(&tm, 0, sizeof(tm));
	end = strptime(s, "%Y-%m-%dT%H:%M:%SZ ", &tm);
	if (end == NULL || end - s != 21)
		return "it does not start with a time";
	s = end;
	if (!field(&s, "uid=", &v, &len) || strspn(v, "0123456789") != len)
		return "no uid field";
	if (!field(&s, "program=", &v, &len))
		return "no program field";
	if (!field(&s, "prev=", &v, &len) || len != AUDIT_HASH_LEN ||
	    !hex_ok(v, len))
		return "no prev field with a SHA-256";
	*prev = v;
	if (*s == '\0')
		return "it names no change";
	return NULL;
}

ms_err
audit_verify(ms_store *store, audit_report *report)
{
	char *path = store_path(store, AUDIT_DIR, AUDIT_FILE);
	char expect[AUDIT_HASH_LEN + 1];
	char *line = NULL;
	size_t cap = 0;
	ssize_t len;
	FILE *log;
	int fd;
	ms_err err;

	memset(report, 0, sizeof(*report));
	memcpy(expect, zero_hash, sizeof(zero_hash));
	memcpy(report->last_hash, zero_hash, sizeof(zero_hash));
	/* with the lock no line is read half written */
	err = store_lock(store, LIMIT_LOCK_TIMEOUT_MS);
	if (err != MS_OK) {
		g_free(path);
		return err;
	}
	fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0) {
		err = errno == ENOENT ? MS_OK : MS_TEMP;
		if (err != MS_OK)
			diag_error("cannot open %s: %s", path, strerror(errno));
		goto out;
	}
	log = fdopen(fd, "r");
	if (log == NULL) {
		close(fd);
		err = MS_TEMP;
		goto out;
	}
	while ((len = getline(&line, &cap, log)) > 0) {
		const char *prev = NULL;

		report->lines++;
		if (line[len - 1] != '\n')
			report->why = "the last line is incomplete (cut when "
			    "it was written, or since)";
		else if ((size_t)len > AUDIT_LINE_MAX)
			report->why = "the line is longer than any written";
		else if (memchr(line, '\0', (size_t)len) != NULL)
			report->why = "the line holds a NUL byte";
		else {
			line[len - 1] = '\0';
			report->why = line_form(line, &prev);
			if (report->why == NULL &&
			    memcmp(prev, expect, AUDIT_HASH_LEN) != 0)
				report->why = "its prev= is not the SHA-256 of "
				    "the line before: a line was changed, "
				    "removed or inserted";
		}
		if (report->why != NULL) {
			report->bad_line = report->lines;
			break;
		}
		hash_line(line, (size_t)len - 1, expect);
	}
	if (report->bad_line == 0 && ferror(log)) {
		diag_error("read %s: %s", path, strerror(errno));
		err = MS_TEMP;
	}
	if (report->bad_line == 0)
		memcpy(report->last_hash, expect, sizeof(expect));
	fclose(log);
	free(line);
out:
	store_unlock(store);
	g_free(path);
	return err;
}
