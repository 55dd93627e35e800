/*
 * fuzz-address.c - libFuzzer target for the address parser (common/addr.c).
 *
 * The raw bytes go to addr_parse() with their explicit length, so NUL, CR
 * and LF reach the parser as they would from argv or a certificate.  On
 * success the invariants every caller relies on are checked and a
 * violation aborts (a crash libFuzzer reports):
 *   - text and key hold no controls or DEL, a space only inside a quoted
 *     local part, and are valid UTF-8; addr_parse_bound takes no space;
 *   - text is local@domain, key is the local part ASCII-lowercased + @ +
 *     domain, the domain has no ASCII upper case (except the "IPv6" tag
 *     of an address literal) and ends neither in '.' nor '-';
 *   - the canonical text parses again to the same text and key (the
 *     normal form is a fixed point, so lookups cannot drift);
 *   - the lengths stay within RFC 5321 (64 / 254 octets), no leading '-';
 *   - addr_is_filename_safe(key) implies no '/', no "..", no leading '.'.
 */
#include "fuzz.h"
#include "addr.h"

#include <glib.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);


static int
clean(const char *s)
{
	const char *close = *s == '"' ? strrchr(s, '"') : NULL;

	for (const char *p = s; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f ||
		    (*p == ' ' && (close == NULL || p > close)))
			return 0;
	return g_utf8_validate(s, -1, NULL);
}

static int
lower_ascii_domain(const char *domain)
{
	const char *p = domain;

	if (strncmp(domain, "[IPv6:", 6) == 0)
		p += 6;
	for (; *p; p++)
		if (*p >= 'A' && *p <= 'Z')
			return 0;
	return 1;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	ms_addr addr, again;
	const char *why = NULL;
	char *joined, *folded;
	size_t dlen;

	if (addr_parse((const char *)data, size, &addr, &why) != MS_OK) {
		/* a refusal always says why and leaves nothing behind */
		require(why != NULL && addr.text == NULL && addr.key == NULL &&
		    addr.local == NULL && addr.domain == NULL);
		return 0;
	}
	require(addr.local && addr.domain && addr.text && addr.key);
	require(clean(addr.text) && clean(addr.key));
	require(addr.local[0] != '\0' && addr.local[0] != '-');
	require(strlen(addr.local) <= ADDR_LOCAL_MAX);
	require(strlen(addr.text) <= ADDR_TOTAL_MAX);
	dlen = strlen(addr.domain);
	require(dlen > 0 && dlen <= ADDR_DOMAIN_MAX);
	require(addr.domain[dlen - 1] != '.' && addr.domain[dlen - 1] != '-');
	require(lower_ascii_domain(addr.domain));

	joined = g_strdup_printf("%s@%s", addr.local, addr.domain);
	require(strcmp(joined, addr.text) == 0);
	g_free(joined);
	folded = g_ascii_strdown(addr.local, -1);
	joined = g_strdup_printf("%s@%s", folded, addr.domain);
	require(strcmp(joined, addr.key) == 0);
	g_free(joined);
	g_free(folded);

	require(addr_parse_str(addr.text, &again, &why) == MS_OK);
	require(strcmp(again.text, addr.text) == 0);
	require(strcmp(again.key, addr.key) == 0);
	require(addr_equal(&addr, &again));
	addr_clear(&again);

	/* the same address as a certificate's: refused exactly when it
	 * holds a space */
	if (addr_parse_bound((const char *)data, size, &again, &why) == MS_OK) {
		require(strchr(addr.text, ' ') == NULL);
		addr_clear(&again);
	} else
		require(memchr(data, ' ', size) != NULL);

	if (addr_is_filename_safe(addr.key))
		require(strchr(addr.key, '/') == NULL &&
		    strstr(addr.key, "..") == NULL && addr.key[0] != '.');
	addr_clear(&addr);
	return 0;
}
