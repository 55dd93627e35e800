#!/usr/bin/env bats
# mailseal-filter's log line (mailseal-filter(1), LOGGING), read from a
# syslog socket: one line per run with the queue id, the Message-ID, the
# sender and how it was vouched for, the size, the DLP verdict and rules,
# the result, then every recipient with its method and the fingerprint of
# the certificate or key its copy was encrypted to; values from the
# message cannot make fields or lines of their own; the programs the
# filter runs log with the same queue id.

load helpers
load smime-helpers
load pgp-helpers
load syslog-helpers

setup_file() {
	sm_setup_file alice bob
}

setup() {
	pg_setup
	cp -a "$BASE/store" "$STORE"
	mkdir -p "$STORE/settings/user"
	# the copies are not looked at here (60-mailseal-filter.bats does)
	printf '#!/bin/sh\nexec cat >/dev/null\n' >"$T/sink.sh"
	chmod 755 "$T/sink.sh"
	export MAILSEAL_SENDMAIL=$T/sink.sh
	ms_sharedir
	MSG=$T/in.eml
	cat >"$MSG" <<EOF
Date: Mon, 7 Dec 2026 10:00:00 +0000
From: alice@example.test
To: Bob <bob@example.test>
Cc: carol@example.test, erin@example.test
Message-ID: <m1@example.test>
Subject: quarterly figures

The body.
EOF
}

teardown() {
	pg_teardown
}

# filter_lines PROG - the messages PROG sent to syslog, without the
# priority, time and PROG[pid]: prefix
prog_lines() {
	sed -n "s/^<[0-9]*>.* $1\[[0-9]*\]: //p" "$T/syslog"
}

# filter_line QUEUEID - the filter's one log line of the run, without the
# QUEUEID: prefix every line of the run carries; fails unless exactly one
filter_line() {
	local lines
	lines=$(prog_lines mailseal-filter | grep "^$1: queue=$1 ") || true
	[ -n "$lines" ] && [ "$(printf '%s\n' "$lines" | wc -l)" -eq 1 ] || {
		echo "not one log line for $1: $(cat "$T/syslog")" >&2
		return 1
	}
	printf '%s\n' "${lines#"$1: "}"
}

# sha256_of CERT - the certificate's SHA-256 as openssl computes it, in
# lowercase hex without colons
sha256_of() {
	openssl x509 -in "$1" -noout -fingerprint -sha256 |
	    sed 's/.*=//; s/://g' | tr 'A-F' 'a-f'
}

@test "one line per message: queue id, Message-ID, sender, authentication, size, DLP verdict, result, and each recipient with its method and certificate or key fingerprint" {
	local carol bob size
	carol=$(pg_recipient carol@example.test)
	bob=$(sha256_of "$BASE/bob.pem")
	size=$(wc -c <"$MSG")
	run with_syslog "mailseal-filter -q 4jcAB12 --sasl-username alice@example.test --client-address 192.0.2.7 -f alice@example.test -- bob@example.test carol@example.test erin@example.test <'$MSG'"
	expect_status 0
	run filter_line 4jcAB12
	expect_status 0
	[ "$output" = "queue=4jcAB12 dir=out msgid=<m1@example.test> from=<alice@example.test> size=$size auth=sasl login=alice@example.test client=192.0.2.7 dlp=pass result=sent nrcpt=3 to=<bob@example.test> method=smime key=own fpr=$bob to=<carol@example.test> method=pgp key=own fpr=$carol to=<erin@example.test> method=plain" ] ||
	    fail_with "log line: $output"
}

@test "a hostile Message-ID or recipient address makes no field and no line of its own" {
	python3 - "$MSG" <<'PY'
import sys
msg = open(sys.argv[1], "rb").read()
msg = msg.replace(b"Message-ID: <m1@example.test>",
    b"Message-ID: <x@y> to=<bob@example.test> method=plain\r"
    b"result=sent\x1b[2J queue=FORGED1\xc3\xa9")
open(sys.argv[1], "wb").write(msg)
PY
	run with_syslog "mailseal-filter -q 4jcAB13 -f alice@example.test -- bob@example.test '\"x> method=plain to=<a\"@partner.example' <'$MSG'"
	expect_status 0
	run filter_line 4jcAB13
	expect_status 0
	# fields are separated by single spaces; no value holds a space, a
	# control character or a byte outside printable ASCII
	python3 - "$output" <<'PY'
import sys
line = sys.argv[1]
assert all(0x21 <= ord(c) <= 0x7e for c in line.replace(" ", "")), line
fields = [f.split("=", 1) for f in line.split(" ")]
keys = [k for k, _ in fields]
assert keys.count("msgid") == 1 and keys.count("queue") == 1, line
assert keys.count("result") == 1, line
tos = [v for k, v in fields if k == "to"]
assert tos == ["<bob@example.test>",
    '<"x>\\x20method=plain\\x20to=<a"@partner.example>'], tos
methods = [v for k, v in fields if k == "method"]
assert methods == ["smime", "plain"], methods
msgid = dict(fields)["msgid"]
assert msgid.startswith("<x@y>\\x20to=<bob@example.test>\\x20method=plain"), msgid
assert "\\x1b" in msgid and "\\xc3\\xa9" in msgid, msgid
PY
	# nothing else in the log claims the queue id the Message-ID names
	! grep -q "FORGED1:" "$T/syslog" || fail_with "$(cat "$T/syslog")"
	! grep -q "queue=FORGED1" <(prog_lines mailseal-filter | grep -v "^4jcAB13: ") ||
	    fail_with "$(cat "$T/syslog")"
}

# every_line_has PROG QUEUEID - PROG logged, and every line starts with
# QUEUEID:
every_line_has() {
	local lines
	lines=$(prog_lines "$1")
	[ -n "$lines" ] || fail_with "$1 logged nothing: $(cat "$T/syslog")"
	! grep -v "^$2: " <<<"$lines" ||
	    fail_with "$1 lines without the queue id $2"
}

@test "the program the filter runs (pdfwrap) logs with its queue id, and so does the in-process OpenPGP encryption" {
	pg_recipient carol@example.test >/dev/null
	mkdir -p "$STORE/pdf"
	head -c 32 /dev/urandom >"$STORE/pdf/random.key"
	chmod 600 "$STORE/pdf/random.key"
	printf 'methods = pdf\npdf-password-mode = random-to-sender\n' \
	    >"$STORE/settings/user/frank@example.test.conf"
	run with_syslog "mailseal-filter -q 4jcCH1 --sasl-username alice@example.test -f alice@example.test -- carol@example.test frank@example.test <'$MSG'"
	expect_status 0
	run filter_line 4jcCH1
	expect_status 0
	[[ $output == *" notices=1 result=sent nrcpt=2 to=<carol@example.test> method=pgp key=own fpr="*" to=<frank@example.test> method=pdf" ]] ||
	    fail_with "log line: $output"
	every_line_has pdfwrap 4jcCH1
	every_line_has mailseal-filter 4jcCH1
}

@test "dlp-scan, pgp-sign, pgp-enc and pdfwrap take -q and log with it" {
	sed -i 's/^The body\.$/card 4556 7375 8689 9855 exp 12\/29/' "$MSG"
	run with_syslog "
	    dlp-scan -q 4jcD1 -f alice@example.test bob@example.test <'$MSG' >/dev/null
	    pgp-sign -q 4jcS1 -f nobody@example.test <'$MSG' >/dev/null
	    pgp-enc -q 4jcE1 nobody@example.test <'$MSG' >/dev/null
	    pdfwrap -q 4jcP1 --password-mode random zed@example.test <'$MSG' >/dev/null
	    exit 0"
	expect_status 0
	every_line_has dlp-scan 4jcD1
	prog_lines dlp-scan | grep -q '^4jcD1: incident: rule=payment-cards ' ||
	    fail_with "no incident line: $(cat "$T/syslog")"
	every_line_has pgp-sign 4jcS1
	every_line_has pgp-enc 4jcE1
	every_line_has pdfwrap 4jcP1
	run dlp-scan -q 'x y' bob@example.test <"$MSG"
	expect_status 64
	[[ $output == *"a QUEUEID is letters and digits"* ]] || fail_with "$output"
}

@test "a refusal is logged with the DLP verdict and rules, the result and its reason class, and the recipient refused" {
	local bob
	bob=$(sha256_of "$BASE/bob.pem")
	sed -i 's/^The body\.$/card 4556 7375 8689 9855 exp 12\/29/' "$MSG"
	run with_syslog "mailseal-filter -q 4jcRF1 -f alice@example.test -- bob@example.test erin@example.test <'$MSG'"
	expect_status 69
	run filter_line 4jcRF1
	expect_status 0
	[[ $output == *" auth=none dlp=must-encrypt rules=payment-cards trigger=dlp result=bounced reason=policy nrcpt=2 to=<bob@example.test> method=smime key=own fpr=$bob to=<erin@example.test> method=reject" ]] ||
	    fail_with "log line: $output"
	# the DLP scan runs in the filter: its incident lines carry the id
	prog_lines mailseal-filter | grep -q '^4jcRF1: incident: rule=payment-cards ' ||
	    fail_with "no incident line: $(cat "$T/syslog")"
	every_line_has mailseal-filter 4jcRF1
	# never the content: not the card number, not the subject
	! grep -q "8689\|quarterly" "$T/syslog" || fail_with "$(cat "$T/syslog")"
}

@test "--incoming: each recipient with what decryption (and with which key) and verification did" {
	local bob
	bob=$(sha256_of "$BASE/bob.pem")
	printf 'From: alice@example.test\nTo: bob@example.test\nSubject: in\n\nInbound\n' >"$T/plain.eml"
	{
		printf 'From: alice@example.test\nTo: bob@example.test\nSubject: in\nMessage-ID: <in1@example.test>\n'
		openssl cms -encrypt -in "$T/plain.eml" -aes256 "$BASE/bob.pem" 2>/dev/null
	} >"$T/enc.eml"
	run with_syslog "mailseal-filter --incoming -q 4jcIN1 -f alice@example.test -- bob@example.test erin@example.test <'$T/enc.eml'"
	expect_status 0
	run filter_line 4jcIN1
	expect_status 0
	[[ $output == "queue=4jcIN1 dir=in msgid=<in1@example.test> from=<alice@example.test> size="*" result=sent nrcpt=2 to=<bob@example.test> decrypt=smime fpr=$bob verify=none to=<erin@example.test> decrypt=not-for-recipient verify=none" ]] ||
	    fail_with "log line: $output"
}

@test "--incoming: an OpenPGP message is logged with the fingerprint of the key that opened it" {
	local carol
	carol=$(pgp-keys generate carol@example.test)
	pgp-keys export "$carol" | pg_gpg --import 2>/dev/null
	{
		printf 'From: alice@example.test\nTo: carol@example.test\nSubject: in\n\n'
		echo Inbound | pg_gpg --trust-model always --armor --encrypt \
		    -r carol@example.test 2>/dev/null
	} >"$T/enc.eml"
	run with_syslog "mailseal-filter --incoming -q 4jcIN2 -f alice@example.test -- carol@example.test <'$T/enc.eml'"
	expect_status 0
	run filter_line 4jcIN2
	expect_status 0
	[[ $output == *" result=sent nrcpt=1 to=<carol@example.test> decrypt=pgp fpr=$carol verify=none" ]] ||
	    fail_with "log line: $output"
}

@test "a held message and a deferred one are logged as such, with their recipients" {
	cp "$MSG" "$T/plain.eml"
	# ten Luhn-valid card numbers: the shipped policy holds the message
	python3 - >>"$MSG" <<'PY'
def check_digit(partial):
    digits = [int(c) for c in partial][::-1]
    total = sum(d if i % 2 else (d * 2 - 9 if d > 4 else d * 2)
                for i, d in enumerate(digits))
    return str((10 - total % 10) % 10)
for k in range(10):
    partial = "455673758689%03d" % (k * 7)
    print("card", partial + check_digit(partial))
PY
	run with_syslog "mailseal-filter -q 4jcHD1 --sasl-username alice@example.test -f alice@example.test -- bob@example.test erin@example.test <'$MSG'"
	expect_status 0
	run filter_line 4jcHD1
	expect_status 0
	[[ $output =~ \ dlp=quarantine\ rules=payment-cards-bulk,payment-cards\ quarantine=[0-9a-f]{32}\ result=held\ nrcpt=2\ to=\<bob@example.test\>\ to=\<erin@example.test\>$ ]] ||
	    fail_with "log line: $output"

	# the reinjection fails: the message waits, and the line says so
	run with_syslog "MAILSEAL_SENDMAIL=/bin/false mailseal-filter -q 4jcDF1 -f alice@example.test -- erin@example.test <'$T/plain.eml'"
	expect_status 75
	run filter_line 4jcDF1
	expect_status 0
	[[ $output == *" dlp=pass result=deferred reason=temporary nrcpt=1 to=<erin@example.test> method=plain" ]] ||
	    fail_with "log line: $output"
}
