/*
 * quarantine.h - the DLP quarantine in the store (dlp.md 4.3): held
 * messages as quarantine/ID.eml plus quarantine/ID.meta, ID being 128
 * random bits in hex.
 *
 * API: quarantine_put() stores a message durably (STORE-1: the .eml
 * first, the .meta last as the commit record) under the store lock;
 * quarantine_list(), quarantine_meta(), quarantine_message() read;
 * quarantine_release() moves an entry from "held" to "released" once
 * (single use) and returns the message; quarantine_delete() removes it.
 * An entry without its .meta was never committed and is not listed.
 * The quarantine holds plaintext: the store's 0700/0600 modes apply.
 */
#ifndef MAILSEAL_QUARANTINE_H
#define MAILSEAL_QUARANTINE_H

#include <glib.h>

#include "err.h"
#include "store.h"

#define QUARANTINE_ID_LEN 32	/* hex digits */

/* quarantine_put - store the message, given as parts written one after
 * another, with its meta text ("key: value" lines, the id, time and state
 * are added); the new id in *id (g_free) */
ms_err quarantine_put(ms_store *store, const struct iovec *message,
    int parts, const char *meta, char **id);

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

/* quarantine_release - "held" -> "released" under the lock and the
 * message in *message; MS_POLICY when the entry is not held */
ms_err quarantine_release(ms_store *store, const char *id,
    GByteArray **message);

/* quarantine_delete - remove an entry (lock taken here) */
ms_err quarantine_delete(ms_store *store, const char *id);

#endif
