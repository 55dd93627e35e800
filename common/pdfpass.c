/*
 * pdfpass.c - PDF passwords (see pdfpass.h).
 *
 * Both store files are secrets: a file that others can read or write is
 * a configuration error (the mail defers), never silently used.
 */
#include "pdfpass.h"
#include "diag.h"
#include "secret.h"

#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define PRIVATE_FILE_MAX 4096
#define RANDOM_LABEL "mailseal-pdf-random-v1"

static const char alphabet[] = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ";

void
pdfpass_derive(const unsigned char *key, size_t key_len, const char *id,
    const char *recipient, char out[PDFPASS_LEN + 1])
{
	crypto_auth_hmacsha256_state state;
	unsigned char mac[crypto_auth_hmacsha256_BYTES];
	const unsigned char zero = 0;
	size_t i;

	crypto_auth_hmacsha256_init(&state, key, key_len);
	crypto_auth_hmacsha256_update(&state,
	    (const unsigned char *)RANDOM_LABEL, strlen(RANDOM_LABEL));
	crypto_auth_hmacsha256_update(&state, &zero, 1);
	crypto_auth_hmacsha256_update(&state, (const unsigned char *)id,
	    strlen(id));
	crypto_auth_hmacsha256_update(&state, &zero, 1);
	crypto_auth_hmacsha256_update(&state,
	    (const unsigned char *)recipient, strlen(recipient));
	crypto_auth_hmacsha256_final(&state, mac);
	/* 5-bit groups, most significant bit first */
	for (i = 0; i < PDFPASS_LEN; i++) {
		size_t bit = i * 5;
		unsigned pair = (unsigned)mac[bit / 8] << 8 |
		    mac[bit / 8 + 1];

		out[i] = alphabet[(pair >> (11 - bit % 8)) & 31];
	}
	out[PDFPASS_LEN] = '\0';
	sodium_memzero(mac, sizeof(mac));
	sodium_memzero(&state, sizeof(state));
}

/* read_private - a whole file of the store that only we may read;
 * MS_NOTFOUND when missing, MS_CONFIG when others can read or write it */
static ms_err
read_private(const ms_store *store, const char *subdir, const char *name,
    GByteArray **out)
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
	if (st.st_size > PRIVATE_FILE_MAX) {
		diag_error("%s is larger than %d bytes", path,
		    PRIVATE_FILE_MAX);
		goto out;
	}
	data = g_byte_array_sized_new(PRIVATE_FILE_MAX + 1);
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
		if (data->len + (size_t)n > PRIVATE_FILE_MAX) {
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
pdfpass_random(const ms_store *store, const char *id,
    const ms_addr *recipient, char out[PDFPASS_LEN + 1])
{
	GByteArray *key = NULL;
	ms_err err;

	err = read_private(store, "pdf", "random.key", &key);
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
	pdfpass_derive(key->data, key->len, id, recipient->key, out);
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

/* parse_day - "YYYY-MM-DD" as the start of that day in UTC */
static bool
parse_day(const char *text, time_t *out)
{
	struct tm tm;
	int year, month, day, used = 0;

	if (sscanf(text, "%4d-%2d-%2d%n", &year, &month, &day, &used) != 3 ||
	    text[used] != '\0' || year < 1970 || month < 1 || month > 12 ||
	    day < 1 || day > 31)
		return false;
	memset(&tm, 0, sizeof(tm));
	tm.tm_year = year - 1900;
	tm.tm_mon = month - 1;
	tm.tm_mday = day;
	*out = timegm(&tm);
	return *out != (time_t)-1;
}

/* parse_static - "password = ", "not-before = ", "not-after = " lines */
static ms_err
parse_static(const char *name, char *text, char **password,
    time_t *not_before, time_t *not_after)
{
	char *line, *next;
	unsigned number = 0;

	*password = NULL;
	*not_before = 0;
	*not_after = (time_t)-1;
	for (line = text; line != NULL; line = next) {
		char *eq, *key, *value;

		next = strchr(line, '\n');
		if (next != NULL)
			*next++ = '\0';
		number++;
		g_strstrip(line);
		if (*line == '\0' || *line == '#')
			continue;
		eq = strchr(line, '=');
		if (eq == NULL)
			goto bad;
		*eq = '\0';
		key = g_strstrip(line);
		value = g_strstrip(eq + 1);
		if (strcmp(key, "password") == 0 && *password == NULL) {
			*password = g_strdup(value);
		} else if (strcmp(key, "not-before") == 0) {
			if (!parse_day(value, not_before))
				goto bad;
		} else if (strcmp(key, "not-after") == 0) {
			if (!parse_day(value, not_after))
				goto bad;
		} else {
			goto bad;
		}
	}
	if (*password == NULL || *not_after == (time_t)-1) {
		diag_error("pdf/static/%s: needs password and not-after",
		    name);
		goto fail;
	}
	return pdfpass_check_static(*password);
bad:
	diag_error("pdf/static/%s:%u: malformed line", name, number);
fail:
	secret_free(*password);
	*password = NULL;
	return MS_CONFIG;
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
		char *text;
		size_t text_len;

		err = read_private(store, "pdf/static", name, &data);
		if (err != MS_OK) {
			g_free(name);
			continue;
		}
		text_len = data->len;
		text = g_strndup((const char *)data->data, data->len);
		secret_bytes_free(data);
		err = parse_static(name, text, password, &not_before,
		    &not_after);
		/* parsing cut the text into lines: wipe all of it */
		sodium_memzero(text, text_len);
		g_free(text);
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
