/*
 * pdfpass.c - PDF passwords (see pdfpass.h).
 *
 * Both store files are secrets: a file that others can read or write is
 * a configuration error (the mail defers), never silently used.
 */
#include "pdfpass.h"
#include "instance.h"
#include "diag.h"
#include "kv.h"
#include "mslimits.h"
#include "parse.h"
#include "secret.h"

#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define RANDOM_LABEL "mailseal-pdf-random-v2"
#define OTP_LABEL "mailseal-pdf-otp-v1"
#define SMS_LABEL "mailseal-pdf-sms-v1"
#define SMS_REFERENCE_LABEL "mailseal-pdf-sms-reference-v1"
#define SMS_JOB_LABEL "mailseal-pdf-sms-job-v1"
#define OTP_ID_BYTES 20
#define OTP_SCHEME 1

static const char alphabet[] = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ";

/* encode - count symbols of 5 bits each from data, most significant
 * bit first; bits past the end of data read as 0 */
static void
encode(const unsigned char *data, size_t len, size_t count, char *out)
{
	size_t i;

	for (i = 0; i < count; i++) {
		size_t bit = i * 5, byte = bit / 8;
		unsigned pair = (unsigned)(byte < len ? data[byte] : 0) << 8 |
		    (byte + 1 < len ? data[byte + 1] : 0);

		out[i] = alphabet[(pair >> (11 - bit % 8)) & 31];
	}
	out[count] = '\0';
}

/* derive - the labelled HMAC of pdf.md 5.2 and 5.4, encoded: label 0 id
 * 0 recipient, or with a sender label 0 id 0 sender 0 recipient */
static void
derive(const unsigned char *key, size_t key_len, const char *label,
    const char *id, const char *sender, const char *recipient,
    char out[PDFPASS_LEN + 1])
{
	crypto_auth_hmacsha256_state state;
	unsigned char mac[crypto_auth_hmacsha256_BYTES];
	const unsigned char zero = 0;

	crypto_auth_hmacsha256_init(&state, key, key_len);
	crypto_auth_hmacsha256_update(&state, (const unsigned char *)label,
	    strlen(label));
	crypto_auth_hmacsha256_update(&state, &zero, 1);
	crypto_auth_hmacsha256_update(&state, (const unsigned char *)id,
	    strlen(id));
	crypto_auth_hmacsha256_update(&state, &zero, 1);
	if (sender != NULL) {
		crypto_auth_hmacsha256_update(&state,
		    (const unsigned char *)sender, strlen(sender));
		crypto_auth_hmacsha256_update(&state, &zero, 1);
	}
	crypto_auth_hmacsha256_update(&state,
	    (const unsigned char *)recipient, strlen(recipient));
	crypto_auth_hmacsha256_final(&state, mac);
	encode(mac, sizeof(mac), PDFPASS_LEN, out);
	sodium_memzero(mac, sizeof(mac));
	sodium_memzero(&state, sizeof(state));
}

void
pdfpass_derive(const unsigned char *key, size_t key_len, const char *id,
    const char *sender, const char *recipient, char out[PDFPASS_LEN + 1])
{
	derive(key, key_len, RANDOM_LABEL, id, sender, recipient, out);
}

ms_err
pdfpass_read_private(const ms_store *store, const char *subdir,
    const char *name, GByteArray **out)
{
	char *path = store_path(store, subdir, name);
	struct stat st;
	GByteArray *data;
	ms_err err = MS_CONFIG;
	int fd;

	*out = NULL;
	fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0) {
		if (errno == ENOENT) {
			g_free(path);
			return MS_NOTFOUND;
		}
		diag_error("cannot open %s: %s", path, strerror(errno));
		g_free(path);
		return MS_TEMP;
	}
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		diag_error("%s is not a regular file", path);
		goto out;
	}
	if ((st.st_mode & 077) != 0 || st.st_uid != geteuid()) {
		diag_error("%s must be ours with mode 0600", path);
		goto out;
	}
	if (st.st_size > PDFPASS_PRIVATE_FILE_MAX) {
		diag_error("%s is larger than %d bytes", path,
		    PDFPASS_PRIVATE_FILE_MAX);
		goto out;
	}
	data = g_byte_array_sized_new(PDFPASS_PRIVATE_FILE_MAX + 1);
	for (;;) {
		unsigned char chunk[512];
		ssize_t n = read(fd, chunk, sizeof(chunk));

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			diag_error("read %s: %s", path, strerror(errno));
			secret_bytes_free(data);
			err = MS_TEMP;
			sodium_memzero(chunk, sizeof(chunk));
			goto out;
		}
		if (n == 0)
			break;
		if (data->len + (size_t)n > PDFPASS_PRIVATE_FILE_MAX) {
			diag_error("%s grew while read", path);
			secret_bytes_free(data);
			sodium_memzero(chunk, sizeof(chunk));
			goto out;
		}
		g_byte_array_append(data, chunk, (guint)n);
		sodium_memzero(chunk, sizeof(chunk));
	}
	*out = data;
	err = MS_OK;
out:
	close(fd);
	g_free(path);
	return err;
}

ms_err
pdfpass_sms(const ms_store *store, const char *id, const ms_addr *recipient,
    char password[PDFPASS_LEN + 1],
    char reference[PDFPASS_SMS_REFERENCE_LEN + 1],
    char job[PDFPASS_LEN + 2])
{
	unsigned char key[INSTANCE_KEY_LEN];
	char derived[PDFPASS_LEN + 1];
	ms_err err;

	err = instance_key(store, key);
	if (err != MS_OK)
		return err;
	derive(key, sizeof(key), SMS_LABEL, id, NULL, recipient->key, password);
	derive(key, sizeof(key), SMS_REFERENCE_LABEL, id, NULL,
	    recipient->key, derived);
	memcpy(reference, derived, PDFPASS_SMS_REFERENCE_LEN);
	reference[PDFPASS_SMS_REFERENCE_LEN] = '\0';
	derive(key, sizeof(key), SMS_JOB_LABEL, id, NULL, recipient->key,
	    derived);
	job[0] = 'q';
	memcpy(job + 1, derived, PDFPASS_LEN + 1);
	sodium_memzero(key, sizeof(key));
	sodium_memzero(derived, sizeof(derived));
	return MS_OK;
}

ms_err
pdfpass_random(const ms_store *store, const char *id, const ms_addr *sender,
    const ms_addr *recipient, char out[PDFPASS_LEN + 1])
{
	GByteArray *key = NULL;
	ms_err err;

	err = pdfpass_read_private(store, "pdf", "random.key", &key);
	if (err == MS_NOTFOUND) {
		diag_error("no secret for random PDF passwords: create "
		    "pdf/random.key in the store (%d random bytes, 0600)",
		    PDFPASS_KEY_MIN);
		return MS_CONFIG;
	}
	if (err != MS_OK)
		return err;
	if (key->len < PDFPASS_KEY_MIN) {
		diag_error("pdf/random.key holds fewer than %d bytes",
		    PDFPASS_KEY_MIN);
		secret_bytes_free(key);
		return MS_CONFIG;
	}
	pdfpass_derive(key->data, key->len, id, sender->key, recipient->key,
	    out);
	secret_bytes_free(key);
	return MS_OK;
}

ms_err
pdfpass_check_static(const char *password)
{
	size_t len = strlen(password);

	if (!g_utf8_validate(password, (gssize)len, NULL) ||
	    g_utf8_strlen(password, (gssize)len) < PDFPASS_STATIC_MIN) {
		diag_error("a static PDF password needs at least %d "
		    "characters of UTF-8", PDFPASS_STATIC_MIN);
		return MS_CONFIG;
	}
	if (strpbrk(password, "\r\n") != NULL)
		return MS_CONFIG;
	return MS_OK;
}

/* parse_static - "password = ", "not-before = ", "not-after = " lines,
 * comments and blank lines allowed */
static ms_err
parse_static(const char *name, const GByteArray *data, char **password,
    time_t *not_before, time_t *not_after)
{
	static const char *const known[] = { "password", "not-before",
	    "not-after", NULL };
	char *shown = g_strdup_printf("pdf/static/%s", name);
	const char *before, *after;
	kv_file *kv = NULL;
	ms_err err = MS_CONFIG;

	*password = NULL;
	*not_before = 0;
	*not_after = (time_t)-1;
	if (kv_parse(shown, (const char *)data->data, data->len, KV_COMMENTS,
	    &kv) != MS_OK || !kv_only(kv, shown, known))
		goto out;
	before = kv_get(kv, "not-before");
	after = kv_get(kv, "not-after");
	if (kv_get(kv, "password") == NULL || after == NULL) {
		diag_error("%s: needs password and not-after", shown);
		goto out;
	}
	if ((before != NULL && !parse_day(before, not_before)) ||
	    !parse_day(after, not_after)) {
		diag_error("%s: a day is not a real YYYY-MM-DD date", shown);
		goto out;
	}
	*password = g_strdup(kv_get(kv, "password"));
	err = pdfpass_check_static(*password);
	if (err != MS_OK) {
		secret_free(*password);
		*password = NULL;
	}
out:
	kv_free(kv);
	g_free(shown);
	return err;
}

ms_err
pdfpass_static(const ms_store *store, const ms_addr *recipient, time_t now,
    char **password, const char **why)
{
	const char *identities[2] = { recipient->key, recipient->domain };
	time_t not_before, not_after;
	size_t i;
	ms_err err = MS_NOTFOUND;

	*password = NULL;
	*why = NULL;
	for (i = 0; i < 2 && err == MS_NOTFOUND; i++) {
		char *name = store_hash_name(identities[i]);
		GByteArray *data = NULL;

		err = pdfpass_read_private(store, "pdf/static", name, &data);
		if (err != MS_OK) {
			g_free(name);
			continue;
		}
		err = parse_static(name, data, password, &not_before,
		    &not_after);
		secret_bytes_free(data);
		g_free(name);
	}
	if (err != MS_OK)
		return err;
	if (now < not_before || now >= not_after) {
		secret_free(*password);
		*password = NULL;
		*why = now < not_before ? "is not valid yet" : "has expired";
		return MS_POLICY;
	}
	return MS_OK;
}

void
pdfpass_generate(char out[PDFPASS_LEN + 1])
{
	unsigned char bytes[PDFPASS_LEN * 5 / 8];

	randombytes_buf(bytes, sizeof(bytes));
	encode(bytes, sizeof(bytes), PDFPASS_LEN, out);
	sodium_memzero(bytes, sizeof(bytes));
}

void
pdfpass_otp_derive(const unsigned char secret[PDFPASS_OTP_SECRET_LEN],
    const char *id, const char *recipient, char out[PDFPASS_LEN + 1])
{
	char *lower = g_ascii_strdown(recipient, -1);

	derive(secret, PDFPASS_OTP_SECRET_LEN, OTP_LABEL, id, NULL, lower, out);
	g_free(lower);
}

void
pdfpass_otp_make_id(unsigned generation, const unsigned char nonce[16],
    char out[PDFPASS_OTP_ID_LEN + 1])
{
	unsigned char bytes[OTP_ID_BYTES];
	char symbols[PDFPASS_OTP_ID_SYMBOLS + 1];
	size_t i, at = 0;

	bytes[0] = OTP_SCHEME;
	bytes[1] = (unsigned char)(generation >> 16);
	bytes[2] = (unsigned char)(generation >> 8);
	bytes[3] = (unsigned char)generation;
	memcpy(bytes + 4, nonce, 16);
	encode(bytes, sizeof(bytes), PDFPASS_OTP_ID_SYMBOLS, symbols);
	for (i = 0; i < PDFPASS_OTP_ID_SYMBOLS; i++) {
		if (i > 0 && i % 4 == 0)
			out[at++] = '-';
		out[at++] = symbols[i];
	}
	out[at] = '\0';
}

void
pdfpass_otp_new_id(unsigned generation, char out[PDFPASS_OTP_ID_LEN + 1])
{
	unsigned char nonce[16];

	randombytes_buf(nonce, sizeof(nonce));
	pdfpass_otp_make_id(generation, nonce, out);
}

ms_err
pdfpass_otp_parse_id(const char *text, char out[PDFPASS_OTP_ID_LEN + 1],
    unsigned *generation)
{
	unsigned char bytes[OTP_ID_BYTES];
	unsigned long long bits = 0;
	size_t count = 0, filled = 0, byte = 0;
	const char *p;

	memset(bytes, 0, sizeof(bytes));
	for (p = text; *p != '\0'; p++) {
		const char *hit;

		if (*p == '-' || *p == ' ')
			continue;
		hit = strchr(alphabet, g_ascii_toupper(*p));
		if (hit == NULL || count == PDFPASS_OTP_ID_SYMBOLS)
			return MS_DATA;
		bits = bits << 5 | (unsigned)(hit - alphabet);
		filled += 5;
		while (filled >= 8) {
			filled -= 8;
			bytes[byte++] = (unsigned char)(bits >> filled);
		}
		count++;
	}
	/* 32 symbols are exactly the 20 bytes */
	if (count != PDFPASS_OTP_ID_SYMBOLS || byte != OTP_ID_BYTES ||
	    bytes[0] != OTP_SCHEME)
		return MS_DATA;
	*generation = (unsigned)bytes[1] << 16 | (unsigned)bytes[2] << 8 |
	    bytes[3];
	if (*generation == 0)
		return MS_DATA;
	pdfpass_otp_make_id(*generation, bytes + 4, out);
	return MS_OK;
}

/* otp_lookup - generation (0: the newest) in the text of a client
 * secret file: MS_OK with the secret, MS_NOTFOUND, or MS_CONFIG */
static ms_err
otp_lookup(const char *name, const GByteArray *data, unsigned generation,
    unsigned char secret[PDFPASS_OTP_SECRET_LEN], unsigned *found)
{
	const char *p = (const char *)data->data;
	const char *end = p + data->len;
	unsigned best = 0;

	while (p < end) {
		const char *eol = memchr(p, '\n', (size_t)(end - p));
		size_t len = (size_t)((eol != NULL ? eol : end) - p);
		unsigned long number = 0;
		size_t digits = 0, hex_len = PDFPASS_OTP_SECRET_LEN * 2;

		while (digits < len && digits < 9 && g_ascii_isdigit(p[digits]))
			number = number * 10 + (unsigned long)(p[digits++] -
			    '0');
		if (digits == 0 || number == 0 ||
		    number > PDFPASS_OTP_GENERATION_MAX ||
		    len != digits + 1 + hex_len || p[digits] != ' ') {
			diag_error("pdf/otp/%s: malformed line", name);
			return MS_CONFIG;
		}
		if ((generation == 0 && number > best) ||
		    number == generation) {
			size_t used = 0;

			if (sodium_hex2bin(secret, PDFPASS_OTP_SECRET_LEN,
			    p + digits + 1, hex_len, NULL, &used,
			    NULL) != 0 || used != PDFPASS_OTP_SECRET_LEN) {
				diag_error("pdf/otp/%s: malformed secret",
				    name);
				sodium_memzero(secret, PDFPASS_OTP_SECRET_LEN);
				return MS_CONFIG;
			}
			best = (unsigned)number;
		}
		p += len + (eol != NULL ? 1 : 0);
	}
	if (best == 0)
		return MS_NOTFOUND;
	*found = best;
	return MS_OK;
}

/* otp_read - read and look up; MS_NOTFOUND when the file is missing */
static ms_err
otp_read(const ms_store *store, const char *name, unsigned generation,
    unsigned char secret[PDFPASS_OTP_SECRET_LEN], unsigned *found)
{
	GByteArray *data = NULL;
	ms_err err;

	err = pdfpass_read_private(store, "pdf/otp", name, &data);
	if (err != MS_OK)
		return err;
	err = otp_lookup(name, data, generation, secret, found);
	secret_bytes_free(data);
	return err;
}

/* otp_create - generation 1 for a recipient that has none (lock held) */
static ms_err
otp_create(ms_store *store, const char *name,
    unsigned char secret[PDFPASS_OTP_SECRET_LEN])
{
	char line[16 + PDFPASS_OTP_SECRET_LEN * 2 + 2];
	char *dir = store_path(store, "pdf/otp", NULL);
	ms_err err;

	if (mkdir(dir, 0700) != 0 && errno != EEXIST) {
		diag_error("cannot create %s: %s", dir, strerror(errno));
		g_free(dir);
		return MS_TEMP;
	}
	g_free(dir);
	randombytes_buf(secret, PDFPASS_OTP_SECRET_LEN);
	memcpy(line, "1 ", 2);
	sodium_bin2hex(line + 2, sizeof(line) - 2, secret,
	    PDFPASS_OTP_SECRET_LEN);
	strcat(line, "\n");
	err = store_write(store, "pdf/otp", name, line, strlen(line), 0600);
	sodium_memzero(line, sizeof(line));
	return err;
}

ms_err
pdfpass_otp_secret(ms_store *store, const ms_addr *recipient,
    unsigned generation, bool create,
    unsigned char secret[PDFPASS_OTP_SECRET_LEN], unsigned *found)
{
	char *name = store_hash_name(recipient->key);
	ms_err err;

	err = otp_read(store, name, generation, secret, found);
	if (err == MS_NOTFOUND && create && generation == 0) {
		err = store_lock(store, LIMIT_LOCK_TIMEOUT_MS);
		/* another delivery may have created it while we waited */
		if (err == MS_OK)
			err = otp_read(store, name, 0, secret, found);
		if (err == MS_NOTFOUND) {
			err = otp_create(store, name, secret);
			if (err == MS_OK)
				*found = 1;
		}
		store_unlock(store);
	}
	g_free(name);
	return err;
}
