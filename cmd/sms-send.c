/*
 * sms-send - post the SMS jobs that pdfwrap(1) spooled to an HTTP(S) SMS
 * gateway (pdf.md 5.3), from cron or a loop: the one program of the PDF
 * path with network rights.  A sent job is wiped; a failed one is tried
 * again on a later run after a delay that doubles; after the last
 * attempt, or past its expiry, the job is given up and the sender gets
 * a notice with the password (the random-to-sender fallback), through
 * the reinjection command, never a shell.
 */
#include "diag.h"
#include "fetch.h"
#include "kv.h"
#include "run.h"
#include "ritual.h"
#include "secret.h"
#include "settings.h"
#include "smsjob.h"
#include "store.h"
#include "mslimits.h"

#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static const char usage[] =
"usage: sms-send [--store DIR] [-n] [--allow-private-addresses]\n"
"       sms-send -h | --version\n";

static int opt_dry_run, opt_allow_private;

static struct poptOption options[] = {
	{ "dry-run", 'n', POPT_ARG_NONE, &opt_dry_run, 0, NULL, NULL },
	{ "allow-private-addresses", '\0', POPT_ARG_NONE, &opt_allow_private,
	  0, NULL, NULL },
	POPT_TABLEEND
};

typedef struct gateway {
	char *url;		/* template with %NUMBER% and %TEXT% */
	char *userpwd;		/* "user:password", or NULL; secret */
} gateway;

/* read_gateway_text - the whole file, which must be ours and 0600: it
 * holds the gateway's credentials */
static char *
read_gateway_text(const char *path)
{
	struct stat st;
	char *text;
	size_t done = 0;
	int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);

	if (fd < 0) {
		diag_error("cannot open %s: %s", path, strerror(errno));
		return NULL;
	}
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) ||
	    (st.st_mode & 077) != 0 || st.st_uid != geteuid() ||
	    st.st_size > SMS_GATEWAY_FILE_MAX) {
		diag_error("%s must be a regular file of ours, mode 0600, at "
		    "most %d bytes", path, SMS_GATEWAY_FILE_MAX);
		close(fd);
		return NULL;
	}
	text = g_malloc0((size_t)st.st_size + 1);
	while (done < (size_t)st.st_size) {
		ssize_t n = read(fd, text + done, (size_t)st.st_size - done);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		done += (size_t)n;
	}
	close(fd);
	text[done] = '\0';
	return text;
}

/* gateway_load - "url = ", "user = ", "password = " lines, comments and
 * blank lines allowed */
static ms_err
gateway_load(const char *path, gateway *gw)
{
	static const char *const known[] = { "url", "user", "password",
	    NULL };
	const char *user, *password;
	kv_file *kv = NULL;
	char *text;
	size_t text_len;
	ms_err err;

	memset(gw, 0, sizeof(*gw));
	if (*path == '\0') {
		diag_error("no sms-credentials-file in the settings");
		return MS_CONFIG;
	}
	text = read_gateway_text(path);
	if (text == NULL)
		return MS_CONFIG;
	text_len = strlen(text);
	err = kv_parse(path, text, text_len, KV_COMMENTS, &kv) == MS_OK &&
	    kv_only(kv, path, known) ? MS_OK : MS_CONFIG;
	sodium_memzero(text, text_len);
	g_free(text);
	if (err == MS_OK) {
		gw->url = g_strdup(kv_get(kv, "url"));
		user = kv_get(kv, "user");
		password = kv_get(kv, "password");
		if (gw->url == NULL || (g_ascii_strncasecmp(gw->url,
		    "https://", 8) != 0 && g_ascii_strncasecmp(gw->url,
		    "http://", 7) != 0) || (user == NULL) != (password == NULL))
			err = MS_CONFIG;
		else if (user != NULL)
			gw->userpwd = g_strdup_printf("%s:%s", user, password);
	}
	kv_free(kv);
	if (err != MS_OK) {
		diag_error("%s: needs a url line (http or https) and user "
		    "and password together, nothing else", path);
		g_free(gw->url);
		gw->url = NULL;
	}
	return err;
}

/* escape - text URL-encoded (g_free) */
static char *
escape(const char *text)
{
	char *escaped = curl_easy_escape(NULL, text, 0), *copy;

	if (escaped == NULL)
		diag_fatal(EXIT_TEMPFAIL, "out of memory");
	copy = g_strdup(escaped);
	sodium_memzero(escaped, strlen(escaped));
	curl_free(escaped);
	return copy;
}

typedef enum post_result {
	POST_SENT,
	POST_RETRY,	/* the gateway or the way to it failed: try later */
	POST_REFUSED	/* the gateway refused this job: trying again gives
			 * the same answer */
} post_result;

/* refusal - an HTTP status that refuses the request itself (a number or
 * a text the gateway will not take); authentication, a wrong URL and
 * rate limits (401, 403, 404, 408, 429) are for the administrator or
 * time to mend, so they are tried again */
static bool
refusal(long status)
{
	return status == 400 || status == 413 || status == 415 ||
	    status == 422;
}

/* post_job - one attempt at the gateway */
static post_result
post_job(const gateway *gw, const fetch_opts *opts, const smsjob *job)
{
	char *number = escape(job->number), *text = escape(job->text);
	GString *url = g_string_new(gw->url);
	char *body = g_strdup_printf("to=%s&text=%s", number, text);
	const char *why = NULL;
	long status = 0;
	fetch_outcome outcome;

	g_string_replace(url, "%NUMBER%", number, 0);
	g_string_replace(url, "%TEXT%", text, 0);
	outcome = fetch_post(url->str, opts, body, gw->userpwd, &status,
	    &why);
	if (outcome != FETCH_OK)
		diag_warn("job %s: the gateway failed (HTTP status %ld): %s",
		    job->name, status, why != NULL ? why : "no success");
	secret_string_free(url);
	secret_free(body);
	secret_free(number);
	secret_free(text);
	if (outcome == FETCH_OK)
		return POST_SENT;
	return refusal(status) ? POST_REFUSED : POST_RETRY;
}

/* notify_sender - the job is given up: tell the sender, with the
 * password, so it can be passed on another way (pdf.md 5.3) */
static ms_err
notify_sender(const ms_settings *settings, const smsjob *job,
    const char *reason)
{
	char **cmd = run_reinject_command(settings);
	GPtrArray *argv;
	GString *mail, *errtext = NULL;
	const char *password = strrchr(job->text, ' ');
	char *body, *encoded;
	int fd, status = 0;
	size_t len, at;
	ms_err err;

	if (cmd == NULL)
		return MS_CONFIG;
	body = g_strdup_printf("The text message with the password for the "
	    "encrypted PDF sent to %s\n(reference %s) could not be sent to "
	    "%s: %s.\n\nPlease pass the password on another way, for "
	    "example by phone:\n\n    %s\n", job->recipient, job->reference,
	    job->number, reason, password != NULL ? password + 1 : job->text);
	encoded = g_base64_encode((const guchar *)body, strlen(body));
	mail = g_string_new(NULL);
	g_string_append_printf(mail, "From: Mail Delivery System "
	    "<MAILER-DAEMON>\nTo: %s\nSubject: PDF password for %s: the "
	    "SMS could not be sent\nAuto-Submitted: auto-replied\n"
	    "MIME-Version: 1.0\nContent-Type: text/plain; charset=utf-8\n"
	    "Content-Transfer-Encoding: base64\n\n", job->sender,
	    job->recipient);
	len = strlen(encoded);
	for (at = 0; at < len; at += 76) {
		g_string_append_len(mail, encoded + at,
		    (gssize)MIN(76, len - at));
		g_string_append_c(mail, '\n');
	}
	secret_free(body);
	secret_free(encoded);
	fd = run_memfile("mailseal-sms-notice");
	if (fd < 0 || write(fd, mail->str, mail->len) !=
	    (ssize_t)mail->len) {
		diag_error("cannot write the sender notice: %s",
		    strerror(errno));
		if (fd >= 0)
			close(fd);
		secret_string_free(mail);
		g_strfreev(cmd);
		return MS_TEMP;
	}
	secret_string_free(mail);
	argv = g_ptr_array_new();
	for (size_t i = 0; cmd[i] != NULL; i++)
		g_ptr_array_add(argv, cmd[i]);
	g_ptr_array_add(argv, "-f");
	g_ptr_array_add(argv, "");
	g_ptr_array_add(argv, "--");
	g_ptr_array_add(argv, job->sender);
	g_ptr_array_add(argv, NULL);
	err = run_program((char *const *)argv->pdata, fd, -1, &status,
	    &errtext);
	if (err == MS_OK && status != 0) {
		diag_error("the reinjection command failed (status %d)",
		    status);
		err = MS_TEMP;
	}
	if (errtext != NULL)
		g_string_free(errtext, TRUE);
	close(fd);
	g_ptr_array_free(argv, TRUE);
	g_strfreev(cmd);
	return err;
}

/* retry_delay - the delay after attempts failures: base, doubled for
 * every failure after the first, at most SMS_RETRY_DELAY_MAX */
static long long
retry_delay(long long base, unsigned attempts)
{
	long long delay = base;
	unsigned i;

	for (i = 1; i < attempts && delay < SMS_RETRY_DELAY_MAX; i++)
		delay *= 2;
	return MIN(delay, SMS_RETRY_DELAY_MAX);
}

/* handle_job - one job: send, reschedule or give up */
static ms_err
handle_job(ms_store *store, const ms_settings *settings,
    const gateway *gw, const fetch_opts *opts, const char *name,
    unsigned *sent, unsigned *failed)
{
	long long now = (long long)time(NULL);
	unsigned max_attempts = (unsigned)settings_get_number(settings,
	    "sms-max-attempts");
	const char *reason = NULL;
	post_result result;
	smsjob job;
	ms_err err;

	err = smsjob_read(store, name, &job);
	if (err == MS_NOTFOUND)
		return MS_OK;
	if (err != MS_OK)
		return err;
	if (job.next_attempt > now && job.expires > now) {
		smsjob_clear(&job);
		return MS_OK;
	}
	if (opt_dry_run) {
		printf("would send job %s to %s (attempt %u)\n", job.name,
		    job.number, job.attempts + 1);
		smsjob_clear(&job);
		return MS_OK;
	}
	if (job.expires <= now) {
		reason = "the job expired";
	} else if ((result = post_job(gw, opts, &job)) == POST_SENT) {
		diag_info("job %s: SMS for %s sent to %s", job.name,
		    job.recipient, job.number);
		err = smsjob_remove(store, &job);
		(*sent)++;
		smsjob_clear(&job);
		return err;
	} else {
		job.attempts++;
		(*failed)++;
		if (result == POST_REFUSED)
			reason = "the gateway refused the message";
		else if (job.attempts >= max_attempts)
			reason = "the gateway failed too often";
	}
	if (reason == NULL) {
		job.next_attempt = now + retry_delay((long long)
		    settings_get_number(settings, "sms-retry-delay"),
		    job.attempts);
		err = smsjob_write(store, &job);
	} else {
		diag_warn("job %s: given up (%s), telling %s", job.name,
		    reason, job.sender);
		err = notify_sender(settings, &job, reason);
		if (err == MS_OK)
			err = smsjob_remove(store, &job);
	}
	smsjob_clear(&job);
	return err;
}

/* run_lock - the run lock spool/sms.lock, taken without waiting:
 * MS_NOTFOUND when another run holds it */
static ms_err
run_lock(const ms_store *store, int *fd)
{
	char *dir = store_path(store, "spool", NULL);
	char *path = g_build_filename(dir, "sms.lock", NULL);
	ms_err err = MS_OK;

	if (mkdir(dir, 0700) != 0 && errno != EEXIST) {
		diag_error("cannot create %s: %s", dir, strerror(errno));
		err = MS_TEMP;
	} else if ((*fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC |
	    O_NOFOLLOW, 0600)) < 0) {
		diag_error("cannot open %s: %s", path, strerror(errno));
		err = MS_TEMP;
	} else if (flock(*fd, LOCK_EX | LOCK_NB) != 0) {
		err = errno == EWOULDBLOCK ? MS_NOTFOUND : MS_TEMP;
		if (err == MS_TEMP)
			diag_error("cannot lock %s: %s", path,
			    strerror(errno));
		close(*fd);
		*fd = -1;
	}
	g_free(path);
	g_free(dir);
	return err;
}

int
main(int argc, char **argv)
{
	static const ms_program prog = { usage, options };
	poptContext ctx = ritual_begin(argc, argv, &prog);
	fetch_opts opts = { "https", SMS_ANSWER_MAX, 10000, 30000, false, NULL,
	    NULL, NULL };
	ms_settings *settings = NULL;
	ms_store *store = NULL;
	GPtrArray *names = NULL;
	gateway gw = { NULL, NULL };
	unsigned sent = 0, failed = 0;
	ms_err err, first = MS_OK;
	int lock_fd = -1;
	guint i;

	if (poptGetArgs(ctx) != NULL)
		ritual_usage_error("no operands expected");
	err = settings_open_store(ritual_opts.store, false, &store, &settings);
	if (err != MS_OK)
		goto out;
	/* one run at a time: two would post the same job twice; a run that
	 * finds another at work leaves the jobs to it */
	err = run_lock(store, &lock_fd);
	if (err == MS_NOTFOUND) {
		diag_info("another sms-send run is at work");
		err = MS_OK;
		goto out;
	}
	if (err != MS_OK)
		goto out;
	if (!opt_dry_run && (err = smsjob_prune_done(store, time(NULL))) !=
	    MS_OK)
		goto out;
	err = store_list(store, SMSJOB_DIR, &names);
	if (err == MS_NOTFOUND || (err == MS_OK && names->len == 0)) {
		err = MS_OK;
		goto out;
	}
	if (err != MS_OK)
		goto out;
	if (!opt_dry_run) {
		err = gateway_load(settings_get(settings,
		    "sms-credentials-file"), &gw);
		if (err != MS_OK)
			goto out;
	}
	/* plain HTTP only to a gateway on this host or a private net,
	 * which is for tests or a local relay */
	if (opt_allow_private || settings_get_bool(settings,
	    "sms-allow-private-addresses")) {
		opts.allow_private = true;
		opts.protocols = "http,https";
	}
	for (i = 0; i < names->len; i++) {
		err = handle_job(store, settings, &gw, &opts,
		    g_ptr_array_index(names, i), &sent, &failed);
		if (err != MS_OK && first == MS_OK)
			first = err;
	}
	err = first;
	if (!opt_dry_run && (sent > 0 || failed > 0))
		diag_info("%u SMS sent, %u attempts failed", sent, failed);
out:
	if (lock_fd >= 0)
		close(lock_fd);	/* releases the run lock */
	if (names != NULL)
		g_ptr_array_free(names, TRUE);
	g_free(gw.url);
	secret_free(gw.userpwd);
	settings_free(settings);
	store_close(store);
	ritual_end(ctx, err);
}
