/*
 * mailseal-init - make a store in one command (mailseal-init(1)): the
 * directory for the user the programs run as, every directory they use,
 * the secrets the pdf method needs, a commented settings/global.conf, the
 * OpenPGP keyring and, when asked, the built-in CA.  What exists is kept,
 * so a second run changes nothing; a store of another user is refused.
 *
 * Run as root for another user, it makes the store's directory, gives it
 * to the user and drops to that user for everything else: every file is
 * then made by its owner, with nothing to chown afterwards.
 */
#include "audit.h"
#include "ca.h"
#include "cert.h"
#include "diag.h"
#include "init.h"
#include "mslimits.h"
#include "pdfpass.h"
#include "pgp.h"
#include "reply.h"
#include "ritual.h"
#include "settings.h"
#include "smsjob.h"
#include "store.h"

#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const char usage[] =
"usage: mailseal-init [--store DIR] [-u NAME | --user NAME] [--with-ca NAME]\n"
"       mailseal-init -h | --version\n";

static const char *opt_user, *opt_with_ca;

static struct poptOption options[] = {
	{ "user", 'u', POPT_ARG_STRING, &opt_user, 0, NULL, NULL },
	{ "with-ca", '\0', POPT_ARG_STRING, &opt_with_ca, 0, NULL, NULL },
	POPT_TABLEEND
};

/* the directories the programs make on first use, made up front; the
 * rest of the layout is store_open's */
static const char *const directories[] = { "pdf", "pdf/static", "pdf/otp",
    "spool", SMSJOB_DIR, SMSJOB_DONE_DIR };

/* the secrets mailseal-check asks for when a setting needs them: made
 * now, so switching the pdf method on needs no step by hand */
static const struct {
	const char *subdir, *name;
	size_t len;
} secrets[] = {
	{ "pdf", "random.key", PDFPASS_KEY_MIN },
	{ "pdf", "reply.key", REPLY_KEY_LEN },
};

/* made - tell what was made, one line on standard output */
static void
made(const char *what)
{
	printf("made %s\n", what);
}

/* become - drop root for the store's user, for good */
static void
become(const char *name, uid_t uid, gid_t gid)
{
	if (setgroups(1, &gid) != 0 || setgid(gid) != 0 || setuid(uid) != 0)
		diag_fatal(EXIT_TEMPFAIL, "cannot become %s: %s", name,
		    strerror(errno));
	/* setuid(0) would succeed again if root had been kept */
	if (uid != 0 && setuid(0) == 0)
		diag_fatal(EXIT_TEMPFAIL, "root privileges not dropped");
}

/* keyring - the store's OpenPGP keyring, made as pgp-keys makes it */
static ms_err
keyring(ms_store *store)
{
	gpgme_ctx_t pgp = NULL;
	ms_err err;

	char *path = store_path(store, "gnupg", NULL);
	struct stat st;
	bool there = lstat(path, &st) == 0;

	g_free(path);
	/* one that is there is kept as it is, its configuration too */
	if (there)
		return MS_OK;
	err = pgp_open(store, true, NULL, &pgp);
	pgp_close(pgp);
	if (err != MS_OK)
		return err;
	made("gnupg");
	return audit_record(store, "init keyring gnupg");
}

/* builtin_ca - the CA smime-ca init would make, unless there is one */
static ms_err
builtin_ca(ms_store *store, const char *name)
{
	char *fpr = NULL, *line;
	ms_err err;

	if (store_exists(store, "ca", "state"))
		return MS_OK;
	err = crypto_init();
	if (err == MS_OK)
		err = ca_init(store, name, "rsa3072", ROOT_DAYS_DEFAULT, NULL,
		    &fpr);
	if (err != MS_OK)
		return err;
	line = g_strdup_printf("ca %s", fpr);
	made(line);
	g_free(line);
	g_free(fpr);
	return MS_OK;
}

/* fill - everything inside the open store, lock held */
static ms_err
fill(ms_store *store)
{
	ms_settings *settings = NULL;
	ms_err err = MS_OK;
	bool new;

	for (size_t i = 0; err == MS_OK && i < G_N_ELEMENTS(directories);
	    i++) {
		err = store_init_dir(store, directories[i], &new);
		if (err == MS_OK && new)
			made(directories[i]);
	}
	for (size_t i = 0; err == MS_OK && i < G_N_ELEMENTS(secrets); i++) {
		err = store_init_secret(store, secrets[i].subdir,
		    secrets[i].name, secrets[i].len, &new);
		if (err == MS_OK && new) {
			char *what = g_strdup_printf("%s/%s",
			    secrets[i].subdir, secrets[i].name);

			made(what);
			g_free(what);
		}
	}
	if (err == MS_OK)
		err = store_init_file(store, "settings", "global.conf",
		    store_init_settings, &new);
	if (err == MS_OK && new)
		made("settings/global.conf");
	/* the settings as the programs will read them, the file kept or
	 * made: a store that mail would defer on is not ready */
	if (err == MS_OK)
		err = settings_load(store, NULL, &settings);
	settings_free(settings);
	if (err == MS_OK)
		err = keyring(store);
	if (err == MS_OK && opt_with_ca != NULL)
		err = builtin_ca(store, opt_with_ca);
	return err;
}

int
main(int argc, char **argv)
{
	static const ms_program prog = { usage, options };
	poptContext ctx = ritual_begin(argc, argv, &prog);
	const char **args = poptGetArgs(ctx);
	const char *path = store_locate(ritual_opts.store);
	const char *name;
	uid_t uid = geteuid();
	gid_t gid = getegid();
	ms_store *store = NULL;
	bool new_root = false;
	ms_err err;

	if (args != NULL && args[0] != NULL)
		ritual_usage_error("mailseal-init takes no operands");
	if (opt_with_ca != NULL && !ca_text_ok(opt_with_ca, NAME_MAX_CHARS))
		ritual_usage_error("the CA's NAME must be 1 to 64 printable "
		    "characters");
	if (opt_user != NULL) {
		struct passwd *pw = getpwnam(opt_user);

		if (pw == NULL)
			diag_fatal(EXIT_CONFIG, "no user %s: make it first "
			    "(adduser --system)", opt_user);
		uid = pw->pw_uid;
		gid = pw->pw_gid;
		name = opt_user;
	} else
		name = "the current user";
	if (uid != geteuid() && geteuid() != 0)
		diag_fatal(EXIT_CONFIG, "only root makes a store for another "
		    "user: run it as root or as %s", name);
	err = store_init_root(path, uid, gid, &new_root);
	if (err == MS_OK && uid != geteuid())
		become(name, uid, gid);
	if (err == MS_OK)
		err = store_open(path, true, &store);
	if (err == MS_OK)
		err = store_lock(store, LIMIT_LOCK_TIMEOUT_MS);
	if (err == MS_OK && new_root) {
		made(store_root(store));
		err = audit_record(store, "init store for uid %lu",
		    (unsigned long)uid);
	}
	if (err == MS_OK)
		err = fill(store);
	store_close(store);
	/* never under pipe(8): a store that cannot be made as asked is a
	 * configuration error (78), apart from a retry (75) */
	ritual_exit_status(ctx, ms_exit_code_offline(err));
}
