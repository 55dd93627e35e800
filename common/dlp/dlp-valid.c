/*
 * dlp-valid.c - validators of the built-in DLP detectors (see dlp-valid.h
 * and dlp.md section 3): check digits, registries and structure parsing.
 * A candidate counts only when its validator says so; the regex alone
 * never decides.
 */
#include "dlp-valid.h"
#include "codec.h"

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/pkcs12.h>
#include <openssl/x509.h>
#include <sodium.h>
#include <stdint.h>
#include <string.h>
#include <time.h>

/* ---- small helpers ---- */

/* digits_of - the ASCII digits of text[start, end) into out; returns the
 * number of other characters (separators) seen */
static size_t
digits_of(const char *text, size_t start, size_t end, GString *out)
{
	size_t other = 0;

	g_string_truncate(out, 0);
	for (size_t i = start; i < end; i++) {
		if (g_ascii_isdigit(text[i]))
			g_string_append_c(out, text[i]);
		else
			other++;
	}
	return other;
}

static unsigned
num(const char *d, size_t n)
{
	unsigned v = 0;

	for (size_t i = 0; i < n; i++)
		v = v * 10 + (unsigned)(d[i] - '0');
	return v;
}

static bool
all_same(const char *s, size_t n)
{
	for (size_t i = 1; i < n; i++)
		if (s[i] != s[0])
			return false;
	return true;
}

/* mask_tail - "*" for all but the last keep characters of value */
static void
mask_tail(GString *sample, const char *value, size_t n, size_t keep)
{
	g_string_truncate(sample, 0);
	for (size_t i = 0; i + keep < n; i++)
		g_string_append_c(sample, '*');
	g_string_append_len(sample, value + (n > keep ? n - keep : 0),
	    (gssize)(n > keep ? keep : n));
}

/* separators_consistent - every non-digit in [start, end) is the same
 * character and digit groups are between min and max long */
static bool
separators_consistent(const char *text, size_t start, size_t end,
    size_t min_group, size_t max_group)
{
	char sep = 0;
	size_t group = 0;

	for (size_t i = start; i < end; i++) {
		if (g_ascii_isdigit(text[i])) {
			group++;
			continue;
		}
		if (sep == 0)
			sep = text[i];
		else if (text[i] != sep)
			return false;
		if (group < min_group || group > max_group)
			return false;
		group = 0;
	}
	return sep == 0 || (group >= 1 && group <= max_group);
}

static void
hex_of(GString *out, const unsigned char *bytes, size_t n)
{
	for (size_t i = 0; i < n; i++)
		g_string_append_printf(out, "%02x", bytes[i]);
}

/* fingerprint - "sha256:<hex>" of bytes (a public key, never a secret) */
static void
fingerprint(GString *sample, const char *what, const unsigned char *bytes,
    size_t n)
{
	unsigned char md[32];
	unsigned int mdlen = 0;

	g_string_assign(sample, what);
	if (EVP_Digest(bytes, n, md, &mdlen, EVP_sha256(), NULL) == 1 &&
	    mdlen == sizeof(md)) {
		g_string_append(sample, " sha256:");
		hex_of(sample, md, sizeof(md));
	}
}

/* ---- 1, 2: payment cards ---- */

bool
dlp_luhn_ok(const char *digits, size_t n)
{
	unsigned sum = 0;

	for (size_t i = 0; i < n; i++) {
		unsigned d = (unsigned)(digits[n - 1 - i] - '0');

		if (i % 2 == 1) {
			d *= 2;
			if (d > 9)
				d -= 9;
		}
		sum += d;
	}
	return n > 0 && sum % 10 == 0;
}

/* published test numbers of the card schemes and processors */
static const char *const pan_test_numbers[] = {
	"4111111111111111", "4012888888881881", "4222222222222",
	"4242424242424242", "4000056655665556", "4917610000000000",
	"5555555555554444", "5105105105105100", "5200828282828210",
	"2223003122003222", "378282246310005", "371449635398431",
	"378734493671000", "6011111111111117", "6011000990139424",
	"3530111333300000", "3566002020360505", "30569309025904",
	"38520000023237", "36227206271667", "6200000000000005",
	"4000000000000002", "4000000000000077",
};

static bool
in_range(unsigned v, unsigned lo, unsigned hi)
{
	return v >= lo && v <= hi;
}

/* iin_ok - the IIN / length table of dlp.md detector 1 */
static bool
iin_ok(const char *d, size_t n)
{
	unsigned p1 = num(d, 1), p2 = num(d, 2), p3 = num(d, 3);
	unsigned p4 = num(d, 4), p6 = num(d, 6);

	if (p1 == 4 && (n == 13 || n == 16 || n == 19))
		return true;				/* Visa */
	if ((in_range(p2, 51, 55) || in_range(p4, 2221, 2720)) && n == 16)
		return true;				/* Mastercard */
	if ((p2 == 34 || p2 == 37) && n == 15)
		return true;				/* Amex */
	if ((p4 == 6011 || in_range(p3, 644, 649) || p2 == 65 ||
	    in_range(p6, 622126, 622925)) && in_range((unsigned)n, 16, 19))
		return true;				/* Discover */
	if (in_range(p4, 3528, 3589) && in_range((unsigned)n, 16, 19))
		return true;				/* JCB */
	if ((in_range(p3, 300, 305) || p2 == 36 || in_range(p2, 38, 39)) &&
	    in_range((unsigned)n, 14, 19))
		return true;				/* Diners */
	if (p2 == 62 && in_range((unsigned)n, 16, 19))
		return true;				/* UnionPay */
	if ((p2 == 50 || in_range(p2, 56, 69)) && in_range((unsigned)n, 12, 19))
		return true;				/* Maestro */
	if (in_range(p4, 2200, 2204) && in_range((unsigned)n, 16, 19))
		return true;				/* Mir */
	return false;
}

bool
dlp_pan_ok(const char *digits, size_t n)
{
	if (n < 12 || n > 19 || all_same(digits, n))
		return false;
	/* UnionPay numbers that reportedly fail Luhn are not accepted:
	 * unconfirmed, and accepting them would let any 62... run count */
	if (!dlp_luhn_ok(digits, n) || !iin_ok(digits, n))
		return false;
	for (size_t i = 0; i < G_N_ELEMENTS(pan_test_numbers); i++)
		if (strlen(pan_test_numbers[i]) == n &&
		    memcmp(pan_test_numbers[i], digits, n) == 0)
			return false;
	return true;
}

/* mask_pan - at most the first 6 and the last 4 digits (PCI DSS) */
static void
mask_pan(GString *sample, const char *d, size_t n)
{
	size_t head = n >= 16 ? 6 : n >= 14 ? 4 : 2;

	g_string_truncate(sample, 0);
	for (size_t i = 0; i < n; i++)
		g_string_append_c(sample, i < head || i + 4 >= n ? d[i] : '*');
}

void
dlp_valid_pan(const char *text, size_t len, size_t start, size_t end,
    dlp_verdict *v)
{
	size_t seps;

	(void)len;
	seps = digits_of(text, start, end, v->value);
	if (seps > 0 && !separators_consistent(text, start, end, 3, 6))
		return;
	if (!dlp_pan_ok(v->value->str, v->value->len))
		return;
	v->formatted = seps > 0;
	mask_pan(v->sample, v->value->str, v->value->len);
	v->valid = true;
}

void
dlp_valid_track(const char *text, size_t len, size_t start, size_t end,
    dlp_verdict *v)
{
	size_t i = start + 1, pan_start, pan_end, exp_at;

	(void)len;
	if (text[start] == '%')
		i++;			/* "%B" */
	pan_start = i;
	while (i < end && g_ascii_isdigit(text[i]))
		i++;
	pan_end = i;
	/* the expiry date YYMM follows the last '^' or the '=' */
	exp_at = end - 4;
	if (exp_at <= pan_end || !in_range(num(text + exp_at + 2, 2), 1, 12))
		return;
	g_string_truncate(v->value, 0);
	g_string_append_len(v->value, text + pan_start,
	    (gssize)(pan_end - pan_start));
	if (!dlp_pan_ok(v->value->str, v->value->len))
		return;
	mask_pan(v->sample, v->value->str, v->value->len);
	g_string_prepend(v->sample, text[start] == '%' ? "track1 " :
	    "track2 ");
	v->valid = true;
}

/* ---- 3: IBAN ---- */

/* The SWIFT IBAN registry: country, length, BBAN structure as counts of
 * n (digits), a (upper-case letters), c (upper-case alphanumerics). */
static const struct iban_country {
	char code[3];
	unsigned char length;
	const char *bban;
} iban_registry[] = {
	{ "AD", 24, "4n4n12c" }, { "AE", 23, "3n16n" },
	{ "AL", 28, "8n16c" }, { "AT", 20, "5n11n" },
	{ "AZ", 28, "4a20c" }, { "BA", 20, "3n3n8n2n" },
	{ "BE", 16, "3n7n2n" }, { "BG", 22, "4a4n2n8c" },
	{ "BH", 22, "4a14c" }, { "BI", 27, "5n5n11n2n" },
	{ "BR", 29, "8n5n10n1a1c" }, { "BY", 28, "4c4n16c" },
	{ "CH", 21, "5n12c" }, { "CR", 22, "4n14n" },
	{ "CY", 28, "3n5n16c" }, { "CZ", 24, "4n6n10n" },
	{ "DE", 22, "8n10n" }, { "DJ", 27, "5n5n11n2n" },
	{ "DK", 18, "4n9n1n" }, { "DO", 28, "4c20n" },
	{ "EE", 20, "2n2n11n1n" }, { "EG", 29, "4n4n17n" },
	{ "ES", 24, "4n4n1n1n10n" }, { "FI", 18, "3n11n" },
	{ "FK", 18, "2a12n" }, { "FO", 18, "4n9n1n" },
	{ "FR", 27, "5n5n11c2n" }, { "GB", 22, "4a6n8n" },
	{ "GE", 22, "2a16n" }, { "GI", 23, "4a15c" },
	{ "GL", 18, "4n9n1n" }, { "GR", 27, "3n4n16c" },
	{ "GT", 28, "4c20c" }, { "HR", 21, "7n10n" },
	{ "HU", 28, "3n4n1n15n1n" }, { "IE", 22, "4a6n8n" },
	{ "IL", 23, "3n3n13n" }, { "IQ", 23, "4a3n12n" },
	{ "IS", 26, "4n2n6n10n" }, { "IT", 27, "1a5n5n12c" },
	{ "JO", 30, "4a4n18c" }, { "KW", 30, "4a22c" },
	{ "KZ", 20, "3n13c" }, { "LB", 28, "4n20c" },
	{ "LC", 32, "4a24c" }, { "LI", 21, "5n12c" },
	{ "LT", 20, "5n11n" }, { "LU", 20, "3n13c" },
	{ "LV", 21, "4a13c" }, { "LY", 25, "3n3n15n" },
	{ "MC", 27, "5n5n11c2n" }, { "MD", 24, "2c18c" },
	{ "ME", 22, "3n13n2n" }, { "MK", 19, "3n10c2n" },
	{ "MN", 20, "4n12n" }, { "MR", 27, "5n5n11n2n" },
	{ "MT", 31, "4a5n18c" }, { "MU", 30, "4a2n2n12n3n3a" },
	{ "NI", 28, "4a20n" }, { "NL", 18, "4a10n" },
	{ "NO", 15, "4n6n1n" }, { "OM", 23, "3n16c" },
	{ "PK", 24, "4a16c" }, { "PL", 28, "8n16n" },
	{ "PS", 29, "4a21c" }, { "PT", 25, "4n4n11n2n" },
	{ "QA", 29, "4a21c" }, { "RO", 24, "4a16c" },
	{ "RS", 22, "3n13n2n" }, { "RU", 33, "9n5n15c" },
	{ "SA", 24, "2n18c" }, { "SC", 31, "4a2n2n16n3a" },
	{ "SD", 18, "2n12n" }, { "SE", 24, "3n16n1n" },
	{ "SI", 19, "5n8n2n" }, { "SK", 24, "4n6n10n" },
	{ "SM", 27, "1a5n5n12c" }, { "SO", 23, "4n3n12n" },
	{ "ST", 25, "8n11n2n" }, { "SV", 28, "4a20n" },
	{ "TL", 23, "3n14n2n" }, { "TN", 24, "2n3n13n2n" },
	{ "TR", 26, "5n1n16c" }, { "UA", 29, "6n19c" },
	{ "VA", 22, "3n15n" }, { "VG", 24, "4a16n" },
	{ "XK", 20, "4n10n2n" }, { "YE", 30, "4a4n18c" },
};

static const struct iban_country *
iban_country(const char *code)
{
	for (size_t i = 0; i < G_N_ELEMENTS(iban_registry); i++)
		if (iban_registry[i].code[0] == code[0] &&
		    iban_registry[i].code[1] == code[1])
			return &iban_registry[i];
	return NULL;
}

unsigned
dlp_iban_length(const char *country)
{
	const struct iban_country *c = iban_country(country);

	return c ? c->length : 0;
}

static bool
bban_ok(const char *bban, const char *spec)
{
	size_t at = 0;

	while (*spec) {
		unsigned count = 0;

		while (g_ascii_isdigit(*spec))
			count = count * 10 + (unsigned)(*spec++ - '0');
		for (unsigned i = 0; i < count; i++, at++) {
			char ch = bban[at];

			if ((*spec == 'n' && !g_ascii_isdigit(ch)) ||
			    (*spec == 'a' && !g_ascii_isupper(ch)) ||
			    (*spec == 'c' && !g_ascii_isdigit(ch) &&
			    !g_ascii_isupper(ch)))
				return false;
		}
		spec++;
	}
	return bban[at] == '\0';
}

bool
dlp_iban_ok(const char *iban, size_t n)
{
	const struct iban_country *c;
	char buf[40];
	unsigned remainder = 0;

	if (n < 15 || n > 34 || !g_ascii_isupper(iban[0]) ||
	    !g_ascii_isupper(iban[1]))
		return false;
	c = iban_country(iban);
	if (c == NULL || c->length != n)
		return false;
	memcpy(buf, iban, n);
	buf[n] = '\0';
	if (!bban_ok(buf + 4, c->bban) || !g_ascii_isdigit(buf[2]) ||
	    !g_ascii_isdigit(buf[3]))
		return false;
	/* ISO 13616: the first four characters go to the end, letters
	 * become 10..35, and the number mod 97 must be 1 */
	for (size_t k = 0; k < n; k++) {
		char ch = buf[(k + 4) % n];

		if (g_ascii_isdigit(ch))
			remainder = (remainder * 10 + (unsigned)(ch - '0')) % 97;
		else
			remainder = (remainder * 100 +
			    (unsigned)(ch - 'A' + 10)) % 97;
	}
	return remainder == 1;
}

void
dlp_valid_iban(const char *text, size_t len, size_t start, size_t end,
    dlp_verdict *v)
{
	unsigned want;

	(void)len;
	g_string_truncate(v->value, 0);
	for (size_t i = start; i < end; i++)
		if (text[i] != ' ')
			g_string_append_c(v->value, text[i]);
	v->formatted = v->value->len != end - start;
	want = dlp_iban_length(v->value->str);
	/* the print form groups by four, so a country length that is a
	 * multiple of four may have swallowed a following word */
	if (v->formatted && want > 0 && want % 4 == 0 &&
	    v->value->len > want) {
		size_t kept = 0, i;

		g_string_truncate(v->value, want);
		for (i = start; i < end && kept < want; i++)
			if (text[i] != ' ')
				kept++;
		v->end = i;
	}
	if (!dlp_iban_ok(v->value->str, v->value->len))
		return;
	g_string_truncate(v->sample, 0);
	g_string_append_len(v->sample, v->value->str, 4);
	g_string_append(v->sample, "\xe2\x80\xa6");
	g_string_append(v->sample, v->value->str + v->value->len - 4);
	v->valid = true;
}

/* ---- 4-7: US and Dutch nine-digit numbers ---- */

void
dlp_valid_ssn(const char *text, size_t len, size_t start, size_t end,
    dlp_verdict *v)
{
	static const char *const advertised[] = {
		"078051120", "219099999", "123456789",
	};
	const char *d;
	unsigned area, group, serial;

	(void)len;
	v->formatted = digits_of(text, start, end, v->value) > 0;
	if (v->value->len != 9)
		return;
	d = v->value->str;
	area = num(d, 3);
	group = num(d + 3, 2);
	serial = num(d + 5, 4);
	/* 987-65-4320..4329 fall under area >= 900 already */
	if (area == 0 || area == 666 || area >= 900 || group == 0 ||
	    serial == 0 || all_same(d, 9))
		return;
	for (size_t i = 0; i < G_N_ELEMENTS(advertised); i++)
		if (memcmp(d, advertised[i], 9) == 0)
			return;
	g_string_assign(v->sample, "***-**-");
	g_string_append(v->sample, d + 5);
	v->valid = true;
}

void
dlp_valid_itin(const char *text, size_t len, size_t start, size_t end,
    dlp_verdict *v)
{
	unsigned group;

	(void)len;
	v->formatted = digits_of(text, start, end, v->value) > 0;
	if (v->value->len != 9 || v->value->str[0] != '9')
		return;
	group = num(v->value->str + 3, 2);
	if (!(in_range(group, 50, 65) || in_range(group, 70, 88) ||
	    in_range(group, 90, 92) || in_range(group, 94, 99)))
		return;
	g_string_assign(v->sample, "***-**-");
	g_string_append(v->sample, v->value->str + 5);
	v->valid = true;
}

void
dlp_valid_aba(const char *text, size_t len, size_t start, size_t end,
    dlp_verdict *v)
{
	static const unsigned weight[3] = { 3, 7, 1 };
	unsigned prefix, sum = 0;
	const char *d;

	(void)len;
	v->formatted = digits_of(text, start, end, v->value) > 0;
	if (v->value->len != 9)
		return;
	d = v->value->str;
	prefix = num(d, 2);
	if (!(prefix <= 12 || in_range(prefix, 21, 32) ||
	    in_range(prefix, 61, 72) || prefix == 80) || all_same(d, 9))
		return;
	for (size_t i = 0; i < 9; i++)
		sum += weight[i % 3] * (unsigned)(d[i] - '0');
	if (sum % 10 != 0)
		return;
	mask_tail(v->sample, d, 9, 4);
	v->valid = true;
}

void
dlp_valid_bsn(const char *text, size_t len, size_t start, size_t end,
    dlp_verdict *v)
{
	int sum = 0;
	const char *d;

	(void)len;
	v->formatted = digits_of(text, start, end, v->value) > 0;
	if (v->value->len == 8) {
		/* an 8-digit BSN lost its leading zero; so did many dates
		 * and order numbers, hence only next to a keyword */
		g_string_prepend_c(v->value, '0');
		v->needs_keyword = true;
	}
	if (v->value->len != 9)
		return;
	d = v->value->str;
	for (size_t i = 0; i < 8; i++)
		sum += (int)(9 - i) * (d[i] - '0');
	sum -= d[8] - '0';
	if (sum % 11 != 0 || all_same(d, 9))
		return;
	mask_tail(v->sample, d, 9, 3);
	v->valid = true;
}

/* ---- 8-12: European identifiers ---- */

void
dlp_valid_nino(const char *text, size_t len, size_t start, size_t end,
    dlp_verdict *v)
{
	static const char *const bad_prefix[] = {
		"BG", "GB", "NK", "KN", "NT", "TN", "ZZ",
	};
	const char *s;
	size_t spaces;

	(void)len;
	g_string_truncate(v->value, 0);
	for (size_t i = start; i < end; i++)
		if (text[i] != ' ')
			g_string_append_c(v->value, g_ascii_toupper(text[i]));
	spaces = end - start - v->value->len;
	v->formatted = spaces > 0;
	/* written AB123456C, AB 12 34 56 C or AB123456 C; other spacing
	 * is a flight number, a reference, anything */
	if (!(spaces == 0 || spaces == 4 ||
	    (spaces == 1 && text[end - 2] == ' ')))
		return;
	s = v->value->str;
	if (v->value->len != 9 || strchr("DFIQUV", s[0]) != NULL ||
	    strchr("DFIOQUV", s[1]) != NULL || s[8] < 'A' || s[8] > 'D' ||
	    memcmp(s + 2, "000000", 6) == 0)
		return;
	for (size_t i = 0; i < G_N_ELEMENTS(bad_prefix); i++)
		if (memcmp(s, bad_prefix[i], 2) == 0)
			return;
	mask_tail(v->sample, s, 9, 3);
	v->valid = true;
}

void
dlp_valid_de_taxid(const char *text, size_t len, size_t start, size_t end,
    dlp_verdict *v)
{
	unsigned seen[10] = { 0 }, repeated = 0, product = 10, check;
	const char *d;

	(void)len;
	v->formatted = digits_of(text, start, end, v->value) > 0;
	d = v->value->str;
	if (v->value->len != 11 || d[0] == '0')
		return;
	/* in the first ten digits exactly one digit occurs twice or three
	 * times, and three times never in three adjacent places */
	for (size_t i = 0; i < 10; i++)
		seen[d[i] - '0']++;
	for (size_t k = 0; k < 10; k++) {
		if (seen[k] > 3)
			return;
		if (seen[k] >= 2)
			repeated++;
	}
	if (repeated != 1)
		return;
	for (size_t i = 0; i + 2 < 10; i++)
		if (d[i] == d[i + 1] && d[i] == d[i + 2])
			return;
	/* ISO 7064 MOD 11,10 */
	for (size_t i = 0; i < 10; i++) {
		unsigned sum = ((unsigned)(d[i] - '0') + product) % 10;

		if (sum == 0)
			sum = 10;
		product = (sum * 2) % 11;
	}
	check = 11 - product;
	if (check == 10)
		check = 0;
	if (check != (unsigned)(d[10] - '0'))
		return;
	mask_tail(v->sample, d, 11, 3);
	v->valid = true;
}

void
dlp_valid_fr_nir(const char *text, size_t len, size_t start, size_t end,
    dlp_verdict *v)
{
	char d[16];
	unsigned month, key;
	uint64_t number = 0;

	(void)len;
	g_string_truncate(v->value, 0);
	for (size_t i = start; i < end; i++)
		if (text[i] != ' ')
			g_string_append_c(v->value, g_ascii_toupper(text[i]));
	v->formatted = v->value->len != end - start;
	if (v->value->len != 15)
		return;
	memcpy(d, v->value->str, 15);
	d[15] = '\0';
	month = num(d + 3, 2);
	if (strchr("123478", d[0]) == NULL ||
	    !(in_range(month, 1, 12) || in_range(month, 20, 99)))
		return;
	/* Corsica: 2A counts as 19, 2B as 18 in the key computation */
	if (d[5] == '2' && (d[6] == 'A' || d[6] == 'B')) {
		d[5] = '1';
		d[6] = d[6] == 'A' ? '9' : '8';
	}
	for (size_t i = 0; i < 15; i++)
		if (!g_ascii_isdigit(d[i]))
			return;
	for (size_t i = 0; i < 13; i++)
		number = number * 10 + (uint64_t)(d[i] - '0');
	key = num(d + 13, 2);
	if (key < 1 || key > 97 || 97 - number % 97 != key)
		return;
	mask_tail(v->sample, v->value->str, 15, 3);
	v->valid = true;
}

void
dlp_valid_es_dni(const char *text, size_t len, size_t start, size_t end,
    dlp_verdict *v)
{
	static const char letters[] = "TRWAGMYFPDXBNJZSQVHLCKE";
	const char *s;
	unsigned n = 0;
	size_t count;

	(void)len;
	g_string_truncate(v->value, 0);
	for (size_t i = start; i < end; i++)
		if (text[i] != ' ' && text[i] != '-')
			g_string_append_c(v->value, text[i]);
	v->formatted = v->value->len != end - start;
	s = v->value->str;
	count = v->value->len;
	if (count != 9)
		return;
	if (s[0] == 'X' || s[0] == 'Y' || s[0] == 'Z')
		n = (unsigned)(s[0] - 'X');
	else if (g_ascii_isdigit(s[0]))
		n = (unsigned)(s[0] - '0');
	else
		return;
	for (size_t i = 1; i < 8; i++) {
		if (!g_ascii_isdigit(s[i]))
			return;
		n = n * 10 + (unsigned)(s[i] - '0');
	}
	if (letters[n % 23] != s[8] || (g_ascii_isdigit(s[0]) &&
	    all_same(s, 8)))
		return;
	mask_tail(v->sample, s, 9, 3);
	v->valid = true;
}

void
dlp_valid_be_nrn(const char *text, size_t len, size_t start, size_t end,
    dlp_verdict *v)
{
	const char *d;
	unsigned month, day, check;
	uint64_t first;

	(void)len;
	v->formatted = digits_of(text, start, end, v->value) > 0;
	d = v->value->str;
	if (v->value->len != 11)
		return;
	/* month + 20 or + 40 for "bis" numbers; 00 when unknown */
	month = num(d + 2, 2);
	day = num(d + 4, 2);
	if (!(month <= 12 || in_range(month, 20, 32) ||
	    in_range(month, 40, 52)) || day > 31 || num(d + 6, 3) == 0)
		return;
	first = num(d, 9);
	check = num(d + 9, 2);
	if (97 - first % 97 != check &&
	    97 - (2000000000ULL + first) % 97 != check)
		return;
	mask_tail(v->sample, d, 11, 3);
	v->valid = true;
}

/* ---- 14: private keys ---- */

/* b64_decode - strict base64 (standard or url alphabet), white space
 * skipped; false on any other character or bad padding */
static bool
b64_decode(const char *s, size_t n, bool url, GByteArray *out)
{
	return codec_unbase64_text(s, n, url, out);
}

static int
no_password(char *buf, int size, int rwflag, void *u)
{
	(void)buf;
	(void)size;
	(void)rwflag;
	(void)u;
	return -1;	/* never prompt, never guess */
}

/* pem_private_key - parse a clear PEM key; the value is the DER public
 * key so one key counts once whatever its format */
static bool
pem_private_key(const char *block, size_t n, dlp_verdict *v)
{
	BIO *bio = BIO_new_mem_buf(block, (int)n);
	EVP_PKEY *pkey;
	unsigned char *der = NULL;
	int derlen;
	bool ok = false;

	if (bio == NULL)
		return false;
	pkey = PEM_read_bio_PrivateKey(bio, NULL, no_password, NULL);
	BIO_free(bio);
	if (pkey == NULL) {
		ERR_clear_error();
		return false;
	}
	derlen = i2d_PUBKEY(pkey, &der);
	if (derlen > 0) {
		g_string_truncate(v->value, 0);
		g_string_append_len(v->value, (const char *)der, derlen);
		fingerprint(v->sample, "private key", der, (size_t)derlen);
		ok = true;
	}
	OPENSSL_free(der);
	EVP_PKEY_free(pkey);
	ERR_clear_error();
	return ok;
}

static bool
pem_pkcs8_encrypted(const char *block, size_t n)
{
	BIO *bio = BIO_new_mem_buf(block, (int)n);
	X509_SIG *sig;

	if (bio == NULL)
		return false;
	sig = PEM_read_bio_PKCS8(bio, NULL, no_password, NULL);
	BIO_free(bio);
	ERR_clear_error();
	if (sig == NULL)
		return false;
	X509_SIG_free(sig);
	return true;
}

/* line_after - the text of the line starting at *at, advancing *at past
 * its end; false at the end of the span */
static bool
line_after(const char *text, size_t end, size_t *at, const char **line,
    size_t *line_len)
{
	const char *nl;
	size_t n;

	if (*at >= end)
		return false;
	nl = memchr(text + *at, '\n', end - *at);
	n = nl ? (size_t)(nl - (text + *at)) : end - *at;
	*line = text + *at;
	*at += n + (nl != NULL);
	if (n > 0 && (*line)[n - 1] == '\r')
		n--;
	*line_len = n;
	return true;
}

static bool
starts(const char *line, size_t n, const char *prefix)
{
	size_t p = strlen(prefix);

	return n >= p && memcmp(line, prefix, p) == 0;
}

/* pem_body - decode the base64 between the header lines (and the armour
 * headers, up to a blank line) and the END line */
static bool
pem_body(const char *text, size_t body, size_t body_end, bool armour,
    GByteArray *out, bool *legacy_encrypted, GByteArray *crc)
{
	size_t at = body, b64_start = body;
	const char *line;
	size_t n;
	bool headers = false;

	/* the rest of the BEGIN line */
	if (!line_after(text, body_end, &at, &line, &n))
		return false;
	body = b64_start = at;
	/* RFC 1421 / RFC 4880 armour headers: "Name: value" lines, then a
	 * blank line */
	while (line_after(text, body_end, &at, &line, &n)) {
		if (memchr(line, ':', n) != NULL) {
			headers = true;
			if (starts(line, n, "Proc-Type: 4,ENCRYPTED"))
				*legacy_encrypted = true;
			b64_start = at;
			continue;
		}
		if (n == 0 && headers)
			b64_start = at;
		break;
	}
	if (!headers && armour)
		b64_start = body;
	/* the OpenPGP CRC line "=XXXX" ends the data */
	for (at = b64_start; armour && at < body_end;) {
		size_t here = at;

		if (!line_after(text, body_end, &at, &line, &n))
			break;
		if (n == 5 && line[0] == '=') {
			if (crc != NULL && !b64_decode(line + 1, 4, false, crc))
				return false;
			body_end = here;
			break;
		}
	}
	return b64_decode(text + b64_start, body_end - b64_start, false, out);
}

static uint32_t
crc24(const guint8 *data, size_t n)
{
	uint32_t crc = 0xB704CEu;

	for (size_t i = 0; i < n; i++) {
		crc ^= (uint32_t)data[i] << 16;
		for (int k = 0; k < 8; k++) {
			crc <<= 1;
			if (crc & 0x1000000u)
				crc ^= 0x1864CFBu;
		}
	}
	return crc & 0xFFFFFFu;
}

/* openpgp_secret_key - the first packet is a Secret-Key packet (tag 5)
 * of a known version whose length fits the data */
static bool
openpgp_secret_key(const guint8 *p, size_t n)
{
	size_t body_len, hdr;
	unsigned tag;

	if (n < 8 || !(p[0] & 0x80))
		return false;
	if (p[0] & 0x40) {			/* new format */
		tag = p[0] & 0x3f;
		if (p[1] < 192) {
			body_len = p[1];
			hdr = 2;
		} else if (p[1] < 224) {
			body_len = ((size_t)(p[1] - 192) << 8) + p[2] + 192;
			hdr = 3;
		} else if (p[1] == 255) {
			body_len = ((size_t)p[2] << 24) | ((size_t)p[3] << 16) |
			    ((size_t)p[4] << 8) | p[5];
			hdr = 6;
		} else {
			return false;		/* partial lengths: not keys */
		}
	} else {				/* old format */
		unsigned lt = p[0] & 3;

		tag = (p[0] >> 2) & 0xf;
		if (lt == 0) {
			body_len = p[1];
			hdr = 2;
		} else if (lt == 1) {
			body_len = ((size_t)p[1] << 8) | p[2];
			hdr = 3;
		} else if (lt == 2) {
			body_len = ((size_t)p[1] << 24) | ((size_t)p[2] << 16) |
			    ((size_t)p[3] << 8) | p[4];
			hdr = 5;
		} else {
			return false;
		}
	}
	if (tag != 5 || body_len < 6 || hdr + body_len > n)
		return false;
	p += hdr;
	if (p[0] < 3 || p[0] > 6)
		return false;
	if (p[0] >= 4) {
		/* version, 4-octet time, public-key algorithm */
		static const guint8 algos[] = { 1, 2, 3, 16, 17, 18, 19, 22,
		    25, 26, 27, 28 };

		return memchr(algos, p[5], sizeof(algos)) != NULL;
	}
	return true;
}

static bool
ssh_string(const guint8 *p, size_t n, size_t *at, const guint8 **s,
    size_t *slen)
{
	uint32_t l;

	if (n - *at < 4)
		return false;
	l = ((uint32_t)p[*at] << 24) | ((uint32_t)p[*at + 1] << 16) |
	    ((uint32_t)p[*at + 2] << 8) | p[*at + 3];
	*at += 4;
	if (l > n - *at)
		return false;
	*s = p + *at;
	*slen = l;
	*at += l;
	return true;
}

/* openssh_key - the openssh-key-v1 structure: magic, cipher, kdf, kdf
 * options, key count, public key, private section (whose two check
 * integers match when the key is clear) */
static bool
openssh_key(const guint8 *p, size_t n, dlp_verdict *v)
{
	static const char magic[] = "openssh-key-v1";
	const guint8 *cipher, *kdf, *opts, *pub, *priv, *type;
	size_t cl, kl, ol, pl, sl, tl, at = sizeof(magic), pat = 0;
	uint32_t count;

	if (n < sizeof(magic) || memcmp(p, magic, sizeof(magic)) != 0)
		return false;
	if (!ssh_string(p, n, &at, &cipher, &cl) ||
	    !ssh_string(p, n, &at, &kdf, &kl) ||
	    !ssh_string(p, n, &at, &opts, &ol) || n - at < 4)
		return false;
	count = ((uint32_t)p[at] << 24) | ((uint32_t)p[at + 1] << 16) |
	    ((uint32_t)p[at + 2] << 8) | p[at + 3];
	at += 4;
	if (count < 1 || count > 16 || !ssh_string(p, n, &at, &pub, &pl) ||
	    !ssh_string(pub, pl, &pat, &type, &tl) || tl < 7 ||
	    !ssh_string(p, n, &at, &priv, &sl) || sl < 8)
		return false;
	if (!(tl >= 4 && (memcmp(type, "ssh-", 4) == 0 ||
	    memcmp(type, "ecdsa-", 6) == 0 || memcmp(type, "sk-", 3) == 0)))
		return false;
	if (cl == 4 && memcmp(cipher, "none", 4) == 0) {
		if (memcmp(priv, priv + 4, 4) != 0)
			return false;
	} else {
		v->flags |= DLP_FLAG_ENCRYPTED;
	}
	g_string_truncate(v->value, 0);
	g_string_append_len(v->value, (const char *)pub, (gssize)pl);
	fingerprint(v->sample, "openssh private key", pub, pl);
	return true;
}

/* putty_key - PuTTY-User-Key-File-2/3: the header lines in order, the
 * announced numbers of base64 lines, and the MAC line */
static void
putty_key(const char *text, size_t len, size_t start, dlp_verdict *v)
{
	size_t end = start + MIN(len - start, DLP_BLOCK_MAX), at = start, n;
	const char *line;
	GByteArray *pub = g_byte_array_new(), *priv = g_byte_array_new();
	bool encrypted = false;

	if (!line_after(text, end, &at, &line, &n))
		goto done;
	for (int stage = 0; stage < 12; stage++) {
		unsigned long count;
		GByteArray *into;

		if (!line_after(text, end, &at, &line, &n))
			goto done;
		if (starts(line, n, "Encryption: ")) {
			encrypted = !starts(line, n, "Encryption: none");
			continue;
		}
		if (starts(line, n, "Comment: ") || starts(line, n, "Key-") ||
		    starts(line, n, "Argon2-"))
			continue;
		if (starts(line, n, "Private-MAC: ")) {
			if (pub->len == 0 || priv->len == 0)
				goto done;
			v->end = at;
			v->valid = true;
			break;
		}
		if (starts(line, n, "Public-Lines: "))
			into = pub;
		else if (starts(line, n, "Private-Lines: "))
			into = priv;
		else
			goto done;
		count = strtoul(line + (into == pub ? 14 : 15), NULL, 10);
		if (count == 0 || count > 1000)
			goto done;
		for (unsigned long k = 0; k < count; k++)
			if (!line_after(text, end, &at, &line, &n) ||
			    n == 0 || !b64_decode(line, n, false, into))
				goto done;
	}
	if (v->valid) {
		if (encrypted)
			v->flags |= DLP_FLAG_ENCRYPTED;
		g_string_truncate(v->value, 0);
		g_string_append_len(v->value, (const char *)pub->data,
		    pub->len);
		fingerprint(v->sample, "putty private key", pub->data,
		    pub->len);
	}
done:
	if (priv->len > 0)
		sodium_memzero(priv->data, priv->len);
	g_byte_array_free(pub, TRUE);
	g_byte_array_free(priv, TRUE);
}

void
dlp_valid_private_key(const char *text, size_t len, size_t start,
    size_t end, dlp_verdict *v)
{
	char endline[64];
	const char *label = text + start + 11, *close;
	size_t label_len, limit, block_end;
	GByteArray *body;
	bool legacy = false, ok = false;

	if (text[start] == 'P') {
		putty_key(text, len, start, v);
		return;
	}
	/* "-----BEGIN <label>-----" ... "-----END <label>-----" */
	label_len = end - start - 16;
	if (label_len + 15 >= sizeof(endline))
		return;
	snprintf(endline, sizeof(endline), "-----END %.*s-----",
	    (int)label_len, label);
	limit = MIN(len - end, DLP_BLOCK_MAX);
	close = memmem(text + end, limit, endline, strlen(endline));
	if (close == NULL)
		return;
	block_end = (size_t)(close - text) + strlen(endline);
	body = g_byte_array_new();
	if (label_len == 21 && memcmp(label, "PGP PRIVATE KEY BLOCK", 21) == 0) {
		GByteArray *crc = g_byte_array_new();

		ok = pem_body(text, end, (size_t)(close - text), true, body,
		    &legacy, crc) && openpgp_secret_key(body->data, body->len);
		if (ok && crc->len == 3)
			ok = crc24(body->data, body->len) ==
			    (((uint32_t)crc->data[0] << 16) |
			    ((uint32_t)crc->data[1] << 8) | crc->data[2]);
		g_byte_array_free(crc, TRUE);
		if (ok) {
			g_string_truncate(v->value, 0);
			g_string_append_len(v->value, (const char *)body->data,
			    body->len);
			g_string_assign(v->sample, "openpgp secret key");
		}
	} else if (label_len == 19 &&
	    memcmp(label, "OPENSSH PRIVATE KEY", 19) == 0) {
		ok = pem_body(text, end, (size_t)(close - text), false, body,
		    &legacy, NULL) && openssh_key(body->data, body->len, v);
	} else if (label_len == 21 &&
	    memcmp(label, "ENCRYPTED PRIVATE KEY", 21) == 0) {
		ok = pem_pkcs8_encrypted(text + start, block_end - start) &&
		    pem_body(text, end, (size_t)(close - text), false, body,
		    &legacy, NULL);
		if (ok) {
			v->flags |= DLP_FLAG_ENCRYPTED;
			g_string_truncate(v->value, 0);
			g_string_append_len(v->value, (const char *)body->data,
			    body->len);
			g_string_assign(v->sample, "encrypted pkcs8 key");
		}
	} else if (pem_body(text, end, (size_t)(close - text), false, body,
	    &legacy, NULL)) {
		if (legacy) {
			/* legacy encrypted PEM: a known cipher in DEK-Info
			 * and whole cipher blocks of data */
			const char *dek = g_strstr_len(text + end,
			    (gssize)(close - (text + end)), "DEK-Info: ");
			char cipher[32];
			size_t k = 0;

			if (dek != NULL) {
				dek += 10;
				while (k + 1 < sizeof(cipher) && dek[k] != ',' &&
				    dek[k] != '\n')
					cipher[k] = dek[k], k++;
				cipher[k] = '\0';
			}
			ok = dek != NULL && dek[k] == ',' &&
			    EVP_get_cipherbyname(cipher) != NULL &&
			    body->len >= 16 && body->len % 8 == 0;
			if (ok) {
				v->flags |= DLP_FLAG_ENCRYPTED;
				g_string_truncate(v->value, 0);
				g_string_append_len(v->value,
				    (const char *)body->data, body->len);
				g_string_assign(v->sample,
				    "encrypted pem key");
			}
		} else {
			ok = pem_private_key(text + start, block_end - start,
			    v);
		}
	}
	if (body->len > 0)
		sodium_memzero(body->data, body->len);
	g_byte_array_free(body, TRUE);
	if (ok) {
		v->end = block_end;
		v->valid = true;
	}
}

void
dlp_valid_pkcs12(const unsigned char *data, size_t len, dlp_verdict *v)
{
	const unsigned char *p = data;
	PKCS12 *p12;

	if (len == 0 || len > (size_t)INT32_MAX)
		return;
	p12 = d2i_PKCS12(NULL, &p, (long)len);
	ERR_clear_error();
	if (p12 == NULL)
		return;
	PKCS12_free(p12);
	g_string_truncate(v->value, 0);
	g_string_append_len(v->value, (const char *)data, (gssize)len);
	fingerprint(v->sample, "pkcs12 bundle", data, len);
	v->valid = true;
}

/* ---- 15-18: credentials and tokens ---- */

void
dlp_valid_aws(const char *text, size_t len, size_t start, size_t end,
    dlp_verdict *v)
{
	const char *m = text + start;
	size_t n = end - start;
	bool lower = false, upper = false, digit = false;

	(void)len;
	if (n >= 40 && g_ascii_tolower(m[0]) == 'a' && m[3] == '_') {
		/* aws_secret_access_key = <40 characters> */
		const char *secret = m + n - 40;

		if (g_strstr_len(secret, 40, "EXAMPLE") != NULL)
			return;
		for (size_t i = 0; i < 40; i++) {
			lower |= g_ascii_islower(secret[i]);
			upper |= g_ascii_isupper(secret[i]);
			digit |= g_ascii_isdigit(secret[i]);
		}
		if (!(lower && upper && digit))
			return;		/* a placeholder, not a secret */
		g_string_truncate(v->value, 0);
		g_string_append_len(v->value, secret, 40);
		g_string_assign(v->sample, "aws_secret_access_key=\xe2\x80\xa6");
		v->valid = true;
		return;
	}
	if (n != 20 || memcmp(m + 13, "EXAMPLE", 7) == 0)
		return;
	g_string_truncate(v->value, 0);
	g_string_append_len(v->value, m, 20);
	g_string_truncate(v->sample, 0);
	g_string_append_len(v->sample, m, 4);
	g_string_append(v->sample, "\xe2\x80\xa6");
	v->valid = true;
}

/* json_string_member - the unescaped value of "name": "..." inside
 * obj[0..n), or false */
static bool
json_string_member(const char *obj, size_t n, const char *name, GString *out)
{
	char quoted[64];
	const char *p, *stop = obj + n;

	snprintf(quoted, sizeof(quoted), "\"%s\"", name);
	p = g_strstr_len(obj, (gssize)n, quoted);
	if (p == NULL)
		return false;
	p += strlen(quoted);
	while (p < stop && g_ascii_isspace(*p))
		p++;
	if (p >= stop || *p++ != ':')
		return false;
	while (p < stop && g_ascii_isspace(*p))
		p++;
	if (p >= stop || *p++ != '"')
		return false;
	g_string_truncate(out, 0);
	while (p < stop && *p != '"') {
		if (*p == '\\' && p + 1 < stop) {
			p++;
			switch (*p) {
			case 'n': g_string_append_c(out, '\n'); break;
			case 'r': g_string_append_c(out, '\r'); break;
			case 't': g_string_append_c(out, '\t'); break;
			case 'u':
				if (stop - p < 5)
					return false;
				{
					char hex[5] = { p[1], p[2], p[3], p[4], 0 };
					gunichar u = (gunichar)strtoul(hex, NULL,
					    16);

					g_string_append_unichar(out, u);
				}
				p += 4;
				break;
			default: g_string_append_c(out, *p); break;
			}
			p++;
			continue;
		}
		g_string_append_c(out, *p++);
	}
	return p < stop;
}

void
dlp_valid_gcp(const char *text, size_t len, size_t start, size_t end,
    dlp_verdict *v)
{
	size_t open, close, distinct = 0;
	GString *member;
	bool seen[128] = { false };

	if (text[start] == 'A') {
		/* API key: AIza + 35; a run of one character is filler */
		for (size_t i = start + 4; i < end; i++)
			if (!seen[(unsigned char)text[i] & 0x7f]) {
				seen[(unsigned char)text[i] & 0x7f] = true;
				distinct++;
			}
		if (distinct < 8)
			return;
		g_string_truncate(v->value, 0);
		g_string_append_len(v->value, text + start,
		    (gssize)(end - start));
		g_string_assign(v->sample, "AIza\xe2\x80\xa6");
		v->valid = true;
		return;
	}
	/* service-account JSON: the flat object around "type" */
	for (open = start; open > 0 && start - open < DLP_BLOCK_MAX &&
	    text[open] != '{'; open--)
		;
	if (text[open] != '{')
		return;
	for (close = end; close < len && close - end < DLP_BLOCK_MAX &&
	    text[close] != '}'; close++)
		;
	if (close >= len || text[close] != '}')
		return;
	member = g_string_new(NULL);
	if (json_string_member(text + open, close - open, "private_key_id",
	    member) && member->len >= 8 &&
	    json_string_member(text + open, close - open, "private_key",
	    member)) {
		if (pem_private_key(member->str, member->len, v)) {
			g_string_prepend(v->sample, "gcp service account ");
			v->end = close + 1;
			v->valid = true;
		}
		sodium_memzero(member->str, member->len);
	}
	g_string_free(member, TRUE);
}

void
dlp_valid_jwt(const char *text, size_t len, size_t start, size_t end,
    dlp_verdict *v)
{
	const char *m = text + start, *dot1, *dot2, *alg, *exp;
	GByteArray *header = g_byte_array_new(), *payload = g_byte_array_new();
	size_t n = end - start;
	bool none = false;

	(void)len;
	dot1 = memchr(m, '.', n);
	dot2 = dot1 ? memchr(dot1 + 1, '.', (size_t)(m + n - dot1 - 1)) : NULL;
	if (dot2 == NULL ||
	    !b64_decode(m, (size_t)(dot1 - m), true, header) ||
	    !b64_decode(dot1 + 1, (size_t)(dot2 - dot1 - 1), true, payload))
		goto done;
	g_byte_array_append(header, (const guint8 *)"", 1);
	g_byte_array_append(payload, (const guint8 *)"", 1);
	if (header->data[0] != '{' || payload->data[0] != '{' ||
	    strchr((const char *)header->data, '}') == NULL)
		goto done;
	alg = strstr((const char *)header->data, "\"alg\"");
	if (alg == NULL)
		goto done;
	alg += 5;
	while (*alg == ' ' || *alg == ':')
		alg++;
	if (*alg != '"')
		goto done;
	none = g_ascii_strncasecmp(alg, "\"none\"", 6) == 0;
	/* a signed token has a signature; "none" may have none */
	if (!none && dot2 + 1 == m + n)
		goto done;
	if (none)
		v->flags |= DLP_FLAG_ALG_NONE;
	exp = strstr((const char *)payload->data, "\"exp\"");
	if (exp != NULL) {
		exp += 5;
		while (*exp == ' ' || *exp == ':')
			exp++;
		if (g_ascii_isdigit(*exp) &&
		    g_ascii_strtoull(exp, NULL, 10) > (guint64)time(NULL))
			v->strong = true;
	}
	g_string_truncate(v->value, 0);
	g_string_append_len(v->value, m, (gssize)n);
	g_string_assign(v->sample, "eyJ\xe2\x80\xa6 alg=");
	for (const char *a = alg + 1; *a && *a != '"' && a < alg + 16; a++)
		g_string_append_c(v->sample, g_ascii_isalnum(*a) ? *a : '?');
	v->valid = true;
done:
	g_byte_array_free(header, TRUE);
	g_byte_array_free(payload, TRUE);
}

void
dlp_valid_token(const char *text, size_t len, size_t start, size_t end,
    dlp_verdict *v)
{
	const char *m = text + start, *body;
	size_t n = end - start, prefix, distinct = 0;
	bool seen[128] = { false };

	(void)len;
	/* body: the separator before the random part */
	if (m[0] == 'x')			/* xox?-team-user-secret */
		body = memrchr(m, '-', n);
	else if (m[0] == 'g' && m[1] == 'l')
		body = memchr(m, '-', n);
	else if (m[0] == 'g' && m[1] == 'i')	/* github_pat_ */
		body = m + 10;
	else if (m[0] == 's')			/* sk_live_ */
		body = m + 7;
	else
		body = memchr(m, '_', n);
	if (body == NULL)
		return;
	prefix = (size_t)(body - m) + 1;
	for (const char *p = m + prefix; p < m + n; p++)
		if (!seen[(unsigned char)*p & 0x7f]) {
			seen[(unsigned char)*p & 0x7f] = true;
			distinct++;
		}
	/* a real token is random; "ghp_xxxx..." is a placeholder */
	if (distinct < 8)
		return;
	g_string_truncate(v->value, 0);
	g_string_append_len(v->value, m, (gssize)n);
	g_string_truncate(v->sample, 0);
	g_string_append_len(v->sample, m, (gssize)MIN(prefix, 11));
	g_string_append(v->sample, "\xe2\x80\xa6");
	v->valid = true;
}
