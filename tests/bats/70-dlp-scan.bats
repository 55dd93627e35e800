#!/usr/bin/env bats
# dlp-scan: findings through every encoding the MIME view decodes
# (base64, quoted-printable with soft line breaks, HTML tags, attached
# messages, RFC 2047 headers, attachment names, DOCX runs, ZIP archives),
# each action on dlp-scan
# itself (warn, must-encrypt, quarantine with list, show, release and
# delete, block), audit mode, the unscannable outcomes (limits, deep
# nesting, formats not read), policy errors and the exit statuses; the
# shapes of real mail (empty parts, multiparts without parts, headers run
# into bodies, Cc lists, S/MIME signed data) and the HTML text DLP and
# the pdfwrap PDF share.

load helpers

# a Luhn-valid Visa number that is not a published test number
CARD=4556737586899855
CARD_GROUPED="4556 7375 8689 9855"
CARD_MASK=455673******9855

setup() {
	ms_setup_store settings policies
	ms_sharedir
}

# head_of FILE SUBJECT [FIELD...] - the top header of a test message
head_of() {
	local subject=$1 f
	shift
	printf 'From: Alice <alice@example.test>\n'
	printf 'To: bob@example.test\n'
	printf 'Subject: %s\n' "$subject"
	printf 'Message-ID: <dlp-1@example.test>\n'
	for f in "$@"; do
		printf '%s\n' "$f"
	done
	printf 'MIME-Version: 1.0\n'
}

# plain FILE BODY - a text/plain message
plain() {
	{
		head_of 'Order'
		printf 'Content-Type: text/plain; charset=utf-8\n\n'
		printf '%s\n' "$2"
	} >"$1"
}

# policy NAME TEXT - a store policy, made the global choice
policy() {
	printf '%s\n' "$2" >"$STORE/policies/$1.policy"
	printf 'dlp-policies = %s\n' "$1" >"$STORE/settings/global.conf"
}

# scan ARGS... - dlp-scan with $T/m.eml on stdin, stdout in $T/out
scan() {
	run --separate-stderr ms_io "$T/m.eml" "$T/r.out" dlp-scan "$@"
	output=$(cat "$T/r.out")
}

# verdict - the X-Mailseal-DLP value of $T/r.out
verdict() {
	sed -n 's/^X-Mailseal-DLP: //p' "$T/r.out"
}

# expect_card - -n found the card with its mask, in the part $1
expect_card() {
	run --separate-stderr dlp-scan -n -f alice@example.test \
	    bob@example.test <"$T/m.eml"
	expect_status 0
	[[ $output == *"detector=payment_card"* ]] ||
	    fail_with "card not found"
	[[ $output == *"sample=$CARD_MASK"* ]] || fail_with "no masked sample"
	[[ $output != *"$CARD"* ]] || fail_with "the value was printed"
	[[ $output == *"part=$1 "* ]] || fail_with "not in part $1"
	[[ $output == *"rules=payment-cards"$'\n'* ]] ||
	    fail_with "finding without its rule"
	[[ $output == *"verdict: must-encrypt; rules=payment-cards"* ]] ||
	    fail_with "verdict"
}

@test "a card in a plain body: must-encrypt, header added, body unchanged" {
	plain "$T/m.eml" "card $CARD_GROUPED exp 12/29"
	scan -f alice@example.test bob@example.test
	expect_status 0
	[ "$(verdict)" = "must-encrypt; rules=payment-cards" ] ||
	    fail_with "verdict $(verdict)"
	grep -q "^card $CARD_GROUPED exp 12/29\$" "$T/r.out" ||
	    fail_with "body changed"
	[ -z "$stderr" ] || fail_with "stderr not empty"
}

@test "correlation tags: the same value, the same tag under the store's key" {
	plain "$T/m.eml" "card $CARD_GROUPED"
	head -c 32 /dev/urandom >"$STORE/dlp-tag.key"
	run dlp-scan -n bob@example.test <"$T/m.eml"
	local one=${output#*tag=}
	one=${one%%$'\n'*}
	run dlp-scan -n bob@example.test <"$T/m.eml"
	[[ $output == *"tag=$one"* ]] || fail_with "tag changed"
	head -c 32 /dev/urandom >"$STORE/dlp-tag.key"
	run dlp-scan -n bob@example.test <"$T/m.eml"
	[[ $output != *"tag=$one"* ]] || fail_with "tag without the key"
	head -c 8 /dev/urandom >"$STORE/dlp-tag.key"
	run dlp-scan -n bob@example.test <"$T/m.eml"
	expect_status 75
}

@test "nothing found: pass, and an incoming X-Mailseal-DLP is removed" {
	{
		head_of 'Lunch' 'X-Mailseal-DLP: must-encrypt; rules=forged'
		printf 'Content-Type: text/plain\n\nsee you at noon\n'
	} >"$T/m.eml"
	scan -f alice@example.test bob@example.test
	expect_status 0
	[ "$(verdict)" = pass ] || fail_with "verdict $(verdict)"
	[ "$(grep -c '^X-Mailseal-DLP:' "$T/r.out")" = 1 ] ||
	    fail_with "forged field kept"
	grep -q '^see you at noon$' "$T/r.out" || fail_with "body lost"
}

@test "evasion: base64 transfer encoding" {
	local b64
	b64=$(printf 'card %s exp 12/29\n' "$CARD" | base64 -w 20)
	{
		head_of 'Order'
		printf 'Content-Type: text/plain; charset=utf-8\n'
		printf 'Content-Transfer-Encoding: base64\n\n%s\n' "$b64"
	} >"$T/m.eml"
	expect_card 1
}

@test "evasion: quoted-printable with soft line breaks inside the number" {
	{
		head_of 'Order'
		printf 'Content-Type: text/plain; charset=iso-8859-1\n'
		printf 'Content-Transfer-Encoding: quoted-printable\n\n'
		printf 'Carte bancaire =E9: 4556=\n7375=\n8689=\n9855\n'
	} >"$T/m.eml"
	expect_card 1
}

@test "evasion: HTML tags and character references between the digits" {
	{
		head_of 'Order'
		printf 'Content-Type: text/html; charset=utf-8\n\n'
		printf '<html><body><p>card <b>4556</b><span>7375</span>'
		printf '&#56;689<i>98</i>&#x35;5</p></body></html>\n'
	} >"$T/m.eml"
	expect_card 1
}

@test "evasion: inside an attached message/rfc822 in a multipart" {
	{
		head_of 'Fwd: order'
		printf 'Content-Type: multipart/mixed; boundary="outer"\n\n'
		printf -- '--outer\nContent-Type: text/plain\n\nsee below\n'
		printf -- '--outer\nContent-Type: message/rfc822\n\n'
		printf 'From: carol@example.test\nSubject: inner\n'
		printf 'MIME-Version: 1.0\n'
		printf 'Content-Type: multipart/alternative; boundary="in"\n\n'
		printf -- '--in\nContent-Type: text/plain\n'
		printf 'Content-Transfer-Encoding: base64\n\n'
		printf 'card %s\n' "$CARD_GROUPED" | base64
		printf -- '--in--\n'
		printf -- '--outer--\n'
	} >"$T/m.eml"
	expect_card 2.1
}

@test "evasion: RFC 2047 encoded Subject and an attachment name" {
	local word
	word=$(printf 'card %s' "$CARD" | base64 -w 0)
	{
		head_of "=?utf-8?B?$word?="
		printf 'Content-Type: text/plain\n\nsee subject\n'
	} >"$T/m.eml"
	expect_card header
	{
		head_of 'Files'
		printf 'Content-Type: multipart/mixed; boundary="b"\n\n'
		printf -- '--b\nContent-Type: text/plain\n\nattached\n'
		printf -- '--b\nContent-Type: image/png\n'
		printf 'Content-Disposition: attachment; '
		printf 'filename="card %s.png"\n' "$CARD"
		printf 'Content-Transfer-Encoding: base64\n\niVBORw0KGgo=\n'
		printf -- '--b--\n'
	} >"$T/m.eml"
	expect_card "2 name"
}

@test "a text attachment with a declared binary type is read as text" {
	{
		head_of 'Export'
		printf 'Content-Type: multipart/mixed; boundary="b"\n\n'
		printf -- '--b\nContent-Type: text/plain\n\nexport attached\n'
		printf -- '--b\nContent-Type: application/octet-stream\n'
		printf 'Content-Disposition: attachment; filename="x.dat"\n'
		printf 'Content-Transfer-Encoding: base64\n\n'
		printf 'name;card\nann;%s\n' "$CARD" | base64
		printf -- '--b--\n'
	} >"$T/m.eml"
	expect_card 2
}

@test "warn: a custom keyword rule tags the message" {
	policy local 'rule project-falcon
	when keyword "project falcon", falcon-2
	action warn'
	plain "$T/m.eml" "notes on Project Falcon for the board"
	scan -f alice@example.test bob@example.test
	expect_status 0
	[ "$(verdict)" = "warn; rules=project-falcon" ] ||
	    fail_with "verdict $(verdict)"
}

@test "the most severe action wins, every enforced rule is named" {
	policy local 'rule falcon
	when keyword falcon
	action warn
rule cards
	when payment_card
	action must-encrypt
rule big
	when size > 1M
	action block'
	plain "$T/m.eml" "falcon card $CARD_GROUPED"
	scan -f alice@example.test bob@example.test
	expect_status 0
	[ "$(verdict)" = "must-encrypt; rules=falcon,cards" ] ||
	    fail_with "verdict $(verdict)"
}

@test "audit mode logs only; except and skip keep a rule from firing" {
	policy local 'rule cards
	when payment_card
	action block
	mode audit
rule regex
	when regex "INV-[0-9]{6}" count >= 2
	except sender @partner.test
	action warn
rule skipped
	when keyword invoice
	skip carol@example.test
	action must-encrypt'
	plain "$T/m.eml" "invoice INV-123456 INV-654321 card $CARD_GROUPED"
	scan -f alice@example.test bob@example.test
	expect_status 0
	[ "$(verdict)" = "must-encrypt; rules=regex,skipped" ] ||
	    fail_with "verdict $(verdict)"
	scan -f dave@sub.partner.test bob@example.test
	[ "$(verdict)" = "must-encrypt; rules=skipped" ] ||
	    fail_with "except: $(verdict)"
	scan -f carol@example.test bob@example.test
	[ "$(verdict)" = "warn; rules=regex" ] || fail_with "skip: $(verdict)"
	run dlp-scan -n -f carol@example.test bob@example.test <"$T/m.eml"
	[[ $output == *"rule: cards mode=audit action=block"* ]] ||
	    fail_with "audit rule not explained"
}

@test "block: exit 69, one 5.7.1 line naming the rule, no content" {
	plain "$T/m.eml" "$(printf -- '-----BEGIN PRIVATE KEY-----\n%s\n-----END PRIVATE KEY-----' \
	    "$(openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 2>/dev/null |
	    sed '1d;$d')") card $CARD_GROUPED"
	scan -f alice@example.test bob@example.test
	expect_status 69
	[ ! -s "$T/r.out" ] || fail_with "output on a block"
	[[ ${stderr%%$'\n'*} == "5.7.1 "*"rule private-keys"* ]] ||
	    fail_with "first stderr line: $stderr"
	[[ $stderr != *"$CARD"* && $stderr != *"$CARD_GROUPED"* &&
	    $stderr != *PRIVATE* ]] || fail_with "content in stderr"
}

@test "quarantine: stored with an id; list with the envelope and subject, show, delete (logged)" {
	local body id
	# ten distinct Luhn-valid numbers
	body=$(python3 -c '
import sys
def luhn(s):
    t=0
    for i,c in enumerate(reversed(s)):
        d=int(c)
        if i%2: d=d*2-9 if d>4 else d*2
        t+=d
    return t%10==0
out=[]
n=455673758689000
while len(out)<10:
    n+=1
    for c in "0123456789":
        if luhn(str(n)+c): out.append(str(n)+c); break
print(" card ".join(out))')
	plain "$T/m.eml" "cards: $body"
	scan -f alice@example.test bob@example.test carol@example.test
	expect_status 0
	[[ $(verdict) == "quarantine; rules=payment-cards-bulk,payment-cards; id="* ]] ||
	    fail_with "verdict $(verdict)"
	id=$(verdict | sed 's/.*id=//')
	[ ${#id} = 32 ] || fail_with "id $id"
	[ -f "$STORE/quarantine/$id.eml" ] && [ -f "$STORE/quarantine/$id.meta" ] ||
	    fail_with "not stored"
	[ "$(stat -c %a "$STORE/quarantine/$id.eml")" = 600 ] ||
	    fail_with "mode"
	run dlp-scan quarantine list
	expect_status 0
	[[ $output =~ ^$id\ [0-9T:-]+Z\ held\ [0-9]+\ alice@example.test\ bob@example.test,carol@example.test\ quarantine\ payment-cards-bulk,payment-cards\ Order ]] ||
	    fail_with "list: $output"
	[[ $output != *"$body"* ]] || fail_with "content in the list"
	run dlp-scan quarantine show "$id"
	expect_status 0
	[[ $output == *"Subject: Order"* && $output == *"cards: $body"* ]] ||
	    fail_with "show"
	[[ $output != *X-Mailseal-DLP* ]] || fail_with "verdict in the held message"
	run dlp-scan quarantine release nothex
	expect_status 64
	run --separate-stderr dlp-scan quarantine delete "$id"
	expect_status 0
	[[ $stderr == *"quarantine: deleted $id by uid "* ]] || fail_with "not logged: $stderr"
	[ ! -e "$STORE/quarantine/$id.eml" ] || fail_with "not deleted"
	run dlp-scan quarantine list
	[ -z "$output" ] || fail_with "still listed"
	run dlp-scan quarantine show "$id"
	expect_status 1
}

@test "quarantine: a subject cannot forge lines of the entry's record" {
	{
		printf 'From: alice@example.test\nTo: bob@example.test\n'
		printf 'Subject: =?utf-8?q?x=0Astate:_released=0Arecipient:_eve@evil.example?=\n'
		printf 'Content-Type: text/plain\n\n'
		printf 'Card 4556737586899855, expiry 12/29.\n'
	} >"$T/m.eml"
	policy t 'rule cards
	when payment_card confidence >= medium
	action quarantine'
	scan -f alice@example.test bob@example.test
	expect_status 0
	run dlp-scan quarantine list
	expect_status 0
	[[ $output == *" held "*" bob@example.test quarantine cards x?state: released?recipient: eve@evil.example" ]] ||
	    fail_with "list: $output"
}

@test "1000-deep nesting: unscannable limit_exceeded, quarantined, quickly" {
	python3 - "$T/m.eml" <<'PY'
import sys
n = 1000
with open(sys.argv[1], "w") as f:
    f.write("From: alice@example.test\nSubject: deep\nMIME-Version: 1.0\n")
    for i in range(n):
        f.write('Content-Type: multipart/mixed; boundary="b%d"\n\n--b%d\n' % (i, i))
    f.write("Content-Type: text/plain\n\ncard 4556 7375 8689 9855\n")
    for i in reversed(range(n)):
        f.write("--b%d--\n" % i)
PY
	SECONDS=0
	scan -f alice@example.test bob@example.test
	expect_status 0
	[ "$SECONDS" -lt 10 ] || fail_with "took $SECONDS s"
	[[ $(verdict) == "quarantine; rules=unscannable-limits; id="* ]] ||
	    fail_with "verdict $(verdict)"
	run dlp-scan -n -f alice@example.test bob@example.test <"$T/m.eml"
	[[ $output == *"unscannable: message: MIME nesting too deep"* ]] ||
	    fail_with "explanation"
}

@test "1000-deep attached messages: the same outcome" {
	python3 - "$T/m.eml" <<'PY'
import sys
with open(sys.argv[1], "w") as f:
    f.write("From: alice@example.test\nSubject: deep\nMIME-Version: 1.0\n")
    f.write("Content-Type: message/rfc822\n\n" * 1000)
    f.write("Subject: x\n\ncard 4556 7375 8689 9855\n")
PY
	scan -f alice@example.test bob@example.test
	expect_status 0
	[[ $(verdict) == "quarantine; rules=unscannable-limits; id="* ]] ||
	    fail_with "verdict $(verdict)"
}

@test "a policy without an unscannable rule still says so in the verdict" {
	policy local 'rule cards
	when payment_card
	action warn'
	printf 'dlp-policies = local\ndlp-text-limit = 1K\n' \
	    >"$STORE/settings/global.conf"
	plain "$T/m.eml" "$(head -c 3000 /dev/zero | tr '\0' x)"
	scan -f alice@example.test bob@example.test
	expect_status 0
	[ "$(verdict)" = "pass; unscannable=limit_exceeded" ] ||
	    fail_with "verdict $(verdict)"
}

@test "text over dlp-text-limit is limit_exceeded, never a pass" {
	printf 'dlp-text-limit = 1K\n' >"$STORE/settings/global.conf"
	plain "$T/m.eml" "$(head -c 3000 /dev/zero | tr '\0' x)"
	scan -f alice@example.test bob@example.test
	expect_status 0
	[[ $(verdict) == "quarantine; rules=unscannable-limits; id="* ]] ||
	    fail_with "verdict $(verdict)"
}

@test "a PDF attachment is unsupported_format; an encrypted root user_encrypted" {
	{
		head_of 'Pdf'
		printf 'Content-Type: multipart/mixed; boundary="b"\n\n'
		printf -- '--b\nContent-Type: text/plain\n\npdf\n'
		printf -- '--b\nContent-Type: application/octet-stream\n'
		printf 'Content-Disposition: attachment; filename="a.pdf"\n'
		printf 'Content-Transfer-Encoding: base64\n\n'
		printf '%%PDF-1.7 binary\001\002' | base64
		printf -- '--b--\n'
	} >"$T/m.eml"
	scan -f alice@example.test bob@example.test
	[ "$(verdict)" = "warn; rules=unscannable-content; unscannable=unsupported_format" ] ||
	    fail_with "pdf: $(verdict)"
	{
		head_of 'Secret'
		printf 'Content-Type: application/pkcs7-mime; '
		printf 'smime-type=enveloped-data; name=smime.p7m\n'
		printf 'Content-Transfer-Encoding: base64\n\nMIAGCSqGSIb3DQEHA6CAMIACAQA=\n'
	} >"$T/m.eml"
	run dlp-scan -n bob@example.test <"$T/m.eml"
	[[ $output == *"unscannable: 1: user_encrypted"* ]] ||
	    fail_with "encrypted: $output"
}

# archive FILE KIND - a message with an archive made by python3's
# zipfile: docx (the card split over three runs), zip (a text entry and
# the docx nested), bomb (50 MiB of zeros), broken (a ZIP signature and
# nothing valid)
archive() {
	python3 - "$1" "$2" "$CARD" <<'PY'
import base64, io, sys, zipfile
path, kind, card = sys.argv[1], sys.argv[2], sys.argv[3]
doc = ('<?xml version="1.0" encoding="UTF-8"?><w:document xmlns:w='
       '"http://schemas.openxmlformats.org/wordprocessingml/2006/main">'
       '<w:body><w:p><w:r><w:t>Card </w:t></w:r><w:r><w:t>%s</w:t></w:r>'
       '<w:r><w:rPr><w:b/></w:rPr><w:t>%s</w:t></w:r><w:r>'
       '<w:t>%s</w:t></w:r></w:p></w:body></w:document>'
       % (card[:6], card[6:11], card[11:]))
def zipped(entries):
    b = io.BytesIO()
    with zipfile.ZipFile(b, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in entries:
            z.writestr(name, data)
    return b.getvalue()
docx = zipped([("[Content_Types].xml", "<?xml version='1.0'?><Types/>"),
               ("word/document.xml", doc)])
data = {
    "docx": docx,
    "zip": zipped([("readme.txt", "nothing here\n"),
                   ("deeper/report.docx", docx)]),
    "bomb": zipped([("zeros.txt", "0" * (50 * 1024 * 1024))]),
    "broken": b"PK\x03\x04 not really an archive",
}[kind]
with open(path, "w") as f:
    f.write("From: alice@example.test\nSubject: files\nMIME-Version: 1.0\n"
            'Content-Type: multipart/mixed; boundary="b"\n\n--b\n'
            "Content-Type: text/plain\n\nattached\n--b\n"
            "Content-Type: application/octet-stream\n"
            'Content-Disposition: attachment; filename="f.%s"\n'
            "Content-Transfer-Encoding: base64\n\n%s\n--b--\n"
            % (kind, base64.encodebytes(data).decode()))
PY
}

@test "evasion: a DOCX with the number split across runs" {
	archive "$T/m.eml" docx
	expect_card 2:2
}

@test "evasion: a DOCX inside a ZIP" {
	archive "$T/m.eml" zip
	expect_card 2:2:2
}

@test "a ZIP bomb is limit_exceeded and held, quickly" {
	archive "$T/m.eml" bomb
	SECONDS=0
	scan -f alice@example.test bob@example.test
	expect_status 0
	[ "$SECONDS" -lt 10 ] || fail_with "took $SECONDS s"
	[[ $(verdict) == "quarantine; rules=unscannable-limits; id="* ]] ||
	    fail_with "verdict $(verdict)"
	run dlp-scan -n bob@example.test <"$T/m.eml"
	[[ $output == *"unscannable: 2: limit_exceeded"* ]] ||
	    fail_with "explanation: $output"
}

@test "a damaged ZIP is extraction_error and held" {
	archive "$T/m.eml" broken
	scan -f alice@example.test bob@example.test
	expect_status 0
	[[ $(verdict) == "quarantine; rules=unscannable-limits; id="* ]] ||
	    fail_with "verdict $(verdict)"
	run dlp-scan -n bob@example.test <"$T/m.eml"
	[[ $output == *"unscannable: 2: extraction_error"* ]] ||
	    fail_with "explanation: $output"
}

@test "an encrypted ZIP entry is password_protected" {
	printf 'card %s\n' "$CARD" >"$T/c.txt"
	(cd "$T" && zip -q -P secret e.zip c.txt)
	{
		head_of 'Locked'
		printf 'Content-Type: multipart/mixed; boundary="b"\n\n'
		printf -- '--b\nContent-Type: application/zip\n'
		printf 'Content-Disposition: attachment; filename="e.zip"\n'
		printf 'Content-Transfer-Encoding: base64\n\n'
		base64 "$T/e.zip"
		printf -- '--b--\n'
	} >"$T/m.eml"
	scan -f alice@example.test bob@example.test
	expect_status 0
	[ "$(verdict)" = "warn; rules=unscannable-content; unscannable=password_protected" ] ||
	    fail_with "verdict $(verdict)"
}

# loaded LOG - the libraries the dynamic linker loaded, from LD_DEBUG=files
loaded() {
	sed -n 's/^ *[0-9]*:[[:space:]]*file=\([^ ]*\) .*/\1/p' "$1" | sort -u
}

@test "libzip and libxml2 are loaded for an archive only" {
	plain "$T/m.eml" "card $CARD"
	LD_DEBUG=files dlp-scan -n bob@example.test <"$T/m.eml" \
	    >"$T/plain.out" 2>"$T/plain.err" || fail_with "plain message"
	grep -q 'verdict: must-encrypt' "$T/plain.out" ||
	    fail_with "plain: $(cat "$T/plain.out")"
	! loaded "$T/plain.err" | grep -E 'libzip|libxml2|libicu' ||
	    fail_with "loaded for a message without an archive:" \
	    "$(loaded "$T/plain.err")"
	archive "$T/m.eml" docx
	LD_DEBUG=files dlp-scan -n bob@example.test <"$T/m.eml" \
	    >"$T/docx.out" 2>"$T/docx.err" || fail_with "docx message"
	grep -q 'part=2:2 detector=payment_card ' "$T/docx.out" ||
	    fail_with "docx: $(cat "$T/docx.out")"
	loaded "$T/docx.err" | grep -q '^libzip\.so' &&
	    loaded "$T/docx.err" | grep -q '^libxml2\.so' ||
	    fail_with "not loaded for the DOCX: $(loaded "$T/docx.err")"
}

@test "an archive when libzip cannot be loaded: exit 75, nothing passed" {
	archive "$T/m.eml" docx
	plain "$T/p.eml" "nothing to see"
	# libzip hidden in a mount namespace of its own, as on a system
	# where the package went missing
	cat >"$T/hidden" <<'SH'
set -e
ldconfig -p | sed -n 's/^[[:space:]]*libzip\.so\.[0-9]* .* => //p' |
while read -r lib; do
	mount --bind /dev/null "$(readlink -f "$lib")"
done
dlp-scan -f alice@example.test bob@example.test <"$1" >"$2"
SH
	run --separate-stderr unshare -m sh "$T/hidden" "$T/m.eml" "$T/r.out"
	expect_status 75
	[ ! -s "$T/r.out" ] || fail_with "a message was written"
	[[ $stderr == *"cannot load libzip.so"* ]] ||
	    fail_with "stderr: $stderr"
	[[ $stderr != *"$CARD"* ]] || fail_with "content in a diagnostic"
	run --separate-stderr unshare -m sh "$T/hidden" "$T/p.eml" "$T/r.out"
	expect_status 0
	[ "$(verdict)" = "pass" ] ||
	    fail_with "a message without an archive needs no libzip"
}

@test "dlp = no for a sender: pass with scan=off" {
	mkdir -p "$STORE/settings/user"
	printf 'dlp = no\n' >"$STORE/settings/user/alice@example.test.conf"
	plain "$T/m.eml" "card $CARD_GROUPED"
	scan -f alice@example.test bob@example.test
	expect_status 0
	[ "$(verdict)" = "pass; scan=off" ] || fail_with "verdict $(verdict)"
	scan -f bob@example.test alice@example.test
	[ "$(verdict)" = "must-encrypt; rules=payment-cards" ] ||
	    fail_with "other sender $(verdict)"
}

@test "a policy with a syntax error: exit 75 naming file and line" {
	policy broken 'rule one
	when payment_card
	action warn
rule two
	when payment_card count at least 3
	action warn'
	plain "$T/m.eml" "hello"
	scan bob@example.test
	expect_status 75
	[[ $stderr == *"broken.policy:5: count wants an operator"* ]] ||
	    fail_with "stderr: $stderr"
	[ ! -s "$T/r.out" ] || fail_with "output"
	printf 'dlp-policies = missing\n' >"$STORE/settings/global.conf"
	scan bob@example.test
	expect_status 75
}

@test "usage, unparsable input and print-patterns" {
	plain "$T/m.eml" "hello"
	run dlp-scan <"$T/m.eml"
	expect_status 64
	run dlp-scan --bogus bob@example.test <"$T/m.eml"
	expect_status 64
	run dlp-scan -f 'not an address' bob@example.test <"$T/m.eml"
	expect_status 64
	run dlp-scan quarantine show nothex
	expect_status 64
	run dlp-scan -h
	expect_status 0
	[[ $output == "usage: dlp-scan "* ]] || fail_with "usage"
	run dlp-scan bob@example.test </dev/null
	expect_status 65
	run dlp-scan --print-patterns
	expect_status 0
	[ "$(printf '%s\n' "$output" | wc -l)" -ge 17 ] ||
	    fail_with "patterns"
	[[ $output == *"payment_card	"* ]] || fail_with "no card pattern"
}

# real-mail shapes (each seen in the test suites of other mail libraries)

@test "an empty text/html part or empty non-UTF-8 text part: no crash" {
	{
		head_of 'Empty'
		printf 'Content-Type: multipart/mixed; boundary="b"\n\n'
		printf -- '--b\nContent-Type: text/html; charset=utf-8\n\n'
		printf -- '--b\nContent-Type: text/plain; charset=iso-8859-1\n\n'
		printf -- '--b\nContent-Type: text/plain; charset=ks_c_5601-1987\n\n'
		printf -- '--b--\n'
	} >"$T/m.eml"
	run --separate-stderr dlp-scan -n bob@example.test <"$T/m.eml"
	expect_status 0
	[ "$output" = "verdict: pass" ] || fail_with "verdict: $output"
	{
		head_of 'Empty'
		printf 'Content-Type: text/html; charset=windows-1252\n\n'
	} >"$T/m.eml"
	run --separate-stderr dlp-scan -n bob@example.test <"$T/m.eml"
	expect_status 0
	[ "$output" = "verdict: pass" ] || fail_with "verdict: $output"
}

@test "one invalid byte in a charset does not garble the rest of the part" {
	# UTF-16 with one lone surrogate before the card: decoded as a
	# whole, the part would be garbage
	{
		head_of 'Wide'
		printf 'Content-Type: text/plain; charset=utf-16le\n'
		printf 'Content-Transfer-Encoding: base64\n\n'
		python3 -c 'import sys; sys.stdout.buffer.write(
		    "note ".encode("utf-16le") + b"\x00\xd8" +
		    (" card %s exp 12/29\n" % sys.argv[1]).encode("utf-16le"))' \
		    "$CARD" | base64
	} >"$T/m.eml"
	expect_card 1
	# Outlook's Korean, a byte invalid in it, then the card
	{
		head_of 'Korean'
		printf 'Content-Type: text/plain; charset=ks_c_5601-1987\n\n'
		printf '\xc7\xd1\xb1\xb9 \x81\x41 \xff card %s\n' "$CARD"
	} >"$T/m.eml"
	expect_card 1
}

@test "a multipart in which no part is found is unscannable, its text read" {
	local boundary kind
	boundary=$(head -c 5000 /dev/zero | tr '\0' b)
	for kind in long words none; do
		{
			head_of 'Parts'
			case $kind in
			long)
				printf 'Content-Type: multipart/mixed; boundary="%s"\n\n' \
				    "$boundary"
				printf -- '--%s\nContent-Type: text/plain\n\n' \
				    "$boundary"
				printf 'card %s\n--%s--\n' "$CARD" "$boundary" ;;
			words)
				printf 'Content-Type: multipart/mixed; boundary="b"\n\n'
				printf -- '--b and words\nContent-Type: text/plain\n\n'
				printf 'card %s\n--b-- and more\n' "$CARD" ;;
			none)
				printf 'Content-Type: multipart/mixed; boundary="b"\n\n'
				printf 'card %s\n' "$CARD" ;;
			esac
		} >"$T/m.eml"
		run --separate-stderr dlp-scan -n bob@example.test <"$T/m.eml"
		expect_status 0
		[[ $output == *"unscannable: 1: extraction_error"* ]] ||
		    fail_with "$kind: not unscannable: $output"
		[[ $output == *"detector=payment_card"* ]] ||
		    fail_with "$kind: card not found"
		[[ $output != *"verdict: pass"* ]] || fail_with "$kind: passed"
	done
}

@test "a part whose header runs into its body is still scanned" {
	{
		head_of 'Run-in'
		printf 'Content-Type: multipart/mixed; boundary="b"\n\n'
		printf -- '--b\nContent-Type: text/plain\n'
		printf 'card %s\n\nmore text\n--b--\n' "$CARD"
	} >"$T/m.eml"
	run --separate-stderr dlp-scan -n bob@example.test <"$T/m.eml"
	expect_status 0
	[[ $output == *"detector=payment_card"* ]] || fail_with "card passed"
	[[ $output == *"sample=$CARD_MASK"* ]] || fail_with "no sample"
	[[ $output == *"verdict: must-encrypt"* ]] || fail_with "$output"
}

@test "Cc addresses are not bulk addresses in the bodies" {
	local cc="" i
	for i in $(seq 1 60); do
		cc="$cc${cc:+, }user$i@example.test"
	done
	{
		head_of 'Team' "Cc: $cc"
		printf 'Content-Type: text/plain\n\nhello all\n'
	} >"$T/m.eml"
	run --separate-stderr dlp-scan -n bob@example.test <"$T/m.eml"
	expect_status 0
	[ "$output" = "verdict: pass" ] || fail_with "Cc counted: $output"
	# the same addresses in the body are counted
	{
		head_of 'Team'
		printf 'Content-Type: text/plain\n\n%s\n' "$cc"
	} >"$T/m.eml"
	run --separate-stderr dlp-scan -n bob@example.test <"$T/m.eml"
	[[ $output == *"detector=bulk_email_addresses"* ]] ||
	    fail_with "body addresses not counted: $output"
}

@test "S/MIME signed data is read, not called encrypted" {
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 \
	    -nodes -keyout "$T/k.pem" -out "$T/c.pem" -subj /CN=alice \
	    -days 2 2>/dev/null
	printf 'Content-Type: text/plain\r\n\r\ncard %s\r\n' "$CARD" \
	    >"$T/inner"
	openssl cms -sign -nodetach -binary -in "$T/inner" -signer "$T/c.pem" \
	    -inkey "$T/k.pem" -outform DER -out "$T/signed.der"
	{
		head_of 'Signed'
		printf 'Content-Type: application/pkcs7-mime; '
		printf 'smime-type=signed-data; name=smime.p7m\n'
		printf 'Content-Transfer-Encoding: base64\n\n'
		base64 "$T/signed.der"
	} >"$T/m.eml"
	run --separate-stderr dlp-scan -n bob@example.test <"$T/m.eml"
	expect_status 0
	[[ $output != *"user_encrypted"* ]] || fail_with "called encrypted"
	[[ $output == *"part=1.1 detector=payment_card"* ]] ||
	    fail_with "content not read: $output"
	# enveloped data stays user_encrypted
	printf 'secret\n' | openssl cms -encrypt -aes256 -outform DER \
	    -out "$T/env.der" "$T/c.pem"
	{
		head_of 'Enveloped'
		printf 'Content-Type: application/pkcs7-mime; '
		printf 'smime-type=enveloped-data; name=smime.p7m\n'
		printf 'Content-Transfer-Encoding: base64\n\n'
		base64 "$T/env.der"
	} >"$T/m.eml"
	run --separate-stderr dlp-scan -n bob@example.test <"$T/m.eml"
	[[ $output == *"unscannable: 1: user_encrypted"* ]] ||
	    fail_with "enveloped: $output"
}

@test "DLP scans the very text the pdfwrap PDF shows of an HTML body" {
	# the card written with character references (one without its
	# semicolon, as browsers read it), inline tags, a comment and a
	# hidden span; script text that neither shows
	{
		head_of 'Html' 'Date: Sat, 28 Nov 2026 10:00:00 +0000'
		printf 'Content-Type: text/html; charset=iso-8859-1\n\n'
		printf '<html><head><script>var x = "SCRIPTTEXT";</script>'
		printf '</head><body><p>Gr\xfc\xdfe, card <b>4556</b>&#x37<b>375</b>'
		printf '<!-- x --><span style="display:none">8689</span>'
		printf '&#x39;<i>855</i> &amp;c.</p><ul><li>item</ul></body></html>\n'
	} >"$T/m.eml"
	expect_card 1
	mkdir -m 700 -p "$STORE/pdf"
	printf 'correct horse battery\n' >"$T/pw"
	chmod 600 "$T/pw"
	run --separate-stderr sh -c 'pdfwrap --store "$1" -f alice@example.test \
	    --password-file "$2" bob@example.test <"$3" >"$4"' sh "$STORE" \
	    "$T/pw" "$T/m.eml" "$T/out.eml"
	expect_status 0
	python3 - "$T/out.eml" "$T/m.pdf" <<'PY'
import email, sys
m = email.message_from_binary_file(open(sys.argv[1], "rb"))
pdf = [p for p in m.walk() if p.get_content_type() == "application/pdf"]
open(sys.argv[2], "wb").write(pdf[0].get_payload(decode=True))
PY
	pdftotext -upw 'correct horse battery' "$T/m.pdf" "$T/m.txt"
	grep -q "Grüße, card $CARD &c\.\$" "$T/m.txt" ||
	    fail_with "PDF text: $(cat "$T/m.txt")"
	grep -q -- '^- item$' "$T/m.txt" || fail_with "list item"
	! grep -q SCRIPTTEXT "$T/m.txt" || fail_with "script shown"
}

# pgp_mime FILE SECOND - a PGP/MIME encrypted root whose second part holds
# the text SECOND
pgp_mime() {
	{
		head_of 'Dressed'
		printf 'Content-Type: multipart/encrypted; '
		printf 'protocol="application/pgp-encrypted"; boundary="b"\n\n'
		printf -- '--b\nContent-Type: application/pgp-encrypted\n\n'
		printf 'Version: 1\n\n'
		printf -- '--b\nContent-Type: application/octet-stream\n\n'
		printf '%s\n' "$2"
		printf -- '--b--\n'
	} >"$1"
}

@test "a plaintext dressed as PGP/MIME is scanned like plain mail; real OpenPGP ciphertext stays user_encrypted" {
	pgp_mime "$T/m.eml" "card $CARD_GROUPED exp 12/29"
	scan -f alice@example.test bob@example.test
	expect_status 0
	[ "$(verdict)" = "must-encrypt; rules=payment-cards" ] ||
	    fail_with "dressed: $(verdict)"
	# the same shape with real ciphertext (symmetric, made by gpg)
	mkdir -m 700 "$T/gnupg"
	printf 'card %s\n' "$CARD_GROUPED" >"$T/secret.txt"
	gpg --homedir "$T/gnupg" --batch --pinentry-mode loopback \
	    --passphrase pw --symmetric --armor -o "$T/secret.asc" \
	    "$T/secret.txt" 2>/dev/null || fail_with "gpg"
	gpgconf --homedir "$T/gnupg" --kill all 2>/dev/null || true
	pgp_mime "$T/m.eml" "$(cat "$T/secret.asc")"
	run dlp-scan -n bob@example.test <"$T/m.eml"
	[[ $output == *": user_encrypted"* ]] &&
	    [[ $output == *"verdict: warn; rules=unscannable-content"* ]] &&
	    [[ $output != *payment_card* ]] || fail_with "ciphertext: $output"
}
