/*
 * quarantine.c - held messages in the store (see quarantine.h).
 */
#include "quarantine.h"
#include "audit.h"
#include "diag.h"
#include "mslimits.h"
#include "parse.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdlib.h>
#include <sodium.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

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

/* meta_line - "key: value\n" with the value on one line, masked and
 * cut at max octets (0: whole) on a character boundary */
static void
meta_line(GString *text, const char *key, const char *value, size_t max)
{
	size_t len = strlen(value);
	char *masked;

	if (max > 0 && len > max) {
		const char *end = value + max;

		/* back to the start of a UTF-8 sequence */
		while (end > value && ((unsigned char)*end & 0xc0) == 0x80)
			end--;
		len = (size_t)(end - value);
	}
	masked = diag_mask(value, len);
	g_string_append_printf(text, "%s: %s\n", key, masked);
	free(masked);
}

/* utc_stamp - t as the meta's time, 2026-01-31T12:00:00Z */
static bool
utc_stamp(time_t t, char stamp[32])
{
	struct tm tm;

	return gmtime_r(&t, &tm) != NULL &&
	    strftime(stamp, 32, "%Y-%m-%dT%H:%M:%SZ", &tm) != 0;
}

/* entry_id - with a queue id, the id of every run of that queue file
 * with this message and sender, so that they join one entry; without,
 * 128 random bits */
static void
entry_id(const struct iovec *message, int parts, const quarantine_hold *h,
    char id[QUARANTINE_ID_LEN + 1])
{
	unsigned char raw[QUARANTINE_ID_LEN / 2];
	GChecksum *sum;
	gsize n = 32;
	guint8 digest[32];

	if (h->queue_id == NULL || *h->queue_id == '\0') {
		randombytes_buf(raw, sizeof(raw));
		sodium_bin2hex(id, QUARANTINE_ID_LEN + 1, raw, sizeof(raw));
		return;
	}
	sum = g_checksum_new(G_CHECKSUM_SHA256);
	g_checksum_update(sum, (const guchar *)"mailseal quarantine", 20);
	g_checksum_update(sum, (const guchar *)h->queue_id,
	    (gssize)strlen(h->queue_id) + 1);
	g_checksum_update(sum, (const guchar *)h->sender,
	    (gssize)strlen(h->sender) + 1);
	for (int i = 0; i < parts; i++)
		g_checksum_update(sum, message[i].iov_base,
		    (gssize)message[i].iov_len);
	g_checksum_get_digest(sum, digest, &n);
	g_checksum_free(sum);
	sodium_bin2hex(id, QUARANTINE_ID_LEN + 1, digest, sizeof(raw));
}

/* used_size - octets the quarantine's files take now */
static unsigned long long
used_size(const ms_store *store)
{
	char *dir = store_path(store, QDIR, NULL);
	GDir *d = g_dir_open(dir, 0, NULL);
	const char *name;
	unsigned long long total = 0;

	while (d != NULL && (name = g_dir_read_name(d)) != NULL) {
		char *path = g_build_filename(dir, name, NULL);
		struct stat st;

		if (lstat(path, &st) == 0 && S_ISREG(st.st_mode))
			total += (unsigned long long)st.st_size;
		g_free(path);
	}
	if (d != NULL)
		g_dir_close(d);
	g_free(dir);
	return total;
}

/* join - add the recipients the held entry id does not name yet (lock
 * held); MS_POLICY when the entry is no longer held */
static ms_err
join(ms_store *store, const char *id, const GByteArray *meta,
    const quarantine_hold *h)
{
	char *state = quarantine_meta_value(meta, "state");
	char **known = quarantine_meta_values(meta, "recipient");
	GString *text;
	char *name;
	ms_err err = MS_OK;

	if (state == NULL || strcmp(state, "held") != 0) {
		g_free(state);
		g_strfreev(known);
		return MS_POLICY;
	}
	text = g_string_new_len((const char *)meta->data, (gssize)meta->len);
	for (int i = 0; h->recipients[i] != NULL; i++)
		if (!g_strv_contains((const char *const *)known,
		    h->recipients[i]))
			meta_line(text, "recipient", h->recipients[i], 0);
	name = file_name(id, ".meta");
	err = store_write(store, QDIR, name, text->str, text->len, 0600);
	g_free(name);
	g_free(state);
	g_strfreev(known);
	g_string_free(text, TRUE);
	return err;
}

ms_err
quarantine_put(ms_store *store, const struct iovec *message, int parts,
    const quarantine_hold *h, char **id_out, bool *joined)
{
	unsigned char raw[QUARANTINE_ID_LEN / 2];
	char id[QUARANTINE_ID_LEN + 1];
	char stamp[32];
	unsigned long long size = 0;
	GByteArray *old = NULL;
	GString *text;
	char *eml, *metaname;
	ms_err err;

	*id_out = NULL;
	*joined = false;
	for (int i = 0; i < parts; i++)
		size += message[i].iov_len;
	entry_id(message, parts, h, id);
	if (!utc_stamp(time(NULL), stamp))
		return MS_INTERNAL;
	err = ensure_dir(store);
	if (err == MS_OK)
		err = store_lock(store, LOCK_WAIT_MS);
	if (err != MS_OK)
		return err;
	err = quarantine_meta(store, id, &old);
	if (err != MS_OK && err != MS_NOTFOUND) {
		/* an entry that cannot be read is not overwritten */
		store_unlock(store);
		return MS_TEMP;
	}
	if (err == MS_OK) {
		err = join(store, id, old, h);
		g_byte_array_free(old, TRUE);
		if (err == MS_OK) {
			store_unlock(store);
			*joined = true;
			*id_out = g_strdup(id);
			return MS_OK;
		}
		if (err != MS_POLICY) {
			store_unlock(store);
			return err;
		}
		/* released or being released: the message is here again,
		 * a new entry */
		randombytes_buf(raw, sizeof(raw));
		sodium_bin2hex(id, sizeof(id), raw, sizeof(raw));
	}
	/* a full quarantine defers the message: never accepted and lost */
	if (h->max_size > 0 && used_size(store) + size > h->max_size) {
		store_unlock(store);
		diag_error("the quarantine is full (quarantine-max-size %llu)",
		    h->max_size);
		return MS_TEMP;
	}
	text = g_string_new(NULL);
	g_string_append_printf(text, "id: %s\ntime: %s\nstate: held\n"
	    "size: %llu\n", id, stamp, size);
	meta_line(text, "queue-id", h->queue_id != NULL && *h->queue_id ?
	    h->queue_id : "-", 0);
	meta_line(text, "verdict", h->verdict, 0);
	meta_line(text, "rules", h->rules, 0);
	meta_line(text, "auth", h->auth != NULL ? h->auth : "none", 0);
	meta_line(text, "subject", h->subject != NULL ? h->subject : "",
	    QUARANTINE_SUBJECT_MAX);
	meta_line(text, "sender", *h->sender != '\0' ? h->sender : "<>", 0);
	for (int i = 0; h->recipients[i] != NULL; i++)
		meta_line(text, "recipient", h->recipients[i], 0);
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

char **
quarantine_meta_values(const GByteArray *meta, const char *key)
{
	GPtrArray *out = g_ptr_array_new();
	size_t klen = strlen(key), pos = 0, len = meta->len;
	const char *t = (const char *)meta->data;

	while (pos < len) {
		const char *nl = memchr(t + pos, '\n', len - pos);
		size_t n = nl ? (size_t)(nl - (t + pos)) : len - pos;

		if (n > klen + 1 && strncmp(t + pos, key, klen) == 0 &&
		    t[pos + klen] == ':')
			g_ptr_array_add(out, g_strstrip(g_strndup(t + pos +
			    klen + 1, n - klen - 1)));
		pos += n + 1;
	}
	g_ptr_array_add(out, NULL);
	return (char **)g_ptr_array_free(out, FALSE);
}

char *
quarantine_meta_value(const GByteArray *meta, const char *key)
{
	char **all = quarantine_meta_values(meta, key);
	char *first = all[0] != NULL ? g_strdup(all[0]) : NULL;

	g_strfreev(all);
	return first;
}

/* set_state - rewrite the meta with a new state line (lock held); an
 * entry going "releasing" records the releasing process and the time
 * ("releaser: PID TIME"), so that a release that died can be told from
 * one that still runs; any other state drops that line */
static ms_err
set_state(ms_store *store, const char *id, const GByteArray *meta,
    const char *state)
{
	GString *out = g_string_new(NULL);
	const char *t = (const char *)meta->data;
	size_t pos = 0;
	char *name = file_name(id, ".meta");
	char stamp[32];
	ms_err err;

	while (pos < meta->len) {
		const char *nl = memchr(t + pos, '\n', meta->len - pos);
		size_t n = nl ? (size_t)(nl - (t + pos)) : meta->len - pos;

		if (n >= 6 && strncmp(t + pos, "state:", 6) == 0)
			g_string_append_printf(out, "state: %s\n", state);
		else if (!(n >= 9 && strncmp(t + pos, "releaser:", 9) == 0)) {
			g_string_append_len(out, t + pos, (gssize)n);
			g_string_append_c(out, '\n');
		}
		pos += n + 1;
	}
	if (strcmp(state, "releasing") == 0) {
		if (!utc_stamp(time(NULL), stamp)) {
			g_free(name);
			g_string_free(out, TRUE);
			return MS_INTERNAL;
		}
		g_string_append_printf(out, "releaser: %ld %s\n",
		    (long)getpid(), stamp);
	}
	err = store_write(store, QDIR, name, out->str, out->len, 0600);
	g_free(name);
	g_string_free(out, TRUE);
	return err;
}

ms_err
quarantine_message(const ms_store *store, const char *id, int *fd)
{
	char *eml, *path;
	ms_err err = MS_OK;

	*fd = -1;
	if (!quarantine_id_ok(id))
		return MS_NOTFOUND;
	eml = file_name(id, ".eml");
	path = store_path(store, QDIR, eml);
	*fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (*fd < 0) {
		err = errno == ENOENT ? MS_NOTFOUND : MS_TEMP;
		if (err == MS_TEMP)
			diag_error("cannot open %s: %s", path, strerror(errno));
	}
	g_free(path);
	g_free(eml);
	return err;
}

/* releaser_alive - the process of a "releaser: PID TIME" line still
 * runs (or another now has its number: then the administrator waits) */
static bool
releaser_alive(const GByteArray *meta)
{
	char *text = quarantine_meta_value(meta, "releaser");
	unsigned long long pid = 0;
	bool alive = false;

	if (text != NULL) {
		char *space = strchr(text, ' ');

		if (space != NULL)
			*space = '\0';
		alive = parse_decimal(text, INT_MAX, &pid) && pid > 0 &&
		    (kill((pid_t)pid, 0) == 0 || errno == EPERM);
	}
	g_free(text);
	return alive;
}

/* lock_entry - take the store lock and read id's record and state
 * (g_byte_array_free, g_free): on success the lock is held */
static ms_err
lock_entry(ms_store *store, const char *id, GByteArray **meta, char **state)
{
	ms_err err;

	*meta = NULL;
	*state = NULL;
	if (!quarantine_id_ok(id))
		return MS_NOTFOUND;
	err = store_lock(store, LOCK_WAIT_MS);
	if (err != MS_OK)
		return err;
	err = quarantine_meta(store, id, meta);
	if (err != MS_OK) {
		store_unlock(store);
		return err;
	}
	*state = quarantine_meta_value(*meta, "state");
	return MS_OK;
}

/* change_state - from -> to under the lock, with the audit line audit
 * (or none), MS_TEMP when asked to check that the entry's releasing
 * process is gone and it is not; the meta in *meta when asked */
static ms_err
change_state(ms_store *store, const char *id, const char *from,
    const char *to, const char *audit, bool releaser_gone,
    GByteArray **meta_out)
{
	GByteArray *meta = NULL;
	char *state = NULL;
	ms_err err;

	err = lock_entry(store, id, &meta, &state);
	if (err != MS_OK)
		return err;
	if (state == NULL || strcmp(state, from) != 0)
		err = MS_POLICY;	/* single use */
	else if (releaser_gone && releaser_alive(meta))
		err = MS_TEMP;
	/* recorded first: a change the log cannot hold does not happen */
	if (err == MS_OK && audit != NULL)
		err = audit_record(store, "%s quarantine %s", audit, id);
	if (err == MS_OK)
		err = set_state(store, id, meta, to);
	store_unlock(store);
	g_free(state);
	if (err == MS_OK && meta_out != NULL)
		*meta_out = meta;
	else
		g_byte_array_free(meta, TRUE);
	return err;
}

ms_err
quarantine_claim(ms_store *store, const char *id, GByteArray **meta)
{
	*meta = NULL;
	return change_state(store, id, "held", "releasing", "release", false,
	    meta);
}

ms_err
quarantine_settle(ms_store *store, const char *id, bool released)
{
	/* a failed release is in the log: the entry is held again */
	return change_state(store, id, "releasing",
	    released ? "released" : "held",
	    released ? NULL : "release failed, held again", false, NULL);
}

/* remove_entry - the entry's files, then the audit line what (lock
 * held) */
static ms_err
remove_entry(ms_store *store, const char *id, const char *what)
{
	char *eml = file_name(id, ".eml"), *meta = file_name(id, ".meta");
	ms_err err, err2;

	/* the commit record first: a half-deleted entry is not listed */
	err = store_remove(store, QDIR, meta);
	err2 = store_remove(store, QDIR, eml);
	if (err == MS_OK && err2 != MS_OK && err2 != MS_NOTFOUND)
		err = err2;
	if (err == MS_OK)
		err = audit_record(store, "%s quarantine %s", what, id);
	g_free(eml);
	g_free(meta);
	return err;
}

ms_err
quarantine_delete(ms_store *store, const char *id, GByteArray **meta)
{
	GByteArray *old = NULL;
	ms_err err;

	if (meta != NULL)
		*meta = NULL;
	if (!quarantine_id_ok(id))
		return MS_NOTFOUND;
	err = store_lock(store, LOCK_WAIT_MS);
	if (err != MS_OK)
		return err;
	/* the record as it was when removed, for the notice */
	if (meta != NULL && quarantine_meta(store, id, &old) == MS_TEMP) {
		store_unlock(store);
		return MS_TEMP;
	}
	err = remove_entry(store, id, "delete");
	store_unlock(store);
	if (err == MS_OK && meta != NULL)
		*meta = old;
	else if (old != NULL)
		g_byte_array_free(old, TRUE);
	return err;
}

/* entry_time - the hold time of a meta, or -1 when it has none that
 * reads as one */
static gint64
entry_time(const GByteArray *meta)
{
	char *text = quarantine_meta_value(meta, "time");
	GDateTime *when = text != NULL ?
	    g_date_time_new_from_iso8601(text, NULL) : NULL;
	gint64 t = when != NULL ? g_date_time_to_unix(when) : -1;

	if (when != NULL)
		g_date_time_unref(when);
	g_free(text);
	return t;
}

ms_err
quarantine_expire(ms_store *store, const char *id, time_t now,
    unsigned long long retention, GByteArray **meta_out)
{
	GByteArray *meta = NULL;
	char *state = NULL;
	gint64 held;
	ms_err err;

	*meta_out = NULL;
	err = lock_entry(store, id, &meta, &state);
	if (err != MS_OK)
		return err;
	held = entry_time(meta);
	/* a release under way, a state or a time we cannot read: never
	 * removed by the clock, only by an administrator */
	if (state == NULL || (strcmp(state, "held") != 0 &&
	    strcmp(state, "released") != 0) || held < 0 ||
	    (unsigned long long)held + retention > (unsigned long long)now)
		err = MS_POLICY;
	if (err == MS_OK)
		err = remove_entry(store, id, "expire");
	store_unlock(store);
	g_free(state);
	if (err == MS_OK)
		*meta_out = meta;
	else
		g_byte_array_free(meta, TRUE);
	return err;
}

ms_err
quarantine_unstick(ms_store *store, const char *id)
{
	return change_state(store, id, "releasing", "held",
	    "release interrupted, held again", true, NULL);
}

ms_err
quarantine_mark_once(ms_store *store, const char *id, const char *key,
    bool *first)
{
	GByteArray *meta = NULL;
	char *state = NULL, *known, *name, stamp[32];
	GString *text;
	ms_err err;

	*first = false;
	if (!utc_stamp(time(NULL), stamp))
		return MS_INTERNAL;
	err = lock_entry(store, id, &meta, &state);
	if (err != MS_OK)
		return err;
	known = quarantine_meta_value(meta, key);
	if (known == NULL) {
		text = g_string_new_len((const char *)meta->data,
		    (gssize)meta->len);
		g_string_append_printf(text, "%s: %s\n", key, stamp);
		name = file_name(id, ".meta");
		err = store_write(store, QDIR, name, text->str, text->len,
		    0600);
		*first = err == MS_OK;
		g_free(name);
		g_string_free(text, TRUE);
	}
	store_unlock(store);
	g_free(known);
	g_free(state);
	g_byte_array_free(meta, TRUE);
	return err;
}
