/*
 * init.h - make a store ready for the user the programs run as
 * (mailseal-init(1)), leaving alone everything that is there already.
 *
 * API: store_init_root() makes or checks the store's directory for a uid
 * (as root, before privileges are dropped); on the open store, with its
 * lock held, store_init_dir(), store_init_secret() and store_init_file()
 * each make one thing when it is missing, say so in *made and record it
 * in the audit log.  A secret is random octets from libsodium, written
 * 0600 and never shown.  store_init_settings is the commented default
 * settings/global.conf: every line a comment, so every key keeps its
 * default until the administrator writes it.
 */
#ifndef MAILSEAL_INIT_H
#define MAILSEAL_INIT_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "err.h"
#include "store.h"

/* the longest secret store_init_secret makes */
#define STORE_INIT_SECRET_MAX 256u

/* the text of a new settings/global.conf */
extern const char store_init_settings[];

/* store_init_root - make path (0700, owned by uid:gid) when missing;
 * MS_CONFIG when it is there and not a directory of uid's, so a store of
 * another user is never taken over */
ms_err store_init_root(const char *path, uid_t uid, gid_t gid, bool *made);

/* store_init_dir - make the directory relative (0700) when missing;
 * MS_CONFIG when something else or a directory of another user is there */
ms_err store_init_dir(ms_store *store, const char *relative, bool *made);

/* store_init_secret - subdir/name of len random octets (mode 0600) when
 * missing; an existing one is kept whatever it holds */
ms_err store_init_secret(ms_store *store, const char *subdir,
    const char *name, size_t len, bool *made);

/* store_init_file - subdir/name with text (mode 0600) when missing */
ms_err store_init_file(ms_store *store, const char *subdir, const char *name,
    const char *text, bool *made);

#endif
