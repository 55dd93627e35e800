/*
 * dlp-extract.h - text out of ZIP archives and the office documents built
 * on them (DOCX, XLSX, PPTX, ODT/ODS/ODP) for the DLP scan (dlp.md
 * section 5).
 *
 * API: dlp_extract_zip() runs the extraction in a child process under
 * rlimits (CPU time, address space, no file writes, few descriptors) and
 * an alarm, reads its text back through a pipe with a cap, and calls back
 * for each piece of text with a label suffix made of entry numbers
 * (":3", ":3:1", ":3 name" for an entry's name), never of entry names,
 * which are attacker text.  libzip and libxml2 read hostile input only in
 * that child; a crash or a kill of the child is extraction_error.
 *
 * Limits (each hit is an unscannable reason, never a silent pass):
 * archive nesting depth, entries in total, expansion ratio per entry,
 * expanded octets in total, text octets returned, seconds.  An encrypted
 * entry is password_protected; PDF, OLE documents and other archive
 * formats inside are unsupported_format.  XML is read without network
 * access and without entity substitution.
 */
#ifndef MAILSEAL_DLP_EXTRACT_H
#define MAILSEAL_DLP_EXTRACT_H

#include <stdbool.h>
#include <stddef.h>

#include "err.h"

/* unscannable reasons, a bit set */
enum {
	DLP_UNSCANNABLE_LIMIT = 1u << 0,	/* limit_exceeded */
	DLP_UNSCANNABLE_EXTRACTION = 1u << 1,	/* extraction_error */
	DLP_UNSCANNABLE_UNSUPPORTED = 1u << 2,	/* unsupported_format */
	DLP_UNSCANNABLE_PASSWORD = 1u << 3,	/* password_protected */
	DLP_UNSCANNABLE_ENCRYPTED = 1u << 4	/* user_encrypted */
};
#define DLP_UNSCANNABLE_ALL 0x1fu

#define DLP_EXTRACT_DEPTH_DEFAULT 5u
#define DLP_EXTRACT_ENTRIES_DEFAULT 10000u
#define DLP_EXTRACT_RATIO_DEFAULT 100u
#define DLP_EXTRACT_EXPANDED_DEFAULT ((size_t)256 * 1024 * 1024)
#define DLP_EXTRACT_CHILD_MEMORY ((size_t)512 * 1024 * 1024)

typedef struct dlp_extract_limits {
	unsigned depth;		/* archives inside archives */
	unsigned entries;	/* entries in total */
	unsigned ratio;		/* expanded / compressed, per entry */
	size_t expanded;	/* expanded octets in total */
	size_t text;		/* text octets returned */
	unsigned seconds;	/* CPU and wall-clock time of the child */
} dlp_extract_limits;

/* dlp_extract_fn - one piece of UTF-8 text; false stops */
typedef bool (*dlp_extract_fn)(const char *suffix, const char *text,
    size_t len, void *data);

/* dlp_extract_limits_default - the defaults above, with text and seconds */
void dlp_extract_limits_default(dlp_extract_limits *limits, size_t text,
    unsigned seconds);

/* dlp_extract_zip - extract data[0..len) (a ZIP) in a child; unscannable
 * reasons (DLP_UNSCANNABLE_*) are added to *unscannable.  MS_TEMP when no
 * child can be started, or libzip or libxml2 (loaded on the first call)
 * cannot be loaded. */
ms_err dlp_extract_zip(const unsigned char *data, size_t len,
    const dlp_extract_limits *limits, dlp_extract_fn fn, void *fn_data,
    unsigned *unscannable);

#endif
