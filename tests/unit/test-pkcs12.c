/*
 * test-pkcs12.c - p12_read on PKCS#12 data made here with OpenSSL: the
 * modern PBES2 default, 3DES, and RC2-40 (made in a legacy context of the
 * test's own); right and wrong passwords, a file without a MAC (OpenSSL 3
 * reads none, and it is not a wrong password), garbage
 * and truncated input.  A key returned must work after the private
 * context that read it is gone.
 */
#include "pkcs12.h"
#include "unit.h"

#include <openssl/err.h>
#include <openssl/pkcs12.h>
#include <openssl/provider.h>

static const char password[] = "old export";

/* self_signed - a P-256 key and a certificate for it */
static X509 *
self_signed(EVP_PKEY **key)
{
	X509 *cert = X509_new();

	*key = EVP_EC_gen("P-256");
	ASN1_INTEGER_set(X509_get_serialNumber(cert), 1);
	X509_gmtime_adj(X509_getm_notBefore(cert), 0);
	X509_gmtime_adj(X509_getm_notAfter(cert), 86400);
	X509_NAME_add_entry_by_txt(X509_get_subject_name(cert), "CN",
	    MBSTRING_ASC, (const unsigned char *)"p12", -1, -1, 0);
	X509_set_issuer_name(cert, X509_get_subject_name(cert));
	X509_set_pubkey(cert, *key);
	X509_sign(cert, *key, EVP_sha256());
	return cert;
}

/* make_p12 - DER PKCS#12 of key and cert with these PBEs (0: the
 * default), made in libctx; mac_iter -1 leaves the MAC out */
static GByteArray *
make_p12(OSSL_LIB_CTX *libctx, EVP_PKEY *key, X509 *cert, int key_pbe,
    int cert_pbe, int mac_iter)
{
	PKCS12 *p12 = PKCS12_create_ex(password, "p12", key, cert, NULL,
	    key_pbe, cert_pbe, 0, mac_iter, 0, libctx, NULL);
	GByteArray *out = g_byte_array_new();
	unsigned char *end;

	/* the length first, then the encoding into the array */
	if (p12 != NULL && i2d_PKCS12(p12, NULL) > 0) {
		g_byte_array_set_size(out, (guint)i2d_PKCS12(p12, NULL));
		end = out->data;
		if (i2d_PKCS12(p12, &end) != (int)out->len)
			g_byte_array_set_size(out, 0);
	}
	PKCS12_free(p12);
	ERR_clear_error();
	return out;
}

int
main(void)
{
	OSSL_LIB_CTX *legacy_ctx = OSSL_LIB_CTX_new();
	OSSL_PROVIDER *def = OSSL_PROVIDER_load(legacy_ctx, "default");
	OSSL_PROVIDER *legacy = OSSL_PROVIDER_load(legacy_ctx, "legacy");
	EVP_PKEY *key;
	X509 *cert = self_signed(&key);
	struct {
		const char *name;
		bool legacy_made;
		int key_pbe, cert_pbe, mac_iter;
		const char *password;
		size_t cut;		/* octets cut off the end */
		p12_result want;
		int want_legacy;
	} table[] = {
		{ "PBES2 default", false, 0, 0, 0, password, 0, P12_OK, 0 },
		{ "PBES2 wrong password", false, 0, 0, 0, "wrong", 0,
		  P12_BAD_PASSWORD, 0 },
		{ "3DES both", false, NID_pbe_WithSHA1And3_Key_TripleDES_CBC,
		  NID_pbe_WithSHA1And3_Key_TripleDES_CBC, 0, password, 0,
		  P12_OK, 0 },
		{ "RC2-40 certificates, 3DES key", true,
		  NID_pbe_WithSHA1And3_Key_TripleDES_CBC,
		  NID_pbe_WithSHA1And40BitRC2_CBC, 0, password, 0, P12_OK, 1 },
		{ "RC2-40 wrong password", true,
		  NID_pbe_WithSHA1And3_Key_TripleDES_CBC,
		  NID_pbe_WithSHA1And40BitRC2_CBC, 0, "wrong", 0,
		  P12_BAD_PASSWORD, 0 },
		{ "RC2-40 without a MAC", true,
		  NID_pbe_WithSHA1And3_Key_TripleDES_CBC,
		  NID_pbe_WithSHA1And40BitRC2_CBC, -1, password, 0,
		  P12_NO_MAC, 0 },
		{ "truncated", false, 0, 0, 0, password, 9, P12_NOT_PKCS12,
		  0 },
	};

	if (!unit_check(def != NULL && legacy != NULL,
	    "the test's legacy context has its providers"))
		return unit_done();
	for (size_t i = 0; i < G_N_ELEMENTS(table); i++) {
		GByteArray *der = make_p12(table[i].legacy_made ? legacy_ctx :
		    NULL, key, cert, table[i].key_pbe, table[i].cert_pbe,
		    table[i].mac_iter);
		EVP_PKEY *got_key = NULL;
		X509 *got_cert = NULL;
		STACK_OF(X509) *others = NULL;
		int used_legacy = -1;
		p12_result got;

		if (!unit_check(der->len > table[i].cut, "%s: made",
		    table[i].name)) {
			g_byte_array_free(der, TRUE);
			continue;
		}
		got = p12_read(der->data, der->len - table[i].cut,
		    table[i].password, &got_key, &got_cert, &others,
		    &used_legacy);
		unit_check(got == table[i].want, "%s: result %d (want %d)",
		    table[i].name, (int)got, (int)table[i].want);
		unit_check(table[i].want != P12_OK ||
		    used_legacy == table[i].want_legacy,
		    "%s: legacy provider used: %d", table[i].name,
		    used_legacy);
		if (got == P12_OK) {
			/* the private context is gone: the key must still
			 * work, in the default context */
			unit_check(got_key != NULL && got_cert != NULL &&
			    X509_cmp(got_cert, cert) == 0 &&
			    X509_check_private_key(got_cert, got_key) == 1 &&
			    others != NULL && sk_X509_num(others) == 0,
			    "%s: the key and its certificate", table[i].name);
		} else
			unit_check(got_key == NULL && got_cert == NULL &&
			    others == NULL, "%s: nothing returned",
			    table[i].name);
		EVP_PKEY_free(got_key);
		X509_free(got_cert);
		sk_X509_pop_free(others, X509_free);
		g_byte_array_free(der, TRUE);
	}
	{
		static const unsigned char garbage[] = "not a PKCS#12 file";
		EVP_PKEY *got_key;
		X509 *got_cert;
		STACK_OF(X509) *others;
		int used_legacy;

		unit_check(p12_read(garbage, sizeof(garbage), password,
		    &got_key, &got_cert, &others, &used_legacy) ==
		    P12_NOT_PKCS12, "garbage is not a PKCS#12");
	}
	X509_free(cert);
	EVP_PKEY_free(key);
	OSSL_PROVIDER_unload(legacy);
	OSSL_PROVIDER_unload(def);
	OSSL_LIB_CTX_free(legacy_ctx);
	return unit_done();
}
