/*
 * pgp-enc - encrypt a message as PGP/MIME (RFC 3156) to the OpenPGP keys
 * of every envelope recipient (pgp-enc(1)).  Every recipient must be
 * covered, otherwise nothing is written and the exit is 69 (ENC-1).
 */
#include "diag.h"
#include "encrypted.h"
#include "filter.h"
#include "msgpart.h"
#include "output.h"
#include "pgp.h"
#include "ritual.h"
#include "settings.h"

#include <openssl/rand.h>
#include <string.h>

static const char usage[] =
"usage: pgp-enc [--store DIR] [--hide-recipients] [--force] RECIPIENT ...\n"
"       pgp-enc -h | --version\n";

static int opt_hide, opt_force;

static struct poptOption options[] = {
	{ "hide-recipients", '\0', POPT_ARG_NONE, &opt_hide, 0, NULL, NULL },
	{ "force", '\0', POPT_ARG_NONE, &opt_force, 0, NULL, NULL },
	POPT_TABLEEND
};

/* mostly_encoded - most of the body is base64 (attachments, which are
 * usually compressed formats already): OpenPGP compression would spend
 * time for next to nothing, so it is skipped; text is compressed */
static bool
mostly_encoded(const ms_message *msg)
{
	size_t body = msg_body_offset(msg), encoded = 0, pos = body;
	const char *raw = msg->raw;

	while (pos < msg->raw_len) {
		const char *nl = memchr(raw + pos, '\n', msg->raw_len - pos);
		size_t len = nl ? (size_t)(nl - (raw + pos)) : msg->raw_len -
		    pos;
		size_t text = len > 0 && raw[pos + len - 1] == '\r' ? len - 1 :
		    len;
		bool b64 = text >= 60;

		for (size_t i = 0; b64 && i < text; i++) {
			char c = raw[pos + i];

			b64 = g_ascii_isalnum(c) || c == '+' || c == '/' ||
			    c == '=';
		}
		if (b64)
			encoded += len + 1;
		pos += len + 1;
	}
	return msg->raw_len - body > 0 && encoded * 2 > msg->raw_len - body;
}

/* add_key - take over a key reference, once per fingerprint */
static void
add_key(GPtrArray *keys, gpgme_key_t key)
{
	for (guint i = 0; i < keys->len; i++)
		if (strcmp(((gpgme_key_t)g_ptr_array_index(keys, i))->fpr,
		    key->fpr) == 0) {
			gpgme_key_unref(key);
			return;
		}
	g_ptr_array_add(keys, key);
}

/* domain_key - the pgp-domain-key setting of addr's domain, checked as
 * any key is (KEY-1) but bound to no address; NULL when none is set */
static ms_err
domain_key(ms_filter *f, gpgme_ctx_t pgp, const ms_addr *addr,
    gpgme_key_t *key)
{
	ms_settings *s = NULL;
	const char *fpr, *why;
	ms_err err;

	*key = NULL;
	err = settings_load(f->store, addr, &s);
	if (err != MS_OK)
		return err;
	fpr = settings_get(s, "pgp-domain-key");
	if (*fpr == '\0') {
		settings_free(s);
		return MS_NOTFOUND;
	}
	if (gpgme_get_key(pgp, fpr, key, 0) != 0) {
		diag_error("pgp-domain-key %s for %s is not in the keyring",
		    fpr, addr->domain);
		settings_free(s);
		return MS_CONFIG;	/* defer until the key is there */
	}
	why = pgp_key_verdict(*key, PGP_PURPOSE_ENCRYPT, NULL);
	if (why != NULL && strstr(why, "user ID") == NULL) {
		diag_error("pgp-domain-key %s for %s is not usable: %s", fpr,
		    addr->domain, why);
		gpgme_key_unref(*key);
		*key = NULL;
		settings_free(s);
		return MS_CONFIG;
	}
	settings_free(s);
	return MS_OK;
}

static char *
boundary(void)
{
	unsigned char rnd[12];
	GString *b = g_string_new("=-mailseal-pgp-");

	if (RAND_bytes(rnd, sizeof(rnd)) != 1)
		diag_fatal(EXIT_TEMPFAIL, "no random numbers");
	for (size_t i = 0; i < sizeof(rnd); i++)
		g_string_append_printf(b, "%02x", rnd[i]);
	return g_string_free(b, FALSE);
}

static ms_err
encrypt_message(gpgme_ctx_t pgp, ms_message *msg, GPtrArray *keys,
    ms_output *out)
{
	GString *outer = msg_outer_headers(msg);
	GString *content = msg_content_headers(msg);
	size_t body = msg_body_offset(msg);
	gpgme_key_t *recp = g_new0(gpgme_key_t, keys->len + 1);
	gpgme_data_t plain = NULL, cipher = NULL;
	gpgme_encrypt_flags_t flags;
	gpgme_encrypt_result_t result;
	gpgme_error_t gerr;
	char *b = boundary();
	ms_err err;

	for (guint i = 0; i < keys->len; i++)
		recp[i] = g_ptr_array_index(keys, i);
	if (!msg_has_field(outer, "MIME-Version"))
		g_string_append(outer, "MIME-Version: 1.0\n");
	g_string_append_printf(outer,
	    "Content-Type: multipart/encrypted;\n"
	    " protocol=\"application/pgp-encrypted\"; boundary=\"%s\"\n\n"
	    "This is an OpenPGP/MIME encrypted message (RFC 4880 and 3156).\n"
	    "--%s\n"
	    "Content-Type: application/pgp-encrypted\n"
	    "Content-Description: PGP/MIME version identification\n\n"
	    "Version: 1\n\n"
	    "--%s\n"
	    "Content-Type: application/octet-stream; name=\"encrypted.asc\"\n"
	    "Content-Description: OpenPGP encrypted message\n"
	    "Content-Disposition: inline; filename=\"encrypted.asc\"\n\n",
	    b, b, b);
	g_string_append_c(content, '\n');
	err = output_write(out, outer->str, outer->len);
	if (err == MS_OK)
		err = pgp_data_entity(content->str, content->len,
		    msg->raw + body, msg->raw_len - body, true, &plain);
	if (err == MS_OK)
		err = pgp_data_output(out, &cipher);
	if (err == MS_OK) {
		/* the keys passed our checks (KEY-1): gpg's own trust
		 * computation is not asked again */
		flags = GPGME_ENCRYPT_ALWAYS_TRUST |
		    GPGME_ENCRYPT_NO_ENCRYPT_TO |
		    (opt_hide ? GPGME_ENCRYPT_THROW_KEYIDS : 0) |
		    (mostly_encoded(msg) ? GPGME_ENCRYPT_NO_COMPRESS : 0);
		gpgme_set_armor(pgp, 1);
		gerr = gpgme_op_encrypt(pgp, recp, flags, plain, cipher);
		result = gpgme_op_encrypt_result(pgp);
		if (!gerr && (result == NULL ||
		    result->invalid_recipients != NULL))
			gerr = gpg_error(GPG_ERR_UNUSABLE_PUBKEY);
		/* fail closed: gpg can end "successfully" without output */
		if (!gerr && pgp_output_bytes() == 0)
			gerr = gpg_error(GPG_ERR_GENERAL);
		if (gerr) {
			err = pgp_error(gerr, "encrypt");
			/* a checked key gpg will not use (say, preferences
			 * that allow only a disabled cipher) is a refusal;
			 * anything else may pass */
			if (err == MS_NOTFOUND || err == MS_DATA ||
			    gpgme_err_code(gerr) == GPG_ERR_GENERAL ||
			    gpgme_err_code(gerr) == GPG_ERR_BUG)
				err = filter_refuse("5.7.1", "a recipient's "
				    "OpenPGP key cannot be used");
		}
	}
	if (err == MS_OK) {
		char *end = g_strdup_printf("\n--%s--\n", b);

		err = output_write(out, end, strlen(end));
		g_free(end);
	}
	gpgme_data_release(plain);
	gpgme_data_release(cipher);
	g_free(recp);
	g_free(b);
	g_string_free(outer, TRUE);
	g_string_free(content, TRUE);
	return err;
}

int
main(int argc, char **argv)
{
	static const ms_program prog = { usage, options };
	poptContext ctx = ritual_begin(argc, argv, &prog);
	const char **recipients = poptGetArgs(ctx);
	GPtrArray *keys = g_ptr_array_new();
	GString *uncovered = g_string_new(NULL);
	gpgme_ctx_t pgp = NULL;
	ms_output *out = NULL;
	ms_filter f;
	ms_err err;

	if (recipients == NULL || recipients[0] == NULL)
		ritual_usage_error("no RECIPIENT given");
	diag_set_quiet(true);
	err = filter_open(&f, MSG_READ_HEADERS);
	if (err == MS_OK)
		err = output_open(f.store, &out);
	if (err == MS_OK)
		err = pgp_open(f.store, false, NULL, &pgp);
	if (err != MS_OK)
		goto out;
	if (!opt_force && msg_root_encrypted(f.msg)) {
		diag_info("already encrypted at the root: passed on unchanged");
		err = msg_output_original(out, f.msg, NULL);
		goto commit;
	}
	for (int i = 0; recipients[i] != NULL && err == MS_OK; i++) {
		ms_addr addr;
		const char *why;
		GPtrArray *found = NULL;
		ms_err ferr;

		if (addr_parse_str(recipients[i], &addr, &why) != MS_OK) {
			char *m = diag_mask(recipients[i],
			    strlen(recipients[i]));

			g_string_append_printf(uncovered, "%s%s",
			    uncovered->len ? ", " : "", m);
			free(m);
			continue;
		}
		ferr = pgp_find_keys(pgp, &addr, PGP_PURPOSE_ENCRYPT, &found,
		    NULL);
		if (ferr == MS_OK || ferr == MS_NOTFOUND) {
			/* a domain key covers every recipient of its domain */
			gpgme_key_t dkey = NULL;
			ms_err derr = domain_key(&f, pgp, &addr, &dkey);

			if (derr != MS_OK && derr != MS_NOTFOUND)
				ferr = derr;
			else if (dkey != NULL) {
				add_key(keys, dkey);
				if (ferr == MS_NOTFOUND)
					ferr = MS_OK;
			}
		}
		if (ferr == MS_NOTFOUND)
			g_string_append_printf(uncovered, "%s%s",
			    uncovered->len ? ", " : "", addr.text);
		else if (ferr != MS_OK)
			err = ferr;
		/* every suitable key of every recipient is used */
		for (guint j = 0; found != NULL && j < found->len; j++)
			add_key(keys, g_ptr_array_index(found, j));
		if (found != NULL)
			g_ptr_array_free(found, TRUE);
		addr_clear(&addr);
	}
	if (err != MS_OK)
		goto out;
	if (uncovered->len > 0) {
		err = filter_refuse("5.7.1", "no usable OpenPGP key for: %s",
		    uncovered->str);
		goto out;
	}
	err = encrypt_message(pgp, f.msg, keys, out);
	if (err == MS_OK)
		diag_info("encrypted to %u OpenPGP key(s)", keys->len);
commit:
	if (err == MS_OK) {
		err = output_commit(out);
		out = NULL;
	}
out:
	output_discard(out);
	pgp_keys_free(keys);
	g_string_free(uncovered, TRUE);
	pgp_close(pgp);
	filter_close(&f);
	ritual_end(ctx, err);
}
