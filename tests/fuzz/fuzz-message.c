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
 * a message GMime itself cannot read.  The root kinds (msg_root_kind,
 * msg_root_encrypted, msg_root_text) must agree between the two read
 * modes; the signing entity is built, and each multipart/signed the
 * filters write (common/msgwrite.c) is written around it and must parse
 * back to the kind it claims, with two parts.  Invariants that fail
 * abort.
 */
#include "fuzz.h"
#include "mslimits.h"
#include "msg.h"
#include "msgpart.h"
#include "msgwrite.h"
#include "output.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);


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

/* written - everything out holds */
static GByteArray *
written(ms_output *out)
{
	GByteArray *all = g_byte_array_new();
	guint8 buf[4096];
	ssize_t n;
	int fd = output_fd(out);

	require(lseek(fd, 0, SEEK_SET) == 0);
	while ((n = read(fd, buf, sizeof(buf))) > 0)
		g_byte_array_append(all, buf, (guint)n);
	return all;
}

static const struct {
	msg_root_type type;
	msg_part_type second;
	msg_kind kind;
} roots[] = {
	{ MSG_ROOT_SIGNED_SMIME, MSG_PART_SMIME_SIGNATURE,
	  MSG_KIND_SMIME_DETACHED },
	{ MSG_ROOT_SIGNED_PGP, MSG_PART_PGP_SIGNATURE, MSG_KIND_PGP_SIGNED },
};

/* write_around - the entity inside each multipart/signed the filters
 * write; it must read back as that kind, with the entity as part 1 */
static void
write_around(ms_message *msg, const msg_entity *e)
{
	for (size_t i = 0; i < sizeof(roots) / sizeof(roots[0]); i++) {
		GString *outer = msg_outer_headers(msg);
		msg_root root = { .type = roots[i].type,
		    .micalg = "sha-256" };
		ms_output *out = NULL;
		ms_message *back = NULL;
		msg_problem problem;
		GByteArray *bytes;
		ms_err err;

		root.boundary = msg_boundary_new("=-mailseal-", e->head,
		    e->head_len, e->body, e->body_len);
		require(output_open(NULL, &out) == MS_OK);
		err = msg_write_root(out, outer, &root);
		if (err == MS_OK)
			err = msg_write_part(out, &root, MSG_PART_CONTENT,
			    NULL);
		if (err == MS_OK)
			err = output_write_lf(out, e->head, e->head_len);
		if (err == MS_OK)
			err = output_write_lf(out, e->body, e->body_len);
		if (err == MS_OK)
			err = msg_write_part(out, &root, roots[i].second,
			    NULL);
		if (err == MS_OK)
			err = msg_write_base64(out, "sig", 3);
		if (err == MS_OK)
			err = msg_write_close(out, &root);
		require(err == MS_OK);
		bytes = written(out);
		/* a header over the lowered limits is a defined refusal */
		if (msg_parse_buffer((const char *)bytes->data, bytes->len,
		    &back, &problem) == MS_OK) {
			GMimeObject *top = g_mime_message_get_mime_part(
			    back->mime);

			require(msg_root_kind(back) == roots[i].kind);
			require(GMIME_IS_MULTIPART(top) &&
			    g_mime_multipart_get_count(GMIME_MULTIPART(top)) ==
			    2);
			msg_free(back);
		} else
			require(problem != MSG_PROBLEM_UNPARSABLE);
		g_byte_array_free(bytes, TRUE);
		output_discard(out);
		msg_root_clear(&root);
		g_string_free(outer, TRUE);
	}
}

/* check_kinds - the root kinds, and the writers around the entity */
static void
check_kinds(ms_message *whole, const uint8_t *data, size_t size)
{
	ms_message *head = NULL;
	msg_problem problem;
	msg_entity e;
	GByteArray *text = NULL;
	msg_kind kind = msg_root_kind(whole);

	if (msg_parse_buffer_mode((const char *)data, size, MSG_READ_HEADERS,
	    &head, &problem) == MS_OK) {
		/* reading the header first classifies the root alike */
		require(msg_root_kind(head) == kind);
		require(msg_root_encrypted(head) == msg_root_encrypted(whole));
		msg_free(head);
	}
	if (kind == MSG_KIND_PGP_INLINE_ENCRYPTED ||
	    kind == MSG_KIND_PGP_INLINE_SIGNED)
		require(msg_root_text(whole, size * 4 + 64, &text) == MS_OK);
	if (text != NULL)
		g_byte_array_free(text, TRUE);
	if (msg_signing_entity(whole, &e) == MS_OK) {
		write_around(whole, &e);
		msg_entity_clear(&e);
	}
}

/* check_received - the received bytes are the input, except that in a
 * message read with bare CR line ends each bare CR became LF, and then
 * none is left */
static void
check_received(const ms_message *msg, const char *input, size_t len)
{
	size_t received_len;
	const char *received = msg_received(msg, &received_len);
	bool changed = false;

	for (size_t i = 0; i < len; i++) {
		bool bare_cr = input[i] == '\r' &&
		    (i + 1 == len || input[i + 1] != '\n');

		require(received[i] == input[i] ||
		    (bare_cr && received[i] == '\n'));
		changed = changed || received[i] != input[i];
	}
	for (size_t i = 0; changed && i < received_len; i++)
		require(received[i] != '\r' || (i + 1 < received_len &&
		    received[i + 1] == '\n'));
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	ms_message *msg = NULL, *again = NULL;
	msg_problem problem = MSG_PROBLEM_NONE;
	GByteArray *out;
	size_t message_size = size;
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
	/* a leading byte-order mark is no part of the message (msg.c) */
	if (size >= 3 && memcmp(data, "\xef\xbb\xbf", 3) == 0)
		message_size = size - 3;
	require(msg->received_len == message_size &&
	    msg->raw_len >= message_size &&
	    msg_received_offset(msg, msg->raw_len) == message_size);
	check_received(msg, (const char *)data + (size - message_size),
	    message_size);

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
	check_kinds(msg, data, size);
	msg_free(msg);
	return 0;
}
