#!/usr/bin/env bats
# pdfwrap: the message becomes an AES-256 PDF.  Every PDF is checked with
# independent tools (qpdf, poppler's pdfinfo, pdftotext, pdfdetach,
# pdftoppm): it needs the password, opens with the right one and not with
# a wrong one, shows the body text in Latin, CJK and Arabic script, and
# carries every attachment byte for byte.  Refusals write nothing.

load helpers

PW='correct horse battery'

setup() {
	ms_setup
	mkdir -m 700 -p "$STORE/pdf"
	ms_sharedir
	printf '%s\n' "$PW" >"$T/pw"
	chmod 600 "$T/pw"
	MARK="canary$RANDOM$RANDOM"
	printf 'binary \000\001\002\377 data' >"$T/att1.bin"
	head -c 3000 /dev/urandom >"$T/att2.bin"
	MSG=$T/in.eml
	cat >"$MSG" <<EOF
From: Alice <alice@example.test>
To: Bob <bob@example.test>
Cc: carol@example.test
Subject: =?UTF-8?B?w4RwZmVs?= figures
Date: Sat, 28 Nov 2026 10:00:00 +0000
Message-ID: <m1@example.test>
MIME-Version: 1.0
Content-Type: multipart/mixed; boundary=b1

--b1
Content-Type: text/plain; charset=utf-8

Hello Bob, the marker $MARK is here.
中文测试文本
مرحبا بالعالم
--b1
Content-Type: application/octet-stream; name="data.bin"
Content-Disposition: attachment; filename="data.bin"
Content-Transfer-Encoding: base64

$(base64 "$T/att1.bin")
--b1
Content-Type: application/x-random
Content-Disposition: attachment; filename*=UTF-8''Bericht-%C3%A4.dat
Content-Transfer-Encoding: base64

$(base64 "$T/att2.bin")
--b1--
EOF
}

# pdf_of MAIL OUT - the application/pdf part of MAIL, decoded
pdf_of() {
	python3 - "$1" "$2" <<'EOF'
import email, sys
m = email.message_from_binary_file(open(sys.argv[1], "rb"))
parts = [p for p in m.walk() if p.get_content_type() == "application/pdf"]
if len(parts) != 1:
    sys.exit("expected one application/pdf part, found %d" % len(parts))
open(sys.argv[2], "wb").write(parts[0].get_payload(decode=True))
EOF
}

# text_of MAIL - the decoded text/plain parts of MAIL
text_of() {
	python3 - "$1" <<'EOF'
import email, sys
m = email.message_from_binary_file(open(sys.argv[1], "rb"))
for p in m.walk():
    if p.get_content_type() == "text/plain":
        sys.stdout.write(p.get_payload(decode=True).decode("utf-8"))
EOF
}

# notice_password NOTICE - the password line of a sender notice
notice_password() {
	text_of "$1" | sed -n 's/^    \([2-9A-Z]\{16\}\)$/\1/p'
}

# wrap ARGS... - run pdfwrap on $MSG, output in $T/out.eml
wrap() {
	run --separate-stderr pdfwrap_to "$T/out.eml" --store "$STORE" "$@"
}

# pdfwrap_to OUT ARGS... - pdfwrap on $MSG, stdout to OUT
pdfwrap_to() {
	local out=$1
	shift
	pdfwrap "$@" <"$MSG" >"$out"
}

# check_pdf PDF PASSWORD - a clean, encrypted R6 PDF that needs PASSWORD
check_pdf() {
	run qpdf --requires-password "$1"
	[ "$status" -eq 0 ] || fail_with "qpdf says no password is needed"
	run qpdf --check --password="$2" "$1"
	[ "$status" -eq 0 ] || fail_with "qpdf --check failed"
	[[ $output == *"R = 6"* ]] || fail_with "not R6"
	[[ $output == *"No syntax or stream encoding errors"* ]] ||
	    fail_with "qpdf --check reports errors"
	run pdfinfo -upw "$2" "$1"
	[[ $output == *"algorithm:AES-256"* ]] || fail_with "not AES-256"
}

@test "static password file: an R6 PDF that needs the password" {
	store_snapshot "$STORE" >"$T/before"
	mkdir "$T/tmp"
	TMPDIR=$T/tmp wrap -f alice@example.test --password-file "$T/pw" \
	    bob@example.test
	expect_status 0
	[ -z "$stderr" ] || fail_with "unexpected stderr"
	# nothing written to the store or a temporary directory
	store_snapshot "$STORE" | cmp -s - "$T/before"
	[ -z "$(ls -A "$T/tmp")" ]
	pdf_of "$T/out.eml" "$T/m.pdf"
	check_pdf "$T/m.pdf" "$PW"
	# the routing headers stay, the body is not there in clear
	grep -q '^Message-ID: <m1@example.test>$' "$T/out.eml"
	grep -q '^To: Bob <bob@example.test>$' "$T/out.eml"
	! grep -aq "$MARK" "$T/out.eml" || false
	! grep -aq "$MARK" "$T/m.pdf" || false
	text_of "$T/out.eml" | grep -q 'never sent in this message'
	! grep -aqF "$PW" "$T/out.eml" || false
}

@test "the body text in Latin, CJK and Arabic script, the cover block" {
	wrap -f alice@example.test --password-file "$T/pw" bob@example.test
	expect_status 0
	pdf_of "$T/out.eml" "$T/m.pdf"
	pdftotext -upw "$PW" "$T/m.pdf" "$T/m.txt"
	grep -q "marker $MARK is here" "$T/m.txt"
	grep -q '中文测试文本' "$T/m.txt"
	grep -q 'مرحبا' "$T/m.txt"
	grep -q '^Subject: Äpfel figures$' "$T/m.txt"
	grep -q '^Cc: carol@example.test$' "$T/m.txt"
	grep -q 'Page 1 of 1' "$T/m.txt"
	# the CJK and Arabic glyphs come from embedded fonts
	pdffonts -upw "$PW" "$T/m.pdf" | grep -q 'CJK'
}

@test "a wrong or empty password does not open the PDF" {
	wrap -f alice@example.test --password-file "$T/pw" bob@example.test
	expect_status 0
	pdf_of "$T/out.eml" "$T/m.pdf"
	run qpdf --check --password='correct horse batterz' "$T/m.pdf"
	[ "$status" -ne 0 ] || fail_with "opened with a wrong password"
	run pdftotext -upw 'wrong' "$T/m.pdf" -
	[ "$status" -ne 0 ] || fail_with "pdftotext opened it"
	[[ $output != *"$MARK"* ]]
	run pdftotext "$T/m.pdf" -
	[ "$status" -ne 0 ] || fail_with "opened without a password"
}

@test "every attachment is embedded, byte for byte, with its name" {
	wrap -f alice@example.test --password-file "$T/pw" bob@example.test
	expect_status 0
	pdf_of "$T/out.eml" "$T/m.pdf"
	run pdfdetach -upw "$PW" -list "$T/m.pdf"
	[ "${lines[0]}" = "2 embedded files" ] || fail_with "count"
	[ "${lines[1]}" = "1: data.bin" ] || fail_with "name 1"
	[ "${lines[2]}" = "2: Bericht-ä.dat" ] || fail_with "name 2"
	mkdir "$T/out"
	pdfdetach -upw "$PW" -saveall -o "$T/out" "$T/m.pdf"
	cmp "$T/out/data.bin" "$T/att1.bin"
	cmp "$T/out/Bericht-ä.dat" "$T/att2.bin"
	# the cover block lists them with size and hash prefix
	pdftotext -upw "$PW" "$T/m.pdf" - | tr '\n' ' ' >"$T/m.txt"
	sum=$(sha256sum "$T/att2.bin" | cut -c1-16)
	grep -q "3000 bytes, SHA-256 $sum" "$T/m.txt"
}

@test "the original message as message.eml: byte for byte, by option or setting" {
	wrap -f alice@example.test --password-file "$T/pw" --attach-original \
	    bob@example.test
	expect_status 0
	pdf_of "$T/out.eml" "$T/m.pdf"
	check_pdf "$T/m.pdf" "$PW"
	run pdfdetach -upw "$PW" -list "$T/m.pdf"
	[ "${lines[0]}" = "3 embedded files" ] || fail_with "count"
	[ "${lines[3]}" = "3: message.eml" ] || fail_with "name"
	mkdir "$T/out"
	pdfdetach -upw "$PW" -saveall -o "$T/out" "$T/m.pdf"
	cmp "$T/out/message.eml" "$MSG" || fail_with "not the original"
	# the setting does the same; without either there is none
	mkdir -p -m 700 "$STORE/settings/user"
	echo 'pdf-attach-original = yes' \
	    >"$STORE/settings/user/bob@example.test.conf"
	wrap -f alice@example.test --password-file "$T/pw" bob@example.test
	pdf_of "$T/out.eml" "$T/s.pdf"
	pdfdetach -upw "$PW" -list "$T/s.pdf" | grep -q '^3: message.eml$'
	wrap -f alice@example.test --password-file "$T/pw" carol@example.test
	pdf_of "$T/out.eml" "$T/c.pdf"
	! pdfdetach -upw "$PW" -list "$T/c.pdf" | grep -q 'message.eml' ||
	    false
}

@test "page 1 renders with ink on it" {
	wrap -f alice@example.test --password-file "$T/pw" bob@example.test
	expect_status 0
	pdf_of "$T/out.eml" "$T/m.pdf"
	pdftoppm -upw "$PW" -f 1 -l 1 -r 30 -gray "$T/m.pdf" "$T/page"
	python3 - "$T"/page*.pgm <<'EOF'
import sys
data = open(sys.argv[1], "rb").read()
# binary PGM: P5, width height, maxval, then the pixels
fields = data.split(maxsplit=4)
assert fields[0] == b"P5", fields[0]
width, height = int(fields[1]), int(fields[2])
pixels = fields[4]
# A4 at 30 dpi
assert (width, height) == (248, 351), (width, height)
dark = sum(1 for b in pixels if b < 128)
assert dark > 100, dark
EOF
}

@test "long text is wrapped and paged" {
	{
		printf 'From: alice@example.test\nTo: bob@example.test\n'
		printf 'Subject: long\nMessage-ID: <long@example.test>\n\n'
		for i in $(seq 1 400); do
			printf 'line %d of a long body with several words to fill it\n' "$i"
		done
		printf 'one very long line:'
		for i in $(seq 1 300); do printf ' word%d' "$i"; done
		printf ' ENDOFLONGLINE\n'
	} >"$MSG"
	wrap -f alice@example.test --password-file "$T/pw" bob@example.test
	expect_status 0
	pdf_of "$T/out.eml" "$T/m.pdf"
	pages=$(pdfinfo -upw "$PW" "$T/m.pdf" | sed -n 's/^Pages: *//p')
	[ "$pages" -gt 5 ] || fail_with "only $pages pages"
	pdftotext -upw "$PW" "$T/m.pdf" "$T/m.txt"
	grep -q "Page 2 of $pages" "$T/m.txt"
	grep -q 'line 400 of a long body' "$T/m.txt"
	grep -q 'ENDOFLONGLINE' "$T/m.txt"
	# the long line was wrapped: no text line is that long
	[ "$(awk '{ print length }' "$T/m.txt" | sort -n | tail -1)" -lt 200 ]
}

@test "Latin text laid out by words: every word of every line, in order" {
	# ligatures (fi, ffl), accented letters, indents, runs of spaces,
	# and paragraphs of other scripts or with a tab among them
	python3 - "$MSG" <<'EOF'
import random, sys
random.seed(7)
words = ("office affluent fluffy na\u00efve caf\u00e9 \u0152uvre \u0141\u00f3d\u017a "
         "Stra\u00dfe fa\u00e7ade don't 100% $5.00 (paren) a&b <tag>").split()
lines = []
for i in range(400):
    line = " ".join(random.choice(words) for _ in range(random.randint(0, 30)))
    if i % 17 == 0:
        line = "    " + line
    if i % 23 == 0:
        line = line.replace(" ", "   ")
    if i % 31 == 0:
        line = "\u4e2d\u6587 " + line
    if i % 37 == 0:
        line = "tab\t" + line
    lines.append(line)
with open(sys.argv[1], "w", encoding="utf-8") as f:
    f.write("From: alice@example.test\nTo: bob@example.test\n"
            "Subject: words\nMIME-Version: 1.0\n"
            "Content-Type: text/plain; charset=utf-8\n"
            "Content-Transfer-Encoding: 8bit\n\n")
    f.write("\n".join(lines) + "\n")
EOF
	wrap -f alice@example.test --password-file "$T/pw" bob@example.test
	expect_status 0
	pdf_of "$T/out.eml" "$T/m.pdf"
	check_pdf "$T/m.pdf" "$PW"
	pdftotext -upw "$PW" "$T/m.pdf" "$T/m.txt"
	python3 - "$MSG" "$T/m.txt" <<'EOF'
import re, sys
body = open(sys.argv[1], encoding="utf-8").read().split("\n\n", 1)[1]
text = open(sys.argv[2], encoding="utf-8").read()
text = re.sub(r"Page \d+ of \d+", "", text)
want = body.split()
have = text.split()
# the cover block (From, To, Subject) comes first
have = have[have.index("words") + 1:]
assert have == want, [(i, a, b) for i, (a, b) in
                      enumerate(zip(have, want)) if a != b][:5]
EOF
}

@test "an HTML body becomes readable text without tags or scripts" {
	cat >"$MSG" <<EOF
From: alice@example.test
To: bob@example.test
Subject: html
Message-ID: <html@example.test>
MIME-Version: 1.0
Content-Type: text/html; charset=iso-8859-1

<html><head><style>p { color: red }</style>
<script>var secret = "SCRIPTTEXT";</script></head>
<body><p>First &amp; <b>bold</b> paragraph $MARK</p><ul><li>item one</li>
<li>item two &#228;&#x20AC;</li></ul>Gr\xfc\xdfe</body></html>
EOF
	wrap -f alice@example.test --password-file "$T/pw" bob@example.test
	expect_status 0
	pdf_of "$T/out.eml" "$T/m.pdf"
	pdftotext -upw "$PW" "$T/m.pdf" "$T/m.txt"
	grep -q "First & bold paragraph $MARK" "$T/m.txt"
	grep -q -- '- item two ä€' "$T/m.txt"
	! grep -q 'SCRIPTTEXT' "$T/m.txt" || false
	! grep -q 'color' "$T/m.txt" || false
	! grep -q '<b>' "$T/m.txt" || false
	# the HTML itself travels as an embedded file
	pdfdetach -upw "$PW" -list "$T/m.pdf" | grep -q '1: message-1.html'
}

@test "a hostile attachment name is made safe" {
	cat >"$MSG" <<EOF
From: alice@example.test
To: bob@example.test
Subject: names
Message-ID: <names@example.test>
MIME-Version: 1.0
Content-Type: multipart/mixed; boundary=b1

--b1
Content-Type: text/plain

body
--b1
Content-Type: application/octet-stream
Content-Disposition: attachment; filename*=UTF-8''..%2F..%2F..%2Fevil%01%1Bname%E2%80%AEtxt.exe
Content-Transfer-Encoding: base64

$(base64 "$T/att1.bin")
--b1
Content-Type: application/octet-stream
Content-Disposition: attachment; filename=".."
Content-Transfer-Encoding: base64

$(base64 "$T/att1.bin")
--b1--
EOF
	wrap -f alice@example.test --password-file "$T/pw" bob@example.test
	expect_status 0
	pdf_of "$T/out.eml" "$T/m.pdf"
	check_pdf "$T/m.pdf" "$PW"
	run pdfdetach -upw "$PW" -list "$T/m.pdf"
	[ "${lines[1]}" = "1: evilnametxt.exe" ] || fail_with "name 1"
	[ "${lines[2]}" = "2: part-3.bin" ] || fail_with "name 2"
	mkdir "$T/out"
	pdfdetach -upw "$PW" -saveall -o "$T/out" "$T/m.pdf"
	[ "$(ls "$T/out" | wc -l)" -eq 2 ]
	cmp "$T/out/evilnametxt.exe" "$T/att1.bin"
	[ ! -e "$T/evilnametxt.exe" ]
}

@test "a body with invalid UTF-8 and control characters gives a valid PDF" {
	printf 'From: alice@example.test\nTo: bob@example.test\nSubject: bad\n\xff\xfe\nMessage-ID: <bad@example.test>\nContent-Type: text/plain; charset=utf-8\n\nbefore \xff\xfe\xc3 \x01\x1b[31m after %s\n' "$MARK" >"$MSG"
	wrap -f alice@example.test --password-file "$T/pw" bob@example.test
	expect_status 0
	pdf_of "$T/out.eml" "$T/m.pdf"
	check_pdf "$T/m.pdf" "$PW"
	pdftotext -upw "$PW" "$T/m.pdf" - | grep -q "after $MARK"
}

@test "a message with 500 parts: refused with 5.7.1, nothing written" {
	{
		printf 'From: alice@example.test\nTo: bob@example.test\n'
		printf 'Subject: many\nMessage-ID: <many@example.test>\n'
		printf 'MIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=b\n\n'
		for i in $(seq 1 500); do
			printf -- '--b\nContent-Type: application/octet-stream\n'
			printf 'Content-Disposition: attachment; filename=f%d.bin\n\npart %d\n' "$i" "$i"
		done
		printf -- '--b--\n'
	} >"$MSG"
	wrap -f alice@example.test --password-file "$T/pw" bob@example.test
	expect_status 69
	[[ ${stderr_lines[0]} == "5.7.1 "* ]] || fail_with "no 5.7.1 line"
	[ ! -s "$T/out.eml" ]
}

@test "static password from the store, with its validity interval" {
	mkdir -m 700 -p "$STORE/pdf/static"
	f=$STORE/pdf/static/$(printf %s bob@example.test | sha256sum | cut -d' ' -f1)
	printf 'password = stored password 1\nnot-after = %s\n' \
	    "$(date -u -d '+30 days' +%F)" >"$f"
	chmod 600 "$f"
	wrap -f alice@example.test --password-mode static bob@example.test
	expect_status 0
	pdf_of "$T/out.eml" "$T/m.pdf"
	check_pdf "$T/m.pdf" 'stored password 1'
	# a domain file serves every address of the domain
	d=$STORE/pdf/static/$(printf %s example.test | sha256sum | cut -d' ' -f1)
	printf 'password = domain password 2\nnot-before = 2020-01-01\nnot-after = %s\n' \
	    "$(date -u -d '+30 days' +%F)" >"$d"
	chmod 600 "$d"
	wrap -f alice@example.test --password-mode static carol@example.test
	expect_status 0
	pdf_of "$T/out.eml" "$T/m.pdf"
	check_pdf "$T/m.pdf" 'domain password 2'
	# expired: refused, nothing written
	printf 'password = stored password 1\nnot-after = 2020-01-01\n' >"$f"
	wrap -f alice@example.test --password-mode static bob@example.test
	expect_status 69
	[[ ${stderr_lines[0]} == "5.7.1 "*"expired"* ]] || fail_with "reason"
	[ ! -s "$T/out.eml" ]
	# readable by others: a configuration error, the mail defers
	printf 'password = stored password 1\nnot-after = 2099-01-01\n' >"$f"
	chmod 644 "$f"
	wrap -f alice@example.test --password-mode static bob@example.test
	expect_status 75
	[ ! -s "$T/out.eml" ]
	# too short
	chmod 600 "$f"
	printf 'password = short\nnot-after = 2099-01-01\n' >"$f"
	wrap -f alice@example.test --password-mode static bob@example.test
	expect_status 75
	# no password for the address or its domain
	wrap -f alice@example.test --password-mode static dave@other.test
	expect_status 69
	[[ ${stderr_lines[0]} == "5.7.1 "* ]] || fail_with "no 5.7.1 line"
}

@test "random mode: retry-stable per queue id, differs per recipient" {
	head -c 32 /dev/urandom >"$STORE/pdf/random.key"
	chmod 600 "$STORE/pdf/random.key"
	wrap -f alice@example.test -q 4XyZ1 --password-mode random \
	    --sender-notice "$T/n1" bob@example.test
	expect_status 0
	cp "$T/out.eml" "$T/out1.eml"
	p1=$(notice_password "$T/n1")
	[ ${#p1} -eq 16 ] || fail_with "no password in the notice"
	pdf_of "$T/out1.eml" "$T/m1.pdf"
	check_pdf "$T/m1.pdf" "$p1"
	pdftotext -upw "$p1" "$T/m1.pdf" - | grep -q "$MARK"
	# the notice names recipient and subject, never the body or the PDF
	grep -q '^To: alice@example.test$' "$T/n1"
	text_of "$T/n1" | grep -q 'Subject: Äpfel figures'
	! text_of "$T/n1" | grep -q "$MARK" || false
	! grep -q 'application/pdf' "$T/n1" || false
	[ "$(stat -c %a "$T/n1")" = 600 ]
	# the recipient's mail never carries the password
	! text_of "$T/out1.eml" | grep -q "$p1" || false
	# a retry of the same queue file: the same password
	wrap -f alice@example.test -q 4XyZ1 --password-mode random \
	    --sender-notice "$T/n2" bob@example.test
	expect_status 0
	[ "$(notice_password "$T/n2")" = "$p1" ]
	# another recipient, another queue id: other passwords
	wrap -f alice@example.test -q 4XyZ1 --password-mode random \
	    --sender-notice "$T/n3" carol@example.test
	expect_status 0
	p3=$(notice_password "$T/n3")
	[ ${#p3} -eq 16 ]
	[ "$p3" != "$p1" ]
	wrap -f alice@example.test -q 4XyZ2 --password-mode random \
	    --sender-notice "$T/n4" bob@example.test
	expect_status 0
	p4=$(notice_password "$T/n4")
	[ ${#p4} -eq 16 ]
	[ "$p4" != "$p1" ]
	# without a queue id the Message-ID is used, just as stable
	wrap -f alice@example.test --password-mode random \
	    --sender-notice "$T/n5" bob@example.test
	wrap -f alice@example.test --password-mode random \
	    --sender-notice "$T/n6" bob@example.test
	p5=$(notice_password "$T/n5")
	[ ${#p5} -eq 16 ]
	[ "$p5" = "$(notice_password "$T/n6")" ]
	# another sender who reuses the Message-ID is told another password
	wrap -f mallory@example.test --password-mode random \
	    --sender-notice "$T/n7" bob@example.test
	expect_status 0
	p7=$(notice_password "$T/n7")
	[ ${#p7} -eq 16 ] || fail_with "no password for mallory"
	[ "$p7" != "$p5" ] || fail_with "the same password for another sender"
	wrap -f mallory@example.test -q 4XyZ1 --password-mode random \
	    --sender-notice "$T/n8" bob@example.test
	[ "$(notice_password "$T/n8")" != "$p1" ] ||
	    fail_with "the same password for another sender and queue id"
}

@test "random mode: no secret or no notice file defers, writes nothing" {
	wrap -f alice@example.test -q Q1 --password-mode random \
	    --sender-notice "$T/n1" bob@example.test
	expect_status 75
	[ ! -s "$T/out.eml" ]
	[ ! -e "$T/n1" ]
	head -c 32 /dev/urandom >"$STORE/pdf/random.key"
	chmod 600 "$STORE/pdf/random.key"
	wrap -f alice@example.test -q Q1 --password-mode random bob@example.test
	expect_status 75
	[ ! -s "$T/out.eml" ]
}

@test "the password mode comes from the recipient's settings" {
	wrap -f alice@example.test bob@example.test
	expect_status 69
	[[ ${stderr_lines[0]} == "5.7.1 "* ]] || fail_with "no 5.7.1 line"
	mkdir -m 700 -p "$STORE/settings/user"
	echo 'pdf-password-mode = sms' >"$STORE/settings/user/bob@example.test.conf"
	wrap -f alice@example.test bob@example.test
	expect_status 69
	[[ ${stderr_lines[0]} == "5.7.1 no mobile number"* ]]
	echo 'pdf-password-mode = random-to-sender' \
	    >"$STORE/settings/user/bob@example.test.conf"
	head -c 32 /dev/urandom >"$STORE/pdf/random.key"
	chmod 600 "$STORE/pdf/random.key"
	wrap -f alice@example.test --sender-notice "$T/n" bob@example.test
	expect_status 0
	pdf_of "$T/out.eml" "$T/m.pdf"
	check_pdf "$T/m.pdf" "$(notice_password "$T/n")"
}

# notice_id MAIL - the OTP password ID in the recipient's notice
notice_id() {
	text_of "$1" | sed -n 's/^    \([2-9A-Z]\{4\}\(-[2-9A-Z]\{4\}\)\{7\}\)$/\1/p'
}

@test "otp mode: the help desk derives the password from the notice's ID" {
	mkdir -m 700 -p "$STORE/settings/user"
	echo 'pdf-password-mode = otp' >"$STORE/settings/user/bob@example.test.conf"
	wrap -f alice@example.test bob@example.test
	expect_status 0
	id1=$(notice_id "$T/out.eml")
	[ ${#id1} -eq 39 ] || fail_with "no password ID in the notice"
	# the ID is in the file name too
	grep -q "filename=\"message-$id1.pdf\"" "$T/out.eml"
	pdf_of "$T/out.eml" "$T/m1.pdf"
	# the client secret: made on first use, 0600, generation 1
	h=$(printf '%s' bob@example.test | sha256sum | cut -c1-64)
	[ "$(stat -c %a "$STORE/pdf/otp/$h")" = 600 ]
	grep -q '^1 [0-9a-f]\{64\}$' "$STORE/pdf/otp/$h"
	run --separate-stderr pdfwrap-otp --store "$STORE" -r bob@example.test \
	    -i "$id1"
	expect_status 0
	p1=$output
	[ ${#p1} -eq 16 ] || fail_with "no password from pdfwrap-otp"
	check_pdf "$T/m1.pdf" "$p1"
	pdftotext -upw "$p1" "$T/m1.pdf" - | grep -q "$MARK"
	# the access is logged, the password is not
	[[ $stderr == *"$id1"* ]] || fail_with "access not logged"
	[[ $stderr != *"$p1"* ]] || fail_with "password logged"
	! text_of "$T/out.eml" | grep -q "$p1" || false
	# the ID in lower case and without dashes: the same password
	run --separate-stderr pdfwrap-otp --store "$STORE" -r Bob@Example.test \
	    -i "$(printf '%s' "$id1" | tr -d - | tr A-Z a-z)"
	expect_status 0
	[ "$output" = "$p1" ]
	# a second message: another ID, another password, the same secret
	wrap -f alice@example.test bob@example.test
	expect_status 0
	id2=$(notice_id "$T/out.eml")
	[ "$id2" != "$id1" ]
	[ "$(wc -l <"$STORE/pdf/otp/$h")" -eq 1 ]
	run --separate-stderr pdfwrap-otp --store "$STORE" -r bob@example.test \
	    -i "$id2"
	expect_status 0
	p2=$output
	[ "$p2" != "$p1" ]
	run qpdf --check --password="$p2" "$T/m1.pdf"
	[ "$status" -ne 0 ] || fail_with "opened with another ID's password"
	# another recipient's secret does not exist: an error, nothing made
	run --separate-stderr pdfwrap-otp --store "$STORE" \
	    -r carol@example.test -i "$id1"
	expect_status 1
	[ -z "$output" ]
	[ "$(ls "$STORE/pdf/otp" | wc -l)" -eq 1 ]
	# not an ID: usage error
	run pdfwrap-otp --store "$STORE" -r bob@example.test -i 1234
	expect_status 64
}

@test "notice templates: German, and overridden in the store" {
	wrap -f alice@example.test --password-file "$T/pw" --language de \
	    bob@example.test
	expect_status 0
	text_of "$T/out.eml" | grep -q 'wurde Ihnen verschlüsselt gesendet'
	mkdir -m 700 -p "$STORE/pdf/templates"
	printf 'Our own notice for mail from %%SENDER%%.\n' \
	    >"$STORE/pdf/templates/notice.en.txt"
	wrap -f alice@example.test --password-file "$T/pw" bob@example.test
	expect_status 0
	[ "$(text_of "$T/out.eml")" = "Our own notice for mail from alice@example.test." ]
	# a language without a template is a configuration error
	wrap -f alice@example.test --password-file "$T/pw" --language fr \
	    bob@example.test
	expect_status 75
	[ ! -s "$T/out.eml" ]
}

@test "usage errors exit 64, -h prints the usage" {
	run pdfwrap -h
	expect_status 0
	[[ ${lines[0]} == "usage: pdfwrap "* ]]
	wrap --password-file "$T/pw"
	expect_status 64
	wrap --password-mode bogus bob@example.test
	expect_status 64
	wrap --password-mode random bob@example.test carol@example.test
	expect_status 64
	wrap --password-file "$T/pw" 'not an address'
	expect_status 64
	wrap --bogus bob@example.test
	expect_status 64
}

@test "a body over 500 pages: 500 pages, the full text attached" {
	{
		printf 'From: alice@example.test\nTo: bob@example.test\n'
		printf 'Subject: huge\nMessage-ID: <huge@example.test>\n\n'
		seq -f 'numbered line %g of a body that does not fit' 1 40000
	} >"$MSG"
	wrap -f alice@example.test --password-file "$T/pw" bob@example.test
	expect_status 0
	pdf_of "$T/out.eml" "$T/m.pdf"
	check_pdf "$T/m.pdf" "$PW"
	pages=$(pdfinfo -upw "$PW" "$T/m.pdf" | sed -n 's/^Pages: *//p')
	[ "$pages" -eq 500 ] || fail_with "$pages pages"
	pdftotext -upw "$PW" -f 500 -l 500 "$T/m.pdf" - |
	    tr '\n' ' ' | grep -q 'attached file message-body.txt'
	mkdir "$T/out"
	pdfdetach -upw "$PW" -saveall -o "$T/out" "$T/m.pdf"
	sed '1,/^$/d' "$MSG" | cmp - "$T/out/message-body.txt"
}

@test "no body and no From: a PDF of the header, the notice without sender" {
	printf 'To: bob@example.test\nSubject: only a header\n' >"$MSG"
	wrap --password-file "$T/pw" bob@example.test
	expect_status 0
	pdf_of "$T/out.eml" "$T/m.pdf"
	check_pdf "$T/m.pdf" "$PW"
	pdftotext -upw "$PW" "$T/m.pdf" - | grep -q '^Subject: only a header$'
	text_of "$T/out.eml" | grep -q '^This message from the sender was sent'
	# random mode needs a sender to tell the password to
	head -c 32 /dev/urandom >"$STORE/pdf/random.key"
	chmod 600 "$STORE/pdf/random.key"
	wrap -q Q1 --password-mode random --sender-notice "$T/n" \
	    bob@example.test
	expect_status 69
	[[ ${stderr_lines[0]} == "5.7.1 "* ]] || fail_with "no 5.7.1 line"
	[ ! -s "$T/out.eml" ]
	[ ! -e "$T/n" ]
}

@test "an empty message is a data error, nothing written" {
	: >"$MSG"
	wrap --password-file "$T/pw" bob@example.test
	expect_status 65
	[[ ${stderr_lines[0]} == "5.6.0 "* ]] || fail_with "no 5.6.0 line"
	[ ! -s "$T/out.eml" ]
}

@test "a character no font has: a warning, still a PDF" {
	printf 'From: alice@example.test\nTo: bob@example.test\nSubject: pua\nContent-Type: text/plain; charset=utf-8\n\nprivate \356\200\200 use %s\n' "$MARK" >"$MSG"
	wrap --password-file "$T/pw" bob@example.test
	expect_status 0
	[[ $stderr == *"warning: some characters have no font"* ]] ||
	    fail_with "no warning"
	pdf_of "$T/out.eml" "$T/m.pdf"
	check_pdf "$T/m.pdf" "$PW"
	pdftotext -upw "$PW" "$T/m.pdf" - | grep -q "use $MARK"
}

@test "a 20 MiB attachment: a valid PDF that carries it byte for byte" {
	head -c $((20 * 1024 * 1024)) /dev/urandom >"$T/big.bin"
	{
		printf 'From: alice@example.test\nTo: bob@example.test\n'
		printf 'Subject: big\nMIME-Version: 1.0\n'
		printf 'Content-Type: multipart/mixed; boundary=bb\n\n--bb\n'
		printf 'Content-Type: text/plain\n\nThe marker %s.\n--bb\n' "$MARK"
		printf 'Content-Type: application/octet-stream\n'
		printf 'Content-Disposition: attachment; filename=big.bin\n'
		printf 'Content-Transfer-Encoding: base64\n\n'
		base64 -w 76 "$T/big.bin"
		printf -- '--bb--\n'
	} >"$T/big.eml"
	MSG=$T/big.eml
	# the original would not fit next to the attachment: left out
	run --separate-stderr pdfwrap_to "$T/out.eml" --store "$STORE" \
	    -f alice@example.test --password-file "$T/pw" --attach-original \
	    bob@example.test
	expect_status 0
	[[ $stderr == *"original message does not fit"* ]]
	pdf_of "$T/out.eml" "$T/m.pdf"
	run qpdf --check --password="$PW" "$T/m.pdf"
	expect_status 0
	mkdir "$T/big"
	pdfdetach -upw "$PW" -saveall -o "$T/big" "$T/m.pdf"
	cmp "$T/big/big.bin" "$T/big.bin" || fail_with "the attachment changed"
	pdftotext -upw "$PW" "$T/m.pdf" - | grep -q "$MARK" || fail_with "no body"
}

# reply_uris PDF - the link URIs of PDF (opened with $PW), one per line
reply_uris() {
	qpdf --decrypt --password="$PW" --qdf --object-streams=disable "$1" \
	    "$1.plain"
	grep -a '^ */URI (' "$1.plain" | sed 's/^ *\/URI (\(.*\))$/\1/'
}

# open_token KEYFILE URL [AD] - the token's claims, opened by an independent
# implementation: HChaCha20 written here, ChaCha20-Poly1305 from Python's
# cryptography package; sorted JSON on stdout
open_token() {
	python3 - "$1" "$2" "${3:-mailseal-reply-v1}" <<'EOF'
import base64, json, struct, sys
from cryptography.hazmat.primitives.ciphers.aead import ChaCha20Poly1305

def rotl(v, c):
    return ((v << c) & 0xffffffff) | (v >> (32 - c))

def qr(x, a, b, c, d):
    x[a] = (x[a] + x[b]) & 0xffffffff; x[d] = rotl(x[d] ^ x[a], 16)
    x[c] = (x[c] + x[d]) & 0xffffffff; x[b] = rotl(x[b] ^ x[c], 12)
    x[a] = (x[a] + x[b]) & 0xffffffff; x[d] = rotl(x[d] ^ x[a], 8)
    x[c] = (x[c] + x[d]) & 0xffffffff; x[b] = rotl(x[b] ^ x[c], 7)

def hchacha20(key, n16):
    x = (list(struct.unpack("<4I", b"expand 32-byte k")) +
         list(struct.unpack("<8I", key)) + list(struct.unpack("<4I", n16)))
    for _ in range(10):
        qr(x, 0, 4, 8, 12); qr(x, 1, 5, 9, 13)
        qr(x, 2, 6, 10, 14); qr(x, 3, 7, 11, 15)
        qr(x, 0, 5, 10, 15); qr(x, 1, 6, 11, 12)
        qr(x, 2, 7, 8, 13); qr(x, 3, 4, 9, 14)
    return struct.pack("<8I", *(x[0:4] + x[12:16]))

key = open(sys.argv[1], "rb").read()
token = sys.argv[2].split("t=", 1)[1]
raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
nonce, sealed = raw[:24], raw[24:]
plain = ChaCha20Poly1305(hchacha20(key, nonce[:16])).decrypt(
    b"\0" * 4 + nonce[16:], sealed, sys.argv[3].encode())
print(json.dumps(json.loads(plain), sort_keys=True))
EOF
}

# reply_setup - a reply key and a portal URL for every recipient
reply_setup() {
	mkdir -p -m 700 "$STORE/settings"
	head -c 32 /dev/urandom >"$STORE/pdf/reply.key"
	chmod 600 "$STORE/pdf/reply.key"
	printf 'pdf-reply-url = https://reply.example.test/portal/\n' \
	    >>"$STORE/settings/global.conf"
}

@test "reply link: an encrypted token that pdfwrap-reply and an independent implementation open" {
	# without a portal URL there is no link
	wrap -f alice@example.test --password-file "$T/pw" bob@example.test
	expect_status 0
	pdf_of "$T/out.eml" "$T/plain.pdf"
	[ -z "$(reply_uris "$T/plain.pdf")" ] || fail_with "a link without a portal"
	reply_setup
	wrap -f alice@example.test --password-file "$T/pw" bob@example.test
	expect_status 0
	pdf_of "$T/out.eml" "$T/m.pdf"
	# cairo's link quirk (pdf.md 3.2): the file is still clean
	check_pdf "$T/m.pdf" "$PW"
	pdftotext -upw "$PW" "$T/m.pdf" - | grep -q '^Reply: reply securely'
	reply_uris "$T/m.pdf" | sort -u >"$T/uris"
	[ "$(wc -l <"$T/uris")" -eq 1 ] || fail_with "not one link"
	url=$(cat "$T/uris")
	[[ $url == https://reply.example.test/portal/reply\?t=* ]] ||
	    fail_with "link is $url"
	# the token is encrypted: no address, no subject, base64url only
	token=${url#*t=}
	[[ $token =~ ^[A-Za-z0-9_-]{100,}$ ]] || fail_with "token $token"
	! printf '%s' "$url" | grep -qiE 'alice|bob|example\.test/[^p]|figures' ||
	    fail_with "the URL shows claims"
	# our verifier, on the URL and on the bare token
	run --separate-stderr pdfwrap-reply --store "$STORE" <<<"$url"
	expect_status 0
	[[ $output == *"msgid: m1@example.test"* ]]
	[[ $output == *"internal-sender: alice@example.test"* ]]
	[[ $output == *"external-recipient: bob@example.test"* ]]
	subject_hash=$(printf '\xc3\x84pfel figures' | sha256sum | cut -c1-64)
	[[ $output == *"subject-hash: $subject_hash"* ]]
	run --separate-stderr pdfwrap-reply --store "$STORE" --json <<<"$token"
	expect_status 0
	ours=$(python3 -c 'import json,sys; print(json.dumps(json.load(sys.stdin), sort_keys=True))' <<<"$output")
	# the independent implementation reads the same claims, version 1,
	# expiring 30 days after issue
	theirs=$(open_token "$STORE/pdf/reply.key" "$url")
	[ "$theirs" = "$ours" ] || fail_with "claims differ: $theirs / $ours"
	python3 -c 'import json,sys; d=json.loads(sys.argv[1]); assert d["exp"] - d["iat"] == 30 * 86400, d' "$theirs"
	# the token is bound to its purpose: other associated data fails
	! open_token "$STORE/pdf/reply.key" "$url" other-purpose 2>/dev/null ||
	    false
}

@test "reply link: a changed, foreign or expired token is refused; the old key still opens" {
	reply_setup
	wrap -f alice@example.test --password-file "$T/pw" bob@example.test
	expect_status 0
	pdf_of "$T/out.eml" "$T/m.pdf"
	url=$(reply_uris "$T/m.pdf" | head -n 1)
	token=${url#*t=}
	# one character changed, inside the ciphertext
	[ "${token:60:1}" = A ] && other=B || other=A
	run --separate-stderr pdfwrap-reply --store "$STORE" \
	    <<<"${token:0:60}$other${token:61}"
	expect_status 1
	[ -z "$output" ]
	[[ $stderr == *"invalid reply token"* ]]
	run --separate-stderr pdfwrap-reply --store "$STORE" <<<"garbage!"
	expect_status 1
	# a key change: the previous key still opens the tokens it made
	mv "$STORE/pdf/reply.key" "$STORE/pdf/reply.key.old"
	head -c 32 /dev/urandom >"$STORE/pdf/reply.key"
	chmod 600 "$STORE/pdf/reply.key"
	run --separate-stderr pdfwrap-reply --store "$STORE" <<<"$url"
	expect_status 0
	[[ $output == *"internal-sender: alice@example.test"* ]]
	# a token of another gateway (a key we never had)
	rm "$STORE/pdf/reply.key.old"
	run --separate-stderr pdfwrap-reply --store "$STORE" <<<"$url"
	expect_status 1
	[[ $stderr == *"not made with this key"* ]]
	# expired: a link valid for one second
	printf 'pdf-reply-expiry = 1\n' >>"$STORE/settings/global.conf"
	wrap -f alice@example.test --password-file "$T/pw" bob@example.test
	expect_status 0
	pdf_of "$T/out.eml" "$T/e.pdf"
	url=$(reply_uris "$T/e.pdf" | head -n 1)
	sleep 2
	run --separate-stderr pdfwrap-reply --store "$STORE" <<<"$url"
	expect_status 1
	[[ $stderr == *"expired"* ]]
	# the token is read on stdin only
	run --separate-stderr pdfwrap-reply --store "$STORE" "$url"
	expect_status 64
	run pdfwrap-reply -h
	expect_status 0
	[[ $output == "usage: pdfwrap-reply [--store DIR] [--json] < TOKEN"* ]]
}

@test "reply link: a portal URL without a key, or a readable key, defers and writes nothing" {
	mkdir -p -m 700 "$STORE/settings"
	printf 'pdf-reply-url = https://reply.example.test\n' \
	    >>"$STORE/settings/global.conf"
	wrap -f alice@example.test --password-file "$T/pw" bob@example.test
	expect_status 75
	[ ! -s "$T/out.eml" ]
	[[ $stderr == *"pdf/reply.key"* ]]
	head -c 32 /dev/urandom >"$STORE/pdf/reply.key"
	chmod 644 "$STORE/pdf/reply.key"
	wrap -f alice@example.test --password-file "$T/pw" bob@example.test
	expect_status 75
	[ ! -s "$T/out.eml" ]
	head -c 31 /dev/urandom >"$STORE/pdf/reply.key"
	chmod 600 "$STORE/pdf/reply.key"
	wrap -f alice@example.test --password-file "$T/pw" bob@example.test
	expect_status 75
	[[ $stderr == *"exactly 32 octets"* ]]
}

# detach_all PDF DIR - every embedded file of PDF into DIR
detach_all() {
	mkdir -p "$2"
	pdfdetach -upw "$PW" -saveall -o "$2" "$1"
}

# wrap_pdf PDF - pdfwrap $MSG for bob with the password file: exit 0 and
# a clean encrypted PDF, saved as PDF
wrap_pdf() {
	wrap -f alice@example.test --password-file "$T/pw" bob@example.test
	expect_status 0
	pdf_of "$T/out.eml" "$1"
	check_pdf "$1" "$PW"
}

# attachment_named MAIL NAME OUT - the decoded part of MAIL called NAME,
# as Python's email package reads it
attachment_named() {
	python3 -c 'import email, sys
m = email.message_from_binary_file(open(sys.argv[1], "rb"))
data = [p.get_payload(decode=True) for p in m.walk()
        if p.get_filename() == sys.argv[2]]
open(sys.argv[3], "wb").write(data[0])' "$@"
}

@test "base64 without its final padding: the attachment keeps its last octets" {
	# a JPEG's end marker (ff d9) in the last group, 2 and 1 octets
	# left over after the whole groups of 3
	printf '\377\330\377\340 jfif body \377\331' >"$T/a.jpg"
	printf '\377\330\377\340 jfif bod \377\331' >"$T/b.jpg"
	base64 -w 0 "$T/a.jpg" | grep -q '[^=]=$'
	base64 -w 0 "$T/b.jpg" | grep -q '==$'
	cat >"$MSG" <<EOF
From: alice@example.test
To: bob@example.test
Subject: photos
MIME-Version: 1.0
Content-Type: multipart/mixed; boundary=b

--b
Content-Type: text/plain

two photos
--b
Content-Type: image/jpeg; name=a.jpg
Content-Transfer-Encoding: base64

$(base64 -w 0 "$T/a.jpg" | tr -d =)
--b
Content-Type: image/jpeg; name=b.jpg
Content-Transfer-Encoding: base64

$(base64 -w 0 "$T/b.jpg" | tr -d =)
--b--
EOF
	wrap_pdf "$T/m.pdf"
	detach_all "$T/m.pdf" "$T/out"
	cmp "$T/out/a.jpg" "$T/a.jpg"
	cmp "$T/out/b.jpg" "$T/b.jpg"
}

@test "a part of header fields and no body (RFC 2046): an empty attachment, no bounce" {
	cat >"$MSG" <<'EOF'
From: alice@example.test
To: bob@example.test
Subject: empty part
MIME-Version: 1.0
Content-Type: multipart/mixed; boundary=b

--b
Content-Type: text/plain

the text before
--b
Content-Type: application/octet-stream; name=empty.bin
Content-Disposition: attachment; filename=empty.bin
--b
Content-Type: text/plain

the text after
--b--
EOF
	wrap_pdf "$T/m.pdf"
	run pdfdetach -upw "$PW" -list "$T/m.pdf"
	[ "${lines[0]}" = "1 embedded files" ] || fail_with "count"
	[ "${lines[1]}" = "1: empty.bin" ] || fail_with "name"
	detach_all "$T/m.pdf" "$T/out"
	[ -f "$T/out/empty.bin" ] && [ ! -s "$T/out/empty.bin" ]
	pdftotext -upw "$PW" "$T/m.pdf" "$T/m.txt"
	grep -q 'the text before' "$T/m.txt"
	grep -q 'the text after' "$T/m.txt"
	tr '\n' ' ' <"$T/m.txt" | grep -q 'empty.bin (application/octet-stream, 0 bytes'
}

# smime_message KIND - $MSG with an S/MIME object made here by openssl:
# opaque (signed data, no name), named (signed data as report.p7m),
# detached (multipart/signed, the signature part without a name), certs
# (a certs-only bundle without a name); the DER in $T/object.der
smime_message() {
	pki_ca root
	pki_leaf root alice
	printf 'Content-Type: text/plain\n\nsigned text %s\n' "$MARK" \
	    >"$T/entity.txt"
	local head='From: alice@example.test
To: bob@example.test
Subject: signed
MIME-Version: 1.0'
	case $1 in
	opaque|named)
		openssl cms -sign -nodetach -binary -in "$T/entity.txt" \
		    -signer "$PKI/alice.pem" -inkey "$PKI/alice.key" \
		    -outform DER -out "$T/object.der"
		{
			printf '%s\n' "$head"
			if [ "$1" = named ]; then
				printf 'Content-Type: application/pkcs7-mime; smime-type=signed-data; name=report.p7m\n'
			else
				printf 'Content-Type: application/pkcs7-mime; smime-type=signed-data\n'
			fi
			printf 'Content-Transfer-Encoding: base64\n\n'
			base64 "$T/object.der"
		} >"$MSG"
		;;
	detached)
		openssl cms -sign -binary -in "$T/entity.txt" \
		    -signer "$PKI/alice.pem" -inkey "$PKI/alice.key" \
		    -outform DER -out "$T/object.der"
		{
			printf '%s\n' "$head"
			printf 'Content-Type: multipart/signed; protocol="application/pkcs7-signature"; micalg=sha-256; boundary=s\n\n'
			printf -- '--s\n'
			cat "$T/entity.txt"
			printf -- '--s\nContent-Type: application/pkcs7-signature\n'
			printf 'Content-Transfer-Encoding: base64\n\n'
			base64 "$T/object.der"
			printf -- '--s--\n'
		} >"$MSG"
		;;
	certs)
		openssl crl2pkcs7 -nocrl -certfile "$PKI/alice.pem" \
		    -outform DER -out "$T/object.der"
		{
			printf '%s\n' "$head"
			printf 'Content-Type: multipart/mixed; boundary=b\n\n'
			printf -- '--b\nContent-Type: text/plain\n\nmy certificate\n'
			printf -- '--b\nContent-Type: application/pkcs7-mime; smime-type=certs-only\n'
			printf 'Content-Transfer-Encoding: base64\n\n'
			base64 "$T/object.der"
			printf -- '--b--\n'
		} >"$MSG"
		;;
	esac
}

@test "S/MIME objects keep their names or get the usual ones, byte for byte" {
	for kind in opaque named detached certs; do
		smime_message "$kind"
		case $kind in
		opaque) name=smime.p7m type=application/pkcs7-mime ;;
		named) name=report.p7m type=application/pkcs7-mime ;;
		detached) name=smime.p7s type=application/pkcs7-signature ;;
		certs) name=certs.p7c type=application/pkcs7-mime ;;
		esac
		wrap_pdf "$T/$kind.pdf"
		run pdfdetach -upw "$PW" -list "$T/$kind.pdf"
		[ "${lines[0]}" = "1 embedded files" ] || fail_with "$kind count"
		[ "${lines[1]}" = "1: $name" ] || fail_with "$kind name"
		rm -rf "$T/out"
		detach_all "$T/$kind.pdf" "$T/out"
		cmp "$T/out/$name" "$T/object.der"
		pdftotext -upw "$PW" "$T/$kind.pdf" - | tr '\n' ' ' >"$T/m.txt"
		grep -q "$name ($type, " "$T/m.txt" || fail_with "$kind cover"
	done
}

@test "S/MIME signed text is shown: opaque signed data read without verifying, and said so" {
	for kind in opaque detached; do
		smime_message "$kind"
		wrap_pdf "$T/m.pdf"
		pdftotext -upw "$PW" "$T/m.pdf" "$T/m.txt"
		grep -q "signed text $MARK" "$T/m.txt" || fail_with "$kind text"
	done
	smime_message opaque
	wrap_pdf "$T/m.pdf"
	pdftotext -upw "$PW" "$T/m.pdf" "$T/m.txt"
	grep -q 'signed content (the signature is not verified)' "$T/m.txt"
}

@test "a part whose header runs into its body: every octet kept, as mail programs read it" {
	printf 'photo \377\330\377\331' >"$T/x.jpg"
	cat >"$MSG" <<EOF
From: alice@example.test
To: bob@example.test
Subject: no empty line
MIME-Version: 1.0
Content-Type: multipart/mixed; boundary=b

--b
Content-Type: text/plain

see the photo and the notes
--b
Content-Type: image/jpeg; name=x.jpg
Content-Transfer-Encoding: base64
$(base64 -w 0 "$T/x.jpg")
--b
Content-Type: text/plain; name=notes.txt
Content-Disposition: attachment; filename=notes.txt
first line of the notes
second line
--b--
EOF
	printf 'first line of the notes\nsecond line' >"$T/notes.txt"
	wrap_pdf "$T/m.pdf"
	detach_all "$T/m.pdf" "$T/out"
	cmp "$T/out/x.jpg" "$T/x.jpg"
	cmp "$T/out/notes.txt" "$T/notes.txt"
	# a real one (tests/corpus/realmail/ORIGINS.txt): a long base64
	# line right under the header; GMime alone loses the whole part
	cp "$BATS_TEST_DIRNAME/../corpus/realmail/0165-mimekit-issue1189.mbox-2.eml" "$MSG"
	wrap_pdf "$T/r.pdf"
	attachment_named "$MSG" Attachment.zip "$T/expected.zip"
	detach_all "$T/r.pdf" "$T/real"
	cmp "$T/real/Attachment.zip" "$T/expected.zip"
	pdftotext -upw "$PW" "$T/r.pdf" - | grep -q 'Body of message 2'
}
