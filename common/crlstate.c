/*
 * crlstate.c - crl-sync's record of each CRL URL (see crlstate.h).
 */
#include "crlstate.h"
#include "diag.h"

#include <openssl/err.h>
#include <sodium.h>
#include <string.h>

char *
crl_state_issuer_hex(const X509_NAME *name)
{
	unsigned char *der = NULL;
	int len = i2d_X509_NAME(name, &der);
	char *hex;

	if (len <= 0)
		diag_fatal(EXIT_TEMPFAIL, "cannot encode a name");
	hex = g_malloc((size_t)len * 2 + 1);
	sodium_bin2hex(hex, (size_t)len * 2 + 1, der, (size_t)len);
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

/* crl_state_read - the record of url; an absent or damaged record is an
 * empty state (the next fetch is then unconditional) */
void
crl_state_read(const ms_store *store, const char *url, crl_state *st)
{
	char *name = store_hash_name(url);
	GByteArray *body;
	char **lines;

	memset(st, 0, sizeof(*st));
	if (store_record_read(store, "crlstate", name, "crl-state",
	    CRL_STATE_MAX, &body) != MS_OK) {
		g_free(name);
		return;
	}
	g_byte_array_append(body, (const guint8 *)"", 1);
	lines = g_strsplit((const char *)body->data, "\n", -1);
	for (int i = 0; lines[i] != NULL; i++) {
		char *eq = strchr(lines[i], '=');

		if (eq == NULL)
			continue;
		*eq++ = '\0';
		if (strcmp(lines[i], "issuer") == 0 && *eq)
			st->issuer = g_strdup(eq);
		else if (strcmp(lines[i], "etag") == 0 && *eq)
			st->etag = g_strdup(eq);
		else if (strcmp(lines[i], "modified") == 0)
			st->modified = g_ascii_strtoll(eq, NULL, 10);
		else if (strcmp(lines[i], "last-attempt") == 0)
			st->last_attempt = g_ascii_strtoll(eq, NULL, 10);
		else if (strcmp(lines[i], "last-success") == 0)
			st->last_success = g_ascii_strtoll(eq, NULL, 10);
		else if (strcmp(lines[i], "failures") == 0)
			st->failures = g_ascii_strtoll(eq, NULL, 10);
	}
	g_strfreev(lines);
	g_byte_array_free(body, TRUE);
	g_free(name);
}

ms_err
crl_state_write(ms_store *store, const char *url, const crl_state *st)
{
	char *name = store_hash_name(url);
	char *body = g_strdup_printf("url=%s\nissuer=%s\netag=%s\n"
	    "modified=%lld\nlast-attempt=%lld\nlast-success=%lld\n"
	    "failures=%lld\n", url, st->issuer ? st->issuer : "",
	    st->etag ? st->etag : "", st->modified, st->last_attempt,
	    st->last_success, st->failures);
	ms_err err = store_record_write(store, "crlstate", name, "crl-state",
	    body, strlen(body), 0600);

	g_free(body);
	g_free(name);
	return err;
}

/* crl_state_issuer - the issuer name a state record holds, or NULL */
X509_NAME *
crl_state_issuer(const crl_state *st)
{
	size_t len = st->issuer ? strlen(st->issuer) / 2 : 0;
	X509_NAME *name = NULL;
	const unsigned char *p;
	unsigned char *der;

	if (len == 0 || len > CRL_STATE_MAX)
		return NULL;
	der = g_malloc(len);
	if (sodium_hex2bin(der, len, st->issuer, len * 2, NULL, NULL, NULL) ==
	    0) {
		p = der;
		name = d2i_X509_NAME(NULL, &p, (long)len);
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

