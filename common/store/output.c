/*
 * output.c - complete-before-commit output through an anonymous file
 * (see output.h).
 */
#include "output.h"
#include "diag.h"

#include <errno.h>
#include <fcntl.h>
#include <glib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <unistd.h>

struct ms_output {
	int fd;
	BIO *bio;
	bool failed;
};

/* anonymous_file - O_TMPFILE in dir, else a name unlinked at once */
static int
anonymous_file(const char *dir)
{
	int fd = open(dir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
	char *path;

	if (fd >= 0 || (errno != EOPNOTSUPP && errno != EISDIR &&
	    errno != EINVAL))
		return fd;
	path = g_build_filename(dir, "out.XXXXXX", NULL);
	fd = mkostemp(path, O_CLOEXEC);
	if (fd >= 0)
		unlink(path);
	g_free(path);
	return fd;
}

ms_err
output_open(const ms_store *store, ms_output **out)
{
	ms_output *o = g_new0(ms_output, 1);
	const char *tmpdir = getenv("TMPDIR");

	/* an anonymous memory file: no file system, nothing left behind */
	o->fd = memfd_create("mailseal-output", MFD_CLOEXEC);
	if (o->fd < 0 && store != NULL) {
		char *dir = store_path(store, "tmp", NULL);

		o->fd = anonymous_file(dir);
		g_free(dir);
	}
	if (o->fd < 0)
		o->fd = anonymous_file(tmpdir && *tmpdir ? tmpdir : "/tmp");
	if (o->fd < 0) {
		diag_error("cannot create a temporary file: %s",
		    strerror(errno));
		g_free(o);
		*out = NULL;
		return MS_TEMP;
	}
	*out = o;
	return MS_OK;
}

int
output_fd(const ms_output *out)
{
	return out->fd;
}

ms_err
output_rewind(ms_output *out)
{
	if (out->bio != NULL)
		(void)BIO_flush(out->bio);
	if (ftruncate(out->fd, 0) != 0 || lseek(out->fd, 0, SEEK_SET) != 0) {
		diag_error("cannot empty a temporary file: %s",
		    strerror(errno));
		out->failed = true;
		return MS_TEMP;
	}
	out->failed = false;
	return MS_OK;
}

ms_err
output_write(ms_output *out, const void *data, size_t len)
{
	const char *p = data;

	if (out->bio != NULL && BIO_flush(out->bio) != 1)
		out->failed = true;
	while (len > 0 && !out->failed) {
		ssize_t n = write(out->fd, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			diag_error("write temporary file: %s", strerror(errno));
			out->failed = true;
			break;
		}
		p += n;
		len -= (size_t)n;
	}
	return out->failed ? MS_TEMP : MS_OK;
}

ms_err
output_write_lf(ms_output *out, const char *data, size_t len)
{
	size_t start = 0;
	ms_err err = MS_OK;

	for (size_t i = 0; i < len && err == MS_OK; i++) {
		const char *cr = memchr(data + i, '\r', len - i);

		if (cr == NULL)
			break;
		i = (size_t)(cr - data);
		err = output_write(out, data + start, i - start);
		if (err == MS_OK && (i + 1 >= len || data[i + 1] != '\n'))
			err = output_write(out, "\n", 1);
		start = i + 1;
	}
	if (err == MS_OK)
		err = output_write(out, data + start, len - start);
	return err;
}

BIO *
output_bio(ms_output *out)
{
	if (out->bio == NULL) {
		/* a buffer in front of the file: base64 and BER encoders
		 * write in small pieces, one system call each otherwise */
		BIO *fd = BIO_new_fd(out->fd, BIO_NOCLOSE);
		BIO *buffer = BIO_new(BIO_f_buffer());

		if (fd == NULL || buffer == NULL ||
		    BIO_set_write_buffer_size(buffer, 256 * 1024) != 1)
			diag_fatal(EXIT_TEMPFAIL, "out of memory");
		out->bio = BIO_push(buffer, fd);
	}
	return out->bio;
}

ms_err
output_commit(ms_output *out)
{
	off_t offset = 0;
	struct stat st;
	ms_err err = MS_OK;

	if (out->bio != NULL && BIO_flush(out->bio) != 1)
		out->failed = true;
	if (out->failed || fstat(out->fd, &st) != 0) {
		output_discard(out);
		return MS_TEMP;
	}
	if (fflush(stdout) != 0)
		err = MS_TEMP;
	while (err == MS_OK && offset < st.st_size) {
		ssize_t n = sendfile(STDOUT_FILENO, out->fd, &offset,
		    (size_t)(st.st_size - offset));

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EINVAL || errno == ENOSYS)) {
			/* stdout cannot take sendfile: copy by hand */
			char buf[65536];
			ssize_t r = pread(out->fd, buf, sizeof(buf), offset);

			if (r <= 0 || fwrite(buf, 1, (size_t)r, stdout) !=
			    (size_t)r) {
				err = MS_TEMP;
				break;
			}
			offset += r;
			continue;
		}
		if (n <= 0) {
			diag_error("write to standard output: %s",
			    strerror(errno));
			err = MS_TEMP;
			break;
		}
	}
	output_discard(out);
	return err;
}

ms_err
output_send(const struct iovec *parts, int count)
{
	if (fflush(stdout) != 0)
		return MS_TEMP;
	for (int i = 0; i < count; i++) {
		const char *p = parts[i].iov_base;
		size_t len = parts[i].iov_len;

		while (len > 0) {
			ssize_t n = write(STDOUT_FILENO, p, len);

			if (n < 0 && errno == EINTR)
				continue;
			if (n <= 0) {
				diag_error("write to standard output: %s",
				    strerror(errno));
				return MS_TEMP;
			}
			p += n;
			len -= (size_t)n;
		}
	}
	return MS_OK;
}

void
output_discard(ms_output *out)
{
	if (out == NULL)
		return;
	BIO_free_all(out->bio);
	if (out->fd >= 0)
		close(out->fd);
	g_free(out);
}
