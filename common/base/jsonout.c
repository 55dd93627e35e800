/*
 * jsonout.c - JSON output on jansson (see jsonout.h).
 */
#include "jsonout.h"
#include "diag.h"
#include "err.h"

#include <stdlib.h>
#include <string.h>

json_t *
jsonout_string(const char *text)
{
	char *valid = g_utf8_make_valid(text != NULL ? text : "", -1);
	json_t *string = json_string(valid);

	g_free(valid);
	if (string == NULL)
		diag_fatal(EXIT_TEMPFAIL, "out of memory");
	return string;
}

char *
jsonout_list(const json_t *array)
{
	GString *out = g_string_new("[");
	size_t index;
	json_t *member;

	json_array_foreach(array, index, member) {
		char *text = json_dumps(member, JSON_PRESERVE_ORDER);

		if (text == NULL)
			diag_fatal(EXIT_TEMPFAIL, "out of memory");
		g_string_append_printf(out, "%s\n  %s", index ? "," : "", text);
		free(text);
	}
	g_string_append(out, "\n]\n");
	return g_string_free(out, FALSE);
}
