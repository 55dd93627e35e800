/*
 * crlstore.c - validated, atomic installation of CRLs into the hashed
 * CRL directory (see crlstore.h).
 */
#include "crlstore.h"
#include "diag.h"
#include "limits.h"

#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>
#include <string.h>
#include <time.h>

/* can_sign_crl - a CA certificate whose key usage (if any) has cRLSign */
static bool
can_sign_crl(X509 *ca)
{
	uint32_t flags = X509_get_extension_flags(ca);

	if ((flags & EXFLAG_KUSAGE) && !(X509_get_key_usage(ca) & KU_CRL_SIGN))
		return false;
	return cert_is_ca(ca) || (flags & EXFLAG_SS);
}

/* try_issuer - does ca's key verify crl */
static bool
try_issuer(X509 *ca, X509_CRL *crl)
{
	EVP_PKEY *key = X509_get0_pubkey(ca);
	int ok;

	if (X509_NAME_cmp(X509_get_subject_name(ca),
	    X509_CRL_get_issuer(crl)) != 0 || key == NULL || !can_sign_crl(ca))
		return false;
	ok = X509_CRL_verify(crl, key) == 1;
	ERR_clear_error();
	return ok;
}

X509 *
crl_find_issuer(ms_trust *trust, const ms_store *store, X509_CRL *crl)
{
	STACK_OF(X509) *roots;
	GPtrArray *fprs;
	bool any;

	if (trust_load_roots(trust, X509_CRL_get_issuer(crl), &any) != MS_OK)
		return NULL;
	roots = trust_roots(trust);

	for (int i = 0; i < sk_X509_num(roots); i++) {
		X509 *ca = sk_X509_value(roots, i);

		if (try_issuer(ca, crl)) {
			X509_up_ref(ca);
			return ca;
		}
	}
	if (certdb_issuers(store, X509_CRL_get_issuer(crl), &fprs) == MS_OK) {
		for (guint i = 0; i < fprs->len; i++) {
			X509 *ca;

			if (certdb_load(store, g_ptr_array_index(fprs, i), NULL,
			    &ca) != MS_OK)
				continue;
			if (try_issuer(ca, crl)) {
				g_ptr_array_free(fprs, TRUE);
				return ca;
			}
			X509_free(ca);
		}
	}
	g_ptr_array_free(fprs, TRUE);
	return NULL;
}

char *
crl_number_hex(X509_CRL *crl)
{
	ASN1_INTEGER *num = X509_CRL_get_ext_d2i(crl, NID_crl_number, NULL,
	    NULL);
	BIGNUM *bn;
	char *hex, *out;

	if (num == NULL)
		return NULL;
	bn = ASN1_INTEGER_to_BN(num, NULL);
	ASN1_INTEGER_free(num);
	if (bn == NULL)
		return NULL;
	hex = BN_bn2hex(bn);
	BN_free(bn);
	out = hex ? g_strdup(hex) : NULL;
	OPENSSL_free(hex);
	return out;
}

/* compare_hex - compare two non-negative hex numbers */
static int
compare_hex(const char *a, const char *b)
{
	size_t la, lb;

	while (*a == '0' && a[1])
		a++;
	while (*b == '0' && b[1])
		b++;
	la = strlen(a);
	lb = strlen(b);
	if (la != lb)
		return la < lb ? -1 : 1;
	return strcmp(a, b);
}

/* same_der - byte-identical CRLs (X509_CRL_cmp compares issuers only) */
static bool
same_der(X509_CRL *a, X509_CRL *b)
{
	unsigned char *da = NULL, *db = NULL;
	int la = i2d_X509_CRL(a, &da), lb = i2d_X509_CRL(b, &db);
	bool same = la > 0 && la == lb && memcmp(da, db, (size_t)la) == 0;

	OPENSSL_free(da);
	OPENSSL_free(db);
	return same;
}

/* read_crl - parse crls/name */
static ms_err
read_crl(const ms_store *store, const char *name, X509_CRL **out)
{
	GByteArray *data;
	ms_err err;
	BIO *bio;

	*out = NULL;
	err = store_read(store, "crls", name, LIMIT_IMPORT_FILE, &data);
	if (err != MS_OK)
		return err == MS_DATA ? MS_TEMP : err;
	bio = BIO_new_mem_buf(data->data, (int)data->len);
	*out = bio ? PEM_read_bio_X509_CRL(bio, NULL, NULL, NULL) : NULL;
	BIO_free(bio);
	g_byte_array_free(data, TRUE);
	if (*out == NULL) {
		ERR_clear_error();
		/* CRL-5: a damaged CRL is "unavailable", never "empty" */
		diag_error("CRL file crls/%s is damaged", name);
		return MS_TEMP;
	}
	return MS_OK;
}

/* check_dates - CRL-4 step 2 */
static bool
check_dates(X509_CRL *crl, const char **why)
{
	time_t now = time(NULL), ahead = now + CRL_CLOCK_SKEW;
	const ASN1_TIME *this_update = X509_CRL_get0_lastUpdate(crl);
	const ASN1_TIME *next_update = X509_CRL_get0_nextUpdate(crl);

	if (this_update == NULL || X509_cmp_time(this_update, &ahead) > 0) {
		*why = "thisUpdate lies in the future";
		return false;
	}
	if (next_update == NULL) {
		*why = "CRL has no nextUpdate";
		return false;
	}
	if (X509_cmp_time(next_update, &now) < 0)
		diag_warn("CRL of this issuer is past its nextUpdate");
	return true;
}

ms_err
crl_install(ms_store *store, ms_trust *trust, X509_CRL *crl,
    const char **why, char **file)
{
	unsigned long hash;
	int ok = 0, slot, free_slot = -1;
	X509 *issuer;
	BIO *bio;
	char *data, *name = NULL;
	long len;
	ms_err err;

	*file = NULL;
	issuer = crl_find_issuer(trust, store, crl);
	if (issuer == NULL) {
		*why = "no CA in the store signed this CRL";
		return MS_DATA;
	}
	X509_free(issuer);
	if (!check_dates(crl, why))
		return MS_DATA;
	hash = X509_NAME_hash_ex(X509_CRL_get_issuer(crl), NULL, NULL, &ok);
	if (!ok) {
		crypto_log_errors("CRL issuer hash");
		return MS_INTERNAL;
	}
	/* find the slot of the same issuer, else the first free number */
	for (slot = 0; slot < CRL_SLOTS; slot++) {
		X509_CRL *old;
		char *n = g_strdup_printf("%08lx.r%d", hash, slot);

		err = read_crl(store, n, &old);
		if (err == MS_NOTFOUND) {
			free_slot = slot;
			g_free(n);
			break;
		}
		if (err != MS_OK) {
			g_free(n);
			return err;
		}
		if (X509_NAME_cmp(X509_CRL_get_issuer(old),
		    X509_CRL_get_issuer(crl)) == 0) {
			char *new_num = crl_number_hex(crl);
			char *old_num = crl_number_hex(old);
			int by_number = new_num && old_num ?
			    compare_hex(new_num, old_num) : 0;
			int by_time = ASN1_TIME_compare(
			    X509_CRL_get0_lastUpdate(crl),
			    X509_CRL_get0_lastUpdate(old));

			g_free(new_num);
			g_free(old_num);
			if (by_number < 0 || by_time < 0) {
				/* CRL-4 step 3: never go back */
				X509_CRL_free(old);
				g_free(n);
				*why = "older than the installed CRL (rollback)";
				return MS_DATA;
			}
			if (by_number == 0 && by_time == 0 &&
			    same_der(old, crl)) {
				X509_CRL_free(old);
				*file = n;
				return MS_OK;	/* already installed */
			}
			X509_CRL_free(old);
			name = n;
			break;
		}
		X509_CRL_free(old);
		g_free(n);
	}
	if (name == NULL) {
		if (free_slot < 0) {
			*why = "too many CRLs with the same issuer hash";
			return MS_DATA;
		}
		name = g_strdup_printf("%08lx.r%d", hash, free_slot);
	}
	bio = BIO_new(BIO_s_mem());
	if (bio == NULL || !PEM_write_bio_X509_CRL(bio, crl)) {
		BIO_free(bio);
		g_free(name);
		return MS_INTERNAL;
	}
	len = BIO_get_mem_data(bio, &data);
	err = store_write(store, "crls", name, data, (size_t)len, 0644);
	BIO_free(bio);
	/* a new CRL can revoke: cached verdicts must not outlive it */
	if (err == MS_OK)
		err = store_bump_generation(store);
	if (err == MS_OK)
		*file = name;
	else
		g_free(name);
	return err;
}
