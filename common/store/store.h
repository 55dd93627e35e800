/*
 * store.h - the flat-file store: one directory tree, written atomically and
 * durably, read without locks.
 *
 * Layout (mailseal-store(5)):
 *   settings/global.conf, settings/domain/D.conf, settings/user/A.conf
 *   certs/FPR.pem      certificate store (SHA-256 fingerprint, hex)
 *   roots/FPR.pem      root store (trust anchors)
 *   keys/FPR.key       private keys, PKCS#8 PEM, 0600, named by the
 *                      fingerprint of their certificate
 *   crls/HASH.rN       CRLs in OpenSSL's hashed layout
 *   crlstate/H         crl-sync's record per CRL URL (ETag,
 *                      Last-Modified, last success): H = hex SHA-256
 *                      of the URL
 *   index/addr/H       address index: H = hex SHA-256 of the address key
 *   index/subject/H    subject index for chain building (issuer lookup)
 *   index/keyid/H      certificates with a private key by issuer+serial
 *                      and by subject key identifier (CMS recipients)
 *   ca/                the built-in CA (smime-ca)
 *   cache/H            verdict cache (trust.c), safe to delete at any time
 *   index/generation   record counting changes to roots, CA certificates
 *                      and CRLs: cached verdicts of older generations
 *                      are ignored
 *   tmp/               private spool for temporary files
 *   pdf/random.key     pdfwrap's secret for random passwords (0600)
 *   pdf/static/H       pdfwrap's static passwords: H = hex SHA-256 of
 *                      the address key or of the domain (0600)
 *   pdf/otp/H          pdfwrap's OTP client secrets per address (0600)
 *   spool/sms/NAME     pdfwrap's SMS jobs for sms-send (0600)
 *   pdf/templates/     pdfwrap's notice templates, replacing the shipped
 *                      ones
 *   audit/log          the audit log (audit.h): appended to only
 *   lock               the writers' lock file (never renamed)
 *
 * API: store_open(); store_lock() before any write; store_write() (and
 * store_writev() for a file given in parts) commits a file by temp file +
 * fsync + rename + directory fsync (STORE-1); readers
 * use store_read() with a size cap and O_NOFOLLOW.  Names given to these
 * functions must be single path components from store_name_ok().
 * Records (store_record_*) carry a header and a trailer with length and
 * SHA-256, so a truncated file reads as "unavailable", never as "empty".
 */
#ifndef MAILSEAL_STORE_H
#define MAILSEAL_STORE_H

#include <glib.h>
#include <stdbool.h>
#include <sys/types.h>
#include <sys/uio.h>

#include "err.h"

typedef struct ms_store ms_store;

/* store_locate - --store value, else $MAILSEAL_STORE, else the default */
const char *store_locate(const char *option_value);

/* store_open - open the store at path; with create, make the directory
 * layout (0700) that is missing.  Checks ownership and permissions. */
ms_err store_open(const char *path, bool create, ms_store **out);

/* store_close - release the lock if held and free the handle */
void store_close(ms_store *store);

/* store_root - the store's directory */
const char *store_root(const ms_store *store);

/* store_name_ok - true when name is usable as one path component */
bool store_name_ok(const char *name);

/* store_path - "root/subdir/name" (name may be NULL); g_free the result */
char *store_path(const ms_store *store, const char *subdir, const char *name);

/* store_lock - take the exclusive writers' lock, waiting at most
 * timeout_ms; MS_TEMP when it stays busy.  Taken again while held, it
 * nests: each store_unlock undoes one store_lock. */
ms_err store_lock(ms_store *store, int timeout_ms);

/* store_unlock - release the writers' lock */
void store_unlock(ms_store *store);

/* store_write - atomically replace subdir/name with data (mode 0600 or
 * 0644); the lock must be held */
ms_err store_write(ms_store *store, const char *subdir, const char *name,
    const void *data, size_t len, mode_t mode);

/* store_writev - store_write of parts written one after another (a large
 * message as its header block and its body, without joining them) */
ms_err store_writev(ms_store *store, const char *subdir, const char *name,
    const struct iovec *parts, int count, mode_t mode);

/* store_append - add data at the end of subdir/name (made with mode
 * when missing) in one write, then fsync (STORE-2): for a log that only
 * grows; the lock must be held */
ms_err store_append(ms_store *store, const char *subdir, const char *name,
    const void *data, size_t len, mode_t mode);

/* store_read - read subdir/name, at most max bytes (MS_DATA when larger);
 * MS_NOTFOUND when missing */
ms_err store_read(const ms_store *store, const char *subdir,
    const char *name, size_t max, GByteArray **out);

/* store_remove - unlink subdir/name (lock held); MS_NOTFOUND if missing */
ms_err store_remove(ms_store *store, const char *subdir, const char *name);

/* store_rename - rename subdir/from over subdir/to in one step (lock
 * held): readers see the old or the new file, never neither */
ms_err store_rename(ms_store *store, const char *subdir, const char *from,
    const char *to);

/* store_exists - true when subdir/name is a regular file */
bool store_exists(const ms_store *store, const char *subdir,
    const char *name);

/* store_list - names of regular files in subdir (no dot files), sorted */
ms_err store_list(const ms_store *store, const char *subdir,
    GPtrArray **names);

/* store_record_write - write body wrapped as a self-validating record */
ms_err store_record_write(ms_store *store, const char *subdir,
    const char *name, const char *type, const void *body, size_t len,
    mode_t mode);

/* store_record_read - read and validate a record of the given type;
 * MS_NOTFOUND when missing, MS_TEMP when damaged (never "empty") */
ms_err store_record_read(const ms_store *store, const char *subdir,
    const char *name, const char *type, size_t max, GByteArray **body);

/* store_write_cache - replace subdir/name by rename, without the lock
 * and without fsync: for cache files, which may be lost or damaged
 * without harm because readers validate them */
ms_err store_write_cache(const ms_store *store, const char *subdir,
    const char *name, const void *data, size_t len);

#define STORE_GENERATION_UNKNOWN (~0ULL)

/* store_generation - the change counter (0 when never bumped,
 * STORE_GENERATION_UNKNOWN when its record is damaged) */
unsigned long long store_generation(const ms_store *store);

/* store_bump_generation - count a change that affects certificate
 * verdicts; lock held */
ms_err store_bump_generation(ms_store *store);

/* store_hash_name - hex SHA-256 of text: the file name for an identity */
char *store_hash_name(const char *text);

/* store_sync_dir - fsync a directory (after a rename or unlink in it) */
ms_err store_sync_dir(const char *dir);

#endif
