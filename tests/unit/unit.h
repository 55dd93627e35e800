/*
 * unit.h - the assertion helper every unit test includes.
 *
 * Each check prints one TAP line, "ok N - name" or "not ok N - name", so
 * tests/run can count them; unit_done() prints the plan "1..N" and returns
 * the exit status (1 when any check failed).  unit_show() renders bytes
 * taken from a test table (control characters, quotes, non-ASCII) as a C
 * string literal, so a test name can never break the TAP line.
 * unit_tmpdir(), unit_rmtree() and unit_write_file() make scratch stores
 * with plain libc, outside the code under test.
 * Everything is static inline: one test file, one translation unit, and
 * no warning for a helper a test does not use.
 */
#ifndef MAILSEAL_UNIT_H
#define MAILSEAL_UNIT_H

#include <ftw.h>
#include <glib.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static unsigned unit_count;
static unsigned unit_failures;
static char *unit_ring[8];	/* unit_show results */
static unsigned unit_ring_next;

/* unit_check - record one check; returns cond so callers can chain */
static inline bool unit_check(bool cond, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static inline bool
unit_check(bool cond, const char *fmt, ...)
{
	va_list ap;

	unit_count++;
	if (!cond)
		unit_failures++;
	printf("%sok %u - ", cond ? "" : "not ", unit_count);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	fflush(stdout);
	return cond;
}

/* unit_note - a TAP comment line explaining a failure */
static inline void unit_note(const char *fmt, ...)
	__attribute__((format(printf, 1, 2)));

static inline void
unit_note(const char *fmt, ...)
{
	va_list ap;

	fputs("# ", stdout);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	fflush(stdout);
}

/* unit_show - bytes as a quoted C literal, long input shortened; the
 * result lives for the next seven calls too (a small ring of buffers, so
 * one format string may use several) */
static inline const char *
unit_show_len(const char *s, size_t len)
{
	GString *out;
	size_t i, shown = len > 72 ? 60 : len;

	if (s == NULL)
		return "NULL";
	out = g_string_new("\"");
	for (i = 0; i < shown; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c == '"' || c == '\\')
			g_string_append_printf(out, "\\%c", c);
		else if (c < 0x20 || c >= 0x7f)
			g_string_append_printf(out, "\\x%02x", c);
		else
			g_string_append_c(out, (char)c);
	}
	g_string_append_c(out, '"');
	if (shown < len)
		g_string_append_printf(out, "...(%zu octets)", len);
	g_free(unit_ring[unit_ring_next]);
	unit_ring[unit_ring_next] = g_string_free(out, FALSE);
	s = unit_ring[unit_ring_next];
	unit_ring_next = (unit_ring_next + 1) % 8;
	return s;
}

static inline const char *
unit_show(const char *s)
{
	return unit_show_len(s, s ? strlen(s) : 0);
}

/* unit_streq - string equality where NULL equals only NULL */
static inline bool
unit_streq(const char *a, const char *b)
{
	if (a == NULL || b == NULL)
		return a == b;
	return strcmp(a, b) == 0;
}

/* unit_tmpdir - a new private scratch directory (mkdtemp); exits when
 * none can be made, since no test could run */
static inline char *
unit_tmpdir(const char *tag)
{
	const char *base = getenv("TMPDIR");
	char *path;

	if (base == NULL || *base == '\0')
		base = "/tmp";
	path = g_strdup_printf("%s/mailseal-%s.XXXXXX", base, tag);
	if (mkdtemp(path) == NULL) {
		perror(path);
		exit(2);
	}
	return path;
}

static inline int
unit_rmtree_one(const char *path, const struct stat *st, int flag,
    struct FTW *ftw)
{
	(void)st;
	(void)ftw;
	if (flag == FTW_DP)
		return rmdir(path) == 0 ? 0 : -1;
	return unlink(path) == 0 ? 0 : -1;
}

/* unit_rmtree - remove a scratch directory made by unit_tmpdir */
static inline void
unit_rmtree(const char *path)
{
	if (path != NULL && nftw(path, unit_rmtree_one, 16,
	    FTW_DEPTH | FTW_PHYS) != 0)
		perror(path);
}

/* unit_write_file - write a file with stdio (outside the code under
 * test); returns false on any error */
static inline bool
unit_write_file(const char *path, const void *data, size_t len)
{
	FILE *f = fopen(path, "w");
	bool ok;

	if (f == NULL)
		return false;
	ok = fwrite(data, 1, len, f) == len;
	ok = fclose(f) == 0 && ok;
	return ok;
}

/* unit_done - print the plan, free the ring, return the exit status */
static inline int
unit_done(void)
{
	for (unsigned i = 0; i < 8; i++) {
		g_free(unit_ring[i]);
		unit_ring[i] = NULL;
	}
	printf("1..%u\n", unit_count);
	if (unit_failures > 0)
		printf("# %u of %u checks failed\n", unit_failures,
		    unit_count);
	fflush(stdout);
	return unit_failures > 0 ? 1 : 0;
}

#endif
