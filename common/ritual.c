/*
 * ritual.c - process setup, option parsing and the checked exit path
 * shared by every program (see ritual.h).
 */
#include "ritual.h"
#include "counters.h"
#include "diag.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#ifndef MAILSEAL_VERSION
#define MAILSEAL_VERSION "0.1"
#endif

ms_common_opts ritual_opts;

static const ms_program *current;
static int want_help, want_version;

static struct poptOption common_table[] = {
	{ "store", '\0', POPT_ARG_STRING, &ritual_opts.store, 0,
	  "store directory", "DIR" },
	{ "help", 'h', POPT_ARG_NONE, &want_help, 0, "show usage", NULL },
	{ "version", '\0', POPT_ARG_NONE, &want_version, 0, "show version",
	  NULL },
	POPT_TABLEEND
};

/* open_std_fds - a closed fd 0-2 would let a later open() become stdout */
static void
open_std_fds(void)
{
	for (int fd = 0; fd <= 2; fd++) {
		if (fcntl(fd, F_GETFD) == -1 && errno == EBADF) {
			int nfd = open("/dev/null", fd == 0 ? O_RDONLY :
			    O_WRONLY);

			if (nfd != fd)
				_exit(EXIT_TEMPFAIL);
		}
	}
}

static void
print_usage(FILE *out)
{
	fputs(current && current->usage ? current->usage : "", out);
}

void
ritual_usage_error(const char *fmt, ...)
{
	va_list ap;
	char *text = NULL;

	va_start(ap, fmt);
	if (vasprintf(&text, fmt, ap) < 0)
		text = NULL;
	va_end(ap);
	diag_error("%s", text ? text : "usage error");
	free(text);
	print_usage(stderr);
	exit(EXIT_USAGE);
}

poptContext
ritual_begin(int argc, char **argv, const ms_program *prog)
{
	poptContext ctx;
	struct poptOption table[3];
	int rc;

	open_std_fds();
	umask(077);
	signal(SIGPIPE, SIG_IGN);
	diag_init(argc > 0 ? argv[0] : NULL);
	counters_report_at_exit();
	current = prog;

	memset(table, 0, sizeof(table));
	table[0].argInfo = POPT_ARG_INCLUDE_TABLE;
	table[0].arg = common_table;
	table[0].descrip = "common options";
	if (prog->options != NULL) {
		table[1].argInfo = POPT_ARG_INCLUDE_TABLE;
		table[1].arg = (void *)prog->options;
		table[1].descrip = "options";
	}
	ctx = poptGetContext(diag_progname(), argc, (const char **)argv,
	    table, POPT_CONTEXT_NO_EXEC);
	if (ctx == NULL)
		diag_fatal(EXIT_TEMPFAIL, "cannot parse options");
	while ((rc = poptGetNextOpt(ctx)) > 0)
		;	/* every option stores through its arg pointer */
	if (rc < -1) {
		char *bad = diag_mask(poptBadOption(ctx, POPT_BADOPTION_NOALIAS),
		    strlen(poptBadOption(ctx, POPT_BADOPTION_NOALIAS)));

		diag_error("%s: %s", bad, poptStrerror(rc));
		free(bad);
		print_usage(stderr);
		poptFreeContext(ctx);
		exit(EXIT_USAGE);
	}
	if (want_help) {
		print_usage(stdout);
		ritual_exit_status(ctx, EXIT_DONE);
	}
	if (want_version) {
		printf("%s (mailseal) %s\n", diag_progname(), MAILSEAL_VERSION);
		ritual_exit_status(ctx, EXIT_DONE);
	}
	return ctx;
}

static void
on_deadline(int sig)
{
	static const char text[] = "4.4.7 mailseal: processing took too "
	    "long, will retry\n";
	ssize_t ignored;

	(void)sig;
	diag_cleanup_run();
	ignored = write(STDERR_FILENO, text, sizeof(text) - 1);
	(void)ignored;
	_exit(EXIT_TEMPFAIL);
}

void
ritual_deadline(unsigned seconds)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_deadline;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGALRM, &sa, NULL);
	alarm(seconds);
}

ms_err
ritual_output(const void *data, size_t len)
{
	if (len > 0 && fwrite(data, 1, len, stdout) != len) {
		diag_error("write to standard output: %s", strerror(errno));
		return MS_TEMP;
	}
	return MS_OK;
}

void
ritual_exit_status(poptContext ctx, int status)
{
	if (fflush(stdout) != 0 || ferror(stdout)) {
		diag_error("write to standard output: %s", strerror(errno));
		if (status == EXIT_DONE || status == EXIT_NOTFOUND)
			status = EXIT_TEMPFAIL;
	}
	if (fclose(stdout) != 0 && status == EXIT_DONE) {
		diag_error("close standard output: %s", strerror(errno));
		status = EXIT_TEMPFAIL;
	}
	if (ctx != NULL)
		poptFreeContext(ctx);
	if (status != EXIT_DONE && status != EXIT_NOTFOUND)
		diag_cleanup_run();
	exit(status);
}

void
ritual_end(poptContext ctx, ms_err err)
{
	ritual_exit_status(ctx, ms_exit_code(err));
}
