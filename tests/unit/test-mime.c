/*
 * test-mime.c - the message module's root kinds, "encrypted at the root"
 * (ENC-7), the end of a header section read as mail programs read it (no
 * body text or attachment lost), and the one MIME writer: what it writes
 * parses back to the root kind it claims, with the parts in their places.
 */
#include "msg.h"
#include "msgpart.h"
#include "msgwrite.h"
#include "output.h"

#include <unistd.h>

#include "unit.h"

#define HDR "From: a@x.test\nTo: b@y.test\nSubject: s\nMIME-Version: 1.0\n"
#define P7M(type) HDR "Content-Type: application/pkcs7-mime; " type \
	"\nContent-Transfer-Encoding: base64\n\nMAA=\n"
#define SIGNED(proto, sigtype) HDR "Content-Type: multipart/signed; " \
	"protocol=\"" proto "\"; micalg=sha-256; boundary=\"b\"\n\n" \
	"--b\nContent-Type: text/plain\n\nhi\n--b\nContent-Type: " sigtype \
	"\n\nSIG\n--b--\n"
#define PGPMIME_OF(version, data) HDR "Content-Type: multipart/encrypted; " \
	"protocol=\"application/pgp-encrypted\"; boundary=\"e\"\n\n" \
	"--e\nContent-Type: application/pgp-encrypted\n\n" version "\n" \
	"--e\nContent-Type: application/octet-stream\n\n" data "--e--\n"
/* armor whose first packet is a public-key encrypted session key */
#define PGPMIME(version) PGPMIME_OF(version, "-----BEGIN PGP MESSAGE-----" \
	"\n\nhQEMA8x/mZ0AAAAA\n-----END PGP MESSAGE-----\n")
#define ARMOR "-----BEGIN PGP MESSAGE-----\n\nhQEM\n-----END PGP MESSAGE-----\n"
#define CLEAR "-----BEGIN PGP SIGNED MESSAGE-----\nHash: SHA256\n\nhi\n" \
	"-----BEGIN PGP SIGNATURE-----\n\nx\n-----END PGP SIGNATURE-----\n"

typedef struct kind_case {
	const char *name;
	const char *text;
	msg_kind kind;
	bool encrypted;		/* msg_root_encrypted (no DER check here:
				 * the S/MIME rows carry no valid DER) */
} kind_case;

static const kind_case kinds[] = {
	{ "plain text", HDR "Content-Type: text/plain\n\nhello\n",
	  MSG_KIND_PLAIN, false },
	{ "no Content-Type", HDR "\nhello\n", MSG_KIND_PLAIN, false },
	{ "S/MIME enveloped-data", P7M("smime-type=enveloped-data"),
	  MSG_KIND_SMIME_ENVELOPED, false },
	{ "S/MIME authEnveloped-data", P7M("smime-type=authEnveloped-data"),
	  MSG_KIND_SMIME_ENVELOPED, false },
	{ "S/MIME signed-data", P7M("smime-type=signed-data"),
	  MSG_KIND_SMIME_OPAQUE, false },
	{ "x-pkcs7-mime without smime-type", HDR "Content-Type: "
	  "application/x-pkcs7-mime\n\nMAA=\n", MSG_KIND_SMIME_PKCS7, false },
	{ "S/MIME detached", SIGNED("application/pkcs7-signature",
	  "application/pkcs7-signature"), MSG_KIND_SMIME_DETACHED, false },
	{ "PGP/MIME signed", SIGNED("application/pgp-signature",
	  "application/pgp-signature"), MSG_KIND_PGP_SIGNED, false },
	{ "multipart/signed whose part 2 is not the protocol's",
	  SIGNED("application/pgp-signature", "text/plain"),
	  MSG_KIND_SIGNED_MALFORMED, false },
	{ "PGP/MIME encrypted, Version: 1", PGPMIME("Version: 1"),
	  MSG_KIND_PGP_ENCRYPTED, true },
	{ "PGP/MIME encrypted without Version: 1", PGPMIME("Version: 2"),
	  MSG_KIND_PGP_ENCRYPTED, false },
	{ "PGP/MIME shape around plain text", PGPMIME_OF("Version: 1",
	  "card 4556 7375 8689 9855\n"), MSG_KIND_PGP_ENCRYPTED, false },
	{ "PGP/MIME shape around armor that holds no ciphertext",
	  PGPMIME_OF("Version: 1", "-----BEGIN PGP MESSAGE-----\n\n"
	  "card 4556\n-----END PGP MESSAGE-----\n"), MSG_KIND_PGP_ENCRYPTED,
	  false },
	{ "inline PGP encrypted", HDR "Content-Type: text/plain\n\n" ARMOR,
	  MSG_KIND_PGP_INLINE_ENCRYPTED, false },
	{ "inline PGP encrypted after a greeting", HDR "\nHello,\n" ARMOR,
	  MSG_KIND_PGP_INLINE_ENCRYPTED, false },
	{ "inline PGP encrypted in base64", HDR "Content-Type: text/plain\n"
	  "Content-Transfer-Encoding: base64\n\nLS0tLS1CRUdJTiBQR1AgTUVTU0FHRS"
	  "0tLS0tCgpoUUVNCi0tLS0tRU5EIFBHUCBNRVNTQUdFLS0tLS0K\n",
	  MSG_KIND_PGP_INLINE_ENCRYPTED, false },
	{ "inline PGP cleartext signed", HDR "\n" CLEAR,
	  MSG_KIND_PGP_INLINE_SIGNED, false },
	{ "armor quoted in a reply is no inline PGP", HDR "\n> " ARMOR,
	  MSG_KIND_PLAIN, false },
	{ "armor in an HTML root is no inline PGP", HDR "Content-Type: "
	  "text/html\n\n" ARMOR, MSG_KIND_PLAIN, false },
	{ "armor inside a multipart is not the root's", HDR "Content-Type: "
	  "multipart/mixed; boundary=m\n\n--m\n\n" ARMOR "--m--\n",
	  MSG_KIND_PLAIN, false },
};

static void
check_kinds(void)
{
	for (size_t i = 0; i < G_N_ELEMENTS(kinds); i++) {
		const kind_case *c = &kinds[i];
		ms_message *msg;
		msg_problem problem;

		for (int mode = 0; mode < 2; mode++) {
			if (!unit_check(msg_parse_buffer_mode(c->text,
			    strlen(c->text), mode ? MSG_READ_HEADERS :
			    MSG_READ_FULL, &msg, &problem) == MS_OK,
			    "%s (%s): parses", c->name,
			    mode ? "headers first" : "whole"))
				continue;
			unit_check(msg_root_kind(msg) == c->kind,
			    "%s (%s): kind %d", c->name,
			    mode ? "headers first" : "whole", c->kind);
			unit_check(msg_root_encrypted(msg) == c->encrypted,
			    "%s (%s): encrypted at the root: %s", c->name,
			    mode ? "headers first" : "whole",
			    c->encrypted ? "yes" : "no");
			msg_free(msg);
		}
	}
}

/* where a header section ends: the body (of the root, or of part "1" of
 * a multipart root) as Python's email package reads it */
typedef struct section_case {
	const char *name;
	const char *text;
	const char *body;	/* decoded content of the root or part 1 */
	const char *part2;	/* decoded content of part 2, or NULL */
	size_t inserted;	/* line ends written in */
} section_case;

static const section_case sections[] = {
	{ "a line of one space continues the field; the body is kept",
	  "From: a@x.test\nSubject: s\n \nDear Bob,\nsee attached.\n\n"
	  "Regards\n", "Dear Bob,\nsee attached.\n\nRegards\n", NULL, 1 },
	{ "a line without a colon starts the body",
	  "From: a@x.test\nSubject: s\nDear Bob,\n\nRegards\n",
	  "Dear Bob,\n\nRegards\n", NULL, 1 },
	{ "CRLF: the empty line written in is CRLF",
	  "From: a@x.test\r\nSubject: s\r\nDear Bob,\r\n\r\nRegards\r\n",
	  "Dear Bob,\r\n\r\nRegards\r\n", NULL, 1 },
	{ "\"From  :\" is a field",
	  "From  : a@x.test\nSubject: s\n\nbody\n", "body\n", NULL, 0 },
	{ "a part's base64 right after its fields stays its body",
	  HDR "Content-Type: multipart/mixed; boundary=\"m\"\n\n--m\n"
	  "Content-Type: text/plain\n\none\n--m\n"
	  "Content-Type: application/zip; name=a.zip\n"
	  "Content-Transfer-Encoding: base64\naGVsbG8gd29ybGQ=\n--m--\n",
	  "one", "hello world", 1 },
	{ "a part whose first line is no field has no header",
	  HDR "Content-Type: multipart/mixed; boundary=\"m\"\n\n--m\n"
	  "just text\nmore: text\n--m\nContent-Type: text/plain\n\ntwo\n"
	  "--m--\n", "just text\nmore: text", "two", 1 },
	{ "a closing delimiter without a line end gets one",
	  HDR "Content-Type: multipart/mixed; boundary=\"m\"\r\n\r\n--m\r\n"
	  "Content-Type: text/plain\r\n\r\none\r\n--m\r\n"
	  "Content-Type: text/plain\r\n\r\ntwo\r\n--m--",
	  "one", "two", 1 },
};

/* leaf_text - the decoded content of part index of a multipart root (or
 * the root itself for index -1), without its final line end */
static char *
leaf_text(ms_message *msg, int index)
{
	GMimeObject *root = g_mime_message_get_mime_part(msg->mime);
	GByteArray *data;
	char *text;

	if (root == NULL)
		return g_strdup("(no root)");
	if (index >= 0) {
		if (!GMIME_IS_MULTIPART(root) || g_mime_multipart_get_count(
		    GMIME_MULTIPART(root)) <= index)
			return g_strdup("(no such part)");
		root = g_mime_multipart_get_part(GMIME_MULTIPART(root), index);
	}
	data = msg_part_content(root, 1 << 20);
	if (data == NULL)
		return g_strdup("(unreadable)");
	text = g_strndup((const char *)data->data, data->len);
	g_byte_array_free(data, TRUE);
	return text;
}

static void
check_sections(void)
{
	for (size_t i = 0; i < G_N_ELEMENTS(sections); i++) {
		const section_case *c = &sections[i];
		ms_message *msg;
		msg_problem problem;
		char *got;
		size_t len;

		if (!unit_check(msg_parse_buffer(c->text, strlen(c->text), &msg,
		    &problem) == MS_OK, "%s: parses", c->name))
			continue;
		got = leaf_text(msg, c->part2 != NULL ? 0 : -1);
		if (c->part2 != NULL)
			g_strchomp(got);
		unit_check(strcmp(got, c->body) == 0, "%s: body %s", c->name,
		    unit_show(c->body));
		g_free(got);
		if (c->part2 != NULL) {
			got = g_strchomp(leaf_text(msg, 1));
			unit_check(strcmp(got, c->part2) == 0, "%s: part 2 %s",
			    c->name, unit_show(c->part2));
			g_free(got);
		}
		unit_check(msg->raw_len - strlen(c->text) <= 2 * c->inserted &&
		    (msg->inserted == NULL ? 0 : msg->inserted->len) ==
		    c->inserted, "%s: %zu line ends written in", c->name,
		    c->inserted);
		/* the received input stays as it was, and offsets map back */
		unit_check(msg_received(msg, &len) != NULL &&
		    len == strlen(c->text) && memcmp(msg_received(msg, &len),
		    c->text, len) == 0 && msg_received_offset(msg,
		    msg->raw_len) == len, "%s: the received bytes are kept",
		    c->name);
		msg_free(msg);
	}
}

/* read_back - what was written to out, parsed */
static ms_message *
read_back(ms_output *out)
{
	ms_message *msg = NULL;
	msg_problem problem;
	GString *text = g_string_new(NULL);
	char buf[4096];
	ssize_t n;
	int fd = output_fd(out);

	lseek(fd, 0, SEEK_SET);
	while ((n = read(fd, buf, sizeof(buf))) > 0)
		g_string_append_len(text, buf, n);
	if (msg_parse_buffer(text->str, text->len, &msg, &problem) != MS_OK)
		msg = NULL;
	g_string_free(text, TRUE);
	return msg;
}

typedef struct writer_case {
	const char *name;
	msg_root_type type;
	msg_part_type parts[2];
	msg_kind kind;
	int count;		/* parts of a multipart root, else 0 */
} writer_case;

static const writer_case writers[] = {
	{ "S/MIME multipart/signed", MSG_ROOT_SIGNED_SMIME,
	  { MSG_PART_CONTENT, MSG_PART_SMIME_SIGNATURE },
	  MSG_KIND_SMIME_DETACHED, 2 },
	{ "PGP/MIME multipart/signed", MSG_ROOT_SIGNED_PGP,
	  { MSG_PART_CONTENT, MSG_PART_PGP_SIGNATURE }, MSG_KIND_PGP_SIGNED,
	  2 },
	{ "PGP/MIME multipart/encrypted", MSG_ROOT_ENCRYPTED_PGP,
	  { MSG_PART_PGP_VERSION, MSG_PART_PGP_CIPHERTEXT },
	  MSG_KIND_PGP_ENCRYPTED, 2 },
	{ "multipart/mixed with a text and a PDF", MSG_ROOT_MIXED,
	  { MSG_PART_TEXT, MSG_PART_ATTACHMENT }, MSG_KIND_PLAIN, 2 },
	{ "application/pkcs7-mime enveloped-data", MSG_ROOT_ENVELOPED,
	  { 0, 0 }, MSG_KIND_SMIME_ENVELOPED, 0 },
	{ "application/pkcs7-mime authEnveloped-data",
	  MSG_ROOT_AUTH_ENVELOPED, { 0, 0 }, MSG_KIND_SMIME_ENVELOPED, 0 },
	{ "application/pkcs7-mime signed-data", MSG_ROOT_OPAQUE_SIGNED,
	  { 0, 0 }, MSG_KIND_SMIME_OPAQUE, 0 },
	{ "text/plain", MSG_ROOT_TEXT, { 0, 0 }, MSG_KIND_PLAIN, 0 },
};

static void
check_writers(void)
{
	static const char payload[] = "Content-Type: text/plain\n\npay load\n";

	for (size_t i = 0; i < G_N_ELEMENTS(writers); i++) {
		const writer_case *c = &writers[i];
		GString *outer = g_string_new("From: a@x.test\nSubject: w\n");
		msg_root root = { .type = c->type, .micalg = "sha-256",
		    .charset = "utf-8", .encoding = "8bit" };
		ms_output *out = NULL;
		ms_message *msg;
		ms_err err;

		if (!unit_check(output_open(NULL, &out) == MS_OK,
		    "%s: output", c->name))
			continue;
		err = msg_write_root(out, outer, &root);
		for (int p = 0; p < c->count && err == MS_OK; p++) {
			err = msg_write_part(out, &root, c->parts[p],
			    "message.pdf");
			if (err == MS_OK && c->parts[p] == MSG_PART_CONTENT)
				err = output_write(out, payload,
				    strlen(payload));
			else if (err == MS_OK &&
			    (c->parts[p] == MSG_PART_PGP_SIGNATURE ||
			    c->parts[p] == MSG_PART_PGP_CIPHERTEXT))
				err = output_write(out, "pay load\n", 9);
			else if (err == MS_OK)
				err = msg_write_base64(out, "pay load", 8);
		}
		if (c->count > 0 && err == MS_OK)
			err = msg_write_close(out, &root);
		else if (err == MS_OK)
			err = msg_write_base64(out, "pay load", 8);
		unit_check(err == MS_OK, "%s: written", c->name);
		msg = read_back(out);
		if (unit_check(msg != NULL, "%s: parses back", c->name)) {
			GMimeObject *top = g_mime_message_get_mime_part(
			    msg->mime);
			char **subject = msg_header_texts(msg, "Subject");

			unit_check(msg_root_kind(msg) == c->kind,
			    "%s: root kind %d", c->name, c->kind);
			unit_check(subject[0] != NULL &&
			    strcmp(subject[0], "w") == 0 && subject[1] == NULL,
			    "%s: the outer fields come first", c->name);
			g_strfreev(subject);
			unit_check(c->count == 0 || (GMIME_IS_MULTIPART(top) &&
			    g_mime_multipart_get_count(GMIME_MULTIPART(top)) ==
			    c->count), "%s: %d parts", c->name, c->count);
			if (c->count > 0) {
				char *last = leaf_text(msg, c->count - 1);

				unit_check(strstr(last, "pay load") != NULL,
				    "%s: the last part holds its content",
				    c->name);
				g_free(last);
			}
			msg_free(msg);
		}
		msg_root_clear(&root);
		output_discard(out);
		g_string_free(outer, TRUE);
	}
}

static void
check_boundary(void)
{
	static const char text[] = "a =-mailseal- b";
	char *b = msg_boundary_new("=-mailseal-", text, sizeof(text) - 1,
	    NULL, 0);
	char *c = msg_boundary_new("=-mailseal-", NULL, 0, NULL, 0);

	unit_check(strlen(b) == strlen("=-mailseal-") + 24 &&
	    g_str_has_prefix(b, "=-mailseal-") && strstr(text, b) == NULL,
	    "boundary: prefix and 24 hex digits, not in the content");
	unit_check(strcmp(b, c) != 0, "boundary: two differ");
	g_free(b);
	g_free(c);
}

int
main(void)
{
	msg_library_init();
	check_kinds();
	check_sections();
	check_writers();
	check_boundary();
	g_mime_shutdown();
	return unit_done();
}
