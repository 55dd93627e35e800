/*
 * crlstate.c - crl-sync's record of each CRL URL (see crlstate.h).
 */
#include "crlstate.h"
#include "codec.h"
#include "diag.h"
#include "kv.h"
#include "parse.h"

#include <limits.h>
#include <openssl/err.h>
#include <string.h>

char *
crl_state_issuer_hex(const X509_NAME *name)
{
	unsigned char *der = NULL;
	int len = i2d_X509_NAME(name, &der);
	char *hex;

	if (len <= 0)
		diag_fatal(EXIT_TEMPFAIL, "cannot encode a name");
	hex = codec_hex(der, (size_t)len);
	OPENSSL_free(der);
	return hex;
}

void
crl_state_clear(crl_state *st)
{
	g_free(st->issuer);
	g_free(st->etag);
	memset(st, 0, sizeof(*st));
}

/* number_of - a non-negative decimal field, 0 when absent */
static bool
number_of(const kv_file *kv, const char *key, long long *out)
{
	const char *text = kv_get(kv, key);
	unsigned long long value = 0;

	if (text != NULL && !parse_decimal(text, LLONG_MAX, &value))
		return false;
	*out = (long long)value;
	return true;
}

/* crl_state_read - the record of url; an absent or damaged record is an
 * empty state (the next fetch is then unconditional) */
void
crl_state_read(const ms_store *store, const char *url, crl_state *st)
{
	static const char *const known[] = { "url", "issuer", "etag",
	    "modified", "last-attempt", "last-success", "failures", NULL };
	char *name = store_hash_name(url);
	char *shown = g_strdup_printf("crlstate/%s", name);
	GByteArray *body;
	kv_file *kv = NULL;
	const char *value;

	memset(st, 0, sizeof(*st));
	if (store_record_read(store, "crlstate", name, "crl-state",
	    CRL_STATE_MAX, &body) != MS_OK)
		goto out;
	if (kv_parse(shown, (const char *)body->data, body->len, 0, &kv) !=
	    MS_OK || !kv_only(kv, shown, known) ||
	    !number_of(kv, "modified", &st->modified) ||
	    !number_of(kv, "last-attempt", &st->last_attempt) ||
	    !number_of(kv, "last-success", &st->last_success) ||
	    !number_of(kv, "failures", &st->failures)) {
		diag_warn("%s: damaged, read as empty", shown);
		crl_state_clear(st);
	} else {
		value = kv_get(kv, "issuer");
		if (value != NULL && *value != '\0')
			st->issuer = g_strdup(value);
		value = kv_get(kv, "etag");
		if (value != NULL && *value != '\0')
			st->etag = g_strdup(value);
	}
	kv_free(kv);
	g_byte_array_free(body, TRUE);
out:
	g_free(shown);
	g_free(name);
}

/* append_number - "key = N" */
static void
append_number(GString *body, const char *key, long long value)
{
	char text[32];

	g_snprintf(text, sizeof(text), "%lld", value);
	if (!kv_append(body, key, text))
		diag_fatal(EXIT_TEMPFAIL, "internal error: bad state number");
}

ms_err
crl_state_write(ms_store *store, const char *url, const crl_state *st)
{
	char *name = store_hash_name(url);
	GString *body = g_string_new(NULL);
	ms_err err;

	/* the URL is there for the reader; an issuer or an ETag that cannot
	 * be stored is left out: the next fetch is then unconditional */
	(void)kv_append(body, "url", url);
	if (!kv_append(body, "issuer", st->issuer ? st->issuer : ""))
		(void)kv_append(body, "issuer", "");
	if (!kv_append(body, "etag", st->etag ? st->etag : ""))
		(void)kv_append(body, "etag", "");
	append_number(body, "modified", st->modified);
	append_number(body, "last-attempt", st->last_attempt);
	append_number(body, "last-success", st->last_success);
	append_number(body, "failures", st->failures);
	err = store_record_write(store, "crlstate", name, "crl-state",
	    body->str, body->len, 0600);
	g_string_free(body, TRUE);
	g_free(name);
	return err;
}

/* crl_state_issuer - the issuer name a state record holds, or NULL */
X509_NAME *
crl_state_issuer(const crl_state *st)
{
	size_t len = st->issuer ? strlen(st->issuer) / 2 : 0, used = 0;
	X509_NAME *name = NULL;
	const unsigned char *p;
	unsigned char *der;

	if (len == 0 || len > CRL_STATE_MAX)
		return NULL;
	der = g_malloc(len);
	if (codec_unhex(st->issuer, der, len, &used)) {
		p = der;
		name = d2i_X509_NAME(NULL, &p, (long)used);
	}
	g_free(der);
	ERR_clear_error();
	return name;
}

/* crl_state_prune - forget the state of URLs no longer collected */
ms_err
crl_state_prune(ms_store *store, GHashTable *seen)
{
	GHashTable *keep = g_hash_table_new_full(g_str_hash, g_str_equal,
	    g_free, NULL);
	GHashTableIter iter;
	gpointer key;
	GPtrArray *names;
	ms_err err;

	g_hash_table_iter_init(&iter, seen);
	while (g_hash_table_iter_next(&iter, &key, NULL))
		g_hash_table_add(keep, store_hash_name(key));
	err = store_list(store, "crlstate", &names);
	for (guint i = 0; err == MS_OK && i < names->len; i++) {
		const char *name = g_ptr_array_index(names, i);

		if (!g_hash_table_contains(keep, name))
			err = store_remove(store, "crlstate", name);
		if (err == MS_NOTFOUND)
			err = MS_OK;
	}
	if (names != NULL)
		g_ptr_array_free(names, TRUE);
	g_hash_table_destroy(keep);
	return err;
}

