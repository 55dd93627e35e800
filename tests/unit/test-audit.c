/*
 * test-audit.c - tests of the audit log (common/store/audit.c): a table
 * of logs, each line written with its correct link to the line before
 * unless the case says otherwise, and the line audit_verify() must name;
 * then audit_record() itself: the chain it writes, control characters
 * masked, a long change cut to one line, and a cut last line ended and
 * reported by the next writer.
 */
#include "audit.h"
#include "codec.h"
#include "diag.h"

#include <sys/stat.h>

#include "unit.h"

static char *root;

#define T0 "2026-12-07T17:35:05Z "
#define GOOD T0 "uid=0 program=certstore prev=%s import root ab12\n"

/* a log of up to four lines; "%s" in a line becomes the SHA-256 of the
 * line before (zeros for the first) */
typedef struct log_case {
	const char *name;
	const char *lines[4];
	unsigned long bad_line;		/* 0: the chain holds */
	const char *why;		/* the start of the reason */
} log_case;

static const log_case cases[] = {
	{ "no line", { NULL }, 0, NULL },
	{ "one line", { GOOD }, 0, NULL },
	{ "three lines", { GOOD, GOOD, T0 "uid=1000 program=pgp-keys "
	    "prev=%s trust openpgp-key AB full\n" }, 0, NULL },
	{ "first line not after zeros",
	    { T0 "uid=0 program=certstore prev=" "11111111111111111111111111"
	    "11111111111111111111111111111111111111 import root ab12\n" },
	    1, "its prev=" },
	{ "second line linked to another line",
	    { GOOD, T0 "uid=0 program=certstore prev=" "000000000000000000"
	    "0000000000000000000000000000000000000000000000 remove root ab\n" },
	    2, "its prev=" },
	{ "time with a space", { "2026-12-07 17:35:05Z uid=0 program=x "
	    "prev=%s import root ab12\n" }, 1, "it does not start" },
	{ "time without Z", { "2026-12-07T17:35:05 uid=0 program=x "
	    "prev=%s import root ab12\n" }, 1, "it does not start" },
	{ "no uid", { T0 "program=x prev=%s import root ab\n" }, 1,
	    "no uid" },
	{ "uid not a number", { T0 "uid=root program=x prev=%s import\n" },
	    1, "no uid" },
	{ "empty program", { T0 "uid=0 program= prev=%s import\n" }, 1,
	    "no program" },
	{ "prev in capitals", { GOOD, T0 "uid=0 program=x prev="
	    "ABCDEF0000000000000000000000000000000000000000000000000000000000"
	    " import\n" }, 2, "no prev" },
	{ "prev one digit short", { T0 "uid=0 program=x prev="
	    "000000000000000000000000000000000000000000000000000000000000000"
	    " import\n" }, 1, "no prev" },
	{ "no change named", { T0 "uid=0 program=x prev=%s \n" }, 1,
	    "it names no change" },
	{ "nothing after prev", { T0 "uid=0 program=x prev=%s\n" }, 1,
	    "no prev" },
	{ "last line without its newline",
	    { GOOD, T0 "uid=0 program=x prev=%s import root ab12" }, 2,
	    "the last line is incomplete" },
};

/* write_log - the case's lines, linked, as the store's audit log */
static void
write_log(const log_case *c)
{
	GString *log = g_string_new("");
	char *prev = g_strdup("00000000000000000000000000000000"
	    "00000000000000000000000000000000");
	char *path;

	for (size_t i = 0; i < G_N_ELEMENTS(c->lines) && c->lines[i]; i++) {
		GString *line = g_string_new("");
		size_t len;

		if (strstr(c->lines[i], "%s") != NULL) {
			const char *at = strstr(c->lines[i], "%s");

			g_string_append_len(line, c->lines[i],
			    at - c->lines[i]);
			g_string_append(line, prev);
			g_string_append(line, at + 2);
		} else
			g_string_append(line, c->lines[i]);
		len = line->len;
		if (len > 0 && line->str[len - 1] == '\n')
			len--;
		g_free(prev);
		prev = codec_sha256_hex(line->str, len);
		g_string_append_len(log, line->str, (gssize)line->len);
		g_string_free(line, TRUE);
	}
	path = g_build_filename(root, AUDIT_DIR, AUDIT_FILE, NULL);
	unit_write_file(path, log->str, log->len);
	g_free(path);
	g_free(prev);
	g_string_free(log, TRUE);
}

static void
check_table(ms_store *store)
{
	for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
		const log_case *c = &cases[i];
		audit_report report;
		ms_err err;

		write_log(c);
		err = audit_verify(store, &report);
		if (!unit_check(err == MS_OK && report.bad_line == c->bad_line,
		    "verify: %s: broken at line %lu", c->name, c->bad_line))
			unit_note("got %s, line %lu (%s)", ms_err_name(err),
			    report.bad_line, report.why ? report.why : "-");
		if (c->why != NULL)
			unit_check(report.why != NULL &&
			    g_str_has_prefix(report.why, c->why),
			    "verify: %s: says %s", c->name, c->why);
	}
}

/* read_log - the audit log's text (g_free) */
static char *
read_log(void)
{
	char *path = g_build_filename(root, AUDIT_DIR, AUDIT_FILE, NULL);
	char *text = NULL;

	if (!g_file_get_contents(path, &text, NULL, NULL))
		text = g_strdup("");
	g_free(path);
	return text;
}

static void
check_record(ms_store *store)
{
	audit_report report;
	char *path, *text, **lines, *last;
	char long_what[AUDIT_LINE_MAX * 2];
	struct stat st;

	path = g_build_filename(root, AUDIT_DIR, AUDIT_FILE, NULL);
	unlink(path);
	unit_check(audit_record(store, "import root %s", "ab12") == MS_OK,
	    "record: a first line");
	unit_check(stat(path, &st) == 0 && (st.st_mode & 07777) == 0600,
	    "record: the log is made with mode 0600");
	unit_check(audit_record(store, "name %s", "a\nb\033c") == MS_OK,
	    "record: a change with control characters");
	memset(long_what, 'x', sizeof(long_what) - 1);
	long_what[sizeof(long_what) - 1] = '\0';
	unit_check(audit_record(store, "%s", long_what) == MS_OK,
	    "record: a change longer than a line");
	text = read_log();
	lines = g_strsplit(text, "\n", -1);
	unit_check(g_strv_length(lines) == 4 && lines[3][0] == '\0',
	    "record: three lines, each with its newline");
	unit_check(g_str_has_suffix(lines[0], " program=test-audit prev="
	    "0000000000000000000000000000000000000000000000000000000000000000"
	    " import root ab12"), "record: the first line after zeros");
	unit_check(g_str_has_suffix(lines[1], " name a?b?c"),
	    "record: control characters masked: %s", unit_show(lines[1]));
	unit_check(strlen(lines[2]) < AUDIT_LINE_MAX &&
	    g_str_has_suffix(lines[2], "xxx..."),
	    "record: a long change cut with ... (%zu octets)",
	    strlen(lines[2]));
	unit_check(audit_verify(store, &report) == MS_OK &&
	    report.bad_line == 0 && report.lines == 3,
	    "record: the chain holds");
	last = codec_sha256_hex(lines[2], strlen(lines[2]));
	unit_check(strcmp(report.last_hash, last) == 0,
	    "record: the last hash is that of the last line");
	g_strfreev(lines);
	g_free(text);

	/* a last line cut: the next writer ends it and says so */
	text = read_log();
	unit_check(truncate(path, (off_t)strlen(text) - 5) == 0,
	    "record: the last line cut by 5 octets");
	g_free(text);
	unit_check(audit_verify(store, &report) == MS_OK &&
	    report.bad_line == 3, "record: a cut last line is named");
	unit_check(audit_record(store, "remove root ab12") == MS_OK,
	    "record: after a cut line");
	text = read_log();
	lines = g_strsplit(text, "\n", -1);
	unit_check(g_strv_length(lines) == 6 &&
	    strstr(lines[3], " audit: the line before is incomplete") !=
	    NULL && g_str_has_suffix(lines[4], " remove root ab12"),
	    "record: the cut line ended, a line says so, then the change");
	unit_check(audit_verify(store, &report) == MS_OK &&
	    report.bad_line == 0 && report.lines == 5,
	    "record: the chain holds across the cut line");
	g_strfreev(lines);
	g_free(text);
	g_free(last);
	g_free(path);
}

int
main(void)
{
	ms_store *store = NULL;

	diag_init("test-audit");
	root = unit_tmpdir("audit");
	if (!unit_check(store_open(root, true, &store) == MS_OK,
	    "a store with its audit directory"))
		return unit_done();
	check_table(store);
	check_record(store);
	store_close(store);
	unit_rmtree(root);
	g_free(root);
	return unit_done();
}
