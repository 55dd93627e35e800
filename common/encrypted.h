/*
 * encrypted.h - ENC-7: structural detection of a message that is already
 * encrypted at its root (S/MIME or PGP/MIME), so a filter passes it on
 * instead of encrypting it again.
 */
#ifndef MAILSEAL_ENCRYPTED_H
#define MAILSEAL_ENCRYPTED_H

#include <stdbool.h>

#include "msg.h"

/* msg_root_encrypted - the root is S/MIME enveloped data (DER checked) or
 * a well-formed PGP/MIME encrypted multipart */
bool msg_root_encrypted(ms_message *msg);

#endif
