/*
 * fuzz-html.c - libFuzzer target for common/text.c: the first byte picks
 * a charset and the flags, the rest is decoded from that charset and
 * read as HTML, the path every text/html part takes to DLP and the PDF.
 *
 * Checked (a violation aborts, a crash libFuzzer reports):
 *   - both results are valid UTF-8 of the length they claim, never NULL;
 *   - the decoded text holds no NUL (a C string ends where it ends);
 *   - the HTML text ends with neither a space nor a line end.
 */
#include "text.h"

#include <glib.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const charsets[] = {
		NULL, "utf-8", "iso-8859-1", "windows-1252",
		"ks_c_5601-1987", "shift_jis", "iso-2022-jp", "utf-16le",
		"gb2312", "utf-7", "no-such-charset", "big5"
	};
	const char *charset;
	unsigned flags;
	char *text;
	size_t len;
	GString *out;

	if (size == 0)
		return 0;
	charset = charsets[data[0] % G_N_ELEMENTS(charsets)];
	flags = data[0] & 0x80 ? TEXT_HTML_TITLES : 0;
	text = text_decode_charset(data + 1, size - 1, charset, &len);
	if (text == NULL || strlen(text) != len ||
	    !g_utf8_validate(text, (gssize)len, NULL))
		abort();
	out = text_html_to_text(text, len, flags);
	if (out == NULL || strlen(out->str) != out->len ||
	    !g_utf8_validate(out->str, (gssize)out->len, NULL) ||
	    (out->len > 0 && (out->str[out->len - 1] == ' ' ||
	    out->str[out->len - 1] == '\n')))
		abort();
	g_string_free(out, TRUE);
	g_free(text);
	return 0;
}
