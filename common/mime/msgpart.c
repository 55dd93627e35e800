/*
 * msgpart.c - the root view of a message (see msgpart.h).  The only byte
 * scanning here is the RFC 2046 delimiter search that finds the raw
 * signed part of a multipart/signed, whose structure GMime has already
 * established, and the search for OpenPGP armor lines in a decoded
 * text/plain root; everything else goes through GMime.  ENC-7's "already
 * encrypted" asks smime.c whether enveloped DER is what it claims.
 */
#include "msgpart.h"
#include "secret.h"
#include "diag.h"
#include "mslimits.h"
#include "smime.h"

#include <gpgme.h>
#include <sodium.h>
#include <string.h>

/* base64 content is decoded in blocks of this many characters */
#define CONTENT_BLOCK 65536

static char *decoded_text(const char *raw);
static msg_kind structural_kind(ms_message *msg);

/* content_type_is - root content type matches type/subtype */
static bool
content_type_is(GMimeObject *obj, const char *type, const char *subtype)
{
	GMimeContentType *ct = obj ? g_mime_object_get_content_type(obj) :
	    NULL;

	return ct != NULL && g_mime_content_type_is_type(ct, type, subtype);
}

static const char *
ct_param(GMimeObject *obj, const char *name)
{
	GMimeContentType *ct = g_mime_object_get_content_type(obj);

	return ct ? g_mime_content_type_get_parameter(ct, name) : NULL;
}

/* armor_line - text has a line that starts with armor */
static bool
armor_line(const GByteArray *text, const char *armor)
{
	const char *p = (const char *)text->data, *end;
	size_t n = strlen(armor);

	if (p == NULL || text->len == 0)
		return false;	/* an empty body (its data may be NULL) */
	end = p + text->len;
	while (p < end) {
		const char *hit = memmem(p, (size_t)(end - p), armor, n);

		if (hit == NULL)
			return false;
		if (hit == (const char *)text->data || hit[-1] == '\n')
			return true;
		p = hit + 1;
	}
	return false;
}

ms_err
msg_root_text(ms_message *msg, size_t max, GByteArray **out)
{
	GMimeObject *root = g_mime_message_get_mime_part(msg->mime);

	*out = NULL;
	if (root == NULL || !GMIME_IS_PART(root) ||
	    !content_type_is(root, "text", "plain"))
		return MS_NOTFOUND;
	return msg_root_decoded(msg, max, out);
}

/* inline_kind - the kind of a text/plain root by its armor lines */
static msg_kind
inline_kind(ms_message *msg)
{
	GByteArray *text;
	msg_kind kind = MSG_KIND_PLAIN;

	if (msg_root_text(msg, limits_get()->message_size, &text) != MS_OK)
		return MSG_KIND_PLAIN;
	if (armor_line(text, "-----BEGIN PGP MESSAGE-----"))
		kind = MSG_KIND_PGP_INLINE_ENCRYPTED;
	else if (armor_line(text, "-----BEGIN PGP SIGNED MESSAGE-----"))
		kind = MSG_KIND_PGP_INLINE_SIGNED;
	g_byte_array_free(text, TRUE);
	return kind;
}

msg_kind
msg_root_kind(ms_message *msg)
{
	msg_kind kind = structural_kind(msg);

	return kind == MSG_KIND_PLAIN ? inline_kind(msg) : kind;
}

/* openpgp_encrypted - the part holds OpenPGP encrypted data (a public-
 * or symmetric-key encrypted session key first), armored or not, as
 * GPGME identifies it */
static bool
openpgp_encrypted(GMimeObject *part)
{
	GByteArray *data = msg_part_content(part, limits_get()->message_size);
	gpgme_data_t dh = NULL;
	bool yes = false;

	(void)gpgme_check_version(NULL);	/* once; starts no process */
	if (data->len > 0 && gpgme_data_new_from_mem(&dh,
	    (const char *)data->data, data->len, 0) == 0) {
		yes = gpgme_data_identify(dh, 0) ==
		    GPGME_DATA_TYPE_PGP_ENCRYPTED;
		gpgme_data_release(dh);
	}
	g_byte_array_free(data, TRUE);
	return yes;
}

/* pgp_mime_second - the second part of obj when obj is a PGP/MIME
 * encrypted entity of RFC 3156's shape, and with identify only when the
 * part holds OpenPGP encrypted data, or NULL.  Outgoing, anything else
 * dressed as one is no encrypted message, and is scanned and protected
 * like plain mail; incoming, a decryption of the shape that fails is
 * reported as failed (DEC-1) */
static GMimeObject *
pgp_mime_second(GMimeObject *obj, bool identify)
{
	GMimeObject *first, *second;
	GMimeMultipart *mp;
	const char *protocol = ct_param(obj, "protocol");
	GByteArray *version;
	bool ok;

	if (!GMIME_IS_MULTIPART(obj) ||
	    !content_type_is(obj, "multipart", "encrypted") ||
	    protocol == NULL ||
	    g_ascii_strcasecmp(protocol, "application/pgp-encrypted") != 0)
		return NULL;
	mp = GMIME_MULTIPART(obj);
	if (g_mime_multipart_get_count(mp) != 2)
		return NULL;
	first = g_mime_multipart_get_part(mp, 0);
	second = g_mime_multipart_get_part(mp, 1);
	if (!GMIME_IS_PART(first) || !GMIME_IS_PART(second) ||
	    !content_type_is(first, "application", "pgp-encrypted"))
		return NULL;
	version = msg_part_content(first, 4096);
	ok = g_strstr_len((const char *)version->data, (gssize)version->len,
	    "Version: 1") != NULL;
	g_byte_array_free(version, TRUE);
	return ok && (!identify || openpgp_encrypted(second)) ? second : NULL;
}

/* pgp_mime_ciphertext_part - the second part of a PGP/MIME encrypted
 * root (pgp_mime_second), or NULL */
static GMimeObject *
pgp_mime_ciphertext_part(ms_message *msg, bool identify)
{
	msg_problem problem;

	if (structural_kind(msg) != MSG_KIND_PGP_ENCRYPTED ||
	    msg_parse_full(msg, &problem) != MS_OK)
		return NULL;
	return pgp_mime_second(g_mime_message_get_mime_part(msg->mime),
	    identify);
}

GByteArray *
msg_pgp_mime_ciphertext(ms_message *msg, size_t max)
{
	GMimeObject *part = pgp_mime_ciphertext_part(msg, false);

	return part != NULL ? msg_part_content(part, max) : NULL;
}

bool
msg_root_encrypted(ms_message *msg)
{
	msg_kind kind = structural_kind(msg);
	GByteArray *der;
	bool aead, yes;
	const char *why;

	if (kind == MSG_KIND_PGP_ENCRYPTED)
		return pgp_mime_ciphertext_part(msg, true) != NULL;
	if (kind != MSG_KIND_SMIME_ENVELOPED && kind != MSG_KIND_SMIME_PKCS7)
		return false;
	if (msg_root_decoded(msg, limits_get()->message_size, &der) != MS_OK)
		return false;
	yes = smime_check_enveloped(der->data, der->len, &aead, &why) ==
	    MS_OK;
	g_byte_array_free(der, TRUE);
	return yes;
}

/* structural_kind - the kind of the root by its MIME structure alone */
static msg_kind
structural_kind(ms_message *msg)
{
	GMimeObject *root = g_mime_message_get_mime_part(msg->mime);
	const char *param;
	msg_problem problem;

	if (root == NULL)
		return MSG_KIND_PLAIN;
	/* the shape of a signed or encrypted multipart is part of its kind:
	 * a headers-only message is parsed in full first */
	if (msg->headers_only && (content_type_is(root, "multipart", "signed")
	    || content_type_is(root, "multipart", "encrypted"))) {
		bool is_signed = content_type_is(root, "multipart", "signed");

		if (msg_parse_full(msg, &problem) != MS_OK || msg->mime == NULL)
			return is_signed ? MSG_KIND_SIGNED_MALFORMED :
			    MSG_KIND_PLAIN;
		root = g_mime_message_get_mime_part(msg->mime);
		if (root == NULL)
			return MSG_KIND_PLAIN;
	}
	if (content_type_is(root, "application", "pkcs7-mime") ||
	    content_type_is(root, "application", "x-pkcs7-mime")) {
		param = ct_param(root, "smime-type");
		if (param != NULL && (g_ascii_strcasecmp(param,
		    "enveloped-data") == 0 || g_ascii_strcasecmp(param,
		    "authEnveloped-data") == 0))
			return MSG_KIND_SMIME_ENVELOPED;
		if (param != NULL && g_ascii_strcasecmp(param,
		    "signed-data") == 0)
			return MSG_KIND_SMIME_OPAQUE;
		return MSG_KIND_SMIME_PKCS7;
	}
	if (content_type_is(root, "multipart", "encrypted")) {
		param = ct_param(root, "protocol");
		if (param != NULL && g_ascii_strcasecmp(param,
		    "application/pgp-encrypted") == 0)
			return MSG_KIND_PGP_ENCRYPTED;
		return MSG_KIND_PLAIN;
	}
	if (content_type_is(root, "multipart", "signed")) {
		GMimeMultipart *mp = GMIME_IS_MULTIPART(root) ?
		    GMIME_MULTIPART(root) : NULL;
		GMimeObject *sig;

		param = ct_param(root, "protocol");
		/* RFC 1847: exactly two parts, the second of the type the
		 * protocol parameter names (VER-2) */
		if (mp == NULL || g_mime_multipart_get_count(mp) != 2 ||
		    param == NULL)
			return MSG_KIND_SIGNED_MALFORMED;
		sig = g_mime_multipart_get_part(mp, 1);
		if ((g_ascii_strcasecmp(param,
		    "application/pkcs7-signature") == 0 ||
		    g_ascii_strcasecmp(param,
		    "application/x-pkcs7-signature") == 0) &&
		    (content_type_is(sig, "application", "pkcs7-signature") ||
		    content_type_is(sig, "application", "x-pkcs7-signature")))
			return MSG_KIND_SMIME_DETACHED;
		if (g_ascii_strcasecmp(param,
		    "application/pgp-signature") == 0 &&
		    content_type_is(sig, "application", "pgp-signature"))
			return MSG_KIND_PGP_SIGNED;
		return MSG_KIND_SIGNED_MALFORMED;
	}
	return MSG_KIND_PLAIN;
}

size_t
msg_body_offset(const ms_message *msg)
{
	size_t pos = msg->headers_end;

	if (pos >= msg->raw_len)
		return msg->raw_len;
	if (msg->raw[pos] == '\r' && pos + 1 < msg->raw_len &&
	    msg->raw[pos + 1] == '\n')
		return pos + 2;
	if (msg->raw[pos] == '\n')
		return pos + 1;
	return pos;	/* no blank line: the input was headers only */
}

/* append_list - "Name:raw-value" for each field of list */
static void
append_list(GString *out, GMimeHeaderList *list)
{
	int count = list ? g_mime_header_list_get_count(list) : 0;

	for (int i = 0; i < count; i++) {
		GMimeHeader *h = g_mime_header_list_get_header_at(list, i);
		const char *raw = g_mime_header_get_raw_value(h);
		const char *name = g_mime_header_get_raw_name(h);

		/* the name as received, blanks before the colon kept */
		g_string_append(out, name != NULL ? name :
		    g_mime_header_get_name(h));
		g_string_append_c(out, ':');
		/* line ends towards sendmail are LF (MIME-A2): the CR of a
		 * CRLF input is dropped, a bare CR becomes a space */
		for (const char *p = raw ? raw : ""; *p; p++) {
			if (*p == '\r' && p[1] == '\n')
				continue;
			g_string_append_c(out, *p == '\r' ? ' ' : *p);
		}
		if (out->len == 0 || out->str[out->len - 1] != '\n')
			g_string_append_c(out, '\n');
	}
}

GString *
msg_outer_headers(const ms_message *msg)
{
	GString *out = g_string_new(NULL);

	append_list(out, g_mime_object_get_header_list(GMIME_OBJECT(msg->mime)));
	return out;
}

GString *
msg_content_headers(const ms_message *msg)
{
	GString *out = g_string_new(NULL);
	GMimeObject *root = g_mime_message_get_mime_part(msg->mime);

	if (root != NULL)
		append_list(out, g_mime_object_get_header_list(root));
	return out;
}

ms_err
msg_root_decoded(const ms_message *msg, size_t max, GByteArray **out)
{
	GMimeObject *root = g_mime_message_get_mime_part(msg->mime);
	GMimeContentEncoding encoding;
	GMimeStream *raw, *filtered, *sink;
	GByteArray *data;
	size_t body = msg_body_offset(msg);
	gint64 written;

	*out = NULL;
	if (root == NULL || !GMIME_IS_PART(root))
		return MS_DATA;
	/* decode the raw body directly, in either read mode: the root is a
	 * single part, so its body is everything after the header */
	encoding = g_mime_part_get_content_encoding(GMIME_PART(root));
	raw = g_mime_stream_substream(msg->stream, (gint64)body,
	    (gint64)msg->raw_len);
	filtered = g_mime_stream_filter_new(raw);
	if (encoding == GMIME_CONTENT_ENCODING_BASE64 ||
	    encoding == GMIME_CONTENT_ENCODING_QUOTEDPRINTABLE ||
	    encoding == GMIME_CONTENT_ENCODING_UUENCODE) {
		GMimeFilter *decoder = g_mime_filter_basic_new(encoding, FALSE);

		g_mime_stream_filter_add(GMIME_STREAM_FILTER(filtered),
		    decoder);
		g_object_unref(decoder);
	}
	data = g_byte_array_new();
	sink = g_mime_stream_mem_new_with_byte_array(data);
	g_mime_stream_mem_set_owner(GMIME_STREAM_MEM(sink), FALSE);
	written = g_mime_stream_write_to_stream(filtered, sink);
	g_object_unref(sink);
	g_object_unref(filtered);
	g_object_unref(raw);
	if (written < 0 || data->len > max) {
		g_byte_array_free(data, TRUE);
		return MS_DATA;
	}
	*out = data;
	return MS_OK;
}

/* delimiter_line - is the line at p a delimiter for boundary, and is it
 * the closing one (RFC 2046 5.1.1: "--" boundary, optional "--", then
 * only linear white space) */
static bool
delimiter_line(const char *p, size_t left, const char *boundary,
    size_t blen, bool *closing)
{
	size_t i;

	if (left < blen + 2 || p[0] != '-' || p[1] != '-' ||
	    memcmp(p + 2, boundary, blen) != 0)
		return false;
	i = blen + 2;
	*closing = false;
	if (i + 1 < left && p[i] == '-' && p[i + 1] == '-') {
		*closing = true;
		i += 2;
	}
	for (; i < left && p[i] != '\n'; i++)
		if (p[i] != ' ' && p[i] != '\t' && p[i] != '\r')
			return false;
	return true;
}

/* to_crlf - canonical form: every line ends in CRLF; with bare_cr, a
 * bare CR is a line end too, as msg_crlf_to_lf writes it, so what we sign
 * is what a receiver reads (received signed bytes keep theirs) */
static GByteArray *
to_crlf(const char *data, size_t len, bool bare_cr)
{
	GByteArray *out = g_byte_array_sized_new((guint)(len + len / 32 + 2));

	for (size_t i = 0; i < len; i++) {
		if (data[i] == '\n' && (i == 0 || data[i - 1] != '\r'))
			g_byte_array_append(out, (const guint8 *)"\r", 1);
		g_byte_array_append(out, (const guint8 *)data + i, 1);
		if (bare_cr && data[i] == '\r' &&
		    (i + 1 == len || data[i + 1] != '\n'))
			g_byte_array_append(out, (const guint8 *)"\n", 1);
	}
	return out;
}

ms_err
msg_signed_parts(ms_message *msg, GByteArray **content,
    GByteArray **signature, const char **why)
{
	GMimeObject *root;
	msg_problem problem;
	GMimeMultipart *mp;
	const char *boundary, *body, *start = NULL, *end = NULL;
	size_t blen, body_len, pos;
	GMimeObject *sig;
	GMimeDataWrapper *wrapper;
	GMimeStream *stream;
	int found = 0;

	*content = *signature = NULL;
	if (msg_parse_full(msg, &problem) != MS_OK) {
		*why = msg_problem_text(problem);
		return MS_DATA;
	}
	root = g_mime_message_get_mime_part(msg->mime);
	if (root == NULL || !GMIME_IS_MULTIPART(root)) {
		*why = "not a multipart";
		return MS_DATA;
	}
	mp = GMIME_MULTIPART(root);
	boundary = g_mime_multipart_get_boundary(mp);
	if (boundary == NULL || g_mime_multipart_get_count(mp) != 2) {
		*why = "malformed multipart/signed";
		return MS_DATA;
	}
	blen = strlen(boundary);
	/* the bytes as received: a header section the reader ended with an
	 * empty line of its own was signed without it */
	body = msg_received(msg, &body_len);
	pos = msg_received_offset(msg, msg_body_offset(msg));
	body += pos;
	body_len -= pos;
	/* walk the lines of the body; part 1 lies between the first and the
	 * second delimiter, without the line break before the second */
	for (size_t i = 0; i < body_len && found < 2;) {
		const char *line = body + i;
		const char *nl = memchr(line, '\n', body_len - i);
		size_t line_len = nl ? (size_t)(nl - line) + 1 : body_len - i;
		bool closing;

		if (delimiter_line(line, line_len, boundary, blen, &closing)) {
			if (found == 0 && !closing) {
				start = line + line_len;
				found = 1;
			} else if (found == 1) {
				end = line;
				found = 2;
			}
		}
		i += line_len;
	}
	if (found < 2 || end < start) {
		*why = "multipart/signed delimiters not found";
		return MS_DATA;
	}
	/* the line break before a delimiter belongs to the delimiter */
	if (end > start && end[-1] == '\n')
		end--;
	if (end > start && end[-1] == '\r')
		end--;
	*content = to_crlf(start, (size_t)(end - start), false);

	sig = g_mime_multipart_get_part(mp, 1);
	if (!GMIME_IS_PART(sig) ||
	    (wrapper = g_mime_part_get_content(GMIME_PART(sig))) == NULL) {
		g_byte_array_free(*content, TRUE);
		*content = NULL;
		*why = "signature part has no content";
		return MS_DATA;
	}
	*signature = g_byte_array_new();
	stream = g_mime_stream_mem_new_with_byte_array(*signature);
	g_mime_stream_mem_set_owner(GMIME_STREAM_MEM(stream), FALSE);
	if (g_mime_data_wrapper_write_to_stream(wrapper, stream) < 0 ||
	    (*signature)->len == 0 || (*signature)->len > LIMIT_STORE_OBJECT) {
		g_object_unref(stream);
		g_byte_array_free(*signature, TRUE);
		g_byte_array_free(*content, TRUE);
		*signature = *content = NULL;
		*why = "signature part unreadable";
		return MS_DATA;
	}
	g_object_unref(stream);
	return MS_OK;
}

/* one_mailbox - the only mailbox of a header field, or NULL */
static InternetAddressMailbox *
one_mailbox(InternetAddressList *list)
{
	InternetAddress *a;

	if (list == NULL || internet_address_list_length(list) != 1)
		return NULL;
	a = internet_address_list_get_address(list, 0);
	return INTERNET_ADDRESS_IS_MAILBOX(a) ?
	    INTERNET_ADDRESS_MAILBOX(a) : NULL;
}

/* list_names - an address list (groups opened) names addr */
static bool
list_names(InternetAddressList *list, const ms_addr *addr, int depth)
{
	for (int i = 0; list != NULL && i < internet_address_list_length(list);
	    i++) {
		InternetAddress *ia = internet_address_list_get_address(list, i);

		if (INTERNET_ADDRESS_IS_GROUP(ia) && depth == 0) {
			if (list_names(internet_address_group_get_members(
			    INTERNET_ADDRESS_GROUP(ia)), addr, depth + 1))
				return true;
		} else if (INTERNET_ADDRESS_IS_MAILBOX(ia)) {
			ms_addr got;
			const char *why;
			bool same;

			if (addr_parse_str(internet_address_mailbox_get_addr(
			    INTERNET_ADDRESS_MAILBOX(ia)), &got, &why) != MS_OK)
				continue;
			same = addr_equal(&got, addr);
			addr_clear(&got);
			if (same)
				return true;
		}
	}
	return false;
}

bool
msg_names_recipient(const ms_message *msg, const ms_addr *addr)
{
	return list_names(g_mime_message_get_addresses(msg->mime,
	    GMIME_ADDRESS_TYPE_TO), addr, 0) ||
	    list_names(g_mime_message_get_addresses(msg->mime,
	    GMIME_ADDRESS_TYPE_CC), addr, 0);
}

ms_err
msg_from_address(const ms_message *msg, ms_addr *from, const char **why)
{
	GMimeHeaderList *list =
	    g_mime_object_get_header_list(GMIME_OBJECT(msg->mime));
	InternetAddressMailbox *mb;
	const char *name;
	int froms = 0, senders = 0;
	ms_err err;

	memset(from, 0, sizeof(*from));
	for (int i = 0; i < g_mime_header_list_get_count(list); i++) {
		name = g_mime_header_get_name(
		    g_mime_header_list_get_header_at(list, i));
		if (g_ascii_strcasecmp(name, "From") == 0)
			froms++;
		else if (g_ascii_strcasecmp(name, "Sender") == 0)
			senders++;
	}
	if (froms != 1) {
		*why = froms == 0 ? "no From field" : "several From fields";
		return MS_DATA;
	}
	mb = one_mailbox(g_mime_message_get_from(msg->mime));
	if (mb == NULL) {
		*why = "From is not a single mailbox";
		return MS_DATA;
	}
	/* Johnny i2: a display name that looks like an address misleads */
	name = internet_address_get_name(INTERNET_ADDRESS(mb));
	if (name != NULL && strchr(name, '@') != NULL) {
		*why = "From display name contains an address";
		return MS_DATA;
	}
	err = addr_parse_str(internet_address_mailbox_get_addr(mb), from, why);
	if (err != MS_OK)
		return MS_DATA;
	if (senders > 0) {
		InternetAddressMailbox *smb = one_mailbox(
		    g_mime_message_get_sender(msg->mime));
		ms_addr sender;
		const char *swhy;

		if (senders > 1 || smb == NULL || addr_parse_str(
		    internet_address_mailbox_get_addr(smb), &sender, &swhy) !=
		    MS_OK) {
			addr_clear(from);
			*why = "unusable Sender field";
			return MS_DATA;
		}
		if (!addr_equal(&sender, from)) {
			addr_clear(&sender);
			addr_clear(from);
			*why = "Sender differs from From";
			return MS_DATA;
		}
		addr_clear(&sender);
	}
	return MS_OK;
}

/* fragile_line - the line at p (len octets, its line end left out) may be
 * changed on the way: it ends in a space or tab, which a relay may strip,
 * or it starts with "From ", which an mbox writer turns into ">From "
 * (RFC 3156 section 5) */
static bool
fragile_line(const unsigned char *p, size_t len)
{
	return (len > 0 && (p[len - 1] == ' ' || p[len - 1] == '\t')) ||
	    (len >= 5 && memcmp(p, "From ", 5) == 0);
}

/* fragile_text - some line of p is fragile_line */
static bool
fragile_text(const unsigned char *p, size_t len)
{
	size_t start = 0;

	for (size_t i = 0; i <= len; i++) {
		if (i < len && p[i] != '\n')
			continue;
		{
			size_t end = i;

			if (end > start && p[end - 1] == '\r')
				end--;
			if (fragile_line(p + start, end - start))
				return true;
		}
		start = i + 1;
	}
	return false;
}

/* fragile_part - the content of a 7-bit leaf part has a fragile line; a
 * part too large to look at counts as fragile */
static bool
fragile_part(GMimeObject *obj)
{
	GByteArray *data = msg_part_content(obj, limits_get()->message_size);
	bool fragile;

	if (data == NULL)
		return true;
	fragile = fragile_text(data->data, data->len);
	g_byte_array_free(data, TRUE);
	return fragile;
}

/* armor_qp - make part quoted-printable with every "From " at the start
 * of a line written "=46rom " (GMime's encoder leaves it as it is); false
 * when the content cannot be read */
static bool
armor_qp(GMimePart *part)
{
	GByteArray *data = msg_part_content(GMIME_OBJECT(part),
	    limits_get()->message_size);
	GMimeStream *mem, *filtered;
	GMimeFilter *qp, *from;
	GMimeDataWrapper *wrapper;

	if (data == NULL)
		return false;
	mem = g_mime_stream_mem_new();
	filtered = g_mime_stream_filter_new(mem);
	qp = g_mime_filter_basic_new(GMIME_CONTENT_ENCODING_QUOTEDPRINTABLE,
	    TRUE);
	from = g_mime_filter_from_new(GMIME_FILTER_FROM_MODE_ARMOR);
	g_mime_stream_filter_add(GMIME_STREAM_FILTER(filtered), qp);
	g_mime_stream_filter_add(GMIME_STREAM_FILTER(filtered), from);
	g_object_unref(qp);
	g_object_unref(from);
	if (g_mime_stream_write(filtered, (const char *)data->data,
	    data->len) < 0 || g_mime_stream_flush(filtered) < 0) {
		g_object_unref(filtered);
		g_object_unref(mem);
		g_byte_array_free(data, TRUE);
		return false;
	}
	g_object_unref(filtered);
	g_byte_array_free(data, TRUE);
	g_mime_stream_reset(mem);
	wrapper = g_mime_data_wrapper_new_with_stream(mem,
	    GMIME_CONTENT_ENCODING_QUOTEDPRINTABLE);
	g_object_unref(mem);
	g_mime_part_set_content(part, wrapper);
	g_object_unref(wrapper);
	g_mime_part_set_content_encoding(part,
	    GMIME_CONTENT_ENCODING_QUOTEDPRINTABLE);
	return true;
}

/* has_8bit - an octet over 127 in text */
static bool
has_8bit(const char *text, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if ((unsigned char)text[i] >= 0x80)
			return true;
	return false;
}

/* reencode_params - set every parameter of a Content-Type or
 * Content-Disposition again, so GMime writes an 8-bit value with RFC 2231
 * (as UTF-8, the text GMime decoded it to) */
static void
reencode_params(GMimeParamList *params)
{
	int count = params ? g_mime_param_list_length(params) : 0;

	for (int i = 0; i < count; i++) {
		GMimeParam *param = g_mime_param_list_get_parameter_at(params, i);
		char *name = g_strdup(g_mime_param_get_name(param));
		char *value = g_strdup(g_mime_param_get_value(param));

		if (value != NULL && has_8bit(value, strlen(value)))
			g_mime_param_list_set_parameter(params, name, value);
		g_free(name);
		g_free(value);
	}
}

/* headers_7bit - encode obj's header fields that hold raw 8-bit text:
 * parameters with RFC 2231, other values with RFC 2047 */
static void
headers_7bit(GMimeObject *obj)
{
	GMimeHeaderList *list = g_mime_object_get_header_list(obj);
	int count = list ? g_mime_header_list_get_count(list) : 0;
	bool params = false;

	for (int i = 0; i < count; i++) {
		GMimeHeader *h = g_mime_header_list_get_header_at(list, i);
		const char *name = g_mime_header_get_name(h);
		const char *raw = g_mime_header_get_raw_value(h);
		char *text;

		if (raw == NULL || !has_8bit(raw, strlen(raw)))
			continue;
		if (g_ascii_strcasecmp(name, "Content-Type") == 0 ||
		    g_ascii_strcasecmp(name, "Content-Disposition") == 0) {
			params = true;
			continue;
		}
		text = decoded_text(raw);
		g_mime_header_set_value(h, NULL, text, "utf-8");
		g_free(text);
	}
	if (params) {
		GMimeContentType *ct = g_mime_object_get_content_type(obj);
		GMimeContentDisposition *cd =
		    g_mime_object_get_content_disposition(obj);

		if (ct != NULL)
			reencode_params(g_mime_content_type_get_parameters(ct));
		if (cd != NULL)
			reencode_params(
			    g_mime_content_disposition_get_parameters(cd));
	}
}

/* encoded_8bit - the part's content as it stands encoded holds raw 8-bit
 * octets although it is declared base64, quoted-printable or uuencode;
 * GMime would write it unchanged */
static bool
encoded_8bit(GMimePart *part)
{
	GMimeDataWrapper *w = g_mime_part_get_content(part);
	GMimeStream *stream = w ? g_mime_data_wrapper_get_stream(w) : NULL;
	char buf[4096];
	gint64 start;
	bool found = false;
	ssize_t n;

	if (stream == NULL)
		return false;
	start = g_mime_stream_tell(stream);
	g_mime_stream_reset(stream);
	while (!found && (n = g_mime_stream_read(stream, buf, sizeof(buf))) > 0)
		found = has_8bit(buf, (size_t)n);
	g_mime_stream_seek(stream, start, GMIME_STREAM_SEEK_SET);
	return found;
}

/* decode_content - replace the part's content by its decoded bytes, so
 * it is encoded anew when written; false when it cannot be read */
static bool
decode_content(GMimePart *part)
{
	GByteArray *data = msg_part_content(GMIME_OBJECT(part),
	    limits_get()->message_size);
	GMimeStream *mem;
	GMimeDataWrapper *wrapper;

	if (data == NULL)
		return false;
	mem = g_mime_stream_mem_new_with_byte_array(data);	/* owns it */
	wrapper = g_mime_data_wrapper_new_with_stream(mem,
	    GMIME_CONTENT_ENCODING_DEFAULT);
	g_object_unref(mem);
	g_mime_part_set_content(part, wrapper);
	g_object_unref(wrapper);
	return true;
}

/* multipart_7bit - an 8-bit preamble or epilogue, which no transfer encoding
 * can carry and no reader shows, is left out */
static void
multipart_7bit(GMimeMultipart *mp)
{
	const char *text = g_mime_multipart_get_prologue(mp);

	if (text != NULL && has_8bit(text, strlen(text)))
		g_mime_multipart_set_prologue(mp, NULL);
	text = g_mime_multipart_get_epilogue(mp);
	if (text != NULL && has_8bit(text, strlen(text)))
		g_mime_multipart_set_epilogue(mp, NULL);
}

/* multipart_field - a Content-Type field of obj says multipart although
 * GMime read obj as a leaf (it took another of its Content-Type fields):
 * a reader that takes that field reads the body as a multipart, which a
 * transfer encoding of the whole would garble */
static bool
multipart_field(GMimeObject *obj)
{
	GMimeHeaderList *list = g_mime_object_get_header_list(obj);
	int count = list ? g_mime_header_list_get_count(list) : 0;
	bool found = false;

	for (int i = 0; i < count && !found; i++) {
		GMimeHeader *h = g_mime_header_list_get_header_at(list, i);
		const char *value = g_mime_header_get_value(h);
		GMimeContentType *ct;

		if (value == NULL || g_ascii_strcasecmp(
		    g_mime_header_get_name(h), "Content-Type") != 0)
			continue;
		ct = g_mime_content_type_parse(NULL, value);
		found = ct != NULL &&
		    g_mime_content_type_is_type(ct, "multipart", "*");
		if (ct != NULL)
			g_object_unref(ct);
	}
	return found;
}

/* boundary_blank - the boundary of mp ends in white space, which RFC 2046
 * does not allow: readers that strip it take a line of its body that
 * GMime reads as text for a delimiter */
static bool
boundary_blank(GMimeMultipart *mp)
{
	const char *b = g_mime_multipart_get_boundary(mp);
	size_t len = b != NULL ? strlen(b) : 0;

	return len > 0 && (b[len - 1] == ' ' || b[len - 1] == '\t');
}

/* attached_message - the message of mpart, without the mbox envelope line
 * ("From " ...) that GMime keeps in front of an attached message and
 * writes back.  An mbox writer turns that line into ">From " and so
 * breaks the signature, and a message/rfc822 may carry no transfer
 * encoding that would protect it (RFC 2046 5.2.1); the line is no part of
 * the message (RFC 4155).  GMime has no call to drop it: the message is
 * written and read again, which leaves the line out.  A message without
 * header fields is kept as it is (written alone, its body would be read
 * as its header). */
static GMimeMessage *
attached_message(GMimeMessagePart *mpart)
{
	GMimeMessage *inner = g_mime_message_part_get_message(mpart);
	GMimeMessage *fresh;
	GMimeStream *mem;
	GMimeParser *parser;

	if (inner == NULL || g_mime_header_list_get_count(
	    g_mime_object_get_header_list(GMIME_OBJECT(inner))) == 0)
		return inner;
	mem = g_mime_stream_mem_new();
	if (g_mime_object_write_to_stream(GMIME_OBJECT(inner), NULL,
	    mem) < 0) {
		g_object_unref(mem);
		return inner;
	}
	g_mime_stream_reset(mem);
	parser = g_mime_parser_new_with_stream(mem);
	fresh = g_mime_parser_construct_message(parser, NULL);
	g_object_unref(parser);
	g_object_unref(mem);
	if (fresh == NULL)
		return inner;
	g_mime_message_part_set_message(mpart, fresh);
	g_object_unref(fresh);	/* the part holds it */
	return fresh;
}

/* to_7bit - give every leaf part a 7-bit transfer encoding; GMime's own
 * g_mime_object_encode leaves parts declared "binary" alone.  A part
 * that other readers may read with another structure (multipart_field,
 * a child of a multipart with boundary_blank) is never encoded as a
 * whole when its content is 7-bit already: it is kept as it is, fragile
 * lines and all, so every reader reads it as before. */
static void
to_7bit(GMimeObject *root)
{
	GPtrArray *stack = g_ptr_array_new();
	GHashTable *keep = g_hash_table_new(g_direct_hash, g_direct_equal);

	g_ptr_array_add(stack, root);
	while (stack->len > 0) {
		GMimeObject *obj = g_ptr_array_remove_index(stack,
		    stack->len - 1);

		if (GMIME_IS_MULTIPART_SIGNED(obj))
			continue;	/* signed bytes are never changed */
		headers_7bit(obj);
		if (GMIME_IS_MULTIPART(obj)) {
			GMimeMultipart *mp = GMIME_MULTIPART(obj);

			bool blank = boundary_blank(mp);

			multipart_7bit(mp);

			for (int i = g_mime_multipart_get_count(mp) - 1; i >= 0;
			    i--) {
				GMimeObject *child =
				    g_mime_multipart_get_part(mp, i);

				if (blank)
					g_hash_table_add(keep, child);
				g_ptr_array_add(stack, child);
			}
		} else if (GMIME_IS_MESSAGE_PART(obj)) {
			GMimeMessage *inner = attached_message(
			    GMIME_MESSAGE_PART(obj));
			GMimeObject *body = inner ?
			    g_mime_message_get_mime_part(inner) : NULL;

			if (inner != NULL)
				headers_7bit(GMIME_OBJECT(inner));
			if (body != NULL)
				g_ptr_array_add(stack, body);
		} else if (GMIME_IS_PART(obj)) {
			GMimePart *part = GMIME_PART(obj);
			GMimeContentEncoding enc =
			    g_mime_part_get_content_encoding(part);

			if ((enc == GMIME_CONTENT_ENCODING_BASE64 ||
			    enc == GMIME_CONTENT_ENCODING_QUOTEDPRINTABLE ||
			    enc == GMIME_CONTENT_ENCODING_UUENCODE) &&
			    encoded_8bit(part) && decode_content(part)) {
				g_mime_part_set_content_encoding(part,
				    GMIME_CONTENT_ENCODING_8BIT);
				enc = GMIME_CONTENT_ENCODING_8BIT;
			}

			if (enc == GMIME_CONTENT_ENCODING_DEFAULT ||
			    enc == GMIME_CONTENT_ENCODING_7BIT ||
			    enc == GMIME_CONTENT_ENCODING_8BIT ||
			    enc == GMIME_CONTENT_ENCODING_BINARY) {
				GMimeContentEncoding best =
				    g_mime_part_get_best_content_encoding(part,
				    GMIME_ENCODING_CONSTRAINT_7BIT);

				/* GMime answers "default" for plain 7-bit */
				if ((best == GMIME_CONTENT_ENCODING_DEFAULT ||
				    best == GMIME_CONTENT_ENCODING_7BIT) &&
				    (g_hash_table_contains(keep, obj) ||
				    multipart_field(obj))) {
					if (enc != GMIME_CONTENT_ENCODING_DEFAULT)
						g_mime_part_set_content_encoding(
						    part,
						    GMIME_CONTENT_ENCODING_7BIT);
					continue;
				}
				if ((best == GMIME_CONTENT_ENCODING_DEFAULT ||
				    best == GMIME_CONTENT_ENCODING_7BIT ||
				    best ==
				    GMIME_CONTENT_ENCODING_QUOTEDPRINTABLE) &&
				    fragile_part(obj)) {
					if (armor_qp(part))
						continue;
					best = GMIME_CONTENT_ENCODING_QUOTEDPRINTABLE;
				}
				if (best != GMIME_CONTENT_ENCODING_7BIT ||
				    enc == GMIME_CONTENT_ENCODING_8BIT ||
				    enc == GMIME_CONTENT_ENCODING_BINARY)
					g_mime_part_set_content_encoding(part,
					    best);
			}
		}
	}
	g_hash_table_destroy(keep);
	g_ptr_array_free(stack, TRUE);
}

GByteArray *
msg_entity_7bit(ms_message *msg)
{
	GMimeObject *root;
	GByteArray *out;
	GMimeStream *stream;
	GMimeFormatOptions *format;
	msg_problem problem;

	if (msg_parse_full(msg, &problem) != MS_OK)
		return NULL;
	root = g_mime_message_get_mime_part(msg->mime);
	if (root == NULL)
		return NULL;
	to_7bit(root);
	out = g_byte_array_new();
	stream = g_mime_stream_mem_new_with_byte_array(out);
	g_mime_stream_mem_set_owner(GMIME_STREAM_MEM(stream), FALSE);
	format = g_mime_format_options_new();
	g_mime_format_options_set_newline_format(format,
	    GMIME_NEWLINE_FORMAT_DOS);
	if (g_mime_object_write_to_stream(root, format, stream) < 0) {
		g_byte_array_free(out, TRUE);
		out = NULL;
	}
	g_mime_format_options_free(format);
	g_object_unref(stream);
	if (out != NULL) {
		/* GMime copies preambles and epilogues as they came: make
		 * every line end CRLF, so what is signed is exactly what a
		 * receiver reconstructs from our LF output */
		GByteArray *crlf = to_crlf((const char *)out->data, out->len,
		    true);

		g_byte_array_free(out, TRUE);
		out = crlf;
	}
	return out;
}

void
msg_header_append(GString *out, const char *name, const char *value)
{
	char *masked = diag_mask(value, strlen(value));

	g_string_append_printf(out, "%s: %s\n", name, masked);
	free(masked);
}

GByteArray *
msg_crlf_to_lf(const guint8 *data, size_t len)
{
	GByteArray *out = g_byte_array_sized_new((guint)len + 1);
	size_t i = 0, run;

	while (i < len) {
		const guint8 *cr = memchr(data + i, '\r', len - i);

		run = cr ? (size_t)(cr - (data + i)) : len - i;
		g_byte_array_append(out, data + i, (guint)run);
		i += run;
		if (cr == NULL)
			break;
		if (i + 1 < len && data[i + 1] == '\n') {
			i++;	/* drop the CR of CRLF */
			continue;
		}
		/* a bare CR never leaves us (SMTP smuggling, row 12) */
		g_byte_array_append(out, (const guint8 *)"\n", 1);
		i++;
	}
	return out;
}

GString *
msg_original_head(const ms_message *msg, const char *extra)
{
	GString *head = msg_outer_headers(msg), *content =
	    msg_content_headers(msg);

	if (extra != NULL)
		g_string_append(head, extra);
	g_string_append(head, content->str);
	g_string_append_c(head, '\n');
	g_string_free(content, TRUE);
	return head;
}

const guint8 *
msg_original_body(const ms_message *msg, size_t *len, GByteArray **copy)
{
	size_t body = msg_body_offset(msg);
	const guint8 *start = (const guint8 *)msg->raw + body;

	*len = msg->raw_len - body;
	*copy = NULL;
	if (memchr(start, '\r', *len) == NULL)
		return start;
	*copy = msg_crlf_to_lf(start, *len);
	*len = (*copy)->len;
	return (*copy)->data;
}

ms_err
msg_output_original(ms_output *out, const ms_message *msg, const char *extra)
{
	GString *head = msg_original_head(msg, extra);
	size_t body = msg_body_offset(msg);
	ms_err err;

	err = output_write(out, head->str, head->len);
	if (err == MS_OK)
		err = output_write_lf(out, msg->raw + body, msg->raw_len - body);
	g_string_free(head, TRUE);
	return err;
}

/* decoded_text - a raw field value unfolded, its encoded words decoded
 * and trimmed */
static char *
decoded_text(const char *raw)
{
	GString *flat = g_string_new(NULL);
	char *text;

	for (const char *p = raw ? raw : ""; *p; p++)
		if (*p != '\r' && *p != '\n')
			g_string_append_c(flat, *p);
	text = g_mime_utils_header_decode_text(NULL, flat->str);
	g_string_free(flat, TRUE);
	if (text == NULL)
		return g_strdup("");
	return g_strstrip(text);
}

char **
msg_header_texts(const ms_message *msg, const char *name)
{
	GMimeHeaderList *list =
	    g_mime_object_get_header_list(GMIME_OBJECT(msg->mime));
	int count = list ? g_mime_header_list_get_count(list) : 0;
	GPtrArray *out = g_ptr_array_new();

	for (int i = 0; i < count; i++) {
		GMimeHeader *h = g_mime_header_list_get_header_at(list, i);

		if (g_ascii_strcasecmp(g_mime_header_get_name(h), name) == 0)
			g_ptr_array_add(out,
			    decoded_text(g_mime_header_get_raw_value(h)));
	}
	g_ptr_array_add(out, NULL);
	return (char **)g_ptr_array_free(out, FALSE);
}

unsigned
msg_header_edit(ms_message *msg, const char *name, msg_header_edit_fn edit,
    void *data)
{
	GMimeHeaderList *list =
	    g_mime_object_get_header_list(GMIME_OBJECT(msg->mime));
	int count = list ? g_mime_header_list_get_count(list) : 0;
	unsigned changed = 0;

	for (int i = 0; i < count; i++) {
		GMimeHeader *h = g_mime_header_list_get_header_at(list, i);
		char *old, *new;

		if (g_ascii_strcasecmp(g_mime_header_get_name(h), name) != 0)
			continue;
		old = decoded_text(g_mime_header_get_raw_value(h));
		new = edit(old, data);
		if (new != NULL) {
			/* GMime encodes and folds the new value and makes
			 * it the raw value that the output writes */
			g_mime_header_set_value(h, NULL, new, "utf-8");
			changed++;
		}
		g_free(new);
		g_free(old);
	}
	return changed;
}

unsigned
msg_header_remove(ms_message *msg, const char *name)
{
	GMimeHeaderList *list =
	    g_mime_object_get_header_list(GMIME_OBJECT(msg->mime));
	unsigned removed = 0;

	for (int i = list ? g_mime_header_list_get_count(list) - 1 : -1;
	    i >= 0; i--) {
		GMimeHeader *h = g_mime_header_list_get_header_at(list, i);

		if (g_ascii_strcasecmp(g_mime_header_get_name(h), name) == 0) {
			g_mime_header_list_remove_at(list, i);
			removed++;
		}
	}
	return removed;
}

ms_err
msg_output_decrypt_failed(ms_output *out, const ms_message *msg,
    bool not_for_recipient)
{
	ms_err err = output_rewind(out);

	if (err == MS_OK)
		err = msg_output_original(out, msg, not_for_recipient ?
		    MSG_DECRYPT_NOT_FOR_RECIPIENT "\n" : MSG_DECRYPT_FAILED "\n");
	return err;
}

bool
msg_has_field(const GString *headers, const char *name)
{
	size_t n = strlen(name);
	const char *p = headers->str;

	while (p != NULL && *p) {
		if (g_ascii_strncasecmp(p, name, n) == 0 && p[n] == ':')
			return true;
		p = strchr(p, '\n');
		if (p)
			p++;
	}
	return false;
}

ms_err
msg_output_unwrapped(ms_output *out, const ms_message *outer,
    const char *extra, const guint8 *entity, size_t len, bool check_context)
{
	GByteArray *lf = msg_crlf_to_lf(entity, len);
	GMimeHeaderList *outside, *inside;
	ms_message *inner = NULL;
	msg_problem problem;
	GString *text = NULL, *content = NULL;
	size_t body;
	ms_err err;

	err = msg_parse_buffer_mode((const char *)lf->data, lf->len,
	    MSG_READ_HEADERS, &inner, &problem);
	secret_bytes_free(lf);
	if (err != MS_OK)
		return MS_DATA;
	msg_strip_status_headers(inner);
	outside = g_mime_object_get_header_list(GMIME_OBJECT(outer->mime));
	inside = g_mime_object_get_header_list(GMIME_OBJECT(inner->mime));
	text = msg_outer_headers(outer);
	if (extra != NULL)
		g_string_append(text, extra);
	if (check_context) {
		ms_addr a, b;
		const char *why;
		bool has_in = g_mime_header_list_contains(inside, "From");
		bool differs = false;

		if (has_in && msg_from_address(outer, &a, &why) == MS_OK) {
			if (msg_from_address(inner, &b, &why) != MS_OK ||
			    !addr_equal(&a, &b))
				differs = true;
			addr_clear(&b);
			addr_clear(&a);
		}
		if (differs)
			msg_header_append(text, "X-Mailseal-Decrypt-Context",
			    "mismatch");
	}
	for (int i = g_mime_header_list_get_count(inside) - 1; i >= 0; i--) {
		GMimeHeader *h = g_mime_header_list_get_header_at(inside, i);

		if (g_mime_header_list_contains(outside,
		    g_mime_header_get_name(h)))
			g_mime_header_list_remove_at(inside, i);
	}
	{
		GString *rest = msg_outer_headers(inner);

		g_string_append(text, rest->str);
		g_string_free(rest, TRUE);
	}
	content = msg_content_headers(inner);
	g_string_append(text, content->str);
	g_string_append_c(text, '\n');
	body = msg_body_offset(inner);
	err = output_write(out, text->str, text->len);
	if (err == MS_OK)
		err = output_write_lf(out, inner->raw + body, inner->raw_len - body);
	g_string_free(text, TRUE);
	g_string_free(content, TRUE);
	if (inner->heap != NULL)
		if (inner->heap->len > 0)
			sodium_memzero(inner->heap->data, inner->heap->len);
	/* the decrypted input as received, before an empty line was
	 * written in */
	for (guint i = 0; inner->kept_heaps != NULL &&
	    i < inner->kept_heaps->len; i++) {
		GByteArray *kept = g_ptr_array_index(inner->kept_heaps, i);

		sodium_memzero(kept->data, kept->len);
	}
	msg_free(inner);
	return err;
}

/* the octets a 7-bit scan has to look at: line ends, NUL and 8-bit */
typedef signed char scan_block __attribute__((vector_size(16)));

/* block_stop - the index in the 16 octets at p of the first LF, CR, NUL
 * or 8-bit octet, or 16 when there is none: sixteen octets are compared
 * at once (SIMD where the machine has it), so plain text costs about an
 * instruction per octet */
static unsigned
block_stop(const unsigned char *p)
{
	scan_block v, hit;
	guint64 half[2];

	memcpy(&v, p, sizeof(v));
	hit = (v == '\n') | (v == '\r') | (v == 0) | (v < 0);
	memcpy(half, &hit, sizeof(half));
	for (unsigned i = 0; i < 2; i++) {
		if (half[i] == 0)
			continue;
#if G_BYTE_ORDER == G_LITTLE_ENDIAN
		return i * 8 + (unsigned)__builtin_ctzll(half[i]) / 8;
#else
		return i * 8 + (unsigned)__builtin_clzll(half[i]) / 8;
#endif
	}
	return 16;
}

/* line_sound - a line of text (its line end left out) can be signed as it
 * is: at most 998 octets (RFC 5322 2.1.1) and not fragile_line */
static bool
line_sound(const unsigned char *text, size_t len)
{
	return len <= 998 && !fragile_line(text, len);
}

bool
msg_7bit_clean(const ms_message *msg)
{
	const unsigned char *p = (const unsigned char *)msg->raw;
	/* no arithmetic on the pointer of an empty message, which may be
	 * NULL */
	const unsigned char *end = msg->raw_len > 0 ? p + msg->raw_len : p;
	const unsigned char *line = p;

	/* one pass, sixteen octets at a time up to the next octet that
	 * needs a look: a large message is read once, at memory speed */
	while (p < end) {
		if (end - p >= 16) {
			unsigned stop = block_stop(p);

			p += stop;
			if (stop == 16)
				continue;
		}
		if (*p == '\n') {
			if (!line_sound(line, (size_t)(p - line)))
				return false;
			line = ++p;
		} else if (*p == '\r') {
			/* only as the CR of a CRLF */
			if (end - p < 2 || p[1] != '\n' ||
			    !line_sound(line, (size_t)(p - line)))
				return false;
			p += 2;
			line = p;
		} else if (*p == '\0' || *p >= 0x80) {
			return false;
		} else {
			p++;	/* plain text in the last 15 octets */
		}
	}
	/* the last line, when it has no line end */
	return line_sound(line, (size_t)(end - line));
}


/* msg_signing_entity - the signed entity of msg: the raw content fields and
 * body when the message is 7-bit clean, else the entity rebuilt with a
 * 7-bit transfer encoding for every part */
ms_err
msg_signing_entity(ms_message *msg, msg_entity *e)
{
	memset(e, 0, sizeof(*e));
	if (msg_7bit_clean(msg)) {
		size_t body = msg_body_offset(msg);

		e->headers = msg_content_headers(msg);
		g_string_append_c(e->headers, '\n');
		e->head = e->headers->str;
		e->head_len = e->headers->len;
		e->body = msg->raw + body;
		e->body_len = msg->raw_len - body;
		return MS_OK;
	}
	e->built = msg_entity_7bit(msg);
	if (e->built == NULL)
		return MS_DATA;
	e->head = (const char *)e->built->data;
	e->head_len = e->built->len;
	e->body = "";
	e->canonical = true;
	return MS_OK;
}

void
msg_entity_clear(msg_entity *e)
{
	if (e->built != NULL)
		g_byte_array_free(e->built, TRUE);
	if (e->headers != NULL)
		g_string_free(e->headers, TRUE);
}


/* base64_content - the content of a base64 part, decoded by GMime's
 * decoder.  The decoder keeps the bits of a last group that lacks its
 * '=' padding and never writes them (a JPEG would lose its end marker):
 * the padding the sender left out is given to it, as mail programs read
 * such a part.  NULL when it cannot be read or holds more than max. */
static GByteArray *
base64_content(GMimeDataWrapper *w, size_t max)
{
	static const char padding[] = "==";
	GMimeStream *raw = g_mime_data_wrapper_get_stream(w);
	gint64 encoded = raw != NULL ? g_mime_stream_length(raw) : -1;
	GMimeEncoding state;
	/* sized once for what the characters decode to: no copies as the
	 * array grows */
	GByteArray *data = g_byte_array_sized_new(encoded > 0 ?
	    (guint)MIN((guint64)encoded / 4 * 3 + 3, MIN(max, G_MAXUINT)) :
	    0);
	char *in = g_malloc(CONTENT_BLOCK);
	char *out = g_malloc(CONTENT_BLOCK);
	bool ok = raw != NULL && g_mime_stream_reset(raw) == 0;
	size_t made;
	int group;

	g_mime_encoding_init_decode(&state, GMIME_CONTENT_ENCODING_BASE64);
	/* CONTENT_BLOCK characters decode to less than CONTENT_BLOCK octets,
	 * with the bits the decoder holds from the last block */
	while (ok && !g_mime_stream_eos(raw)) {
		ssize_t n = g_mime_stream_read(raw, in, CONTENT_BLOCK);

		if (n <= 0) {
			ok = n == 0;
			break;
		}
		made = g_mime_encoding_step(&state, in, (size_t)n, out);
		ok = made <= max - data->len;
		if (ok)
			g_byte_array_append(data, (guint8 *)out, (guint)made);
	}
	/* 2 or 3 characters of a last group hold 1 or 2 octets; 1 holds
	 * none */
	group = state.state & 0xff;
	if (ok && (group == 2 || group == 3)) {
		made = g_mime_encoding_step(&state, padding,
		    (size_t)(4 - group), out);
		ok = made <= max - data->len;
		if (ok)
			g_byte_array_append(data, (guint8 *)out, (guint)made);
	}
	if (raw != NULL)
		g_mime_stream_reset(raw);
	g_free(in);
	g_free(out);
	if (!ok) {
		g_byte_array_free(data, TRUE);
		return NULL;
	}
	return data;
}

/* content_array - an array whose data pointer is never NULL, so that
 * empty content can be searched and walked like any other */
static GByteArray *
content_array(GByteArray *data)
{
	if (data != NULL && data->data == NULL) {
		g_byte_array_free(data, TRUE);
		data = g_byte_array_sized_new(1);
	}
	return data;
}

GByteArray *
msg_part_content(GMimeObject *part, size_t max)
{
	GMimeDataWrapper *w;
	GMimeStream *s;
	GByteArray *data;

	if (!GMIME_IS_PART(part))
		return NULL;
	/* a part whose header ends at the next boundary has an empty body,
	 * which RFC 2046 allows: empty content, not an unreadable part */
	w = g_mime_part_get_content(GMIME_PART(part));
	if (w == NULL)
		return content_array(g_byte_array_new());
	if (g_mime_data_wrapper_get_encoding(w) ==
	    GMIME_CONTENT_ENCODING_BASE64)
		return content_array(base64_content(w, max));
	data = g_byte_array_new();
	s = g_mime_stream_mem_new_with_byte_array(data);
	g_mime_stream_mem_set_owner(GMIME_STREAM_MEM(s), FALSE);
	if (g_mime_data_wrapper_write_to_stream(w, s) < 0 || data->len > max) {
		g_object_unref(s);
		g_byte_array_free(data, TRUE);
		return NULL;
	}
	g_object_unref(s);
	return content_array(data);
}

/* header_text - every field of obj as "Name: decoded value" lines */
static char *
header_text(GMimeObject *obj)
{
	GMimeHeaderList *list = g_mime_object_get_header_list(obj);
	int count = list ? g_mime_header_list_get_count(list) : 0;
	GString *out = g_string_new(NULL);

	for (int i = 0; i < count; i++) {
		GMimeHeader *h = g_mime_header_list_get_header_at(list, i);
		char *value = decoded_text(g_mime_header_get_raw_value(h));

		g_string_append_printf(out, "%s: %s\n",
		    g_mime_header_get_name(h), value);
		g_free(value);
	}
	return g_string_free(out, FALSE);
}

/* walk_item - an entity waiting on msg_walk's stack */
typedef struct walk_item {
	GMimeObject *object;
	char *path;
	unsigned depth;
	bool message_header;	/* visit the header of this message first */
} walk_item;

static void
push(GArray *stack, GMimeObject *object, char *path, unsigned depth,
    bool message_header)
{
	walk_item item = { object, path, depth, message_header };

	g_array_append_val(stack, item);
}

/* child_path - "1" under the root, "2.1" under "2" */
static char *
child_path(const char *parent, int index)
{
	if (*parent == '\0')
		return g_strdup_printf("%d", index + 1);
	return g_strdup_printf("%s.%d", parent, index + 1);
}

/* visit_entity - fill a node for a non-container entity and visit it */
static bool
visit_entity(const walk_item *item, msg_visit_fn visit, void *data)
{
	GMimeObject *obj = item->object;
	GMimeContentType *ct = g_mime_object_get_content_type(obj);
	char *type = ct ? g_mime_content_type_get_mime_type(ct) :
	    g_strdup("text/plain");
	char *lower = g_ascii_strdown(type, -1);
	msg_node node = { 0 };
	bool go_on;

	node.kind = MSG_NODE_LEAF;
	node.path = item->path;
	node.depth = item->depth;
	node.mime_type = lower;
	node.object = obj;
	node.charset = ct_param(obj, "charset");
	if (GMIME_IS_PART(obj)) {
		GMimeContentDisposition *cd =
		    g_mime_object_get_content_disposition(obj);

		node.filename = g_mime_part_get_filename(GMIME_PART(obj));
		node.attachment = cd != NULL &&
		    g_mime_content_disposition_is_attachment(cd);
	}
	/* a multipart/encrypted that holds no OpenPGP ciphertext is a
	 * multipart like any other; its version part a leaf */
	if (pgp_mime_second(obj, true) != NULL ||
	    GMIME_IS_APPLICATION_PKCS7_MIME(obj))
		node.kind = MSG_NODE_ENCRYPTED;
	else if (strcmp(lower, "message/partial") == 0 ||
	    strcmp(lower, "message/external-body") == 0 ||
	    GMIME_IS_MULTIPART(obj))
		node.kind = MSG_NODE_OPAQUE;
	go_on = visit(&node, data);
	g_free(lower);
	g_free(type);
	return go_on;
}

ms_err
msg_walk(const ms_message *msg, msg_visit_fn visit, void *data)
{
	GArray *stack;
	bool go_on = true;

	if (msg->headers_only || msg->mime == NULL)
		return MS_USAGE;
	stack = g_array_new(FALSE, FALSE, sizeof(walk_item));
	push(stack, GMIME_OBJECT(msg->mime), g_strdup(""), 0, true);
	while (stack->len > 0) {
		walk_item item = g_array_index(stack, walk_item,
		    stack->len - 1);
		GMimeObject *obj = item.object;

		g_array_set_size(stack, stack->len - 1);
		if (!go_on) {
			g_free(item.path);
			continue;
		}
		if (item.message_header) {
			/* a GMimeMessage: its own fields, then its body */
			GMimeMessage *m = GMIME_MESSAGE(obj);
			GMimeObject *body = g_mime_message_get_mime_part(m);
			char *text = header_text(obj);
			msg_node node = { 0 };

			node.kind = MSG_NODE_HEADERS;
			node.path = item.path;
			node.depth = item.depth;
			node.mime_type = "message/rfc822";
			node.object = obj;
			node.header_text = text;
			go_on = visit(&node, data);
			g_free(text);
			if (body != NULL) {
				/* the root of a single-part message is "1",
				 * an attached message's body takes its path */
				char *path = *item.path == '\0' &&
				    !GMIME_IS_MULTIPART(body) ? g_strdup("1") :
				    g_strdup(item.path);

				push(stack, body, path, item.depth + 1, false);
			}
		} else if (GMIME_IS_MULTIPART(obj) &&
		    pgp_mime_second(obj, true) == NULL &&
		    g_mime_multipart_get_count(GMIME_MULTIPART(obj)) > 0) {
			/* one without parts (a boundary too long for GMime,
			 * or no boundary line) is visited whole, opaque */
			GMimeMultipart *mp = GMIME_MULTIPART(obj);

			for (int i = g_mime_multipart_get_count(mp) - 1; i >= 0;
			    i--)
				push(stack, g_mime_multipart_get_part(mp, i),
				    child_path(item.path, i), item.depth + 1,
				    false);
		} else if (GMIME_IS_MESSAGE_PART(obj)) {
			GMimeMessage *inner = g_mime_message_part_get_message(
			    GMIME_MESSAGE_PART(obj));

			if (inner != NULL)
				push(stack, GMIME_OBJECT(inner),
				    g_strdup(item.path), item.depth, true);
		} else {
			go_on = visit_entity(&item, visit, data);
		}
		g_free(item.path);
	}
	g_array_free(stack, TRUE);
	return MS_OK;
}

ms_err
msg_replace_leaves(ms_message *msg, msg_leaf_fn leaf,
    msg_multipart_fn multipart, void *data)
{
	GMimeObject *root = g_mime_message_get_mime_part(msg->mime), *repl;
	GPtrArray *stack;
	ms_err err = MS_OK;

	if (msg->headers_only)
		return MS_USAGE;
	if (root == NULL)
		return MS_OK;
	if (!GMIME_IS_MULTIPART(root)) {
		repl = leaf(root, data, &err);
		if (repl != NULL) {
			g_mime_message_set_mime_part(msg->mime, repl);
			g_object_unref(repl);
		}
		return err;
	}
	stack = g_ptr_array_new();
	g_ptr_array_add(stack, root);
	while (stack->len > 0 && err == MS_OK) {
		GMimeMultipart *mp = g_ptr_array_remove_index(stack,
		    stack->len - 1);

		if (multipart != NULL)
			multipart(mp, data);
		for (int i = 0; i < g_mime_multipart_get_count(mp) &&
		    err == MS_OK; i++) {
			GMimeObject *child = g_mime_multipart_get_part(mp, i);

			if (GMIME_IS_MULTIPART(child)) {
				g_ptr_array_add(stack, child);
				continue;
			}
			repl = leaf(child, data, &err);
			if (repl != NULL) {
				g_object_unref(g_mime_multipart_replace(mp, i,
				    repl));
				g_object_unref(repl);
			}
		}
	}
	g_ptr_array_free(stack, TRUE);
	return err;
}
