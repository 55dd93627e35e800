/*
 * pgp-dec - decrypt a message whose root is PGP/MIME encrypted, or a
 * single text/plain part that is one armored OpenPGP message (pgp-dec(1)).
 * Only the root is decrypted (DEC-2); integrity protection (MDC or AEAD)
 * is required (DEC-5); a failure delivers the original with a status
 * field (DEC-1); the plaintext is capped (MIME-L9).  The transform is
 * unseal_pgp_decrypt (unseal.h).
 */
#include "diag.h"
#include "filter.h"
#include "msgpart.h"
#include "output.h"
#include "ritual.h"
#include "unseal.h"

static const char usage[] =
"usage: pgp-dec [--store DIR] [--passphrase-file FILE]\n"
"       pgp-dec -h | --version\n";

static const char *opt_passphrase_file;

static struct poptOption options[] = {
	{ "passphrase-file", '\0', POPT_ARG_STRING, &opt_passphrase_file, 0,
	  NULL, NULL },
	POPT_TABLEEND
};

/* decrypt - the OpenPGP decryption; a message that is not encrypted
 * passes unchanged */
static ms_err
decrypt(ms_filter *f, ms_output *out, void *arg)
{
	unseal_ctx unseal;
	unseal_decryption res;
	ms_err err;

	(void)arg;
	msg_strip_status_headers(f->msg);	/* DEC-8 */
	unseal_init(&unseal, f->store, f->settings);
	unseal.passphrase_file = opt_passphrase_file;
	err = unseal_pgp_decrypt(&unseal, f->msg, out, &res);
	unseal_clear(&unseal);
	if (err == MS_OK && res.outcome == UNSEAL_NOT_ENCRYPTED)
		err = msg_output_original(out, f->msg, NULL);
	return err;
}

int
main(int argc, char **argv)
{
	static const ms_program prog = { usage, options };
	poptContext ctx = ritual_begin(argc, argv, &prog);
	const char **args = poptGetArgs(ctx);

	if (args != NULL && args[0] != NULL)
		ritual_usage_error("pgp-dec takes no operands");
	filter_run(ctx, MSG_READ_HEADERS, decrypt, NULL);
}
