/*
 * dlp-extract.c - ZIP and office document text in a confined child (see
 * dlp-extract.h).  The child writes records to a pipe:
 *   'T' u32 suffix length, suffix, u64 text length, text
 *   'U' u32 unscannable bits (always last)
 * The parent reads at most limits->text plus framing, then parses.
 *
 * libzip and libxml2 are loaded when the first archive is to be read, not
 * when the program starts: with ICU and the C++ runtime they bring, their
 * relocation at every start of a filter cost more than most scans, and
 * most messages carry no archive.  They are opened by the sonames of the
 * libraries the build compiled against (the Makefile passes them), so
 * the dynamic linker searches for them as it did for a link-time
 * dependency (never in the working directory); a library that does not
 * load fails the scan with MS_TEMP: an archive is never passed unread.
 */
#include "dlp-extract.h"
#include "diag.h"

#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <glib.h>
#include <limits.h>
#include <libxml/xmlreader.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>
#include <zip.h>

#define FRAMING_SLACK ((size_t)64 * 1024)

#if !defined(DLP_LIBZIP_SONAME) || !defined(DLP_LIBXML2_SONAME)
#error "the Makefile passes the sonames of libzip and libxml2"
#endif
_Static_assert(sizeof(DLP_LIBZIP_SONAME) > 1, "libzip's soname is unknown");
_Static_assert(sizeof(DLP_LIBXML2_SONAME) > 1,
    "libxml2's soname is unknown");

/* the calls made into libzip and libxml2, with the types their headers
 * give them */
static struct {
	bool loaded;
	__typeof__(zip_error_init) *zip_error_init;
	__typeof__(zip_error_fini) *zip_error_fini;
	__typeof__(zip_source_buffer_create) *zip_source_buffer_create;
	__typeof__(zip_source_free) *zip_source_free;
	__typeof__(zip_open_from_source) *zip_open_from_source;
	__typeof__(zip_get_num_entries) *zip_get_num_entries;
	__typeof__(zip_stat_index) *zip_stat_index;
	__typeof__(zip_fopen_index) *zip_fopen_index;
	__typeof__(zip_fread) *zip_fread;
	__typeof__(zip_fclose) *zip_fclose;
	__typeof__(zip_discard) *zip_discard;
	__typeof__(xmlInitParser) *xmlInitParser;
	__typeof__(xmlStrEqual) *xmlStrEqual;
	__typeof__(xmlReaderForMemory) *xmlReaderForMemory;
	__typeof__(xmlTextReaderRead) *xmlTextReaderRead;
	__typeof__(xmlTextReaderNodeType) *xmlTextReaderNodeType;
	__typeof__(xmlTextReaderConstLocalName) *xmlTextReaderConstLocalName;
	__typeof__(xmlTextReaderConstValue) *xmlTextReaderConstValue;
	__typeof__(xmlTextReaderIsEmptyElement) *xmlTextReaderIsEmptyElement;
	__typeof__(xmlFreeTextReader) *xmlFreeTextReader;
} lib;

enum { LIB_ZIP, LIB_XML2 };

#define SYMBOL(library, name) { library, #name, &lib.name }
static const struct symbol {
	int library;
	const char *name;
	void *slot;		/* where its address goes */
} symbols[] = {
	SYMBOL(LIB_ZIP, zip_error_init),
	SYMBOL(LIB_ZIP, zip_error_fini),
	SYMBOL(LIB_ZIP, zip_source_buffer_create),
	SYMBOL(LIB_ZIP, zip_source_free),
	SYMBOL(LIB_ZIP, zip_open_from_source),
	SYMBOL(LIB_ZIP, zip_get_num_entries),
	SYMBOL(LIB_ZIP, zip_stat_index),
	SYMBOL(LIB_ZIP, zip_fopen_index),
	SYMBOL(LIB_ZIP, zip_fread),
	SYMBOL(LIB_ZIP, zip_fclose),
	SYMBOL(LIB_ZIP, zip_discard),
	SYMBOL(LIB_XML2, xmlInitParser),
	SYMBOL(LIB_XML2, xmlStrEqual),
	SYMBOL(LIB_XML2, xmlReaderForMemory),
	SYMBOL(LIB_XML2, xmlTextReaderRead),
	SYMBOL(LIB_XML2, xmlTextReaderNodeType),
	SYMBOL(LIB_XML2, xmlTextReaderConstLocalName),
	SYMBOL(LIB_XML2, xmlTextReaderConstValue),
	SYMBOL(LIB_XML2, xmlTextReaderIsEmptyElement),
	SYMBOL(LIB_XML2, xmlFreeTextReader),
};

/* load_libraries - libzip and libxml2, once; MS_TEMP (logged) when one
 * does not load or lacks a function: the mail waits for the system to be
 * repaired rather than go out unscanned */
static ms_err
load_libraries(void)
{
	static const char *const sonames[] = {
		[LIB_ZIP] = DLP_LIBZIP_SONAME,
		[LIB_XML2] = DLP_LIBXML2_SONAME
	};
	void *handle[G_N_ELEMENTS(sonames)];

	if (lib.loaded)
		return MS_OK;
	for (size_t i = 0; i < G_N_ELEMENTS(sonames); i++) {
		/* kept open for the life of the process */
		handle[i] = dlopen(sonames[i], RTLD_NOW | RTLD_LOCAL);
		if (handle[i] == NULL) {
			const char *why = dlerror();

			diag_error("dlp: cannot load %s, which archives need: "
			    "%s", sonames[i], why != NULL ? why : "unknown");
			return MS_TEMP;
		}
	}
	for (size_t i = 0; i < G_N_ELEMENTS(symbols); i++) {
		const struct symbol *s = &symbols[i];
		void *address = dlsym(handle[s->library], s->name);

		if (address == NULL) {
			diag_error("dlp: %s has no %s", sonames[s->library],
			    s->name);
			return MS_TEMP;
		}
		memcpy(s->slot, &address, sizeof(address));
	}
	lib.loaded = true;
	return MS_OK;
}

void
dlp_extract_limits_default(dlp_extract_limits *l, size_t text,
    unsigned seconds)
{
	l->depth = DLP_EXTRACT_DEPTH_DEFAULT;
	l->entries = DLP_EXTRACT_ENTRIES_DEFAULT;
	l->ratio = DLP_EXTRACT_RATIO_DEFAULT;
	l->expanded = DLP_EXTRACT_EXPANDED_DEFAULT;
	l->text = text;
	l->seconds = seconds > 0 ? seconds : 1;
}

/* ---- the child ---- */

typedef struct child {
	int fd;
	const dlp_extract_limits *limits;
	unsigned entries;
	size_t expanded;
	size_t text;
	unsigned unscannable;
	bool stop;
} child;

static void
write_all(int fd, const void *buf, size_t len)
{
	const char *p = buf;

	while (len > 0) {
		ssize_t n = write(fd, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			_exit(3);	/* the parent stopped reading */
		p += n;
		len -= (size_t)n;
	}
}

/* emit - one text record, within the text budget */
static void
emit(child *c, const char *suffix, const char *text, size_t len)
{
	uint32_t slen = (uint32_t)strlen(suffix);
	uint64_t tlen = len;

	if (len == 0)
		return;
	if (len > c->limits->text - c->text) {
		c->unscannable |= DLP_UNSCANNABLE_LIMIT;
		c->stop = true;
		return;
	}
	c->text += len;
	write_all(c->fd, "T", 1);
	write_all(c->fd, &slen, sizeof(slen));
	write_all(c->fd, suffix, slen);
	write_all(c->fd, &tlen, sizeof(tlen));
	write_all(c->fd, text, len);
}

static bool
name_is(const xmlChar *name, const char *const *list)
{
	for (int i = 0; list[i] != NULL; i++)
		if (lib.xmlStrEqual(name, (const xmlChar *)list[i]))
			return true;
	return false;
}

/* xml_text - the character data of an XML document, runs joined: the
 * text of one paragraph (w:p, a:p, text:p) is one line however many
 * runs it is split into, so a number split across runs stays whole */
static GString *
xml_text(child *c, const char *data, size_t len)
{
	static const char *const line_ends[] = {
		"p", "h", "si", "row", "tr", "br", "cr", "line-break",
		"table-row", NULL
	};
	static const char *const cell_ends[] = {
		"c", "tc", "table-cell", NULL
	};
	GString *out = g_string_new(NULL);
	xmlTextReaderPtr r;
	int ret;

	if (len > INT_MAX) {
		c->unscannable |= DLP_UNSCANNABLE_LIMIT;
		return out;
	}
	/* no XML_PARSE_NOENT (entity substitution), no DTD loading */
	r = lib.xmlReaderForMemory(data, (int)len, NULL, NULL, XML_PARSE_NONET |
	    XML_PARSE_NOERROR | XML_PARSE_NOWARNING | XML_PARSE_NOCDATA);
	if (r == NULL) {
		c->unscannable |= DLP_UNSCANNABLE_EXTRACTION;
		return out;
	}
	while ((ret = lib.xmlTextReaderRead(r)) == 1) {
		int type = lib.xmlTextReaderNodeType(r);
		const xmlChar *local = lib.xmlTextReaderConstLocalName(r);

		switch (type) {
		case XML_READER_TYPE_TEXT:
		case XML_READER_TYPE_CDATA:
		case XML_READER_TYPE_SIGNIFICANT_WHITESPACE: {
			const xmlChar *v = lib.xmlTextReaderConstValue(r);

			if (v != NULL)
				g_string_append(out, (const char *)v);
			break;
		}
		case XML_READER_TYPE_ELEMENT:
			if (local == NULL)
				break;
			if (lib.xmlStrEqual(local, (const xmlChar *)"tab"))
				g_string_append_c(out, '\t');
			else if (lib.xmlStrEqual(local, (const xmlChar *)"s"))
				g_string_append_c(out, ' ');
			else if (lib.xmlTextReaderIsEmptyElement(r) == 1 &&
			    name_is(local, line_ends))
				g_string_append_c(out, '\n');
			break;
		case XML_READER_TYPE_END_ELEMENT:
			if (local != NULL && name_is(local, line_ends))
				g_string_append_c(out, '\n');
			else if (local != NULL && name_is(local, cell_ends))
				g_string_append_c(out, '\t');
			break;
		default:
			break;
		}
		if (out->len > c->limits->text) {
			c->unscannable |= DLP_UNSCANNABLE_LIMIT;
			break;
		}
	}
	if (ret < 0)
		c->unscannable |= DLP_UNSCANNABLE_EXTRACTION;
	lib.xmlFreeTextReader(r);
	return out;
}

static bool
magic(const unsigned char *d, size_t len, const char *m, size_t n)
{
	return len >= n && memcmp(d, m, n) == 0;
}

static void walk_zip(child *c, const unsigned char *data, size_t len,
    const char *prefix, unsigned depth);

/* entry - what one entry's content is and what is done with it */
static void
entry(child *c, const char *name, const unsigned char *d, size_t len,
    const char *suffix, unsigned depth)
{
	size_t nlen = strlen(name);

	if (magic(d, len, "PK\003\004", 4) || magic(d, len, "PK\005\006", 4))
		walk_zip(c, d, len, suffix, depth + 1);
	else if ((nlen > 4 && (g_ascii_strcasecmp(name + nlen - 4, ".xml") ==
	    0 || g_ascii_strcasecmp(name + nlen - 4, ".rdf") == 0)) ||
	    magic(d, len, "<?xml", 5)) {
		GString *text = xml_text(c, (const char *)d, len);

		emit(c, suffix, text->str, text->len);
		g_string_free(text, TRUE);
	} else if (magic(d, len, "\211PNG", 4) ||
	    magic(d, len, "\377\330\377", 3) || magic(d, len, "GIF8", 4)) {
		/* images: not scanned, not flagged (dlp-text.h) */
	} else if (memchr(d, '\0', len) == NULL &&
	    g_utf8_validate_len((const char *)d, len, NULL)) {
		emit(c, suffix, (const char *)d, len);
	} else {
		c->unscannable |= DLP_UNSCANNABLE_UNSUPPORTED;
	}
}

static void
walk_zip(child *c, const unsigned char *data, size_t len, const char *prefix,
    unsigned depth)
{
	const dlp_extract_limits *l = c->limits;
	zip_error_t ze;
	zip_source_t *src;
	zip_t *za;
	zip_int64_t count;

	if (depth > l->depth) {
		c->unscannable |= DLP_UNSCANNABLE_LIMIT;
		return;
	}
	lib.zip_error_init(&ze);
	src = lib.zip_source_buffer_create(data, len, 0, &ze);
	za = src ? lib.zip_open_from_source(src, ZIP_RDONLY, &ze) : NULL;
	if (za == NULL) {
		if (src != NULL)
			lib.zip_source_free(src);
		lib.zip_error_fini(&ze);
		c->unscannable |= DLP_UNSCANNABLE_EXTRACTION;
		return;
	}
	lib.zip_error_fini(&ze);
	count = lib.zip_get_num_entries(za, 0);
	for (zip_int64_t i = 0; i < count && !c->stop; i++) {
		zip_stat_t st;
		zip_file_t *zf;
		unsigned char *buf;
		zip_int64_t got;
		char *suffix, *label;

		if (++c->entries > l->entries) {
			c->unscannable |= DLP_UNSCANNABLE_LIMIT;
			break;
		}
		if (lib.zip_stat_index(za, (zip_uint64_t)i, 0, &st) != 0 ||
		    !(st.valid & ZIP_STAT_NAME) ||
		    !(st.valid & ZIP_STAT_SIZE) ||
		    !(st.valid & ZIP_STAT_COMP_SIZE)) {
			c->unscannable |= DLP_UNSCANNABLE_EXTRACTION;
			continue;
		}
		suffix = g_strdup_printf("%s:%" G_GINT64_FORMAT, prefix,
		    i + 1);
		/* the name is text the sender chose */
		label = g_strdup_printf("%s name", suffix);
		emit(c, label, st.name, strlen(st.name));
		g_free(label);
		if ((st.valid & ZIP_STAT_ENCRYPTION_METHOD) &&
		    st.encryption_method != ZIP_EM_NONE) {
			c->unscannable |= DLP_UNSCANNABLE_PASSWORD;
			g_free(suffix);
			continue;
		}
		if (st.size == 0 || (*st.name && st.name[strlen(st.name) - 1] ==
		    '/')) {
			g_free(suffix);
			continue;
		}
		/* zip bombs: the total, and the ratio of each entry */
		if (st.size > l->expanded - c->expanded ||
		    (st.size > 4096 && (st.comp_size == 0 ||
		    st.size / st.comp_size > l->ratio))) {
			c->unscannable |= DLP_UNSCANNABLE_LIMIT;
			g_free(suffix);
			if (st.size > l->expanded - c->expanded)
				break;
			continue;
		}
		zf = lib.zip_fopen_index(za, (zip_uint64_t)i, 0);
		if (zf == NULL) {
			c->unscannable |= DLP_UNSCANNABLE_EXTRACTION;
			g_free(suffix);
			continue;
		}
		/* one octet more than declared: an entry longer than its
		 * header says is damaged, never read on past the limit */
		buf = g_malloc(st.size + 1);
		got = lib.zip_fread(zf, buf, st.size + 1);
		lib.zip_fclose(zf);
		if (got < 0 || (zip_uint64_t)got != st.size) {
			c->unscannable |= DLP_UNSCANNABLE_EXTRACTION;
		} else {
			c->expanded += st.size;
			entry(c, st.name, buf, st.size, suffix, depth);
		}
		g_free(buf);
		g_free(suffix);
	}
	lib.zip_discard(za);
}

/* confine - rlimits for the child: CPU time, address space, no files */
static void
confine(unsigned seconds)
{
	struct rlimit rl;

	signal(SIGALRM, SIG_DFL);	/* not the parent's deadline handler */
	signal(SIGPIPE, SIG_DFL);
	alarm(seconds + 1);
	rl.rlim_cur = seconds;
	rl.rlim_max = seconds + 1;
	(void)setrlimit(RLIMIT_CPU, &rl);
	rl.rlim_cur = rl.rlim_max = 0;
	(void)setrlimit(RLIMIT_FSIZE, &rl);
	rl.rlim_cur = rl.rlim_max = 16;
	(void)setrlimit(RLIMIT_NOFILE, &rl);
#if !defined(__SANITIZE_ADDRESS__)
	{
		/* what the child has now (the parent's mappings) plus a
		 * fixed allowance */
		FILE *f = fopen("/proc/self/statm", "r");
		unsigned long pages = 0;

		if (f != NULL) {
			if (fscanf(f, "%lu", &pages) != 1)
				pages = 0;
			fclose(f);
		}
		if (pages > 0) {
			rl.rlim_cur = rl.rlim_max = (rlim_t)pages *
			    (rlim_t)sysconf(_SC_PAGESIZE) +
			    DLP_EXTRACT_CHILD_MEMORY;
			(void)setrlimit(RLIMIT_AS, &rl);
		}
	}
#endif
}

static void __attribute__((noreturn))
child_main(int fd, const unsigned char *data, size_t len,
    const dlp_extract_limits *limits)
{
	child c = { fd, limits, 0, 0, 0, 0, false };
	uint32_t bits;

	confine(limits->seconds);
	lib.xmlInitParser();
	walk_zip(&c, data, len, "", 1);
	bits = c.unscannable;
	write_all(fd, "U", 1);
	write_all(fd, &bits, sizeof(bits));
	_exit(0);
}

/* ---- the parent ---- */

/* parse_records - hand the child's text to fn; false when malformed */
static bool
parse_records(const GByteArray *buf, dlp_extract_fn fn, void *fn_data,
    unsigned *unscannable, bool *complete)
{
	size_t pos = 0;
	const unsigned char *d = buf->data;
	bool go_on = true;

	*complete = false;
	while (pos < buf->len && go_on) {
		uint32_t slen, bits;
		uint64_t tlen;
		char *suffix;

		if (d[pos] == 'U' && buf->len - pos == 1 + sizeof(bits)) {
			memcpy(&bits, d + pos + 1, sizeof(bits));
			*unscannable |= bits & DLP_UNSCANNABLE_ALL;
			*complete = true;
			return true;
		}
		if (d[pos] != 'T' || buf->len - pos < 1 + sizeof(slen))
			return false;
		memcpy(&slen, d + pos + 1, sizeof(slen));
		pos += 1 + sizeof(slen);
		if (slen > buf->len - pos || buf->len - pos - slen <
		    sizeof(tlen))
			return false;
		suffix = g_strndup((const char *)d + pos, slen);
		pos += slen;
		memcpy(&tlen, d + pos, sizeof(tlen));
		pos += sizeof(tlen);
		if (tlen > buf->len - pos) {
			g_free(suffix);
			return false;
		}
		go_on = fn(suffix, (const char *)d + pos, (size_t)tlen,
		    fn_data);
		g_free(suffix);
		pos += (size_t)tlen;
	}
	*complete = !go_on;
	return true;
}

ms_err
dlp_extract_zip(const unsigned char *data, size_t len,
    const dlp_extract_limits *limits, dlp_extract_fn fn, void *fn_data,
    unsigned *unscannable)
{
	int fds[2], status = 0;
	pid_t pid;
	GByteArray *buf;
	size_t cap;
	bool over = false, complete = false;
	unsigned char chunk[65536];
	ms_err err = load_libraries();

	if (err != MS_OK)
		return err;
	if (pipe2(fds, O_CLOEXEC) != 0) {
		diag_error("dlp: pipe: %s", strerror(errno));
		return MS_TEMP;
	}
	fflush(NULL);
	pid = fork();
	if (pid < 0) {
		diag_error("dlp: fork: %s", strerror(errno));
		close(fds[0]);
		close(fds[1]);
		return MS_TEMP;
	}
	if (pid == 0) {
		close(fds[0]);
		child_main(fds[1], data, len, limits);
	}
	close(fds[1]);
	cap = limits->text > SIZE_MAX - FRAMING_SLACK ? SIZE_MAX :
	    limits->text + FRAMING_SLACK;
	buf = g_byte_array_new();
	for (;;) {
		ssize_t n = read(fds[0], chunk, sizeof(chunk));

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		if ((size_t)n > cap - buf->len) {
			/* fail closed on oversized helper output */
			over = true;
			kill(pid, SIGKILL);
			break;
		}
		g_byte_array_append(buf, chunk, (guint)n);
	}
	close(fds[0]);
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	if (over)
		*unscannable |= DLP_UNSCANNABLE_LIMIT;
	else if (WIFSIGNALED(status) && (WTERMSIG(status) == SIGXCPU ||
	    WTERMSIG(status) == SIGALRM))
		*unscannable |= DLP_UNSCANNABLE_LIMIT;
	/* what arrived is scanned even when the child died: more is seen,
	 * and the death is reported besides */
	if (!parse_records(buf, fn, fn_data, unscannable, &complete) ||
	    (!complete && !over) || !WIFEXITED(status) ||
	    WEXITSTATUS(status) != 0)
		if (!over && !(*unscannable & DLP_UNSCANNABLE_LIMIT))
			*unscannable |= DLP_UNSCANNABLE_EXTRACTION;
	g_byte_array_free(buf, TRUE);
	return MS_OK;
}
