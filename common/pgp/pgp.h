/*
 * pgp.h - OpenPGP through GPGME, with the keyring in the store
 * ($STORE/gnupg), never in a user's ~/.gnupg.
 *
 * API: pgp_start() begins GPGME's start-up probe early (optional);
 * pgp_open() gives a context bound to the store's GnuPG home (made
 * and configured on first use by the admin tool), offline, with loopback
 * pinentry fed from the passphrase file of the pgp-passphrase-file
 * setting.  pgp_find_keys() selects keys by exact address among valid
 * keys only (KEY-1).  pgp_key_status() and pgp_key_end() give a key's
 * status word and end for listings and the expiry report.  pgp_error()
 * maps a GPGME error to a module result: an unreachable or dead
 * gpg-agent is temporary (75), never a hang (the filter deadline bounds
 * every operation).
 * Limits: PGP_KEYS_MAX keys per address.
 */
#ifndef MAILSEAL_PGP_H
#define MAILSEAL_PGP_H

#include <glib.h>
#include <gpgme.h>
#include <stdbool.h>
#include <time.h>

#include "addr.h"
#include "output.h"
#include "err.h"
#include "store.h"
#include "mslimits.h"

typedef enum pgp_purpose {
	PGP_PURPOSE_ENCRYPT,
	PGP_PURPOSE_SIGN,	/* our own key: its secret part is needed */
	PGP_PURPOSE_VERIFY	/* a signer's key: a signing subkey */
} pgp_purpose;

/* pgp_start - GPGME's start-up probe (a `gpg --version` that every
 * process runs once) begun on a thread of its own, so that it runs while
 * the message is read; pgp_open waits for it.  Optional; call it before
 * anything else uses GPGME or changes the environment */
void pgp_start(void);

/* pgp_open - a GPGME context on the store's keyring; with create (admin
 * tools) the GnuPG home and its configuration are made when missing.
 * passphrase_file may be NULL. */
ms_err pgp_open(const ms_store *store, bool create,
    const char *passphrase_file, gpgme_ctx_t *ctx);

/* pgp_close - release a context */
void pgp_close(gpgme_ctx_t ctx);

/* pgp_error - the module result for a GPGME error, logged with what */
ms_err pgp_error(gpgme_error_t err, const char *what);

/* pgp_key_flag - one reason a key is not usable, in the order the checks
 * rank them: the lowest bit set is the main reason */
typedef enum pgp_key_flag {
	PGP_KEY_REVOKED = 1u << 0,
	PGP_KEY_EXPIRED = 1u << 1,
	PGP_KEY_DISABLED = 1u << 2,
	PGP_KEY_INVALID = 1u << 3,
	PGP_KEY_NO_ENCRYPTION_SUBKEY = 1u << 4,
	PGP_KEY_NO_SIGNING_KEY = 1u << 5,
	PGP_KEY_NO_SIGNER_ADDRESS = 1u << 6,	/* verify without From */
	PGP_KEY_NO_USER_ID = 1u << 7,
	PGP_KEY_NO_USER_ID_FOR_ADDRESS = 1u << 8,
	PGP_KEY_NOT_TRUSTED = 1u << 9
} pgp_key_flag;

#define PGP_KEY_USER_ID_FLAGS (PGP_KEY_NO_USER_ID | \
	PGP_KEY_NO_USER_ID_FOR_ADDRESS)

/* pgp_key_verdict - why key is not usable for purpose and addr (NULL:
 * any address), as pgp_key_flag bits, or 0 when it is: valid user ID
 * binding, not expired, revoked, disabled or invalid, a capable subkey,
 * trusted (ownertrust ultimate: see mailseal-store(5)) */
unsigned pgp_key_verdict(gpgme_key_t key, pgp_purpose purpose,
    const ms_addr *addr);

/* pgp_key_main_flag - the lowest (main) pgp_key_flag of flags, or 0 */
unsigned pgp_key_main_flag(unsigned flags);

/* pgp_key_flag_text - the words for the main reason of flags, or NULL
 * when flags is 0 */
const char *pgp_key_flag_text(unsigned flags);

/* pgp_key_end - when key stops being usable by its dates: the earlier of
 * the primary key's expiry and the last expiry among its encryption
 * subkeys (its signing subkeys for a key without) that are neither
 * revoked, disabled nor invalid; 0 when never */
time_t pgp_key_end(gpgme_key_t key);

/* pgp_key_status - one word for key now, named as certstore list names a
 * certificate's where the meaning is the same: usable (for encryption,
 * or a signer's key for verifying), expiring (usable, ending within
 * window days), expired (the key, or every encryption subkey), revoked,
 * disabled, invalid, no-encryption-subkey, no-user-id, untrusted */
const char *pgp_key_status(gpgme_key_t key, unsigned long window);

/* pgp_key_addresses - the addresses of key's user IDs that are neither
 * revoked nor invalid, as the key gives them (g_free each; free the
 * array) */
GPtrArray *pgp_key_addresses(gpgme_key_t key);

/* pgp_key_addresses_text - the same joined by commas, control characters
 * and invalid UTF-8 masked, or "-" when there is none (g_free) */
char *pgp_key_addresses_text(gpgme_key_t key);

/* pgp_key_usable_unbound - a key the administrator bound to a domain
 * (pgp-domain-key) is usable when its main reason, if any, is only that
 * no user ID carries an address */
bool pgp_key_usable_unbound(unsigned flags);

/* pgp_find_keys - usable keys for addr (gpgme_key_t, referenced; free
 * with pgp_keys_free); rejected candidates and why, when rejects is not
 * NULL ("FPR: reason" strings).  The keyring is listed once per address
 * and purpose in a process, whose answer stands for the rest of it (a
 * filter's run, for its routing, signing and encryption alike; no
 * program changes the keyring and then looks a key up again) */
ms_err pgp_find_keys(gpgme_ctx_t ctx, const ms_addr *addr,
    pgp_purpose purpose, GPtrArray **keys, GPtrArray *rejects);

/* pgp_domain_key - the key fpr that a pgp-domain-key setting names for
 * domain: in the keyring and usable for encryption (KEY-1), though bound
 * to no address; MS_CONFIG, logged, when it is missing or not usable, so
 * that mail waits for the administrator instead of going out plain */
ms_err pgp_domain_key(gpgme_ctx_t ctx, const char *fpr, const char *domain,
    gpgme_key_t *key);

/* pgp_keyring_sound - the keyring file of the home pgp_open set is whole
 * as a keybox (a header blob with its magic, then blobs whose lengths add
 * up to the file), or absent: gpg reads a damaged one as an empty keyring,
 * which must not turn a broken store into "no key" */
bool pgp_keyring_sound(void);

/* pgp_keys_free - release what pgp_find_keys returned */
void pgp_keys_free(GPtrArray *keys);

/* pgp_data_entity - GPGME input reading a then b without copying them;
 * with crlf every line end is made CRLF on the way (canonical form).  The
 * handle is freed by gpgme_data_release. */
ms_err pgp_data_entity(const char *a, size_t alen, const char *b,
    size_t blen, bool crlf, gpgme_data_t *dh);

/* pgp_sign_detached - gpgme_op_sign(ctx, in, sig, mode) for a signature
 * whose output is small, with in handed to gpg in large blocks through a
 * pipe enlarged to 1 MiB: GPGME's 4 KiB writes into a 64 KiB
 * pipe wake gpg hundreds of times for a large message, and on a busy
 * host every wake-up waits for the scheduler.  The blocks are written by
 * our own loop, not by GPGME's handler, which formats a trace of every
 * byte (debug off or not) at four times the CPU cost of the rest */
gpgme_error_t pgp_sign_detached(gpgme_ctx_t ctx, gpgme_data_t in,
    gpgme_data_t sig, gpgme_sig_mode_t mode);

/* pgp_data_output - GPGME output appended to out */
ms_err pgp_data_output(ms_output *out, gpgme_data_t *dh);

/* pgp_output_bytes - bytes written through pgp_data_output sinks so far */
size_t pgp_output_bytes(void);

/* pgp_data_capped - GPGME output into memory, at most cap bytes: more is
 * an error (MIME-L9, compression bombs), never a cut */
ms_err pgp_data_capped(size_t cap, GByteArray **buf, gpgme_data_t *dh);

/* pgp_capped_overflow - the capped sink refused data */
bool pgp_capped_overflow(gpgme_data_t dh);

/* pgp_unicode_address - addr with its IDN domain as U-label, or NULL
 * when the domain is plain ASCII (g_free) */
char *pgp_unicode_address(const ms_addr *addr);

/* pgp_homedir - the store's GnuPG home as gpg is told it: the real path,
 * or a short private link to it when the real one is too long for a
 * socket path (g_free) */
char *pgp_homedir(const ms_store *store);

#endif
