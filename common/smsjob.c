/*
 * smsjob.c - the SMS spool (see smsjob.h).
 */
#include "smsjob.h"
#include "diag.h"
#include "secret.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

bool
smsjob_number_ok(const char *text)
{
	size_t digits;

	if (text == NULL || text[0] != '+' || text[1] < '1' || text[1] > '9')
		return false;
	digits = strspn(text + 1, "0123456789");
	return text[1 + digits] == '\0' && digits >= 8 && digits <= 15;
}

char *
smsjob_new_reference(void)
{
	static const char alphabet[] = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ";
	unsigned char random[8];
	char out[sizeof(random) + 1];
	size_t i;

	randombytes_buf(random, sizeof(random));
	for (i = 0; i < sizeof(random); i++)
		out[i] = alphabet[random[i] & 31];
	out[sizeof(random)] = '\0';
	return g_strdup(out);
}

/* value_ok - one line of printable text, so a job reads back as written */
static bool
value_ok(const char *value)
{
	const unsigned char *p;

	if (value == NULL || !g_utf8_validate(value, -1, NULL))
		return false;
	for (p = (const unsigned char *)value; *p != '\0'; p++)
		if (*p < 0x20 || *p == 0x7f)
			return false;
	return true;
}

/* ensure_dir - spool, spool/sms and spool/sms-done, 0700 */
static ms_err
ensure_dir(const ms_store *store)
{
	char *dirs[3] = { store_path(store, "spool", NULL),
	    store_path(store, SMSJOB_DIR, NULL),
	    store_path(store, SMSJOB_DONE_DIR, NULL) };
	ms_err err = MS_OK;
	size_t i;

	for (i = 0; i < 3; i++) {
		if (err == MS_OK && mkdir(dirs[i], 0700) != 0 &&
		    errno != EEXIST) {
			diag_error("cannot create %s: %s", dirs[i],
			    strerror(errno));
			err = MS_TEMP;
		}
		g_free(dirs[i]);
	}
	return err;
}

ms_err
smsjob_write(ms_store *store, smsjob *job)
{
	GString *text;
	ms_err err;

	if (!smsjob_number_ok(job->number) || !value_ok(job->sender) ||
	    !value_ok(job->recipient) || !value_ok(job->reference) ||
	    !value_ok(job->text)) {
		diag_error("an SMS job with a malformed field");
		return MS_DATA;
	}
	if (job->name == NULL) {
		unsigned char random[16];
		char hex[sizeof(random) * 2 + 1];

		randombytes_buf(random, sizeof(random));
		sodium_bin2hex(hex, sizeof(hex), random, sizeof(random));
		job->name = g_strdup(hex);
	}
	text = g_string_new(NULL);
	g_string_append_printf(text, "number = %s\nsender = %s\n"
	    "recipient = %s\nreference = %s\ntext = %s\nexpires = %lld\n"
	    "attempts = %u\nnext-attempt = %lld\n", job->number, job->sender,
	    job->recipient, job->reference, job->text, job->expires,
	    job->attempts, job->next_attempt);
	if (text->len > SMSJOB_MAX) {
		diag_error("an SMS job over %d bytes", SMSJOB_MAX);
		secret_string_free(text);
		return MS_DATA;
	}
	err = ensure_dir(store);
	if (err == MS_OK)
		err = store_lock(store, 30000);
	if (err == MS_OK) {
		err = store_write(store, SMSJOB_DIR, job->name, text->str,
		    text->len, 0600);
		store_unlock(store);
	}
	secret_string_free(text);
	return err;
}

/* parse_number - a decimal field */
static bool
parse_number(const char *value, long long *out)
{
	char *end = NULL;

	errno = 0;
	*out = strtoll(value, &end, 10);
	return errno == 0 && end != value && *end == '\0' && *out >= 0;
}

ms_err
smsjob_read(const ms_store *store, const char *name, smsjob *job)
{
	GByteArray *data = NULL;
	char *text, *line, *next;
	size_t text_len;
	long long attempts = -1;
	ms_err err;

	memset(job, 0, sizeof(*job));
	job->expires = -1;
	job->next_attempt = -1;
	err = store_read(store, SMSJOB_DIR, name, SMSJOB_MAX, &data);
	if (err != MS_OK)
		return err;
	text_len = data->len;
	text = g_strndup((const char *)data->data, data->len);
	secret_bytes_free(data);
	job->name = g_strdup(name);
	for (line = text; line != NULL && *line != '\0'; line = next) {
		char *eq, *key, *value, **slot = NULL;

		next = strchr(line, '\n');
		if (next != NULL)
			*next++ = '\0';
		eq = strstr(line, " = ");
		if (eq == NULL) {
			err = MS_DATA;
			break;
		}
		*eq = '\0';
		key = line;
		value = eq + 3;
		if (strcmp(key, "number") == 0)
			slot = &job->number;
		else if (strcmp(key, "sender") == 0)
			slot = &job->sender;
		else if (strcmp(key, "recipient") == 0)
			slot = &job->recipient;
		else if (strcmp(key, "reference") == 0)
			slot = &job->reference;
		else if (strcmp(key, "text") == 0)
			slot = &job->text;
		else if (strcmp(key, "expires") == 0 ?
		    !parse_number(value, &job->expires) :
		    strcmp(key, "attempts") == 0 ?
		    !parse_number(value, &attempts) :
		    strcmp(key, "next-attempt") == 0 ?
		    !parse_number(value, &job->next_attempt) : true) {
			err = MS_DATA;
			break;
		}
		if (slot != NULL) {
			if (*slot != NULL) {
				err = MS_DATA;
				break;
			}
			*slot = g_strdup(value);
		}
	}
	sodium_memzero(text, text_len);
	g_free(text);
	if (err == MS_OK && (!smsjob_number_ok(job->number) ||
	    job->sender == NULL || job->recipient == NULL ||
	    job->reference == NULL || job->text == NULL ||
	    job->expires < 0 || job->next_attempt < 0 || attempts < 0 ||
	    attempts > 1000))
		err = MS_DATA;
	if (err != MS_OK) {
		diag_error("%s/%s: malformed SMS job", SMSJOB_DIR, name);
		smsjob_clear(job);
		return MS_DATA;
	}
	job->attempts = (unsigned)attempts;
	return MS_OK;
}

ms_err
smsjob_remove(ms_store *store, const smsjob *job)
{
	char *path = store_path(store, SMSJOB_DIR, job->name);
	ms_err err;
	int fd;

	err = ensure_dir(store);
	if (err == MS_OK)
		err = store_lock(store, 30000);
	if (err != MS_OK) {
		g_free(path);
		return err;
	}
	/* done first: there is never a moment without the job or its mark */
	err = store_write(store, SMSJOB_DONE_DIR, job->name, "", 0, 0600);
	if (err != MS_OK) {
		store_unlock(store);
		g_free(path);
		return err;
	}
	/* overwrite the password before the name goes; a copy-on-write
	 * file system may keep old blocks, which no unlink can help */
	fd = open(path, O_WRONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd >= 0) {
		struct stat st;

		if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) &&
		    st.st_size > 0 && st.st_size <= SMSJOB_MAX) {
			char zeros[SMSJOB_MAX];
			size_t done = 0, size = (size_t)st.st_size;

			memset(zeros, 0, size);
			while (done < size) {
				ssize_t n = write(fd, zeros + done,
				    size - done);

				if (n < 0 && errno == EINTR)
					continue;
				if (n <= 0)
					break;
				done += (size_t)n;
			}
			if (fsync(fd) != 0)
				diag_warn("cannot sync the wiped SMS job");
		}
		close(fd);
	}
	g_free(path);
	err = store_remove(store, SMSJOB_DIR, job->name);
	store_unlock(store);
	return err;
}

bool
smsjob_known(const ms_store *store, const char *name)
{
	return store_exists(store, SMSJOB_DIR, name) ||
	    store_exists(store, SMSJOB_DONE_DIR, name);
}

ms_err
smsjob_prune_done(ms_store *store, time_t now)
{
	GPtrArray *names = NULL;
	ms_err err;
	guint i;

	err = store_list(store, SMSJOB_DONE_DIR, &names);
	if (err == MS_OK && names->len > 0)
		err = store_lock(store, 30000);
	if (err != MS_OK || names->len == 0) {
		g_ptr_array_free(names, TRUE);
		return err;
	}
	for (i = 0; err == MS_OK && i < names->len; i++) {
		const char *name = g_ptr_array_index(names, i);
		char *path = store_path(store, SMSJOB_DONE_DIR, name);
		struct stat st;

		if (lstat(path, &st) == 0 && S_ISREG(st.st_mode) &&
		    st.st_mtime < now - SMSJOB_DONE_KEEP)
			err = store_remove(store, SMSJOB_DONE_DIR, name);
		g_free(path);
	}
	store_unlock(store);
	g_ptr_array_free(names, TRUE);
	return err;
}

/* wipe_free - wipe and free one string field */
static void
wipe_free(char **field)
{
	secret_free(*field);
	*field = NULL;
}

void
smsjob_clear(smsjob *job)
{
	wipe_free(&job->name);
	wipe_free(&job->number);
	wipe_free(&job->sender);
	wipe_free(&job->recipient);
	wipe_free(&job->reference);
	wipe_free(&job->text);
}
