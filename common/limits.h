/*
 * limits.h - every parsing limit in one place (security.md MIME-L*).
 *
 * Defaults below; the global settings may change them (limit-* keys,
 * mailseal-settings(5)); mailseal(7) lists them with the leniencies we
 * allow.  Exceeding one gives a defined outcome, never a crash.
 */
#ifndef MAILSEAL_LIMITS_H
#define MAILSEAL_LIMITS_H

#include <stddef.h>

typedef struct ms_limits {
	size_t message_size;	/* MIME-L1: whole input, octets */
	size_t header_section;	/* MIME-L4: top-level header section */
	size_t header_field;	/* MIME-L4: one unfolded header field */
	unsigned mime_depth;	/* MIME-L2: multipart + message/rfc822 */
	unsigned mime_parts;	/* MIME-L3: total MIME parts */
	unsigned crypto_layers;	/* MIME-L10: crypto layers unwrapped */
} ms_limits;

#define LIMIT_MESSAGE_SIZE_DEFAULT ((size_t)64 * 1024 * 1024)
#define LIMIT_HEADER_SECTION_DEFAULT ((size_t)100 * 1024)
#define LIMIT_HEADER_FIELD_DEFAULT ((size_t)64 * 1024)
#define LIMIT_MIME_DEPTH_DEFAULT 32u
#define LIMIT_MIME_PARTS_DEFAULT 1000u
#define LIMIT_CRYPTO_LAYERS_DEFAULT 3u

/* store files: settings, index records, certificates, keys */
#define LIMIT_SETTINGS_FILE ((size_t)1024 * 1024)
/* "key = value" files (kv.h): octets per line, lines per file */
#define LIMIT_KV_LINE 4096u
#define LIMIT_KV_LINES 65536u
/* DLP policy files: lines as long as a settings line */
#define LIMIT_SETTINGS_LINE LIMIT_KV_LINE
#define LIMIT_STORE_OBJECT ((size_t)1024 * 1024)
#define LIMIT_IMPORT_FILE ((size_t)64 * 1024 * 1024)

/* how long a writer waits for the store lock (another writer at work)
 * before it gives up with a temporary failure */
#define LIMIT_LOCK_TIMEOUT_MS 30000

/* limits_get - the limits in force (defaults until settings change them) */
const ms_limits *limits_get(void);

/* limits_set - replace the limits in force */
void limits_set(const ms_limits *limits);

#endif
