/*
 * smime-dec - decrypt a message whose root is S/MIME enveloped or
 * auth-enveloped data with a private key from the store (smime-dec(1)).
 * Only the root is decrypted (DEC-2); a failure delivers the original
 * ciphertext with a status field (DEC-1); plaintext is released only after
 * CMS_decrypt and, for AES-GCM, the tag check succeeded (DEC-3).
 */
#include "diag.h"
#include "secret.h"
#include "filter.h"
#include "limits.h"
#include "msgpart.h"
#include "output.h"
#include "ritual.h"
#include "smime.h"

#include <string.h>

static const char usage[] =
"usage: smime-dec [--store DIR]\n"
"       smime-dec -h | --version\n";

int
main(int argc, char **argv)
{
	static const ms_program prog = { usage, NULL };
	poptContext ctx = ritual_begin(argc, argv, &prog);
	const char **args = poptGetArgs(ctx);
	ms_output *out = NULL;
	GByteArray *der = NULL, *plain = NULL;
	const char *why = NULL;
	msg_kind kind;
	ms_filter f;
	ms_err err, derr;

	if (args != NULL && args[0] != NULL)
		ritual_usage_error("smime-dec takes no operands");
	diag_set_quiet(true);	/* reasons go to syslog, never to a DSN */
	err = filter_open(&f, MSG_READ_HEADERS);
	if (err == MS_OK)
		err = output_open(f.store, &out);
	if (err != MS_OK)
		goto out;
	/* DEC-8: nobody else writes our status fields */
	msg_strip_status_headers(f.msg);
	kind = msg_root_kind(f.msg);
	if (kind != MSG_KIND_SMIME_ENVELOPED && kind != MSG_KIND_SMIME_PKCS7) {
		err = msg_output_original(out, f.msg, NULL);
		goto commit;
	}
	derr = msg_root_decoded(f.msg, limits_get()->message_size, &der);
	if (derr == MS_OK)
		derr = smime_decrypt(f.store, der->data, der->len, &plain,
		    &why);
	else
		why = "unreadable body";
	if (derr == MS_OK) {
		err = msg_output_unwrapped(out, f.msg,
		    "X-Mailseal-Decrypted: smime\n", plain->data, plain->len,
		    true);
		if (err == MS_DATA) {
			/* the plaintext is no MIME entity: deliver the
			 * ciphertext, as for any other failure (DEC-1) */
			diag_info("decrypted S/MIME entity is unusable");
			err = msg_output_decrypt_failed(out, f.msg);
		} else
			diag_info("decrypted S/MIME message");
	} else if (derr == MS_TEMP || derr == MS_INTERNAL) {
		err = derr;	/* the store failed us: try again later */
	} else if (kind == MSG_KIND_SMIME_PKCS7 && der != NULL &&
	    strcmp(why, "not enveloped data") == 0) {
		/* signed or other pkcs7 data: not ours to decrypt */
		err = msg_output_original(out, f.msg, NULL);
	} else {
		/* DEC-1: one visible outcome; the reason stays in the log */
		diag_info("S/MIME decryption failed: %s", why);
		err = msg_output_decrypt_failed(out, f.msg);
	}
commit:
	if (err == MS_OK) {
		err = output_commit(out);
		out = NULL;
	}
out:
	secret_bytes_free(plain);
	if (der != NULL)
		g_byte_array_free(der, TRUE);
	output_discard(out);
	filter_close(&f);
	ritual_end(ctx, err);
}
