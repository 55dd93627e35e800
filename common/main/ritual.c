/*
 * ritual.c - process setup, option parsing and the checked exit path
 * shared by every program (see ritual.h).
 */
#include "ritual.h"
#include "counters.h"
#include "diag.h"
#include "mslimits.h"

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

/* the program options' values before parsing, to tell which were given */
typedef union option_value {
	int number;
	long long_number;
	long long longlong_number;
	const char *text;
} option_value;

static option_value *before_parsing;

/* option_end - POPT_TABLEEND */
static bool
option_end(const struct poptOption *opt)
{
	return opt->longName == NULL && opt->shortName == '\0' &&
	    opt->argInfo == 0;
}

/* option_value_of - the value an option's arg points to now */
static bool
option_value_of(const struct poptOption *opt, option_value *out)
{
	memset(out, 0, sizeof(*out));
	if (opt->arg == NULL)
		return false;
	switch (opt->argInfo & POPT_ARG_MASK) {
	case POPT_ARG_NONE:
	case POPT_ARG_INT:
	case POPT_ARG_VAL:
		out->number = *(const int *)opt->arg;
		return true;
	case POPT_ARG_LONG:
		out->long_number = *(const long *)opt->arg;
		return true;
	case POPT_ARG_LONGLONG:
		out->longlong_number = *(const long long *)opt->arg;
		return true;
	case POPT_ARG_STRING:
		out->text = *(const char *const *)opt->arg;
		return true;
	default:
		return false;
	}
}

/* remember_options - the values of prog's options before parsing */
static void
remember_options(const struct poptOption *options)
{
	size_t n = 0;

	if (options == NULL)
		return;
	while (!option_end(&options[n]))
		n++;
	before_parsing = g_new0(option_value, n + 1);
	for (size_t i = 0; i < n; i++)
		(void)option_value_of(&options[i], &before_parsing[i]);
}

bool
ritual_option_given(const char *long_name)
{
	const struct poptOption *options = current ? current->options : NULL;

	for (size_t i = 0; options != NULL && !option_end(&options[i]); i++) {
		option_value now;

		if (options[i].longName == NULL ||
		    strcmp(options[i].longName, long_name) != 0)
			continue;
		if (!option_value_of(&options[i], &now))
			return false;
		return memcmp(&now, &before_parsing[i], sizeof(now)) != 0;
	}
	diag_fatal(EXIT_TEMPFAIL, "internal error: no option --%s", long_name);
}

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
	remember_options(prog->options);

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

void
ritual_queue_id(const char *id)
{
	if (id != NULL && !diag_set_queue_id(id))
		ritual_usage_error("a QUEUEID is letters and digits");
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

/* word_in - word is one of the space-separated words of list */
static bool
word_in(const char *list, const char *word)
{
	size_t len = strlen(word);

	for (const char *p = list; *p != '\0';) {
		size_t n = strcspn(p, " ");

		if (n == len && strncmp(p, word, len) == 0)
			return true;
		p += n;
		p += strspn(p, " ");
	}
	return false;
}

void
ritual_admin_main(int argc, char **argv, const ms_admin_program *prog)
{
	static const char *no_operands[] = { NULL };
	poptContext ctx = ritual_begin(argc, argv, &prog->program);
	const char **args = poptGetArgs(ctx);
	const struct poptOption *options = prog->program.options;
	const ms_command *command = prog->commands;
	ms_admin admin = { NULL, NULL, NULL };
	ms_err err;

	if (args == NULL || args[0] == NULL)
		ritual_usage_error("no command given");
	while (command->name != NULL && strcmp(command->name, args[0]) != 0)
		command++;
	if (command->name == NULL)
		ritual_usage_error("unknown command");
	for (size_t i = 0; options != NULL && !option_end(&options[i]); i++)
		if (options[i].longName != NULL &&
		    !word_in(command->options, options[i].longName) &&
		    ritual_option_given(options[i].longName))
			ritual_usage_error("option not valid for \"%s\"",
			    command->name);
	args = args[1] != NULL ? args + 1 : no_operands;
	if (prog->quiet)
		diag_set_quiet(true);
	err = prog->init != NULL ? prog->init() : MS_OK;
	if (err == MS_OK)
		err = settings_open_store(ritual_opts.store, command->writes,
		    &admin.store, &admin.settings);
	if (err == MS_OK && prog->open != NULL)
		err = prog->open(&admin, command);
	/* one writer at a time; commands that only read need no lock */
	if (err == MS_OK && command->writes)
		err = store_lock(admin.store, LIMIT_LOCK_TIMEOUT_MS);
	if (err == MS_OK)
		err = command->run(&admin, args);
	if (admin.store != NULL)
		store_unlock(admin.store);
	if (prog->close != NULL)
		prog->close(&admin);
	settings_free(admin.settings);
	store_close(admin.store);
	ritual_end(ctx, err);
}
