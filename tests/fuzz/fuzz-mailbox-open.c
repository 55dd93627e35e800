/*
 * fuzz-mailbox-open.c - libFuzzer target for the reader of sealed mailbox
 * messages (common/portal/mailbox.c), the one parser the portal runs on
 * files the drop side wrote.
 *
 * The input is the sealed message, opened with a fixed keypair (derived
 * from a fixed seed, so runs repeat).  Random bytes must never open: a
 * success would mean a message nobody sealed to the key was accepted.
 * Both readers, the body and the metadata record, get the same bytes.
 * mbx_open reports errors through diag_error on stderr; the runner
 * (tests/fuzz/run) closes the target's stderr.
 */
#include "fuzz.h"
#include "mailbox.h"

#include <stdint.h>
#include <stdio.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static unsigned char public_key[MBX_PUBLIC_KEY_BYTES];
static unsigned char secret_key[MBX_SECRET_KEY_BYTES];
static int have_keys;

/* fd_of - a temporary file holding the input, at offset 0 */
static int
fd_of(const uint8_t *data, size_t size)
{
	FILE *f = tmpfile();
	int fd;

	require(f != NULL);
	fd = dup(fileno(f));
	fclose(f);
	require(fd >= 0);
	require(size == 0 || write(fd, data, size) == (ssize_t)size);
	require(lseek(fd, 0, SEEK_SET) == 0);
	return fd;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	int in, out;
	mbx_meta meta;

	if (!have_keys) {
		unsigned char seed[crypto_box_SEEDBYTES] = { 42 };

		require(sodium_init() >= 0);
		require(crypto_box_seed_keypair(public_key, secret_key,
		    seed) == 0);
		have_keys = 1;
	}
	in = fd_of(data, size);
	out = fd_of(NULL, 0);
	require(mbx_open(public_key, secret_key, in, out) == MS_DATA);
	close(in);
	in = fd_of(data, size);
	require(mbx_open_meta(public_key, secret_key, in, &meta) == MS_DATA);
	require(meta.from == NULL && meta.attachments == NULL);
	close(in);
	close(out);
	return 0;
}
