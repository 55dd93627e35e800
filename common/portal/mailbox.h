/*
 * mailbox.h - the sealed-message format of the portal's mailboxes: the
 * drop side seals a message to a mailbox public key, and only the holder
 * of the mailbox secret key opens it.
 *
 * API: mbx_keypair() makes a mailbox keypair (the secret in sodium_malloc
 * memory, freed with mbx_secret_free); mbx_seal() streams a message from
 * one fd to a sealed message on another, mbx_open() back; mbx_seal_meta()
 * and mbx_open_meta() do the same for the small metadata record (from,
 * subject, date, size, attachment names) the inbox lists without opening
 * bodies.  mbx_store_keypair() writes key.pub (0644) and key.sec (0600)
 * into a store folder.
 *
 * Format (version 1), every number big-endian:
 *   header      28 bytes: "MSMB", version (1), kind (1 body, 2 metadata),
 *               two zero bytes, chunk size (4 bytes, 65536 in version 1),
 *               a random 16-byte message id
 *   sealed key  80 bytes: crypto_box_seal of the 32-byte per-message key K
 *               to the mailbox X25519 public key
 *   stream      24 bytes: the crypto_secretstream_xchacha20poly1305 header
 *   chunks      the body as secretstream chunks of chunk size plaintext
 *               bytes (17 bytes more each), the last one shorter or equal
 *               and tagged TAG_FINAL; an empty body is one empty final
 *               chunk.  Every chunk has the 28-byte header as associated
 *               data, so a header moved onto another body fails.
 * The metadata record is the same format with kind 2 and a JSON object
 * as its body: {"from", "subject", "date" (seconds since the epoch),
 * "size", "attachments" (an array of names)}.
 *
 * Limits: a body of at most MBX_MESSAGE_MAX bytes, a metadata record of
 * at most MBX_META_MAX bytes; more chunks than that is MS_DATA, so a
 * forged stream cannot keep a reader busy.
 *
 * Errors: any tampering, truncation, a wrong key, a swapped header or
 * bytes after the final chunk is MS_DATA.  mbx_open() writes plaintext
 * only chunk by verified chunk, so when it fails some verified chunks may
 * already be on out_fd: the caller must discard that output (write it to
 * a temporary file and unlink it) and never show it as the message.
 * Read and write errors are MS_TEMP.
 */
#ifndef MAILSEAL_MAILBOX_H
#define MAILSEAL_MAILBOX_H

#include "err.h"
#include "store.h"

#include <sodium.h>
#include <stddef.h>
#include <time.h>

#define MBX_VERSION 1
#define MBX_CHUNK 65536u
#define MBX_HEADER_BYTES 28u
#define MBX_SEALED_KEY_BYTES \
	(crypto_box_SEALBYTES + crypto_secretstream_xchacha20poly1305_KEYBYTES)
#define MBX_PUBLIC_KEY_BYTES crypto_box_PUBLICKEYBYTES
#define MBX_SECRET_KEY_BYTES crypto_box_SECRETKEYBYTES
/* the largest body mbx_seal accepts and mbx_open reads */
#define MBX_MESSAGE_MAX (128ull * 1024 * 1024)
/* the largest metadata record (its JSON text) */
#define MBX_META_MAX 65536u

/* the metadata record; strings are UTF-8 from the message, attachments
 * a NULL-ended array */
typedef struct mbx_meta {
	char *from;
	char *subject;
	time_t date;
	unsigned long long size;
	char **attachments;
} mbx_meta;

/* mbx_keypair - a new mailbox keypair; *secret_key is sodium_malloc'd
 * (MBX_SECRET_KEY_BYTES), free it with mbx_secret_free */
ms_err mbx_keypair(unsigned char public_key[MBX_PUBLIC_KEY_BYTES],
    unsigned char **secret_key);

/* mbx_secret_free - wipe and free a secret key (NULL is fine) */
void mbx_secret_free(unsigned char *secret_key);

/* mbx_store_keypair - write subdir/key.pub (0644) and subdir/key.sec
 * (0600) atomically; the store lock must be held */
ms_err mbx_store_keypair(ms_store *store, const char *subdir,
    const unsigned char public_key[MBX_PUBLIC_KEY_BYTES],
    const unsigned char *secret_key);

/* mbx_seal - read a message from in_fd to its end and write it sealed to
 * public_key on out_fd; a message over MBX_MESSAGE_MAX is MS_DATA */
ms_err mbx_seal(const unsigned char public_key[MBX_PUBLIC_KEY_BYTES],
    int in_fd, int out_fd);

/* mbx_open - read a sealed message from in_fd to its end and write the
 * verified plaintext on out_fd; on any error the caller discards out_fd's
 * output (see above) */
ms_err mbx_open(const unsigned char public_key[MBX_PUBLIC_KEY_BYTES],
    const unsigned char *secret_key, int in_fd, int out_fd);

/* mbx_seal_meta - the metadata record sealed to public_key, on out_fd */
ms_err mbx_seal_meta(const unsigned char public_key[MBX_PUBLIC_KEY_BYTES],
    const mbx_meta *meta, int out_fd);

/* mbx_open_meta - open a sealed metadata record from in_fd into *meta
 * (free with mbx_meta_clear); on error *meta is left empty */
ms_err mbx_open_meta(const unsigned char public_key[MBX_PUBLIC_KEY_BYTES],
    const unsigned char *secret_key, int in_fd, mbx_meta *meta);

/* mbx_meta_clear - free what mbx_open_meta filled in */
void mbx_meta_clear(mbx_meta *meta);

#endif
