/*
 * fuzz-kv.c - libFuzzer target for the "key = value" reader and writer
 * (common/kv.c), the one parser of every record and settings file.
 *
 * The first input byte picks the flags (comments, lists), the rest is
 * the file text.  When the text is accepted, every key and value must
 * follow the rules kv.h states (so no reader downstream sees a control
 * character, a stray blank or invalid UTF-8), and writing the entries
 * back with kv_append must give a text that reads back to the same
 * entries.  kv_parse reports errors through diag_error on stderr; the
 * runner (tests/fuzz/run) closes the target's stderr.
 */
#include "fuzz.h"
#include "kv.h"
#include "mslimits.h"
#include "parse.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	unsigned flags;
	kv_file *kv = NULL, *again = NULL;
	GString *out;

	if (size == 0)
		return 0;
	flags = data[0] & (KV_COMMENTS | KV_LISTS);
	if (kv_parse("fuzz", (const char *)data + 1, size - 1, flags, &kv) !=
	    MS_OK) {
		require(kv == NULL);
		return 0;
	}
	out = g_string_new(NULL);
	for (size_t i = 0; i < kv_size(kv); i++) {
		const kv_entry *e = kv_at(kv, i);
		unsigned long long number;

		require(kv_key_ok(e->key));
		require(kv_value_ok(e->value));
		require(kv_get(kv, e->key) != NULL);
		require(kv_append(out, e->key, e->value));
		(void)parse_size(e->value, &number);
		(void)parse_decimal(e->value, ~0ULL, &number);
	}
	require(kv_parse("fuzz-again", out->str, out->len, flags, &again) ==
	    MS_OK);
	require(kv_size(again) == kv_size(kv));
	for (size_t i = 0; i < kv_size(kv); i++) {
		require(strcmp(kv_at(kv, i)->key, kv_at(again, i)->key) == 0);
		require(strcmp(kv_at(kv, i)->value, kv_at(again, i)->value) ==
		    0);
	}
	kv_free(again);
	kv_free(kv);
	g_string_free(out, TRUE);
	return 0;
}
