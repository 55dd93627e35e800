#!/usr/bin/env bats
# pdfwrap in sms mode and sms-send: the job is spooled (0600, right
# number, a password that opens the PDF) before the output is written;
# sms-send posts it to a gateway on loopback, retries a failing one on
# the next run and finally tells the sender; a sent job is gone.

load helpers

setup() {
	ms_setup
	MAILSEAL_SHAREDIR=$(cd "$BATS_TEST_DIRNAME/../.." && pwd)/share
	export MAILSEAL_SHAREDIR
	MARK="canary$RANDOM$RANDOM"
	MSG=$T/in.eml
	cat >"$MSG" <<EOF2
From: Alice <alice@example.test>
To: Bob <bob@example.test>
Subject: secret subject $MARK
Message-ID: <s1@example.test>

Hello Bob, the marker $MARK is here.
EOF2
	mkdir -m 700 -p "$STORE/settings/user"
	cat >"$STORE/settings/user/bob@example.test.conf" <<EOF2
pdf-password-mode = sms
sms-number = +4915112345678
EOF2
}

# pdf_of MAIL OUT - the application/pdf part of MAIL, decoded
pdf_of() {
	python3 - "$1" "$2" <<'EOF2'
import email, sys
m = email.message_from_binary_file(open(sys.argv[1], "rb"))
parts = [p for p in m.walk() if p.get_content_type() == "application/pdf"]
if len(parts) != 1:
    sys.exit("expected one application/pdf part, found %d" % len(parts))
open(sys.argv[2], "wb").write(parts[0].get_payload(decode=True))
EOF2
}

# job_field NAME - a field of the only SMS job
job_field() {
	sed -n "s/^$1 = //p" "$STORE"/spool/sms/*
}

@test "sms mode: the job is spooled with the number and a password that opens the PDF" {
	run --separate-stderr sh -c 'pdfwrap --store "$1" -f alice@example.test \
	    bob@example.test <"$2" >"$3"' sh "$STORE" "$MSG" "$T/out.eml"
	expect_status 0
	[ "$(ls "$STORE/spool/sms" | wc -l)" -eq 1 ]
	[ "$(stat -c %a "$STORE/spool/sms")" = 700 ]
	[ "$(stat -c %a "$STORE"/spool/sms/*)" = 600 ]
	[ "$(job_field number)" = "+4915112345678" ]
	[ "$(job_field sender)" = "alice@example.test" ]
	[ "$(job_field attempts)" = 0 ]
	text=$(job_field text)
	ref=$(job_field reference)
	pw=${text##*: }
	[ ${#pw} -eq 16 ] || fail_with "no password in the job"
	[[ $text == *"$ref"* ]]
	# no subject in the SMS, the reference in the recipient's notice
	! grep -q "$MARK" "$STORE"/spool/sms/* || false
	grep -q "$ref" "$T/out.eml" || python3 -c '
import email, sys
m = email.message_from_binary_file(open(sys.argv[1], "rb"))
t = "".join(p.get_payload(decode=True).decode() for p in m.walk()
    if p.get_content_type() == "text/plain")
sys.exit(0 if sys.argv[2] in t else 1)' "$T/out.eml" "$ref"
	! grep -q "$pw" "$T/out.eml" || false
	pdf_of "$T/out.eml" "$T/m.pdf"
	pdftotext -upw "$pw" "$T/m.pdf" - | grep -q "$MARK"
	run pdftotext -upw WRONGPASSWORD1 "$T/m.pdf" -
	[ "$status" -ne 0 ]
}

@test "sms mode: no number on file is a 5.7.1 refusal, nothing written" {
	echo 'pdf-password-mode = sms' >"$STORE/settings/user/bob@example.test.conf"
	run --separate-stderr sh -c 'pdfwrap --store "$1" -f alice@example.test \
	    bob@example.test <"$2" >"$3"' sh "$STORE" "$MSG" "$T/out.eml"
	expect_status 69
	[[ ${stderr_lines[0]} == "5.7.1 no mobile number"* ]]
	[[ $stderr != *"$MARK"* ]]
	[ ! -s "$T/out.eml" ]
	[ -z "$(ls "$STORE/spool/sms" 2>/dev/null)" ]
	# a number that is not E.164 defers
	printf 'pdf-password-mode = sms\nsms-number = 0151 123\n' \
	    >"$STORE/settings/user/bob@example.test.conf"
	run --separate-stderr sh -c 'pdfwrap --store "$1" -f alice@example.test \
	    bob@example.test <"$2" >"$3"' sh "$STORE" "$MSG" "$T/out.eml"
	expect_status 75
	[ ! -s "$T/out.eml" ]
}
