/*
 * pdfwrap-otp - the password of a PDF that pdfwrap(1) made in OTP mode,
 * derived again from the recipient's client secret and the password ID
 * of the notice (pdf.md 5.4).  For a portal back end or a help desk,
 * after the recipient has been authenticated.  Each access is logged
 * (recipient, ID, generation), never the password.  Reads the store
 * only: an unknown recipient or generation is an error, never a new
 * secret.
 */
#include "addr.h"
#include "diag.h"
#include "pdfpass.h"
#include "ritual.h"
#include "settings.h"
#include "store.h"

#include <sodium.h>
#include <string.h>

static const char usage[] =
"usage: pdfwrap-otp [--store DIR] -r RECIPIENT -i ID\n"
"       pdfwrap-otp -h | --version\n";

static char *opt_recipient, *opt_id;

static struct poptOption options[] = {
	{ "recipient", 'r', POPT_ARG_STRING, &opt_recipient, 0, NULL, NULL },
	{ "id", 'i', POPT_ARG_STRING, &opt_id, 0, NULL, NULL },
	POPT_TABLEEND
};

int
main(int argc, char **argv)
{
	static const ms_program prog = { usage, options };
	poptContext ctx = ritual_begin(argc, argv, &prog);
	unsigned char secret[PDFPASS_OTP_SECRET_LEN];
	char password[PDFPASS_LEN + 2], id[PDFPASS_OTP_ID_LEN + 1];
	ms_addr recipient = { 0 };
	ms_settings *settings = NULL;
	ms_store *store = NULL;
	unsigned generation = 0, found = 0;
	const char *why = NULL;
	ms_err err;

	if (poptGetArgs(ctx) != NULL)
		ritual_usage_error("no operands expected");
	if (opt_recipient == NULL || opt_id == NULL)
		ritual_usage_error("-r RECIPIENT and -i ID are required");
	if (addr_parse_str(opt_recipient, &recipient, &why) != MS_OK)
		ritual_usage_error("RECIPIENT is not an address: %s", why);
	if (pdfpass_otp_parse_id(opt_id, id, &generation) != MS_OK) {
		addr_clear(&recipient);
		ritual_usage_error("ID is not a version 1 password ID");
	}
	err = settings_open_store(ritual_opts.store, false, &store, &settings);
	if (err != MS_OK)
		goto out;
	err = pdfpass_otp_secret(store, &recipient, generation, false, secret,
	    &found);
	if (err == MS_NOTFOUND) {
		diag_error("no client secret of generation %u for %s",
		    generation, recipient.text);
		diag_info("OTP password refused: recipient=%s id=%s "
		    "generation=%u", recipient.text, id, generation);
		goto out;
	}
	if (err != MS_OK)
		goto out;
	pdfpass_otp_derive(secret, id, recipient.key, password);
	sodium_memzero(secret, sizeof(secret));
	diag_info("OTP password given out: recipient=%s id=%s generation=%u",
	    recipient.text, id, generation);
	strcat(password, "\n");
	err = ritual_output(password, strlen(password));
	sodium_memzero(password, sizeof(password));
out:
	settings_free(settings);
	store_close(store);
	addr_clear(&recipient);
	ritual_end(ctx, err);
}
