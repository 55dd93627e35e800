/*
 * decrypt.h - why a decryption gave no plaintext, as a value the S/MIME
 * and OpenPGP modules return and the decrypting transforms decide on.
 *
 * API: decrypt_failure_text() is the one place with words for each value
 * (the log says them; a message never does: DEC-1).  A module may log a
 * finer, content-free detail beside the value, but no decision reads it.
 */
#ifndef MAILSEAL_DECRYPT_H
#define MAILSEAL_DECRYPT_H

typedef enum decrypt_failure {
	DECRYPT_OK = 0,
	DECRYPT_NOT_ENVELOPED,	/* no (auth)enveloped data: not ours */
	DECRYPT_MALFORMED,	/* not a CMS or OpenPGP object, bad structure */
	DECRYPT_REFUSED,	/* cipher, parameters or recipient type off
				 * our allow-list (DEC-4) */
	DECRYPT_NO_KEY,		/* no private key for any recipient */
	DECRYPT_NOT_FOR_RECIPIENT, /* a key of ours, but bound to none of
				 * the envelope recipients */
	DECRYPT_FAILED,		/* a key of ours did not open it */
	DECRYPT_INTEGRITY,	/* tag check failed, or no integrity
				 * protection (DEC-3, DEC-5) */
	DECRYPT_TOO_LARGE,	/* the plaintext is over the limit (MIME-L9) */
	DECRYPT_UNUSABLE,	/* the plaintext is no MIME entity */
	DECRYPT_UNAVAILABLE	/* the key store or gpg-agent failed us */
} decrypt_failure;

/* decrypt_failure_text - the words for a failure, for the log */
const char *decrypt_failure_text(decrypt_failure failure);

#endif
