/*
 * instance.h - this gateway's instance key: 32 random octets in the
 * store's spool/instance.key (0600), made on first use by whichever
 * program needs it first; concurrent first uses agree on one key (it is
 * written under a private name and linked into place).  It keys the loop
 * marker (marker.h) and the derived SMS passwords (pdfpass.h), each under
 * a label of its own.
 *
 * API: instance_key().
 */
#ifndef MAILSEAL_INSTANCE_H
#define MAILSEAL_INSTANCE_H

#include "err.h"
#include "store.h"

#define INSTANCE_KEY_LEN 32

/* instance_key - the instance key into key */
ms_err instance_key(const ms_store *store, unsigned char key[INSTANCE_KEY_LEN]);

#endif
