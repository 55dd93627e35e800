/*
 * quarantine.c - held messages in the store (see quarantine.h).
 */
#include "quarantine.h"
#include "audit.h"
#include "diag.h"
#include "limits.h"

#include <errno.h>
#include <sodium.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#define QDIR "quarantine"
#define LOCK_WAIT_MS 10000

/* ensure_dir - stores made before the quarantine existed lack it */
static ms_err
ensure_dir(const ms_store *store)
{
	char *dir = store_path(store, QDIR, NULL);
	ms_err err = MS_OK;

	if (mkdir(dir, 0700) != 0 && errno != EEXIST) {
		diag_error("cannot create %s: %s", dir, strerror(errno));
		err = MS_TEMP;
	}
	g_free(dir);
	return err;
}

bool
quarantine_id_ok(const char *id)
{
	if (id == NULL || strlen(id) != QUARANTINE_ID_LEN)
		return false;
	for (const char *p = id; *p; p++)
		if (!((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f')))
			return false;
	return true;
}

static char *
file_name(const char *id, const char *suffix)
{
	return g_strconcat(id, suffix, NULL);
}

ms_err
quarantine_put(ms_store *store, const struct iovec *message, int parts,
    const char *meta, char **id_out)
{
	unsigned char raw[QUARANTINE_ID_LEN / 2];
	char id[QUARANTINE_ID_LEN + 1];
	char stamp[32];
	time_t now = time(NULL);
	struct tm tm;
	GString *text;
	char *eml, *metaname;
	ms_err err;

	*id_out = NULL;
	randombytes_buf(raw, sizeof(raw));
	sodium_bin2hex(id, sizeof(id), raw, sizeof(raw));
	if (gmtime_r(&now, &tm) == NULL ||
	    strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		return MS_INTERNAL;
	err = ensure_dir(store);
	if (err == MS_OK)
		err = store_lock(store, LOCK_WAIT_MS);
	if (err != MS_OK)
		return err;
	text = g_string_new(NULL);
	g_string_append_printf(text, "id: %s\ntime: %s\nstate: held\n%s", id,
	    stamp, meta);
	eml = file_name(id, ".eml");
	metaname = file_name(id, ".meta");
	err = store_writev(store, QDIR, eml, message, parts, 0600);
	if (err == MS_OK)
		err = store_write(store, QDIR, metaname, text->str, text->len,
		    0600);
	if (err != MS_OK)
		(void)store_remove(store, QDIR, eml);
	store_unlock(store);
	g_free(eml);
	g_free(metaname);
	g_string_free(text, TRUE);
	if (err == MS_OK)
		*id_out = g_strdup(id);
	return err;
}

ms_err
quarantine_list(const ms_store *store, GPtrArray **ids)
{
	GPtrArray *names = NULL;
	ms_err err;

	*ids = g_ptr_array_new_with_free_func(g_free);
	err = store_list(store, QDIR, &names);
	if (err == MS_NOTFOUND)
		return MS_OK;
	if (err != MS_OK)
		return err;
	for (guint i = 0; i < names->len; i++) {
		const char *n = g_ptr_array_index(names, i);
		size_t len = strlen(n);

		if (len == QUARANTINE_ID_LEN + 5 &&
		    strcmp(n + QUARANTINE_ID_LEN, ".meta") == 0) {
			char *id = g_strndup(n, QUARANTINE_ID_LEN);

			if (quarantine_id_ok(id))
				g_ptr_array_add(*ids, id);
			else
				g_free(id);
		}
	}
	g_ptr_array_free(names, TRUE);
	return MS_OK;
}

ms_err
quarantine_meta(const ms_store *store, const char *id, GByteArray **meta)
{
	char *name;
	ms_err err;

	*meta = NULL;
	if (!quarantine_id_ok(id))
		return MS_NOTFOUND;
	name = file_name(id, ".meta");
	err = store_read(store, QDIR, name, LIMIT_STORE_OBJECT, meta);
	g_free(name);
	return err;
}

char *
quarantine_meta_value(const GByteArray *meta, const char *key)
{
	size_t klen = strlen(key), pos = 0, len = meta->len;
	const char *t = (const char *)meta->data;

	while (pos < len) {
		const char *nl = memchr(t + pos, '\n', len - pos);
		size_t n = nl ? (size_t)(nl - (t + pos)) : len - pos;

		if (n > klen + 1 && strncmp(t + pos, key, klen) == 0 &&
		    t[pos + klen] == ':')
			return g_strstrip(g_strndup(t + pos + klen + 1,
			    n - klen - 1));
		pos += n + 1;
	}
	return NULL;
}

/* set_state - rewrite the meta with a new state line (lock held) */
static ms_err
set_state(ms_store *store, const char *id, const GByteArray *meta,
    const char *state)
{
	GString *out = g_string_new(NULL);
	const char *t = (const char *)meta->data;
	size_t pos = 0;
	char *name = file_name(id, ".meta");
	ms_err err;

	while (pos < meta->len) {
		const char *nl = memchr(t + pos, '\n', meta->len - pos);
		size_t n = nl ? (size_t)(nl - (t + pos)) : meta->len - pos;

		if (n >= 6 && strncmp(t + pos, "state:", 6) == 0)
			g_string_append_printf(out, "state: %s\n", state);
		else {
			g_string_append_len(out, t + pos, (gssize)n);
			g_string_append_c(out, '\n');
		}
		pos += n + 1;
	}
	err = store_write(store, QDIR, name, out->str, out->len, 0600);
	g_free(name);
	g_string_free(out, TRUE);
	return err;
}

ms_err
quarantine_release(ms_store *store, const char *id, GByteArray **message)
{
	GByteArray *meta = NULL;
	char *state = NULL, *eml;
	ms_err err;

	*message = NULL;
	if (!quarantine_id_ok(id))
		return MS_NOTFOUND;
	err = store_lock(store, LOCK_WAIT_MS);
	if (err != MS_OK)
		return err;
	err = quarantine_meta(store, id, &meta);
	if (err == MS_OK) {
		state = quarantine_meta_value(meta, "state");
		if (state == NULL || strcmp(state, "held") != 0)
			err = MS_POLICY;	/* single use */
	}
	eml = file_name(id, ".eml");
	if (err == MS_OK)
		err = store_read(store, QDIR, eml,
		    limits_get()->message_size + LIMIT_HEADER_SECTION_DEFAULT,
		    message);
	/* recorded first: a release the log cannot hold does not happen
	 * (the entry is single use, so a release after the fact could
	 * not be retried) */
	if (err == MS_OK)
		err = audit_record(store, "release quarantine %s", id);
	if (err == MS_OK)
		err = set_state(store, id, meta, "released");
	if (err != MS_OK && *message != NULL) {
		g_byte_array_free(*message, TRUE);
		*message = NULL;
	}
	store_unlock(store);
	g_free(eml);
	g_free(state);
	if (meta != NULL)
		g_byte_array_free(meta, TRUE);
	return err;
}

ms_err
quarantine_delete(ms_store *store, const char *id)
{
	char *eml, *meta;
	ms_err err, err2;

	if (!quarantine_id_ok(id))
		return MS_NOTFOUND;
	err = store_lock(store, LOCK_WAIT_MS);
	if (err != MS_OK)
		return err;
	eml = file_name(id, ".eml");
	meta = file_name(id, ".meta");
	/* the commit record first: a half-deleted entry is not listed */
	err = store_remove(store, QDIR, meta);
	err2 = store_remove(store, QDIR, eml);
	if (err == MS_OK && err2 != MS_OK && err2 != MS_NOTFOUND)
		err = err2;
	if (err == MS_OK)
		err = audit_record(store, "delete quarantine %s", id);
	store_unlock(store);
	g_free(eml);
	g_free(meta);
	return err;
}
