/*
 * cert.c - one certificate: fingerprints, addresses, dates, names, PEM
 * text, the OpenSSL version floor, and the verdict record that trust.c
 * fills (see cert.h).
 */
#include "cert.h"
#include "codec.h"
#include "diag.h"

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>
#include <string.h>

/* DEC-10: CMS fixes for CVE-2026-34182 and CVE-2026-45447 */
#define OPENSSL_FLOOR 0x30000150L	/* 3.0.21 */

ms_err
crypto_init(void)
{
	unsigned long v = OpenSSL_version_num();

	if (v < (unsigned long)OPENSSL_FLOOR) {
		diag_error("OpenSSL %s is older than 3.0.21, which has known "
		    "CMS flaws; upgrade it", OpenSSL_version(OPENSSL_VERSION));
		return MS_CONFIG;
	}
	return MS_OK;
}

void
crypto_log_errors(const char *what)
{
	unsigned long e;
	char buf[256];
	int n = 0;

	while ((e = ERR_get_error()) != 0) {
		if (n++ < 4) {
			ERR_error_string_n(e, buf, sizeof(buf));
			diag_warn("%s: %s", what, buf);
		}
	}
}

const char *
cert_unsupported_agreement_key(const EVP_PKEY *key)
{
	switch (EVP_PKEY_get_base_id(key)) {
	case EVP_PKEY_X25519:
		return "X25519";
	case EVP_PKEY_X448:
		return "X448";
	default:
		return NULL;
	}
}

char *
cert_fingerprint(const X509 *cert)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int len = 0;

	if (!X509_digest(cert, EVP_sha256(), md, &len))
		diag_fatal(EXIT_TEMPFAIL, "cannot compute a fingerprint");
	return codec_hex(md, len);
}

bool
cert_fingerprint_ok(const char *fpr)
{
	size_t i;

	if (fpr == NULL || strlen(fpr) != 64)
		return false;
	for (i = 0; i < 64; i++)
		if (!((fpr[i] >= '0' && fpr[i] <= '9') ||
		    (fpr[i] >= 'a' && fpr[i] <= 'f')))
			return false;
	return true;
}

static void
free_addr(gpointer p)
{
	addr_clear(p);
	g_free(p);
}

/* add_address - parse one certificate address; malformed ones counted */
static void
add_address(GPtrArray *out, const unsigned char *data, int len,
    unsigned *malformed)
{
	ms_addr *addr = g_new0(ms_addr, 1);
	const char *why;

	if (len <= 0 || addr_parse_bound((const char *)data, (size_t)len,
	    addr, &why) != MS_OK) {
		(*malformed)++;
		g_free(addr);
		return;
	}
	for (guint i = 0; i < out->len; i++)
		if (addr_equal(g_ptr_array_index(out, i), addr)) {
			free_addr(addr);
			return;
		}
	g_ptr_array_add(out, addr);
}

GPtrArray *
cert_addresses(X509 *cert, unsigned *malformed)
{
	GPtrArray *out = g_ptr_array_new_with_free_func(free_addr);
	GENERAL_NAMES *names;
	bool san_email = false;

	*malformed = 0;
	names = X509_get_ext_d2i(cert, NID_subject_alt_name, NULL, NULL);
	if (names != NULL) {
		for (int i = 0; i < sk_GENERAL_NAME_num(names); i++) {
			GENERAL_NAME *gn = sk_GENERAL_NAME_value(names, i);

			if (gn->type != GEN_EMAIL)
				continue;
			san_email = true;
			add_address(out, ASN1_STRING_get0_data(gn->d.rfc822Name),
			    ASN1_STRING_length(gn->d.rfc822Name), malformed);
		}
		GENERAL_NAMES_free(names);
	}
	if (!san_email) {
		/* RFC 8550: receivers also recognise the PKCS#9
		 * emailAddress in the subject when there is no SAN email */
		const X509_NAME *subject = X509_get_subject_name(cert);
		int pos = -1;

		while ((pos = X509_NAME_get_index_by_NID(subject,
		    NID_pkcs9_emailAddress, pos)) >= 0) {
			ASN1_STRING *s = X509_NAME_ENTRY_get_data(
			    X509_NAME_get_entry(subject, pos));

			add_address(out, ASN1_STRING_get0_data(s),
			    ASN1_STRING_length(s), malformed);
		}
	}
	return out;
}

bool
cert_is_ca(X509 *cert)
{
	return (X509_get_extension_flags(cert) & EXFLAG_CA) != 0;
}

char *
cert_date(const ASN1_TIME *time)
{
	struct tm tm;

	if (time == NULL || !ASN1_TIME_to_tm(time, &tm))
		return g_strdup("?");
	return g_strdup_printf("%04d-%02d-%02d", tm.tm_year + 1900,
	    tm.tm_mon + 1, tm.tm_mday);
}

char *
cert_name_text(const X509_NAME *name)
{
	BIO *bio = BIO_new(BIO_s_mem());
	char *data, *masked, *out;
	long len;

	if (bio == NULL)
		diag_fatal(EXIT_TEMPFAIL, "out of memory");
	X509_NAME_print_ex(bio, name, 0, XN_FLAG_RFC2253 & ~ASN1_STRFLGS_ESC_MSB);
	len = BIO_get_mem_data(bio, &data);
	masked = diag_mask(data, len > 0 ? (size_t)len : 0);
	out = g_strdup(masked);
	free(masked);
	BIO_free(bio);
	return out;
}

char *
cert_to_pem(X509 *cert, size_t *len)
{
	BIO *bio = BIO_new(BIO_s_mem());
	char *data, *out;
	long n;

	if (bio == NULL || !PEM_write_bio_X509(bio, cert))
		diag_fatal(EXIT_TEMPFAIL, "cannot encode a certificate");
	n = BIO_get_mem_data(bio, &data);
	out = g_strndup(data, (gsize)n);
	if (len != NULL)
		*len = (size_t)n;
	BIO_free(bio);
	return out;
}

void
verdict_init(cert_verdict *verdict)
{
	verdict->usable = false;
	verdict->refused = verdict->noted = 0;
	verdict->reasons = g_ptr_array_new_with_free_func(g_free);
	verdict->reason_flags = g_array_new(FALSE, FALSE, sizeof(unsigned));
	verdict->notes = g_ptr_array_new_with_free_func(g_free);
}

void
verdict_clear(cert_verdict *verdict)
{
	if (verdict->reasons)
		g_ptr_array_free(verdict->reasons, TRUE);
	if (verdict->reason_flags)
		g_array_free(verdict->reason_flags, TRUE);
	if (verdict->notes)
		g_ptr_array_free(verdict->notes, TRUE);
	verdict->reasons = verdict->notes = NULL;
	verdict->reason_flags = NULL;
}

const char *
cert_flag_text(cert_flag flag)
{
	switch (flag) {
	case CERT_CA:
		return "CA certificate";
	case CERT_UNREADABLE_KEY:
		return "unreadable key";
	case CERT_WEAK_KEY:
		return "weak key";
	case CERT_WRONG_USAGE:
		return "wrong key usage";
	case CERT_WRONG_EXTENDED_USAGE:
		return "wrong extended key usage";
	case CERT_MALFORMED_ADDRESS:
		return "malformed address";
	case CERT_NO_ADDRESS:
		return "no address";
	case CERT_ADDRESS_MISMATCH:
		return "address mismatch";
	case CERT_EXPIRED:
		return "expired";
	case CERT_NOT_YET_VALID:
		return "not yet valid";
	case CERT_REVOKED:
		return "revoked";
	case CERT_ISSUER_EXPIRED:
		return "expired issuer";
	case CERT_ISSUER_NOT_YET_VALID:
		return "not yet valid issuer";
	case CERT_ISSUER_REVOKED:
		return "revoked issuer";
	case CERT_REVOCATION_UNKNOWN:
		return "revocation unknown";
	case CERT_CRL_IN_GRACE:
		return "CRL past its nextUpdate, within the grace";
	case CERT_UNTRUSTED:
		return "untrusted";
	case CERT_NO_PRIVATE_KEY:
		return "no private key in the store";
	case CERT_UNSUPPORTED_KEY:
		return "unsupported key type";
	}
	return "not usable";
}

void
cert_verdict_add(cert_verdict *verdict, cert_flag flag, bool blocking,
    const char *detail_fmt, ...)
{
	GPtrArray *list = blocking ? verdict->reasons : verdict->notes;
	GString *text = g_string_new(cert_flag_text(flag));
	unsigned bits = flag;
	va_list ap;

	if (detail_fmt != NULL) {
		va_start(ap, detail_fmt);
		g_string_append_vprintf(text, detail_fmt, ap);
		va_end(ap);
	}
	if (blocking) {
		verdict->refused |= flag;
		verdict->usable = false;
	} else
		verdict->noted |= flag;
	/* OpenSSL reports a chain error once per place it finds it */
	for (guint i = 0; i < list->len; i++)
		if (strcmp(g_ptr_array_index(list, i), text->str) == 0) {
			g_string_free(text, TRUE);
			return;
		}
	g_ptr_array_add(list, g_string_free(text, FALSE));
	if (blocking)
		g_array_append_val(verdict->reason_flags, bits);
}

unsigned
cert_verdict_reason_flag(const cert_verdict *verdict, guint i)
{
	return g_array_index(verdict->reason_flags, unsigned, i);
}

const char *
cert_verdict_first(const cert_verdict *verdict, unsigned mask)
{
	for (guint i = 0; i < verdict->reasons->len; i++)
		if (cert_verdict_reason_flag(verdict, i) & mask)
			return g_ptr_array_index(verdict->reasons, i);
	return NULL;
}
