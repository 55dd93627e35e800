/*
 * smime-ca - the built-in CA: a root in the root store, end-user
 * certificates with the S/MIME baseline profile, PKCS#12 export, and
 * revocation with CRLs (smime-ca(1)).
 */
#include "cert.h"
#include "crlstore.h"
#include "diag.h"
#include "limits.h"
#include "ritual.h"
#include "settings.h"
#include "store.h"

#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/pkcs12.h>
#include <openssl/rand.h>
#include <openssl/x509v3.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

static const char usage[] =
"usage: smime-ca [--store DIR] init [--key rsa3072 | ec-p256] [--days N]\n"
"                [--crl-url URL] NAME\n"
"       smime-ca [--store DIR] issue [--key rsa3072 | ec-p256] [--days N] EMAIL\n"
"                [DISPLAY-NAME]\n"
"       smime-ca [--store DIR] export [--legacy] --password-file FILE\n"
"                FINGERPRINT\n"
"       smime-ca [--store DIR] revoke FINGERPRINT\n"
"       smime-ca [--store DIR] crl [--days N]\n"
"       smime-ca -h | --version\n";

#define ROOT_DAYS_DEFAULT 3650
#define ISSUE_DAYS_DEFAULT 730
#define ISSUE_DAYS_MAX 825	/* SBR: Strict and Multipurpose */
#define CRL_DAYS_DEFAULT 7
#define CRL_DAYS_MAX 10		/* SBR 4.9.7 */
#define P12_ITERATIONS 2048
#define SERIAL_BYTES 16
#define NAME_MAX_CHARS 64	/* X.520 ub-common-name */

static const char *opt_key, *opt_crl_url, *opt_password_file;
static int opt_days = -1, opt_legacy;

static struct poptOption options[] = {
	{ "key", '\0', POPT_ARG_STRING, &opt_key, 0, NULL, NULL },
	{ "days", '\0', POPT_ARG_INT, &opt_days, 0, NULL, NULL },
	{ "crl-url", '\0', POPT_ARG_STRING, &opt_crl_url, 0, NULL, NULL },
	{ "legacy", '\0', POPT_ARG_NONE, &opt_legacy, 0, NULL, NULL },
	{ "password-file", '\0', POPT_ARG_STRING, &opt_password_file, 0,
	  NULL, NULL },
	POPT_TABLEEND
};

/* the CA's state record: "key=value" lines */
typedef struct ca_state {
	char *name;
	char *key_type;
	char *crl_url;		/* may be empty */
	unsigned long long crl_number;
} ca_state;

typedef struct ca {
	ca_state state;
	X509 *cert;
	EVP_PKEY *key;
} ca;

static void
ca_free(ca *c)
{
	g_free(c->state.name);
	g_free(c->state.key_type);
	g_free(c->state.crl_url);
	X509_free(c->cert);
	EVP_PKEY_free(c->key);
	memset(c, 0, sizeof(*c));
}

/* text_ok - printable UTF-8 of 1..max characters, no controls */
static bool
text_ok(const char *s, size_t max)
{
	if (s == NULL || *s == '\0' || !g_utf8_validate(s, -1, NULL) ||
	    g_utf8_strlen(s, -1) > (glong)max)
		return false;
	for (const unsigned char *p = (const unsigned char *)s; *p; p++)
		if (*p < 0x20 || *p == 0x7f)
			return false;
	return true;
}

/* url_ok - an http(s) URL safe to put into a distribution point */
static bool
url_ok(const char *url)
{
	if (!(g_str_has_prefix(url, "http://") ||
	    g_str_has_prefix(url, "https://")) || strlen(url) > 1024)
		return false;
	for (const unsigned char *p = (const unsigned char *)url; *p; p++)
		if (*p <= 0x20 || *p >= 0x7f || *p == ',' || *p == '"')
			return false;
	return true;
}

static ms_err
state_write(ms_store *store, const ca_state *st)
{
	char *body = g_strdup_printf("name=%s\nkey=%s\ncrl-url=%s\n"
	    "crl-number=%llu\n", st->name, st->key_type,
	    st->crl_url ? st->crl_url : "", st->crl_number);
	ms_err err = store_record_write(store, "ca", "state", "ca-state",
	    body, strlen(body), 0600);

	g_free(body);
	return err;
}

static ms_err
state_read(const ms_store *store, ca_state *st)
{
	GByteArray *body;
	char **lines;
	ms_err err;

	memset(st, 0, sizeof(*st));
	err = store_record_read(store, "ca", "state", "ca-state",
	    LIMIT_STORE_OBJECT, &body);
	if (err != MS_OK)
		return err;
	g_byte_array_append(body, (const guint8 *)"", 1);
	lines = g_strsplit((const char *)body->data, "\n", -1);
	for (int i = 0; lines[i] != NULL; i++) {
		char *eq = strchr(lines[i], '=');

		if (eq == NULL)
			continue;
		*eq++ = '\0';
		if (strcmp(lines[i], "name") == 0)
			st->name = g_strdup(eq);
		else if (strcmp(lines[i], "key") == 0)
			st->key_type = g_strdup(eq);
		else if (strcmp(lines[i], "crl-url") == 0)
			st->crl_url = g_strdup(eq);
		else if (strcmp(lines[i], "crl-number") == 0)
			st->crl_number = g_ascii_strtoull(eq, NULL, 10);
	}
	g_strfreev(lines);
	g_byte_array_free(body, TRUE);
	if (st->name == NULL || st->key_type == NULL) {
		diag_error("CA state is incomplete");
		return MS_TEMP;
	}
	return MS_OK;
}

static ms_err
ca_load(ms_store *store, ca *c)
{
	GByteArray *data;
	BIO *bio;
	ms_err err;

	memset(c, 0, sizeof(*c));
	err = state_read(store, &c->state);
	if (err == MS_NOTFOUND) {
		diag_error("no CA in this store: run \"smime-ca init\" first");
		return MS_USAGE;
	}
	if (err != MS_OK)
		return err;
	err = store_read(store, "ca", "ca.pem", LIMIT_STORE_OBJECT, &data);
	if (err == MS_OK) {
		bio = BIO_new_mem_buf(data->data, (int)data->len);
		c->cert = PEM_read_bio_X509(bio, NULL, NULL, NULL);
		BIO_free(bio);
		g_byte_array_free(data, TRUE);
		err = store_read(store, "ca", "ca.key", LIMIT_STORE_OBJECT,
		    &data);
	}
	if (err == MS_OK) {
		bio = BIO_new_mem_buf(data->data, (int)data->len);
		c->key = PEM_read_bio_PrivateKey(bio, NULL, NULL, NULL);
		BIO_free(bio);
		OPENSSL_cleanse(data->data, data->len);
		g_byte_array_free(data, TRUE);
	}
	if (err != MS_OK || c->cert == NULL || c->key == NULL) {
		ERR_clear_error();
		diag_error("the CA's certificate or key is missing or damaged");
		return MS_TEMP;
	}
	return MS_OK;
}

static EVP_PKEY *
generate_key(const char *type)
{
	EVP_PKEY *key;

	if (strcmp(type, "rsa3072") == 0)
		key = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)3072);
	else
		key = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	if (key == NULL)
		crypto_log_errors("key generation");
	return key;
}

static const char *
key_option(void)
{
	if (opt_key == NULL)
		return "rsa3072";
	if (strcmp(opt_key, "rsa3072") != 0 && strcmp(opt_key, "ec-p256") != 0)
		ritual_usage_error("--key is rsa3072 or ec-p256");
	return opt_key;
}

/* random_serial - positive, 127 random bits, never zero (SBR) */
static bool
random_serial(X509 *x)
{
	unsigned char bytes[SERIAL_BYTES];
	BIGNUM *bn;
	ASN1_INTEGER *serial;
	bool ok;

	do {
		if (RAND_bytes(bytes, sizeof(bytes)) != 1)
			return false;
		bytes[0] &= 0x7f;
		bytes[0] |= 0x40;	/* full length, so >= 64 bits */
	} while (0);
	bn = BN_bin2bn(bytes, sizeof(bytes), NULL);
	serial = bn ? BN_to_ASN1_INTEGER(bn, NULL) : NULL;
	ok = serial != NULL && X509_set_serialNumber(x, serial);
	ASN1_INTEGER_free(serial);
	BN_free(bn);
	return ok;
}

/* add_ext - one extension from its configuration-string form */
static bool
add_ext(X509 *x, X509V3_CTX *ctx, int nid, const char *value)
{
	X509_EXTENSION *ext = X509V3_EXT_conf_nid(NULL, ctx, nid, value);
	bool ok = ext != NULL && X509_add_ext(x, ext, -1);

	X509_EXTENSION_free(ext);
	return ok;
}

/* add_san_email - subjectAltName rfc822Name built directly, so no
 * character of the address is ever read as configuration syntax */
static bool
add_san_email(X509 *x, const char *email)
{
	GENERAL_NAMES *names = GENERAL_NAMES_new();
	GENERAL_NAME *gn = GENERAL_NAME_new();
	ASN1_IA5STRING *ia5 = ASN1_IA5STRING_new();
	bool ok = false;

	if (names && gn && ia5 && ASN1_STRING_set(ia5, email, -1)) {
		GENERAL_NAME_set0_value(gn, GEN_EMAIL, ia5);
		ia5 = NULL;
		if (sk_GENERAL_NAME_push(names, gn)) {
			gn = NULL;
			ok = X509_add1_ext_i2d(x, NID_subject_alt_name, names,
			    0, X509V3_ADD_DEFAULT) == 1;
		}
	}
	ASN1_IA5STRING_free(ia5);
	GENERAL_NAME_free(gn);
	GENERAL_NAMES_free(names);
	return ok;
}

static bool
set_validity(X509 *x, int days)
{
	return X509_gmtime_adj(X509_getm_notBefore(x), 0) != NULL &&
	    X509_time_adj_ex(X509_getm_notAfter(x), days, 0, NULL) != NULL;
}

/* lint - the S/MIME baseline profile of pki.md section 1, checked on
 * the finished certificate; a failure means it is not issued */
static const char *
lint(X509 *x, X509 *issuer, const char *email)
{
	uint32_t flags = X509_get_extension_flags(x);
	uint32_t ku = X509_get_key_usage(x);
	EVP_PKEY *pub = X509_get0_pubkey(x);
	const ASN1_INTEGER *serial = X509_get0_serialNumber(x);
	int days = 0, secs = 0;
	unsigned malformed = 0;
	GPtrArray *addrs;
	bool found = false;
	int crit;

	if (X509_get_version(x) != X509_VERSION_3)
		return "not version 3";
	if (ASN1_STRING_length(serial) < 8 || ASN1_STRING_length(serial) > 20
	    || serial->type == V_ASN1_NEG_INTEGER)
		return "serial number size or sign";
	if (!ASN1_TIME_diff(&days, &secs, X509_get0_notBefore(x),
	    X509_get0_notAfter(x)) || days > ISSUE_DAYS_MAX ||
	    (days == ISSUE_DAYS_MAX && secs > 0) || days < 0)
		return "validity period";
	if (X509_NAME_cmp(X509_get_issuer_name(x),
	    X509_get_subject_name(issuer)) != 0)
		return "issuer name";
	if ((flags & EXFLAG_CA) || !(flags & EXFLAG_KUSAGE) ||
	    !(flags & EXFLAG_XKUSAGE))
		return "basic constraints or usage extensions";
	if (X509_get_ext_by_NID(x, NID_key_usage, -1) < 0 ||
	    !X509_EXTENSION_get_critical(X509_get_ext(x,
	    X509_get_ext_by_NID(x, NID_key_usage, -1))))
		return "key usage not critical";
	if (EVP_PKEY_get_base_id(pub) == EVP_PKEY_RSA) {
		if (ku != (KU_DIGITAL_SIGNATURE | KU_KEY_ENCIPHERMENT) ||
		    EVP_PKEY_get_bits(pub) < 3072)
			return "RSA key usage or size";
	} else if (EVP_PKEY_get_base_id(pub) == EVP_PKEY_EC) {
		if (ku != (KU_DIGITAL_SIGNATURE | KU_KEY_AGREEMENT))
			return "EC key usage";
	} else
		return "key type";
	if (X509_get_extended_key_usage(x) != XKU_SMIME)
		return "extended key usage other than emailProtection";
	if (X509_get0_authority_key_id(x) == NULL ||
	    X509_get0_subject_key_id(x) == NULL)
		return "key identifiers";
	(void)crit;
	addrs = cert_addresses(x, &malformed);
	for (guint i = 0; i < addrs->len; i++)
		if (strcmp(((ms_addr *)g_ptr_array_index(addrs, i))->text,
		    email) == 0)
			found = true;
	g_ptr_array_free(addrs, TRUE);
	if (!found || malformed > 0 ||
	    X509_get_ext_by_NID(x, NID_subject_alt_name, -1) < 0)
		return "subjectAltName";
	return NULL;
}

static ms_err
cmd_init(ms_store *store, const char **args)
{
	const char *type = key_option();
	int days = opt_days < 0 ? ROOT_DAYS_DEFAULT : opt_days;
	ca_state st = { 0 };
	EVP_PKEY *key = NULL;
	X509 *x = NULL;
	X509_NAME *name;
	X509V3_CTX ctx;
	char *pem = NULL, *fpr = NULL;
	BIO *bio = NULL;
	char *kdata;
	long klen;
	size_t len;
	ms_err err;
	bool was_new;

	if (args[0] == NULL || args[1] != NULL)
		ritual_usage_error("init needs exactly one NAME");
	if (!text_ok(args[0], NAME_MAX_CHARS))
		ritual_usage_error("NAME must be 1 to 64 printable characters");
	if (days < 1 || days > 36500)
		ritual_usage_error("--days out of range");
	if (opt_crl_url != NULL && !url_ok(opt_crl_url))
		ritual_usage_error("--crl-url must be an http or https URL "
		    "without spaces or commas");
	err = store_lock(store, 30000);
	if (err != MS_OK)
		return err;
	if (store_exists(store, "ca", "state")) {
		diag_error("this store has a CA already");
		store_unlock(store);
		return MS_USAGE;
	}
	err = MS_INTERNAL;
	key = generate_key(type);
	x = X509_new();
	if (key == NULL || x == NULL ||
	    !X509_set_version(x, X509_VERSION_3) || !random_serial(x) ||
	    !set_validity(x, days) || !X509_set_pubkey(x, key))
		goto out;
	name = X509_get_subject_name(x);
	if (!X509_NAME_add_entry_by_NID(name, NID_commonName, MBSTRING_UTF8,
	    (const unsigned char *)args[0], -1, -1, 0) ||
	    !X509_set_issuer_name(x, name))
		goto out;
	X509V3_set_ctx(&ctx, x, x, NULL, NULL, 0);
	if (!add_ext(x, &ctx, NID_basic_constraints, "critical,CA:TRUE") ||
	    !add_ext(x, &ctx, NID_key_usage, "critical,keyCertSign,cRLSign") ||
	    !add_ext(x, &ctx, NID_subject_key_identifier, "hash") ||
	    !X509_sign(x, key, EVP_sha256()))
		goto out;
	bio = BIO_new(BIO_s_secmem());
	if (bio == NULL || !PEM_write_bio_PrivateKey(bio, key, NULL, NULL, 0,
	    NULL, NULL))
		goto out;
	klen = BIO_get_mem_data(bio, &kdata);
	st.name = (char *)args[0];
	st.key_type = (char *)type;
	st.crl_url = (char *)(opt_crl_url ? opt_crl_url : "");
	st.crl_number = 1;
	pem = cert_to_pem(x, &len);
	err = store_write(store, "ca", "ca.key", kdata, (size_t)klen, 0600);
	if (err == MS_OK)
		err = store_write(store, "ca", "ca.pem", pem, len, 0644);
	if (err == MS_OK)
		err = certdb_add(store, x, true, &was_new);
	/* the state record last: it marks the CA as complete */
	if (err == MS_OK)
		err = state_write(store, &st);
	if (err == MS_OK) {
		fpr = cert_fingerprint(x);
		printf("%s\n", fpr);
		diag_info("CA initialised: root %s", fpr);
		if (opt_crl_url == NULL)
			diag_warn("no --crl-url: certificates will carry no "
			    "CRL distribution point");
	}
out:
	if (err == MS_INTERNAL)
		crypto_log_errors("init");
	store_unlock(store);
	BIO_free(bio);
	g_free(pem);
	g_free(fpr);
	X509_free(x);
	EVP_PKEY_free(key);
	return err;
}

static ms_err
cmd_issue(ms_store *store, const char **args)
{
	const char *type = key_option();
	int days = opt_days < 0 ? ISSUE_DAYS_DEFAULT : opt_days;
	const char *display, *why = NULL, *problem;
	ms_addr addr;
	ca c;
	EVP_PKEY *key = NULL;
	X509 *x = NULL;
	X509_NAME *name;
	X509V3_CTX ctx;
	char *fpr = NULL, *cdp = NULL;
	ms_err err;
	bool was_new;

	if (args[0] == NULL || (args[1] != NULL && args[2] != NULL))
		ritual_usage_error("issue needs EMAIL and an optional "
		    "DISPLAY-NAME");
	if (days < 1 || days > ISSUE_DAYS_MAX)
		ritual_usage_error("--days must be 1 to %d", ISSUE_DAYS_MAX);
	if (addr_parse_str(args[0], &addr, &why) != MS_OK)
		ritual_usage_error("invalid address: %s", why);
	display = args[1];
	if (display != NULL && !text_ok(display, NAME_MAX_CHARS)) {
		addr_clear(&addr);
		ritual_usage_error("DISPLAY-NAME must be 1 to 64 printable "
		    "characters");
	}
	err = ca_load(store, &c);
	if (err != MS_OK) {
		addr_clear(&addr);
		return err;
	}
	err = MS_INTERNAL;
	key = generate_key(type);
	x = X509_new();
	if (key == NULL || x == NULL ||
	    !X509_set_version(x, X509_VERSION_3) || !random_serial(x) ||
	    !set_validity(x, days) || !X509_set_pubkey(x, key) ||
	    !X509_set_issuer_name(x, X509_get_subject_name(c.cert)))
		goto out;
	name = X509_get_subject_name(x);
	if (!X509_NAME_add_entry_by_NID(name, NID_commonName, MBSTRING_UTF8,
	    (const unsigned char *)(display ? display : addr.text), -1, -1,
	    0) || !X509_NAME_add_entry_by_NID(name, NID_pkcs9_emailAddress,
	    MBSTRING_ASC, (const unsigned char *)addr.text, -1, -1, 0))
		goto out;
	X509V3_set_ctx(&ctx, c.cert, x, NULL, NULL, 0);
	if (!add_ext(x, &ctx, NID_basic_constraints, "CA:FALSE") ||
	    !add_ext(x, &ctx, NID_key_usage, strcmp(type, "rsa3072") == 0 ?
	    "critical,digitalSignature,keyEncipherment" :
	    "critical,digitalSignature,keyAgreement") ||
	    !add_ext(x, &ctx, NID_ext_key_usage, "emailProtection") ||
	    !add_ext(x, &ctx, NID_subject_key_identifier, "hash") ||
	    !add_ext(x, &ctx, NID_authority_key_identifier, "keyid:always") ||
	    !add_san_email(x, addr.text))
		goto out;
	if (c.state.crl_url != NULL && c.state.crl_url[0] != '\0') {
		if (!url_ok(c.state.crl_url)) {
			diag_error("the CA's CRL URL is not usable");
			err = MS_CONFIG;
			goto out;
		}
		cdp = g_strdup_printf("URI:%s", c.state.crl_url);
		if (!add_ext(x, &ctx, NID_crl_distribution_points, cdp))
			goto out;
	}
	if (!X509_sign(x, c.key, EVP_sha256()))
		goto out;
	problem = lint(x, c.cert, addr.text);
	if (problem != NULL) {
		diag_error("refusing to issue: profile check failed (%s)",
		    problem);
		err = MS_INTERNAL;
		goto out;
	}
	fpr = cert_fingerprint(x);
	err = store_lock(store, 30000);
	if (err == MS_OK)
		err = certdb_key_save(store, x, key);
	if (err == MS_OK)
		err = certdb_add(store, x, false, &was_new);
	store_unlock(store);
	if (err == MS_OK) {
		printf("%s\n", fpr);
		diag_info("issued %s for %s", fpr, addr.text);
	}
out:
	if (err == MS_INTERNAL)
		crypto_log_errors("issue");
	g_free(cdp);
	g_free(fpr);
	X509_free(x);
	EVP_PKEY_free(key);
	ca_free(&c);
	addr_clear(&addr);
	return err;
}

static char *
read_password(const char *path)
{
	char *data = NULL, *nl;
	gsize len = 0;
	GError *error = NULL;

	if (!g_file_get_contents(path, &data, &len, &error)) {
		diag_error("cannot read password file: %s", error->message);
		g_error_free(error);
		return NULL;
	}
	nl = strpbrk(data, "\r\n");
	if (nl != NULL)
		*nl = '\0';
	if (strlen(data) != len && nl == NULL) {
		diag_error("password file contains a NUL byte");
		OPENSSL_cleanse(data, len);
		g_free(data);
		return NULL;
	}
	return data;
}

static ms_err
cmd_export(ms_store *store, const char **args)
{
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
	password = read_password(opt_password_file);
	if (password == NULL)
		return MS_DATA;
	err = certdb_load(store, fpr, NULL, &cert);
	if (err == MS_NOTFOUND)
		diag_error("no certificate %s in the store", fpr);
	if (err == MS_OK) {
		err = certdb_key_load(store, fpr, &key);
		if (err == MS_NOTFOUND)
			diag_error("no private key for %s", fpr);
	}
	if (err == MS_OK)
		err = trust_open(store, &trust);
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
	OPENSSL_cleanse(password, strlen(password));
	g_free(password);
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

/* revoked_read - the revocation list lines "SERIALHEX TIME FPR" */
static ms_err
revoked_read(const ms_store *store, GString **out)
{
	GByteArray *body;
	ms_err err;

	*out = g_string_new(NULL);
	err = store_record_read(store, "ca", "revoked", "ca-revoked",
	    LIMIT_STORE_OBJECT * 16, &body);
	if (err == MS_NOTFOUND)
		return MS_OK;
	if (err != MS_OK)
		return err;
	g_string_append_len(*out, (const char *)body->data, body->len);
	g_byte_array_free(body, TRUE);
	return MS_OK;
}

/* make_crl - a signed CRL of every revocation, with number */
static X509_CRL *
make_crl(ca *c, const char *revoked, unsigned long long number, int days)
{
	X509_CRL *crl = X509_CRL_new();
	ASN1_TIME *now = ASN1_TIME_new(), *next = ASN1_TIME_new();
	ASN1_INTEGER *num = ASN1_INTEGER_new();
	X509V3_CTX ctx;
	char **lines = g_strsplit(revoked, "\n", -1);
	bool ok;

	ok = crl && now && next && num &&
	    X509_CRL_set_version(crl, X509_CRL_VERSION_2) &&
	    X509_CRL_set_issuer_name(crl, X509_get_subject_name(c->cert)) &&
	    X509_gmtime_adj(now, 0) && X509_time_adj_ex(next, days, 0, NULL) &&
	    X509_CRL_set1_lastUpdate(crl, now) &&
	    X509_CRL_set1_nextUpdate(crl, next) &&
	    ASN1_INTEGER_set_uint64(num, number) &&
	    X509_CRL_add1_ext_i2d(crl, NID_crl_number, num, 0, 0) == 1;
	for (int i = 0; ok && lines[i] != NULL; i++) {
		char **f = g_strsplit(lines[i], " ", 3);
		BIGNUM *bn = NULL;
		ASN1_INTEGER *serial = NULL;
		ASN1_TIME *when = NULL;
		X509_REVOKED *rev = NULL;

		if (g_strv_length(f) == 3 && BN_hex2bn(&bn, f[0]) > 0) {
			serial = BN_to_ASN1_INTEGER(bn, NULL);
			when = ASN1_TIME_set(NULL,
			    (time_t)g_ascii_strtoll(f[1], NULL, 10));
			rev = X509_REVOKED_new();
			ok = serial && when && rev &&
			    X509_REVOKED_set_serialNumber(rev, serial) &&
			    X509_REVOKED_set_revocationDate(rev, when) &&
			    X509_CRL_add0_revoked(crl, rev);
			if (ok)
				rev = NULL;
		}
		X509_REVOKED_free(rev);
		ASN1_TIME_free(when);
		ASN1_INTEGER_free(serial);
		BN_free(bn);
		g_strfreev(f);
	}
	if (ok) {
		X509V3_set_ctx(&ctx, c->cert, NULL, NULL, crl, 0);
		X509_EXTENSION *aki = X509V3_EXT_conf_nid(NULL, &ctx,
		    NID_authority_key_identifier, "keyid:always");

		ok = aki != NULL && X509_CRL_add_ext(crl, aki, -1) &&
		    X509_CRL_sort(crl) &&
		    X509_CRL_sign(crl, c->key, EVP_sha256()) > 0;
		X509_EXTENSION_free(aki);
	}
	g_strfreev(lines);
	ASN1_INTEGER_free(num);
	ASN1_TIME_free(now);
	ASN1_TIME_free(next);
	if (!ok) {
		crypto_log_errors("CRL");
		X509_CRL_free(crl);
		return NULL;
	}
	return crl;
}

/* publish_crl - next number, sign, install, print; lock held */
static ms_err
publish_crl(ms_store *store, ca *c, int days)
{
	GString *revoked;
	X509_CRL *crl;
	ms_trust *trust = NULL;
	unsigned long long number = c->state.crl_number;
	const char *why = NULL;
	char *file = NULL;
	ms_err err;

	err = revoked_read(store, &revoked);
	if (err != MS_OK) {
		g_string_free(revoked, TRUE);
		return err;
	}
	/* reserve the number first: a number is never used twice */
	c->state.crl_number = number + 1;
	err = state_write(store, &c->state);
	crl = err == MS_OK ? make_crl(c, revoked->str, number, days) : NULL;
	if (err == MS_OK && crl == NULL)
		err = MS_INTERNAL;
	if (err == MS_OK)
		err = trust_open(store, &trust);
	if (err == MS_OK) {
		err = crl_install(store, trust, crl, &why, &file);
		if (err == MS_DATA) {
			diag_error("CRL not installed: %s", why);
			err = MS_INTERNAL;
		}
	}
	if (err == MS_OK) {
		if (!PEM_write_X509_CRL(stdout, crl))
			err = MS_TEMP;
		diag_info("CRL %llu published as crls/%s", number, file);
	}
	g_free(file);
	trust_free(trust);
	X509_CRL_free(crl);
	g_string_free(revoked, TRUE);
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
cmd_revoke(ms_store *store, const char **args)
{
	const char *fpr;
	X509 *cert = NULL;
	ca c;
	GString *revoked = NULL;
	BIGNUM *bn = NULL;
	char *hex = NULL, *line = NULL;
	EVP_PKEY *ca_pub;
	int days = crl_days();
	ms_err err;

	if (args[0] == NULL || args[1] != NULL)
		ritual_usage_error("revoke needs exactly one FINGERPRINT");
	fpr = args[0];
	if (!cert_fingerprint_ok(fpr))
		ritual_usage_error("a FINGERPRINT is 64 lowercase hex digits");
	err = ca_load(store, &c);
	if (err != MS_OK)
		return err;
	err = certdb_load(store, fpr, NULL, &cert);
	if (err == MS_NOTFOUND)
		diag_error("no certificate %s in the store", fpr);
	if (err != MS_OK)
		goto out;
	ca_pub = X509_get0_pubkey(c.cert);
	if (X509_check_issued(c.cert, cert) != X509_V_OK ||
	    X509_verify(cert, ca_pub) != 1) {
		ERR_clear_error();
		diag_error("%s was not issued by this CA", fpr);
		err = MS_DATA;
		goto out;
	}
	bn = ASN1_INTEGER_to_BN(X509_get0_serialNumber(cert), NULL);
	hex = bn ? BN_bn2hex(bn) : NULL;
	if (hex == NULL) {
		err = MS_INTERNAL;
		goto out;
	}
	err = store_lock(store, 30000);
	if (err == MS_OK)
		err = revoked_read(store, &revoked);
	if (err == MS_OK && strstr(revoked->str, fpr) == NULL) {
		line = g_strdup_printf("%s %lld %s\n", hex,
		    (long long)time(NULL), fpr);
		g_string_append(revoked, line);
		err = store_record_write(store, "ca", "revoked", "ca-revoked",
		    revoked->str, revoked->len, 0600);
		if (err == MS_OK)
			diag_info("revoked %s", fpr);
	}
	if (err == MS_OK)
		err = publish_crl(store, &c, days);
	store_unlock(store);
out:
	if (revoked)
		g_string_free(revoked, TRUE);
	g_free(line);
	OPENSSL_free(hex);
	BN_free(bn);
	X509_free(cert);
	ca_free(&c);
	return err;
}

static ms_err
cmd_crl(ms_store *store, const char **args)
{
	ca c;
	int days = crl_days();
	ms_err err;

	if (args[0] != NULL)
		ritual_usage_error("crl takes no operands");
	err = ca_load(store, &c);
	if (err != MS_OK)
		return err;
	err = store_lock(store, 30000);
	if (err == MS_OK)
		err = publish_crl(store, &c, days);
	store_unlock(store);
	ca_free(&c);
	return err;
}

int
main(int argc, char **argv)
{
	static const ms_program prog = { usage, options };
	poptContext ctx = ritual_begin(argc, argv, &prog);
	const char **args = poptGetArgs(ctx);
	static const char *no_args[] = { NULL };
	const char *command;
	ms_store *store = NULL;
	ms_settings *settings = NULL;
	ms_err err;

	if (args == NULL || args[0] == NULL)
		ritual_usage_error("no command given");
	command = args[0];
	args = args[1] ? args + 1 : no_args;
	if (strcmp(command, "init") != 0 && strcmp(command, "issue") != 0 &&
	    strcmp(command, "export") != 0 && strcmp(command, "revoke") != 0 &&
	    strcmp(command, "crl") != 0)
		ritual_usage_error("unknown command");
	if ((opt_key && strcmp(command, "init") != 0 &&
	    strcmp(command, "issue") != 0) ||
	    (opt_crl_url && strcmp(command, "init") != 0) ||
	    ((opt_legacy || opt_password_file) &&
	    strcmp(command, "export") != 0) ||
	    (opt_days >= 0 && strcmp(command, "export") == 0))
		ritual_usage_error("option not valid for \"%s\"", command);

	diag_set_quiet(true);	/* audit lines go to syslog only */
	err = crypto_init();
	if (err == MS_OK)
		err = store_open(store_locate(ritual_opts.store), true, &store);
	if (err == MS_OK)
		err = settings_load(store, NULL, &settings);
	if (err == MS_OK) {
		diag_use_syslog(settings_get_bool(settings, "syslog"));
		if (strcmp(command, "init") == 0)
			err = cmd_init(store, args);
		else if (strcmp(command, "issue") == 0)
			err = cmd_issue(store, args);
		else if (strcmp(command, "export") == 0)
			err = cmd_export(store, args);
		else if (strcmp(command, "revoke") == 0)
			err = cmd_revoke(store, args);
		else
			err = cmd_crl(store, args);
	}
	settings_free(settings);
	store_close(store);
	ritual_end(ctx, err);
}
