/*
 * fuzz-message.c - libFuzzer target for message input (common/msg.c), the
 * one module that interprets MIME structure (TEST-F*: GMime has no
 * OSS-Fuzz project of its own).
 *
 * Limits are lowered first (depth 8, 64 parts, 4 KiB header section,
 * 1 KiB field, 256 KiB message) so the limit paths are reached often and
 * each run stays fast.  Every input goes through msg_parse_buffer(); a
 * parsed message is serialized with msg_serialize(), and unless it was
 * flagged malformed the result must parse again: what we write is never
 * a message GMime itself cannot read.  Invariants that fail abort.
 */
#include "limits.h"
#include "msg.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
require(int cond)
{
	if (!cond)
		abort();
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	ms_limits lim = *limits_get();

	(void)argc;
	(void)argv;
	lim.message_size = 256 * 1024;
	lim.header_section = 4096;
	lim.header_field = 1024;
	lim.mime_depth = 8;
	lim.mime_parts = 64;
	limits_set(&lim);
	msg_library_init();
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	ms_message *msg = NULL, *again = NULL;
	msg_problem problem = MSG_PROBLEM_NONE;
	GByteArray *out;
	ms_err err;

	err = msg_parse_buffer((const char *)data, size, &msg, &problem);
	if (err != MS_OK) {
		/* a refusal is a defined problem, and nothing is returned */
		require(err == MS_DATA && problem != MSG_PROBLEM_NONE &&
		    msg == NULL);
		require(msg_problem_text(problem) != NULL &&
		    msg_problem_status(problem) != NULL);
		return 0;
	}
	require(msg != NULL && msg->mime != NULL);
	require(msg->depth <= limits_get()->mime_depth);
	require(msg->parts <= limits_get()->mime_parts);
	require(msg->received_len == size && msg->raw_len >= size &&
	    msg_received_offset(msg, msg->raw_len) == size);

	out = msg_serialize(GMIME_OBJECT(msg->mime));
	require(out != NULL);
	/* what we serialize must be readable again; its limits may differ
	 * (GMime adds headers and boundaries), so only an unparsable result
	 * counts.  Inputs flagged malformed are exempt: a NUL in a header
	 * makes GMime write a broken header block, which is why msg.c flags
	 * every NUL (callers must not rebuild such a message). */
	if (out->len > 0 && (msg->flags & MSG_FLAG_MALFORMED) == 0) {
		err = msg_parse_buffer((const char *)out->data, out->len,
		    &again, &problem);
		require(err == MS_OK || problem != MSG_PROBLEM_UNPARSABLE);
		msg_free(again);
	}
	g_byte_array_free(out, TRUE);
	msg_free(msg);
	return 0;
}
