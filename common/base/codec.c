/*
 * codec.c - hex and base64 on libsodium, SHA-256 on OpenSSL (see
 * codec.h).
 */
#include "codec.h"
#include "diag.h"
#include "err.h"

#include <openssl/evp.h>
#include <sodium.h>
#include <stdint.h>
#include <string.h>


/* codec_init - libsodium's own set-up; cheap after the first call */
static void
codec_init(void)
{
	if (sodium_init() < 0)
		diag_fatal(EXIT_TEMPFAIL, "cannot initialise libsodium");
}

char *
codec_hex(const void *bytes, size_t len)
{
	char *hex;

	if (len > (SIZE_MAX - 1) / 2)
		diag_fatal(EXIT_TEMPFAIL, "internal error: hex too large");
	hex = g_malloc(len * 2 + 1);
	sodium_bin2hex(hex, len * 2 + 1, bytes, len);
	return hex;
}

bool
codec_unhex(const char *hex, unsigned char *out, size_t max, size_t *len)
{
	size_t hex_len = strlen(hex), used = 0;
	const char *end = NULL;

	if (hex_len % 2 != 0 || hex_len / 2 > max)
		return false;
	if (sodium_hex2bin(out, max, hex, hex_len, NULL, &used, &end) != 0 ||
	    end != hex + hex_len)
		return false;
	*len = used;
	return true;
}

void
codec_sha256(const void *data, size_t len,
    unsigned char out[CODEC_SHA256_LEN])
{
	/* OpenSSL's, not libsodium's portable one: it uses the processor's
	 * SHA instructions, ten times faster on a large attachment */
	if (EVP_Digest(data, len, out, NULL, EVP_sha256(), NULL) != 1)
		diag_fatal(EXIT_TEMPFAIL, "cannot compute a SHA-256");
}

char *
codec_sha256_hex(const void *data, size_t len)
{
	unsigned char sum[CODEC_SHA256_LEN];

	codec_sha256(data, len, sum);
	return codec_hex(sum, sizeof(sum));
}

char *
codec_base64(const void *bytes, size_t len)
{
	size_t out_len;
	char *out;

	if (len > SIZE_MAX / 4 * 3 - 3)
		diag_fatal(EXIT_TEMPFAIL, "internal error: base64 too large");
	out_len = sodium_base64_ENCODED_LEN(len,
	    sodium_base64_VARIANT_ORIGINAL);
	out = g_malloc(out_len);
	sodium_bin2base64(out, out_len, bytes, len,
	    sodium_base64_VARIANT_ORIGINAL);
	return out;
}

GByteArray *
codec_unbase64(const char *text, size_t len, const char *ignore)
{
	GByteArray *out;
	size_t used = 0;
	const char *end = NULL;

	if (len > (G_MAXUINT - 3) / 3 * 4)
		return NULL;
	codec_init();
	out = g_byte_array_sized_new((guint)(len / 4 * 3 + 3));
	g_byte_array_set_size(out, (guint)(len / 4 * 3 + 3));
	if (sodium_base642bin(out->data, out->len, text, len, ignore, &used,
	    &end, sodium_base64_VARIANT_ORIGINAL) != 0 || end != text + len) {
		g_byte_array_free(out, TRUE);
		return NULL;
	}
	g_byte_array_set_size(out, (guint)used);
	return out;
}

bool
codec_unbase64_text(const char *text, size_t len, bool url,
    GByteArray *out)
{
	GString *bare = g_string_sized_new(len);
	size_t pad = 0, used = 0;
	guint start = out->len;
	bool ok = true;

	for (size_t i = 0; ok && i < len; i++) {
		char c = text[i];

		if (c == ' ' || c == '\t' || c == '\r' || c == '\n')
			continue;
		if (c == '=' && !url)
			pad++;
		else if (pad > 0 || c == '=')
			ok = false;	/* data after padding, or '=' in url */
		else
			g_string_append_c(bare, c);
	}
	ok = ok && pad <= 2 && bare->len > 0 && bare->len < G_MAXUINT / 4;
	if (ok) {
		codec_init();
		g_byte_array_set_size(out, start + (guint)(bare->len / 4 * 3 +
		    3));
		ok = sodium_base642bin(out->data + start, out->len - start,
		    bare->str, bare->len, NULL, &used, NULL, url ?
		    sodium_base64_VARIANT_URLSAFE_NO_PADDING :
		    sodium_base64_VARIANT_ORIGINAL_NO_PADDING) == 0 &&
		    used > 0;
		g_byte_array_set_size(out, start + (guint)(ok ? used : 0));
	}
	g_string_free(bare, TRUE);
	return ok;
}
