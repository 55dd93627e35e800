/*
 * kv.h - the one reader and writer of "key = value" files: settings,
 * the CA state, CRL states, static PDF passwords, SMS jobs and the SMS
 * gateway file.
 *
 * One set of rules for all of them: the text is valid UTF-8 without NUL;
 * a line is at most LIMIT_KV_LINE octets and a file at most
 * LIMIT_KV_LINES lines; a line ends in LF, and a CR right before the LF
 * is dropped (a file saved with CRLF reads as with LF), any other control
 * character but tab is refused; a key is 1..64 of ASCII letters, digits,
 * '-', '_' and '.', starting with a letter or digit; space and tab around
 * the key, the '=' and the value are not part of them; a key appears once
 * unless the caller allows lists; "#" comment lines and blank lines only
 * where the format has them (a final newline is never a blank line).
 * Which keys exist, and what a value may be, is the caller's.
 *
 * API: kv_parse -> kv_get / kv_size + kv_at -> kv_free (which wipes every
 * copy: the files hold passwords); kv_append writes one line that reads
 * back as written, or refuses the value.
 */
#ifndef MAILSEAL_KV_H
#define MAILSEAL_KV_H

#include <glib.h>
#include <stdbool.h>
#include <stddef.h>

#include "err.h"

typedef struct kv_file kv_file;

typedef enum kv_flags {
	KV_COMMENTS = 1 << 0,	/* "#" comment lines and blank lines */
	KV_LISTS = 1 << 1	/* a key may appear more than once */
} kv_flags;

typedef struct kv_entry {
	const char *key;
	const char *value;
	size_t line;		/* 1-based, for diagnostics */
} kv_entry;

/* kv_parse - read text (len octets) by the rules above; on MS_DATA one
 * diagnostic "name:line: why" was printed and *out is NULL */
ms_err kv_parse(const char *name, const char *text, size_t len,
    unsigned flags, kv_file **out);

/* kv_get - the value of key (the first, with KV_LISTS), or NULL */
const char *kv_get(const kv_file *kv, const char *key);

/* kv_size - the number of key = value lines */
size_t kv_size(const kv_file *kv);

/* kv_at - the entry at index (0 .. kv_size - 1), in file order */
const kv_entry *kv_at(const kv_file *kv, size_t index);

/* kv_only - every key is one of the NULL-terminated keys; otherwise a
 * diagnostic "name:line: unknown key" and false */
bool kv_only(const kv_file *kv, const char *name, const char *const *keys);

/* kv_free - wipe and release (NULL is fine) */
void kv_free(kv_file *kv);

/* kv_key_ok - key follows the key rules */
bool kv_key_ok(const char *key);

/* kv_value_ok - value reads back unchanged: valid UTF-8 of at most
 * LIMIT_KV_LINE octets, no control character but tab, no space or tab
 * at either end */
bool kv_value_ok(const char *value);

/* kv_append - "key = value\n" onto out; false (out unchanged) when the
 * value would not read back as written */
bool kv_append(GString *out, const char *key, const char *value);

#endif
