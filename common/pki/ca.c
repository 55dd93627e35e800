/*
 * ca.c - the built-in CA (see ca.h).
 */
#include "ca.h"
#include "audit.h"
#include "cert.h"
#include "certdb.h"
#include "trust.h"
#include "crlstore.h"
#include "diag.h"
#include "kv.h"
#include "mslimits.h"
#include "parse.h"

#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509v3.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static void
state_clear(ca_state *st)
{
	g_free(st->name);
	g_free(st->key_type);
	g_free(st->crl_url);
	g_free(st->root);
	g_free(st->previous);
	memset(st, 0, sizeof(*st));
}

static void
root_free(gpointer p)
{
	ca_root *root = p;

	g_free(root->fingerprint);
	g_free(root->crl_url);
	X509_free(root->cert);
	EVP_PKEY_free(root->key);
	g_free(root);
}

void
ca_free(ms_ca *c)
{
	state_clear(&c->state);
	X509_free(c->cert);
	EVP_PKEY_free(c->key);
	if (c->roots != NULL)
		g_ptr_array_free(c->roots, TRUE);
	memset(c, 0, sizeof(*c));
}

/* ca_text_ok - printable UTF-8 of 1..max characters, no controls, no
 * space at either end (the CA state stores the name as a kv value) */
bool
ca_text_ok(const char *s, size_t max)
{
	if (s == NULL || *s == '\0' || !g_utf8_validate(s, -1, NULL) ||
	    g_utf8_strlen(s, -1) > (glong)max || s[0] == ' ' ||
	    s[strlen(s) - 1] == ' ')
		return false;
	for (const unsigned char *p = (const unsigned char *)s; *p; p++)
		if (*p < 0x20 || *p == 0x7f)
			return false;
	return true;
}

/* ca_url_ok - an http(s) URL safe to put into a distribution point */
bool
ca_url_ok(const char *url)
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
	GString *body = g_string_new(NULL);
	char number[32];
	ms_err err = MS_OK;

	g_snprintf(number, sizeof(number), "%llu", st->crl_number);
	if (!kv_append(body, "name", st->name) ||
	    !kv_append(body, "key", st->key_type) ||
	    !kv_append(body, "crl-url", st->crl_url ? st->crl_url : "") ||
	    !kv_append(body, "crl-number", number) ||
	    (st->root != NULL && !kv_append(body, "root", st->root)) ||
	    (st->previous != NULL && !kv_append(body, "previous",
	    st->previous))) {
		diag_error("the CA state has a value that cannot be stored");
		err = MS_USAGE;
	}
	if (err == MS_OK)
		err = store_record_write(store, "ca", "state", "ca-state",
		    body->str, body->len, 0600);
	g_string_free(body, TRUE);
	return err;
}

static ms_err
state_read(const ms_store *store, ca_state *st)
{
	static const char *const known[] = { "name", "key", "crl-url",
	    "crl-number", "root", "previous", NULL };
	GByteArray *body;
	kv_file *kv = NULL;
	const char *number;
	ms_err err;

	memset(st, 0, sizeof(*st));
	err = store_record_read(store, "ca", "state", "ca-state",
	    LIMIT_STORE_OBJECT, &body);
	if (err != MS_OK)
		return err;
	err = kv_parse("ca/state", (const char *)body->data, body->len, 0,
	    &kv);
	g_byte_array_free(body, TRUE);
	if (err != MS_OK || !kv_only(kv, "ca/state", known)) {
		kv_free(kv);
		return MS_TEMP;
	}
	number = kv_get(kv, "crl-number");
	if (kv_get(kv, "name") == NULL || kv_get(kv, "key") == NULL ||
	    (number != NULL && !parse_decimal(number, ~0ULL, &st->crl_number))) {
		diag_error("CA state is incomplete");
		kv_free(kv);
		return MS_TEMP;
	}
	st->name = g_strdup(kv_get(kv, "name"));
	st->key_type = g_strdup(kv_get(kv, "key"));
	if (kv_get(kv, "crl-url") != NULL)
		st->crl_url = g_strdup(kv_get(kv, "crl-url"));
	if (kv_get(kv, "root") != NULL)
		st->root = g_strdup(kv_get(kv, "root"));
	if (kv_get(kv, "previous") != NULL)
		st->previous = g_strdup(kv_get(kv, "previous"));
	kv_free(kv);
	if (st->root != NULL && !cert_fingerprint_ok(st->root)) {
		diag_error("CA state names a root that is not a fingerprint");
		state_clear(st);
		return MS_TEMP;
	}
	return MS_OK;
}

/* root_load - ca/STEM.pem and ca/STEM.key; with fpr, the certificate
 * must have that fingerprint, and the key must be the certificate's */
static ms_err
root_load(const ms_store *store, const char *stem, const char *fpr,
    const char *url, ca_root **out)
{
	char *pem_name = g_strdup_printf("%s.pem", stem);
	char *key_name = g_strdup_printf("%s.key", stem);
	ca_root *root = g_new0(ca_root, 1);
	GByteArray *data;
	BIO *bio;
	ms_err err;

	*out = NULL;
	err = store_read(store, "ca", pem_name, LIMIT_STORE_OBJECT, &data);
	if (err == MS_OK) {
		bio = BIO_new_mem_buf(data->data, (int)data->len);
		root->cert = PEM_read_bio_X509(bio, NULL, NULL, NULL);
		BIO_free(bio);
		g_byte_array_free(data, TRUE);
		err = store_read(store, "ca", key_name, LIMIT_STORE_OBJECT,
		    &data);
	}
	if (err == MS_OK) {
		bio = BIO_new_mem_buf(data->data, (int)data->len);
		root->key = PEM_read_bio_PrivateKey(bio, NULL, NULL, NULL);
		BIO_free(bio);
		OPENSSL_cleanse(data->data, data->len);
		g_byte_array_free(data, TRUE);
	}
	if (err == MS_OK && root->cert != NULL && root->key != NULL) {
		root->fingerprint = cert_fingerprint(root->cert);
		if ((fpr != NULL && strcmp(fpr, root->fingerprint) != 0) ||
		    X509_check_private_key(root->cert, root->key) != 1)
			err = MS_TEMP;
	} else
		err = MS_TEMP;
	ERR_clear_error();
	if (err != MS_OK) {
		diag_error("the CA's certificate or key ca/%s is missing or "
		    "damaged", stem);
		root_free(root);
	} else {
		root->crl_url = g_strdup(url ? url : "");
		*out = root;
	}
	g_free(pem_name);
	g_free(key_name);
	return err;
}

ms_err
ca_load(ms_store *store, ms_ca *c)
{
	char **words = NULL;
	ca_root *root;
	ms_err err;

	memset(c, 0, sizeof(*c));
	err = state_read(store, &c->state);
	if (err == MS_NOTFOUND) {
		diag_error("no CA in this store: run \"smime-ca init\" first");
		return MS_USAGE;
	}
	if (err != MS_OK)
		return err;
	c->roots = g_ptr_array_new_with_free_func(root_free);
	if (c->state.previous != NULL)
		words = g_strsplit(c->state.previous, " ", -1);
	for (int i = 0; err == MS_OK && words != NULL && words[i] != NULL;
	    i++) {
		char *comma = strchr(words[i], ',');

		if (words[i][0] == '\0')
			continue;
		if (comma != NULL)
			*comma = '\0';
		if (comma == NULL || !cert_fingerprint_ok(words[i])) {
			diag_error("CA state lists an earlier root badly");
			err = MS_TEMP;
		} else if ((err = root_load(store, words[i], words[i],
		    comma + 1, &root)) == MS_OK)
			g_ptr_array_add(c->roots, root);
	}
	g_strfreev(words);
	if (err == MS_OK)
		err = root_load(store, c->state.root ? c->state.root : "ca",
		    c->state.root, c->state.crl_url, &root);
	if (err != MS_OK) {
		ca_free(c);
		return err;
	}
	g_ptr_array_add(c->roots, root);
	X509_up_ref(root->cert);
	EVP_PKEY_up_ref(root->key);
	c->cert = root->cert;
	c->key = root->key;
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

/* make_root - a self-signed root for key with subject, valid for days
 * from now.  Its authorityKeyIdentifier names its own key: a renewed
 * root has the same subject as the one before, and chain builders
 * (OpenSSL and gpgsm among them) pick among roots of one name by key
 * identifier (RFC 5280 4.2.1.1) */
static X509 *
make_root(const X509_NAME *subject, EVP_PKEY *key, int days)
{
	X509 *x = X509_new();
	X509V3_CTX ctx;

	if (x == NULL || !X509_set_version(x, X509_VERSION_3) ||
	    !random_serial(x) || !set_validity(x, days) ||
	    !X509_set_pubkey(x, key) || !X509_set_subject_name(x, subject) ||
	    !X509_set_issuer_name(x, subject))
		goto fail;
	X509V3_set_ctx(&ctx, x, x, NULL, NULL, 0);
	if (!add_ext(x, &ctx, NID_basic_constraints, "critical,CA:TRUE") ||
	    !add_ext(x, &ctx, NID_key_usage, "critical,keyCertSign,cRLSign") ||
	    !add_ext(x, &ctx, NID_subject_key_identifier, "hash") ||
	    !add_ext(x, &ctx, NID_authority_key_identifier, "keyid:always") ||
	    !X509_sign(x, key, EVP_sha256()))
		goto fail;
	return x;
fail:
	X509_free(x);
	return NULL;
}

/* write_root - ca/STEM.key (0600), then ca/STEM.pem; lock held */
static ms_err
write_root(ms_store *store, const char *stem, X509 *cert, EVP_PKEY *key)
{
	char *key_name = g_strdup_printf("%s.key", stem);
	char *pem_name = g_strdup_printf("%s.pem", stem);
	BIO *bio = BIO_new(BIO_s_secmem());
	char *kdata, *pem = NULL;
	long klen;
	size_t len;
	ms_err err = MS_INTERNAL;

	if (bio != NULL && PEM_write_bio_PrivateKey(bio, key, NULL, NULL, 0,
	    NULL, NULL)) {
		klen = BIO_get_mem_data(bio, &kdata);
		pem = cert_to_pem(cert, &len);
		err = store_write(store, "ca", key_name, kdata, (size_t)klen,
		    0600);
		if (err == MS_OK)
			err = store_write(store, "ca", pem_name, pem, len,
			    0644);
	}
	BIO_free(bio);
	g_free(pem);
	g_free(key_name);
	g_free(pem_name);
	return err;
}

/* remove_root - undo write_root; what is not there is fine */
static void
remove_root(ms_store *store, const char *stem)
{
	static const char *const suffix[] = { "key", "pem" };

	for (size_t i = 0; i < G_N_ELEMENTS(suffix); i++) {
		char *name = g_strdup_printf("%s.%s", stem, suffix[i]);
		ms_err err = store_remove(store, "ca", name);

		if (err != MS_OK && err != MS_NOTFOUND)
			diag_warn("ca/%s could not be removed", name);
		g_free(name);
	}
}

ms_err
ca_init(ms_store *store, const char *ca_name, const char *type, int days,
    const char *crl_url, char **fpr_out)
{
	ca_state st = { 0 };
	EVP_PKEY *key = NULL;
	X509 *x = NULL;
	X509_NAME *name = X509_NAME_new();
	char *fpr = NULL;
	ms_err err;
	bool was_new;

	*fpr_out = NULL;
	err = store_lock(store, LIMIT_LOCK_TIMEOUT_MS);
	if (err != MS_OK) {
		X509_NAME_free(name);
		return err;
	}
	if (store_exists(store, "ca", "state")) {
		diag_error("this store has a CA already");
		store_unlock(store);
		X509_NAME_free(name);
		return MS_USAGE;
	}
	err = MS_INTERNAL;
	key = generate_key(type);
	if (key == NULL || name == NULL ||
	    !X509_NAME_add_entry_by_NID(name, NID_commonName, MBSTRING_UTF8,
	    (const unsigned char *)ca_name, -1, -1, 0) ||
	    (x = make_root(name, key, days)) == NULL)
		goto out;
	st.name = (char *)ca_name;
	st.key_type = (char *)type;
	st.crl_url = (char *)(crl_url ? crl_url : "");
	st.crl_number = 1;
	err = write_root(store, "ca", x, key);
	if (err == MS_OK)
		err = certdb_add(store, x, true, &was_new);
	/* the state record last: it marks the CA as complete */
	if (err == MS_OK)
		err = state_write(store, &st);
	if (err == MS_OK) {
		fpr = cert_fingerprint(x);
		err = audit_record(store, "ca init root %s name %s", fpr,
		    ca_name);
	}
	if (err == MS_OK) {
		diag_info("CA initialised: root %s", fpr);
		*fpr_out = fpr;
		fpr = NULL;
	}
out:
	if (err == MS_INTERNAL)
		crypto_log_errors("init");
	store_unlock(store);
	g_free(fpr);
	X509_NAME_free(name);
	X509_free(x);
	EVP_PKEY_free(key);
	return err;
}

/* ca_crl_file_name - the last path component of root's CRL URL */
char *
ca_crl_file_name(const ca_root *root)
{
	const char *url = root->crl_url, *host, *path;
	char *name;
	size_t end;

	host = url != NULL ? strstr(url, "://") : NULL;
	path = host != NULL ? strchr(host + 3, '/') : NULL;
	if (path == NULL)
		return NULL;
	end = strcspn(path, "?#");
	while (end > 0 && path[end - 1] != '/')
		end--;
	name = g_strndup(path + end, strcspn(path + end, "?#"));
	if (!store_name_ok(name) || name[0] == '.') {
		g_free(name);
		return NULL;
	}
	return name;
}

/* renew_url_ok - the new root's CRL URL: needed when the CA publishes
 * CRLs, and named apart from every earlier one, since each root's CRL is
 * a file of its own on the web server */
static bool
renew_url_ok(const ms_ca *old, const char *crl_url)
{
	ca_root probe = { .crl_url = (char *)crl_url };
	char *name = crl_url ? ca_crl_file_name(&probe) : NULL;
	bool ok = true;

	if (crl_url == NULL) {
		ok = old->state.crl_url == NULL ||
		    old->state.crl_url[0] == '\0';
		if (!ok)
			diag_error("the CA publishes CRLs at %s: renew needs "
			    "--crl-url for the new root's CRL",
			    old->state.crl_url);
		return ok;
	}
	for (guint i = 0; ok && i < old->roots->len; i++) {
		const ca_root *r = g_ptr_array_index(old->roots, i);
		char *other = ca_crl_file_name(r);

		if (strcmp(r->crl_url, crl_url) == 0 || (name != NULL &&
		    other != NULL && strcmp(name, other) == 0)) {
			diag_error("--crl-url %s: the CRL of root %s is "
			    "published under that name", crl_url,
			    r->fingerprint);
			ok = false;
		}
		g_free(other);
	}
	g_free(name);
	return ok;
}

/* renewed_state - the state that makes fpr the current root, old's
 * current root the last of the earlier ones */
static void
renewed_state(const ms_ca *old, const char *type, const char *crl_url,
    const char *fpr, ca_state *st)
{
	const ca_root *current = g_ptr_array_index(old->roots,
	    old->roots->len - 1);
	GString *previous = g_string_new(old->state.previous);

	if (previous->len > 0)
		g_string_append_c(previous, ' ');
	g_string_append_printf(previous, "%s,%s", current->fingerprint,
	    current->crl_url);
	st->name = g_strdup(old->state.name);
	st->key_type = g_strdup(type);
	st->crl_url = g_strdup(crl_url ? crl_url : "");
	st->crl_number = old->state.crl_number;
	st->root = g_strdup(fpr);
	st->previous = g_string_free(previous, FALSE);
}

ms_err
ca_renew(ms_store *store, const char *type, int days, const char *crl_url,
    char **fpr_out)
{
	ms_ca old;
	ca_state st = { 0 };
	const ca_root *current;
	EVP_PKEY *key = NULL;
	X509 *x = NULL;
	char *fpr = NULL;
	bool wrote_old = false, wrote_new = false, added = false, was_new;
	ms_err err;

	*fpr_out = NULL;
	err = store_lock(store, LIMIT_LOCK_TIMEOUT_MS);
	if (err != MS_OK)
		return err;
	err = ca_load(store, &old);
	if (err != MS_OK) {
		store_unlock(store);
		return err;
	}
	current = g_ptr_array_index(old.roots, old.roots->len - 1);
	if (type == NULL)
		type = old.state.key_type;
	if (strcmp(type, "rsa3072") != 0 && strcmp(type, "ec-p256") != 0) {
		diag_error("the CA state names an unknown key type");
		err = MS_TEMP;
		goto out;
	}
	if (!renew_url_ok(&old, crl_url)) {
		err = MS_USAGE;
		goto out;
	}
	err = MS_INTERNAL;
	key = generate_key(type);
	x = key ? make_root(X509_get_subject_name(old.cert), key, days) : NULL;
	if (x == NULL)
		goto out;
	fpr = cert_fingerprint(x);
	renewed_state(&old, type, crl_url, fpr, &st);
	/* the earlier root under its fingerprint, as every later one is;
	 * ca/ca.pem and ca/ca.key become copies of the current root */
	err = MS_OK;
	if (old.state.root == NULL) {
		wrote_old = true;
		err = write_root(store, current->fingerprint, current->cert,
		    current->key);
	}
	if (err == MS_OK) {
		wrote_new = true;
		err = write_root(store, fpr, x, key);
	}
	if (err == MS_OK) {
		added = true;
		err = certdb_add(store, x, true, &was_new);
	}
	/* the state record is the one step that switches roots: until it
	 * is written the old root is the CA's, whatever else was written */
	if (err == MS_OK)
		err = state_write(store, &st);
	if (err != MS_OK) {
		if (added && certdb_remove(store, fpr) != MS_OK)
			diag_warn("the new root %s could not be removed from "
			    "the root store", fpr);
		if (wrote_new)
			remove_root(store, fpr);
		if (wrote_old)
			remove_root(store, current->fingerprint);
		diag_error("CA not renewed: root %s stays in use",
		    current->fingerprint);
		goto out;
	}
	err = audit_record(store, "ca renew root %s previous %s", fpr,
	    current->fingerprint);
	if (write_root(store, "ca", x, key) != MS_OK)
		diag_warn("ca/ca.pem and ca/ca.key still hold the earlier "
		    "root; the CA uses ca/%s.pem", fpr);
	if (err == MS_OK) {
		diag_info("CA renewed: root %s, previous root %s", fpr,
		    current->fingerprint);
		*fpr_out = fpr;
		fpr = NULL;
	}
out:
	if (err == MS_INTERNAL)
		crypto_log_errors("renew");
	store_unlock(store);
	state_clear(&st);
	ca_free(&old);
	g_free(fpr);
	X509_free(x);
	EVP_PKEY_free(key);
	return err;
}

/* issue_cert - a certificate of the profile for the public key pub,
 * signed, checked, stored and indexed; key, when not NULL, is its private
 * key made here and stored beside it */
static ms_err
issue_cert(ms_store *store, const ms_ca *c, EVP_PKEY *pub, EVP_PKEY *key,
    const ms_addr *addr, const char *display, int days, char **fpr_out)
{
	const char *problem;
	X509 *x = NULL;
	X509_NAME *name;
	X509V3_CTX ctx;
	char *fpr = NULL, *cdp = NULL;
	ms_err err;
	bool was_new;

	*fpr_out = NULL;
	err = MS_INTERNAL;
	x = X509_new();
	if (pub == NULL || x == NULL ||
	    !X509_set_version(x, X509_VERSION_3) || !random_serial(x) ||
	    !set_validity(x, days) || !X509_set_pubkey(x, pub) ||
	    !X509_set_issuer_name(x, X509_get_subject_name(c->cert)))
		goto out;
	name = X509_get_subject_name(x);
	if (!X509_NAME_add_entry_by_NID(name, NID_commonName, MBSTRING_UTF8,
	    (const unsigned char *)(display ? display : addr->text), -1, -1,
	    0) || !X509_NAME_add_entry_by_NID(name, NID_pkcs9_emailAddress,
	    MBSTRING_ASC, (const unsigned char *)addr->text, -1, -1, 0))
		goto out;
	X509V3_set_ctx(&ctx, c->cert, x, NULL, NULL, 0);
	if (!add_ext(x, &ctx, NID_basic_constraints, "CA:FALSE") ||
	    !add_ext(x, &ctx, NID_key_usage,
	    EVP_PKEY_get_base_id(pub) == EVP_PKEY_RSA ?
	    "critical,digitalSignature,keyEncipherment" :
	    "critical,digitalSignature,keyAgreement") ||
	    !add_ext(x, &ctx, NID_ext_key_usage, "emailProtection") ||
	    !add_ext(x, &ctx, NID_subject_key_identifier, "hash") ||
	    !add_ext(x, &ctx, NID_authority_key_identifier, "keyid:always") ||
	    !add_san_email(x, addr->text))
		goto out;
	if (c->state.crl_url != NULL && c->state.crl_url[0] != '\0') {
		if (!ca_url_ok(c->state.crl_url)) {
			diag_error("the CA's CRL URL is not usable");
			err = MS_CONFIG;
			goto out;
		}
		cdp = g_strdup_printf("URI:%s", c->state.crl_url);
		if (!add_ext(x, &ctx, NID_crl_distribution_points, cdp))
			goto out;
	}
	if (!X509_sign(x, c->key, EVP_sha256()))
		goto out;
	problem = lint(x, c->cert, addr->text);
	if (problem != NULL) {
		diag_error("refusing to issue: profile check failed (%s)",
		    problem);
		err = MS_INTERNAL;
		goto out;
	}
	fpr = cert_fingerprint(x);
	err = store_lock(store, LIMIT_LOCK_TIMEOUT_MS);
	if (err == MS_OK && key != NULL)
		err = certdb_key_save(store, x, key);
	if (err == MS_OK)
		err = certdb_add(store, x, false, &was_new);
	if (err == MS_OK)
		err = audit_record(store, "issue certificate %s for %s", fpr,
		    addr->text);
	store_unlock(store);
	if (err == MS_OK) {
		diag_info("issued %s for %s", fpr, addr->text);
		*fpr_out = fpr;
		fpr = NULL;
	}
out:
	if (err == MS_INTERNAL)
		crypto_log_errors("issue");
	g_free(cdp);
	g_free(fpr);
	X509_free(x);
	return err;
}

ms_err
ca_issue(ms_store *store, const ms_ca *c, const ms_addr *addr,
    const char *display, const char *type, int days, char **fpr_out)
{
	EVP_PKEY *key = generate_key(type);
	ms_err err = issue_cert(store, c, key, key, addr, display, days,
	    fpr_out);

	EVP_PKEY_free(key);
	return err;
}

/* request_key_ok - the key types the profile allows: RSA of 3072 bits
 * or more, EC on P-256 or P-384 */
static bool
request_key_ok(EVP_PKEY *pub)
{
	char curve[32];

	if (EVP_PKEY_get_base_id(pub) == EVP_PKEY_RSA)
		return EVP_PKEY_get_bits(pub) >= 3072;
	if (EVP_PKEY_get_base_id(pub) != EVP_PKEY_EC ||
	    !EVP_PKEY_get_group_name(pub, curve, sizeof(curve), NULL))
		return false;
	return strcmp(curve, "prime256v1") == 0 ||
	    strcmp(curve, "P-256") == 0 || strcmp(curve, "secp384r1") == 0 ||
	    strcmp(curve, "P-384") == 0;
}

/* request_address - the one e-mail address a request names, in its
 * subjectAltName and subject emailAddress; everything else in the
 * subject is ignored.  NULL and *why when there is none, more than one,
 * or a name of another kind */
static char *
request_address(X509_REQ *req, const char **why)
{
	STACK_OF(X509_EXTENSION) *exts = X509_REQ_get_extensions(req);
	const X509_NAME *subject = X509_REQ_get_subject_name(req);
	GPtrArray *found = g_ptr_array_new_with_free_func(g_free);
	GENERAL_NAMES *names = NULL;
	char *addr = NULL;
	int i = -1;

	*why = NULL;
	for (int e = 0; e < sk_X509_EXTENSION_num(exts); e++) {
		X509_EXTENSION *ext = sk_X509_EXTENSION_value(exts, e);

		if (OBJ_obj2nid(X509_EXTENSION_get_object(ext)) ==
		    NID_subject_alt_name)
			names = X509V3_EXT_d2i(ext);
	}
	for (int n = 0; names != NULL && n < sk_GENERAL_NAME_num(names);
	    n++) {
		GENERAL_NAME *gn = sk_GENERAL_NAME_value(names, n);
		int type;
		ASN1_IA5STRING *email = GENERAL_NAME_get0_value(gn, &type);

		if (type != GEN_EMAIL) {
			*why = "a subjectAltName that is not an e-mail address";
			goto out;
		}
		g_ptr_array_add(found, g_strndup((const char *)
		    ASN1_STRING_get0_data(email), (gsize)
		    ASN1_STRING_length(email)));
	}
	while ((i = X509_NAME_get_index_by_NID(subject, NID_pkcs9_emailAddress,
	    i)) >= 0) {
		const ASN1_STRING *value = X509_NAME_ENTRY_get_data(
		    X509_NAME_get_entry(subject, i));

		g_ptr_array_add(found, g_strndup((const char *)
		    ASN1_STRING_get0_data(value), (gsize)
		    ASN1_STRING_length(value)));
	}
	for (guint f = 0; f < found->len; f++)
		if (strcmp(g_ptr_array_index(found, f),
		    g_ptr_array_index(found, 0)) != 0) {
			*why = "more than one e-mail address";
			goto out;
		}
	if (found->len == 0)
		*why = "no e-mail address";
	else
		addr = g_strdup(g_ptr_array_index(found, 0));
out:
	GENERAL_NAMES_free(names);
	sk_X509_EXTENSION_pop_free(exts, X509_EXTENSION_free);
	g_ptr_array_free(found, TRUE);
	return addr;
}

/* request_usage_problem - why the request asks for more than an S/MIME
 * end user (a CA, certificate or CRL signing, another EKU), or NULL */
static const char *
request_usage_problem(X509_REQ *req)
{
	STACK_OF(X509_EXTENSION) *exts = X509_REQ_get_extensions(req);
	const char *problem = NULL;

	for (int e = 0; problem == NULL && e < sk_X509_EXTENSION_num(exts);
	    e++) {
		X509_EXTENSION *ext = sk_X509_EXTENSION_value(exts, e);
		int nid = OBJ_obj2nid(X509_EXTENSION_get_object(ext));
		void *value = nid == NID_basic_constraints ||
		    nid == NID_key_usage || nid == NID_ext_key_usage ?
		    X509V3_EXT_d2i(ext) : NULL;

		if (nid == NID_basic_constraints) {
			BASIC_CONSTRAINTS *bc = value;

			if (bc == NULL || bc->ca)
				problem = "it asks to be a CA";
			BASIC_CONSTRAINTS_free(bc);
		} else if (nid == NID_key_usage) {
			ASN1_BIT_STRING *ku = value;

			if (ku == NULL || ASN1_BIT_STRING_get_bit(ku, 5) ||
			    ASN1_BIT_STRING_get_bit(ku, 6))
				problem = "it asks to sign certificates or "
				    "CRLs";
			ASN1_BIT_STRING_free(ku);
		} else if (nid == NID_ext_key_usage) {
			EXTENDED_KEY_USAGE *eku = value;

			for (int k = 0; eku != NULL &&
			    k < sk_ASN1_OBJECT_num(eku); k++)
				if (OBJ_obj2nid(sk_ASN1_OBJECT_value(eku, k)) !=
				    NID_email_protect)
					problem = "it asks for an extended key "
					    "usage other than emailProtection";
			if (eku == NULL)
				problem = "a damaged extended key usage";
			EXTENDED_KEY_USAGE_free(eku);
		}
	}
	sk_X509_EXTENSION_pop_free(exts, X509_EXTENSION_free);
	ERR_clear_error();
	return problem;
}

ms_err
ca_sign_request(ms_store *store, const ms_ca *c, X509_REQ *req, int days,
    char **fpr_out)
{
	EVP_PKEY *pub = X509_REQ_get0_pubkey(req);
	const char *why = NULL;
	char *text = NULL;
	ms_addr addr;
	ms_err err;

	*fpr_out = NULL;
	if (pub == NULL || X509_REQ_verify(req, pub) != 1)
		why = "its signature does not verify";
	else if (!request_key_ok(pub))
		why = "the key is not RSA of 3072 bits or more, nor EC on "
		    "P-256 or P-384";
	else if ((why = request_usage_problem(req)) == NULL)
		text = request_address(req, &why);
	ERR_clear_error();
	if (text != NULL && addr_parse_str(text, &addr, &why) != MS_OK)
		g_clear_pointer(&text, g_free);
	if (text == NULL) {
		diag_error("refusing the request: %s", why);
		return MS_DATA;
	}
	err = issue_cert(store, c, pub, NULL, &addr, NULL, days, fpr_out);
	addr_clear(&addr);
	g_free(text);
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

/* revoked_by - a line of ca/revoked, split in its fields, belongs to
 * root: its fourth field names the root; a line of three fields predates
 * renewal and belongs to the first root */
static bool
revoked_by(char **fields, const ca_root *root, bool first)
{
	guint n = g_strv_length(fields);

	return (n == 4 && strcmp(fields[3], root->fingerprint) == 0) ||
	    (n == 3 && first);
}

/* make_crl - a signed CRL of every revocation of root, with number */
static X509_CRL *
make_crl(const ca_root *root, bool first, const char *revoked,
    unsigned long long number, int days)
{
	X509_CRL *crl = X509_CRL_new();
	ASN1_TIME *now = ASN1_TIME_new(), *next = ASN1_TIME_new();
	ASN1_INTEGER *num = ASN1_INTEGER_new();
	X509V3_CTX ctx;
	char **lines = g_strsplit(revoked, "\n", -1);
	bool ok;

	ok = crl && now && next && num &&
	    X509_CRL_set_version(crl, X509_CRL_VERSION_2) &&
	    X509_CRL_set_issuer_name(crl, X509_get_subject_name(root->cert)) &&
	    X509_gmtime_adj(now, 0) && X509_time_adj_ex(next, days, 0, NULL) &&
	    X509_CRL_set1_lastUpdate(crl, now) &&
	    X509_CRL_set1_nextUpdate(crl, next) &&
	    ASN1_INTEGER_set_uint64(num, number) &&
	    X509_CRL_add1_ext_i2d(crl, NID_crl_number, num, 0, 0) == 1;
	for (int i = 0; ok && lines[i] != NULL; i++) {
		char **f = g_strsplit(lines[i], " ", 4);
		BIGNUM *bn = NULL;
		ASN1_INTEGER *serial = NULL;
		ASN1_TIME *when = NULL;
		X509_REVOKED *rev = NULL;

		if (revoked_by(f, root, first) && BN_hex2bn(&bn, f[0]) > 0) {
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
		X509V3_set_ctx(&ctx, root->cert, NULL, NULL, crl, 0);
		X509_EXTENSION *aki = X509V3_EXT_conf_nid(NULL, &ctx,
		    NID_authority_key_identifier, "keyid:always");

		ok = aki != NULL && X509_CRL_add_ext(crl, aki, -1) &&
		    X509_CRL_sort(crl) &&
		    X509_CRL_sign(crl, root->key, EVP_sha256()) > 0;
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

/* ca_publish_crl - next number, sign, install, print; lock held.  One
 * CRL number sequence serves every root: each root's numbers still
 * increase, with gaps (RFC 5280 5.2.3 allows them) */
ms_err
ca_publish_crl(ms_store *store, ms_ca *c, const ca_root *root, int days,
    BIO *pem)
{
	GString *revoked;
	X509_CRL *crl;
	ms_trust *trust = NULL;
	ms_settings *settings = NULL;
	unsigned long long number;
	const char *why = NULL;
	char *file = NULL;
	ca_state fresh;
	ms_err err;

	/* the number in force is the one on disk now, under the lock:
	 * another writer may have published since this CA was loaded */
	if (root == NULL)
		root = g_ptr_array_index(c->roots, c->roots->len - 1);
	err = state_read(store, &fresh);
	if (err != MS_OK)
		return err;
	state_clear(&c->state);
	c->state = fresh;
	number = c->state.crl_number;
	err = revoked_read(store, &revoked);
	if (err != MS_OK) {
		g_string_free(revoked, TRUE);
		return err;
	}
	/* reserve the number first: a number is never used twice */
	c->state.crl_number = number + 1;
	err = state_write(store, &c->state);
	crl = err == MS_OK ? make_crl(root, root == g_ptr_array_index(c->roots,
	    0), revoked->str, number, days) : NULL;
	if (err == MS_OK && crl == NULL)
		err = MS_INTERNAL;
	if (err == MS_OK)
		err = settings_load(store, NULL, &settings);
	if (err == MS_OK)
		err = trust_open(store, settings, &trust);
	if (err == MS_OK) {
		err = crl_install(store, trust, crl, &why, &file);
		if (err == MS_DATA) {
			diag_error("CRL not installed: %s", why);
			err = MS_INTERNAL;
		}
	}
	if (err == MS_OK) {
		if (pem != NULL && !PEM_write_bio_X509_CRL(pem, crl))
			err = MS_TEMP;
		diag_info("CRL %llu published as crls/%s", number, file);
	}
	g_free(file);
	trust_free(trust);
	settings_free(settings);
	X509_CRL_free(crl);
	g_string_free(revoked, TRUE);
	return err;
}

/* seconds - a time difference from ASN1_TIME_diff in seconds */
static long long
seconds(int day, int sec)
{
	return (long long)day * 86400 + sec;
}

/* ca_crl_due - the CA's own CRL needs re-issuing: a gateway that only
 * reads its CRL store must never find it past nextUpdate */
bool
ca_crl_due(const ms_store *store, const ca_root *root, int *days)
{
	X509_CRL *crl = NULL;
	char *file = NULL;
	const ASN1_TIME *last, *next;
	int pday, psec, rday, rsec;
	long long period, remaining;
	bool due = true;

	*days = CRL_DAYS_DEFAULT;
	if (crl_installed_by(store, root->cert, false, &crl, &file) != MS_OK)
		return true;
	last = X509_CRL_get0_lastUpdate(crl);
	next = X509_CRL_get0_nextUpdate(crl);
	/* a CRL of the same name but another key is not the CA's own */
	if (last != NULL && next != NULL &&
	    X509_CRL_verify(crl, X509_get0_pubkey(root->cert)) == 1 &&
	    ASN1_TIME_diff(&pday, &psec, last, next) &&
	    ASN1_TIME_diff(&rday, &rsec, NULL, next)) {
		period = seconds(pday, psec);
		remaining = seconds(rday, rsec);
		if (period > 0) {
			long long d = (period + 86399) / 86400;

			*days = d > CRL_DAYS_MAX ? CRL_DAYS_MAX : (int)d;
		}
		due = remaining * 2 < period;
	}
	ERR_clear_error();
	X509_CRL_free(crl);
	g_free(file);
	return due;
}

/* issued_by - cert names root as issuer (by name and key identifier)
 * and root's key signed it */
static bool
issued_by(const ca_root *root, X509 *cert)
{
	bool yes = X509_check_issued(root->cert, cert) == X509_V_OK &&
	    X509_verify(cert, X509_get0_pubkey(root->cert)) == 1;

	ERR_clear_error();
	return yes;
}

const ca_root *
ca_root_of(const ms_ca *c, X509 *cert)
{
	for (guint i = c->roots->len; i > 0; i--) {
		const ca_root *root = g_ptr_array_index(c->roots, i - 1);

		if (issued_by(root, cert))
			return root;
	}
	return NULL;
}

bool
ca_root_expired(const ca_root *root)
{
	return X509_cmp_current_time(X509_get0_notAfter(root->cert)) < 0;
}

/* serial_hex - the serial number in upper-case hex, as ca/revoked and
 * openssl x509 -serial write it (OPENSSL_free), or NULL */
static char *
serial_hex(const X509 *cert)
{
	BIGNUM *bn = ASN1_INTEGER_to_BN(X509_get0_serialNumber(cert), NULL);
	char *hex = bn ? BN_bn2hex(bn) : NULL;

	BN_free(bn);
	return hex;
}

ms_err
ca_revoke(ms_store *store, ms_ca *c, const char *fpr, int days, BIO *pem)
{
	X509 *cert = NULL;
	GString *revoked = NULL;
	const ca_root *root;
	char *hex = NULL, *line = NULL;
	ms_err err;

	err = certdb_load(store, fpr, NULL, &cert);
	if (err == MS_NOTFOUND)
		diag_error("no certificate %s in the store", fpr);
	if (err != MS_OK)
		goto out;
	root = ca_root_of(c, cert);
	if (root == NULL) {
		diag_error("%s was not issued by this CA", fpr);
		err = MS_DATA;
		goto out;
	}
	hex = serial_hex(cert);
	if (hex == NULL) {
		err = MS_INTERNAL;
		goto out;
	}
	err = store_lock(store, LIMIT_LOCK_TIMEOUT_MS);
	if (err == MS_OK)
		err = revoked_read(store, &revoked);
	if (err == MS_OK && strstr(revoked->str, fpr) == NULL) {
		line = g_strdup_printf("%s %lld %s %s\n", hex,
		    (long long)time(NULL), fpr, root->fingerprint);
		g_string_append(revoked, line);
		err = store_record_write(store, "ca", "revoked", "ca-revoked",
		    revoked->str, revoked->len, 0600);
		if (err == MS_OK)
			err = audit_record(store, "revoke certificate %s "
			    "serial %s", fpr, hex);
		if (err == MS_OK)
			diag_info("revoked %s", fpr);
	}
	if (err == MS_OK)
		err = ca_publish_crl(store, c, root, days, pem);
	store_unlock(store);
out:
	if (revoked)
		g_string_free(revoked, TRUE);
	g_free(line);
	OPENSSL_free(hex);
	X509_free(cert);
	return err;
}

/* revoked_fingerprints - the set of fingerprints in ca/revoked */
static ms_err
revoked_fingerprints(const ms_store *store, GHashTable **out)
{
	GString *revoked;
	char **lines;
	ms_err err = revoked_read(store, &revoked);

	*out = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
	lines = g_strsplit(revoked->str, "\n", -1);
	for (int i = 0; err == MS_OK && lines[i] != NULL; i++) {
		char **f = g_strsplit(lines[i], " ", 4);

		if (g_strv_length(f) >= 3)
			g_hash_table_add(*out, g_strdup(f[2]));
		g_strfreev(f);
	}
	g_strfreev(lines);
	g_string_free(revoked, TRUE);
	return err;
}

static void
issued_free(gpointer p)
{
	ca_issued *item = p;

	g_free(item->fingerprint);
	OPENSSL_free(item->serial);
	g_free(item->root);
	X509_free(item->cert);
	g_free(item);
}

const char *
ca_status_name(ca_cert_status status)
{
	switch (status) {
	case CA_CERT_REVOKED:
		return "revoked";
	case CA_CERT_EXPIRED:
		return "expired";
	case CA_CERT_VALID:
		break;
	}
	return "valid";
}

ms_err
ca_issued_list(const ms_store *store, const ms_ca *c, GPtrArray **out)
{
	GPtrArray *fprs = NULL;
	GHashTable *revoked = NULL;
	ms_err err;

	*out = g_ptr_array_new_with_free_func(issued_free);
	err = revoked_fingerprints(store, &revoked);
	if (err == MS_OK)
		err = certdb_list(store, false, &fprs);
	for (guint i = 0; err == MS_OK && i < fprs->len; i++) {
		const char *fpr = g_ptr_array_index(fprs, i);
		ca_issued *item;
		const ca_root *root;
		X509 *cert;
		ms_err lerr = certdb_load(store, fpr, NULL, &cert);

		if (lerr == MS_NOTFOUND)
			continue;	/* removed meanwhile */
		if (lerr != MS_OK) {
			err = lerr;
			break;
		}
		root = ca_root_of(c, cert);
		if (root == NULL) {
			X509_free(cert);
			continue;
		}
		item = g_new0(ca_issued, 1);
		item->fingerprint = g_strdup(fpr);
		item->root = g_strdup(root->fingerprint);
		item->cert = cert;
		item->serial = serial_hex(cert);
		if (item->serial == NULL)
			diag_fatal(EXIT_TEMPFAIL, "out of memory");
		if (g_hash_table_contains(revoked, fpr))
			item->status = CA_CERT_REVOKED;
		else if (X509_cmp_current_time(X509_get0_notAfter(cert)) < 0)
			item->status = CA_CERT_EXPIRED;
		else
			item->status = CA_CERT_VALID;
		g_ptr_array_add(*out, item);
	}
	if (fprs != NULL)
		g_ptr_array_free(fprs, TRUE);
	if (revoked != NULL)
		g_hash_table_destroy(revoked);
	return err;
}


/* inside - path is dir or lies below it (both resolved) */
static bool
inside(const char *path, const char *dir)
{
	size_t len = strlen(dir);

	return strncmp(path, dir, len) == 0 && (path[len] == '\0' ||
	    path[len] == '/' || (len == 1 && dir[0] == '/'));
}

/* write_public - dir/name with data, mode 0644, by temporary file, fsync
 * and rename: a web server reading it meanwhile gets the old CRL or the
 * new one, never a part */
static ms_err
write_public(const char *dir, const char *name, const unsigned char *data,
    size_t len)
{
	char *tmp = g_strdup_printf("%s/.%s.XXXXXX", dir, name);
	char *final = g_strdup_printf("%s/%s", dir, name);
	size_t done = 0;
	ms_err err = MS_TEMP;
	int fd = mkostemp(tmp, O_CLOEXEC);
	bool ok;

	if (fd < 0) {
		diag_error("cannot create a file in %s: %s", dir,
		    strerror(errno));
		goto out;
	}
	ok = fchmod(fd, 0644) == 0;
	while (ok && done < len) {
		ssize_t n = write(fd, data + done, len - done);

		if (n < 0 && errno == EINTR)
			continue;
		ok = n > 0;
		if (ok)
			done += (size_t)n;
	}
	ok = ok && fsync(fd) == 0;
	if (close(fd) != 0)
		ok = false;
	if (!ok || rename(tmp, final) != 0) {
		diag_error("cannot write %s: %s", final, strerror(errno));
		unlink(tmp);
		goto out;
	}
	err = store_sync_dir(dir);
out:
	g_free(tmp);
	g_free(final);
	return err;
}

/* ca_publish_dir - dir resolved (free()), or NULL and said why: it must
 * exist, and neither lie in the store nor hold it, since a web server is
 * pointed at it and must never serve the keys */
char *
ca_publish_dir(const ms_store *store, const char *dir)
{
	char *real_dir = realpath(dir, NULL);
	char *real_store = realpath(store_root(store), NULL);

	if (real_dir == NULL || real_store == NULL)
		diag_error("%s: %s", dir, strerror(errno));
	else if (inside(real_dir, real_store) ||
	    inside(real_store, real_dir)) {
		diag_error("%s: CRLs are published outside the store, never "
		    "in it", dir);
		g_clear_pointer(&real_dir, free);
	}
	free(real_store);
	return real_dir;
}

ms_err
ca_crl_export(const ms_store *store, const ca_root *root, const char *dir,
    char **name_out)
{
	char *name = ca_crl_file_name(root), *file = NULL;
	char *real_dir = ca_publish_dir(store, dir);
	unsigned char *der = NULL;
	X509_CRL *crl = NULL;
	int len = 0;
	ms_err err = MS_OK;

	*name_out = NULL;
	if (name == NULL) {
		diag_error("root %s has no CRL URL that ends in a file name: "
		    "its CRL is not published", root->fingerprint);
		err = MS_CONFIG;
	} else if (real_dir == NULL)
		err = MS_USAGE;
	if (err == MS_OK) {
		err = crl_installed_by(store, root->cert, false, &crl, &file);
		if (err == MS_NOTFOUND) {
			diag_error("root %s has no CRL installed",
			    root->fingerprint);
			err = MS_TEMP;
		}
	}
	if (err == MS_OK && (len = i2d_X509_CRL(crl, &der)) <= 0)
		err = MS_INTERNAL;
	if (err == MS_OK)
		err = write_public(real_dir, name, der, (size_t)len);
	if (err == MS_OK) {
		*name_out = name;
		name = NULL;
	}
	OPENSSL_free(der);
	X509_CRL_free(crl);
	g_free(file);
	g_free(name);
	free(real_dir);
	return err;
}
