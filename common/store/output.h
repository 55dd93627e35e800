/*
 * output.h - a filter's output, written completely before the first byte
 * reaches standard output.
 *
 * API: output_open() makes an anonymous memory file (memfd), or where
 * that is not available an anonymous temporary file (O_TMPFILE) in the
 * store's tmp/ or in $TMPDIR, so a crash leaves nothing behind;
 * output_write() and output_bio() fill it; output_commit() copies it to
 * stdout with every write checked; output_send() writes parts already
 * complete in memory straight to stdout.  Decrypted plaintext reaches an
 * output only after decryption and the integrity check succeeded (DEC-3),
 * and then lives in memory (or, without memfd, in an unlinked file of the
 * private spool).
 */
#ifndef MAILSEAL_OUTPUT_H
#define MAILSEAL_OUTPUT_H

#include <openssl/bio.h>
#include <stddef.h>
#include <sys/uio.h>

#include "err.h"
#include "store.h"

typedef struct ms_output ms_output;

/* output_open - a new, empty output */
ms_err output_open(const ms_store *store, ms_output **out);

/* output_write - append bytes */
ms_err output_write(ms_output *out, const void *data, size_t len);

/* output_write_lf - append data with CRLF and bare CR made LF, the line
 * end towards sendmail */
ms_err output_write_lf(ms_output *out, const char *data, size_t len);

/* output_bio - a BIO appending to the output (owned by out) */
BIO *output_bio(ms_output *out);

/* output_fd - the file behind the output (for handing it to a child
 * process as its standard input) */
int output_fd(const ms_output *out);

/* output_rewind - forget everything written so far (a plaintext that
 * turned out unusable), keeping the file */
ms_err output_rewind(ms_output *out);

/* output_commit - copy everything to standard output, then free */
ms_err output_commit(ms_output *out);

/* output_send - parts already complete in memory (a message as received
 * and our own header block) straight to standard output, every write
 * checked: nothing can fail half-way through making them, so they need
 * no staging in an output */
ms_err output_send(const struct iovec *parts, int count);

/* output_discard - free without writing anything */
void output_discard(ms_output *out);

#endif
