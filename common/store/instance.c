/*
 * instance.c - this gateway's instance key (instance.h).
 */
#include "instance.h"
#include "diag.h"

#include <errno.h>
#include <fcntl.h>
#include <glib.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* read_key - exactly INSTANCE_KEY_LEN octets from path */
static ms_err
read_key(const char *path, unsigned char *key)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	ssize_t n;

	if (fd < 0)
		return errno == ENOENT ? MS_NOTFOUND : MS_TEMP;
	do
		n = read(fd, key, INSTANCE_KEY_LEN);
	while (n < 0 && errno == EINTR);
	close(fd);
	if (n != INSTANCE_KEY_LEN) {
		diag_error("the instance key %s is damaged", path);
		return MS_CONFIG;
	}
	return MS_OK;
}

ms_err
instance_key(const ms_store *store, unsigned char key[INSTANCE_KEY_LEN])
{
	char *dir = store_path(store, "spool", NULL);
	char *path = g_build_filename(dir, "instance.key", NULL);
	char *tmp = g_strdup_printf("%s.%ld", path, (long)getpid());
	unsigned char fresh[INSTANCE_KEY_LEN];
	ms_err err;
	int fd;

	if (sodium_init() < 0) {
		diag_error("libsodium cannot start");
		err = MS_INTERNAL;
		goto out;
	}
	err = read_key(path, key);

	if (err != MS_NOTFOUND)
		goto out;
	/* first use: a new key, written whole under a private name and
	 * linked into place, so a concurrent first use reads one key */
	if (mkdir(dir, 0700) != 0 && errno != EEXIST) {
		diag_error("cannot create %s: %s", dir, strerror(errno));
		err = MS_TEMP;
		goto out;
	}
	randombytes_buf(fresh, sizeof fresh);
	fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0 || write(fd, fresh, sizeof fresh) != sizeof fresh ||
	    fsync(fd) != 0) {
		diag_error("cannot write %s: %s", tmp, strerror(errno));
		if (fd >= 0)
			close(fd);
		(void)unlink(tmp);
		err = MS_TEMP;
		goto out;
	}
	close(fd);
	if (link(tmp, path) != 0 && errno != EEXIST) {
		diag_error("cannot create %s: %s", path, strerror(errno));
		(void)unlink(tmp);
		err = MS_TEMP;
		goto out;
	}
	(void)unlink(tmp);
	err = read_key(path, key);
out:
	sodium_memzero(fresh, sizeof fresh);
	g_free(tmp);
	g_free(path);
	g_free(dir);
	return err;
}
