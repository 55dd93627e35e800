/*
 * mailbox.c - the sealed-message format of the portal's mailboxes (the
 * format and its limits are described in mailbox.h).
 */
#include "mailbox.h"

#include "diag.h"
#include "secret.h"

#include <errno.h>
#include <jansson.h>
#include <string.h>
#include <unistd.h>

#define KIND_BODY 1
#define KIND_META 2
#define STREAM_HEADER_BYTES crypto_secretstream_xchacha20poly1305_HEADERBYTES
#define CHUNK_OVERHEAD crypto_secretstream_xchacha20poly1305_ABYTES
#define KEY_BYTES crypto_secretstream_xchacha20poly1305_KEYBYTES
#define TAG_FINAL crypto_secretstream_xchacha20poly1305_TAG_FINAL
#define TAG_MESSAGE crypto_secretstream_xchacha20poly1305_TAG_MESSAGE

static const unsigned char magic[4] = { 'M', 'S', 'M', 'B' };

/* where plaintext comes from or goes to: an fd, or memory (the metadata
 * record, bounded by limit) */
typedef struct endpoint {
	int fd;			/* -1: memory */
	const unsigned char *data;	/* source memory */
	size_t len, pos;
	GByteArray *sink;	/* sink memory */
	size_t limit;
} endpoint;

/* read_full - up to len bytes, fewer only at the end of input */
static ms_err
read_full(int fd, unsigned char *buf, size_t len, size_t *got)
{
	*got = 0;
	while (*got < len) {
		ssize_t n = read(fd, buf + *got, len - *got);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			diag_error("mailbox: read: %s", strerror(errno));
			return MS_TEMP;
		}
		if (n == 0)
			break;
		*got += (size_t)n;
	}
	return MS_OK;
}

/* write_all - every byte, or MS_TEMP */
static ms_err
write_all(int fd, const unsigned char *buf, size_t len)
{
	while (len > 0) {
		ssize_t n = write(fd, buf, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			diag_error("mailbox: write: %s",
			    n < 0 ? strerror(errno) : "nothing written");
			return MS_TEMP;
		}
		buf += n;
		len -= (size_t)n;
	}
	return MS_OK;
}

static ms_err
source_read(endpoint *src, unsigned char *buf, size_t len, size_t *got)
{
	if (src->fd >= 0)
		return read_full(src->fd, buf, len, got);
	*got = MIN(len, src->len - src->pos);
	memcpy(buf, src->data + src->pos, *got);
	src->pos += *got;
	return MS_OK;
}

static ms_err
sink_write(endpoint *dst, const unsigned char *buf, size_t len)
{
	if (dst->fd >= 0)
		return write_all(dst->fd, buf, len);
	if (len > dst->limit - dst->sink->len)
		return MS_DATA;
	g_byte_array_append(dst->sink, buf, (guint)len);
	return MS_OK;
}

/* seal - the common writer of both kinds */
static ms_err
seal(const unsigned char *public_key, int kind, endpoint *src, int out_fd)
{
	crypto_secretstream_xchacha20poly1305_state *state;
	unsigned char header[MBX_HEADER_BYTES];
	unsigned char sealed_key[MBX_SEALED_KEY_BYTES];
	unsigned char stream_header[STREAM_HEADER_BYTES];
	unsigned char *key, *plain[2], *cipher;
	unsigned long long total = 0, max;
	size_t got[2];
	int cur = 0;
	ms_err err;

	if (sodium_init() < 0)
		return MS_INTERNAL;
	max = kind == KIND_BODY ? MBX_MESSAGE_MAX : MBX_META_MAX;
	memcpy(header, magic, sizeof magic);
	header[4] = MBX_VERSION;
	header[5] = (unsigned char)kind;
	header[6] = header[7] = 0;
	header[8] = (MBX_CHUNK >> 24) & 0xff;
	header[9] = (MBX_CHUNK >> 16) & 0xff;
	header[10] = (MBX_CHUNK >> 8) & 0xff;
	header[11] = MBX_CHUNK & 0xff;
	randombytes_buf(header + 12, 16);

	key = sodium_malloc(KEY_BYTES);
	state = sodium_malloc(sizeof *state);
	plain[0] = sodium_malloc(MBX_CHUNK);
	plain[1] = sodium_malloc(MBX_CHUNK);
	cipher = g_malloc(MBX_CHUNK + CHUNK_OVERHEAD);
	if (key == NULL || state == NULL || plain[0] == NULL ||
	    plain[1] == NULL) {
		err = MS_TEMP;
		goto done;
	}
	crypto_secretstream_xchacha20poly1305_keygen(key);
	if (crypto_box_seal(sealed_key, key, KEY_BYTES, public_key) != 0 ||
	    crypto_secretstream_xchacha20poly1305_init_push(state,
	    stream_header, key) != 0) {
		err = MS_INTERNAL;
		goto done;
	}
	if ((err = write_all(out_fd, header, sizeof header)) != MS_OK ||
	    (err = write_all(out_fd, sealed_key, sizeof sealed_key)) != MS_OK ||
	    (err = write_all(out_fd, stream_header, sizeof stream_header)) !=
	    MS_OK)
		goto done;
	/* read one chunk ahead, so the last chunk is known to be the last
	 * and carries TAG_FINAL */
	if ((err = source_read(src, plain[cur], MBX_CHUNK, &got[cur])) != MS_OK)
		goto done;
	for (;;) {
		int next = 1 - cur;
		unsigned long long clen;
		bool last = got[cur] < MBX_CHUNK;

		total += got[cur];
		if (total > max) {
			diag_error("mailbox: the message is over %llu bytes",
			    max);
			err = MS_DATA;
			goto done;
		}
		got[next] = 0;
		if (!last && (err = source_read(src, plain[next], MBX_CHUNK,
		    &got[next])) != MS_OK)
			goto done;
		if (!last && got[next] == 0)
			last = true;
		crypto_secretstream_xchacha20poly1305_push(state, cipher, &clen,
		    plain[cur], got[cur], header, sizeof header,
		    last ? TAG_FINAL : TAG_MESSAGE);
		if ((err = write_all(out_fd, cipher, (size_t)clen)) != MS_OK)
			goto done;
		if (last)
			break;
		cur = next;
	}
	err = MS_OK;
done:
	sodium_free(key);
	sodium_free(state);
	sodium_free(plain[0]);
	sodium_free(plain[1]);
	g_free(cipher);
	return err;
}

/* open_sealed - the common reader of both kinds */
static ms_err
open_sealed(const unsigned char *public_key, const unsigned char *secret_key,
    int kind, int in_fd, endpoint *dst)
{
	crypto_secretstream_xchacha20poly1305_state *state;
	unsigned char prefix[MBX_HEADER_BYTES + MBX_SEALED_KEY_BYTES +
	    STREAM_HEADER_BYTES];
	const unsigned char *header = prefix;
	unsigned char *key, *plain, *cipher, extra;
	unsigned long long total = 0, max, chunks = 0, max_chunks;
	size_t got;
	ms_err err;

	if (sodium_init() < 0)
		return MS_INTERNAL;
	max = kind == KIND_BODY ? MBX_MESSAGE_MAX : MBX_META_MAX;
	max_chunks = max / MBX_CHUNK + 1;
	key = sodium_malloc(KEY_BYTES);
	state = sodium_malloc(sizeof *state);
	plain = sodium_malloc(MBX_CHUNK);
	cipher = g_malloc(MBX_CHUNK + CHUNK_OVERHEAD);
	if (key == NULL || state == NULL || plain == NULL) {
		err = MS_TEMP;
		goto done;
	}
	if ((err = read_full(in_fd, prefix, sizeof prefix, &got)) != MS_OK)
		goto done;
	err = MS_DATA;
	if (got < sizeof prefix || memcmp(header, magic, sizeof magic) != 0 ||
	    header[4] != MBX_VERSION || header[5] != kind || header[6] != 0 ||
	    header[7] != 0 || header[8] != ((MBX_CHUNK >> 24) & 0xff) ||
	    header[9] != ((MBX_CHUNK >> 16) & 0xff) ||
	    header[10] != ((MBX_CHUNK >> 8) & 0xff) ||
	    header[11] != (MBX_CHUNK & 0xff)) {
		diag_error("mailbox: not a sealed %s of version %d",
		    kind == KIND_BODY ? "message" : "metadata record",
		    MBX_VERSION);
		goto done;
	}
	if (crypto_box_seal_open(key, prefix + MBX_HEADER_BYTES,
	    MBX_SEALED_KEY_BYTES, public_key, secret_key) != 0 ||
	    crypto_secretstream_xchacha20poly1305_init_pull(state,
	    prefix + MBX_HEADER_BYTES + MBX_SEALED_KEY_BYTES, key) != 0) {
		diag_error("mailbox: the message key does not open with this "
		    "mailbox key");
		goto done;
	}
	for (;;) {
		unsigned long long plen;
		unsigned char tag;

		if ((err = read_full(in_fd, cipher, MBX_CHUNK + CHUNK_OVERHEAD,
		    &got)) != MS_OK)
			goto done;
		err = MS_DATA;
		if (++chunks > max_chunks) {
			diag_error("mailbox: the message is over %llu bytes",
			    max);
			goto done;
		}
		if (got < CHUNK_OVERHEAD ||
		    crypto_secretstream_xchacha20poly1305_pull(state, plain,
		    &plen, &tag, cipher, got, header, MBX_HEADER_BYTES) != 0) {
			diag_error("mailbox: the message is damaged, cut short "
			    "or not for this mailbox");
			goto done;
		}
		/* a short chunk must be the final one; a full chunk may be */
		if (tag != TAG_FINAL && (tag != TAG_MESSAGE ||
		    got < MBX_CHUNK + CHUNK_OVERHEAD)) {
			diag_error("mailbox: the message is cut short");
			goto done;
		}
		total += plen;
		if (total > max) {
			diag_error("mailbox: the message is over %llu bytes",
			    max);
			goto done;
		}
		if ((err = sink_write(dst, plain, (size_t)plen)) != MS_OK)
			goto done;
		if (tag == TAG_FINAL)
			break;
	}
	if ((err = read_full(in_fd, &extra, 1, &got)) != MS_OK)
		goto done;
	if (got != 0) {
		diag_error("mailbox: bytes after the end of the message");
		err = MS_DATA;
		goto done;
	}
	err = MS_OK;
done:
	sodium_free(key);
	sodium_free(state);
	sodium_free(plain);
	g_free(cipher);
	return err;
}

ms_err
mbx_keypair(unsigned char public_key[MBX_PUBLIC_KEY_BYTES],
    unsigned char **secret_key)
{
	*secret_key = NULL;
	if (sodium_init() < 0)
		return MS_INTERNAL;
	if ((*secret_key = sodium_malloc(MBX_SECRET_KEY_BYTES)) == NULL)
		return MS_TEMP;
	if (crypto_box_keypair(public_key, *secret_key) != 0) {
		mbx_secret_free(*secret_key);
		*secret_key = NULL;
		return MS_INTERNAL;
	}
	return MS_OK;
}

void
mbx_secret_free(unsigned char *secret_key)
{
	sodium_free(secret_key);	/* wipes, and takes NULL */
}

ms_err
mbx_store_keypair(ms_store *store, const char *subdir,
    const unsigned char public_key[MBX_PUBLIC_KEY_BYTES],
    const unsigned char *secret_key)
{
	ms_err err;

	err = store_write(store, subdir, "key.sec", secret_key,
	    MBX_SECRET_KEY_BYTES, 0600);
	if (err != MS_OK)
		return err;
	return store_write(store, subdir, "key.pub", public_key,
	    MBX_PUBLIC_KEY_BYTES, 0644);
}

ms_err
mbx_seal(const unsigned char public_key[MBX_PUBLIC_KEY_BYTES], int in_fd,
    int out_fd)
{
	endpoint src = { .fd = in_fd };

	return seal(public_key, KIND_BODY, &src, out_fd);
}

ms_err
mbx_open(const unsigned char public_key[MBX_PUBLIC_KEY_BYTES],
    const unsigned char *secret_key, int in_fd, int out_fd)
{
	endpoint dst = { .fd = out_fd };

	return open_sealed(public_key, secret_key, KIND_BODY, in_fd, &dst);
}

ms_err
mbx_seal_meta(const unsigned char public_key[MBX_PUBLIC_KEY_BYTES],
    const mbx_meta *meta, int out_fd)
{
	json_t *record, *names;
	char *text;
	endpoint src = { .fd = -1 };
	ms_err err;

	names = json_array();
	for (size_t i = 0; meta->attachments != NULL &&
	    meta->attachments[i] != NULL; i++)
		if (json_array_append_new(names,
		    json_string(meta->attachments[i])) != 0) {
			json_decref(names);
			diag_error("mailbox: metadata that is not UTF-8");
			return MS_DATA;
		}
	record = json_pack("{s:s, s:s, s:I, s:I, s:o}",
	    "from", meta->from != NULL ? meta->from : "",
	    "subject", meta->subject != NULL ? meta->subject : "",
	    "date", (json_int_t)meta->date, "size", (json_int_t)meta->size,
	    "attachments", names);
	if (record == NULL) {
		diag_error("mailbox: metadata that is not UTF-8");
		return MS_DATA;
	}
	text = json_dumps(record, JSON_COMPACT);
	json_decref(record);
	if (text == NULL)
		return MS_TEMP;
	src.data = (const unsigned char *)text;
	src.len = strlen(text);
	err = seal(public_key, KIND_META, &src, out_fd);
	sodium_memzero(text, src.len);
	free(text);
	return err;
}

void
mbx_meta_clear(mbx_meta *meta)
{
	g_free(meta->from);
	g_free(meta->subject);
	g_strfreev(meta->attachments);
	memset(meta, 0, sizeof *meta);
}

ms_err
mbx_open_meta(const unsigned char public_key[MBX_PUBLIC_KEY_BYTES],
    const unsigned char *secret_key, int in_fd, mbx_meta *meta)
{
	endpoint dst = { .fd = -1, .limit = MBX_META_MAX };
	json_t *record, *names, *name;
	const char *from = NULL, *subject = NULL;
	json_int_t date, size;
	json_error_t jerr;
	size_t i;
	ms_err err;

	memset(meta, 0, sizeof *meta);
	dst.sink = g_byte_array_new();
	err = open_sealed(public_key, secret_key, KIND_META, in_fd, &dst);
	if (err != MS_OK) {
		secret_bytes_free(dst.sink);
		return err;
	}
	record = json_loadb((const char *)dst.sink->data, dst.sink->len,
	    JSON_REJECT_DUPLICATES, &jerr);
	secret_bytes_free(dst.sink);
	if (record == NULL || json_unpack(record, "{s:s, s:s, s:I, s:I, s:o}",
	    "from", &from, "subject", &subject, "date", &date, "size", &size,
	    "attachments", &names) != 0 || !json_is_array(names) ||
	    date < 0 || size < 0) {
		diag_error("mailbox: the metadata record is not valid");
		json_decref(record);
		return MS_DATA;
	}
	meta->from = g_strdup(from);
	meta->subject = g_strdup(subject);
	meta->date = (time_t)date;
	meta->size = (unsigned long long)size;
	meta->attachments = g_new0(char *, json_array_size(names) + 1);
	json_array_foreach(names, i, name) {
		if (!json_is_string(name)) {
			json_decref(record);
			mbx_meta_clear(meta);
			diag_error("mailbox: the metadata record is not valid");
			return MS_DATA;
		}
		meta->attachments[i] = g_strdup(json_string_value(name));
	}
	json_decref(record);
	return MS_OK;
}
