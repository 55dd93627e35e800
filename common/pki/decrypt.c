/*
 * decrypt.c - the words for each decryption failure (see decrypt.h).
 */
#include "decrypt.h"

const char *
decrypt_failure_text(decrypt_failure failure)
{
	switch (failure) {
	case DECRYPT_OK:
		return "decrypted";
	case DECRYPT_NOT_ENVELOPED:
		return "not enveloped data";
	case DECRYPT_MALFORMED:
		return "malformed encrypted data";
	case DECRYPT_REFUSED:
		return "cipher or parameters refused";
	case DECRYPT_NO_KEY:
		return "no private key for any recipient";
	case DECRYPT_NOT_FOR_RECIPIENT:
		return "no key bound to an envelope recipient";
	case DECRYPT_FAILED:
		return "decryption failed";
	case DECRYPT_INTEGRITY:
		return "integrity check failed";
	case DECRYPT_TOO_LARGE:
		return "plaintext over the size limit";
	case DECRYPT_UNUSABLE:
		return "decrypted entity is unusable";
	case DECRYPT_UNAVAILABLE:
		return "key store unavailable";
	}
	return "decryption failed";
}
