/*
 * dlp.c - the DLP detection engine (see dlp.h; dlp.md sections 2, 3, 7).
 *
 * A scan normalizes the text (below), then runs every detector whose
 * cheap prefilter passes: a primary PCRE2 pattern, the validator of
 * dlp-valid.c, exclusions, keywords before and after the match within the
 * proximity window, negative hotwords, and the detector's confidence
 * ladder.  Instances are counted per detector and part; values are
 * deduplicated on a 64-bit SipHash under a key drawn for the engine
 * (crypto_shorthash: a collision, about n^2 / 2^65 for n values, would
 * count two values as one), so no plaintext value is kept; the HMAC tag
 * is computed only for the value a finding shows.
 *
 * Normalization (dlp.md section 2) done here, on text that is not all
 * ASCII: invalid UTF-8 (and NUL) becomes U+FFFD; GLib's NFKC folds
 * compatibility forms (full-width letters and digits, ligatures, the
 * no-break and other fixed-width spaces); every format character
 * (Unicode category Cf: zero-width spaces and joiners, the soft hyphen,
 * bidirectional marks, invisible operators U+2061..U+2064, U+180E, the
 * tag characters U+E0000..U+E007F) is removed; every Unicode decimal
 * digit (Arabic-Indic, ...) becomes its ASCII digit through
 * g_unichar_digit_value(); every space separator becomes a space; Unicode
 * dashes become '-'.  Offsets are not mapped back to the original text,
 * since a finding reports counts and masked samples, not positions.
 */
#include "dlp.h"
#include "dlp-valid.h"
#include "diag.h"

#define PCRE2_CODE_UNIT_WIDTH 8
#include <glib.h>
#include <pcre2.h>
#include <sodium.h>
#include <stdint.h>
#include <string.h>

enum prefilter {
	PRE_NONE,	/* always run */
	PRE_DIGITS,	/* needs a run of min_digits digits */
	PRE_LITERAL	/* needs one of the literals */
};

typedef struct detector {
	int id;
	char *name;
	/* a built-in detector's patterns are compiled on first use (see
	 * dlp_engine_new); a custom detector's primary when it is added */
	const struct builtin *builtin;	/* NULL: custom */
	pcre2_code *primary;
	bool context_ready;		/* keywords, pairs and evidence made */
	pcre2_code *keywords;		/* corroboration, or NULL */
	guint64 *keyword_pairs;		/* see word_pairs(), or NULL */
	pcre2_code *evidence;		/* see struct builtin, or NULL */
	dlp_validate_fn *validate;	/* NULL: custom, no validator */
	enum prefilter prefilter;
	unsigned min_digits;
	guint64 runs;			/* see struct builtin */
	const char *literals[8];
	guint32 literal_bits;		/* in the engine's literal table */
	bool numeric;			/* excluded inside e-mail or URL */
	dlp_confidence custom_confidence;
} detector;

struct dlp_engine {
	GPtrArray *detectors;		/* detector * */
	pcre2_code *negative;		/* negative hotwords, on first use */
	pcre2_code *email;		/* bulk e-mail addresses, on first use */
	pcre2_match_context *mctx;
	pcre2_jit_stack *jit_stack;
	pcre2_match_data *md;
	unsigned char *tag_key;
	size_t tag_key_len;
	/* the HMAC state after the key, so a tag costs the value's blocks
	 * and the outer hash, not the key's two blocks again */
	crypto_auth_hmacsha256_state tag_state;
	/* the key of the values' SipHash, for counting unique values */
	unsigned char value_key[crypto_shorthash_KEYBYTES];

	unsigned before, after;
	unsigned bulk_threshold;
	int next_custom;
	/* the literals of every PRE_LITERAL detector, found in one pass */
	const char *literals[32];
	size_t literal_len[32];
	size_t literal_count;
	guint32 first_byte[256];	/* literals that start with a byte */
	guint32 single_byte;		/* the literals one octet long */
	/* the first two octets of the longer literals, one bit per pair */
	guint64 literal_pairs[65536 / 64];
	guint64 *negative_pairs;	/* see word_pairs(), or NULL */

	bool ascii;			/* the text being scanned is ASCII */
	bool header;			/* ... is header fields */
};

struct dlp_finding {
	int id;
	const char *name;		/* the engine's */
	char *part;
	unsigned total[3];		/* instances at low, medium, high */
	GHashTable *values;		/* value id (8 bytes) -> max confidence */
	dlp_confidence confidence;
	char tag[17];
	char *sample;
	unsigned flags;
	unsigned addresses;		/* bulk e-mail: distinct addresses */
};

struct dlp_result {
	GPtrArray *findings;		/* dlp_finding * */
	GString *undecided;
	GArray *undecided_ids;		/* int */
	GHashTable *addresses;		/* tag -> 1, message-wide */
	GHashTable *domains;		/* domain -> 1 */
	unsigned address_total;
	unsigned char list_tag[crypto_auth_hmacsha256_BYTES];
	dlp_finding *bulk;
};

/* ---- the built-in detectors ---- */

/* digit boundaries: not inside a longer number, nor in a grouped one */
#define NB "(?<![0-9])(?<![0-9][ .-])"
#define NA "(?![0-9])(?![ .-][0-9])"

/* the digit counts of struct builtin's runs: n, or from to to */
#define RUN(n) ((guint64)1 << (n))
#define RUNS(from, to) ((~(guint64)0 >> (63 - (to))) & (~(guint64)0 << (from)))

#define KW_HEAD "(?i)(?<![\\p{L}\\p{N}])(?:"
#define KW_TAIL ")(?![\\p{L}\\p{N}])"
#define KW(words) KW_HEAD words KW_TAIL

static const struct builtin {
	int id;
	const char *name;
	const char *pattern;
	const char *keywords;
	dlp_validate_fn *validate;
	enum prefilter prefilter;
	unsigned min_digits;
	const char *literals[8];
	bool numeric;
	/* for PRE_DIGITS, when not 0: bit n is set when a match can hold
	 * a whole run of n digits joined by single spaces, dots or dashes
	 * (bit 63: 63 or more), and every match holds such a run.  A
	 * pattern bounded by NB and NA (or by letters and signs such as
	 * the track's "%B" and '^') matches whole runs only, so the set is
	 * the digit counts the pattern allows; a segment without such a
	 * run is skipped.  Counts below SEGMENT_MIN_DIGITS are not seen. */
	guint64 runs;
	/* corroboration besides the words, searched in the same windows:
	 * kept apart so that keywords stays a plain KW() list, which
	 * word_pairs() can read */
	const char *evidence;
} builtins[] = {
	{ DLP_PAN, "payment_card",
	  NB "[0-9](?:[ -]?[0-9]){11,18}" NA,
	  KW("cards?|credit|debit|visa|mastercard|amex|american express|"
	     "discover|jcb|diners|maestro|unionpay|mir|cvv2?|cvc2?|cid|"
	     "expiry|expiration|exp|valid thru|cardholder|kreditkarte|karte|"
	     "carte|bancaire|tarjeta|creditcard|pan"),
	  dlp_valid_pan, PRE_DIGITS, 12, { NULL }, true, RUNS(12, 19),
	  /* an MM/YY expiry date */
	  "(?<![0-9/])(?:0[1-9]|1[0-2]) ?/ ?(?:20)?[0-9]{2}(?![0-9/])" },
	{ DLP_TRACK, "card_track_data",
	  "%B[0-9]{13,19}\\^[^^\\r\\n]{2,26}\\^[0-9]{4}|"
	  "(?<![0-9]);[0-9]{13,19}=[0-9]{4}",
	  NULL, dlp_valid_track, PRE_DIGITS, 13, { NULL }, false,
	  RUNS(13, 19), NULL },
	{ DLP_IBAN, "iban",
	  "(?<![A-Za-z0-9])[A-Z]{2}[0-9]{2}(?:[A-Z0-9]{11,30}|"
	  "(?: [A-Z0-9]{4}){2,7}(?: [A-Z0-9]{1,3})?)(?![A-Za-z0-9])",
	  KW("iban|account|acct|konto|kontonummer|bankverbindung|rekening|"
	     "rekeningnummer|compte|cuenta|conto|bic|swift|bank"),
	  dlp_valid_iban, PRE_DIGITS, 2, { NULL }, true, 0, NULL },
	{ DLP_US_SSN, "us_ssn",
	  NB "(?:[0-9]{3}-[0-9]{2}-[0-9]{4}|[0-9]{3} [0-9]{2} [0-9]{4}|"
	  "[0-9]{9})" NA,
	  KW("ssn|ssns|ss#|ssn#|social security|social security number|"
	     "social security no|soc sec"),
	  dlp_valid_ssn, PRE_DIGITS, 9, { NULL }, true, RUN(9), NULL },
	{ DLP_US_ITIN, "us_itin",
	  NB "9[0-9]{2}(?:-[0-9]{2}-|[0-9]{2}| [0-9]{2} )[0-9]{4}" NA,
	  KW("itin|itins|taxpayer identification|taxpayer id|tax id|"
	     "individual taxpayer"),
	  dlp_valid_itin, PRE_DIGITS, 9, { NULL }, true, RUN(9), NULL },
	{ DLP_ABA, "aba_routing",
	  NB "(?:[0-9]{9}|[0-9]{4}-[0-9]{4}-[0-9])" NA,
	  KW("aba|aba number|routing|routing number|routing no|rtn|"
	     "transit number|bank routing"),
	  dlp_valid_aba, PRE_DIGITS, 9, { NULL }, true, RUN(9), NULL },
	{ DLP_NL_BSN, "nl_bsn",
	  NB "(?:[0-9]{8,9}|[0-9]{4}\\.[0-9]{2}\\.[0-9]{3}|"
	  "[0-9]{3} [0-9]{3} [0-9]{3})" NA,
	  KW("bsn|burgerservicenummer|burgerservice nummer|sofinummer|"
	     "sofi-nummer|sofi nummer"),
	  dlp_valid_bsn, PRE_DIGITS, 8, { NULL }, true, RUNS(8, 9), NULL },
	{ DLP_UK_NINO, "uk_nino",
	  "(?<![A-Za-z0-9])(?!BG|GB|NK|KN|NT|TN|ZZ)[A-CEGHJ-PR-TW-Z]"
	  "[A-CEGHJ-NPR-TW-Z](?: ?[0-9]{2}){3} ?[A-D](?![A-Za-z0-9])",
	  KW("national insurance|national insurance number|nino|ni number|"
	     "ni no|insurance number|nat ins"),
	  dlp_valid_nino, PRE_DIGITS, 6, { NULL }, true, RUN(6), NULL },
	{ DLP_DE_TAXID, "de_tax_id",
	  NB "[1-9][0-9](?: ?[0-9]{3}){3}" NA,
	  KW("steuer-id|steuerid|steuer-identifikationsnummer|"
	     "steueridentifikationsnummer|identifikationsnummer|idnr|"
	     "steuerliche identifikationsnummer|tin|tax id"),
	  dlp_valid_de_taxid, PRE_DIGITS, 11, { NULL }, true, RUN(11), NULL },
	{ DLP_FR_NIR, "fr_nir",
	  NB "[1-478] ?[0-9]{2} ?[0-9]{2} ?(?:[0-9]{2}|2[ABab]) ?[0-9]{3} ?"
	  "[0-9]{3} ?[0-9]{2}" NA,
	  KW("nir|insee|num[ée]ro de s[ée]curit[ée] sociale|"
	     "s[ée]curit[ée] sociale|n° ss|carte vitale|num[ée]ro insee"),
	  dlp_valid_fr_nir, PRE_DIGITS, 6, { NULL }, true,
	  RUN(15) | RUN(6), NULL },	/* Corsica: "1 23 45 2" before the A or B */
	{ DLP_ES_DNI, "es_dni_nie",
	  "(?<![A-Za-z0-9])(?:[0-9]{8}|[XYZ]-?[0-9]{7}) ?-?[A-Z]"
	  "(?![A-Za-z0-9])",
	  KW("dni|nie|nif|documento nacional de identidad|"
	     "n[úu]mero de identidad|identidad|extranjero|"
	     "n[úu]mero de identificaci[óo]n"),
	  dlp_valid_es_dni, PRE_DIGITS, 7, { NULL }, true, 0, NULL },
	{ DLP_BE_NRN, "be_national_number",
	  NB "[0-9]{2}\\.?[0-9]{2}\\.?[0-9]{2}[-.]?[0-9]{3}\\.?[0-9]{2}" NA,
	  KW("rijksregisternummer|rijksregister|num[ée]ro national|"
	     "registre national|national number|nrn|insz|niss|"
	     "identificatienummer"),
	  dlp_valid_be_nrn, PRE_DIGITS, 11, { NULL }, true, RUN(11), NULL },
	{ DLP_BULK_EMAIL, "bulk_email_addresses", NULL, NULL, NULL,
	  PRE_LITERAL, 0, { "@", NULL }, false, 0, NULL },
	{ DLP_PRIVATE_KEY, "private_key",
	  "-----BEGIN (?:(?:RSA|EC|DSA|OPENSSH|ENCRYPTED) )?PRIVATE KEY-----|"
	  "-----BEGIN PGP PRIVATE KEY BLOCK-----|"
	  "PuTTY-User-Key-File-[23]: ",
	  NULL, dlp_valid_private_key, PRE_LITERAL, 0,
	  { "-----BEGIN ", "PuTTY-User-Key-File-", NULL }, false, 0, NULL },
	{ DLP_AWS, "aws_credentials",
	  "(?<![A-Z0-9])(?:A3T[A-Z0-9]|AKIA|ASIA|ABIA|ACCA)[A-Z2-7]{16}"
	  "(?![A-Z0-9])|"
	  "(?i:aws_secret_access_key)[\"']?\\s{0,4}[:=]\\s{0,4}[\"']?"
	  "[A-Za-z0-9/+=]{40}(?![A-Za-z0-9/+=])",
	  "(?i:aws_secret_access_key)|(?<![A-Z0-9])"
	  "(?:A3T[A-Z0-9]|AKIA|ASIA|ABIA|ACCA)[A-Z2-7]{16}(?![A-Z0-9])",
	  dlp_valid_aws, PRE_LITERAL, 0,
	  { "A3T", "AKIA", "ASIA", "ABIA", "ACCA", "_access_key",
	    "_ACCESS_KEY", NULL }, false, 0, NULL },
	{ DLP_GCP, "gcp_credentials",
	  "(?<![0-9A-Za-z_-])AIza[0-9A-Za-z_-]{35}(?![0-9A-Za-z_-])|"
	  "\"type\"\\s{0,8}:\\s{0,8}\"service_account\"",
	  NULL, dlp_valid_gcp, PRE_LITERAL, 0,
	  { "AIza", "service_account", NULL }, false, 0, NULL },
	{ DLP_JWT, "jwt",
	  "(?<![A-Za-z0-9_-])eyJ[A-Za-z0-9_-]{2,4096}\\.eyJ"
	  "[A-Za-z0-9_-]{2,16384}\\.[A-Za-z0-9_-]{0,4096}(?![A-Za-z0-9_.-])",
	  NULL, dlp_valid_jwt, PRE_LITERAL, 0, { "eyJ", NULL }, false, 0,
	  NULL },
	{ DLP_VENDOR_TOKEN, "vendor_token",
	  "(?<![A-Za-z0-9_-])(?:gh[pousr]_[A-Za-z0-9]{36}|"
	  "github_pat_[A-Za-z0-9_]{82}|"
	  "xox[baprs]-(?:[0-9]{6,14}-){1,3}[A-Za-z0-9]{16,64}|"
	  "sk_live_[0-9A-Za-z]{24,99}|glpat-[0-9A-Za-z_-]{20})"
	  "(?![A-Za-z0-9_-])",
	  NULL, dlp_valid_token, PRE_LITERAL, 0,
	  { "_", "xox", "glpat-", NULL }, false, 0, NULL },
};

#define NEGATIVE_WORDS KW("example|examples|test|testing|sample|dummy|" \
	"fake|specimen|voorbeeld|beispiel|muster|exemple|ejemplo")

/* octets an address pattern match can reach on either side of its '@'
 * (local part 64 + 8 * 65, domain 8 * 64 + 63), and one more for the
 * lookahead after it */
#define ADDRESS_REACH 600u

/* RFC 5322 dot-atom addr-spec, the common form */
#define EMAIL_PATTERN "(?<![A-Za-z0-9.!#$%&'*+/=?^_`{|}~-])" \
	"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]{1,64}" \
	"(?:\\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]{1,64}){0,8}@" \
	"((?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\\.){1,8}" \
	"[A-Za-z]{2,63})(?![A-Za-z0-9-])"

static pcre2_code *
compile(const char *pattern, uint32_t options, char *why, size_t why_len)
{
	pcre2_code *code;
	int code_err;
	PCRE2_SIZE offset;

	code = pcre2_compile((PCRE2_SPTR)pattern, PCRE2_ZERO_TERMINATED,
	    PCRE2_UTF | PCRE2_UCP | options, &code_err, &offset, NULL);
	if (code == NULL) {
		if (why != NULL && why_len > 0) {
			char msg[160];

			pcre2_get_error_message(code_err, (PCRE2_UCHAR *)msg,
			    sizeof(msg));
			snprintf(why, why_len, "%s at offset %zu", msg,
			    (size_t)offset);
		}
		return NULL;
	}
	/* without JIT the interpreter runs under the same limits */
	(void)pcre2_jit_compile(code, PCRE2_JIT_COMPLETE);
	return code;
}

/* add_literal_start - the first-octet and first-pair tables */
static void
add_literal_start(dlp_engine *e, const char *literal, size_t slot)
{
	unsigned pair;

	e->first_byte[(unsigned char)literal[0]] |= 1u << slot;
	if (literal[1] == '\0') {
		e->single_byte |= 1u << slot;
		return;
	}
	pair = (unsigned)(unsigned char)literal[0] << 8 |
	    (unsigned char)literal[1];
	e->literal_pairs[pair / 64] |= (guint64)1 << (pair % 64);
}

/* plain_octet - an octet that stands for itself in a word list */
static bool
plain_octet(char c)
{
	return g_ascii_isalnum(c) || c == ' ' || c == '#' || c == '-';
}

/* quantifier - c makes what stands before it optional or repeated */
static bool
quantifier(char c)
{
	return c != '\0' && strchr("?*+{", c) != NULL;
}

/* add_pair - both octets in either ASCII case */
static void
add_pair(guint64 *pairs, char first, char second)
{
	for (int k = 0; k < 4; k++) {
		unsigned a = (unsigned char)(k & 1 ? g_ascii_toupper(first) :
		    g_ascii_tolower(first));
		unsigned b = (unsigned char)(k & 2 ? g_ascii_toupper(second) :
		    g_ascii_tolower(second));
		unsigned pair = a << 8 | b;

		pairs[pair / 64] |= (guint64)1 << (pair % 64);
	}
}

/* latin1_char - p holds a character of U+0080..U+00FF (two octets): no
 * caseless match turns one into ASCII */
static bool
latin1_char(const char *p)
{
	return ((unsigned char)p[0] == 0xC2 || (unsigned char)p[0] == 0xC3) &&
	    ((unsigned char)p[1] & 0xC0) == 0x80;
}

/*
 * word_pairs - for a KW() pattern, a table of the octet pairs that can
 * start one of its words in ASCII text: the first two characters of each
 * word in either case (a class such as [ée] gives each ASCII member).
 * A word that starts with a Latin-1 character after the first cannot
 * match ASCII text and adds nothing.  NULL when the pattern is not KW()
 * over a plain list, or a word starts in a way this does not read: that
 * detector's windows are then searched in full.
 */
static guint64 *
word_pairs(const char *pattern)
{
	size_t head = strlen(KW_HEAD), tail = strlen(KW_TAIL);
	size_t len = strlen(pattern);
	guint64 *pairs;
	char *list, **words;
	bool ok = true;

	if (len <= head + tail || strncmp(pattern, KW_HEAD, head) != 0 ||
	    strcmp(pattern + len - tail, KW_TAIL) != 0)
		return NULL;
	list = g_strndup(pattern + head, len - head - tail);
	if (strpbrk(list, "()\\") != NULL) {
		g_free(list);
		return NULL;
	}
	pairs = g_new0(guint64, 65536 / 64);
	words = g_strsplit(list, "|", -1);
	for (char **w = words; ok && *w != NULL; w++) {
		const char *p = *w;

		if (!g_ascii_isalnum(p[0])) {
			ok = false;
		} else if (plain_octet(p[1])) {
			ok = !quantifier(p[2]);
			add_pair(pairs, p[0], p[1]);
		} else if (p[1] == '[') {
			const char *q = p + 2;

			for (; ok && *q != ']' && *q != '\0'; q++) {
				if (latin1_char(q))
					q++;
				else if (g_ascii_isalnum(*q))
					add_pair(pairs, p[0], *q);
				else
					ok = false;
			}
			ok = ok && *q == ']' && !quantifier(q[1]);
		} else {
			ok = latin1_char(p + 1) && !quantifier(p[3]);
		}
	}
	g_strfreev(words);
	g_free(list);
	if (!ok) {
		g_free(pairs);
		return NULL;
	}
	return pairs;
}

static void
detector_free(gpointer p)
{
	detector *d = p;

	pcre2_code_free(d->primary);
	pcre2_code_free(d->keywords);
	g_free(d->keyword_pairs);
	pcre2_code_free(d->evidence);
	g_free(d->name);
	g_free(d);
}

/* lazy - *code compiled from pattern unless it is already (or there is
 * no pattern); false, logged, when it does not compile */
static bool
lazy(pcre2_code **code, const char *pattern, const char *name)
{
	char why[200];

	if (*code != NULL || pattern == NULL)
		return true;
	*code = compile(pattern, 0, why, sizeof(why));
	if (*code == NULL)
		diag_error("dlp: detector %s: %s", name, why);
	return *code != NULL;
}

/* primary_ready - the detector's primary pattern, compiled */
static bool
primary_ready(detector *d)
{
	return d->builtin == NULL ||
	    lazy(&d->primary, d->builtin->pattern, d->name);
}

/* context_ready - the patterns that corroborate a validated match (its
 * keywords and their pairs, its evidence), compiled: most matches never
 * get that far */
static bool
context_ready(detector *d)
{
	const struct builtin *b = d->builtin;

	if (d->context_ready || b == NULL)
		return true;
	if (!lazy(&d->keywords, b->keywords, d->name) ||
	    !lazy(&d->evidence, b->evidence, d->name))
		return false;
	if (b->keywords != NULL)
		d->keyword_pairs = word_pairs(b->keywords);
	d->context_ready = true;
	return true;
}

/* negative_ready - the negative hotwords and their pairs, compiled */
static bool
negative_ready(dlp_engine *e)
{
	if (e->negative != NULL)
		return true;
	if (!lazy(&e->negative, NEGATIVE_WORDS, "negative hotwords"))
		return false;
	e->negative_pairs = word_pairs(NEGATIVE_WORDS);
	return true;
}

/*
 * dlp_engine_new - the built-in detectors, their patterns not compiled
 * yet: a pattern is compiled (and JIT-compiled) when a scan first needs
 * it, which is when the detector's prefilter passes, or its match
 * validates, or an address is to be counted.  A message reaches few of
 * them, and compiling all (some thirty patterns) would cost more than
 * most scans.  A pattern that does not compile fails the scan that needs
 * it (MS_INTERNAL); dlp_engine_compile_all() compiles them all now.
 */
dlp_engine *
dlp_engine_new(ms_err *err)
{
	dlp_engine *e = g_new0(dlp_engine, 1);

	*err = MS_INTERNAL;
	if (sodium_init() < 0) {
		diag_error("dlp: libsodium does not initialise");
		g_free(e);
		return NULL;
	}
	e->detectors = g_ptr_array_new_with_free_func(detector_free);
	e->before = e->after = DLP_WINDOW_DEFAULT;
	e->bulk_threshold = DLP_BULK_EMAIL_DEFAULT;
	e->next_custom = DLP_CUSTOM_FIRST;
	e->tag_key_len = crypto_auth_hmacsha256_KEYBYTES;
	e->tag_key = g_malloc(e->tag_key_len);
	randombytes_buf(e->tag_key, e->tag_key_len);
	crypto_auth_hmacsha256_init(&e->tag_state, e->tag_key,
	    e->tag_key_len);
	crypto_shorthash_keygen(e->value_key);
	e->mctx = pcre2_match_context_create(NULL);
	e->jit_stack = pcre2_jit_stack_create(32 * 1024, DLP_JIT_STACK_MAX,
	    NULL);
	e->md = pcre2_match_data_create(32, NULL);
	if (e->mctx == NULL || e->jit_stack == NULL || e->md == NULL)
		goto fail;
	pcre2_jit_stack_assign(e->mctx, NULL, e->jit_stack);
	if (dlp_engine_set_limits(e, DLP_MATCH_LIMIT_DEFAULT,
	    DLP_DEPTH_LIMIT_DEFAULT, DLP_HEAP_LIMIT_KIB_DEFAULT) != MS_OK)
		goto fail;
	for (size_t i = 0; i < G_N_ELEMENTS(builtins); i++) {
		const struct builtin *b = &builtins[i];
		detector *d = g_new0(detector, 1);

		g_ptr_array_add(e->detectors, d);
		d->id = b->id;
		d->name = g_strdup(b->name);
		d->builtin = b;
		d->validate = b->validate;
		d->prefilter = b->prefilter;
		d->min_digits = b->min_digits;
		d->runs = b->runs;
		memcpy(d->literals, b->literals, sizeof(d->literals));
		for (size_t k = 0; k < G_N_ELEMENTS(d->literals) &&
		    d->literals[k] != NULL; k++) {
			size_t slot;

			for (slot = 0; slot < e->literal_count; slot++)
				if (strcmp(e->literals[slot],
				    d->literals[k]) == 0)
					break;
			if (slot == e->literal_count) {
				g_assert(slot < G_N_ELEMENTS(e->literals));
				e->literal_len[e->literal_count] =
				    strlen(d->literals[k]);
				e->literals[e->literal_count++] = d->literals[k];
				add_literal_start(e, d->literals[k], slot);
			}
			d->literal_bits |= 1u << slot;
		}
		d->numeric = b->numeric;
	}
	*err = MS_OK;
	return e;
fail:
	dlp_engine_free(e);
	return NULL;
}

/* dlp_engine_compile_all - every built-in pattern, compiled now */
ms_err
dlp_engine_compile_all(dlp_engine *e)
{
	for (guint i = 0; i < e->detectors->len; i++) {
		detector *d = g_ptr_array_index(e->detectors, i);

		if (!primary_ready(d) || !context_ready(d))
			return MS_INTERNAL;
	}
	if (!negative_ready(e) ||
	    !lazy(&e->email, EMAIL_PATTERN, "bulk_email_addresses"))
		return MS_INTERNAL;
	return MS_OK;
}

/* dlp_engine_compiled - the patterns compiled so far */
size_t
dlp_engine_compiled(const dlp_engine *e)
{
	size_t n = (e->negative != NULL) + (e->email != NULL);

	for (guint i = 0; i < e->detectors->len; i++) {
		const detector *d = g_ptr_array_index(e->detectors, i);

		n += (d->primary != NULL) + (d->keywords != NULL) +
		    (d->evidence != NULL);
	}
	return n;
}

/* dlp_builtin_pattern - the built-in patterns, for comparisons */
const char *
dlp_builtin_pattern(size_t i, const char **name)
{
	for (size_t k = 0; k < G_N_ELEMENTS(builtins); k++) {
		if (builtins[k].pattern == NULL)
			continue;
		if (i-- == 0) {
			*name = builtins[k].name;
			return builtins[k].pattern;
		}
	}
	if (i == 0) {
		*name = "bulk_email_addresses";
		return EMAIL_PATTERN;
	}
	return NULL;
}

/* dlp_engine_free - free an engine */
void
dlp_engine_free(dlp_engine *e)
{
	if (e == NULL)
		return;
	if (e->detectors != NULL)
		g_ptr_array_free(e->detectors, TRUE);
	pcre2_code_free(e->negative);
	g_free(e->negative_pairs);
	pcre2_code_free(e->email);
	pcre2_match_data_free(e->md);
	pcre2_match_context_free(e->mctx);
	pcre2_jit_stack_free(e->jit_stack);
	if (e->tag_key != NULL)
		sodium_memzero(e->tag_key, e->tag_key_len);
	sodium_memzero(&e->tag_state, sizeof(e->tag_state));
	sodium_memzero(e->value_key, sizeof(e->value_key));
	g_free(e->tag_key);
	g_free(e);
}

/* dlp_engine_set_tag_key - the HMAC key of the correlation tags */
ms_err
dlp_engine_set_tag_key(dlp_engine *e, const unsigned char *key, size_t len)
{
	if (key == NULL || len == 0 || len > 1024)
		return MS_USAGE;
	sodium_memzero(e->tag_key, e->tag_key_len);
	g_free(e->tag_key);
	e->tag_key = g_memdup2(key, len);
	e->tag_key_len = len;
	crypto_auth_hmacsha256_init(&e->tag_state, e->tag_key,
	    e->tag_key_len);
	return MS_OK;
}

/* dlp_engine_set_window - proximity window before and after a match */
ms_err
dlp_engine_set_window(dlp_engine *e, unsigned before, unsigned after)
{
	if (before > DLP_WINDOW_MAX || after > DLP_WINDOW_MAX ||
	    before + after > DLP_WINDOW_MAX)
		return MS_USAGE;
	e->before = before;
	e->after = after;
	return MS_OK;
}

/* dlp_engine_set_limits - PCRE2 limits of every pattern */
ms_err
dlp_engine_set_limits(dlp_engine *e, unsigned match_limit,
    unsigned depth_limit, unsigned heap_kib)
{
	if ((match_limit != 0 &&
	    pcre2_set_match_limit(e->mctx, match_limit) != 0) ||
	    (depth_limit != 0 &&
	    pcre2_set_depth_limit(e->mctx, depth_limit) != 0) ||
	    (heap_kib != 0 && pcre2_set_heap_limit(e->mctx, heap_kib) != 0))
		return MS_USAGE;
	return MS_OK;
}

/* dlp_engine_set_bulk_threshold - distinct addresses for a finding */
void
dlp_engine_set_bulk_threshold(dlp_engine *e, unsigned threshold)
{
	e->bulk_threshold = threshold > 0 ? threshold : 1;
}

static bool
valid_confidence(dlp_confidence c)
{
	return c == DLP_LOW || c == DLP_MEDIUM || c == DLP_HIGH;
}

static detector *
add_custom(dlp_engine *e, const char *name, pcre2_code *code,
    dlp_confidence confidence, int *id)
{
	detector *d = g_new0(detector, 1);

	d->id = e->next_custom++;
	d->name = g_strdup(name);
	d->primary = code;
	d->prefilter = PRE_NONE;
	d->custom_confidence = confidence;
	g_ptr_array_add(e->detectors, d);
	if (id != NULL)
		*id = d->id;
	return d;
}

/* dlp_engine_add_keywords - a custom keyword detector */
ms_err
dlp_engine_add_keywords(dlp_engine *e, const char *name,
    const char *const *words, size_t count, dlp_confidence confidence,
    int *id, const char **why)
{
	GString *pattern;
	pcre2_code *code;

	*why = NULL;
	if (name == NULL || *name == '\0' || count == 0 ||
	    !valid_confidence(confidence)) {
		*why = "a name, at least one word and a confidence level";
		return MS_USAGE;
	}
	pattern = g_string_new("(?i)(?<![\\p{L}\\p{N}])(?:");
	for (size_t i = 0; i < count; i++) {
		if (words[i] == NULL || *words[i] == '\0' ||
		    !g_utf8_validate(words[i], -1, NULL)) {
			g_string_free(pattern, TRUE);
			*why = "an empty or invalid UTF-8 word";
			return MS_USAGE;
		}
		if (i > 0)
			g_string_append_c(pattern, '|');
		/* \Q...\E quotes the word; a \E inside is split off */
		g_string_append(pattern, "\\Q");
		for (const char *p = words[i]; *p; p++) {
			if (p[0] == '\\' && p[1] == 'E') {
				g_string_append(pattern, "\\E\\\\\\QE");
				p++;
			} else {
				g_string_append_c(pattern, *p);
			}
		}
		g_string_append(pattern, "\\E");
	}
	g_string_append(pattern, ")(?![\\p{L}\\p{N}])");
	code = compile(pattern->str, 0, NULL, 0);
	g_string_free(pattern, TRUE);
	if (code == NULL) {
		*why = "the words do not make a pattern";
		return MS_USAGE;
	}
	add_custom(e, name, code, confidence, id);
	return MS_OK;
}

/* dlp_engine_add_regex - a custom regex detector */
ms_err
dlp_engine_add_regex(dlp_engine *e, const char *name, const char *pattern,
    dlp_confidence confidence, int *id, char *why, size_t why_len)
{
	pcre2_code *code;

	if (name == NULL || *name == '\0' || pattern == NULL ||
	    !valid_confidence(confidence) ||
	    !g_utf8_validate(pattern, -1, NULL)) {
		snprintf(why, why_len, "a name, a UTF-8 pattern and a "
		    "confidence level");
		return MS_USAGE;
	}
	code = compile(pattern, 0, why, why_len);
	if (code == NULL)
		return MS_USAGE;
	add_custom(e, name, code, confidence, id);
	return MS_OK;
}

/* dlp_detector_name - the name of a detector id */
const char *
dlp_detector_name(const dlp_engine *e, int id)
{
	for (guint i = 0; i < e->detectors->len; i++) {
		const detector *d = g_ptr_array_index(e->detectors, i);

		if (d->id == id)
			return d->name;
	}
	return NULL;
}

/* ---- results ---- */

/* leading_hash - a hash table key that is itself the output of a keyed
 * hash (an HMAC tag, a SipHash value): its first octets do */
static guint
leading_hash(gconstpointer p)
{
	guint h;

	memcpy(&h, p, sizeof(h));
	return h;
}

static gboolean
tag_equal(gconstpointer a, gconstpointer b)
{
	return memcmp(a, b, crypto_auth_hmacsha256_BYTES) == 0;
}

static gboolean
value_equal(gconstpointer a, gconstpointer b)
{
	return memcmp(a, b, crypto_shorthash_BYTES) == 0;
}

static void
finding_free(gpointer p)
{
	dlp_finding *f = p;

	g_free(f->part);
	g_free(f->sample);
	if (f->values != NULL)
		g_hash_table_destroy(f->values);
	g_free(f);
}

/* dlp_result_new - an empty result */
dlp_result *
dlp_result_new(void)
{
	dlp_result *r = g_new0(dlp_result, 1);

	r->findings = g_ptr_array_new_with_free_func(finding_free);
	r->undecided = g_string_new(NULL);
	r->undecided_ids = g_array_new(FALSE, FALSE, sizeof(int));
	r->addresses = g_hash_table_new_full(leading_hash, tag_equal, g_free,
	    NULL);
	r->domains = g_hash_table_new_full(g_str_hash, g_str_equal, g_free,
	    NULL);
	return r;
}

/* dlp_result_free - free a result */
void
dlp_result_free(dlp_result *r)
{
	if (r == NULL)
		return;
	g_ptr_array_free(r->findings, TRUE);
	g_string_free(r->undecided, TRUE);
	g_array_free(r->undecided_ids, TRUE);
	g_hash_table_destroy(r->addresses);
	g_hash_table_destroy(r->domains);
	g_free(r);
}

static dlp_finding *
finding_for(dlp_result *r, const detector *d, const char *part)
{
	dlp_finding *f;

	for (guint i = 0; i < r->findings->len; i++) {
		f = g_ptr_array_index(r->findings, i);
		if (f->id == d->id && strcmp(f->part, part) == 0)
			return f;
	}
	f = g_new0(dlp_finding, 1);
	f->id = d->id;
	f->name = d->name;
	f->part = g_strdup(part);
	f->values = g_hash_table_new_full(leading_hash, value_equal, g_free,
	    NULL);
	g_ptr_array_add(r->findings, f);
	return f;
}

static unsigned
level_index(dlp_confidence c)
{
	return c >= DLP_HIGH ? 2 : c >= DLP_MEDIUM ? 1 : 0;
}

static void
tag_of(const dlp_engine *e, const GString *value, unsigned char *tag)
{
	crypto_auth_hmacsha256_state st;

	st = e->tag_state;
	crypto_auth_hmacsha256_update(&st, (const unsigned char *)value->str,
	    value->len);
	crypto_auth_hmacsha256_final(&st, tag);
	sodium_memzero(&st, sizeof(st));
}

static void
record(dlp_engine *e, dlp_result *r, const detector *d, const char *part,
    const dlp_verdict *v, dlp_confidence c)
{
	dlp_finding *f = finding_for(r, d, part);
	unsigned char id[crypto_shorthash_BYTES];
	unsigned char tag[crypto_auth_hmacsha256_BYTES];
	gpointer old;

	/* the SipHash counts the value; the HMAC tag, several times its
	 * cost, is computed only for the value the finding shows */
	crypto_shorthash(id, (const unsigned char *)v->value->str,
	    v->value->len, e->value_key);
	f->total[level_index(c)]++;
	f->flags |= v->flags;
	old = g_hash_table_lookup(f->values, id);
	if (old == NULL || GPOINTER_TO_UINT(old) < (unsigned)c)
		g_hash_table_replace(f->values, g_memdup2(id, sizeof(id)),
		    GUINT_TO_POINTER((unsigned)c));
	if (c > f->confidence) {
		tag_of(e, v->value, tag);
		f->confidence = c;
		for (size_t i = 0; i < 8; i++)
			snprintf(f->tag + 2 * i, 3, "%02x", tag[i]);
		g_free(f->sample);
		f->sample = g_strdup(v->sample->str);
	}
}

static void
undecided(dlp_result *r, const detector *d, const char *part, int rc)
{
	char msg[120];

	pcre2_get_error_message(rc, (PCRE2_UCHAR *)msg, sizeof(msg));
	if (r->undecided->len > 0)
		g_string_append(r->undecided, "; ");
	g_string_append_printf(r->undecided, "%s: %s (%s)", part, d->name,
	    msg);
	g_array_append_val(r->undecided_ids, d->id);
}

/* ---- scanning ---- */

/* normalize_run - append text[0..len) (a run of non-ASCII octets and
 * the ASCII character before it) in NFKC, without format characters,
 * with digits, spaces and dashes made ASCII */
static void
normalize_run(GString *out, const char *text, size_t len)
{
	char *valid = g_utf8_make_valid(text, (gssize)len);
	char *nfkc = g_utf8_normalize(valid, -1, G_NORMALIZE_NFKC);

	for (const char *p = nfkc; *p != '\0'; p = g_utf8_next_char(p)) {
		gunichar c;
		int digit;

		if ((unsigned char)*p < 0x80) {
			g_string_append_c(out, *p);
			continue;
		}
		c = g_utf8_get_char(p);
		if (g_unichar_type(c) == G_UNICODE_FORMAT)
			continue;
		if ((digit = g_unichar_digit_value(c)) >= 0)
			g_string_append_c(out, (char)('0' + digit));
		else if (g_unichar_type(c) == G_UNICODE_SPACE_SEPARATOR)
			g_string_append_c(out, ' ');
		else if ((c >= 0x2010 && c <= 0x2015) || c == 0x2212)
			g_string_append_c(out, '-');
		else
			g_string_append_unichar(out, c);
	}
	g_free(nfkc);
	g_free(valid);
}

/* normalize - see the comment at the top; returns the text to scan (NULL
 * when it is ASCII, which NFKC leaves as it is and which holds no format
 * character) */
static char *
normalize(const char *text, size_t len, size_t *out_len)
{
	GString *out;
	size_t i;

	/* eight octets at a time: most mail is ASCII */
	for (i = 0; len - i >= 8; i += 8) {
		guint64 word;

		memcpy(&word, text + i, sizeof(word));
		if (word & 0x8080808080808080u)
			break;
	}
	for (; i < len && (unsigned char)text[i] < 0x80; i++)
		;
	if (i == len) {
		*out_len = len;
		return NULL;
	}
	out = g_string_sized_new(len);
	g_string_append_len(out, text, (gssize)i);
	while (i < len) {
		size_t start, end;

		if ((unsigned char)text[i] < 0x80) {
			g_string_append_c(out, text[i++]);
			continue;
		}
		/* NFKC one run of non-ASCII octets at a time, with the ASCII
		 * character before it, which may compose with what follows:
		 * no ASCII character composes with the character before it,
		 * so runs are independent and the work stays linear */
		start = i > 0 && out->len > 0 ? i - 1 : i;
		if (start < i)
			g_string_truncate(out, out->len - 1);
		for (end = i; end < len && (unsigned char)text[end] >= 0x80;
		    end++)
			;
		normalize_run(out, text + start, end - start);
		i = end;
	}
	*out_len = out->len;
	return g_string_free(out, FALSE);
}

/* pair_at - the two octets at p are in a pair table */
static inline bool
pair_at(const guint64 *pairs, const char *p)
{
	unsigned pair = (unsigned)(unsigned char)p[0] << 8 |
	    (unsigned char)p[1];

	return (pairs[pair / 64] & (guint64)1 << (pair % 64)) != 0;
}

/* back_chars - the offset n characters before at (UTF-8) */
static size_t
back_chars(const dlp_engine *e, const char *t, size_t at, unsigned n)
{
	if (e->ascii)
		return at > n ? at - n : 0;
	while (at > 0 && n > 0) {
		at--;
		if (((unsigned char)t[at] & 0xC0) != 0x80)
			n--;
	}
	while (at > 0 && ((unsigned char)t[at] & 0xC0) == 0x80)
		at--;
	return at;
}

/* forward_chars - the offset n characters after at (UTF-8) */
static size_t
forward_chars(const dlp_engine *e, const char *t, size_t len, size_t at,
    unsigned n)
{
	if (e->ascii)
		return len - at > n ? at + n : len;
	while (at < len && n > 0) {
		at++;
		while (at < len && ((unsigned char)t[at] & 0xC0) == 0x80)
			at++;
		n--;
	}
	return at;
}

/* literals_present - which of the engine's literals occur in the text:
 * memchr for the one-octet literals, then one pass for the others that
 * compares only where the first two octets are those of a literal
 * (letters such as 'e' or 's' start literals and most words) */
static guint32
literals_present(const dlp_engine *e, const char *t, size_t len)
{
	guint32 all = e->literal_count == 32 ? ~0u :
	    (1u << e->literal_count) - 1, found = 0;
	guint32 longer = all & ~e->single_byte;

	for (guint32 single = e->single_byte; single != 0;
	    single &= single - 1) {
		unsigned slot = (unsigned)__builtin_ctz(single);

		if (memchr(t, e->literals[slot][0], len) != NULL)
			found |= 1u << slot;
	}
	for (size_t i = 0; i + 1 < len && (found & longer) != longer; i++) {
		guint32 maybe;

		if (!pair_at(e->literal_pairs, t + i))
			continue;
		maybe = e->first_byte[(unsigned char)t[i]] & longer & ~found;
		while (maybe != 0) {
			unsigned slot = (unsigned)__builtin_ctz(maybe);
			size_t n = e->literal_len[slot];

			maybe &= maybe - 1;
			if (len - i >= n && memcmp(t + i, e->literals[slot],
			    n) == 0)
				found |= 1u << slot;
		}
	}
	return found;
}

/*
 * Numeric detectors run only on segments around digit runs: a run is
 * digits with single spaces, dots, dashes or slashes between them; a run
 * of at least SEGMENT_MIN_DIGITS digits gets SEGMENT_MARGIN characters on
 * both sides (room for a NINO's letters, a track's name field, the
 * keyword-free context of the boundaries), and overlapping windows merge.
 * Text with few numbers is then mostly skipped.  IBAN, whose digit runs
 * can be two digits long, scans the whole text.
 */
#define SEGMENT_MIN_DIGITS 6u
#define SEGMENT_MARGIN 48u

typedef struct segment {
	size_t start, end;
	unsigned digits;	/* the longest run inside */
	guint64 runs;		/* the digit counts of its runs (builtin) */
} segment;

static bool
run_separator(char c)
{
	return c == ' ' || c == '-' || c == '.' || c == '/';
}

static GArray *
digit_segments(const dlp_engine *e, const char *t, size_t len,
    unsigned *longest)
{
	GArray *segs = g_array_new(FALSE, FALSE, sizeof(segment));
	size_t i = 0;

	*longest = 0;
	while (i < len) {
		size_t start, end;
		unsigned digits = 0, part = 0;
		guint64 runs = 0;

		while (i < len && !g_ascii_isdigit(t[i]))
			i++;
		if (i >= len)
			break;
		start = i;
		for (;;) {
			while (i < len && g_ascii_isdigit(t[i])) {
				digits++;
				part++;
				i++;
			}
			if (i + 1 < len && run_separator(t[i]) &&
			    g_ascii_isdigit(t[i + 1])) {
				/* NB and NA do not join digits over '/' */
				if (t[i] == '/') {
					runs |= RUN(MIN(part, 63));
					part = 0;
				}
				i++;
			} else {
				break;
			}
		}
		runs |= RUN(MIN(part, 63));
		end = i;
		if (digits > *longest)
			*longest = digits;
		if (digits >= SEGMENT_MIN_DIGITS) {
			segment seg;

			seg.start = back_chars(e, t, start, SEGMENT_MARGIN);
			seg.end = forward_chars(e, t, len, end, SEGMENT_MARGIN);
			seg.digits = digits;
			seg.runs = runs;
			if (segs->len > 0) {
				segment *last = &g_array_index(segs, segment,
				    segs->len - 1);

				if (seg.start <= last->end) {
					last->end = seg.end;
					last->digits = MAX(last->digits, digits);
					last->runs |= runs;
					continue;
				}
			}
			g_array_append_val(segs, seg);
		}
	}
	return segs;
}

/* search - does code match in t[from, to)?  1 yes, 0 no, < 0 a PCRE2
 * error (a limit: undecided) */
static int
search(dlp_engine *e, pcre2_code *code, const char *t, size_t from,
    size_t to)
{
	int rc;

	if (from >= to)
		return 0;
	rc = pcre2_match(code, (PCRE2_SPTR)t, to, from, PCRE2_NO_UTF_CHECK,
	    e->md, e->mctx);
	if (rc == PCRE2_ERROR_NOMATCH)
		return 0;
	return rc >= 0 ? 1 : rc;
}

/* near - code matches in the window before or after [start, end) */
static int
near(dlp_engine *e, pcre2_code *code, const char *t, size_t len,
    size_t start, size_t end)
{
	int rc = search(e, code, t, back_chars(e, t, start, e->before), start);

	if (rc != 0)
		return rc;
	return search(e, code, t, end, forward_chars(e, t, len, end,
	    e->after));
}

/* word_with_pair - the first offset in [from, to) where a word starts
 * (ASCII text: no letter or digit before it) with two octets that are in
 * pairs, or to when there is none */
static size_t
word_with_pair(const guint64 *pairs, const char *t, size_t from, size_t to)
{
	for (size_t i = from; i + 1 < to; i++)
		if (pair_at(pairs, t + i) && (i == 0 ||
		    !g_ascii_isalnum(t[i - 1])))
			return i;
	return to;
}

/* near_words - near() for a KW() pattern with its word_pairs() table.
 * In ASCII text a keyword starts a word (the lookbehind) with the first
 * two characters of a listed word, so each window is searched from the
 * first such place, or not at all: PCRE2 tries a word alternation at
 * nearly every letter, a table test per octet is cheaper.  The answer is
 * the search's own.  Text that is not ASCII gets the plain search, since
 * caseless matching there reaches beyond ASCII. */
static int
near_words(dlp_engine *e, pcre2_code *code, const guint64 *pairs,
    const char *t, size_t len, size_t start, size_t end)
{
	size_t from, to;
	int rc;

	if (pairs == NULL || !e->ascii)
		return near(e, code, t, len, start, end);
	from = back_chars(e, t, start, e->before);
	rc = search(e, code, t, word_with_pair(pairs, t, from, start), start);
	if (rc != 0)
		return rc;
	to = forward_chars(e, t, len, end, e->after);
	return search(e, code, t, word_with_pair(pairs, t, end, to), to);
}

/* inside_address - the span lies within one e-mail address or URL token
 * (a number there is part of an identifier, not a value: dlp.md §2) */
static bool
inside_address(const char *t, size_t len, size_t start, size_t end)
{
	static const char stops[] = " \t\r\n<>\"'()[]{},;";
	size_t a = start, b = end;
	bool at_sign = false;

	while (a > 0 && start - a < 2048 && strchr(stops, t[a - 1]) == NULL)
		a--;
	while (b < len && b - end < 2048 && strchr(stops, t[b]) == NULL)
		b++;
	for (size_t i = start; i < end; i++)
		if (strchr(stops, t[i]) != NULL)
			return false;
	if (g_strstr_len(t + a, (gssize)(b - a), "://") != NULL ||
	    (b - a > 4 && g_ascii_strncasecmp(t + a, "www.", 4) == 0))
		return true;
	for (size_t i = a; i < b; i++)
		if (t[i] == '@') {
			at_sign = true;
			break;
		}
	return at_sign && memchr(t + a, '.', b - a) != NULL;
}

static dlp_confidence
lower(dlp_confidence c)
{
	return c == DLP_HIGH ? DLP_MEDIUM : c == DLP_MEDIUM ? DLP_LOW :
	    DLP_NONE;
}

/* ladder - the confidence of a validated instance (dlp.md §3, right
 * column) */
static dlp_confidence
ladder(const detector *d, const dlp_verdict *v, bool keyword)
{
	switch (d->id) {
	case DLP_PAN:
		return keyword ? DLP_HIGH : v->formatted ? DLP_MEDIUM :
		    DLP_LOW;
	case DLP_IBAN:
		return keyword ? DLP_HIGH : DLP_MEDIUM;
	case DLP_US_SSN:
	case DLP_US_ITIN:
		if (v->formatted)
			return keyword ? DLP_HIGH : DLP_LOW;
		return keyword ? DLP_MEDIUM : DLP_NONE;
	case DLP_ABA:
		return keyword ? DLP_MEDIUM : DLP_NONE;
	case DLP_NL_BSN:
		if (v->needs_keyword && !keyword)
			return DLP_NONE;
		return keyword ? DLP_HIGH : DLP_LOW;
	case DLP_UK_NINO:
		return keyword ? DLP_HIGH : DLP_LOW;
	case DLP_DE_TAXID:
	case DLP_FR_NIR:
	case DLP_BE_NRN:
		return keyword ? DLP_HIGH : DLP_NONE;
	case DLP_ES_DNI:
		return keyword ? DLP_HIGH : DLP_MEDIUM;
	case DLP_AWS:
		return keyword ? DLP_HIGH : DLP_MEDIUM;
	case DLP_JWT:
		return v->strong ? DLP_HIGH : DLP_MEDIUM;
	case DLP_TRACK:
	case DLP_PRIVATE_KEY:
	case DLP_GCP:
	case DLP_VENDOR_TOKEN:
		return DLP_HIGH;
	default:
		return d->custom_confidence;
	}
}

static void
custom_verdict(const char *t, size_t start, size_t end, dlp_verdict *v)
{
	size_t n = end - start;
	char *folded = g_utf8_casefold(t + start, (gssize)n);

	g_string_assign(v->value, folded);
	g_free(folded);
	g_string_truncate(v->sample, 0);
	if (n >= 8) {
		g_string_append_len(v->sample, t + start, 2);
		g_string_append_printf(v->sample, "\xe2\x80\xa6(%zu)", n);
	} else {
		g_string_append(v->sample, "\xe2\x80\xa6");
	}
	v->valid = true;
}

/* how a detector's run over some text ended */
typedef enum run_outcome {
	RUN_DONE,
	RUN_UNDECIDED,		/* a limit: recorded in the result */
	RUN_FAILED		/* a pattern did not compile: no answer */
} run_outcome;

/* run_detector - every match of one detector in t[from, to) (the
 * validators and the keyword windows see all of t[0, len)) */
static run_outcome
run_detector(dlp_engine *e, detector *d, const char *t, size_t len,
    size_t from, size_t to, const char *part, dlp_result *r,
    dlp_verdict *v)
{
	size_t offset = from;

	if (!primary_ready(d))
		return RUN_FAILED;
	while (offset <= to) {
		PCRE2_SIZE *ov;
		size_t start, end;
		dlp_confidence c;
		int rc, kw = 0, neg;

		rc = pcre2_match(d->primary, (PCRE2_SPTR)t, to, offset,
		    PCRE2_NO_UTF_CHECK, e->md, e->mctx);
		if (rc == PCRE2_ERROR_NOMATCH)
			return RUN_DONE;
		if (rc < 0) {
			undecided(r, d, part, rc);
			return RUN_UNDECIDED;
		}
		ov = pcre2_get_ovector_pointer(e->md);
		start = ov[0];
		end = ov[1];
		if (end <= start) {
			/* an empty match: step one character */
			offset = forward_chars(e, t, to, start, 1);
			if (start >= to)
				return RUN_DONE;
			continue;
		}
		v->valid = v->formatted = v->strong = v->needs_keyword = false;
		v->flags = 0;
		v->end = end;
		if (d->validate != NULL)
			d->validate(t, len, start, end, v);
		else
			custom_verdict(t, start, end, v);
		offset = v->valid && v->end > end ? v->end : end;
		if (!v->valid)
			continue;
		if (d->numeric && inside_address(t, len, start, end))
			continue;
		if (!context_ready(d))
			return RUN_FAILED;
		if (d->keywords != NULL &&
		    (kw = near_words(e, d->keywords, d->keyword_pairs, t, len,
		    start, v->end)) == 0 && d->evidence != NULL)
			kw = near(e, d->evidence, t, len, start, v->end);
		if (kw < 0) {
			undecided(r, d, part, kw);
			return RUN_UNDECIDED;
		}
		c = ladder(d, v, kw == 1);
		if (c != DLP_NONE && d->validate != NULL) {
			if (!negative_ready(e))
				return RUN_FAILED;
			neg = near_words(e, e->negative, e->negative_pairs, t,
			    len, start, v->end);
			if (neg < 0) {
				undecided(r, d, part, neg);
				return RUN_UNDECIDED;
			}
			if (neg == 1)
				c = lower(c);
		}
		if (c != DLP_NONE)
			record(e, r, d, part, v, c);
		sodium_memzero(v->value->str, v->value->len);
	}
	return RUN_DONE;
}

/* local_part_octet - an octet of a dot-atom local part, the dot included
 * (the character class of EMAIL_PATTERN's local part and its lookbehind) */
static bool
local_part_octet(char c)
{
	return g_ascii_isalnum(c) || (c != '\0' &&
	    strchr(".!#$%&'*+/=?^_`{|}~-", c) != NULL);
}

/* scan_addresses - count distinct case-folded addresses for detector 13 */
static run_outcome
scan_addresses(dlp_engine *e, const detector *d, const char *t, size_t len,
    const char *part, dlp_result *r)
{
	size_t offset = 0;
	GString *value;
	GHashTable *seen;
	run_outcome outcome = RUN_DONE;

	if (!lazy(&e->email, EMAIL_PATTERN, d->name))
		return RUN_FAILED;
	value = g_string_new(NULL);
	/* addresses of this part already counted: a list repeats the same
	 * few addresses, and their tags need not be computed again */
	seen = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);

	for (;;) {
		unsigned char tag[crypto_auth_hmacsha256_BYTES];
		PCRE2_SIZE *ov;
		char *folded;
		int rc;

		const char *at = offset < len ? memchr(t + offset, '@',
		    len - offset) : NULL;
		size_t from, to;

		/* every address holds one '@', its local part is at most
		 * 584 octets and its domain at most 576.  The pattern's
		 * lookbehind lets an address start only where a run of
		 * local-part octets starts, so the one address around this
		 * '@' can only start at the start of the run before it: one
		 * anchored match there finds what a search of the whole text
		 * finds, without trying the pattern at every position */
		if (at == NULL)
			break;
		from = (size_t)(at - t);
		while (from > offset && (size_t)(at - t) - from <=
		    ADDRESS_REACH && local_part_octet(t[from - 1]))
			from--;
		to = len - (size_t)(at - t) > ADDRESS_REACH ?
		    (size_t)(at - t) + ADDRESS_REACH : len;
		while (to < len && ((unsigned char)t[to] & 0xC0) == 0x80)
			to++;
		/* a run longer than any local part, or one that began
		 * before offset (in the address found last): none here */
		if (from > 0 && local_part_octet(t[from - 1]))
			rc = PCRE2_ERROR_NOMATCH;
		else
			rc = pcre2_match(e->email, (PCRE2_SPTR)t, to, from,
			    PCRE2_ANCHORED | PCRE2_NO_UTF_CHECK, e->md,
			    e->mctx);
		if (rc == PCRE2_ERROR_NOMATCH) {
			offset = (size_t)(at - t) + 1;
			continue;
		}
		if (rc < 0) {
			undecided(r, d, part, rc);
			outcome = RUN_UNDECIDED;
			break;
		}
		ov = pcre2_get_ovector_pointer(e->md);
		offset = ov[1];
		folded = g_ascii_strdown(t + ov[0], (gssize)(ov[1] - ov[0]));
		r->address_total++;
		if (g_hash_table_contains(seen, folded)) {
			g_free(folded);
			continue;
		}
		g_string_assign(value, folded);
		if (g_hash_table_size(seen) < 100000)
			g_hash_table_add(seen, folded);
		else
			g_free(folded);
		tag_of(e, value, tag);
		if (!g_hash_table_contains(r->addresses, tag)) {
			/* the list's tag: XOR of its addresses' tags, the
			 * same whatever their order */
			for (size_t i = 0; i < sizeof(tag); i++)
				r->list_tag[i] ^= tag[i];
			g_hash_table_add(r->addresses,
			    g_memdup2(tag, sizeof(tag)));
			if (g_hash_table_size(r->domains) < 1000)
				g_hash_table_add(r->domains,
				    g_ascii_strdown(t + ov[2],
				    (gssize)(ov[3] - ov[2])));
		}
	}
	g_string_free(value, TRUE);
	g_hash_table_destroy(seen);
	if (g_hash_table_size(r->addresses) >= e->bulk_threshold) {
		GList *domains = g_hash_table_get_keys(r->domains);
		GString *sample = g_string_new(NULL);
		unsigned shown = 0;

		if (r->bulk == NULL) {
			r->bulk = finding_for(r, d, part);
			r->bulk->confidence = DLP_HIGH;
		}
		domains = g_list_sort(domains, (GCompareFunc)strcmp);
		g_string_printf(sample, "%u addresses:",
		    g_hash_table_size(r->addresses));
		for (GList *l = domains; l != NULL && shown < 5;
		    l = l->next, shown++)
			g_string_append_printf(sample, " %s",
			    (const char *)l->data);
		if (g_list_length(domains) > 5)
			g_string_append(sample, " ...");
		g_list_free(domains);
		g_free(r->bulk->sample);
		r->bulk->sample = g_string_free(sample, FALSE);
		for (size_t i = 0; i < 8; i++)
			snprintf(r->bulk->tag + 2 * i, 3, "%02x",
			    r->list_tag[i]);
		r->bulk->total[2] = r->address_total;
		r->bulk->addresses = g_hash_table_size(r->addresses);
	}
	return outcome;
}

/* dlp_scan_header - scan header fields: everything but bulk addresses,
 * since the addresses of From, To and Cc are the message's own, not
 * addresses carried in a body */
ms_err
dlp_scan_header(dlp_engine *e, const char *text, size_t len,
    const char *part_path, dlp_result *r)
{
	ms_err err;

	e->header = true;
	err = dlp_scan_text(e, text, len, part_path, r);
	e->header = false;
	return err;
}

/* dlp_scan_text - scan one part */
ms_err
dlp_scan_text(dlp_engine *e, const char *text, size_t len,
    const char *part_path, dlp_result *r)
{
	char *normal;
	const char *t;
	size_t tlen;
	unsigned longest;
	guint32 literals;
	GArray *segments;
	dlp_verdict v = { 0 };
	run_outcome outcome = RUN_DONE;

	if (len > DLP_TEXT_MAX)
		return MS_DATA;
	if (part_path == NULL)
		part_path = "";
	normal = normalize(text, len, &tlen);
	/* normalize copies any text that is not pure ASCII */
	e->ascii = normal == NULL;
	t = normal != NULL ? normal : text;
	if (t == NULL)
		t = "";
	segments = digit_segments(e, t, tlen, &longest);
	literals = literals_present(e, t, tlen);
	v.value = g_string_new(NULL);
	v.sample = g_string_new(NULL);
	for (guint i = 0; outcome != RUN_FAILED && i < e->detectors->len;
	    i++) {
		detector *d = g_ptr_array_index(e->detectors, i);

		switch (d->prefilter) {
		case PRE_NONE:
			outcome = run_detector(e, d, t, tlen, 0, tlen,
			    part_path, r, &v);
			break;
		case PRE_LITERAL:
			if ((literals & d->literal_bits) == 0)
				break;
			if (d->id == DLP_BULK_EMAIL) {
				if (!e->header)
					outcome = scan_addresses(e, d, t,
					    tlen, part_path, r);
			} else
				outcome = run_detector(e, d, t, tlen, 0, tlen,
				    part_path, r, &v);
			break;
		case PRE_DIGITS:
			if (longest < d->min_digits)
				break;
			if (d->min_digits < SEGMENT_MIN_DIGITS) {
				outcome = run_detector(e, d, t, tlen, 0, tlen,
				    part_path, r, &v);
				break;
			}
			for (guint k = 0; outcome == RUN_DONE &&
			    k < segments->len; k++) {
				const segment *seg = &g_array_index(segments,
				    segment, k);

				if (seg->digits >= d->min_digits &&
				    (d->runs == 0 || (seg->runs & d->runs) != 0))
					outcome = run_detector(e, d, t, tlen,
					    seg->start, seg->end, part_path, r,
					    &v);
			}
			break;
		}
		/* undecided is in the result; the next detector runs */
		if (outcome == RUN_UNDECIDED)
			outcome = RUN_DONE;
	}
	g_array_free(segments, TRUE);
	sodium_memzero(v.value->str, v.value->allocated_len);
	g_string_free(v.value, TRUE);
	g_string_free(v.sample, TRUE);
	if (normal != NULL) {
		sodium_memzero(normal, tlen);
		g_free(normal);
	}
	/* a detector that could not run has no answer: the scan fails
	 * rather than pass what it did not look at */
	return outcome == RUN_FAILED ? MS_INTERNAL : MS_OK;
}

/* dlp_scan_pkcs12 - a PKCS#12 attachment */
ms_err
dlp_scan_pkcs12(dlp_engine *e, const unsigned char *data, size_t len,
    const char *part_path, dlp_result *r)
{
	dlp_verdict v = { 0 };

	if (len > DLP_TEXT_MAX)
		return MS_DATA;
	v.value = g_string_new(NULL);
	v.sample = g_string_new(NULL);
	dlp_valid_pkcs12(data, len, &v);
	if (v.valid) {
		for (guint i = 0; i < e->detectors->len; i++) {
			const detector *d = g_ptr_array_index(e->detectors, i);

			if (d->id == DLP_PRIVATE_KEY)
				record(e, r, d, part_path ? part_path : "", &v,
				    DLP_HIGH);
		}
	}
	sodium_memzero(v.value->str, v.value->len);
	g_string_free(v.value, TRUE);
	g_string_free(v.sample, TRUE);
	return MS_OK;
}

/* ---- accessors ---- */

/* dlp_result_undecided - some detector hit a limit */
bool
dlp_result_undecided(const dlp_result *r)
{
	return r->undecided_ids->len > 0;
}

/* dlp_result_undecided_detector - detector id hit a limit */
bool
dlp_result_undecided_detector(const dlp_result *r, int id)
{
	for (guint i = 0; i < r->undecided_ids->len; i++)
		if (g_array_index(r->undecided_ids, int, i) == id)
			return true;
	return false;
}

/* dlp_result_undecided_text - what was undecided, for the log */
const char *
dlp_result_undecided_text(const dlp_result *r)
{
	return r->undecided->str;
}

/* dlp_result_count - number of findings */
size_t
dlp_result_count(const dlp_result *r)
{
	return r->findings->len;
}

/* dlp_result_finding - finding i */
const dlp_finding *
dlp_result_finding(const dlp_result *r, size_t i)
{
	return i < r->findings->len ? g_ptr_array_index(r->findings, i) :
	    NULL;
}

/* dlp_result_find - the finding of a detector in a part */
const dlp_finding *
dlp_result_find(const dlp_result *r, int id, const char *part)
{
	for (guint i = 0; i < r->findings->len; i++) {
		const dlp_finding *f = g_ptr_array_index(r->findings, i);

		if (f->id == id && (part == NULL || strcmp(part, f->part) == 0))
			return f;
	}
	return NULL;
}

/* dlp_result_total - instances over the message */
unsigned
dlp_result_total(const dlp_result *r, int id, dlp_confidence min)
{
	unsigned total = 0;

	for (guint i = 0; i < r->findings->len; i++) {
		const dlp_finding *f = g_ptr_array_index(r->findings, i);

		if (f->id == id)
			total += dlp_finding_total(f, min);
	}
	return total;
}

/* dlp_result_unique - distinct values over the message */
unsigned
dlp_result_unique(const dlp_result *r, int id, dlp_confidence min)
{
	GHashTable *seen;
	unsigned count;

	if (id == DLP_BULK_EMAIL)
		return r->bulk != NULL ? g_hash_table_size(r->addresses) : 0;
	seen = g_hash_table_new(leading_hash, value_equal);
	for (guint i = 0; i < r->findings->len; i++) {
		const dlp_finding *f = g_ptr_array_index(r->findings, i);
		GHashTableIter it;
		gpointer key, val;

		if (f->id != id)
			continue;
		g_hash_table_iter_init(&it, f->values);
		while (g_hash_table_iter_next(&it, &key, &val))
			if (GPOINTER_TO_UINT(val) >= (unsigned)min)
				g_hash_table_add(seen, key);
	}
	count = g_hash_table_size(seen);
	g_hash_table_destroy(seen);
	return count;
}

/* dlp_finding_detector - the detector id */
int
dlp_finding_detector(const dlp_finding *f)
{
	return f->id;
}

/* dlp_finding_name - the detector name */
const char *
dlp_finding_name(const dlp_finding *f)
{
	return f->name;
}

/* dlp_finding_part - the part label */
const char *
dlp_finding_part(const dlp_finding *f)
{
	return f->part;
}

/* dlp_finding_confidence - the highest confidence of the instances */
dlp_confidence
dlp_finding_confidence(const dlp_finding *f)
{
	return f->confidence;
}

/* dlp_finding_total - instances at confidence >= min */
unsigned
dlp_finding_total(const dlp_finding *f, dlp_confidence min)
{
	unsigned total = 0;

	for (unsigned k = level_index(min); k < 3; k++)
		total += f->total[k];
	return total;
}

/* dlp_finding_unique - distinct values at confidence >= min */
unsigned
dlp_finding_unique(const dlp_finding *f, dlp_confidence min)
{
	GHashTableIter it;
	gpointer key, val;
	unsigned count = 0;

	if (f->id == DLP_BULK_EMAIL)
		return f->addresses;
	g_hash_table_iter_init(&it, f->values);
	while (g_hash_table_iter_next(&it, &key, &val))
		if (GPOINTER_TO_UINT(val) >= (unsigned)min)
			count++;
	return count;
}

/* dlp_finding_tag - 16 hex digits of the sample value's HMAC */
const char *
dlp_finding_tag(const dlp_finding *f)
{
	return f->tag;
}

/* dlp_finding_sample - the masked sample */
const char *
dlp_finding_sample(const dlp_finding *f)
{
	return f->sample != NULL ? f->sample : "";
}

/* dlp_finding_flags - DLP_FLAG_* of any instance */
unsigned
dlp_finding_flags(const dlp_finding *f)
{
	return f->flags;
}
