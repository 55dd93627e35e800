/*
 * fuzz-cms.c - libFuzzer target for CMS parsing on the S/MIME paths of
 * incoming mail (common/smime.c): the DEC-4 allow-list check that runs
 * before OpenSSL decrypts anything, and signature verification of opaque
 * and detached signed data against an empty store (no roots: nothing can
 * be valid).
 *
 * Invariants: a refused input names its failure and its detail, an
 * accepted one neither; random DER is never a valid signature; every
 * result has its status word.  Invariants that fail abort.
 */
#include "fuzz.h"
#include "trust.h"
#include "decrypt.h"
#include "diag.h"
#include "smime.h"
#include "store.h"

#include <ftw.h>
#include <openssl/err.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char scratch[] = "/tmp/mailseal-fuzz-cms.XXXXXX";
static ms_store *store;
static ms_trust *trust;


static int
remove_entry(const char *path, const struct stat *st, int type,
    struct FTW *ftw)
{
	(void)st;
	(void)type;
	(void)ftw;
	return remove(path);
}

static void
cleanup(void)
{
	trust_free(trust);
	nftw(scratch, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	diag_set_quiet(true);
	if (mkdtemp(scratch) == NULL || store_open(scratch, true, &store) !=
	    MS_OK || trust_open(store, NULL, &trust) != MS_OK)
		abort();
	atexit(cleanup);
	return 0;
}

/* verify - run smime_verify over one parsed object and check the result */
static void
verify(CMS_ContentInfo *cms, const uint8_t *data, size_t size)
{
	sig_result res;
	GByteArray *content = NULL;
	BIO *dcont = NULL;
	ms_err err;

	if (CMS_is_detached(cms))
		dcont = BIO_new_mem_buf(data, (int)(size / 2));
	err = smime_verify(trust, cms, dcont, NULL, &res,
	    dcont == NULL ? &content : NULL);
	require(err == MS_OK || err == MS_TEMP || err == MS_INTERNAL);
	if (err == MS_OK) {
		/* no roots and no From address: never valid */
		require(res.status != SIG_VALID && res.status != SIG_NONE);
		require(sig_status_word(res.status) != NULL);
		require(res.detail != NULL);
	}
	if (content != NULL)
		g_byte_array_free(content, TRUE);
	sig_result_clear(&res);
	BIO_free(dcont);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const unsigned char *p = data;
	decrypt_failure failure = DECRYPT_OK;
	const char *why = NULL;
	CMS_ContentInfo *cms;
	bool aead = false;
	ms_err err;

	if (size > 64 * 1024)
		return 0;
	err = smime_enveloped_ok(data, size, &aead, &failure, &why);
	require(err == MS_OK || err == MS_DATA);
	if (err == MS_OK)
		require(failure == DECRYPT_OK);
	else
		require(failure != DECRYPT_OK && why != NULL);
	require(decrypt_failure_text(failure) != NULL);

	cms = size > 0 ? d2i_CMS_ContentInfo(NULL, &p, (long)size) : NULL;
	if (cms != NULL && OBJ_obj2nid(CMS_get0_type(cms)) ==
	    NID_pkcs7_signed)
		verify(cms, data, size);
	CMS_ContentInfo_free(cms);
	ERR_clear_error();
	return 0;
}
