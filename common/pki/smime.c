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
#include "limits.h"

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

ms_err
smime_sign(X509 *signer, EVP_PKEY *key, STACK_OF(X509) *chain,
    const EVP_MD *digest, bool detached, bool canonical, BIO *in, BIO *out)
{
	/* a detached signature is small: it is finished in memory (OpenSSL
	 * streams only attached content); attached content is streamed */
	unsigned int flags = CMS_PARTIAL | CMS_NOSMIMECAP |
	    (canonical ? CMS_BINARY : 0) |
	    (detached ? CMS_DETACHED : CMS_STREAM);
	CMS_ContentInfo *cms;
	CMS_SignerInfo *si;
	STACK_OF(X509_ALGOR) *caps = NULL;
	ms_err err = MS_INTERNAL;

	cms = CMS_sign_ex(NULL, NULL, NULL, NULL, flags, NULL, NULL);
	if (cms == NULL)
		goto out;
	si = CMS_add1_signer(cms, signer, key, digest, flags);
	if (si == NULL)
		goto out;
	caps = our_capabilities();
	if (caps == NULL || !CMS_add_smimecap(si, caps))
		goto out;
	for (int i = 0; i < sk_X509_num(chain); i++)
		if (!CMS_add1_cert(cms, sk_X509_value(chain, i)))
			goto out;
	if (detached) {
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
	if (content != NULL)
		out = BIO_new(BIO_s_mem());
	/* every signerInfo must verify; the signer certificates are checked
	 * against our roots, CRLs and the From address below */
	if (CMS_verify(cms, NULL, NULL, dcont, out, flags) != 1) {
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
