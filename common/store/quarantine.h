/*
 * quarantine.h - the DLP quarantine in the store (dlp.md 4.3): held
 * messages as quarantine/ID.eml plus quarantine/ID.meta, ID being 32 hex
 * digits.
 *
 * API: quarantine_put() stores a message durably (STORE-1: the .eml
 * first, the .meta last as the commit record) under the store lock, one
 * entry per message: the runs of one queue file (Postfix delivers to the
 * filter one recipient at a time) join one entry; a quota in octets
 * defers a hold that would pass it.  quarantine_list(), quarantine_meta(),
 * quarantine_message() read; quarantine_claim() moves an entry from
 * "held" to "releasing" once, recording the releasing process,
 * quarantine_settle() to "released" (or back to "held" after a failed
 * release); quarantine_unstick() puts an entry whose releasing process
 * died back to "held", for a forced release; quarantine_delete() removes
 * an entry, quarantine_expire() one past its retention (the sweep);
 * quarantine_mark_once() records a one-time event (a notice sent).
 * An entry without its .meta was never committed and is not listed.
 * Every change takes the store lock, so holds, releases, deletions and a
 * sweep run side by side.
 * The quarantine holds plaintext: the store's 0700/0600 modes apply.
 */
#ifndef MAILSEAL_QUARANTINE_H
#define MAILSEAL_QUARANTINE_H

#include <glib.h>
#include <sys/uio.h>
#include <time.h>

#include "err.h"
#include "store.h"

#define QUARANTINE_ID_LEN 32	/* hex digits */
#define QUARANTINE_SUBJECT_MAX 200	/* octets of the subject kept */

/* what a hold records besides the message */
typedef struct quarantine_hold {
	const char *queue_id;		/* the MTA's queue id, or NULL */
	const char *sender;		/* envelope sender, "" for <> */
	const char *const *recipients;	/* NULL-terminated */
	const char *subject;		/* decoded, or NULL */
	const char *verdict;		/* the DLP action */
	const char *rules;		/* "a,b" */
	const char *auth;		/* how the sender was vouched for
					 * (gw_auth_name), for the release */
	unsigned long long max_size;	/* the quota in octets, 0: none */
} quarantine_hold;

/* quarantine_put - hold the message, given as parts written one after
 * another; the entry's id in *id (g_free), *joined when an entry of the
 * same queue file and message took the recipients; MS_TEMP when the
 * quarantine is full */
ms_err quarantine_put(ms_store *store, const struct iovec *message,
    int parts, const quarantine_hold *hold, char **id, bool *joined);

/* quarantine_id_ok - 32 lowercase hex digits */
bool quarantine_id_ok(const char *id);

/* quarantine_list - ids of committed entries, sorted (g_ptr_array_free) */
ms_err quarantine_list(const ms_store *store, GPtrArray **ids);

/* quarantine_meta - the meta text of id; MS_NOTFOUND when absent */
ms_err quarantine_meta(const ms_store *store, const char *id,
    GByteArray **meta);

/* quarantine_meta_value - the value of key in meta text (g_free), or
 * NULL */
char *quarantine_meta_value(const GByteArray *meta, const char *key);

/* quarantine_meta_values - every value of a repeated key, in order,
 * NULL-terminated (g_strfreev) */
char **quarantine_meta_values(const GByteArray *meta, const char *key);

/* quarantine_message - the held message of id, opened for reading in
 * *fd (close) */
ms_err quarantine_message(const ms_store *store, const char *id, int *fd);

/* quarantine_claim - "held" -> "releasing" under the lock (single use),
 * with the meta in *meta; MS_POLICY when the entry is not held */
ms_err quarantine_claim(ms_store *store, const char *id, GByteArray **meta);

/* quarantine_settle - a claimed entry becomes "released", or "held"
 * again when its release failed */
ms_err quarantine_settle(ms_store *store, const char *id, bool released);

/* quarantine_delete - remove an entry (lock taken here); its record as
 * it was removed in *meta when meta is not NULL (g_byte_array_free) */
ms_err quarantine_delete(ms_store *store, const char *id, GByteArray **meta);

/* quarantine_expire - remove a "held" or "released" entry held at least
 * retention seconds before now, with the audit line "expire quarantine
 * ID"; its record in *meta (g_byte_array_free); MS_POLICY when it is
 * younger, being released, or its time does not read */
ms_err quarantine_expire(ms_store *store, const char *id, time_t now,
    unsigned long long retention, GByteArray **meta);

/* quarantine_unstick - a "releasing" entry whose releasing process is
 * gone is "held" again (audit line), ready for another release;
 * MS_POLICY when it is not "releasing", MS_TEMP when that process runs */
ms_err quarantine_unstick(ms_store *store, const char *id);

/* quarantine_mark_once - add "key: TIME" to the entry's record unless it
 * has the key; *first when this call added it (at most once, whatever
 * runs at the same time) */
ms_err quarantine_mark_once(ms_store *store, const char *id, const char *key,
    bool *first);

#endif
