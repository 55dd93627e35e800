/*
 * fetch.h - bounded HTTP(S) downloads through libcurl for the programs
 * that may touch the network (key lookup and crl-sync); filters never do
 * (CRL-1, pki.md 7.1).
 *
 * API: fetch_url() fills a buffer of at most opts->max bytes;
 * fetch_run() performs several conditional GETs (If-None-Match,
 * If-Modified-Since) at once through one curl multi handle; fetch_post()
 * posts a form (sms-send).  Only the
 * protocols named are allowed, for the request and for redirects (at most
 * three); connect and total timeouts and a low-speed abort bound each
 * transfer; no proxy from the environment; connections to loopback,
 * private, link-local, shared, multicast or unspecified addresses are
 * refused unless allowed (all, or the listed ADDRESS[:PORT]s), checked on
 * the address actually connected, redirects included (CRL-3, pki.md 4.2).
 */
#ifndef MAILSEAL_FETCH_H
#define MAILSEAL_FETCH_H

#include <glib.h>
#include <stdbool.h>

#include "err.h"
#include "mslimits.h"

typedef struct fetch_opts {
	const char *protocols;	/* "https", or "http,https" */
	size_t max;		/* largest answer accepted */
	long connect_timeout_ms;
	long timeout_ms;
	bool allow_private;	/* allow loopback and private targets */
	const char *ca_file;	/* extra trust anchors, or NULL */
	const char *resolve;	/* "HOST:PORT:ADDRESS ..." pinning, or NULL */
	const char *allow_addresses;	/* "ADDRESS[:PORT] ..." private
					 * targets allowed one by one, or
					 * NULL */
} fetch_opts;

typedef enum fetch_outcome {
	FETCH_OK,		/* 2xx with a body */
	FETCH_NOT_MODIFIED,	/* 304: the copy we hold is current */
	FETCH_ABSENT,		/* 404 or 410: the server has nothing */
	FETCH_NO_HOST,		/* the name does not resolve */
	FETCH_REFUSED,		/* a forbidden address, protocol or size */
	FETCH_TIMEOUT,		/* no complete answer in time */
	FETCH_FAILED		/* any other transport or server failure */
} fetch_outcome;

typedef struct fetch_job {
	const char *url;
	const char *etag;	/* sent as If-None-Match, or NULL */
	long long modified;	/* sent as If-Modified-Since, or 0 */
	/* filled by fetch_run */
	fetch_outcome outcome;
	const char *why;	/* static text for every outcome but FETCH_OK */
	GByteArray *body;	/* FETCH_OK: the answer (caller frees) */
	char *new_etag;		/* the answer's ETag, or NULL (g_free) */
	long long new_modified;	/* its Last-Modified, or 0 */
	double seconds;		/* how long the transfer took */
} fetch_job;

/* fetch_url - GET url; on FETCH_OK *body holds the answer */
fetch_outcome fetch_url(const char *url, const fetch_opts *opts,
    GByteArray **body, const char **why);

/* fetch_run - perform n jobs, at most parallel at the same time; every
 * job gets an outcome */
void fetch_run(fetch_job *jobs, size_t n, const fetch_opts *opts,
    unsigned parallel);

/* fetch_post - POST body (application/x-www-form-urlencoded) to url,
 * with HTTP basic credentials "user:password" when userpwd is not NULL;
 * no redirects are followed (a POST is not repeated elsewhere);
 * FETCH_OK for any 2xx answer, the HTTP status in *status */
fetch_outcome fetch_post(const char *url, const fetch_opts *opts,
    const char *body, const char *userpwd, long *status, const char **why);

/* fetch_job_clear - free what fetch_run put into a job */
void fetch_job_clear(fetch_job *job);

#endif
