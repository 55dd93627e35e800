/*
 * msg.h - the one module that reads and interprets message structure.
 *
 * msg_read_stdin() reads the whole input (REL-4: to EOF, read errors are a
 * temporary failure, never a short message), applies the limits of
 * limits.h to the raw bytes (size, header section, header field) and to the
 * GMime tree (nesting depth, part count), and keeps both the raw bytes (for
 * byte-exact signature checks) and the parsed GMimeMessage.  A message
 * whose first line ends in a bare CR has its bare CRs read as LF.  Parser
 * warnings that mean ambiguity or damage are recorded as flags.
 * msg_serialize() writes a GMime object to memory for a complete,
 * all-or-nothing commit with ritual_output().
 */
#ifndef MAILSEAL_MSG_H
#define MAILSEAL_MSG_H

#include <gmime/gmime.h>
#include <stdbool.h>

#include "err.h"

typedef enum msg_problem {
	MSG_PROBLEM_NONE = 0,
	MSG_PROBLEM_EMPTY,		/* no input at all */
	MSG_PROBLEM_TOO_LARGE,		/* MIME-L1 */
	MSG_PROBLEM_HEADER_TOO_LARGE,	/* MIME-L4 section or field */
	MSG_PROBLEM_TOO_DEEP,		/* MIME-L2 */
	MSG_PROBLEM_TOO_MANY_PARTS,	/* MIME-L3 */
	MSG_PROBLEM_UNPARSABLE		/* GMime gave up */
} msg_problem;

/* flags for things GMime accepted but a careful reader notes */
enum {
	MSG_FLAG_AMBIGUOUS = 1u << 0,	/* conflicting headers or parameters */
	MSG_FLAG_MALFORMED = 1u << 1,	/* truncated or malformed structure,
					 * or a NUL byte anywhere */
	MSG_FLAG_8BIT_HEADERS = 1u << 2	/* raw 8-bit text in headers (UTF-8
					 * or not, at any level) */
};

typedef struct ms_message {
	const char *raw;	/* the input bytes */
	size_t raw_len;
	GMimeMessage *mime;	/* parsed tree (refers to raw, no copy) */
	unsigned flags;		/* MSG_FLAG_* */
	unsigned depth;		/* deepest nesting seen */
	unsigned parts;		/* number of MIME parts */
	size_t headers_end;	/* offset of the line ending the header */
	size_t header_len;	/* the header section with its blank line */
	bool headers_only;	/* the body is not parsed (yet) */
	bool strip_status;	/* X-Mailseal-* fields are to be removed */
	/* private */
	GByteArray *heap;	/* read input, or NULL */
	GMimeStream *stream;
	GArray *bad_lines;	/* offsets of header lines that are no
				 * field, reported by the last parse */
	GArray *inserted;	/* line ends written in: received offset
				 * and length, ascending */
	const char *received;	/* the input as read */
	size_t received_len;
	GPtrArray *kept_heaps;	/* earlier buffers and streams, alive */
	GPtrArray *kept_streams;	/* while pointers into them may be held */
} ms_message;

/* msg_library_init - initialise GMime once per process */
void msg_library_init(void);

/* msg_read_fd - read a whole message from fd and parse it; on MS_DATA,
 * *problem says which limit or check failed */
ms_err msg_read_fd(int fd, ms_message **out, msg_problem *problem);

typedef enum msg_read_mode {
	MSG_READ_FULL,		/* parse the whole MIME tree */
	MSG_READ_HEADERS,	/* parse the top-level header section only;
				 * the body stays raw bytes until
				 * msg_parse_full() */
	MSG_READ_FULL_OR_HEADERS	/* the whole tree in one parse; a tree
				 * over the depth or part limit is read as
				 * MSG_READ_HEADERS reads it instead */
} msg_read_mode;

/* msg_read_fd_mode - msg_read_fd with a read mode */
ms_err msg_read_fd_mode(int fd, msg_read_mode mode, ms_message **out,
    msg_problem *problem);

/* msg_read_stdin_mode - msg_read_fd_mode(0, ...) */
ms_err msg_read_stdin_mode(msg_read_mode mode, ms_message **out,
    msg_problem *problem);

/* msg_parse_full - parse the body of a headers-only message, with the
 * nesting and part limits */
ms_err msg_parse_full(ms_message *msg, msg_problem *problem);

/* msg_read_stdin - msg_read_fd(0, ...) */
ms_err msg_read_stdin(ms_message **out, msg_problem *problem);

/* msg_parse_buffer - parse a message held in memory (copied) */
ms_err msg_parse_buffer(const char *data, size_t len, ms_message **out,
    msg_problem *problem);

/* msg_parse_buffer_mode - msg_parse_buffer with a read mode */
ms_err msg_parse_buffer_mode(const char *data, size_t len, msg_read_mode mode,
    ms_message **out, msg_problem *problem);

/* msg_strip_status_headers - remove every top-level X-Mailseal-* field,
 * now and after any later parse (DEC-8) */
void msg_strip_status_headers(ms_message *msg);

/* msg_received_offset - the offset in the received input of offset in
 * msg->raw (they differ only after a header section was ended) */
size_t msg_received_offset(const ms_message *msg, size_t offset);

/* msg_received - the input as received (before any empty line was
 * written in; bare CR line ends already LF), and its length */
const char *msg_received(const ms_message *msg, size_t *len);

/* msg_free - release a message */
void msg_free(ms_message *msg);

/* msg_problem_text - a short, content-free description */
const char *msg_problem_text(msg_problem problem);

/* msg_problem_status - the enhanced status code for a refusal */
const char *msg_problem_status(msg_problem problem);

/* msg_serialize - the object as bytes, in a new GByteArray */
GByteArray *msg_serialize(GMimeObject *object);

#endif
