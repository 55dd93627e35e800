/*
 * certstatus.c - a certificate's status at a glance (certstatus.h).
 */
#include "certstatus.h"
#include "certdb.h"
#include "expiry.h"

bool
cert_end(X509 *cert, time_t *end)
{
	struct tm tm;

	if (!ASN1_TIME_to_tm(X509_get0_notAfter(cert), &tm))
		return false;
	*end = timegm(&tm);
	return true;
}

char *
cert_addresses_text(const GPtrArray *addrs)
{
	GString *text = g_string_new(NULL);

	for (guint i = 0; i < addrs->len; i++)
		g_string_append_printf(text, "%s%s", i ? "," : "",
		    ((const ms_addr *)g_ptr_array_index(addrs, i))->text);
	if (text->len == 0)
		g_string_append_c(text, '-');
	return g_string_free(text, FALSE);
}

bool
cert_ends_within(X509 *cert, unsigned long window)
{
	time_t end;

	return !cert_end(cert, &end) || expiry_within(end, time(NULL),
	    window);
}

ms_err
cert_status(ms_trust *trust, X509 *cert, bool root, unsigned long window,
    const char **status)
{
	static const unsigned usage_flags = CERT_WRONG_USAGE |
	    CERT_WRONG_EXTENDED_USAGE | CERT_NO_PRIVATE_KEY;
	cert_verdict verdict;
	unsigned refused = 0;
	bool usable = false;
	ms_err err = MS_OK;

	if (root) {
		if (X509_cmp_current_time(X509_get0_notAfter(cert)) < 0)
			refused = CERT_EXPIRED;
		else if (X509_cmp_current_time(X509_get0_notBefore(cert)) > 0)
			refused = CERT_NOT_YET_VALID;
		else
			usable = true;
	} else {
		for (int p = 0; err == MS_OK && !usable && p < 2; p++) {
			verdict_init(&verdict);
			err = trust_check(trust, cert, p == 0 ?
			    CERT_PURPOSE_ENCRYPT : CERT_PURPOSE_SIGN, NULL,
			    &verdict);
			/* a partner's signing certificate serves to verify:
			 * no private key of ours is no fault of it */
			usable = err == MS_OK && (verdict.usable || (p == 1 &&
			    (verdict.refused & ~CERT_NO_PRIVATE_KEY) == 0));
			if (p == 0 || (verdict.refused & ~usage_flags) != 0)
				refused |= verdict.refused;
			verdict_clear(&verdict);
		}
	}
	if (err != MS_OK)
		return err;
	if (usable)
		*status = cert_ends_within(cert, window) ? "expiring" :
		    root ? "valid" : "usable";
	else if (refused & CERT_REVOKED_FLAGS)
		*status = "revoked";
	else if (refused & (CERT_EXPIRED | CERT_ISSUER_EXPIRED))
		*status = "expired";
	else if (refused & (CERT_NOT_YET_VALID | CERT_ISSUER_NOT_YET_VALID))
		*status = "not-yet-valid";
	else if (refused & CERT_UNTRUSTED)
		*status = "untrusted";
	else if (refused & CERT_REVOCATION_UNKNOWN)
		*status = "revocation-unknown";
	else
		*status = "unusable";
	return MS_OK;
}

ms_err
cert_candidates(ms_trust *trust, const ms_store *store, const ms_addr *addr,
    cert_purpose purpose, cert_candidate_fn each, void *data,
    unsigned *count)
{
	GPtrArray *fprs = NULL;
	ms_err err = certdb_lookup(store, addr, &fprs);

	*count = 0;
	for (guint i = 0; err == MS_OK && i < fprs->len; i++) {
		const char *fpr = g_ptr_array_index(fprs, i);
		cert_verdict verdict;
		X509 *cert = NULL;

		err = certdb_load(store, fpr, NULL, &cert);
		if (err == MS_NOTFOUND)
			err = certdb_missing("certs", fpr);
		if (err != MS_OK)
			break;
		verdict_init(&verdict);
		err = trust_check(trust, cert, purpose, addr, &verdict);
		if (err == MS_OK) {
			(*count)++;
			each(fpr, cert, &verdict, data);
		}
		verdict_clear(&verdict);
		X509_free(cert);
	}
	if (fprs != NULL)
		g_ptr_array_free(fprs, TRUE);
	return err;
}
