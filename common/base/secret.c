/*
 * secret.c - secrets from files (see secret.h).
 */
#include "secret.h"
#include "diag.h"
#include "err.h"

#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

char *
secret_read_file(const char *path)
{
	char *buf = malloc(SECRET_MAX + 1);
	size_t len = 0;
	int fd;

	if (buf == NULL)
		diag_fatal(EXIT_TEMPFAIL, "out of memory");
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		diag_error("cannot read the password file %s: %s", path,
		    strerror(errno));
		free(buf);
		return NULL;
	}
	for (;;) {
		ssize_t n = read(fd, buf + len, SECRET_MAX + 1 - len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			diag_error("cannot read the password file %s: %s",
			    path, strerror(errno));
			len = SECRET_MAX + 2;
			break;
		}
		if (n == 0)
			break;
		len += (size_t)n;
		if (len > SECRET_MAX)
			break;
	}
	close(fd);
	if (len > SECRET_MAX) {
		if (len == SECRET_MAX + 1)
			diag_error("the password file %s is too large", path);
		secret_free(buf);
		return NULL;
	}
	buf[len] = '\0';
	if (memchr(buf, '\0', len) != NULL) {
		diag_error("the password file %s contains a NUL byte",
		    path);
		sodium_memzero(buf, len);
		free(buf);
		return NULL;
	}
	buf[strcspn(buf, "\r\n")] = '\0';
	if (buf[0] == '\0') {
		diag_error("the password file %s is empty", path);
		free(buf);
		return NULL;
	}
	return buf;
}

void
secret_free(char *secret)
{
	if (secret == NULL)
		return;
	sodium_memzero(secret, strlen(secret));
	free(secret);
}

void
secret_bytes_free(GByteArray *bytes)
{
	if (bytes == NULL)
		return;
	if (bytes->len > 0)
		sodium_memzero(bytes->data, bytes->len);
	g_byte_array_free(bytes, TRUE);
}

void
secret_string_free(GString *s)
{
	if (s == NULL)
		return;
	sodium_memzero(s->str, s->allocated_len);
	g_string_free(s, TRUE);
}
