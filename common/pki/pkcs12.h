/*
 * pkcs12.h - reading a PKCS#12 file, old ones included.
 *
 * API: p12_read() parses a DER PKCS#12 with a password and returns the
 * key, the leaf and the other certificates, all in the process's default
 * library context.  A file whose bags use an algorithm the default
 * provider no longer offers (RC2-40, DES and the other PBEs of older
 * Windows and Outlook exports) is parsed again in a library context of
 * its own with OpenSSL's default and legacy providers; that context lives
 * only for that one file, so nothing else in the process can reach the
 * legacy algorithms.  The result is an error code, never a text to match.
 */
#ifndef MAILSEAL_PKCS12_H
#define MAILSEAL_PKCS12_H

#include <openssl/evp.h>
#include <openssl/x509.h>
#include <stddef.h>

typedef enum p12_result {
	P12_OK,
	P12_NOT_PKCS12,		/* the data is not one whole DER PKCS#12 */
	P12_BAD_PASSWORD,	/* the MAC does not verify with the password */
	P12_UNSUPPORTED,	/* an algorithm not even the legacy provider has */
	P12_NO_MAC,		/* no integrity check: OpenSSL 3 will not read it */
	P12_DAMAGED		/* anything else: bad padding, broken bags */
} p12_result;

/* p12_read - parse data with password ("" when NULL); on P12_OK *key and
 * *leaf may be NULL when the file has none, *others is a new stack (maybe
 * empty); *legacy says whether the legacy provider was needed */
p12_result p12_read(const unsigned char *data, size_t len,
    const char *password, EVP_PKEY **key, X509 **leaf,
    STACK_OF(X509) **others, int *legacy);

#endif
