/*
 * pdfmsg.h - the whole message as pdfwrap's encrypted PDF: the cover
 * block (From, To, Cc, Date, Subject, one line per attachment), the text
 * of the body, every other part as an embedded file.
 *
 * API: pdfmsg_build() walks the message (msg_walk, the one view of its
 * structure), renders and protects it with pdf.h, and says why when it
 * cannot (pdfmsg_reason); the caller words the status line.  Limits
 * (pdf.md section 7): at most PDFMSG_MAX_ATTACHMENTS attachments and
 * PDFMSG_MAX_ATTACHMENT_BYTES of them; a body over 500 pages is also
 * attached in full.
 */
#ifndef MAILSEAL_PDFMSG_H
#define MAILSEAL_PDFMSG_H

#include <glib.h>
#include <stdbool.h>

#include "err.h"
#include "msg.h"
#include "pdf.h"

/* pdf.md section 7 */
#define PDFMSG_MAX_ATTACHMENTS 100
#define PDFMSG_MAX_ATTACHMENT_BYTES ((size_t)25 * 1024 * 1024)

/* why a message has no PDF */
typedef enum pdfmsg_reason {
	PDFMSG_BUILT,			/* no refusal */
	PDFMSG_TOO_MANY_ATTACHMENTS,	/* over PDFMSG_MAX_ATTACHMENTS */
	PDFMSG_ATTACHMENTS_TOO_LARGE,	/* over PDFMSG_MAX_ATTACHMENT_BYTES */
	PDFMSG_BODY_TOO_LARGE,		/* the body is cut on the pages and
					 * its full text has no room left */
	PDFMSG_UNREADABLE_PART		/* a part's content cannot be read */
} pdfmsg_reason;

/* pdfmsg_build - the encrypted PDF of msg, opened by password, with an
 * optional link under the cover block and, with attach_original, the
 * message as received embedded as message.eml when it fits within the
 * limits (a warning when not).  MS_POLICY over a limit and MS_DATA for
 * an unreadable part, with *reason saying which; *reason is
 * PDFMSG_BUILT for every other result.  Nothing is printed for Postfix. */
ms_err pdfmsg_build(ms_message *msg, const char *password,
    const pdf_link *link, bool attach_original, GByteArray **out,
    pdfmsg_reason *reason);

/* pdfmsg_header_value - the decoded values of every field called name,
 * joined with ", ", as valid UTF-8 (g_free; "" when there is none) */
char *pdfmsg_header_value(const ms_message *msg, const char *name);

#endif
