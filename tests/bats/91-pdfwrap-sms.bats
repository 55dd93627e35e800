#!/usr/bin/env bats
# pdfwrap in sms mode and sms-send: the job is spooled (0600, right
# number, a password that opens the PDF) before the output is written;
# sms-send posts it to a gateway on loopback, retries a failing one on
# the next run and finally tells the sender; a sent job is gone.

load helpers

setup() {
	ms_setup
	ms_sharedir
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

# spool_job - pdfwrap in sms mode on $MSG, the output in $T/out.eml
spool_job() {
	pdfwrap --store "$STORE" -f alice@example.test bob@example.test \
	    <"$MSG" >"$T/out.eml"
}

# gateway CODE - a gateway on 127.0.0.1 that answers CODE and logs each
# request (path, authorization, body) to $T/requests; port in $PORT
gateway() {
	python3 - "$1" "$T/requests" "$T/port" <<'EOF2' &
import http.server, sys
code, log, portfile = int(sys.argv[1]), sys.argv[2], sys.argv[3]
class H(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        n = int(self.headers.get("Content-Length", 0))
        body = self.rfile.read(n).decode()
        with open(log, "a") as f:
            f.write("%s %s %s\n" % (self.path,
                self.headers.get("Authorization"), body))
        self.send_response(code)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"ok")
    def log_message(self, *a):
        pass
s = http.server.HTTPServer(("127.0.0.1", 0), H)
open(portfile + ".tmp", "w").write(str(s.server_address[1]))
import os
os.rename(portfile + ".tmp", portfile)
s.serve_forever()
EOF2
	GATEWAY_PID=$!
	for _ in $(seq 1 50); do
		[ -s "$T/port" ] && break
		sleep 0.1
	done
	PORT=$(cat "$T/port")
	cat >"$T/gateway.conf" <<EOF2
url = http://127.0.0.1:$PORT/send?to=%NUMBER%
user = mailseal
password = s3cret-gateway
EOF2
	chmod 600 "$T/gateway.conf"
	cat >"$STORE/settings/global.conf" <<EOF2
sms-credentials-file = $T/gateway.conf
sms-allow-private-addresses = yes
sms-retry-delay = 1
sms-max-attempts = 2
EOF2
}

# fake_sendmail - MAILSEAL_SENDMAIL keeps its arguments and the mail in
# $T/sendmail.args and $T/sendmail.mail
fake_sendmail() {
	cat >"$T/sendmail" <<EOF2
#!/bin/sh
printf '%s\n' "\$@" >"$T/sendmail.args"
cat >"$T/sendmail.mail"
EOF2
	chmod 755 "$T/sendmail"
	export MAILSEAL_SENDMAIL=$T/sendmail
}

# told_sender PASSWORD - the notice to alice names bob and PASSWORD
told_sender() {
	grep -q '^To: alice@example.test$' "$T/sendmail.mail"
	python3 - "$T/sendmail.mail" "$1" <<'EOF2'
import email, sys
m = email.message_from_binary_file(open(sys.argv[1], "rb"))
t = m.get_payload(decode=True).decode()
assert sys.argv[2] in t and "bob@example.test" in t, t
EOF2
}

teardown() {
	if [ -n "${GATEWAY_PID:-}" ]; then
		kill "$GATEWAY_PID" 2>/dev/null || true
		wait "$GATEWAY_PID" 2>/dev/null || true
	fi
}

@test "sms-send posts the job to the gateway and wipes it" {
	spool_job
	text=$(job_field text)
	pw=${text##*: }
	gateway 200
	run --separate-stderr sms-send --store "$STORE"
	expect_status 0
	[ -z "$(ls "$STORE/spool/sms")" ] || fail_with "job left behind"
	[ "$(wc -l <"$T/requests")" -eq 1 ]
	grep -q '^/send?to=%2B4915112345678 Basic ' "$T/requests"
	grep -q "to=%2B4915112345678&text=.*$pw" "$T/requests"
	[[ $stderr != *"$pw"* ]] || fail_with "password logged"
	# nothing left to do: a second run posts nothing
	run sms-send --store "$STORE"
	expect_status 0
	[ "$(wc -l <"$T/requests")" -eq 1 ]
}

@test "sms-send: a failing gateway is retried, then the sender is told" {
	spool_job
	text=$(job_field text)
	pw=${text##*: }
	gateway 500
	fake_sendmail
	run --separate-stderr sms-send --store "$STORE"
	expect_status 0
	[ "$(job_field attempts)" = 1 ]
	[ ! -e "$T/sendmail.mail" ]
	# the next run, a second later, tries again; the second failure is
	# the last
	sleep 1.2
	run --separate-stderr sms-send --store "$STORE"
	expect_status 0
	[ "$(wc -l <"$T/requests")" -eq 2 ]
	[ -z "$(ls "$STORE/spool/sms")" ] || fail_with "job left behind"
	[ "$(cat "$T/sendmail.args")" = "$(printf -- '-f\n\n--\nalice@example.test')" ]
	told_sender "$pw"
	[[ $stderr != *"$pw"* ]] || fail_with "password logged"
}

@test "sms-send: a gateway that refuses the message (HTTP 422) is not retried; the sender is told at once" {
	spool_job
	text=$(job_field text)
	pw=${text##*: }
	gateway 422
	sed -i 's/^sms-max-attempts = .*/sms-max-attempts = 6/' "$STORE/settings/global.conf"
	fake_sendmail
	run --separate-stderr sms-send --store "$STORE"
	expect_status 0
	[ "$(wc -l <"$T/requests")" -eq 1 ]
	[ -z "$(ls "$STORE/spool/sms")" ] || fail_with "job left behind"
	[[ $stderr == *"refused the message"* ]]
	told_sender "$pw"
}

@test "sms mode with a queue id: a retry finds its job, spooled or sent, and sends no second SMS" {
	retry() {
		pdfwrap --store "$STORE" -q 4XyZ1 -f alice@example.test \
		    bob@example.test <"$MSG" >"$1"
	}
	run --separate-stderr retry "$T/out1.eml"
	expect_status 0
	[ "$(ls "$STORE/spool/sms" | wc -l)" -eq 1 ]
	text=$(job_field text)
	pw=${text##*: }
	# the retry: the same password opens its PDF, no second job
	run --separate-stderr retry "$T/out2.eml"
	expect_status 0
	[ "$(ls "$STORE/spool/sms" | wc -l)" -eq 1 ]
	[ "$(job_field text)" = "$text" ]
	pdf_of "$T/out2.eml" "$T/m2.pdf"
	pdftotext -upw "$pw" "$T/m2.pdf" - | grep -q "$MARK"
	# sent, then a late retry: still no second SMS
	gateway 200
	run --separate-stderr sms-send --store "$STORE"
	expect_status 0
	[ "$(wc -l <"$T/requests")" -eq 1 ]
	[ -z "$(ls "$STORE/spool/sms")" ]
	[ "$(stat -c %a "$STORE"/spool/sms-done/*)" = 600 ]
	[ ! -s "$(ls "$STORE"/spool/sms-done/*)" ]
	run --separate-stderr retry "$T/out3.eml"
	expect_status 0
	[ -z "$(ls "$STORE/spool/sms")" ] || fail_with "a second SMS job"
	pdf_of "$T/out3.eml" "$T/m3.pdf"
	pdftotext -upw "$pw" "$T/m3.pdf" - | grep -q "$MARK"
	# another queue file, or another recipient, gets its own password
	pdfwrap --store "$STORE" -q 4XyZ2 -f alice@example.test \
	    bob@example.test <"$MSG" >"$T/out4.eml"
	[ "$(ls "$STORE/spool/sms" | wc -l)" -eq 1 ]
	[ "$(job_field text)" != "$text" ]
	# marks of done jobs are forgotten after 14 days
	old=$(ls "$STORE/spool/sms-done")
	touch -d '15 days ago' "$STORE/spool/sms-done/$old"
	run --separate-stderr sms-send --store "$STORE"
	expect_status 0
	[ ! -e "$STORE/spool/sms-done/$old" ] || fail_with "an old mark kept"
	[ "$(ls "$STORE/spool/sms-done" | wc -l)" -eq 1 ]
}

@test "sms-send refuses a loopback gateway unless allowed, and a readable credentials file" {
	spool_job
	gateway 200
	sed -i '/sms-allow-private-addresses/d' "$STORE/settings/global.conf"
	run --separate-stderr sms-send --store "$STORE"
	[ ! -s "$T/requests" ] || fail_with "posted to loopback"
	[ "$(job_field attempts)" = 1 ] || fail_with "$stderr"
	sleep 1.2
	run --separate-stderr sms-send --store "$STORE" --allow-private-addresses
	expect_status 0
	[ -z "$(ls "$STORE/spool/sms")" ]
	spool_job
	chmod 644 "$T/gateway.conf"
	run --separate-stderr sms-send --store "$STORE"
	expect_status 75
	[ -n "$(ls "$STORE/spool/sms")" ]
}

@test "sms-send: while another run is at work, a second one leaves the jobs alone" {
	spool_job
	gateway 200
	# another run holds the run lock
	flock "$STORE/spool/sms.lock" sleep 3 &
	local holder=$!
	sleep 0.3
	run sms-send --store "$STORE"
	expect_status 0
	[ ! -s "$T/requests" ] || fail_with "the job was posted during another run"
	[ -n "$(ls "$STORE/spool/sms")" ] || fail_with "the job is gone"
	wait "$holder"
	run sms-send --store "$STORE"
	expect_status 0
	[ "$(wc -l <"$T/requests")" -eq 1 ] || fail_with "the job was not posted after the other run"
}
