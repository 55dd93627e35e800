/*
 * smime-ca - the built-in CA: a root in the root store, end-user
 * certificates with the S/MIME baseline profile, PKCS#12 export, and
 * revocation with CRLs (smime-ca(1)).
 */
#include "ca.h"
#include "cert.h"
#include "certdb.h"
#include "trust.h"
#include "crlstore.h"
#include "diag.h"
#include "jsonout.h"
#include "mslimits.h"
#include "ritual.h"
#include "secret.h"
#include "settings.h"
#include "store.h"

#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/pkcs12.h>
#include <openssl/rand.h>
#include <openssl/x509v3.h>
#include <glib/gstdio.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>


static const char usage[] =
"usage: smime-ca [--store DIR] init [--key rsa3072 | ec-p256] [--days N]\n"
"                [--crl-url URL] NAME\n"
"       smime-ca [--store DIR] renew [--key rsa3072 | ec-p256] [--days N]\n"
"                [--crl-url URL]\n"
"       smime-ca [--store DIR] issue [--key rsa3072 | ec-p256] [--days N] EMAIL\n"
"                [DISPLAY-NAME]\n"
"       smime-ca [--store DIR] sign-csr [--days N] FILE\n"
"       smime-ca [--store DIR] export [--legacy] --password-file FILE\n"
"                FINGERPRINT\n"
"       smime-ca [--store DIR] revoke [--days N] FINGERPRINT\n"
"       smime-ca [--store DIR] crl [--days N]\n"
"       smime-ca [--store DIR] list [--json]\n"
"       smime-ca -h | --version\n";

static const char *opt_key, *opt_crl_url, *opt_password_file;
static int opt_days = -1, opt_legacy, opt_json;

static struct poptOption options[] = {
	{ "key", '\0', POPT_ARG_STRING, &opt_key, 0, NULL, NULL },
	{ "days", '\0', POPT_ARG_INT, &opt_days, 0, NULL, NULL },
	{ "crl-url", '\0', POPT_ARG_STRING, &opt_crl_url, 0, NULL, NULL },
	{ "legacy", '\0', POPT_ARG_NONE, &opt_legacy, 0, NULL, NULL },
	{ "password-file", '\0', POPT_ARG_STRING, &opt_password_file, 0,
	  NULL, NULL },
	{ "json", '\0', POPT_ARG_NONE, &opt_json, 0, NULL, NULL },
	POPT_TABLEEND
};

static const char *
key_option(void)
{
	if (opt_key == NULL)
		return "rsa3072";
	if (strcmp(opt_key, "rsa3072") != 0 && strcmp(opt_key, "ec-p256") != 0)
		ritual_usage_error("--key is rsa3072 or ec-p256");
	return opt_key;
}

/* root_options_check - --days and --crl-url of init and renew */
static void
root_options_check(int days)
{
	if (days < 1 || days > 36500)
		ritual_usage_error("--days out of range");
	if (opt_crl_url != NULL && !ca_url_ok(opt_crl_url))
		ritual_usage_error("--crl-url must be an http or https URL "
		    "without spaces or commas");
}

static ms_err
cmd_init(ms_admin *admin, const char **args)
{
	ms_store *store = admin->store;
	const char *type = key_option();
	int days = opt_days < 0 ? ROOT_DAYS_DEFAULT : opt_days;
	char *fpr = NULL;
	ms_err err;

	if (args[0] == NULL || args[1] != NULL)
		ritual_usage_error("init needs exactly one NAME");
	if (!ca_text_ok(args[0], NAME_MAX_CHARS))
		ritual_usage_error("NAME must be 1 to 64 printable characters");
	root_options_check(days);
	err = ca_init(store, args[0], type, days, opt_crl_url, &fpr);
	if (err == MS_OK) {
		printf("%s\n", fpr);
		if (opt_crl_url == NULL)
			diag_warn("no --crl-url: certificates will carry no "
			    "CRL distribution point");
	}
	g_free(fpr);
	return err;
}

static ms_err
cmd_renew(ms_admin *admin, const char **args)
{
	const char *type = opt_key != NULL ? key_option() : NULL;
	int days = opt_days < 0 ? ROOT_DAYS_DEFAULT : opt_days;
	char *fpr = NULL;
	ms_err err;

	if (args[0] != NULL)
		ritual_usage_error("renew takes no operands");
	root_options_check(days);
	err = ca_renew(admin->store, type, days, opt_crl_url, &fpr);
	if (err == MS_OK)
		printf("%s\n", fpr);
	g_free(fpr);
	return err;
}

static ms_err
cmd_issue(ms_admin *admin, const char **args)
{
	ms_store *store = admin->store;
	const char *type = key_option();
	int days = opt_days < 0 ? ISSUE_DAYS_DEFAULT : opt_days;
	const char *display, *why = NULL;
	char *fpr = NULL;
	ms_addr addr;
	ms_ca c;
	ms_err err;

	if (args[0] == NULL || (args[1] != NULL && args[2] != NULL))
		ritual_usage_error("issue needs EMAIL and an optional "
		    "DISPLAY-NAME");
	if (days < 1 || days > ISSUE_DAYS_MAX)
		ritual_usage_error("--days must be 1 to %d", ISSUE_DAYS_MAX);
	if (addr_parse_str(args[0], &addr, &why) != MS_OK)
		ritual_usage_error("invalid address: %s", why);
	display = args[1];
	if (display != NULL && !ca_text_ok(display, NAME_MAX_CHARS)) {
		addr_clear(&addr);
		ritual_usage_error("DISPLAY-NAME must be 1 to 64 printable "
		    "characters");
	}
	err = ca_load(store, &c);
	if (err == MS_OK) {
		err = ca_issue(store, &c, &addr, display, type, days, &fpr);
		if (err == MS_OK)
			printf("%s\n", fpr);
		ca_free(&c);
	}
	g_free(fpr);
	addr_clear(&addr);
	return err;
}

/* read_request - a PKCS#10 request in PEM or DER from path, at most
 * LIMIT_STORE_OBJECT bytes, the whole file and nothing else */
static X509_REQ *
read_request(const char *path)
{
	GError *error = NULL;
	char *data = NULL;
	gsize len = 0;
	X509_REQ *req = NULL;
	GStatBuf st;

	if (g_stat(path, &st) != 0 || !S_ISREG(st.st_mode) ||
	    (guint64)st.st_size > LIMIT_STORE_OBJECT) {
		diag_error("%s: not a readable file of at most %zu bytes",
		    path, (size_t)LIMIT_STORE_OBJECT);
		return NULL;
	}
	if (!g_file_get_contents(path, &data, &len, &error)) {
		diag_error("%s", error->message);
		g_error_free(error);
		return NULL;
	}
	if (len <= LIMIT_STORE_OBJECT) {
		BIO *bio = BIO_new_mem_buf(data, (int)len);
		const unsigned char *p = (const unsigned char *)data;

		req = bio ? PEM_read_bio_X509_REQ(bio, NULL, NULL, NULL) :
		    NULL;
		BIO_free(bio);
		if (req == NULL) {
			req = d2i_X509_REQ(NULL, &p, (long)len);
			if (req != NULL && p != (const unsigned char *)data +
			    len) {
				X509_REQ_free(req);
				req = NULL;
			}
		}
	}
	ERR_clear_error();
	g_free(data);
	if (req == NULL)
		diag_error("%s: not a PKCS#10 certificate request", path);
	return req;
}

static ms_err
cmd_sign_csr(ms_admin *admin, const char **args)
{
	int days = opt_days < 0 ? ISSUE_DAYS_DEFAULT : opt_days;
	char *fpr = NULL;
	X509_REQ *req;
	ms_ca c;
	ms_err err;

	if (args[0] == NULL || args[1] != NULL)
		ritual_usage_error("sign-csr needs exactly one FILE");
	if (days < 1 || days > ISSUE_DAYS_MAX)
		ritual_usage_error("--days must be 1 to %d", ISSUE_DAYS_MAX);
	req = read_request(args[0]);
	if (req == NULL)
		return MS_DATA;
	err = ca_load(admin->store, &c);
	if (err == MS_OK) {
		err = ca_sign_request(admin->store, &c, req, days, &fpr);
		if (err == MS_OK)
			printf("%s\n", fpr);
		ca_free(&c);
	}
	g_free(fpr);
	X509_REQ_free(req);
	return err;
}

static ms_err
cmd_export(ms_admin *admin, const char **args)
{
	ms_store *store = admin->store;
	const char *fpr;
	char *password;
	X509 *cert = NULL;
	EVP_PKEY *key = NULL;
	STACK_OF(X509) *chain = NULL;
	ms_trust *trust = NULL;
	PKCS12 *p12 = NULL;
	unsigned malformed;
	GPtrArray *addrs = NULL;
	const char *friendly = NULL;
	unsigned char *der = NULL;
	int der_len;
	int nid = opt_legacy ? NID_pbe_WithSHA1And3_Key_TripleDES_CBC :
	    NID_aes_256_cbc;
	ms_err err;

	if (args[0] == NULL || args[1] != NULL)
		ritual_usage_error("export needs exactly one FINGERPRINT");
	fpr = args[0];
	if (!cert_fingerprint_ok(fpr))
		ritual_usage_error("a FINGERPRINT is 64 lowercase hex digits");
	if (opt_password_file == NULL)
		ritual_usage_error("export needs --password-file");
	/* the administrator's file, named in the diagnostic */
	password = secret_read_file(opt_password_file);
	if (password == NULL)
		return MS_CONFIG;
	err = certdb_load(store, fpr, NULL, &cert);
	if (err == MS_NOTFOUND)
		diag_error("no certificate %s in the store", fpr);
	if (err == MS_OK) {
		err = certdb_key_load(store, fpr, &key);
		if (err == MS_NOTFOUND)
			diag_error("no private key for %s", fpr);
	}
	if (err == MS_OK)
		err = trust_open(store, admin->settings, &trust);
	if (err != MS_OK)
		goto out;
	chain = trust_chain(trust, cert);
	addrs = cert_addresses(cert, &malformed);
	if (addrs->len > 0)
		friendly = ((ms_addr *)g_ptr_array_index(addrs, 0))->text;
	err = MS_INTERNAL;
	/* modern: PBES2 with PBKDF2-HMAC-SHA256 and AES-256-CBC; legacy:
	 * 3DES PBE for readers that know nothing newer (pki.md section 2).
	 * The MAC is set separately to choose its digest. */
	p12 = PKCS12_create_ex(password, friendly, key, cert, chain, nid, nid,
	    P12_ITERATIONS, -1, 0, NULL, NULL);
	if (p12 == NULL || !PKCS12_set_mac(p12, password, -1, NULL, 0,
	    P12_ITERATIONS, opt_legacy ? EVP_sha1() : EVP_sha256()))
		goto out;
	der_len = i2d_PKCS12(p12, &der);
	if (der_len <= 0)
		goto out;
	err = ritual_output(der, (size_t)der_len);
	if (err == MS_OK)
		diag_info("exported PKCS#12 for %s", fpr);
out:
	if (err == MS_INTERNAL)
		crypto_log_errors("export");
	secret_free(password);
	if (der != NULL)
		OPENSSL_clear_free(der, (size_t)der_len);
	if (addrs != NULL)
		g_ptr_array_free(addrs, TRUE);
	PKCS12_free(p12);
	sk_X509_pop_free(chain, X509_free);
	trust_free(trust);
	EVP_PKEY_free(key);
	X509_free(cert);
	return err;
}

static int
crl_days(void)
{
	int days = opt_days < 0 ? CRL_DAYS_DEFAULT : opt_days;

	if (days < 1 || days > CRL_DAYS_MAX)
		ritual_usage_error("--days for a CRL must be 1 to %d",
		    CRL_DAYS_MAX);
	return days;
}

static ms_err
cmd_revoke(ms_admin *admin, const char **args)
{
	ms_store *store = admin->store;
	int days = crl_days();
	BIO *pem;
	ms_ca c;
	ms_err err;

	if (args[0] == NULL || args[1] != NULL)
		ritual_usage_error("revoke needs exactly one FINGERPRINT");
	if (!cert_fingerprint_ok(args[0]))
		ritual_usage_error("a FINGERPRINT is 64 lowercase hex digits");
	err = ca_load(store, &c);
	if (err != MS_OK)
		return err;
	pem = BIO_new_fp(stdout, BIO_NOCLOSE);
	err = ca_revoke(store, &c, args[0], days, pem);
	BIO_free(pem);
	ca_free(&c);
	return err;
}

static ms_err
cmd_crl(ms_admin *admin, const char **args)
{
	ms_store *store = admin->store;
	ms_ca c;
	int days = crl_days();
	BIO *pem;
	ms_err err;

	if (args[0] != NULL)
		ritual_usage_error("crl takes no operands");
	err = ca_load(store, &c);
	if (err != MS_OK)
		return err;
	pem = BIO_new_fp(stdout, BIO_NOCLOSE);
	/* every root that has not expired signs the CRL of what it issued;
	 * the current one always (the lock is held) */
	for (guint i = 0; err == MS_OK && i < c.roots->len; i++) {
		const ca_root *root = g_ptr_array_index(c.roots, i);

		if (i + 1 == c.roots->len || !ca_root_expired(root))
			err = ca_publish_crl(store, &c, root, days, pem);
	}
	BIO_free(pem);
	ca_free(&c);
	return err;
}

/* issued_json - one listed certificate as a JSON object */
static json_t *
issued_json(const ca_issued *item, GPtrArray *addrs, const char *subject,
    const char *not_before, const char *not_after)
{
	json_t *object = json_object(), *list = json_array();

	for (guint a = 0; a < addrs->len; a++)
		json_array_append_new(list, jsonout_string(
		    ((ms_addr *)g_ptr_array_index(addrs, a))->text));
	json_object_set_new(object, "fingerprint",
	    jsonout_string(item->fingerprint));
	json_object_set_new(object, "serial", jsonout_string(item->serial));
	json_object_set_new(object, "subject", jsonout_string(subject));
	json_object_set_new(object, "addresses", list);
	json_object_set_new(object, "not_before", jsonout_string(not_before));
	json_object_set_new(object, "not_after", jsonout_string(not_after));
	json_object_set_new(object, "status",
	    jsonout_string(ca_status_name(item->status)));
	json_object_set_new(object, "root", jsonout_string(item->root));
	return object;
}

static ms_err
cmd_list(ms_admin *admin, const char **args)
{
	GString *out = g_string_new(NULL);
	json_t *json = json_array();
	GPtrArray *issued = NULL;
	ms_ca c;
	ms_err err;

	if (args[0] != NULL)
		ritual_usage_error("list takes no operands");
	err = ca_load(admin->store, &c);
	if (err == MS_OK) {
		err = ca_issued_list(admin->store, &c, &issued);
		ca_free(&c);
	}
	for (guint i = 0; err == MS_OK && i < issued->len; i++) {
		const ca_issued *item = g_ptr_array_index(issued, i);
		unsigned malformed;
		GPtrArray *addrs = cert_addresses(item->cert, &malformed);
		char *subject = cert_name_text(X509_get_subject_name(
		    item->cert));
		char *not_before = cert_date(X509_get0_notBefore(item->cert));
		char *not_after = cert_date(X509_get0_notAfter(item->cert));

		if (opt_json)
			json_array_append_new(json, issued_json(item, addrs,
			    subject, not_before, not_after));
		else {
			g_string_append_printf(out, "%s\t%s\t%s\t%s\t%s\t",
			    item->fingerprint, item->serial, not_before,
			    not_after, ca_status_name(item->status));
			for (guint a = 0; a < addrs->len; a++)
				g_string_append_printf(out, "%s%s", a ? "," :
				    "", ((ms_addr *)g_ptr_array_index(addrs,
				    a))->text);
			g_string_append_printf(out, "%s\t%s\t%s\n",
			    addrs->len ? "" : "-", subject, item->root);
		}
		g_ptr_array_free(addrs, TRUE);
		g_free(subject);
		g_free(not_before);
		g_free(not_after);
	}
	if (err == MS_OK && opt_json) {
		char *text = jsonout_list(json);

		g_string_assign(out, text);
		g_free(text);
	}
	if (err == MS_OK)
		err = ritual_output(out->str, out->len);
	if (issued != NULL)
		g_ptr_array_free(issued, TRUE);
	json_decref(json);
	g_string_free(out, TRUE);
	return err;
}

static const ms_command commands[] = {
	{ "init", cmd_init, true, "key days crl-url" },
	{ "renew", cmd_renew, true, "key days crl-url" },
	{ "issue", cmd_issue, true, "key days" },
	{ "sign-csr", cmd_sign_csr, true, "days" },
	{ "export", cmd_export, false, "legacy password-file" },
	{ "revoke", cmd_revoke, true, "days" },
	{ "crl", cmd_crl, true, "days" },
	{ "list", cmd_list, false, "json" },
	{ NULL, NULL, false, NULL }
};

int
main(int argc, char **argv)
{
	/* quiet: the audit lines go to syslog only */
	static const ms_admin_program prog = { { usage, options }, commands,
	    true, crypto_init, NULL, NULL };

	ritual_admin_main(argc, argv, &prog);
}
