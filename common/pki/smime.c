/*
 * smime.c - CMS encryption, decryption, signing and verification for the
 * S/MIME filters (see smime.h).  The DEC-4 allow-list is checked on our
 * own minimal ASN.1 view of (Auth)EnvelopedData before OpenSSL decrypts
 * anything, because decoders do not enforce RFC 5084's ranges
 * (CVE-2026-34182, CVE-2025-15467).
 */
#include "smime.h"
#include "certdb.h"
#include "diag.h"
#include "mslimits.h"

#include <openssl/asn1t.h>
#include <openssl/err.h>
#include <openssl/rsa.h>
#include <openssl/x509v3.h>
#include <string.h>

/* ---- our view of the enveloped structures (RFC 5652, RFC 5083) ---- */

typedef struct ms_eci {
	ASN1_OBJECT *content_type;
	X509_ALGOR *algorithm;
	ASN1_OCTET_STRING *content;
} MS_ECI;

ASN1_SEQUENCE(MS_ECI) = {
	ASN1_SIMPLE(MS_ECI, content_type, ASN1_OBJECT),
	ASN1_SIMPLE(MS_ECI, algorithm, X509_ALGOR),
	ASN1_IMP_OPT(MS_ECI, content, ASN1_OCTET_STRING, 0)
} static_ASN1_SEQUENCE_END(MS_ECI)

typedef struct ms_env {
	ASN1_INTEGER *version;
	STACK_OF(ASN1_TYPE) *originator;
	STACK_OF(ASN1_TYPE) *recipients;
	MS_ECI *eci;
	STACK_OF(ASN1_TYPE) *attrs;
} MS_ENV;

ASN1_SEQUENCE(MS_ENV) = {
	ASN1_SIMPLE(MS_ENV, version, ASN1_INTEGER),
	ASN1_IMP_SEQUENCE_OF_OPT(MS_ENV, originator, ASN1_ANY, 0),
	ASN1_SET_OF(MS_ENV, recipients, ASN1_ANY),
	ASN1_SIMPLE(MS_ENV, eci, MS_ECI),
	ASN1_IMP_SET_OF_OPT(MS_ENV, attrs, ASN1_ANY, 1)
} static_ASN1_SEQUENCE_END(MS_ENV)

typedef struct ms_authenv {
	ASN1_INTEGER *version;
	STACK_OF(ASN1_TYPE) *originator;
	STACK_OF(ASN1_TYPE) *recipients;
	MS_ECI *eci;
	STACK_OF(ASN1_TYPE) *auth_attrs;
	ASN1_OCTET_STRING *mac;
	STACK_OF(ASN1_TYPE) *unauth_attrs;
} MS_AUTHENV;

ASN1_SEQUENCE(MS_AUTHENV) = {
	ASN1_SIMPLE(MS_AUTHENV, version, ASN1_INTEGER),
	ASN1_IMP_SEQUENCE_OF_OPT(MS_AUTHENV, originator, ASN1_ANY, 0),
	ASN1_SET_OF(MS_AUTHENV, recipients, ASN1_ANY),
	ASN1_SIMPLE(MS_AUTHENV, eci, MS_ECI),
	ASN1_IMP_SET_OF_OPT(MS_AUTHENV, auth_attrs, ASN1_ANY, 1),
	ASN1_SIMPLE(MS_AUTHENV, mac, ASN1_OCTET_STRING),
	ASN1_IMP_SET_OF_OPT(MS_AUTHENV, unauth_attrs, ASN1_ANY, 2)
} static_ASN1_SEQUENCE_END(MS_AUTHENV)

typedef struct ms_ci_env {
	ASN1_OBJECT *type;
	MS_ENV *env;
} MS_CI_ENV;

ASN1_SEQUENCE(MS_CI_ENV) = {
	ASN1_SIMPLE(MS_CI_ENV, type, ASN1_OBJECT),
	ASN1_EXP(MS_CI_ENV, env, MS_ENV, 0)
} static_ASN1_SEQUENCE_END(MS_CI_ENV)

typedef struct ms_ci_authenv {
	ASN1_OBJECT *type;
	MS_AUTHENV *env;
} MS_CI_AUTHENV;

ASN1_SEQUENCE(MS_CI_AUTHENV) = {
	ASN1_SIMPLE(MS_CI_AUTHENV, type, ASN1_OBJECT),
	ASN1_EXP(MS_CI_AUTHENV, env, MS_AUTHENV, 0)
} static_ASN1_SEQUENCE_END(MS_CI_AUTHENV)

typedef struct ms_gcm_params {
	ASN1_OCTET_STRING *nonce;
	ASN1_INTEGER *icv_len;
} MS_GCM_PARAMS;

ASN1_SEQUENCE(MS_GCM_PARAMS) = {
	ASN1_SIMPLE(MS_GCM_PARAMS, nonce, ASN1_OCTET_STRING),
	ASN1_OPT(MS_GCM_PARAMS, icv_len, ASN1_INTEGER)
} static_ASN1_SEQUENCE_END(MS_GCM_PARAMS)


#define GCM_NONCE_LEN 12
#define GCM_TAG_LEN 16
#define CBC_IV_LEN 16

const EVP_CIPHER *
smime_cipher_by_name(const char *name)
{
	if (strcmp(name, "aes256-cbc") == 0)
		return EVP_aes_256_cbc();
	if (strcmp(name, "aes128-cbc") == 0)
		return EVP_aes_128_cbc();
	if (strcmp(name, "aes256-gcm") == 0)
		return EVP_aes_256_gcm();
	if (strcmp(name, "aes128-gcm") == 0)
		return EVP_aes_128_gcm();
	return NULL;
}

const char *
smime_micalg(const EVP_MD *digest)
{
	switch (EVP_MD_get_type(digest)) {
	case NID_sha384:
		return "sha-384";
	case NID_sha512:
		return "sha-512";
	default:
		return "sha-256";
	}
}

const EVP_MD *
smime_signing_digest(const EVP_PKEY *key, const EVP_MD *wanted)
{
	switch (EVP_PKEY_get_base_id(key)) {
	case EVP_PKEY_RSA:
	case EVP_PKEY_RSA_PSS:
	case EVP_PKEY_EC:
		return wanted;
	case EVP_PKEY_ED25519:
		return EVP_sha512();	/* RFC 8419 3.1: nothing else */
	default:
		/* Ed448 needs SHAKE256 with 512 bits of output named
		 * id-shake256-len, which OpenSSL 3.0 does not know */
		return NULL;
	}
}

/* check_cbc - id-envelopedData content encryption: AES-CBC, 16-byte IV */
static bool
check_cbc(const X509_ALGOR *alg, decrypt_failure *failure, const char **why)
{
	const ASN1_OBJECT *oid;
	int ptype;
	const void *pval;
	int nid;

	X509_ALGOR_get0(&oid, &ptype, &pval, alg);
	nid = OBJ_obj2nid(oid);
	if (nid != NID_aes_128_cbc && nid != NID_aes_192_cbc &&
	    nid != NID_aes_256_cbc) {
		*failure = DECRYPT_REFUSED;
		*why = nid == NID_aes_128_gcm || nid == NID_aes_256_gcm ?
		    "AEAD cipher inside EnvelopedData" :
		    "content cipher not allowed";
		return false;
	}
	if (ptype != V_ASN1_OCTET_STRING ||
	    ASN1_STRING_length((const ASN1_STRING *)pval) != CBC_IV_LEN) {
		*failure = DECRYPT_REFUSED;
		*why = "IV is not 16 bytes";
		return false;
	}
	return true;
}

/* check_gcm - id-ct-authEnvelopedData: AES-GCM, 12-byte nonce, 16-byte
 * ICV, and a mac field as long as the ICV (DEC-4) */
static bool
check_gcm(const X509_ALGOR *alg, const ASN1_OCTET_STRING *mac,
    decrypt_failure *failure, const char **why)
{
	const ASN1_OBJECT *oid;
	int ptype;
	const void *pval;
	ASN1_TYPE *param;
	MS_GCM_PARAMS *gcm;
	long icv;
	int nid;
	bool ok = true;

	X509_ALGOR_get0(&oid, &ptype, &pval, alg);
	nid = OBJ_obj2nid(oid);
	*failure = DECRYPT_REFUSED;
	if (nid != NID_aes_128_gcm && nid != NID_aes_256_gcm) {
		*why = "non-AEAD cipher inside AuthEnvelopedData";
		return false;
	}
	*failure = DECRYPT_MALFORMED;
	if (ptype != V_ASN1_SEQUENCE) {
		*why = "missing GCM parameters";
		return false;
	}
	param = ASN1_TYPE_new();
	if (param == NULL)
		return false;
	ASN1_TYPE_set1(param, ptype, pval);
	gcm = ASN1_TYPE_unpack_sequence(ASN1_ITEM_rptr(MS_GCM_PARAMS), param);
	ASN1_TYPE_free(param);
	if (gcm == NULL) {
		ERR_clear_error();
		*why = "malformed GCM parameters";
		return false;
	}
	icv = gcm->icv_len ? ASN1_INTEGER_get(gcm->icv_len) : 12;
	*failure = DECRYPT_REFUSED;
	if (ASN1_STRING_length(gcm->nonce) != GCM_NONCE_LEN) {
		*why = "GCM nonce is not 12 bytes";
		ok = false;
	} else if (icv != GCM_TAG_LEN) {
		*why = "GCM tag length is not 16";
		ok = false;
	} else if (ASN1_STRING_length(mac) != GCM_TAG_LEN) {
		*why = "GCM tag does not have the declared length";
		ok = false;
	}
	ASN1_item_free((ASN1_VALUE *)gcm, ASN1_ITEM_rptr(MS_GCM_PARAMS));
	if (ok)
		*failure = DECRYPT_OK;
	return ok;
}

ms_err
smime_check_enveloped(const unsigned char *der, size_t len, bool *aead,
    const char **why)
{
	decrypt_failure failure;

	return smime_enveloped_ok(der, len, aead, &failure, why);
}

ms_err
smime_enveloped_ok(const unsigned char *der, size_t len, bool *aead,
    decrypt_failure *failure, const char **why)
{
	const unsigned char *p = der;
	CMS_ContentInfo *cms;
	STACK_OF(CMS_RecipientInfo) *ris;
	int nid;
	bool ok = false;

	*aead = false;
	*failure = DECRYPT_MALFORMED;
	if (len == 0 || len > (size_t)LONG_MAX) {
		*why = "empty or oversized CMS object";
		return MS_DATA;
	}
	cms = d2i_CMS_ContentInfo(NULL, &p, (long)len);
	if (cms == NULL) {
		ERR_clear_error();
		*why = "not a CMS object";
		return MS_DATA;
	}
	nid = OBJ_obj2nid(CMS_get0_type(cms));
	if (nid != NID_pkcs7_enveloped &&
	    nid != NID_id_smime_ct_authEnvelopedData) {
		CMS_ContentInfo_free(cms);
		*failure = DECRYPT_NOT_ENVELOPED;
		*why = "not enveloped data";
		return MS_DATA;
	}
	/* never KEK or password recipients inbound (CVE-2025-9230) */
	ris = CMS_get0_RecipientInfos(cms);
	for (int i = 0; i < sk_CMS_RecipientInfo_num(ris); i++) {
		int type = CMS_RecipientInfo_type(
		    sk_CMS_RecipientInfo_value(ris, i));

		if (type != CMS_RECIPINFO_TRANS && type != CMS_RECIPINFO_AGREE) {
			CMS_ContentInfo_free(cms);
			*failure = DECRYPT_REFUSED;
			*why = "recipient type not allowed";
			return MS_DATA;
		}
	}
	CMS_ContentInfo_free(cms);
	p = der;
	if (nid == NID_pkcs7_enveloped) {
		MS_CI_ENV *ci = (MS_CI_ENV *)ASN1_item_d2i(NULL, &p,
		    (long)len, ASN1_ITEM_rptr(MS_CI_ENV));

		if (ci == NULL || ci->env == NULL)
			*why = "malformed EnvelopedData";
		else
			ok = check_cbc(ci->env->eci->algorithm, failure, why);
		ASN1_item_free((ASN1_VALUE *)ci, ASN1_ITEM_rptr(MS_CI_ENV));
	} else {
		MS_CI_AUTHENV *ci = (MS_CI_AUTHENV *)ASN1_item_d2i(NULL,
		    &p, (long)len, ASN1_ITEM_rptr(MS_CI_AUTHENV));

		*aead = true;
		if (ci == NULL || ci->env == NULL)
			*why = "malformed AuthEnvelopedData";
		else
			ok = check_gcm(ci->env->eci->algorithm, ci->env->mac,
			    failure, why);
		ASN1_item_free((ASN1_VALUE *)ci,
		    ASN1_ITEM_rptr(MS_CI_AUTHENV));
	}
	ERR_clear_error();
	if (ok)
		*failure = DECRYPT_OK;
	return ok ? MS_OK : MS_DATA;
}

/* recipient_keyids - the key ids our index knows for one RecipientInfo */
static void
recipient_keyids(CMS_RecipientInfo *ri, GPtrArray *ids)
{
	ASN1_OCTET_STRING *keyid = NULL;
	X509_NAME *issuer = NULL;
	ASN1_INTEGER *serial = NULL;

	if (CMS_RecipientInfo_type(ri) == CMS_RECIPINFO_TRANS) {
		if (CMS_RecipientInfo_ktri_get0_signer_id(ri, &keyid, &issuer,
		    &serial) != 1)
			return;
		if (keyid != NULL)
			g_ptr_array_add(ids, certdb_keyid_ski(keyid));
		else if (issuer != NULL && serial != NULL)
			g_ptr_array_add(ids, certdb_keyid_issuer_serial(issuer,
			    serial));
	} else if (CMS_RecipientInfo_type(ri) == CMS_RECIPINFO_AGREE) {
		STACK_OF(CMS_RecipientEncryptedKey) *reks =
		    CMS_RecipientInfo_kari_get0_reks(ri);

		for (int i = 0; i < sk_CMS_RecipientEncryptedKey_num(reks);
		    i++) {
			CMS_RecipientEncryptedKey *rek =
			    sk_CMS_RecipientEncryptedKey_value(reks, i);
			ASN1_GENERALIZEDTIME *tm = NULL;
			CMS_OtherKeyAttribute *other = NULL;

			keyid = NULL;
			issuer = NULL;
			serial = NULL;
			if (CMS_RecipientEncryptedKey_get0_id(rek, &keyid, &tm,
			    &other, &issuer, &serial) != 1)
				continue;
			if (keyid != NULL)
				g_ptr_array_add(ids, certdb_keyid_ski(keyid));
			else if (issuer != NULL && serial != NULL)
				g_ptr_array_add(ids,
				    certdb_keyid_issuer_serial(issuer, serial));
		}
	}
}

ms_err
smime_decrypt(const ms_store *store, const unsigned char *der, size_t len,
    smime_key_filter allow, void *allow_data, GByteArray **plain,
    char **used, decrypt_failure *failure, const char **why)
{
	bool refused = false;
	const unsigned char *p = der;
	CMS_ContentInfo *cms;
	STACK_OF(CMS_RecipientInfo) *ris;
	GPtrArray *ids, *tried;
	bool aead;
	ms_err err;

	*plain = NULL;
	if (used != NULL)
		*used = NULL;
	err = smime_enveloped_ok(der, len, &aead, failure, why);
	if (err != MS_OK)
		return err;
	cms = d2i_CMS_ContentInfo(NULL, &p, (long)len);
	if (cms == NULL) {
		ERR_clear_error();
		*failure = DECRYPT_MALFORMED;
		*why = "not a CMS object";
		return MS_DATA;
	}
	ids = g_ptr_array_new_with_free_func(g_free);
	tried = g_ptr_array_new_with_free_func(g_free);
	ris = CMS_get0_RecipientInfos(cms);
	for (int i = 0; i < sk_CMS_RecipientInfo_num(ris); i++)
		recipient_keyids(sk_CMS_RecipientInfo_value(ris, i), ids);
	*failure = DECRYPT_NO_KEY;
	*why = "no private key for any recipient";
	err = MS_NOTFOUND;
	for (guint i = 0; i < ids->len && err != MS_OK && err != MS_TEMP;
	    i++) {
		GPtrArray *fprs;

		if (certdb_keyid_lookup(store, g_ptr_array_index(ids, i),
		    &fprs) != MS_OK) {
			g_ptr_array_free(fprs, TRUE);
			err = MS_TEMP;
			*failure = DECRYPT_UNAVAILABLE;
			*why = "key index unavailable";
			break;
		}
		for (guint j = 0; j < fprs->len && err != MS_OK &&
		    err != MS_TEMP; j++) {
			const char *fpr = g_ptr_array_index(fprs, j);
			X509 *cert = NULL;
			EVP_PKEY *key = NULL;
			BIO *out;
			bool seen = false;
			ms_err lerr;

			for (guint k = 0; k < tried->len; k++)
				if (strcmp(g_ptr_array_index(tried, k), fpr) == 0)
					seen = true;
			if (seen)
				continue;
			g_ptr_array_add(tried, g_strdup(fpr));
			lerr = certdb_key_cert_load(store, fpr, &cert);
			if (lerr == MS_OK && allow != NULL &&
			    !allow(fpr, cert, allow_data)) {
				/* ours, but not for whom it is delivered to */
				refused = true;
				X509_free(cert);
				continue;
			}
			if (lerr == MS_OK)
				lerr = certdb_key_load(store, fpr, &key);
			/* keys are never removed: an index entry without
			 * its files is a damaged store */
			if (lerr == MS_NOTFOUND)
				lerr = certdb_missing("keys", fpr);
			if (lerr != MS_OK) {
				/* a damaged key or certificate: the store is
				 * unavailable, never "no key" */
				X509_free(cert);
				err = MS_TEMP;
				*failure = DECRYPT_UNAVAILABLE;
				*why = "key store unavailable";
				break;
			}
			if (cert_unsupported_agreement_key(key) != NULL) {
				/* OpenSSL 3.0 takes an X25519 or X448 key for
				 * key transport and finds no recipient: say
				 * what it is, a permanent refusal */
				*failure = DECRYPT_REFUSED;
				*why = EVP_PKEY_get_base_id(key) ==
				    EVP_PKEY_X25519 ? "X25519 key agreement "
				    "(RFC 8418) is not supported" :
				    "X448 key agreement (RFC 8418) is not "
				    "supported";
				err = MS_DATA;
				EVP_PKEY_free(key);
				X509_free(cert);
				continue;
			}
			/* DEC-9: name the certificate, so only the matching
			 * RecipientInfo is tried (CVE-2019-1563) */
			out = BIO_new(BIO_s_mem());
			if (out != NULL && CMS_decrypt(cms, key, cert, NULL, out,
			    CMS_BINARY) == 1) {
				char *data;
				long n = BIO_get_mem_data(out, &data);

				*plain = g_byte_array_sized_new((guint)n);
				g_byte_array_append(*plain, (guint8 *)data,
				    (guint)n);
				err = MS_OK;
				*failure = DECRYPT_OK;
				*why = NULL;
				if (used != NULL)
					*used = g_strdup(fpr);
			} else {
				/* DEC-1: one generic outcome; the reason is
				 * for the local log only */
				*failure = aead ? DECRYPT_INTEGRITY :
				    DECRYPT_FAILED;
				*why = aead ? "decryption or tag check failed" :
				    "decryption failed";
				err = MS_DATA;
			}
			ERR_clear_error();
			BIO_free(out);
			EVP_PKEY_free(key);
			X509_free(cert);
		}
		g_ptr_array_free(fprs, TRUE);
	}
	if (err == MS_NOTFOUND && refused) {
		*failure = DECRYPT_NOT_FOR_RECIPIENT;
		*why = "no key bound to an envelope recipient";
	}
	g_ptr_array_free(ids, TRUE);
	g_ptr_array_free(tried, TRUE);
	CMS_ContentInfo_free(cms);
	return err;
}

ms_err
smime_encrypt(STACK_OF(X509) *certs, const EVP_CIPHER *cipher, bool oaep,
    BIO *in, BIO *out)
{
	/* without CMS_BINARY OpenSSL makes line ends canonical (CRLF) while
	 * it streams, so LF input needs no converted copy */
	unsigned int flags = CMS_PARTIAL | CMS_STREAM;
	CMS_ContentInfo *cms;
	ms_err err = MS_INTERNAL;

	cms = CMS_encrypt_ex(NULL, NULL, cipher, flags, NULL, NULL);
	if (cms == NULL)
		goto out;
	for (int i = 0; i < sk_X509_num(certs); i++) {
		X509 *cert = sk_X509_value(certs, i);
		bool rsa = EVP_PKEY_get_base_id(X509_get0_pubkey(cert)) ==
		    EVP_PKEY_RSA;
		CMS_RecipientInfo *ri;

		ri = CMS_add1_recipient_cert(cms, cert,
		    flags | (oaep && rsa ? CMS_KEY_PARAM : 0));
		if (ri == NULL)
			goto out;
		if (oaep && rsa && EVP_PKEY_CTX_set_rsa_padding(
		    CMS_RecipientInfo_get0_pkey_ctx(ri),
		    RSA_PKCS1_OAEP_PADDING) <= 0)
			goto out;
	}
	/* streams the content through the cipher into out as BER; OpenSSL
	 * stops quietly on a read error, so the input must be at its end */
	if (i2d_CMS_bio_stream(out, cms, in, flags) == 1 && BIO_eof(in))
		err = MS_OK;
out:
	if (err != MS_OK)
		crypto_log_errors("encrypt");
	CMS_ContentInfo_free(cms);
	return err;
}

/* our_capabilities - what we accept, in preference order (pki.md 3) */
static STACK_OF(X509_ALGOR) *
our_capabilities(void)
{
	STACK_OF(X509_ALGOR) *caps = NULL;

	if (!CMS_add_simple_smimecap(&caps, NID_aes_256_gcm, -1) ||
	    !CMS_add_simple_smimecap(&caps, NID_aes_128_gcm, -1) ||
	    !CMS_add_simple_smimecap(&caps, NID_aes_256_cbc, -1) ||
	    !CMS_add_simple_smimecap(&caps, NID_aes_128_cbc, -1) ||
	    !CMS_add_simple_smimecap(&caps, NID_rsaesOaep, -1)) {
		sk_X509_ALGOR_pop_free(caps, X509_ALGOR_free);
		return NULL;
	}
	return caps;
}

/* ---- Ed25519 (RFC 8419).  OpenSSL 3.0's CMS layer hands the
 * SignerInfo's digest to EVP_DigestSignInit and EVP_DigestVerifyInit,
 * which PureEdDSA refuses, so it can neither make nor check these
 * signatures.  Only the signature over the signed attributes is made and
 * checked here; the structure, the messageDigest attribute and the
 * certificates stay OpenSSL's. ---- */

/* the signed attributes as they are signed: a DER SET OF, not the [0]
 * IMPLICIT of the SignerInfo (RFC 5652 5.4) */
ASN1_ITEM_TEMPLATE(MS_SIGNED_ATTRS) =
	ASN1_EX_TEMPLATE_TYPE(ASN1_TFLG_SET_OF, 0, signed_attrs,
	    X509_ATTRIBUTE)
static_ASN1_ITEM_TEMPLATE_END(MS_SIGNED_ATTRS)

/* signed_attrs_der - the DER the signature of si covers (OPENSSL_free);
 * NULL without signed attributes */
static unsigned char *
signed_attrs_der(CMS_SignerInfo *si, size_t *len)
{
	STACK_OF(X509_ATTRIBUTE) *attrs = sk_X509_ATTRIBUTE_new_null();
	unsigned char *der = NULL;
	int n = CMS_signed_get_attr_count(si), dlen;

	if (attrs == NULL)
		diag_fatal(EXIT_TEMPFAIL, "out of memory");
	for (int i = 0; i < n; i++)
		if (!sk_X509_ATTRIBUTE_push(attrs, CMS_signed_get_attr(si, i)))
			diag_fatal(EXIT_TEMPFAIL, "out of memory");
	dlen = n > 0 ? ASN1_item_i2d((ASN1_VALUE *)attrs, &der,
	    ASN1_ITEM_rptr(MS_SIGNED_ATTRS)) : 0;
	sk_X509_ATTRIBUTE_free(attrs);	/* the attributes are borrowed */
	if (dlen <= 0) {
		OPENSSL_free(der);
		return NULL;
	}
	*len = (size_t)dlen;
	return der;
}

/* eddsa_sign_attrs - PureEdDSA over the signed attributes of si */
static bool
eddsa_sign_attrs(CMS_SignerInfo *si, EVP_PKEY *key)
{
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	unsigned char *der, *sig = NULL;
	size_t len = 0, siglen = 0;
	bool ok = false;

	der = signed_attrs_der(si, &len);
	if (ctx != NULL && der != NULL &&
	    EVP_DigestSignInit(ctx, NULL, NULL, NULL, key) == 1 &&
	    EVP_DigestSign(ctx, NULL, &siglen, der, len) == 1 &&
	    siglen <= INT_MAX && (sig = OPENSSL_malloc(siglen)) != NULL &&
	    EVP_DigestSign(ctx, sig, &siglen, der, len) == 1) {
		ASN1_STRING_set0(CMS_SignerInfo_get0_signature(si), sig,
		    (int)siglen);
		sig = NULL;
		ok = true;
	}
	OPENSSL_free(sig);
	OPENSSL_free(der);
	EVP_MD_CTX_free(ctx);
	return ok;
}

/* eddsa_finish - what CMS_final does for other keys: the content read
 * (made canonical unless binary) and digested with SHA-512, the
 * contentType, signingTime and messageDigest attributes, the signature,
 * and the content itself unless detached */
static bool
eddsa_finish(CMS_ContentInfo *cms, CMS_SignerInfo *si, EVP_PKEY *key,
    bool detached, bool canonical, BIO *in)
{
	BIO *content = BIO_new(BIO_s_mem());
	ASN1_TIME *now = X509_gmtime_adj(NULL, 0);
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;
	X509_ALGOR *sigalg = NULL;
	char *data;
	long n;
	bool ok = false;

	if (content == NULL || now == NULL)
		goto out;
	/* OpenSSL stops quietly on a read error: in must be at its end */
	if (SMIME_crlf_copy(in, content, canonical ? CMS_BINARY : 0) != 1 ||
	    !BIO_eof(in))
		goto out;
	n = BIO_get_mem_data(content, &data);
	if (n < 0 || n > INT_MAX ||
	    EVP_Digest(data, (size_t)n, md, &mdlen, EVP_sha512(), NULL) != 1)
		goto out;
	CMS_SignerInfo_get0_algs(si, NULL, NULL, NULL, &sigalg);
	if (sigalg == NULL || !X509_ALGOR_set0(sigalg, OBJ_nid2obj(NID_ED25519),
	    V_ASN1_UNDEF, NULL))
		goto out;
	if (CMS_signed_add1_attr_by_NID(si, NID_pkcs9_contentType,
	    V_ASN1_OBJECT, OBJ_nid2obj(NID_pkcs7_data), -1) != 1 ||
	    CMS_signed_add1_attr_by_NID(si, NID_pkcs9_signingTime, now->type,
	    now, -1) != 1 ||
	    CMS_signed_add1_attr_by_NID(si, NID_pkcs9_messageDigest,
	    V_ASN1_OCTET_STRING, md, (int)mdlen) != 1 ||
	    !eddsa_sign_attrs(si, key))
		goto out;
	if (!detached) {
		ASN1_OCTET_STRING **pos = CMS_get0_content(cms);

		if (pos == NULL)
			goto out;
		if (*pos == NULL && (*pos = ASN1_OCTET_STRING_new()) == NULL)
			goto out;
		if (!ASN1_OCTET_STRING_set(*pos, (unsigned char *)data,
		    (int)n))
			goto out;
		/* a filled-in value, no longer a place for streamed data */
		(*pos)->flags &= ~ASN1_STRING_FLAG_CONT;
	}
	ok = true;
out:
	ASN1_TIME_free(now);
	BIO_free(content);
	return ok;
}

/* eddsa_signer_problem - why an EdDSA SignerInfo is not one we check
 * (RFC 8419 3.1 and 8410 3), or NULL */
static const char *
eddsa_signer_problem(CMS_SignerInfo *si, const EVP_PKEY *key)
{
	X509_ALGOR *dig = NULL, *sig = NULL;
	const ASN1_OBJECT *oid;
	int ptype;

	if (EVP_PKEY_get_base_id(key) != EVP_PKEY_ED25519)
		return "Ed448 signature (not supported)";
	CMS_SignerInfo_get0_algs(si, NULL, NULL, &dig, &sig);
	X509_ALGOR_get0(&oid, &ptype, NULL, sig);
	if (OBJ_obj2nid(oid) != NID_ED25519 || ptype != V_ASN1_UNDEF)
		return "signature algorithm does not match the Ed25519 key";
	X509_ALGOR_get0(&oid, NULL, NULL, dig);
	if (OBJ_obj2nid(oid) != NID_sha512)
		return "Ed25519 signature with a digest other than SHA-512";
	if (CMS_signed_get_attr_count(si) <= 0)
		return "Ed25519 signature without signed attributes "
		    "(not supported)";
	return NULL;
}

/* eddsa_verify_attrs - the Ed25519 signature of si over its signed
 * attributes verifies with key */
static bool
eddsa_verify_attrs(CMS_SignerInfo *si, EVP_PKEY *key)
{
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	ASN1_OCTET_STRING *sig = CMS_SignerInfo_get0_signature(si);
	unsigned char *der;
	size_t len = 0;
	bool ok;

	der = signed_attrs_der(si, &len);
	ok = ctx != NULL && der != NULL && sig != NULL &&
	    EVP_DigestVerifyInit(ctx, NULL, NULL, NULL, key) == 1 &&
	    EVP_DigestVerify(ctx, ASN1_STRING_get0_data(sig),
	    (size_t)ASN1_STRING_length(sig), der, len) == 1;
	OPENSSL_free(der);
	EVP_MD_CTX_free(ctx);
	return ok;
}

/* is_eddsa - an Ed25519 or Ed448 key */
static bool
is_eddsa(const EVP_PKEY *key)
{
	int id = EVP_PKEY_get_base_id(key);

	return id == EVP_PKEY_ED25519 || id == EVP_PKEY_ED448;
}

ms_err
smime_sign(X509 *signer, EVP_PKEY *key, STACK_OF(X509) *chain,
    const EVP_MD *digest, bool detached, bool canonical, BIO *in, BIO *out)
{
	const EVP_MD *md = smime_signing_digest(key, digest);
	bool eddsa = is_eddsa(key);
	/* a detached signature is small: it is finished in memory (OpenSSL
	 * streams only attached content); attached content is streamed,
	 * except under EdDSA, which is finished here */
	unsigned int flags = CMS_PARTIAL | CMS_NOSMIMECAP |
	    (canonical ? CMS_BINARY : 0) |
	    (detached ? CMS_DETACHED : eddsa ? 0 : CMS_STREAM);
	CMS_ContentInfo *cms = NULL;
	CMS_SignerInfo *si;
	STACK_OF(X509_ALGOR) *caps = NULL;
	ms_err err = MS_INTERNAL;

	if (md == NULL) {
		diag_warn("sign: cannot sign with an %s key",
		    EVP_PKEY_get0_type_name(key));
		return MS_INTERNAL;
	}
	cms = CMS_sign_ex(NULL, NULL, NULL, NULL, flags, NULL, NULL);
	if (cms == NULL)
		goto out;
	si = CMS_add1_signer(cms, signer, key, md, flags);
	if (si == NULL)
		goto out;
	caps = our_capabilities();
	if (caps == NULL || !CMS_add_smimecap(si, caps))
		goto out;
	for (int i = 0; i < sk_X509_num(chain); i++)
		if (!CMS_add1_cert(cms, sk_X509_value(chain, i)))
			goto out;
	if (eddsa) {
		if (eddsa_finish(cms, si, key, detached, canonical, in) &&
		    i2d_CMS_bio(out, cms) == 1)
			err = MS_OK;
	} else if (detached) {
		if (CMS_final(cms, in, NULL, flags) == 1 && BIO_eof(in) &&
		    i2d_CMS_bio(out, cms) == 1)
			err = MS_OK;
	} else if (i2d_CMS_bio_stream(out, cms, in, flags) == 1 &&
	    BIO_eof(in))
		err = MS_OK;
out:
	if (err != MS_OK)
		crypto_log_errors("sign");
	sk_X509_ALGOR_pop_free(caps, X509_ALGOR_free);
	CMS_ContentInfo_free(cms);
	return err;
}

const char *
sig_status_word(sig_status status)
{
	switch (status) {
	case SIG_NONE:
		return "none";
	case SIG_VALID:
		return "valid";
	case SIG_INVALID:
		return "invalid";
	case SIG_UNTRUSTED:
		return "untrusted";
	case SIG_REVOKED:
		return "revoked";
	case SIG_MISMATCH:
		return "mismatch";
	}
	return "invalid";
}

void
sig_result_clear(sig_result *res)
{
	g_free(res->detail);
	g_free(res->signer);
	g_free(res->fingerprint);
	X509_free(res->signer_cert);
	sk_X509_pop_free(res->certs, X509_free);
	memset(res, 0, sizeof(*res));
}

/* set_result - record the outcome (the worst one wins) */
static void
set_result(sig_result *res, sig_status status, const char *detail)
{
	static const int rank[] = {
		[SIG_NONE] = 0, [SIG_VALID] = 1, [SIG_MISMATCH] = 2,
		[SIG_UNTRUSTED] = 3, [SIG_REVOKED] = 4, [SIG_INVALID] = 5
	};

	if (rank[status] < rank[res->status])
		return;
	res->status = status;
	g_free(res->detail);
	res->detail = g_strdup(detail);
}

sig_status
smime_signer_status(unsigned refused, bool have_from)
{
	if (refused & CERT_REVOKED_FLAGS)
		return SIG_REVOKED;
	if (refused & ~(unsigned)CERT_ADDRESS_FLAGS)
		return SIG_UNTRUSTED;
	if ((refused & CERT_ADDRESS_FLAGS) || !have_from)
		return SIG_MISMATCH;
	return SIG_VALID;
}

/* weak_digest - VER-5: MD5 and SHA-1 data signatures are not valid */
static bool
weak_digest(CMS_SignerInfo *si)
{
	X509_ALGOR *dig = NULL, *sig = NULL;
	const ASN1_OBJECT *oid;
	int nid;

	CMS_SignerInfo_get0_algs(si, NULL, NULL, &dig, &sig);
	if (dig == NULL)
		return true;
	X509_ALGOR_get0(&oid, NULL, NULL, dig);
	nid = OBJ_obj2nid(oid);
	return nid != NID_sha256 && nid != NID_sha384 && nid != NID_sha512 &&
	    nid != NID_sha224;
}

/* signer_attrs_verify - when CMS_verify left the signatures over the
 * signed attributes out (CMS_NO_ATTR_VERIFY), each one checked here */
static bool
signer_attrs_verify(STACK_OF(CMS_SignerInfo) *sis, unsigned int flags)
{
	if (!(flags & CMS_NO_ATTR_VERIFY))
		return true;
	for (int i = 0; i < sk_CMS_SignerInfo_num(sis); i++) {
		CMS_SignerInfo *si = sk_CMS_SignerInfo_value(sis, i);
		EVP_PKEY *pk = NULL;

		CMS_SignerInfo_get0_algs(si, &pk, NULL, NULL, NULL);
		if (pk == NULL)
			return false;
		/* as CMS_verify: without signed attributes the signature
		 * covers the content, which its content check verified */
		if (!is_eddsa(pk) && CMS_signed_get_attr_count(si) < 0)
			continue;
		if (is_eddsa(pk) ? !eddsa_verify_attrs(si, pk) :
		    CMS_SignerInfo_verify(si) != 1)
			return false;
	}
	return true;
}

ms_err
smime_verify(ms_trust *trust, CMS_ContentInfo *cms, BIO *dcont,
    const ms_addr *from, sig_result *res, GByteArray **content)
{
	STACK_OF(CMS_SignerInfo) *sis;
	STACK_OF(X509) *signers;
	BIO *out = NULL;
	unsigned int flags = CMS_BINARY | CMS_NO_SIGNER_CERT_VERIFY;
	int nsi;

	memset(res, 0, sizeof(*res));
	if (content)
		*content = NULL;
	res->status = SIG_NONE;
	if (OBJ_obj2nid(CMS_get0_type(cms)) != NID_pkcs7_signed) {
		set_result(res, SIG_INVALID, "not signed data");
		return MS_OK;
	}
	sis = CMS_get0_SignerInfos(cms);
	nsi = sk_CMS_SignerInfo_num(sis);
	if (nsi <= 0) {
		set_result(res, SIG_INVALID, "no signer");
		return MS_OK;
	}
	/* VER-3: a detached signature carries no content of its own */
	if (dcont != NULL && !CMS_is_detached(cms)) {
		set_result(res, SIG_INVALID, "detached signature has content");
		return MS_OK;
	}
	if (dcont == NULL && CMS_is_detached(cms)) {
		set_result(res, SIG_INVALID, "signed data has no content");
		return MS_OK;
	}
	res->certs = CMS_get1_certs(cms);
	if (res->certs == NULL)
		res->certs = sk_X509_new_null();
	/* RFC 8551 6: refuse huge keys before spending time on them */
	for (int i = 0; i < sk_X509_num(res->certs); i++) {
		EVP_PKEY *pk = X509_get0_pubkey(sk_X509_value(res->certs, i));

		if (pk != NULL && EVP_PKEY_get_bits(pk) > CERT_RSA_MAX_BITS &&
		    EVP_PKEY_get_base_id(pk) == EVP_PKEY_RSA) {
			set_result(res, SIG_INVALID, "oversized key");
			return MS_OK;
		}
	}
	for (int i = 0; i < nsi; i++)
		if (weak_digest(sk_CMS_SignerInfo_value(sis, i))) {
			set_result(res, SIG_INVALID, "weak digest algorithm");
			return MS_OK;
		}
	/* Ed25519 signers are checked here, the others by CMS_verify (its
	 * content check, the messageDigest, covers every signer) */
	ERR_set_mark();
	CMS_set1_signers_certs(cms, NULL, 0);
	ERR_pop_to_mark();
	for (int i = 0; i < nsi; i++) {
		CMS_SignerInfo *si = sk_CMS_SignerInfo_value(sis, i);
		EVP_PKEY *pk = NULL;
		const char *problem;

		CMS_SignerInfo_get0_algs(si, &pk, NULL, NULL, NULL);
		if (pk == NULL || !is_eddsa(pk))
			continue;
		problem = eddsa_signer_problem(si, pk);
		if (problem != NULL) {
			set_result(res, SIG_INVALID, problem);
			return MS_OK;
		}
		flags |= CMS_NO_ATTR_VERIFY;
	}
	if (content != NULL)
		out = BIO_new(BIO_s_mem());
	/* every signerInfo must verify; the signer certificates are checked
	 * against our roots, CRLs and the From address below */
	if (CMS_verify(cms, NULL, NULL, dcont, out, flags) != 1 ||
	    !signer_attrs_verify(sis, flags)) {
		unsigned long e = ERR_peek_last_error();

		if (ERR_GET_REASON(e) == CMS_R_SIGNER_CERTIFICATE_NOT_FOUND)
			set_result(res, SIG_UNTRUSTED, "signer certificate "
			    "not included");
		else
			set_result(res, SIG_INVALID, "signature does not "
			    "verify");
		ERR_clear_error();
		BIO_free(out);
		return MS_OK;
	}
	signers = CMS_get0_signers(cms);
	set_result(res, SIG_VALID, "signature verified");
	for (int i = 0; i < sk_X509_num(signers); i++) {
		X509 *signer = sk_X509_value(signers, i);
		cert_verdict verdict;
		sig_status status;
		ms_err err;

		verdict_init(&verdict);
		err = trust_check_with(trust, signer, CERT_PURPOSE_SIGN, from,
		    res->certs, &verdict);
		if (err != MS_OK) {
			verdict_clear(&verdict);
			sk_X509_free(signers);
			BIO_free(out);
			return err;
		}
		status = smime_signer_status(verdict.refused, from != NULL);
		if (status == SIG_REVOKED)
			set_result(res, SIG_REVOKED, "signer certificate "
			    "revoked");
		else if (status == SIG_UNTRUSTED)
			set_result(res, SIG_UNTRUSTED, cert_verdict_first(
			    &verdict, ~(unsigned)CERT_ADDRESS_FLAGS));
		else if (status == SIG_MISMATCH)
			set_result(res, SIG_MISMATCH, from == NULL ?
			    "no single From address" :
			    "signer is not the From address");
		if (i == 0) {
			unsigned malformed;
			GPtrArray *addrs = cert_addresses(signer, &malformed);

			res->fingerprint = cert_fingerprint(signer);
			if (addrs->len > 0)
				res->signer = g_strdup(((ms_addr *)
				    g_ptr_array_index(addrs, 0))->text);
			g_ptr_array_free(addrs, TRUE);
			X509_up_ref(signer);
			res->signer_cert = signer;
			res->signer_info = sk_CMS_SignerInfo_value(sis, 0);
		}
		verdict_clear(&verdict);
	}
	sk_X509_free(signers);
	if (out != NULL && res->status != SIG_INVALID) {
		char *data;
		long n = BIO_get_mem_data(out, &data);

		*content = g_byte_array_sized_new((guint)n);
		g_byte_array_append(*content, (guint8 *)data, (guint)n);
	}
	BIO_free(out);
	return MS_OK;
}

ms_err
smime_caps_learn(ms_store *store, const char *fpr, CMS_SignerInfo *si)
{
	STACK_OF(X509_ALGOR) *caps;
	X509_ATTRIBUTE *attr;
	ASN1_TYPE *type;
	GString *body;
	int loc;
	ms_err err;

	loc = CMS_signed_get_attr_by_NID(si, NID_SMIMECapabilities, -1);
	if (loc < 0)
		return MS_NOTFOUND;
	attr = CMS_signed_get_attr(si, loc);
	type = X509_ATTRIBUTE_get0_type(attr, 0);
	if (type == NULL || type->type != V_ASN1_SEQUENCE)
		return MS_DATA;
	caps = ASN1_TYPE_unpack_sequence(ASN1_ITEM_rptr(X509_ALGORS), type);
	if (caps == NULL) {
		ERR_clear_error();
		return MS_DATA;
	}
	body = g_string_new(NULL);
	for (int i = 0; i < sk_X509_ALGOR_num(caps) && i < 64; i++) {
		const ASN1_OBJECT *oid;
		char name[80];
		int nid;

		X509_ALGOR_get0(&oid, NULL, NULL, sk_X509_ALGOR_value(caps, i));
		nid = OBJ_obj2nid(oid);
		if (nid != NID_undef)
			g_string_append_printf(body, "%s\n", OBJ_nid2sn(nid));
		else if (OBJ_obj2txt(name, sizeof(name), oid, 1) > 0)
			g_string_append_printf(body, "%s\n", name);
	}
	sk_X509_ALGOR_pop_free(caps, X509_ALGOR_free);
	err = store_record_write(store, "caps", fpr, "caps", body->str,
	    body->len, 0644);
	g_string_free(body, TRUE);
	return err;
}

bool
smime_caps_gcm(const ms_store *store, const char *fpr)
{
	GByteArray *body;
	bool gcm = false;

	if (store_record_read(store, "caps", fpr, "caps", LIMIT_STORE_OBJECT,
	    &body) != MS_OK)
		return false;
	g_byte_array_append(body, (const guint8 *)"", 1);
	gcm = strstr((const char *)body->data, "id-aes256-GCM\n") != NULL ||
	    strstr((const char *)body->data, "id-aes128-GCM\n") != NULL;
	g_byte_array_free(body, TRUE);
	return gcm;
}

/* ---- a read-only BIO over two memory segments, so the content headers
 * and the raw body reach the cipher without being copied together ---- */

typedef struct segments {
	const char *data[2];
	size_t len[2];
	int current;
	size_t pos;
} segments;

static int
segments_read(BIO *bio, char *buf, int size)
{
	segments *s = BIO_get_data(bio);
	int done = 0;

	while (done < size && s->current < 2) {
		size_t left = s->len[s->current] - s->pos;
		size_t n = (size_t)(size - done) < left ?
		    (size_t)(size - done) : left;

		memcpy(buf + done, s->data[s->current] + s->pos, n);
		done += (int)n;
		s->pos += n;
		if (s->pos == s->len[s->current]) {
			s->current++;
			s->pos = 0;
		}
	}
	return done;
}

/* segments_gets - one line (OpenSSL's text canonicalisation reads lines) */
static int
segments_gets(BIO *bio, char *buf, int size)
{
	segments *s = BIO_get_data(bio);
	size_t done = 0, room;

	if (size <= 0)
		return 0;
	room = (size_t)size - 1;
	while (done < room && s->current < 2) {
		const char *from = s->data[s->current] + s->pos;
		size_t left = s->len[s->current] - s->pos;
		size_t n = room - done < left ? room - done : left;
		const char *nl = memchr(from, '\n', n);

		if (nl != NULL)
			n = (size_t)(nl - from) + 1;
		memcpy(buf + done, from, n);
		done += n;
		s->pos += n;
		if (s->pos == s->len[s->current]) {
			s->current++;
			s->pos = 0;
		}
		if (nl != NULL)
			break;
	}
	buf[done] = '\0';
	return (int)done;
}

static long
segments_ctrl(BIO *bio, int cmd, long num, void *ptr)
{
	segments *s = BIO_get_data(bio);

	(void)num;
	(void)ptr;
	switch (cmd) {
	case BIO_CTRL_EOF:
		return s->current >= 2;
	case BIO_CTRL_FLUSH:
		return 1;
	case BIO_CTRL_PENDING:
		return s->current >= 2 ? 0 :
		    (long)(s->len[s->current] - s->pos);
	default:
		return 0;
	}
}

static int
segments_destroy(BIO *bio)
{
	g_free(BIO_get_data(bio));
	BIO_set_data(bio, NULL);
	return 1;
}

BIO *
smime_segments_bio(const char *a, size_t alen, const char *b, size_t blen)
{
	static BIO_METHOD *method;
	segments *s;
	BIO *bio;

	if (method == NULL) {
		method = BIO_meth_new(BIO_get_new_index() | BIO_TYPE_SOURCE_SINK,
		    "mailseal segments");
		if (method == NULL || !BIO_meth_set_read(method, segments_read)
		    || !BIO_meth_set_gets(method, segments_gets) ||
		    !BIO_meth_set_ctrl(method, segments_ctrl) ||
		    !BIO_meth_set_destroy(method, segments_destroy))
			diag_fatal(EXIT_TEMPFAIL, "cannot set up a BIO");
	}
	bio = BIO_new(method);
	if (bio == NULL)
		diag_fatal(EXIT_TEMPFAIL, "out of memory");
	s = g_new0(segments, 1);
	s->data[0] = a;
	s->len[0] = alen;
	s->data[1] = b;
	s->len[1] = blen;
	if (alen == 0)
		s->current = blen == 0 ? 2 : 1;
	BIO_set_data(bio, s);
	BIO_set_init(bio, 1);
	return bio;
}
