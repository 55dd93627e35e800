/*
 * certstore - the certificate store and the root store: import, list,
 * find, verify, export and remove certificates (certstore(1)).
 */
#include "cert.h"
#include "certdb.h"
#include "certstatus.h"
#include "trust.h"
#include "crlstore.h"
#include "pkcs12.h"
#include "diag.h"
#include "expiry.h"
#include "jsonout.h"
#include "mslimits.h"
#include "ritual.h"
#include "secret.h"
#include "settings.h"
#include "store.h"

#include <openssl/cms.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>


static const char usage[] =
"usage: certstore [--store DIR] import [--roots] [--password-file FILE] FILE ...\n"
"       certstore [--store DIR] list [--roots] [--json] [--expiring DAYS]\n"
"       certstore [--store DIR] find [-v | --verbose] [--encrypt | --sign]\n"
"                 ADDRESS\n"
"       certstore [--store DIR] verify [--encrypt | --sign] [--address ADDRESS]\n"
"                 FINGERPRINT\n"
"       certstore [--store DIR] export FINGERPRINT\n"
"       certstore [--store DIR] remove FINGERPRINT\n"
"       certstore -h | --version\n";

static int opt_roots, opt_json, opt_encrypt, opt_sign, opt_verbose;
static const char *opt_password_file, *opt_address, *opt_expiring;

static struct poptOption options[] = {
	{ "roots", '\0', POPT_ARG_NONE, &opt_roots, 0, NULL, NULL },
	{ "json", '\0', POPT_ARG_NONE, &opt_json, 0, NULL, NULL },
	{ "encrypt", '\0', POPT_ARG_NONE, &opt_encrypt, 0, NULL, NULL },
	{ "sign", '\0', POPT_ARG_NONE, &opt_sign, 0, NULL, NULL },
	{ "verbose", 'v', POPT_ARG_NONE, &opt_verbose, 0, NULL, NULL },
	{ "password-file", '\0', POPT_ARG_STRING, &opt_password_file, 0,
	  NULL, NULL },
	{ "address", '\0', POPT_ARG_STRING, &opt_address, 0, NULL, NULL },
	{ "expiring", '\0', POPT_ARG_STRING, &opt_expiring, 0, NULL, NULL },
	POPT_TABLEEND
};

/* the objects parsed from the import files, written only when all parse */
typedef struct import_set {
	STACK_OF(X509) *certs;
	STACK_OF(X509_CRL) *crls;
	GPtrArray *keys;	/* EVP_PKEY * */
} import_set;

static int
password_cb(char *buf, int size, int rwflag, void *userdata)
{
	const char *pw = userdata;
	size_t len;

	(void)rwflag;
	if (pw == NULL)
		return -1;
	len = strlen(pw);
	if (len > (size_t)size)
		return -1;
	memcpy(buf, pw, len);
	return (int)len;
}

/* add_cms_bundle - certificates and CRLs of a PKCS#7/CMS bundle */
static bool
add_cms_bundle(const unsigned char *der, long len, import_set *set)
{
	const unsigned char *p = der;
	CMS_ContentInfo *cms = d2i_CMS_ContentInfo(NULL, &p, len);
	STACK_OF(X509) *certs;
	STACK_OF(X509_CRL) *crls;

	if (cms == NULL || p != der + len) {
		CMS_ContentInfo_free(cms);
		return false;
	}
	certs = CMS_get1_certs(cms);
	crls = CMS_get1_crls(cms);
	for (int i = 0; i < sk_X509_num(certs); i++) {
		X509 *c = sk_X509_value(certs, i);

		X509_up_ref(c);
		sk_X509_push(set->certs, c);
	}
	for (int i = 0; i < sk_X509_CRL_num(crls); i++) {
		X509_CRL *c = sk_X509_CRL_value(crls, i);

		X509_CRL_up_ref(c);
		sk_X509_CRL_push(set->crls, c);
	}
	sk_X509_pop_free(certs, X509_free);
	sk_X509_CRL_pop_free(crls, X509_CRL_free);
	CMS_ContentInfo_free(cms);
	return true;
}

/* parse_pem - every object of a PEM file */
static ms_err
parse_pem(const char *shown, const unsigned char *data, size_t len,
    const char *password, import_set *set)
{
	BIO *bio = BIO_new_mem_buf(data, (int)len);
	char *name = NULL, *header = NULL;
	unsigned char *der = NULL;
	long der_len = 0;
	int objects = 0;
	ms_err err = MS_OK;

	while (PEM_read_bio(bio, &name, &header, &der, &der_len) == 1) {
		const unsigned char *p = der;

		objects++;
		if (strcmp(name, "CERTIFICATE") == 0 ||
		    strcmp(name, "X509 CERTIFICATE") == 0) {
			X509 *c = d2i_X509(NULL, &p, der_len);

			if (c == NULL || p != der + der_len) {
				X509_free(c);
				diag_error("%s: damaged certificate", shown);
				err = MS_DATA;
			} else
				sk_X509_push(set->certs, c);
		} else if (strcmp(name, "X509 CRL") == 0) {
			X509_CRL *c = d2i_X509_CRL(NULL, &p, der_len);

			if (c == NULL || p != der + der_len) {
				X509_CRL_free(c);
				diag_error("%s: damaged CRL", shown);
				err = MS_DATA;
			} else
				sk_X509_CRL_push(set->crls, c);
		} else if (strcmp(name, "PKCS7") == 0 ||
		    strcmp(name, "CMS") == 0) {
			if (!add_cms_bundle(der, der_len, set)) {
				diag_error("%s: damaged PKCS#7 bundle", shown);
				err = MS_DATA;
			}
		} else if (strcmp(name, "PRIVATE KEY") == 0 ||
		    strcmp(name, "ENCRYPTED PRIVATE KEY") == 0 ||
		    strcmp(name, "RSA PRIVATE KEY") == 0 ||
		    strcmp(name, "EC PRIVATE KEY") == 0) {
			/* re-encode the one block and let OpenSSL decode any
			 * private key form, decrypting with the password */
			BIO *one = BIO_new(BIO_s_secmem());
			EVP_PKEY *key = NULL;

			if (one != NULL && PEM_write_bio(one, name, header, der,
			    der_len))
				key = PEM_read_bio_PrivateKey(one, NULL,
				    password_cb, (void *)password);
			BIO_free(one);
			if (key == NULL) {
				diag_error("%s: cannot read private key "
				    "(damaged or wrong password)", shown);
				err = MS_DATA;
			} else
				g_ptr_array_add(set->keys, key);
		} else {
			char *masked = diag_mask(name, strlen(name));

			diag_error("%s: unsupported PEM object \"%s\"", shown,
			    masked);
			free(masked);
			err = MS_DATA;
		}
		OPENSSL_cleanse(der, (size_t)der_len);
		OPENSSL_free(name);
		OPENSSL_free(header);
		OPENSSL_free(der);
		name = header = NULL;
		der = NULL;
		if (err != MS_OK)
			break;
	}
	ERR_clear_error();
	BIO_free(bio);
	if (err == MS_OK && objects == 0) {
		diag_error("%s: no PEM objects", shown);
		err = MS_DATA;
	}
	return err;
}

/* parse_der - a DER certificate, CRL, PKCS#7 bundle or PKCS#12 */
static ms_err
parse_der(const char *shown, const unsigned char *data, size_t len,
    const char *password, import_set *set)
{
	const unsigned char *p;
	X509 *cert;
	X509_CRL *crl;
	EVP_PKEY *key;
	X509 *leaf;
	STACK_OF(X509) *ca;
	int legacy;

	if (len > LONG_MAX)
		return MS_DATA;
	p = data;
	cert = d2i_X509(NULL, &p, (long)len);
	if (cert != NULL && p == data + len) {
		sk_X509_push(set->certs, cert);
		return MS_OK;
	}
	X509_free(cert);
	p = data;
	crl = d2i_X509_CRL(NULL, &p, (long)len);
	if (crl != NULL && p == data + len) {
		sk_X509_CRL_push(set->crls, crl);
		return MS_OK;
	}
	X509_CRL_free(crl);
	ERR_clear_error();
	if (add_cms_bundle(data, (long)len, set))
		return MS_OK;
	ERR_clear_error();
	switch (p12_read(data, len, password, &key, &leaf, &ca, &legacy)) {
	case P12_OK:
		if (leaf != NULL)
			sk_X509_push(set->certs, leaf);
		if (key != NULL)
			g_ptr_array_add(set->keys, key);
		for (int i = 0; i < sk_X509_num(ca); i++) {
			X509 *c = sk_X509_value(ca, i);

			X509_up_ref(c);
			sk_X509_push(set->certs, c);
		}
		sk_X509_pop_free(ca, X509_free);
		if (legacy)
			diag_warn("%s: PKCS#12 with legacy encryption "
			    "(read with OpenSSL's legacy provider)", shown);
		return MS_OK;
	case P12_BAD_PASSWORD:
		diag_error("%s: PKCS#12 password wrong (its integrity check "
		    "fails)", shown);
		return MS_DATA;
	case P12_UNSUPPORTED:
		diag_error("%s: PKCS#12 encrypted with an algorithm OpenSSL "
		    "cannot use, even with its legacy provider", shown);
		return MS_DATA;
	case P12_NO_MAC:
		diag_error("%s: PKCS#12 without an integrity check (MAC): "
		    "not read", shown);
		return MS_DATA;
	case P12_DAMAGED:
		diag_error("%s: PKCS#12 damaged or password wrong", shown);
		return MS_DATA;
	case P12_NOT_PKCS12:
		break;
	}
	diag_error("%s: not a certificate, CRL, PKCS#7 or PKCS#12 file",
	    shown);
	return MS_DATA;
}

/* read_input - a whole import file (or stdin), capped */
static ms_err
read_input(const char *path, GByteArray **out)
{
	FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "rb");
	GByteArray *buf;
	ms_err err = MS_OK;

	*out = NULL;
	if (f == NULL) {
		diag_error("cannot open %s: %s", path, strerror(errno));
		return MS_DATA;
	}
	buf = g_byte_array_new();
	for (;;) {
		guint8 chunk[65536];
		size_t n = fread(chunk, 1, sizeof(chunk), f);

		if (n > 0) {
			if (buf->len + n > LIMIT_IMPORT_FILE) {
				diag_error("%s: larger than the import limit",
				    path);
				err = MS_DATA;
				break;
			}
			g_byte_array_append(buf, chunk, (guint)n);
		}
		if (n < sizeof(chunk)) {
			if (ferror(f)) {
				diag_error("read %s: %s", path,
				    strerror(errno));
				err = MS_TEMP;
			}
			break;
		}
	}
	if (f != stdin)
		fclose(f);
	if (err != MS_OK) {
		g_byte_array_free(buf, TRUE);
		return err;
	}
	*out = buf;
	return MS_OK;
}

static void
free_key(gpointer key)
{
	EVP_PKEY_free(key);
}

static void
free_cert(gpointer cert)
{
	X509_free(cert);
}

static ms_err
cmd_import(ms_admin *admin, const char **files)
{
	ms_store *store = admin->store;
	import_set set;
	char *password = NULL;
	ms_trust *trust = NULL;
	ms_err err = MS_OK;
	GPtrArray *key_owner;
	const char *why = NULL;

	if (files == NULL || files[0] == NULL)
		ritual_usage_error("import needs at least one FILE");
	if (opt_password_file != NULL) {
		/* the administrator's file, named in the diagnostic */
		password = secret_read_file(opt_password_file);
		if (password == NULL)
			return MS_CONFIG;
	}
	set.certs = sk_X509_new_null();
	set.crls = sk_X509_CRL_new_null();
	set.keys = g_ptr_array_new_with_free_func(free_key);
	key_owner = g_ptr_array_new_with_free_func(free_cert);

	/* parse everything before the first write: all or nothing */
	for (int i = 0; files[i] != NULL && err == MS_OK; i++) {
		GByteArray *data;
		char *shown = diag_mask(files[i], strlen(files[i]));

		err = read_input(files[i], &data);
		if (err == MS_OK) {
			if (g_strstr_len((const char *)data->data,
			    (gssize)data->len, "-----BEGIN ") != NULL)
				err = parse_pem(shown, data->data, data->len,
				    password, &set);
			else
				err = parse_der(shown, data->data, data->len,
				    password, &set);
			OPENSSL_cleanse(data->data, data->len);
			g_byte_array_free(data, TRUE);
		}
		free(shown);
	}
	secret_free(password);
	/* every key must belong to one of the certificates imported */
	for (guint k = 0; err == MS_OK && k < set.keys->len; k++) {
		EVP_PKEY *key = g_ptr_array_index(set.keys, k);
		X509 *owner = NULL;

		for (int c = 0; c < sk_X509_num(set.certs) && !owner; c++) {
			X509 *cert = sk_X509_value(set.certs, c);

			if (X509_check_private_key(cert, key) == 1) {
				X509_up_ref(cert);
				owner = cert;
			}
		}
		ERR_clear_error();
		if (owner == NULL) {
			diag_error("a private key has no matching certificate "
			    "in the files imported");
			err = MS_DATA;
		} else
			g_ptr_array_add(key_owner, owner);
	}
	if (err == MS_OK && opt_roots) {
		for (int c = 0; c < sk_X509_num(set.certs); c++)
			if (!cert_is_ca(sk_X509_value(set.certs, c)) &&
			    !(X509_get_extension_flags(sk_X509_value(set.certs,
			    c)) & EXFLAG_SS)) {
				diag_error("--roots: a certificate is neither "
				    "a CA nor self-signed");
				err = MS_DATA;
				break;
			}
	}
	/* certificates first, so CRLs can find their issuers */
	for (int c = 0; err == MS_OK && c < sk_X509_num(set.certs); c++) {
		X509 *cert = sk_X509_value(set.certs, c);
		bool was_new;
		char *fpr = cert_fingerprint(cert);

		err = certdb_add(store, cert, opt_roots, &was_new);
		if (err == MS_OK)
			printf("%s %s\n", opt_roots ? "root" : "certificate",
			    fpr);
		g_free(fpr);
	}
	for (guint k = 0; err == MS_OK && k < set.keys->len; k++) {
		X509 *owner = g_ptr_array_index(key_owner, k);
		char *fpr = cert_fingerprint(owner);

		err = certdb_key_save(store, owner,
		    g_ptr_array_index(set.keys, k));
		if (err == MS_OK)
			printf("key %s\n", fpr);
		g_free(fpr);
	}
	if (err == MS_OK && sk_X509_CRL_num(set.crls) > 0)
		err = trust_open(store, admin->settings, &trust);
	for (int c = 0; err == MS_OK && c < sk_X509_CRL_num(set.crls); c++) {
		char *file = NULL;

		err = crl_install(store, trust, sk_X509_CRL_value(set.crls, c),
		    &why, &file);
		if (err == MS_OK)
			printf("crl %s\n", file);
		else if (err == MS_DATA)
			diag_error("CRL refused: %s", why);
		g_free(file);
	}
	trust_free(trust);
	sk_X509_pop_free(set.certs, X509_free);
	sk_X509_CRL_pop_free(set.crls, X509_CRL_free);
	g_ptr_array_free(set.keys, TRUE);
	g_ptr_array_free(key_owner, TRUE);
	return err;
}

static char *
serial_hex(X509 *cert)
{
	BIGNUM *bn = ASN1_INTEGER_to_BN(X509_get0_serialNumber(cert), NULL);
	char *hex = bn ? BN_bn2hex(bn) : NULL, *out;

	out = g_ascii_strdown(hex ? hex : "?", -1);
	OPENSSL_free(hex);
	BN_free(bn);
	return out;
}

static ms_err
cmd_list(ms_admin *admin, const char **args)
{
	ms_store *store = admin->store;
	GPtrArray *fprs = NULL;
	json_t *json = json_array();
	unsigned long window = EXPIRY_DAYS_DEFAULT;
	ms_trust *trust = NULL;
	const char *status;
	ms_err err;

	if (args[0] != NULL)
		ritual_usage_error("list takes no operands");
	if (opt_expiring != NULL && !expiry_days_parse(opt_expiring,
	    &window))
		ritual_usage_error("--expiring takes a number of days from 0 "
		    "to %d", EXPIRY_DAYS_MAX);
	err = trust_open(store, admin->settings, &trust);
	if (err == MS_OK)
		err = certdb_list(store, opt_roots, &fprs);
	for (guint i = 0; err == MS_OK && i < fprs->len; i++) {
		const char *fpr = g_ptr_array_index(fprs, i);
		X509 *cert = NULL;
		unsigned malformed;
		GPtrArray *addrs;
		char *subject, *issuer, *nb, *na, *serial;
		bool has_key;
		ms_err lerr;

		lerr = certdb_load(store, fpr, NULL, &cert);
		if (lerr == MS_NOTFOUND)
			continue;
		if (lerr == MS_OK && opt_expiring != NULL &&
		    !cert_ends_within(cert, window)) {
			X509_free(cert);
			continue;
		}
		if (lerr == MS_OK)
			lerr = cert_status(trust, cert, opt_roots, window,
			    &status);
		if (lerr != MS_OK) {
			X509_free(cert);
			err = lerr;
			break;
		}
		addrs = cert_addresses(cert, &malformed);
		subject = cert_name_text(X509_get_subject_name(cert));
		issuer = cert_name_text(X509_get_issuer_name(cert));
		nb = cert_date(X509_get0_notBefore(cert));
		na = cert_date(X509_get0_notAfter(cert));
		serial = serial_hex(cert);
		has_key = certdb_has_key(store, fpr);
		if (opt_json) {
			json_t *object = json_object(), *list = json_array();

			for (guint a = 0; a < addrs->len; a++) {
				ms_addr *ad = g_ptr_array_index(addrs, a);

				json_array_append_new(list,
				    jsonout_string(ad->text));
			}
			json_object_set_new(object, "fingerprint",
			    jsonout_string(fpr));
			json_object_set_new(object, "subject",
			    jsonout_string(subject));
			json_object_set_new(object, "issuer",
			    jsonout_string(issuer));
			json_object_set_new(object, "serial",
			    jsonout_string(serial));
			json_object_set_new(object, "not_before",
			    jsonout_string(nb));
			json_object_set_new(object, "not_after",
			    jsonout_string(na));
			json_object_set_new(object, "addresses", list);
			json_object_set_new(object, "has_key",
			    json_boolean(has_key));
			json_object_set_new(object, "root",
			    json_boolean(opt_roots));
			json_object_set_new(object, "status",
			    jsonout_string(status));
			json_array_append_new(json, object);
		} else {
			char *alist = cert_addresses_text(addrs);

			printf("%s\t%s\t%s\t%s\t%s\t%s\n", fpr, na, alist,
			    has_key ? "key" : "-", status, subject);
			g_free(alist);
		}
		g_ptr_array_free(addrs, TRUE);
		g_free(subject);
		g_free(issuer);
		g_free(nb);
		g_free(na);
		g_free(serial);
		X509_free(cert);
	}
	if (err == MS_OK && opt_json) {
		char *text = jsonout_list(json);

		err = ritual_output(text, strlen(text));
		g_free(text);
	}
	json_decref(json);
	if (fprs != NULL)
		g_ptr_array_free(fprs, TRUE);
	trust_free(trust);
	return err;
}

static cert_purpose
chosen_purpose(void)
{
	if (opt_encrypt && opt_sign)
		ritual_usage_error("--encrypt and --sign exclude each other");
	return opt_sign ? CERT_PURPOSE_SIGN : CERT_PURPOSE_ENCRYPT;
}

/* parse_address_arg - the one parser; a bad address is a usage error */
static void
parse_address_arg(const char *text, ms_addr *addr)
{
	const char *why = NULL;

	if (addr_parse_str(text, addr, &why) != MS_OK)
		ritual_usage_error("invalid address: %s", why);
}

/* say_refused - find -v: why a certificate the index names for the
 * address is not taken, in the words of the trust decision */
static void
say_refused(const char *fpr, X509 *cert, cert_verdict *verdict, void *data)
{
	GString *why = g_string_new(NULL);

	(void)cert;
	(void)data;
	if (!verdict->usable) {
		for (guint i = 0; i < verdict->reasons->len; i++)
			g_string_append_printf(why, "%s%s", i ? "; " : "",
			    (const char *)g_ptr_array_index(verdict->reasons,
			    i));
		diag_info("certificate %s: refused: %s", fpr, why->str);
	}
	g_string_free(why, TRUE);
}

static ms_err
cmd_find(ms_admin *admin, const char **args)
{
	ms_store *store = admin->store;
	ms_addr addr;
	ms_trust *trust;
	GPtrArray *fprs;
	unsigned count;
	ms_err err, verr;
	cert_purpose purpose = chosen_purpose();

	if (args == NULL || args[0] == NULL || args[1] != NULL)
		ritual_usage_error("find needs exactly one ADDRESS");
	parse_address_arg(args[0], &addr);
	err = trust_open(store, admin->settings, &trust);
	if (err == MS_OK) {
		if (opt_verbose)
			trust_no_cache(trust);	/* reasons, not "as before" */
		err = trust_find(trust, &addr, purpose, &fprs, NULL);
		for (guint i = 0; err == MS_OK && i < fprs->len; i++)
			printf("%s\n", (const char *)g_ptr_array_index(fprs,
			    i));
		g_ptr_array_free(fprs, TRUE);
		if (opt_verbose && (err == MS_OK || err == MS_NOTFOUND)) {
			verr = cert_candidates(trust, store, &addr, purpose,
			    say_refused, NULL, &count);
			if (verr == MS_OK && count == 0)
				diag_info("no certificate in the store for %s",
				    addr.text);
			if (verr != MS_OK)
				err = verr;
		}
		trust_free(trust);
	}
	addr_clear(&addr);
	return err;
}

static const char *
one_fingerprint(const char **args, const char *what)
{
	if (args == NULL || args[0] == NULL || args[1] != NULL)
		ritual_usage_error("%s needs exactly one FINGERPRINT", what);
	if (!cert_fingerprint_ok(args[0]))
		ritual_usage_error("a FINGERPRINT is 64 lowercase hex digits");
	return args[0];
}

static ms_err
cmd_verify(ms_admin *admin, const char **args)
{
	ms_store *store = admin->store;
	const char *fpr = one_fingerprint(args, "verify");
	cert_purpose purpose = chosen_purpose();
	ms_addr addr;
	bool have_addr = opt_address != NULL;
	ms_trust *trust;
	X509 *cert;
	cert_verdict verdict;
	ms_err err;
	const char *pname = purpose == CERT_PURPOSE_SIGN ? "sign" : "encrypt";

	if (have_addr)
		parse_address_arg(opt_address, &addr);
	err = certdb_load(store, fpr, NULL, &cert);
	if (err == MS_NOTFOUND)
		diag_error("no certificate %s in the store", fpr);
	if (err != MS_OK)
		goto out;
	err = trust_open(store, admin->settings, &trust);
	if (err != MS_OK) {
		X509_free(cert);
		goto out;
	}
	trust_no_cache(trust);	/* verify says why, never "as before" */
	verdict_init(&verdict);
	err = trust_check(trust, cert, purpose, have_addr ? &addr : NULL,
	    &verdict);
	if (err == MS_OK) {
		printf("%s: %s for %s\n", fpr, verdict.usable ? "usable" :
		    "not usable", pname);
		for (guint i = 0; i < verdict.reasons->len; i++)
			printf("reason: %s\n", (const char *)
			    g_ptr_array_index(verdict.reasons, i));
		for (guint i = 0; i < verdict.notes->len; i++)
			printf("note: %s\n", (const char *)
			    g_ptr_array_index(verdict.notes, i));
		if (!verdict.usable)
			err = MS_NOTFOUND;
	}
	verdict_clear(&verdict);
	trust_free(trust);
	X509_free(cert);
out:
	if (have_addr)
		addr_clear(&addr);
	return err;
}

static ms_err
cmd_export(ms_admin *admin, const char **args)
{
	ms_store *store = admin->store;
	const char *fpr = one_fingerprint(args, "export");
	X509 *cert;
	char *pem;
	size_t len;
	ms_err err;

	err = certdb_load(store, fpr, NULL, &cert);
	if (err == MS_NOTFOUND)
		diag_error("no certificate %s in the store", fpr);
	if (err != MS_OK)
		return err;
	pem = cert_to_pem(cert, &len);
	err = ritual_output(pem, len);
	g_free(pem);
	X509_free(cert);
	return err;
}

static ms_err
cmd_remove(ms_admin *admin, const char **args)
{
	ms_store *store = admin->store;
	const char *fpr = one_fingerprint(args, "remove");
	ms_err err;

	err = certdb_remove(store, fpr);
	if (err == MS_NOTFOUND)
		diag_error("no certificate %s in the store", fpr);
	return err;
}

static const ms_command commands[] = {
	{ "import", cmd_import, true, "roots password-file" },
	{ "list", cmd_list, false, "roots json expiring" },
	{ "find", cmd_find, false, "encrypt sign verbose" },
	{ "verify", cmd_verify, false, "encrypt sign address" },
	{ "export", cmd_export, false, "" },
	{ "remove", cmd_remove, true, "" },
	{ NULL, NULL, false, NULL }
};

int
main(int argc, char **argv)
{
	static const ms_admin_program prog = { { usage, options }, commands,
	    false, crypto_init, NULL, NULL };

	ritual_admin_main(argc, argv, &prog);
}
