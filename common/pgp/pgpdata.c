/*
 * pgpdata.c - what OpenPGP key material is, from its packets
 * (pgpdata.h).  The data comes from a file an administrator imports or
 * from a key server: every length is checked against what is left.
 */
#include "pgpdata.h"

#include <glib.h>
#include <string.h>

/* packet tags of key packets (RFC 9580 5.5.1) */
enum {
	TAG_SECRET_KEY = 5,
	TAG_PUBLIC_KEY = 6,
	TAG_SECRET_SUBKEY = 7,
	TAG_PUBLIC_SUBKEY = 14
};

/* dearmor - the octets of the first ASCII-armour block of data, or NULL
 * when data holds none (RFC 9580 6.2: a BEGIN line, header lines, an
 * empty line, base64 lines, an optional checksum line, an END line) */
static GByteArray *
dearmor(const unsigned char *data, size_t len)
{
	const char *text = (const char *)data, *end = text + len, *p, *line;
	GString *b64;
	GByteArray *out;
	bool body = false;
	guchar *raw;
	gsize raw_len = 0;

	if (len == 0 || len > G_MAXSSIZE)
		return NULL;
	p = g_strstr_len(text, (gssize)len, "-----BEGIN PGP ");
	if (p == NULL || (p != text && p[-1] != '\n'))
		return NULL;
	b64 = g_string_new(NULL);
	/* the BEGIN line itself, then one line at a time */
	p = memchr(p, '\n', (size_t)(end - p));
	while (p != NULL && p < end) {
		const char *eol;
		size_t n;

		line = p + 1;
		eol = memchr(line, '\n', (size_t)(end - line));
		n = (size_t)((eol != NULL ? eol : end) - line);
		while (n > 0 && (line[n - 1] == '\r' || line[n - 1] == ' ' ||
		    line[n - 1] == '\t'))
			n--;
		if (n >= 5 && strncmp(line, "-----", 5) == 0)
			break;
		if (!body) {
			/* header lines ("Key: value") end with an empty line;
			 * armour without headers starts its base64 at once */
			if (n == 0 || memchr(line, ':', n) == NULL) {
				body = true;
				g_string_append_len(b64, line, (gssize)n);
			}
		} else if (n > 0 && line[0] == '=')
			break;		/* the CRC-24 checksum line */
		else
			g_string_append_len(b64, line, (gssize)n);
		p = eol;
	}
	if (b64->len > 0)
		raw = g_base64_decode(b64->str, &raw_len);
	else
		raw = NULL;
	g_string_free(b64, TRUE);
	if (raw == NULL)
		return NULL;
	out = g_byte_array_new_take(raw, raw_len);
	return out;
}

/* packet - the tag, body and total size of the packet at data; false
 * when it is not a whole packet of a definite length */
static bool
packet(const unsigned char *data, size_t len, unsigned *tag,
    const unsigned char **body, size_t *body_len, size_t *total)
{
	size_t header, length;

	if (len < 2 || !(data[0] & 0x80))
		return false;
	if (data[0] & 0x40) {		/* OpenPGP format */
		*tag = data[0] & 0x3f;
		if (data[1] < 192) {
			header = 2;
			length = data[1];
		} else if (data[1] < 224) {
			if (len < 3)
				return false;
			header = 3;
			length = ((size_t)(data[1] - 192) << 8) + data[2] + 192;
		} else if (data[1] == 255) {
			if (len < 6)
				return false;
			header = 6;
			length = (size_t)data[2] << 24 | (size_t)data[3] << 16 |
			    (size_t)data[4] << 8 | data[5];
		} else
			return false;	/* partial lengths: no key packet */
	} else {			/* legacy format */
		unsigned type = data[0] & 3;

		*tag = (data[0] >> 2) & 0x0f;
		if (type == 3)
			return false;	/* indeterminate length */
		header = 1 + (type == 0 ? 1 : type == 1 ? 2 : 4);
		if (len < header)
			return false;
		length = 0;
		for (size_t i = 1; i < header; i++)
			length = length << 8 | data[i];
	}
	if (length > len - header)
		return false;
	*body = data + header;
	*body_len = length;
	*total = header + length;
	return true;
}

/* known_v4_algorithm - a public-key algorithm GnuPG 2.2 reads in a v4
 * key: RSA, Elgamal, DSA, ECDH, ECDSA, EdDSA (legacy) */
static bool
known_v4_algorithm(unsigned algorithm)
{
	switch (algorithm) {
	case 1: case 2: case 3: case 16: case 17: case 18: case 19: case 20:
	case 22:
		return true;
	default:
		return false;
	}
}

/* identify_packets - the first key packet among binary packets */
static void
identify_packets(const unsigned char *data, size_t len, pgp_material *out)
{
	for (unsigned n = 0; n < PGP_MATERIAL_PACKETS && len > 0; n++) {
		const unsigned char *body;
		size_t body_len, total;
		unsigned tag;

		if (!packet(data, len, &tag, &body, &body_len, &total))
			return;
		if ((tag == TAG_SECRET_KEY || tag == TAG_PUBLIC_KEY ||
		    tag == TAG_SECRET_SUBKEY || tag == TAG_PUBLIC_SUBKEY) &&
		    body_len >= 1) {
			out->version = body[0];
			out->secret = tag == TAG_SECRET_KEY ||
			    tag == TAG_SECRET_SUBKEY;
			/* version, creation time, (v5, v6: key length,)
			 * algorithm */
			if (out->version == 4 && body_len >= 6)
				out->algorithm = body[5];
			else if ((out->version == 5 || out->version == 6) &&
			    body_len >= 6)
				out->algorithm = body[5];
			switch (out->version) {
			case 2: case 3:
				out->kind = PGP_MATERIAL_OLD;
				break;
			case 4:
				out->kind = known_v4_algorithm(out->algorithm) ?
				    PGP_MATERIAL_V4 : PGP_MATERIAL_V4_ALGORITHM;
				break;
			case 5:
				out->kind = PGP_MATERIAL_V5;
				break;
			case 6:
				out->kind = PGP_MATERIAL_V6;
				break;
			default:
				out->kind = PGP_MATERIAL_UNKNOWN_VERSION;
				break;
			}
			return;
		}
		data += total;
		len -= total;
	}
}

void
pgp_material_identify(const unsigned char *data, size_t len,
    pgp_material *out)
{
	GByteArray *raw;

	memset(out, 0, sizeof(*out));
	out->kind = PGP_MATERIAL_NONE;
	if (len > 0 && (data[0] & 0x80)) {
		identify_packets(data, len, out);
		return;
	}
	raw = dearmor(data, len);
	if (raw != NULL) {
		identify_packets(raw->data, raw->len, out);
		g_byte_array_free(raw, TRUE);
	}
}

/* algorithm_name - the RFC 9580 name of a public-key algorithm id */
static const char *
algorithm_name(unsigned algorithm)
{
	switch (algorithm) {
	case 25:
		return "X25519";
	case 26:
		return "X448";
	case 27:
		return "Ed25519";
	case 28:
		return "Ed448";
	default:
		return NULL;
	}
}

char *
pgp_material_text(const pgp_material *m)
{
	const char *what = m->secret ? "secret key" : "key";
	const char *name = algorithm_name(m->algorithm);

	switch (m->kind) {
	case PGP_MATERIAL_V6:
		return g_strdup_printf("an OpenPGP v6 %s (RFC 9580)", what);
	case PGP_MATERIAL_V5:
		return g_strdup_printf("an OpenPGP v5 %s (LibrePGP)", what);
	case PGP_MATERIAL_OLD:
		return g_strdup_printf("an obsolete OpenPGP v%u %s",
		    m->version, what);
	case PGP_MATERIAL_V4_ALGORITHM:
		return name != NULL ? g_strdup_printf("an OpenPGP v4 %s of "
		    "the %s algorithm (RFC 9580)", what, name) :
		    g_strdup_printf("an OpenPGP v4 %s of public-key algorithm "
		    "%u", what, m->algorithm);
	case PGP_MATERIAL_V4:
		return g_strdup_printf("an OpenPGP v4 %s", what);
	case PGP_MATERIAL_UNKNOWN_VERSION:
		return g_strdup_printf("an OpenPGP key packet of unknown "
		    "version %u", m->version);
	case PGP_MATERIAL_NONE:
		break;
	}
	return g_strdup("no OpenPGP key");
}
