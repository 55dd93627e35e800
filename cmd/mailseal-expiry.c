/*
 * mailseal-expiry - what in a store ends soon, for cron mail
 * (mailseal-expiry(1)): certificates (ours marked), roots and the built-in
 * CA's, CRLs past their nextUpdate, OpenPGP keys (ours marked); one line
 * each, sorted by date, and nothing at all when nothing ends within the
 * window, so that cron mails only when there is something to do.  The
 * status words and the window are certstore list's and pgp-keys list's.
 */
#include "cert.h"
#include "certdb.h"
#include "certstatus.h"
#include "crlstore.h"
#include "diag.h"
#include "expiry.h"
#include "jsonout.h"
#include "mslimits.h"
#include "pgp.h"
#include "ritual.h"
#include "settings.h"
#include "store.h"
#include "trust.h"

#include <openssl/err.h>
#include <openssl/pem.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

static const char usage[] =
"usage: mailseal-expiry [--store DIR] [--days N] [--json]\n"
"       mailseal-expiry -h | --version\n";

static const char *opt_days;
static int opt_json;

static struct poptOption options[] = {
	{ "days", '\0', POPT_ARG_STRING, &opt_days, 0, NULL, NULL },
	{ "json", '\0', POPT_ARG_NONE, &opt_json, 0, NULL, NULL },
	POPT_TABLEEND
};

/* one thing that ends */
typedef struct item {
	const char *kind;	/* own-certificate, certificate, ca-root, root,
				 * crl, own-openpgp-key, openpgp-key */
	bool own;		/* we hold its private key */
	char *identity;		/* addresses, or a name (masked) */
	GPtrArray *addresses;	/* as found (JSON), or NULL */
	char *id;		/* fingerprint, or the CRL's file name */
	time_t end;
	const char *status;
} item;

typedef struct report {
	ms_store *store;
	ms_settings *settings;
	ms_trust *trust;
	time_t now;
	unsigned long days;
	GPtrArray *items;	/* item * */
} report;

static void
item_free(gpointer data)
{
	item *it = data;

	g_free(it->identity);
	g_free(it->id);
	if (it->addresses != NULL)
		g_ptr_array_free(it->addresses, TRUE);
	g_free(it);
}

static item *
item_add(report *r, const char *kind, bool own, char *identity,
    const char *id, time_t end, const char *status)
{
	item *it = g_new0(item, 1);

	it->kind = kind;
	it->own = own;
	it->identity = identity;
	it->id = g_strdup(id);
	it->end = end;
	it->status = status;
	g_ptr_array_add(r->items, it);
	return it;
}

/* ca_fingerprint - the built-in CA's certificate (ca/ca.pem), or NULL
 * when the store has none */
static ms_err
ca_fingerprint(const ms_store *store, char **fpr)
{
	GByteArray *data;
	X509 *cert = NULL;
	BIO *bio;
	ms_err err;

	*fpr = NULL;
	if (!store_exists(store, "ca", "ca.pem"))
		return MS_OK;
	err = store_read(store, "ca", "ca.pem", LIMIT_STORE_OBJECT, &data);
	if (err != MS_OK)
		return err == MS_DATA ? MS_TEMP : err;
	bio = BIO_new_mem_buf(data->data, (int)data->len);
	if (bio != NULL)
		cert = PEM_read_bio_X509(bio, NULL, NULL, NULL);
	BIO_free(bio);
	g_byte_array_free(data, TRUE);
	if (cert == NULL) {
		ERR_clear_error();
		diag_error("the CA's certificate ca/ca.pem is damaged");
		return MS_TEMP;
	}
	*fpr = cert_fingerprint(cert);
	X509_free(cert);
	return MS_OK;
}

/* add_certificates - the certificates of certs/ (or roots/) that end
 * within the window, the expired ones included */
static ms_err
add_certificates(report *r, bool roots, const char *ca_fpr)
{
	GPtrArray *fprs = NULL;
	ms_err err = certdb_list(r->store, roots, &fprs);

	for (guint i = 0; err == MS_OK && i < fprs->len; i++) {
		const char *fpr = g_ptr_array_index(fprs, i);
		const char *status, *kind;
		unsigned malformed;
		X509 *cert = NULL;
		bool own;
		time_t end;
		item *it;

		err = certdb_load(r->store, fpr, NULL, &cert);
		if (err == MS_NOTFOUND) {	/* removed meanwhile */
			err = MS_OK;
			continue;
		}
		if (err != MS_OK)
			break;
		if (!cert_ends_within(cert, r->days)) {
			X509_free(cert);
			continue;
		}
		if (!cert_end(cert, &end))
			end = r->now;	/* unreadable: told as ending now */
		err = cert_status(r->trust, cert, roots, r->days, &status);
		if (err != MS_OK) {
			X509_free(cert);
			break;
		}
		if (roots) {
			own = ca_fpr != NULL && strcmp(fpr, ca_fpr) == 0;
			kind = own ? "ca-root" : "root";
			it = item_add(r, kind, own, cert_name_text(
			    X509_get_subject_name(cert)), fpr, end, status);
		} else {
			GPtrArray *addrs = cert_addresses(cert, &malformed);

			own = certdb_has_key(r->store, fpr);
			kind = own ? "own-certificate" : "certificate";
			it = item_add(r, kind, own, addrs->len > 0 ?
			    cert_addresses_text(addrs) : cert_name_text(
			    X509_get_subject_name(cert)), fpr, end, status);
			it->addresses = g_ptr_array_new_with_free_func(g_free);
			for (guint a = 0; a < addrs->len; a++)
				g_ptr_array_add(it->addresses, g_strdup(
				    ((ms_addr *)g_ptr_array_index(addrs,
				    a))->text));
			g_ptr_array_free(addrs, TRUE);
		}
		X509_free(cert);
	}
	if (fprs != NULL)
		g_ptr_array_free(fprs, TRUE);
	return err;
}

/* add_crls - the CRLs past their nextUpdate: crl-sync refreshes each one
 * well before, so one that has passed says crl-sync does not run or
 * cannot reach the CA (a CRL due within the window is the normal case,
 * its nextUpdate being days away, and is not told) */
static ms_err
add_crls(report *r)
{
	GPtrArray *names = NULL;
	ms_err err = store_list(r->store, "crls", &names);

	for (guint i = 0; err == MS_OK && i < names->len; i++) {
		const char *name = g_ptr_array_index(names, i);
		const ASN1_TIME *next;
		X509_CRL *crl = NULL;
		struct tm tm;
		time_t end;

		err = crl_read(r->store, name, &crl);
		if (err != MS_OK)
			break;
		next = X509_CRL_get0_nextUpdate(crl);
		if (next != NULL && ASN1_TIME_to_tm(next, &tm) &&
		    (end = timegm(&tm)) < r->now) {
			char *shown = g_strdup_printf("crls/%s", name);

			item_add(r, "crl", false, cert_name_text(
			    X509_CRL_get_issuer(crl)), shown, end, "expired");
			g_free(shown);
		}
		X509_CRL_free(crl);
	}
	if (names != NULL)
		g_ptr_array_free(names, TRUE);
	return err;
}

/* add_pgp_keys - the keys of the keyring that end within the window, ours
 * (a secret part in the keyring) marked; no keyring, no keys */
static ms_err
add_pgp_keys(report *r)
{
	char *home = store_path(r->store, "gnupg", NULL);
	bool present = g_file_test(home, G_FILE_TEST_IS_DIR);
	GHashTable *secret;
	gpgme_ctx_t ctx = NULL;
	gpgme_error_t gerr;
	gpgme_key_t key;
	ms_err err;

	g_free(home);
	if (!present)
		return MS_OK;
	err = pgp_open(r->store, false, NULL, &ctx);
	if (err != MS_OK)
		return err;
	secret = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
	gerr = gpgme_op_keylist_start(ctx, NULL, 1);
	while (!gerr && !(gerr = gpgme_op_keylist_next(ctx, &key))) {
		if (key->fpr != NULL)
			g_hash_table_add(secret, g_strdup(key->fpr));
		gpgme_key_unref(key);
	}
	gpgme_op_keylist_end(ctx);
	if (gpgme_err_code(gerr) == GPG_ERR_EOF)
		gerr = gpgme_op_keylist_start(ctx, NULL, 0);
	while (!gerr && !(gerr = gpgme_op_keylist_next(ctx, &key))) {
		time_t end = pgp_key_end(key);

		if (key->fpr != NULL && expiry_within(end, r->now, r->days)) {
			bool own = g_hash_table_contains(secret, key->fpr);
			item *it = item_add(r, own ? "own-openpgp-key" :
			    "openpgp-key", own, pgp_key_addresses_text(key),
			    key->fpr, end, pgp_key_status(key, r->days));

			it->addresses = pgp_key_addresses(key);
		}
		gpgme_key_unref(key);
	}
	gpgme_op_keylist_end(ctx);
	g_hash_table_destroy(secret);
	if (gpgme_err_code(gerr) != GPG_ERR_EOF)
		err = pgp_error(gerr, "key listing");
	pgp_close(ctx);
	return err;
}

/* by_date - the soonest day first; on the same day ours first, then by
 * kind and identifier, so that the order never depends on the listing */
static gint
by_date(gconstpointer pa, gconstpointer pb)
{
	const item *a = *(item *const *)pa, *b = *(item *const *)pb;
	int c;

	long day_a = expiry_days_left(a->end, 0), day_b =
	    expiry_days_left(b->end, 0);

	if (day_a != day_b)
		return day_a < day_b ? -1 : 1;
	if (a->own != b->own)
		return a->own ? -1 : 1;
	c = strcmp(a->kind, b->kind);
	return c != 0 ? c : strcmp(a->id, b->id);
}

/* write_report - one line an item (nothing for none), or the JSON
 * document (an empty array for none) */
static ms_err
write_report(const report *r)
{
	GString *text = g_string_new(NULL);
	json_t *json = json_array();
	ms_err err = MS_OK;

	for (guint i = 0; i < r->items->len; i++) {
		const item *it = g_ptr_array_index(r->items, i);
		char *date = expiry_date(it->end);
		long left = expiry_days_left(it->end, r->now);

		if (opt_json) {
			json_t *object = json_object(), *list = json_array();

			for (guint a = 0; it->addresses != NULL &&
			    a < it->addresses->len; a++)
				json_array_append_new(list, jsonout_string(
				    g_ptr_array_index(it->addresses, a)));
			json_object_set_new(object, "kind",
			    jsonout_string(it->kind));
			json_object_set_new(object, "own", json_boolean(it->own));
			json_object_set_new(object, "identity",
			    jsonout_string(it->identity));
			json_object_set_new(object, "addresses", list);
			json_object_set_new(object, "id", jsonout_string(it->id));
			json_object_set_new(object, "date", jsonout_string(date));
			json_object_set_new(object, "days_left",
			    json_integer(left));
			json_object_set_new(object, "status",
			    jsonout_string(it->status));
			json_array_append_new(json, object);
		} else
			g_string_append_printf(text, "%s\t%s\t%s\t%s\t%ld\n",
			    it->kind, it->identity, it->id, date, left);
		g_free(date);
	}
	if (opt_json) {
		char *doc = jsonout_list(json);

		err = ritual_output(doc, strlen(doc));
		g_free(doc);
	} else if (text->len > 0)
		err = ritual_output(text->str, text->len);
	json_decref(json);
	g_string_free(text, TRUE);
	return err;
}

int
main(int argc, char **argv)
{
	static const ms_program prog = { usage, options };
	poptContext ctx = ritual_begin(argc, argv, &prog);
	const char **args = poptGetArgs(ctx);
	report r = { NULL, NULL, NULL, 0, EXPIRY_DAYS_DEFAULT, NULL };
	char *ca_fpr = NULL;
	ms_err err;

	if (args != NULL && args[0] != NULL)
		ritual_usage_error("mailseal-expiry takes no operands");
	if (opt_days != NULL && !expiry_days_parse(opt_days, &r.days))
		ritual_usage_error("--days takes a number of days from 0 to %d",
		    EXPIRY_DAYS_MAX);
	r.now = time(NULL);
	r.items = g_ptr_array_new_with_free_func(item_free);
	err = crypto_init();
	/* read only: a store that is not there is an error, never made */
	if (err == MS_OK)
		err = settings_open_store(ritual_opts.store, false, &r.store,
		    &r.settings);
	if (err == MS_OK)
		err = trust_open(r.store, r.settings, &r.trust);
	if (err == MS_OK)
		err = ca_fingerprint(r.store, &ca_fpr);
	if (err == MS_OK)
		err = add_certificates(&r, false, NULL);
	if (err == MS_OK)
		err = add_certificates(&r, true, ca_fpr);
	if (err == MS_OK)
		err = add_crls(&r);
	if (err == MS_OK)
		err = add_pgp_keys(&r);
	if (err == MS_OK) {
		g_ptr_array_sort(r.items, by_date);
		err = write_report(&r);
	} else
		diag_error("the store cannot be read: no report");
	/* the store unreadable for any reason (missing, damaged, busy) is
	 * one status for cron: 75, try again and look */
	if (err != MS_OK)
		err = MS_TEMP;
	g_free(ca_fpr);
	g_ptr_array_free(r.items, TRUE);
	trust_free(r.trust);
	settings_free(r.settings);
	store_close(r.store);
	ritual_end(ctx, err);
}
