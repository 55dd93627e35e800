/*
 * smtp.h - hand one finished message to a local SMTP listener, such as the
 * reinjection smtpd on 127.0.0.1:10026 of Postfix's FILTER_README.
 *
 * API: smtp_send() speaks EHLO, MAIL FROM (with BODY=8BITMIME when the
 * server offers it), one RCPT TO per recipient, DATA with the message's
 * line ends made CRLF and leading dots doubled, and QUIT, over GIO's
 * sockets (GLib is linked into every filter already; a library such as
 * libcurl would cost more to load than the whole exchange).  Every reply
 * must be the one expected; anything else, a timeout or a broken
 * connection is MS_TEMP, so the mail defers.  Limits: SMTP_REPLY_MAX
 * octets per reply line, SMTP_REPLY_LINES lines per reply.
 */
#ifndef MAILSEAL_SMTP_H
#define MAILSEAL_SMTP_H
#include <glib.h>
#include <stdbool.h>
#include "err.h"
#include "mslimits.h"

#define SMTP_REPLY_LINES 100

/* smtp_send - send the message in fd (read from its start) from sender
 * ("" for the null sender) to rcpts (char *) through where
 * ("HOST:PORT"), every step within timeout seconds; with ret_hdrs a
 * bounce may carry the header only (RET=HDRS, RFC 3461), and a server
 * that does not offer DSN gets nothing (MS_TEMP) */
ms_err smtp_send(const char *where, const char *sender, GPtrArray *rcpts,
    int fd, bool ret_hdrs, unsigned timeout);
#endif
