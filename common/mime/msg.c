/*
 * msg.c - message input with limits, parsed once by GMime (see msg.h).
 * A regular file on stdin (the glue's spool file) is mapped instead of
 * copied, so a 25 MiB message costs no extra heap.  A message with bare
 * CR line ends (CR alone, old Mac style) is read with LF line ends.
 * Limits on the raw header block are checked before GMime sees the input;
 * nesting and part counts are checked on the tree with an explicit stack.
 */
#include "msg.h"
#include "counters.h"
#include "diag.h"
#include "mslimits.h"

#include <errno.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

void
msg_library_init(void)
{
	static bool done;

	if (!done) {
		g_mime_init();
		done = true;
	}
}

const char *
msg_problem_text(msg_problem problem)
{
	switch (problem) {
	case MSG_PROBLEM_NONE:
		return "no problem";
	case MSG_PROBLEM_EMPTY:
		return "empty message";
	case MSG_PROBLEM_TOO_LARGE:
		return "message too large";
	case MSG_PROBLEM_HEADER_TOO_LARGE:
		return "message header too large";
	case MSG_PROBLEM_TOO_DEEP:
		return "MIME nesting too deep";
	case MSG_PROBLEM_TOO_MANY_PARTS:
		return "too many MIME parts";
	case MSG_PROBLEM_UNPARSABLE:
		return "message cannot be parsed";
	}
	return "bad message";
}

const char *
msg_problem_status(msg_problem problem)
{
	switch (problem) {
	case MSG_PROBLEM_TOO_LARGE:
	case MSG_PROBLEM_HEADER_TOO_LARGE:
		return "5.3.4";
	case MSG_PROBLEM_TOO_DEEP:
	case MSG_PROBLEM_TOO_MANY_PARTS:
		return "5.7.0";
	default:
		return "5.6.0";
	}
}

/* check_headers - MIME-L4 on the raw top-level header section: its size
 * and the size of each unfolded field */
static msg_problem
check_headers(const char *data, size_t len, size_t *body)
{
	const ms_limits *lim = limits_get();
	size_t pos = 0, field = 0;

	*body = len;
	while (pos < len) {
		const char *nl = memchr(data + pos, '\n', len - pos);
		size_t line = nl ? (size_t)(nl - (data + pos)) + 1 : len - pos;
		bool blank = line == 1 ||
		    (line == 2 && data[pos] == '\r');

		if (blank) {
			*body = pos + line;
			return MSG_PROBLEM_NONE;	/* end of the header */
		}
		if (data[pos] == ' ' || data[pos] == '\t')
			field += line;
		else
			field = line;
		if (field > lim->header_field)
			return MSG_PROBLEM_HEADER_TOO_LARGE;
		pos += line;
		if (pos > lim->header_section)
			return MSG_PROBLEM_HEADER_TOO_LARGE;
	}
	return MSG_PROBLEM_NONE;
}

/* envelope_line - the line at offset starts "From " and opens a header
 * section that follows an empty line: the mbox envelope line of a message
 * attached as message/rfc822 (RFC 4155), which GMime skips, as it does at
 * the top, reading the fields after it; Python's email package reads it
 * as the attached message's envelope too.  It is no field and no body
 * text, so the repair must not end the attached header section there. */
static bool
envelope_line(const ms_message *msg, gint64 offset)
{
	size_t at = (size_t)offset;
	const char *p = msg->raw;

	if (offset < 2 || at > msg->raw_len || msg->raw_len - at < 5 ||
	    memcmp(p + at, "From ", 5) != 0 || p[at - 1] != '\n')
		return false;
	return p[at - 2] == '\n' ||
	    (at >= 3 && p[at - 2] == '\r' && p[at - 3] == '\n');
}

static void
on_parser_warning(gint64 offset, GMimeParserWarning errcode,
    const gchar *item, gpointer user_data)
{
	ms_message *msg = user_data;

	(void)item;
	switch (errcode) {
	case GMIME_WARN_DUPLICATED_HEADER:
	case GMIME_WARN_DUPLICATED_PARAMETER:
	case GMIME_CRIT_CONFLICTING_HEADER:
	case GMIME_CRIT_CONFLICTING_PARAMETER:
		msg->flags |= MSG_FLAG_AMBIGUOUS;
		break;
	case GMIME_WARN_UNENCODED_8BIT_HEADER:
		msg->flags |= MSG_FLAG_8BIT_HEADERS;
		break;
	case GMIME_CRIT_INVALID_HEADER_NAME:
		/* a line in a header section that is no field: GMime drops
		 * it, the repair makes it the first line of the body */
		if (envelope_line(msg, offset))
			break;
		if (offset >= 0) {
			if (msg->bad_lines == NULL)
				msg->bad_lines = g_array_new(FALSE, FALSE,
				    sizeof(gint64));
			g_array_append_val(msg->bad_lines, offset);
		}
		msg->flags |= MSG_FLAG_MALFORMED;
		break;
	case GMIME_CRIT_NESTING_OVERFLOW:
		/* GMime stopped descending: treat as too deep */
		msg->depth = ~0u;
		msg->flags |= MSG_FLAG_MALFORMED;
		break;
	default:
		msg->flags |= MSG_FLAG_MALFORMED;
		break;
	}
}

/* has_8bit_headers - raw octets >= 0x80 in obj's own header fields.
 * GMime warns only when a value is not valid UTF-8, but raw UTF-8 is 8-bit
 * text too, unfit for a next hop without SMTPUTF8 (bad input 40). */
static bool
has_8bit_headers(GMimeObject *obj)
{
	GMimeHeaderList *list = g_mime_object_get_header_list(obj);
	int count = list ? g_mime_header_list_get_count(list) : 0;

	for (int i = 0; i < count; i++) {
		GMimeHeader *header = g_mime_header_list_get_header_at(list, i);
		const char *texts[2];

		texts[0] = g_mime_header_get_name(header);
		texts[1] = g_mime_header_get_raw_value(header);
		for (int t = 0; t < 2; t++)
			for (const char *p = texts[t]; p && *p; p++)
				if ((unsigned char)*p >= 0x80)
					return true;
	}
	return false;
}

/* walk - count depth and parts without recursion (MIME-L2, MIME-L3) */
static msg_problem
walk(ms_message *msg)
{
	const ms_limits *lim = limits_get();
	GPtrArray *stack = g_ptr_array_new();
	GArray *depths = g_array_new(FALSE, FALSE, sizeof(unsigned));
	msg_problem problem = MSG_PROBLEM_NONE;
	GMimeObject *root = g_mime_message_get_mime_part(msg->mime);
	unsigned d = 1;

	if (msg->depth == ~0u)
		problem = MSG_PROBLEM_TOO_DEEP;
	msg->depth = 0;
	if (has_8bit_headers(GMIME_OBJECT(msg->mime)))
		msg->flags |= MSG_FLAG_8BIT_HEADERS;
	if (root != NULL && problem == MSG_PROBLEM_NONE) {
		g_ptr_array_add(stack, root);
		g_array_append_val(depths, d);
	}
	while (stack->len > 0 && problem == MSG_PROBLEM_NONE) {
		GMimeObject *obj = g_ptr_array_remove_index(stack,
		    stack->len - 1);
		unsigned depth = g_array_index(depths, unsigned,
		    depths->len - 1);

		g_array_set_size(depths, depths->len - 1);
		msg->parts++;
		if (depth > msg->depth)
			msg->depth = depth;
		if (has_8bit_headers(obj))
			msg->flags |= MSG_FLAG_8BIT_HEADERS;
		if (msg->parts > lim->mime_parts) {
			problem = MSG_PROBLEM_TOO_MANY_PARTS;
			break;
		}
		if (depth > lim->mime_depth) {
			problem = MSG_PROBLEM_TOO_DEEP;
			break;
		}
		if (GMIME_IS_MULTIPART(obj)) {
			GMimeMultipart *mp = GMIME_MULTIPART(obj);
			int n = g_mime_multipart_get_count(mp);
			unsigned child_depth = depth + 1;

			for (int i = n - 1; i >= 0; i--) {
				g_ptr_array_add(stack,
				    g_mime_multipart_get_part(mp, i));
				g_array_append_val(depths, child_depth);
			}
		} else if (GMIME_IS_MESSAGE_PART(obj)) {
			GMimeMessage *inner = g_mime_message_part_get_message(
			    GMIME_MESSAGE_PART(obj));
			GMimeObject *body = inner ?
			    g_mime_message_get_mime_part(inner) : NULL;
			unsigned child_depth = depth + 1;

			if (inner != NULL &&
			    has_8bit_headers(GMIME_OBJECT(inner)))
				msg->flags |= MSG_FLAG_8BIT_HEADERS;
			if (body != NULL) {
				g_ptr_array_add(stack, body);
				g_array_append_val(depths, child_depth);
			}
		}
	}
	g_ptr_array_free(stack, TRUE);
	g_array_free(depths, TRUE);
	return problem;
}

/* strip_status - remove every X-Mailseal-* field of the top level */
static void
strip_status(ms_message *msg)
{
	GMimeHeaderList *list =
	    g_mime_object_get_header_list(GMIME_OBJECT(msg->mime));

	for (int i = g_mime_header_list_get_count(list) - 1; i >= 0; i--) {
		GMimeHeader *h = g_mime_header_list_get_header_at(list, i);
		const char *name = g_mime_header_get_name(h);

		if (g_ascii_strncasecmp(name, "X-Mailseal-", 11) == 0)
			g_mime_header_list_remove_at(list, i);
	}
}

void
msg_strip_status_headers(ms_message *msg)
{
	msg->strip_status = true;
	strip_status(msg);
}

/* parse_tree - run GMime over the whole input, or in headers-only mode
 * over the header section alone, and check the tree */
static ms_err
parse_tree(ms_message *msg, msg_problem *problem)
{
	GMimeParser *parser;
	GMimeParserOptions *options;
	GMimeStream *source = msg->stream;
	size_t len = msg->headers_only ? msg->header_len : msg->raw_len;

	/* GMime keeps header values as C strings: a NUL in any header,
	 * top-level or nested, silently cuts the field, and on output joins
	 * what is left to the next line, so the message we write has
	 * another structure than the one we read (MIME-A1, bad input 11).
	 * A NUL is legal only in binary parts, which SMTP without
	 * BINARYMIME cannot carry, so any NUL marks the input malformed. */
	if (memchr(msg->raw, '\0', len) != NULL)
		msg->flags |= MSG_FLAG_MALFORMED;
	if (msg->bad_lines != NULL)
		g_array_set_size(msg->bad_lines, 0);
	msg->parts = 0;
	if (msg->headers_only)
		source = g_mime_stream_substream(msg->stream, 0, (gint64)len);
	else
		g_object_ref(source);
	g_mime_stream_reset(source);
	counter_add(COUNTER_PARSE);
	parser = g_mime_parser_new_with_stream(source);
	g_mime_parser_set_format(parser, GMIME_FORMAT_MESSAGE);
	g_mime_parser_set_persist_stream(parser, TRUE);
	options = g_mime_parser_options_new();
	g_mime_parser_options_set_warning_callback(options, on_parser_warning,
	    msg);
	msg->mime = g_mime_parser_construct_message(parser, options);
	msg->headers_end = (size_t)g_mime_parser_get_headers_end(parser);
	g_mime_parser_options_free(options);
	g_object_unref(parser);
	g_object_unref(source);
	if (msg->mime == NULL) {
		*problem = MSG_PROBLEM_UNPARSABLE;
		return MS_DATA;
	}
	/* a parse of the whole message after a headers-only one must not
	 * bring back fields that were removed (DEC-8) */
	if (msg->strip_status)
		strip_status(msg);
	if (msg->headers_only) {
		/* the body was not interpreted: only the top level counts */
		msg->flags &= ~MSG_FLAG_MALFORMED;
		if (memchr(msg->raw, '\0', len) != NULL)
			msg->flags |= MSG_FLAG_MALFORMED;
		return MS_OK;
	}
	*problem = walk(msg);
	return *problem == MSG_PROBLEM_NONE ? MS_OK : MS_DATA;
}

/* insertion - a line end the repair wrote into the input */
typedef struct insertion {
	size_t at;	/* offset in the received input */
	size_t len;
} insertion;

size_t
msg_received_offset(const ms_message *msg, size_t offset)
{
	size_t shift = 0;

	for (guint i = 0; msg->inserted != NULL && i < msg->inserted->len;
	    i++) {
		const insertion *ins = &g_array_index(msg->inserted,
		    insertion, i);

		if (offset >= ins->at + shift + ins->len)
			shift += ins->len;
		else if (offset >= ins->at + shift)
			return ins->at;	/* inside a line end we wrote */
		else
			break;
	}
	return offset - shift;
}

const char *
msg_received(const ms_message *msg, size_t *len)
{
	*len = msg->received_len;
	return msg->received;
}

static gint
compare_offsets(gconstpointer a, gconstpointer b)
{
	gint64 x = *(const gint64 *)a, y = *(const gint64 *)b;

	return x < y ? -1 : x > y;
}

static gint
compare_insertions(gconstpointer a, gconstpointer b)
{
	size_t x = ((const insertion *)a)->at, y = ((const insertion *)b)->at;

	return x < y ? -1 : x > y;
}

/* has_empty_line - p holds a line end followed by an empty line */
static bool
has_empty_line(const char *p, size_t len)
{
	return memmem(p, len, "\n\n", 2) != NULL ||
	    memmem(p, len, "\n\r\n", 3) != NULL;
}

/* repair - write an empty line before the first line of each header
 * section that the last parse reported as no field, so that line and
 * the ones after it are read as the body and never dropped.  Later bad
 * lines of the same section (no empty line between) are body already.
 * False when nothing was written in. */
static bool
repair(ms_message *msg)
{
	GArray *bad = msg->bad_lines;
	GArray *added;
	GByteArray *fixed;
	size_t from = 0, last = 0;
	bool any = false;

	if (bad == NULL || bad->len == 0)
		return false;
	g_array_sort(bad, compare_offsets);
	added = g_array_new(FALSE, FALSE, sizeof(insertion));
	fixed = g_byte_array_sized_new((guint)msg->raw_len + 2 * bad->len);
	for (guint i = 0; i < bad->len; i++) {
		gint64 value = g_array_index(bad, gint64, i);
		size_t at = (size_t)value;
		const char *nl;
		insertion ins;

		if (value < 0 || at > msg->raw_len || at < from)
			continue;
		if (at == msg->raw_len) {
			/* the last line, a delimiter, gets its line end, in
			 * the style of the line before */
			if (at == 0 || msg->raw[at - 1] == '\n')
				continue;
			nl = memrchr(msg->raw, '\n', at);
			ins.len = nl != NULL && nl > msg->raw && nl[-1] == '\r' ?
			    2 : 1;
		} else {
			if (at > 0 && msg->raw[at - 1] != '\n')
				continue;
			if (any && !has_empty_line(msg->raw + last, at - last))
				continue;
			nl = memchr(msg->raw + at, '\n', msg->raw_len - at);
			ins.len = nl != NULL && nl > msg->raw + at &&
			    nl[-1] == '\r' ? 2 : 1;
		}
		ins.at = msg_received_offset(msg, at);
		g_byte_array_append(fixed, (const guint8 *)msg->raw + from,
		    (guint)(at - from));
		g_byte_array_append(fixed, (const guint8 *)"\r\n" +
		    (2 - ins.len), (guint)ins.len);
		g_array_append_val(added, ins);
		from = last = at;
		any = true;
	}
	if (!any) {
		g_byte_array_free(fixed, TRUE);
		g_array_free(added, TRUE);
		return false;
	}
	g_byte_array_append(fixed, (const guint8 *)msg->raw + from,
	    (guint)(msg->raw_len - from));
	if (msg->inserted == NULL)
		msg->inserted = g_array_new(FALSE, FALSE, sizeof(insertion));
	g_array_append_vals(msg->inserted, added->data, added->len);
	g_array_sort(msg->inserted, compare_insertions);
	g_array_free(added, TRUE);
	/* what the caller may still point into stays alive */
	if (msg->kept_heaps == NULL) {
		msg->kept_heaps = g_ptr_array_new_with_free_func(
		    (GDestroyNotify)g_byte_array_unref);
		msg->kept_streams = g_ptr_array_new_with_free_func(
		    g_object_unref);
	}
	if (msg->heap != NULL)
		g_ptr_array_add(msg->kept_heaps, msg->heap);
	g_ptr_array_add(msg->kept_streams, msg->stream);
	msg->heap = fixed;
	msg->raw = (const char *)fixed->data;
	msg->raw_len = fixed->len;
	msg->stream = g_mime_stream_mem_new_with_byte_array(msg->heap);
	g_mime_stream_mem_set_owner(GMIME_STREAM_MEM(msg->stream), FALSE);
	return true;
}

/* line_kind - how a header section reads a line (len without its LF):
 * a field is a name of visible characters, optional blanks and a colon
 * (GMime's rule, so "From  :" is a field) */
typedef enum line_kind {
	LINE_EMPTY, LINE_CONTINUATION, LINE_FIELD, LINE_OTHER
} line_kind;

static line_kind
line_kind_of(const char *p, size_t len)
{
	size_t i = 0;

	if (len == 0 || (len == 1 && p[0] == '\r'))
		return LINE_EMPTY;
	if (p[0] == ' ' || p[0] == '\t')
		return LINE_CONTINUATION;
	while (i < len && p[i] != ':' && (unsigned char)p[i] > ' ' &&
	    p[i] != 0x7f)
		i++;
	if (i == 0)
		return LINE_OTHER;
	while (i < len && (p[i] == ' ' || p[i] == '\t'))
		i++;
	return i < len && p[i] == ':' ? LINE_FIELD : LINE_OTHER;
}

/* delimiter_kind - 0 for no delimiter of a multipart in boundaries, 1
 * for a delimiter, 2 for a closing one (len without the LF) */
static int
delimiter_kind(const char *p, size_t len, GHashTable *boundaries)
{
	char *name;
	int kind = 0;

	if (len < 3 || p[0] != '-' || p[1] != '-')
		return 0;
	while (len > 2 && (p[len - 1] == ' ' || p[len - 1] == '\t' ||
	    p[len - 1] == '\r'))
		len--;
	name = g_strndup(p + 2, len - 2);
	if (g_hash_table_contains(boundaries, name))
		kind = 1;
	else if (len > 4 && p[len - 1] == '-' && p[len - 2] == '-') {
		name[len - 4] = '\0';
		if (g_hash_table_contains(boundaries, name))
			kind = 2;
	}
	g_free(name);
	return kind;
}

/* add_boundaries - the boundary of every multipart of the tree */
static void
add_boundaries(GMimeObject *parent, GMimeObject *part, gpointer data)
{
	(void)parent;
	if (GMIME_IS_MULTIPART(part)) {
		const char *b = g_mime_multipart_get_boundary(
		    GMIME_MULTIPART(part));

		if (b != NULL)
			g_hash_table_add(data, g_strdup(b));
	}
}

/* note_bad_line - record a line at offset that ends a header section */
static void
note_bad_line(ms_message *msg, size_t offset)
{
	gint64 value = (gint64)offset;

	if (msg->bad_lines == NULL)
		msg->bad_lines = g_array_new(FALSE, FALSE, sizeof(gint64));
	g_array_append_val(msg->bad_lines, value);
}

/* scan_sections - find the first line that is no field in the top-level
 * header section and in the header section after each delimiter of a
 * multipart GMime found.  GMime drops such lines, and when one is long
 * (a base64 body right after the part's fields) it drops the whole part
 * without saying where; this one pass over the lines finds them. */
static void
scan_sections(ms_message *msg)
{
	GHashTable *boundaries = g_hash_table_new_full(g_str_hash,
	    g_str_equal, g_free, NULL);
	const char *raw = msg->raw;
	size_t pos = 0, len = msg->headers_only ? msg->header_len :
	    msg->raw_len;
	bool in_header = true;

	if (!msg->headers_only && msg->mime != NULL)
		g_mime_message_foreach(msg->mime, add_boundaries, boundaries);
	/* the mbox envelope line is no part of the header (RFC 4155) */
	if (len >= 5 && memcmp(raw, "From ", 5) == 0) {
		const char *nl = memchr(raw, '\n', len);

		pos = nl != NULL ? (size_t)(nl - raw) + 1 : len;
	}
	while (pos < len) {
		const char *nl;
		size_t line;
		int delimiter;

		if (!in_header && g_hash_table_size(boundaries) == 0)
			break;	/* no multipart: no other header section */
		if (!in_header && (len - pos < 2 || raw[pos] != '-' ||
		    raw[pos + 1] != '-')) {
			/* in a body only a delimiter line matters: look for
			 * "--" at a line start (a '-' is rare in text, absent
			 * from base64) */
			const char *dash = raw + pos + 1;

			while ((dash = memchr(dash, '-', (size_t)(raw + len -
			    dash))) != NULL && (dash[-1] != '\n' ||
			    dash + 1 >= raw + len || dash[1] != '-'))
				dash++;
			if (dash == NULL)
				break;
			pos = (size_t)(dash - raw);
			continue;
		}
		nl = memchr(raw + pos, '\n', len - pos);
		line = nl ? (size_t)(nl - (raw + pos)) : len - pos;
		delimiter = g_hash_table_size(boundaries) > 0 ?
		    delimiter_kind(raw + pos, line, boundaries) : 0;

		if (delimiter != 0) {
			in_header = delimiter == 1;
			/* GMime keeps the CR before a delimiter that ends the
			 * input without a line end as content: give it one */
			if (nl == NULL && !msg->headers_only)
				note_bad_line(msg, len);
		}
		else if (in_header) {
			line_kind kind = line_kind_of(raw + pos, line);

			if (kind == LINE_EMPTY)
				in_header = false;
			else if (kind == LINE_OTHER) {
				note_bad_line(msg, pos);
				in_header = false;
			}
		}
		pos += line + 1;
	}
	g_hash_table_destroy(boundaries);
}

/* parse_repaired - parse_tree, then again after each repair; a section
 * ended inside a part shows only once its parent is read, so a few
 * passes, bounded, never one per part */
static ms_err
parse_repaired(ms_message *msg, msg_problem *problem)
{
	ms_err err = parse_tree(msg, problem);

	/* a message that starts with no field at all stays unparsable */
	if (msg->mime == NULL)
		return err;
	scan_sections(msg);
	for (int pass = 0; pass < 4 && repair(msg); pass++) {
		if (msg->mime != NULL)
			g_object_unref(msg->mime);
		msg->mime = NULL;
		msg->depth = 0;
		*problem = check_headers(msg->raw, msg->raw_len,
		    &msg->header_len);
		if (*problem != MSG_PROBLEM_NONE)
			return MS_DATA;
		err = parse_tree(msg, problem);
		if (msg->mime == NULL)
			break;
		scan_sections(msg);
	}
	return err;
}

/* has_bom - the input starts with a UTF-8 byte-order mark: no part of
 * the message, written by some editors and exporters in front of the
 * header (or of an mbox envelope line); read as if it were not there */
static bool
has_bom(const char *data, size_t len)
{
	return len >= 3 && memcmp(data, "\xef\xbb\xbf", 3) == 0;
}

/* drop_bom - leave a leading byte-order mark out of the heap copy */
static void
drop_bom(ms_message *msg)
{
	if (msg->heap == NULL || !has_bom(msg->raw, msg->raw_len))
		return;
	g_byte_array_remove_range(msg->heap, 0, 3);
	msg->raw = (const char *)msg->heap->data;
	msg->raw_len = msg->heap->len;
}

/* has_bare_cr_lines - the header section ends in CR alone, the line ends
 * of an old Mac mail program: the empty line that ends it (CR CR) comes
 * before any LF, or the input has CRs and no LF at all.  A stray CR in a
 * message with LF or CRLF line ends keeps its own handling (a space in a
 * header field, a line end in the body). */
static bool
has_bare_cr_lines(const char *data, size_t len)
{
	const char *lf = memchr(data, '\n', len);

	if (lf == NULL)
		return memchr(data, '\r', len) != NULL;
	return memmem(data, (size_t)(lf - data), "\r\r", 2) != NULL;
}

/* normalise_bare_cr - in a message with bare CR line ends every bare CR
 * becomes LF, one byte for one, in a heap copy, before any limit or GMime
 * sees the input.  GMime ends lines at LF only: without this the whole
 * message is one header field, and its body text would be written
 * outside the encryption, signature or PDF.  Offsets stay as they were,
 * so the normalised bytes are the input as received from here on. */
static void
normalise_bare_cr(ms_message *msg)
{
	char *p, *end;

	if (!has_bare_cr_lines(msg->raw, msg->raw_len))
		return;
	if (msg->heap == NULL) {
		/* a mapped file is read-only: copy it, and read the copy */
		msg->heap = g_byte_array_sized_new((guint)msg->raw_len + 1);
		g_byte_array_append(msg->heap, (const guint8 *)msg->raw,
		    (guint)msg->raw_len);
		if (msg->stream != NULL)
			g_object_unref(msg->stream);
		msg->stream = NULL;
	}
	p = (char *)msg->heap->data;
	end = p + msg->heap->len;
	for (char *cr = p; (cr = memchr(cr, '\r', (size_t)(end - cr))) !=
	    NULL; cr++)
		if (cr + 1 == end || cr[1] != '\n')
			*cr = '\n';
	msg->raw = p;
	msg->raw_len = msg->heap->len;
}

/* parse - the raw limits, then the tree */
static ms_err
parse(ms_message *msg, msg_problem *problem)
{
	*problem = MSG_PROBLEM_NONE;
	if (msg->raw_len == 0) {
		*problem = MSG_PROBLEM_EMPTY;
		return MS_DATA;
	}
	if (msg->raw_len > limits_get()->message_size) {
		*problem = MSG_PROBLEM_TOO_LARGE;
		return MS_DATA;
	}
	normalise_bare_cr(msg);
	*problem = check_headers(msg->raw, msg->raw_len, &msg->header_len);
	if (*problem != MSG_PROBLEM_NONE)
		return MS_DATA;
	if (msg->stream == NULL) {
		/* wraps the array without copying; we free it ourselves */
		msg->stream = g_mime_stream_mem_new_with_byte_array(msg->heap);
		g_mime_stream_mem_set_owner(GMIME_STREAM_MEM(msg->stream),
		    FALSE);
	}
	msg->received = msg->raw;
	msg->received_len = msg->raw_len;
	return parse_repaired(msg, problem);
}

ms_err
msg_parse_full(ms_message *msg, msg_problem *problem)
{
	GMimeMessage *headers;
	ms_err err;

	*problem = MSG_PROBLEM_NONE;
	if (!msg->headers_only)
		return MS_OK;
	/* on failure the headers-only view stays, so the caller can still
	 * pass the message on unchanged */
	headers = msg->mime;
	msg->mime = NULL;
	msg->headers_only = false;
	err = parse_repaired(msg, problem);
	if (err != MS_OK) {
		if (msg->mime != NULL)
			g_object_unref(msg->mime);
		msg->mime = headers;
		msg->headers_only = true;
		return err;
	}
	g_object_unref(headers);
	return MS_OK;
}

ms_err
msg_read_fd(int fd, ms_message **out, msg_problem *problem)
{
	return msg_read_fd_mode(fd, MSG_READ_FULL, out, problem);
}

ms_err
msg_read_fd_mode(int fd, msg_read_mode mode, ms_message **out,
    msg_problem *problem)
{
	ms_message *msg = g_new0(ms_message, 1);
	struct stat st;
	size_t cap = limits_get()->message_size;
	char head[3];
	ms_err err;

	msg_library_init();
	*out = NULL;
	*problem = MSG_PROBLEM_NONE;
	msg->headers_only = mode == MSG_READ_HEADERS;
	/* a file that starts with a byte-order mark is read into the heap,
	 * where the mark is left out */
	if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_size > 0 &&
	    lseek(fd, 0, SEEK_CUR) == 0 && !(pread(fd, head, sizeof(head),
	    0) == (ssize_t)sizeof(head) && has_bom(head, sizeof(head)))) {
		if ((unsigned long long)st.st_size > cap) {
			*problem = MSG_PROBLEM_TOO_LARGE;
			g_free(msg);
			return MS_DATA;
		}
		msg->stream = g_mime_stream_mmap_new(fd, PROT_READ,
		    MAP_PRIVATE);
		if (msg->stream != NULL &&
		    GMIME_STREAM_MMAP(msg->stream)->map != NULL) {
			GMimeStreamMmap *mm = GMIME_STREAM_MMAP(msg->stream);

			mm->owner = FALSE;	/* the fd stays the caller's */
			msg->raw = mm->map;
			msg->raw_len = mm->maplen;
			(void)madvise(mm->map, mm->maplen, MADV_SEQUENTIAL);
		} else if (msg->stream != NULL) {
			g_object_unref(msg->stream);
			msg->stream = NULL;
		}
	}
	if (msg->stream == NULL) {
		/* a pipe: read to EOF straight into the buffer, one byte past
		 * the cap to notice */
		msg->heap = g_byte_array_sized_new(65536);
		for (;;) {
			size_t have = msg->heap->len;
			ssize_t n;

			g_byte_array_set_size(msg->heap, (guint)(have + 65536));
			n = read(fd, msg->heap->data + have, 65536);
			if (n < 0 && errno == EINTR) {
				g_byte_array_set_size(msg->heap, (guint)have);
				continue;
			}
			g_byte_array_set_size(msg->heap,
			    (guint)(have + (n > 0 ? (size_t)n : 0)));
			if (n < 0) {
				diag_error("read message: %s", strerror(errno));
				msg_free(msg);
				return MS_TEMP;
			}
			if (n == 0)
				break;
			if (msg->heap->len > cap) {
				*problem = MSG_PROBLEM_TOO_LARGE;
				msg_free(msg);
				return MS_DATA;
			}
		}
		msg->raw = (const char *)msg->heap->data;
		msg->raw_len = msg->heap->len;
		drop_bom(msg);
	}
	err = parse(msg, problem);
	if (err == MS_DATA && mode == MSG_READ_FULL_OR_HEADERS &&
	    (*problem == MSG_PROBLEM_TOO_DEEP ||
	    *problem == MSG_PROBLEM_TOO_MANY_PARTS)) {
		/* over a tree limit: the top-level view, as MSG_READ_HEADERS
		 * gives it, for a caller that handles the limit itself */
		if (msg->mime != NULL)
			g_object_unref(msg->mime);
		msg->mime = NULL;
		msg->flags = 0;
		msg->headers_only = true;
		err = parse(msg, problem);
	}
	if (err != MS_OK) {
		msg_free(msg);
		return err;
	}
	*out = msg;
	return MS_OK;
}

ms_err
msg_read_stdin(ms_message **out, msg_problem *problem)
{
	return msg_read_fd(STDIN_FILENO, out, problem);
}

ms_err
msg_read_stdin_mode(msg_read_mode mode, ms_message **out,
    msg_problem *problem)
{
	return msg_read_fd_mode(STDIN_FILENO, mode, out, problem);
}

ms_err
msg_parse_buffer(const char *data, size_t len, ms_message **out,
    msg_problem *problem)
{
	return msg_parse_buffer_mode(data, len, MSG_READ_FULL, out, problem);
}

ms_err
msg_parse_buffer_mode(const char *data, size_t len, msg_read_mode mode,
    ms_message **out, msg_problem *problem)
{
	ms_message *msg = g_new0(ms_message, 1);
	ms_err err;

	msg_library_init();
	*out = NULL;
	msg->headers_only = mode == MSG_READ_HEADERS;
	msg->heap = g_byte_array_sized_new((guint)len + 1);
	g_byte_array_append(msg->heap, (const guint8 *)data, (guint)len);
	msg->raw = (const char *)msg->heap->data;
	msg->raw_len = len;
	drop_bom(msg);
	err = parse(msg, problem);
	if (err != MS_OK) {
		msg_free(msg);
		return err;
	}
	*out = msg;
	return MS_OK;
}

void
msg_free(ms_message *msg)
{
	if (msg == NULL)
		return;
	if (msg->mime != NULL)
		g_object_unref(msg->mime);
	if (msg->stream != NULL)
		g_object_unref(msg->stream);
	if (msg->heap != NULL)
		g_byte_array_free(msg->heap, TRUE);
	if (msg->kept_streams != NULL)
		g_ptr_array_free(msg->kept_streams, TRUE);
	if (msg->kept_heaps != NULL)
		g_ptr_array_free(msg->kept_heaps, TRUE);
	if (msg->bad_lines != NULL)
		g_array_free(msg->bad_lines, TRUE);
	if (msg->inserted != NULL)
		g_array_free(msg->inserted, TRUE);
	g_free(msg);
}

GByteArray *
msg_serialize(GMimeObject *object)
{
	GByteArray *out = g_byte_array_new();
	GMimeStream *stream = g_mime_stream_mem_new_with_byte_array(out);
	GMimeFormatOptions *format = g_mime_format_options_new();

	g_mime_stream_mem_set_owner(GMIME_STREAM_MEM(stream), FALSE);
	g_mime_format_options_set_newline_format(format,
	    GMIME_NEWLINE_FORMAT_UNIX);
	if (g_mime_object_write_to_stream(object, format, stream) < 0 ||
	    g_mime_stream_flush(stream) != 0) {
		g_mime_format_options_free(format);
		g_object_unref(stream);
		g_byte_array_free(out, TRUE);
		return NULL;
	}
	g_mime_format_options_free(format);
	g_object_unref(stream);
	return out;
}
