/*
 * mailseal-filter - the gateway's entry point for Postfix pipe(8) or any
 * MTA (mailseal-filter(1)): read the message once, strip our status fields,
 * ask route-recipient how each recipient is served, build every variant
 * with the sibling filters (sign, then encrypt, per group of recipients),
 * and only when all are built reinject each one.  --incoming decrypts and
 * verifies instead.  Programs run without a shell; every failure before
 * the first reinjection exits 75 with nothing sent (REL-1, REL-5).
 */
#include "addr.h"
#include "diag.h"
#include "filter.h"
#include "marker.h"
#include "msgpart.h"
#include "output.h"
#include "ritual.h"
#include "route.h"
#include "run.h"
#include "settings.h"
#include "smenc.h"
#include "smtp.h"

#include <errno.h>
#include <sodium.h>
#include <sys/stat.h>
#include <time.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char usage[] =
"usage: mailseal-filter [--store DIR] [--incoming] [-q QUEUEID] -f SENDER\n"
"           -- RECIPIENT...\n"
"       mailseal-filter [--store DIR] --incoming\n"
"       mailseal-filter -h | --version\n";

static char *opt_sender, *opt_queue_id;
static int opt_incoming;

static struct poptOption options[] = {
	{ NULL, 'f', POPT_ARG_STRING, &opt_sender, 0, NULL, NULL },
	{ NULL, 'q', POPT_ARG_STRING, &opt_queue_id, 0, NULL, NULL },
	{ "incoming", '\0', POPT_ARG_NONE, &opt_incoming, 0, NULL, NULL },
	POPT_TABLEEND
};

#define RECIPIENTS_MAX 1000

/* one group of recipients served by the same variant */
typedef struct group {
	char *method;		/* smime, pgp, plain, pdf, webmail */
	char *sign;		/* none, smime, pgp */
	char *fields;		/* the other key=value fields, as given */
	GPtrArray *rcpts;	/* char *, as given on the command line */
	int out_fd;		/* the built variant, or -1 */
	bool borrowed;		/* out_fd belongs to someone else */
	char *notice;		/* pdf: the sender notice file, or NULL */
	int notice_slot;	/* its cleanup registration */
} group;

typedef struct job {
	ms_filter f;
	const char *sender;	/* "" for the null sender */
	const char **rcpts;
	int nrcpts;
	int in_fd;		/* the message, status fields stripped */
	GPtrArray *groups;
	int signed_fd[2];	/* smime, pgp; -1 until made */
	int rewritten_fd;	/* the message without triggers, or -1 */
	int journal_fd;		/* recipients already served, or -1 */
	GHashTable *sent;	/* recipients the journal names */
	bool rcpts_owned;	/* rcpts is our array, not argv's */
	bool dlp_ran;		/* the message carries dlp-scan's verdict */
	char *marker;		/* the X-Mailseal-Processed field line */
	char *private_dir;	/* made on first need, or NULL */
} job;

#define JOURNAL_MAX (1024 * 1024)
#define JOURNAL_DAYS 7

static void
group_free(gpointer p)
{
	group *g = p;

	g_free(g->method);
	g_free(g->sign);
	g_free(g->fields);
	g_ptr_array_free(g->rcpts, TRUE);
	if (g->notice != NULL) {
		(void)unlink(g->notice);
		diag_cleanup_forget(g->notice_slot);
		g_free(g->notice);
	}
	if (g->out_fd >= 0 && !g->borrowed)
		close(g->out_fd);
	g_free(g);
}

/* program - the sibling program's path (g_free) */
static char *
program(const char *name)
{
	const char *dir = run_bindir();

	return dir != NULL ? g_build_filename(dir, name, NULL) : NULL;
}

/* relay_errtext - a child's diagnostics on our standard error: its first
 * line is the status line Postfix reads when it refused */
static void
relay_errtext(const GString *text)
{
	if (text == NULL || text->len == 0)
		return;
	fwrite(text->str, 1, text->len, stderr);
	if (text->str[text->len - 1] != '\n')
		fputc('\n', stderr);
	fflush(stderr);
}

/* step - run the sibling NAME with args, then "--" and rcpts when given,
 * reading in_fd; on success *out_fd holds its complete, non-empty output */
static ms_err
step(const char *name, const char *const *args, GPtrArray *rcpts,
    int in_fd, int *out_fd)
{
	GPtrArray *argv = g_ptr_array_new_with_free_func(g_free);
	GString *errtext = NULL;
	char *path = program(name);
	int status, fd;
	ms_err err;

	*out_fd = -1;
	if (path == NULL || access(path, X_OK) != 0) {
		diag_error("%s is not installed next to mailseal-filter", name);
		g_free(path);
		g_ptr_array_free(argv, TRUE);
		return MS_CONFIG;
	}
	fd = run_memfile(name);
	if (fd < 0) {
		diag_error("cannot create a temporary file: %s",
		    strerror(errno));
		g_free(path);
		g_ptr_array_free(argv, TRUE);
		return MS_TEMP;
	}
	g_ptr_array_add(argv, path);
	if (ritual_opts.store != NULL) {
		g_ptr_array_add(argv, g_strdup("--store"));
		g_ptr_array_add(argv, g_strdup(ritual_opts.store));
	}
	for (size_t i = 0; args != NULL && args[i] != NULL; i++)
		g_ptr_array_add(argv, g_strdup(args[i]));
	if (rcpts != NULL) {
		g_ptr_array_add(argv, g_strdup("--"));
		for (guint i = 0; i < rcpts->len; i++)
			g_ptr_array_add(argv,
			    g_strdup(g_ptr_array_index(rcpts, i)));
	}
	g_ptr_array_add(argv, NULL);
	err = run_program((char *const *)argv->pdata, in_fd, fd, &status,
	    &errtext);
	g_ptr_array_free(argv, TRUE);
	if (err == MS_OK) {
		switch (status) {
		case 0:
			if (run_file_size(fd) <= 0) {
				/* fail closed: empty output is a failure */
				diag_error("%s wrote nothing", name);
				err = MS_INTERNAL;
			}
			break;
		case 69:
			relay_errtext(errtext);
			err = MS_POLICY;
			break;
		case 65:
			relay_errtext(errtext);
			err = MS_DATA;
			break;
		default:
			relay_errtext(errtext);
			diag_error("%s failed (status %d)", name, status);
			err = MS_TEMP;
			break;
		}
	}
	if (errtext != NULL)
		g_string_free(errtext, TRUE);
	if (err != MS_OK) {
		close(fd);
		return err;
	}
	*out_fd = fd;
	return MS_OK;
}

/* add_to_group - file rcpt under its method, signing and fields */
static void
add_to_group(job *j, const char *method, const char *sign,
    const char *fields, const char *rcpt)
{
	group *g = NULL;

	for (guint i = 0; i < j->groups->len; i++) {
		group *c = g_ptr_array_index(j->groups, i);

		if (strcmp(c->method, method) == 0 &&
		    strcmp(c->sign, sign) == 0 &&
		    strcmp(c->fields, fields) == 0) {
			g = c;
			break;
		}
	}
	if (g == NULL) {
		g = g_new0(group, 1);
		g->method = g_strdup(method);
		g->sign = g_strdup(sign);
		g->fields = g_strdup(fields);
		g->rcpts = g_ptr_array_new_with_free_func(g_free);
		g->out_fd = -1;
		g_ptr_array_add(j->groups, g);
	}
	g_ptr_array_add(g->rcpts, g_strdup(rcpt));
}

/* read_all - the whole content of a small temporary file */
static GString *
read_all(int fd, size_t max, bool *too_large)
{
	long long size = run_file_size(fd);
	GString *s;
	size_t got = 0;

	*too_large = size < 0 || (unsigned long long)size > max;
	if (*too_large)
		return NULL;
	s = g_string_sized_new((size_t)size + 1);
	g_string_set_size(s, (size_t)size);
	while (got < (size_t)size) {
		ssize_t n = pread(fd, s->str + got, (size_t)size - got,
		    (off_t)got);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			g_string_free(s, TRUE);
			return NULL;
		}
		got += (size_t)n;
	}
	return s;
}

/* journal_sweep - now and then, forget queue files older than a week
 * (Postfix gives up on a message after five days by default) */
static void
journal_sweep(const char *dir)
{
	GDir *d;
	const char *name;
	time_t now = time(NULL);

	if (g_random_int_range(0, 64) != 0 || (d = g_dir_open(dir, 0, NULL))
	    == NULL)
		return;
	while ((name = g_dir_read_name(d)) != NULL) {
		char *path = g_build_filename(dir, name, NULL);
		struct stat st;

		if (lstat(path, &st) == 0 && S_ISREG(st.st_mode) &&
		    now - st.st_mtime > JOURNAL_DAYS * 86400)
			(void)unlink(path);
		g_free(path);
	}
	g_dir_close(d);
}

/* journal_open - with a queue id: the record of which recipients of this
 * queue file already got their copy, so that a run that was killed after
 * a reinjection does not send that copy again when Postfix retries */
static ms_err
journal_open(job *j)
{
	GChecksum *sum = g_checksum_new(G_CHECKSUM_SHA256);
	char *dir = store_path(j->f.store, "spool", NULL), *sent, *name,
	    *path;
	GString *text;
	bool too_large;
	ms_err err = MS_OK;

	g_checksum_update(sum, (const guchar *)(opt_incoming ? "in\n" :
	    "out\n"), -1);
	g_checksum_update(sum, (const guchar *)j->sender, -1);
	for (int i = 0; i < j->nrcpts; i++) {
		g_checksum_update(sum, (const guchar *)"\n", 1);
		g_checksum_update(sum, (const guchar *)j->rcpts[i], -1);
	}
	name = g_strdup_printf("%s.%.32s", opt_queue_id,
	    g_checksum_get_string(sum));
	g_checksum_free(sum);
	sent = g_build_filename(dir, "sent", NULL);
	path = g_build_filename(sent, name, NULL);
	if ((mkdir(dir, 0700) != 0 && errno != EEXIST) ||
	    (mkdir(sent, 0700) != 0 && errno != EEXIST) ||
	    (j->journal_fd = open(path, O_RDWR | O_CREAT | O_APPEND |
	    O_CLOEXEC | O_NOFOLLOW, 0600)) < 0) {
		diag_error("cannot open the reinjection journal in %s: %s",
		    sent, strerror(errno));
		err = MS_TEMP;
	}
	if (err == MS_OK) {
		text = read_all(j->journal_fd, JOURNAL_MAX, &too_large);
		if (text == NULL) {
			diag_error("the reinjection journal %s is unreadable",
			    path);
			err = MS_TEMP;
		} else {
			char **lines = g_strsplit(text->str, "\n", -1);

			for (size_t i = 0; lines[i] != NULL; i++)
				if (lines[i][0] != '\0')
					g_hash_table_add(j->sent,
					    g_strdup(lines[i]));
			g_strfreev(lines);
			g_string_free(text, TRUE);
		}
		journal_sweep(sent);
	}
	g_free(path);
	g_free(name);
	g_free(sent);
	g_free(dir);
	return err;
}

/* journal_record - these recipients got their copy (a failure only
 * costs a duplicate if this run is killed before it exits) */
static void
journal_record(job *j, GPtrArray *rcpts)
{
	GString *text;

	if (j->journal_fd < 0)
		return;
	text = g_string_new(NULL);
	for (guint i = 0; i < rcpts->len; i++)
		g_string_append_printf(text, "%s\n",
		    (const char *)g_ptr_array_index(rcpts, i));
	if (write(j->journal_fd, text->str, text->len) != (ssize_t)text->len)
		diag_warn("cannot write the reinjection journal: %s",
		    strerror(errno));
	g_string_free(text, TRUE);
}

static ms_err reread(job *j, int fd);

/* remake - the message as it now stands in j->f.msg (edited in place),
 * with extra fields, written anew: it is the message from now on; with
 * extra fields it is read again, so that what is encrypted and what
 * goes out agree */
static ms_err
remake(job *j, const char *extra)
{
	ms_output *out = NULL;
	ms_err err = output_open(j->f.store, &out);
	int fd = -1;

	if (err == MS_OK)
		err = msg_output_original(out, j->f.msg, extra);
	if (err == MS_OK && (fd = dup(output_fd(out))) < 0) {
		diag_error("cannot keep a temporary file: %s",
		    strerror(errno));
		err = MS_TEMP;
	}
	output_discard(out);
	if (err != MS_OK)
		return err;
	if (extra != NULL)
		return reread(j, fd);
	if (j->rewritten_fd >= 0)
		close(j->rewritten_fd);
	j->rewritten_fd = fd;
	j->in_fd = fd;
	return MS_OK;
}

/* route - decide every recipient's method and the sender's signing
 * (route-recipient(1), the same code in this process) and group the
 * recipients; refused recipients make the whole message a refusal */
static ms_err
route(job *j, GString *summary)
{
	route_triggers trig;
	ms_route *rt = NULL;
	route_sign sign = ROUTE_SIGN_NONE;
	GPtrArray *refused = g_ptr_array_new();
	ms_addr sender;
	bool have_sender = false, forced;
	char *fired;
	ms_err err = MS_OK;

	route_triggers_find(j->f.settings, j->f.msg, &trig);
	fired = route_triggers_field(&trig);
	forced = fired != NULL;
	if (fired != NULL)
		g_string_append_printf(summary, " trigger=%s", fired);
	g_free(fired);
	/* the triggers must not reach the recipients */
	if (trig.subject || trig.header) {
		route_triggers_remove(j->f.msg, &trig);
		err = remake(j, NULL);
	}
	route_triggers_clear(&trig);
	if (err == MS_OK)
		err = route_open(j->f.store, &rt);
	/* the signer: the envelope sender; the null sender signs nothing */
	if (err == MS_OK && *j->sender != '\0') {
		const char *why;

		have_sender = addr_parse_str(j->sender, &sender, &why) == MS_OK;
	}
	if (err == MS_OK)
		err = route_signing(rt, have_sender ? &sender : NULL, NULL,
		    &sign);
	if (err == MS_OK && sign == ROUTE_SIGN_MISSING) {
		/* the sender is to sign but has no usable key: the copies
		 * go out unsigned, and the log says so */
		diag_warn("the sender has no usable signing key; sending "
		    "unsigned");
		sign = ROUTE_SIGN_NONE;
	}
	for (int i = 0; err == MS_OK && i < j->nrcpts; i++) {
		route_decision d;
		ms_addr addr;
		const char *why;
		char *fields;

		if (addr_parse_str(j->rcpts[i], &addr, &why) != MS_OK) {
			err = MS_INTERNAL;	/* checked in main */
			break;
		}
		err = route_decide(rt, &addr, forced, NULL, &d);
		addr_clear(&addr);
		if (err != MS_OK)
			break;
		if (d.method == ROUTE_REJECT) {
			g_ptr_array_add(refused, (gpointer)j->rcpts[i]);
			route_decision_clear(&d);
			continue;
		}
		/* a PDF's password belongs to one recipient: one copy
		 * each */
		fields = d.domain_key ? g_strdup_printf("key=domain fpr=%s",
		    d.fingerprint) : d.method == ROUTE_PDF ?
		    g_strdup_printf("rcpt=%d", i) : g_strdup("");
		add_to_group(j, route_method_name(d.method),
		    route_sign_name(sign) != NULL ? route_sign_name(sign) :
		    "none", fields, j->rcpts[i]);
		g_free(fields);
		route_decision_clear(&d);
	}
	if (err == MS_OK && refused->len > 0) {
		GString *who = g_string_new(NULL);

		for (guint i = 0; i < refused->len && i < 5; i++)
			diag_list_append(who, g_ptr_array_index(refused, i));
		if (refused->len > 5)
			g_string_append(who, ", ...");
		err = filter_refuse("5.7.1", "encryption is required for %s "
		    "and no certificate or key is available", who->str);
		g_string_free(who, TRUE);
	}
	if (have_sender)
		addr_clear(&sender);
	route_free(rt);
	g_ptr_array_free(refused, TRUE);
	return err;
}

/* signed_variant - the message signed by the sender with method (made
 * once per method) */
static ms_err
signed_variant(job *j, const char *method, int *fd)
{
	int which = strcmp(method, "smime") == 0 ? 0 : 1;
	const char *args[] = { "-f", j->sender, NULL };
	ms_err err;

	if (j->signed_fd[which] >= 0) {
		*fd = j->signed_fd[which];
		return MS_OK;
	}
	err = step(which == 0 ? "smime-sign" : "pgp-sign", args, NULL,
	    j->in_fd, &j->signed_fd[which]);
	*fd = j->signed_fd[which];
	return err;
}

/* smime_copy - a group's S/MIME copy, made here with smime-enc's own
 * code (smenc.h); with key=domain fpr=FPR the domain certificate from
 * the store is added and covers the group */
static ms_err
smime_copy(job *j, group *g, int base)
{
	const char *fpr = strstr(g->fields, "fpr=");
	const char *files[2] = { NULL, NULL };
	char *path = NULL;
	ms_message *signed_msg = NULL;
	ms_message *msg = j->f.msg;
	STACK_OF(X509) *certs = NULL;
	GString *uncovered = g_string_new(NULL);
	ms_output *out = NULL;
	msg_problem problem;
	bool all_gcm;
	ms_err err = MS_OK;

	if (strstr(g->fields, "key=domain") != NULL && fpr != NULL) {
		char *name = g_strndup(fpr + 4, strcspn(fpr + 4, " "));

		if (strlen(name) != 64 ||
		    strspn(name, "0123456789abcdef") != 64) {
			diag_error("a malformed domain certificate fingerprint");
			g_free(name);
			g_string_free(uncovered, TRUE);
			return MS_INTERNAL;
		}
		path = g_strdup_printf("%s/certs/%s.pem",
		    store_root(j->f.store), name);
		files[0] = path;
		g_free(name);
	}
	if (base != j->in_fd) {
		/* a signed copy: encrypt what the signer wrote */
		if (lseek(base, 0, SEEK_SET) != 0)
			err = MS_TEMP;
		if (err == MS_OK)
			err = msg_read_fd_mode(base, MSG_READ_HEADERS,
			    &signed_msg, &problem);
		if (err != MS_OK)
			diag_error("cannot read the signed copy again");
		msg = signed_msg;
	}
	if (err == MS_OK && msg_root_encrypted(msg)) {
		/* as smime-enc: what is encrypted already stays as it is */
		diag_info("already encrypted at the root: passed on unchanged");
		g->out_fd = base;
		g->borrowed = true;
		goto done;
	}
	if (err == MS_OK)
		err = output_open(j->f.store, &out);
	if (err == MS_OK) {
		certs = sk_X509_new_null();
		g_ptr_array_add(g->rcpts, NULL);
		err = smenc_collect(&j->f, (const char *const *)g->rcpts->pdata,
		    files, certs, uncovered, &all_gcm);
		g_ptr_array_remove_index(g->rcpts, g->rcpts->len - 1);
	}
	if (err == MS_OK && uncovered->len > 0)
		/* ENC-1: never plaintext, never a partial set */
		err = filter_refuse("5.7.1", "no usable S/MIME certificate "
		    "for: %s", uncovered->str);
	if (err == MS_OK)
		err = smenc_write(msg, certs, all_gcm ? EVP_aes_256_gcm() :
		    EVP_aes_256_cbc(), false, out);
	if (err == MS_OK) {
		g->out_fd = dup(output_fd(out));
		if (g->out_fd < 0) {
			diag_error("cannot keep a temporary file: %s",
			    strerror(errno));
			err = MS_TEMP;
		}
	}
done:
	output_discard(out);
	sk_X509_pop_free(certs, X509_free);
	g_string_free(uncovered, TRUE);
	if (signed_msg != NULL)
		msg_free(signed_msg);
	g_free(path);
	return err;
}

/* private_dir - the run's own directory under $TMPDIR or /tmp, made on
 * first need and removed at the end */
static const char *
private_dir(job *j)
{
	const char *tmp = getenv("TMPDIR");

	if (j->private_dir != NULL)
		return j->private_dir;
	j->private_dir = g_build_filename(tmp != NULL && *tmp == '/' ? tmp :
	    "/tmp", "mailseal-filter.XXXXXX", NULL);
	if (mkdtemp(j->private_dir) == NULL) {
		diag_error("cannot create a private directory: %s",
		    strerror(errno));
		g_free(j->private_dir);
		j->private_dir = NULL;
	}
	return j->private_dir;
}

/* pdf_copy - pdfwrap(1) for one recipient; a password the sender must
 * pass on comes in a notice file, sent to the sender first */
static ms_err
pdf_copy(job *j, group *g, int base)
{
	const char *args[9];
	const char *dir = private_dir(j);
	int n = 0;

	if (dir == NULL)
		return MS_TEMP;
	g->notice = g_strdup_printf("%s/notice-%u", dir, g->rcpts->len +
	    (unsigned)g_random_int_range(0, 1 << 30));
	g->notice_slot = diag_cleanup_register(g->notice);
	args[n++] = "-f";
	args[n++] = j->sender;
	if (opt_queue_id != NULL) {
		args[n++] = "-q";
		args[n++] = opt_queue_id;
	}
	args[n++] = "--sender-notice";
	args[n++] = g->notice;
	args[n] = NULL;
	return step("pdfwrap", args, g->rcpts, base, &g->out_fd);
}

/* build - every group's variant, before anything is reinjected */
static ms_err
build(job *j)
{
	ms_err err = MS_OK;

	for (guint i = 0; err == MS_OK && i < j->groups->len; i++) {
		group *g = g_ptr_array_index(j->groups, i);
		int base = j->in_fd;

		if (strcmp(g->sign, "none") != 0)
			err = signed_variant(j, g->sign, &base);
		if (err != MS_OK)
			break;
		if (strcmp(g->method, "plain") == 0) {
			g->out_fd = base;
			g->borrowed = true;
		} else if (strcmp(g->method, "smime") == 0)
			err = smime_copy(j, g, base);
		else if (strcmp(g->method, "pgp") == 0)
			err = step("pgp-enc", NULL, g->rcpts, base,
			    &g->out_fd);
		else if (strcmp(g->method, "pdf") == 0)
			err = pdf_copy(j, g, base);
		else {
			diag_error("the %s method has no filter installed",
			    g->method);
			err = MS_CONFIG;
		}
	}
	return err;
}

/* reinject_sendmail - CMD [-R hdrs] -f SENDER -- RCPT... < fd */
static ms_err
reinject_sendmail(const job *j, const char *from, int fd, GPtrArray *rcpts)
{
	char **cmd = run_reinject_command(j->f.settings);
	GPtrArray *argv;
	GString *errtext = NULL;
	int status;
	ms_err err;

	if (cmd == NULL)
		return MS_CONFIG;
	argv = g_ptr_array_new();
	for (size_t i = 0; cmd[i] != NULL; i++)
		g_ptr_array_add(argv, cmd[i]);
	if (opt_incoming) {
		/* REL-8: a later bounce of decrypted mail carries headers
		 * only */
		g_ptr_array_add(argv, "-R");
		g_ptr_array_add(argv, "hdrs");
	}
	g_ptr_array_add(argv, "-f");
	g_ptr_array_add(argv, (gpointer)from);
	g_ptr_array_add(argv, "--");
	for (guint i = 0; i < rcpts->len; i++)
		g_ptr_array_add(argv, g_ptr_array_index(rcpts, i));
	g_ptr_array_add(argv, NULL);
	/* tied: if we are killed, the command dies too, before its copy
	 * can be queued, rather than queue one that the retry sends again */
	err = run_program_tied((char *const *)argv->pdata, fd, -1, &status,
	    &errtext);
	if (err == MS_OK && status != 0) {
		diag_error("reinjection failed (status %d)", status);
		err = MS_TEMP;
	}
	if (errtext != NULL) {
		if (err != MS_OK)
			relay_errtext(errtext);
		g_string_free(errtext, TRUE);
	}
	g_ptr_array_free(argv, TRUE);
	g_strfreev(cmd);
	return err;
}

/* reinject_from - the copy in fd from envelope sender from, with the
 * loop marker (REL-7) in front */
static ms_err
reinject_from(const job *j, const char *from, int fd, GPtrArray *rcpts)
{
	const char *smtp = settings_get(j->f.settings, "reinject-smtp");
	int marked = run_memfile("mailseal-copy");
	size_t n = strlen(j->marker);
	ms_err err;

	if (marked < 0) {
		diag_error("cannot create a temporary file: %s",
		    strerror(errno));
		return MS_TEMP;
	}
	if (write(marked, j->marker, n) != (ssize_t)n) {
		diag_error("cannot write a temporary file: %s",
		    strerror(errno));
		close(marked);
		return MS_TEMP;
	}
	err = run_copy_fd(fd, marked);
	if (err == MS_OK && smtp != NULL && *smtp != '\0')
		err = smtp_send(smtp, from, rcpts, marked, 120);
	else if (err == MS_OK)
		err = reinject_sendmail(j, from, marked, rcpts);
	close(marked);
	return err;
}

/* reinject - a copy, from the message's own envelope sender */
static ms_err
reinject(const job *j, int fd, GPtrArray *rcpts)
{
	return reinject_from(j, j->sender, fd, rcpts);
}

/* notices - the PDF password notices go to the sender before the PDFs
 * go out, from the null sender (no bounce loops); the null sender itself
 * gets none, which the log says */
static ms_err
notices(job *j, GString *summary)
{
	ms_err err = MS_OK;

	for (guint i = 0; err == MS_OK && i < j->groups->len; i++) {
		group *g = g_ptr_array_index(j->groups, i);
		GPtrArray *to;
		int fd;

		if (g->notice == NULL ||
		    (fd = open(g->notice, O_RDONLY | O_CLOEXEC)) < 0)
			continue;	/* static passwords need no notice */
		if (*j->sender == '\0') {
			diag_warn("a PDF password notice has no sender to go "
			    "to");
			close(fd);
			continue;
		}
		to = g_ptr_array_new();
		g_ptr_array_add(to, (gpointer)j->sender);
		err = reinject_from(j, "", fd, to);
		g_ptr_array_free(to, TRUE);
		close(fd);
		if (err == MS_OK)
			g_string_append(summary, " pdf-notice");
	}
	return err;
}

/* reread - the message in fd is the message from now on */
static ms_err
reread(job *j, int fd)
{
	ms_message *m = NULL;
	msg_problem problem;
	ms_err err;

	if (lseek(fd, 0, SEEK_SET) != 0) {
		diag_error("cannot rewind a temporary file: %s",
		    strerror(errno));
		return MS_TEMP;
	}
	err = msg_read_fd_mode(fd, MSG_READ_HEADERS, &m, &problem);
	if (err != MS_OK) {
		diag_error("cannot read the message again: %s",
		    msg_problem_text(problem));
		return err == MS_DATA ? MS_INTERNAL : err;
	}
	msg_free(j->f.msg);
	j->f.msg = m;
	if (j->rewritten_fd >= 0 && j->rewritten_fd != fd)
		close(j->rewritten_fd);
	j->rewritten_fd = fd;
	j->in_fd = fd;
	return MS_OK;
}

/* dlp - dlp-scan(1), when it is installed next to us and the global dlp
 * setting is on: a block is the message's refusal (its 5.7.1 line
 * first), a quarantine ends the run with nothing sent (*held), and the
 * verdict field is read by the routing (must-encrypt) */
static ms_err
dlp(job *j, GString *summary, bool *held)
{
	const char *args[] = { "-f", j->sender, NULL };
	GPtrArray *rcpts;
	char *path = program("dlp-scan"), **verdict;
	int fd = -1;
	ms_err err;

	*held = false;
	if (path == NULL || access(path, X_OK) != 0 ||
	    !settings_get_bool(j->f.settings, "dlp")) {
		g_free(path);
		return MS_OK;
	}
	g_free(path);
	rcpts = g_ptr_array_new_with_free_func(g_free);
	for (int i = 0; i < j->nrcpts; i++)
		g_ptr_array_add(rcpts, g_strdup(j->rcpts[i]));
	err = step("dlp-scan", args, rcpts, j->in_fd, &fd);
	g_ptr_array_free(rcpts, TRUE);
	if (err == MS_POLICY)
		g_string_append(summary, " dlp=block");
	if (err != MS_OK)
		return err;
	err = reread(j, fd);
	if (err != MS_OK) {
		close(fd);
		return err;
	}
	j->dlp_ran = true;
	verdict = msg_header_texts(j->f.msg, "X-Mailseal-DLP");
	if (verdict[0] == NULL) {
		diag_error("dlp-scan wrote no verdict");
		err = MS_INTERNAL;
	} else {
		size_t n = strcspn(verdict[0], ";");

		g_string_append_printf(summary, " dlp=%.*s", (int)n,
		    verdict[0]);
		if (n == 10 && strncmp(verdict[0], "quarantine", 10) == 0)
			*held = true;
	}
	g_strfreev(verdict);
	return err;
}

/* unmark - the copies carry a DLP verdict other than pass as its action
 * word only ("X-Mailseal-DLP: warn"): which rules fired stays in the
 * log */
static ms_err
unmark(job *j)
{
	char **verdict = msg_header_texts(j->f.msg, "X-Mailseal-DLP");
	char *extra = NULL;
	ms_err err;

	if (verdict[0] != NULL) {
		size_t n = strcspn(verdict[0], "; \t");

		/* one of dlp-scan's words, warn or must-encrypt; a pass
		 * goes unmarked */
		if (n > 0 && n < 32 && strspn(verdict[0],
		    "abcdefghijklmnopqrstuvwxyz-") == n &&
		    strncmp(verdict[0], "pass", n) != 0)
			extra = g_strdup_printf("X-Mailseal-DLP: %.*s\n",
			    (int)n, verdict[0]);
	}
	g_strfreev(verdict);
	msg_strip_status_headers(j->f.msg);
	err = remake(j, extra);
	g_free(extra);
	return err;
}

/* outgoing - scan, route, build every variant, then reinject them all */
static ms_err
outgoing(job *j, GString *summary)
{
	bool held = false;
	ms_err err = dlp(j, summary, &held);
	guint sent = 0;

	if (err != MS_OK || held)
		return err;	/* a quarantined message is not sent */
	err = route(j, summary);
	if (err == MS_OK && j->dlp_ran)
		err = unmark(j);
	if (err == MS_OK)
		err = build(j);
	if (err == MS_OK)
		err = notices(j, summary);
	for (guint i = 0; err == MS_OK && i < j->groups->len; i++) {
		group *g = g_ptr_array_index(j->groups, i);

		err = reinject(j, g->out_fd, g->rcpts);
		if (err == MS_OK) {
			journal_record(j, g->rcpts);
			sent++;
			g_string_append_printf(summary, " %s%s%s=%u",
			    g->method, strcmp(g->sign, "none") ? "+sign-" :
			    "", strcmp(g->sign, "none") ? g->sign : "",
			    g->rcpts->len);
		}
	}
	/* REL-5: after a reinjection, a later failure defers (a duplicate
	 * rather than a bounce of mail already sent) */
	if (err != MS_OK && sent > 0)
		err = MS_TEMP;
	return err;
}

/* incoming - decrypt and verify, by what the root of the message is */
static ms_err
incoming(job *j, GString *summary)
{
	static const char *const after_dec[] = { "--decrypted", NULL };
	GPtrArray *all = g_ptr_array_new_with_free_func(g_free);
	const char *dec = NULL, *ver = "smime-verify";
	int mid = -1, out = -1;
	ms_err err = MS_OK;

	switch (msg_root_kind(j->f.msg)) {
	case MSG_KIND_SMIME_ENVELOPED:
	case MSG_KIND_SMIME_PKCS7:
		dec = "smime-dec";
		break;
	case MSG_KIND_PGP_ENCRYPTED:
		dec = "pgp-dec";
		ver = "pgp-verify";
		break;
	case MSG_KIND_PGP_SIGNED:
		ver = "pgp-verify";
		break;
	case MSG_KIND_PGP_INLINE_ENCRYPTED:
		dec = "pgp-dec";
		ver = "pgp-verify";
		break;
	case MSG_KIND_PGP_INLINE_SIGNED:
		ver = "pgp-verify";
		break;
	default:
		break;
	}
	if (dec != NULL)
		err = step(dec, NULL, NULL, j->in_fd, &mid);
	if (err == MS_OK)
		err = step(ver, dec != NULL ? after_dec : NULL, NULL,
		    dec != NULL ? mid : j->in_fd, &out);
	for (int i = 0; i < j->nrcpts; i++)
		g_ptr_array_add(all, g_strdup(j->rcpts[i]));
	if (err == MS_OK && j->nrcpts == 0)
		/* a filter for procmail or Sieve: the result on stdout */
		err = run_copy_fd(out, STDOUT_FILENO);
	else if (err == MS_OK)
		err = reinject(j, out, all);
	if (err == MS_OK)
		journal_record(j, all);
	if (err == MS_OK)
		g_string_append_printf(summary, " %s%s%s=%d",
		    dec != NULL ? dec : "", dec != NULL ? "+" : "", ver,
		    j->nrcpts);
	if (mid >= 0)
		close(mid);
	if (out >= 0)
		close(out);
	g_ptr_array_free(all, TRUE);
	return err;
}

/* queue_id_ok - Postfix queue ids are letters and digits */
static bool
queue_id_ok(const char *id)
{
	size_t n = strlen(id);

	if (n == 0 || n > 32)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!g_ascii_isalnum(id[i]))
			return false;
	return true;
}

int
main(int argc, char **argv)
{
	static const ms_program prog = { usage, options };
	poptContext ctx = ritual_begin(argc, argv, &prog);
	const char **args = poptGetArgs(ctx);
	GString *summary = g_string_new(NULL);
	ms_output *in = NULL;
	job j;
	ms_err err;
	int n = 0;

	memset(&j, 0, sizeof j);
	j.signed_fd[0] = j.signed_fd[1] = -1;
	j.rewritten_fd = -1;
	j.journal_fd = -1;
	while (args != NULL && args[n] != NULL)
		n++;
	if (opt_incoming && n == 0 && opt_sender == NULL &&
	    opt_queue_id == NULL) {
		/* mailseal-filter --incoming as a plain filter */
		opt_sender = "";
	} else {
		if (opt_sender == NULL)
			ritual_usage_error("-f SENDER is required (empty for "
			    "<>)");
		if (n == 0)
			ritual_usage_error("no RECIPIENT");
	}
	if (opt_queue_id != NULL && !queue_id_ok(opt_queue_id))
		ritual_usage_error("a QUEUEID is letters and digits");
	/* what Postfix logs and puts in a DSN: our own lines only */
	diag_set_quiet(true);
	j.sender = opt_sender;
	j.rcpts = args;
	j.nrcpts = n;
	j.groups = g_ptr_array_new_with_free_func(group_free);
	err = filter_open(&j.f, MSG_READ_HEADERS);
	if (err != MS_OK)
		goto out;
	if (n > RECIPIENTS_MAX) {
		err = filter_refuse("5.5.3", "too many recipients");
		goto out;
	}
	/* addresses come from strangers: each must be one mailbox, or the
	 * message is refused before any program sees it */
	for (int i = 0; i < n; i++) {
		ms_addr a;
		const char *why;

		if (addr_parse_str(args[i], &a, &why) != MS_OK) {
			err = filter_refuse("5.1.3",
			    "bad recipient address syntax");
			goto out;
		}
		addr_clear(&a);
	}
	if (*opt_sender != '\0') {
		ms_addr a;
		const char *why;

		if (addr_parse_str(opt_sender, &a, &why) != MS_OK) {
			err = filter_refuse("5.1.7",
			    "bad sender address syntax");
			goto out;
		}
		addr_clear(&a);
	}
	/* with a queue id, recipients served by an earlier run of the same
	 * queue file (one killed after reinjecting) are not served again */
	if (opt_queue_id != NULL) {
		GPtrArray *left = g_ptr_array_new();

		j.sent = g_hash_table_new_full(g_str_hash, g_str_equal, g_free,
		    NULL);
		err = journal_open(&j);
		if (err != MS_OK) {
			g_ptr_array_free(left, TRUE);
			goto out;
		}
		for (int i = 0; i < n; i++)
			if (!g_hash_table_contains(j.sent, args[i]))
				g_ptr_array_add(left, (gpointer)args[i]);
		if (left->len == 0) {
			g_ptr_array_free(left, TRUE);
			g_string_append(summary, " already-sent");
			goto out;
		}
		if ((int)left->len < n)
			g_string_append_printf(summary, " already-sent=%d",
			    n - (int)left->len);
		j.nrcpts = (int)left->len;
		g_ptr_array_add(left, NULL);
		j.rcpts = (const char **)g_ptr_array_free(left, FALSE);
		j.rcpts_owned = true;
	}
	/* REL-7: a message this gateway reinjected minutes ago is back: a
	 * content filter is set where reinjected mail passes again */
	if (n > 0) {
		unsigned char key[MARKER_KEY_LEN];
		long age = 0;

		err = instance_key(j.f.store, key);
		if (err != MS_OK)
			goto out;
		if (marker_loop(key, j.f.msg, time(NULL), &age)) {
			sodium_memzero(key, sizeof key);
			diag_status("4.4.6 mail loop: this gateway reinjected "
			    "the message %ld seconds ago", age);
			g_string_append(summary, " loop");
			err = MS_TEMP;
			goto out;
		}
		j.marker = marker_line(key, j.f.msg, time(NULL));
		sodium_memzero(key, sizeof key);
	}
	/* DEC-8: our status fields are written only by our own code */
	msg_strip_status_headers(j.f.msg);
	err = output_open(j.f.store, &in);
	if (err == MS_OK)
		err = msg_output_original(in, j.f.msg, NULL);
	if (err != MS_OK)
		goto out;
	j.in_fd = output_fd(in);
	err = opt_incoming ? incoming(&j, summary) : outgoing(&j, summary);
out:
	diag_info("queue_id=%s recipients=%d %s%s",
	    opt_queue_id != NULL ? opt_queue_id : "-", n,
	    err == MS_OK ? "sent" : ms_err_name(err), summary->str);
	g_string_free(summary, TRUE);
	for (int i = 0; i < 2; i++)
		if (j.signed_fd[i] >= 0)
			close(j.signed_fd[i]);
	if (j.rewritten_fd >= 0)
		close(j.rewritten_fd);
	if (j.journal_fd >= 0)
		close(j.journal_fd);
	if (j.sent != NULL)
		g_hash_table_destroy(j.sent);
	if (j.rcpts_owned)
		g_free(j.rcpts);
	g_free(j.marker);
	if (j.groups != NULL)
		g_ptr_array_free(j.groups, TRUE);
	if (j.private_dir != NULL) {
		(void)rmdir(j.private_dir);
		g_free(j.private_dir);
	}
	if (in != NULL)
		output_discard(in);
	if (j.f.store != NULL)
		filter_close(&j.f);
	ritual_end(ctx, err);
}
