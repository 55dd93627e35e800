/*
 * encrypted.c - is a message encrypted at its root already (ENC-7)?  A
 * structural check, never a substring test: S/MIME enveloped or
 * auth-enveloped data whose DER says so, or a PGP/MIME multipart/encrypted
 * of two parts, the first "application/pgp-encrypted" saying "Version: 1".
 */
#include "encrypted.h"
#include "limits.h"
#include "msgpart.h"
#include "smime.h"

#include <string.h>

/* pgp_version_ok - part 1 of a PGP/MIME message states Version: 1 */
static bool
pgp_version_ok(GMimeObject *part)
{
	GByteArray *data;
	bool ok;

	if (!GMIME_IS_PART(part) || !g_mime_content_type_is_type(
	    g_mime_object_get_content_type(part), "application",
	    "pgp-encrypted"))
		return false;
	data = msg_part_content(part, 4096);
	if (data == NULL)
		return false;
	ok = g_strstr_len((const char *)data->data, (gssize)data->len,
	    "Version: 1") != NULL;
	g_byte_array_free(data, TRUE);
	return ok;
}

bool
msg_root_encrypted(ms_message *msg)
{
	msg_kind kind = msg_root_kind(msg);
	GByteArray *der;
	bool aead, yes = false;
	const char *why;
	msg_problem problem;

	if (kind == MSG_KIND_PGP_ENCRYPTED) {
		GMimeObject *root;

		if (msg_parse_full(msg, &problem) != MS_OK)
			return false;
		root = g_mime_message_get_mime_part(msg->mime);
		GMimeMultipart *mp = GMIME_IS_MULTIPART(root) ?
		    GMIME_MULTIPART(root) : NULL;

		return mp != NULL && g_mime_multipart_get_count(mp) == 2 &&
		    pgp_version_ok(g_mime_multipart_get_part(mp, 0));
	}
	if (kind != MSG_KIND_SMIME_ENVELOPED && kind != MSG_KIND_SMIME_PKCS7)
		return false;
	if (msg_root_decoded(msg, limits_get()->message_size, &der) != MS_OK)
		return false;
	yes = smime_check_enveloped(der->data, der->len, &aead, &why) ==
	    MS_OK;
	g_byte_array_free(der, TRUE);
	return yes;
}

