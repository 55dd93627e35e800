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

/* decrypt - the S/MIME decryption; a message that is not encrypted
 * passes unchanged */
static ms_err
decrypt(ms_filter *f, ms_output *out, void *arg)
{
	unseal_ctx unseal;
	unseal_decryption res;
	ms_err err;

	(void)arg;
	/* DEC-8: nobody else writes our status fields */
	msg_strip_status_headers(f->msg);
	unseal_init(&unseal, f->store, f->settings);
	err = unseal_smime_decrypt(&unseal, f->msg, out, &res);
	unseal_clear(&unseal);
	if (err == MS_OK && res.outcome == UNSEAL_NOT_ENCRYPTED)
		err = msg_output_original(out, f->msg, NULL);
	return err;
}

int
main(int argc, char **argv)
{
	static const ms_program prog = { usage, NULL };
	poptContext ctx = ritual_begin(argc, argv, &prog);
	const char **args = poptGetArgs(ctx);

	if (args != NULL && args[0] != NULL)
		ritual_usage_error("smime-dec takes no operands");
	filter_run(ctx, MSG_READ_HEADERS, decrypt, NULL);
}
