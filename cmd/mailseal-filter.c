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
#include "notice.h"
#include "pgenc.h"
#include "pgp.h"
#include "pgsign.h"
#include "quarantine.h"
#include "reinject.h"
#include "ritual.h"
#include "route.h"
#include "run.h"
#include "gateway.h"
#include "settings.h"
#include "smenc.h"
#include "smsign.h"
#include "unseal.h"
#include "mslimits.h"

#include <errno.h>
#include <openssl/crypto.h>
#include <sodium.h>
#include <sys/stat.h>
#include <time.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char usage[] =
"usage: mailseal-filter [--store DIR] [--incoming] [-q QUEUEID]\n"
"           [--client-address ADDR] [--sasl-username NAME] -f SENDER\n"
"           -- RECIPIENT ...\n"
"       mailseal-filter [--store DIR] --incoming\n"
"       mailseal-filter [--store DIR] --release ID\n"
"       mailseal-filter -h | --version\n";

static char *opt_sender, *opt_queue_id, *opt_release, *opt_client;
static char *opt_sasl;
static int opt_incoming;

static struct poptOption options[] = {
	{ NULL, 'f', POPT_ARG_STRING, &opt_sender, 0, NULL, NULL },
	{ NULL, 'q', POPT_ARG_STRING, &opt_queue_id, 0, NULL, NULL },
	{ "incoming", '\0', POPT_ARG_NONE, &opt_incoming, 0, NULL, NULL },
	{ "release", '\0', POPT_ARG_STRING, &opt_release, 0, NULL, NULL },
	{ "client-address", '\0', POPT_ARG_STRING, &opt_client, 0, NULL,
	  NULL },
	{ "sasl-username", '\0', POPT_ARG_STRING, &opt_sasl, 0, NULL, NULL },
	POPT_TABLEEND
};

/* one group of recipients served by the same variant */
typedef struct group {
	route_method method;
	route_sign sign;	/* NONE, SMIME or PGP */
	route_domain_key key;	/* smime, pgp: a domain certificate or key */
	int own_rcpt;		/* a copy of its own (pdf, a blind recipient):
				 * the recipient's index, else -1 */
	GPtrArray *rcpts;	/* char *, as given on the command line */
	int out_fd;		/* the built variant, or -1 */
	bool borrowed;		/* out_fd belongs to someone else */
	int notice_fd;		/* pdf: the sender notice, a memory file
				 * (never a file on disk), or -1 */
} group;

/* what the log line says of one recipient */
typedef struct rcpt_log {
	const char *method;	/* route_method_name, or NULL: not routed */
	const char *sign;	/* route_sign_name, or NULL */
	const char *key;	/* "own", "domain", or NULL: none */
	char *fingerprints;	/* of those certificates or keys: "a,b";
				 * incoming: of the key that decrypted */
	const char *decrypt;	/* incoming: "smime", "pgp", "none",
				 * "failed", "not-for-recipient"; NULL */
	const char *verify;	/* incoming: sig_status_word */
} rcpt_log;

typedef struct job {
	ms_filter f;
	const char *sender;	/* "" for the null sender */
	const char **rcpts;
	int nrcpts;
	int in_fd;		/* --incoming: the message, status fields
				 * stripped */
	gw_context ctx;		/* the outgoing path's context */
	ms_trust *trust;	/* loaded once, for every step */
	GPtrArray *groups;
	GString *extra;		/* our status fields for every copy */
	int variant_fd[3];	/* the message unsigned, signed with
				 * S/MIME, with OpenPGP; -1 until made */
	smsign_entity smime_signed;	/* the S/MIME signed entity */
	smsign_entity pgp_signed;	/* the OpenPGP signed entity */
	gpgme_ctx_t pgp;	/* the keyring, opened on first need */
	int journal_fd;		/* recipients already served, or -1 */
	GHashTable *sent;	/* recipients the journal names */
	bool rcpts_owned;	/* rcpts is our array, not argv's */
	char *marker;		/* the X-Mailseal-Processed field line */
	rcpt_log *log;		/* nrcpts: what the log says of each */
	bool held;		/* the DLP scan held the message */
	unsigned notices;	/* PDF password notices sent */
} job;

#define JOURNAL_DAYS 7

/* the log line: a value from the message (an address, the Message-ID)
 * is cut after LOG_VALUE_MAX bytes; a line grows to about LOG_LINE_MAX
 * bytes before the recipients go on in the next (a syslog relay may cut
 * a longer line) */
#define LOG_VALUE_MAX 256
#define LOG_LINE_MAX 960

static void
group_free(gpointer p)
{
	group *g = p;

	g_free(g->key.fingerprint);
	g_ptr_array_free(g->rcpts, TRUE);
	if (g->notice_fd >= 0)
		close(g->notice_fd);
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

/* step - run the sibling NAME with args, then "--" and rcpts when given,
 * reading in_fd; on success *out_fd holds its complete, non-empty output.
 * The queue id goes along (-q), so that its syslog lines carry it too */
static ms_err
step(const char *name, const char *const *args, GPtrArray *rcpts,
    int in_fd, int fd3, int *out_fd)
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
	if (opt_queue_id != NULL) {
		g_ptr_array_add(argv, g_strdup("-q"));
		g_ptr_array_add(argv, g_strdup(opt_queue_id));
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
	err = run_program_fd3((char *const *)argv->pdata, in_fd, fd, fd3,
	    &status, &errtext);
	g_ptr_array_free(argv, TRUE);
	if (err == MS_OK) {
		err = run_status_err(status);
		if (err == MS_OK && run_file_size(fd) <= 0) {
			/* fail closed: empty output is a failure */
			diag_error("%s wrote nothing", name);
			err = MS_INTERNAL;
		} else if (err != MS_OK) {
			run_relay_errtext(errtext);
			if (err != MS_POLICY && err != MS_DATA)
				diag_error("%s failed (status %d)", name,
				    status);
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

/* add_to_group - file rcpt with the group of the same variant */
static void
add_to_group(job *j, const route_decision *d, route_sign sign, int own_rcpt,
    const char *rcpt)
{
	group *g = NULL;

	for (guint i = 0; i < j->groups->len; i++) {
		group *c = g_ptr_array_index(j->groups, i);

		if (c->method == d->method && c->sign == sign &&
		    c->key.used == d->domain_key &&
		    g_strcmp0(c->key.fingerprint, d->domain_key ?
		    d->fingerprint : NULL) == 0 && c->own_rcpt == own_rcpt) {
			g = c;
			break;
		}
	}
	if (g == NULL) {
		g = g_new0(group, 1);
		g->method = d->method;
		g->sign = sign;
		g->key.used = d->domain_key;
		g->key.fingerprint = d->domain_key ?
		    g_strdup(d->fingerprint) : NULL;
		g->own_rcpt = own_rcpt;
		g->rcpts = g_ptr_array_new_with_free_func(g_free);
		g->out_fd = -1;
		g->notice_fd = -1;
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
		text = read_all(j->journal_fd, FILTER_JOURNAL_MAX, &too_large);
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

/* log_route - what the log says of a recipient routed as d */
static void
log_route(rcpt_log *log, const route_decision *d, route_sign sign)
{
	log->method = route_method_name(d->method);
	log->sign = d->method != ROUTE_REJECT ? route_sign_name(sign) : NULL;
	if (d->method != ROUTE_SMIME && d->method != ROUTE_PGP)
		return;
	log->key = d->domain_key ? "domain" : "own";
	log->fingerprints = g_strdup(d->domain_key ? d->fingerprint :
	    d->own_keys);
}

/* route - decide every recipient's method and the sender's signing
 * (route-recipient(1), the same code in this process) and group the
 * recipients; refused recipients make the whole message a refusal */
static ms_err
route(job *j, bool dlp_must_encrypt, GString *summary)
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
	/* the DLP verdict comes as a value, not as a field to read back */
	trig.dlp = dlp_must_encrypt;
	fired = route_triggers_field(&trig);
	forced = fired != NULL;
	if (fired != NULL)
		g_string_append_printf(summary, " trigger=%s", fired);
	g_free(fired);
	/* the triggers must not reach the recipients: every copy is
	 * written from the message as edited here */
	if (trig.subject || trig.header)
		route_triggers_remove(j->f.msg, &trig);
	route_triggers_clear(&trig);
	err = route_open(j->f.store, j->f.settings, j->trust, &rt);
	/* the signer: the envelope sender; the null sender signs nothing */
	if (err == MS_OK && *j->sender != '\0') {
		const char *why;

		have_sender = addr_parse_str(j->sender, &sender, &why) == MS_OK;
	}
	/* only a sender something vouches for signs (no signing oracle) */
	if (err == MS_OK && j->ctx.sender_auth != GW_AUTH_NONE)
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
		bool blind, internal;
		ms_addr addr;
		const char *why;

		if (addr_parse_str(j->rcpts[i], &addr, &why) != MS_OK) {
			err = MS_INTERNAL;	/* checked in main */
			break;
		}
		err = route_decide(rt, &addr, forced, NULL, &d);
		blind = !msg_names_recipient(j->f.msg, &addr);
		internal = gw_internal_domain(j->f.settings, addr.domain) &&
		    !settings_get_bool(j->f.settings, "encrypt-internal");
		addr_clear(&addr);
		if (err != MS_OK)
			break;
		if (internal) {
			/* our own users get the message as it came */
			d.method = ROUTE_PLAIN;
			log_route(&j->log[i], &d, ROUTE_SIGN_NONE);
			add_to_group(j, &d, ROUTE_SIGN_NONE, -1, j->rcpts[i]);
			route_decision_clear(&d);
			continue;
		}
		log_route(&j->log[i], &d, sign);
		if (d.method == ROUTE_REJECT) {
			g_ptr_array_add(refused, (gpointer)j->rcpts[i]);
			route_decision_clear(&d);
			continue;
		}
		/* a PDF's password belongs to one recipient, and a blind
		 * (Bcc) recipient's certificate or key must not show in the
		 * others' copies: one copy each */
		add_to_group(j, &d, sign, d.method == ROUTE_PDF || (blind &&
		    (d.method == ROUTE_SMIME || d.method == ROUTE_PGP)) ? i :
		    -1, j->rcpts[i]);
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

/* outer_fields - the message's own fields and our status fields: what
 * every copy starts with (g_string_free) */
static GString *
outer_fields(const job *j, bool signed_copy)
{
	GString *outer = signed_copy ? smsign_outer_fields(j->f.msg) :
	    msg_outer_headers(j->f.msg);

	g_string_append_len(outer, j->extra->str, j->extra->len);
	return outer;
}

/* keep_output - the finished output's file, kept for reinjection */
static ms_err
keep_output(ms_output *out, int *fd)
{
	*fd = dup(output_fd(out));
	if (*fd < 0) {
		diag_error("cannot keep a temporary file: %s",
		    strerror(errno));
		return MS_TEMP;
	}
	return MS_OK;
}

/* signer_address - the envelope sender as the signer's address: checked
 * in main already, and the null sender signs nothing, so a failure here
 * is a bug (MS_INTERNAL) */
static ms_err
signer_address(const job *j, ms_addr *sender)
{
	const char *why;

	return addr_parse_str(j->sender, sender, &why) == MS_OK ? MS_OK :
	    MS_INTERNAL;
}

/* smime_signed - the message signed with the sender's S/MIME key, made
 * once, in this process */
static ms_err
smime_signed(job *j)
{
	smsign_signer signer;
	ms_addr sender;
	ms_err err;

	if (j->smime_signed.head != NULL)
		return MS_OK;
	if (signer_address(j, &sender) != MS_OK)
		return MS_INTERNAL;
	err = smsign_find_signer(j->f.store, j->trust, &sender, false,
	    &signer);
	if (err == MS_OK && signer.key == NULL)
		err = filter_refuse("5.7.1", "no S/MIME signing key for the "
		    "sender %s", sender.text);
	if (err == MS_OK)
		err = smsign_sign(j->f.msg, &signer, EVP_sha256(), false,
		    &j->smime_signed);
	smsign_signer_clear(&signer);
	addr_clear(&sender);
	return err;
}

/* pgp_context - the OpenPGP keyring, opened once for the run */
static ms_err
pgp_context(job *j)
{
	if (j->pgp != NULL)
		return MS_OK;
	return pgp_open(j->f.store, false, NULL, &j->pgp);
}

/* pgp_signed - the message signed with the sender's OpenPGP key as
 * PGP/MIME, made once, in this process on the message as parsed */
static ms_err
pgp_signed(job *j)
{
	ms_addr sender = { 0 };
	ms_err err;

	if (j->pgp_signed.head != NULL)
		return MS_OK;
	err = pgp_context(j);
	if (err == MS_OK)
		err = signer_address(j, &sender);
	if (err == MS_OK)
		err = pgsign_choose_signer(j->pgp, &sender);
	if (err == MS_NOTFOUND) {
		/* the routing found the key a moment ago: the keyring
		 * changed, or gpg ended before it listed the key (GPGME
		 * cannot tell), so try later rather than refuse */
		diag_error("the sender's OpenPGP signing key is no longer "
		    "found");
		err = MS_TEMP;
	}
	if (err == MS_OK)
		err = pgsign_sign(j->pgp, j->f.msg, false, &j->pgp_signed);
	addr_clear(&sender);
	return err;
}

/* signed_entity - the entity signed with sign, or NULL for none */
static const smsign_entity *
signed_entity(const job *j, route_sign sign)
{
	return sign == ROUTE_SIGN_SMIME ? &j->smime_signed :
	    sign == ROUTE_SIGN_PGP ? &j->pgp_signed : NULL;
}

/* write_variant - the whole message, unsigned or signed */
static ms_err
write_variant(job *j, route_sign sign, ms_output *out)
{
	const smsign_entity *entity = signed_entity(j, sign);
	GString *outer = outer_fields(j, entity != NULL);
	ms_err err = output_write(out, outer->str, outer->len);

	if (err == MS_OK && entity != NULL)
		err = output_write(out, entity->head->str, entity->head->len);
	if (err == MS_OK && entity != NULL)
		err = output_write(out, entity->body->data, entity->body->len);
	else if (err == MS_OK) {
		GString *content = msg_content_headers(j->f.msg);
		size_t body = msg_body_offset(j->f.msg);

		g_string_append_c(content, '\n');
		err = output_write(out, content->str, content->len);
		if (err == MS_OK)
			err = output_write_lf(out, j->f.msg->raw + body,
			    j->f.msg->raw_len - body);
		g_string_free(content, TRUE);
	}
	g_string_free(outer, TRUE);
	return err;
}

/* variant - the message as a file, unsigned or signed by the sender with
 * sign (made once each): for reinjection and the program that still runs
 * apart (pdfwrap) */
static ms_err
variant(job *j, route_sign sign, int *fd)
{
	int which = sign == ROUTE_SIGN_SMIME ? 1 : sign == ROUTE_SIGN_PGP ?
	    2 : 0;
	ms_output *out = NULL;
	ms_err err = MS_OK;

	if (j->variant_fd[which] >= 0) {
		*fd = j->variant_fd[which];
		return MS_OK;
	}
	if (sign == ROUTE_SIGN_SMIME)
		err = smime_signed(j);
	else if (sign == ROUTE_SIGN_PGP)
		err = pgp_signed(j);
	if (err == MS_OK)
		err = output_open(j->f.store, &out);
	if (err == MS_OK)
		err = write_variant(j, sign, out);
	if (err == MS_OK)
		err = keep_output(out, &j->variant_fd[which]);
	output_discard(out);
	*fd = j->variant_fd[which];
	return err;
}

/* smenc_write_body - the message's content fields and body encrypted,
 * behind outer */
static ms_err
smenc_write_body(job *j, const GString *outer, STACK_OF(X509) *certs,
    const EVP_CIPHER *cipher, ms_output *out)
{
	GString *content = msg_content_headers(j->f.msg);
	GByteArray *copy = NULL;
	size_t len;
	const guint8 *body = msg_original_body(j->f.msg, &len, &copy);
	ms_err err;

	/* the inner entity: the content header fields, an empty line, and
	 * the body as received, line ends LF */
	g_string_append_c(content, '\n');
	err = smenc_write_entity(outer, content->str, content->len,
	    (const char *)body, len, certs, cipher, false, out);
	if (copy != NULL)
		g_byte_array_free(copy, TRUE);
	g_string_free(content, TRUE);
	return err;
}

/* smime_copy - a group's S/MIME copy, encrypted here with smime-enc's own
 * code (smenc.h) from the message or its S/MIME signed entity as they are
 * held, without writing or reading either again; only an OpenPGP signed
 * copy (pgp-sign's output) is read back.  A domain certificate from the
 * store covers the group. */
static ms_err
smime_copy(job *j, group *g)
{
	ms_message *pgp_signed = NULL;
	STACK_OF(X509) *certs = NULL;
	GString *uncovered = g_string_new(NULL), *outer = NULL;
	ms_output *out = NULL;
	const EVP_CIPHER *cipher;
	msg_problem problem;
	bool all_gcm;
	int base;
	ms_err err = MS_OK;

	if (g->key.used) {
		/* the fingerprint names a file in the store: it must be
		 * one before it becomes a path */
		if (g->key.fingerprint == NULL ||
		    strlen(g->key.fingerprint) != 64 ||
		    strspn(g->key.fingerprint, "0123456789abcdef") != 64) {
			diag_error("a malformed domain certificate fingerprint");
			err = MS_INTERNAL;
			goto done;
		}
	}
	if (g->sign == ROUTE_SIGN_PGP) {
		err = variant(j, g->sign, &base);
		if (err == MS_OK && lseek(base, 0, SEEK_SET) != 0)
			err = MS_TEMP;
		if (err == MS_OK)
			err = msg_read_fd_mode(base, MSG_READ_HEADERS,
			    &pgp_signed, &problem);
		if (err != MS_OK) {
			diag_error("cannot read the signed copy again");
			goto done;
		}
	}
	if (msg_root_encrypted(pgp_signed != NULL ? pgp_signed : j->f.msg) &&
	    g->sign != ROUTE_SIGN_SMIME) {
		/* as smime-enc: what is encrypted already stays as it is */
		diag_info("already encrypted at the root: passed on unchanged");
		err = variant(j, g->sign, &g->out_fd);
		g->borrowed = true;
		goto done;
	}
	if (g->sign == ROUTE_SIGN_SMIME)
		err = smime_signed(j);
	if (err == MS_OK)
		err = output_open(j->f.store, &out);
	if (err == MS_OK) {
		certs = sk_X509_new_null();
		g_ptr_array_add(g->rcpts, NULL);
		err = smenc_collect_trusted(j->f.store, j->trust,
		    (const char *const *)g->rcpts->pdata, NULL,
		    g->key.used ? g->key.fingerprint : NULL, certs,
		    uncovered, &all_gcm);
		g_ptr_array_remove_index(g->rcpts, g->rcpts->len - 1);
	}
	if (err == MS_OK && uncovered->len > 0)
		/* ENC-1: never plaintext, never a partial set */
		err = filter_refuse("5.7.1", "no usable S/MIME certificate "
		    "for: %s", uncovered->str);
	if (err != MS_OK)
		goto done;
	cipher = all_gcm ? EVP_aes_256_gcm() : EVP_aes_256_cbc();
	if (pgp_signed != NULL)
		err = smenc_write(pgp_signed, certs, cipher, false, out);
	else if (g->sign == ROUTE_SIGN_SMIME) {
		outer = outer_fields(j, true);
		err = smenc_write_entity(outer, j->smime_signed.head->str,
		    j->smime_signed.head->len,
		    (const char *)j->smime_signed.body->data,
		    j->smime_signed.body->len, certs, cipher, false, out);
	} else {
		outer = outer_fields(j, false);
		err = smenc_write_body(j, outer, certs, cipher, out);
	}
	if (err == MS_OK)
		err = keep_output(out, &g->out_fd);
done:
	output_discard(out);
	sk_X509_pop_free(certs, X509_free);
	g_string_free(uncovered, TRUE);
	if (outer != NULL)
		g_string_free(outer, TRUE);
	if (pgp_signed != NULL)
		msg_free(pgp_signed);
	return err;
}

/* pgp_copy - a group's OpenPGP copy, encrypted here with pgp-enc's own
 * code (pgenc.h) from the message or its signed entity as they are held
 * in memory; PGP/INLINE, which rewrites every part, works on a parse of
 * the group's variant so that the message stays as it is for the other
 * groups.  The keys are found as pgp-enc finds them: the recipients' own
 * and their domains' pgp-domain-key. */
static ms_err
pgp_copy(job *j, group *g)
{
	const smsign_entity *entity = signed_entity(j, g->sign);
	GPtrArray *keys = g_ptr_array_new();
	GString *uncovered = g_string_new(NULL), *outer = NULL;
	ms_message *copy = NULL;
	ms_output *out = NULL;
	msg_problem problem;
	bool all_inline = false, hidden;
	int base;
	ms_err err;

	/* a copy to several keys names none of them */
	hidden = g->rcpts->len > 1 && !g->key.used &&
	    settings_get_bool(j->f.settings, "pgp-hide-recipients");
	err = pgp_context(j);
	if (err == MS_OK && g->sign == ROUTE_SIGN_PGP)
		err = pgp_signed(j);
	else if (err == MS_OK && g->sign == ROUTE_SIGN_SMIME)
		err = smime_signed(j);
	if (err != MS_OK)
		goto done;
	if (entity == NULL && msg_root_encrypted(j->f.msg)) {
		/* as pgp-enc: what is encrypted already stays as it is */
		diag_info("already encrypted at the root: passed on unchanged");
		err = variant(j, g->sign, &g->out_fd);
		g->borrowed = true;
		goto done;
	}
	g_ptr_array_add(g->rcpts, NULL);
	err = pgenc_collect(j->pgp, j->f.store,
	    (const char *const *)g->rcpts->pdata, keys, uncovered,
	    &all_inline);
	g_ptr_array_remove_index(g->rcpts, g->rcpts->len - 1);
	if (err == MS_OK && uncovered->len > 0)
		/* ENC-1: never plaintext, never a partial set */
		err = filter_refuse("5.7.1", "no usable OpenPGP key for: %s",
		    uncovered->str);
	if (err == MS_OK)
		err = output_open(j->f.store, &out);
	if (err == MS_OK && all_inline) {
		err = variant(j, g->sign, &base);
		if (err == MS_OK && lseek(base, 0, SEEK_SET) != 0)
			err = MS_TEMP;
		if (err == MS_OK)
			err = msg_read_fd_mode(base, MSG_READ_HEADERS, &copy,
			    &problem);
		if (err == MS_OK)
			err = pgenc_encrypt_inline(j->pgp, copy, keys, hidden,
			    out);
	} else if (err == MS_OK && entity != NULL) {
		outer = outer_fields(j, true);
		err = pgenc_encrypt_entity(j->pgp, outer, entity->head->str,
		    entity->head->len, (const char *)entity->body->data,
		    entity->body->len, keys, hidden, out);
	} else if (err == MS_OK) {
		GString *content = msg_content_headers(j->f.msg);
		GByteArray *lf = NULL;
		size_t len;
		const guint8 *body = msg_original_body(j->f.msg, &len, &lf);

		g_string_append_c(content, '\n');
		outer = outer_fields(j, false);
		err = pgenc_encrypt_entity(j->pgp, outer, content->str,
		    content->len, (const char *)body, len, keys, hidden, out);
		if (lf != NULL)
			g_byte_array_free(lf, TRUE);
		g_string_free(content, TRUE);
	}
	if (err == MS_OK)
		err = keep_output(out, &g->out_fd);
done:
	output_discard(out);
	pgp_keys_free(keys);
	g_string_free(uncovered, TRUE);
	if (outer != NULL)
		g_string_free(outer, TRUE);
	if (copy != NULL)
		msg_free(copy);
	return err;
}

/* pdf_copy - pdfwrap(1) for one recipient; a password the sender must
 * pass on comes in a notice, written by pdfwrap into a memory file it
 * gets as descriptor 3 (nothing on disk, whatever kills us), sent to the
 * sender first */
static ms_err
pdf_copy(job *j, group *g, int base)
{
	const char *args[7];
	int n = 0;

	g->notice_fd = run_memfile("mailseal-notice");
	if (g->notice_fd < 0) {
		diag_error("cannot create a temporary file: %s",
		    strerror(errno));
		return MS_TEMP;
	}
	args[n++] = "-f";
	args[n++] = j->sender;
	args[n++] = "--sender-notice-fd";
	args[n++] = "3";
	args[n] = NULL;
	return step("pdfwrap", args, g->rcpts, base, g->notice_fd,
	    &g->out_fd);
}

/* build - every group's variant, before anything is reinjected */
static ms_err
build(job *j)
{
	ms_err err = MS_OK;

	for (guint i = 0; err == MS_OK && i < j->groups->len; i++) {
		group *g = g_ptr_array_index(j->groups, i);
		int base = -1;

		switch (g->method) {
		case ROUTE_PLAIN:
			err = variant(j, g->sign, &g->out_fd);
			g->borrowed = true;
			break;
		case ROUTE_SMIME:
			err = smime_copy(j, g);
			break;
		case ROUTE_PGP:
			err = pgp_copy(j, g);
			break;
		case ROUTE_PDF:
			err = variant(j, g->sign, &base);
			if (err == MS_OK)
				err = pdf_copy(j, g, base);
			break;
		case ROUTE_WEBMAIL:
		case ROUTE_REJECT:
			diag_error("the %s method has no filter installed",
			    route_method_name(g->method));
			err = MS_CONFIG;
			break;
		}
	}
	return err;
}

/* reinject_from - the copy in fd from envelope sender from, with the
 * loop marker (REL-7) in front */
static ms_err
reinject_from(const job *j, const char *from, int fd, GPtrArray *rcpts)
{
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
	/* REL-8: a later bounce of decrypted mail carries headers only */
	if (err == MS_OK)
		err = reinject_send(j->f.settings, from, rcpts, marked,
		    REINJECT_TIED | REINJECT_RELAY_ERRORS |
		    (opt_incoming ? REINJECT_HDRS_ONLY : 0));
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
notices(job *j)
{
	ms_err err = MS_OK;

	for (guint i = 0; err == MS_OK && i < j->groups->len; i++) {
		group *g = g_ptr_array_index(j->groups, i);
		GPtrArray *to;

		if (g->notice_fd < 0 || run_file_size(g->notice_fd) <= 0)
			continue;	/* static passwords need no notice */
		if (*j->sender == '\0') {
			diag_warn("a PDF password notice has no sender to go "
			    "to");
			continue;
		}
		/* a password goes only to a sender something vouches for;
		 * refused before any copy goes out */
		if (j->ctx.sender_auth == GW_AUTH_NONE)
			return filter_refuse("5.7.1", "a PDF password cannot "
			    "be sent to a sender that is not authenticated");
		to = g_ptr_array_new();
		g_ptr_array_add(to, (gpointer)j->sender);
		err = reinject_from(j, "", g->notice_fd, to);
		g_ptr_array_free(to, TRUE);
		if (err == MS_OK)
			j->notices++;
	}
	return err;
}

/* dlp - the DLP verdict, in this process (gateway.h), when the global
 * dlp setting is on: a block is the message's refusal (its 5.7.1 line
 * first), a quarantine ends the run with nothing sent (*held); the
 * verdict and its rules go to the log, never into a copy: a recipient
 * outside learns nothing of our policies */
static ms_err
dlp(job *j, GString *summary, bool *held, bool *must_encrypt)
{
	gw_dlp_verdict verdict;
	ms_err err;

	*held = false;
	*must_encrypt = false;
	if (!settings_get_bool(j->f.settings, "dlp")) {
		g_string_append(summary, " dlp=off");
		return MS_OK;
	}
	err = gw_dlp_scan(&j->ctx, j->f.msg, &verdict);
	if (err == MS_POLICY && verdict.action == POLICY_BLOCK)
		g_string_append(summary, " dlp=block");
	if (err == MS_OK)
		g_string_append_printf(summary, " dlp=%s",
		    verdict.skipped ? "released" :
		    policy_action_name(verdict.action));
	if ((err == MS_OK || err == MS_POLICY) && verdict.rules != NULL &&
	    *verdict.rules != '\0') {
		g_string_append(summary, " rules=");
		diag_log_value(summary, verdict.rules, LOG_VALUE_MAX);
	}
	if (err == MS_OK && verdict.action == POLICY_QUARANTINE)
		g_string_append_printf(summary, " quarantine=%s",
		    verdict.quarantine_id);
	if (err == MS_OK) {
		*held = verdict.action == POLICY_QUARANTINE;
		/* what Postfix logs for this delivery: held, not sent */
		if (*held) {
			diag_status("2.0.0 held in quarantine as %s, not "
			    "delivered", verdict.quarantine_id);
			notice_hold(j->f.store, j->f.settings,
			    verdict.quarantine_id);
		}
		*must_encrypt = verdict.action == POLICY_MUST_ENCRYPT;
	}
	gw_dlp_verdict_clear(&verdict);
	return err;
}

/* sizes - every copy, with the loop marker, fits the reinjection
 * listener's limit: else the message is refused with 5.3.4 before the
 * first copy goes out (a bounce the sender understands, never a
 * deferral on every queue run) */
static ms_err
sizes(const job *j)
{
	unsigned long long max = settings_get_number(j->f.settings,
	    "reinject-max-size");

	for (guint i = 0; i < j->groups->len; i++) {
		const group *g = g_ptr_array_index(j->groups, i);
		struct stat st;

		if (fstat(g->out_fd, &st) != 0) {
			diag_error("cannot read a copy's size: %s",
			    strerror(errno));
			return MS_TEMP;
		}
		if ((unsigned long long)st.st_size + strlen(j->marker) > max)
			return filter_refuse("5.3.4", "message too big: "
			    "encrypted for %s it would be %llu bytes, over "
			    "the limit of %llu", route_method_name(g->method),
			    (unsigned long long)st.st_size +
			    strlen(j->marker), max);
	}
	return MS_OK;
}

/* outgoing - scan, route, build every variant, then reinject them all */
static ms_err
outgoing(job *j, GString *summary)
{
	bool held = false, must_encrypt = false;
	ms_err err = dlp(j, summary, &held, &must_encrypt);
	guint sent = 0;

	j->held = held;
	if (err != MS_OK || held)
		return err;	/* a quarantined message is not sent */
	/* the trust store, once for the routing, signing and encryption */
	err = trust_open(j->f.store, j->f.settings, &j->trust);
	if (err == MS_OK)
		err = route(j, must_encrypt, summary);
	if (err == MS_OK)
		err = build(j);
	if (err == MS_OK)
		err = sizes(j);
	if (err == MS_OK)
		err = notices(j);
	for (guint i = 0; err == MS_OK && i < j->groups->len; i++) {
		group *g = g_ptr_array_index(j->groups, i);

		err = reinject(j, g->out_fd, g->rcpts);
		if (err == MS_OK) {
			journal_record(j, g->rcpts);
			sent++;
		}
	}
	/* REL-5: after a reinjection, a later failure defers (a duplicate
	 * rather than a bounce of mail already sent) */
	if (err != MS_OK && sent > 0)
		err = MS_TEMP;
	return err;
}

/* open_copy - decrypt and verify, by what the root of the message is,
 * in this process on the message read once (unseal.h), for the envelope
 * recipients unseal names: the verification runs on the decrypted
 * message, and the status fields of both steps go out together, the
 * decrypter's included.  *out holds the copy, *dec what the decryption
 * did, *dec_name the decrypting program's name (NULL: none), *status the
 * verification's result */
static ms_err
open_copy(job *j, unseal_ctx *unseal, ms_output **out,
    unseal_decryption *dec, const char **dec_name, sig_status *status)
{
	msg_kind kind = msg_root_kind(j->f.msg);
	bool pgp = unseal_pgp_wants(j->f.msg);
	const char *extra = NULL;
	ms_output *mid = NULL;
	ms_message *opened = NULL;
	ms_err err;

	*dec = (unseal_decryption){ UNSEAL_NOT_ENCRYPTED, DECRYPT_OK, "" };
	*dec_name = NULL;
	*out = NULL;
	err = output_open(j->f.store, &mid);
	if (err == MS_OK && (kind == MSG_KIND_SMIME_ENVELOPED ||
	    kind == MSG_KIND_SMIME_PKCS7)) {
		*dec_name = "smime-dec";
		err = unseal_smime_decrypt(unseal, j->f.msg, mid, dec);
	} else if (err == MS_OK && pgp && (kind == MSG_KIND_PGP_ENCRYPTED ||
	    kind == MSG_KIND_PGP_INLINE_ENCRYPTED)) {
		err = unseal_pgp_decrypt(unseal, j->f.msg, mid, dec);
		/* an armored block that is not one whole message has nothing
		 * to decrypt */
		if (kind != MSG_KIND_PGP_INLINE_ENCRYPTED ||
		    dec->outcome != UNSEAL_NOT_ENCRYPTED)
			*dec_name = "pgp-dec";
	}
	if (err == MS_OK && dec->outcome == UNSEAL_DECRYPTED)
		err = unseal_read_decrypted(mid, &opened);
	else if (dec->outcome == UNSEAL_DECRYPT_FAILED)
		extra = dec->failure == DECRYPT_NOT_FOR_RECIPIENT ?
		    MSG_DECRYPT_NOT_FOR_RECIPIENT "\n" :
		    MSG_DECRYPT_FAILED "\n";	/* DEC-1 */
	if (err == MS_OK)
		err = output_open(j->f.store, out);
	*status = SIG_NONE;
	if (err == MS_OK && pgp)
		err = unseal_pgp_verify(unseal, opened ? opened : j->f.msg,
		    extra, *out, status);
	else if (err == MS_OK)
		err = unseal_smime_verify(unseal, opened ? opened : j->f.msg,
		    extra, *out, status);
	unseal_message_free(opened);
	output_discard(mid);
	return err;
}

/* decrypt_word - what the log says a decryption did for a recipient */
static const char *
decrypt_word(const unseal_decryption *dec, const char *dec_name)
{
	if (dec->outcome == UNSEAL_NOT_ENCRYPTED)
		return "none";
	if (dec->outcome == UNSEAL_DECRYPT_FAILED)
		return dec->failure == DECRYPT_NOT_FOR_RECIPIENT ?
		    "not-for-recipient" : "failed";
	return strcmp(dec_name, "pgp-dec") == 0 ? "pgp" : "smime";
}

/* log_unseal - what the log says of a recipient whose copy dec made */
static void
log_unseal(rcpt_log *log, const unseal_decryption *dec,
    const char *dec_name, sig_status status)
{
	log->decrypt = decrypt_word(dec, dec_name);
	log->verify = sig_status_word(status);
	if (dec->outcome == UNSEAL_DECRYPTED && dec->key[0] != '\0')
		log->fingerprints = g_strdup(dec->key);
}

/* incoming - open the message for its recipients: the plaintext reaches
 * only those the key that opened it is bound to; the others are served by
 * another decryption with a key of theirs, or get the message as it came,
 * marked not for them.  Each copy is reinjected to its recipients (on
 * stdout in the filter form, without recipients) */
static ms_err
incoming(job *j, GString *summary)
{
	size_t n = (size_t)j->nrcpts;
	ms_addr *rcpts = g_new0(ms_addr, n ? n : 1);
	bool *served = g_new0(bool, n ? n : 1);
	GPtrArray *left = g_ptr_array_new();	/* indexes into j->rcpts */
	unseal_ctx unseal;
	int copies = 0;
	ms_err err = MS_OK;

	unseal_init(&unseal, j->f.store, j->f.settings);
	for (size_t i = 0; i < n && err == MS_OK; i++) {
		const char *why;

		/* main() refused a recipient the parser does not take */
		if (addr_parse_str(j->rcpts[i], &rcpts[i], &why) != MS_OK)
			err = MS_INTERNAL;
		g_ptr_array_add(left, GSIZE_TO_POINTER(i));
	}
	do {
		unseal_decryption dec;
		const char *dec_name;
		sig_status status = SIG_NONE;
		ms_output *out = NULL;
		ms_addr *batch = g_new0(ms_addr, left->len ? left->len : 1);
		GPtrArray *to = g_ptr_array_new_with_free_func(g_free);
		GPtrArray *rest = g_ptr_array_new();

		for (guint k = 0; k < left->len; k++)
			batch[k] = rcpts[GPOINTER_TO_SIZE(
			    g_ptr_array_index(left, k))];
		if (n > 0)
			unseal_recipients(&unseal, batch, left->len, served);
		if (err == MS_OK)
			err = open_copy(j, &unseal, &out, &dec, &dec_name,
			    &status);
		for (guint k = 0; err == MS_OK && k < left->len; k++) {
			size_t i = GPOINTER_TO_SIZE(g_ptr_array_index(left,
			    k));

			if (dec.outcome != UNSEAL_DECRYPTED || served[k]) {
				g_ptr_array_add(to, g_strdup(j->rcpts[i]));
				log_unseal(&j->log[i], &dec, dec_name,
				    status);
			} else
				g_ptr_array_add(rest, GSIZE_TO_POINTER(i));
		}
		if (err == MS_OK && n == 0) {
			/* a filter for procmail or Sieve: the result on
			 * stdout */
			err = output_commit(out);
			out = NULL;
		} else if (err == MS_OK)
			err = reinject(j, output_fd(out), to);
		if (err == MS_OK) {
			journal_record(j, to);
			copies++;
		}
		output_discard(out);
		g_ptr_array_free(to, TRUE);
		g_ptr_array_free(left, TRUE);
		left = rest;
		g_free(batch);
	} while (err == MS_OK && left->len > 0);
	if (err == MS_OK && copies > 1)
		g_string_append_printf(summary, " copies=%d", copies);
	unseal_clear(&unseal);
	for (size_t i = 0; i < n; i++)
		addr_clear(&rcpts[i]);
	g_free(rcpts);
	g_free(served);
	g_ptr_array_free(left, TRUE);
	return err;
}

/* a quarantine release: the entry, claimed for this run */
typedef struct release {
	ms_store *store;	/* writable, for the entry's state */
	ms_settings *settings;
	char *sender;
	char **rcpts;
	char *auth;		/* how the sender was vouched for at hold */
	bool claimed;
} release;

/* release_open - claim the held entry id and make its message our
 * standard input, its envelope our sender and recipients: the message
 * comes from the store, never from the caller, so only a message the
 * DLP scan held can skip the DLP decision */
static ms_err
release_open(release *r, const char *id)
{
	GByteArray *meta = NULL;
	int fd = -1;
	ms_err err;

	if (!quarantine_id_ok(id))
		ritual_usage_error("an ID is 32 lowercase hex digits");
	err = settings_open_store(ritual_opts.store, false, &r->store,
	    &r->settings);
	if (err != MS_OK)
		return err;
	err = quarantine_claim(r->store, id, &meta);
	if (err == MS_POLICY) {
		diag_error("%s is not held (released already, or being "
		    "released)", id);
		return MS_NOTFOUND;
	}
	if (err == MS_NOTFOUND)
		diag_error("%s: no such quarantine entry", id);
	if (err != MS_OK)
		return err;
	r->claimed = true;
	r->sender = quarantine_meta_value(meta, "sender");
	r->auth = quarantine_meta_value(meta, "auth");
	r->rcpts = quarantine_meta_values(meta, "recipient");
	g_byte_array_free(meta, TRUE);
	if (r->sender != NULL && strcmp(r->sender, "<>") == 0)
		r->sender[0] = '\0';
	if (r->sender == NULL || r->rcpts[0] == NULL) {
		diag_error("%s: the entry names no envelope", id);
		return MS_DATA;
	}
	err = quarantine_message(r->store, id, &fd);
	if (err == MS_OK && dup2(fd, STDIN_FILENO) < 0) {
		diag_error("cannot read the held message: %s",
		    strerror(errno));
		err = MS_TEMP;
	}
	if (fd >= 0)
		close(fd);
	return err;
}

/* release_notice - the sender hears of the release (notice.h); the
 * message went out, so a notice that cannot is only a warning */
static void
release_notice(release *r, const char *id)
{
	GByteArray *meta = NULL;

	if (quarantine_meta(r->store, id, &meta) != MS_OK ||
	    notice_quarantine(r->store, r->settings, id, meta,
	    NOTICE_RELEASE) != MS_OK)
		diag_warn("quarantine %s: the sender's notice of the release "
		    "was not sent", id);
	if (meta != NULL)
		g_byte_array_free(meta, TRUE);
}

/* release_close - the entry is released, or held again after a failure
 * (the reinjection journal keeps a retry from sending a copy twice) */
static void
release_close(release *r, const char *id, ms_err result)
{
	if (r->claimed) {
		ms_err err = quarantine_settle(r->store, id, result == MS_OK);

		if (err != MS_OK)
			diag_error("%s: cannot record the release", id);
		else if (result == MS_OK)
			release_notice(r, id);
		/* the claim and a failure are in the store's audit log
		 * (quarantine.c); this line says how it ended */
		diag_info("quarantine: %s %s by uid %lu", id,
		    result == MS_OK ? "released" : "release failed",
		    (unsigned long)getuid());
	}
	g_free(r->sender);
	g_free(r->auth);
	g_strfreev(r->rcpts);
	settings_free(r->settings);
	if (r->store != NULL)
		store_close(r->store);
}

/* log_client - what the SMTP client said it was, for the log line */
static void
log_client(GString *fields)
{
	if (opt_sasl != NULL && *opt_sasl != '\0') {
		g_string_append(fields, " login=");
		diag_log_value(fields, opt_sasl, LOG_VALUE_MAX);
	}
	if (opt_client != NULL && *opt_client != '\0') {
		g_string_append(fields, " client=");
		diag_log_value(fields, opt_client, LOG_VALUE_MAX);
	}
}

/* result_words - the result= and reason= words for how a run ended,
 * the result as pipe(8) reads the exit status */
static const char *
result_words(const job *j, ms_err err, const char **reason)
{
	static const char *const reasons[] = {
		[MS_NOTFOUND] = "not-found", [MS_USAGE] = "usage",
		[MS_DATA] = "data", [MS_POLICY] = "policy",
		[MS_TEMP] = "temporary", [MS_CONFIG] = "configuration",
		[MS_INTERNAL] = "internal"
	};

	*reason = err != MS_OK ? reasons[err] : NULL;
	if (err == MS_OK)
		return j->held ? "held" : "sent";
	return ms_exit_code(err) == EXIT_TEMPFAIL ? "deferred" : "bounced";
}

/* log_entry - one recipient's part of the log line */
static GString *
log_entry(const job *j, int i)
{
	GString *e = g_string_new("to=<");
	const rcpt_log *l = j->log != NULL ? &j->log[i] : NULL;

	diag_log_value(e, j->rcpts[i], LOG_VALUE_MAX);
	g_string_append_c(e, '>');
	if (l == NULL)
		return e;
	if (l->method != NULL)
		g_string_append_printf(e, " method=%s", l->method);
	if (l->sign != NULL)
		g_string_append_printf(e, " sign=%s", l->sign);
	if (l->key != NULL) {
		g_string_append_printf(e, " key=%s fpr=", l->key);
		diag_log_value(e, l->fingerprints != NULL ? l->fingerprints :
		    "-", LOG_VALUE_MAX);
	}
	if (l->decrypt != NULL && l->fingerprints != NULL)
		g_string_append_printf(e, " decrypt=%s fpr=%s", l->decrypt,
		    l->fingerprints);
	else if (l->decrypt != NULL)
		g_string_append_printf(e, " decrypt=%s", l->decrypt);
	if (l->verify != NULL)
		g_string_append_printf(e, " verify=%s", l->verify);
	return e;
}

/* log_run - the run's log line: the message, how the run ended, then each
 * recipient; a line that would grow past LOG_LINE_MAX goes on in another
 * that starts with the same queue=, each then marked part=K/N */
static void
log_run(const job *j, ms_err err, const GString *fields)
{
	GPtrArray *lines = g_ptr_array_new_with_free_func(g_free);
	GString *line = g_string_new(NULL);
	const char *msgid = NULL, *reason, *result;
	const char *queue = opt_queue_id != NULL ? opt_queue_id : "-";

	if (j->f.msg != NULL && j->f.msg->mime != NULL)
		msgid = g_mime_object_get_header(GMIME_OBJECT(j->f.msg->mime),
		    "Message-ID");
	g_string_append_printf(line, "dir=%s msgid=", opt_release != NULL ?
	    "release" : opt_incoming ? "in" : "out");
	diag_log_value(line, msgid != NULL ? msgid : "-", LOG_VALUE_MAX);
	g_string_append(line, " from=<");
	diag_log_value(line, j->sender != NULL ? j->sender : "",
	    LOG_VALUE_MAX);
	g_string_append(line, ">");
	if (j->f.msg != NULL)
		g_string_append_printf(line, " size=%zu", j->f.msg->raw_len);
	g_string_append_len(line, fields->str, fields->len);
	if (j->notices > 0)
		g_string_append_printf(line, " notices=%u", j->notices);
	result = result_words(j, err, &reason);
	g_string_append_printf(line, " result=%s", result);
	if (reason != NULL)
		g_string_append_printf(line, " reason=%s", reason);
	g_string_append_printf(line, " nrcpt=%d", j->nrcpts);
	/* past the limit the message was refused, and argv is bounded */
	for (int i = 0; i < MIN(j->nrcpts, FILTER_RECIPIENTS_MAX); i++) {
		GString *e = log_entry(j, i);

		if (line->len + 1 + e->len > LOG_LINE_MAX) {
			g_ptr_array_add(lines, g_string_free(line, FALSE));
			line = g_string_new(NULL);
		}
		if (line->len > 0)
			g_string_append_c(line, ' ');
		g_string_append_len(line, e->str, e->len);
		g_string_free(e, TRUE);
	}
	g_ptr_array_add(lines, g_string_free(line, FALSE));
	for (guint k = 0; k < lines->len; k++) {
		if (lines->len == 1)
			diag_info("queue=%s %s", queue,
			    (char *)g_ptr_array_index(lines, k));
		else
			diag_info("queue=%s part=%u/%u %s", queue, k + 1,
			    lines->len, (char *)g_ptr_array_index(lines, k));
	}
	g_ptr_array_free(lines, TRUE);
}

int
main(int argc, char **argv)
{
	static const ms_program prog = { usage, options };
	poptContext ctx;
	const char **args;
	GString *summary;
	ms_output *in = NULL;
	release rel = { 0 };
	job j;
	ms_err err;
	int n = 0;

	/* before any other use of OpenSSL: no clean-up handler at exit,
	 * which frees every table OpenSSL built (about a millisecond of a
	 * run) just before the process ends and its memory goes with it */
	OPENSSL_init_crypto(OPENSSL_INIT_NO_ATEXIT, NULL);
	ctx = ritual_begin(argc, argv, &prog);
	args = poptGetArgs(ctx);
	summary = g_string_new(NULL);
	memset(&j, 0, sizeof j);
	for (int i = 0; i < 3; i++)
		j.variant_fd[i] = -1;
	j.in_fd = -1;
	j.journal_fd = -1;
	j.extra = g_string_new(NULL);
	while (args != NULL && args[n] != NULL)
		n++;
	if (opt_release != NULL) {
		/* the envelope and message are the held entry's, and its
		 * id keys the reinjection journal */
		if (opt_incoming || opt_sender != NULL ||
		    opt_queue_id != NULL || n > 0)
			ritual_usage_error("--release takes no other option "
			    "and no RECIPIENT");
		err = release_open(&rel, opt_release);
		if (err != MS_OK) {
			release_close(&rel, opt_release, err);
			ritual_end(ctx, err);
		}
		opt_sender = rel.sender;
		args = (const char **)rel.rcpts;
		n = (int)g_strv_length(rel.rcpts);
		opt_queue_id = opt_release;
		g_string_append_printf(summary, " release=%s", opt_release);
	} else if (opt_incoming && n == 0 && opt_sender == NULL &&
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
	/* every syslog line of this run and of the programs it runs
	 * starts with the queue id */
	ritual_queue_id(opt_queue_id);
	/* what Postfix logs and puts in a DSN: our own lines only; a
	 * release is run by an administrator, who reads the log line */
	diag_set_quiet(opt_release == NULL);
	j.sender = opt_sender;
	j.rcpts = args;
	j.nrcpts = n;
	j.groups = g_ptr_array_new_with_free_func(group_free);
	/* outgoing: one parse of the whole message serves DLP, signing and
	 * encryption alike */
	err = filter_open(&j.f, opt_incoming ? MSG_READ_HEADERS :
	    MSG_READ_FULL_OR_HEADERS);
	if (err != MS_OK)
		goto out;
	if (n > FILTER_RECIPIENTS_MAX) {
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
			g_string_append_printf(summary, " already-sent=%d", n);
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
	j.log = g_new0(rcpt_log, j.nrcpts > 0 ? j.nrcpts : 1);
	/* REL-7: a message this gateway reinjected minutes ago is back: a
	 * content filter is set where reinjected mail passes again */
	if (n > 0) {
		unsigned char key[MARKER_KEY_LEN];
		long age = 0;

		err = instance_key(j.f.store, key);
		if (err != MS_OK)
			goto out;
		if (marker_loop(key, j.f.msg, opt_sender, time(NULL), &age)) {
			sodium_memzero(key, sizeof key);
			diag_status("4.4.6 mail loop: this gateway reinjected "
			    "the message %ld seconds ago", age);
			g_string_append(summary, " loop=yes");
			err = MS_TEMP;
			goto out;
		}
		j.marker = marker_line(key, j.f.msg, opt_sender, time(NULL));
		sodium_memzero(key, sizeof key);
	}
	/* DEC-8: our status fields are written only by our own code */
	msg_strip_status_headers(j.f.msg);
	if (!opt_incoming) {
		j.ctx.store = j.f.store;
		j.ctx.settings = j.f.settings;
		j.ctx.sender = j.sender;
		const char *why = "it was not when the message was held";

		j.ctx.sasl_user = opt_sasl;
		j.ctx.client_address = opt_client;
		/* a released message keeps the trust of its first run */
		if (opt_release != NULL)
			j.ctx.sender_auth = gw_auth_from_name(rel.auth);
		else
			err = gw_sender_trust(&j.ctx, &why);
		if (err != MS_OK)
			goto out;
		if (j.ctx.sender_auth == GW_AUTH_NONE)
			diag_info("the sender is not authenticated (%s): "
			    "nothing is signed", why);
		g_string_append_printf(summary, " auth=%s",
		    gw_auth_name(j.ctx.sender_auth));
		log_client(summary);
		j.ctx.direction = GW_OUTGOING;
		j.ctx.queue_id = opt_queue_id;
		j.ctx.recipients = j.rcpts;
		/* only a message the store's quarantine held, never one
		 * read from a caller, skips the DLP decision */
		j.ctx.skip_dlp = opt_release != NULL;
		err = outgoing(&j, summary);
		goto out;
	}
	err = output_open(j.f.store, &in);
	if (err == MS_OK)
		err = msg_output_original(in, j.f.msg, NULL);
	if (err != MS_OK)
		goto out;
	j.in_fd = output_fd(in);
	err = incoming(&j, summary);
out:
	log_run(&j, err, summary);
	g_string_free(summary, TRUE);
	for (int i = 0; j.log != NULL && i < j.nrcpts; i++)
		g_free(j.log[i].fingerprints);
	g_free(j.log);
	for (int i = 0; i < 3; i++)
		if (j.variant_fd[i] >= 0)
			close(j.variant_fd[i]);
	smsign_entity_clear(&j.smime_signed);
	smsign_entity_clear(&j.pgp_signed);
	pgp_close(j.pgp);
	trust_free(j.trust);
	g_string_free(j.extra, TRUE);
	if (j.journal_fd >= 0)
		close(j.journal_fd);
	if (j.sent != NULL)
		g_hash_table_destroy(j.sent);
	if (j.rcpts_owned)
		g_free(j.rcpts);
	g_free(j.marker);
	if (j.groups != NULL)
		g_ptr_array_free(j.groups, TRUE);
	if (in != NULL)
		output_discard(in);
	if (j.f.store != NULL)
		filter_close(&j.f);
	if (opt_release != NULL)
		release_close(&rel, opt_release, err);
	ritual_end(ctx, err);
}
