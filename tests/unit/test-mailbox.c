/*
 * test-mailbox.c - tests of the sealed-message format of the portal's
 * mailboxes (common/portal/mailbox.c): round trips at the chunk edges,
 * then every way a sealed message can be damaged (a flipped byte, a cut,
 * bytes appended, a wrong key, a header moved onto another body) must be
 * MS_DATA; the metadata record the same; and a timing of 1 MiB and
 * 25 MiB, printed as a note.  With MAILBOX_EXPORT set to a directory,
 * it also leaves there a keypair, a sealed three-chunk message and a
 * sealed metadata record for the independent reader of the format in
 * tests/bats/18-mailbox-format.bats.
 */
#include "mailbox.h"

#include <time.h>

#include "unit.h"

static unsigned char pk[MBX_PUBLIC_KEY_BYTES];
static unsigned char *sk;

/* fd_of - a temporary file holding len bytes, at offset 0 */
static int
fd_of(const unsigned char *data, size_t len)
{
	FILE *f = tmpfile();
	int fd;

	if (f == NULL)
		abort();
	fd = dup(fileno(f));
	fclose(f);
	if (len > 0 && write(fd, data, len) != (ssize_t)len)
		abort();
	if (lseek(fd, 0, SEEK_SET) != 0)
		abort();
	return fd;
}

/* bytes_of - the whole content of fd */
static GByteArray *
bytes_of(int fd)
{
	GByteArray *out = g_byte_array_new();
	unsigned char buf[65536];
	ssize_t n;

	if (lseek(fd, 0, SEEK_SET) != 0)
		abort();
	while ((n = read(fd, buf, sizeof buf)) > 0)
		g_byte_array_append(out, buf, (guint)n);
	return out;
}

static GByteArray *
plain_of(size_t len)
{
	GByteArray *out = g_byte_array_sized_new((guint)len);
	unsigned char seed[randombytes_SEEDBYTES] = { 7 };

	g_byte_array_set_size(out, (guint)len);
	if (len > 0)
		randombytes_buf_deterministic(out->data, len, seed);
	return out;
}

static GByteArray *
seal_bytes(const GByteArray *plain)
{
	int in = fd_of(plain->data, plain->len), out = fd_of(NULL, 0);
	GByteArray *sealed;

	if (mbx_seal(pk, in, out) != MS_OK)
		abort();
	sealed = bytes_of(out);
	close(in);
	close(out);
	return sealed;
}

/* open_bytes - mbx_open of len bytes of data; the plaintext in *plain */
static ms_err
open_bytes(const unsigned char *key, const unsigned char *data, size_t len,
    GByteArray **plain)
{
	int in = fd_of(data, len), out = fd_of(NULL, 0);
	ms_err err = mbx_open(pk, key, in, out);

	*plain = bytes_of(out);
	close(in);
	close(out);
	return err;
}

static bool
opens_to(const GByteArray *sealed, const GByteArray *plain)
{
	GByteArray *back;
	bool ok = open_bytes(sk, sealed->data, sealed->len, &back) == MS_OK &&
	    back->len == plain->len && (plain->len == 0 ||
	    memcmp(back->data, plain->data, plain->len) == 0);

	g_byte_array_free(back, TRUE);
	return ok;
}

static bool
refused(const unsigned char *key, const unsigned char *data, size_t len)
{
	GByteArray *back;
	ms_err err = open_bytes(key, data, len, &back);

	g_byte_array_free(back, TRUE);
	return err == MS_DATA;
}

#define PREFIX (MBX_HEADER_BYTES + MBX_SEALED_KEY_BYTES + \
	crypto_secretstream_xchacha20poly1305_HEADERBYTES)
#define SEALED_CHUNK (MBX_CHUNK + crypto_secretstream_xchacha20poly1305_ABYTES)

static void
test_round_trip(void)
{
	static const struct { const char *name; size_t len; } sizes[] = {
		{ "empty", 0 }, { "one byte", 1 },
		{ "one chunk less a byte", MBX_CHUNK - 1 },
		{ "one chunk", MBX_CHUNK }, { "one chunk and a byte",
		MBX_CHUNK + 1 }, { "1 MiB and 17", 1024 * 1024 + 17 },
	};

	for (size_t i = 0; i < G_N_ELEMENTS(sizes); i++) {
		GByteArray *plain = plain_of(sizes[i].len);
		GByteArray *sealed = seal_bytes(plain);
		size_t chunks = sizes[i].len == 0 ? 1 :
		    (sizes[i].len + MBX_CHUNK - 1) / MBX_CHUNK;

		unit_check(sealed->len == PREFIX + sizes[i].len +
		    chunks * crypto_secretstream_xchacha20poly1305_ABYTES,
		    "round trip %s: sealed size", sizes[i].name);
		unit_check(opens_to(sealed, plain), "round trip %s: opens",
		    sizes[i].name);
		g_byte_array_free(plain, TRUE);
		g_byte_array_free(sealed, TRUE);
	}
}

static void
test_flips(void)
{
	GByteArray *plain = plain_of(100), *sealed = seal_bytes(plain);
	GByteArray *big = plain_of(2 * MBX_CHUNK + 100);
	GByteArray *big_sealed = seal_bytes(big);
	size_t bad = 0;
	size_t spots[] = { PREFIX, PREFIX + 1, PREFIX + SEALED_CHUNK / 2,
		PREFIX + SEALED_CHUNK - 1, PREFIX + SEALED_CHUNK,
		PREFIX + 2 * SEALED_CHUNK - 1, PREFIX + 2 * SEALED_CHUNK,
		PREFIX + 2 * SEALED_CHUNK + 50, big_sealed->len - 1 };

	for (size_t i = 0; i < sealed->len; i++) {
		sealed->data[i] ^= 0x01;
		if (!refused(sk, sealed->data, sealed->len)) {
			unit_note("a flip at byte %zu opened", i);
			bad++;
		}
		sealed->data[i] ^= 0x01;
	}
	unit_check(bad == 0, "every one of %u single-byte flips is refused",
	    sealed->len);
	for (size_t i = 0; i < G_N_ELEMENTS(spots); i++) {
		big_sealed->data[spots[i]] ^= 0x80;
		unit_check(refused(sk, big_sealed->data, big_sealed->len),
		    "three chunks: a flip at byte %zu is refused", spots[i]);
		big_sealed->data[spots[i]] ^= 0x80;
	}
	unit_check(opens_to(big_sealed, big), "three chunks, unflipped, open");
	g_byte_array_free(plain, TRUE);
	g_byte_array_free(sealed, TRUE);
	g_byte_array_free(big, TRUE);
	g_byte_array_free(big_sealed, TRUE);
}

static void
test_cuts(void)
{
	GByteArray *plain = plain_of(2 * MBX_CHUNK + 100);
	GByteArray *sealed = seal_bytes(plain);
	GByteArray *full = plain_of(2 * MBX_CHUNK);
	GByteArray *full_sealed = seal_bytes(full);
	GByteArray *extra;
	static const unsigned char tail[1] = { 0 };
	size_t cuts[] = { 0, 1, MBX_HEADER_BYTES - 1, MBX_HEADER_BYTES,
		MBX_HEADER_BYTES + MBX_SEALED_KEY_BYTES, PREFIX - 1, PREFIX,
		PREFIX + 16, PREFIX + 17, PREFIX + SEALED_CHUNK / 2,
		PREFIX + SEALED_CHUNK - 1, PREFIX + SEALED_CHUNK,
		PREFIX + SEALED_CHUNK + 1, PREFIX + 2 * SEALED_CHUNK,
		PREFIX + 2 * SEALED_CHUNK + 17, sealed->len - 1 };

	for (size_t i = 0; i < G_N_ELEMENTS(cuts); i++)
		unit_check(refused(sk, sealed->data, cuts[i]),
		    "cut to %zu of %u bytes is refused", cuts[i], sealed->len);
	/* two full chunks: the cut after the first full chunk looks like a
	 * clean end, only the missing final tag tells */
	unit_check(refused(sk, full_sealed->data, PREFIX + SEALED_CHUNK),
	    "two full chunks cut after the first is refused");
	unit_check(opens_to(full_sealed, full), "two full chunks open");

	extra = g_byte_array_new();
	g_byte_array_append(extra, sealed->data, sealed->len);
	g_byte_array_append(extra, tail, 1);
	unit_check(refused(sk, extra->data, extra->len),
	    "one byte appended is refused");
	/* a whole chunk of another message appended */
	g_byte_array_set_size(extra, sealed->len);
	g_byte_array_append(extra, full_sealed->data + PREFIX, SEALED_CHUNK);
	unit_check(refused(sk, extra->data, extra->len),
	    "a chunk appended is refused");
	g_byte_array_free(extra, TRUE);
	g_byte_array_free(plain, TRUE);
	g_byte_array_free(sealed, TRUE);
	g_byte_array_free(full, TRUE);
	g_byte_array_free(full_sealed, TRUE);
}

static void
test_keys_and_swaps(void)
{
	unsigned char other_pk[MBX_PUBLIC_KEY_BYTES], *other_sk;
	GByteArray *a_plain = plain_of(300), *b_plain = plain_of(300);
	GByteArray *a, *b, *mixed;

	b_plain->data[0] ^= 1;
	a = seal_bytes(a_plain);
	b = seal_bytes(b_plain);
	unit_check(mbx_keypair(other_pk, &other_sk) == MS_OK,
	    "a second keypair");
	unit_check(refused(other_sk, a->data, a->len),
	    "the wrong secret key is refused");
	unit_check(memcmp(a->data, b->data, MBX_HEADER_BYTES) != 0,
	    "two messages have two message ids");

	mixed = g_byte_array_new();
	g_byte_array_append(mixed, a->data, MBX_HEADER_BYTES);
	g_byte_array_append(mixed, b->data + MBX_HEADER_BYTES,
	    b->len - MBX_HEADER_BYTES);
	unit_check(refused(sk, mixed->data, mixed->len),
	    "the header of A on the key and body of B is refused");
	g_byte_array_set_size(mixed, 0);
	g_byte_array_append(mixed, a->data, PREFIX);
	g_byte_array_append(mixed, b->data + PREFIX, b->len - PREFIX);
	unit_check(refused(sk, mixed->data, mixed->len),
	    "the header and key of A on the body of B is refused");
	g_byte_array_set_size(mixed, 0);
	g_byte_array_append(mixed, b->data, PREFIX);
	g_byte_array_append(mixed, a->data + PREFIX, a->len - PREFIX);
	unit_check(refused(sk, mixed->data, mixed->len),
	    "the header and key of B on the body of A is refused");
	unit_check(opens_to(a, a_plain) && opens_to(b, b_plain),
	    "A and B open on their own");
	mbx_secret_free(other_sk);
	g_byte_array_free(mixed, TRUE);
	g_byte_array_free(a, TRUE);
	g_byte_array_free(b, TRUE);
	g_byte_array_free(a_plain, TRUE);
	g_byte_array_free(b_plain, TRUE);
}

static ms_err
open_meta_bytes(const GByteArray *sealed, mbx_meta *meta)
{
	int in = fd_of(sealed->data, sealed->len);
	ms_err err = mbx_open_meta(pk, sk, in, meta);

	close(in);
	return err;
}

static void
test_meta(void)
{
	char *names[] = { "report.pdf", "Bilanz \xc3\xa4.xlsx", NULL };
	mbx_meta meta = { "Alice <alice@example.org>", "Quarterly \"figures\"",
		1796000000, 1234567, names }, back;
	int out = fd_of(NULL, 0);
	GByteArray *sealed, *body;
	size_t bad = 0;
	char *huge;

	unit_check(mbx_seal_meta(pk, &meta, out) == MS_OK, "metadata seals");
	sealed = bytes_of(out);
	close(out);
	unit_check(open_meta_bytes(sealed, &back) == MS_OK &&
	    strcmp(back.from, meta.from) == 0 &&
	    strcmp(back.subject, meta.subject) == 0 &&
	    back.date == meta.date && back.size == meta.size &&
	    back.attachments[0] != NULL &&
	    strcmp(back.attachments[0], names[0]) == 0 &&
	    back.attachments[1] != NULL &&
	    strcmp(back.attachments[1], names[1]) == 0 &&
	    back.attachments[2] == NULL, "metadata round trip");
	mbx_meta_clear(&back);
	for (size_t i = 0; i < sealed->len; i++) {
		sealed->data[i] ^= 0x20;
		if (open_meta_bytes(sealed, &back) != MS_DATA ||
		    back.from != NULL) {
			unit_note("metadata flip at byte %zu opened", i);
			bad++;
		}
		mbx_meta_clear(&back);
		sealed->data[i] ^= 0x20;
	}
	unit_check(bad == 0, "every one of %u metadata flips is refused",
	    sealed->len);
	unit_check(refused(sk, sealed->data, sealed->len),
	    "a metadata record is not a message");
	body = seal_bytes(sealed);
	unit_check(open_meta_bytes(body, &back) == MS_DATA,
	    "a message is not a metadata record");
	g_byte_array_free(body, TRUE);
	g_byte_array_free(sealed, TRUE);

	huge = g_malloc(MBX_META_MAX + 1);
	memset(huge, 'x', MBX_META_MAX);
	huge[MBX_META_MAX] = '\0';
	meta.subject = huge;
	out = fd_of(NULL, 0);
	unit_check(mbx_seal_meta(pk, &meta, out) == MS_DATA,
	    "metadata over MBX_META_MAX is refused");
	close(out);
	g_free(huge);
	meta.subject = "\xff not UTF-8";
	out = fd_of(NULL, 0);
	unit_check(mbx_seal_meta(pk, &meta, out) == MS_DATA,
	    "metadata not in UTF-8 is refused");
	close(out);
}

static double
seconds(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static void
test_timing(void)
{
	static const size_t sizes[] = { 1024 * 1024, 25 * 1024 * 1024 };

	for (size_t i = 0; i < G_N_ELEMENTS(sizes); i++) {
		GByteArray *plain = plain_of(sizes[i]), *back;
		int in = fd_of(plain->data, plain->len), out = fd_of(NULL, 0);
		int back_fd = fd_of(NULL, 0);
		double t0, t1, t2;
		ms_err sealed, opened;

		t0 = seconds();
		sealed = mbx_seal(pk, in, out);
		t1 = seconds();
		lseek(out, 0, SEEK_SET);
		opened = mbx_open(pk, sk, out, back_fd);
		t2 = seconds();
		back = bytes_of(back_fd);
		unit_check(sealed == MS_OK && opened == MS_OK &&
		    back->len == plain->len &&
		    memcmp(back->data, plain->data, plain->len) == 0,
		    "%zu MiB round trip through files", sizes[i] >> 20);
		unit_note("%zu MiB: seal %.3f s (%.0f MiB/s), open %.3f s "
		    "(%.0f MiB/s)", sizes[i] >> 20, t1 - t0,
		    (sizes[i] >> 20) / (t1 - t0), t2 - t1,
		    (sizes[i] >> 20) / (t2 - t1));
		close(in);
		close(out);
		close(back_fd);
		g_byte_array_free(back, TRUE);
		g_byte_array_free(plain, TRUE);
	}
}

/* export - files for the independent check of the format */
static void
export(const char *dir)
{
	char *names[] = { "a.pdf", NULL };
	mbx_meta meta = { "bob@example.org", "Hello", 1796000000, 131077,
		names };
	GByteArray *plain = plain_of(2 * MBX_CHUNK + 5);
	GByteArray *sealed = seal_bytes(plain), *record;
	int out = fd_of(NULL, 0);
	char *path[5];
	bool ok;

	for (int i = 0; i < 5; i++)
		path[i] = g_build_filename(dir, (const char *[]){ "key.pub",
		    "key.sec", "message.plain", "message.sealed",
		    "meta.sealed" }[i], NULL);
	ok = mbx_seal_meta(pk, &meta, out) == MS_OK;
	record = bytes_of(out);
	close(out);
	ok = ok && unit_write_file(path[0], pk, sizeof pk) &&
	    unit_write_file(path[1], sk, MBX_SECRET_KEY_BYTES) &&
	    unit_write_file(path[2], plain->data, plain->len) &&
	    unit_write_file(path[3], sealed->data, sealed->len) &&
	    unit_write_file(path[4], record->data, record->len);
	unit_check(ok, "files exported for the format check");
	for (int i = 0; i < 5; i++)
		g_free(path[i]);
	g_byte_array_free(plain, TRUE);
	g_byte_array_free(sealed, TRUE);
	g_byte_array_free(record, TRUE);
}

int
main(void)
{
	if (mbx_keypair(pk, &sk) != MS_OK)
		abort();
	test_round_trip();
	test_flips();
	test_cuts();
	test_keys_and_swaps();
	test_meta();
	test_timing();
	if (getenv("MAILBOX_EXPORT") != NULL)
		export(getenv("MAILBOX_EXPORT"));
	mbx_secret_free(sk);
	return unit_done();
}
