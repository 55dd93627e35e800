/*
 * fuzz-sanitize.c - libFuzzer target for common/portal/sanitize.c: the
 * first byte picks the flags, the rest is the HTML of a mail body.
 *
 * Checked (a violation aborts, a crash libFuzzer reports):
 *   - NULL only for input over the limits, never otherwise short;
 *   - the output is valid UTF-8 without NUL, within SANITIZE_OUTPUT_MAX;
 *   - parsed again by gumbo, the output holds only allowed elements and
 *     attributes with allowed URLs (tests/unit/sanitize-check.h).
 */
#include "sanitize.h"

#include "fuzz.h"
#include "../unit/sanitize-check.h"

#include <glib.h>
#include <stdint.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	sanitize_report report;
	GString *out;

	if (size == 0)
		return 0;
	out = html_sanitize((const char *)data + 1, size - 1,
	    data[0] & 1 ? SANITIZE_REMOTE_IMAGES : 0, &report);
	if (out == NULL) {
		require(size - 1 > 2 * SANITIZE_NESTING_MAX);
		return 0;
	}
	require(strlen(out->str) == out->len &&
	    out->len <= SANITIZE_OUTPUT_MAX &&
	    g_utf8_validate(out->str, (gssize)out->len, NULL));
	require(sanitize_check_output(out->str, out->len, NULL));
	g_string_free(out, TRUE);
	return 0;
}
