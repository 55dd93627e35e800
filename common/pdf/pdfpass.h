/*
 * pdfpass.h - the passwords that open pdfwrap's PDFs (pdf.md section 4
 * and 5): static ones from the store, random ones derived so that a
 * Postfix retry yields the same password again.
 *
 * API: pdfpass_random() derives the password for one message and one
 * recipient from the store's secret pdf/random.key; pdfpass_derive() is
 * the derivation itself; pdfpass_static() reads the recipient's (or its
 * domain's) static password file pdf/static/H, H = hex SHA-256 of the
 * address key or of the domain.  Passwords are NUL-terminated, wiped by
 * secret_free().  Limits: static files up to 4 KiB, mode 0600; static
 * passwords at least PDFPASS_STATIC_MIN characters.
 *
 * OTP mode (pdf.md 5.4): pdfpass_otp_secret() reads (or creates) the
 * recipient's client secret in pdf/otp/H, one "GENERATION HEX" line per
 * generation (at most 4 KiB, so about 50 generations);
 * pdfpass_otp_new_id() makes a password ID, pdfpass_otp_parse_id() reads
 * one back (any case, dashes and spaces ignored), pdfpass_otp_derive()
 * is the password.
 */
#ifndef MAILSEAL_PDFPASS_H
#define MAILSEAL_PDFPASS_H

#include <stddef.h>
#include <time.h>

#include "addr.h"
#include "err.h"
#include "store.h"
#include "mslimits.h"

#define PDFPASS_LEN 16			/* 80 bits in the 32-symbol alphabet */
#define PDFPASS_STATIC_MIN 12
#define PDFPASS_KEY_MIN 32
#define PDFPASS_OTP_SECRET_LEN 32
#define PDFPASS_OTP_ID_SYMBOLS 32	/* 20 bytes: 1, generation, 16 random */
#define PDFPASS_OTP_ID_LEN 39		/* 8 groups of 4 with dashes */
#define PDFPASS_SMS_REFERENCE_LEN 8

/* pdfpass_derive - the first PDFPASS_LEN symbols of
 * encode(HMAC-SHA256(key, "mailseal-pdf-random-v2" 0 id 0 sender 0
 * recipient)): bound to the sender too, so that another sender who reuses
 * a Message-ID is not told the same password */
void pdfpass_derive(const unsigned char *key, size_t key_len, const char *id,
    const char *sender, const char *recipient, char out[PDFPASS_LEN + 1]);

/* pdfpass_random - pdfpass_derive with the store's secret and the
 * addresses' lookup keys; MS_CONFIG when the secret is missing, short or
 * readable by others */
ms_err pdfpass_random(const ms_store *store, const char *id,
    const ms_addr *sender, const ms_addr *recipient,
    char out[PDFPASS_LEN + 1]);

/* pdfpass_sms - for sms mode with a queue id: the password, the SMS
 * reference and the spool job name of one queue file and recipient,
 * derived from the instance key (spool/instance.key, made on first use)
 * under labels of their own, so that a retry yields the same three and
 * finds the job it spooled before */
ms_err pdfpass_sms(const ms_store *store, const char *id,
    const ms_addr *recipient, char password[PDFPASS_LEN + 1],
    char reference[PDFPASS_SMS_REFERENCE_LEN + 1],
    char job[PDFPASS_LEN + 2]);

/* pdfpass_static - the static password valid at now for recipient, user
 * file first, then the domain file; MS_NOTFOUND when neither exists,
 * MS_POLICY (reason in *why) when it is not valid at now, MS_CONFIG for a
 * malformed, weak or world-readable file */
ms_err pdfpass_static(const ms_store *store, const ms_addr *recipient,
    time_t now, char **password, const char **why);

/* pdfpass_check_static - a static password is long enough and one line */
ms_err pdfpass_check_static(const char *password);

/* pdfpass_read_private - a whole file of the store (at most 4 KiB) that
 * only we may read; MS_NOTFOUND when missing, MS_CONFIG when others can
 * read or write it or it is too large (secret_bytes_free) */
ms_err pdfpass_read_private(const ms_store *store, const char *subdir,
    const char *name, GByteArray **out);

/* pdfpass_generate - a fresh random password of PDFPASS_LEN symbols */
void pdfpass_generate(char out[PDFPASS_LEN + 1]);

/* pdfpass_otp_derive - the first PDFPASS_LEN symbols of
 * encode(HMAC-SHA256(secret, "mailseal-pdf-otp-v1" 0 id 0 recipient)),
 * id in its written form, recipient lower-cased here */
void pdfpass_otp_derive(const unsigned char secret[PDFPASS_OTP_SECRET_LEN],
    const char *id, const char *recipient, char out[PDFPASS_LEN + 1]);

/* pdfpass_otp_make_id - the written password ID for generation and 16
 * bytes of nonce */
void pdfpass_otp_make_id(unsigned generation, const unsigned char nonce[16],
    char out[PDFPASS_OTP_ID_LEN + 1]);

/* pdfpass_otp_new_id - pdfpass_otp_make_id with a random nonce */
void pdfpass_otp_new_id(unsigned generation,
    char out[PDFPASS_OTP_ID_LEN + 1]);

/* pdfpass_otp_parse_id - text as a password ID of scheme version 1:
 * the written form in out and its generation; MS_DATA when it is not one */
ms_err pdfpass_otp_parse_id(const char *text,
    char out[PDFPASS_OTP_ID_LEN + 1], unsigned *generation);

/* pdfpass_otp_secret - the recipient's client secret of generation
 * (0: the newest, created as generation 1 when create is set and none
 * exists; that takes the store lock); MS_NOTFOUND when it does not exist,
 * MS_CONFIG for a damaged or readable file */
ms_err pdfpass_otp_secret(ms_store *store, const ms_addr *recipient,
    unsigned generation, bool create,
    unsigned char secret[PDFPASS_OTP_SECRET_LEN], unsigned *found);

#endif
