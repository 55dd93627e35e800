/*
 * addr.c - RFC 5321 mailbox parsing and normalisation (see addr.h).
 * The parser is a single left-to-right pass with no recursion; every
 * buffer is sized from the input length, which is capped first.
 */
#include "addr.h"

#include <arpa/inet.h>
#include <glib.h>
#include <stdlib.h>
#include <string.h>

/* is_atext - RFC 5322 atext, ASCII part */
static bool
is_atext(unsigned char c)
{
	if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9'))
		return true;
	return c != '\0' && strchr("!#$%&'*+-/=?^_`{|}~", c) != NULL;
}

/* utf8_len - length of one valid UTF-8 sequence (>= 0x80, no C1, no
 * whitespace), else 0 */
static size_t
utf8_len(const unsigned char *s, size_t left)
{
	gunichar cp;

	cp = g_utf8_get_char_validated((const gchar *)s, (gssize)left);
	if (cp == (gunichar)-1 || cp == (gunichar)-2 || cp < 0xa0)
		return 0;
	/* U+00A0, U+3000, U+2028 and the like show or act as spaces, and
	 * addr.h promises that no whitespace gets through */
	if (g_unichar_isspace(cp))
		return 0;
	return (size_t)g_unichar_to_utf8(cp, NULL);
}

/* valid_dot_string - RFC 5321 Dot-string, with UTF-8 allowed (RFC 6531) */
static bool
valid_dot_string(const char *s, size_t len)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t i = 0, n;
	bool need_atom = true;

	if (len == 0)
		return false;
	while (i < len) {
		if (u[i] == '.') {
			if (need_atom)
				return false;	/* leading or double dot */
			need_atom = true;
			i++;
			continue;
		}
		if (u[i] < 0x80) {
			if (!is_atext(u[i]))
				return false;
			i++;
		} else {
			n = utf8_len(u + i, len - i);
			if (n == 0)
				return false;
			i += n;
		}
		need_atom = false;
	}
	return !need_atom;	/* no trailing dot */
}

char *
addr_domain_normalize(const char *text, size_t len, const char **why)
{
	char *copy, *ascii, *p;
	size_t i, label;
	bool non_ascii = false;

	if (len == 0) {
		*why = "empty domain";
		return NULL;
	}
	if (len > ADDR_DOMAIN_MAX * 4) {
		*why = "domain too long";
		return NULL;
	}
	if (text[0] == '[') {
		/* address literal: [IPv4] or [IPv6:...] */
		char buf[64];
		unsigned char bin[16];
		size_t inner = len - 2;

		if (len < 3 || text[len - 1] != ']' || inner >= sizeof(buf)) {
			*why = "bad address literal";
			return NULL;
		}
		memcpy(buf, text + 1, inner);
		buf[inner] = '\0';
		if (g_ascii_strncasecmp(buf, "IPv6:", 5) == 0) {
			char canon[INET6_ADDRSTRLEN];

			if (inet_pton(AF_INET6, buf + 5, bin) != 1 ||
			    inet_ntop(AF_INET6, bin, canon,
			    sizeof(canon)) == NULL) {
				*why = "bad IPv6 address literal";
				return NULL;
			}
			/* one spelling per address, or "2001:DB8:0::1" and
			 * "2001:db8::1" would be two keys for one mailbox */
			return g_strdup_printf("[IPv6:%s]", canon);
		}
		if (inet_pton(AF_INET, buf, bin) != 1) {
			*why = "bad address literal";
			return NULL;
		}
		return g_strndup(text, len);
	}
	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)text[i];

		if (c < 0x21 || c == 0x7f) {
			*why = "control character or space in domain";
			return NULL;
		}
		if (c >= 0x80)
			non_ascii = true;
	}
	copy = g_strndup(text, len);
	if (non_ascii) {
		if (!g_utf8_validate(copy, (gssize)len, NULL)) {
			g_free(copy);
			*why = "invalid UTF-8 in domain";
			return NULL;
		}
		ascii = g_hostname_to_ascii(copy);
		g_free(copy);
		if (ascii == NULL) {
			*why = "invalid internationalised domain";
			return NULL;
		}
		copy = ascii;
	}
	p = g_ascii_strdown(copy, -1);
	g_free(copy);
	len = strlen(p);
	if (len > ADDR_DOMAIN_MAX) {
		g_free(p);
		*why = "domain too long";
		return NULL;
	}
	/* LDH labels of 1..63 octets, no hyphen at either end, no empty
	 * label (so no leading, trailing or double dot) */
	label = 0;
	for (i = 0; i <= len; i++) {
		char c = p[i];

		if (c == '.' || c == '\0') {
			if (label == 0 || label > 63 || p[i - 1] == '-' ||
			    p[i - label] == '-') {
				g_free(p);
				*why = "malformed domain label";
				return NULL;
			}
			label = 0;
			continue;
		}
		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		    c == '-')) {
			g_free(p);
			*why = "character not allowed in domain";
			return NULL;
		}
		label++;
	}
	return p;
}

/* parse_quoted - unescape a quoted local part q[0..len) including quotes */
static char *
parse_quoted(const char *q, size_t len, const char **why)
{
	GString *out;
	size_t i;
	const unsigned char *u = (const unsigned char *)q;

	out = g_string_sized_new(len);
	for (i = 1; i + 1 < len; i++) {
		unsigned char c = u[i];

		if (c == '\\') {
			i++;
			if (i + 1 >= len) {
				*why = "bad escape in quoted local part";
				goto fail;
			}
			c = u[i];
			if (c < 0x20 || c > 0x7e) {	/* quoted-pairSMTP */
				*why = "control character in address";
				goto fail;
			}
			g_string_append_c(out, (char)c);
			continue;
		}
		if (c == '"') {
			*why = "stray quote in local part";
			goto fail;
		}
		if (c < 0x20 || c == 0x7f) {	/* qtextSMTP and the space */
			*why = "control character or space in address";
			goto fail;
		}
		if (c >= 0x80) {
			size_t n = utf8_len(u + i, len - 1 - i);

			if (n == 0) {
				*why = "invalid UTF-8 in local part";
				goto fail;
			}
			g_string_append_len(out, q + i, (gssize)n);
			i += n - 1;
			continue;
		}
		g_string_append_c(out, (char)c);
	}
	if (out->len == 0) {
		*why = "empty local part";
		goto fail;
	}
	return g_string_free(out, FALSE);
fail:
	g_string_free(out, TRUE);
	return NULL;
}

/* quote_local - the canonical written form of an unquoted local part */
static char *
quote_local(const char *raw)
{
	GString *out;
	const char *p;

	if (valid_dot_string(raw, strlen(raw)))
		return g_strdup(raw);
	out = g_string_new("\"");
	for (p = raw; *p; p++) {
		if (*p == '"' || *p == '\\')
			g_string_append_c(out, '\\');
		g_string_append_c(out, *p);
	}
	g_string_append_c(out, '"');
	return g_string_free(out, FALSE);
}

ms_err
addr_parse(const char *text, size_t len, ms_addr *out, const char **why)
{
	size_t i, at = 0;
	bool have_at = false;
	bool in_quote = false, quoted_local;
	char *raw_local = NULL, *domain = NULL, *local = NULL;
	const char *dummy;

	if (why == NULL)
		why = &dummy;
	memset(out, 0, sizeof(*out));
	if (text == NULL || len == 0) {
		*why = "empty address";
		return MS_DATA;
	}
	if (len > ADDR_TOTAL_MAX * 4) {
		*why = "address too long";
		return MS_DATA;
	}
	if (text[0] == '-') {
		*why = "address starts with '-'";
		return MS_DATA;
	}
	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)text[i];

		/* a space only inside a quoted local part, where RFC 5321
		 * allows it; the local and domain checks refuse it elsewhere */
		if (c == '\0' || c == '\r' || c == '\n' || c < 0x20 ||
		    c == 0x7f) {
			*why = "control character in address";
			return MS_DATA;
		}
	}
	/* find the one '@' outside quotes that separates local and domain */
	quoted_local = text[0] == '"';
	for (i = 0; i < len; i++) {
		if (in_quote) {
			if (text[i] == '\\')
				i++;
			else if (text[i] == '"')
				in_quote = false;
			continue;
		}
		if (text[i] == '"') {
			if (i != 0) {
				*why = "quote inside local part";
				return MS_DATA;
			}
			in_quote = true;
		} else if (text[i] == '@') {
			if (have_at) {
				*why = "more than one '@'";
				return MS_DATA;
			}
			have_at = true;
			at = i;
		}
	}
	if (in_quote) {
		*why = "unterminated quote";
		return MS_DATA;
	}
	if (!have_at) {
		*why = "no '@' in address";
		return MS_DATA;
	}
	if (at == 0) {
		*why = "empty local part";
		return MS_DATA;
	}
	if (quoted_local) {
		if (text[at - 1] != '"' || at < 2) {
			*why = "text after quoted local part";
			return MS_DATA;
		}
		raw_local = parse_quoted(text, at, why);
		if (raw_local == NULL)
			return MS_DATA;
	} else {
		if (!valid_dot_string(text, at)) {
			*why = "malformed local part";
			return MS_DATA;
		}
		raw_local = g_strndup(text, at);
	}
	domain = addr_domain_normalize(text + at + 1, len - at - 1, why);
	if (domain == NULL) {
		g_free(raw_local);
		return MS_DATA;
	}
	local = quote_local(raw_local);
	g_free(raw_local);
	if (strlen(local) > ADDR_LOCAL_MAX) {
		*why = "local part longer than 64 octets";
		goto fail;
	}
	if (strlen(local) + 1 + strlen(domain) > ADDR_TOTAL_MAX) {
		*why = "address longer than 254 octets";
		goto fail;
	}
	if (local[0] == '-') {
		*why = "address starts with '-'";
		goto fail;
	}
	out->local = local;
	out->domain = domain;
	out->text = g_strdup_printf("%s@%s", local, domain);
	{
		char *folded = g_ascii_strdown(local, -1);

		out->key = g_strdup_printf("%s@%s", folded, domain);
		g_free(folded);
	}
	return MS_OK;
fail:
	g_free(local);
	g_free(domain);
	return MS_DATA;
}

ms_err
addr_parse_bound(const char *text, size_t len, ms_addr *out,
    const char **why)
{
	const char *dummy;

	if (why == NULL)
		why = &dummy;
	memset(out, 0, sizeof(*out));
	if (text != NULL && memchr(text, ' ', len) != NULL) {
		*why = "space in a certificate's or key's address";
		return MS_DATA;
	}
	return addr_parse(text, len, out, why);
}

ms_err
addr_parse_str(const char *text, ms_addr *out, const char **why)
{
	return addr_parse(text, text ? strlen(text) : 0, out, why);
}

void
addr_clear(ms_addr *addr)
{
	g_free(addr->local);
	g_free(addr->domain);
	g_free(addr->text);
	g_free(addr->key);
	memset(addr, 0, sizeof(*addr));
}

bool
addr_equal(const ms_addr *a, const ms_addr *b)
{
	return a->key != NULL && b->key != NULL && strcmp(a->key, b->key) == 0;
}

bool
addr_is_filename_safe(const char *s)
{
	size_t i, len = strlen(s);

	if (len == 0 || len > 255 || s[0] == '.' || s[0] == '-')
		return false;
	if (strstr(s, "..") != NULL)
		return false;
	for (i = 0; i < len; i++) {
		char c = s[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9') || strchr("._+=@-", c) != NULL))
			return false;
	}
	return true;
}
