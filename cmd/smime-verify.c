/*
 * smime-verify - verify the S/MIME signature at the root of a message and
 * report it in X-Mailseal-Signature (smime-verify(1)).  Only the root
 * counts (VER-2); the signer must chain to the root store, not be
 * revoked, and carry the From address (VER-4).  Valid signers' certificates
 * and capabilities are learned into the store (KEY-2, KEY-7).  The
 * transform is unseal_smime_verify (unseal.h).
 */
#include "diag.h"
#include "filter.h"
#include "msg.h"
#include "output.h"
#include "ritual.h"
#include "unseal.h"

static const char usage[] =
"usage: smime-verify [--store DIR] [--no-learn]\n"
"       smime-verify -h | --version\n";

static int opt_no_learn;

static struct poptOption options[] = {
	{ "no-learn", '\0', POPT_ARG_NONE, &opt_no_learn, 0, NULL, NULL },
	POPT_TABLEEND
};

/* verify - the S/MIME verification, its result in the status fields */
static ms_err
verify(ms_filter *f, ms_output *out, void *arg)
{
	unseal_ctx unseal;
	sig_status status;
	ms_err err;

	(void)arg;
	msg_strip_status_headers(f->msg);	/* DEC-8 */
	unseal_init(&unseal, f->store, f->settings);
	unseal.learn = !opt_no_learn;
	err = unseal_smime_verify(&unseal, f->msg, NULL, out, &status);
	unseal_clear(&unseal);
	return err;
}

int
main(int argc, char **argv)
{
	static const ms_program prog = { usage, options };
	poptContext ctx = ritual_begin(argc, argv, &prog);
	const char **args = poptGetArgs(ctx);

	if (args != NULL && args[0] != NULL)
		ritual_usage_error("smime-verify takes no operands");
	filter_run(ctx, MSG_READ_HEADERS, verify, NULL);
}
