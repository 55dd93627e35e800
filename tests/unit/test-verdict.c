/*
 * test-verdict.c - typed results: the words of every certificate flag,
 * OpenPGP key flag and decryption failure (each in one place), the
 * decisions made on the values (signer status, address-exempt
 * certificates, domain keys), and the CMS allow-list check on DER made
 * here with OpenSSL (enveloped, auth-enveloped, signed, refused ciphers,
 * truncated and random input), a certificate of the store parsed
 * once per run however many steps use it, and the signing digest and
 * unsupported key types per key type.
 */
#include "cert.h"
#include "trust.h"
#include "decrypt.h"
#include "pgp.h"
#include "smime.h"
#include "unseal.h"
#include "unit.h"

#include <openssl/cms.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

static void
check_cert_words(void)
{
	static const struct {
		cert_flag flag;
		const char *text;
	} table[] = {
		{ CERT_CA, "CA certificate" },
		{ CERT_UNREADABLE_KEY, "unreadable key" },
		{ CERT_WEAK_KEY, "weak key" },
		{ CERT_WRONG_USAGE, "wrong key usage" },
		{ CERT_WRONG_EXTENDED_USAGE, "wrong extended key usage" },
		{ CERT_MALFORMED_ADDRESS, "malformed address" },
		{ CERT_NO_ADDRESS, "no address" },
		{ CERT_ADDRESS_MISMATCH, "address mismatch" },
		{ CERT_EXPIRED, "expired" },
		{ CERT_NOT_YET_VALID, "not yet valid" },
		{ CERT_REVOKED, "revoked" },
		{ CERT_ISSUER_EXPIRED, "expired issuer" },
		{ CERT_ISSUER_NOT_YET_VALID, "not yet valid issuer" },
		{ CERT_ISSUER_REVOKED, "revoked issuer" },
		{ CERT_REVOCATION_UNKNOWN, "revocation unknown" },
		{ CERT_CRL_IN_GRACE,
		  "CRL past its nextUpdate, within the grace" },
		{ CERT_UNTRUSTED, "untrusted" },
		{ CERT_NO_PRIVATE_KEY, "no private key in the store" },
		{ CERT_UNSUPPORTED_KEY, "unsupported key type" },
	};
	unsigned all = 0;

	for (size_t i = 0; i < G_N_ELEMENTS(table); i++) {
		unit_check(unit_streq(cert_flag_text(table[i].flag),
		    table[i].text), "cert_flag_text(%#x) is \"%s\"",
		    (unsigned)table[i].flag, table[i].text);
		all |= table[i].flag;
	}
	/* every flag is in the table: one bit each, none left out */
	unit_check(all == (CERT_UNSUPPORTED_KEY << 1) - 1,
	    "the table names every cert_flag");
}

static void
check_verdict_list(void)
{
	cert_verdict v;

	verdict_init(&v);
	cert_verdict_add(&v, CERT_ADDRESS_MISMATCH, true, NULL);
	cert_verdict_add(&v, CERT_WEAK_KEY, true, ": RSA %d bits", 1024);
	cert_verdict_add(&v, CERT_UNTRUSTED, true, ": %s", "x");
	cert_verdict_add(&v, CERT_UNTRUSTED, true, ": %s", "x");
	cert_verdict_add(&v, CERT_REVOCATION_UNKNOWN, false, ": no CRL");
	unit_check(v.reasons->len == 3 && v.reason_flags->len == 3,
	    "a reason found twice is listed once");
	unit_check(v.refused == (CERT_ADDRESS_MISMATCH | CERT_WEAK_KEY |
	    CERT_UNTRUSTED) && v.noted == CERT_REVOCATION_UNKNOWN &&
	    !v.usable, "reasons and remarks set their bits");
	unit_check(unit_streq(g_ptr_array_index(v.reasons, 1),
	    "weak key: RSA 1024 bits"), "a reason's text is its flag's words "
	    "and the detail");
	unit_check(unit_streq(g_ptr_array_index(v.notes, 0),
	    "revocation unknown: no CRL"), "a remark's text likewise");
	unit_check(cert_verdict_reason_flag(&v, 0) == CERT_ADDRESS_MISMATCH &&
	    cert_verdict_reason_flag(&v, 2) == CERT_UNTRUSTED,
	    "each reason keeps its flag");
	unit_check(unit_streq(cert_verdict_first(&v,
	    ~(unsigned)CERT_ADDRESS_FLAGS), "weak key: RSA 1024 bits"),
	    "the first reason that is not about the address");
	unit_check(cert_verdict_first(&v, CERT_REVOKED_FLAGS) == NULL,
	    "no revoked reason: none found");
	verdict_clear(&v);
}

/* the S/MIME signer decision (VER-4), once made on the words of the
 * reasons ("revoked" prefix, "address" anywhere) */
static void
check_signer_status(void)
{
	static const struct {
		unsigned refused;
		bool from;
		sig_status want;
	} table[] = {
		{ 0, true, SIG_VALID },
		{ 0, false, SIG_MISMATCH },
		{ CERT_ADDRESS_MISMATCH, true, SIG_MISMATCH },
		{ CERT_NO_ADDRESS, true, SIG_MISMATCH },
		{ CERT_MALFORMED_ADDRESS, false, SIG_MISMATCH },
		{ CERT_REVOKED, true, SIG_REVOKED },
		{ CERT_ISSUER_REVOKED, true, SIG_REVOKED },
		{ CERT_REVOKED | CERT_ADDRESS_MISMATCH, true, SIG_REVOKED },
		{ CERT_REVOKED | CERT_EXPIRED, true, SIG_REVOKED },
		/* "revocation unknown" starts with "revo", not "revoked" */
		{ CERT_REVOCATION_UNKNOWN, true, SIG_UNTRUSTED },
		{ CERT_EXPIRED, true, SIG_UNTRUSTED },
		{ CERT_EXPIRED | CERT_ADDRESS_MISMATCH, true, SIG_UNTRUSTED },
		{ CERT_UNTRUSTED, false, SIG_UNTRUSTED },
		{ CERT_WRONG_USAGE, true, SIG_UNTRUSTED },
		{ CERT_WEAK_KEY, true, SIG_UNTRUSTED },
		{ CERT_CA, true, SIG_UNTRUSTED },
	};

	for (size_t i = 0; i < G_N_ELEMENTS(table); i++)
		unit_check(smime_signer_status(table[i].refused,
		    table[i].from) == table[i].want,
		    "smime_signer_status(%#x, %s) is %s", table[i].refused,
		    table[i].from ? "From" : "no From",
		    sig_status_word(table[i].want));
}

static void
check_pgp_words(void)
{
	static const struct {
		unsigned flags;
		const char *text;
	} table[] = {
		{ 0, NULL },
		{ PGP_KEY_REVOKED, "revoked" },
		{ PGP_KEY_EXPIRED, "expired" },
		{ PGP_KEY_DISABLED, "disabled" },
		{ PGP_KEY_INVALID, "invalid" },
		{ PGP_KEY_NO_ENCRYPTION_SUBKEY, "no usable encryption subkey" },
		{ PGP_KEY_NO_SIGNING_KEY, "no usable signing key" },
		{ PGP_KEY_NO_SIGNER_ADDRESS,
		  "no address to bind the signer to" },
		{ PGP_KEY_NO_USER_ID, "no valid user ID" },
		{ PGP_KEY_NO_USER_ID_FOR_ADDRESS,
		  "no valid user ID for the address" },
		{ PGP_KEY_NOT_TRUSTED, "not trusted" },
		/* the main reason is the lowest bit, as the checks rank */
		{ PGP_KEY_EXPIRED | PGP_KEY_NOT_TRUSTED, "expired" },
		{ PGP_KEY_NO_USER_ID_FOR_ADDRESS | PGP_KEY_NOT_TRUSTED,
		  "no valid user ID for the address" },
	};

	for (size_t i = 0; i < G_N_ELEMENTS(table); i++)
		unit_check(unit_streq(pgp_key_flag_text(table[i].flags),
		    table[i].text), "pgp_key_flag_text(%#x) is %s",
		    table[i].flags, table[i].text ? table[i].text : "NULL");
}

/* the OpenPGP decisions, once made on the words ("user ID" anywhere,
 * "revoked" exactly) */
static void
check_pgp_decisions(void)
{
	static const struct {
		unsigned flags;
		bool unbound_ok;	/* pgp-domain-key */
		sig_status signer;	/* pgp-verify, VER-8 */
	} table[] = {
		{ 0, true, SIG_VALID },
		{ PGP_KEY_NO_USER_ID, true, SIG_MISMATCH },
		{ PGP_KEY_NO_USER_ID_FOR_ADDRESS, true, SIG_MISMATCH },
		{ PGP_KEY_NO_USER_ID | PGP_KEY_NOT_TRUSTED, true,
		  SIG_MISMATCH },
		{ PGP_KEY_NOT_TRUSTED, false, SIG_UNTRUSTED },
		{ PGP_KEY_REVOKED, false, SIG_REVOKED },
		{ PGP_KEY_REVOKED | PGP_KEY_NO_USER_ID, false, SIG_REVOKED },
		{ PGP_KEY_EXPIRED, false, SIG_UNTRUSTED },
		{ PGP_KEY_EXPIRED | PGP_KEY_NO_USER_ID, false, SIG_UNTRUSTED },
		{ PGP_KEY_NO_SIGNER_ADDRESS | PGP_KEY_NO_USER_ID, false,
		  SIG_UNTRUSTED },
		{ PGP_KEY_NO_ENCRYPTION_SUBKEY, false, SIG_UNTRUSTED },
	};

	for (size_t i = 0; i < G_N_ELEMENTS(table); i++) {
		unit_check(pgp_key_usable_unbound(table[i].flags) ==
		    table[i].unbound_ok, "pgp_key_usable_unbound(%#x) is %s",
		    table[i].flags, table[i].unbound_ok ? "true" : "false");
		unit_check(unseal_pgp_signer_status(table[i].flags) ==
		    table[i].signer, "unseal_pgp_signer_status(%#x) is %s",
		    table[i].flags, sig_status_word(table[i].signer));
	}
}

static void
check_decrypt_words(void)
{
	static const struct {
		decrypt_failure failure;
		const char *text;
	} table[] = {
		{ DECRYPT_OK, "decrypted" },
		{ DECRYPT_NOT_ENVELOPED, "not enveloped data" },
		{ DECRYPT_MALFORMED, "malformed encrypted data" },
		{ DECRYPT_REFUSED, "cipher or parameters refused" },
		{ DECRYPT_NO_KEY, "no private key for any recipient" },
		{ DECRYPT_FAILED, "decryption failed" },
		{ DECRYPT_INTEGRITY, "integrity check failed" },
		{ DECRYPT_TOO_LARGE, "plaintext over the size limit" },
		{ DECRYPT_UNUSABLE, "decrypted entity is unusable" },
		{ DECRYPT_UNAVAILABLE, "key store unavailable" },
	};

	for (size_t i = 0; i < G_N_ELEMENTS(table); i++)
		unit_check(unit_streq(decrypt_failure_text(table[i].failure),
		    table[i].text), "decrypt_failure_text(%d) is \"%s\"",
		    (int)table[i].failure, table[i].text);
}

/* a P-256 key and a self-signed certificate for it */
static X509 *
make_cert(EVP_PKEY **key)
{
	X509 *cert = X509_new();
	X509_NAME *name = X509_NAME_new();

	*key = EVP_EC_gen("P-256");
	X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
	    (const unsigned char *)"test", -1, -1, 0);
	X509_set_version(cert, 2);
	ASN1_INTEGER_set(X509_get_serialNumber(cert), 1);
	X509_set_subject_name(cert, name);
	X509_set_issuer_name(cert, name);
	X509_gmtime_adj(X509_getm_notBefore(cert), 0);
	X509_gmtime_adj(X509_getm_notAfter(cert), 3600);
	X509_set_pubkey(cert, *key);
	X509_sign(cert, *key, EVP_sha256());
	X509_NAME_free(name);
	return cert;
}

/* der_of - a CMS object as DER (g_byte_array_free) */
static GByteArray *
der_of(CMS_ContentInfo *cms)
{
	unsigned char *buf = NULL;
	int n = cms != NULL ? i2d_CMS_ContentInfo(cms, &buf) : -1;
	GByteArray *out = g_byte_array_new();

	if (n > 0)
		g_byte_array_append(out, buf, (guint)n);
	OPENSSL_free(buf);
	CMS_ContentInfo_free(cms);
	return out;
}

static GByteArray *
enveloped(X509 *cert, const EVP_CIPHER *cipher)
{
	STACK_OF(X509) *certs = sk_X509_new_null();
	BIO *in = BIO_new_mem_buf("Content-Type: text/plain\r\n\r\nhi\r\n",
	    -1);
	GByteArray *der;

	sk_X509_push(certs, cert);
	der = der_of(CMS_encrypt(certs, in, cipher, CMS_BINARY));
	sk_X509_free(certs);
	BIO_free(in);
	return der;
}

static GByteArray *
signed_data(X509 *cert, EVP_PKEY *key)
{
	BIO *in = BIO_new_mem_buf("hi\r\n", -1);
	GByteArray *der = der_of(CMS_sign(cert, key, NULL, in, CMS_BINARY));

	BIO_free(in);
	return der;
}

/* the DEC-4 allow-list over DER, and the failure each input gives */
static void
check_cms_table(void)
{
	EVP_PKEY *key = NULL;
	X509 *cert = make_cert(&key);
	GByteArray *cbc = enveloped(cert, EVP_aes_256_cbc());
	GByteArray *gcm = enveloped(cert, EVP_aes_128_gcm());
	GByteArray *des = enveloped(cert, EVP_des_ede3_cbc());
	GByteArray *sig = signed_data(cert, key);
	static const unsigned char junk[] = { 0x30, 0x03, 0x02, 0x01, 0x01 };
	struct {
		const char *name;
		const unsigned char *der;
		size_t len;
		ms_err want_err;
		decrypt_failure want;
		bool aead;
	} table[] = {
		{ "EnvelopedData, AES-256-CBC", cbc->data, cbc->len, MS_OK,
		  DECRYPT_OK, false },
		{ "AuthEnvelopedData, AES-128-GCM", gcm->data, gcm->len,
		  MS_OK, DECRYPT_OK, true },
		{ "EnvelopedData, 3DES", des->data, des->len, MS_DATA,
		  DECRYPT_REFUSED, false },
		{ "SignedData", sig->data, sig->len, MS_DATA,
		  DECRYPT_NOT_ENVELOPED, false },
		{ "EnvelopedData cut in half", cbc->data, cbc->len / 2,
		  MS_DATA, DECRYPT_MALFORMED, false },
		{ "empty", cbc->data, 0, MS_DATA, DECRYPT_MALFORMED, false },
		{ "a SEQUENCE of one INTEGER", junk, sizeof junk, MS_DATA,
		  DECRYPT_MALFORMED, false },
	};

	unit_check(cbc->len > 0 && gcm->len > 0 && des->len > 0 &&
	    sig->len > 0, "test CMS objects were made");
	for (size_t i = 0; i < G_N_ELEMENTS(table); i++) {
		decrypt_failure failure = DECRYPT_OK;
		const char *why = NULL;
		bool aead = false;
		ms_err err = smime_enveloped_ok(table[i].der, table[i].len,
		    &aead, &failure, &why);

		unit_check(err == table[i].want_err &&
		    failure == table[i].want && (err != MS_OK ||
		    aead == table[i].aead) && (err == MS_OK) == (why == NULL ||
		    failure == DECRYPT_OK), "CMS %s: %s", table[i].name,
		    decrypt_failure_text(table[i].want));
	}
	g_byte_array_free(cbc, TRUE);
	g_byte_array_free(gcm, TRUE);
	g_byte_array_free(des, TRUE);
	g_byte_array_free(sig, TRUE);
	X509_free(cert);
	EVP_PKEY_free(key);
	ERR_clear_error();
}

/* check_cert_once - a store certificate read through the trust context
 * is parsed once per run: the second use gets the same object, even with
 * the file gone; an unknown or malformed fingerprint is not found */
static void
check_cert_once(void)
{
	char *root = unit_tmpdir("trust");
	ms_settings *settings = settings_new_defaults();
	EVP_PKEY *key = NULL;
	X509 *cert = make_cert(&key), *first = NULL, *second = NULL;
	X509 *none = NULL;
	ms_store *store = NULL;
	ms_trust *trust = NULL;
	char *fpr = cert_fingerprint(cert), *path;
	size_t len = 0;
	char *pem = cert_to_pem(cert, &len);

	if (!unit_check(store_open(root, true, &store) == MS_OK &&
	    trust_open(store, settings, &trust) == MS_OK,
	    "a scratch store and its trust context open"))
		goto out;
	path = g_strdup_printf("%s/certs/%s.pem", root, fpr);
	unit_check(unit_write_file(path, pem, len), "the certificate is "
	    "written to the store");
	unit_check(trust_cert_load(trust, fpr, &first) == MS_OK &&
	    first != NULL && X509_cmp(first, cert) == 0,
	    "trust_cert_load reads a certificate of the store");
	unlink(path);
	g_free(path);
	unit_check(trust_cert_load(trust, fpr, &second) == MS_OK &&
	    second == first, "a second trust_cert_load gives the object "
	    "the first parsed, without reading the file again");
	unit_check(trust_cert_load(trust, "00000000000000000000000000000000"
	    "00000000000000000000000000000000", &none) == MS_NOTFOUND &&
	    none == NULL, "a fingerprint the store does not hold is not "
	    "found");
	unit_check(trust_cert_load(trust, "../certs/x", &none) ==
	    MS_NOTFOUND && none == NULL, "a malformed fingerprint is no "
	    "path");
out:
	X509_free(first);
	X509_free(second);
	trust_free(trust);
	store_close(store);
	settings_free(settings);
	unit_rmtree(root);
	g_free(root);
	g_free(pem);
	g_free(fpr);
	X509_free(cert);
	EVP_PKEY_free(key);
	ERR_clear_error();
}

/* check_key_algorithms - what each key type signs with (RFC 8419: Ed25519
 * always SHA-512, whatever digest is asked for) and the micalg that names
 * it, and which key types OpenSSL 3.0 cannot encrypt to (RFC 8418) */
static void
check_key_algorithms(void)
{
	static const struct {
		const char *type;	/* EVP_PKEY_Q_keygen names */
		const char *param;	/* curve, or NULL */
		const char *wanted;	/* digest asked for */
		const char *digest;	/* digest used, NULL: cannot sign */
		const char *micalg;
		const char *agreement;	/* cert_unsupported_agreement_key */
	} table[] = {
		{ "EC", "P-256", "SHA256", "SHA256", "sha-256", NULL },
		{ "EC", "P-384", "SHA384", "SHA384", "sha-384", NULL },
		{ "ED25519", NULL, "SHA256", "SHA512", "sha-512", NULL },
		{ "ED25519", NULL, "SHA384", "SHA512", "sha-512", NULL },
		{ "ED25519", NULL, "SHA512", "SHA512", "sha-512", NULL },
		{ "ED448", NULL, "SHA512", NULL, NULL, NULL },
		{ "X25519", NULL, "SHA256", NULL, NULL, "X25519" },
		{ "X448", NULL, "SHA256", NULL, NULL, "X448" },
	};
	EVP_PKEY *rsa;

	for (size_t i = 0; i < G_N_ELEMENTS(table); i++) {
		EVP_PKEY *key = table[i].param != NULL ?
		    EVP_PKEY_Q_keygen(NULL, NULL, table[i].type,
		    table[i].param) :
		    EVP_PKEY_Q_keygen(NULL, NULL, table[i].type);
		const EVP_MD *wanted = EVP_get_digestbyname(table[i].wanted);
		const EVP_MD *used;
		const char *agreement;

		if (!unit_check(key != NULL && wanted != NULL,
		    "%s key made", table[i].type)) {
			EVP_PKEY_free(key);
			continue;
		}
		used = smime_signing_digest(key, wanted);
		if (table[i].digest == NULL)
			unit_check(used == NULL, "%s cannot sign",
			    table[i].type);
		else if (unit_check(used != NULL, "%s signs", table[i].type)) {
			unit_check(EVP_MD_is_a(used, table[i].digest),
			    "%s asked for %s signs with %s", table[i].type,
			    table[i].wanted, table[i].digest);
			unit_check(unit_streq(smime_micalg(used),
			    table[i].micalg), "%s: micalg=%s", table[i].type,
			    table[i].micalg);
		}
		agreement = cert_unsupported_agreement_key(key);
		unit_check(table[i].agreement == NULL ? agreement == NULL :
		    agreement != NULL && unit_streq(agreement,
		    table[i].agreement), "%s: unsupported agreement key %s",
		    table[i].type, table[i].agreement ? table[i].agreement :
		    "(none)");
		EVP_PKEY_free(key);
	}
	/* RSA: its size is a separate argument */
	rsa = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048);
	if (unit_check(rsa != NULL, "RSA key made")) {
		unit_check(smime_signing_digest(rsa, EVP_sha384()) ==
		    EVP_sha384(), "RSA signs with the digest asked");
		unit_check(cert_unsupported_agreement_key(rsa) == NULL,
		    "RSA is no agreement key");
	}
	EVP_PKEY_free(rsa);
	ERR_clear_error();
}

int
main(void)
{
	check_cert_words();
	check_verdict_list();
	check_signer_status();
	check_pgp_words();
	check_pgp_decisions();
	check_decrypt_words();
	check_cms_table();
	check_cert_once();
	check_key_algorithms();
	return unit_done();
}
