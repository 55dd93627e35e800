/*
 * jsonout.h - the JSON the admin tools print (--json listings), written
 * by jansson.
 *
 * API: jsonout_string() makes a JSON string from text that may come
 * from a certificate or a key (invalid UTF-8 becomes U+FFFD, so the
 * output is always valid JSON; jansson escapes U+0000 to U+001F as
 * \uXXXX and leaves DEL, which JSON allows, as it is);
 * jsonout_list() writes an array of objects, one object a line, in the
 * layout the tools have always printed.
 */
#ifndef MAILSEAL_JSONOUT_H
#define MAILSEAL_JSONOUT_H

#include <glib.h>
#include <jansson.h>

/* jsonout_string - a new JSON string of text (NULL: the empty string) */
json_t *jsonout_string(const char *text);

/* jsonout_list - "[\n  {...},\n  {...}\n]\n" of array's members, each
 * member in jansson's one-line form with its keys in insertion order
 * (g_free) */
char *jsonout_list(const json_t *array);

#endif
