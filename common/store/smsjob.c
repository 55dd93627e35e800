/*
 * smsjob.c - the SMS spool (see smsjob.h).
 */
#include "smsjob.h"
#include "diag.h"
#include "kv.h"
#include "mslimits.h"
#include "parse.h"
#include "secret.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
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
	char expires[32], attempts[32], next[32];
	GString *text;
	ms_err err;

	if (!smsjob_number_ok(job->number)) {
		diag_error("an SMS job with a malformed number");
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
	g_snprintf(expires, sizeof(expires), "%lld", job->expires);
	g_snprintf(attempts, sizeof(attempts), "%u", job->attempts);
	g_snprintf(next, sizeof(next), "%lld", job->next_attempt);
	if (!kv_append(text, "number", job->number) ||
	    !kv_append(text, "sender", job->sender) ||
	    !kv_append(text, "recipient", job->recipient) ||
	    !kv_append(text, "reference", job->reference) ||
	    !kv_append(text, "text", job->text) ||
	    !kv_append(text, "expires", expires) ||
	    !kv_append(text, "attempts", attempts) ||
	    !kv_append(text, "next-attempt", next)) {
		diag_error("an SMS job with a malformed field");
		secret_string_free(text);
		return MS_DATA;
	}
	if (text->len > SMSJOB_MAX) {
		diag_error("an SMS job over %d bytes", SMSJOB_MAX);
		secret_string_free(text);
		return MS_DATA;
	}
	err = ensure_dir(store);
	if (err == MS_OK)
		err = store_lock(store, LIMIT_LOCK_TIMEOUT_MS);
	if (err == MS_OK) {
		err = store_write(store, SMSJOB_DIR, job->name, text->str,
		    text->len, 0600);
		store_unlock(store);
	}
	secret_string_free(text);
	return err;
}

/* number_of - a decimal field up to max */
static bool
number_of(const kv_file *kv, const char *key, unsigned long long max,
    unsigned long long *out)
{
	const char *text = kv_get(kv, key);

	return text != NULL && parse_decimal(text, max, out);
}

/* text_of - a copy of a text field that must be present */
static bool
text_of(const kv_file *kv, const char *key, char **out)
{
	const char *text = kv_get(kv, key);

	*out = text != NULL ? g_strdup(text) : NULL;
	return text != NULL;
}

ms_err
smsjob_read(const ms_store *store, const char *name, smsjob *job)
{
	static const char *const known[] = { "number", "sender", "recipient",
	    "reference", "text", "expires", "attempts", "next-attempt", NULL };
	GByteArray *data = NULL;
	unsigned long long expires, attempts, next;
	char *shown;
	kv_file *kv = NULL;
	ms_err err;

	memset(job, 0, sizeof(*job));
	err = store_read(store, SMSJOB_DIR, name, SMSJOB_MAX, &data);
	if (err != MS_OK)
		return err;
	shown = g_strdup_printf("%s/%s", SMSJOB_DIR, name);
	job->name = g_strdup(name);
	err = kv_parse(shown, (const char *)data->data, data->len, 0, &kv);
	secret_bytes_free(data);
	if (err == MS_OK && (!kv_only(kv, shown, known) ||
	    !text_of(kv, "number", &job->number) ||
	    !smsjob_number_ok(job->number) ||
	    !text_of(kv, "sender", &job->sender) ||
	    !text_of(kv, "recipient", &job->recipient) ||
	    !text_of(kv, "reference", &job->reference) ||
	    !text_of(kv, "text", &job->text) ||
	    !number_of(kv, "expires", LLONG_MAX, &expires) ||
	    !number_of(kv, "attempts", 1000, &attempts) ||
	    !number_of(kv, "next-attempt", LLONG_MAX, &next)))
		err = MS_DATA;
	kv_free(kv);
	if (err != MS_OK) {
		diag_error("%s: malformed SMS job", shown);
		g_free(shown);
		smsjob_clear(job);
		return MS_DATA;
	}
	g_free(shown);
	job->expires = (long long)expires;
	job->attempts = (unsigned)attempts;
	job->next_attempt = (long long)next;
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
		err = store_lock(store, LIMIT_LOCK_TIMEOUT_MS);
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
		err = store_lock(store, LIMIT_LOCK_TIMEOUT_MS);
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
