/*
 * fetch.c - bounded downloads with libcurl (see fetch.h).
 */
#include "fetch.h"
#include "diag.h"

#include <arpa/inet.h>
#include <curl/curl.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

typedef struct sink {
	GByteArray *buf;
	size_t max;
	bool too_big;
} sink;

typedef struct guard {
	bool allow_private;
	const char *allow_addresses;
	bool refused;
} guard;

/* one transfer in flight: the easy handle and what its callbacks fill */
typedef struct transfer {
	CURL *curl;
	sink s;
	guard g;
	struct curl_slist *resolve;
	struct curl_slist *headers;
	fetch_job *job;
} transfer;

static size_t
on_data(char *data, size_t size, size_t n, void *user)
{
	sink *s = user;
	size_t len;

	if (n != 0 && size > SIZE_MAX / n) {
		s->too_big = true;
		return 0;
	}
	len = size * n;
	/* the cap is enforced here too: a server need not announce sizes,
	 * and CURLOPT_MAXFILESIZE only acts on a Content-Length */
	if (len > s->max || s->buf->len > s->max - len) {
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

/* allow_listed - the connected address (with or without its port) is
 * one of the words of list: an administrator's internal CRL server */
static bool
allow_listed(const struct sockaddr *sa, const char *list)
{
	char host[INET6_ADDRSTRLEN], with_port[INET6_ADDRSTRLEN + 10];
	unsigned port;
	char **words;
	bool hit = false;

	if (list == NULL || *list == '\0')
		return false;
	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *in = (const struct sockaddr_in *)sa;

		if (inet_ntop(AF_INET, &in->sin_addr, host, sizeof(host)) ==
		    NULL)
			return false;
		port = ntohs(in->sin_port);
		snprintf(with_port, sizeof(with_port), "%s:%u", host, port);
	} else if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *in6 =
		    (const struct sockaddr_in6 *)sa;

		if (inet_ntop(AF_INET6, &in6->sin6_addr, host, sizeof(host)) ==
		    NULL)
			return false;
		port = ntohs(in6->sin6_port);
		snprintf(with_port, sizeof(with_port), "[%s]:%u", host, port);
	} else
		return false;
	words = g_strsplit_set(list, " ,\t", -1);
	for (int i = 0; words[i] != NULL && !hit; i++)
		hit = words[i][0] != '\0' && (strcmp(words[i], host) == 0 ||
		    strcmp(words[i], with_port) == 0);
	g_strfreev(words);
	return hit;
}

static curl_socket_t
on_socket(void *user, curlsocktype purpose, struct curl_sockaddr *address)
{
	guard *g = user;

	(void)purpose;
	if (!g->allow_private && forbidden(&address->addr) &&
	    !allow_listed(&address->addr, g->allow_addresses)) {
		g->refused = true;
		return CURL_SOCKET_BAD;
	}
	return socket(address->family, address->socktype, address->protocol);
}

/* global_init - libcurl once per process */
static bool
global_init(void)
{
	static bool initialised;

	if (!initialised) {
		if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
			return false;
		initialised = true;
	}
	return true;
}

/* etag_ok - printable ASCII of a sane length: it goes back out in a
 * request header, so nothing the server sent may break the header */
static bool
etag_ok(const char *etag)
{
	size_t len = strlen(etag);

	if (len == 0 || len > FETCH_ETAG_MAX)
		return false;
	for (size_t i = 0; i < len; i++)
		if ((unsigned char)etag[i] < 0x20 ||
		    (unsigned char)etag[i] >= 0x7f)
			return false;
	return true;
}

/* http_date - "If-Modified-Since: " and an IMF-fixdate (RFC 9110
 * 5.6.7), written without the locale; NULL for an unusable time */
static char *
http_date(long long when)
{
	static const char days[7][4] = { "Sun", "Mon", "Tue", "Wed", "Thu",
	    "Fri", "Sat" };
	static const char months[12][4] = { "Jan", "Feb", "Mar", "Apr",
	    "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec" };
	time_t t = (time_t)when;
	struct tm tm;

	if (gmtime_r(&t, &tm) == NULL || tm.tm_wday < 0 || tm.tm_wday > 6 ||
	    tm.tm_mon < 0 || tm.tm_mon > 11)
		return NULL;
	return g_strdup_printf("If-Modified-Since: %s, %02d %s %04d "
	    "%02d:%02d:%02d GMT", days[tm.tm_wday], tm.tm_mday,
	    months[tm.tm_mon], tm.tm_year + 1900, tm.tm_hour, tm.tm_min,
	    tm.tm_sec);
}

/* transfer_start - an easy handle with every limit set, for job */
static bool
transfer_start(transfer *t, fetch_job *job, const fetch_opts *opts)
{
	memset(t, 0, sizeof(*t));
	t->job = job;
	t->s.max = opts->max;
	t->g.allow_private = opts->allow_private;
	t->g.allow_addresses = opts->allow_addresses;
	t->curl = curl_easy_init();
	if (t->curl == NULL)
		return false;
	t->s.buf = g_byte_array_new();
	if (opts->resolve != NULL) {
		char **entries = g_strsplit_set(opts->resolve, " ,", -1);

		for (int i = 0; entries[i] != NULL; i++) {
			struct curl_slist *next;

			if (entries[i][0] == '\0')
				continue;
			next = curl_slist_append(t->resolve, entries[i]);
			if (next == NULL)
				diag_fatal(EXIT_TEMPFAIL, "out of memory");
			t->resolve = next;
		}
		g_strfreev(entries);
	}
	/* the ETag when there is one (it wins over the date, RFC 9110
	 * 13.1.3), else the date; the date goes out as a plain header,
	 * because CURLOPT_TIMECONDITION also drops a 200 answer whose
	 * Last-Modified is not newer, and CRLs are often rewritten within
	 * one second */
	if ((job->etag != NULL && etag_ok(job->etag)) || job->modified > 0) {
		char *h = job->etag != NULL && etag_ok(job->etag) ?
		    g_strdup_printf("If-None-Match: %s", job->etag) :
		    http_date(job->modified);
		struct curl_slist *next = h ? curl_slist_append(t->headers,
		    h) : t->headers;

		g_free(h);
		if (next == NULL)
			diag_fatal(EXIT_TEMPFAIL, "out of memory");
		t->headers = next;
		curl_easy_setopt(t->curl, CURLOPT_HTTPHEADER, t->headers);
	}
	curl_easy_setopt(t->curl, CURLOPT_URL, job->url);
	curl_easy_setopt(t->curl, CURLOPT_PROTOCOLS_STR, opts->protocols);
	curl_easy_setopt(t->curl, CURLOPT_REDIR_PROTOCOLS_STR, opts->protocols);
	curl_easy_setopt(t->curl, CURLOPT_FOLLOWLOCATION, 1L);
	curl_easy_setopt(t->curl, CURLOPT_MAXREDIRS, 3L);
	curl_easy_setopt(t->curl, CURLOPT_MAXFILESIZE_LARGE,
	    (curl_off_t)opts->max);
	curl_easy_setopt(t->curl, CURLOPT_CONNECTTIMEOUT_MS,
	    opts->connect_timeout_ms);
	curl_easy_setopt(t->curl, CURLOPT_TIMEOUT_MS, opts->timeout_ms);
	curl_easy_setopt(t->curl, CURLOPT_LOW_SPEED_LIMIT, 64L);
	curl_easy_setopt(t->curl, CURLOPT_LOW_SPEED_TIME, 10L);
	curl_easy_setopt(t->curl, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(t->curl, CURLOPT_FILETIME, 1L);
	curl_easy_setopt(t->curl, CURLOPT_PROXY, "");	/* never from env */
	curl_easy_setopt(t->curl, CURLOPT_WRITEFUNCTION, on_data);
	curl_easy_setopt(t->curl, CURLOPT_WRITEDATA, &t->s);
	curl_easy_setopt(t->curl, CURLOPT_OPENSOCKETFUNCTION, on_socket);
	curl_easy_setopt(t->curl, CURLOPT_OPENSOCKETDATA, &t->g);
	curl_easy_setopt(t->curl, CURLOPT_USERAGENT, "mailseal");
	curl_easy_setopt(t->curl, CURLOPT_PRIVATE, t);
	if (opts->ca_file != NULL)
		curl_easy_setopt(t->curl, CURLOPT_CAINFO, opts->ca_file);
	if (t->resolve != NULL)
		curl_easy_setopt(t->curl, CURLOPT_RESOLVE, t->resolve);
	return true;
}

/* transfer_finish - classify the result of a finished transfer into its
 * job and release the handle */
static void
transfer_finish(transfer *t, CURLcode rc)
{
	fetch_job *job = t->job;
	long status = 0;
	curl_off_t filetime = -1;
	struct curl_header *etag = NULL;

	curl_easy_getinfo(t->curl, CURLINFO_RESPONSE_CODE, &status);
	curl_easy_getinfo(t->curl, CURLINFO_TOTAL_TIME, &job->seconds);
	job->why = NULL;
	if (t->g.refused) {
		job->why = "a private or loopback address was refused";
		job->outcome = FETCH_REFUSED;
	} else if (t->s.too_big || rc == CURLE_FILESIZE_EXCEEDED) {
		job->why = "the answer is over the size limit";
		job->outcome = FETCH_REFUSED;
	} else if (rc == CURLE_UNSUPPORTED_PROTOCOL) {
		job->why = "a protocol that is not allowed";
		job->outcome = FETCH_REFUSED;
	} else if (rc == CURLE_TOO_MANY_REDIRECTS) {
		job->why = "too many redirects";
		job->outcome = FETCH_REFUSED;
	} else if (rc == CURLE_COULDNT_RESOLVE_HOST) {
		job->why = "the name does not resolve";
		job->outcome = FETCH_NO_HOST;
	} else if (rc == CURLE_OPERATION_TIMEDOUT) {
		job->why = "timed out";
		job->outcome = FETCH_TIMEOUT;
	} else if (rc != CURLE_OK) {
		job->why = curl_easy_strerror(rc);
		job->outcome = FETCH_FAILED;
	} else if (status == 304) {
		job->why = "not modified";
		job->outcome = FETCH_NOT_MODIFIED;
	} else if (status == 404 || status == 410) {
		job->why = "not found";
		job->outcome = FETCH_ABSENT;
	} else if (status < 200 || status > 299 || t->s.buf->len == 0) {
		job->why = "the server gave nothing usable";
		job->outcome = FETCH_FAILED;
	} else
		job->outcome = FETCH_OK;
	if (job->outcome == FETCH_OK || job->outcome == FETCH_NOT_MODIFIED) {
		if (curl_easy_header(t->curl, "ETag", 0, CURLH_HEADER, -1,
		    &etag) == CURLHE_OK && etag_ok(etag->value))
			job->new_etag = g_strdup(etag->value);
		if (curl_easy_getinfo(t->curl, CURLINFO_FILETIME_T,
		    &filetime) == CURLE_OK && filetime > 0)
			job->new_modified = (long long)filetime;
	}
	if (job->outcome == FETCH_OK) {
		job->body = t->s.buf;
		t->s.buf = NULL;
	}
	if (t->s.buf != NULL)
		g_byte_array_free(t->s.buf, TRUE);
	curl_slist_free_all(t->resolve);
	curl_slist_free_all(t->headers);
	curl_easy_cleanup(t->curl);
	t->curl = NULL;
}

void
fetch_job_clear(fetch_job *job)
{
	if (job->body != NULL)
		g_byte_array_free(job->body, TRUE);
	job->body = NULL;
	g_free(job->new_etag);
	job->new_etag = NULL;
}

fetch_outcome
fetch_url(const char *url, const fetch_opts *opts, GByteArray **body,
    const char **why)
{
	fetch_job job = { .url = url };
	transfer t;

	*body = NULL;
	if (!global_init() || !transfer_start(&t, &job, opts)) {
		*why = "libcurl cannot start";
		return FETCH_FAILED;
	}
	transfer_finish(&t, curl_easy_perform(t.curl));
	*why = job.why;
	*body = job.body;
	job.body = NULL;
	fetch_job_clear(&job);
	return job.outcome;
}

fetch_outcome
fetch_post(const char *url, const fetch_opts *opts, const char *body,
    const char *userpwd, long *status, const char **why)
{
	fetch_job job = { .url = url };
	transfer t;
	CURLcode rc;

	*status = 0;
	if (!global_init() || !transfer_start(&t, &job, opts)) {
		*why = "libcurl cannot start";
		return FETCH_FAILED;
	}
	curl_easy_setopt(t.curl, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(t.curl, CURLOPT_POSTFIELDS, body);
	curl_easy_setopt(t.curl, CURLOPT_POSTFIELDSIZE_LARGE,
	    (curl_off_t)strlen(body));
	if (userpwd != NULL) {
		curl_easy_setopt(t.curl, CURLOPT_HTTPAUTH, CURLAUTH_BASIC);
		curl_easy_setopt(t.curl, CURLOPT_USERPWD, userpwd);
	}
	rc = curl_easy_perform(t.curl);
	curl_easy_getinfo(t.curl, CURLINFO_RESPONSE_CODE, status);
	transfer_finish(&t, rc);
	/* a gateway may answer 2xx with no body: that is a success too */
	if (job.outcome == FETCH_FAILED && rc == CURLE_OK &&
	    *status >= 200 && *status <= 299)
		job.outcome = FETCH_OK;
	else if (job.outcome == FETCH_OK && (*status < 200 || *status > 299))
		job.outcome = FETCH_FAILED;
	*why = job.outcome == FETCH_OK ? NULL : job.why;
	fetch_job_clear(&job);
	return job.outcome;
}

/* fail_job - a job that could not even start */
static void
fail_job(fetch_job *job, const char *why)
{
	job->outcome = FETCH_FAILED;
	job->why = why;
}

void
fetch_run(fetch_job *jobs, size_t n, const fetch_opts *opts,
    unsigned parallel)
{
	transfer *slots;
	size_t next = 0, done = 0;
	unsigned active = 0;
	CURLM *multi;

	if (n == 0)
		return;
	if (parallel == 0)
		parallel = 1;
	if (!global_init() || (multi = curl_multi_init()) == NULL) {
		for (size_t i = 0; i < n; i++)
			fail_job(&jobs[i], "libcurl cannot start");
		return;
	}
	slots = g_new0(transfer, parallel);
	while (done < n) {
		struct CURLMsg *msg;
		int running = 0, left = 0;

		/* fill the free slots */
		for (unsigned s = 0; s < parallel && next < n; s++) {
			if (slots[s].curl != NULL)
				continue;
			if (!transfer_start(&slots[s], &jobs[next], opts) ||
			    curl_multi_add_handle(multi, slots[s].curl) !=
			    CURLM_OK) {
				if (slots[s].curl != NULL)
					transfer_finish(&slots[s],
					    CURLE_FAILED_INIT);
				fail_job(&jobs[next], "libcurl cannot start");
				next++;
				done++;
				continue;
			}
			next++;
			active++;
		}
		if (active == 0)
			continue;
		if (curl_multi_perform(multi, &running) != CURLM_OK)
			break;
		while ((msg = curl_multi_info_read(multi, &left)) != NULL) {
			CURL *easy = msg->easy_handle;
			CURLcode result = msg->data.result;
			char *private = NULL;

			if (msg->msg != CURLMSG_DONE)
				continue;
			/* msg is invalid once the handle is removed */
			curl_easy_getinfo(easy, CURLINFO_PRIVATE, &private);
			curl_multi_remove_handle(multi, easy);
			transfer_finish((transfer *)(void *)private, result);
			active--;
			done++;
		}
		/* wait for activity only while transfers are running: a
		 * poll after the last one would sleep its whole timeout */
		if (running > 0 && curl_multi_poll(multi, NULL, 0, 1000,
		    NULL) != CURLM_OK)
			break;
	}
	/* only after a multi failure: abandon what is still running */
	for (unsigned s = 0; s < parallel; s++) {
		if (slots[s].curl == NULL)
			continue;
		curl_multi_remove_handle(multi, slots[s].curl);
		transfer_finish(&slots[s], CURLE_FAILED_INIT);
		fail_job(slots[s].job, "libcurl failed");
	}
	for (; next < n; next++)
		fail_job(&jobs[next], "libcurl failed");
	g_free(slots);
	curl_multi_cleanup(multi);
}
