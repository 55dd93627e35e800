/*
 * counters.c - per-process work counters and their report at exit
 * (counters.h).
 */
#include "counters.h"
#include "diag.h"

#include <errno.h>
#include <fcntl.h>
#include <glib.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static unsigned long counts[COUNTER_COUNT];
static char *report_path;

void
counter_add(counter c)
{
	if (c >= 0 && c < COUNTER_COUNT)
		counts[c]++;
}

unsigned long
counter_get(counter c)
{
	return c >= 0 && c < COUNTER_COUNT ? counts[c] : 0;
}

/* report - the exit handler: one line, one write; a failure is only a
 * warning, the run's own result stands */
static void
report(void)
{
	char *line;
	int fd;
	size_t len;

	if (report_path == NULL)
		return;
	line = g_strdup_printf("%s parses=%lu settings=%lu trust=%lu "
	    "processes=%lu\n", diag_progname(), counts[COUNTER_PARSE],
	    counts[COUNTER_SETTINGS], counts[COUNTER_TRUST],
	    counts[COUNTER_PROCESS]);
	len = strlen(line);
	fd = open(report_path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC |
	    O_NOFOLLOW, 0600);
	if (fd < 0 || write(fd, line, len) != (ssize_t)len)
		diag_warn("cannot append the work counts to %s: %s",
		    report_path, strerror(errno));
	if (fd >= 0)
		close(fd);
	g_free(line);
}

void
counters_report_at_exit(void)
{
	const char *path = getenv("MAILSEAL_COUNTS");

	if (path == NULL || path[0] != '/' || report_path != NULL)
		return;
	report_path = g_strdup(path);
	if (atexit(report) != 0)
		diag_warn("cannot report the work counts at exit");
}
