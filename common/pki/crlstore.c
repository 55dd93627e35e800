/*
 * crlstore.c - validated, atomic installation of CRLs into the hashed
 * CRL directory (see crlstore.h).
 */
#include "crlstore.h"
#include "certdb.h"
#include "audit.h"
#include "diag.h"
#include "mslimits.h"

#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>
#include <stdlib.h>
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

/* ext_hex - the INTEGER extension nid of crl in hex (g_free), or NULL */
static char *
ext_hex(X509_CRL *crl, int nid)
{
	ASN1_INTEGER *num = X509_CRL_get_ext_d2i(crl, nid, NULL, NULL);
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

char *
crl_number_hex(X509_CRL *crl)
{
	return ext_hex(crl, NID_crl_number);
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

/* is_delta - crl carries a deltaCRLIndicator (RFC 5280 5.2.4) */
static bool
is_delta(X509_CRL *crl)
{
	return X509_CRL_get_ext_by_NID(crl, NID_delta_crl, -1) >= 0;
}

/* delta_base_hex - the BaseCRLNumber of a delta CRL (g_free), or NULL */
static char *
delta_base_hex(X509_CRL *crl)
{
	return ext_hex(crl, NID_delta_crl);
}

/* find_slot - the file holding the complete (or delta) CRL of issuer
 * (and, when key is given, signed by key: two CAs may share a name):
 * MS_OK with *old and *name; MS_NOTFOUND with *free_slot the first free
 * number (-1 when every slot is taken); else the read error */
static ms_err
find_slot(const ms_store *store, const X509_NAME *issuer, EVP_PKEY *key,
    bool delta, X509_CRL **old, char **name, int *free_slot)
{
	unsigned long hash;
	int ok = 0;

	*old = NULL;
	*name = NULL;
	*free_slot = -1;
	hash = X509_NAME_hash_ex(issuer, NULL, NULL, &ok);
	if (!ok) {
		crypto_log_errors("CRL issuer hash");
		return MS_INTERNAL;
	}
	for (int slot = 0; slot < CRL_SLOTS; slot++) {
		X509_CRL *crl;
		char *n = g_strdup_printf("%08lx.r%d", hash, slot);
		ms_err err = read_crl(store, n, &crl);

		if (err == MS_NOTFOUND) {
			*free_slot = slot;
			g_free(n);
			return MS_NOTFOUND;
		}
		if (err != MS_OK) {
			g_free(n);
			return err;
		}
		if (X509_NAME_cmp(X509_CRL_get_issuer(crl), issuer) == 0 &&
		    is_delta(crl) == delta && (key == NULL ||
		    X509_CRL_verify(crl, key) == 1)) {
			ERR_clear_error();
			*old = crl;
			*name = n;
			return MS_OK;
		}
		X509_CRL_free(crl);
		g_free(n);
	}
	return MS_NOTFOUND;
}

ms_err
crl_installed(const ms_store *store, const X509_NAME *issuer, bool delta,
    X509_CRL **crl, char **file)
{
	int free_slot;

	return find_slot(store, issuer, NULL, delta, crl, file, &free_slot);
}

ms_err
crl_installed_by(const ms_store *store, X509 *ca, bool delta,
    X509_CRL **crl, char **file)
{
	int free_slot;

	return find_slot(store, X509_get_subject_name(ca),
	    X509_get0_pubkey(ca), delta, crl, file, &free_slot);
}

/* delta_has_base - a delta CRL applies only on top of a complete CRL of
 * the same issuer whose number reaches its BaseCRLNumber */
static bool
delta_has_base(const ms_store *store, X509_CRL *delta, EVP_PKEY *key,
    const char **why)
{
	X509_CRL *base;
	char *name, *base_need, *base_have;
	int free_slot;
	bool ok;

	if (find_slot(store, X509_CRL_get_issuer(delta), key, false, &base,
	    &name, &free_slot) != MS_OK) {
		*why = "a delta CRL without the complete CRL it builds on";
		return false;
	}
	base_need = delta_base_hex(delta);
	base_have = crl_number_hex(base);
	ok = base_need != NULL && base_have != NULL &&
	    compare_hex(base_have, base_need) >= 0;
	if (!ok)
		*why = "a delta CRL newer than the complete CRL installed";
	g_free(base_need);
	g_free(base_have);
	g_free(name);
	X509_CRL_free(base);
	return ok;
}

ms_err
crl_install(ms_store *store, ms_trust *trust, X509_CRL *crl,
    const char **why, char **file)
{
	int free_slot;
	bool delta = is_delta(crl);
	X509_CRL *old;
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
	if (!check_dates(crl, why) || (delta && !delta_has_base(store, crl,
	    X509_get0_pubkey(issuer), why))) {
		X509_free(issuer);
		return MS_DATA;
	}
	/* the slot of the same issuer (and kind), else the first free one */
	err = find_slot(store, X509_CRL_get_issuer(crl),
	    X509_get0_pubkey(issuer), delta, &old, &name, &free_slot);
	X509_free(issuer);
	if (err == MS_OK) {
		char *new_num = crl_number_hex(crl);
		char *old_num = crl_number_hex(old);
		int by_number = new_num && old_num ?
		    compare_hex(new_num, old_num) : 0;
		int by_time = ASN1_TIME_compare(X509_CRL_get0_lastUpdate(crl),
		    X509_CRL_get0_lastUpdate(old));
		bool same = same_der(old, crl);
		bool numbered = new_num != NULL && old_num != NULL;

		if (new_num == NULL)
			diag_warn("CRL without a CRL number: ordered by "
			    "thisUpdate only");
		g_free(new_num);
		g_free(old_num);
		X509_CRL_free(old);
		if (by_number < 0 || by_time < 0) {
			/* CRL-4 step 3: never go back */
			g_free(name);
			*why = "older than the installed CRL (rollback)";
			return MS_DATA;
		}
		if (same) {
			*file = name;
			return MS_OK;	/* already installed */
		}
		if (by_number == 0 && numbered) {
			/* two different CRLs under one number: one of them
			 * is not what the CA published; keep ours */
			g_free(name);
			*why = "same CRL number as the installed CRL but "
			    "different contents";
			return MS_DATA;
		}
	} else if (err != MS_NOTFOUND)
		return err;
	if (name == NULL) {
		if (free_slot < 0) {
			*why = "too many CRLs with the same issuer hash";
			return MS_DATA;
		}
		name = g_strdup_printf("%08lx.r%d", X509_NAME_hash_ex(
		    X509_CRL_get_issuer(crl), NULL, NULL, NULL), free_slot);
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
	if (err == MS_OK) {
		char *number = crl_number_hex(crl);

		err = audit_record(store, "install crl %s number %s", name,
		    number != NULL ? number : "none");
		g_free(number);
	}
	if (err == MS_OK)
		*file = name;
	else
		g_free(name);
	return err;
}

/* crl_file_name - "HASH.rN": *hash and *slot of a CRL store file name */
static bool
crl_file_name(const char *name, unsigned long *hash, int *slot)
{
	char *end;
	unsigned long n;

	if (strlen(name) < 11 || name[8] != '.' || name[9] != 'r')
		return false;
	for (int i = 0; i < 8; i++)
		if (!g_ascii_isxdigit(name[i]) || g_ascii_isupper(name[i]))
			return false;
	if (!g_ascii_isdigit(name[10]))
		return false;
	n = strtoul(name + 10, &end, 10);
	if (*end != '\0' || n >= CRL_SLOTS)
		return false;
	*hash = strtoul(name, NULL, 16);
	*slot = (int)n;
	return true;
}

/* prune_hash - remove the unwanted CRLs of one name hash and close the
 * gaps by moving the highest-numbered file down with one rename each,
 * so OpenSSL's lookup (which stops at the first missing number) never
 * misses a CRL */
static ms_err
prune_hash(ms_store *store, ms_trust *trust, unsigned long hash,
    const bool *present, GPtrArray *removed)
{
	bool keep[CRL_SLOTS] = { false };
	ms_err err = MS_OK;
	int high;

	for (int slot = 0; slot < CRL_SLOTS; slot++) {
		char *n;
		X509_CRL *crl;
		X509 *issuer;

		if (!present[slot])
			continue;
		n = g_strdup_printf("%08lx.r%d", hash, slot);
		if (read_crl(store, n, &crl) == MS_OK) {
			issuer = crl_find_issuer(trust, store, crl);
			keep[slot] = issuer != NULL;
			X509_free(issuer);
			X509_CRL_free(crl);
		}
		if (!keep[slot])
			g_ptr_array_add(removed, g_strdup(n));
		g_free(n);
	}
	for (int slot = 0; slot < CRL_SLOTS && err == MS_OK; slot++) {
		char *n, *h;

		if (keep[slot])
			continue;
		for (high = CRL_SLOTS - 1; high > slot && !keep[high]; high--)
			;
		n = g_strdup_printf("%08lx.r%d", hash, slot);
		if (high > slot) {
			h = g_strdup_printf("%08lx.r%d", hash, high);
			err = store_rename(store, "crls", h, n);
			keep[high] = false;
			keep[slot] = true;
			g_free(h);
		} else if (present[slot]) {
			err = store_remove(store, "crls", n);
			if (err == MS_NOTFOUND)
				err = MS_OK;
		}
		g_free(n);
	}
	return err;
}

ms_err
crl_prune(ms_store *store, ms_trust *trust, GPtrArray *removed)
{
	GPtrArray *names;
	GHashTable *hashes;
	GHashTableIter iter;
	gpointer key, value;
	ms_err err;

	err = store_list(store, "crls", &names);
	if (err != MS_OK)
		return err;
	hashes = g_hash_table_new_full(g_int64_hash, g_int64_equal, g_free,
	    g_free);
	for (guint i = 0; i < names->len; i++) {
		unsigned long hash;
		int slot;
		bool *present;
		gint64 *k;

		if (!crl_file_name(g_ptr_array_index(names, i), &hash, &slot))
			continue;
		k = g_new(gint64, 1);
		*k = (gint64)hash;
		present = g_hash_table_lookup(hashes, k);
		if (present == NULL) {
			present = g_new0(bool, CRL_SLOTS);
			g_hash_table_insert(hashes, k, present);
		} else
			g_free(k);
		present[slot] = true;
	}
	g_hash_table_iter_init(&iter, hashes);
	while (err == MS_OK && g_hash_table_iter_next(&iter, &key, &value))
		err = prune_hash(store, trust, (unsigned long)*(gint64 *)key,
		    value, removed);
	if (err == MS_OK && removed->len > 0)
		err = store_bump_generation(store);
	for (guint i = 0; err == MS_OK && i < removed->len; i++)
		err = audit_record(store, "remove crl %s (no CA of it left)",
		    (const char *)g_ptr_array_index(removed, i));
	g_hash_table_destroy(hashes);
	g_ptr_array_free(names, TRUE);
	return err;
}

/* url_ok - an http or https URL of printable ASCII: the only kind a CRL
 * is fetched from (CRL-2); LDAP and file URLs are skipped */
bool
crl_url_ok(const char *url)
{
	size_t len = strlen(url);

	if (len == 0 || len > CRL_URL_MAX)
		return false;
	for (size_t i = 0; i < len; i++)
		if ((unsigned char)url[i] <= 0x20 ||
		    (unsigned char)url[i] >= 0x7f)
			return false;
	return g_ascii_strncasecmp(url, "http://", 7) == 0 ||
	    g_ascii_strncasecmp(url, "https://", 8) == 0;
}

GPtrArray *
crl_distribution_urls(X509 *cert, bool delta, unsigned *skipped)
{
	GPtrArray *urls = g_ptr_array_new_with_free_func(g_free);
	STACK_OF(DIST_POINT) *points = X509_get_ext_d2i(cert,
	    delta ? NID_freshest_crl : NID_crl_distribution_points, NULL,
	    NULL);

	for (int i = 0; i < sk_DIST_POINT_num(points); i++) {
		DIST_POINT *dp = sk_DIST_POINT_value(points, i);
		GENERAL_NAMES *names;

		/* a relative name or a CRL issuer other than the
		 * certificate's issuer (indirect CRL) is not supported */
		if (dp->distpoint == NULL || dp->distpoint->type != 0 ||
		    dp->CRLissuer != NULL) {
			(*skipped)++;
			continue;
		}
		names = dp->distpoint->name.fullname;
		for (int j = 0; j < sk_GENERAL_NAME_num(names); j++) {
			GENERAL_NAME *gn = sk_GENERAL_NAME_value(names, j);
			const ASN1_IA5STRING *uri;
			char *url;

			if (gn->type != GEN_URI) {
				(*skipped)++;
				continue;
			}
			uri = gn->d.uniformResourceIdentifier;
			if (uri->length <= 0 || uri->length > CRL_URL_MAX ||
			    memchr(uri->data, '\0', (size_t)uri->length)) {
				(*skipped)++;
				continue;
			}
			url = g_strndup((const char *)uri->data,
			    (gsize)uri->length);
			if (crl_url_ok(url))
				g_ptr_array_add(urls, url);
			else {
				(*skipped)++;
				g_free(url);
			}
		}
	}
	sk_DIST_POINT_pop_free(points, DIST_POINT_free);
	ERR_clear_error();
	return urls;
}

ms_err
crl_read(const ms_store *store, const char *name, X509_CRL **out)
{
	return read_crl(store, name, out);
}
