/*
 * pgp.c - the store's OpenPGP keyring through GPGME (see pgp.h).  The
 * configuration written into the GnuPG home is the hardened one of
 * security.md 13.2: no automatic key retrieval or import, imports keep
 * only self-signatures, weak ciphers disabled, SHA-1 data signatures
 * weak; never ignore-mdc-error, allow-weak-digest-algos or a trust model.
 */
#include "pgp.h"
#include "expiry.h"
#include "diag.h"
#include "secret.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* the longest socket gpg-agent makes is S.gpg-agent.browser; a Unix
 * socket path holds at most 107 octets */
#define SOCKET_PATH_ROOM 80

static const char gpg_conf[] =
"# mailseal: the gateway keyring's settings (mailseal-store(5)).\n"
"# Keys are chosen by mailseal, never fetched or imported by gpg itself.\n"
"no-auto-key-retrieve\n"
"no-auto-key-import\n"
"auto-key-locate local\n"
"import-options self-sigs-only,import-minimal\n"
"personal-cipher-preferences AES256 AES192 AES\n"
"personal-digest-preferences SHA512 SHA384 SHA256\n"
"personal-compress-preferences ZLIB Uncompressed\n"
"default-preference-list AES256 AES192 AES SHA512 SHA384 SHA256 ZLIB "
"Uncompressed\n"
"cert-digest-algo SHA256\n"
"weak-digest SHA1\n"
"disable-cipher-algo IDEA\n"
"disable-cipher-algo 3DES\n"
"disable-cipher-algo CAST5\n"
"no-greeting\n";

static const char agent_conf[] =
"# mailseal: passphrases come from a file through loopback pinentry\n"
"allow-loopback-pinentry\n";

/* write_conf - a configuration file of the GnuPG home, when missing */
static ms_err
write_conf(const char *home, const char *name, const char *text)
{
	char *path = g_build_filename(home, name, NULL);
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
	    0600);
	ms_err err = MS_OK;

	if (fd < 0) {
		if (errno != EEXIST) {
			diag_error("cannot create %s: %s", path,
			    strerror(errno));
			err = MS_TEMP;
		}
	} else {
		size_t len = strlen(text);

		if (write(fd, text, len) != (ssize_t)len || fsync(fd) != 0) {
			diag_error("cannot write %s: %s", path,
			    strerror(errno));
			err = MS_TEMP;
		}
		if (close(fd) != 0)
			err = MS_TEMP;
	}
	g_free(path);
	return err;
}

/* private_link_dir - /tmp/mailseal-UID, ours and closed to others */
static char *
private_link_dir(void)
{
	const char *tmp = getenv("TMPDIR");
	char *dir = g_strdup_printf("%s/mailseal-%lu",
	    tmp && *tmp == '/' && strlen(tmp) < 40 ? tmp : "/tmp",
	    (unsigned long)geteuid());
	struct stat st;

	if (mkdir(dir, 0700) != 0 && errno != EEXIST) {
		g_free(dir);
		return NULL;
	}
	/* someone else's directory or a link there would let them redirect
	 * the agent's sockets */
	if (lstat(dir, &st) != 0 || !S_ISDIR(st.st_mode) ||
	    st.st_uid != geteuid() || (st.st_mode & 077) != 0) {
		diag_error("%s is not a private directory", dir);
		g_free(dir);
		return NULL;
	}
	return dir;
}

char *
pgp_homedir(const ms_store *store)
{
	char *home = store_path(store, "gnupg", NULL);
	char *dir, *hash, *link, target[4096];
	ssize_t n;

	if (strlen(home) <= SOCKET_PATH_ROOM)
		return home;
	/* a short, private symbolic link to the real home, so the agent's
	 * socket paths fit */
	dir = private_link_dir();
	if (dir == NULL)
		return home;
	hash = store_hash_name(home);
	hash[16] = '\0';
	link = g_strdup_printf("%s/g%s", dir, hash);
	n = readlink(link, target, sizeof(target) - 1);
	if (n < 0 || (size_t)n != strlen(home) ||
	    memcmp(target, home, (size_t)n) != 0) {
		(void)unlink(link);
		if (symlink(home, link) != 0) {
			diag_warn("cannot link the GnuPG home: %s",
			    strerror(errno));
			g_free(link);
			link = NULL;
		}
	}
	g_free(hash);
	g_free(dir);
	if (link == NULL)
		return home;
	g_free(home);
	return link;
}

static gpgme_error_t
passphrase_cb(void *hook, const char *uid_hint, const char *info,
    int prev_was_bad, int fd)
{
	const char *file = hook;
	char *secret;
	gpgme_error_t err = 0;

	(void)uid_hint;
	(void)info;
	if (prev_was_bad || file == NULL)
		return gpg_error(GPG_ERR_CANCELED);
	secret = secret_read_file(file);
	if (secret == NULL)
		return gpg_error(GPG_ERR_CANCELED);
	if (gpgme_io_writen(fd, secret, strlen(secret)) != 0 ||
	    gpgme_io_writen(fd, "\n", 1) != 0)
		err = gpg_error(GPG_ERR_CANCELED);
	secret_free(secret);
	return err;
}

static bool initialised;
static GThread *probe_thread;

/* initialise - GPGME once per process */
static bool
initialise(void)
{
	if (initialised)
		return true;
	/* every process GPGME starts counts once per message: it need not
	 * ask gpgconf where gpg is (pipe(8) gives a fixed PATH) */
	gpgme_set_global_flag("disable-gpgconf", "1");
	/* GnuPG 2.2's GPGME 1.18: what Debian 12 ships */
	initialised = gpgme_check_version("1.18.0") != NULL;
	return initialised;
}

/* probe_engine - GPGME's start-up probe; a failure shows again, and is
 * reported, when pgp_open makes its context */
static gpointer
probe_engine(gpointer data)
{
	gpgme_engine_info_t info;

	(void)data;
	(void)gpgme_get_engine_info(&info);
	return NULL;
}

void
pgp_start(void)
{
	if (probe_thread == NULL && initialise())
		probe_thread = g_thread_new("gpg-probe", probe_engine, NULL);
}

ms_err
pgp_open(const ms_store *store, bool create, const char *passphrase_file,
    gpgme_ctx_t *out)
{
	char *real = store_path(store, "gnupg", NULL), *home;
	gpgme_ctx_t ctx = NULL;
	gpgme_error_t gerr;
	struct stat st;
	ms_err err = MS_OK;

	*out = NULL;
	if (!initialise()) {
		g_free(real);
		diag_error("GPGME is older than 1.18");
		return MS_CONFIG;
	}
	/* the probe pgp_start began is done before the environment changes
	 * (GNUPGHOME below) and before a context needs its result */
	if (probe_thread != NULL) {
		g_thread_join(probe_thread);
		probe_thread = NULL;
	}
	if (create && mkdir(real, 0700) != 0 && errno != EEXIST) {
		diag_error("cannot create %s: %s", real, strerror(errno));
		g_free(real);
		return MS_TEMP;
	}
	if (lstat(real, &st) != 0 || !S_ISDIR(st.st_mode)) {
		diag_error("the store has no OpenPGP keyring (%s)", real);
		g_free(real);
		return MS_CONFIG;
	}
	if (create) {
		err = write_conf(real, "gpg.conf", gpg_conf);
		if (err == MS_OK)
			err = write_conf(real, "gpg-agent.conf", agent_conf);
	}
	if (err != MS_OK) {
		g_free(real);
		return err;
	}
	home = pgp_homedir(store);
	gerr = gpgme_new(&ctx);
	if (!gerr)
		gerr = gpgme_set_protocol(ctx, GPGME_PROTOCOL_OpenPGP);
	/* the home through the environment: a per-context home makes GPGME
	 * ask gpg for its version once more (a process per message) */
	if (!gerr && setenv("GNUPGHOME", home, 1) != 0)
		gerr = gpg_error_from_syserror();
	if (!gerr)
		gerr = gpgme_set_keylist_mode(ctx, GPGME_KEYLIST_MODE_LOCAL);
	if (!gerr)
		gerr = gpgme_set_pinentry_mode(ctx,
		    GPGME_PINENTRY_MODE_LOOPBACK);
	g_free(home);
	g_free(real);
	if (gerr) {
		gpgme_release(ctx);
		return pgp_error(gerr, "GnuPG");
	}
	gpgme_set_offline(ctx, 1);
	gpgme_set_passphrase_cb(ctx, passphrase_cb, (void *)passphrase_file);
	*out = ctx;
	return MS_OK;
}

void
pgp_close(gpgme_ctx_t ctx)
{
	if (ctx != NULL)
		gpgme_release(ctx);
}

ms_err
pgp_error(gpgme_error_t err, const char *what)
{
	gpgme_err_code_t code = gpgme_err_code(err);

	diag_info("%s: %s", what, gpgme_strerror(err));
	switch (code) {
	case GPG_ERR_NO_ERROR:
		return MS_OK;
	case GPG_ERR_EOF:	/* gpgme_get_key found nothing */
	case GPG_ERR_NO_SECKEY:
	case GPG_ERR_NO_PUBKEY:
	case GPG_ERR_NOT_FOUND:
	case GPG_ERR_UNUSABLE_PUBKEY:
	case GPG_ERR_UNUSABLE_SECKEY:
		return MS_NOTFOUND;
	case GPG_ERR_DECRYPT_FAILED:
	case GPG_ERR_BAD_DATA:
	case GPG_ERR_NO_DATA:
	case GPG_ERR_INV_DATA:
	case GPG_ERR_BAD_SIGNATURE:
	case GPG_ERR_UNSUPPORTED_ALGORITHM:
	case GPG_ERR_CIPHER_ALGO:
		return MS_DATA;
	case GPG_ERR_BAD_PASSPHRASE:
	case GPG_ERR_CANCELED:
		return MS_CONFIG;
	default:
		/* agent gone, engine missing, resource trouble: try later */
		return MS_TEMP;
	}
}

/* usable_subkey - a subkey that can do purpose and is in force */
static bool
usable_subkey(gpgme_key_t key, pgp_purpose purpose)
{
	for (gpgme_subkey_t sk = key->subkeys; sk != NULL; sk = sk->next) {
		if (sk->revoked || sk->expired || sk->disabled || sk->invalid)
			continue;
		if (purpose == PGP_PURPOSE_ENCRYPT ? sk->can_encrypt :
		    purpose == PGP_PURPOSE_VERIFY ? sk->can_sign :
		    (sk->can_sign && sk->secret))
			return true;
	}
	return false;
}

unsigned
pgp_key_main_flag(unsigned flags)
{
	return flags & (~flags + 1);
}

/* each reason: its words in a diagnostic, and its one word in a status
 * (certstore list's where the meaning is the same) */
static const struct {
	pgp_key_flag flag;
	const char *text;
	const char *status;
} key_flags[] = {
	{ PGP_KEY_REVOKED, "revoked", "revoked" },
	{ PGP_KEY_EXPIRED, "expired", "expired" },
	{ PGP_KEY_DISABLED, "disabled", "disabled" },
	{ PGP_KEY_INVALID, "invalid", "invalid" },
	{ PGP_KEY_NO_ENCRYPTION_SUBKEY, "no usable encryption subkey",
	  "no-encryption-subkey" },
	{ PGP_KEY_NO_SIGNING_KEY, "no usable signing key",
	  "no-encryption-subkey" },
	{ PGP_KEY_NO_SIGNER_ADDRESS, "no address to bind the signer to",
	  "no-user-id" },
	{ PGP_KEY_NO_USER_ID, "no valid user ID", "no-user-id" },
	{ PGP_KEY_NO_USER_ID_FOR_ADDRESS, "no valid user ID for the address",
	  "no-user-id" },
	{ PGP_KEY_NOT_TRUSTED, "not trusted", "untrusted" }
};

const char *
pgp_key_flag_text(unsigned flags)
{
	unsigned main_flag = pgp_key_main_flag(flags);

	for (size_t i = 0; i < G_N_ELEMENTS(key_flags); i++)
		if (key_flags[i].flag == main_flag)
			return key_flags[i].text;
	return flags == 0 ? NULL : "not usable";
}

bool
pgp_key_usable_unbound(unsigned flags)
{
	return flags == 0 ||
	    (pgp_key_main_flag(flags) & PGP_KEY_USER_ID_FLAGS) != 0;
}

unsigned
pgp_key_verdict(gpgme_key_t key, pgp_purpose purpose, const ms_addr *addr)
{
	unsigned flags = 0;
	bool bound = false;

	if (key->revoked)
		flags |= PGP_KEY_REVOKED;
	if (key->expired)
		flags |= PGP_KEY_EXPIRED;
	if (key->disabled)
		flags |= PGP_KEY_DISABLED;
	if (key->invalid)
		flags |= PGP_KEY_INVALID;
	if (!usable_subkey(key, purpose))
		flags |= purpose == PGP_PURPOSE_ENCRYPT ?
		    PGP_KEY_NO_ENCRYPTION_SUBKEY : PGP_KEY_NO_SIGNING_KEY;
	if (purpose == PGP_PURPOSE_VERIFY && addr == NULL)
		flags |= PGP_KEY_NO_SIGNER_ADDRESS;
	/* KEY-1: the address of a valid user ID must equal addr exactly
	 * under the one address parser, never a substring */
	for (gpgme_user_id_t uid = key->uids; uid != NULL; uid = uid->next) {
		ms_addr got;
		const char *why;

		if (uid->revoked || uid->invalid || uid->address == NULL)
			continue;
		if (addr_parse_bound(uid->address, strlen(uid->address), &got,
		    &why) != MS_OK)
			continue;
		if (addr == NULL || addr_equal(&got, addr))
			bound = true;
		addr_clear(&got);
		if (bound)
			break;
	}
	if (!bound)
		flags |= addr == NULL ? PGP_KEY_NO_USER_ID :
		    PGP_KEY_NO_USER_ID_FOR_ADDRESS;
	/* the store's trust policy: keys the administrator trusts carry
	 * ownertrust ultimate (imports keep self-signatures only, so no
	 * other key can make a key valid) */
	if (key->owner_trust != GPGME_VALIDITY_ULTIMATE)
		flags |= PGP_KEY_NOT_TRUSTED;
	return flags;
}

/* sooner - the earlier of two ends, 0 being never */
static time_t
sooner(time_t a, time_t b)
{
	return a == 0 ? b : b == 0 ? a : MIN(a, b);
}

time_t
pgp_key_end(gpgme_key_t key)
{
	time_t last[2] = { 0, 0 }, primary;
	bool any[2] = { false, false };

	if (key->subkeys == NULL)
		return 0;
	primary = key->subkeys->expires > 0 ? (time_t)key->subkeys->expires :
	    0;
	for (gpgme_subkey_t sk = key->subkeys; sk != NULL; sk = sk->next) {
		time_t end = sk->expires > 0 ? (time_t)sk->expires : 0;

		if (sk->revoked || sk->disabled || sk->invalid)
			continue;
		for (int c = 0; c < 2; c++) {
			if (!(c == 0 ? sk->can_encrypt : sk->can_sign))
				continue;
			/* the last of them: 0 (never) outlasts any date */
			last[c] = !any[c] ? end : last[c] == 0 || end == 0 ?
			    0 : MAX(last[c], end);
			any[c] = true;
		}
	}
	return sooner(primary, any[0] ? last[0] : any[1] ? last[1] : 0);
}

const char *
pgp_key_status(gpgme_key_t key, unsigned long window)
{
	time_t end = pgp_key_end(key), now = time(NULL);
	bool encryption = false;
	unsigned flags;

	for (gpgme_subkey_t sk = key->subkeys; sk != NULL; sk = sk->next)
		if (sk->can_encrypt && !sk->revoked && !sk->disabled &&
		    !sk->invalid)
			encryption = true;
	/* a partner's signing-only key serves to verify, as certstore list
	 * takes a signing certificate */
	flags = encryption ? pgp_key_verdict(key, PGP_PURPOSE_ENCRYPT, NULL) :
	    pgp_key_verdict(key, PGP_PURPOSE_VERIFY, NULL) &
	    ~(unsigned)PGP_KEY_NO_SIGNER_ADDRESS;
	if (flags == 0)
		return expiry_within(end, now, window) ? "expiring" :
		    "usable";
	/* no capable subkey left because each one's time ran out */
	if ((pgp_key_main_flag(flags) & (PGP_KEY_NO_ENCRYPTION_SUBKEY |
	    PGP_KEY_NO_SIGNING_KEY)) != 0 && end != 0 && end < now)
		return "expired";
	for (size_t i = 0; i < G_N_ELEMENTS(key_flags); i++)
		if (key_flags[i].flag == pgp_key_main_flag(flags))
			return key_flags[i].status;
	return "unusable";
}

GPtrArray *
pgp_key_addresses(gpgme_key_t key)
{
	GPtrArray *out = g_ptr_array_new_with_free_func(g_free);

	for (gpgme_user_id_t u = key->uids; u != NULL; u = u->next)
		if (u->address != NULL && !u->revoked && !u->invalid)
			g_ptr_array_add(out, g_strdup(u->address));
	return out;
}

char *
pgp_key_addresses_text(gpgme_key_t key)
{
	GPtrArray *addrs = pgp_key_addresses(key);
	GString *text = g_string_new(NULL);

	for (guint i = 0; i < addrs->len; i++) {
		const char *a = g_ptr_array_index(addrs, i);
		char *masked = diag_mask(a, strlen(a));

		g_string_append_printf(text, "%s%s", i ? "," : "", masked);
		free(masked);
	}
	g_ptr_array_free(addrs, TRUE);
	if (text->len == 0)
		g_string_append_c(text, '-');
	return g_string_free(text, FALSE);
}

ms_err
pgp_domain_key(gpgme_ctx_t ctx, const char *fpr, const char *domain,
    gpgme_key_t *key)
{
	unsigned flags;

	*key = NULL;
	if (gpgme_get_key(ctx, fpr, key, 0) != 0) {
		diag_error("pgp-domain-key %s for %s is not in the keyring",
		    fpr, domain);
		*key = NULL;
		return MS_CONFIG;	/* defer until the key is there */
	}
	flags = pgp_key_verdict(*key, PGP_PURPOSE_ENCRYPT, NULL);
	if (!pgp_key_usable_unbound(flags)) {
		diag_error("pgp-domain-key %s for %s is not usable: %s", fpr,
		    domain, pgp_key_flag_text(flags));
		gpgme_key_unref(*key);
		*key = NULL;
		return MS_CONFIG;
	}
	return MS_OK;
}

bool
pgp_keyring_sound(void)
{
	const char *home = getenv("GNUPGHOME");
	char *path;
	unsigned char head[12];
	struct stat st;
	off_t at = 0;
	bool sound = false;
	FILE *f;

	if (home == NULL)
		return false;
	path = g_build_filename(home, "pubring.kbx", NULL);
	f = fopen(path, "rb");
	g_free(path);
	if (f == NULL)
		return errno == ENOENT;	/* no keys yet */
	if (fstat(fileno(f), &st) != 0 || st.st_size < 32)
		goto done;
	while (at < st.st_size) {
		uint32_t len;

		if (fseeko(f, at, SEEK_SET) != 0 ||
		    fread(head, 1, sizeof(head), f) < 5)
			goto done;
		len = (uint32_t)head[0] << 24 | (uint32_t)head[1] << 16 |
		    (uint32_t)head[2] << 8 | head[3];
		if (len < 5 || len > st.st_size - at)
			goto done;
		/* blob 0 is the header: type 1, magic "KBXf" */
		if (at == 0 && (len < 12 || head[4] != 1 ||
		    memcmp(head + 8, "KBXf", 4) != 0))
			goto done;
		/* types: 0 empty, 1 header, 2 OpenPGP, 3 X.509 */
		if (head[4] > 3)
			goto done;
		at += len;
	}
	sound = true;
done:
	fclose(f);
	return sound;
}

/* what one key listing found for an address and purpose */
typedef struct found_keys {
	GPtrArray *keys;	/* gpgme_key_t, referenced */
	GPtrArray *rejects;	/* "FPR: reason" */
	ms_err err;		/* MS_OK or MS_NOTFOUND */
} found_keys;

/* listings already made in this process, by "purpose address": the
 * routing of a message and its signing and encryption ask for the same
 * keys, and every listing is a gpg process of its own */
static GHashTable *found_cache;

static void
found_keys_free(gpointer p)
{
	found_keys *f = p;

	pgp_keys_free(f->keys);
	g_ptr_array_free(f->rejects, TRUE);
	g_free(f);
}

/* found_copy - what f holds, into keys (new references) and rejects */
static ms_err
found_copy(const found_keys *f, GPtrArray **keys, GPtrArray *rejects)
{
	*keys = g_ptr_array_new();
	for (guint i = 0; i < f->keys->len; i++) {
		gpgme_key_t key = g_ptr_array_index(f->keys, i);

		gpgme_key_ref(key);
		g_ptr_array_add(*keys, key);
	}
	for (guint i = 0; rejects != NULL && i < f->rejects->len; i++)
		g_ptr_array_add(rejects,
		    g_strdup(g_ptr_array_index(f->rejects, i)));
	return f->err;
}

static ms_err list_keys(gpgme_ctx_t ctx, const ms_addr *addr,
    pgp_purpose purpose, GPtrArray **keys, GPtrArray *rejects);

ms_err
pgp_find_keys(gpgme_ctx_t ctx, const ms_addr *addr, pgp_purpose purpose,
    GPtrArray **keys, GPtrArray *rejects)
{
	char *name = g_strdup_printf("%d %s", (int)purpose, addr->text);
	found_keys *f = found_cache != NULL ?
	    g_hash_table_lookup(found_cache, name) : NULL;
	ms_err err;

	if (f != NULL) {
		g_free(name);
		return found_copy(f, keys, rejects);
	}
	f = g_new0(found_keys, 1);
	f->rejects = g_ptr_array_new_with_free_func(g_free);
	f->err = list_keys(ctx, addr, purpose, &f->keys, f->rejects);
	err = found_copy(f, keys, rejects);
	/* only an answer is kept: a failure is asked again */
	if (f->err == MS_OK || f->err == MS_NOTFOUND) {
		if (found_cache == NULL)
			found_cache = g_hash_table_new_full(g_str_hash,
			    g_str_equal, g_free, found_keys_free);
		g_hash_table_replace(found_cache, name, f);
	} else {
		found_keys_free(f);
		g_free(name);
	}
	return err;
}

/* list_keys - pgp_find_keys, by one key listing of gpg */
static ms_err
list_keys(gpgme_ctx_t ctx, const ms_addr *addr, pgp_purpose purpose,
    GPtrArray **keys, GPtrArray *rejects)
{
	/* user IDs may spell an IDN domain as A-label or as U-label; both
	 * are asked for, and our own parser decides equality */
	char *unicode = pgp_unicode_address(addr);
	const char *patterns[3] = { NULL, NULL, NULL };
	gpgme_error_t gerr;
	gpgme_key_t key;
	ms_err err = MS_OK;

	patterns[0] = g_strdup_printf("<%s>", addr->text);
	if (unicode != NULL)
		patterns[1] = g_strdup_printf("<%s>", unicode);
	g_free(unicode);
	*keys = g_ptr_array_new();
	gerr = gpgme_op_keylist_ext_start(ctx, patterns,
	    purpose == PGP_PURPOSE_SIGN, 0);
	g_free((char *)patterns[0]);
	g_free((char *)patterns[1]);
	while (!gerr) {
		unsigned flags;
		bool twice = false;

		gerr = gpgme_op_keylist_next(ctx, &key);
		if (gerr)
			break;
		flags = pgp_key_verdict(key, purpose, addr);
		for (guint i = 0; flags == 0 && !twice && i < (*keys)->len;
		    i++)
			twice = strcmp(((gpgme_key_t)
			    g_ptr_array_index(*keys, i))->fpr, key->fpr) == 0;
		if (twice) {
			gpgme_key_unref(key);
			continue;
		}
		if (flags == 0 && (*keys)->len < PGP_KEYS_MAX) {
			g_ptr_array_add(*keys, key);
			continue;
		}
		if (rejects != NULL)
			g_ptr_array_add(rejects, g_strdup_printf("%s: %s",
			    key->fpr ? key->fpr : "?", flags != 0 ?
			    pgp_key_flag_text(flags) : "too many keys"));
		gpgme_key_unref(key);
	}
	if (gpgme_err_code(gerr) != GPG_ERR_EOF)
		err = pgp_error(gerr, "key listing");
	gpgme_op_keylist_end(ctx);
	if (err == MS_OK && (*keys)->len == 0) {
		err = MS_NOTFOUND;
		if (!pgp_keyring_sound()) {
			diag_error("the OpenPGP keyring cannot be read whole");
			err = MS_CONFIG;
		}
	}
	return err;
}

void
pgp_keys_free(GPtrArray *keys)
{
	if (keys == NULL)
		return;
	for (guint i = 0; i < keys->len; i++)
		gpgme_key_unref(g_ptr_array_index(keys, i));
	g_ptr_array_free(keys, TRUE);
}

/* ---- data handles on our buffers ---- */

typedef struct entity_reader {
	const char *seg[2];
	size_t len[2];
	int cur;
	size_t pos;
	bool crlf;
	bool lf_pending;	/* a CR was emitted, its LF is next */
} entity_reader;

/* entity_prev - the byte before the current position, across segments */
static char
entity_prev(const entity_reader *r)
{
	if (r->pos > 0)
		return r->seg[r->cur][r->pos - 1];
	if (r->cur == 1 && r->len[0] > 0)
		return r->seg[0][r->len[0] - 1];
	return '\0';
}

/* entity_read - copies a line at a time: a memchr finds its end, a memcpy
 * moves it, and the CR (when missing) and LF are put after it in the same
 * step, so a large entity costs about two library scans per line; a line
 * end that does not fit is finished by the next call */
static ssize_t
entity_read(void *handle, void *buffer, size_t size)
{
	entity_reader *r = handle;
	char *out = buffer;
	size_t done = 0;

	while (done < size && r->cur < 2) {
		size_t left = r->len[r->cur] - r->pos, run;
		const char *seg, *nl;
		bool has_cr;

		if (r->lf_pending) {
			out[done++] = '\n';
			r->lf_pending = false;
			r->pos++;	/* the LF the CR was put before */
			continue;
		}
		if (left == 0) {
			r->cur++;
			r->pos = 0;
			continue;
		}
		seg = r->seg[r->cur] + r->pos;
		run = left < size - done ? left : size - done;
		nl = r->crlf ? memchr(seg, '\n', run) : NULL;
		if (nl == NULL) {
			memcpy(out + done, seg, run);
			done += run;
			r->pos += run;
			continue;
		}
		run = (size_t)(nl - seg);
		has_cr = run > 0 ? seg[run - 1] == '\r' : entity_prev(r) == '\r';
		memcpy(out + done, seg, run);
		done += run;
		r->pos += run;
		/* at the LF: a CR first unless one is there already */
		if (!has_cr) {
			if (done == size)
				break;
			out[done++] = '\r';
			if (done == size) {
				r->lf_pending = true;
				break;
			}
		}
		if (done == size)
			break;
		out[done++] = '\n';
		r->pos++;
	}
	return (ssize_t)done;
}

static void
entity_release(void *handle)
{
	g_free(handle);
}

static struct gpgme_data_cbs entity_cbs = {
	entity_read, NULL, NULL, entity_release
};

ms_err
pgp_data_entity(const char *a, size_t alen, const char *b, size_t blen,
    bool crlf, gpgme_data_t *dh)
{
	entity_reader *r = g_new0(entity_reader, 1);

	r->seg[0] = a;
	r->len[0] = alen;
	r->seg[1] = b;
	r->len[1] = blen;
	r->crlf = crlf;
	if (gpgme_data_new_from_cbs(dh, &entity_cbs, r)) {
		g_free(r);
		return MS_INTERNAL;
	}
	return MS_OK;
}

/* ---- signing through our own event loop (pgp_sign_detached) ---- */

#define PGP_BULK_PIPE_BYTES (1024 * 1024)
/* GPGME 1.18 runs its trace formatter over every byte it asks the pipe to
 * take, written or not: blocks well below the pipe size keep that cost
 * once per byte where GPGME still writes (bulk_write does not) */
#define PGP_BULK_IO_BYTES (64 * 1024)
#define PGP_LOOP_FDS 16		/* GPGME registers 4 or 5 for a sign */

typedef struct loop_io {
	int fd;
	int dir;		/* 1: GPGME reads the fd, 0: it writes it */
	gpgme_io_cb_t fnc;
	void *fnc_data;
	bool used;
	bool bulk;		/* the operation's input: bulk_write fills it */
} loop_io;

typedef struct io_loop {
	loop_io io[PGP_LOOP_FDS];
	bool done;
	gpgme_error_t err;
	gpgme_data_t bulk_in;	/* the operation's input */
	bool bulk_taken;	/* its pipe was registered */
	char *buf;		/* PGP_BULK_IO_BYTES read from bulk_in */
	size_t len, off;	/* in buf, and written of it */
} io_loop;

static gpgme_error_t
loop_add(void *data, int fd, int dir, gpgme_io_cb_t fnc, void *fnc_data,
    void **tag)
{
	io_loop *l = data;

	for (int i = 0; i < PGP_LOOP_FDS; i++) {
		if (l->io[i].used)
			continue;
		l->io[i] = (loop_io){ fd, dir, fnc, fnc_data, true, false };
		*tag = &l->io[i];
		/* the data into gpg: a pipe that holds a large block, so gpg
		 * reads on without waiting for us (best effort: a smaller
		 * pipe only costs wake-ups) */
		if (dir == 0)
			(void)fcntl(fd, F_SETPIPE_SZ, PGP_BULK_PIPE_BYTES);
		/* the first pipe GPGME writes is the input (gpg's command
		 * pipe, also written, is registered only when gpg asks for
		 * something); written without blocking, so that a gpg that
		 * writes before it reads on never waits for us */
		if (dir == 0 && !l->bulk_taken) {
			int flags = fcntl(fd, F_GETFL);

			l->bulk_taken = true;
			l->io[i].bulk = flags >= 0 &&
			    fcntl(fd, F_SETFL, flags | O_NONBLOCK) == 0;
		}
		return 0;
	}
	return gpg_error(GPG_ERR_GENERAL);
}

static void
loop_remove(void *tag)
{
	((loop_io *)tag)->used = false;
}

static void
loop_event(void *data, gpgme_event_io_t type, void *type_data)
{
	io_loop *l = data;

	if (type == GPGME_EVENT_DONE) {
		l->done = true;
		l->err = ((gpgme_io_event_done_data_t)type_data)->err;
	}
}

/* bulk_write - the input into gpg's pipe through our own buffer, as
 * much as the pipe takes: GPGME 1.18's handler formats a trace of every
 * byte it writes, whether tracing is on or not (about 16 instructions a
 * byte, most of our CPU time for a large message); true when GPGME's
 * handler is to run instead: at the end of the input, where it reads
 * the end too and closes the pipe as it always does, and after an error,
 * which it then meets and handles as its own */
static bool
bulk_write(io_loop *l, loop_io *io)
{
	for (;;) {
		ssize_t n;

		if (l->off == l->len) {
			gpgme_ssize_t got = gpgme_data_read(l->bulk_in,
			    l->buf, PGP_BULK_IO_BYTES);

			if (got <= 0)
				return true;
			l->len = (size_t)got;
			l->off = 0;
		}
		n = write(io->fd, l->buf + l->off, l->len - l->off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			return false;	/* full: on at the next POLLOUT */
		if (n <= 0) {
			io->bulk = false;
			return true;
		}
		l->off += (size_t)n;
	}
}

/* loop_run - poll the registered descriptors and hand each ready one to
 * GPGME until it reports the operation done */
static gpgme_error_t
loop_run(io_loop *l)
{
	while (!l->done) {
		struct pollfd pfd[PGP_LOOP_FDS];
		loop_io *io[PGP_LOOP_FDS];
		nfds_t n = 0;

		for (int i = 0; i < PGP_LOOP_FDS; i++) {
			if (!l->io[i].used)
				continue;
			pfd[n].fd = l->io[i].fd;
			pfd[n].events = l->io[i].dir ? POLLIN : POLLOUT;
			pfd[n].revents = 0;
			io[n++] = &l->io[i];
		}
		if (n == 0)
			return gpg_error(GPG_ERR_GENERAL);	/* never hang */
		if (poll(pfd, n, -1) < 0) {
			if (errno == EINTR)
				continue;
			return gpg_error_from_syserror();
		}
		for (nfds_t i = 0; i < n && !l->done; i++) {
			/* an earlier handler may have removed this one */
			if (pfd[i].revents == 0 || !io[i]->used ||
			    io[i]->fd != pfd[i].fd)
				continue;
			if (io[i]->bulk && !bulk_write(l, io[i]))
				continue;
			(void)io[i]->fnc(io[i]->fnc_data, pfd[i].fd);
		}
	}
	return l->err;
}

gpgme_error_t
pgp_sign_detached(gpgme_ctx_t ctx, gpgme_data_t in, gpgme_data_t sig,
    gpgme_sig_mode_t mode)
{
	io_loop *l = g_new0(io_loop, 1);
	struct gpgme_io_cbs cbs = { loop_add, l, loop_remove, loop_event, l };
	struct gpgme_io_cbs none = { NULL, NULL, NULL, NULL, NULL };
	char size[24];
	gpgme_error_t gerr;

	l->bulk_in = in;
	l->buf = g_malloc(PGP_BULK_IO_BYTES);
	g_snprintf(size, sizeof(size), "%d", PGP_BULK_IO_BYTES);
	gerr = gpgme_data_set_flag(in, "io-buffer-size", size);
	if (!gerr) {
		gpgme_set_io_cbs(ctx, &cbs);
		gerr = gpgme_op_sign_start(ctx, in, sig, mode);
		if (!gerr)
			gerr = loop_run(l);
		if (gerr && !l->done)
			gpgme_cancel(ctx);
		gpgme_set_io_cbs(ctx, &none);
	}
	g_free(l->buf);
	g_free(l);
	return gerr;
}

static size_t output_sink_bytes;

static ssize_t
output_sink_write(void *handle, const void *buffer, size_t size)
{
	if (output_write(handle, buffer, size) != MS_OK) {
		errno = EIO;
		return -1;
	}
	output_sink_bytes += size;
	return (ssize_t)size;
}

size_t
pgp_output_bytes(void)
{
	return output_sink_bytes;
}

static struct gpgme_data_cbs output_cbs = {
	NULL, output_sink_write, NULL, NULL
};

ms_err
pgp_data_output(ms_output *out, gpgme_data_t *dh)
{
	return gpgme_data_new_from_cbs(dh, &output_cbs, out) ? MS_INTERNAL :
	    MS_OK;
}

typedef struct capped {
	GByteArray *buf;
	size_t cap;
	bool overflow;
} capped;

static GHashTable *capped_handles;

static ssize_t
capped_write(void *handle, const void *buffer, size_t size)
{
	capped *c = handle;

	if (c->buf->len + size > c->cap) {
		c->overflow = true;
		errno = EFBIG;
		return -1;
	}
	g_byte_array_append(c->buf, buffer, (guint)size);
	return (ssize_t)size;
}

static void
capped_release(void *handle)
{
	capped *c = handle;

	if (capped_handles != NULL)
		g_hash_table_remove(capped_handles, c);
	g_free(c);
}

static struct gpgme_data_cbs capped_cbs = {
	NULL, capped_write, NULL, capped_release
};

ms_err
pgp_data_capped(size_t cap, GByteArray **buf, gpgme_data_t *dh)
{
	capped *c = g_new0(capped, 1);

	*buf = g_byte_array_new();
	c->buf = *buf;
	c->cap = cap;
	if (gpgme_data_new_from_cbs(dh, &capped_cbs, c)) {
		g_free(c);
		g_byte_array_free(*buf, TRUE);
		*buf = NULL;
		return MS_INTERNAL;
	}
	if (capped_handles == NULL)
		capped_handles = g_hash_table_new(g_direct_hash,
		    g_direct_equal);
	g_hash_table_insert(capped_handles, c, *dh);
	return MS_OK;
}

bool
pgp_capped_overflow(gpgme_data_t dh)
{
	GHashTableIter it;
	gpointer key, value;

	if (capped_handles == NULL)
		return false;
	g_hash_table_iter_init(&it, capped_handles);
	while (g_hash_table_iter_next(&it, &key, &value))
		if (value == dh)
			return ((capped *)key)->overflow;
	return false;
}

char *
pgp_unicode_address(const ms_addr *addr)
{
	char *domain;
	char *text = NULL;

	if (strstr(addr->domain, "xn--") == NULL)
		return NULL;
	domain = g_hostname_to_unicode(addr->domain);
	if (domain != NULL && strcmp(domain, addr->domain) != 0)
		text = g_strdup_printf("%s@%s", addr->local, domain);
	g_free(domain);
	return text;
}
