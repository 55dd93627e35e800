/*
 * smime-enc - encrypt a message to the S/MIME certificates of every
 * envelope recipient (smime-enc(1)).  Every recipient must be covered;
 * otherwise nothing is written and the exit is 69 (ENC-1).
 */
#include "cert.h"
#include "diag.h"
#include "filter.h"
#include "mslimits.h"
#include "msgpart.h"
#include "output.h"
#include "ritual.h"
#include "smenc.h"
#include "smime.h"

#include <openssl/err.h>
#include <openssl/pem.h>
#include <string.h>

static const char usage[] =
"usage: smime-enc [--store DIR] [--cipher aes256-cbc | aes128-cbc | aes256-gcm |\n"
"                 aes128-gcm] [--oaep] [--force] [--cert FILE] ... RECIPIENT ...\n"
"       smime-enc -h | --version\n";

static const char *opt_cipher;
static int opt_oaep, opt_force;
static const char **opt_certs;

static struct poptOption options[] = {
	{ "cipher", '\0', POPT_ARG_STRING, &opt_cipher, 0, NULL, NULL },
	{ "oaep", '\0', POPT_ARG_NONE, &opt_oaep, 0, NULL, NULL },
	{ "force", '\0', POPT_ARG_NONE, &opt_force, 0, NULL, NULL },
	{ "cert", '\0', POPT_ARG_ARGV, &opt_certs, 0, NULL, NULL },
	POPT_TABLEEND
};

/* encrypt - the message encrypted to every recipient, or refused: never
 * plaintext, never a partial set of recipients (ENC-1) */
static ms_err
encrypt(ms_filter *f, ms_output *out, void *arg)
{
	const char **recipients = arg;
	const EVP_CIPHER *cipher = NULL;
	STACK_OF(X509) *certs = NULL;
	GString *uncovered = NULL;
	bool all_gcm;
	ms_err err;

	if (!opt_force && msg_root_encrypted(f->msg)) {
		diag_info("already encrypted at the root: passed on unchanged");
		return msg_output_original(out, f->msg, NULL);
	}
	certs = sk_X509_new_null();
	uncovered = g_string_new(NULL);
	err = smenc_collect(f, recipients, opt_certs, certs, uncovered,
	    &all_gcm);
	if (err == MS_OK && uncovered->len > 0)
		err = filter_refuse("5.7.1", "no usable S/MIME certificate "
		    "for: %s", uncovered->str);
	if (err == MS_OK) {
		cipher = opt_cipher != NULL ?
		    smime_cipher_by_name(opt_cipher) : all_gcm ?
		    EVP_aes_256_gcm() : EVP_aes_256_cbc();
		err = smenc_write(f->msg, certs, cipher, opt_oaep != 0, out);
	}
	if (err == MS_OK)
		diag_info("encrypted to %d certificate(s) with %s",
		    sk_X509_num(certs), EVP_CIPHER_get0_name(cipher));
	sk_X509_pop_free(certs, X509_free);
	g_string_free(uncovered, TRUE);
	return err;
}

int
main(int argc, char **argv)
{
	static const ms_program prog = { usage, options };
	poptContext ctx = ritual_begin(argc, argv, &prog);
	const char **recipients = poptGetArgs(ctx);

	if (recipients == NULL || recipients[0] == NULL)
		ritual_usage_error("no RECIPIENT given");
	if (opt_cipher != NULL && smime_cipher_by_name(opt_cipher) == NULL)
		ritual_usage_error("unknown --cipher");
	filter_run(ctx, MSG_READ_HEADERS, encrypt, recipients);
}
