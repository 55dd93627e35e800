/*
 * store.c - flat-file store primitives (see store.h).  Every write goes
 * through one function that follows STORE-1/STORE-2; every read opens with
 * O_NOFOLLOW and caps the size.  Locks are Linux OFD locks on a separate
 * lock file (STORE-7), polled with a bounded wait.
 */

#include "store.h"
#include "codec.h"
#include "diag.h"
#include "paths.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

struct ms_store {
	char *root;
	int lock_fd;
	unsigned lock_depth;	/* store_lock calls inside the first */
};

static const char *const layout[] = {
	"settings", "settings/domain", "settings/user", "certs", "roots",
	"keys", "crls", "index", "index/addr", "index/subject", "index/keyid",
	"index/root", "caps", "cache", "ca", "crlstate", "tmp", "quarantine",
	"policies", "audit",
	NULL
};

const char *
store_locate(const char *option_value)
{
	const char *env;

	if (option_value != NULL && *option_value != '\0')
		return option_value;
	env = getenv("MAILSEAL_STORE");
	if (env != NULL && *env != '\0')
		return env;
	return paths_store_default();
}

bool
store_name_ok(const char *name)
{
	size_t len;

	if (name == NULL)
		return false;
	len = strlen(name);
	if (len == 0 || len > 255 || strcmp(name, ".") == 0 ||
	    strcmp(name, "..") == 0 || strchr(name, '/') != NULL)
		return false;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)name[i];

		if (c < 0x21 || c >= 0x7f)
			return false;
	}
	return true;
}

char *
store_path(const ms_store *store, const char *subdir, const char *name)
{
	if (name != NULL && !store_name_ok(name))
		diag_fatal(EXIT_TEMPFAIL, "internal error: unsafe store name");
	if (subdir == NULL || *subdir == '\0')
		return name ? g_build_filename(store->root, name, NULL) :
		    g_strdup(store->root);
	return name ? g_build_filename(store->root, subdir, name, NULL) :
	    g_build_filename(store->root, subdir, NULL);
}

/* check_dir - a store directory must be ours and not writable by others */
static ms_err
check_dir(const char *path)
{
	struct stat st;

	if (lstat(path, &st) != 0) {
		diag_error("store directory %s: %s", path, strerror(errno));
		return errno == ENOENT ? MS_CONFIG : MS_TEMP;
	}
	if (!S_ISDIR(st.st_mode)) {
		diag_error("store path %s is not a directory", path);
		return MS_CONFIG;
	}
	if ((st.st_mode & (S_IWGRP | S_IWOTH)) != 0) {
		diag_error("store directory %s is writable by group or others",
		    path);
		return MS_CONFIG;
	}
	if (st.st_uid != geteuid() && st.st_uid != 0) {
		diag_error("store directory %s belongs to another user", path);
		return MS_CONFIG;
	}
	return MS_OK;
}

ms_err
store_sync_dir(const char *dir)
{
	int fd;

	fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0) {
		diag_error("open directory %s: %s", dir, strerror(errno));
		return MS_TEMP;
	}
	if (fsync(fd) != 0 && errno != EINVAL) {
		diag_error("fsync directory %s: %s", dir, strerror(errno));
		close(fd);
		return MS_TEMP;
	}
	close(fd);
	return MS_OK;
}

ms_err
store_open(const char *path, bool create, ms_store **out)
{
	ms_store *store;
	char *real;
	ms_err err;

	*out = NULL;
	if (path == NULL || *path == '\0') {
		diag_error("no store directory given");
		return MS_CONFIG;
	}
	if (create && mkdir(path, 0700) != 0 && errno != EEXIST) {
		diag_error("cannot create store %s: %s", path, strerror(errno));
		return errno == EACCES || errno == EROFS ? MS_TEMP : MS_TEMP;
	}
	real = realpath(path, NULL);
	if (real == NULL) {
		diag_error("store %s: %s", path, strerror(errno));
		return errno == ENOENT ? MS_CONFIG : MS_TEMP;
	}
	store = g_new0(ms_store, 1);
	store->root = g_strdup(real);
	store->lock_fd = -1;
	free(real);
	err = check_dir(store->root);
	if (err != MS_OK)
		goto fail;
	if (create) {
		bool made = false;

		for (int i = 0; layout[i] != NULL; i++) {
			char *dir = g_build_filename(store->root, layout[i],
			    NULL);

			if (mkdir(dir, 0700) == 0)
				made = true;
			else if (errno != EEXIST) {
				diag_error("cannot create %s: %s", dir,
				    strerror(errno));
				g_free(dir);
				err = MS_TEMP;
				goto fail;
			}
			err = check_dir(dir);
			g_free(dir);
			if (err != MS_OK)
				goto fail;
		}
		if (made) {
			err = store_sync_dir(store->root);
			if (err != MS_OK)
				goto fail;
		}
	}
	*out = store;
	return MS_OK;
fail:
	store_close(store);
	return err;
}

void
store_close(ms_store *store)
{
	if (store == NULL)
		return;
	store_unlock(store);
	g_free(store->root);
	g_free(store);
}

const char *
store_root(const ms_store *store)
{
	return store->root;
}

ms_err
store_lock(ms_store *store, int timeout_ms)
{
	char *path;
	struct flock fl;
	struct timespec pause = { 0, 10 * 1000 * 1000 };
	int waited = 0;

	/* nested: a library call inside a command that holds the lock */
	if (store->lock_fd >= 0) {
		store->lock_depth++;
		return MS_OK;
	}
	path = g_build_filename(store->root, "lock", NULL);
	store->lock_fd = open(path, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC,
	    0600);
	if (store->lock_fd < 0) {
		diag_error("cannot open lock file %s: %s", path,
		    strerror(errno));
		g_free(path);
		return MS_TEMP;
	}
	g_free(path);
	for (;;) {
		memset(&fl, 0, sizeof(fl));
		fl.l_type = F_WRLCK;
		fl.l_whence = SEEK_SET;
		if (fcntl(store->lock_fd, F_OFD_SETLK, &fl) == 0)
			return MS_OK;
		if (errno != EAGAIN && errno != EACCES && errno != EINTR) {
			diag_error("cannot lock store: %s", strerror(errno));
			break;
		}
		if (waited >= timeout_ms) {
			diag_error("store is locked by another writer");
			break;
		}
		nanosleep(&pause, NULL);
		waited += 10;
	}
	close(store->lock_fd);
	store->lock_fd = -1;
	return MS_TEMP;
}

void
store_unlock(ms_store *store)
{
	if (store->lock_depth > 0) {
		store->lock_depth--;
		return;
	}
	if (store->lock_fd >= 0) {
		close(store->lock_fd);	/* closing drops the OFD lock */
		store->lock_fd = -1;
	}
}

/* write_all - write len bytes to fd, retrying short writes */
static bool
write_all(int fd, const void *data, size_t len)
{
	const char *p = data;

	while (len > 0) {
		ssize_t n = write(fd, p, len);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return false;
		}
		p += n;
		len -= (size_t)n;
	}
	return true;
}

/* a large file is written in pieces of this size, the writeback of
 * each started at once */
#define WRITEBACK_PIECE ((size_t)4 << 20)

/* write_early - write_all() at offset *done of a file that will be
 * fsync'ed, starting the writeback of every full piece as it is written,
 * so the disk works while the rest is copied and the fsync waits for the
 * last piece only (sync_file_range reports nothing durable: the fsync
 * still decides) */
static bool
write_early(int fd, const void *data, size_t len, off_t *done)
{
	const char *p = data;

	while (len > 0) {
		size_t n = len < WRITEBACK_PIECE ? len : WRITEBACK_PIECE;

		if (!write_all(fd, p, n))
			return false;
		if (n == WRITEBACK_PIECE)
			(void)sync_file_range(fd, *done, (off_t)n,
			    SYNC_FILE_RANGE_WRITE);
		*done += (off_t)n;
		p += n;
		len -= n;
	}
	return true;
}

ms_err
store_write(ms_store *store, const char *subdir, const char *name,
    const void *data, size_t len, mode_t mode)
{
	struct iovec whole = { (void *)data, len };

	return store_writev(store, subdir, name, &whole, 1, mode);
}

ms_err
store_writev(ms_store *store, const char *subdir, const char *name,
    const struct iovec *parts, int count, mode_t mode)
{
	char *dir, *final, *tmp;
	int fd, slot;
	ms_err err = MS_TEMP;
	off_t done = 0;
	bool ok;

	if (store->lock_fd < 0)
		diag_fatal(EXIT_TEMPFAIL, "internal error: store write "
		    "without the lock");
	dir = store_path(store, subdir, NULL);
	final = store_path(store, subdir, name);
	tmp = g_strdup_printf("%s/.tmp.XXXXXX", dir);
	fd = mkostemp(tmp, O_CLOEXEC);
	if (fd < 0) {
		diag_error("cannot create a file in %s: %s", dir,
		    strerror(errno));
		goto out;
	}
	slot = diag_cleanup_register(tmp);
	ok = fchmod(fd, mode) == 0;
	for (int i = 0; i < count && ok; i++)
		ok = write_early(fd, parts[i].iov_base, parts[i].iov_len,
		    &done);
	if (!ok) {
		diag_error("cannot write %s: %s", final, strerror(errno));
		close(fd);
		goto unlink;
	}
	/* STORE-2: a failed fsync fails this write; nothing is retried */
	if (fsync(fd) != 0) {
		diag_error("fsync %s: %s", final, strerror(errno));
		close(fd);
		goto unlink;
	}
	if (close(fd) != 0) {
		diag_error("close %s: %s", final, strerror(errno));
		goto unlink;
	}
	if (rename(tmp, final) != 0) {
		diag_error("rename to %s: %s", final, strerror(errno));
		goto unlink;
	}
	diag_cleanup_forget(slot);
	err = store_sync_dir(dir);
	goto out;
unlink:
	unlink(tmp);
	diag_cleanup_forget(slot);
out:
	g_free(tmp);
	g_free(final);
	g_free(dir);
	return err;
}

ms_err
store_append(ms_store *store, const char *subdir, const char *name,
    const void *data, size_t len, mode_t mode)
{
	char *path, *dir;
	struct stat st;
	bool created = false;
	ms_err err = MS_TEMP;
	int fd;

	if (store->lock_fd < 0)
		diag_fatal(EXIT_TEMPFAIL, "internal error: store append "
		    "without the lock");
	path = store_path(store, subdir, name);
	fd = open(path, O_WRONLY | O_APPEND | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0 && errno == ENOENT) {
		fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_EXCL |
		    O_NOFOLLOW | O_CLOEXEC, mode);
		created = fd >= 0;
	}
	if (fd < 0) {
		diag_error("cannot open %s: %s", path, strerror(errno));
		g_free(path);
		return MS_TEMP;
	}
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode))
		diag_error("%s is not a regular file", path);
	else if (!write_all(fd, data, len))
		diag_error("cannot write %s: %s", path, strerror(errno));
	else if (fsync(fd) != 0)
		diag_error("fsync %s: %s", path, strerror(errno));
	else
		err = MS_OK;
	if (close(fd) != 0 && err == MS_OK) {
		diag_error("close %s: %s", path, strerror(errno));
		err = MS_TEMP;
	}
	if (err == MS_OK && created) {
		dir = store_path(store, subdir, NULL);
		err = store_sync_dir(dir);
		g_free(dir);
	}
	g_free(path);
	return err;
}

ms_err
store_read(const ms_store *store, const char *subdir, const char *name,
    size_t max, GByteArray **out)
{
	char *path;
	int fd;
	struct stat st;
	GByteArray *buf;
	ms_err err = MS_TEMP;

	*out = NULL;
	path = store_path(store, subdir, name);
	fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0) {
		if (errno == ENOENT)
			err = MS_NOTFOUND;
		else
			diag_error("cannot open %s: %s", path,
			    strerror(errno));
		g_free(path);
		return err;
	}
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		diag_error("%s is not a regular file", path);
		goto out;
	}
	if ((size_t)st.st_size > max) {
		diag_error("%s is larger than %zu bytes", path, max);
		err = MS_DATA;
		goto out;
	}
	buf = g_byte_array_sized_new((guint)st.st_size + 1);
	for (;;) {
		char chunk[65536];
		ssize_t n = read(fd, chunk, sizeof(chunk));

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			diag_error("read %s: %s", path, strerror(errno));
			g_byte_array_free(buf, TRUE);
			goto out;
		}
		if (n == 0)
			break;
		if (buf->len + (size_t)n > max) {
			diag_error("%s is larger than %zu bytes", path, max);
			g_byte_array_free(buf, TRUE);
			err = MS_DATA;
			goto out;
		}
		g_byte_array_append(buf, (const guint8 *)chunk, (guint)n);
	}
	*out = buf;
	err = MS_OK;
out:
	close(fd);
	g_free(path);
	return err;
}

/* name_changed - after unlink or rename of path in subdir (rc, errno):
 * MS_NOTFOUND when it was not there, else the directory synced */
static ms_err
name_changed(const ms_store *store, const char *subdir, int rc,
    const char *path, const char *what)
{
	char *dir;
	ms_err err;

	if (rc != 0) {
		if (errno == ENOENT)
			return MS_NOTFOUND;
		diag_error("cannot %s %s: %s", what, path, strerror(errno));
		return MS_TEMP;
	}
	dir = store_path(store, subdir, NULL);
	err = store_sync_dir(dir);
	g_free(dir);
	return err;
}

ms_err
store_remove(ms_store *store, const char *subdir, const char *name)
{
	char *path = store_path(store, subdir, name);
	ms_err err = name_changed(store, subdir, unlink(path), path,
	    "remove");

	g_free(path);
	return err;
}

ms_err
store_rename(ms_store *store, const char *subdir, const char *from,
    const char *to)
{
	char *old_path = store_path(store, subdir, from);
	char *new_path = store_path(store, subdir, to);
	ms_err err = name_changed(store, subdir, rename(old_path, new_path),
	    old_path, "rename");

	g_free(old_path);
	g_free(new_path);
	return err;
}

bool
store_exists(const ms_store *store, const char *subdir, const char *name)
{
	char *path = store_path(store, subdir, name);
	struct stat st;
	bool ok = lstat(path, &st) == 0 && S_ISREG(st.st_mode);

	g_free(path);
	return ok;
}

static gint
compare_names(gconstpointer a, gconstpointer b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

ms_err
store_list(const ms_store *store, const char *subdir, GPtrArray **names)
{
	char *dir = store_path(store, subdir, NULL);
	DIR *d;
	struct dirent *ent;

	*names = g_ptr_array_new_with_free_func(g_free);
	d = opendir(dir);
	if (d == NULL) {
		ms_err err = errno == ENOENT ? MS_OK : MS_TEMP;

		if (err != MS_OK)
			diag_error("cannot read %s: %s", dir, strerror(errno));
		g_free(dir);
		return err;
	}
	errno = 0;
	while ((ent = readdir(d)) != NULL) {
		if (ent->d_name[0] == '.')
			continue;
		if (ent->d_type != DT_REG && ent->d_type != DT_UNKNOWN)
			continue;
		g_ptr_array_add(*names, g_strdup(ent->d_name));
	}
	closedir(d);
	g_free(dir);
	g_ptr_array_sort(*names, compare_names);
	return MS_OK;
}

char *
store_hash_name(const char *text)
{
	return codec_sha256_hex(text, strlen(text));
}

#define RECORD_MAGIC "mailseal-record 1 "
#define RECORD_END "mailseal-end "

ms_err
store_record_write(ms_store *store, const char *subdir, const char *name,
    const char *type, const void *body, size_t len, mode_t mode)
{
	GString *rec;
	char *sum;
	ms_err err;

	/* records are line based, so the trailer always starts a line */
	if (len > 0 && ((const char *)body)[len - 1] != '\n')
		diag_fatal(EXIT_TEMPFAIL, "internal error: record body "
		    "without a final newline");
	sum = codec_sha256_hex(body, len);
	rec = g_string_sized_new(len + 128);
	g_string_append_printf(rec, RECORD_MAGIC "%s\n", type);
	g_string_append_len(rec, body, (gssize)len);
	g_string_append_printf(rec, RECORD_END "%zu %s\n", len, sum);
	err = store_write(store, subdir, name, rec->str, rec->len, mode);
	g_string_free(rec, TRUE);
	g_free(sum);
	return err;
}

ms_err
store_record_read(const ms_store *store, const char *subdir,
    const char *name, const char *type, size_t max, GByteArray **body)
{
	GByteArray *raw;
	ms_err err;
	char *head, *sum, *trailer_line;
	const char *data, *nl, *trailer;
	size_t head_len, body_len, declared;
	char declared_sum[65];

	*body = NULL;
	err = store_read(store, subdir, name, max, &raw);
	if (err != MS_OK)
		return err;
	head = g_strdup_printf(RECORD_MAGIC "%s\n", type);
	head_len = strlen(head);
	data = (const char *)raw->data;
	err = MS_TEMP;
	if (raw->len < head_len || memcmp(data, head, head_len) != 0)
		goto bad;
	/* the trailer is the last line */
	if (raw->len < head_len + 1 || data[raw->len - 1] != '\n')
		goto bad;
	trailer = NULL;
	for (nl = data + raw->len - 1; nl > data + head_len - 1; nl--) {
		if (nl != data + raw->len - 1 && *nl == '\n') {
			trailer = nl + 1;
			break;
		}
	}
	if (trailer == NULL)
		trailer = data + head_len;
	trailer_line = g_strndup(trailer,
	    (gsize)(data + raw->len - trailer));
	if (sscanf(trailer_line, RECORD_END "%zu %64s", &declared,
	    declared_sum) != 2) {
		g_free(trailer_line);
		goto bad;
	}
	g_free(trailer_line);
	body_len = (size_t)(trailer - data) - head_len;
	if (declared != body_len)
		goto bad;
	sum = codec_sha256_hex(data + head_len, body_len);
	if (strcmp(sum, declared_sum) != 0) {
		g_free(sum);
		goto bad;
	}
	g_free(sum);
	*body = g_byte_array_sized_new((guint)body_len + 1);
	g_byte_array_append(*body, (const guint8 *)data + head_len,
	    (guint)body_len);
	g_byte_array_free(raw, TRUE);
	g_free(head);
	return MS_OK;
bad:
	diag_error("store file %s/%s is damaged", subdir, name);
	g_byte_array_free(raw, TRUE);
	g_free(head);
	return err;
}

ms_err
store_write_cache(const ms_store *store, const char *subdir, const char *name,
    const void *data, size_t len)
{
	char *dir = store_path(store, subdir, NULL);
	char *final = store_path(store, subdir, name);
	char *tmp = g_strdup_printf("%s/.tmp.XXXXXX", dir);
	int fd = mkostemp(tmp, O_CLOEXEC);
	ms_err err = MS_TEMP;

	if (fd >= 0) {
		int slot = diag_cleanup_register(tmp);

		if (fchmod(fd, 0600) == 0 && write_all(fd, data, len) &&
		    close(fd) == 0 && rename(tmp, final) == 0)
			err = MS_OK;
		else
			unlink(tmp);
		diag_cleanup_forget(slot);
	}
	g_free(tmp);
	g_free(final);
	g_free(dir);
	return err;
}

unsigned long long
store_generation(const ms_store *store)
{
	GByteArray *body;
	unsigned long long n = 0;
	ms_err err;

	err = store_record_read(store, "index", "generation", "generation",
	    256, &body);
	if (err == MS_NOTFOUND)
		return 0;
	if (err != MS_OK)
		return STORE_GENERATION_UNKNOWN;
	g_byte_array_append(body, (const guint8 *)"", 1);
	n = g_ascii_strtoull((const char *)body->data, NULL, 10);
	g_byte_array_free(body, TRUE);
	return n;
}

ms_err
store_bump_generation(ms_store *store)
{
	char text[32];

	snprintf(text, sizeof(text), "%llu\n", store_generation(store) + 1);
	return store_record_write(store, "index", "generation", "generation", text,
	    strlen(text), 0644);
}
