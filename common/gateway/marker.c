/*
 * marker.c - the loop marker of REL-7 (marker.h).
 */
#include "marker.h"
#include "diag.h"
#include "msgpart.h"

#include <errno.h>
#include <fcntl.h>
#include <glib.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* mac_hex - the marker's MAC for time t, msg's Message-ID and the
 * envelope sender */
static void
mac_hex(const unsigned char *key, const ms_message *msg, const char *sender,
    long long t, char hex[2 * crypto_auth_hmacsha256_BYTES + 1])
{
	unsigned char mac[crypto_auth_hmacsha256_BYTES];
	char **ids = msg_header_texts(msg, "Message-ID");
	char *input = g_strdup_printf("v2\n%lld\n%s\n%s", t,
	    ids[0] != NULL ? g_strstrip(ids[0]) : "", sender);
	crypto_auth_hmacsha256_state st;

	crypto_auth_hmacsha256_init(&st, key, MARKER_KEY_LEN);
	crypto_auth_hmacsha256_update(&st, (const unsigned char *)input,
	    strlen(input));
	crypto_auth_hmacsha256_final(&st, mac);
	sodium_bin2hex(hex, 2 * sizeof mac + 1, mac, sizeof mac);
	g_strfreev(ids);
	g_free(input);
}

char *
marker_line(const unsigned char *key, const ms_message *msg,
    const char *sender, time_t now)
{
	char hex[2 * crypto_auth_hmacsha256_BYTES + 1];

	mac_hex(key, msg, sender, (long long)now, hex);
	return g_strdup_printf("X-Mailseal-Processed: v2; t=%lld; mac=%s\n",
	    (long long)now, hex);
}

bool
marker_loop(const unsigned char *key, const ms_message *msg,
    const char *sender, time_t now, long *age)
{
	char **values = msg_header_texts(msg, "X-Mailseal-Processed");
	bool loop = false;

	for (size_t i = 0; values[i] != NULL && !loop; i++) {
		char hex[2 * crypto_auth_hmacsha256_BYTES + 1];
		long long t;
		char mac[2 * crypto_auth_hmacsha256_BYTES + 1];
		int used = 0;

		if (sscanf(values[i], " v2; t=%lld; mac=%64[0-9a-f]%n", &t,
		    mac, &used) != 2 || used == 0 ||
		    strlen(mac) != 2 * crypto_auth_hmacsha256_BYTES)
			continue;
		if (t > (long long)now + 60 ||
		    (long long)now - t > MARKER_WINDOW)
			continue;	/* stale or from the future: foreign */
		mac_hex(key, msg, sender, t, hex);
		if (sodium_memcmp(hex, mac, sizeof mac - 1) == 0) {
			loop = true;
			*age = (long)((long long)now - t);
		}
	}
	g_strfreev(values);
	return loop;
}
