/*
 * certdb.c - the certificate and key store: certs/, roots/ and keys/, one
 * PEM file per object named by its SHA-256 fingerprint, and the indexes
 * by address, subject and key identifier (see certdb.h).  Writers hold
 * the store lock.
 */
#include "certdb.h"
#include "audit.h"
#include "codec.h"
#include "diag.h"
#include "mslimits.h"

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>
#include <string.h>

/* pem_name - the file name of a certificate */
static char *
pem_name(const char *fpr)
{
	return g_strdup_printf("%s.pem", fpr);
}

/* certdb_read - parse one PEM certificate file from the store */
ms_err
certdb_read(const ms_store *store, const char *dir, const char *fpr,
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
	err = certdb_read(store, "certs", fpr, out);
	if (err == MS_OK) {
		if (is_root)
			*is_root = false;
		return MS_OK;
	}
	if (err != MS_NOTFOUND)
		return err;
	err = certdb_read(store, "roots", fpr, out);
	if (err == MS_OK && is_root)
		*is_root = true;
	return err;
}

/* certdb_index_read - the fingerprint lines of an index record */
ms_err
certdb_index_read(const ms_store *store, const char *dir, const char *name,
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

	err = certdb_index_read(store, dir, name, &fprs);
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

/* certdb_subject_key - index name for a subject: hex SHA-256 of its DER */
char *
certdb_subject_key(const X509_NAME *name)
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
		char *h = certdb_subject_key(X509_get_subject_name(cert));

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
		char *h = certdb_subject_key(X509_get_subject_name(cert));

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
		char *h = certdb_subject_key(X509_get_subject_name(cert));

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
	ms_err err = certdb_index_read(store, "index/addr", h, fprs);

	g_free(h);
	return err;
}

ms_err
certdb_issuers(const ms_store *store, const X509_NAME *name,
    GPtrArray **fprs)
{
	char *h = certdb_subject_key(name);
	ms_err err = certdb_index_read(store, "index/subject", h, fprs);

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
	return certdb_index_read(store, "index/keyid", keyid, fprs);
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
	ms_err err = certdb_read(store, "keys", fpr, out);

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
