/*
 * cert.c - certificate store, address index and usability checks (see
 * cert.h).  The decision "usable" is ours: OpenSSL builds and verifies the
 * chain and checks CRLs, and every error it reports is collected through
 * the verify callback; key usage, extended key usage, key size and the
 * address binding are checked here, because OpenSSL's S/MIME purpose check
 * refuses EC recipients (keyAgreement) that are valid for encryption.
 */
#include "cert.h"
#include "audit.h"
#include "codec.h"
#include "counters.h"
#include "diag.h"
#include "limits.h"
#include "settings.h"

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>
#include <stdarg.h>
#include <string.h>

/* DEC-10: CMS fixes for CVE-2026-34182 and CVE-2026-45447 */
#define OPENSSL_FLOOR 0x30000150L	/* 3.0.21 */

ms_err
crypto_init(void)
{
	unsigned long v = OpenSSL_version_num();

	if (v < (unsigned long)OPENSSL_FLOOR) {
		diag_error("OpenSSL %s is older than 3.0.21, which has known "
		    "CMS flaws; upgrade it", OpenSSL_version(OPENSSL_VERSION));
		return MS_CONFIG;
	}
	return MS_OK;
}

void
crypto_log_errors(const char *what)
{
	unsigned long e;
	char buf[256];
	int n = 0;

	while ((e = ERR_get_error()) != 0) {
		if (n++ < 4) {
			ERR_error_string_n(e, buf, sizeof(buf));
			diag_warn("%s: %s", what, buf);
		}
	}
}

char *
cert_fingerprint(const X509 *cert)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int len = 0;

	if (!X509_digest(cert, EVP_sha256(), md, &len))
		diag_fatal(EXIT_TEMPFAIL, "cannot compute a fingerprint");
	return codec_hex(md, len);
}

bool
cert_fingerprint_ok(const char *fpr)
{
	size_t i;

	if (fpr == NULL || strlen(fpr) != 64)
		return false;
	for (i = 0; i < 64; i++)
		if (!((fpr[i] >= '0' && fpr[i] <= '9') ||
		    (fpr[i] >= 'a' && fpr[i] <= 'f')))
			return false;
	return true;
}

static void
free_addr(gpointer p)
{
	addr_clear(p);
	g_free(p);
}

/* add_address - parse one certificate address; malformed ones counted */
static void
add_address(GPtrArray *out, const unsigned char *data, int len,
    unsigned *malformed)
{
	ms_addr *addr = g_new0(ms_addr, 1);
	const char *why;

	if (len <= 0 || addr_parse_bound((const char *)data, (size_t)len,
	    addr, &why) != MS_OK) {
		(*malformed)++;
		g_free(addr);
		return;
	}
	for (guint i = 0; i < out->len; i++)
		if (addr_equal(g_ptr_array_index(out, i), addr)) {
			free_addr(addr);
			return;
		}
	g_ptr_array_add(out, addr);
}

GPtrArray *
cert_addresses(X509 *cert, unsigned *malformed)
{
	GPtrArray *out = g_ptr_array_new_with_free_func(free_addr);
	GENERAL_NAMES *names;
	bool san_email = false;

	*malformed = 0;
	names = X509_get_ext_d2i(cert, NID_subject_alt_name, NULL, NULL);
	if (names != NULL) {
		for (int i = 0; i < sk_GENERAL_NAME_num(names); i++) {
			GENERAL_NAME *gn = sk_GENERAL_NAME_value(names, i);

			if (gn->type != GEN_EMAIL)
				continue;
			san_email = true;
			add_address(out, ASN1_STRING_get0_data(gn->d.rfc822Name),
			    ASN1_STRING_length(gn->d.rfc822Name), malformed);
		}
		GENERAL_NAMES_free(names);
	}
	if (!san_email) {
		/* RFC 8550: receivers also recognise the PKCS#9
		 * emailAddress in the subject when there is no SAN email */
		const X509_NAME *subject = X509_get_subject_name(cert);
		int pos = -1;

		while ((pos = X509_NAME_get_index_by_NID(subject,
		    NID_pkcs9_emailAddress, pos)) >= 0) {
			ASN1_STRING *s = X509_NAME_ENTRY_get_data(
			    X509_NAME_get_entry(subject, pos));

			add_address(out, ASN1_STRING_get0_data(s),
			    ASN1_STRING_length(s), malformed);
		}
	}
	return out;
}

bool
cert_is_ca(X509 *cert)
{
	return (X509_get_extension_flags(cert) & EXFLAG_CA) != 0;
}

char *
cert_date(const ASN1_TIME *time)
{
	struct tm tm;

	if (time == NULL || !ASN1_TIME_to_tm(time, &tm))
		return g_strdup("?");
	return g_strdup_printf("%04d-%02d-%02d", tm.tm_year + 1900,
	    tm.tm_mon + 1, tm.tm_mday);
}

char *
cert_name_text(const X509_NAME *name)
{
	BIO *bio = BIO_new(BIO_s_mem());
	char *data, *masked, *out;
	long len;

	if (bio == NULL)
		diag_fatal(EXIT_TEMPFAIL, "out of memory");
	X509_NAME_print_ex(bio, name, 0, XN_FLAG_RFC2253 & ~ASN1_STRFLGS_ESC_MSB);
	len = BIO_get_mem_data(bio, &data);
	masked = diag_mask(data, len > 0 ? (size_t)len : 0);
	out = g_strdup(masked);
	free(masked);
	BIO_free(bio);
	return out;
}

char *
cert_to_pem(X509 *cert, size_t *len)
{
	BIO *bio = BIO_new(BIO_s_mem());
	char *data, *out;
	long n;

	if (bio == NULL || !PEM_write_bio_X509(bio, cert))
		diag_fatal(EXIT_TEMPFAIL, "cannot encode a certificate");
	n = BIO_get_mem_data(bio, &data);
	out = g_strndup(data, (gsize)n);
	if (len != NULL)
		*len = (size_t)n;
	BIO_free(bio);
	return out;
}

/* pem_name - the file name of a certificate */
static char *
pem_name(const char *fpr)
{
	return g_strdup_printf("%s.pem", fpr);
}

/* read_cert - parse one PEM certificate file from the store */
static ms_err
read_cert(const ms_store *store, const char *dir, const char *fpr,
    X509 **out)
{
	GByteArray *data;
	char *name = pem_name(fpr);
	ms_err err;
	BIO *bio;

	*out = NULL;
	err = store_read(store, dir, name, LIMIT_STORE_OBJECT, &data);
	g_free(name);
	if (err != MS_OK)
		return err == MS_DATA ? MS_TEMP : err;
	bio = BIO_new_mem_buf(data->data, (int)data->len);
	*out = bio ? PEM_read_bio_X509(bio, NULL, NULL, NULL) : NULL;
	BIO_free(bio);
	g_byte_array_free(data, TRUE);
	if (*out == NULL) {
		diag_error("certificate %s/%s.pem is damaged", dir, fpr);
		ERR_clear_error();
		return MS_TEMP;
	}
	return MS_OK;
}

ms_err
certdb_load(const ms_store *store, const char *fpr, bool *is_root,
    X509 **out)
{
	ms_err err;

	*out = NULL;
	if (!cert_fingerprint_ok(fpr))
		return MS_NOTFOUND;
	err = read_cert(store, "certs", fpr, out);
	if (err == MS_OK) {
		if (is_root)
			*is_root = false;
		return MS_OK;
	}
	if (err != MS_NOTFOUND)
		return err;
	err = read_cert(store, "roots", fpr, out);
	if (err == MS_OK && is_root)
		*is_root = true;
	return err;
}

/* index_read - the fingerprint lines of an index record */
static ms_err
index_read(const ms_store *store, const char *dir, const char *name,
    GPtrArray **fprs)
{
	GByteArray *body;
	ms_err err;
	char **lines;

	*fprs = g_ptr_array_new_with_free_func(g_free);
	/* the record type is the index's own name: addr, subject, keyid */
	err = store_record_read(store, dir, name, strrchr(dir, '/') + 1,
	    LIMIT_STORE_OBJECT, &body);
	if (err == MS_NOTFOUND)
		return MS_OK;
	if (err != MS_OK)
		return err;
	g_byte_array_append(body, (const guint8 *)"", 1);
	lines = g_strsplit((const char *)body->data, "\n", -1);
	for (int i = 0; lines[i] != NULL; i++)
		if (cert_fingerprint_ok(lines[i]))
			g_ptr_array_add(*fprs, g_strdup(lines[i]));
	g_strfreev(lines);
	g_byte_array_free(body, TRUE);
	return MS_OK;
}

/* index_update - add or remove fpr in an index record; lock held */
static ms_err
index_update(ms_store *store, const char *dir, const char *name,
    const char *fpr, bool add)
{
	GPtrArray *fprs;
	GString *body;
	ms_err err;
	bool present = false;

	err = index_read(store, dir, name, &fprs);
	if (err != MS_OK) {
		g_ptr_array_free(fprs, TRUE);
		return err;
	}
	body = g_string_new(NULL);
	for (guint i = 0; i < fprs->len; i++) {
		const char *f = g_ptr_array_index(fprs, i);

		if (strcmp(f, fpr) == 0) {
			present = true;
			if (!add)
				continue;
		}
		g_string_append_printf(body, "%s\n", f);
	}
	if (add && !present)
		g_string_append_printf(body, "%s\n", fpr);
	if (add && present)
		err = MS_OK;
	else if (body->len == 0)
		err = store_remove(store, dir, name) == MS_TEMP ? MS_TEMP :
		    MS_OK;
	else
		err = store_record_write(store, dir, name,
		    strrchr(dir, '/') + 1, body->str, body->len, 0644);
	g_string_free(body, TRUE);
	g_ptr_array_free(fprs, TRUE);
	return err;
}

/* subject_key - index name for a subject: hex SHA-256 of its DER */
static char *
subject_key(const X509_NAME *name)
{
	const unsigned char *der = NULL;
	size_t len = 0;

	if (!X509_NAME_get0_der(name, &der, &len))
		diag_fatal(EXIT_TEMPFAIL, "cannot encode a name");
	return codec_sha256_hex(der, len);
}

/* for_each_index - apply index_update for every index entry of cert */
static ms_err
update_indexes(ms_store *store, X509 *cert, const char *fpr, bool add)
{
	GPtrArray *addrs;
	unsigned malformed;
	ms_err err = MS_OK;

	addrs = cert_addresses(cert, &malformed);
	for (guint i = 0; i < addrs->len && err == MS_OK; i++) {
		ms_addr *a = g_ptr_array_index(addrs, i);
		char *h = store_hash_name(a->key);

		err = index_update(store, "index/addr", h, fpr, add);
		g_free(h);
	}
	g_ptr_array_free(addrs, TRUE);
	if (err == MS_OK && cert_is_ca(cert)) {
		char *h = subject_key(X509_get_subject_name(cert));

		err = index_update(store, "index/subject", h, fpr, add);
		g_free(h);
	}
	return err;
}

ms_err
certdb_add(ms_store *store, X509 *cert, bool root, bool *was_new)
{
	char *fpr = cert_fingerprint(cert), *name = pem_name(fpr), *pem;
	const char *dir = root ? "roots" : "certs";
	size_t len;
	ms_err err = MS_OK;

	*was_new = !store_exists(store, dir, name);
	if (*was_new) {
		pem = cert_to_pem(cert, &len);
		err = store_write(store, dir, name, pem, len, 0644);
		g_free(pem);
	}
	/* roots are anchors, not recipients: only the certificate store is
	 * indexed by address; roots get their own subject index */
	if (err == MS_OK && !root)
		err = update_indexes(store, cert, fpr, true);
	if (err == MS_OK && root) {
		char *h = subject_key(X509_get_subject_name(cert));

		err = index_update(store, "index/root", h, fpr, true);
		g_free(h);
	}
	/* a new anchor or CA can change any chain: cached verdicts go */
	if (err == MS_OK && *was_new && (root || cert_is_ca(cert)))
		err = store_bump_generation(store);
	if (err == MS_OK && *was_new)
		err = audit_record(store, "import %s %s",
		    root ? "root" : "certificate", fpr);
	g_free(name);
	g_free(fpr);
	return err;
}

ms_err
certdb_remove(ms_store *store, const char *fpr)
{
	X509 *cert;
	bool is_root;
	char *name;
	ms_err err;

	err = certdb_load(store, fpr, &is_root, &cert);
	if (err != MS_OK)
		return err;
	if (!is_root)
		err = update_indexes(store, cert, fpr, false);
	else {
		char *h = subject_key(X509_get_subject_name(cert));

		err = index_update(store, "index/root", h, fpr, false);
		g_free(h);
	}
	if (err == MS_OK) {
		name = pem_name(fpr);
		err = store_remove(store, is_root ? "roots" : "certs", name);
		g_free(name);
	}
	if (err == MS_OK)
		err = store_bump_generation(store);
	if (err == MS_OK)
		err = audit_record(store, "remove %s %s",
		    is_root ? "root" : "certificate", fpr);
	X509_free(cert);
	return err;
}

ms_err
certdb_list(const ms_store *store, bool roots, GPtrArray **fprs)
{
	GPtrArray *names;
	ms_err err;

	*fprs = g_ptr_array_new_with_free_func(g_free);
	err = store_list(store, roots ? "roots" : "certs", &names);
	if (err != MS_OK) {
		g_ptr_array_free(names, TRUE);
		return err;
	}
	for (guint i = 0; i < names->len; i++) {
		const char *n = g_ptr_array_index(names, i);
		size_t len = strlen(n);

		if (len == 68 && strcmp(n + 64, ".pem") == 0) {
			char *fpr = g_strndup(n, 64);

			if (cert_fingerprint_ok(fpr))
				g_ptr_array_add(*fprs, fpr);
			else
				g_free(fpr);
		}
	}
	g_ptr_array_free(names, TRUE);
	return MS_OK;
}

ms_err
certdb_lookup(const ms_store *store, const ms_addr *addr, GPtrArray **fprs)
{
	char *h = store_hash_name(addr->key);
	ms_err err = index_read(store, "index/addr", h, fprs);

	g_free(h);
	return err;
}

ms_err
certdb_issuers(const ms_store *store, const X509_NAME *name,
    GPtrArray **fprs)
{
	char *h = subject_key(name);
	ms_err err = index_read(store, "index/subject", h, fprs);

	g_free(h);
	return err;
}

static char *
key_name(const char *fpr)
{
	return g_strdup_printf("%s.key", fpr);
}

char *
certdb_keyid_issuer_serial(const X509_NAME *issuer, const ASN1_INTEGER *serial)
{
	const unsigned char *der = NULL;
	unsigned char *sder = NULL;
	size_t len = 0;
	int slen;
	GChecksum *sum;
	char *out;

	if (!X509_NAME_get0_der(issuer, &der, &len) ||
	    (slen = i2d_ASN1_INTEGER(serial, &sder)) <= 0)
		diag_fatal(EXIT_TEMPFAIL, "cannot encode an issuer and serial");
	sum = g_checksum_new(G_CHECKSUM_SHA256);
	g_checksum_update(sum, (const guchar *)"isn:", 4);
	g_checksum_update(sum, der, (gssize)len);
	g_checksum_update(sum, sder, slen);
	out = g_strdup(g_checksum_get_string(sum));
	g_checksum_free(sum);
	OPENSSL_free(sder);
	return out;
}

char *
certdb_keyid_ski(const ASN1_OCTET_STRING *ski)
{
	GChecksum *sum = g_checksum_new(G_CHECKSUM_SHA256);
	char *out;

	g_checksum_update(sum, (const guchar *)"ski:", 4);
	g_checksum_update(sum, ASN1_STRING_get0_data(ski),
	    ASN1_STRING_length(ski));
	out = g_strdup(g_checksum_get_string(sum));
	g_checksum_free(sum);
	return out;
}

ms_err
certdb_keyid_lookup(const ms_store *store, const char *keyid,
    GPtrArray **fprs)
{
	return index_read(store, "index/keyid", keyid, fprs);
}

ms_err
certdb_key_save(ms_store *store, X509 *cert, EVP_PKEY *key)
{
	BIO *bio = BIO_new(BIO_s_secmem());
	char *data, *name, *fpr = cert_fingerprint(cert), *id;
	const ASN1_OCTET_STRING *ski;
	long len;
	ms_err err;

	if (bio == NULL)
		bio = BIO_new(BIO_s_mem());
	if (bio == NULL || !PEM_write_bio_PrivateKey(bio, key, NULL, NULL, 0,
	    NULL, NULL)) {
		BIO_free(bio);
		g_free(fpr);
		crypto_log_errors("encode private key");
		return MS_INTERNAL;
	}
	len = BIO_get_mem_data(bio, &data);
	name = key_name(fpr);
	/* KEY: private keys are 0600 in a 0700 directory (STORE-5) */
	err = store_write(store, "keys", name, data, (size_t)len, 0600);
	OPENSSL_cleanse(data, (size_t)len);
	BIO_free(bio);
	g_free(name);
	if (err == MS_OK) {
		/* the key's own copy of its certificate: decryption needs it
		 * (DEC-9) even after the certificate left the certificate
		 * store */
		size_t plen;
		char *pem = cert_to_pem(cert, &plen);

		name = g_strdup_printf("%s.pem", fpr);
		err = store_write(store, "keys", name, pem, plen, 0644);
		g_free(name);
		g_free(pem);
	}
	if (err == MS_OK) {
		id = certdb_keyid_issuer_serial(X509_get_issuer_name(cert),
		    X509_get0_serialNumber(cert));
		err = index_update(store, "index/keyid", id, fpr, true);
		g_free(id);
	}
	ski = X509_get0_subject_key_id(cert);
	if (err == MS_OK && ski != NULL) {
		id = certdb_keyid_ski(ski);
		err = index_update(store, "index/keyid", id, fpr, true);
		g_free(id);
	}
	if (err == MS_OK)
		err = audit_record(store, "import key of certificate %s", fpr);
	g_free(fpr);
	return err;
}

ms_err
certdb_key_load(const ms_store *store, const char *fpr, EVP_PKEY **out)
{
	GByteArray *data;
	char *name = key_name(fpr);
	ms_err err;
	BIO *bio;

	*out = NULL;
	err = store_read(store, "keys", name, LIMIT_STORE_OBJECT, &data);
	g_free(name);
	if (err != MS_OK)
		return err == MS_DATA ? MS_TEMP : err;
	bio = BIO_new_mem_buf(data->data, (int)data->len);
	*out = bio ? PEM_read_bio_PrivateKey(bio, NULL, NULL, NULL) : NULL;
	BIO_free(bio);
	OPENSSL_cleanse(data->data, data->len);
	g_byte_array_free(data, TRUE);
	if (*out == NULL) {
		ERR_clear_error();
		diag_error("private key for %s is damaged", fpr);
		return MS_TEMP;
	}
	return MS_OK;
}

ms_err
certdb_key_cert_load(const ms_store *store, const char *fpr, X509 **out)
{
	ms_err err = read_cert(store, "keys", fpr, out);

	if (err == MS_OK) {
		/* the copy must be the certificate its name says */
		char *got = cert_fingerprint(*out);

		if (strcmp(got, fpr) != 0) {
			diag_error("keys/%s.pem holds another certificate",
			    fpr);
			X509_free(*out);
			*out = NULL;
			err = MS_TEMP;
		}
		g_free(got);
	}
	if (err == MS_NOTFOUND)
		err = certdb_load(store, fpr, NULL, out);
	return err;
}

bool
certdb_has_key(const ms_store *store, const char *fpr)
{
	char *name = key_name(fpr);
	bool ok = store_exists(store, "keys", name);

	g_free(name);
	return ok;
}

struct ms_trust {
	const ms_store *store;
	unsigned long long generation;	/* of the store, at open */
	bool no_cache;			/* always verify in full */
	X509_STORE *xstore;
	STACK_OF(X509) *roots;	/* the roots loaded so far */
	GHashTable *loaded;	/* their fingerprints */
	GHashTable *certs;	/* fingerprint -> X509 read by
				 * trust_cert_load */
	bool revocation_hard;	/* revocation = hard (CRL-5) */
	time_t revocation_grace;	/* seconds a CRL counts past
					 * its nextUpdate */
};

ms_err
trust_open(const ms_store *store, const ms_settings *settings,
    ms_trust **out)
{
	ms_trust *trust = g_new0(ms_trust, 1);
	X509_LOOKUP *lookup;
	char *crldir;

	*out = NULL;
	counter_add(COUNTER_TRUST);
	trust->store = store;
	trust->generation = store_generation(store);
	/* a damaged counter: nothing cached can be trusted to be current */
	if (trust->generation == STORE_GENERATION_UNKNOWN)
		trust->no_cache = true;
	trust->revocation_hard = strcmp(settings_get(settings, "revocation"),
	    "hard") == 0;
	trust->revocation_grace = (time_t)settings_get_number(settings,
	    "revocation-grace");
	trust->xstore = X509_STORE_new();
	trust->roots = sk_X509_new_null();
	if (trust->xstore == NULL || trust->roots == NULL)
		diag_fatal(EXIT_TEMPFAIL, "out of memory");
	/* roots are loaded on demand, by subject, as chains are built:
	 * a filter run touches only the anchors it needs */
	trust->loaded = g_hash_table_new_full(g_str_hash, g_str_equal, g_free,
	    NULL);
	trust->certs = g_hash_table_new_full(g_str_hash, g_str_equal, g_free,
	    (GDestroyNotify)X509_free);
	/* CRLs in OpenSSL's hashed layout, loaded on demand */
	crldir = store_path(store, "crls", NULL);
	lookup = X509_STORE_add_lookup(trust->xstore, X509_LOOKUP_hash_dir());
	if (lookup == NULL || !X509_LOOKUP_add_dir(lookup, crldir,
	    X509_FILETYPE_PEM)) {
		g_free(crldir);
		trust_free(trust);
		crypto_log_errors("CRL store");
		return MS_INTERNAL;
	}
	g_free(crldir);
	*out = trust;
	return MS_OK;
}

void
trust_free(ms_trust *trust)
{
	if (trust == NULL)
		return;
	X509_STORE_free(trust->xstore);
	sk_X509_pop_free(trust->roots, X509_free);
	if (trust->loaded != NULL)
		g_hash_table_destroy(trust->loaded);
	if (trust->certs != NULL)
		g_hash_table_destroy(trust->certs);
	g_free(trust);
}

ms_err
trust_cert_load(ms_trust *trust, const char *fpr, X509 **out)
{
	X509 *cert = g_hash_table_lookup(trust->certs, fpr);
	ms_err err;

	/* a file's name is the SHA-256 of its content, so what was read
	 * once is what a second read would give */
	if (cert == NULL) {
		err = certdb_load(trust->store, fpr, NULL, &cert);
		if (err != MS_OK) {
			*out = NULL;
			return err;
		}
		g_hash_table_insert(trust->certs, g_strdup(fpr), cert);
	}
	X509_up_ref(cert);
	*out = cert;
	return MS_OK;
}

ms_err
trust_load_roots(ms_trust *trust, const X509_NAME *subject, bool *found)
{
	GPtrArray *fprs;
	char *h = subject_key(subject);
	ms_err err = index_read(trust->store, "index/root", h, &fprs);

	g_free(h);
	*found = false;
	for (guint i = 0; err == MS_OK && i < fprs->len; i++) {
		const char *fpr = g_ptr_array_index(fprs, i);
		X509 *root;
		ms_err lerr;

		if (g_hash_table_contains(trust->loaded, fpr)) {
			*found = true;
			continue;
		}
		lerr = read_cert(trust->store, "roots", fpr, &root);
		if (lerr == MS_NOTFOUND)
			lerr = certdb_missing("roots", fpr);
		if (lerr != MS_OK) {
			err = lerr;
			break;
		}
		if (!X509_STORE_add_cert(trust->xstore, root))
			ERR_clear_error();	/* a duplicate */
		sk_X509_push(trust->roots, root);
		g_hash_table_add(trust->loaded, g_strdup(fpr));
		*found = true;
	}
	g_ptr_array_free(fprs, TRUE);
	return err;
}

void
trust_no_cache(ms_trust *trust)
{
	trust->no_cache = true;
}

STACK_OF(X509) *
trust_roots(ms_trust *trust)
{
	return trust->roots;
}

void
verdict_init(cert_verdict *verdict)
{
	verdict->usable = false;
	verdict->refused = verdict->noted = 0;
	verdict->reasons = g_ptr_array_new_with_free_func(g_free);
	verdict->reason_flags = g_array_new(FALSE, FALSE, sizeof(unsigned));
	verdict->notes = g_ptr_array_new_with_free_func(g_free);
}

void
verdict_clear(cert_verdict *verdict)
{
	if (verdict->reasons)
		g_ptr_array_free(verdict->reasons, TRUE);
	if (verdict->reason_flags)
		g_array_free(verdict->reason_flags, TRUE);
	if (verdict->notes)
		g_ptr_array_free(verdict->notes, TRUE);
	verdict->reasons = verdict->notes = NULL;
	verdict->reason_flags = NULL;
}

const char *
cert_flag_text(cert_flag flag)
{
	switch (flag) {
	case CERT_CA:
		return "CA certificate";
	case CERT_UNREADABLE_KEY:
		return "unreadable key";
	case CERT_WEAK_KEY:
		return "weak key";
	case CERT_WRONG_USAGE:
		return "wrong key usage";
	case CERT_WRONG_EXTENDED_USAGE:
		return "wrong extended key usage";
	case CERT_MALFORMED_ADDRESS:
		return "malformed address";
	case CERT_NO_ADDRESS:
		return "no address";
	case CERT_ADDRESS_MISMATCH:
		return "address mismatch";
	case CERT_EXPIRED:
		return "expired";
	case CERT_NOT_YET_VALID:
		return "not yet valid";
	case CERT_REVOKED:
		return "revoked";
	case CERT_ISSUER_EXPIRED:
		return "expired issuer";
	case CERT_ISSUER_NOT_YET_VALID:
		return "not yet valid issuer";
	case CERT_ISSUER_REVOKED:
		return "revoked issuer";
	case CERT_REVOCATION_UNKNOWN:
		return "revocation unknown";
	case CERT_CRL_IN_GRACE:
		return "CRL past its nextUpdate, within the grace";
	case CERT_UNTRUSTED:
		return "untrusted";
	case CERT_NO_PRIVATE_KEY:
		return "no private key in the store";
	}
	return "not usable";
}

void
cert_verdict_add(cert_verdict *verdict, cert_flag flag, bool blocking,
    const char *detail_fmt, ...)
{
	GPtrArray *list = blocking ? verdict->reasons : verdict->notes;
	GString *text = g_string_new(cert_flag_text(flag));
	unsigned bits = flag;
	va_list ap;

	if (detail_fmt != NULL) {
		va_start(ap, detail_fmt);
		g_string_append_vprintf(text, detail_fmt, ap);
		va_end(ap);
	}
	if (blocking) {
		verdict->refused |= flag;
		verdict->usable = false;
	} else
		verdict->noted |= flag;
	/* OpenSSL reports a chain error once per place it finds it */
	for (guint i = 0; i < list->len; i++)
		if (strcmp(g_ptr_array_index(list, i), text->str) == 0) {
			g_string_free(text, TRUE);
			return;
		}
	g_ptr_array_add(list, g_string_free(text, FALSE));
	if (blocking)
		g_array_append_val(verdict->reason_flags, bits);
}

unsigned
cert_verdict_reason_flag(const cert_verdict *verdict, guint i)
{
	return g_array_index(verdict->reason_flags, unsigned, i);
}

const char *
cert_verdict_first(const cert_verdict *verdict, unsigned mask)
{
	for (guint i = 0; i < verdict->reasons->len; i++)
		if (cert_verdict_reason_flag(verdict, i) & mask)
			return g_ptr_array_index(verdict->reasons, i);
	return NULL;
}

/* untrusted_chain - CA certificates from the store that may sit between
 * cert and a root, found through the subject index */
static STACK_OF(X509) *
untrusted_chain(ms_trust *trust, X509 *cert, STACK_OF(X509) *extra)
{
	STACK_OF(X509) *chain = sk_X509_new_null();
	X509 *current = cert;
	int depth;

	if (chain == NULL)
		diag_fatal(EXIT_TEMPFAIL, "out of memory");
	for (int i = 0; extra != NULL && i < sk_X509_num(extra) &&
	    i < 4 * CERT_CHAIN_MAX; i++) {
		X509 *c = sk_X509_value(extra, i);

		if (X509_cmp(c, cert) == 0)
			continue;
		X509_up_ref(c);
		sk_X509_push(chain, c);
	}
	for (depth = 0; depth < CERT_CHAIN_MAX && current != NULL; depth++) {
		GPtrArray *fprs;
		X509 *next = NULL;

		bool is_root = false;

		if (trust_load_roots(trust, X509_get_issuer_name(current),
		    &is_root) != MS_OK || is_root)
			break;	/* an anchor (or an unreadable root store) */
		if (X509_check_issued(current, current) == X509_V_OK)
			break;	/* self-issued: the top */
		if (certdb_issuers(trust->store,
		    X509_get_issuer_name(current), &fprs) != MS_OK) {
			g_ptr_array_free(fprs, TRUE);
			break;
		}
		for (guint i = 0; i < fprs->len &&
		    sk_X509_num(chain) < 4 * CERT_CHAIN_MAX; i++) {
			X509 *ca;

			if (read_cert(trust->store, "certs",
			    g_ptr_array_index(fprs, i), &ca) != MS_OK)
				continue;
			sk_X509_push(chain, ca);
			if (next == NULL)
				next = ca;
		}
		g_ptr_array_free(fprs, TRUE);
		current = next;
	}
	return chain;
}

typedef struct check_state {
	cert_verdict *verdict;
	const ms_trust *trust;
	bool unknown;		/* revocation status unknown (CRL-5) */
} check_state;

static int check_state_index = -1;

/* names_crl - the certificate names a CRL distribution point: its
 * issuer promises a CRL, so having none is not "no CRL exists" */
static bool
names_crl(X509 *cert)
{
	return cert != NULL &&
	    X509_get_ext_by_NID(cert, NID_crl_distribution_points, -1) >= 0;
}

/* within_grace - the CRL being checked is past its nextUpdate by less
 * than the grace the administrator allows */
static bool
within_grace(X509_STORE_CTX *ctx, const ms_trust *trust)
{
	X509_CRL *crl = X509_STORE_CTX_get0_current_crl(ctx);
	const ASN1_TIME *next = crl ? X509_CRL_get0_nextUpdate(crl) : NULL;
	time_t limit = time(NULL) - trust->revocation_grace;

	return next != NULL && X509_cmp_time(next, &limit) > 0;
}

/* revocation_unknown - CRL-5: never "not revoked"; under hard the
 * certificate is refused, under soft it is used and the caller logs it */
static void
revocation_unknown(check_state *state, const char *detail)
{
	state->unknown = true;
	cert_verdict_add(state->verdict, CERT_REVOCATION_UNKNOWN,
	    state->trust->revocation_hard, ": %s", detail);
}

/* verify_cb - collect every error OpenSSL finds instead of stopping at
 * the first; revocation that cannot be determined is decided by the
 * revocation policy */
static int
verify_cb(int ok, X509_STORE_CTX *ctx)
{
	check_state *state;
	int error, depth;
	const char *text;

	if (ok)
		return 1;
	state = X509_STORE_CTX_get_ex_data(ctx, check_state_index);
	error = X509_STORE_CTX_get_error(ctx);
	depth = X509_STORE_CTX_get_error_depth(ctx);
	text = X509_verify_cert_error_string(error);
	if (state == NULL)
		return 0;
	switch (error) {
	case X509_V_ERR_CERT_HAS_EXPIRED:
		cert_verdict_add(state->verdict, depth == 0 ? CERT_EXPIRED :
		    CERT_ISSUER_EXPIRED, true, NULL);
		break;
	case X509_V_ERR_CERT_NOT_YET_VALID:
		cert_verdict_add(state->verdict, depth == 0 ?
		    CERT_NOT_YET_VALID : CERT_ISSUER_NOT_YET_VALID, true,
		    NULL);
		break;
	case X509_V_ERR_CERT_REVOKED:
		cert_verdict_add(state->verdict, depth == 0 ? CERT_REVOKED :
		    CERT_ISSUER_REVOKED, true, NULL);
		break;
	case X509_V_ERR_UNABLE_TO_GET_CRL:
		if (names_crl(X509_STORE_CTX_get_current_cert(ctx)))
			revocation_unknown(state, "no CRL");
		else
			cert_verdict_add(state->verdict,
			    CERT_REVOCATION_UNKNOWN, false, ": no CRL");
		break;
	case X509_V_ERR_CRL_HAS_EXPIRED:
		/* OpenSSL still looks the certificate up in the CRL */
		if (within_grace(ctx, state->trust))
			cert_verdict_add(state->verdict, CERT_CRL_IN_GRACE,
			    false, NULL);
		else
			revocation_unknown(state, text);
		break;
	case X509_V_ERR_CRL_NOT_YET_VALID:
	case X509_V_ERR_UNABLE_TO_GET_CRL_ISSUER:
	case X509_V_ERR_CRL_SIGNATURE_FAILURE:
	case X509_V_ERR_UNABLE_TO_DECRYPT_CRL_SIGNATURE:
	case X509_V_ERR_DIFFERENT_CRL_SCOPE:
	case X509_V_ERR_ERROR_IN_CRL_LAST_UPDATE_FIELD:
	case X509_V_ERR_ERROR_IN_CRL_NEXT_UPDATE_FIELD:
		revocation_unknown(state, text);
		break;
	default:
		cert_verdict_add(state->verdict, CERT_UNTRUSTED, true, ": %s",
		    text);
		break;
	}
	return 1;
}

/* check_key - key type, size, usage for the purpose */
static void
check_key(X509 *cert, cert_purpose purpose, cert_verdict *verdict)
{
	uint32_t flags = X509_get_extension_flags(cert);
	uint32_t ku = X509_get_key_usage(cert);
	EVP_PKEY *pub = X509_get0_pubkey(cert);
	int id = pub ? EVP_PKEY_get_base_id(pub) : 0;
	int bits = pub ? EVP_PKEY_get_bits(pub) : 0;

	if (pub == NULL) {
		cert_verdict_add(verdict, CERT_UNREADABLE_KEY, true, NULL);
		return;
	}
	if (id == EVP_PKEY_RSA || id == EVP_PKEY_RSA_PSS) {
		if (bits < CERT_RSA_MIN_BITS)
			cert_verdict_add(verdict, CERT_WEAK_KEY, true,
			    ": RSA %d bits", bits);
		else if (bits > CERT_RSA_MAX_BITS)
			cert_verdict_add(verdict, CERT_WEAK_KEY, true,
			    ": RSA %d bits is over the limit", bits);
	} else if (id == EVP_PKEY_EC) {
		char curve[64] = "";
		size_t clen = 0;

		if (!EVP_PKEY_get_group_name(pub, curve, sizeof(curve), &clen)
		    || !(strcmp(curve, "prime256v1") == 0 ||
		    strcmp(curve, "secp384r1") == 0 ||
		    strcmp(curve, "secp521r1") == 0))
			cert_verdict_add(verdict, CERT_WEAK_KEY, true,
			    ": unsupported EC curve");
	} else if (id == EVP_PKEY_ED25519 || id == EVP_PKEY_ED448) {
		if (purpose == CERT_PURPOSE_ENCRYPT)
			cert_verdict_add(verdict, CERT_WRONG_USAGE, true,
			    ": key type cannot encrypt");
	} else {
		cert_verdict_add(verdict, CERT_WEAK_KEY, true,
		    ": unsupported key type");
	}
	if (flags & EXFLAG_KUSAGE) {
		bool ok;

		if (purpose == CERT_PURPOSE_SIGN)
			ok = (ku & (KU_DIGITAL_SIGNATURE |
			    KU_NON_REPUDIATION)) != 0;
		else if (id == EVP_PKEY_EC)
			ok = (ku & KU_KEY_AGREEMENT) != 0;
		else
			ok = (ku & KU_KEY_ENCIPHERMENT) != 0;
		if (!ok)
			cert_verdict_add(verdict, CERT_WRONG_USAGE, true, NULL);
	}
	if (flags & EXFLAG_XKUSAGE) {
		uint32_t xku = X509_get_extended_key_usage(cert);

		if ((xku & (XKU_SMIME | XKU_ANYEKU)) == 0)
			cert_verdict_add(verdict, CERT_WRONG_EXTENDED_USAGE,
			    true, NULL);
	}
	if (flags & EXFLAG_INVALID)
		cert_verdict_add(verdict, CERT_UNTRUSTED, true,
		    ": invalid or inconsistent extensions");
}

/* check_address - the certificate must carry addr (or any valid one) */
static void
check_address(X509 *cert, const ms_addr *addr, cert_verdict *verdict)
{
	unsigned malformed = 0;
	GPtrArray *addrs = cert_addresses(cert, &malformed);
	bool match = false;

	if (malformed > 0)
		cert_verdict_add(verdict, CERT_MALFORMED_ADDRESS,
		    addr == NULL || addrs->len == 0, " (%u)", malformed);
	if (addrs->len == 0 && malformed == 0)
		cert_verdict_add(verdict, CERT_NO_ADDRESS, true, NULL);
	if (addr != NULL) {
		for (guint i = 0; i < addrs->len && !match; i++)
			match = addr_equal(g_ptr_array_index(addrs, i), addr);
		if (!match && addrs->len > 0)
			cert_verdict_add(verdict, CERT_ADDRESS_MISMATCH, true,
			    NULL);
	}
	g_ptr_array_free(addrs, TRUE);
}

ms_err
trust_check(ms_trust *trust, X509 *cert, cert_purpose purpose,
    const ms_addr *addr, cert_verdict *verdict)
{
	return trust_check_with(trust, cert, purpose, addr, NULL, verdict);
}

/* verdict cache: a usable verdict for (certificate, purpose, address) is
 * remembered for at most VERDICT_TTL seconds, never past the notAfter of
 * the certificate or its chain, and only for the store generation it was
 * made in: adding or removing a root or CA certificate and installing a
 * CRL start a new generation.  A filter then skips loading the root and
 * verifying the chain again for every message to the same recipient. */
#define VERDICT_TTL 3600

static char *
verdict_name(const ms_trust *trust, X509 *cert, cert_purpose purpose,
    const ms_addr *addr)
{
	char *fpr = cert_fingerprint(cert);
	/* the policy is part of the name: a verdict made under soft must
	 * not be reused once hard is in force */
	char *text = g_strdup_printf("verdict:%s:%d:%s:%s:%lld", fpr,
	    (int)purpose, addr ? addr->key : "",
	    trust->revocation_hard ? "hard" : "soft",
	    (long long)trust->revocation_grace);
	char *name = store_hash_name(text);

	g_free(text);
	g_free(fpr);
	return name;
}

static bool
verdict_cached(ms_trust *trust, X509 *cert, cert_purpose purpose,
    const ms_addr *addr)
{
	char *name = verdict_name(trust, cert, purpose, addr);
	GByteArray *body;
	unsigned long long generation = 0, until = 0;
	bool hit = false;

	if (store_record_read(trust->store, "cache", name, "verdict", 256,
	    &body) == MS_OK) {
		g_byte_array_append(body, (const guint8 *)"", 1);
		if (sscanf((const char *)body->data, "generation=%llu\n"
		    "until=%llu\n", &generation, &until) == 2)
			hit = generation == trust->generation &&
			    (unsigned long long)time(NULL) < until;
		g_byte_array_free(body, TRUE);
	}
	g_free(name);
	return hit;
}

static void
verdict_remember(ms_trust *trust, X509 *cert, STACK_OF(X509) *chain,
    cert_purpose purpose, const ms_addr *addr)
{
	time_t until = time(NULL) + VERDICT_TTL;
	char *name, *body;
	GString *rec;
	char *sum;

	for (int i = -1; i < (chain ? sk_X509_num(chain) : 0); i++) {
		X509 *c = i < 0 ? cert : sk_X509_value(chain, i);
		struct tm tm;
		time_t t;

		if (ASN1_TIME_to_tm(X509_get0_notAfter(c), &tm) &&
		    (t = timegm(&tm)) < until)
			until = t;
	}
	name = verdict_name(trust, cert, purpose, addr);
	body = g_strdup_printf("generation=%llu\nuntil=%lld\n",
	    trust->generation, (long long)until);
	sum = codec_sha256_hex(body, strlen(body));
	rec = g_string_new(NULL);
	g_string_append_printf(rec, "mailseal-record 1 verdict\n%s"
	    "mailseal-end %zu %s\n", body, strlen(body), sum);
	/* best effort: a filter without write access just does not cache */
	(void)store_write_cache(trust->store, "cache", name, rec->str,
	    rec->len);
	g_string_free(rec, TRUE);
	g_free(sum);
	g_free(body);
	g_free(name);
}

ms_err
trust_check_with(ms_trust *trust, X509 *cert, cert_purpose purpose,
    const ms_addr *addr, STACK_OF(X509) *extra, cert_verdict *verdict)
{
	X509_STORE_CTX *ctx;
	STACK_OF(X509) *untrusted;
	check_state state = { verdict, trust, false };
	X509_VERIFY_PARAM *param;
	int rc;

	if (check_state_index < 0)
		check_state_index = X509_STORE_CTX_get_ex_new_index(0, NULL,
		    NULL, NULL, NULL);
	verdict->usable = false;
	if (cert_is_ca(cert))
		cert_verdict_add(verdict, CERT_CA, true, NULL);
	check_key(cert, purpose, verdict);
	check_address(cert, addr, verdict);
	/* certificates carried by a message are never cached */
	if (extra == NULL && !trust->no_cache &&
	    verdict->refused == 0 &&
	    verdict_cached(trust, cert, purpose, addr)) {
		verdict->usable = true;
		return MS_OK;
	}

	untrusted = untrusted_chain(trust, cert, extra);
	ctx = X509_STORE_CTX_new();
	if (ctx == NULL || !X509_STORE_CTX_init(ctx, trust->xstore, cert,
	    untrusted)) {
		X509_STORE_CTX_free(ctx);
		sk_X509_pop_free(untrusted, X509_free);
		crypto_log_errors("verify");
		return MS_INTERNAL;
	}
	X509_STORE_CTX_set_ex_data(ctx, check_state_index, &state);
	X509_STORE_CTX_set_verify_cb(ctx, verify_cb);
	param = X509_STORE_CTX_get0_param(ctx);
	X509_VERIFY_PARAM_set_flags(param, X509_V_FLAG_CRL_CHECK |
	    X509_V_FLAG_CRL_CHECK_ALL | X509_V_FLAG_USE_DELTAS);
	X509_VERIFY_PARAM_set_depth(param, CERT_CHAIN_MAX);
	rc = X509_verify_cert(ctx);
	if (rc < 0) {
		cert_verdict_add(verdict, CERT_UNTRUSTED, true,
		    ": chain could not be built");
	}
	ERR_clear_error();
	verdict->usable = verdict->refused == 0;
	if (verdict->usable && state.unknown) {
		char *fpr = cert_fingerprint(cert);

		diag_info("certificate %s used with revocation status "
		    "unknown (revocation = soft)", fpr);
		g_free(fpr);
	}
	if (verdict->usable && extra == NULL)
		verdict_remember(trust, cert, X509_STORE_CTX_get0_chain(ctx),
		    purpose, addr);
	X509_STORE_CTX_free(ctx);
	sk_X509_pop_free(untrusted, X509_free);
	return MS_OK;
}

STACK_OF(X509) *
trust_chain(ms_trust *trust, X509 *cert)
{
	X509_STORE_CTX *ctx = X509_STORE_CTX_new();
	STACK_OF(X509) *untrusted = untrusted_chain(trust, cert, NULL);
	STACK_OF(X509) *chain = NULL;

	if (ctx != NULL && X509_STORE_CTX_init(ctx, trust->xstore, cert,
	    untrusted) && X509_verify_cert(ctx) == 1) {
		chain = X509_STORE_CTX_get1_chain(ctx);
		if (chain != NULL && sk_X509_num(chain) > 0)
			X509_free(sk_X509_shift(chain));	/* cert itself */
	}
	ERR_clear_error();
	X509_STORE_CTX_free(ctx);
	sk_X509_pop_free(untrusted, X509_free);
	return chain;
}

typedef struct found {
	char *fpr;
	X509 *cert;
	time_t not_before;
} found;

static gint
newest_first(gconstpointer a, gconstpointer b)
{
	const found *fa = *(found *const *)a, *fb = *(found *const *)b;

	if (fa->not_before != fb->not_before)
		return fa->not_before < fb->not_before ? 1 : -1;
	return strcmp(fa->fpr, fb->fpr);	/* deterministic */
}

ms_err
certdb_missing(const char *dir, const char *fpr)
{
	/* certstore removes the index entry before the file, so this is a
	 * damaged or partly restored store, or a removal between our two
	 * reads: either way try again later, never "no certificate" */
	diag_error("the index names %s/%s.pem, which is missing: restore "
	    "the store from a backup, or remove the certificate with "
	    "certstore and import it again", dir, fpr);
	return MS_TEMP;
}

ms_err
trust_find(ms_trust *trust, const ms_addr *addr, cert_purpose purpose,
    GPtrArray **fprs, STACK_OF(X509) **certs)
{
	GPtrArray *candidates, *hits;
	ms_err err;

	*fprs = g_ptr_array_new_with_free_func(g_free);
	if (certs != NULL && (*certs = sk_X509_new_null()) == NULL)
		diag_fatal(EXIT_TEMPFAIL, "out of memory");
	err = certdb_lookup(trust->store, addr, &candidates);
	if (err != MS_OK) {
		g_ptr_array_free(candidates, TRUE);
		return err;
	}
	hits = g_ptr_array_new();
	for (guint i = 0; i < candidates->len && err == MS_OK; i++) {
		const char *fpr = g_ptr_array_index(candidates, i);
		cert_verdict verdict;
		X509 *cert;
		ms_err lerr = read_cert(trust->store, "certs", fpr, &cert);

		if (lerr == MS_NOTFOUND)
			lerr = certdb_missing("certs", fpr);
		if (lerr != MS_OK) {
			err = lerr;
			break;
		}
		verdict_init(&verdict);
		err = trust_check(trust, cert, purpose, addr, &verdict);
		if (err == MS_OK && verdict.usable) {
			found *f = g_new0(found, 1);
			struct tm tm;

			f->fpr = g_strdup(fpr);
			if (ASN1_TIME_to_tm(X509_get0_notBefore(cert), &tm))
				f->not_before = timegm(&tm);
			X509_up_ref(cert);
			f->cert = cert;
			g_ptr_array_add(hits, f);
		}
		verdict_clear(&verdict);
		X509_free(cert);
	}
	g_ptr_array_sort(hits, newest_first);
	for (guint i = 0; i < hits->len; i++) {
		found *f = g_ptr_array_index(hits, i);

		if (err == MS_OK) {
			g_ptr_array_add(*fprs, f->fpr);
			if (certs != NULL) {
				sk_X509_push(*certs, f->cert);
				f->cert = NULL;
			}
		} else
			g_free(f->fpr);
		X509_free(f->cert);
		g_free(f);
	}
	g_ptr_array_free(hits, TRUE);
	g_ptr_array_free(candidates, TRUE);
	if (err == MS_OK && (*fprs)->len == 0)
		return MS_NOTFOUND;
	return err;
}
