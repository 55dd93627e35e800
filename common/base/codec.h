/*
 * codec.h - the one hex, SHA-256 and base64 of the library: lowercase
 * hex (libsodium's sodium_bin2hex, constant time), SHA-256 (OpenSSL's
 * EVP_Digest, which uses the processor's SHA instructions), base64 in
 * the standard alphabet with padding (libsodium's sodium_bin2base64 /
 * sodium_base642bin).  MIME bodies keep GMime's encoders; these are for
 * fingerprints, names, tokens and records.
 *
 * Results are g_malloc'd (g_free), except where the caller passes the
 * buffer.  Decoders are strict: the whole input, no stray characters.
 */
#ifndef MAILSEAL_CODEC_H
#define MAILSEAL_CODEC_H

#include <glib.h>
#include <stdbool.h>
#include <stddef.h>

#define CODEC_SHA256_LEN 32

/* codec_hex - len bytes as lowercase hex */
char *codec_hex(const void *bytes, size_t len);

/* codec_unhex - exactly 2 * max or fewer hex digits (either case) into
 * out; false on any other character or an odd count */
bool codec_unhex(const char *hex, unsigned char *out, size_t max,
    size_t *len);

/* codec_sha256 - the SHA-256 of data into out */
void codec_sha256(const void *data, size_t len,
    unsigned char out[CODEC_SHA256_LEN]);

/* codec_sha256_hex - the SHA-256 of data as 64 lowercase hex digits */
char *codec_sha256_hex(const void *data, size_t len);

/* codec_base64 - len bytes as padded base64, one line */
char *codec_base64(const void *bytes, size_t len);

/* codec_unbase64 - padded base64 (white space in ignore skipped; NULL:
 * none allowed) into a new array, or NULL when malformed */
GByteArray *codec_unbase64(const char *text, size_t len,
    const char *ignore);

/* codec_unbase64_text - base64 as it appears in text (PEM bodies, JSON
 * web tokens): space, tab, CR and LF skipped anywhere, final '=' padding
 * optional in the standard alphabet and absent in the URL-safe one
 * (url); appended to out, false when malformed or empty */
bool codec_unbase64_text(const char *text, size_t len, bool url,
    GByteArray *out);

#endif
