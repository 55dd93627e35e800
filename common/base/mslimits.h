/*
 * mslimits.h - every parsing limit in one place (security.md MIME-L*).
 *
 * Defaults below; the global settings may change them (limit-* keys,
 * mailseal-settings(5)); mailseal(7) lists them with the leniencies we
 * allow.  Exceeding one gives a defined outcome, never a crash.
 */
#ifndef MAILSEAL_MSLIMITS_H
#define MAILSEAL_MSLIMITS_H

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

/* fixed limits of the modules and programs, each next to its reason */

/* common/addr.h */
#define ADDR_LOCAL_MAX 64
#define ADDR_TOTAL_MAX 254
#define ADDR_DOMAIN_MAX 253

/* common/ca.h */
#define ISSUE_DAYS_MAX 825	/* SBR: Strict and Multipurpose */
#define CRL_DAYS_MAX 10		/* SBR 4.9.7 */

/* common/pki/cert.h, certdb.h, trust.h */
#define CERT_CHAIN_MAX 8

/* common/crlstate.h */
#define CRL_STATE_MAX 8192

/* common/crlstore.h */
#define CRL_URL_MAX 2048	/* longest distribution point URL used */

/* common/dlp-valid.h */
#define DLP_BLOCK_MAX ((size_t)64 * 1024)

/* common/dlp.h */
#define DLP_TEXT_MAX ((size_t)1 << 30)	/* one part, octets */
#define DLP_WINDOW_MAX 1000u	/* before + after, dlp.md section 2 */
#define DLP_JIT_STACK_MAX ((size_t)1024 * 1024)

/* common/fetch.h */
#define FETCH_ETAG_MAX 256	/* longest ETag kept for a conditional GET */

/* common/pdfpass.h */
#define PDFPASS_OTP_GENERATION_MAX 0xffffffU

/* common/pgp.h */
#define PGP_KEYS_MAX 16

/* common/policy.h */
#define POLICY_RULES_MAX 1000u

/* common/reply.h */
#define REPLY_TOKEN_MAX 4096
#define REPLY_CLAIM_MAX 998

/* common/run.h */
#define RUN_STDERR_MAX 4096

/* common/secret.h */
#define SECRET_MAX 4096

/* common/smsjob.h */
#define SMSJOB_MAX 4096

/* common/smtp.h */
#define SMTP_REPLY_MAX 4096

/* common/kv.c */
#define KV_KEY_MAX 64

/* common/pdf.c */
/* pango lays out the body in one piece: more than this is never shown on
 * pages (the caller attaches the full text) */
#define PDF_BODY_TEXT_MAX (2u * 1024 * 1024)
/* cairo output over this is a failure, not a crash in g_byte_array */
#define PDF_OUTPUT_MAX ((size_t)1024 * 1024 * 1024)
/* body text is laid out in pieces of at most this many bytes */
#define PDF_CHUNK_MAX 4096

/* common/pdfpass.c */
#define PDFPASS_PRIVATE_FILE_MAX 4096

/* cmd/crl-sync.c */
#define CRL_RANDOM_DELAY_MAX 86400

/* cmd/mailseal-filter.c */
#define FILTER_RECIPIENTS_MAX 1000
#define FILTER_JOURNAL_MAX (1024 * 1024)

/* cmd/pdfwrap-reply.c */
/* what pdfwrap-reply reads: a token or URL with room to spare, one line */
#define REPLY_INPUT_MAX (REPLY_TOKEN_MAX + 4096)

/* cmd/pdfwrap.c */
#define PDF_TEMPLATE_MAX (64 * 1024)

/* cmd/pgp-keys.c */
#define PGP_IMPORT_MAX ((size_t)4 * 1024 * 1024)	/* KEY-5 */
#define PGP_IMPORT_KEYS_MAX 16
#define PGP_IMPORT_UIDS_MAX 64

/* cmd/sms-send.c */
#define SMS_GATEWAY_FILE_MAX 4096
#define SMS_RETRY_DELAY_MAX (6 * 3600LL)
#define SMS_ANSWER_MAX (64 * 1024)

/* limits_get - the limits in force (defaults until settings change them) */
const ms_limits *limits_get(void);

/* limits_set - replace the limits in force */
void limits_set(const ms_limits *limits);

#endif
