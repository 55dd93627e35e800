/*
 * pgenc.c - OpenPGP encryption of a whole message (pgenc.h): the one code
 * path behind pgp-enc(1) and the OpenPGP copies of mailseal-filter(1).
 * Every recipient must be covered, otherwise nothing is written (ENC-1).
 */
#include "pgenc.h"
#include "diag.h"
#include "filter.h"
#include "mslimits.h"
#include "msgpart.h"
#include "msgwrite.h"
#include "pgp.h"
#include "secret.h"
#include "settings.h"

#include <string.h>

/* mostly_encoded - most of the body is base64 (attachments, which are
 * usually compressed formats already): OpenPGP compression would spend
 * time for next to nothing, so it is skipped; text is compressed */
static bool
mostly_encoded(const char *raw, size_t len)
{
	size_t encoded = 0, pos = 0;

	while (pos < len) {
		const char *nl = memchr(raw + pos, '\n', len - pos);
		size_t line = nl ? (size_t)(nl - (raw + pos)) : len - pos;
		size_t text = line > 0 && raw[pos + line - 1] == '\r' ?
		    line - 1 : line;
		bool b64 = text >= 60;

		for (size_t i = 0; b64 && i < text; i++) {
			char c = raw[pos + i];

			b64 = g_ascii_isalnum(c) || c == '+' || c == '/' ||
			    c == '=';
		}
		if (b64)
			encoded += line + 1;
		pos += line + 1;
	}
	return len > 0 && encoded * 2 > len;
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
 * any key is (KEY-1) but bound to no address; MS_NOTFOUND when none is
 * set; *inline_format from the same settings */
static ms_err
domain_key(const ms_store *store, gpgme_ctx_t pgp, const ms_addr *addr,
    gpgme_key_t *key, bool *inline_format)
{
	ms_settings *s = NULL;
	const char *fpr;
	ms_err err;

	*key = NULL;
	err = settings_load(store, addr, &s);
	if (err != MS_OK)
		return err;
	*inline_format = strcmp(settings_get(s, "pgp-format"), "inline") == 0;
	fpr = settings_get(s, "pgp-domain-key");
	err = *fpr == '\0' ? MS_NOTFOUND :
	    pgp_domain_key(pgp, fpr, addr->domain, key);
	settings_free(s);
	return err;
}

ms_err
pgenc_collect(gpgme_ctx_t pgp, const ms_store *store,
    const char *const *recipients, GPtrArray *keys, GString *uncovered,
    bool *all_inline)
{
	ms_err err = MS_OK;

	*all_inline = recipients[0] != NULL;
	for (int i = 0; recipients[i] != NULL && err == MS_OK; i++) {
		ms_addr addr;
		const char *why;
		GPtrArray *found = NULL;
		bool inline_format = false;
		ms_err ferr;

		if (addr_parse_str(recipients[i], &addr, &why) != MS_OK) {
			diag_list_append(uncovered, recipients[i]);
			*all_inline = false;
			continue;
		}
		ferr = pgp_find_keys(pgp, &addr, PGP_PURPOSE_ENCRYPT, &found,
		    NULL);
		if (ferr == MS_OK || ferr == MS_NOTFOUND) {
			/* a domain key covers every recipient of its domain */
			gpgme_key_t dkey = NULL;
			ms_err derr = domain_key(store, pgp, &addr, &dkey,
			    &inline_format);

			if (derr != MS_OK && derr != MS_NOTFOUND)
				ferr = derr;
			else if (dkey != NULL) {
				add_key(keys, dkey);
				if (ferr == MS_NOTFOUND)
					ferr = MS_OK;
			}
		}
		if (!inline_format)
			*all_inline = false;
		if (ferr == MS_NOTFOUND)
			diag_list_append(uncovered, addr.text);
		else if (ferr != MS_OK)
			err = ferr;
		/* every suitable key of every recipient is used */
		for (guint j = 0; found != NULL && j < found->len; j++)
			add_key(keys, g_ptr_array_index(found, j));
		if (found != NULL)
			g_ptr_array_free(found, TRUE);
		addr_clear(&addr);
	}
	return err;
}

/* key_list - keys as the NULL-terminated array GPGME takes (g_free) */
static gpgme_key_t *
key_list(GPtrArray *keys)
{
	gpgme_key_t *recp = g_new0(gpgme_key_t, keys->len + 1);

	for (guint i = 0; i < keys->len; i++)
		recp[i] = g_ptr_array_index(keys, i);
	return recp;
}

/* key_refusal - a checked key gpg will not use (say, preferences that
 * allow only a disabled cipher) is a refusal; anything else may pass */
static ms_err
key_refusal(ms_err err, gpgme_error_t gerr)
{
	if (err == MS_NOTFOUND || err == MS_DATA ||
	    gpgme_err_code(gerr) == GPG_ERR_GENERAL ||
	    gpgme_err_code(gerr) == GPG_ERR_BUG)
		return filter_refuse("5.7.1", "a recipient's OpenPGP key "
		    "cannot be used");
	return err;
}

ms_err
pgenc_encrypt_entity(gpgme_ctx_t pgp, const GString *outer,
    const char *head, size_t head_len, const char *body, size_t body_len,
    GPtrArray *keys, bool hide, ms_output *out)
{
	gpgme_key_t *recp = key_list(keys);
	gpgme_data_t plain = NULL, cipher = NULL;
	gpgme_encrypt_flags_t flags;
	gpgme_encrypt_result_t result;
	gpgme_error_t gerr;
	msg_root root = { .type = MSG_ROOT_ENCRYPTED_PGP,
	    .boundary = msg_boundary_new("=-mailseal-pgp-", NULL, 0, NULL, 0) };
	size_t before = pgp_output_bytes();
	ms_err err;

	err = msg_write_root(out, outer, &root);
	if (err == MS_OK)
		err = msg_write_part(out, &root, MSG_PART_PGP_VERSION, NULL);
	if (err == MS_OK)
		err = msg_write_part(out, &root, MSG_PART_PGP_CIPHERTEXT, NULL);
	if (err == MS_OK)
		err = pgp_data_entity(head, head_len, body, body_len, true,
		    &plain);
	if (err == MS_OK)
		err = pgp_data_output(out, &cipher);
	if (err == MS_OK) {
		/* the keys passed our checks (KEY-1): gpg's own trust
		 * computation is not asked again */
		flags = GPGME_ENCRYPT_ALWAYS_TRUST |
		    GPGME_ENCRYPT_NO_ENCRYPT_TO |
		    (hide ? GPGME_ENCRYPT_THROW_KEYIDS : 0) |
		    (mostly_encoded(body, body_len) ?
		    GPGME_ENCRYPT_NO_COMPRESS : 0);
		gpgme_set_armor(pgp, 1);
		gerr = gpgme_op_encrypt(pgp, recp, flags, plain, cipher);
		result = gpgme_op_encrypt_result(pgp);
		if (!gerr && (result == NULL ||
		    result->invalid_recipients != NULL))
			gerr = gpg_error(GPG_ERR_UNUSABLE_PUBKEY);
		/* fail closed: gpg can end "successfully" without output */
		if (!gerr && pgp_output_bytes() == before)
			gerr = gpg_error(GPG_ERR_GENERAL);
		if (gerr)
			err = key_refusal(pgp_error(gerr, "encrypt"), gerr);
	}
	if (err == MS_OK)
		err = msg_write_close(out, &root);
	gpgme_data_release(plain);
	gpgme_data_release(cipher);
	g_free(recp);
	msg_root_clear(&root);
	return err;
}

/* ---- PGP/INLINE: every part encrypted in place ---- */

typedef struct inline_job {
	gpgme_ctx_t pgp;
	gpgme_key_t *recp;
	gpgme_encrypt_flags_t flags;
	ms_err err;
} inline_job;

/* encrypt_bytes - data encrypted, armored or binary, into *out */
static ms_err
encrypt_bytes(inline_job *job, const guint8 *data, size_t len, bool armor,
    GByteArray **out)
{
	gpgme_data_t in = NULL, cipher = NULL;
	gpgme_encrypt_result_t result;
	gpgme_error_t gerr;
	char *buf;
	size_t blen = 0;

	*out = NULL;
	if (gpgme_data_new_from_mem(&in, (const char *)data, len, 0) ||
	    gpgme_data_new(&cipher)) {
		gpgme_data_release(in);
		return MS_INTERNAL;
	}
	gpgme_set_armor(job->pgp, armor);
	gerr = gpgme_op_encrypt(job->pgp, job->recp, job->flags, in, cipher);
	result = gpgme_op_encrypt_result(job->pgp);
	if (!gerr && (result == NULL || result->invalid_recipients != NULL))
		gerr = gpg_error(GPG_ERR_UNUSABLE_PUBKEY);
	gpgme_data_release(in);
	buf = gpgme_data_release_and_get_mem(cipher, &blen);
	if (!gerr && (buf == NULL || blen == 0))
		gerr = gpg_error(GPG_ERR_GENERAL);	/* fail closed */
	if (gerr) {
		gpgme_free(buf);
		return pgp_error(gerr, "encrypt");
	}
	*out = g_byte_array_sized_new((guint)blen);
	g_byte_array_append(*out, (const guint8 *)buf, (guint)blen);
	gpgme_free(buf);
	return MS_OK;
}

static void
set_bytes(GMimePart *part, GByteArray *data, GMimeContentEncoding enc)
{
	GMimeStream *s = g_mime_stream_mem_new();
	GMimeDataWrapper *w;

	g_mime_stream_write(s, (const char *)data->data, data->len);
	g_mime_stream_reset(s);
	w = g_mime_data_wrapper_new_with_stream(s,
	    GMIME_CONTENT_ENCODING_DEFAULT);
	g_mime_part_set_content(part, w);
	g_mime_part_set_content_encoding(part, enc);
	g_object_unref(w);
	g_object_unref(s);
}

/* encrypt_leaf - a text part is replaced by its armored ciphertext; any
 * other part by an attachment NAME.pgp of binary OpenPGP data; returns
 * the replacement object (new reference) or NULL when obj was changed in
 * place */
static GMimeObject *
encrypt_leaf(inline_job *job, GMimeObject *obj)
{
	GMimeContentType *ct = g_mime_object_get_content_type(obj);
	GMimeContentDisposition *cd = g_mime_object_get_content_disposition(obj);
	bool attachment = cd != NULL &&
	    g_mime_content_disposition_is_attachment(cd);
	GByteArray *plain = NULL, *cipher = NULL;
	GMimePart *out;
	const char *name;
	char *file;

	if (GMIME_IS_PART(obj))
		plain = msg_part_content(obj, limits_get()->message_size);
	else {
		/* a forwarded message: encrypted whole, as an attachment */
		GMimeStream *s;

		plain = g_byte_array_new();
		s = g_mime_stream_mem_new_with_byte_array(plain);
		g_mime_stream_mem_set_owner(GMIME_STREAM_MEM(s), FALSE);
		g_mime_object_write_to_stream(obj, NULL, s);
		g_object_unref(s);
	}
	if (plain == NULL) {
		job->err = MS_INTERNAL;
		return NULL;
	}
	if (GMIME_IS_PART(obj) && !attachment &&
	    g_mime_content_type_is_type(ct, "text", "plain")) {
		job->err = encrypt_bytes(job, plain->data, plain->len, true,
		    &cipher);
		if (job->err == MS_OK)
			set_bytes(GMIME_PART(obj), cipher,
			    GMIME_CONTENT_ENCODING_7BIT);
		out = NULL;
		goto done;
	}
	job->err = encrypt_bytes(job, plain->data, plain->len, false, &cipher);
	if (job->err != MS_OK) {
		out = NULL;
		goto done;
	}
	name = GMIME_IS_PART(obj) ? g_mime_part_get_filename(GMIME_PART(obj)) :
	    NULL;
	if (name == NULL || *name == '\0')
		name = g_mime_content_type_is_type(ct, "text", "html") ?
		    "message.html" : GMIME_IS_MESSAGE_PART(obj) ?
		    "forwarded.eml" : "attachment";
	file = g_strdup_printf("%s.pgp", name);
	out = g_mime_part_new_with_type("application", "octet-stream");
	set_bytes(out, cipher, GMIME_CONTENT_ENCODING_BASE64);
	g_mime_object_set_disposition(GMIME_OBJECT(out), "attachment");
	g_mime_part_set_filename(out, file);
	g_free(file);
done:
	secret_bytes_free(plain);
	if (cipher != NULL)
		g_byte_array_free(cipher, TRUE);
	return out ? GMIME_OBJECT(out) : NULL;
}

/* inline_leaf - encrypt_leaf as msg_replace_leaves calls it */
static GMimeObject *
inline_leaf(GMimeObject *obj, void *data, ms_err *err)
{
	inline_job *job = data;
	GMimeObject *repl = encrypt_leaf(job, obj);

	*err = job->err;
	return repl;
}

/* drop_html_alternatives - users of inline PGP read the text part: the
 * HTML alternatives of a multipart/alternative that has one are left
 * out rather than sent in the clear or as an unreadable attachment */
static void
drop_html_alternatives(GMimeMultipart *mp, void *data)
{
	bool has_text = false;

	(void)data;
	if (!g_mime_content_type_is_type(g_mime_object_get_content_type(
	    GMIME_OBJECT(mp)), "multipart", "alternative"))
		return;
	for (int i = 0; i < g_mime_multipart_get_count(mp); i++)
		if (g_mime_content_type_is_type(g_mime_object_get_content_type(
		    g_mime_multipart_get_part(mp, i)), "text", "plain"))
			has_text = true;
	if (!has_text)
		return;
	for (int i = g_mime_multipart_get_count(mp) - 1; i >= 0; i--)
		if (g_mime_content_type_is_type(g_mime_object_get_content_type(
		    g_mime_multipart_get_part(mp, i)), "text", "html"))
			g_object_unref(g_mime_multipart_remove_at(mp, i));
}

ms_err
pgenc_encrypt_inline(gpgme_ctx_t pgp, ms_message *msg, GPtrArray *keys,
    bool hide, ms_output *out)
{
	inline_job job = { pgp, NULL, 0, MS_OK };
	msg_problem problem;
	GByteArray *bytes;

	if (msg_parse_full(msg, &problem) != MS_OK)
		return filter_refuse(msg_problem_status(problem), "%s",
		    msg_problem_text(problem));
	job.recp = key_list(keys);
	job.flags = GPGME_ENCRYPT_ALWAYS_TRUST | GPGME_ENCRYPT_NO_ENCRYPT_TO |
	    (hide ? GPGME_ENCRYPT_THROW_KEYIDS : 0);
	job.err = msg_replace_leaves(msg, inline_leaf, drop_html_alternatives,
	    &job);
	g_free(job.recp);
	if (job.err == MS_NOTFOUND || job.err == MS_DATA)
		return filter_refuse("5.7.1", "a recipient's OpenPGP key "
		    "cannot be used");
	if (job.err != MS_OK)
		return job.err;
	bytes = msg_serialize(GMIME_OBJECT(msg->mime));
	if (bytes == NULL)
		return MS_INTERNAL;
	job.err = output_write_lf(out, (const char *)bytes->data, bytes->len);
	g_byte_array_free(bytes, TRUE);
	return job.err;
}
