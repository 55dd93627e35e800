#!/usr/bin/env bats
# pgp-enc --inline: each text part encrypted in place, every other part
# becomes NAME.pgp, HTML alternatives are left out; gpg reads the result.

load helpers

setup() {
	ms_setup_store
	FPR=$(pgp-keys generate dave@example.test)
	export GNUPGHOME=$STORE/gnupg
	head -c 3000 /dev/urandom >"$T/att.bin"
	{
		printf 'From: a@example.test\nTo: dave@example.test\n'
		printf 'Subject: inline\nMIME-Version: 1.0\n'
		printf 'Content-Type: multipart/mixed; boundary="b1"\n\n--b1\n'
		printf 'Content-Type: multipart/alternative; boundary="b2"\n\n'
		printf -- '--b2\nContent-Type: text/plain; charset=utf-8\n\n'
		printf 'Plain INLINE-TEXT-42\n--b2\n'
		printf 'Content-Type: text/html; charset=utf-8\n\n'
		printf '<p>INLINE-HTML-42</p>\n--b2--\n--b1\n'
		printf 'Content-Type: application/octet-stream; name="att.bin"\n'
		printf 'Content-Disposition: attachment; filename="att.bin"\n'
		printf 'Content-Transfer-Encoding: base64\n\n'
		base64 -w 76 <"$T/att.bin"
		printf -- '--b1--\n'
	} >"$T/m.eml"
}

teardown() {
	gpgconf --kill all 2>/dev/null || true
}

@test "inline: text in place, attachment as .pgp, no HTML, nothing in the clear" {
	run --separate-stderr pgp-enc --inline dave@example.test <"$T/m.eml"
	expect_status 0
	printf '%s\n' "$output" >"$T/e.eml"
	! grep -q 'INLINE-TEXT-42\|INLINE-HTML-42' "$T/e.eml" ||
	    fail_with "plaintext in the output"
	! grep -qi 'text/html' "$T/e.eml" || fail_with "HTML part kept"
	grep -q 'filename=att.bin.pgp' "$T/e.eml" ||
	    fail_with "no att.bin.pgp attachment"
	sed -n '/BEGIN PGP MESSAGE/,/END PGP MESSAGE/p' "$T/e.eml" |
	    gpg --batch --decrypt >"$T/text" 2>/dev/null ||
	    fail_with "gpg cannot decrypt the text part"
	grep -q 'Plain INLINE-TEXT-42' "$T/text" || fail_with "text differs"
	python3 - "$T/e.eml" "$T/att.pgp" <<'PY'
import email, sys
m = email.message_from_binary_file(open(sys.argv[1], 'rb'))
for part in m.walk():
    if part.get_filename() == 'att.bin.pgp':
        open(sys.argv[2], 'wb').write(part.get_payload(decode=True))
PY
	gpg --batch --decrypt "$T/att.pgp" >"$T/att.out" 2>/dev/null ||
	    fail_with "gpg cannot decrypt the attachment"
	cmp "$T/att.bin" "$T/att.out" || fail_with "attachment differs"
}

@test "inline single text part round-trips through pgp-dec; pgp-format = inline selects it" {
	printf 'From: a@example.test\nTo: dave@example.test\nSubject: s\n\nONLY-TEXT-9\n' \
	    >"$T/s.eml"
	mkdir -p "$STORE/settings/user"
	printf 'pgp-format = inline\n' \
	    >"$STORE/settings/user/dave@example.test.conf"
	run --separate-stderr pgp-enc dave@example.test <"$T/s.eml"
	expect_status 0
	printf '%s\n' "$output" >"$T/e.eml"
	! grep -q 'multipart/encrypted' "$T/e.eml" || fail_with "not inline"
	grep -q -- '-----BEGIN PGP MESSAGE-----' "$T/e.eml" ||
	    fail_with "no armored message"
	pgp-dec <"$T/e.eml" >"$T/d.eml"
	grep -q '^X-Mailseal-Decrypted: pgp' "$T/d.eml" ||
	    fail_with "not decrypted"
	grep -q 'ONLY-TEXT-9' "$T/d.eml" || fail_with "text differs"
}
