/*
 * pgp-dec - decrypt a message whose root is PGP/MIME encrypted, or a
 * single text/plain part that is one armored OpenPGP message (pgp-dec(1)).
 * Only the root is decrypted (DEC-2); integrity protection (MDC or AEAD)
 * is required (DEC-5); a failure delivers the original with a status
 * field (DEC-1); the plaintext is capped (MIME-L9).
 */
#include "diag.h"
#include "secret.h"
#include "filter.h"
#include "limits.h"
#include "msgpart.h"
#include "msgwrite.h"
#include "output.h"
#include "pgp.h"
#include "ritual.h"

#include <string.h>

static const char usage[] =
"usage: pgp-dec [--store DIR] [--passphrase-file FILE]\n"
"       pgp-dec -h | --version\n";

static const char *opt_passphrase_file;

static struct poptOption options[] = {
	{ "passphrase-file", '\0', POPT_ARG_STRING, &opt_passphrase_file, 0,
	  NULL, NULL },
	POPT_TABLEEND
};

#define BEGIN_ARMOR "-----BEGIN PGP MESSAGE-----"
#define END_ARMOR "-----END PGP MESSAGE-----"

/* single_armor - the body is exactly one armored message, with nothing
 * but white space around it (inline PGP at the root only: DEC-2) */
static bool
single_armor(const GByteArray *body)
{
	const char *p = (const char *)body->data, *end = p + body->len;
	const char *first, *last;

	while (p < end && g_ascii_isspace(*p))
		p++;
	while (end > p && g_ascii_isspace(end[-1]))
		end--;
	if ((size_t)(end - p) < strlen(BEGIN_ARMOR) + strlen(END_ARMOR) ||
	    strncmp(p, BEGIN_ARMOR, strlen(BEGIN_ARMOR)) != 0 ||
	    strncmp(end - strlen(END_ARMOR), END_ARMOR, strlen(END_ARMOR)) != 0)
		return false;
	first = g_strstr_len(p + 1, end - p - 1, BEGIN_ARMOR);
	last = g_strstr_len(p, end - p - (gssize)strlen(END_ARMOR), END_ARMOR);
	return first == NULL && last == NULL;
}

/* ciphertext - the armored or binary OpenPGP message at the root, and
 * whether it is PGP/MIME */
static GByteArray *
ciphertext(ms_message *msg, bool *mime)
{
	size_t max = limits_get()->message_size;
	GByteArray *data = NULL;

	*mime = false;
	if (msg_root_kind(msg) == MSG_KIND_PGP_ENCRYPTED) {
		data = msg_pgp_mime_ciphertext(msg, max);
		*mime = data != NULL;
		return data;
	}
	if (msg_root_text(msg, max, &data) == MS_OK) {
		if (single_armor(data))
			return data;
		g_byte_array_free(data, TRUE);
	}
	return NULL;
}

typedef enum secret_answer {
	SECRET_NONE,		/* no recipient is one of our keys */
	SECRET_OURS,		/* one is, and gpg-agent said so */
	SECRET_UNKNOWN		/* gpg-agent could not be asked */
} secret_answer;

/* secret_file - the keyring holds a secret key file for the subkey with
 * this key id (the agent's private-keys-v1.d, named by keygrip) */
static bool
secret_file(gpgme_ctx_t pgp, const ms_store *store, const char *keyid)
{
	gpgme_keylist_mode_t mode = gpgme_get_keylist_mode(pgp);
	gpgme_key_t key = NULL;
	bool found = false;
	size_t idlen = strlen(keyid);

	gpgme_set_keylist_mode(pgp, mode | GPGME_KEYLIST_MODE_WITH_KEYGRIP);
	if (gpgme_get_key(pgp, keyid, &key, 0) == 0) {
		for (gpgme_subkey_t sk = key->subkeys; sk && !found;
		    sk = sk->next) {
			char *name, *path;

			if (sk->keyid == NULL || sk->keygrip == NULL ||
			    strlen(sk->keyid) < idlen ||
			    g_ascii_strcasecmp(sk->keyid + strlen(sk->keyid) -
			    idlen, keyid) != 0)
				continue;
			name = g_strdup_printf("%s.key", sk->keygrip);
			if (!store_name_ok(name)) {
				g_free(name);
				continue;
			}
			path = store_path(store, "gnupg/private-keys-v1.d",
			    name);
			found = g_file_test(path, G_FILE_TEST_IS_REGULAR);
			g_free(path);
			g_free(name);
		}
		gpgme_key_unref(key);
	}
	gpgme_set_keylist_mode(pgp, mode);
	return found;
}

/* secret_for - is a recipient of the message one of our keys, and does
 * gpg-agent answer for it?  Our keys are known by their secret key files;
 * listing them as secret keys asks the agent, so a key with a file that
 * the listing does not show means the agent could not be reached */
static secret_answer
secret_for(gpgme_ctx_t pgp, const ms_store *store,
    gpgme_decrypt_result_t result)
{
	secret_answer answer = SECRET_NONE;
	GPtrArray *ids = g_ptr_array_new_with_free_func(g_free);

	/* the result belongs to the context: copy the key ids before the
	 * next operation on it */
	for (gpgme_recipient_t r = result ? result->recipients : NULL; r;
	    r = r->next)
		if (r->keyid != NULL)
			g_ptr_array_add(ids, g_strdup(r->keyid));
	for (guint i = 0; i < ids->len && answer != SECRET_OURS; i++) {
		const char *id = g_ptr_array_index(ids, i);
		gpgme_key_t key = NULL;

		if (!secret_file(pgp, store, id))
			continue;
		if (gpgme_get_key(pgp, id, &key, 1) == 0) {
			gpgme_key_unref(key);
			answer = SECRET_OURS;
		} else
			answer = SECRET_UNKNOWN;
	}
	g_ptr_array_free(ids, TRUE);
	return answer;
}

/* decrypt - plaintext only after GPGME reported success and integrity
 * protection (DEC-3, DEC-5) */
static ms_err
decrypt(gpgme_ctx_t pgp, const ms_store *store, GByteArray *cipher,
    size_t cap, GByteArray **plain, const char **why)
{
	gpgme_data_t in = NULL, out = NULL;
	gpgme_decrypt_result_t result;
	gpgme_error_t gerr;
	ms_err err;

	*plain = NULL;
	if (gpgme_data_new_from_mem(&in, (const char *)cipher->data,
	    cipher->len, 0))
		return MS_INTERNAL;
	err = pgp_data_capped(cap, plain, &out);
	if (err != MS_OK) {
		gpgme_data_release(in);
		return err;
	}
	gerr = gpgme_op_decrypt(pgp, in, out);
	result = gpgme_op_decrypt_result(pgp);
	if (pgp_capped_overflow(out)) {
		*why = "plaintext over the size limit";
		err = MS_DATA;
	} else if (gerr) {
		err = pgp_error(gerr, "decrypt");
		*why = gpgme_strerror(gerr);
		/* a bad or missing passphrase (MS_CONFIG) defers until the
		 * administrator fixes it; a message not for our keys, or one
		 * the agent looked at and refused, is delivered as it came
		 * (DEC-1); only an agent that cannot be reached defers */
		if (err != MS_CONFIG)
			err = secret_for(pgp, store, result) ==
			    SECRET_UNKNOWN ? MS_TEMP : MS_DATA;
	} else if (result == NULL || result->legacy_cipher_nomdc ||
	    result->unsupported_algorithm != NULL) {
		*why = "no integrity protection";
		err = MS_DATA;
	}
	gpgme_data_release(in);
	gpgme_data_release(out);
	if (err != MS_OK) {
		secret_bytes_free(*plain);
		*plain = NULL;
	}
	return err;
}

/* inline_output - outer fields, our status, the plaintext as text */
static ms_err
inline_output(ms_output *out, const ms_message *msg, GByteArray *plain)
{
	GString *text = msg_outer_headers(msg);
	msg_root root = { .type = MSG_ROOT_TEXT, .encoding = "8bit",
	    .charset = g_utf8_validate((const char *)plain->data,
	    (gssize)plain->len, NULL) ? "utf-8" : "unknown-8bit" };
	ms_err err;

	msg_header_append(text, "X-Mailseal-Decrypted", "pgp");
	err = msg_write_root(out, text, &root);
	if (err == MS_OK)
		err = output_write_lf(out, (const char *)plain->data,
		    plain->len);
	g_string_free(text, TRUE);
	return err;
}

int
main(int argc, char **argv)
{
	static const ms_program prog = { usage, options };
	poptContext ctx = ritual_begin(argc, argv, &prog);
	const char **args = poptGetArgs(ctx);
	GByteArray *cipher = NULL, *plain = NULL;
	gpgme_ctx_t pgp = NULL;
	ms_output *out = NULL;
	const char *why = NULL;
	bool mime;
	ms_filter f;
	ms_err err, derr;

	if (args != NULL && args[0] != NULL)
		ritual_usage_error("pgp-dec takes no operands");
	diag_set_quiet(true);
	err = filter_open(&f, MSG_READ_HEADERS);
	if (err == MS_OK)
		err = output_open(f.store, &out);
	if (err != MS_OK)
		goto out;
	msg_strip_status_headers(f.msg);	/* DEC-8 */
	cipher = ciphertext(f.msg, &mime);
	if (cipher == NULL) {
		err = msg_output_original(out, f.msg, NULL);
		goto commit;
	}
	err = pgp_open(f.store, false, opt_passphrase_file, &pgp);
	if (err != MS_OK)
		goto out;
	/* MIME-L9: ten times the input, within the message size limit */
	derr = decrypt(pgp, f.store, cipher, MIN(10 * f.msg->raw_len,
	    limits_get()->message_size), &plain, &why);
	if (derr == MS_OK) {
		err = mime ? msg_output_unwrapped(out, f.msg,
		    "X-Mailseal-Decrypted: pgp\n", plain->data, plain->len,
		    true) : inline_output(out, f.msg, plain);
		if (err == MS_DATA) {
			diag_info("decrypted OpenPGP entity is unusable");
			err = msg_output_decrypt_failed(out, f.msg);
		} else if (err == MS_OK)
			diag_info("decrypted OpenPGP message");
	} else if (derr == MS_DATA) {
		diag_info("OpenPGP decryption failed: %s", why);
		err = msg_output_decrypt_failed(out, f.msg);
	} else
		err = derr;	/* agent or keyring trouble: try later */
commit:
	if (err == MS_OK) {
		err = output_commit(out);
		out = NULL;
	}
out:
	secret_bytes_free(plain);
	if (cipher != NULL)
		g_byte_array_free(cipher, TRUE);
	output_discard(out);
	pgp_close(pgp);
	filter_close(&f);
	ritual_end(ctx, err);
}
