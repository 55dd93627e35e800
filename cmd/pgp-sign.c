/*
 * pgp-sign - sign a message with the sender's OpenPGP key, as PGP/MIME
 * (RFC 3156) or as a cleartext signature of a plain text message
 * (pgp-sign(1)): read, pgsign_sign_parts() (pgsign.h, the signing
 * mailseal-filter does in process), write, exit.  The signed message is
 * written from memory once it is complete: the body as received, the rest
 * around it, with no staging copy of a large body.
 */
#include "diag.h"
#include "filter.h"
#include "pgp.h"
#include "pgsign.h"
#include "ritual.h"

#include <string.h>

static const char usage[] =
"usage: pgp-sign [--store DIR] [-f SENDER] [-q QUEUEID] [--inline]\n"
"                [--passphrase-file FILE]\n"
"       pgp-sign -h | --version\n";

static const char *opt_sender, *opt_passphrase_file, *opt_queue_id;
static int opt_inline;

static struct poptOption options[] = {
	{ "sender", 'f', POPT_ARG_STRING, &opt_sender, 0, NULL, NULL },
	{ NULL, 'q', POPT_ARG_STRING, &opt_queue_id, 0, NULL, NULL },
	{ "inline", '\0', POPT_ARG_NONE, &opt_inline, 0, NULL, NULL },
	{ "passphrase-file", '\0', POPT_ARG_STRING, &opt_passphrase_file, 0,
	  NULL, NULL },
	POPT_TABLEEND
};


int
main(int argc, char **argv)
{
	static const ms_program prog = { usage, options };
	poptContext ctx = ritual_begin(argc, argv, &prog);
	const char **args = poptGetArgs(ctx);
	gpgme_ctx_t pgp = NULL;
	pgsign_parts parts = { 0 };
	ms_addr sender = { 0 };
	ms_filter f;
	ms_err err;

	if (args != NULL && args[0] != NULL)
		ritual_usage_error("pgp-sign takes no operands");
	ritual_queue_id(opt_queue_id);
	diag_set_quiet(true);
	/* gpg's start-up probe runs while the message is read */
	pgp_start();
	err = filter_open(&f, MSG_READ_HEADERS);
	if (err == MS_OK)
		err = pgp_open(f.store, false, opt_passphrase_file, &pgp);
	if (err != MS_OK)
		goto out;
	err = filter_sender(&f, opt_sender, &sender);
	if (err == MS_OK)
		err = pgsign_choose_signer(pgp, &sender);
	if (err == MS_NOTFOUND)
		err = filter_refuse("5.7.1", "no OpenPGP signing key for the "
		    "sender %s", sender.text);
	if (err == MS_OK)
		err = pgsign_sign_parts(pgp, f.msg, opt_inline != 0, &parts);
	if (err == MS_OK)
		err = pgsign_send(f.msg, &parts);
out:
	pgsign_parts_clear(&parts);
	addr_clear(&sender);
	pgp_close(pgp);
	filter_close(&f);
	ritual_end(ctx, err);
}
