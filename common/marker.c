/*
 * marker.c - the loop marker of REL-7 (marker.h).
 */
#include "marker.h"
#include "diag.h"
#include "msgpart.h"

#include <errno.h>
#include <fcntl.h>
#include <glib.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* read_key - exactly MARKER_KEY_LEN octets from path */
static ms_err
read_key(const char *path, unsigned char *key)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	ssize_t n;

	if (fd < 0)
		return errno == ENOENT ? MS_NOTFOUND : MS_TEMP;
	do
		n = read(fd, key, MARKER_KEY_LEN);
	while (n < 0 && errno == EINTR);
	close(fd);
	if (n != MARKER_KEY_LEN) {
		diag_error("the instance key %s is damaged", path);
		return MS_CONFIG;
	}
	return MS_OK;
}

ms_err
marker_key(const ms_store *store, unsigned char *key)
{
	char *dir = store_path(store, "spool", NULL);
	char *path = g_build_filename(dir, "instance.key", NULL);
	char *tmp = g_strdup_printf("%s.%ld", path, (long)getpid());
	unsigned char fresh[MARKER_KEY_LEN];
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

/* mac_hex - the marker's MAC for time t and msg's Message-ID */
static void
mac_hex(const unsigned char *key, const ms_message *msg, long long t,
    char hex[2 * crypto_auth_hmacsha256_BYTES + 1])
{
	unsigned char mac[crypto_auth_hmacsha256_BYTES];
	char **ids = msg_header_texts(msg, "Message-ID");
	char *input = g_strdup_printf("v1\n%lld\n%s", t,
	    ids[0] != NULL ? g_strstrip(ids[0]) : "");
	crypto_auth_hmacsha256_state st;

	crypto_auth_hmacsha256_init(&st, key, MARKER_KEY_LEN);
	crypto_auth_hmacsha256_update(&st, (const unsigned char *)input,
	    strlen(input));
	crypto_auth_hmacsha256_final(&st, mac);
	sodium_bin2hex(hex, 2 * sizeof mac + 1, mac, sizeof mac);
	g_strfreev(ids);
	g_free(input);
}

char *
marker_line(const unsigned char *key, const ms_message *msg, time_t now)
{
	char hex[2 * crypto_auth_hmacsha256_BYTES + 1];

	mac_hex(key, msg, (long long)now, hex);
	return g_strdup_printf("X-Mailseal-Processed: v1; t=%lld; mac=%s\n",
	    (long long)now, hex);
}

bool
marker_loop(const unsigned char *key, const ms_message *msg, time_t now,
    long *age)
{
	char **values = msg_header_texts(msg, "X-Mailseal-Processed");
	bool loop = false;

	for (size_t i = 0; values[i] != NULL && !loop; i++) {
		char hex[2 * crypto_auth_hmacsha256_BYTES + 1];
		long long t;
		char mac[2 * crypto_auth_hmacsha256_BYTES + 1];
		int used = 0;

		if (sscanf(values[i], " v1; t=%lld; mac=%64[0-9a-f]%n", &t,
		    mac, &used) != 2 || used == 0 ||
		    strlen(mac) != 2 * crypto_auth_hmacsha256_BYTES)
			continue;
		if (t > (long long)now + 60 ||
		    (long long)now - t > MARKER_WINDOW)
			continue;	/* stale or from the future: foreign */
		mac_hex(key, msg, t, hex);
		if (sodium_memcmp(hex, mac, sizeof mac - 1) == 0) {
			loop = true;
			*age = (long)((long long)now - t);
		}
	}
	g_strfreev(values);
	return loop;
}
