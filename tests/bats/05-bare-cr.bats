#!/usr/bin/env bats
# A message with bare CR line ends (CR alone, as old Mac mail programs
# wrote them) through every program that reads a message: each reads the
# same header and body, the body lands inside the encryption, signature
# or PDF, and no header field written outside holds body text.

load helpers
load smime-helpers
load pgp-helpers

setup_file() {
	sm_setup_file alice bob
}

setup() {
	ms_sharedir
	pg_setup
	cp -a "$BASE/store" "$STORE"
	mkdir -p "$STORE/settings/user" "$STORE/pdf"
	MARK="canary-$RANDOM-$RANDOM"
	MSG=$T/in.eml
	printf '%s\r' 'From: Alice <alice@example.test>' \
	    'To: bob@example.test' 'Subject: figures' \
	    'Message-ID: <cr1@example.test>' 'MIME-Version: 1.0' \
	    'Content-Type: text/plain; charset=us-ascii' '' \
	    "The body with $MARK in it." 'Second line.' >"$MSG"
}

teardown() {
	pg_teardown
}

# headers_clean FILE - an independent reader (Python's email package)
# finds From, To and Subject as sent, and no header field with body text
headers_clean() {
	python3 - "$1" "$MARK" <<'EOF' || fail_with "$1: header fields hold body text"
import email, sys
m = email.message_from_binary_file(open(sys.argv[1], "rb"))
want = {"From": "Alice <alice@example.test>", "To": "bob@example.test",
        "Subject": "figures"}
for name, value in want.items():
    got = m.get_all(name) or []
    if [str(v).strip() for v in got] != [value]:
        sys.exit("%s is %r" % (name, got))
for name, value in m.items():
    if sys.argv[2] in str(value) or "Second line" in str(value):
        sys.exit("%s holds body text" % name)
EOF
}

# no_mark_outside FILE - the body's marker is not in FILE in clear
no_mark_outside() {
	! grep -aqF "$MARK" "$1" || fail_with "$1: the body is in clear"
}

# body_lines FILE - the body of FILE as an independent reader sees it
# holds the marker line and the line after it, each a line of its own
body_lines() {
	python3 - "$1" "$MARK" <<'EOF' || fail_with "$1: the body is not there"
import email, sys
m = email.message_from_binary_file(open(sys.argv[1], "rb"))
for part in m.walk():
    if part.get_content_type() == "text/plain":
        text = part.get_payload(decode=True).decode("ascii")
        lines = text.replace("\r\n", "\n").split("\n")
        if lines[:2] == ["The body with %s in it." % sys.argv[2],
                         "Second line."]:
            sys.exit(0)
sys.exit("no text part with the body lines")
EOF
}

# smime_for_bob FILE - FILE has the header as sent, and the body only
# inside an S/MIME encryption that bob's key opens (openssl cms)
smime_for_bob() {
	headers_clean "$1"
	no_mark_outside "$1"
	openssl cms -decrypt -in "$1" -recip "$BASE/bob.pem" \
	    -inkey "$BASE/bob.key" -out "$T/dec.eml" 2>"$T/openssl.err" ||
	    fail_with "openssl cms -decrypt of $1 failed"
	body_lines "$T/dec.eml"
}

@test "smime-enc: the body is inside the encryption, the header as sent" {
	run_out "$T/enc.eml" smime-enc bob@example.test <"$MSG"
	expect_status 0
	smime_for_bob "$T/enc.eml"
}

@test "smime-sign: the body is the signed part, smime-verify finds it valid" {
	run_out "$T/signed.eml" smime-sign <"$MSG"
	expect_status 0
	headers_clean "$T/signed.eml"
	body_lines "$T/signed.eml"
	run_out "$T/verified.eml" smime-verify <"$T/signed.eml"
	expect_status 0
	expect_sig "$T/verified.eml" valid
}

@test "pgp-enc: the body is inside the encryption, the header as sent" {
	pg_recipient bob@example.test >/dev/null
	run_out "$T/enc.eml" pgp-enc bob@example.test <"$MSG"
	expect_status 0
	headers_clean "$T/enc.eml"
	no_mark_outside "$T/enc.eml"
	pg_armor "$T/enc.eml" "$T/enc.asc"
	pg_gpg --decrypt "$T/enc.asc" >"$T/dec.eml" 2>"$T/gpg.err" ||
	    fail_with "gpg --decrypt failed"
	body_lines "$T/dec.eml"
}

@test "pgp-sign: the body is the signed part, pgp-verify finds it valid" {
	pgp-keys generate alice@example.test >/dev/null 2>"$T/gen.err" ||
	    fail_with "pgp-keys generate failed"
	run_out "$T/signed.eml" pgp-sign <"$MSG"
	expect_status 0
	headers_clean "$T/signed.eml"
	body_lines "$T/signed.eml"
	run_out "$T/verified.eml" pgp-verify <"$T/signed.eml"
	expect_status 0
	expect_sig "$T/verified.eml" valid
}

@test "pdfwrap: the body is in the PDF, not in a header field" {
	printf 'a long enough password\n' >"$T/pw"
	chmod 600 "$T/pw"
	run_out "$T/out.eml" pdfwrap --store "$STORE" -f alice@example.test \
	    --password-file "$T/pw" bob@example.test <"$MSG"
	expect_status 0
	headers_clean "$T/out.eml"
	no_mark_outside "$T/out.eml"
	python3 - "$T/out.eml" "$T/m.pdf" <<'EOF' || fail_with "no PDF part"
import email, sys
m = email.message_from_binary_file(open(sys.argv[1], "rb"))
parts = [p for p in m.walk() if p.get_content_type() == "application/pdf"]
if len(parts) != 1:
    sys.exit("expected one application/pdf part")
open(sys.argv[2], "wb").write(parts[0].get_payload(decode=True))
EOF
	pdftotext -upw 'a long enough password' "$T/m.pdf" "$T/m.txt" ||
	    fail_with "pdftotext failed"
	grep -qF "$MARK" "$T/m.txt" || fail_with "the body is not in the PDF"
	! grep -F "$MARK" "$T/m.txt" | grep -q 'figures\|alice@example' ||
	    fail_with "the PDF shows body text in a header field"
}

@test "dlp-scan: scans and passes on the body as a body" {
	run_out "$T/out.eml" dlp-scan -f alice@example.test bob@example.test \
	    <"$MSG"
	expect_status 0
	headers_clean "$T/out.eml"
	body_lines "$T/out.eml"
	grep -q '^X-Mailseal-DLP: ' "$T/out.eml" ||
	    fail_with "no X-Mailseal-DLP field"
	# a card number in such a body is found in the body
	printf '%s\r' 'From: Alice <alice@example.test>' \
	    'To: bob@example.test' 'Subject: order' '' \
	    'card 4556 7375 8689 9855 exp 12/29' >"$T/card.eml"
	run_out "$T/explained" dlp-scan -n bob@example.test <"$T/card.eml"
	expect_status 0
	grep -q 'detector=payment_card' "$T/explained" &&
	    grep -q '^verdict: must-encrypt' "$T/explained" ||
	    fail_with "the card in the body was not found"
}

@test "mailseal-filter: the copy for bob is encrypted with the body inside" {
	SINK=$T/sink.sh
	mkdir -p "$T/out"
	printf '#!/bin/sh\ncat >"%s"\n' "$T/out/copy.eml" >"$SINK"
	chmod 755 "$SINK"
	MAILSEAL_SENDMAIL=$SINK run mailseal-filter -f alice@example.test -- \
	    bob@example.test <"$MSG"
	expect_status 0
	smime_for_bob "$T/out/copy.eml"
}

@test "smime-dec, pgp-dec, smime-verify, pgp-verify: plain input keeps its header and body apart" {
	local prog
	for prog in smime-dec pgp-dec smime-verify pgp-verify; do
		run_out "$T/$prog.eml" "$prog" <"$MSG"
		expect_status 0
		headers_clean "$T/$prog.eml"
		body_lines "$T/$prog.eml"
	done
}

@test "a message read from a file (mapped) and from a pipe reads alike" {
	run_out "$T/file.eml" smime-dec <"$MSG"
	expect_status 0
	cat "$MSG" | smime-dec >"$T/pipe.eml" ||
	    fail_with "smime-dec from a pipe failed"
	cmp "$T/file.eml" "$T/pipe.eml" ||
	    fail_with "file and pipe input differ"
	headers_clean "$T/pipe.eml"
}
