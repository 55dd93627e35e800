/*
 * pgpdata.h - what OpenPGP key material is, read from its packets
 * (RFC 9580 section 4) when the keyring's GnuPG finds no key in it: a v6
 * key (RFC 9580), a v5 key (LibrePGP), an obsolete v3 key, a v4 key of a
 * public-key algorithm GnuPG 2.2 does not know, so that a refusal can
 * name what the data holds instead of "no key".
 *
 * API: pgp_material_identify() reads the first key packet of binary or
 * ASCII-armoured data (the first armour block only); the result is an
 * enum (decisions read it, never the words); pgp_material_text() gives
 * the words for a diagnostic.
 * Limits: at most PGP_MATERIAL_PACKETS packets are skipped before the
 * first key packet; lengths are checked against the data, never trusted.
 */
#ifndef MAILSEAL_PGPDATA_H
#define MAILSEAL_PGPDATA_H

#include <stdbool.h>
#include <stddef.h>

#define PGP_MATERIAL_PACKETS 64

typedef enum pgp_material_kind {
	PGP_MATERIAL_NONE,		/* no OpenPGP key packet found */
	PGP_MATERIAL_V4,		/* a v4 key of an algorithm GnuPG knows */
	PGP_MATERIAL_V4_ALGORITHM,	/* a v4 key of another algorithm */
	PGP_MATERIAL_V6,		/* RFC 9580 */
	PGP_MATERIAL_V5,		/* LibrePGP (never an IETF standard) */
	PGP_MATERIAL_OLD,		/* v2 or v3 (RFC 1991), obsolete */
	PGP_MATERIAL_UNKNOWN_VERSION
} pgp_material_kind;

typedef struct pgp_material {
	pgp_material_kind kind;
	unsigned version;	/* of the key packet, when there is one */
	unsigned algorithm;	/* its public-key algorithm (v4 and later) */
	bool secret;		/* a secret-key packet */
} pgp_material;

/* pgp_material_identify - the first key packet of data (len octets) */
void pgp_material_identify(const unsigned char *data, size_t len,
    pgp_material *out);

/* pgp_material_text - what m is, for a diagnostic: "an OpenPGP v6 secret
 * key (RFC 9580)" (g_free) */
char *pgp_material_text(const pgp_material *m);

#endif
