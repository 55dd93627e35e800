/*
 * crl-sync - fetch the CRLs of the CAs in the stores, verify each against
 * its issuer and install it in the CRL store (crl-sync(1)).  Run from cron
 * or a timer, never in the mail path (CRL-1).  Sources: the distribution
 * points of the stored roots and of the stored certificates that chain to
 * them (CRL-3), and the crl-urls setting.  The built-in CA's own CRL is
 * never fetched: it is issued locally when due, one CRL per root that has
 * not expired (a renewed CA has two), and with --publish also written
 * to a web server's directory.  One line per CA on stdout.
 */
#include "ca.h"
#include "cert.h"
#include "certdb.h"
#include "trust.h"
#include "crlstate.h"
#include "crlstore.h"
#include "diag.h"
#include "fetch.h"
#include "mslimits.h"
#include "parse.h"
#include "ritual.h"
#include "settings.h"

#include <openssl/err.h>
#include <openssl/pem.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static const char usage[] =
"usage: crl-sync [--store DIR] [-n] [-j N | --jobs N] [-t S | --timeout S]\n"
"                [--max-size BYTES] [--random-delay S]\n"
"                [--allow-private-addresses] [--publish DIR]\n"
"       crl-sync -h | --version\n";

static int opt_dry_run, opt_allow_private;
static const char *opt_jobs, *opt_timeout, *opt_max_size, *opt_delay;
static const char *opt_publish;

static struct poptOption options[] = {
	{ "dry-run", 'n', POPT_ARG_NONE, &opt_dry_run, 0, NULL, NULL },
	{ "jobs", 'j', POPT_ARG_STRING, &opt_jobs, 0, NULL, NULL },
	{ "timeout", 't', POPT_ARG_STRING, &opt_timeout, 0, NULL, NULL },
	{ "max-size", '\0', POPT_ARG_STRING, &opt_max_size, 0, NULL, NULL },
	{ "random-delay", '\0', POPT_ARG_STRING, &opt_delay, 0, NULL, NULL },
	{ "allow-private-addresses", '\0', POPT_ARG_NONE, &opt_allow_private,
	  0, NULL, NULL },
	{ "publish", '\0', POPT_ARG_STRING, &opt_publish, 0, NULL, NULL },
	POPT_TABLEEND
};

/* one CA and the URLs its CRLs come from; issuer NULL for a URL from
 * the settings until its CRL names the issuer */
typedef struct ca_source {
	X509_NAME *issuer;
	char *label;
	GPtrArray *urls;	/* complete CRLs, mirrors in order */
	GPtrArray *delta_urls;	/* freshestCRL */
	bool local;		/* the built-in CA: no URL, issued here */
} ca_source;

/* counts of the outcomes, for the exit status */
typedef struct tally {
	unsigned retrieval;
	unsigned invalid;
} tally;

/* parse_count - a decimal number with an optional K, M or G suffix in
 * 1..max, or a usage error naming the option */
static unsigned long long
parse_count(const char *text, const char *option, unsigned long long max)
{
	unsigned long long value;

	if (!parse_size(text, &value))
		ritual_usage_error("%s needs a number", option);
	if (value == 0 || value > max)
		ritual_usage_error("%s must be 1 to %llu", option, max);
	return value;
}

static void
source_free(gpointer p)
{
	ca_source *src = p;

	X509_NAME_free(src->issuer);
	g_free(src->label);
	g_ptr_array_free(src->urls, TRUE);
	g_ptr_array_free(src->delta_urls, TRUE);
	g_free(src);
}

static ca_source *
source_new(const X509_NAME *issuer, const char *label)
{
	ca_source *src = g_new0(ca_source, 1);

	if (issuer != NULL && (src->issuer = X509_NAME_dup(issuer)) == NULL)
		diag_fatal(EXIT_TEMPFAIL, "out of memory");
	if (issuer != NULL)
		src->label = cert_name_text(issuer);
	else {
		char *masked = diag_mask(label, strlen(label));

		src->label = g_strdup(masked);
		free(masked);	/* diag_mask allocates with malloc */
	}
	src->urls = g_ptr_array_new_with_free_func(g_free);
	src->delta_urls = g_ptr_array_new_with_free_func(g_free);
	return src;
}

/* source_for - the source of issuer, made on first use */
static ca_source *
source_for(GPtrArray *sources, const X509_NAME *issuer)
{
	ca_source *src;

	for (guint i = 0; i < sources->len; i++) {
		src = g_ptr_array_index(sources, i);
		if (src->issuer != NULL &&
		    X509_NAME_cmp(src->issuer, issuer) == 0)
			return src;
	}
	src = source_new(issuer, NULL);
	g_ptr_array_add(sources, src);
	return src;
}

/* add_url - append url once to list; seen holds every URL of every
 * source, so one URL is fetched for one CA only */
static void
add_url(GPtrArray *list, GHashTable *seen, const char *url)
{
	if (g_hash_table_contains(seen, url))
		return;
	g_hash_table_add(seen, g_strdup(url));
	g_ptr_array_add(list, g_strdup(url));
}

/* issuer_known - a CA with this subject is in the root or certificate
 * store: only then are its CRLs ours to fetch (CRL-3) */
static bool
issuer_known(ms_trust *trust, const ms_store *store, const X509_NAME *name)
{
	GPtrArray *fprs = NULL;
	bool found = false;

	if (trust_load_roots(trust, name, &found) == MS_OK && found)
		return true;
	if (certdb_issuers(store, name, &fprs) == MS_OK)
		found = fprs->len > 0;
	if (fprs != NULL)
		g_ptr_array_free(fprs, TRUE);
	return found;
}

/* collect_store - the distribution points of the roots (roots) or of the
 * certificates that chain to our roots */
static ms_err
collect_store(ms_store *store, ms_trust *trust, bool roots,
    GPtrArray *sources, GHashTable *seen)
{
	GPtrArray *fprs;
	ms_err err = certdb_list(store, roots, &fprs);

	if (err != MS_OK)
		return err;
	for (guint i = 0; i < fprs->len; i++) {
		const char *fpr = g_ptr_array_index(fprs, i);
		GPtrArray *urls, *deltas;
		const X509_NAME *issuer;
		unsigned skipped = 0;
		ca_source *src;
		X509 *cert;

		if (certdb_load(store, fpr, NULL, &cert) != MS_OK)
			continue;
		issuer = X509_get_issuer_name(cert);
		urls = crl_distribution_urls(cert, false, &skipped);
		deltas = crl_distribution_urls(cert, true, &skipped);
		if (skipped > 0)
			diag_info("certificate %s: %u CRL locations that are "
			    "not http or https skipped", fpr, skipped);
		if (urls->len + deltas->len > 0 && !roots) {
			STACK_OF(X509) *chain;

			/* never a URL from a certificate that does not
			 * chain to our anchors, nor of a foreign issuer */
			chain = issuer_known(trust, store, issuer) ?
			    trust_chain(trust, cert) : NULL;
			if (chain == NULL) {
				g_ptr_array_set_size(urls, 0);
				g_ptr_array_set_size(deltas, 0);
			}
			sk_X509_pop_free(chain, X509_free);
		}
		src = urls->len + deltas->len > 0 ?
		    source_for(sources, issuer) : NULL;
		/* the built-in CA's URL may be unreachable from here, and
		 * its CRL is made here anyway */
		if (src != NULL && !src->local) {
			for (guint u = 0; u < urls->len; u++)
				add_url(src->urls, seen,
				    g_ptr_array_index(urls, u));
			for (guint u = 0; u < deltas->len; u++)
				add_url(src->delta_urls, seen,
				    g_ptr_array_index(deltas, u));
		}
		g_ptr_array_free(urls, TRUE);
		g_ptr_array_free(deltas, TRUE);
		X509_free(cert);
	}
	g_ptr_array_free(fprs, TRUE);
	return MS_OK;
}

/* own_url - url is where the built-in CA publishes a root's CRL */
static bool
own_url(const ms_ca *own, const char *url)
{
	for (guint i = 0; own != NULL && i < own->roots->len; i++)
		if (strcmp(((const ca_root *)g_ptr_array_index(own->roots,
		    i))->crl_url, url) == 0)
			return true;
	return false;
}

/* collect_settings - crl-urls: each its own source until its CRL names
 * the issuer; a URL a certificate names already is not fetched twice */
static bool
collect_settings(const ms_settings *settings, const ms_ca *own,
    GPtrArray *sources, GHashTable *seen)
{
	char **words = g_strsplit_set(settings_get(settings, "crl-urls"),
	    " \t,", -1);
	bool ok = true;

	for (int i = 0; words[i] != NULL; i++) {
		ca_source *src;

		if (words[i][0] == '\0' || g_hash_table_contains(seen,
		    words[i]) || own_url(own, words[i]))
			continue;
		if (!crl_url_ok(words[i])) {
			char *shown = diag_mask(words[i], strlen(words[i]));

			diag_error("crl-urls: %s is not an http or https URL",
			    shown);
			free(shown);
			ok = false;
			continue;
		}
		src = source_new(NULL, words[i]);
		add_url(src->urls, seen, words[i]);
		g_ptr_array_add(sources, src);
	}
	g_strfreev(words);
	return ok;
}

/* parse_crl - a CRL in DER or PEM, the whole answer and nothing else */
static X509_CRL *
parse_crl(const GByteArray *body)
{
	X509_CRL *crl = NULL;

	if (body->len > INT32_MAX)
		return NULL;
	if (body->len > 10 && memcmp(body->data, "-----BEGIN", 10) == 0) {
		BIO *bio = BIO_new_mem_buf(body->data, (int)body->len);

		crl = bio ? PEM_read_bio_X509_CRL(bio, NULL, NULL, NULL) :
		    NULL;
		BIO_free(bio);
	} else {
		const unsigned char *p = body->data;

		crl = d2i_X509_CRL(NULL, &p, (long)body->len);
		if (crl != NULL && p != body->data + body->len) {
			X509_CRL_free(crl);
			crl = NULL;
		}
	}
	ERR_clear_error();
	return crl;
}

/* conditional - send If-None-Match / If-Modified-Since only while the
 * CRL they stand for is still installed: a 304 must never leave a CA
 * without a CRL */
static bool
conditional(const ms_store *store, const crl_state *st)
{
	X509_NAME *name = crl_state_issuer(st);
	X509_CRL *crl = NULL;
	char *file = NULL;
	bool ok;

	ok = name != NULL && crl_installed(store, name, false, &crl, &file) ==
	    MS_OK;
	X509_NAME_free(name);
	X509_CRL_free(crl);
	g_free(file);
	return ok;
}

/* describe - ", CRL number N, next update DATE" of an installed CRL */
static char *
describe(X509_CRL *crl)
{
	char *num = crl_number_hex(crl);
	const ASN1_TIME *next = X509_CRL_get0_nextUpdate(crl);
	char *date = next ? cert_date(next) : g_strdup("none");
	char *text;
	BIGNUM *bn = NULL;
	char *dec = NULL;

	if (num != NULL && BN_hex2bn(&bn, num) > 0)
		dec = BN_bn2dec(bn);
	text = g_strdup_printf("CRL number %s, next update %s",
	    dec ? dec : "none", date);
	OPENSSL_free(dec);
	BN_free(bn);
	g_free(num);
	g_free(date);
	return text;
}

/* fresh - before nextUpdate: the CRL needs no refresh to be current */
static bool
fresh(X509_CRL *crl)
{
	const ASN1_TIME *next = X509_CRL_get0_nextUpdate(crl);
	time_t now = time(NULL);

	return next != NULL && X509_cmp_time(next, &now) > 0;
}

typedef struct sync_ctx {
	ms_store *store;
	ms_ca *own;		/* the built-in CA, or NULL */
	ms_trust *trust;
	GHashTable *jobs;	/* URL -> fetch_job */
	tally *count;
	GString *out;
} sync_ctx;

/* sync_url - install what one URL gave; *done when no further mirror
 * is to be tried (success, or a validation failure: fetch-crl's rule) */
static ms_err
sync_url(sync_ctx *c, ca_source *src, const char *url, bool delta,
    GString *line, GString *failed, bool *done)
{
	fetch_job *job = g_hash_table_lookup(c->jobs, url);
	crl_state st;
	X509_CRL *crl = NULL, *installed = NULL;
	const char *why = NULL;
	char *file = NULL, *text, *shown_url = diag_mask(url, strlen(url));
	ms_err err = MS_OK;
	bool keep_state = true;

	*done = false;
	crl_state_read(c->store, url, &st);
	st.last_attempt = (long long)time(NULL);
	if (job->outcome == FETCH_NOT_MODIFIED) {
		if (src->issuer == NULL &&
		    (src->issuer = crl_state_issuer(&st)) != NULL) {
			g_free(src->label);
			src->label = cert_name_text(src->issuer);
		}
		if (src->issuer != NULL && crl_installed(c->store, src->issuer,
		    delta, &installed, &file) == MS_OK) {
			text = describe(installed);
			g_string_append_printf(line, "not modified %s, %s",
			    file, text);
			g_free(text);
			if (!fresh(installed)) {
				g_string_append(line, " (past nextUpdate)");
				c->count->retrieval++;
			}
		} else
			g_string_append(line, "not modified");
		st.last_success = st.last_attempt;
		st.failures = 0;
		*done = true;
	} else if (job->outcome != FETCH_OK) {
		g_string_append_printf(failed, "%s%s (%s)", failed->len ?
		    "; " : "", job->why, shown_url);
		st.failures++;
	} else if ((crl = parse_crl(job->body)) == NULL) {
		g_string_append_printf(line, "refused: not a CRL (%s)",
		    shown_url);
		c->count->invalid++;
		st.failures++;
		*done = true;
	} else if (src->issuer != NULL &&
	    X509_NAME_cmp(X509_CRL_get_issuer(crl), src->issuer) != 0) {
		g_string_append_printf(line, "refused: the CRL of another "
		    "issuer (%s)", shown_url);
		c->count->invalid++;
		st.failures++;
		*done = true;
	} else {
		err = crl_install(c->store, c->trust, crl, &why, &file);
		*done = true;
		if (err == MS_DATA) {
			/* CRL-4: the old CRL stays; this may be an attack */
			g_string_append_printf(line, "refused: %s (%s)", why,
			    shown_url);
			diag_warn("CRL from %s refused: %s", shown_url, why);
			c->count->invalid++;
			st.failures++;
			err = MS_OK;
		} else if (err == MS_OK) {
			if (src->issuer == NULL) {
				g_free(src->label);
				src->label = cert_name_text(
				    X509_CRL_get_issuer(crl));
			}
			text = describe(crl);
			g_string_append_printf(line, "updated %s, %s", file,
			    text);
			g_free(text);
			if (!fresh(crl)) {
				g_string_append(line, " (past nextUpdate)");
				c->count->retrieval++;
			}
			g_free(st.etag);
			st.etag = job->new_etag ? g_strdup(job->new_etag) :
			    NULL;
			st.modified = job->new_modified;
			g_free(st.issuer);
			st.issuer = crl_state_issuer_hex(X509_CRL_get_issuer(crl));
			st.last_success = st.last_attempt;
			st.failures = 0;
		} else
			keep_state = false;
	}
	if (keep_state && err == MS_OK)
		err = crl_state_write(c->store, url, &st);
	crl_state_clear(&st);
	X509_CRL_free(crl);
	X509_CRL_free(installed);
	g_free(file);
	free(shown_url);
	return err;
}

/* sync_list - try the mirrors of one list in order */
static ms_err
sync_list(sync_ctx *c, ca_source *src, GPtrArray *urls, bool delta,
    GString *line)
{
	GString *failed = g_string_new(NULL);
	bool done = false;
	ms_err err = MS_OK;

	for (guint i = 0; i < urls->len && !done && err == MS_OK; i++)
		err = sync_url(c, src, g_ptr_array_index(urls, i), delta, line,
		    failed, &done);
	if (done && failed->len > 0)
		g_string_append_printf(line, "; before: %s", failed->str);
	if (err == MS_OK && !done && urls->len > 0) {
		X509_CRL *installed = NULL;
		char *file = NULL;

		c->count->retrieval++;
		if (src->issuer != NULL && crl_installed(c->store,
		    src->issuer, delta, &installed, &file) == MS_OK) {
			char *text = describe(installed);

			g_string_append_printf(line, "; kept %s, %s%s", file,
			    text, fresh(installed) ? "" :
			    " (past nextUpdate)");
			g_free(text);
		}
		X509_CRL_free(installed);
		g_free(file);
		g_string_prepend(line, failed->str);
		g_string_prepend(line, "failed: ");
	}
	g_string_free(failed, TRUE);
	return err;
}

/* sync_root - one root of the built-in CA: a fresh CRL when the
 * installed one is due, made with its key under the lock held; with
 * --publish, the CRL also written for the web server */
static ms_err
sync_root(sync_ctx *c, const ca_root *root, GString *line)
{
	X509_CRL *installed = NULL;
	char *file = NULL, *text, *published = NULL;
	int days;
	bool due = ca_crl_due(c->store, root, &days);
	ms_err err = MS_OK;

	if (due)
		err = ca_publish_crl(c->store, c->own, root, days, NULL);
	/* a root without a CRL URL (an earlier root made before the CA had
	 * one) has no file for certificates to name */
	if (err == MS_OK && opt_publish != NULL && root->crl_url[0] != '\0')
		err = ca_crl_export(c->store, root, opt_publish, &published);
	if (err == MS_OK && crl_installed_by(c->store, root->cert, false,
	    &installed, &file) == MS_OK) {
		text = describe(installed);
		g_string_append_printf(line, "%s locally %s, %s", due ?
		    "issued" : "current", file, text);
		g_free(text);
	}
	if (published != NULL)
		g_string_append_printf(line, ", published %s/%s", opt_publish,
		    published);
	X509_CRL_free(installed);
	g_free(file);
	g_free(published);
	return err;
}

/* sync_local - the built-in CA: the CRL of each root that has not
 * expired (the current one always), named by root when there are more */
static ms_err
sync_local(sync_ctx *c, GString *line)
{
	GPtrArray *roots = c->own->roots;
	ms_err err = MS_OK;

	for (guint i = 0; err == MS_OK && i < roots->len; i++) {
		const ca_root *root = g_ptr_array_index(roots, i);

		if (i + 1 < roots->len && ca_root_expired(root))
			continue;
		if (roots->len > 1)
			g_string_append_printf(line, "%sroot %.16s: ",
			    line->len ? "; " : "", root->fingerprint);
		err = sync_root(c, root, line);
	}
	return err;
}

/* sync_source - one CA: its complete CRL, then its delta CRL */
static ms_err
sync_source(sync_ctx *c, ca_source *src)
{
	GString *line = g_string_new(NULL), *delta_line = g_string_new(NULL);
	ms_err err = src->local ? sync_local(c, line) :
	    sync_list(c, src, src->urls, false, line);

	if (err == MS_OK && src->delta_urls->len > 0) {
		err = sync_list(c, src, src->delta_urls, true, delta_line);
		g_string_append_printf(line, "%sdelta: %s", line->len ?
		    "; " : "", delta_line->str);
	}
	g_string_append_printf(c->out, "%s: %s\n", src->label, line->str);
	g_string_free(line, TRUE);
	g_string_free(delta_line, TRUE);
	return err;
}

/* run_sync - fetch every URL at once, then verify and install under the
 * store lock; the network is never touched with the lock held */
static ms_err
run_sync(ms_store *store, ms_trust *trust, ms_ca *own, GPtrArray *sources,
    GHashTable *seen, const fetch_opts *opts, unsigned parallel,
    tally *count, GString *out)
{
	GHashTable *jobs = g_hash_table_new(g_str_hash, g_str_equal);
	fetch_job *list = g_new0(fetch_job, g_hash_table_size(seen) + 1);
	crl_state *states = g_new0(crl_state, g_hash_table_size(seen) + 1);
	GPtrArray *removed = g_ptr_array_new_with_free_func(g_free);
	sync_ctx c = { store, own, trust, jobs, count, out };
	GHashTableIter iter;
	gpointer key;
	size_t n = 0;
	ms_err err = MS_OK;

	g_hash_table_iter_init(&iter, seen);
	while (g_hash_table_iter_next(&iter, &key, NULL)) {
		crl_state_read(store, key, &states[n]);
		list[n].url = key;
		if (conditional(store, &states[n])) {
			list[n].etag = states[n].etag;
			list[n].modified = states[n].modified;
		}
		g_hash_table_insert(jobs, key, &list[n]);
		n++;
	}
	fetch_run(list, n, opts, parallel);
	err = store_lock(store, LIMIT_LOCK_TIMEOUT_MS);
	for (guint i = 0; err == MS_OK && i < sources->len; i++)
		err = sync_source(&c, g_ptr_array_index(sources, i));
	if (err == MS_OK)
		err = crl_prune(store, trust, removed);
	for (guint i = 0; err == MS_OK && i < removed->len; i++)
		g_string_append_printf(out, "removed %s: no CA in the stores "
		    "signed it\n", (const char *)g_ptr_array_index(removed, i));
	if (err == MS_OK)
		err = crl_state_prune(store, seen);
	store_unlock(store);
	for (size_t i = 0; i < n; i++) {
		fetch_job_clear(&list[i]);
		crl_state_clear(&states[i]);
	}
	g_free(states);
	g_free(list);
	g_ptr_array_free(removed, TRUE);
	g_hash_table_destroy(jobs);
	return err;
}

/* print_plan - -n: the CAs and the URLs that would be fetched */
static void
print_plan(const ms_store *store, const ms_ca *own, GPtrArray *sources,
    GString *out)
{
	for (guint i = 0; i < sources->len; i++) {
		ca_source *src = g_ptr_array_index(sources, i);
		int days;

		for (guint r = 0; src->local && r < own->roots->len; r++) {
			const ca_root *root = g_ptr_array_index(own->roots, r);
			char *name = ca_crl_file_name(root);

			if (r + 1 < own->roots->len && ca_root_expired(root)) {
				g_free(name);
				continue;
			}
			g_string_append_printf(out, "%s: %s", src->label,
			    ca_crl_due(store, root, &days) ?
			    "would issue a CRL locally" :
			    "CRL current, issued locally");
			if (own->roots->len > 1)
				g_string_append_printf(out, " (root %.16s)",
				    root->fingerprint);
			if (opt_publish != NULL)
				g_string_append_printf(out, ", would publish "
				    "%s/%s", opt_publish, name ? name :
				    "(none: no CRL URL)");
			g_string_append_c(out, '\n');
			g_free(name);
		}

		for (guint u = 0; u < src->urls->len; u++)
			g_string_append_printf(out, "%s: would fetch %s\n",
			    src->label, (const char *)
			    g_ptr_array_index(src->urls, u));
		for (guint u = 0; u < src->delta_urls->len; u++)
			g_string_append_printf(out, "%s: would fetch delta "
			    "%s\n", src->label, (const char *)
			    g_ptr_array_index(src->delta_urls, u));
	}
}

/* publish_check - --publish: a built-in CA whose current root has a CRL
 * URL ending in a file name, and a directory outside the store; said
 * before anything is fetched */
static ms_err
publish_check(const ms_store *store, const ms_ca *own)
{
	char *dir, *name = NULL;

	if (own == NULL) {
		diag_error("--publish: this store has no built-in CA");
		return MS_USAGE;
	}
	dir = ca_publish_dir(store, opt_publish);
	if (dir == NULL)
		return MS_USAGE;
	free(dir);
	name = ca_crl_file_name(g_ptr_array_index(own->roots,
	    own->roots->len - 1));
	if (name == NULL) {
		diag_error("--publish: the built-in CA's CRL URL does not end "
		    "in a file name (smime-ca init --crl-url)");
		return MS_CONFIG;
	}
	g_free(name);
	return MS_OK;
}

int
main(int argc, char **argv)
{
	static const ms_program prog = { usage, options };
	poptContext ctx = ritual_begin(argc, argv, &prog);
	const char **args = poptGetArgs(ctx);
	fetch_opts opts = { "http,https", 0, 10000, 0, false, NULL, NULL,
	    NULL };
	GPtrArray *sources = g_ptr_array_new_with_free_func(source_free);
	GHashTable *seen = g_hash_table_new_full(g_str_hash, g_str_equal,
	    g_free, NULL);
	GString *out = g_string_new(NULL);
	ms_settings *settings = NULL;
	ms_store *store = NULL;
	ms_trust *trust = NULL;
	ms_ca own_ca, *own = NULL;
	tally count = { 0, 0 };
	unsigned long long jobs, timeout, delay = 0;
	ms_err err;

	if (args != NULL && args[0] != NULL)
		ritual_usage_error("crl-sync takes no operands");
	if (sodium_init() < 0)
		diag_fatal(EXIT_TEMPFAIL, "libsodium cannot start");
	err = crypto_init();
	if (err == MS_OK)
		err = settings_open_store(ritual_opts.store, !opt_dry_run,
		    &store, &settings);
	if (err != MS_OK)
		ritual_exit_status(ctx, ms_exit_code_offline(err));
	jobs = opt_jobs ? parse_count(opt_jobs, "--jobs", 32) :
	    settings_get_number(settings, "crl-jobs");
	timeout = opt_timeout ? parse_count(opt_timeout, "--timeout", 3600) :
	    settings_get_number(settings, "crl-timeout");
	opts.max = opt_max_size ? (size_t)parse_count(opt_max_size,
	    "--max-size", (unsigned long long)1024 * 1024 * 1024) :
	    (size_t)settings_get_number(settings, "crl-max-size");
	if (opt_delay != NULL && strcmp(opt_delay, "0") != 0)
		delay = parse_count(opt_delay, "--random-delay",
		    CRL_RANDOM_DELAY_MAX);
	opts.timeout_ms = (long)timeout * 1000;
	if (opts.connect_timeout_ms > opts.timeout_ms)
		opts.connect_timeout_ms = opts.timeout_ms;
	opts.allow_private = opt_allow_private || settings_get_bool(settings,
	    "crl-allow-private-addresses");
	if (*settings_get(settings, "crl-allow-addresses") != '\0')
		opts.allow_addresses = settings_get(settings,
		    "crl-allow-addresses");
	if (*settings_get(settings, "crl-ca-file") != '\0')
		opts.ca_file = settings_get(settings, "crl-ca-file");
	if (*settings_get(settings, "crl-resolve") != '\0')
		opts.resolve = settings_get(settings, "crl-resolve");

	err = trust_open(store, settings, &trust);
	if (err == MS_OK && store_exists(store, "ca", "state")) {
		err = ca_load(store, &own_ca);
		if (err == MS_OK) {
			own = &own_ca;
			source_for(sources, X509_get_subject_name(
			    own->cert))->local = true;
		}
	}
	if (err == MS_OK && opt_publish != NULL)
		err = publish_check(store, own);
	if (err == MS_OK)
		err = collect_store(store, trust, true, sources, seen);
	if (err == MS_OK)
		err = collect_store(store, trust, false, sources, seen);
	if (err == MS_OK && !collect_settings(settings, own, sources, seen))
		err = MS_CONFIG;
	if (err == MS_OK && opt_dry_run)
		print_plan(store, own, sources, out);
	else if (err == MS_OK) {
		/* cron: spread the load on the CAs' servers (fetch-crl's
		 * randomwait) */
		if (delay > 0)
			sleep((unsigned)randombytes_uniform((uint32_t)delay +
			    1));
		err = run_sync(store, trust, own, sources, seen, &opts,
		    (unsigned)jobs, &count, out);
	}
	if (err == MS_OK)
		err = ritual_output(out->str, out->len);
	/* for cron (pki.md 4.9): a CRL that failed validation may be an
	 * attack (65) and wins over a retrieval failure, which is retried
	 * (75); configuration is its own status (78) */
	if (err == MS_OK && count.invalid > 0)
		err = MS_DATA;
	else if (err == MS_OK && count.retrieval > 0)
		err = MS_TEMP;
	if (own != NULL)
		ca_free(own);
	trust_free(trust);
	g_string_free(out, TRUE);
	g_hash_table_destroy(seen);
	g_ptr_array_free(sources, TRUE);
	settings_free(settings);
	store_close(store);
	ritual_exit_status(ctx, ms_exit_code_offline(err));
}
