/*
 * reply.c - sealed reply tokens (see reply.h).  JSON is written and read
 * with jansson (duplicate members and trailing data refused); the sealing
 * is libsodium's XChaCha20-Poly1305-IETF.
 */
#include "reply.h"
#include "diag.h"
#include "pdfpass.h"
#include "secret.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#define NONCE_LEN crypto_aead_xchacha20poly1305_ietf_NPUBBYTES
#define TAG_LEN crypto_aead_xchacha20poly1305_ietf_ABYTES

ms_err
reply_key_load(const ms_store *store, bool old,
    unsigned char key[REPLY_KEY_LEN])
{
	const char *name = old ? "reply.key.old" : "reply.key";
	GByteArray *data = NULL;
	ms_err err;

	err = pdfpass_read_private(store, "pdf", name, &data);
	if (err != MS_OK)
		return err;
	if (data->len != REPLY_KEY_LEN) {
		diag_error("pdf/%s must hold exactly %d octets", name,
		    (int)REPLY_KEY_LEN);
		secret_bytes_free(data);
		return MS_CONFIG;
	}
	memcpy(key, data->data, REPLY_KEY_LEN);
	secret_bytes_free(data);
	return MS_OK;
}

char *
reply_subject_hash(const char *subject)
{
	return g_compute_checksum_for_string(G_CHECKSUM_SHA256,
	    subject != NULL ? subject : "", -1);
}

char *
reply_claims_json(const reply_claims *c)
{
	json_t *object = json_pack("{s:i, s:s, s:s, s:s, s:s, s:I, s:I}",
	    "v", 1, "msgid", c->msgid != NULL ? c->msgid : "",
	    "internal_sender", c->internal_sender,
	    "external_recipient", c->external_recipient,
	    "subject_hash", c->subject_hash,
	    "iat", (json_int_t)c->iat, "exp", (json_int_t)c->exp);
	char *text, *copy;

	if (object == NULL)
		return NULL;
	text = json_dumps(object, JSON_COMPACT | JSON_PRESERVE_ORDER);
	json_decref(object);
	if (text == NULL)
		return NULL;
	copy = g_strdup(text);
	sodium_memzero(text, strlen(text));
	free(text);
	return copy;
}

char *
reply_token_seal(const unsigned char key[REPLY_KEY_LEN], const void *data,
    size_t len)
{
	size_t sealed_len = NONCE_LEN + len + TAG_LEN;
	unsigned char *sealed = g_malloc(sealed_len);
	size_t encoded_len = sodium_base64_ENCODED_LEN(sealed_len,
	    sodium_base64_VARIANT_URLSAFE_NO_PADDING);
	char *token = g_malloc(encoded_len);

	randombytes_buf(sealed, NONCE_LEN);
	crypto_aead_xchacha20poly1305_ietf_encrypt(sealed + NONCE_LEN, NULL,
	    data, len, (const unsigned char *)REPLY_AD, strlen(REPLY_AD),
	    NULL, sealed, key);
	sodium_bin2base64(token, encoded_len, sealed, sealed_len,
	    sodium_base64_VARIANT_URLSAFE_NO_PADDING);
	g_free(sealed);
	return token;
}

char *
reply_token_make(const unsigned char key[REPLY_KEY_LEN],
    const reply_claims *claims)
{
	char *json = reply_claims_json(claims), *token;

	if (json == NULL)
		return NULL;
	token = reply_token_seal(key, json, strlen(json));
	secret_free(json);
	return token;
}

/* token_of - the token in text: text itself, or the t= value of a URL's
 * query; NULL when there is none (g_free) */
static char *
token_of(const char *text)
{
	const char *query = strchr(text, '?'), *p, *end;

	if (query == NULL)
		return g_strdup(text);
	for (p = query + 1; *p != '\0'; p = *end != '\0' ? end + 1 : end) {
		end = p + strcspn(p, "&#");
		if (end - p > 2 && p[0] == 't' && p[1] == '=')
			return g_strndup(p + 2, (gsize)(end - p - 2));
		if (*end == '#')
			break;
	}
	return NULL;
}

bool
reply_claim_ok(const char *value)
{
	const char *p;

	if (strlen(value) > REPLY_CLAIM_MAX || !g_utf8_validate(value, -1,
	    NULL))
		return false;
	for (p = value; *p != '\0'; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			return false;
	return true;
}

/* claim_string - member name of object as a string reply_claim_ok()
 * accepts; NULL otherwise */
static char *
claim_string(const json_t *object, const char *name)
{
	const json_t *member = json_object_get(object, name);
	const char *value;

	if (!json_is_string(member))
		return NULL;
	value = json_string_value(member);
	if (json_string_length(member) != strlen(value) ||
	    !reply_claim_ok(value))
		return NULL;
	return g_strdup(value);
}

/* claim_number - member name of object as a non-negative integer */
static bool
claim_number(const json_t *object, const char *name, long long *out)
{
	const json_t *member = json_object_get(object, name);

	if (!json_is_integer(member))
		return false;
	*out = (long long)json_integer_value(member);
	return *out >= 0;
}

/* parse_claims - the JSON of an opened token into claims: one object,
 * no member twice, nothing after it */
static ms_err
parse_claims(const char *json, size_t len, reply_claims *c,
    const char **why)
{
	json_t *object = json_loadb(json, len, JSON_REJECT_DUPLICATES, NULL);
	long long version = 0;
	ms_err err = MS_DATA;

	*why = "the token's content is not what this version writes";
	if (!json_is_object(object))
		goto out;
	if (!claim_number(object, "v", &version) || version != 1) {
		*why = "the token is of another version";
		goto out;
	}
	c->msgid = claim_string(object, "msgid");
	c->internal_sender = claim_string(object, "internal_sender");
	c->external_recipient = claim_string(object, "external_recipient");
	c->subject_hash = claim_string(object, "subject_hash");
	if (c->msgid == NULL || c->internal_sender == NULL ||
	    c->external_recipient == NULL || c->subject_hash == NULL ||
	    !claim_number(object, "iat", &c->iat) ||
	    !claim_number(object, "exp", &c->exp) || c->exp < c->iat) {
		reply_claims_clear(c);
		goto out;
	}
	err = MS_OK;
	*why = NULL;
out:
	json_decref(object);
	return err;
}

ms_err
reply_token_open(const unsigned char key[REPLY_KEY_LEN], const char *text,
    reply_claims *claims, const char **why)
{
	char *token = token_of(text);
	unsigned char *sealed = NULL, *json = NULL;
	unsigned long long json_len = 0;
	size_t sealed_len = 0, token_len;
	ms_err err = MS_DATA;

	memset(claims, 0, sizeof(*claims));
	*why = "not a reply token";
	if (token == NULL)
		return MS_DATA;
	token_len = strlen(token);
	if (token_len == 0 || token_len > REPLY_TOKEN_MAX)
		goto out;
	sealed = g_malloc(token_len);
	if (sodium_base642bin(sealed, token_len, token, token_len, NULL,
	    &sealed_len, NULL, sodium_base64_VARIANT_URLSAFE_NO_PADDING) != 0 ||
	    sealed_len <= NONCE_LEN + TAG_LEN)
		goto out;
	json = g_malloc(sealed_len);
	if (crypto_aead_xchacha20poly1305_ietf_decrypt(json, &json_len, NULL,
	    sealed + NONCE_LEN, sealed_len - NONCE_LEN,
	    (const unsigned char *)REPLY_AD, strlen(REPLY_AD), sealed,
	    key) != 0) {
		*why = "the token was not made with this key or was changed";
		goto out;
	}
	err = parse_claims((const char *)json, (size_t)json_len, claims, why);
out:
	if (json != NULL)
		sodium_memzero(json, sealed_len);
	g_free(json);
	g_free(sealed);
	g_free(token);
	return err;
}

void
reply_claims_clear(reply_claims *claims)
{
	g_free(claims->msgid);
	g_free(claims->internal_sender);
	g_free(claims->external_recipient);
	g_free(claims->subject_hash);
	memset(claims, 0, sizeof(*claims));
}
