/*
 * fuzz-pgpdata.c - libFuzzer target for pgp_material_identify
 * (common/pgp/pgpdata.c), which reads the packets of key data that an
 * administrator imports or a key server sends, binary or armoured.
 *
 * The raw bytes go in with their length; ASan catches any read past it.
 * Invariants checked (a violation aborts):
 *   - the kind is one of the enum's values;
 *   - no key packet (NONE) leaves version, algorithm and secret at zero;
 *   - the kind agrees with the version read (V6 is version 6, V5 is 5,
 *     OLD is 2 or 3, V4 and V4_ALGORITHM are 4);
 *   - the words for a diagnostic are non-empty valid UTF-8 without
 *     control characters.
 */
#include "fuzz.h"
#include "pgpdata.h"

#include <glib.h>
#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	pgp_material m;
	char *text;

	pgp_material_identify(data, size, &m);
	switch (m.kind) {
	case PGP_MATERIAL_NONE:
		require(m.version == 0 && m.algorithm == 0 && !m.secret);
		break;
	case PGP_MATERIAL_V4:
	case PGP_MATERIAL_V4_ALGORITHM:
		require(m.version == 4);
		break;
	case PGP_MATERIAL_V5:
		require(m.version == 5);
		break;
	case PGP_MATERIAL_V6:
		require(m.version == 6);
		break;
	case PGP_MATERIAL_OLD:
		require(m.version == 2 || m.version == 3);
		break;
	case PGP_MATERIAL_UNKNOWN_VERSION:
		require(m.version < 2 || m.version > 6);
		break;
	default:
		require(0);
	}
	text = pgp_material_text(&m);
	require(text != NULL && *text != '\0' && g_utf8_validate(text, -1,
	    NULL));
	for (const char *p = text; *p != '\0'; p++)
		require((unsigned char)*p >= 0x20 && *p != 0x7f);
	g_free(text);
	return 0;
}
