/*
 * smime-sign - sign a message with the sender's S/MIME key and
 * certificate (smime-sign(1)): read, smsign_sign() (smsign.h, the same
 * call mailseal-filter makes in process), write, exit.
 */
#include "trust.h"
#include "diag.h"
#include "filter.h"
#include "output.h"
#include "ritual.h"
#include "smsign.h"

#include <string.h>

static const char usage[] =
"usage: smime-sign [--store DIR] [-f SENDER] [--opaque]\n"
"                  [--digest sha256 | sha384 | sha512] [--auto-enroll]\n"
"       smime-sign -h | --version\n";

static const char *opt_sender, *opt_digest;
static int opt_opaque, opt_auto_enroll;

static struct poptOption options[] = {
	{ "sender", 'f', POPT_ARG_STRING, &opt_sender, 0, NULL, NULL },
	{ "opaque", '\0', POPT_ARG_NONE, &opt_opaque, 0, NULL, NULL },
	{ "digest", '\0', POPT_ARG_STRING, &opt_digest, 0, NULL, NULL },
	{ "auto-enroll", '\0', POPT_ARG_NONE, &opt_auto_enroll, 0, NULL,
	  NULL },
	POPT_TABLEEND
};

/* sign - the message signed by the sender's S/MIME key */
static ms_err
sign(ms_filter *f, ms_output *out, void *arg)
{
	const EVP_MD *digest = arg;
	ms_trust *trust = NULL;
	smsign_signer signer = { 0 };
	smsign_entity entity = { 0 };
	ms_addr sender = { 0 };
	ms_err err;

	err = filter_sender(f, opt_sender, &sender);
	if (err == MS_OK)
		err = trust_open(f->store, f->settings, &trust);
	if (err == MS_OK)
		err = smsign_find_signer(f->store, trust, &sender,
		    opt_auto_enroll != 0, &signer);
	if (err == MS_OK && signer.key == NULL)
		err = filter_refuse("5.7.1", "no S/MIME signing key for the "
		    "sender %s", sender.text);
	if (err == MS_OK)
		err = smsign_sign(f->msg, &signer, digest, opt_opaque != 0,
		    &entity);
	if (err == MS_OK)
		err = smsign_write(f->msg, &entity, out);
	smsign_entity_clear(&entity);
	smsign_signer_clear(&signer);
	trust_free(trust);
	addr_clear(&sender);
	return err;
}

int
main(int argc, char **argv)
{
	static const ms_program prog = { usage, options };
	poptContext ctx = ritual_begin(argc, argv, &prog);
	const char **args = poptGetArgs(ctx);
	const EVP_MD *digest = EVP_sha256();

	if (args != NULL && args[0] != NULL)
		ritual_usage_error("smime-sign takes no operands");
	if (opt_digest != NULL) {
		if (strcmp(opt_digest, "sha256") == 0)
			digest = EVP_sha256();
		else if (strcmp(opt_digest, "sha384") == 0)
			digest = EVP_sha384();
		else if (strcmp(opt_digest, "sha512") == 0)
			digest = EVP_sha512();
		else
			ritual_usage_error("unknown --digest");
	}
	filter_run(ctx, MSG_READ_HEADERS, sign, (void *)digest);
}
