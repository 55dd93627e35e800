/*
 * fetch.c - bounded downloads with libcurl (see fetch.h).
 */
#include "fetch.h"
#include "diag.h"

#include <arpa/inet.h>
#include <curl/curl.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>

typedef struct sink {
	GByteArray *buf;
	size_t max;
	bool too_big;
} sink;

typedef struct guard {
	bool allow_private;
	bool refused;
} guard;

static size_t
on_data(char *data, size_t size, size_t n, void *user)
{
	sink *s = user;
	size_t len = size * n;

	/* the cap is enforced here too: a server need not announce sizes */
	if (s->buf->len + len > s->max) {
		s->too_big = true;
		return 0;
	}
	g_byte_array_append(s->buf, (const guint8 *)data, (guint)len);
	return len;
}

/* forbidden - loopback, private, link-local, shared, multicast and other
 * addresses a fetch must not reach (SSRF) */
static bool
forbidden(const struct sockaddr *sa)
{
	if (sa->sa_family == AF_INET) {
		uint32_t a = ntohl(((const struct sockaddr_in *)sa)->
		    sin_addr.s_addr);

		return (a >> 24) == 0 || (a >> 24) == 10 || (a >> 24) == 127 ||
		    (a >> 16) == 0xa9fe || (a >> 20) == 0xac1 ||
		    (a >> 16) == 0xc0a8 || (a >> 22) == (100u << 2 | 1) ||
		    (a >> 28) >= 0xe;
	}
	if (sa->sa_family == AF_INET6) {
		const unsigned char *b = ((const struct sockaddr_in6 *)sa)->
		    sin6_addr.s6_addr;
		static const unsigned char loop[16] = { [15] = 1 };
		static const unsigned char any[16];
		static const unsigned char mapped[12] = { [10] = 0xff,
		    [11] = 0xff };

		if (memcmp(b, loop, 16) == 0 || memcmp(b, any, 16) == 0 ||
		    (b[0] & 0xfe) == 0xfc || (b[0] == 0xfe &&
		    (b[1] & 0xc0) == 0x80) || b[0] == 0xff)
			return true;
		if (memcmp(b, mapped, 12) == 0) {
			struct sockaddr_in v4 = { .sin_family = AF_INET };

			memcpy(&v4.sin_addr, b + 12, 4);
			return forbidden((const struct sockaddr *)&v4);
		}
		return false;
	}
	return true;
}

static curl_socket_t
on_socket(void *user, curlsocktype purpose, struct curl_sockaddr *address)
{
	guard *g = user;

	(void)purpose;
	if (!g->allow_private && forbidden(&address->addr)) {
		g->refused = true;
		return CURL_SOCKET_BAD;
	}
	return socket(address->family, address->socktype, address->protocol);
}

fetch_outcome
fetch_url(const char *url, const fetch_opts *opts, GByteArray **body,
    const char **why)
{
	static bool initialised;
	CURL *curl;
	CURLcode rc;
	struct curl_slist *resolve = NULL;
	sink s = { NULL, opts->max, false };
	guard g = { opts->allow_private, false };
	long status = 0;
	fetch_outcome out;

	*body = NULL;
	if (!initialised) {
		if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
			*why = "libcurl cannot start";
			return FETCH_FAILED;
		}
		initialised = true;
	}
	curl = curl_easy_init();
	if (curl == NULL) {
		*why = "libcurl cannot start";
		return FETCH_FAILED;
	}
	s.buf = g_byte_array_new();
	if (opts->resolve != NULL) {
		char **entries = g_strsplit_set(opts->resolve, " ,", -1);

		for (int i = 0; entries[i] != NULL; i++)
			if (entries[i][0] != '\0')
				resolve = curl_slist_append(resolve,
				    entries[i]);
		g_strfreev(entries);
	}
	curl_easy_setopt(curl, CURLOPT_URL, url);
	curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, opts->protocols);
	curl_easy_setopt(curl, CURLOPT_REDIR_PROTOCOLS_STR, opts->protocols);
	curl_easy_setopt(curl, CURLOPT_FOLLOWLOCATION, 1L);
	curl_easy_setopt(curl, CURLOPT_MAXREDIRS, 3L);
	curl_easy_setopt(curl, CURLOPT_MAXFILESIZE_LARGE,
	    (curl_off_t)opts->max);
	curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS,
	    opts->connect_timeout_ms);
	curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, opts->timeout_ms);
	curl_easy_setopt(curl, CURLOPT_LOW_SPEED_LIMIT, 64L);
	curl_easy_setopt(curl, CURLOPT_LOW_SPEED_TIME, 10L);
	curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(curl, CURLOPT_PROXY, "");	/* never from env */
	curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, on_data);
	curl_easy_setopt(curl, CURLOPT_WRITEDATA, &s);
	curl_easy_setopt(curl, CURLOPT_OPENSOCKETFUNCTION, on_socket);
	curl_easy_setopt(curl, CURLOPT_OPENSOCKETDATA, &g);
	curl_easy_setopt(curl, CURLOPT_USERAGENT, "mailseal");
	if (opts->ca_file != NULL)
		curl_easy_setopt(curl, CURLOPT_CAINFO, opts->ca_file);
	if (resolve != NULL)
		curl_easy_setopt(curl, CURLOPT_RESOLVE, resolve);
	rc = curl_easy_perform(curl);
	curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
	if (g.refused) {
		*why = "a private or loopback address was refused";
		out = FETCH_REFUSED;
	} else if (s.too_big || rc == CURLE_FILESIZE_EXCEEDED) {
		*why = "the answer is over the size limit";
		out = FETCH_REFUSED;
	} else if (rc == CURLE_UNSUPPORTED_PROTOCOL) {
		*why = "a protocol that is not allowed";
		out = FETCH_REFUSED;
	} else if (rc == CURLE_COULDNT_RESOLVE_HOST) {
		*why = "the name does not resolve";
		out = FETCH_NO_HOST;
	} else if (rc != CURLE_OK) {
		*why = curl_easy_strerror(rc);
		out = FETCH_FAILED;
	} else if (status == 404 || status == 410) {
		*why = "not found";
		out = FETCH_ABSENT;
	} else if (status < 200 || status > 299 || s.buf->len == 0) {
		*why = "the server gave no key";
		out = FETCH_FAILED;
	} else
		out = FETCH_OK;
	if (out == FETCH_OK)
		*body = s.buf;
	else
		g_byte_array_free(s.buf, TRUE);
	curl_slist_free_all(resolve);
	curl_easy_cleanup(curl);
	return out;
}
