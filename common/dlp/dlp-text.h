/*
 * dlp-text.h - the text the DLP engine scans, taken from the same MIME
 * view every other filter sees (msg_walk): header fields with RFC 2047
 * words decoded, every text part transfer-decoded and converted to UTF-8
 * and HTML turned into text (text.h), attached messages and multiparts at
 * any depth, attachment names, text-like attachments, PKCS#12 files, ZIP
 * archives and the office documents built on them (dlp-extract.h).
 *
 * API: dlp_text_scan() runs an engine over one message into a result and
 * fills a dlp_text_report: what could not be read (the unscannable
 * reasons of mailseal-policy(5)) and the attachments' names and types for
 * policy conditions.
 *
 * Limits: the extracted text in total (max_text octets) and a time budget
 * (max_seconds); hitting either stops the scan with "limit_exceeded",
 * never with a silent pass.  A part that cannot be decoded is
 * "extraction_error"; a format we do not read (PDF, OLE documents,
 * archives other than ZIP, other binary data) is "unsupported_format";
 * an encrypted ZIP entry is "password_protected"; an encrypted entity is
 * "user_encrypted".  Images, audio and video are not
 * scanned and not flagged (policies match them by attachment type).
 */
#ifndef MAILSEAL_DLP_TEXT_H
#define MAILSEAL_DLP_TEXT_H

#include <glib.h>
#include <stddef.h>

#include "dlp-extract.h"
#include "dlp.h"
#include "err.h"
#include "msg.h"

/* unscannable reasons: DLP_UNSCANNABLE_* (dlp-extract.h) */

#define DLP_TEXT_TOTAL_DEFAULT ((size_t)50 * 1024 * 1024)
#define DLP_TEXT_SECONDS_DEFAULT 60u

typedef struct dlp_attachment {
	char *path;		/* "2.1" */
	char *name;		/* decoded file name, or NULL */
	char *declared_type;	/* lowercase Content-Type */
	char *detected_type;	/* from the content's first bytes, or NULL */
} dlp_attachment;

typedef struct dlp_text_report {
	unsigned unscannable;		/* DLP_UNSCANNABLE_* */
	GString *why;			/* "part: reason; ..." (no content) */
	GPtrArray *attachments;		/* dlp_attachment * */
	size_t text_bytes;		/* extracted text scanned */
	unsigned parts;			/* entities scanned */
} dlp_text_report;

typedef struct dlp_text_limits {
	size_t max_text;		/* octets of text in total */
	unsigned max_seconds;		/* wall-clock budget */
} dlp_text_limits;

/* dlp_text_report_init - an empty report */
void dlp_text_report_init(dlp_text_report *report);

/* dlp_text_report_clear - free what a report holds */
void dlp_text_report_clear(dlp_text_report *report);

/* dlp_unscannable_name - "limit_exceeded" ... for one bit, or NULL */
const char *dlp_unscannable_name(unsigned bit);

/* dlp_unscannable_bit - the bit for a reason name, 0 when unknown */
unsigned dlp_unscannable_bit(const char *name);

/* dlp_text_scan - extract and scan everything of msg (parsed in full);
 * MS_INTERNAL on a library failure; limits are reported, not errors */
ms_err dlp_text_scan(const ms_message *msg, dlp_engine *engine,
    const dlp_text_limits *limits, dlp_result *result,
    dlp_text_report *report);

#endif
