/*
 * trust.c - the usability decision (see trust.h).  The decision "usable"
 * is ours: OpenSSL builds and verifies the chain and checks CRLs, and
 * every error it reports is collected through the verify callback; key
 * usage, extended key usage, key size and the address binding are checked
 * here, because OpenSSL's S/MIME purpose check refuses EC recipients
 * (keyAgreement) that are valid for encryption.
 */
#include "trust.h"
#include "certdb.h"
#include "codec.h"
#include "counters.h"
#include "diag.h"
#include "mslimits.h"
#include "settings.h"

#include <openssl/err.h>
#include <openssl/x509v3.h>
#include <stdarg.h>
#include <string.h>

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
	char *h = certdb_subject_key(subject);
	ms_err err = certdb_index_read(trust->store, "index/root", h, &fprs);

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
		lerr = certdb_read(trust->store, "roots", fpr, &root);
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

			if (certdb_read(trust->store, "certs",
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
		else if (id == EVP_PKEY_ED448)
			/* RFC 8419 digests Ed448 content with SHAKE256 to
			 * 512 bits (id-shake256-len): not in OpenSSL 3.0 */
			cert_verdict_add(verdict, CERT_UNSUPPORTED_KEY, true,
			    ": Ed448 (no S/MIME signing with OpenSSL 3.0)");
	} else if (id == EVP_PKEY_X25519 || id == EVP_PKEY_X448) {
		if (purpose == CERT_PURPOSE_SIGN)
			cert_verdict_add(verdict, CERT_WRONG_USAGE, true,
			    ": key type cannot sign");
		else
			/* OpenSSL 3.0's CMS does key agreement for EC keys
			 * only: RFC 8418 recipients cannot be encrypted to
			 * or decrypted for */
			cert_verdict_add(verdict, CERT_UNSUPPORTED_KEY, true,
			    ": %s (no RFC 8418 key agreement with OpenSSL 3.0)",
			    cert_unsupported_agreement_key(pub));
	} else {
		const char *name = EVP_PKEY_get0_type_name(pub);

		cert_verdict_add(verdict, CERT_UNSUPPORTED_KEY, true, ": %s",
		    name != NULL ? name : "unknown");
	}
	if (flags & EXFLAG_KUSAGE) {
		bool ok;

		if (purpose == CERT_PURPOSE_SIGN)
			ok = (ku & (KU_DIGITAL_SIGNATURE |
			    KU_NON_REPUDIATION)) != 0;
		else if (id == EVP_PKEY_EC || id == EVP_PKEY_X25519 ||
		    id == EVP_PKEY_X448)
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
		ms_err lerr = certdb_read(trust->store, "certs", fpr, &cert);

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
