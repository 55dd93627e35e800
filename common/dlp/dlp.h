/*
 * dlp.h - the DLP detection engine (dlp.md sections 2, 3 and 7): the 18
 * built-in detectors and custom keyword or regex detectors, run over text
 * the caller has already decoded to UTF-8.
 *
 * API: dlp_engine_new() makes the engine, whose built-in patterns are
 * compiled (PCRE2_UTF|PCRE2_UCP, JIT) once each, when a scan first needs
 * them; dlp_engine_set_tag_key() sets the HMAC key of the correlation tags;
 * dlp_engine_add_keywords()/dlp_engine_add_regex() add policy detectors.
 * dlp_scan_text() scans one part into a dlp_result, which collects the
 * findings of every part of a message; read them with dlp_result_finding()
 * and the dlp_finding_* accessors.  An engine is not thread-safe (one
 * match-data block and one JIT stack); use one per thread.
 *
 * Limits (MIME-L11): every match runs under a match limit, a depth limit,
 * a heap limit and a sized JIT stack.  Hitting one makes the detector
 * "undecided" for that part (dlp_result_undecided()), never "no match";
 * the caller treats that as limit_exceeded (dlp.md section 6).  A part
 * longer than DLP_TEXT_MAX is refused with MS_DATA.
 *
 * Nothing here stores or prints a matched value: a finding keeps counts,
 * an HMAC-SHA256 tag of the normalized value and a masked sample only.
 */
#ifndef MAILSEAL_DLP_H
#define MAILSEAL_DLP_H

#include <stdbool.h>
#include <stddef.h>

#include "dlp-valid.h"
#include "err.h"
#include "mslimits.h"

/* Confidence levels, stored as Purview's numbers (dlp.md section 2). */
typedef enum dlp_confidence {
	DLP_NONE = 0,
	DLP_LOW = 65,
	DLP_MEDIUM = 75,
	DLP_HIGH = 85
} dlp_confidence;

/* The built-in detectors, numbered as in dlp.md section 3. */
enum dlp_detector_id {
	DLP_PAN = 1,
	DLP_TRACK = 2,
	DLP_IBAN = 3,
	DLP_US_SSN = 4,
	DLP_US_ITIN = 5,
	DLP_ABA = 6,
	DLP_NL_BSN = 7,
	DLP_UK_NINO = 8,
	DLP_DE_TAXID = 9,
	DLP_FR_NIR = 10,
	DLP_ES_DNI = 11,
	DLP_BE_NRN = 12,
	DLP_BULK_EMAIL = 13,
	DLP_PRIVATE_KEY = 14,
	DLP_AWS = 15,
	DLP_GCP = 16,
	DLP_JWT = 17,
	DLP_VENDOR_TOKEN = 18,
	DLP_BUILTIN_COUNT = 18,
	DLP_CUSTOM_FIRST = 100	/* custom detectors: 100, 101, ... */
};

/* Finding flags: DLP_FLAG_* (dlp-valid.h, where the validators set them) */

#define DLP_WINDOW_DEFAULT 300u	/* proximity window, characters */
#define DLP_BULK_EMAIL_DEFAULT 50u
#define DLP_MATCH_LIMIT_DEFAULT 1000000u
#define DLP_DEPTH_LIMIT_DEFAULT 5000u
#define DLP_HEAP_LIMIT_KIB_DEFAULT 20480u

typedef struct dlp_engine dlp_engine;
typedef struct dlp_result dlp_result;
typedef struct dlp_finding dlp_finding;

/* dlp_engine_new - the built-in detectors, their patterns compiled on
 * first use; NULL with *err set (MS_INTERNAL) when a library fails */
dlp_engine *dlp_engine_new(ms_err *err);

/* dlp_engine_compile_all - compile every built-in pattern now; MS_INTERNAL
 * (logged) when one does not compile, which a scan needing it reports
 * the same way */
ms_err dlp_engine_compile_all(dlp_engine *engine);

/* dlp_engine_compiled - how many of the engine's patterns are compiled so
 * far (for tests and measurements) */
size_t dlp_engine_compiled(const dlp_engine *engine);

/* dlp_engine_free - free an engine (NULL is fine); the tag key is wiped */
void dlp_engine_free(dlp_engine *engine);

/* dlp_engine_set_tag_key - the HMAC-SHA256 key for correlation tags
 * (copied; until set, a random per-engine key) */
ms_err dlp_engine_set_tag_key(dlp_engine *engine, const unsigned char *key,
    size_t len);

/* dlp_engine_set_window - proximity window in characters before and after
 * a match; before + after at most DLP_WINDOW_MAX */
ms_err dlp_engine_set_window(dlp_engine *engine, unsigned before,
    unsigned after);

/* dlp_engine_set_limits - PCRE2 match limit, depth limit, heap limit in
 * KiB for every pattern of this engine (0 keeps the current value) */
ms_err dlp_engine_set_limits(dlp_engine *engine, unsigned match_limit,
    unsigned depth_limit, unsigned heap_kib);

/* dlp_engine_set_bulk_threshold - distinct addresses per message that make
 * the "bulk contact data" finding (default 50) */
void dlp_engine_set_bulk_threshold(dlp_engine *engine, unsigned threshold);

/* dlp_engine_add_keywords - a custom detector matching any of words
 * (whole words, case-insensitive) at the given confidence; returns its
 * id through *id.  *why (static text) says what was wrong. */
ms_err dlp_engine_add_keywords(dlp_engine *engine, const char *name,
    const char *const *words, size_t count, dlp_confidence confidence,
    int *id, const char **why);

/* dlp_engine_add_regex - a custom detector from a PCRE2 pattern (UTF,
 * UCP, JIT, the engine's limits); a pattern that does not compile gives
 * MS_USAGE and the PCRE2 message in why (why_len bytes) */
ms_err dlp_engine_add_regex(dlp_engine *engine, const char *name,
    const char *pattern, dlp_confidence confidence, int *id, char *why,
    size_t why_len);

/* dlp_detector_name - the name of a detector id ("payment_card", ...) or
 * NULL */
const char *dlp_detector_name(const dlp_engine *engine, int id);

/* dlp_builtin_pattern - the primary PCRE2 pattern of built-in pattern i
 * (0 <= i, NULL past the last) and its detector name: what the engine
 * compiles, for comparisons such as scripts/bench-dlp; the bulk e-mail
 * detector's address pattern comes last */
const char *dlp_builtin_pattern(size_t i, const char **name);

/* dlp_result_new - an empty result for one message */
dlp_result *dlp_result_new(void);

/* dlp_result_free - free a result (NULL is fine) */
void dlp_result_free(dlp_result *result);

/* dlp_scan_text - scan text[0..len) of the part part_path (a label such as
 * "2.1 invoice.docx", copied) and add its findings to result.  MS_DATA:
 * over DLP_TEXT_MAX; MS_INTERNAL: a library failure, or a pattern the
 * scan needed did not compile (the result is then incomplete).  A regex
 * limit is not an error: see dlp_result_undecided(). */
ms_err dlp_scan_text(dlp_engine *engine, const char *text, size_t len,
    const char *part_path, dlp_result *result);

/* dlp_scan_header - dlp_scan_text for header fields, whose addresses
 * (From, To, Cc) are not counted as bulk addresses */
ms_err dlp_scan_header(dlp_engine *engine, const char *text, size_t len,
    const char *part_path, dlp_result *result);

/* dlp_scan_pkcs12 - detector 14 for an attachment whose detected type is
 * PKCS#12 (dlp.md: "PKCS#12 attachments by content type"): one high
 * finding when d2i_PKCS12 parses data, none otherwise */
ms_err dlp_scan_pkcs12(dlp_engine *engine, const unsigned char *data,
    size_t len, const char *part_path, dlp_result *result);

/* dlp_result_undecided - true when some detector hit a regex limit in
 * some part, so "no finding" cannot be trusted */
bool dlp_result_undecided(const dlp_result *result);

/* dlp_result_undecided_detector - true when detector id was undecided */
bool dlp_result_undecided_detector(const dlp_result *result, int id);

/* dlp_result_undecided_text - "part: detector (reason); ..." or "" */
const char *dlp_result_undecided_text(const dlp_result *result);

/* dlp_result_count - number of findings (one per detector and part) */
size_t dlp_result_count(const dlp_result *result);

/* dlp_result_finding - finding i, 0 <= i < dlp_result_count() */
const dlp_finding *dlp_result_finding(const dlp_result *result, size_t i);

/* dlp_result_find - the finding of detector id in part_path (NULL: any
 * part, the first), or NULL */
const dlp_finding *dlp_result_find(const dlp_result *result, int id,
    const char *part_path);

/* dlp_result_total - instances of detector id at confidence >= min over
 * the whole message */
unsigned dlp_result_total(const dlp_result *result, int id,
    dlp_confidence min);

/* dlp_result_unique - distinct values of detector id at confidence >= min
 * over the whole message */
unsigned dlp_result_unique(const dlp_result *result, int id,
    dlp_confidence min);

/* dlp_finding_detector - the detector id */
int dlp_finding_detector(const dlp_finding *finding);

/* dlp_finding_name - the detector name */
const char *dlp_finding_name(const dlp_finding *finding);

/* dlp_finding_part - the part label given to dlp_scan_text */
const char *dlp_finding_part(const dlp_finding *finding);

/* dlp_finding_confidence - the highest confidence of its instances */
dlp_confidence dlp_finding_confidence(const dlp_finding *finding);

/* dlp_finding_total - instances at confidence >= min */
unsigned dlp_finding_total(const dlp_finding *finding, dlp_confidence min);

/* dlp_finding_unique - distinct normalized values at confidence >= min */
unsigned dlp_finding_unique(const dlp_finding *finding, dlp_confidence min);

/* dlp_finding_tag - HMAC-SHA256 of the normalized value of the sample
 * instance, the first 16 hex digits (dlp.md section 7) */
const char *dlp_finding_tag(const dlp_finding *finding);

/* dlp_finding_sample - the masked sample (never the value) */
const char *dlp_finding_sample(const dlp_finding *finding);

/* dlp_finding_flags - DLP_FLAG_* seen on any instance */
unsigned dlp_finding_flags(const dlp_finding *finding);

#endif
