/*
 * test-pgp.c - tests of the GPGME data handles of common/pgp/pgp.c: the
 * entity reader that hands a message's content fields and body to gpg
 * makes every line end CRLF (the canonical form a signature covers),
 * whatever the sizes GPGME reads in and wherever the two pieces meet.
 */
#include "pgp.h"

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

int
main(void)
{
	if (gpgme_check_version(NULL) == NULL) {
		unit_check(false, "GPGME initialises");
		return unit_done();
	}
	check_entity();
	check_entity_large();
	return unit_done();
}
