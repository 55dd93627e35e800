/*
 * test-pgp.c - tests of the GPGME data handles of common/pgp/pgp.c: the
 * entity reader that hands a message's content fields and body to gpg
 * makes every line end CRLF (the canonical form a signature covers),
 * whatever the sizes GPGME reads in and wherever the two pieces meet;
 * and pgp_material_identify of common/pgp/pgpdata.c, which names the key
 * material GnuPG cannot read, from binary and armoured packets, never
 * reading past a length.
 */
#include "pgp.h"
#include "pgpdata.h"

#include "unit.h"

typedef struct entity_case {
	const char *name;
	const char *a;
	const char *b;
	bool crlf;
	const char *want;
} entity_case;

static const entity_case entity_cases[] = {
	{ "LF lines", "Content-Type: text/plain\n\n", "one\ntwo\n", true,
	  "Content-Type: text/plain\r\n\r\none\r\ntwo\r\n" },
	{ "CRLF lines stay", "A: b\r\n\r\n", "x\r\ny\r\n", true,
	  "A: b\r\n\r\nx\r\ny\r\n" },
	{ "mixed line ends", "A: b\n\r\n", "x\r\ny\nz", true,
	  "A: b\r\n\r\nx\r\ny\r\nz" },
	{ "a CRLF split between the pieces", "A: b\r", "\nbody\n", true,
	  "A: b\r\nbody\r\n" },
	{ "an LF opening the second piece", "A: b", "\n\nbody", true,
	  "A: b\r\n\r\nbody" },
	{ "empty lines only", "\n\n\n", "\n", true, "\r\n\r\n\r\n\r\n" },
	{ "an empty second piece", "x\ny\n", "", true, "x\r\ny\r\n" },
	{ "an empty first piece", "", "\nx", true, "\r\nx" },
	{ "no second piece at all", "x\ny", NULL, true, "x\r\ny" },
	{ "nothing at all", "", "", true, "" },
	{ "a bare CR is left alone", "a\rb\n", "", true, "a\rb\r\n" },
	{ "no conversion asked", "A: b\n\n", "x\ny\n", false,
	  "A: b\n\nx\ny\n" },
};

/* read_all - everything the handle gives, asked for block octets at a
 * time, or NULL on an error */
static GString *
read_all(gpgme_data_t dh, size_t block)
{
	GString *got = g_string_new(NULL);
	char *buf = g_malloc(block);

	for (;;) {
		gpgme_ssize_t n = gpgme_data_read(dh, buf, block);

		if (n < 0 || (size_t)n > block) {
			g_string_free(got, TRUE);
			got = NULL;
			break;
		}
		if (n == 0)
			break;
		g_string_append_len(got, buf, n);
	}
	g_free(buf);
	return got;
}

/* check_entity - every case read in blocks of 1 to 9 octets and 64 KiB */
static void
check_entity(void)
{
	static const size_t blocks[] = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 65536 };

	for (size_t i = 0; i < G_N_ELEMENTS(entity_cases); i++) {
		const entity_case *c = &entity_cases[i];
		bool all = true;

		for (size_t k = 0; k < G_N_ELEMENTS(blocks); k++) {
			gpgme_data_t dh = NULL;
			GString *got = NULL;

			if (pgp_data_entity(c->a, strlen(c->a), c->b,
			    c->b ? strlen(c->b) : 0, c->crlf, &dh) == MS_OK)
				got = read_all(dh, blocks[k]);
			gpgme_data_release(dh);
			if (got == NULL || strcmp(got->str, c->want) != 0) {
				unit_note("blocks of %zu: %s", blocks[k],
				    got ? unit_show_len(got->str, got->len) :
				    "an error");
				all = false;
			}
			if (got != NULL)
				g_string_free(got, TRUE);
		}
		unit_check(all, "entity: %s", c->name);
	}
}

/* check_entity_large - a body of many lines of every length from 0 to 99,
 * read in GPGME's own block size and in odd ones, is the same text with
 * CRLF line ends */
static void
check_entity_large(void)
{
	static const size_t blocks[] = { 3, 4093, 65536 };
	GString *body = g_string_new(NULL), *want = g_string_new(NULL);
	bool all = true;

	for (int round = 0; round < 50; round++)
		for (int len = 0; len < 100; len++) {
			for (int i = 0; i < len; i++) {
				g_string_append_c(body, (char)('a' + i % 26));
				g_string_append_c(want, (char)('a' + i % 26));
			}
			/* every third line already CRLF */
			g_string_append(body, len % 3 == 0 ? "\r\n" : "\n");
			g_string_append(want, "\r\n");
		}
	for (size_t k = 0; k < G_N_ELEMENTS(blocks); k++) {
		gpgme_data_t dh = NULL;
		GString *got = NULL;

		if (pgp_data_entity("A: b\n\n", 6, body->str, body->len, true,
		    &dh) == MS_OK)
			got = read_all(dh, blocks[k]);
		gpgme_data_release(dh);
		all = all && got != NULL && got->len == want->len + 8 &&
		    memcmp(got->str, "A: b\r\n\r\n", 8) == 0 &&
		    memcmp(got->str + 8, want->str, want->len) == 0;
		if (got != NULL)
			g_string_free(got, TRUE);
	}
	unit_check(all, "entity: %zu octets of lines of every length",
	    body->len);
	g_string_free(body, TRUE);
	g_string_free(want, TRUE);
}

typedef struct material_case {
	const char *name;
	const char *data;
	size_t len;
	pgp_material_kind kind;
	unsigned version;
	unsigned algorithm;
	bool secret;
} material_case;

#define BIN(s) s, sizeof(s) - 1

static const material_case material_cases[] = {
	{ "v6 public key, OpenPGP format", BIN("\xc6\x06\x06\x63\x87\x7f"
	  "\xe3\x1b"), PGP_MATERIAL_V6, 6, 27, false },
	{ "v6 secret key", BIN("\xc5\x06\x06\x63\x87\x7f\xe3\x1b"),
	  PGP_MATERIAL_V6, 6, 27, true },
	{ "v5 secret key", BIN("\xc5\x06\x05\0\0\0\0\x16"),
	  PGP_MATERIAL_V5, 5, 22, true },
	{ "v4 RSA, legacy format, 2-octet length", BIN("\x99\0\x06\x04\0\0"
	  "\0\0\x01"), PGP_MATERIAL_V4, 4, 1, false },
	{ "v4 of RFC 9580's Ed25519", BIN("\x99\0\x06\x04\0\0\0\0\x1b"),
	  PGP_MATERIAL_V4_ALGORITHM, 4, 27, false },
	{ "v4 of an unknown algorithm", BIN("\x98\x06\x04\0\0\0\0\x63"),
	  PGP_MATERIAL_V4_ALGORITHM, 4, 99, false },
	{ "v3 key", BIN("\x98\x01\x03"), PGP_MATERIAL_OLD, 3, 0, false },
	{ "version 9", BIN("\xc6\x01\x09"), PGP_MATERIAL_UNKNOWN_VERSION, 9,
	  0, false },
	{ "a public subkey first", BIN("\xce\x01\x06"), PGP_MATERIAL_V6, 6,
	  0, false },
	{ "a marker packet, then the key", BIN("\xca\x03PGP\xc6\x01\x06"),
	  PGP_MATERIAL_V6, 6, 0, false },
	{ "a five-octet length", BIN("\xc6\xff\0\0\0\x01\x06"),
	  PGP_MATERIAL_V6, 6, 0, false },
	{ "a length past the end", BIN("\xc6\x10\x06"), PGP_MATERIAL_NONE, 0,
	  0, false },
	{ "a five-octet length past the end", BIN("\xc6\xff\xff\xff\xff\xff"
	  "\x06"), PGP_MATERIAL_NONE, 0, 0, false },
	{ "a partial length", BIN("\xc6\xe1\x06\x06"), PGP_MATERIAL_NONE, 0,
	  0, false },
	{ "an indeterminate legacy length", BIN("\x9b\x06"),
	  PGP_MATERIAL_NONE, 0, 0, false },
	{ "an empty key packet", BIN("\xc6\x00"), PGP_MATERIAL_NONE, 0, 0,
	  false },
	{ "a signature packet only", BIN("\xc2\x01\x04"), PGP_MATERIAL_NONE,
	  0, 0, false },
	{ "not a packet", BIN("\x06\x01\x06"), PGP_MATERIAL_NONE, 0, 0,
	  false },
	{ "nothing", BIN(""), PGP_MATERIAL_NONE, 0, 0, false },
	{ "armoured", BIN("-----BEGIN PGP PUBLIC KEY BLOCK-----\n\nxgEG\n"
	  "=AAAA\n-----END PGP PUBLIC KEY BLOCK-----\n"), PGP_MATERIAL_V6, 6, 0,
	  false },
	{ "armoured with CRLF, a header, text before", BIN("key:\r\n"
	  "-----BEGIN PGP PRIVATE KEY BLOCK-----\r\nComment: x\r\n\r\n"
	  "xQEG\r\n-----END PGP PRIVATE KEY BLOCK-----\r\n"), PGP_MATERIAL_V6,
	  6, 0, true },
	{ "armoured without the empty line", BIN("-----BEGIN PGP PUBLIC KEY "
	  "BLOCK-----\nxgEG\n-----END PGP PUBLIC KEY BLOCK-----\n"),
	  PGP_MATERIAL_V6, 6, 0, false },
	{ "armour not at a line start", BIN("x-----BEGIN PGP PUBLIC KEY "
	  "BLOCK-----\n\nxgEG\n"), PGP_MATERIAL_NONE, 0, 0, false },
	{ "armour with nothing in it", BIN("-----BEGIN PGP PUBLIC KEY "
	  "BLOCK-----\n\n-----END PGP PUBLIC KEY BLOCK-----\n"),
	  PGP_MATERIAL_NONE, 0, 0, false },
	{ "armour cut after BEGIN", BIN("-----BEGIN PGP PUBLIC KEY BLOCK-----"),
	  PGP_MATERIAL_NONE, 0, 0, false },
	{ "text", BIN("hello\n"), PGP_MATERIAL_NONE, 0, 0, false },
};

static void
check_material(void)
{
	for (size_t i = 0; i < G_N_ELEMENTS(material_cases); i++) {
		const material_case *c = &material_cases[i];
		/* a copy of exactly len octets: a read past it is ASan's */
		unsigned char *data = g_memdup2(c->data, c->len);
		pgp_material m;

		pgp_material_identify(data, c->len, &m);
		unit_check(m.kind == c->kind && (c->kind == PGP_MATERIAL_NONE ||
		    (m.version == c->version && m.algorithm == c->algorithm &&
		    m.secret == c->secret)), "material: %s", c->name);
		g_free(data);
	}
}

/* check_material_packets - a long run of packets before the key: the
 * count is bounded, so a key after PGP_MATERIAL_PACKETS is not read */
static void
check_material_packets(void)
{
	GByteArray *data = g_byte_array_new();
	static const guint8 marker[] = { 0xca, 0x03, 'P', 'G', 'P' };
	static const guint8 key[] = { 0xc6, 0x01, 0x06 };
	pgp_material m;

	for (int i = 0; i < PGP_MATERIAL_PACKETS - 1; i++)
		g_byte_array_append(data, marker, sizeof(marker));
	g_byte_array_append(data, key, sizeof(key));
	pgp_material_identify(data->data, data->len, &m);
	unit_check(m.kind == PGP_MATERIAL_V6, "material: the key as the "
	    "last packet read");
	g_byte_array_prepend(data, marker, sizeof(marker));
	pgp_material_identify(data->data, data->len, &m);
	unit_check(m.kind == PGP_MATERIAL_NONE, "material: the key after the "
	    "packets read");
	g_byte_array_free(data, TRUE);
}

int
main(void)
{
	if (gpgme_check_version(NULL) == NULL) {
		unit_check(false, "GPGME initialises");
		return unit_done();
	}
	check_entity();
	check_entity_large();
	check_material();
	check_material_packets();
	return unit_done();
}
