/*
 * pgp-keys - the store's OpenPGP keyring: import, list, find, remove,
 * trust, generate and export keys (pgp-keys(1)).  Imports take secret key
 * material only when asked with --secret (KEY-3: never from the network)
 * and are capped (KEY-5); keys are named by full fingerprint (KEY-1).
 */
#include "audit.h"
#include "diag.h"
#include "expiry.h"
#include "fetch.h"
#include "jsonout.h"
#include "pgp.h"
#include "pgpdata.h"
#include "ritual.h"
#include "settings.h"
#include "store.h"
#include "mslimits.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

static const char usage[] =
"usage: pgp-keys [--store DIR] import [--for ADDRESS] FILE | -\n"
"       pgp-keys [--store DIR] import --secret [--passphrase-file FILE]\n"
"                [--for ADDRESS] FILE | -\n"
"       pgp-keys [--store DIR] list [--json] [--expiring DAYS]\n"
"       pgp-keys [--store DIR] find ADDRESS\n"
"       pgp-keys [--store DIR] remove FINGERPRINT\n"
"       pgp-keys [--store DIR] trust FINGERPRINT LEVEL\n"
"       pgp-keys [--store DIR] generate [--key ed25519 | rsa3072]\n"
"                [--passphrase-file FILE] ADDRESS\n"
"       pgp-keys [--store DIR] export FINGERPRINT\n"
"       pgp-keys [--store DIR] lookup ADDRESS\n"
"       pgp-keys -h | --version\n";

#define KEY_LIFETIME (2 * 365 * 86400)		/* two years */

static const char *opt_for, *opt_key, *opt_passphrase_file, *opt_expiring;
static int opt_json, opt_secret;

static struct poptOption options[] = {
	{ "for", '\0', POPT_ARG_STRING, &opt_for, 0, NULL, NULL },
	{ "json", '\0', POPT_ARG_NONE, &opt_json, 0, NULL, NULL },
	{ "expiring", '\0', POPT_ARG_STRING, &opt_expiring, 0, NULL, NULL },
	{ "key", '\0', POPT_ARG_STRING, &opt_key, 0, NULL, NULL },
	{ "secret", '\0', POPT_ARG_NONE, &opt_secret, 0, NULL, NULL },
	{ "passphrase-file", '\0', POPT_ARG_STRING, &opt_passphrase_file, 0,
	  NULL, NULL },
	POPT_TABLEEND
};

/* fingerprint_ok - 40 (v4) or 64 (v5) hex digits */
static bool
fingerprint_ok(const char *fpr)
{
	size_t len = strlen(fpr);

	if (len != 40 && len != 64)
		return false;
	for (size_t i = 0; i < len; i++)
		if (!g_ascii_isxdigit(fpr[i]))
			return false;
	return true;
}

static void
one_address(const char *text, ms_addr *addr)
{
	const char *why;

	if (addr_parse_str(text, addr, &why) != MS_OK)
		ritual_usage_error("invalid address: %s", why);
}

/* ---- trust: ownertrust through gpg's key editor ---- */

typedef struct trust_dialog {
	const char *value;	/* 1..5 as gpg numbers them */
	int prompts;
} trust_dialog;

static gpgme_error_t
trust_cb(void *opaque, const char *keyword, const char *args, int fd)
{
	trust_dialog *d = opaque;
	const char *reply;

	if (fd < 0)
		return 0;	/* a status line, no answer wanted */
	if (strcmp(keyword, "GET_LINE") == 0 &&
	    strcmp(args, "keyedit.prompt") == 0)
		reply = d->prompts++ == 0 ? "trust" : "quit";
	else if (strcmp(keyword, "GET_LINE") == 0 &&
	    strcmp(args, "edit_ownertrust.value") == 0)
		reply = d->value;
	else if (strcmp(keyword, "GET_BOOL") == 0 &&
	    (strcmp(args, "edit_ownertrust.set_ultimate.okay") == 0 ||
	    strcmp(args, "keyedit.save.okay") == 0))
		reply = "Y";
	else
		return gpg_error(GPG_ERR_CANCELED);	/* unknown dialog */
	if (d->prompts > 3)
		return gpg_error(GPG_ERR_CANCELED);
	if (gpgme_io_writen(fd, reply, strlen(reply)) != 0 ||
	    gpgme_io_writen(fd, "\n", 1) != 0)
		return gpg_error_from_syserror();
	return 0;
}

static const char *const trust_levels[] = {
	"undefined", "never", "marginal", "full", "ultimate", NULL
};

/* set_trust - the owner trust of a key, recorded in the audit log */
static ms_err
set_trust(ms_store *store, gpgme_ctx_t ctx, const char *fpr,
    const char *level)
{
	gpgme_key_t key = NULL;
	gpgme_data_t out = NULL;
	trust_dialog d = { NULL, 0 };
	char value[2];
	gpgme_error_t gerr;
	ms_err err;

	for (int i = 0; trust_levels[i] != NULL; i++)
		if (strcmp(level, trust_levels[i]) == 0) {
			value[0] = (char)('1' + i);
			value[1] = '\0';
			d.value = value;
		}
	if (d.value == NULL)
		ritual_usage_error("LEVEL is undefined, never, marginal, full "
		    "or ultimate");
	gerr = gpgme_get_key(ctx, fpr, &key, 0);
	if (gerr)
		return pgp_error(gerr, "trust");
	gerr = gpgme_data_new(&out);
	if (!gerr)
		gerr = gpgme_op_interact(ctx, key, 0, trust_cb, &d, out);
	err = gerr ? pgp_error(gerr, "trust") : MS_OK;
	gpgme_data_release(out);
	gpgme_key_unref(key);
	if (err == MS_OK)
		err = audit_record(store, "trust openpgp-key %s %s", fpr,
		    level);
	return err;
}

/* ---- import ---- */

/* one key an import brought: GnuPG reports a key pair's public and
 * secret parts apart; the copy has each fingerprint once */
typedef struct imported {
	char *fpr;
	unsigned int status;	/* GPGME_IMPORT_* bits of all its reports */
} imported;

static void
imported_clear(gpointer data)
{
	g_free(((imported *)data)->fpr);
}

/* imports_copy - the keys imported without error, in the order GnuPG
 * reports them; the result belongs to the context and goes with the
 * next operation on it */
static GArray *
imports_copy(gpgme_import_result_t result)
{
	GArray *keys = g_array_new(FALSE, FALSE, sizeof(imported));
	unsigned int bits;
	guint i;

	g_array_set_clear_func(keys, imported_clear);
	for (gpgme_import_status_t st = result->imports; st != NULL;
	    st = st->next) {
		if (st->result != 0 || st->fpr == NULL)
			continue;
		for (i = 0; i < keys->len; i++)
			if (strcmp(g_array_index(keys, imported, i).fpr,
			    st->fpr) == 0)
				break;
		/* the report of a secret part says NEW for a secret new to
		 * the keyring, even when the public key was here before */
		bits = (st->status & GPGME_IMPORT_SECRET) ?
		    GPGME_IMPORT_SECRET : st->status;
		if (i < keys->len)
			g_array_index(keys, imported, i).status |= bits;
		else {
			imported one = { g_strdup(st->fpr), bits };

			g_array_append_val(keys, one);
		}
	}
	return keys;
}

/* audit_imports - one audit line for each key the import added or
 * changed (origin: file, wkd, ks) */
static ms_err
audit_imports(ms_store *store, GArray *keys, const char *origin)
{
	ms_err err = MS_OK;

	for (guint i = 0; i < keys->len && err == MS_OK; i++) {
		const imported *key = &g_array_index(keys, imported, i);

		if (key->status != 0)
			err = audit_record(store, "import openpgp-key %s "
			    "from %s%s", key->fpr, origin,
			    (key->status & GPGME_IMPORT_NEW) ? "" :
			    " (update)");
	}
	return err;
}

static ms_err
read_input(const char *path, GByteArray **out)
{
	FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "rb");
	GByteArray *buf;

	*out = NULL;
	if (f == NULL) {
		diag_error("cannot open %s: %s", path, strerror(errno));
		return MS_DATA;
	}
	buf = g_byte_array_new();
	for (;;) {
		guint8 chunk[65536];
		size_t n = fread(chunk, 1, sizeof(chunk), f);

		g_byte_array_append(buf, chunk, (guint)n);
		if (buf->len > PGP_IMPORT_MAX) {
			diag_error("%s: larger than the import limit", path);
			break;
		}
		if (n < sizeof(chunk))
			break;
	}
	if (ferror(f) || buf->len > PGP_IMPORT_MAX) {
		if (ferror(f))
			diag_error("read %s: %s", path, strerror(errno));
		if (f != stdin)
			fclose(f);
		g_byte_array_free(buf, TRUE);
		return MS_DATA;
	}
	if (f != stdin)
		fclose(f);
	*out = buf;
	return MS_OK;
}

/* engine_version - the version of the keyring's GnuPG, or "?" */
static const char *
engine_version(void)
{
	gpgme_engine_info_t info = NULL;

	if (gpgme_get_engine_info(&info) == 0)
		for (; info != NULL; info = info->next)
			if (info->protocol == GPGME_PROTOCOL_OpenPGP &&
			    info->version != NULL)
				return info->version;
	return "?";
}

/* name_unusable - GnuPG found or imported no key in data: when data is
 * key material of a kind GnuPG cannot read (a v6 key, a v5 key, an
 * algorithm it does not know), say what it is rather than "no key";
 * false when it is not */
static bool
name_unusable(const GByteArray *data)
{
	pgp_material material;
	char *what;

	pgp_material_identify(data->data, data->len, &material);
	if (material.kind == PGP_MATERIAL_NONE ||
	    material.kind == PGP_MATERIAL_V4)
		return false;
	what = pgp_material_text(&material);
	diag_error("%s: not supported by this GnuPG (%s); use %s", what,
	    engine_version(), material.kind == PGP_MATERIAL_V4_ALGORITHM ?
	    "a key of an algorithm it knows (RSA, or the Ed25519 and "
	    "Curve25519 keys gpg makes)" : "a v4 key");
	g_free(what);
	return true;
}

/* inspect - KEY-3/KEY-5: list the keys in the data without importing:
 * refuse secret keys unless secret allows them, and oversized sets */
static ms_err
inspect(gpgme_ctx_t ctx, GByteArray *data, bool secret)
{
	gpgme_data_t dh;
	gpgme_key_t key;
	gpgme_error_t gerr;
	int keys = 0;
	ms_err err = MS_OK;

	if (gpgme_data_new_from_mem(&dh, (const char *)data->data, data->len,
	    0))
		return MS_INTERNAL;
	gerr = gpgme_op_keylist_from_data_start(ctx, dh, 0);
	while (!gerr && err == MS_OK) {
		int uids = 0;

		gerr = gpgme_op_keylist_next(ctx, &key);
		if (gerr)
			break;
		keys++;
		for (gpgme_user_id_t u = key->uids; u != NULL; u = u->next)
			uids++;
		if (key->secret && !secret) {
			diag_error("the data holds a secret key: refused "
			    "(import --secret takes key pairs)");
			err = MS_DATA;
		} else if (keys > PGP_IMPORT_KEYS_MAX ||
		    uids > PGP_IMPORT_UIDS_MAX) {
			diag_error("too many keys or user IDs: refused");
			err = MS_DATA;
		}
		gpgme_key_unref(key);
	}
	gpgme_op_keylist_end(ctx);
	gpgme_data_release(dh);
	if (err == MS_OK && keys == 0) {
		if (!name_unusable(data))
			diag_error("no OpenPGP key GnuPG can use in the data");
		err = MS_DATA;
	} else if (err == MS_OK && gpgme_err_code(gerr) != GPG_ERR_EOF) {
		(void)pgp_error(gerr, "key data");
		err = MS_DATA;
	}
	return err;
}

/* unlock_secret - sign a few bytes with the secret key fpr, so that the
 * agent asks for its passphrase (from --passphrase-file) now: GnuPG
 * imports a protected key unattended without checking it */
static gpgme_error_t
unlock_secret(gpgme_ctx_t ctx, const char *fpr)
{
	gpgme_key_t key = NULL;
	gpgme_data_t in = NULL, out = NULL;
	gpgme_error_t gerr;

	gerr = gpgme_get_key(ctx, fpr, &key, 1);
	if (!gerr) {
		gpgme_signers_clear(ctx);
		gerr = gpgme_signers_add(ctx, key);
	}
	if (!gerr)
		gerr = gpgme_data_new_from_mem(&in, "mailseal", 8, 0);
	if (!gerr)
		gerr = gpgme_data_new(&out);
	if (!gerr)
		gerr = gpgme_op_sign(ctx, in, out, GPGME_SIG_MODE_DETACH);
	gpgme_signers_clear(ctx);
	gpgme_data_release(in);
	gpgme_data_release(out);
	if (key != NULL)
		gpgme_key_unref(key);
	return gerr;
}

/* check_secret_keys - every secret key the import brought must open with
 * the passphrase given; otherwise the keys that were new are taken out
 * again and the import is refused */
static ms_err
check_secret_keys(gpgme_ctx_t ctx, GArray *keys)
{
	gpgme_error_t gerr = 0;
	ms_err err = MS_OK;

	for (guint i = 0; i < keys->len && !gerr; i++)
		if (g_array_index(keys, imported, i).status &
		    GPGME_IMPORT_SECRET)
			gerr = unlock_secret(ctx,
			    g_array_index(keys, imported, i).fpr);
	switch (gpgme_err_code(gerr)) {
	case GPG_ERR_NO_ERROR:
		break;
	case GPG_ERR_BAD_PASSPHRASE:
	case GPG_ERR_NO_PASSPHRASE:
	case GPG_ERR_CANCELED:
		diag_error("the secret key does not open with the passphrase "
		    "given (--passphrase-file): refused");
		err = MS_DATA;
		break;
	default:
		(void)pgp_error(gerr, "secret key");
		diag_error("the secret key cannot be used to sign: refused");
		err = MS_DATA;
		break;
	}
	for (guint i = 0; err != MS_OK && i < keys->len; i++) {
		const imported *one = &g_array_index(keys, imported, i);
		gpgme_key_t key = NULL;

		if ((one->status & GPGME_IMPORT_NEW) &&
		    !gpgme_get_key(ctx, one->fpr, &key, 0)) {
			if (gpgme_op_delete_ext(ctx, key,
			    GPGME_DELETE_ALLOW_SECRET | GPGME_DELETE_FORCE))
				diag_warn("a refused key could not be taken "
				    "out of the keyring again");
			gpgme_key_unref(key);
		}
	}
	return err;
}

static ms_err
cmd_import(ms_admin *admin, const char **args)
{
	gpgme_ctx_t ctx = admin->data;
	GByteArray *data;
	gpgme_data_t dh;
	gpgme_import_result_t result;
	gpgme_error_t gerr;
	GPtrArray *fprs;
	GArray *keys;
	ms_addr addr;
	char *filter = NULL;
	ms_err err;

	if (args[0] == NULL || args[1] != NULL)
		ritual_usage_error("import needs one FILE (or -)");
	if (opt_passphrase_file != NULL && !opt_secret)
		ritual_usage_error("import --passphrase-file needs --secret");
	if (opt_for != NULL) {
		char *unicode;

		one_address(opt_for, &addr);
		/* only user IDs for that address survive the import, its IDN
		 * domain written either way */
		unicode = pgp_unicode_address(&addr);
		filter = unicode != NULL ?
		    g_strdup_printf("keep-uid=mbox = %s || mbox = %s",
		    addr.text, unicode) :
		    g_strdup_printf("keep-uid=mbox = %s", addr.text);
		g_free(unicode);
		addr_clear(&addr);
	}
	err = read_input(args[0], &data);
	if (err == MS_OK)
		err = inspect(ctx, data, opt_secret);
	if (err != MS_OK) {
		if (data)
			g_byte_array_free(data, TRUE);
		g_free(filter);
		return err;
	}
	gerr = gpgme_set_ctx_flag(ctx, "key-origin", "file");
	if (!gerr && filter != NULL)
		gerr = gpgme_set_ctx_flag(ctx, "import-filter", filter);
	if (!gerr)
		gerr = gpgme_data_new_from_mem(&dh, (const char *)data->data,
		    data->len, 0);
	if (!gerr) {
		gerr = gpgme_op_import(ctx, dh);
		gpgme_data_release(dh);
	}
	g_free(filter);
	if (gerr) {
		g_byte_array_free(data, TRUE);
		return pgp_error(gerr, "import");
	}
	result = gpgme_op_import_result(ctx);
	if (result == NULL || (result->secret_imported > 0 && !opt_secret)) {
		g_byte_array_free(data, TRUE);
		diag_error("import refused");
		return MS_DATA;
	}
	if (result->imports == NULL) {
		if (!name_unusable(data))
			diag_error("no key was imported (no user ID left?)");
		g_byte_array_free(data, TRUE);
		return MS_DATA;
	}
	g_byte_array_free(data, TRUE);
	keys = imports_copy(result);
	if (opt_secret)
		err = check_secret_keys(ctx, keys);
	if (err == MS_OK)
		err = audit_imports(admin->store, keys, "file");
	/* new keys become trusted; a key already here keeps the trust the
	 * administrator gave it */
	fprs = g_ptr_array_new_with_free_func(g_free);
	for (guint i = 0; i < keys->len && err == MS_OK; i++) {
		const imported *one = &g_array_index(keys, imported, i);

		if (one->status & GPGME_IMPORT_NEW)
			g_ptr_array_add(fprs, g_strdup(one->fpr));
		else
			printf("key %s\n", one->fpr);
	}
	g_array_free(keys, TRUE);
	/* keys imported by the administrator are trusted (mailseal-store(5)) */
	for (guint i = 0; i < fprs->len && err == MS_OK; i++) {
		const char *fpr = g_ptr_array_index(fprs, i);

		err = set_trust(admin->store, ctx, fpr, "ultimate");
		if (err == MS_OK)
			printf("key %s\n", fpr);
	}
	g_ptr_array_free(fprs, TRUE);
	return err;
}

/* ---- list, find, remove, export ---- */

static const char *
trust_name(gpgme_validity_t v)
{
	switch (v) {
	case GPGME_VALIDITY_NEVER:
		return "never";
	case GPGME_VALIDITY_MARGINAL:
		return "marginal";
	case GPGME_VALIDITY_FULL:
		return "full";
	case GPGME_VALIDITY_ULTIMATE:
		return "ultimate";
	default:
		return "undefined";
	}
}

static ms_err
cmd_list(ms_admin *admin, const char **args)
{
	gpgme_ctx_t ctx = admin->data;
	GHashTable *secret = g_hash_table_new_full(g_str_hash, g_str_equal,
	    g_free, NULL);
	json_t *json = json_array();
	unsigned long window = EXPIRY_DAYS_DEFAULT;
	gpgme_key_t key;
	gpgme_error_t gerr;

	if (args[0] != NULL)
		ritual_usage_error("list takes no operands");
	if (opt_expiring != NULL && !expiry_days_parse(opt_expiring,
	    &window))
		ritual_usage_error("--expiring takes a number of days from 0 "
		    "to %d", EXPIRY_DAYS_MAX);
	gerr = gpgme_op_keylist_start(ctx, NULL, 1);
	while (!gerr && !(gerr = gpgme_op_keylist_next(ctx, &key))) {
		if (key->fpr)
			g_hash_table_add(secret, g_strdup(key->fpr));
		gpgme_key_unref(key);
	}
	gpgme_op_keylist_end(ctx);
	if (gpgme_err_code(gerr) != GPG_ERR_EOF) {
		g_hash_table_destroy(secret);
		json_decref(json);
		return pgp_error(gerr, "key listing");
	}
	gerr = gpgme_op_keylist_start(ctx, NULL, 0);
	while (!gerr && !(gerr = gpgme_op_keylist_next(ctx, &key))) {
		time_t end = pgp_key_end(key);
		char *expires;
		bool has_secret = key->fpr &&
		    g_hash_table_contains(secret, key->fpr);
		const char *why = pgp_key_flag_text(pgp_key_verdict(key,
		    PGP_PURPOSE_ENCRYPT, NULL));
		const char *status = pgp_key_status(key, window);

		if (opt_expiring != NULL &&
		    !expiry_within(end, time(NULL), window)) {
			gpgme_key_unref(key);
			continue;
		}
		expires = expiry_date(end);
		if (opt_json) {
			json_t *object = json_object(), *list = json_array();
			GPtrArray *addrs = pgp_key_addresses(key);

			for (guint a = 0; a < addrs->len; a++)
				json_array_append_new(list, jsonout_string(
				    g_ptr_array_index(addrs, a)));
			g_ptr_array_free(addrs, TRUE);
			json_object_set_new(object, "fingerprint",
			    jsonout_string(key->fpr));
			json_object_set_new(object, "addresses", list);
			json_object_set_new(object, "expires",
			    jsonout_string(expires));
			json_object_set_new(object, "trust",
			    jsonout_string(trust_name(key->owner_trust)));
			json_object_set_new(object, "secret",
			    json_boolean(has_secret));
			json_object_set_new(object, "usable_for_encryption",
			    json_boolean(why == NULL));
			json_object_set_new(object, "status",
			    jsonout_string(status));
			json_array_append_new(json, object);
		} else {
			char *addrs = pgp_key_addresses_text(key);

			printf("%s\t%s\t%s\t%s\t%s\t%s\n", key->fpr, expires,
			    addrs, status, trust_name(key->owner_trust),
			    has_secret ? "secret" : "-");
			g_free(addrs);
		}
		g_free(expires);
		gpgme_key_unref(key);
	}
	gpgme_op_keylist_end(ctx);
	g_hash_table_destroy(secret);
	if (gpgme_err_code(gerr) != GPG_ERR_EOF) {
		json_decref(json);
		return pgp_error(gerr, "key listing");
	}
	if (opt_json) {
		char *text = jsonout_list(json);
		ms_err err = ritual_output(text, strlen(text));

		g_free(text);
		json_decref(json);
		return err;
	}
	json_decref(json);
	return MS_OK;
}

static ms_err
cmd_find(ms_admin *admin, const char **args)
{
	gpgme_ctx_t ctx = admin->data;
	GPtrArray *keys;
	ms_addr addr;
	ms_err err;

	if (args[0] == NULL || args[1] != NULL)
		ritual_usage_error("find needs exactly one ADDRESS");
	one_address(args[0], &addr);
	err = pgp_find_keys(ctx, &addr, PGP_PURPOSE_ENCRYPT, &keys, NULL);
	for (guint i = 0; err == MS_OK && i < keys->len; i++)
		printf("%s\n", ((gpgme_key_t)g_ptr_array_index(keys, i))->fpr);
	pgp_keys_free(keys);
	addr_clear(&addr);
	return err;
}

static const char *
fingerprint_arg(const char **args, const char *what, bool two)
{
	if (args[0] == NULL || (two ? args[1] == NULL || args[2] != NULL :
	    args[1] != NULL))
		ritual_usage_error("%s: wrong number of operands", what);
	if (!fingerprint_ok(args[0]))
		ritual_usage_error("a FINGERPRINT is 40 or 64 hex digits");
	return args[0];
}

static ms_err
cmd_remove(ms_admin *admin, const char **args)
{
	gpgme_ctx_t ctx = admin->data;
	const char *fpr = fingerprint_arg(args, "remove", false);
	gpgme_key_t key;
	gpgme_error_t gerr;

	gerr = gpgme_get_key(ctx, fpr, &key, 0);
	if (gerr)
		return pgp_error(gerr, "remove");
	gerr = gpgme_op_delete_ext(ctx, key,
	    GPGME_DELETE_ALLOW_SECRET | GPGME_DELETE_FORCE);
	gpgme_key_unref(key);
	if (gerr)
		return pgp_error(gerr, "remove");
	return audit_record(admin->store, "remove openpgp-key %s", fpr);
}

static ms_err
cmd_export(ms_admin *admin, const char **args)
{
	gpgme_ctx_t ctx = admin->data;
	const char *fpr = fingerprint_arg(args, "export", false);
	gpgme_data_t out;
	gpgme_error_t gerr;
	char *buf;
	size_t len = 0;
	ms_err err;

	gpgme_set_armor(ctx, 1);
	gerr = gpgme_data_new(&out);
	if (!gerr)
		gerr = gpgme_op_export(ctx, fpr, GPGME_EXPORT_MODE_MINIMAL, out);
	if (gerr) {
		gpgme_data_release(out);
		return pgp_error(gerr, "export");
	}
	buf = gpgme_data_release_and_get_mem(out, &len);
	if (len == 0) {
		diag_error("no key %s", fpr);
		err = MS_NOTFOUND;
	} else
		err = ritual_output(buf, len);
	gpgme_free(buf);
	return err;
}

/* ---- generate ---- */

static ms_err
cmd_generate(ms_admin *admin, const char **args)
{
	gpgme_ctx_t ctx = admin->data;
	const char *type = opt_key ? opt_key : "ed25519";
	gpgme_genkey_result_t result;
	gpgme_key_t key = NULL;
	gpgme_error_t gerr;
	unsigned int flags;
	ms_addr addr;
	ms_err err;

	if (args[0] == NULL || args[1] != NULL)
		ritual_usage_error("generate needs exactly one ADDRESS");
	if (strcmp(type, "ed25519") != 0 && strcmp(type, "rsa3072") != 0)
		ritual_usage_error("--key is ed25519 or rsa3072");
	one_address(args[0], &addr);
	/* without a passphrase file the key is protected by the store's
	 * permissions only (a gateway key must work unattended) */
	flags = opt_passphrase_file ? 0 : GPGME_CREATE_NOPASSWD;
	gerr = gpgme_op_createkey(ctx, addr.text, type, 0, KEY_LIFETIME, NULL,
	    flags | GPGME_CREATE_SIGN | GPGME_CREATE_CERT);
	if (!gerr && (result = gpgme_op_genkey_result(ctx)) != NULL &&
	    result->fpr != NULL)
		gerr = gpgme_get_key(ctx, result->fpr, &key, 1);
	if (!gerr)
		gerr = gpgme_op_createsubkey(ctx, key,
		    strcmp(type, "ed25519") == 0 ? "cv25519" : "rsa3072", 0,
		    KEY_LIFETIME, flags | GPGME_CREATE_ENCR);
	if (gerr)
		err = pgp_error(gerr, "generate");
	else {
		printf("%s\n", key->fpr);
		diag_info("generated OpenPGP key %s for %s", key->fpr,
		    addr.text);
		err = audit_record(admin->store, "generate openpgp-key %s "
		    "for %s", key->fpr, addr.text);
	}
	if (key != NULL)
		gpgme_key_unref(key);
	addr_clear(&addr);
	return err;
}

/* ---- lookup: Web Key Directory, then an HKPS keyserver ---- */

/* zbase32 - the z-base-32 form of 20 octets (WKD: RFC 6189 alphabet) */
static char *
zbase32(const unsigned char *data, size_t len)
{
	static const char alphabet[] = "ybndrfg8ejkmcpqxot1uwisza345h769";
	GString *out = g_string_new(NULL);
	unsigned int buffer = 0, bits = 0;

	for (size_t i = 0; i < len; i++) {
		buffer = (buffer << 8) | data[i];
		bits += 8;
		while (bits >= 5) {
			g_string_append_c(out,
			    alphabet[(buffer >> (bits - 5)) & 31]);
			bits -= 5;
		}
	}
	if (bits > 0)
		g_string_append_c(out, alphabet[(buffer << (5 - bits)) & 31]);
	return g_string_free(out, FALSE);
}

/* wkd_hash - z-base-32 of SHA-1 of the local part, ASCII lowercased */
static char *
wkd_hash(const char *local)
{
	char *lower = g_ascii_strdown(local, -1);
	GChecksum *sum = g_checksum_new(G_CHECKSUM_SHA1);
	unsigned char digest[20];
	gsize len = sizeof(digest);
	char *out;

	g_checksum_update(sum, (const guchar *)lower, -1);
	g_checksum_get_digest(sum, digest, &len);
	out = zbase32(digest, len);
	g_checksum_free(sum);
	g_free(lower);
	return out;
}

/* import_found - KEY-3/KEY-5 checks, then only the user IDs of addr,
 * origin recorded; found keys are not trusted (KEY-6): an administrator
 * checks them and runs pgp-keys trust */
static ms_err
import_found(ms_store *store, gpgme_ctx_t ctx, GByteArray *data,
    const ms_addr *addr, const char *origin)
{
	char *unicode = pgp_unicode_address(addr), *filter;
	gpgme_import_result_t result;
	gpgme_data_t dh;
	gpgme_error_t gerr;
	GArray *keys;
	ms_err err;

	err = inspect(ctx, data, false);
	if (err != MS_OK) {
		g_free(unicode);
		return err;
	}
	filter = unicode != NULL ?
	    g_strdup_printf("keep-uid=mbox = %s || mbox = %s", addr->text,
	    unicode) : g_strdup_printf("keep-uid=mbox = %s", addr->text);
	g_free(unicode);
	gerr = gpgme_set_ctx_flag(ctx, "import-filter", filter);
	if (!gerr)
		gerr = gpgme_set_ctx_flag(ctx, "key-origin", origin);
	if (!gerr)
		gerr = gpgme_data_new_from_mem(&dh, (const char *)data->data,
		    data->len, 0);
	if (!gerr) {
		gerr = gpgme_op_import(ctx, dh);
		gpgme_data_release(dh);
	}
	g_free(filter);
	if (gerr)
		return pgp_error(gerr, "import");
	result = gpgme_op_import_result(ctx);
	if (result == NULL || result->secret_imported > 0 ||
	    result->imports == NULL) {
		if (result == NULL || result->secret_imported > 0 ||
		    !name_unusable(data))
			diag_error("the key found has no user ID for %s",
			    addr->text);
		return MS_NOTFOUND;
	}
	keys = imports_copy(result);
	err = audit_imports(store, keys, origin);
	for (guint i = 0; i < keys->len; i++)
		printf("key %s %s\n", g_array_index(keys, imported, i).fpr,
		    origin);
	g_array_free(keys, TRUE);
	return err;
}

static ms_err
cmd_lookup(ms_admin *admin, const char **args)
{
	gpgme_ctx_t ctx = admin->data;
	const ms_settings *settings = admin->settings;
	fetch_opts opts = { "https", PGP_IMPORT_MAX, 10000, 30000, false, NULL,
	    NULL, NULL };
	const char *server = settings_get(settings, "pgp-keyserver");
	const char *why = NULL;
	GByteArray *body = NULL;
	char *hash, *url, *local;
	fetch_outcome out;
	ms_addr addr;
	ms_err err = MS_NOTFOUND;

	if (args[0] == NULL || args[1] != NULL)
		ritual_usage_error("lookup needs exactly one ADDRESS");
	one_address(args[0], &addr);
	if (*settings_get(settings, "lookup-ca-file") != '\0')
		opts.ca_file = settings_get(settings, "lookup-ca-file");
	if (*settings_get(settings, "lookup-resolve") != '\0')
		opts.resolve = settings_get(settings, "lookup-resolve");
	opts.allow_private = settings_get_bool(settings,
	    "lookup-allow-private-addresses");
	hash = wkd_hash(addr.local);
	local = g_uri_escape_string(addr.local, NULL, FALSE);
	/* the advanced method, then the direct one when the openpgpkey
	 * host does not exist (draft-koch-openpgp-webkey-service 3.1) */
	url = g_strdup_printf("https://openpgpkey.%s/.well-known/openpgpkey/"
	    "%s/hu/%s?l=%s", addr.domain, addr.domain, hash, local);
	out = fetch_url(url, &opts, &body, &why);
	g_free(url);
	if (out == FETCH_NO_HOST) {
		url = g_strdup_printf("https://%s/.well-known/openpgpkey/hu/"
		    "%s?l=%s", addr.domain, hash, local);
		out = fetch_url(url, &opts, &body, &why);
		g_free(url);
	}
	if (out == FETCH_OK) {
		err = import_found(admin->store, ctx, body, &addr, "wkd");
		g_byte_array_free(body, TRUE);
		body = NULL;
	} else
		diag_info("WKD for %s: %s", addr.text, why);
	if (err != MS_OK && *server != '\0') {
		char *search = g_uri_escape_string(addr.text, NULL, FALSE);

		if (!g_str_has_prefix(server, "https://")) {
			diag_error("pgp-keyserver must be an https URL");
			err = MS_CONFIG;
		} else {
			url = g_strdup_printf("%s/pks/lookup?op=get&options=mr&"
			    "search=%s", server, search);
			out = fetch_url(url, &opts, &body, &why);
			g_free(url);
			if (out == FETCH_OK) {
				err = import_found(admin->store, ctx, body, &addr, "ks");
				g_byte_array_free(body, TRUE);
			} else
				diag_info("keyserver for %s: %s", addr.text,
				    why);
		}
		g_free(search);
	}
	if (err == MS_NOTFOUND)
		diag_error("no key found for %s", addr.text);
	g_free(local);
	g_free(hash);
	addr_clear(&addr);
	return err;
}

static ms_err
cmd_trust(ms_admin *admin, const char **args)
{
	const char *fpr = fingerprint_arg(args, "trust", true);

	return set_trust(admin->store, admin->data, fpr, args[1]);
}

/* open_keyring - GnuPG's keyring in the store, writable for commands that
 * write; the keyring has its own lock (GnuPG's), ours keeps mailseal's
 * writers in order around it */
static ms_err
open_keyring(ms_admin *admin, const ms_command *command)
{
	gpgme_ctx_t pgp = NULL;
	ms_err err = pgp_open(admin->store, command->writes,
	    opt_passphrase_file, &pgp);

	admin->data = pgp;
	return err;
}

static void
close_keyring(ms_admin *admin)
{
	pgp_close(admin->data);
	admin->data = NULL;
}

/* lookup holds no lock across the network (STORE-7); GnuPG's own keyring
 * lock covers its import */
static const ms_command commands[] = {
	{ "import", cmd_import, true, "for secret passphrase-file" },
	{ "list", cmd_list, false, "json expiring" },
	{ "find", cmd_find, false, "" },
	{ "remove", cmd_remove, true, "" },
	{ "trust", cmd_trust, true, "" },
	{ "generate", cmd_generate, true, "key passphrase-file" },
	{ "export", cmd_export, false, "" },
	{ "lookup", cmd_lookup, false, "" },
	{ NULL, NULL, false, NULL }
};

int
main(int argc, char **argv)
{
	static const ms_admin_program prog = { { usage, options }, commands,
	    true, NULL, open_keyring, close_keyring };

	ritual_admin_main(argc, argv, &prog);
}
