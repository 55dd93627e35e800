/*
 * pkcs12.c - PKCS#12 parsing with a private legacy context for old files
 * (see pkcs12.h).
 */
#include "pkcs12.h"

#include <limits.h>
#include <openssl/err.h>
#include <openssl/pkcs12.h>
#include <openssl/provider.h>

/* classify_error - what the error queue says went wrong, then empty it.
 * A MAC that does not verify is the password; a fetch that found no
 * implementation is an algorithm the loaded providers do not have. */
static p12_result
classify_error(void)
{
	p12_result result = P12_DAMAGED;
	unsigned long e;

	while ((e = ERR_get_error()) != 0) {
		/* PKCS12_parse reports a missing MAC as a failed one too */
		if (ERR_GET_LIB(e) == ERR_LIB_PKCS12 &&
		    ERR_GET_REASON(e) == PKCS12_R_MAC_ABSENT)
			result = P12_NO_MAC;
		else if (ERR_GET_LIB(e) == ERR_LIB_PKCS12 &&
		    ERR_GET_REASON(e) == PKCS12_R_MAC_VERIFY_FAILURE) {
			if (result != P12_NO_MAC)
				result = P12_BAD_PASSWORD;
		} else if (result == P12_DAMAGED &&
		    (ERR_GET_REASON(e) == ERR_R_UNSUPPORTED ||
		    (ERR_GET_LIB(e) == ERR_LIB_EVP &&
		    (ERR_GET_REASON(e) == EVP_R_UNSUPPORTED_ALGORITHM ||
		    ERR_GET_REASON(e) == EVP_R_UNKNOWN_CIPHER ||
		    ERR_GET_REASON(e) == EVP_R_UNSUPPORTED_CIPHER))))
			result = P12_UNSUPPORTED;
	}
	return result;
}

/* parse_in - decode and parse data in libctx (NULL: the default) */
static p12_result
parse_in(OSSL_LIB_CTX *libctx, const unsigned char *data, size_t len,
    const char *password, EVP_PKEY **key, X509 **leaf,
    STACK_OF(X509) **others)
{
	const unsigned char *p = data;
	PKCS12 *p12, *parsed;
	int ok;

	p12 = PKCS12_init_ex(NID_pkcs7_data, libctx, NULL);
	if (p12 == NULL)
		return classify_error();
	parsed = d2i_PKCS12(&p12, &p, (long)len);
	if (parsed == NULL || p != data + len) {
		PKCS12_free(parsed != NULL ? parsed : p12);
		ERR_clear_error();
		return P12_NOT_PKCS12;
	}
	ok = PKCS12_parse(parsed, password != NULL ? password : "", key, leaf,
	    others);
	PKCS12_free(parsed);
	if (!ok)
		return classify_error();
	ERR_clear_error();
	return P12_OK;
}

/* rehome_key - the same key decoded in the default context (the private
 * context and its providers go away with the parse); the PKCS#8 copy is
 * wiped when freed */
static EVP_PKEY *
rehome_key(EVP_PKEY *key)
{
	PKCS8_PRIV_KEY_INFO *p8 = EVP_PKEY2PKCS8(key);
	EVP_PKEY *copy = NULL;

	if (p8 != NULL)
		copy = EVP_PKCS82PKEY(p8);
	PKCS8_PRIV_KEY_INFO_free(p8);
	return copy;
}

/* rehome_cert - the same certificate decoded in the default context */
static X509 *
rehome_cert(X509 *cert)
{
	unsigned char *der = NULL;
	const unsigned char *p;
	X509 *copy = NULL;
	int len = i2d_X509(cert, &der);

	if (len > 0) {
		p = der;
		copy = d2i_X509(NULL, &p, len);
		OPENSSL_free(der);
	}
	return copy;
}

/* parse_legacy - parse in a context of its own with the legacy provider,
 * then copy the results out of it before it is freed */
static p12_result
parse_legacy(const unsigned char *data, size_t len, const char *password,
    EVP_PKEY **key, X509 **leaf, STACK_OF(X509) **others)
{
	OSSL_LIB_CTX *libctx = OSSL_LIB_CTX_new();
	OSSL_PROVIDER *def = NULL, *legacy = NULL;
	EVP_PKEY *lkey = NULL;
	X509 *lleaf = NULL;
	STACK_OF(X509) *lothers = NULL;
	p12_result result = P12_UNSUPPORTED;

	if (libctx != NULL) {
		def = OSSL_PROVIDER_load(libctx, "default");
		legacy = OSSL_PROVIDER_load(libctx, "legacy");
	}
	/* without the legacy module the algorithm stays unsupported */
	if (def != NULL && legacy != NULL)
		result = parse_in(libctx, data, len, password, &lkey, &lleaf,
		    &lothers);
	if (result == P12_OK) {
		if (lkey != NULL && (*key = rehome_key(lkey)) == NULL)
			result = P12_DAMAGED;
		if (lleaf != NULL && (*leaf = rehome_cert(lleaf)) == NULL)
			result = P12_DAMAGED;
		*others = sk_X509_new_null();
		for (int i = 0; i < sk_X509_num(lothers); i++) {
			X509 *copy = rehome_cert(sk_X509_value(lothers, i));

			if (copy == NULL || !sk_X509_push(*others, copy)) {
				X509_free(copy);
				result = P12_DAMAGED;
			}
		}
	}
	EVP_PKEY_free(lkey);
	X509_free(lleaf);
	sk_X509_pop_free(lothers, X509_free);
	OSSL_PROVIDER_unload(legacy);
	OSSL_PROVIDER_unload(def);
	OSSL_LIB_CTX_free(libctx);
	ERR_clear_error();
	return result;
}

/* p12_read - see pkcs12.h */
p12_result
p12_read(const unsigned char *data, size_t len, const char *password,
    EVP_PKEY **key, X509 **leaf, STACK_OF(X509) **others, int *legacy)
{
	p12_result result;

	*key = NULL;
	*leaf = NULL;
	*others = NULL;
	*legacy = 0;
	if (len > LONG_MAX)
		return P12_NOT_PKCS12;
	result = parse_in(NULL, data, len, password, key, leaf, others);
	if (result == P12_UNSUPPORTED) {
		*legacy = 1;
		result = parse_legacy(data, len, password, key, leaf, others);
	}
	if (result == P12_OK && *others == NULL)
		*others = sk_X509_new_null();
	if (result != P12_OK) {
		EVP_PKEY_free(*key);
		X509_free(*leaf);
		sk_X509_pop_free(*others, X509_free);
		*key = NULL;
		*leaf = NULL;
		*others = NULL;
	}
	return result;
}
