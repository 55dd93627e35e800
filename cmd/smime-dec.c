/*
 * smime-dec - decrypt a message whose root is S/MIME enveloped or
 * auth-enveloped data with a private key from the store (smime-dec(1)).
 * Only the root is decrypted (DEC-2); a failure delivers the original
 * ciphertext with a status field (DEC-1); plaintext is released only after
 * CMS_decrypt and, for AES-GCM, the tag check succeeded (DEC-3).  The
 * transform is unseal_smime_decrypt (unseal.h).
 */
#include "diag.h"
#include "filter.h"
#include "msgpart.h"
#include "output.h"
#include "ritual.h"
#include "unseal.h"

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
	unseal_ctx unseal;
	unseal_decryption res;
	ms_filter f;
	ms_err err;

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
	unseal_init(&unseal, f.store, f.settings);
	err = unseal_smime_decrypt(&unseal, f.msg, out, &res);
	unseal_clear(&unseal);
	if (err == MS_OK && res.outcome == UNSEAL_NOT_ENCRYPTED)
		err = msg_output_original(out, f.msg, NULL);
	if (err == MS_OK) {
		err = output_commit(out);
		out = NULL;
	}
out:
	output_discard(out);
	filter_close(&f);
	ritual_end(ctx, err);
}
