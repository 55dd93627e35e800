/*
 * test-dlp.c - table-driven tests of the DLP engine (common/dlp.c and
 * common/dlp-valid.c) against dlp.md section 3: for each of the 18
 * built-in detectors at least 20 true positives and 20 near misses (wrong
 * check digits, published test numbers, look-alike phone numbers and
 * dates, substrings of longer numbers, values inside addresses and URLs,
 * broken structures).  Valid values are generated here, with check digits
 * computed by this file's own code, from a fixed seed.  The test prints
 * precision and recall per detector, then checks counting, tags, masking,
 * normalization, negative hotwords, custom detectors and that a
 * catastrophic custom regex ends "undecided", quickly.
 */
#include "dlp.h"

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/pkcs12.h>
#include <time.h>

#include "unit.h"

typedef struct tcase {
	int detector;
	bool positive;
	char *text;
} tcase;

static GPtrArray *cases;
static GRand *rng;

static void
tcase_free(gpointer p)
{
	tcase *c = p;

	g_free(c->text);
	g_free(c);
}

/* add - a case; text is taken over */
static void
add(int detector, bool positive, char *text)
{
	tcase *c = g_new0(tcase, 1);

	c->detector = detector;
	c->positive = positive;
	c->text = text;
	g_ptr_array_add(cases, c);
}

#define TP(d, ...) add(d, true, g_strdup_printf(__VA_ARGS__))
#define NM(d, ...) add(d, false, g_strdup_printf(__VA_ARGS__))

static char *
rand_from(const char *alphabet, size_t n)
{
	size_t k = strlen(alphabet);
	char *s = g_malloc(n + 1);

	for (size_t i = 0; i < n; i++)
		s[i] = alphabet[g_rand_int_range(rng, 0, (gint32)k)];
	s[n] = '\0';
	return s;
}

#define DIGITS "0123456789"
#define ALNUM "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"

/* ---- check digits, written independently of the code under test ---- */

static int
luhn_sum(const char *s)
{
	size_t n = strlen(s);
	int sum = 0;

	for (size_t i = 0; i < n; i++) {
		int d = s[n - 1 - i] - '0';

		if (i % 2 == 1)
			d = d * 2 > 9 ? d * 2 - 9 : d * 2;
		sum += d;
	}
	return sum % 10;
}

/* card - prefix, random digits, Luhn digit: n digits in all */
static char *
card(const char *prefix, size_t n)
{
	char *body = rand_from(DIGITS, n - strlen(prefix) - 1);
	char *s = g_strdup_printf("%s%s0", prefix, body);

	g_free(body);
	s[n - 1] = (char)('0' + (10 - luhn_sum(s)) % 10);
	return s;
}

/* bad_check - the same number with its last digit changed */
static char *
bad_check(const char *s)
{
	char *t = g_strdup(s);
	size_t n = strlen(t);

	t[n - 1] = (char)('0' + (t[n - 1] - '0' + 3) % 10);
	return t;
}

/* group - digits in groups of the given sizes, joined by sep */
static char *
group(const char *d, const int *sizes, char sep)
{
	GString *s = g_string_new(NULL);

	for (size_t i = 0, at = 0; d[at] != '\0'; i++) {
		if (i > 0)
			g_string_append_c(s, sep);
		g_string_append_len(s, d + at, sizes[i]);
		at += (size_t)sizes[i];
	}
	return g_string_free(s, FALSE);
}

static const int g4444[] = { 4, 4, 4, 4, 4 };
static const int g465[] = { 4, 6, 5 };
static const int g464[] = { 4, 6, 4 };
static const int g22[] = { 2, 2, 2, 2, 2, 2, 2, 2, 2, 2 };

static unsigned
mod97(const char *s)
{
	unsigned r = 0;

	for (; *s; s++) {
		if (g_ascii_isdigit(*s))
			r = (r * 10 + (unsigned)(*s - '0')) % 97;
		else
			r = (r * 100 + (unsigned)(*s - 'A' + 10)) % 97;
	}
	return r;
}

/* iban - country + computed check digits + bban */
static char *
iban(const char *country, const char *bban)
{
	char *moved = g_strdup_printf("%s%s00", bban, country);
	unsigned check = 98 - mod97(moved);

	g_free(moved);
	return g_strdup_printf("%s%02u%s", country, check, bban);
}

/* bban_of - random BBAN of a structure like "4a10n" */
static char *
bban_of(const char *spec)
{
	GString *s = g_string_new(NULL);

	while (*spec) {
		unsigned count = 0;

		while (g_ascii_isdigit(*spec))
			count = count * 10 + (unsigned)(*spec++ - '0');
		for (unsigned i = 0; i < count; i++) {
			const char *from = *spec == 'n' ? DIGITS : *spec == 'a' ?
			    "ABCDEFGHIJKLMNOPQRSTUVWXYZ" :
			    "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
			char *one = rand_from(from, 1);

			g_string_append(s, one);
			g_free(one);
		}
		spec++;
	}
	return g_string_free(s, FALSE);
}

/* print_form - groups of four separated by spaces */
static char *
print_form(const char *s)
{
	GString *out = g_string_new(NULL);

	for (size_t i = 0; s[i]; i++) {
		if (i > 0 && i % 4 == 0)
			g_string_append_c(out, ' ');
		g_string_append_c(out, s[i]);
	}
	return g_string_free(out, FALSE);
}

static char *
ssn_like(int area, int grp, int serial, char sep)
{
	if (sep == 0)
		return g_strdup_printf("%03d%02d%04d", area, grp, serial);
	return g_strdup_printf("%03d%c%02d%c%04d", area, sep, grp, sep, serial);
}

/* aba - 9 digits with a prefix from the routing ranges and the 3-7-1
 * check digit */
static char *
aba(int prefix, bool valid)
{
	static const int w[] = { 3, 7, 1, 3, 7, 1, 3, 7 };
	char *body = rand_from(DIGITS, 6);
	char *s = g_strdup_printf("%02d%s0", prefix, body);
	int sum = 0;

	for (int i = 0; i < 8; i++)
		sum += w[i] * (s[i] - '0');
	s[8] = (char)('0' + (10 - sum % 10) % 10);
	if (!valid)
		s[8] = (char)('0' + (s[8] - '0' + 1) % 10);
	g_free(body);
	return s;
}

/* bsn - 9 digits passing the 11-proof (first digit given) */
static char *
bsn(char first, bool valid)
{
	for (;;) {
		char *s = rand_from(DIGITS, 9);
		int sum = 0;

		s[0] = first;
		for (int i = 0; i < 8; i++)
			sum += (9 - i) * (s[i] - '0');
		if (sum % 11 == 10) {
			g_free(s);
			continue;
		}
		s[8] = (char)('0' + sum % 11);
		if (!valid)
			s[8] = (char)('0' + (sum % 11 + 1) % 10);
		return s;
	}
}

static char *
nino(void)
{
	for (;;) {
		char *a = rand_from("ABCEGHJKLMNPRSTWXYZ", 1);
		char *b = rand_from("ABCEGHJKLMNPRSTWXYZ", 1);
		char *d = rand_from(DIGITS, 6);
		char *x = rand_from("ABCD", 1);
		char *s = g_strdup_printf("%s%s%s%s", a, b, d, x);
		bool bad = strncmp(s, "GB", 2) == 0 || strncmp(s, "NK", 2) == 0 ||
		    strncmp(s, "KN", 2) == 0 || strncmp(s, "NT", 2) == 0 ||
		    strncmp(s, "TN", 2) == 0 || strncmp(s, "ZZ", 2) == 0 ||
		    strncmp(s, "BG", 2) == 0 || strncmp(s + 2, "000000", 6) == 0;

		g_free(a), g_free(b), g_free(d), g_free(x);
		if (!bad)
			return s;
		g_free(s);
	}
}

static int
mod11_10(const char *d)
{
	int product = 10;

	for (int i = 0; i < 10; i++) {
		int sum = (d[i] - '0' + product) % 10;

		if (sum == 0)
			sum = 10;
		product = (sum * 2) % 11;
	}
	return (11 - product) % 10;
}

/* steuer_id - ten digits where exactly one digit occurs twice (or three
 * times, never adjacent), first not 0, then the MOD 11,10 digit */
static char *
steuer_id(int times)
{
	for (;;) {
		char d[12];
		int pool[10], n = 0, missing = g_rand_int_range(rng, 0, 10);
		int twice = g_rand_int_range(rng, 0, 10);
		bool ok = true;

		if (twice == missing)
			continue;
		for (int k = 0; k < 10; k++)
			if (k != missing && (times == 2 || k != (missing + 1) % 10
			    || k == twice))
				pool[n++] = k;
		/* times 3: one more digit missing, the repeated one thrice */
		while (n < 10)
			pool[n++] = twice;
		for (int i = 9; i > 0; i--) {
			int j = g_rand_int_range(rng, 0, i + 1), t = pool[i];

			pool[i] = pool[j];
			pool[j] = t;
		}
		for (int i = 0; i < 10; i++)
			d[i] = (char)('0' + pool[i]);
		d[10] = d[11] = '\0';
		for (int i = 0; i + 2 < 10; i++)
			if (d[i] == d[i + 1] && d[i] == d[i + 2])
				ok = false;
		if (!ok || d[0] == '0')
			continue;
		d[10] = (char)('0' + mod11_10(d));
		return g_strdup(d);
	}
}

/* nir - sex, year, month, department (2A/2B too), commune, order, key */
static char *
nir(const char *dept, bool valid, bool spaced)
{
	char *yy = rand_from(DIGITS, 2), *comm = rand_from(DIGITS, 3);
	char *ord = rand_from(DIGITS, 3), *num, *s;
	int month = g_rand_int_range(rng, 1, 13), key;
	char sex = g_rand_boolean(rng) ? '1' : '2';
	guint64 n;

	if (strcmp(comm, "000") == 0)
		comm[2] = '1';
	num = g_strdup_printf("%c%s%02d%s%s%s", sex, yy, month, dept, comm, ord);
	{
		char *digits = g_strdup(num);

		if (strcmp(dept, "2A") == 0)
			digits[5] = '1', digits[6] = '9';
		if (strcmp(dept, "2B") == 0)
			digits[5] = '1', digits[6] = '8';
		n = g_ascii_strtoull(digits, NULL, 10);
		g_free(digits);
	}
	key = (int)(97 - n % 97);
	if (!valid)
		key = key % 97 + 1;
	if (spaced)
		s = g_strdup_printf("%c %.2s %.2s %.2s %.3s %.3s %02d", num[0],
		    num + 1, num + 3, num + 5, num + 7, num + 10, key);
	else
		s = g_strdup_printf("%s%02d", num, key);
	g_free(yy), g_free(comm), g_free(ord), g_free(num);
	return s;
}

static char
dni_letter(unsigned n)
{
	return "TRWAGMYFPDXBNJZSQVHLCKE"[n % 23];
}

/* be_nrn - YYMMDD sss CC, CC = 97 - (9 digits [prefixed 2] mod 97) */
static char *
be_nrn(bool y2k, bool valid, bool formatted)
{
	int yy = g_rand_int_range(rng, 0, 100), mm = g_rand_int_range(rng, 1, 13);
	int dd = g_rand_int_range(rng, 1, 29), sss = g_rand_int_range(rng, 1, 998);
	guint64 first = (guint64)yy * 10000000 + (guint64)mm * 100000 +
	    (guint64)dd * 1000 + (guint64)sss;
	int cc = (int)(97 - ((y2k ? 2000000000ULL : 0) + first) % 97);

	if (!valid)
		cc = cc % 97 + 1;
	if (formatted)
		return g_strdup_printf("%02d.%02d.%02d-%03d.%02d", yy, mm, dd, sss,
		    cc);
	return g_strdup_printf("%02d%02d%02d%03d%02d", yy, mm, dd, sss, cc);
}

static char *
b64url(const char *s)
{
	char *b = g_base64_encode((const guchar *)s, strlen(s));

	for (char *p = b; *p; p++)
		*p = *p == '+' ? '-' : *p == '/' ? '_' : *p;
	if (strchr(b, '=') != NULL)
		*strchr(b, '=') = '\0';
	return b;
}

static char *
jwt(const char *header, const char *payload, bool signature)
{
	char *h = b64url(header), *p = b64url(payload);
	char *sig = signature ? rand_from(ALNUM "-_", 43) : g_strdup("");
	char *s = g_strdup_printf("%s.%s.%s", h, p, sig);

	g_free(h), g_free(p), g_free(sig);
	return s;
}

/* ---- key material for detector 14 and 16 ---- */

static char *
bio_text(BIO *bio)
{
	char *data;
	long n = BIO_get_mem_data(bio, &data);
	char *s = g_strndup(data, (gsize)n);

	BIO_free(bio);
	return s;
}

enum key_form { KEY_PKCS8, KEY_TRADITIONAL, KEY_PKCS8_ENC, KEY_LEGACY_ENC };

static char *
pem_key(EVP_PKEY *pkey, enum key_form form)
{
	BIO *bio = BIO_new(BIO_s_mem());

	switch (form) {
	case KEY_PKCS8:
		PEM_write_bio_PrivateKey(bio, pkey, NULL, NULL, 0, NULL, NULL);
		break;
	case KEY_TRADITIONAL:
		PEM_write_bio_PrivateKey_traditional(bio, pkey, NULL, NULL, 0,
		    NULL, NULL);
		break;
	case KEY_PKCS8_ENC:
		PEM_write_bio_PKCS8PrivateKey(bio, pkey, EVP_aes_256_cbc(),
		    "secret", 6, NULL, NULL);
		break;
	case KEY_LEGACY_ENC:
		PEM_write_bio_PrivateKey_traditional(bio, pkey,
		    EVP_aes_128_cbc(), (unsigned char *)"secret", 6, NULL, NULL);
		break;
	}
	return bio_text(bio);
}

static void
put_u32(GByteArray *b, guint32 v)
{
	guint8 x[4] = { (guint8)(v >> 24), (guint8)(v >> 16), (guint8)(v >> 8),
	    (guint8)v };

	g_byte_array_append(b, x, 4);
}

static void
put_str(GByteArray *b, const void *s, size_t n)
{
	put_u32(b, (guint32)n);
	g_byte_array_append(b, s, (guint)n);
}

static void
put_rand(GByteArray *b, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		guint8 x = (guint8)g_rand_int(rng);

		g_byte_array_append(b, &x, 1);
	}
}

/* wrap - base64 of bytes in lines of width */
static char *
wrap(const guint8 *data, size_t n, size_t width)
{
	char *b = g_base64_encode(data, n);
	GString *s = g_string_new(NULL);

	for (size_t i = 0; b[i]; i++) {
		if (i > 0 && i % width == 0)
			g_string_append_c(s, '\n');
		g_string_append_c(s, b[i]);
	}
	g_free(b);
	return g_string_free(s, FALSE);
}

/* openssh - an openssh-key-v1 file for an ed25519 key; breakage:
 * 0 none, 1 wrong magic, 2 check integers differ */
static char *
openssh(bool encrypted, int breakage)
{
	GByteArray *pub = g_byte_array_new(), *priv = g_byte_array_new();
	GByteArray *blob = g_byte_array_new();
	guint32 check = g_rand_int(rng);
	char *b64, *s;

	put_str(pub, "ssh-ed25519", 11);
	put_u32(pub, 32);
	put_rand(pub, 32);
	put_u32(priv, check);
	put_u32(priv, breakage == 2 ? check + 1 : check);
	put_str(priv, "ssh-ed25519", 11);
	put_u32(priv, 32);
	put_rand(priv, 32);
	put_u32(priv, 64);
	put_rand(priv, 64);
	put_str(priv, "user@host", 9);
	for (guint8 pad = 1; priv->len % 16 != 0; pad++)
		g_byte_array_append(priv, &pad, 1);
	g_byte_array_append(blob, (const guint8 *)(breakage == 1 ?
	    "openssh-key-v2" : "openssh-key-v1"), 15);
	if (encrypted) {
		GByteArray *opts = g_byte_array_new();

		put_str(opts, "0123456789abcdef", 16);
		put_u32(opts, 16);
		put_str(blob, "aes256-ctr", 10);
		put_str(blob, "bcrypt", 6);
		put_str(blob, opts->data, opts->len);
		g_byte_array_free(opts, TRUE);
	} else {
		put_str(blob, "none", 4);
		put_str(blob, "none", 4);
		put_str(blob, "", 0);
	}
	put_u32(blob, 1);
	put_str(blob, pub->data, pub->len);
	put_str(blob, priv->data, priv->len);
	b64 = wrap(blob->data, blob->len, 70);
	s = g_strdup_printf("-----BEGIN OPENSSH PRIVATE KEY-----\n%s\n"
	    "-----END OPENSSH PRIVATE KEY-----\n", b64);
	g_free(b64);
	g_byte_array_free(pub, TRUE);
	g_byte_array_free(priv, TRUE);
	g_byte_array_free(blob, TRUE);
	return s;
}

static guint32
crc24(const guint8 *p, size_t n)
{
	guint32 crc = 0xB704CE;

	while (n--) {
		crc ^= (guint32)*p++ << 16;
		for (int i = 0; i < 8; i++) {
			crc <<= 1;
			if (crc & 0x1000000)
				crc ^= 0x1864CFB;
		}
	}
	return crc & 0xFFFFFF;
}

/* pgp - an armoured OpenPGP key block; tag 5 is a secret key, 6 a public
 * one; bad_crc damages the checksum */
static char *
pgp(int tag, const char *label, bool comment, bool bad_crc)
{
	GByteArray *pkt = g_byte_array_new();
	guint8 head[2] = { (guint8)(0xC0 | tag), 46 };
	guint8 body[6] = { 4, 0x65, 0x00, 0x00, 0x01, 22 };
	guint8 crcb[3];
	guint32 crc;
	char *b64, *crc64, *s;

	g_byte_array_append(pkt, head, 2);
	g_byte_array_append(pkt, body, 6);
	put_rand(pkt, 40);
	crc = crc24(pkt->data, pkt->len) ^ (bad_crc ? 1u : 0u);
	crcb[0] = (guint8)(crc >> 16), crcb[1] = (guint8)(crc >> 8);
	crcb[2] = (guint8)crc;
	b64 = wrap(pkt->data, pkt->len, 64);
	crc64 = g_base64_encode(crcb, 3);
	s = g_strdup_printf("-----BEGIN PGP %s-----\n%s\n%s\n=%s\n"
	    "-----END PGP %s-----\n", label,
	    comment ? "Comment: exported key\n" : "", b64, crc64, label);
	g_free(b64), g_free(crc64);
	g_byte_array_free(pkt, TRUE);
	return s;
}

/* putty - a PuTTY key file; breakage 1: no MAC line, 2: bad base64 */
static char *
putty(int version, int breakage)
{
	GByteArray *pub = g_byte_array_new(), *priv = g_byte_array_new();
	char *p64, *q64, *mac = rand_from("0123456789abcdef", 64), *s;

	put_str(pub, "ssh-ed25519", 11);
	put_u32(pub, 32);
	put_rand(pub, 32);
	put_rand(pub, 30);
	put_u32(priv, 32);
	put_rand(priv, 32);
	p64 = wrap(pub->data, pub->len, 64);
	q64 = wrap(priv->data, priv->len, 64);
	if (breakage == 2)
		p64[3] = '!';
	s = g_strdup_printf("PuTTY-User-Key-File-%d: ssh-ed25519\n"
	    "Encryption: none\nComment: ed25519-key-20240101\n"
	    "Public-Lines: 2\n%s\nPrivate-Lines: 1\n%s\n%s%s\n", version, p64,
	    q64, breakage == 1 ? "" : "Private-MAC: ",
	    breakage == 1 ? "" : mac);
	g_free(p64), g_free(q64), g_free(mac);
	g_byte_array_free(pub, TRUE);
	g_byte_array_free(priv, TRUE);
	return s;
}

/* json_escape - a PEM as a JSON string body */
static char *
json_escape(const char *s)
{
	GString *o = g_string_new(NULL);

	for (; *s; s++)
		if (*s == '\n')
			g_string_append(o, "\\n");
		else
			g_string_append_c(o, *s);
	return g_string_free(o, FALSE);
}

static char *
service_account(const char *type, const char *pem, bool with_id)
{
	char *esc = json_escape(pem), *id = rand_from("0123456789abcdef", 40);
	char *s = g_strdup_printf("{\n  \"type\": \"%s\",\n  \"project_id\": "
	    "\"billing-prod\",\n%s%s%s  \"private_key\": \"%s\",\n"
	    "  \"client_email\": \"svc@billing-prod.iam.gserviceaccount.com\"\n}",
	    type, with_id ? "  \"private_key_id\": \"" : "", with_id ? id : "",
	    with_id ? "\",\n" : "", esc);

	g_free(esc), g_free(id);
	return s;
}

/* ---- the cases per detector ---- */

static void
cases_pan(void)
{
	static const struct {
		const char *prefix;
		int len;
		const char *before, *after;
	} tp[] = {
		{ "4", 16, "Please charge card ", " for the renewal." },
		{ "4", 13, "Visa ", "" },
		{ "4", 19, "debit card: ", "" },
		{ "51", 16, "Mastercard ", " exp 09/27" },
		{ "55", 16, "number ", ", CVC on the back" },
		{ "2221", 16, "paid with ", " (credit)" },
		{ "2720", 16, "", "" },
		{ "34", 15, "Amex ", "" },
		{ "37", 15, "", "" },
		{ "6011", 16, "Discover ", "" },
		{ "645", 16, "", " valid thru 11/26" },
		{ "65", 19, "card ", "" },
		{ "622126", 17, "", "" },
		{ "3528", 16, "JCB ", "" },
		{ "3589", 19, "", "" },
		{ "301", 14, "Diners ", "" },
		{ "36", 14, "", "" },
		{ "62", 18, "UnionPay card ", "" },
		{ "5018", 12, "Maestro ", "" },
		{ "2201", 16, "Mir ", "" },
	};

	for (size_t i = 0; i < G_N_ELEMENTS(tp); i++) {
		char *c = card(tp[i].prefix, (size_t)tp[i].len), *shown = c;

		/* formatted as printed on cards, for some */
		if (tp[i].len == 16 && i % 2 == 0)
			shown = group(c, g4444, i % 4 == 0 ? ' ' : '-');
		else if (tp[i].len == 15 && i % 2 == 1)
			shown = group(c, g465, ' ');
		else if (tp[i].len == 14 && i % 2 == 0)
			shown = group(c, g464, ' ');
		TP(DLP_PAN, "%s%s%s", tp[i].before, shown, tp[i].after);
		if (shown != c)
			g_free(shown);
		g_free(c);
	}
	/* normalization: full-width digits, a zero-width space, NBSPs */
	{
		char *c = card("4", 16), *t = g_strdup(c);
		GString *wide = g_string_new(NULL);

		for (int i = 0; i < 16; i++)	/* U+FF10.. full-width */
			g_string_append_printf(wide, "\xef\xbc%c",
			    (char)(0x90 + c[i] - '0'));
		TP(DLP_PAN, "card %s", wide->str);
		g_string_free(wide, TRUE);

		t[8] = '\0';
		TP(DLP_PAN, "Visa %s\xe2\x80\x8b%s", t, c + 8);
		TP(DLP_PAN, "card %.4s\xc2\xa0%.4s\xc2\xa0%.4s\xc2\xa0%s", c, c + 4,
		    c + 8, c + 12);
		/* format characters a hand list missed: invisible times
		 * U+2062, the Mongolian vowel separator U+180E, a tag
		 * character U+E0031; and a narrow no-break space */
		TP(DLP_PAN, "card %.4s\xe2\x81\xa2%.4s\xe1\xa0\x8e%.4s"
		    "\xf3\xa0\x80\xb1%s", c, c + 4, c + 8, c + 12);
		TP(DLP_PAN, "card %.4s\xe2\x80\xaf%.4s\xe2\x80\xaf%.4s"
		    "\xe2\x80\xaf%s", c, c + 4, c + 8, c + 12);
		g_free(c), g_free(t);
	}

	/* near misses */
	for (int i = 0; i < 3; i++) {
		char *c = card(i == 0 ? "4" : i == 1 ? "53" : "37", i == 2 ? 15 : 16);
		char *b = bad_check(c);

		NM(DLP_PAN, "card number %s", b);
		g_free(c), g_free(b);
	}
	NM(DLP_PAN, "card 4111 1111 1111 1111 exp 12/29");
	NM(DLP_PAN, "credit card 5555555555554444");
	NM(DLP_PAN, "Amex 378282246310005");
	NM(DLP_PAN, "Discover 6011111111111117");
	NM(DLP_PAN, "card 4242424242424242");
	NM(DLP_PAN, "card 4444444444444444");
	{
		char *c;

		c = card("34", 16);	/* Amex prefix, wrong length */
		NM(DLP_PAN, "card %s", c);
		g_free(c);
		c = card("1", 16);	/* no issuer */
		NM(DLP_PAN, "card %s", c);
		g_free(c);
		c = card("9", 16);
		NM(DLP_PAN, "card %s", c);
		g_free(c);
		c = card("4", 15);	/* Visa has no 15-digit numbers */
		NM(DLP_PAN, "card %s", c);
		g_free(c);
		c = card("4", 16);	/* inside a longer number */
		NM(DLP_PAN, "card ref 77%s123", c);
		NM(DLP_PAN, "mail %s@payments.example.org", c);
		NM(DLP_PAN, "see https://shop.nl/orders/%s/status", c);
		{
			char *mixed = g_strdup_printf("%.4s-%.4s %.4s %.4s", c,
			    c + 4, c + 8, c + 12);
			char *pairs = group(c, g22, ' ');

			NM(DLP_PAN, "card %s", mixed);	/* mixed separators */
			NM(DLP_PAN, "card %s", pairs);	/* pairs of digits */
			g_free(mixed), g_free(pairs);
		}
		g_free(c);
	}
	NM(DLP_PAN, "call +31 20 123 4567 or +1 (555) 123-4567");
	NM(DLP_PAN, "card expires 2024-01-15 10:30:00, ISBN 978-3-16-148410-0");
}

static void
cases_track(void)
{
	for (int i = 0; i < 20; i++) {
		char *c = card(i % 3 == 0 ? "4" : i % 3 == 1 ? "52" : "6011", 16);
		int yy = 25 + i % 5, mm = 1 + i % 12;

		if (i % 2 == 0)
			TP(DLP_TRACK, "%%B%s^DOE/JOHN^%02d%02d1010000000", c, yy, mm);
		else
			TP(DLP_TRACK, "swipe ;%s=%02d%02d10100000?", c, yy, mm);
		g_free(c);
	}
	for (int i = 0; i < 20; i++) {
		char *c = card("4", 16), *b = bad_check(c);

		switch (i % 5) {
		case 0:
			NM(DLP_TRACK, "%%B%s^DOE/JOHN^27121010000000", b);
			break;
		case 1:
			NM(DLP_TRACK, ";%s=2712101?", b);
			break;
		case 2:	/* month 13 */
			NM(DLP_TRACK, "%%B%s^DOE/JOHN^2713101", c);
			break;
		case 3:	/* published test number */
			NM(DLP_TRACK, ";4111111111111111=%02d12101?", 25 + i);
			break;
		default: /* no name field */
			NM(DLP_TRACK, "%%B%s^27121010000000", c);
			break;
		}
		g_free(c), g_free(b);
	}
}

static void
cases_iban(void)
{
	static const char *const known[] = {
		"DE89370400440532013000", "GB82WEST12345698765432",
		"NL91ABNA0417164300", "FR1420041010050500013M02606",
		"BE68539007547034", "CH9300762011623852957",
	};
	static const char *const spec[][2] = {
		{ "DE", "8n10n" }, { "NL", "4a10n" }, { "GB", "4a6n8n" },
		{ "FR", "5n5n11c2n" }, { "ES", "4n4n1n1n10n" },
		{ "IT", "1a5n5n12c" }, { "AT", "5n11n" }, { "PL", "8n16n" },
		{ "NO", "4n6n1n" }, { "MT", "4a5n18c" }, { "BE", "3n7n2n" },
		{ "SE", "3n16n1n" }, { "LU", "3n13c" }, { "IE", "4a6n8n" },
	};

	for (size_t i = 0; i < G_N_ELEMENTS(known); i++)
		TP(DLP_IBAN, "IBAN %s", known[i]);
	for (size_t i = 0; i < G_N_ELEMENTS(spec); i++) {
		char *b = bban_of(spec[i][1]), *v = iban(spec[i][0], b);
		char *p = print_form(v);

		if (i % 2 == 0)
			TP(DLP_IBAN, "Please transfer to account %s today.", p);
		else
			TP(DLP_IBAN, "%s", v);
		g_free(b), g_free(v), g_free(p);
	}
	/* near misses */
	for (size_t i = 0; i < 6; i++) {
		char *b = bban_of(spec[i][1]), *v = iban(spec[i][0], b);

		v[3] = (char)('0' + (v[3] - '0' + 1) % 10);	/* check digits */
		NM(DLP_IBAN, "IBAN %s", v);
		g_free(b), g_free(v);
	}
	NM(DLP_IBAN, "IBAN DE8937040044053201300");	/* one short */
	NM(DLP_IBAN, "IBAN DE893704004405320130000");	/* one long */
	{
		char *v = iban("XX", "12345678901234");	/* no such country */
		char *w = iban("NL", "1234567890123456");	/* digits bank */
		char *x = iban("DE", "ABCD567890123456789");	/* letters in DE */
		char *y = iban("GB", "WEST1234569876543");	/* GB one short */
		char *z = iban("BE", "5390075470341");	/* BE one long */

		NM(DLP_IBAN, "IBAN %s", v);
		NM(DLP_IBAN, "IBAN %s", w);
		NM(DLP_IBAN, "IBAN %s", x);
		NM(DLP_IBAN, "IBAN %s", y);
		NM(DLP_IBAN, "IBAN %s", z);
		g_free(v), g_free(w), g_free(x), g_free(y), g_free(z);
	}
	NM(DLP_IBAN, "account ref AB12 3456 7890 1234 56");
	NM(DLP_IBAN, "part number XZ99ABCDEFGHIJKLMNOP");
	NM(DLP_IBAN, "iban nl91abna0417164300 in lower case is not matched");
	NM(DLP_IBAN, "IBAN NL91ABNA041716430");
	NM(DLP_IBAN, "IBAN NL91 ABNA 0417 1643 01");
	NM(DLP_IBAN, "account GB82WEST1234569876543Z");
	NM(DLP_IBAN, "IBAN in a word: XNL91ABNA0417164300");
}

static void
cases_ssn(void)
{
	for (int i = 0; i < 20; i++) {
		int area = g_rand_int_range(rng, 1, 900), grp, serial;
		char *s;

		if (area == 666)
			area = 667;
		grp = g_rand_int_range(rng, 1, 100);
		serial = g_rand_int_range(rng, 1, 10000);
		s = ssn_like(area, grp, serial, i % 3 == 0 ? 0 : i % 3 == 1 ?
		    '-' : ' ');
		if (i % 3 == 0)
			TP(DLP_US_SSN, "SSN: %s", s);
		else if (i % 4 == 0)
			TP(DLP_US_SSN, "employee %s", s);
		else
			TP(DLP_US_SSN, "Social Security Number %s", s);
		g_free(s);
	}
	NM(DLP_US_SSN, "SSN: 000-12-3456");
	NM(DLP_US_SSN, "SSN: 666-12-3456");
	NM(DLP_US_SSN, "SSN: 900-12-3456");
	NM(DLP_US_SSN, "SSN: 987-65-4321");
	NM(DLP_US_SSN, "SSN: 123-00-4567");
	NM(DLP_US_SSN, "SSN: 123-45-0000");
	NM(DLP_US_SSN, "SSN: 078-05-1120");
	NM(DLP_US_SSN, "SSN: 219-09-9999");
	NM(DLP_US_SSN, "SSN: 123-45-6789");
	NM(DLP_US_SSN, "SSN: 111-11-1111");
	NM(DLP_US_SSN, "call 555-123-4567");
	NM(DLP_US_SSN, "date 2024-01-15");
	NM(DLP_US_SSN, "SSN: 1234-56-7890");
	NM(DLP_US_SSN, "SSN: 123-45-67890");
	NM(DLP_US_SSN, "SSN: 12345678901");
	NM(DLP_US_SSN, "order number 412345678");	/* unformatted, no kw */
	NM(DLP_US_SSN, "SSN: 123-45 6789");		/* mixed separators */
	NM(DLP_US_SSN, "SSN record at https://hr.corp/people/412-34-5678/file");
	NM(DLP_US_SSN, "SSN: 800-1234-567");
	NM(DLP_US_SSN, "SSN: 00-123-4567");
}

static void
cases_itin(void)
{
	static const int groups[] = { 50, 57, 65, 70, 75, 88, 90, 92, 94, 99 };

	for (int i = 0; i < 20; i++) {
		char *s = ssn_like(g_rand_int_range(rng, 900, 1000),
		    groups[i % 10], g_rand_int_range(rng, 0, 10000),
		    i < 14 ? '-' : 0);

		TP(DLP_US_ITIN, "%s %s", i % 2 ? "ITIN" : "taxpayer id", s);
		g_free(s);
	}
	{
		static const int bad_groups[] = { 0, 10, 49, 66, 69, 89, 93 };

		for (size_t i = 0; i < G_N_ELEMENTS(bad_groups); i++) {
			char *s = ssn_like(912, bad_groups[i], 3456, '-');

			NM(DLP_US_ITIN, "ITIN %s", s);
			g_free(s);
		}
	}
	NM(DLP_US_ITIN, "ITIN 812-70-3456");
	NM(DLP_US_ITIN, "ITIN 012-70-3456");
	NM(DLP_US_ITIN, "ITIN 9123-70-3456");
	NM(DLP_US_ITIN, "ITIN 912-70-34567");
	NM(DLP_US_ITIN, "ITIN 912-703-456");
	NM(DLP_US_ITIN, "phone 912-700-3456");
	NM(DLP_US_ITIN, "invoice 912703456");	/* unformatted, no kw */
	NM(DLP_US_ITIN, "ITIN 912-70 3456");
	NM(DLP_US_ITIN, "ITIN 91270345");
	NM(DLP_US_ITIN, "ITIN 9127034567");
	NM(DLP_US_ITIN, "ITIN 1912-70-3456");
	NM(DLP_US_ITIN, "ITIN 912-93-3456");
	NM(DLP_US_ITIN, "ITIN 999-67-0001");
}

static void
cases_aba(void)
{
	static const int prefixes[] = { 1, 2, 5, 9, 11, 12, 21, 26, 32, 61,
	    66, 72, 80, 0, 3, 7, 22, 31, 63, 71 };

	for (int i = 0; i < 20; i++) {
		char *s = aba(prefixes[i], true);

		if (i % 4 == 3)
			TP(DLP_ABA, "routing %.4s-%.4s-%s", s, s + 4, s + 8);
		else
			TP(DLP_ABA, "%s %s", i % 2 ? "ABA routing number" :
			    "Routing no.", s);
		g_free(s);
	}
	for (int i = 0; i < 8; i++) {
		char *s = aba(prefixes[i], false);

		NM(DLP_ABA, "routing number %s", s);
		g_free(s);
	}
	{
		static const int bad_prefix[] = { 13, 20, 33, 50, 60, 73, 79, 81,
		    99 };

		for (size_t i = 0; i < G_N_ELEMENTS(bad_prefix); i++) {
			char *s = aba(bad_prefix[i], true);

			NM(DLP_ABA, "routing number %s", s);
			g_free(s);
		}
	}
	NM(DLP_ABA, "account 021000021 without any bank words");
	NM(DLP_ABA, "routing number 0210000210");
	NM(DLP_ABA, "routing number 000000000");
}

static void
cases_bsn(void)
{
	for (int i = 0; i < 20; i++) {
		char *s = bsn(i < 3 ? '0' : (char)('1' + i % 9), true);

		if (i < 3)	/* 8 digits, leading zero lost */
			TP(DLP_NL_BSN, "BSN %s", s + 1);
		else if (i % 3 == 0)
			TP(DLP_NL_BSN, "burgerservicenummer: %.4s.%.2s.%s", s,
			    s + 4, s + 6);
		else if (i % 3 == 1)
			TP(DLP_NL_BSN, "sofinummer %s", s);
		else
			TP(DLP_NL_BSN, "%s", s);
		g_free(s);
	}
	for (int i = 0; i < 10; i++) {
		char *s = bsn((char)('1' + i % 9), false);

		NM(DLP_NL_BSN, "BSN %s", s);
		g_free(s);
	}
	{
		char *s = bsn('0', true);

		NM(DLP_NL_BSN, "order %s", s + 1);	/* 8 digits, no kw */
		g_free(s);
	}
	NM(DLP_NL_BSN, "BSN 000000000");
	NM(DLP_NL_BSN, "bel 0612345678");
	NM(DLP_NL_BSN, "BSN 1234567890");
	NM(DLP_NL_BSN, "geboren 20240115");
	NM(DLP_NL_BSN, "BSN 1234567");
	NM(DLP_NL_BSN, "BSN 12-34-56-789");
	NM(DLP_NL_BSN, "BSN 123456783");
	NM(DLP_NL_BSN, "BSN 9 1234 5678 2");
	NM(DLP_NL_BSN, "BSN 2123456782");
}

static void
cases_nino(void)
{
	for (int i = 0; i < 20; i++) {
		char *s = nino();

		if (i % 3 == 0)
			TP(DLP_UK_NINO, "NI number: %.2s %.2s %.2s %.2s %c", s, s + 2,
			    s + 4, s + 6, s[8]);
		else if (i % 3 == 1)
			TP(DLP_UK_NINO, "National Insurance %s", s);
		else
			TP(DLP_UK_NINO, "%s", s);
		g_free(s);
	}
	NM(DLP_UK_NINO, "NINO GB123456A");
	NM(DLP_UK_NINO, "NINO BG123456A");
	NM(DLP_UK_NINO, "NINO NK123456A");
	NM(DLP_UK_NINO, "NINO TN123456A");
	NM(DLP_UK_NINO, "NINO ZZ123456A");
	NM(DLP_UK_NINO, "NINO DA123456A");
	NM(DLP_UK_NINO, "NINO FA123456A");
	NM(DLP_UK_NINO, "NINO QQ123456C");
	NM(DLP_UK_NINO, "NINO VA123456A");
	NM(DLP_UK_NINO, "NINO AO123456A");
	NM(DLP_UK_NINO, "NINO AB123456E");
	NM(DLP_UK_NINO, "NINO AB1234567A");
	NM(DLP_UK_NINO, "NINO AB12345A");
	NM(DLP_UK_NINO, "NINO AB000000A");
	NM(DLP_UK_NINO, "NINO XAB123456A");
	NM(DLP_UK_NINO, "NINO AB123456AB");
	NM(DLP_UK_NINO, "flight AB1234 56 A");
	NM(DLP_UK_NINO, "NINO AI123456A");
	NM(DLP_UK_NINO, "NINO UA123456A");
	NM(DLP_UK_NINO, "postcode SW1A 1AA");
}

static void
cases_de_taxid(void)
{
	for (int i = 0; i < 20; i++) {
		char *s = steuer_id(i % 4 == 3 ? 3 : 2);

		if (i % 2)
			TP(DLP_DE_TAXID, "Steuer-ID: %.2s %.3s %.3s %.3s", s, s + 2,
			    s + 5, s + 8);
		else
			TP(DLP_DE_TAXID, "Ihre Steueridentifikationsnummer %s", s);
		g_free(s);
	}
	for (int i = 0; i < 8; i++) {
		char *s = steuer_id(2), *b = bad_check(s);

		NM(DLP_DE_TAXID, "Steuer-ID %s", b);
		g_free(s), g_free(b);
	}
	{
		/* structure broken, check digit correct */
		static const char *const bodies[] = {
			"1234567890",	/* no digit repeated */
			"1123456779",	/* two digits repeated */
			"1112345678",	/* three in a row */
			"1111234567",	/* four times */
			"0123456789",	/* leading zero */
		};

		for (size_t i = 0; i < G_N_ELEMENTS(bodies); i++)
			NM(DLP_DE_TAXID, "Steuer-ID %s%d", bodies[i],
			    mod11_10(bodies[i]));
	}
	{
		char *s = steuer_id(2);

		NM(DLP_DE_TAXID, "Rechnung %s", s);	/* no keyword */
		NM(DLP_DE_TAXID, "Steuer-ID %s7", s);	/* 12 digits */
		NM(DLP_DE_TAXID, "Steuer-ID 9%s", s);
		g_free(s);
	}
	NM(DLP_DE_TAXID, "Steuer-ID 030 1234 5678");
	NM(DLP_DE_TAXID, "Steuer-ID 2024-01-15");
	NM(DLP_DE_TAXID, "Steuer-ID +49 30 12345678");
	NM(DLP_DE_TAXID, "Steuer-ID 1234567");
}

static void
cases_fr_nir(void)
{
	static const char *const depts[] = { "75", "13", "69", "2A", "2B", "33",
	    "59", "01", "95", "67" };

	for (int i = 0; i < 20; i++) {
		char *s = nir(depts[i % 10], true, i % 2 == 0);

		TP(DLP_FR_NIR, "%s %s", i % 3 ? "numéro de sécurité sociale" :
		    "INSEE", s);
		g_free(s);
	}
	for (int i = 0; i < 10; i++) {
		char *s = nir(depts[i], false, i % 2 == 0);

		NM(DLP_FR_NIR, "INSEE %s", s);
		g_free(s);
	}
	{
		char *s = nir("75", true, false);

		NM(DLP_FR_NIR, "facture %s", s);	/* no keyword */
		NM(DLP_FR_NIR, "INSEE 5%s", s + 1);	/* sex digit 5 */
		s[3] = '1', s[4] = '3';			/* month 13 */
		NM(DLP_FR_NIR, "INSEE %s", s);
		g_free(s);
	}
	NM(DLP_FR_NIR, "INSEE 1 85 05 2C 006 084 36");
	NM(DLP_FR_NIR, "INSEE 1 85 05 78 006 084");
	NM(DLP_FR_NIR, "INSEE 1 85 05 78 006 084 361");
	NM(DLP_FR_NIR, "INSEE tel 01 23 45 67 89");
	NM(DLP_FR_NIR, "INSEE 185057800608436 12");
	NM(DLP_FR_NIR, "INSEE 0 85 05 78 006 084 36");
	NM(DLP_FR_NIR, "INSEE 11850578006084360");
}

static void
cases_es_dni(void)
{
	for (int i = 0; i < 14; i++) {
		unsigned n = (unsigned)g_rand_int_range(rng, 1000000, 99999999);

		if (i % 2)
			TP(DLP_ES_DNI, "DNI %08u-%c", n, dni_letter(n));
		else
			TP(DLP_ES_DNI, "%08u%c", n, dni_letter(n));
	}
	for (int i = 0; i < 6; i++) {
		unsigned n = (unsigned)g_rand_int_range(rng, 0, 9999999);
		char x = "XYZ"[i % 3];

		TP(DLP_ES_DNI, "NIE %c%07u%c", x, n, dni_letter((unsigned)(i % 3) *
		    10000000u + n));
	}
	for (int i = 0; i < 8; i++) {
		unsigned n = (unsigned)g_rand_int_range(rng, 1000000, 99999999);

		NM(DLP_ES_DNI, "DNI %08u%c", n, dni_letter(n + 1));
	}
	for (int i = 0; i < 4; i++) {
		unsigned n = (unsigned)g_rand_int_range(rng, 0, 9999999);

		NM(DLP_ES_DNI, "NIE %c%07u%c", "XYZ"[i % 3], n,
		    dni_letter((unsigned)((i + 1) % 3) * 10000000u + n + 1));
	}
	NM(DLP_ES_DNI, "DNI 12345678I");
	NM(DLP_ES_DNI, "DNI 12345678O");
	NM(DLP_ES_DNI, "DNI 00000000T");
	NM(DLP_ES_DNI, "DNI 123456789Z");
	NM(DLP_ES_DNI, "DNI 1234567Z");
	NM(DLP_ES_DNI, "NIE W1234567L");
	NM(DLP_ES_DNI, "ref 12345678ZZ");
	NM(DLP_ES_DNI, "DNI 12345678z");
}

static void
cases_be_nrn(void)
{
	for (int i = 0; i < 20; i++) {
		char *s = be_nrn(i % 3 == 0, true, i % 2 == 0);

		TP(DLP_BE_NRN, "%s %s", i % 2 ? "Rijksregisternummer" :
		    "numéro national", s);
		g_free(s);
	}
	for (int i = 0; i < 8; i++) {
		char *s = be_nrn(i % 2 == 0, false, i % 2 == 1);

		NM(DLP_BE_NRN, "rijksregisternummer %s", s);
		g_free(s);
	}
	{
		char *s = be_nrn(false, true, false);

		NM(DLP_BE_NRN, "factuur %s", s);		/* no keyword */
		NM(DLP_BE_NRN, "rijksregisternummer %s1", s);	/* 12 digits */
		g_free(s);
	}
	/* month 13 and day 32 with a matching check number */
	{
		guint64 a = 851330033ULL, b = 850732033ULL, c = 850730000ULL;

		NM(DLP_BE_NRN, "rijksregisternummer %09llu%02llu",
		    (unsigned long long)a, (unsigned long long)(97 - a % 97));
		NM(DLP_BE_NRN, "rijksregisternummer %09llu%02llu",
		    (unsigned long long)b, (unsigned long long)(97 - b % 97));
		NM(DLP_BE_NRN, "rijksregisternummer %09llu%02llu",
		    (unsigned long long)c, (unsigned long long)(97 - c % 97));
	}
	NM(DLP_BE_NRN, "rijksregisternummer 85.07.30-033");
	NM(DLP_BE_NRN, "rijksregisternummer tel +32 2 123 45 67");
	NM(DLP_BE_NRN, "rijksregisternummer 2024-01-15");
	NM(DLP_BE_NRN, "rijksregisternummer 85.07.30-033.29");
	NM(DLP_BE_NRN, "rijksregisternummer 1234567890");
	NM(DLP_BE_NRN, "rijksregisternummer 850730033289");
	NM(DLP_BE_NRN, "rijksregisternummer 00.00.00-000.97");
}

static void
cases_bulk(void)
{
	for (int i = 0; i < 20; i++) {
		GString *s = g_string_new("Distribution list:\n");

		for (int k = 0; k < 50 + i * 3; k++)
			g_string_append_printf(s, "%s.%d <person%d.%d@corp%d.nl>,\n",
			    "Person", k, i, k, k % 7);
		add(DLP_BULK_EMAIL, true, g_string_free(s, FALSE));
	}
	for (int i = 0; i < 20; i++) {
		GString *s = g_string_new("Team:\n");

		for (int k = 0; k < 120; k++) {
			switch (i % 4) {
			case 0:	/* fewer than 50 distinct */
				g_string_append_printf(s, "u%d@corp.nl ",
				    k % (30 + i));
				break;
			case 1:	/* one address in many cases */
				g_string_append_printf(s, "%s@Corp.NL ",
				    k % 2 ? "Alice" : "aLICE");
				break;
			case 2:	/* not addresses: no dot in the domain */
				g_string_append_printf(s, "user%d@localhost ", k);
				break;
			default: /* @handles and broken forms */
				g_string_append_printf(s, "@user%d x@@y%d.nl ", k,
				    k);
				break;
			}
		}
		add(DLP_BULK_EMAIL, false, g_string_free(s, FALSE));
	}
}

static void
cases_private_key(void)
{
	static const struct {
		const char *type;
		const char *arg;
	} keys[] = { { "EC", "P-256" }, { "EC", "P-384" }, { "RSA", NULL } };
	EVP_PKEY *ed = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
	EVP_PKEY *x = EVP_PKEY_Q_keygen(NULL, NULL, "X25519");
	char *s, *t;

	for (size_t i = 0; i < G_N_ELEMENTS(keys); i++) {
		EVP_PKEY *k = keys[i].arg ? EVP_PKEY_Q_keygen(NULL, NULL, "EC",
		    keys[i].arg) : EVP_PKEY_Q_keygen(NULL, NULL, "RSA",
		    (size_t)1024);

		for (int form = KEY_PKCS8; form <= KEY_LEGACY_ENC; form++) {
			s = pem_key(k, (enum key_form)form);
			TP(DLP_PRIVATE_KEY, "here is the key:\n%s\nthanks", s);
			g_free(s);
		}
		EVP_PKEY_free(k);
	}
	s = pem_key(ed, KEY_PKCS8);
	TP(DLP_PRIVATE_KEY, "%s", s);
	/* near misses built from a good key */
	t = g_strdup(s);
	*strstr(t, "-----END") = '\0';
	NM(DLP_PRIVATE_KEY, "%s", t);			/* no END line */
	g_free(t);
	t = g_strdup(s);
	t[40] = '!';
	NM(DLP_PRIVATE_KEY, "%s", t);			/* not base64 */
	g_free(t);
	t = g_strdup(s);
	t[45] = t[45] == 'A' ? 'B' : 'A';		/* damaged DER */
	t[46] = t[46] == 'A' ? 'B' : 'A';
	NM(DLP_PRIVATE_KEY, "%s", t);
	g_free(t);
	t = g_strdup(s);
	memcpy(strstr(t, "-----END") + 9, "RSA", 3);	/* END mismatch */
	NM(DLP_PRIVATE_KEY, "%s", t);
	g_free(t);
	g_free(s);
	s = pem_key(ed, KEY_PKCS8_ENC);
	TP(DLP_PRIVATE_KEY, "%s", s);
	g_free(s);
	s = pem_key(x, KEY_PKCS8);
	TP(DLP_PRIVATE_KEY, "%s", s);
	g_free(s);
	{
		BIO *bio = BIO_new(BIO_s_mem());

		PEM_write_bio_PUBKEY(bio, ed);
		s = bio_text(bio);
		NM(DLP_PRIVATE_KEY, "%s", s);		/* public key */
		g_free(s);
	}
	TP(DLP_PRIVATE_KEY, "%s", s = openssh(false, 0));
	g_free(s);
	TP(DLP_PRIVATE_KEY, "%s", s = openssh(true, 0));
	g_free(s);
	TP(DLP_PRIVATE_KEY, "%s", s = pgp(5, "PRIVATE KEY BLOCK", false, false));
	g_free(s);
	TP(DLP_PRIVATE_KEY, "%s", s = pgp(5, "PRIVATE KEY BLOCK", true, false));
	g_free(s);
	TP(DLP_PRIVATE_KEY, "%s", s = putty(2, 0));
	g_free(s);
	TP(DLP_PRIVATE_KEY, "%s", s = putty(3, 0));
	g_free(s);

	NM(DLP_PRIVATE_KEY, "%s", s = openssh(false, 1));
	g_free(s);
	NM(DLP_PRIVATE_KEY, "%s", s = openssh(false, 2));
	g_free(s);
	NM(DLP_PRIVATE_KEY, "%s", s = pgp(6, "PRIVATE KEY BLOCK", false, false));
	g_free(s);
	NM(DLP_PRIVATE_KEY, "%s", s = pgp(5, "PRIVATE KEY BLOCK", false, true));
	g_free(s);
	NM(DLP_PRIVATE_KEY, "%s", s = pgp(6, "PUBLIC KEY BLOCK", false, false));
	g_free(s);
	NM(DLP_PRIVATE_KEY, "%s", s = putty(2, 1));
	g_free(s);
	NM(DLP_PRIVATE_KEY, "%s", s = putty(2, 2));
	g_free(s);
	NM(DLP_PRIVATE_KEY, "paste your -----BEGIN PRIVATE KEY----- block "
	    "here, ending in -----END PRIVATE KEY-----");
	NM(DLP_PRIVATE_KEY, "-----BEGIN PRIVATE KEY-----\n%s\n"
	    "-----END PRIVATE KEY-----\n", s = rand_from(ALNUM, 64));
	g_free(s);
	NM(DLP_PRIVATE_KEY, "-----BEGIN ENCRYPTED PRIVATE KEY-----\n%s\n"
	    "-----END ENCRYPTED PRIVATE KEY-----\n", s = rand_from(ALNUM, 64));
	g_free(s);
	NM(DLP_PRIVATE_KEY, "-----BEGIN RSA PRIVATE KEY-----\n"
	    "Proc-Type: 4,ENCRYPTED\nDEK-Info: NO-SUCH-CIPHER,00112233445566778899"
	    "AABBCCDDEEFF\n\n%s\n-----END RSA PRIVATE KEY-----\n",
	    s = rand_from(ALNUM, 64));
	g_free(s);
	NM(DLP_PRIVATE_KEY, "-----BEGIN RSA PRIVATE KEY-----\n"
	    "Proc-Type: 4,ENCRYPTED\nDEK-Info: AES-128-CBC,00112233445566778899"
	    "AABBCCDDEEFF\n\n%s\n-----END RSA PRIVATE KEY-----\n",
	    s = rand_from(ALNUM, 63));			/* not whole blocks */
	g_free(s);
	NM(DLP_PRIVATE_KEY, "-----BEGIN CERTIFICATE-----\nMIIB\n"
	    "-----END CERTIFICATE-----\n");
	NM(DLP_PRIVATE_KEY, "PuTTY-User-Key-File-2: ssh-rsa (header only)");
	NM(DLP_PRIVATE_KEY, "-----BEGIN OPENSSH PRIVATE KEY-----\n"
	    "b3BlbnNzaC1rZXktdjEAAAAA\n-----END OPENSSH PRIVATE KEY-----\n");
	EVP_PKEY_free(ed);
	EVP_PKEY_free(x);
}

#define B32 "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
#define SECRET_CHARS ALNUM "/+"

static char *
aws_secret(void)
{
	for (;;) {
		char *s = rand_from(SECRET_CHARS, 40);
		bool l = false, u = false, d = false;

		for (int i = 0; i < 40; i++) {
			l |= g_ascii_islower(s[i]);
			u |= g_ascii_isupper(s[i]);
			d |= g_ascii_isdigit(s[i]);
		}
		if (l && u && d)
			return s;
		g_free(s);
	}
}

static void
cases_aws(void)
{
	static const char *const prefixes[] = { "AKIA", "ASIA", "ABIA", "ACCA",
	    "A3TX", "A3T7" };

	for (int i = 0; i < 20; i++) {
		char *id = rand_from(B32, 16), *sec = aws_secret();

		switch (i % 4) {
		case 0:
			TP(DLP_AWS, "aws_access_key_id = %s%s\n"
			    "aws_secret_access_key = %s\n", prefixes[i % 6], id,
			    sec);
			break;
		case 1:
			TP(DLP_AWS, "key %s%s", prefixes[i % 6], id);
			break;
		case 2:
			TP(DLP_AWS, "AWS_SECRET_ACCESS_KEY=\"%s\"", sec);
			break;
		default:
			TP(DLP_AWS, "{\"aws_secret_access_key\": \"%s\"}", sec);
			break;
		}
		g_free(id), g_free(sec);
	}
	NM(DLP_AWS, "aws_access_key_id = AKIAIOSFODNN7EXAMPLE");
	NM(DLP_AWS, "aws_secret_access_key = "
	    "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY");
	NM(DLP_AWS, "key AKIA0123456789ABCDEF");		/* 0, 1, 8, 9 */
	NM(DLP_AWS, "key AKIAABCDEFGHIJKLMN8P");
	NM(DLP_AWS, "key AKIAABCDEFGHIJKLMNO");		/* 15 */
	NM(DLP_AWS, "key AKIAABCDEFGHIJKLMNOPQ");	/* 17 */
	NM(DLP_AWS, "key AKIBABCDEFGHIJKLMNOP");
	NM(DLP_AWS, "key akiaabcdefghijklmnop");
	NM(DLP_AWS, "key XAKIAABCDEFGHIJKLMNOP");
	NM(DLP_AWS, "key AKIAABCDEFGHIJKLMNOP7");
	NM(DLP_AWS, "aws_secret_access_key = "
	    "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx");
	NM(DLP_AWS, "aws_secret_access_key = <your secret access key here>");
	NM(DLP_AWS, "aws_secret_access_key = "
	    "aB3dE5gH7jK9mN1pQ3sT5vW7yZ9bC1dE3fG5hJ7");	/* 39 */
	NM(DLP_AWS, "aws_secret_access_key = "
	    "aB3dE5gH7jK9mN1pQ3sT5vW7yZ9bC1dE3fG5hJ7kL");	/* 41 */
	NM(DLP_AWS, "aws_secret_access_key = "
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZABCDEFGHIJKLMN");	/* one case */
	NM(DLP_AWS, "the secret is aB3dE5gH7jK9mN1pQ3sT5vW7yZ9bC1dE3fG5hJ7k");
	NM(DLP_AWS, "key A3T-ABCDEFGHIJKLMNOP");
	NM(DLP_AWS, "key ASIA_ABCDEFGHIJKLMNOP");
	NM(DLP_AWS, "key ASIAABCDEFGHIJK LMNOP");
	NM(DLP_AWS, "key AROAABCDEFGHIJKLMNOP");		/* role id */
}

static void
cases_gcp(void)
{
	EVP_PKEY *k = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	char *pem = pem_key(k, KEY_PKCS8), *s;

	for (int i = 0; i < 10; i++) {
		char *key = rand_from(ALNUM "-_", 35);

		TP(DLP_GCP, "%s AIza%s", i % 2 ? "key=" : "maps api", key);
		g_free(key);
	}
	for (int i = 0; i < 10; i++) {
		EVP_PKEY *kk = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
		char *p = pem_key(kk, KEY_PKCS8);

		TP(DLP_GCP, "credentials.json:\n%s\n",
		    s = service_account("service_account", p, true));
		g_free(s), g_free(p);
		EVP_PKEY_free(kk);
	}
	NM(DLP_GCP, "AIza%s", s = rand_from(ALNUM, 34));
	g_free(s);
	NM(DLP_GCP, "AIza%s", s = rand_from(ALNUM, 36));
	g_free(s);
	NM(DLP_GCP, "AIzb%s", s = rand_from(ALNUM, 35));
	g_free(s);
	NM(DLP_GCP, "aiza%s", s = rand_from(ALNUM, 35));
	g_free(s);
	NM(DLP_GCP, "xAIza%s", s = rand_from(ALNUM, 35));
	g_free(s);
	NM(DLP_GCP, "key AIzaXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX");
	NM(DLP_GCP, "key AIza...");
	NM(DLP_GCP, "%s", s = service_account("authorized_user", pem, true));
	g_free(s);
	NM(DLP_GCP, "%s", s = service_account("service_account", pem, false));
	g_free(s);
	NM(DLP_GCP, "%s", s = service_account("service_account",
	    "-----BEGIN PRIVATE KEY-----\nMIIBVQ==\n-----END PRIVATE KEY-----\n",
	    true));
	g_free(s);
	NM(DLP_GCP, "{\"type\": \"service_account\", \"project_id\": \"x\"}");
	NM(DLP_GCP, "\"type\": \"service_account\" without braces");
	NM(DLP_GCP, "{\"type\": \"service_account\", \"private_key_id\": "
	    "\"0123456789\", \"private_key\": \"\"}");
	NM(DLP_GCP, "{\"type\": \"service_account\", \"private_key_id\": "
	    "\"0123456789\", \"private_key\": \"not a key\"}");
	NM(DLP_GCP, "use the service_account type for servers");
	NM(DLP_GCP, "AIza%s_", s = rand_from(ALNUM, 35));
	g_free(s);
	NM(DLP_GCP, "AIza %s", s = rand_from(ALNUM, 35));
	g_free(s);
	NM(DLP_GCP, "AIza%s-x", s = rand_from(ALNUM, 34));
	g_free(s);
	NM(DLP_GCP, "AIza-%s", s = rand_from(ALNUM, 36));
	g_free(s);
	NM(DLP_GCP, "AIzaAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA");
	g_free(pem);
	EVP_PKEY_free(k);
}

static void
cases_jwt(void)
{
	static const char *const algs[] = { "HS256", "RS256", "ES256", "PS384",
	    "EdDSA" };
	char *s;

	for (int i = 0; i < 20; i++) {
		char *h = g_strdup_printf("{\"alg\":\"%s\",\"typ\":\"JWT\"}",
		    i % 10 == 9 ? "none" : algs[i % 5]);
		char *p = g_strdup_printf("{\"sub\":\"user%d\",\"exp\":%lld}", i,
		    (long long)time(NULL) + (i % 2 ? 3600 : -3600));

		TP(DLP_JWT, "Authorization: Bearer %s", s = jwt(h, p,
		    i % 10 != 9));
		g_free(s), g_free(h), g_free(p);
	}
	NM(DLP_JWT, "%s", s = jwt("{\"typ\":\"JWT\"}", "{\"sub\":\"x\"}", true));
	g_free(s);
	NM(DLP_JWT, "%s", s = jwt("{\"alg\":\"HS256\"}", "{\"sub\":\"x\"}",
	    false));
	g_free(s);
	NM(DLP_JWT, "%s", s = jwt("{\"alg\":\"HS256\"}", "\"sub\"", true));
	g_free(s);
	NM(DLP_JWT, "%s", s = jwt("{\"alg\": 5}", "{\"sub\":\"x\"}", true));
	g_free(s);
	NM(DLP_JWT, "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0");
	NM(DLP_JWT, "eyJ!!!.eyJzdWIiOiJ4In0.abc");
	NM(DLP_JWT, "eyJhbGciOiJIUzI1NiJ9 eyJzdWIiOiJ4In0 abc");
	NM(DLP_JWT, "xeyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0.abcdef");
	NM(DLP_JWT, "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0.abc.def");
	NM(DLP_JWT, "eyJhbGciOiJIUzI1NiJ9.abc.def");
	NM(DLP_JWT, "eyJ.eyJ.sig");
	NM(DLP_JWT, "%s", s = jwt("[\"alg\",\"HS256\"]", "{\"a\":1}", true));
	g_free(s);
	NM(DLP_JWT, "%s", s = jwt("{\"alg\":\"HS256\"", "{\"a\":1}", true));
	g_free(s);
	s = jwt("{\"alg\":\"HS256\"}", "{\"a\":1}", true);
	s[4] = '*';
	NM(DLP_JWT, "%s", s);
	g_free(s);
	NM(DLP_JWT, "eyJhbGciOiJIUzI1NiJ9.eyJzdWIi$OiJ4In0.abcdef");
	NM(DLP_JWT, "eyJhbGciOiJIUzI1NiJ9..abcdef");
	NM(DLP_JWT, "base64 eyJ prefixed words only");
	NM(DLP_JWT, "%s", s = jwt("{\"al\":\"HS256\"}", "{\"a\":1}", true));
	g_free(s);
	NM(DLP_JWT, "%s", s = jwt("{\"alg\":\"HS256\"}", "[1]", true));
	g_free(s);
	NM(DLP_JWT, "%s", s = jwt("{\"ALG\":\"HS256\"}", "{\"a\":1}", true));
	g_free(s);
}

static void
cases_token(void)
{
	static const char *const gh[] = { "ghp_", "gho_", "ghu_", "ghs_",
	    "ghr_" };
	char *s;

	for (int i = 0; i < 10; i++) {
		TP(DLP_VENDOR_TOKEN, "token %s%s", gh[i % 5], s = rand_from(ALNUM,
		    36));
		g_free(s);
	}
	TP(DLP_VENDOR_TOKEN, "github_pat_%s", s = rand_from(ALNUM "_", 82));
	g_free(s);
	TP(DLP_VENDOR_TOKEN, "GITHUB_TOKEN=github_pat_%s", s = rand_from(ALNUM,
	    82));
	g_free(s);
	for (int i = 0; i < 3; i++) {
		char *a = rand_from(DIGITS, 12), *b = rand_from(DIGITS, 13);

		TP(DLP_VENDOR_TOKEN, "slack xox%c-%s-%s-%s", "bpa"[i], a, b,
		    s = rand_from(ALNUM, 24));
		g_free(s), g_free(a), g_free(b);
	}
	for (int i = 0; i < 3; i++) {
		TP(DLP_VENDOR_TOKEN, "stripe sk_live_%s", s = rand_from(ALNUM,
		    24 + i * 30));
		g_free(s);
	}
	for (int i = 0; i < 2; i++) {
		TP(DLP_VENDOR_TOKEN, "gitlab glpat-%s", s = rand_from(ALNUM "-_",
		    20));
		g_free(s);
	}
	NM(DLP_VENDOR_TOKEN, "ghp_%s", s = rand_from(ALNUM, 35));
	g_free(s);
	NM(DLP_VENDOR_TOKEN, "ghp_%s", s = rand_from(ALNUM, 37));
	g_free(s);
	NM(DLP_VENDOR_TOKEN, "ghx_%s", s = rand_from(ALNUM, 36));
	g_free(s);
	NM(DLP_VENDOR_TOKEN, "ghp_xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx");
	NM(DLP_VENDOR_TOKEN, "ghp_000000000000000000000000000000000000");
	NM(DLP_VENDOR_TOKEN, "my_ghp_%s", s = rand_from(ALNUM, 36));
	g_free(s);
	NM(DLP_VENDOR_TOKEN, "github_pat_%s", s = rand_from(ALNUM, 81));
	g_free(s);
	NM(DLP_VENDOR_TOKEN, "sk_test_%s", s = rand_from(ALNUM, 24));
	g_free(s);
	NM(DLP_VENDOR_TOKEN, "sk_live_%s", s = rand_from(ALNUM, 23));
	g_free(s);
	NM(DLP_VENDOR_TOKEN, "sk_live_xxxxxxxxxxxxxxxxxxxxxxxxxxxxxx");
	NM(DLP_VENDOR_TOKEN, "glpat-%s", s = rand_from(ALNUM, 19));
	g_free(s);
	NM(DLP_VENDOR_TOKEN, "glpat-%s", s = rand_from(ALNUM, 21));
	g_free(s);
	NM(DLP_VENDOR_TOKEN, "xoxz-123456789012-%s", s = rand_from(ALNUM, 24));
	g_free(s);
	NM(DLP_VENDOR_TOKEN, "xoxb-%s", s = rand_from(ALNUM, 24));
	g_free(s);
	NM(DLP_VENDOR_TOKEN, "xoxb-123456789012-xxxxxxxxxxxxxxxxxxxxxxxx");
	NM(DLP_VENDOR_TOKEN, "GHP_%s", s = rand_from(ALNUM, 36));
	g_free(s);
	NM(DLP_VENDOR_TOKEN, "ghp-%s", s = rand_from(ALNUM, 36));
	g_free(s);
	NM(DLP_VENDOR_TOKEN, "ghp_%s-x", s = rand_from(ALNUM, 36));
	g_free(s);
	NM(DLP_VENDOR_TOKEN, "variable gh_p_token and ghp_ prefix talk");
	NM(DLP_VENDOR_TOKEN, "glpat-%s", s = rand_from("ab", 20));
	g_free(s);
}

/* ---- running the table ---- */

typedef struct score {
	unsigned tp, fn, fp, tn;
} score;

static void
run_cases(dlp_engine *engine)
{
	score scores[DLP_BUILTIN_COUNT + 1] = { { 0, 0, 0, 0 } };

	for (guint i = 0; i < cases->len; i++) {
		const tcase *c = g_ptr_array_index(cases, i);
		dlp_result *r = dlp_result_new();
		const dlp_finding *f;
		bool found;
		ms_err err;

		err = dlp_scan_text(engine, c->text, strlen(c->text), "1", r);
		f = dlp_result_find(r, c->detector, "1");
		found = f != NULL && dlp_finding_total(f, DLP_LOW) > 0;
		if (c->positive && found)
			scores[c->detector].tp++;
		else if (c->positive)
			scores[c->detector].fn++;
		else if (found)
			scores[c->detector].fp++;
		else
			scores[c->detector].tn++;
		unit_check(err == MS_OK && !dlp_result_undecided(r) &&
		    found == c->positive, "%s %s: %s",
		    dlp_detector_name(engine, c->detector),
		    c->positive ? "found" : "near miss not flagged",
		    unit_show(c->text));
		if (f != NULL && c->positive)
			unit_check(dlp_finding_confidence(f) >= DLP_LOW &&
			    strlen(dlp_finding_tag(f)) == 16 &&
			    *dlp_finding_sample(f) != '\0',
			    "%s finding has confidence, tag and sample (%s)",
			    dlp_finding_name(f), dlp_finding_sample(f));
		dlp_result_free(r);
	}
	printf("# %-22s %4s %4s %4s %4s %9s %6s\n", "detector", "TP", "FN",
	    "FP", "TN", "precision", "recall");
	for (int d = 1; d <= DLP_BUILTIN_COUNT; d++) {
		score *s = &scores[d];
		double precision = s->tp + s->fp ? (double)s->tp /
		    (s->tp + s->fp) : 0, recall = s->tp + s->fn ?
		    (double)s->tp / (s->tp + s->fn) : 0;

		printf("# %2d %-19s %4u %4u %4u %4u %9.3f %6.3f\n", d,
		    dlp_detector_name(engine, d), s->tp, s->fn, s->fp, s->tn,
		    precision, recall);
		unit_check(s->tp + s->fn >= 20 && s->fp + s->tn >= 20,
		    "%s has at least 20 true positives and 20 near misses "
		    "(%u, %u)", dlp_detector_name(engine, d), s->tp + s->fn,
		    s->fp + s->tn);
	}
}

/* ---- behaviour beyond the table ---- */

static const dlp_finding *
scan_one(dlp_engine *e, dlp_result *r, const char *text, int id)
{
	unit_check(dlp_scan_text(e, text, strlen(text), "1", r) == MS_OK,
	    "scan %s", unit_show(text));
	return dlp_result_find(r, id, NULL);
}

static void
check_confidence(dlp_engine *e)
{
	static const struct {
		const char *text;
		int id;
		dlp_confidence want;
	} cases_conf[] = {
		{ "card 4929 1234 5678 9031", DLP_PAN, DLP_HIGH },
		{ "pay 4929 1234 5678 9031 now", DLP_PAN, DLP_MEDIUM },
		{ "pay 4929123456789031 now", DLP_PAN, DLP_LOW },
		{ "pay 4929123456789031 by 08/27", DLP_PAN, DLP_HIGH },
		{ "sample card 4929 1234 5678 9031", DLP_PAN, DLP_MEDIUM },
		{ "dummy 4929 1234 5678 9031", DLP_PAN, DLP_LOW },
		{ "test 4929123456789031", DLP_PAN, DLP_NONE },
		{ "SSN 536-22-1234", DLP_US_SSN, DLP_HIGH },
		{ "SSN 536221234", DLP_US_SSN, DLP_MEDIUM },
		{ "ref 536-22-1234", DLP_US_SSN, DLP_LOW },
		{ "ref 536221234", DLP_US_SSN, DLP_NONE },
		{ "IBAN NL91ABNA0417164300", DLP_IBAN, DLP_HIGH },
		{ "to NL91ABNA0417164300", DLP_IBAN, DLP_MEDIUM },
		{ "BSN 123456782", DLP_NL_BSN, DLP_HIGH },
		{ "nummer 123456782", DLP_NL_BSN, DLP_LOW },
		{ "routing 021000021", DLP_ABA, DLP_MEDIUM },
		{ "DNI 12345678Z", DLP_ES_DNI, DLP_HIGH },
		{ "ref 12345678Z", DLP_ES_DNI, DLP_MEDIUM },
		{ "NINO AB123456C", DLP_UK_NINO, DLP_HIGH },
		{ "ref AB123456C", DLP_UK_NINO, DLP_LOW },
		{ "AKIAABCDEFGHIJKLMNOP", DLP_AWS, DLP_MEDIUM },
		{ "AKIAABCDEFGHIJKLMNOP aws_secret_access_key", DLP_AWS,
		  DLP_HIGH },
	};

	for (size_t i = 0; i < G_N_ELEMENTS(cases_conf); i++) {
		dlp_result *r = dlp_result_new();
		const dlp_finding *f = scan_one(e, r, cases_conf[i].text,
		    cases_conf[i].id);
		dlp_confidence got = f ? dlp_finding_confidence(f) : DLP_NONE;

		unit_check(got == cases_conf[i].want, "confidence of %s is %d "
		    "(want %d)", unit_show(cases_conf[i].text), got,
		    cases_conf[i].want);
		dlp_result_free(r);
	}
}

static void
check_counts_tags_masks(dlp_engine *e)
{
	static const unsigned char key[] = "log key 2026-11";
	const char *text = "cards: 4929 1234 5678 9031, 4929123456789031, "
	    "4929-1234-5678-9031 and 5412 7512 3412 3452";
	dlp_result *r = dlp_result_new(), *r2;
	const dlp_finding *f;
	char tag[17];

	unit_check(dlp_engine_set_tag_key(e, key, sizeof(key) - 1) == MS_OK,
	    "set tag key");
	f = scan_one(e, r, text, DLP_PAN);
	if (unit_check(f != NULL, "cards found")) {
		unit_check(dlp_finding_total(f, DLP_LOW) == 4 &&
		    dlp_finding_unique(f, DLP_LOW) == 2,
		    "4 instances, 2 unique values (%u, %u)",
		    dlp_finding_total(f, DLP_LOW),
		    dlp_finding_unique(f, DLP_LOW));
		unit_check(strstr(dlp_finding_sample(f), "4929123456789031") ==
		    NULL && strstr(dlp_finding_sample(f), "5412751234123452") ==
		    NULL, "sample %s hides the number", dlp_finding_sample(f));
		unit_check(unit_streq(dlp_finding_sample(f), "492912******9031") ||
		    unit_streq(dlp_finding_sample(f), "541275******3452"),
		    "sample shows first 6 and last 4: %s",
		    dlp_finding_sample(f));
		g_strlcpy(tag, dlp_finding_tag(f), sizeof(tag));
	}
	/* the same value, the same key, another message: the same tag */
	r2 = dlp_result_new();
	f = scan_one(e, r2, "card 4929123456789031", DLP_PAN);
	unit_check(f != NULL && strcmp(dlp_finding_tag(f), tag) == 0,
	    "same value and key give the same tag");
	dlp_result_free(r2);
	/* counts over two parts of one message */
	dlp_scan_text(e, "card 4929123456789031", 21, "2", r);
	unit_check(dlp_result_total(r, DLP_PAN, DLP_LOW) == 5 &&
	    dlp_result_unique(r, DLP_PAN, DLP_LOW) == 2 &&
	    dlp_result_count(r) == 2, "message counts over two parts");
	dlp_result_free(r);

	r = dlp_result_new();
	f = scan_one(e, r, "IBAN DE89 3704 0044 0532 0130 00", DLP_IBAN);
	unit_check(f != NULL && unit_streq(dlp_finding_sample(f),
	    "DE89\xe2\x80\xa6" "3000"), "IBAN sample %s",
	    f ? dlp_finding_sample(f) : "none");
	dlp_result_free(r);
	r = dlp_result_new();
	f = scan_one(e, r, "SSN 536-22-1234", DLP_US_SSN);
	unit_check(f != NULL && unit_streq(dlp_finding_sample(f),
	    "***-**-1234"), "SSN sample");
	dlp_result_free(r);
	r = dlp_result_new();
	f = scan_one(e, r, "token ghp_aB3dE5gH7jK9mN1pQ3sT5vW7yZ9bC1dE3fGh",
	    DLP_VENDOR_TOKEN);
	unit_check(f != NULL && unit_streq(dlp_finding_sample(f),
	    "ghp_\xe2\x80\xa6"), "token sample shows the prefix only");
	dlp_result_free(r);
	/* a JWT with alg none is flagged as such */
	r = dlp_result_new();
	f = scan_one(e, r, "eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0.", DLP_JWT);
	unit_check(f != NULL && (dlp_finding_flags(f) & DLP_FLAG_ALG_NONE),
	    "JWT alg none flagged");
	dlp_result_free(r);
}

static void
check_bulk_over_parts(dlp_engine *e)
{
	dlp_result *r = dlp_result_new();
	GString *a = g_string_new(NULL), *b = g_string_new(NULL);

	for (int k = 0; k < 30; k++) {
		g_string_append_printf(a, "p%d@one.nl ", k);
		g_string_append_printf(b, "q%d@two.nl P%d@ONE.NL ", k, k);
	}
	dlp_scan_text(e, a->str, a->len, "1", r);
	unit_check(dlp_result_find(r, DLP_BULK_EMAIL, NULL) == NULL,
	    "30 addresses: no bulk finding");
	dlp_scan_text(e, b->str, b->len, "2", r);
	unit_check(dlp_result_unique(r, DLP_BULK_EMAIL, DLP_LOW) == 60 &&
	    dlp_result_total(r, DLP_BULK_EMAIL, DLP_LOW) == 90,
	    "bulk addresses counted over the message, case-folded (%u, %u)",
	    dlp_result_unique(r, DLP_BULK_EMAIL, DLP_LOW),
	    dlp_result_total(r, DLP_BULK_EMAIL, DLP_LOW));
	g_string_free(a, TRUE);
	g_string_free(b, TRUE);
	dlp_result_free(r);
}

/* one random token for check_ascii_like_unicode: keywords of every
 * kind (some glued to a number or to each other), negative hotwords,
 * numbers that validate, filler */
static char *
mixed_token(void)
{
	static const char *const words[] = {
		"card", "Cards", "CVV", "cvv2", "exp", "Expiry", "xcard",
		"card4", "visa", "American Express", "valid thru", "pan",
		"SSN", "ss#", "Social Security", "soc sec", "itin", "tax id",
		"IBAN", "konto", "bank", "Account", "aba", "routing no", "rtn",
		"bsn", "sofi-nummer", "nino", "NI number", "steuer-id", "idnr",
		"tin", "insee", "numero de securite sociale", "dni", "NIE",
		"numero de identidad", "rijksregister", "nrn", "example",
		"Examples", "test", "testing", "sample", "dummy", "fake",
		"beispiel", "muster", "the", "order", "total", "please",
		"regards", "08/27", "12/2031", "13/25", "user@example.test",
	};
	int pick = g_rand_int_range(rng, 0, 10);
	char *n, *t;

	switch (pick) {
	case 0:
		return card("4929", 16);
	case 1:
		n = card("5", 16);
		t = group(n, g4444, ' ');
		g_free(n);
		return t;
	case 2:
		return ssn_like(g_rand_int_range(rng, 1, 900),
		    g_rand_int_range(rng, 1, 100), g_rand_int_range(rng, 1,
		    10000), g_rand_boolean(rng) ? '-' : 0);
	case 3:
		return g_strdup(g_rand_boolean(rng) ? "NL91ABNA0417164300" :
		    "12345678Z");
	case 4:
		return g_rand_boolean(rng) ? bsn('1', true) : aba(21, true);
	case 5:
		return nino();
	default:
		return g_strdup(words[g_rand_int_range(rng, 0,
		    G_N_ELEMENTS(words))]);
	}
}

/* the word-start prefilters work on ASCII text only: the same text with a
 * non-ASCII character far after it (no window reaches it) takes the
 * plain searches, and every count must come out the same */
static void
check_ascii_like_unicode(void)
{
	static const char *const seps[] = { " ", " ", " ", "\n", ": ", "",
	    "-", ".", ", " };
	static const unsigned windows[][2] = { { 300, 300 }, { 12, 40 },
	    { 1000, 0 } };
	static const dlp_confidence levels[] = { DLP_LOW, DLP_MEDIUM,
	    DLP_HIGH };
	bool same = true;

	for (int round = 0; round < 6; round++) {
		GString *text = g_string_new(NULL);
		char *unicode;

		for (int k = 0; k < 1500; k++) {
			char *tok = mixed_token();

			g_string_append(text, tok);
			g_string_append(text, seps[g_rand_int_range(rng, 0,
			    G_N_ELEMENTS(seps))]);
			g_free(tok);
		}
		unicode = g_strdup_printf("%s%*s caf\xc3\xa9", text->str,
		    1100, "");
		for (size_t w = 0; w < G_N_ELEMENTS(windows); w++) {
			ms_err err;
			dlp_engine *e = dlp_engine_new(&err);
			dlp_result *ra = dlp_result_new(), *ru = dlp_result_new();

			dlp_engine_set_window(e, windows[w][0], windows[w][1]);
			dlp_scan_text(e, text->str, text->len, "1", ra);
			dlp_scan_text(e, unicode, strlen(unicode), "1", ru);
			for (int id = DLP_PAN; id <= DLP_VENDOR_TOKEN; id++)
				for (size_t k = 0; k < G_N_ELEMENTS(levels);
				    k++)
					if (dlp_result_total(ra, id, levels[k]) !=
					    dlp_result_total(ru, id, levels[k]) ||
					    dlp_result_unique(ra, id, levels[k]) !=
					    dlp_result_unique(ru, id, levels[k]))
						same = false;
			dlp_result_free(ra);
			dlp_result_free(ru);
			dlp_engine_free(e);
		}
		g_free(unicode);
		g_string_free(text, TRUE);
	}
	unit_check(same, "keyword windows: ASCII text counts as the same text "
	    "with a distant non-ASCII character");
}

/* an '@' that starts no address, then within 600 octets an address whose
 * domain ends further than that from the first '@': the address is read
 * whole, never cut short where a window around the first '@' ends */
static void
check_bulk_after_lone_at(void)
{
	ms_err err;
	dlp_engine *e = dlp_engine_new(&err);
	dlp_result *r = dlp_result_new();
	GString *s = g_string_new("@");

	while (s->len < 588)
		g_string_append_c(s, ' ');
	g_string_append(s, "p0@one.example.nl, P0@One.Example.NL");
	dlp_engine_set_bulk_threshold(e, 1);
	dlp_scan_text(e, s->str, s->len, "1", r);
	unit_check(dlp_result_unique(r, DLP_BULK_EMAIL, DLP_LOW) == 1 &&
	    dlp_result_total(r, DLP_BULK_EMAIL, DLP_LOW) == 2,
	    "an address 600 octets after a lone '@' is read whole (%u, %u)",
	    dlp_result_unique(r, DLP_BULK_EMAIL, DLP_LOW),
	    dlp_result_total(r, DLP_BULK_EMAIL, DLP_LOW));
	g_string_free(s, TRUE);
	dlp_result_free(r);
	dlp_engine_free(e);
}

static void
check_custom(void)
{
	static const char *const words[] = { "Project Falcon", "falcon-x" };
	ms_err err;
	dlp_engine *e = dlp_engine_new(&err);
	dlp_result *r;
	int kid = 0, rid = 0;
	const char *why;
	char whybuf[200];
	gint64 t0, took;
	GString *evil;

	if (!unit_check(e != NULL, "engine for custom detectors"))
		return;
	unit_check(dlp_engine_add_keywords(e, "falcon", words, 2, DLP_HIGH,
	    &kid, &why) == MS_OK && kid >= DLP_CUSTOM_FIRST,
	    "add keyword detector");
	unit_check(dlp_engine_add_regex(e, "bad", "(unclosed", DLP_LOW, NULL,
	    whybuf, sizeof(whybuf)) == MS_USAGE && *whybuf != '\0',
	    "a bad regex is refused: %s", whybuf);
	unit_check(dlp_engine_add_regex(e, "evil", "(a+)+$", DLP_MEDIUM, &rid,
	    whybuf, sizeof(whybuf)) == MS_OK, "add (a+)+$");
	r = dlp_result_new();
	dlp_scan_text(e, "about project falcon, not falconry", 34, "1", r);
	unit_check(dlp_result_find(r, kid, NULL) != NULL &&
	    dlp_result_total(r, kid, DLP_HIGH) == 1,
	    "keyword detector finds the phrase once");
	dlp_result_free(r);

	evil = g_string_new(NULL);
	for (int i = 0; i < 5000; i++)
		g_string_append_c(evil, 'a');
	g_string_append_c(evil, '!');
	r = dlp_result_new();
	t0 = g_get_monotonic_time();
	unit_check(dlp_scan_text(e, evil->str, evil->len, "1", r) == MS_OK,
	    "scan pathological input");
	took = g_get_monotonic_time() - t0;
	unit_check(dlp_result_undecided(r) &&
	    dlp_result_undecided_detector(r, rid) &&
	    dlp_result_find(r, rid, NULL) == NULL,
	    "(a+)+$ on a...a! is undecided, not \"no match\": %s",
	    dlp_result_undecided_text(r));
	unit_check(took < 2 * G_USEC_PER_SEC, "and returns quickly (%.3f s)",
	    (double)took / G_USEC_PER_SEC);
	unit_check(!dlp_result_undecided_detector(r, DLP_PAN),
	    "other detectors stay decided");
	dlp_result_free(r);
	g_string_free(evil, TRUE);
	dlp_engine_free(e);
}

static void
check_pkcs12(dlp_engine *e)
{
	EVP_PKEY *k = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	PKCS12 *p12 = PKCS12_create("secret", "key", k, NULL, NULL, 0, 0, 0, 0,
	    0);
	unsigned char *der = NULL;
	int n = p12 ? i2d_PKCS12(p12, &der) : -1;
	dlp_result *r = dlp_result_new();
	const dlp_finding *f;

	unit_check(n > 0 && dlp_scan_pkcs12(e, der, (size_t)n, "2 key.p12",
	    r) == MS_OK, "scan a PKCS#12 attachment");
	f = dlp_result_find(r, DLP_PRIVATE_KEY, "2 key.p12");
	unit_check(f != NULL && dlp_finding_confidence(f) == DLP_HIGH,
	    "PKCS#12 is a private key finding");
	if (n > 4) {
		der[n / 2] ^= 0xff;
		der[1] ^= 0x7f;
		dlp_scan_pkcs12(e, der, (size_t)n, "3 other.p12", r);
	}
	unit_check(dlp_result_find(r, DLP_PRIVATE_KEY, "3 other.p12") == NULL,
	    "damaged PKCS#12 is not");
	OPENSSL_free(der);
	PKCS12_free(p12);
	EVP_PKEY_free(k);
	dlp_result_free(r);
}

/* check_throughput - prose with numbers, a rough MiB/s for the log */
static void
check_throughput(dlp_engine *e)
{
	static const char *const lines[] = {
		"The meeting on 2024-03-15 moved to room 12; call +31 20 555 "
		"0199 if late.\n",
		"Invoice 2024/0042 totals EUR 1.234,56, due in 30 days.\n",
		"Thanks for your message, see you at the office next week.\n",
		"Order 7781 shipped to Keizersgracht 123, 1015 CJ Amsterdam.\n",
	};
	GString *text = g_string_new(NULL);
	dlp_result *r = dlp_result_new();
	gint64 t0, took;

	while (text->len < 8u * 1024 * 1024)
		for (size_t i = 0; i < G_N_ELEMENTS(lines); i++)
			g_string_append(text, lines[i]);
	t0 = g_get_monotonic_time();
	dlp_scan_text(e, text->str, text->len, "1", r);
	took = g_get_monotonic_time() - t0;
	unit_check(dlp_result_count(r) == 0 && !dlp_result_undecided(r),
	    "8 MiB of prose: no findings");
	unit_note("throughput on prose: %.1f MiB/s",
	    (double)text->len / (1024.0 * 1024.0) /
	    ((double)(took > 0 ? took : 1) / G_USEC_PER_SEC));
	dlp_result_free(r);
	g_string_free(text, TRUE);
}

/* check_lazy_compile - an engine compiles a pattern when a scan first
 * needs it: prose with no number, no '@' and no token literal compiles
 * none, a number compiles only what its prefilters let through, and every
 * built-in pattern compiles when asked for all */
static void
check_lazy_compile(void)
{
	static const char prose[] = "Dear Bob, see you at lunch. Regards";
	static const char iban[] = "please pay to IBAN GB82 WEST 1234 5698 "
	    "7654 32 by Friday";
	ms_err err;
	dlp_engine *e = dlp_engine_new(&err);
	dlp_result *r;
	size_t after_iban;

	if (!unit_check(e != NULL, "engine for lazy compiling"))
		return;
	unit_check(dlp_engine_compiled(e) == 0, "a new engine has compiled "
	    "no pattern (got %zu)", dlp_engine_compiled(e));
	r = dlp_result_new();
	unit_check(dlp_scan_text(e, prose, strlen(prose), "1", r) == MS_OK &&
	    dlp_result_count(r) == 0 && dlp_engine_compiled(e) == 0,
	    "prose: no finding, no pattern compiled (got %zu)",
	    dlp_engine_compiled(e));
	unit_check(dlp_scan_text(e, iban, strlen(iban), "2", r) == MS_OK &&
	    dlp_result_find(r, DLP_IBAN, "2") != NULL &&
	    dlp_finding_confidence(dlp_result_find(r, DLP_IBAN, "2")) ==
	    DLP_HIGH, "an IBAN found, with its keyword, by patterns "
	    "compiled on first use");
	after_iban = dlp_engine_compiled(e);
	unit_check(after_iban > 0 && after_iban < 8, "the IBAN compiled a "
	    "few patterns, not all (got %zu)", after_iban);
	unit_check(dlp_scan_text(e, iban, strlen(iban), "3", r) == MS_OK &&
	    dlp_engine_compiled(e) == after_iban &&
	    dlp_result_find(r, DLP_IBAN, "3") != NULL,
	    "the same text again: found, nothing compiled again");
	dlp_result_free(r);
	unit_check(dlp_engine_compile_all(e) == MS_OK,
	    "every built-in pattern compiles");
	unit_check(dlp_engine_compiled(e) == 32, "32 built-in patterns "
	    "(got %zu)", dlp_engine_compiled(e));
	dlp_engine_free(e);
}

int
main(void)
{
	ms_err err;
	dlp_engine *engine = dlp_engine_new(&err);

	if (!unit_check(engine != NULL && err == MS_OK, "dlp_engine_new"))
		return unit_done();
	rng = g_rand_new_with_seed(20261128);
	cases = g_ptr_array_new_with_free_func(tcase_free);
	cases_pan();
	cases_track();
	cases_iban();
	cases_ssn();
	cases_itin();
	cases_aba();
	cases_bsn();
	cases_nino();
	cases_de_taxid();
	cases_fr_nir();
	cases_es_dni();
	cases_be_nrn();
	cases_bulk();
	cases_private_key();
	cases_aws();
	cases_gcp();
	cases_jwt();
	cases_token();
	run_cases(engine);
	check_confidence(engine);
	check_counts_tags_masks(engine);
	check_bulk_over_parts(engine);
	check_bulk_after_lone_at();
	check_ascii_like_unicode();
	check_custom();
	check_lazy_compile();
	check_pkcs12(engine);
	check_throughput(engine);
	g_ptr_array_free(cases, TRUE);
	g_rand_free(rng);
	dlp_engine_free(engine);
	return unit_done();
}
