/*
 * pgp-verify - verify the OpenPGP signature at the root of a message
 * (PGP/MIME, or a cleartext-signed text/plain body) and report it in
 * X-Mailseal-Signature (pgp-verify(1)), with the same words as
 * smime-verify.  Each signature is judged from GPGME's per-signature
 * result (VER-1), never from gpg's text (VER-6); the signer's key must
 * bind the single From address (VER-4, VER-8).  Keys are never imported
 * from mail (KEY-2).  The transform is unseal_pgp_verify (unseal.h).
 */
#include "diag.h"
#include "filter.h"
#include "msg.h"
#include "output.h"
#include "ritual.h"
#include "unseal.h"

static const char usage[] =
"usage: pgp-verify [--store DIR]\n"
"       pgp-verify -h | --version\n";

/* verify - the OpenPGP verification, its result in the status fields */
static ms_err
verify(ms_filter *f, ms_output *out, void *arg)
{
	unseal_ctx unseal;
	sig_status status;
	ms_err err;

	(void)arg;
	msg_strip_status_headers(f->msg);	/* DEC-8 */
	unseal_init(&unseal, f->store, f->settings);
	err = unseal_pgp_verify(&unseal, f->msg, NULL, out, &status);
	unseal_clear(&unseal);
	return err;
}

int
main(int argc, char **argv)
{
	static const ms_program prog = { usage, NULL };
	poptContext ctx = ritual_begin(argc, argv, &prog);
	const char **args = poptGetArgs(ctx);

	if (args != NULL && args[0] != NULL)
		ritual_usage_error("pgp-verify takes no operands");
	filter_run(ctx, MSG_READ_HEADERS, verify, NULL);
}
