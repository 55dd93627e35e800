/*
 * init.c - make a store ready for its user (see init.h).  Everything
 * that exists is kept as it is: a second run changes nothing, and a
 * secret is never replaced, since mail sealed with it (PDF passwords,
 * reply links) would stop opening.
 */
#include "init.h"
#include "audit.h"
#include "diag.h"

#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

const char store_init_settings[] =
"# settings/global.conf - the organisation's settings (mailseal-settings(5)).\n"
"#\n"
"# Every line here is a comment: each key has its default, shown as\n"
"# \"# key = default\".  Remove the \"# \" in front of a key and change its\n"
"# value to set it; settings/domain/DOMAIN.conf and\n"
"# settings/user/ADDRESS.conf set keys for one domain or address.\n"
"# mailseal-check finds a misspelt key or a bad value before mail flows.\n"
"#\n"
"# How mail is protected\n"
"# encrypt-mode = allow\n"
"# methods = smime pgp\n"
"# sign = none\n"
"# pgp-format = mime\n"
"# pgp-hide-recipients = yes\n"
"# encrypt-trigger-subject = [encrypt]\n"
"#\n"
"# The pdf method (pdfwrap(1)): pdf/random.key and pdf/reply.key are made\n"
"# already\n"
"# pdf-password-mode = none\n"
"# pdf-attach-original = no\n"
"# pdf-reply-expiry = 2592000\n"
"#\n"
"# Who is inside (mailseal-filter(1))\n"
"# trust-envelope-sender = no\n"
"# encrypt-internal = no\n"
"#\n"
"# Certificate revocation (crl-sync(1))\n"
"# revocation = soft\n"
"# revocation-grace = 86400\n"
"# crl-jobs = 4\n"
"# crl-timeout = 120\n"
"# crl-max-size = 64M\n"
"#\n"
"# Data loss prevention (dlp-scan(1)) and the quarantine\n"
"# dlp = yes\n"
"# dlp-policies = default\n"
"# dlp-time-limit = 60\n"
"# quarantine-retention = 1209600\n"
"#\n"
"# Limits (mailseal(7)) and logging\n"
"# limit-message-size = 64M\n"
"# limit-header-section = 100K\n"
"# limit-header-field = 64K\n"
"# limit-mime-depth = 32\n"
"# limit-mime-parts = 1000\n"
"# time-limit = 240\n"
"# syslog = yes\n";

/* owned_dir - fd is a directory of uid's that only its owner may write */
static ms_err
owned_dir(int fd, const char *path, uid_t uid)
{
	struct stat st;

	if (fstat(fd, &st) != 0) {
		diag_error("%s: %s", path, strerror(errno));
		return MS_TEMP;
	}
	if (st.st_uid != uid) {
		diag_error("%s belongs to uid %lu, not to the store's user "
		    "(uid %lu): give another --store, or --user of its owner",
		    path, (unsigned long)st.st_uid, (unsigned long)uid);
		return MS_CONFIG;
	}
	if ((st.st_mode & (S_IWGRP | S_IWOTH)) != 0) {
		diag_error("%s is writable by group or others: chmod go-w it",
		    path);
		return MS_CONFIG;
	}
	return MS_OK;
}

/* open_dir - the directory path itself, never a link to elsewhere */
static int
open_dir(const char *path)
{
	int fd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	int saved = errno;

	if (fd < 0) {
		diag_error("%s: %s", path, saved == ENOTDIR || saved == ELOOP ?
		    "not a directory" : strerror(saved));
		errno = saved;
	}
	return fd;
}

ms_err
store_init_root(const char *path, uid_t uid, gid_t gid, bool *made)
{
	ms_err err;
	int fd;

	*made = false;
	if (mkdir(path, 0700) == 0)
		*made = true;
	else if (errno != EEXIST) {
		diag_error("cannot create %s: %s", path, strerror(errno));
		return MS_TEMP;
	}
	fd = open_dir(path);
	if (fd < 0)
		return errno == ENOTDIR || errno == ELOOP ? MS_CONFIG : MS_TEMP;
	/* only a directory made just now changes hands: an existing one
	 * is some user's, and is checked as it is */
	if (*made && fchown(fd, uid, gid) != 0) {
		diag_error("cannot give %s to uid %lu: %s", path,
		    (unsigned long)uid, strerror(errno));
		close(fd);
		return MS_TEMP;
	}
	err = owned_dir(fd, path, uid);
	close(fd);
	return err;
}

ms_err
store_init_dir(ms_store *store, const char *relative, bool *made)
{
	char *path = store_path(store, relative, NULL);
	ms_err err;
	int fd;

	*made = false;
	if (mkdir(path, 0700) == 0)
		*made = true;
	else if (errno != EEXIST) {
		diag_error("cannot create %s: %s", path, strerror(errno));
		g_free(path);
		return MS_TEMP;
	}
	fd = open_dir(path);
	if (fd < 0) {
		g_free(path);
		return errno == ENOTDIR || errno == ELOOP ? MS_CONFIG : MS_TEMP;
	}
	err = owned_dir(fd, path, geteuid());
	close(fd);
	g_free(path);
	if (err == MS_OK && *made)
		err = audit_record(store, "init directory %s", relative);
	return err;
}

/* present - subdir/name is there (any kind of entry): MS_OK, MS_NOTFOUND */
static ms_err
present(const ms_store *store, const char *subdir, const char *name)
{
	char *path = store_path(store, subdir, name);
	struct stat st;
	ms_err err = MS_OK;

	if (lstat(path, &st) != 0) {
		if (errno == ENOENT)
			err = MS_NOTFOUND;
		else {
			diag_error("%s: %s", path, strerror(errno));
			err = MS_TEMP;
		}
	}
	g_free(path);
	return err;
}

ms_err
store_init_secret(ms_store *store, const char *subdir, const char *name,
    size_t len, bool *made)
{
	unsigned char secret[STORE_INIT_SECRET_MAX];
	ms_err err;

	*made = false;
	if (len == 0 || len > sizeof(secret))
		diag_fatal(EXIT_TEMPFAIL, "internal error: secret size");
	err = present(store, subdir, name);
	if (err != MS_NOTFOUND)
		return err;
	if (sodium_init() < 0) {
		diag_error("libsodium cannot start");
		return MS_INTERNAL;
	}
	randombytes_buf(secret, len);
	err = store_write(store, subdir, name, secret, len, 0600);
	sodium_memzero(secret, sizeof(secret));
	if (err != MS_OK)
		return err;
	*made = true;
	return audit_record(store, "init secret %s/%s", subdir, name);
}

ms_err
store_init_file(ms_store *store, const char *subdir, const char *name,
    const char *text, bool *made)
{
	ms_err err;

	*made = false;
	err = present(store, subdir, name);
	if (err != MS_NOTFOUND)
		return err;
	err = store_write(store, subdir, name, text, strlen(text), 0600);
	if (err != MS_OK)
		return err;
	*made = true;
	return audit_record(store, "init file %s/%s", subdir, name);
}
