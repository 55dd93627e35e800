/*
 * json.h - the little JSON the admin tools print (--json listings).
 * API: json_append_string() appends one string literal, escaped.
 */
#ifndef MAILSEAL_JSON_H
#define MAILSEAL_JSON_H

#include <glib.h>

/* json_append_string - s as a JSON string literal (controls escaped) */
void json_append_string(GString *out, const char *s);

#endif
