/*
 * run.c - run a program without a shell, with its input, output and
 * diagnostics in anonymous files (run.h).
 *
 * posix_spawn (a vfork-style clone in glibc) keeps the cost of starting a
 * child small even when the parent maps a large message.  Every descriptor
 * above 2 is closed in the child, so a child sees only what it is given.
 */
#include "run.h"
#include "counters.h"
#include "diag.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

int
run_memfile(const char *name)
{
	const char *tmpdir = getenv("TMPDIR");
	int fd = memfd_create(name, MFD_CLOEXEC);

	if (fd < 0)
		fd = open(tmpdir != NULL && *tmpdir ? tmpdir : "/tmp",
		    O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
	return fd;
}

long long
run_file_size(int fd)
{
	struct stat st;

	if (fstat(fd, &st) != 0)
		return -1;
	return (long long)st.st_size;
}

const char *
run_bindir(void)
{
	static char dir[PATH_MAX];
	ssize_t n;
	char *slash;

	if (dir[0] != '\0')
		return dir;
	n = readlink("/proc/self/exe", dir, sizeof dir - 1);
	if (n <= 0 || (size_t)n >= sizeof dir - 1) {
		dir[0] = '\0';
		return NULL;
	}
	dir[n] = '\0';
	slash = strrchr(dir, '/');
	if (slash == NULL || slash == dir) {
		dir[0] = '\0';
		return NULL;
	}
	*slash = '\0';
	return dir;
}

/* read_start - up to max octets from the start of fd */
static GString *
read_start(int fd, size_t max)
{
	GString *s = g_string_sized_new(256);
	char buf[1024];
	off_t at = 0;

	while (s->len < max) {
		size_t want = max - s->len < sizeof buf ? max - s->len :
		    sizeof buf;
		ssize_t n = pread(fd, buf, want, at);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		g_string_append_len(s, buf, n);
		at += n;
	}
	return s;
}

static ms_err finish(const char *name, pid_t pid, int err_fd, int *status,
    GString **errtext);

ms_err
run_program(char *const argv[], int in_fd, int out_fd, int *status,
    GString **errtext)
{
	return run_program_fd3(argv, in_fd, out_fd, -1, status, errtext);
}

ms_err
run_program_fd3(char *const argv[], int in_fd, int out_fd, int fd3,
    int *status, GString **errtext)
{
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t attr;
	sigset_t none, dflt;
	int err_fd, null_fd = -1, rc;
	pid_t pid;

	*status = -1;
	if (errtext != NULL)
		*errtext = NULL;
	err_fd = run_memfile("mailseal-stderr");
	if (err_fd < 0) {
		diag_error("cannot create a temporary file: %s",
		    strerror(errno));
		return MS_TEMP;
	}
	if (out_fd < 0) {
		null_fd = open("/dev/null", O_WRONLY | O_CLOEXEC);
		if (null_fd < 0) {
			diag_error("cannot open /dev/null: %s",
			    strerror(errno));
			close(err_fd);
			return MS_TEMP;
		}
	}
	if (in_fd >= 0 && lseek(in_fd, 0, SEEK_SET) != 0) {
		diag_error("cannot rewind a temporary file: %s",
		    strerror(errno));
		close(err_fd);
		if (null_fd >= 0)
			close(null_fd);
		return MS_TEMP;
	}
	posix_spawn_file_actions_init(&fa);
	posix_spawnattr_init(&attr);
	/* the child starts with default signal handling and nothing blocked
	 * (SIGPIPE is ignored here) */
	sigemptyset(&none);
	sigemptyset(&dflt);
	sigaddset(&dflt, SIGPIPE);
	sigaddset(&dflt, SIGALRM);
	sigaddset(&dflt, SIGTERM);
	rc = posix_spawnattr_setsigmask(&attr, &none);
	if (rc == 0)
		rc = posix_spawnattr_setsigdefault(&attr, &dflt);
	if (rc == 0)
		rc = posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK |
		    POSIX_SPAWN_SETSIGDEF);
	if (rc == 0)
		rc = in_fd >= 0 ?
		    posix_spawn_file_actions_adddup2(&fa, in_fd, 0) :
		    posix_spawn_file_actions_addopen(&fa, 0, "/dev/null",
		    O_RDONLY, 0);
	if (rc == 0)
		rc = posix_spawn_file_actions_adddup2(&fa,
		    out_fd >= 0 ? out_fd : null_fd, 1);
	if (rc == 0)
		rc = posix_spawn_file_actions_adddup2(&fa, err_fd, 2);
	if (rc == 0 && fd3 >= 0)
		rc = posix_spawn_file_actions_adddup2(&fa, fd3, 3);
	if (rc == 0)
		rc = posix_spawn_file_actions_addclosefrom_np(&fa,
		    fd3 >= 0 ? 4 : 3);
	if (rc == 0)
		rc = posix_spawn(&pid, argv[0], &fa, &attr, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	posix_spawnattr_destroy(&attr);
	if (null_fd >= 0)
		close(null_fd);
	if (rc == 0)
		counter_add(COUNTER_PROCESS);
	if (rc != 0) {
		diag_error("cannot run %s: %s", argv[0], strerror(rc));
		close(err_fd);
		return MS_CONFIG;
	}
	return finish(argv[0], pid, err_fd, status, errtext);
}

/* finish - wait for pid and collect its status and diagnostics */
static ms_err
finish(const char *name, pid_t pid, int err_fd, int *status,
    GString **errtext)
{
	ms_err err = MS_OK;
	int ws;

	while (waitpid(pid, &ws, 0) < 0) {
		if (errno != EINTR) {
			diag_error("waiting for %s: %s", name,
			    strerror(errno));
			close(err_fd);
			return MS_INTERNAL;
		}
	}
	if (WIFEXITED(ws))
		*status = WEXITSTATUS(ws);
	else if (WIFSIGNALED(ws))
		*status = 128 + WTERMSIG(ws);
	else
		err = MS_INTERNAL;
	if (errtext != NULL)
		*errtext = read_start(err_fd, RUN_STDERR_MAX);
	close(err_fd);
	return err;
}

ms_err
run_program_tied(char *const argv[], int in_fd, int out_fd, int *status,
    GString **errtext)
{
	pid_t parent = getpid(), pid;
	int err_fd;

	*status = -1;
	if (errtext != NULL)
		*errtext = NULL;
	if (in_fd >= 0 && lseek(in_fd, 0, SEEK_SET) != 0) {
		diag_error("cannot rewind a temporary file: %s",
		    strerror(errno));
		return MS_TEMP;
	}
	err_fd = run_memfile("mailseal-stderr");
	if (err_fd < 0) {
		diag_error("cannot create a temporary file: %s",
		    strerror(errno));
		return MS_TEMP;
	}
	pid = fork();
	if (pid < 0) {
		diag_error("cannot start %s: %s", argv[0], strerror(errno));
		close(err_fd);
		return MS_TEMP;
	}
	counter_add(COUNTER_PROCESS);
	if (pid == 0) {
		/* the child: only async-signal-safe calls from here */
		sigset_t none;
		int null_fd;

		if (prctl(PR_SET_PDEATHSIG, SIGKILL) != 0 ||
		    getppid() != parent)
			_exit(75);
		signal(SIGPIPE, SIG_DFL);
		signal(SIGALRM, SIG_DFL);
		signal(SIGTERM, SIG_DFL);
		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
		null_fd = open("/dev/null", O_RDWR);
		if (null_fd < 0 ||
		    dup2(in_fd >= 0 ? in_fd : null_fd, 0) < 0 ||
		    dup2(out_fd >= 0 ? out_fd : null_fd, 1) < 0 ||
		    dup2(err_fd, 2) < 0)
			_exit(75);
		close_range(3, ~0U, 0);
		execv(argv[0], argv);
		_exit(75);
	}
	return finish(argv[0], pid, err_fd, status, errtext);
}

ms_err
run_copy_fd(int in_fd, int out_fd)
{
	char buf[65536];
	off_t at = 0;

	for (;;) {
		ssize_t n = pread(in_fd, buf, sizeof buf, at);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			diag_error("cannot read a temporary file: %s",
			    strerror(errno));
			return MS_TEMP;
		}
		if (n == 0)
			return MS_OK;
		at += n;
		for (ssize_t done = 0; done < n;) {
			ssize_t w = write(out_fd, buf + done,
			    (size_t)(n - done));

			if (w < 0 && errno == EINTR)
				continue;
			if (w <= 0) {
				diag_error("cannot write: %s",
				    strerror(errno));
				return MS_TEMP;
			}
			done += w;
		}
	}
}

char **
run_reinject_command(const ms_settings *settings)
{
	const char *cmd = settings_get(settings, "reinject-command");
	GError *gerr = NULL;
	char **argv = NULL;

	if (cmd == NULL || *cmd == '\0')
		cmd = getenv("MAILSEAL_SENDMAIL");
	if (cmd == NULL || *cmd == '\0')
		cmd = "/usr/sbin/sendmail -G -i";
	if (!g_shell_parse_argv(cmd, NULL, &argv, &gerr)) {
		diag_error("reinject-command cannot be split into words");
		g_error_free(gerr);
		return NULL;
	}
	if (argv[0][0] != '/') {
		diag_error("reinject-command must start with an absolute path");
		g_strfreev(argv);
		return NULL;
	}
	return argv;
}

ms_err
run_status_err(int status)
{
	switch (status) {
	case EXIT_DONE:
		return MS_OK;
	case EXIT_UNAVAILABLE:
		return MS_POLICY;
	case EXIT_DATAERR:
		return MS_DATA;
	case EXIT_USAGE:
		return MS_INTERNAL;
	default:
		return MS_TEMP;
	}
}

void
run_relay_errtext(const GString *text)
{
	if (text == NULL || text->len == 0)
		return;
	fwrite(text->str, 1, text->len, stderr);
	if (text->str[text->len - 1] != '\n')
		fputc('\n', stderr);
	fflush(stderr);
}
