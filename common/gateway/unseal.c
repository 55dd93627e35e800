/*
 * unseal.c - decryption and verification transforms for incoming mail
 * (see unseal.h).  Plaintext is released only after the decryption and
 * its integrity check succeeded (DEC-3); every decryption failure has the
 * one visible outcome "X-Mailseal-Decrypt: failed" (DEC-1), its reason
 * goes to the log; signatures are judged from typed results (VER-1, VER-6),
 * never from the words of a diagnostic.
 */
#include "unseal.h"
#include "certdb.h"
#include "diag.h"
#include "filter.h"
#include "mslimits.h"
#include "msgpart.h"
#include "msgwrite.h"
#include "pgp.h"
#include "secret.h"

#include <errno.h>
#include <openssl/err.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

void
unseal_init(unseal_ctx *ctx, ms_store *store, const ms_settings *settings)
{
	memset(ctx, 0, sizeof(*ctx));
	ctx->store = store;
	ctx->settings = settings;
	ctx->learn = true;
}

/* forget_settings - the recipients' settings, loaded for rcpts */
static void
forget_settings(unseal_ctx *ctx)
{
	for (size_t i = 0; ctx->rcpt_settings != NULL && i < ctx->nrcpts; i++)
		settings_free(ctx->rcpt_settings[i]);
	g_free(ctx->rcpt_settings);
	ctx->rcpt_settings = NULL;
}

void
unseal_clear(unseal_ctx *ctx)
{
	trust_free(ctx->trust);
	pgp_close(ctx->pgp);
	ctx->trust = NULL;
	ctx->pgp = NULL;
	forget_settings(ctx);
}

void
unseal_recipients(unseal_ctx *ctx, const ms_addr *rcpts, size_t n,
    bool *served)
{
	forget_settings(ctx);
	ctx->rcpts = rcpts;
	ctx->nrcpts = n;
	ctx->served = served;
	memset(served, 0, n * sizeof(*served));
}

/* ---- which recipients a key is bound to ---- */

/* domain_binding - the fingerprint that the setting key (smime-domain-
 * cert or pgp-domain-key) of recipient i names, or "" */
static ms_err
domain_binding(unseal_ctx *ctx, size_t i, const char *key, const char **fpr)
{
	if (ctx->rcpt_settings == NULL)
		ctx->rcpt_settings = g_new0(ms_settings *, ctx->nrcpts);
	if (ctx->rcpt_settings[i] == NULL) {
		ms_err err = settings_load_under(ctx->settings, ctx->store,
		    &ctx->rcpts[i], &ctx->rcpt_settings[i]);

		if (err != MS_OK)
			return err;
	}
	*fpr = settings_get(ctx->rcpt_settings[i], key);
	return MS_OK;
}

/* mark - recipient i is served when bound by address, or else when
 * the setting (smime-domain-cert, pgp-domain-key) of its domain names
 * fpr; a settings file that cannot be read binds nothing: the message
 * goes on encrypted, never to the wrong reader */
static bool
mark(unseal_ctx *ctx, size_t i, bool bound, const char *setting,
    const char *fpr)
{
	const char *domain_fpr = "";

	if (!bound && domain_binding(ctx, i, setting, &domain_fpr) == MS_OK &&
	    *domain_fpr != '\0')
		bound = g_ascii_strcasecmp(domain_fpr, fpr) == 0;
	ctx->served[i] = bound;
	return bound;
}

/* bind_smime - mark the recipients cert (fingerprint fpr) is bound to:
 * an address of the certificate, or their domain's smime-domain-cert;
 * the number marked */
static size_t
bind_smime(unseal_ctx *ctx, const char *fpr, X509 *cert)
{
	unsigned malformed;
	GPtrArray *addrs = cert_addresses(cert, &malformed);
	size_t n = 0;

	for (size_t i = 0; i < ctx->nrcpts; i++) {
		bool bound = false;

		for (guint k = 0; k < addrs->len && !bound; k++)
			bound = addr_equal(g_ptr_array_index(addrs, k),
			    &ctx->rcpts[i]);
		n += mark(ctx, i, bound, "smime-domain-cert", fpr);
	}
	g_ptr_array_free(addrs, TRUE);
	return n;
}

/* smime_allow - smime_key_filter: a key bound to an envelope recipient */
static bool
smime_allow(const char *fpr, X509 *cert, void *data)
{
	return bind_smime(data, fpr, cert) > 0;
}

/* bind_pgp - mark the recipients the key with primary fingerprint fpr is
 * bound to: a valid user ID with their address (KEY-1), or their
 * domain's pgp-domain-key; the number marked */
static size_t
bind_pgp(unseal_ctx *ctx, const char *fpr)
{
	gpgme_key_t key = NULL;
	size_t n = 0;

	if (gpgme_get_key(ctx->pgp, fpr, &key, 0) != 0)
		key = NULL;
	for (size_t i = 0; i < ctx->nrcpts; i++)
		n += mark(ctx, i, key != NULL && !(pgp_key_verdict(key,
		    PGP_PURPOSE_ENCRYPT, &ctx->rcpts[i]) &
		    PGP_KEY_USER_ID_FLAGS), "pgp-domain-key", fpr);
	if (key != NULL)
		gpgme_key_unref(key);
	return n;
}

/* open_pgp - the GPGME context, made on first need */
static ms_err
open_pgp(unseal_ctx *ctx)
{
	if (ctx->pgp != NULL)
		return MS_OK;
	return pgp_open(ctx->store, false, ctx->passphrase_file, &ctx->pgp);
}

/* failed - DEC-1: the message as received, marked failed; the reason is
 * for the log only */
static ms_err
failed(ms_output *out, const ms_message *msg, unseal_decryption *res,
    decrypt_failure failure, const char *what, const char *detail)
{
	res->outcome = UNSEAL_DECRYPT_FAILED;
	res->failure = failure;
	diag_info("%s decryption failed: %s (%s)", what,
	    decrypt_failure_text(failure), detail);
	return msg_output_decrypt_failed(out, msg,
	    failure == DECRYPT_NOT_FOR_RECIPIENT);
}

/* ---- S/MIME decryption ---- */

ms_err
unseal_smime_decrypt(unseal_ctx *ctx, ms_message *msg, ms_output *out,
    unseal_decryption *res)
{
	GByteArray *der = NULL, *plain = NULL;
	char *used = NULL;
	decrypt_failure failure = DECRYPT_MALFORMED;
	const char *why = "unreadable body";
	msg_kind kind = msg_root_kind(msg);
	ms_err err;

	res->outcome = UNSEAL_NOT_ENCRYPTED;
	res->failure = DECRYPT_OK;
	res->key[0] = '\0';
	if (kind != MSG_KIND_SMIME_ENVELOPED && kind != MSG_KIND_SMIME_PKCS7)
		return MS_OK;
	err = msg_root_decoded(msg, limits_get()->message_size, &der);
	if (err == MS_OK)
		err = smime_decrypt(ctx->store, der->data, der->len,
		    ctx->rcpts != NULL ? smime_allow : NULL, ctx, &plain,
		    &used, &failure, &why);
	else
		err = MS_DATA;
	if (err == MS_OK && ctx->rcpts != NULL) {
		/* the recipients of the key that opened it, and no others */
		X509 *cert = NULL;

		err = certdb_key_cert_load(ctx->store, used, &cert);
		if (err == MS_OK && bind_smime(ctx, used, cert) == 0)
			err = MS_INTERNAL;	/* smime_allow said yes */
		else if (err != MS_OK)
			err = MS_TEMP;
		X509_free(cert);
	}
	if (err == MS_OK) {
		res->outcome = UNSEAL_DECRYPTED;
		if (used != NULL)
			g_strlcpy(res->key, used, sizeof res->key);
		err = msg_output_unwrapped(out, msg,
		    "X-Mailseal-Decrypted: smime\n", plain->data, plain->len,
		    true);
		/* a plaintext that is no MIME entity: the ciphertext goes
		 * out, as for any other failure (DEC-1) */
		if (err == MS_DATA)
			err = failed(out, msg, res, DECRYPT_UNUSABLE, "S/MIME",
			    "no MIME entity");
		else
			diag_info("decrypted S/MIME message");
	} else if (failure == DECRYPT_UNAVAILABLE || err == MS_TEMP ||
	    err == MS_INTERNAL) {
		/* the store failed us: try again later */
		err = err == MS_INTERNAL ? MS_INTERNAL : MS_TEMP;
	} else if (kind == MSG_KIND_SMIME_PKCS7 &&
	    failure == DECRYPT_NOT_ENVELOPED) {
		/* signed or other pkcs7 data: not ours to decrypt */
		err = MS_OK;
	} else
		err = failed(out, msg, res, failure, "S/MIME", why);
	secret_bytes_free(plain);
	g_free(used);
	if (der != NULL)
		g_byte_array_free(der, TRUE);
	return err;
}

/* ---- OpenPGP decryption ---- */

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

/* text_root - the decoded body of a text/plain root, or NULL */
static GByteArray *
text_root(ms_message *msg)
{
	GByteArray *data = NULL;

	if (msg_root_text(msg, limits_get()->message_size, &data) != MS_OK)
		return NULL;
	return data;
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
	data = text_root(msg);
	if (data != NULL && single_armor(data))
		return data;
	if (data != NULL)
		g_byte_array_free(data, TRUE);
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

/* decryption_key - a GPGME status callback: the primary fingerprint of
 * the key that opened the message, from gpg's DECRYPTION_KEY status
 * ("SUBKEY-FPR PRIMARY-FPR OWNERTRUST") */
static gpgme_error_t
decryption_key(void *hook, const char *keyword, const char *args)
{
	char **primary = hook;
	gchar **field;

	if (keyword == NULL || args == NULL ||
	    strcmp(keyword, "DECRYPTION_KEY") != 0)
		return 0;
	field = g_strsplit(args, " ", 3);
	g_free(*primary);
	*primary = NULL;
	if (field[0] != NULL && field[1] != NULL && *field[1] != '\0' &&
	    strlen(field[1]) <= 64 &&
	    strspn(field[1], "0123456789ABCDEFabcdef") == strlen(field[1]))
		*primary = g_strdup(field[1]);
	g_strfreev(field);
	return 0;
}

/* pgp_decrypt - plaintext only after GPGME reported success and integrity
 * protection (DEC-3, DEC-5), and, with envelope recipients, only when
 * the key that opened it is bound to one of them */
static ms_err
pgp_decrypt(unseal_ctx *ctx, GByteArray *cipher, size_t cap,
    GByteArray **plain, unseal_decryption *res, decrypt_failure *failure,
    const char **why)
{
	gpgme_ctx_t pgp = ctx->pgp;
	const ms_store *store = ctx->store;
	char *primary = NULL;
	gpgme_data_t in = NULL, out = NULL;
	gpgme_decrypt_result_t result;
	gpgme_error_t gerr;
	ms_err err;

	*plain = NULL;
	*failure = DECRYPT_OK;
	if (gpgme_data_new_from_mem(&in, (const char *)cipher->data,
	    cipher->len, 0))
		return MS_INTERNAL;
	err = pgp_data_capped(cap, plain, &out);
	if (err != MS_OK) {
		gpgme_data_release(in);
		return err;
	}
	if (ctx->rcpts != NULL) {
		/* which key opened it: gpg's status, all of it */
		if (gpgme_set_ctx_flag(pgp, "full-status", "1")) {
			gpgme_data_release(in);
			gpgme_data_release(out);
			secret_bytes_free(*plain);
			*plain = NULL;
			return MS_INTERNAL;
		}
		gpgme_set_status_cb(pgp, decryption_key, &primary);
	}
	gerr = gpgme_op_decrypt(pgp, in, out);
	result = gpgme_op_decrypt_result(pgp);
	if (ctx->rcpts != NULL) {
		gpgme_set_status_cb(pgp, NULL, NULL);
		(void)gpgme_set_ctx_flag(pgp, "full-status", "0");
	}
	if (pgp_capped_overflow(out)) {
		*failure = DECRYPT_TOO_LARGE;
		*why = "over the limit";
		err = MS_DATA;
	} else if (gerr) {
		err = pgp_error(gerr, "decrypt");
		*why = gpgme_strerror(gerr);
		*failure = DECRYPT_UNAVAILABLE;
		/* a bad or missing passphrase (MS_CONFIG) defers until the
		 * administrator fixes it; a message not for our keys, or one
		 * the agent looked at and refused, is delivered as it came
		 * (DEC-1); only an agent that cannot be reached defers */
		if (err != MS_CONFIG) {
			secret_answer answer = secret_for(pgp, store, result);

			err = answer == SECRET_UNKNOWN ? MS_TEMP : MS_DATA;
			if (answer != SECRET_UNKNOWN)
				*failure = answer == SECRET_NONE ?
				    DECRYPT_NO_KEY : DECRYPT_FAILED;
		}
	} else if (result == NULL || result->legacy_cipher_nomdc ||
	    result->unsupported_algorithm != NULL) {
		*failure = DECRYPT_INTEGRITY;
		*why = "no integrity protection";
		err = MS_DATA;
	} else if (ctx->rcpts != NULL && primary == NULL) {
		*failure = DECRYPT_FAILED;	/* fail closed */
		*why = "gpg named no decryption key";
		err = MS_DATA;
	} else if (ctx->rcpts != NULL && bind_pgp(ctx, primary) == 0) {
		*failure = DECRYPT_NOT_FOR_RECIPIENT;
		*why = "no key bound to an envelope recipient";
		err = MS_DATA;
	}
	if (err == MS_OK && primary != NULL)
		g_strlcpy(res->key, primary, sizeof res->key);
	g_free(primary);
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

ms_err
unseal_pgp_decrypt(unseal_ctx *ctx, ms_message *msg, ms_output *out,
    unseal_decryption *res)
{
	GByteArray *cipher, *plain = NULL;
	decrypt_failure failure = DECRYPT_UNAVAILABLE;
	const char *why = "no OpenPGP context";
	bool mime;
	ms_err err;

	res->outcome = UNSEAL_NOT_ENCRYPTED;
	res->failure = DECRYPT_OK;
	res->key[0] = '\0';
	cipher = ciphertext(msg, &mime);
	if (cipher == NULL)
		return MS_OK;
	err = open_pgp(ctx);
	if (err == MS_OK)
		/* MIME-L9: ten times the input, and more up to the
		 * absolute cap, the message size limit, as long as the
		 * ratio stays within 100:1 (text such as HTML deflates
		 * beyond 40:1, and pgp-enc compresses text) */
		err = pgp_decrypt(ctx, cipher,
		    MIN(100 * msg->raw_len, limits_get()->message_size),
		    &plain, res, &failure, &why);
	if (err == MS_OK) {
		res->outcome = UNSEAL_DECRYPTED;
		err = mime ? msg_output_unwrapped(out, msg,
		    "X-Mailseal-Decrypted: pgp\n", plain->data, plain->len,
		    true) : inline_output(out, msg, plain);
		if (err == MS_DATA)
			err = failed(out, msg, res, DECRYPT_UNUSABLE,
			    "OpenPGP", "no MIME entity");
		else if (err == MS_OK)
			diag_info("decrypted OpenPGP message");
	} else if (err == MS_DATA)
		err = failed(out, msg, res, failure, "OpenPGP", why);
	/* else agent, passphrase or keyring trouble: try later */
	secret_bytes_free(plain);
	g_byte_array_free(cipher, TRUE);
	return err;
}

ms_err
unseal_read_decrypted(ms_output *out, ms_message **msg)
{
	msg_problem problem;
	ms_err err;

	*msg = NULL;
	if (lseek(output_fd(out), 0, SEEK_SET) != 0) {
		diag_error("cannot rewind a temporary file: %s",
		    strerror(errno));
		return MS_TEMP;
	}
	err = msg_read_fd_mode(output_fd(out), MSG_READ_HEADERS, msg,
	    &problem);
	if (err == MS_DATA)
		err = filter_problem(problem);
	return err;
}

void
unseal_message_free(ms_message *msg)
{
	if (msg == NULL)
		return;
	if (msg->heap != NULL && msg->heap->len > 0)
		sodium_memzero(msg->heap->data, msg->heap->len);
	msg_free(msg);
}

/* ---- signatures ---- */

/* write_signed - msg with extra and the X-Mailseal-Signature field; opaque
 * signed data (inner != NULL) goes out as the signed entity itself */
static ms_err
write_signed(ms_output *out, const ms_message *msg, const char *extra,
    const char *value, const GByteArray *inner)
{
	GString *fields = g_string_new(extra);
	ms_err err;

	msg_header_append(fields, "X-Mailseal-Signature", value);
	diag_info("signature: %s", value);
	if (inner != NULL) {
		err = msg_output_unwrapped(out, msg, fields->str, inner->data,
		    inner->len, false);
		if (err == MS_DATA) {
			err = output_rewind(out);
			if (err == MS_OK)
				err = msg_output_original(out, msg,
				    fields->str);
		}
	} else
		err = msg_output_original(out, msg, fields->str);
	g_string_free(fields, TRUE);
	return err;
}

/* status_value - "word; detail; signer=...; fingerprint=..." */
static char *
status_value(sig_status status, const char *detail, const char *signer,
    const char *fingerprint)
{
	GString *v = g_string_new(sig_status_word(status));

	if (detail != NULL)
		g_string_append_printf(v, "; %s", detail);
	if (signer != NULL && status != SIG_INVALID)
		g_string_append_printf(v, "; signer=%s", signer);
	if (fingerprint != NULL && status != SIG_INVALID)
		g_string_append_printf(v, "; fingerprint=%s", fingerprint);
	return g_string_free(v, FALSE);
}

/* learn - KEY-2: only from a valid, trusted signature bound to From;
 * never a root; failure to learn never fails delivery */
static void
learn(unseal_ctx *ctx, const sig_result *res)
{
	bool was_new;

	if (!ctx->learn || res->status != SIG_VALID ||
	    res->signer_cert == NULL)
		return;
	if (store_lock(ctx->store, 2000) != MS_OK) {
		diag_info("store busy: signer certificate not learned");
		return;
	}
	if (certdb_add(ctx->store, res->signer_cert, false, &was_new) ==
	    MS_OK && was_new)
		diag_info("learned certificate %s", res->fingerprint);
	if (res->signer_info != NULL)
		(void)smime_caps_learn(ctx->store, res->fingerprint,
		    res->signer_info);
	store_unlock(ctx->store);
}

static CMS_ContentInfo *
parse_cms(const GByteArray *der)
{
	const unsigned char *p = der->data;
	CMS_ContentInfo *cms = d2i_CMS_ContentInfo(NULL, &p, (long)der->len);

	ERR_clear_error();
	return cms;
}

ms_err
unseal_smime_verify(unseal_ctx *ctx, ms_message *msg, const char *extra,
    ms_output *out, sig_status *status)
{
	GByteArray *content = NULL, *sig = NULL, *inner = NULL;
	CMS_ContentInfo *cms = NULL;
	sig_result res = { 0 };
	ms_addr from = { 0 };
	bool have_from;
	const char *why = NULL;
	char *value = NULL;
	msg_kind kind;
	ms_err err = MS_OK;

	*status = SIG_NONE;
	if (ctx->trust == NULL)
		err = trust_open(ctx->store, ctx->settings, &ctx->trust);
	if (err != MS_OK)
		return err;
	have_from = msg_from_address(msg, &from, &why) == MS_OK;
	res.status = SIG_NONE;
	kind = msg_root_kind(msg);
	if (kind == MSG_KIND_SMIME_DETACHED) {
		if (msg_signed_parts(msg, &content, &sig, &why) != MS_OK ||
		    (cms = parse_cms(sig)) == NULL) {
			res.status = SIG_INVALID;
			res.detail = g_strdup("malformed multipart/signed");
		} else {
			BIO *dcont = BIO_new_mem_buf(content->data,
			    (int)content->len);

			err = smime_verify(ctx->trust, cms, dcont,
			    have_from ? &from : NULL, &res, NULL);
			BIO_free(dcont);
		}
	} else if (kind == MSG_KIND_SMIME_OPAQUE ||
	    kind == MSG_KIND_SMIME_PKCS7) {
		GByteArray *der = NULL;

		if (msg_root_decoded(msg, limits_get()->message_size, &der) ==
		    MS_OK && (cms = parse_cms(der)) != NULL &&
		    OBJ_obj2nid(CMS_get0_type(cms)) == NID_pkcs7_signed)
			err = smime_verify(ctx->trust, cms, NULL,
			    have_from ? &from : NULL, &res, &inner);
		else if (kind == MSG_KIND_SMIME_OPAQUE) {
			res.status = SIG_INVALID;
			res.detail = g_strdup("malformed signed data");
		}
		if (der != NULL)
			g_byte_array_free(der, TRUE);
	} else if (kind == MSG_KIND_SIGNED_MALFORMED) {
		res.status = SIG_INVALID;
		res.detail = g_strdup("malformed multipart/signed");
	}
	if (err == MS_OK) {
		if (res.status == SIG_MISMATCH && !have_from) {
			g_free(res.detail);
			res.detail = g_strdup(why);
		}
		value = status_value(res.status, res.detail, res.signer,
		    res.fingerprint);
		learn(ctx, &res);
		err = write_signed(out, msg, extra, value, inner);
		*status = res.status;
	}
	g_free(value);
	sig_result_clear(&res);
	CMS_ContentInfo_free(cms);
	if (content)
		g_byte_array_free(content, TRUE);
	if (sig)
		g_byte_array_free(sig, TRUE);
	if (inner)
		g_byte_array_free(inner, TRUE);
	addr_clear(&from);
	return err;
}

#define CLEAR_BEGIN "-----BEGIN PGP SIGNED MESSAGE-----"
#define SIG_BEGIN "-----BEGIN PGP SIGNATURE-----"
#define CLEAR_END "-----END PGP SIGNATURE-----"

typedef struct outcome {
	sig_status status;
	const char *detail;
	char *signer;
	char *fingerprint;
	bool unknown_key;	/* the worst outcome is a key we lack */
} outcome;

/* set - the worst outcome wins */
static void
set(outcome *o, sig_status status, const char *detail)
{
	static const int rank[] = {
		[SIG_NONE] = 0, [SIG_VALID] = 1, [SIG_MISMATCH] = 2,
		[SIG_UNTRUSTED] = 3, [SIG_REVOKED] = 4, [SIG_INVALID] = 5
	};

	if (rank[status] >= rank[o->status]) {
		o->status = status;
		o->detail = detail;
		o->unknown_key = false;
	}
}

/* set_unknown_key - untrusted: the signer's key is not in our keyring */
static void
set_unknown_key(outcome *o)
{
	set(o, SIG_UNTRUSTED, "unknown key");
	if (o->status == SIG_UNTRUSTED)
		o->unknown_key = true;
}

sig_status
unseal_pgp_signer_status(unsigned key_flags)
{
	unsigned main_flag = pgp_key_main_flag(key_flags);

	if (main_flag == 0)
		return SIG_VALID;
	if (main_flag & PGP_KEY_USER_ID_FLAGS)
		return SIG_MISMATCH;
	if (main_flag == PGP_KEY_REVOKED)
		return SIG_REVOKED;
	return SIG_UNTRUSTED;
}

static bool
weak_hash(gpgme_hash_algo_t algo)
{
	return algo == GPGME_MD_MD5 || algo == GPGME_MD_SHA1 ||
	    algo == GPGME_MD_RMD160 || algo == GPGME_MD_NONE;
}

/* judge - every signature of the result, against the From address */
static void
judge(gpgme_ctx_t pgp, const ms_addr *from, outcome *o)
{
	gpgme_verify_result_t result = gpgme_op_verify_result(pgp);
	GPtrArray *fprs = g_ptr_array_new_with_free_func(g_free);

	o->status = SIG_NONE;
	if (result == NULL || result->signatures == NULL) {
		set(o, SIG_INVALID, "no signature");
		g_ptr_array_free(fprs, TRUE);
		return;
	}
	for (gpgme_signature_t sig = result->signatures; sig; sig = sig->next) {
		gpgme_err_code_t code = gpgme_err_code(sig->status);

		if (code == GPG_ERR_BAD_SIGNATURE || sig->wrong_key_usage)
			set(o, SIG_INVALID, "signature does not verify");
		else if (weak_hash(sig->hash_algo))
			set(o, SIG_INVALID, "weak digest algorithm");
		else if (code == GPG_ERR_NO_PUBKEY)
			set_unknown_key(o);
		else if ((sig->summary & GPGME_SIGSUM_KEY_REVOKED) ||
		    code == GPG_ERR_CERT_REVOKED)
			set(o, SIG_REVOKED, "signer key revoked");
		else if (code != GPG_ERR_NO_ERROR)
			set(o, SIG_UNTRUSTED, "signature not valid now");
		else if (!(sig->summary & GPGME_SIGSUM_VALID))
			set(o, SIG_UNTRUSTED, "signer key not trusted");
		else
			set(o, SIG_VALID, "signature verified");
		if (sig->fpr != NULL)
			g_ptr_array_add(fprs, g_strdup(sig->fpr));
		else
			set(o, SIG_UNTRUSTED, "no signer fingerprint");
	}
	/* VER-8: the signing key must be one we know for the From address:
	 * a valid user ID with that address, trusted, in our keyring */
	for (guint i = 0; i < fprs->len && o->status == SIG_VALID; i++) {
		const char *fpr = g_ptr_array_index(fprs, i);
		gpgme_key_t key = NULL;
		unsigned flags;

		if (from == NULL) {
			set(o, SIG_MISMATCH, "no single From address");
			break;
		}
		if (gpgme_get_key(pgp, fpr, &key, 0) != 0) {
			set_unknown_key(o);
			break;
		}
		flags = pgp_key_verdict(key, PGP_PURPOSE_VERIFY, from);
		switch (unseal_pgp_signer_status(flags)) {
		case SIG_MISMATCH:
			set(o, SIG_MISMATCH, "signer is not the From address");
			break;
		case SIG_REVOKED:
			set(o, SIG_REVOKED, "signer key revoked");
			break;
		case SIG_VALID:
			break;
		default:
			set(o, SIG_UNTRUSTED, pgp_key_flag_text(flags));
			break;
		}
		if (i == 0) {
			o->fingerprint = g_strdup(fpr);
			for (gpgme_user_id_t u = key->uids; u && !o->signer;
			    u = u->next)
				if (u->address && !u->revoked && !u->invalid)
					o->signer = diag_mask(u->address,
					    strlen(u->address));
		}
		gpgme_key_unref(key);
	}
	g_ptr_array_free(fprs, TRUE);
}

/* count_lines - lines of p..end that are exactly line (armor lines are
 * whole lines: a quoted or dash-escaped copy inside the text is not one) */
static int
count_lines(const char *p, const char *end, const char *line)
{
	size_t want = strlen(line);
	int n = 0;

	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t len = nl ? (size_t)(nl - p) : (size_t)(end - p);

		if (len > 0 && p[len - 1] == '\r')
			len--;
		if (len == want && memcmp(p, line, want) == 0)
			n++;
		p = nl ? nl + 1 : end;
	}
	return n;
}

/* clear_signed - the decoded body of a text/plain root that is exactly
 * one cleartext-signed block */
static GByteArray *
clear_signed(ms_message *msg)
{
	GByteArray *text = text_root(msg);
	const char *p, *end;

	if (text == NULL)
		return NULL;
	p = (const char *)text->data;
	end = p + text->len;
	while (p < end && g_ascii_isspace(*p))
		p++;
	while (end > p && g_ascii_isspace(end[-1]))
		end--;
	/* exactly one signed block and one signature block, the signature
	 * ending the body: text after a signature, or a second signature,
	 * would be shown as signed (VER-2) */
	if ((size_t)(end - p) > strlen(CLEAR_BEGIN) + strlen(CLEAR_END) &&
	    strncmp(p, CLEAR_BEGIN, strlen(CLEAR_BEGIN)) == 0 &&
	    strncmp(end - strlen(CLEAR_END), CLEAR_END,
	    strlen(CLEAR_END)) == 0 &&
	    count_lines(p, end, CLEAR_BEGIN) == 1 &&
	    count_lines(p, end, SIG_BEGIN) == 1 &&
	    count_lines(p, end, CLEAR_END) == 1)
		return text;
	g_byte_array_free(text, TRUE);
	return NULL;
}

bool
unseal_pgp_wants(ms_message *msg)
{
	msg_kind kind = msg_root_kind(msg);
	GByteArray *data;
	bool mime, yes;

	if (kind == MSG_KIND_PGP_ENCRYPTED || kind == MSG_KIND_PGP_SIGNED)
		return true;
	if (kind != MSG_KIND_PGP_INLINE_ENCRYPTED &&
	    kind != MSG_KIND_PGP_INLINE_SIGNED)
		return false;
	data = ciphertext(msg, &mime);
	if (data == NULL)
		data = clear_signed(msg);
	yes = data != NULL;
	if (data != NULL)
		g_byte_array_free(data, TRUE);
	return yes;
}

/* pgp_verify_root - run GPGME over the signed content at the root and
 * judge it into *o */
static ms_err
pgp_verify_root(unseal_ctx *ctx, ms_message *msg, const ms_addr *from,
    outcome *o)
{
	GByteArray *content = NULL, *sigbytes = NULL, *clear = NULL;
	gpgme_data_t sig = NULL, text = NULL;
	const char *why;
	msg_kind kind = msg_root_kind(msg);
	ms_err err = MS_OK;

	if (kind == MSG_KIND_PGP_SIGNED) {
		if (msg_signed_parts(msg, &content, &sigbytes, &why) != MS_OK)
			set(o, SIG_INVALID, "malformed multipart/signed");
	} else if (kind == MSG_KIND_SIGNED_MALFORMED)
		set(o, SIG_INVALID, "malformed multipart/signed");
	else
		clear = clear_signed(msg);
	if (content != NULL || clear != NULL) {
		gpgme_error_t gerr;

		err = open_pgp(ctx);
		if (err != MS_OK)
			goto out;
		if (content != NULL) {
			gerr = gpgme_data_new_from_mem(&sig,
			    (const char *)sigbytes->data, sigbytes->len, 0);
			if (!gerr)
				gerr = gpgme_data_new_from_mem(&text,
				    (const char *)content->data, content->len,
				    0);
			if (!gerr)
				gerr = gpgme_op_verify(ctx->pgp, sig, text,
				    NULL);
		} else {
			gpgme_data_t discard = NULL;

			gerr = gpgme_data_new_from_mem(&sig,
			    (const char *)clear->data, clear->len, 0);
			if (!gerr)
				gerr = gpgme_data_new(&discard);
			if (!gerr)
				gerr = gpgme_op_verify(ctx->pgp, sig, NULL,
				    discard);
			gpgme_data_release(discard);
		}
		if (gerr && gpgme_op_verify_result(ctx->pgp) == NULL) {
			err = pgp_error(gerr, "verify");
			if (err == MS_DATA || err == MS_NOTFOUND) {
				set(o, SIG_INVALID, "malformed signature");
				err = MS_OK;
			}
		} else
			judge(ctx->pgp, from, o);
		/* a damaged keyring reads as empty: a store failure, not a
		 * stranger's key */
		if (err == MS_OK && o->unknown_key && !pgp_keyring_sound()) {
			diag_error("the OpenPGP keyring cannot be read whole");
			err = MS_CONFIG;
		}
	}
out:
	gpgme_data_release(sig);
	gpgme_data_release(text);
	if (content)
		g_byte_array_free(content, TRUE);
	if (sigbytes)
		g_byte_array_free(sigbytes, TRUE);
	if (clear)
		g_byte_array_free(clear, TRUE);
	return err;
}

ms_err
unseal_pgp_verify(unseal_ctx *ctx, ms_message *msg, const char *extra,
    ms_output *out, sig_status *status)
{
	outcome o = { SIG_NONE, NULL, NULL, NULL, false };
	ms_addr from = { 0 };
	const char *why = NULL;
	bool have_from;
	ms_err err;

	*status = SIG_NONE;
	have_from = msg_from_address(msg, &from, &why) == MS_OK;
	err = pgp_verify_root(ctx, msg, have_from ? &from : NULL, &o);
	if (err == MS_OK) {
		char *value = status_value(o.status, o.detail, o.signer,
		    o.signer != NULL ? o.fingerprint : NULL);

		err = write_signed(out, msg, extra, value, NULL);
		*status = o.status;
		g_free(value);
	}
	free(o.signer);
	g_free(o.fingerprint);
	addr_clear(&from);
	return err;
}
