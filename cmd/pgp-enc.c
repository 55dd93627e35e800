/*
 * pgp-enc - encrypt a message as PGP/MIME (RFC 3156) to the OpenPGP keys
 * of every envelope recipient (pgp-enc(1)).  Every recipient must be
 * covered, otherwise nothing is written and the exit is 69 (ENC-1).
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
#include "settings.h"

#include <string.h>

static const char usage[] =
"usage: pgp-enc [--store DIR] [-q QUEUEID] [--inline] [--hide-recipients]\n"
"               [--force] RECIPIENT ...\n"
"       pgp-enc -h | --version\n";

static int opt_hide, opt_force, opt_inline;
static const char *opt_queue_id;

static struct poptOption options[] = {
	{ NULL, 'q', POPT_ARG_STRING, &opt_queue_id, 0, NULL, NULL },
	{ "inline", '\0', POPT_ARG_NONE, &opt_inline, 0, NULL, NULL },
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

/* want_inline - --inline, or every recipient's pgp-format is inline */
static bool
want_inline(ms_filter *f, const char **recipients)
{
	bool all = recipients[0] != NULL;

	if (opt_inline)
		return true;
	for (int i = 0; all && recipients[i] != NULL; i++) {
		ms_settings *s = NULL;
		ms_addr addr;
		const char *why;

		if (addr_parse_str(recipients[i], &addr, &why) != MS_OK)
			return false;
		if (settings_load(f->store, &addr, &s) != MS_OK ||
		    strcmp(settings_get(s, "pgp-format"), "inline") != 0)
			all = false;
		settings_free(s);
		addr_clear(&addr);
	}
	return all;
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
	const char *fpr;
	ms_err err;

	*key = NULL;
	err = settings_load(f->store, addr, &s);
	if (err != MS_OK)
		return err;
	fpr = settings_get(s, "pgp-domain-key");
	err = *fpr == '\0' ? MS_NOTFOUND :
	    pgp_domain_key(pgp, fpr, addr->domain, key);
	settings_free(s);
	return err;
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
	msg_root root = { .type = MSG_ROOT_ENCRYPTED_PGP,
	    .boundary = msg_boundary_new("=-mailseal-pgp-", NULL, 0, NULL, 0) };
	ms_err err;

	for (guint i = 0; i < keys->len; i++)
		recp[i] = g_ptr_array_index(keys, i);
	g_string_append_c(content, '\n');
	err = msg_write_root(out, outer, &root);
	if (err == MS_OK)
		err = msg_write_part(out, &root, MSG_PART_PGP_VERSION, NULL);
	if (err == MS_OK)
		err = msg_write_part(out, &root, MSG_PART_PGP_CIPHERTEXT, NULL);
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
	if (err == MS_OK)
		err = msg_write_close(out, &root);
	gpgme_data_release(plain);
	gpgme_data_release(cipher);
	g_free(recp);
	msg_root_clear(&root);
	g_string_free(outer, TRUE);
	g_string_free(content, TRUE);
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

/* inline_leaf - a text part is replaced by its armored ciphertext; any
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

static ms_err
encrypt_inline(gpgme_ctx_t pgp, ms_message *msg, GPtrArray *keys,
    ms_output *out)
{
	inline_job job = { pgp, NULL, 0, MS_OK };
	msg_problem problem;
	GByteArray *bytes;

	if (msg_parse_full(msg, &problem) != MS_OK)
		return filter_refuse(msg_problem_status(problem), "%s",
		    msg_problem_text(problem));
	job.recp = g_new0(gpgme_key_t, keys->len + 1);
	for (guint i = 0; i < keys->len; i++)
		job.recp[i] = g_ptr_array_index(keys, i);
	job.flags = GPGME_ENCRYPT_ALWAYS_TRUST | GPGME_ENCRYPT_NO_ENCRYPT_TO |
	    (opt_hide ? GPGME_ENCRYPT_THROW_KEYIDS : 0);
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
	ritual_queue_id(opt_queue_id);
	diag_set_quiet(true);
	/* gpg's start-up probe runs while the message is read */
	pgp_start();
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
			diag_list_append(uncovered, recipients[i]);
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
	if (err != MS_OK)
		goto out;
	if (uncovered->len > 0) {
		err = filter_refuse("5.7.1", "no usable OpenPGP key for: %s",
		    uncovered->str);
		goto out;
	}
	err = want_inline(&f, recipients) ?
	    encrypt_inline(pgp, f.msg, keys, out) :
	    encrypt_message(pgp, f.msg, keys, out);
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
