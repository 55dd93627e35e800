/*
 * kv.c - the one "key = value" reader and writer (see kv.h).  The files
 * come from the store, which an attacker may have written to through a
 * bug elsewhere, and from administrators' editors: every line is bounded,
 * every byte checked, and nothing is guessed (no quoting, no escapes, no
 * continuation lines).
 */
#include "kv.h"
#include "diag.h"
#include "mslimits.h"
#include "secret.h"

#include <string.h>

struct kv_file {
	GArray *entries;	/* kv_entry, strings owned */
};

void
kv_free(kv_file *kv)
{
	if (kv == NULL)
		return;
	for (guint i = 0; i < kv->entries->len; i++) {
		kv_entry *e = &g_array_index(kv->entries, kv_entry, i);

		secret_free((char *)e->key);
		secret_free((char *)e->value);
	}
	g_array_free(kv->entries, TRUE);
	g_free(kv);
}

static bool
key_char(char c, bool first)
{
	return g_ascii_isalnum(c) || (!first && (c == '-' || c == '_' ||
	    c == '.'));
}

bool
kv_key_ok(const char *key)
{
	size_t len = strlen(key);

	if (len == 0 || len > KV_KEY_MAX)
		return false;
	for (size_t i = 0; i < len; i++)
		if (!key_char(key[i], i == 0))
			return false;
	return true;
}

static bool
blank(char c)
{
	return c == ' ' || c == '\t';
}

bool
kv_value_ok(const char *value)
{
	size_t len = strlen(value);

	if (len > LIMIT_KV_LINE || !g_utf8_validate(value, (gssize)len, NULL))
		return false;
	if (len > 0 && (blank(value[0]) || blank(value[len - 1])))
		return false;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)value[i];

		if ((c < 0x20 && c != '\t') || c == 0x7f)
			return false;
	}
	return true;
}

bool
kv_append(GString *out, const char *key, const char *value)
{
	if (!kv_key_ok(key) || !kv_value_ok(value) ||
	    strlen(key) + 3 + strlen(value) > LIMIT_KV_LINE)
		return false;
	g_string_append_printf(out, "%s = %s\n", key, value);
	return true;
}

/* parse_line - one line without its LF (and without a CR before it);
 * NULL when fine, else why not */
static const char *
parse_line(const char *line, size_t len, unsigned flags, kv_entry *entry)
{
	size_t at = 0, key_start, key_end, value_start, value_end;

	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)line[i];

		if ((c < 0x20 && c != '\t') || c == 0x7f)
			return "control character";
	}
	while (at < len && blank(line[at]))
		at++;
	if (at == len || line[at] == '#') {
		if ((flags & KV_COMMENTS) == 0)
			return at == len ? "blank line" : "comment line";
		return "";
	}
	key_start = at;
	while (at < len && key_char(line[at], at == key_start))
		at++;
	key_end = at;
	while (at < len && blank(line[at]))
		at++;
	if (at == len || line[at] != '=')
		return "expected \"key = value\"";
	if (key_end == key_start || key_end - key_start > KV_KEY_MAX)
		return "bad key (letters, digits, '-', '_', '.')";
	at++;
	while (at < len && blank(line[at]))
		at++;
	value_start = at;
	value_end = len;
	while (value_end > value_start && blank(line[value_end - 1]))
		value_end--;
	entry->key = g_strndup(line + key_start, key_end - key_start);
	entry->value = g_strndup(line + value_start, value_end - value_start);
	return NULL;
}

ms_err
kv_parse(const char *name, const char *text, size_t len, unsigned flags,
    kv_file **out)
{
	kv_file *kv;
	size_t pos = 0, lineno = 0;
	GHashTable *seen;
	const char *why = NULL;

	*out = NULL;
	if (memchr(text, '\0', len) != NULL) {
		diag_error("%s: NUL byte", name);
		return MS_DATA;
	}
	if (!g_utf8_validate(text, (gssize)len, NULL)) {
		diag_error("%s: not valid UTF-8", name);
		return MS_DATA;
	}
	kv = g_new0(kv_file, 1);
	kv->entries = g_array_new(FALSE, FALSE, sizeof(kv_entry));
	seen = g_hash_table_new(g_str_hash, g_str_equal);
	while (pos < len && why == NULL) {
		const char *line = text + pos;
		const char *nl = memchr(line, '\n', len - pos);
		size_t line_len = nl ? (size_t)(nl - line) : len - pos;
		kv_entry entry = { NULL, NULL, 0 };

		pos += line_len + (nl ? 1 : 0);
		lineno++;
		if (nl != NULL && line_len > 0 && line[line_len - 1] == '\r')
			line_len--;
		if (lineno > LIMIT_KV_LINES)
			why = "too many lines";
		else if (line_len > LIMIT_KV_LINE)
			why = "line too long";
		else
			why = parse_line(line, line_len, flags, &entry);
		if (why != NULL && *why == '\0') {
			why = NULL;	/* a comment or blank line */
			continue;
		}
		if (why != NULL)
			break;
		entry.line = lineno;
		if ((flags & KV_LISTS) == 0 &&
		    g_hash_table_contains(seen, entry.key))
			why = "key set twice";
		g_array_append_val(kv->entries, entry);
		g_hash_table_add(seen, (char *)entry.key);
	}
	g_hash_table_destroy(seen);
	if (why != NULL) {
		diag_error("%s:%zu: %s", name, lineno, why);
		kv_free(kv);
		return MS_DATA;
	}
	*out = kv;
	return MS_OK;
}

const char *
kv_get(const kv_file *kv, const char *key)
{
	for (guint i = 0; i < kv->entries->len; i++) {
		const kv_entry *e = &g_array_index(kv->entries, kv_entry, i);

		if (strcmp(e->key, key) == 0)
			return e->value;
	}
	return NULL;
}

size_t
kv_size(const kv_file *kv)
{
	return kv->entries->len;
}

const kv_entry *
kv_at(const kv_file *kv, size_t index)
{
	if (index >= kv->entries->len)
		diag_fatal(EXIT_TEMPFAIL, "internal error: kv_at past the end");
	return &g_array_index(kv->entries, kv_entry, index);
}

bool
kv_only(const kv_file *kv, const char *name, const char *const *keys)
{
	for (guint i = 0; i < kv->entries->len; i++) {
		const kv_entry *e = &g_array_index(kv->entries, kv_entry, i);
		size_t k = 0;

		while (keys[k] != NULL && strcmp(keys[k], e->key) != 0)
			k++;
		if (keys[k] == NULL) {
			diag_error("%s:%zu: unknown key \"%s\"", name, e->line,
			    e->key);
			return false;
		}
	}
	return true;
}
