/*
 * addr.h - the one address parser: RFC 5321 mailboxes, validated and
 * normalised for comparison, lookup and file naming.
 *
 * API: addr_parse() fills an ms_addr; addr_equal() compares two; addr_key()
 * is the lookup key (local part folded to lower case, domain as lowercase
 * A-label).  Refused: empty input, CR, LF, NUL and other controls, any
 * whitespace but a space in a quoted local part (RFC 5321 allows
 * "john smith"@example.org; addr_parse_bound() refuses that too), a
 * leading '-', a local part over 64 octets,
 * an address over 254 octets, invalid UTF-8, a domain that is not LDH
 * labels, an IDN or an address literal, a trailing dot, more than one '@'
 * outside quotes.  Nothing is "repaired": a bad address is an error.
 */
#ifndef MAILSEAL_ADDR_H
#define MAILSEAL_ADDR_H

#include <stdbool.h>
#include <stddef.h>

#include "err.h"
#include "mslimits.h"

typedef struct ms_addr {
	char *local;	/* local part as it compares: unquoted when it can be */
	char *domain;	/* lowercase A-label, or a normalised address literal */
	char *text;	/* local@domain, the canonical form */
	char *key;	/* lookup key: local part ASCII-lowercased + @ + domain */
} ms_addr;

/* addr_parse - parse and normalise text[0..len); on error *why says why */
ms_err addr_parse(const char *text, size_t len, ms_addr *out,
    const char **why);

/* addr_parse_bound - addr_parse for an address a certificate or an
 * OpenPGP user ID binds to its key: no space even quoted (VER-4: spaces
 * in certificate addresses have served spoofing) */
ms_err addr_parse_bound(const char *text, size_t len, ms_addr *out,
    const char **why);

/* addr_parse_str - addr_parse for a NUL-terminated string */
ms_err addr_parse_str(const char *text, ms_addr *out, const char **why);

/* addr_clear - free what addr_parse allocated */
void addr_clear(ms_addr *addr);

/* addr_equal - same mailbox: domain exact (already folded), local part
 * compared without ASCII case */
bool addr_equal(const ms_addr *a, const ms_addr *b);

/* addr_domain_normalize - validate a domain, return a malloc'd lowercase
 * A-label form (IDNs converted), or NULL with *why set */
char *addr_domain_normalize(const char *text, size_t len, const char **why);

/* addr_is_filename_safe - true when s may be used as one path component:
 * only [A-Za-z0-9._+=@-], not starting with '.' or '-', no "..", short */
bool addr_is_filename_safe(const char *s);

#endif
