/*
 * dlp-valid.h - the validators of the built-in DLP detectors (dlp.md
 * section 3), internal to dlp.c.
 *
 * API: each dlp_valid_* function gets the whole normalized text and the
 * span [start, end) of a primary match, and fills a dlp_verdict: valid or
 * not, the normalized value (for the tag and for counting unique values),
 * a masked sample and detector-specific facts.  A validator may extend the
 * span (a key block runs to its END line).  The check-digit helpers are
 * exported for the unit test's generators to be compared against.
 * Limits: a key block is looked for at most DLP_BLOCK_MAX octets.
 */
#ifndef MAILSEAL_DLP_VALID_H
#define MAILSEAL_DLP_VALID_H

#include "mslimits.h"

#include <glib.h>
#include <stdbool.h>
#include <stddef.h>

/* Finding flags */
#define DLP_FLAG_ALG_NONE 0x1u	/* a JWT with "alg": "none" */
#define DLP_FLAG_ENCRYPTED 0x2u	/* a private key under a passphrase */

typedef struct dlp_verdict {
	bool valid;
	bool formatted;		/* written with separators */
	bool strong;		/* JWT exp in the future */
	bool needs_keyword;	/* only with a keyword (8-digit BSN) */
	unsigned flags;		/* DLP_FLAG_* */
	size_t end;		/* end of the span, maybe extended */
	GString *value;		/* normalized value: never shown */
	GString *sample;	/* masked sample */
} dlp_verdict;

typedef void dlp_validate_fn(const char *text, size_t len, size_t start,
    size_t end, dlp_verdict *verdict);

dlp_validate_fn dlp_valid_pan, dlp_valid_track, dlp_valid_iban,
    dlp_valid_ssn, dlp_valid_itin, dlp_valid_aba, dlp_valid_bsn,
    dlp_valid_nino, dlp_valid_de_taxid, dlp_valid_fr_nir, dlp_valid_es_dni,
    dlp_valid_be_nrn, dlp_valid_private_key, dlp_valid_aws, dlp_valid_gcp,
    dlp_valid_jwt, dlp_valid_token;

/* dlp_valid_pkcs12 - data is a DER PKCS#12 structure (no password
 * needed to parse it) */
void dlp_valid_pkcs12(const unsigned char *data, size_t len,
    dlp_verdict *verdict);

/* dlp_luhn_ok - the Luhn check over n ASCII digits */
bool dlp_luhn_ok(const char *digits, size_t n);

/* dlp_pan_ok - Luhn, the IIN/length table, not a published test number,
 * not one digit repeated */
bool dlp_pan_ok(const char *digits, size_t n);

/* dlp_iban_ok - mod 97, country length and BBAN classes of a compact
 * upper-case IBAN */
bool dlp_iban_ok(const char *iban, size_t n);

/* dlp_iban_length - the registry length for a country code, 0 if none */
unsigned dlp_iban_length(const char *country);

#endif
