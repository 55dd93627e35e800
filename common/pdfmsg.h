/*
 * pdfmsg.h - the whole message as pdfwrap's encrypted PDF: the cover
 * block (From, To, Cc, Date, Subject, one line per attachment), the text
 * of the body, every other part as an embedded file.
 *
 * API: pdfmsg_build() walks the message (msg_walk, the one view of its
 * structure), renders and protects it with pdf.h.  Limits (pdf.md
 * section 7): at most 100 attachments (5.7.1 refusal) and 25 MiB of
 * them (5.3.4); a body over 500 pages is also attached in full.
 */
#ifndef MAILSEAL_PDFMSG_H
#define MAILSEAL_PDFMSG_H

#include <glib.h>
#include <stdbool.h>

#include "err.h"
#include "msg.h"
#include "pdf.h"

/* pdfmsg_build - the encrypted PDF of msg, opened by password, with an
 * optional link under the cover block and, with attach_original, the
 * message as received embedded as message.eml when it fits within the
 * limits (a warning when not); a refusal prints its status line and
 * returns MS_POLICY, an unreadable part MS_DATA */
ms_err pdfmsg_build(ms_message *msg, const char *password,
    const pdf_link *link, bool attach_original, GByteArray **out);

/* pdfmsg_header_value - the decoded values of every field called name,
 * joined with ", ", as valid UTF-8 (g_free; "" when there is none) */
char *pdfmsg_header_value(const ms_message *msg, const char *name);

#endif
