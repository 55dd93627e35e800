/*
 * fetch.h - bounded HTTP(S) downloads through libcurl for the programs
 * that may touch the network (key lookup, and later crl-sync); filters
 * never do (CRL-1, pki.md 7.1).
 *
 * API: fetch_url() fills a buffer of at most opts->max bytes.  Only the
 * protocols named are allowed, for the request and for redirects (at most
 * three); connect and total timeouts and a low-speed abort bound it; no
 * proxy from the environment; connections to loopback, private,
 * link-local, shared, multicast or unspecified addresses are refused
 * unless allowed, checked on the address actually connected (CRL-3,
 * pki.md 4.2).
 */
#ifndef MAILSEAL_FETCH_H
#define MAILSEAL_FETCH_H

#include <glib.h>
#include <stdbool.h>

#include "err.h"

typedef struct fetch_opts {
	const char *protocols;	/* "https", or "http,https" */
	size_t max;		/* largest answer accepted */
	long connect_timeout_ms;
	long timeout_ms;
	bool allow_private;	/* allow loopback and private targets */
	const char *ca_file;	/* extra trust anchors, or NULL */
	const char *resolve;	/* "HOST:PORT:ADDRESS ..." pinning, or NULL */
} fetch_opts;

typedef enum fetch_outcome {
	FETCH_OK,		/* 2xx with a body */
	FETCH_ABSENT,		/* 404 or 410: the server has nothing */
	FETCH_NO_HOST,		/* the name does not resolve */
	FETCH_REFUSED,		/* a forbidden address, protocol or size */
	FETCH_FAILED		/* any other transport or server failure */
} fetch_outcome;

/* fetch_url - GET url; on FETCH_OK *body holds the answer */
fetch_outcome fetch_url(const char *url, const fetch_opts *opts,
    GByteArray **body, const char **why);

#endif
