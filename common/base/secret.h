/*
 * secret.h - secrets read from files, never from argv or the environment,
 * and wiped when done.
 *
 * API: secret_read_file() returns the first line of a file (up to CR or
 * LF) in memory that secret_free() wipes with sodium_memzero.  An empty
 * secret, a NUL byte or a file over SECRET_MAX bytes is refused.
 */
#ifndef MAILSEAL_SECRET_H
#define MAILSEAL_SECRET_H

#include "mslimits.h"

#include <glib.h>

/* secret_read_file - the first line of path, or NULL (reason logged) */
char *secret_read_file(const char *path);

/* secret_free - wipe and free a secret (NULL is fine) */
void secret_free(char *secret);

/* secret_bytes_free - wipe and free a buffer that held plaintext or a
 * secret (NULL is fine) */
void secret_bytes_free(GByteArray *bytes);

/* secret_string_free - the same for a GString */
void secret_string_free(GString *s);

#endif
