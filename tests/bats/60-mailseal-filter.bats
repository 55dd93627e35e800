#!/usr/bin/env bats
# mailseal-filter without an MTA: the reinjection command is a script that
# keeps each call's arguments and message in $T/out.  Every copy is checked
# by content: S/MIME copies decrypt with openssl cms, OpenPGP copies with
# gpg, plain copies carry the body; refusals send nothing; addresses are
# never evaluated by a shell.

load helpers
load smime-helpers
load pgp-helpers

setup_file() {
	sm_setup_file alice bob
}

setup() {
	pg_setup
	cp -a "$BASE/store" "$STORE"
	mkdir -p "$STORE/settings/user" "$T/out"
	SINK=$T/sink.sh
	cat >"$SINK" <<EOF
#!/bin/sh
# a reinjection command: arguments one a line, then the message
n=\$(ls "$T/out" | wc -l)
printf '%s\n' "\$@" >"$T/out/\$n.args"
cat >"$T/out/\$n.eml"
EOF
	chmod 755 "$SINK"
	export MAILSEAL_SENDMAIL=$SINK
	# dlp-scan runs with the shipped default policy
	ms_sharedir
	MARK="canary-$RANDOM-$RANDOM"
	MSG=$T/in.eml
	cat >"$MSG" <<EOF
From: Alice <alice@example.test>
To: bob@example.test, carol@example.test, erin@example.test
Subject: quarterly figures
Message-ID: <m1@example.test>
X-Mailseal-Signature: valid; forged by the sender
X-Mailseal-DLP: pass
MIME-Version: 1.0
Content-Type: text/plain; charset=utf-8

The body with $MARK in it.
EOF
}

teardown() {
	pg_teardown
}

# copy_for ADDR - the output file whose reinjection named ADDR
copy_for() {
	local a
	for a in "$T"/out/*.args; do
		[ -e "$a" ] || continue
		if grep -qxF -- "$1" "$a"; then
			echo "${a%.args}.eml"
			return 0
		fi
	done
	echo "copy_for: nothing reinjected for $1" >&2
	return 1
}

# copies - how many reinjections happened
copies() {
	find "$T/out" -name '*.args' | wc -l
}

# cms_mail OUT FROM TO PLAIN CERT... - PLAIN encrypted by openssl to the
# certificates, as a message from FROM to TO
cms_mail() {
	local out=$1 from=$2 to=$3 plain=$4
	shift 4
	{
		printf 'From: %s\nTo: %s\nSubject: in\n' "$from" "$to"
		openssl cms -encrypt -in "$plain" -aes256 "$@" 2>/dev/null
	} >"$out"
}

# carol_key - carol@example.test gets an OpenPGP key in the store
carol_key() {
	CAROL=$(pg_recipient carol@example.test) || return 1
}

@test "one message, three recipients: S/MIME, OpenPGP and plain copies, each reinjected once with the envelope" {
	carol_key
	run mailseal-filter -q 4jcAB12 -f alice@example.test -- \
	    bob@example.test carol@example.test erin@example.test <"$MSG"
	expect_status 0
	[ "$(copies)" = 3 ] || fail_with "expected 3 reinjections, got $(copies)"

	local bob carol erin
	bob=$(copy_for bob@example.test)
	carol=$(copy_for carol@example.test)
	erin=$(copy_for erin@example.test)
	# envelope: -f sender, --, exactly the one recipient
	[ "$(cat "${bob%.eml}.args")" = "$(printf '%s\n' -f alice@example.test -- bob@example.test)" ] ||
	    fail_with "bob's reinjection arguments: $(cat "${bob%.eml}.args")"

	# bob: S/MIME that openssl decrypts to the body
	bob_opens "$bob"

	# carol: PGP/MIME that gpg decrypts
	! grep -q "$MARK" "$carol" || fail_with "plaintext in carol's copy"
	pg_py check "$carol"
	pg_py armor "$carol" "$T/carol.asc"
	pg_gpg --decrypt "$T/carol.asc" >"$T/carol.txt" 2>/dev/null ||
	    fail_with "gpg cannot decrypt carol's copy"
	grep -q "The body with $MARK in it." "$T/carol.txt" ||
	    fail_with "carol's decrypted body differs"

	# erin: plain under the default "allow", our status fields removed
	grep -q "The body with $MARK in it." "$erin" ||
	    fail_with "erin's copy lost the body"
	! header_block "$erin" | grep -i '^X-Mailseal-' |
	    grep -qvi '^X-Mailseal-Processed: v2; t=[0-9]*; mac=[0-9a-f]\{64\}$' ||
	    fail_with "an incoming X-Mailseal- field survived"
	[ "$(header_block "$erin" | grep -ci '^X-Mailseal-Processed:')" = 1 ] ||
	    fail_with "no loop marker on the copy"
	# routing fields are kept on every copy
	for f in "$bob" "$carol" "$erin"; do
		header_block "$f" | grep -q '^Message-ID: <m1@example.test>' ||
		    fail_with "Message-ID changed in $f"
		header_block "$f" | grep -q '^Subject: quarterly figures' ||
		    fail_with "Subject changed in $f"
	done
}

@test "mandatory encryption without a certificate or key: exit 69, a 5.7.1 line first, nothing reinjected, no content" {
	echo 'encrypt-mode = mandatory' >"$STORE/settings/user/dave@example.test.conf"
	run --separate-stderr mailseal-filter -f alice@example.test -- \
	    bob@example.test dave@example.test <"$MSG"
	expect_status 69
	[[ ${stderr_lines[0]} == "5.7.1 "* ]] ||
	    fail_with "first stderr line is not 5.7.1: ${stderr_lines[0]}"
	[[ $stderr == *dave@example.test* ]] || fail_with "the refused recipient is not named"
	[[ $stderr != *"$MARK"* && $stderr != *quarterly* ]] ||
	    fail_with "message content in the diagnostics"
	[ "$(copies)" = 0 ] || fail_with "something was reinjected"
	[ -z "$output" ] || fail_with "output on stdout"
}

# bob_opens FILE - FILE holds no plaintext, and bob's key opens it (S/MIME,
# with openssl) to the test message's body
bob_opens() {
	! grep -q "$MARK" "$1" || fail_with "plaintext in $1"
	openssl cms -decrypt -in "$1" -recip "$BASE/bob.pem" \
	    -inkey "$BASE/bob.key" -out "$T/bob.txt" ||
	    fail_with "openssl cannot decrypt $1"
	grep -q "The body with $MARK in it." "$T/bob.txt" ||
	    fail_with "the decrypted body of $1 differs"
}

# bob_signed_copy FILE - bob decrypts FILE with openssl, then alice's
# signature inside verifies and covers the body
bob_signed_copy() {
	openssl cms -decrypt -in "$1" -recip "$BASE/bob.pem" \
	    -inkey "$BASE/bob.key" -out "$T/bob.signed" ||
	    fail_with "openssl cannot decrypt bob's copy"
	openssl cms -verify -in "$T/bob.signed" -CAfile "$BASE/root.pem" \
	    -out "$T/bob.txt" 2>/dev/null || fail_with "the inner signature does not verify"
	grep -q "$MARK" "$T/bob.txt" || fail_with "the signed content lost the body"
}

@test "the sender's signing setting: the plain copy is S/MIME signed and openssl verifies it; a changed byte fails" {
	echo 'sign = smime' >"$STORE/settings/user/alice@example.test.conf"
	run mailseal-filter --sasl-username alice@example.test -f alice@example.test -- erin@example.test <"$MSG"
	expect_status 0
	local erin
	erin=$(copy_for erin@example.test)
	header_block "$erin" | grep -qi '^Content-Type: multipart/signed' ||
	    fail_with "erin's copy is not signed"
	openssl cms -verify -in "$erin" -CAfile "$BASE/root.pem" \
	    -out "$T/v.txt" 2>"$T/v.err" || { cat "$T/v.err" >&2; fail_with "signature does not verify"; }
	grep -q "$MARK" "$T/v.txt" || fail_with "the signed content lost the body"
	sed "s/$MARK/canary-changed/" "$erin" >"$T/bad.eml"
	! openssl cms -verify -in "$T/bad.eml" -CAfile "$BASE/root.pem" \
	    -out /dev/null 2>/dev/null || fail_with "a changed copy verifies"

	# signed, then encrypted: bob decrypts, then verifies alice
	rm -f "$T"/out/*
	run mailseal-filter --sasl-username alice@example.test -f alice@example.test -- bob@example.test <"$MSG"
	expect_status 0
	local bob
	bob=$(copy_for bob@example.test)
	bob_signed_copy "$bob"
}

@test "addresses are never evaluated: a command in a recipient is refused or passed as one word, and nothing runs" {
	run --separate-stderr mailseal-filter -f alice@example.test -- \
	    "\$(touch\${IFS}$T/pwned)@example.net" <"$MSG"
	expect_status 69
	[[ ${stderr_lines[0]} == "5.1.3 "* ]] || fail_with "no 5.1.3 line: $stderr"
	run mailseal-filter -f alice@example.test -- '-oQ/tmp@example.net' <"$MSG"
	expect_status 69
	run mailseal-filter -f alice@example.test -- $'eve@example.net\nX-Evil: 1' <"$MSG"
	expect_status 69
	run mailseal-filter -f "\$(touch $T/pwned2)" -- erin@example.test <"$MSG"
	expect_status 69
	[ "$(copies)" = 0 ] || fail_with "a refused message was reinjected"
	# a quoted local part is a valid address: it travels as one word
	local odd="\"\`touch\${IFS}$T/pwned3\`\"@example.net"
	run mailseal-filter -f alice@example.test -- "$odd" <"$MSG"
	expect_status 0
	grep -qxF -- "$odd" "$T/out/0.args" ||
	    fail_with "the address was not passed verbatim: $(cat "$T/out/0.args")"
	[ ! -e "$T/pwned" ] && [ ! -e "$T/pwned2" ] && [ ! -e "$T/pwned3" ] ||
	    fail_with "a command ran"
}

@test "reinjection fails: 75 and the failure reported; after a first copy went out a later failure still defers" {
	cat >"$T/fail.sh" <<EOF
#!/bin/sh
cat >/dev/null
exit 75
EOF
	chmod 755 "$T/fail.sh"
	MAILSEAL_SENDMAIL=$T/fail.sh run mailseal-filter -f alice@example.test \
	    -- erin@example.test <"$MSG"
	expect_status 75
	# the second reinjection fails: defer (a duplicate, never a bounce)
	cat >"$T/second.sh" <<EOF
#!/bin/sh
cat >"$T/first.eml.\$\$"
[ "\$(ls "$T" | grep -c '^first.eml')" -le 1 ] || exit 1
EOF
	chmod 755 "$T/second.sh"
	MAILSEAL_SENDMAIL=$T/second.sh run mailseal-filter \
	    -f alice@example.test -- bob@example.test erin@example.test <"$MSG"
	expect_status 75
}

# fake_sibling NAME BODY - a copy of the programs in $T/bin where NAME is
# a shell script with BODY (mailseal-filter runs its siblings from its
# own directory)
fake_sibling() {
	mkdir -p "$T/bin"
	cp "$MAILSEAL_BIN"/* "$T/bin/"
	printf '#!/bin/sh\n%s\n' "$2" >"$T/bin/$1"
	chmod 755 "$T/bin/$1"
}

# frank_pdf - frank has no certificate or key and takes a PDF
frank_pdf() {
	mkdir -p "$STORE/pdf"
	head -c 32 /dev/urandom >"$STORE/pdf/random.key"
	chmod 600 "$STORE/pdf/random.key"
	printf 'methods = smime pgp pdf\npdf-password-mode = random-to-sender\n' \
	    >"$STORE/settings/user/frank@example.test.conf"
}

@test "every copy is built before the first reinjection: a failing, crashing or silent child (pdfwrap) sends nothing" {
	carol_key
	frank_pdf
	local body
	for body in 'cat >/dev/null; exit 75' 'cat >/dev/null; kill -9 $$' \
	    'cat >/dev/null; exit 1' 'cat >/dev/null; exit 0'; do
		fake_sibling pdfwrap "$body"
		run "$T/bin/mailseal-filter" -f alice@example.test -- \
		    erin@example.test bob@example.test carol@example.test \
		    frank@example.test <"$MSG"
		expect_status 75
		[ "$(copies)" = 0 ] ||
		    fail_with "a copy went out although pdfwrap did: $body"
	done
	# a refusal by a filter is the message's refusal, its 5.7.x first
	fake_sibling pdfwrap 'cat >/dev/null; echo "5.7.1 no usable key" >&2; exit 69'
	run --separate-stderr "$T/bin/mailseal-filter" -f alice@example.test -- \
	    erin@example.test bob@example.test carol@example.test \
	    frank@example.test <"$MSG"
	expect_status 69
	[ "${stderr_lines[0]}" = "5.7.1 no usable key" ] ||
	    fail_with "first line: ${stderr_lines[0]}"
	[ "$(copies)" = 0 ] || fail_with "a copy went out before the refusal"
}

@test "OpenPGP signing and encryption run in the filter's own process: no pgp-sign or pgp-enc starts; gpg decrypts carol's copy and verifies alice's signature inside, and erin's signed copy" {
	carol_key
	local alice carol erin part
	alice=$(pgp-keys generate alice@example.test 2>"$T/gen.err") ||
	    { cat "$T/gen.err" >&2; fail_with "no key for alice"; }
	pgp-keys export "$alice" >"$T/alice.pub"
	pg_gpg --import "$T/alice.pub" 2>/dev/null
	echo 'sign = pgp' >"$STORE/settings/user/alice@example.test.conf"
	# the programs exist, and would fail the message if they ran
	mkdir -p "$T/bin"
	cp "$MAILSEAL_BIN"/* "$T/bin/"
	for part in pgp-sign pgp-enc; do
		printf '#!/bin/sh\ntouch "%s/ran-%s"\nexit 75\n' "$T" "$part" \
		    >"$T/bin/$part"
	done
	"$T/bin/mailseal-filter" --sasl-username alice@example.test \
	    -f alice@example.test -- carol@example.test erin@example.test \
	    <"$MSG" >"$T/filter.out" 2>"$T/filter.err" ||
	    { cat "$T/filter.err" >&2; fail_with "the filter failed"; }
	[ ! -e "$T/ran-pgp-sign" ] && [ ! -e "$T/ran-pgp-enc" ] ||
	    fail_with "pgp-sign or pgp-enc ran"
	# carol: PGP/MIME that gpg decrypts to alice's PGP/MIME signed
	# message, whose signature gpg verifies over the body
	carol=$(copy_for carol@example.test)
	! grep -q "$MARK" "$carol" || fail_with "plaintext in carol's copy"
	pg_py check "$carol"
	pg_py armor "$carol" "$T/carol.asc"
	pg_gpg --decrypt "$T/carol.asc" >"$T/carol.txt" 2>/dev/null ||
	    fail_with "gpg cannot decrypt carol's copy"
	pg_signed_check "$T/carol.txt" >/dev/null ||
	    fail_with "carol's decrypted copy is not PGP/MIME signed"
	mimetool signed-parts "$T/carol.txt" "$T/part1" "$T/sig.asc" ||
	    fail_with "no signed parts in carol's copy"
	[ "$(pg_gpg_verify_detached "$T/sig.asc" "$T/part1" | cut -d' ' -f1)" = "$alice" ] ||
	    fail_with "alice's signature in carol's copy does not verify"
	grep -q "The body with $MARK in it." "$T/part1" ||
	    fail_with "carol's signed content lost the body"
	# erin: the same signature, unencrypted
	erin=$(copy_for erin@example.test)
	pg_signed_check "$erin" >/dev/null || fail_with "erin's copy is not signed"
	mimetool signed-parts "$erin" "$T/epart1" "$T/esig.asc" ||
	    fail_with "no signed parts in erin's copy"
	[ "$(pg_gpg_verify_detached "$T/esig.asc" "$T/epart1" | cut -d' ' -f1)" = "$alice" ] ||
	    fail_with "alice's signature in erin's copy does not verify"
}

@test "a store that cannot be read defers (75) and sends nothing" {
	run mailseal-filter --store "$T/no-such-store" -f alice@example.test \
	    -- erin@example.test <"$MSG"
	expect_status 75
	[ "$(copies)" = 0 ] || fail_with "reinjected without a store"
}

@test "usage: no -f, no recipient or a bad queue id exit 64" {
	run mailseal-filter -- erin@example.test <"$MSG"
	expect_status 64
	run mailseal-filter -f alice@example.test <"$MSG"
	expect_status 64
	run mailseal-filter -q '../x' -f alice@example.test -- erin@example.test <"$MSG"
	expect_status 64
	run mailseal-filter -h
	expect_status 0
	[[ $output == *"usage: mailseal-filter"* ]] || fail_with "no usage text"
}

@test "the null sender is passed as an empty -f" {
	run mailseal-filter -f '' -- erin@example.test <"$MSG"
	expect_status 0
	[ "$(sed -n 2p "$T/out/0.args")" = "" ] && [ "$(sed -n 1p "$T/out/0.args")" = "-f" ] ||
	    fail_with "sender arguments: $(cat "$T/out/0.args")"
}

@test "--incoming: S/MIME encrypted and signed mail is decrypted, verified and reinjected with headers-only DSNs" {
	# alice signs, then encrypts to bob, with the other side's tools
	printf 'From: alice@example.test\nTo: bob@example.test\nSubject: in\nX-Mailseal-Decrypted: smime\n\nInbound %s\n' "$MARK" >"$T/plain.eml"
	openssl cms -sign -in "$T/plain.eml" -signer "$BASE/alice.pem" \
	    -inkey "$BASE/alice.key" -out "$T/signed.eml" 2>/dev/null
	{
		printf 'From: alice@example.test\nTo: bob@example.test\nSubject: in\n'
		printf 'X-Mailseal-Signature: valid; forged\n'
		openssl cms -encrypt -in "$T/signed.eml" -aes256 "$BASE/bob.pem" 2>/dev/null
	} >"$T/enc.eml"
	run mailseal-filter --incoming -f alice@example.test -- bob@example.test <"$T/enc.eml"
	expect_status 0
	local got
	got=$(copy_for bob@example.test)
	grep -qxF -- -R "${got%.eml}.args" && grep -qxF hdrs "${got%.eml}.args" ||
	    fail_with "no -R hdrs for decrypted mail"
	[ "$(status_of "$got" X-Mailseal-Decrypted)" = smime ] ||
	    fail_with "no X-Mailseal-Decrypted: smime"
	[ "$(sig_word "$got")" = valid ] ||
	    fail_with "signature: $(status_of "$got" X-Mailseal-Signature)"
	grep -q "Inbound $MARK" "$got" || fail_with "the body was not decrypted"

	# as a plain filter (procmail, Sieve): the same result on stdout
	rm -f "$T"/out/*
	mailseal-filter --incoming <"$T/enc.eml" >"$T/filtered.eml" ||
	    fail_with "the filter form failed"
	[ "$(copies)" = 0 ] || fail_with "the filter form reinjected"
	[ "$(status_of "$T/filtered.eml" X-Mailseal-Decrypted)" = smime ] &&
	    [ "$(sig_word "$T/filtered.eml")" = valid ] ||
	    fail_with "the filter form did not decrypt and verify"
	grep -q "Inbound $MARK" "$T/filtered.eml" || fail_with "filter form: body"
}

@test "--incoming: the decrypter's warnings reach the recipient: a failed decryption and a decrypted entity from another sender" {
	# for a certificate whose key the store does not hold: it fails
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
	    -keyout "$T/other.key" -out "$T/other.pem" -subj /CN=other \
	    -days 30 2>/dev/null
	printf 'From: alice@example.test\nTo: bob@example.test\nSubject: in\n\nSecret %s\n' "$MARK" >"$T/plain.eml"
	cms_mail "$T/other.eml" alice@example.test bob@example.test \
	    "$T/plain.eml" "$T/other.pem"
	run mailseal-filter --incoming -f alice@example.test -- bob@example.test <"$T/other.eml"
	expect_status 0
	local got
	got=$(copy_for bob@example.test)
	[ "$(status_of "$got" X-Mailseal-Decrypt)" = failed ] ||
	    fail_with "no X-Mailseal-Decrypt: failed: $(header_block "$got")"
	[ "$(sig_word "$got")" = none ] || fail_with "signature: $(sig_word "$got")"
	! header_block "$got" | grep -qi '^X-Mailseal-Decrypted:' ||
	    fail_with "a failed decryption is reported as decrypted"
	cmp -s <(sed '1,/^$/d' "$T/other.eml") <(sed '1,/^$/d' "$got") ||
	    fail_with "the ciphertext did not go on as it came"

	# the entity inside says it is from mallory, the envelope from alice
	rm -f "$T"/out/*
	printf 'From: mallory@example.test\nSubject: in\n\nInner %s\n' "$MARK" >"$T/inner.eml"
	cms_mail "$T/ctx.eml" alice@example.test bob@example.test \
	    "$T/inner.eml" "$BASE/bob.pem"
	run mailseal-filter --incoming -f alice@example.test -- bob@example.test <"$T/ctx.eml"
	expect_status 0
	got=$(copy_for bob@example.test)
	[ "$(status_of "$got" X-Mailseal-Decrypted)" = smime ] ||
	    fail_with "not decrypted"
	[ "$(status_of "$got" X-Mailseal-Decrypt-Context)" = mismatch ] ||
	    fail_with "no X-Mailseal-Decrypt-Context: mismatch: $(header_block "$got")"
	[ "$(sig_word "$got")" = none ] || fail_with "signature: $(sig_word "$got")"
	grep -q "Inner $MARK" "$got" || fail_with "the body was not decrypted"
}

@test "--incoming: only keys bound to the envelope recipients decrypt: bob's S/MIME message is not decrypted for alice; a message to both is, for each" {
	printf 'From: mallory@example.org\nTo: bob@example.test\nSubject: in\n\nFor bob %s\n' "$MARK" >"$T/plain.eml"
	cms_mail "$T/bob.eml" mallory@example.org bob@example.test \
	    "$T/plain.eml" "$BASE/bob.pem"
	run mailseal-filter --incoming -f mallory@example.org -- alice@example.test <"$T/bob.eml"
	expect_status 0
	local got
	got=$(copy_for alice@example.test)
	[ "$(status_of "$got" X-Mailseal-Decrypt)" = "failed; reason=not-for-recipient" ] ||
	    fail_with "alice's copy: $(header_block "$got")"
	! grep -q "$MARK" "$got" || fail_with "bob's plaintext reached alice"
	cmp -s <(sed '1,/^$/d' "$T/bob.eml") <(sed '1,/^$/d' "$got") ||
	    fail_with "the ciphertext did not go on as it came"

	# the domain's certificate is bound to every recipient of the domain
	rm -f "$T"/out/*
	mkdir -p "$STORE/settings/domain"
	printf 'smime-domain-cert = %s\n' "$(fpr_of bob)" \
	    >"$STORE/settings/domain/example.test.conf"
	run mailseal-filter --incoming -f mallory@example.org -- alice@example.test <"$T/bob.eml"
	expect_status 0
	got=$(copy_for alice@example.test)
	[ "$(status_of "$got" X-Mailseal-Decrypted)" = smime ] ||
	    fail_with "the domain certificate did not open it: $(header_block "$got")"
	rm "$STORE/settings/domain/example.test.conf"

	# to both: each decrypted with a key of its own
	rm -f "$T"/out/*
	cms_mail "$T/both.eml" mallory@example.org \
	    "alice@example.test, bob@example.test" "$T/plain.eml" \
	    "$BASE/alice.pem" "$BASE/bob.pem"
	run mailseal-filter --incoming -f mallory@example.org -- \
	    alice@example.test bob@example.test <"$T/both.eml"
	expect_status 0
	local r
	for r in alice@example.test bob@example.test; do
		got=$(copy_for "$r")
		[ "$(status_of "$got" X-Mailseal-Decrypted)" = smime ] ||
		    fail_with "$r: not decrypted: $(header_block "$got")"
		grep -q "For bob $MARK" "$got" || fail_with "$r: body"
	done
}

@test "--incoming: only keys bound to the envelope recipients decrypt: an OpenPGP message to carol is not decrypted for dave" {
	carol_armored "$T/body.asc"
	pgp-keys generate dave@example.test >/dev/null
	{
		printf 'From: mallory@example.org\nTo: carol@example.test\nSubject: in\n\n'
		cat "$T/body.asc"
	} >"$T/enc.eml"
	run mailseal-filter --incoming -f mallory@example.org -- dave@example.test <"$T/enc.eml"
	expect_status 0
	got=$(copy_for dave@example.test)
	[ "$(status_of "$got" X-Mailseal-Decrypt)" = "failed; reason=not-for-recipient" ] ||
	    fail_with "dave's copy: $(header_block "$got")"
	! grep -q "Inbound $MARK" "$got" || fail_with "carol's plaintext reached dave"
	! header_block "$got" | grep -qi '^X-Mailseal-Decrypted:' ||
	    fail_with "reported as decrypted"
	# carol herself gets it decrypted
	rm -f "$T"/out/*
	incoming_decrypted "$T/enc.eml"
}

# incoming_decrypted IN - --incoming for carol decrypts the OpenPGP
# message IN; $got is carol's copy
incoming_decrypted() {
	run mailseal-filter --incoming -f alice@example.test -- \
	    carol@example.test <"$1"
	expect_status 0
	got=$(copy_for carol@example.test)
	[ "$(status_of "$got" X-Mailseal-Decrypted)" = pgp ] ||
	    fail_with "no X-Mailseal-Decrypted: pgp"
	grep -q "Inbound $MARK" "$got" || fail_with "the body was not decrypted"
}

# carol_armored OUT - a key for carol, and "Inbound $MARK" encrypted to
# it by gpg, armored, in OUT
carol_armored() {
	CAROL=$(pgp-keys generate carol@example.test)
	pgp-keys export "$CAROL" >"$T/carol.pub"
	pg_gpg --import "$T/carol.pub" 2>/dev/null
	printf 'Inbound %s\n' "$MARK" | pg_gpg --trust-model always --armor \
	    --encrypt -r carol@example.test >"$1" 2>/dev/null
}

@test "--incoming: OpenPGP mail encrypted by gpg is decrypted; unsigned mail is marked none; forged fields go" {
	carol_armored "$T/body.asc"
	{
		printf 'From: alice@example.test\nTo: carol@example.test\nSubject: in\n'
		printf 'X-Mailseal-Decrypted: pgp\nX-Mailseal-Signature: valid\n\n'
		cat "$T/body.asc"
	} >"$T/enc.eml"
	incoming_decrypted "$T/enc.eml"
	[ "$(sig_word "$got")" = none ] || fail_with "a forged signature status survived"

	# plain inbound mail: only our own fields, which say "none"
	rm -f "$T"/out/*
	run mailseal-filter --incoming -f alice@example.test -- carol@example.test <"$MSG"
	expect_status 0
	got=$(copy_for carol@example.test)
	[ "$(sig_word "$got")" = none ] || fail_with "plain mail is not 'none'"
	! header_block "$got" | grep -qi '^X-Mailseal-DLP' || fail_with "a forged field survived"
}

@test "--incoming: inline OpenPGP is found by the root's decoded text (base64 decrypted; a quoted block is not decrypted)" {
	carol_armored "$T/body.asc"
	{
		printf 'From: alice@example.test\nTo: carol@example.test\nSubject: in\n'
		printf 'MIME-Version: 1.0\nContent-Type: text/plain\n'
		printf 'Content-Transfer-Encoding: base64\n\n'
		base64 -w 76 "$T/body.asc"
	} >"$T/enc.eml"
	incoming_decrypted "$T/enc.eml"

	# a reply that quotes an armored block holds no message to decrypt
	rm -f "$T"/out/*
	{
		printf 'From: alice@example.test\nTo: carol@example.test\nSubject: re\n\n'
		printf 'You wrote:\n'
		sed 's/^/> /' "$T/body.asc"
	} >"$T/quote.eml"
	run mailseal-filter --incoming -f alice@example.test -- carol@example.test <"$T/quote.eml"
	expect_status 0
	got=$(copy_for carol@example.test)
	! header_block "$got" | grep -qi '^X-Mailseal-Decrypt' ||
	    fail_with "a quoted block was taken for an encrypted message"
	grep -q '^> -----BEGIN PGP MESSAGE-----' "$got" ||
	    fail_with "the quoted block changed"
}

@test "the subject trigger: the copy is encrypted and its Subject no longer carries the trigger; without a method it is refused" {
	sed -i 's/^Subject: quarterly figures/Subject: [encrypt] quarterly figures/' "$MSG"
	run mailseal-filter -f alice@example.test -- bob@example.test <"$MSG"
	expect_status 0
	local bob
	bob=$(copy_for bob@example.test)
	header_block "$bob" | grep -qx 'Subject: quarterly figures' ||
	    fail_with "Subject: $(header_block "$bob" | grep '^Subject')"
	openssl cms -decrypt -in "$bob" -recip "$BASE/bob.pem" \
	    -inkey "$BASE/bob.key" -out "$T/bob.txt" ||
	    fail_with "openssl cannot decrypt bob's copy"
	grep -q "The body with $MARK in it." "$T/bob.txt" || fail_with "body differs"
	# erin has nothing: the trigger makes encryption mandatory
	rm -f "$T"/out/*
	run --separate-stderr mailseal-filter -f alice@example.test -- erin@example.test <"$MSG"
	expect_status 69
	[[ ${stderr_lines[0]} == "5.7.1 "* ]] || fail_with "no 5.7.1 line"
	[ "$(copies)" = 0 ] || fail_with "the message went out in plain text"
	# no private directory is left behind
	[ -z "$(find "${TMPDIR:-/tmp}" -maxdepth 1 -name 'mailseal-filter.*' -user "$(id -u)" -newer "$MSG")" ] ||
	    fail_with "a temporary directory was left"
}

@test "with a queue id, a retry after a partial run sends only the copies that did not go out" {
	printf '#!/bin/sh\ncat >"%s/first.eml.$$"\n[ "$(ls "%s" | grep -c "^first.eml")" -le 1 ] || exit 1\n' \
	    "$T" "$T" >"$T/second.sh"
	chmod 755 "$T/second.sh"
	MAILSEAL_SENDMAIL=$T/second.sh run mailseal-filter -q 4jcQ1 \
	    -f alice@example.test -- erin@example.test bob@example.test <"$MSG"
	expect_status 75
	# Postfix retries the same queue file: only bob's copy is sent
	run mailseal-filter -q 4jcQ1 -f alice@example.test -- \
	    erin@example.test bob@example.test <"$MSG"
	expect_status 0
	[ "$(copies)" = 1 ] || fail_with "$(copies) copies on the retry"
	copy_for bob@example.test >/dev/null || fail_with "bob's copy did not go out"
	# a third run sends nothing at all; another queue id is another message
	run mailseal-filter -q 4jcQ1 -f alice@example.test -- \
	    erin@example.test bob@example.test <"$MSG"
	expect_status 0
	[ "$(copies)" = 1 ] || fail_with "a finished queue file was sent again"
	run mailseal-filter -q 4jcQ2 -f alice@example.test -- erin@example.test <"$MSG"
	expect_status 0
	[ "$(copies)" = 2 ] || fail_with "another queue id was not sent"
	[ "$(stat -c %a "$STORE/spool/sent")" = 700 ] || fail_with "spool is not private"
}

# dlp_policy ACTION - a store policy: a card number with a card keyword
# gets ACTION
dlp_policy() {
	mkdir -p "$STORE/policies"
	printf 'rule cards\n\twhen payment_card confidence >= medium\n\taction %s\n' \
	    "$1" >"$STORE/policies/t.policy"
	echo 'dlp-policies = t' >"$STORE/settings/global.conf"
	# a card number (Luhn-valid, not a published test number)
	CARD=4556737586899855
	sed -i "s/^The body with .*/The body with $MARK in it. Card $CARD, expiry 12\/29./" "$MSG"
}

@test "DLP through mailseal-filter: warn delivers, the verdict not in the copy; must-encrypt turns plain into a refusal and encrypts where it can" {
	dlp_policy warn
	run mailseal-filter -f alice@example.test -- erin@example.test <"$MSG"
	expect_status 0
	local erin
	erin=$(copy_for erin@example.test)
	! header_block "$erin" | grep -qi '^X-Mailseal-DLP' ||
	    fail_with "the verdict went out with the copy"
	grep -q "Card $CARD" "$erin" || fail_with "warn changed the body"

	dlp_policy must-encrypt
	rm -f "$T"/out/*
	run --separate-stderr mailseal-filter -f alice@example.test -- erin@example.test <"$MSG"
	expect_status 69
	[[ ${stderr_lines[0]} == "5.7.1 "* ]] || fail_with "no 5.7.1 line"
	[[ $stderr != *"$CARD"* && $stderr != *"$MARK"* ]] || fail_with "content in the diagnostics"
	[ "$(copies)" = 0 ] || fail_with "must-encrypt went out in plain text"
	# bob has a certificate: his copy is encrypted
	run mailseal-filter -f alice@example.test -- bob@example.test <"$MSG"
	expect_status 0
	local bob
	bob=$(copy_for bob@example.test)
	! grep -q "$CARD" "$bob" || fail_with "the card number is in bob's copy"
	header_block "$bob" | grep -qi '^Content-Type: application/pkcs7-mime' ||
	    fail_with "bob's copy is not encrypted"
}

@test "DLP through mailseal-filter: quarantine stores and sends nothing until released; block bounces without content" {
	dlp_policy quarantine
	run mailseal-filter -f alice@example.test -- erin@example.test <"$MSG"
	expect_status 0
	[ "$(copies)" = 0 ] || fail_with "a quarantined message went out"
	local id
	id=$(dlp-scan quarantine list | awk 'NR == 1 { print $1 }')
	[ -n "$id" ] || fail_with "nothing in the quarantine"
	dlp-scan quarantine show "$id" >"$T/held.eml" ||
	    fail_with "show failed"
	grep -q "Card $CARD" "$T/held.eml" || fail_with "the held message differs"

	dlp_policy block
	run --separate-stderr mailseal-filter -f alice@example.test -- erin@example.test <"$MSG"
	expect_status 69
	[[ ${stderr_lines[0]} == "5.7."* ]] || fail_with "no 5.7.x line: $stderr"
	[[ $stderr != *"$CARD"* && $stderr != *"4556"* && $stderr != *"$MARK"* ]] ||
	    fail_with "content in the refusal"
	[ "$(copies)" = 0 ] || fail_with "a blocked message went out"

	# dlp = no in global.conf: no scan at all
	echo 'dlp = no' >"$STORE/settings/global.conf"
	run mailseal-filter -f alice@example.test -- erin@example.test <"$MSG"
	expect_status 0
	[ "$(copies)" = 1 ] || fail_with "with dlp = no the message was not sent"
}

# held_id - the id of the one quarantine entry
held_id() {
	dlp-scan quarantine list | awk 'NR == 1 { print $1 }'
}

@test "quarantine: the runs of one queue file make one entry with the envelope, subject, verdict and size; Postfix is told it is held" {
	dlp_policy quarantine
	local r
	for r in bob@example.test carol@example.test erin@example.test; do
		run --separate-stderr mailseal-filter -q 4jcAB12 -f alice@example.test -- "$r" <"$MSG"
		expect_status 0
		[[ ${stderr_lines[0]} == "2.0.0 held in quarantine as "*", not delivered" ]] ||
		    fail_with "status text for $r: $stderr"
	done
	[ "$(copies)" = 0 ] || fail_with "a held message went out"
	run dlp-scan quarantine list
	expect_status 0
	[ "${#lines[@]}" = 1 ] || fail_with "one message, ${#lines[@]} entries: $output"
	local id
	id=${lines[0]%% *}
	[[ ${lines[0]} =~ ^$id\ [0-9T:-]+Z\ held\ [0-9]+\ alice@example.test\ bob@example.test,carol@example.test,erin@example.test\ quarantine\ cards\ quarterly\ figures$ ]] ||
	    fail_with "list: ${lines[0]}"
	[[ $output != *"$CARD"* && $output != *"$MARK"* ]] || fail_with "content in the list"
	# another queue file with the same message is another entry
	run mailseal-filter -q 4jcAB13 -f alice@example.test -- bob@example.test <"$MSG"
	expect_status 0
	[ "$(dlp-scan quarantine list | wc -l)" = 2 ] || fail_with "queue files joined"
}

@test "quarantine release: the whole outgoing path with only DLP skipped: a mandatory recipient gets it S/MIME-encrypted, once" {
	echo 'encrypt-mode = mandatory' >"$STORE/settings/user/bob@example.test.conf"
	dlp_policy quarantine
	run mailseal-filter -q 9XyZ01 -f alice@example.test -- bob@example.test <"$MSG"
	expect_status 0
	run mailseal-filter -q 9XyZ01 -f alice@example.test -- erin@example.test <"$MSG"
	expect_status 0
	[ "$(copies)" = 0 ] || fail_with "a held message went out"
	local id bob erin
	id=$(held_id)
	run --separate-stderr dlp-scan quarantine release "$id"
	expect_status 0
	[ -z "$output" ] || fail_with "release wrote the message to stdout"
	[[ $stderr == *"quarantine: $id released by uid "* && $stderr == *"release=$id"* ]] ||
	    fail_with "the release is not logged: $stderr"
	[[ $stderr != *"$CARD"* && $stderr != *"$MARK"* ]] || fail_with "content in the log"
	[ "$(copies)" = 2 ] || fail_with "expected 2 reinjections, got $(copies)"
	bob=$(copy_for bob@example.test)
	[ "$(cat "${bob%.eml}.args")" = "$(printf '%s\n' -f alice@example.test -- bob@example.test)" ] ||
	    fail_with "bob's envelope: $(cat "${bob%.eml}.args")"
	! grep -q "$CARD" "$bob" && ! grep -q "$MARK" "$bob" ||
	    fail_with "plaintext in the mandatory recipient's copy"
	openssl cms -decrypt -in "$bob" -recip "$BASE/bob.pem" \
	    -inkey "$BASE/bob.key" -out "$T/bob.txt" ||
	    fail_with "openssl cannot decrypt bob's copy"
	grep -q "Card $CARD" "$T/bob.txt" || fail_with "bob's decrypted body differs"
	erin=$(copy_for erin@example.test)
	grep -q "Card $CARD" "$erin" || fail_with "erin's copy lost the body"
	# single use
	run --separate-stderr dlp-scan quarantine release "$id"
	expect_status 1
	[ "$(copies)" = 2 ] || fail_with "released twice"
	run dlp-scan quarantine list
	[[ $output == "$id "*" released "* ]] || fail_with "state: $output"
	# the message itself is still there to look at, then goes
	dlp-scan quarantine show "$id" | grep -q "Card $CARD" || fail_with "show"
	run dlp-scan quarantine delete "$id"
	expect_status 0
	[ -z "$(dlp-scan quarantine list)" ] || fail_with "still listed"
}

@test "quarantine release: only by id from the store; with an envelope or a message from the caller it is a usage error" {
	run --separate-stderr mailseal-filter --release 0123456789abcdef0123456789abcdef \
	    -f alice@example.test -- bob@example.test <"$MSG"
	expect_status 64
	run --separate-stderr mailseal-filter --release 0123456789abcdef0123456789abcdef <"$MSG"
	expect_status 1
	[[ $stderr == *"no such quarantine entry"* ]] || fail_with "$stderr"
	[ "$(copies)" = 0 ] || fail_with "the caller's message went out"
}

@test "quarantine release: a failed reinjection defers (75) and leaves the entry held for another release" {
	dlp_policy quarantine
	run mailseal-filter -q 7Fail01 -f alice@example.test -- erin@example.test <"$MSG"
	expect_status 0
	local id
	id=$(held_id)
	printf '#!/bin/sh\nexit 75\n' >"$T/broken.sh"
	chmod 755 "$T/broken.sh"
	MAILSEAL_SENDMAIL=$T/broken.sh run --separate-stderr dlp-scan quarantine release "$id"
	expect_status 75
	run dlp-scan quarantine list
	[[ $output == "$id "*" held "* ]] || fail_with "state after a failure: $output"
	run dlp-scan quarantine release "$id"
	expect_status 0
	[ "$(copies)" = 1 ] || fail_with "expected 1 reinjection, got $(copies)"
	grep -q "Card $CARD" "$(copy_for erin@example.test)" || fail_with "erin's copy"
}

@test "quarantine quota: a hold past quarantine-max-size defers (75) with nothing stored or sent" {
	dlp_policy quarantine
	echo 'quarantine-max-size = 1K' >>"$STORE/settings/global.conf"
	head -c 3000 /dev/zero | tr '\0' 'x' | fold -w 70 >>"$MSG"
	run --separate-stderr mailseal-filter -q 4jcAB14 -f alice@example.test -- bob@example.test <"$MSG"
	expect_status 75
	[[ $stderr == *"quarantine is full"* ]] || fail_with "$stderr"
	[ -z "$(dlp-scan quarantine list)" ] || fail_with "stored past the quota"
	[ "$(copies)" = 0 ] || fail_with "sent"
	sed -i 's/^quarantine-max-size = 1K$/quarantine-max-size = 1M/' "$STORE/settings/global.conf"
	run mailseal-filter -q 4jcAB14 -f alice@example.test -- bob@example.test <"$MSG"
	expect_status 0
	[ "$(dlp-scan quarantine list | wc -l)" = 1 ] || fail_with "not held under the quota"
}

@test "a copy that comes back to the gateway is a mail loop: 4.4.6 and 75; an old or forged marker is removed and the mail goes out" {
	run mailseal-filter -f alice@example.test -- erin@example.test <"$MSG"
	expect_status 0
	local erin
	erin=$(copy_for erin@example.test)
	# the content filter also on the reinjection path: the copy returns
	run --separate-stderr mailseal-filter -f alice@example.test -- erin@example.test <"$erin"
	expect_status 75
	[[ ${stderr_lines[0]} == "4.4.6 mail loop"* ]] || fail_with "no 4.4.6 line: $stderr"
	[ "$(copies)" = 1 ] || fail_with "the looping copy was sent again"
	# another Message-ID (the marker does not verify), a marker from
	# another gateway, and one older than the window: foreign, removed
	sed 's/^Message-ID: <m1@example.test>/Message-ID: <m2@example.test>/' "$erin" >"$T/other.eml"
	run mailseal-filter -f alice@example.test -- erin@example.test <"$T/other.eml"
	expect_status 0
	# a marker made with this gateway's key an hour ago: out of the window
	local old mac
	old=$(( $(date +%s) - 3600 ))
	mac=$(python3 -c 'import hmac, hashlib, sys
key = open(sys.argv[1], "rb").read()
print(hmac.new(key, ("v2\n%s\n%s\n%s" % (sys.argv[2], sys.argv[3], sys.argv[4])).encode(),
    hashlib.sha256).hexdigest())' "$STORE/spool/instance.key" "$old" '<m1@example.test>' alice@example.test)
	sed "s/^X-Mailseal-Processed: .*/X-Mailseal-Processed: v2; t=$old; mac=$mac/" "$erin" >"$T/old.eml"
	# (the same computation for the marker's own time gives its MAC: the
	# test computes what the filter computes)
	local t0 mac0
	t0=$(sed -n 's/^X-Mailseal-Processed: v2; t=\([0-9]*\);.*/\1/p' "$erin")
	mac0=$(python3 -c 'import hmac, hashlib, sys
key = open(sys.argv[1], "rb").read()
print(hmac.new(key, ("v2\n%s\n%s\n%s" % (sys.argv[2], sys.argv[3], sys.argv[4])).encode(),
    hashlib.sha256).hexdigest())' "$STORE/spool/instance.key" "$t0" '<m1@example.test>' alice@example.test)
	grep -q "mac=$mac0\$" "$erin" || fail_with "the marker's MAC is not HMAC-SHA256(key, v2, t, Message-ID, sender)"
	run mailseal-filter -f alice@example.test -- erin@example.test <"$T/old.eml"
	expect_status 0
	[ "$(copies)" = 3 ] || fail_with "foreign markers stopped the mail"
	[ "$(header_block "$T/out/2.eml" | grep -ci '^X-Mailseal-Processed:')" = 1 ] ||
	    fail_with "the old marker was kept beside the new one"
	[ "$(stat -c %a "$STORE/spool/instance.key")" = 600 ] || fail_with "the key is not private"
	# a mailing list sends the copy on to a member, from its own envelope
	# sender: no loop
	run mailseal-filter -f list-bounces@example.test -- frank@example.test <"$erin"
	expect_status 0
	copy_for frank@example.test >/dev/null || fail_with "the list's copy was held"
}

@test "a recipient routed to pdf gets an encrypted PDF; with random passwords the sender gets the password first, and the PDF opens with it" {
	mkdir -p "$STORE/pdf"
	head -c 32 /dev/urandom >"$STORE/pdf/random.key"
	chmod 600 "$STORE/pdf/random.key"
	printf 'methods = smime pgp pdf\npdf-password-mode = random-to-sender\n' \
	    >"$STORE/settings/user/frank@example.test.conf"
	run mailseal-filter -q 4jcPDF1 --sasl-username alice@example.test -f alice@example.test -- frank@example.test <"$MSG"
	expect_status 0
	[ "$(copies)" = 2 ] || fail_with "expected a notice and a copy, got $(copies)"
	# first the notice, from the null sender to alice
	[ "$(cat "$T/out/0.args")" = "$(printf '%s\n' -f '' -- alice@example.test)" ] ||
	    fail_with "notice envelope: $(cat "$T/out/0.args")"
	! grep -q "$MARK" "$T/out/0.eml" || fail_with "the notice carries the body"
	local pw
	pw=$(python3 -c 'import email, sys
m = email.message_from_binary_file(open(sys.argv[1], "rb"))
for p in m.walk():
    if p.get_content_maintype() == "text":
        sys.stdout.write(p.get_payload(decode=True).decode("utf-8", "replace"))' "$T/out/0.eml" |
	    sed -n 's/^ *\([2-9A-Z]\{16\}\)$/\1/p' | head -n 1)
	[ -n "$pw" ] || fail_with "no password in the notice"
	# then frank's copy: a PDF that needs the password and holds the body
	local frank
	frank=$(copy_for frank@example.test)
	! grep -q "$MARK" "$frank" || fail_with "plaintext in frank's copy"
	python3 - "$frank" "$T/message.pdf" <<'PY'
import email, sys
msg = email.message_from_binary_file(open(sys.argv[1], "rb"))
for part in msg.walk():
    if part.get_content_type() == "application/pdf":
        open(sys.argv[2], "wb").write(part.get_payload(decode=True))
        break
else:
    sys.exit("no PDF part")
PY
	run qpdf --requires-password "$T/message.pdf"
	expect_status 0
	pdftotext -upw "$pw" "$T/message.pdf" "$T/message.txt" ||
	    fail_with "the PDF does not open with the notice's password"
	grep -q "$MARK" "$T/message.txt" || fail_with "the PDF lost the body"
	! pdftotext -upw WRONGPASSWORD1234 "$T/message.pdf" /dev/null 2>/dev/null ||
	    fail_with "a wrong password opens the PDF"
	# no notice file is left behind
	[ -z "$(find "${TMPDIR:-/tmp}" -maxdepth 1 -name 'mailseal-filter.*' -newer "$MSG" 2>/dev/null)" ] ||
	    fail_with "a private directory was left"
}

@test "one process, one parse: signed by the sender, scanned and encrypted, the message is parsed once, settings and the trust store load once, and only the reinjection starts (MAILSEAL_COUNTS)" {
	echo 'sign = smime' >"$STORE/settings/user/alice@example.test.conf"
	MAILSEAL_COUNTS=$T/counts run mailseal-filter --sasl-username alice@example.test -f alice@example.test \
	    -- bob@example.test erin@example.test <"$MSG"
	expect_status 0
	# no program of ours ran beside the filter: one line, its own
	[ "$(cat "$T/counts")" = \
	    "mailseal-filter parses=1 settings=1 trust=1 processes=2" ] ||
	    fail_with "counts: $(cat "$T/counts")"
	# and the work was done: bob's copy is signed and encrypted, erin's
	# signed, both from the one parse
	local bob erin
	bob=$(copy_for bob@example.test)
	erin=$(copy_for erin@example.test)
	bob_signed_copy "$bob"
	openssl cms -verify -in "$erin" -CAfile "$BASE/root.pem" \
	    -out "$T/erin.txt" 2>/dev/null || fail_with "erin's signature does not verify"
	grep -q "$MARK" "$T/erin.txt" || fail_with "erin's copy lost the body"
	# a relative path is no place to write
	MAILSEAL_COUNTS=counts run mailseal-filter --sasl-username alice@example.test -f alice@example.test \
	    -- erin@example.test <"$MSG"
	expect_status 0
	[ ! -e counts ] || fail_with "counts written to a relative path"
}

@test "a leading UTF-8 byte-order mark is left out, before the header or an mbox From line, from a file or a pipe" {
	local f n=0 corpus=$BATS_TEST_DIRNAME/../corpus/realmail
	printf '\357\273\277' >"$T/bom.eml"
	cat "$MSG" >>"$T/bom.eml"
	printf '\357\273\277From alice@example.test Mon Jan  1 00:00:00 2024\n' >"$T/bom-mbox.eml"
	cat "$MSG" >>"$T/bom-mbox.eml"
	for f in "$T/bom.eml" "$T/bom-mbox.eml" \
	    "$corpus/0116-mimekit-feedback-report.eml" \
	    "$corpus/0168-mimekit-unmunged.mbox-1.eml"; do
		run mailseal-filter -f alice@example.test -- erin@example.test <"$f"
		expect_status 0
		run sh -c 'cat "$1" | mailseal-filter -f alice@example.test -- erin@example.test' sh "$f"
		expect_status 0
	done
	for f in "$T"/out/*.eml; do
		n=$((n + 1))
		! head -c 3 "$f" | grep -q "$(printf '\357\273\277')" ||
		    fail_with "$f: the mark is written"
		! grep -q '^From ' "$f" || fail_with "$f: the mbox line is written"
		header_block "$f" | grep -q '^X-Mailseal-Processed: ' ||
		    fail_with "$f: no loop marker"
		header_block "$f" | grep -q '^From: ' ||
		    fail_with "$f: From is no field of the header"
	done
	[ "$n" = 8 ] || fail_with "$n copies, not 8"
	[ "$(grep -l "The body with $MARK in it." "$T"/out/*.eml | wc -l)" = 4 ] ||
	    fail_with "the body is lost"
}

@test "an index entry whose certificate file is missing (a partial restore) defers; nothing goes out plain" {
	[ -f "$STORE/certs/$(fpr_of bob).pem" ] || fail_with "no certificate file for bob"
	rm "$STORE/certs/$(fpr_of bob).pem"
	run mailseal-filter -f alice@example.test -- bob@example.test <"$MSG"
	expect_status 75
	[ "$(copies)" = 0 ] || fail_with "a copy went out"
	[[ $output == *"index"*"missing"* ]] || fail_with "no word of the damaged index"
	# smime-enc alone too
	run smime-enc bob@example.test <"$MSG"
	expect_status 75
	[ -z "$output" ] || ! grep -q "$MARK" <<<"$output" || fail_with "plaintext written"
}

@test "--incoming: a key index entry whose files are missing defers; the ciphertext is not marked failed" {
	printf 'From: mallory@example.org\nTo: bob@example.test\nSubject: in\n\nFor bob %s\n' "$MARK" >"$T/plain.eml"
	cms_mail "$T/bob.eml" mallory@example.org bob@example.test \
	    "$T/plain.eml" "$BASE/bob.pem"
	rm "$STORE/keys/$(fpr_of bob).key"
	run mailseal-filter --incoming -f mallory@example.org -- bob@example.test <"$T/bob.eml"
	expect_status 75
	[ "$(copies)" = 0 ] || fail_with "a copy went out"
}

# smtp_sink KEYWORD... - a one-session SMTP server offering the EHLO
# keywords; its port in $SINK_PORT, what it was sent in $T/smtp.log
smtp_sink() {
	rm -f "$T/smtp.port" "$T/smtp.log"
	python3 "$BATS_TEST_DIRNAME/../fixtures/smtp/sink.py" "$T/smtp.port" \
	    "$T/smtp.log" "$@" 3>&- &
	SINK_PID=$!
	local i
	for i in $(seq 100); do
		[ -s "$T/smtp.port" ] && break
		sleep 0.1
	done
	SINK_PORT=$(cat "$T/smtp.port")
}

@test "--incoming with SMTP reinjection asks for headers-only DSNs (RET=HDRS), the outgoing path does not; a server without DSN defers decrypted mail" {
	smtp_sink 8BITMIME DSN
	echo "reinject-smtp = 127.0.0.1:$SINK_PORT" >>"$STORE/settings/global.conf"
	run mailseal-filter --incoming -f mallory@example.org -- bob@example.test <"$MSG"
	expect_status 0
	wait "$SINK_PID"
	grep -q '^MAIL FROM:<mallory@example.org>.* RET=HDRS$' "$T/smtp.log" ||
	    fail_with "MAIL FROM: $(grep '^MAIL' "$T/smtp.log")"
	grep -q "The body with $MARK in it." "$T/smtp.log" || fail_with "no message"

	smtp_sink 8BITMIME DSN
	echo "reinject-smtp = 127.0.0.1:$SINK_PORT" >"$STORE/settings/global.conf"
	run mailseal-filter -f alice@example.test -- erin@example.test <"$MSG"
	expect_status 0
	wait "$SINK_PID"
	grep -q '^MAIL FROM:<alice@example.test>' "$T/smtp.log" &&
	    ! grep -q 'RET=' "$T/smtp.log" || fail_with "outgoing: $(grep '^MAIL' "$T/smtp.log")"

	smtp_sink 8BITMIME
	echo "reinject-smtp = 127.0.0.1:$SINK_PORT" >"$STORE/settings/global.conf"
	run mailseal-filter --incoming -f mallory@example.org -- bob@example.test <"$MSG"
	expect_status 75
	wait "$SINK_PID" || true
	! grep -q "$MARK" "$T/smtp.log" || fail_with "sent without RET=HDRS"
	[[ $output == *DSN* ]] || fail_with "no word of DSN: $output"
}

@test "a plaintext dressed as PGP/MIME is no encrypted message: scanned by DLP and encrypted to a mandatory recipient" {
	printf 'encrypt-mode = mandatory\n' >"$STORE/settings/user/bob@example.test.conf"
	{
		printf 'From: alice@example.test\nTo: bob@example.test\nSubject: dressed\n'
		printf 'MIME-Version: 1.0\nContent-Type: multipart/encrypted; '
		printf 'protocol="application/pgp-encrypted"; boundary="b"\n\n'
		printf -- '--b\nContent-Type: application/pgp-encrypted\n\nVersion: 1\n\n'
		printf -- '--b\nContent-Type: text/plain\n\ncard 4556 7375 8689 9855 %s\n' "$MARK"
		printf -- '--b--\n'
	} >"$T/dressed.eml"
	run mailseal-filter -f alice@example.test -- bob@example.test <"$T/dressed.eml"
	expect_status 0
	local bob
	bob=$(copy_for bob@example.test)
	! grep -q "$MARK" "$bob" || fail_with "plaintext to bob"
	openssl cms -decrypt -in "$bob" -recip "$BASE/bob.pem" \
	    -inkey "$BASE/bob.key" -out "$T/bob.txt" ||
	    fail_with "bob's copy is not S/MIME encrypted to bob"
	grep -q "$MARK" "$T/bob.txt" || fail_with "bob's content"
}

@test "no X-Mailseal- field but the loop marker reaches a recipient, inside the encryption included" {
	carol_key
	sed -i "s/^The body with .*/The body with $MARK in it, card 4556 7375 8689 9855./" "$MSG"
	run mailseal-filter -f alice@example.test -- bob@example.test carol@example.test <"$MSG"
	expect_status 0
	local bob carol
	bob=$(copy_for bob@example.test)
	carol=$(copy_for carol@example.test)
	openssl cms -decrypt -in "$bob" -recip "$BASE/bob.pem" \
	    -inkey "$BASE/bob.key" -out "$T/bob.txt" || fail_with "bob"
	pg_py armor "$carol" "$T/carol.asc"
	pg_gpg --decrypt "$T/carol.asc" >"$T/carol.txt" 2>/dev/null || fail_with "carol"
	local f
	for f in "$bob" "$T/bob.txt" "$carol" "$T/carol.txt"; do
		grep -i '^X-Mailseal-' "$f" | grep -vqi '^X-Mailseal-Processed:' &&
		    fail_with "$f: $(grep -i '^X-Mailseal-' "$f")"
	done
	grep -q "$MARK" "$T/bob.txt" && grep -q "$MARK" "$T/carol.txt" ||
	    fail_with "content"
}

@test "a quoted local part with a space, valid in RFC 5321, is served and passed on as one argument; the other recipients are not bounced" {
	run mailseal-filter -f alice@example.test -- '"john smith"@partner.example' \
	    bob@example.test <"$MSG"
	expect_status 0
	local john
	john=$(copy_for '"john smith"@partner.example')
	grep -q "The body with $MARK in it." "$john" || fail_with "john's copy"
	[ "$(tail -n 1 "${john%.eml}.args")" = '"john smith"@partner.example' ] ||
	    fail_with "arguments: $(cat "${john%.eml}.args")"
	copy_for bob@example.test >/dev/null || fail_with "bob got nothing"
	# a space outside the quotes stays refused
	run mailseal-filter -f alice@example.test -- '"a b"@x -r evil' <"$MSG"
	expect_status 69
}

@test "a message without an archive: libzip, libxml2 and ICU are not loaded" {
	# what DLP needs for ZIP and office attachments is loaded when one
	# is scanned, not at every start of the filter
	LD_DEBUG=files mailseal-filter -f alice@example.test \
	    -- erin@example.test <"$MSG" 2>"$T/ld.err" ||
	    fail_with "mailseal-filter failed: $(grep -v '^ *[0-9]*:' "$T/ld.err")"
	grep -q 'file=libcrypto' "$T/ld.err" || fail_with "no LD_DEBUG output"
	! grep -E 'file=(libzip|libxml2|libicu)' "$T/ld.err" ||
	    fail_with "loaded without an archive"
	[ "$(ls "$T"/out/*.eml | wc -l)" = 1 ] || fail_with "no copy sent"
}

@test "a copy that would exceed reinject-max-size is refused with 5.3.4 before any copy goes out" {
	# the plain copy fits, bob's S/MIME copy does not
	printf 'reinject-max-size = %s\n' "$(( $(wc -c <"$MSG") + 400 ))" \
	    >>"$STORE/settings/global.conf"
	run --separate-stderr mailseal-filter -f alice@example.test -- \
	    erin@example.test bob@example.test <"$MSG"
	expect_status 69
	[[ ${stderr_lines[0]} == "5.3.4 "* ]] || fail_with "no 5.3.4 line: $stderr"
	[[ $stderr != *"$MARK"* ]] || fail_with "content in the refusal"
	[ "$(copies)" = 0 ] || fail_with "a copy went out before the refusal"
	# within the limit all goes out
	printf 'reinject-max-size = 10M\n' >"$STORE/settings/global.conf"
	run mailseal-filter -f alice@example.test -- erin@example.test bob@example.test <"$MSG"
	expect_status 0
	[ "$(copies)" = 2 ] || fail_with "copies: $(copies)"
}

@test "a PDF password notice is never a file: SIGKILL during reinjection leaves nothing in TMPDIR" {
	mkdir -p "$STORE/pdf" "$T/tmp"
	head -c 32 /dev/urandom >"$STORE/pdf/random.key"
	chmod 600 "$STORE/pdf/random.key"
	printf 'methods = smime pgp pdf\npdf-password-mode = random-to-sender\n' \
	    >"$STORE/settings/user/frank@example.test.conf"
	# the reinjection command kills the filter while the notice is sent
	cat >"$T/killer.sh" <<'EOF2'
#!/bin/sh
cat >/dev/null
kill -KILL "$PPID"
sleep 5
EOF2
	chmod 755 "$T/killer.sh"
	TMPDIR=$T/tmp MAILSEAL_SENDMAIL=$T/killer.sh run mailseal-filter \
	    -q 4jcPDF2 --sasl-username alice@example.test -f alice@example.test -- frank@example.test <"$MSG"
	[ "$status" = 137 ] || fail_with "status $status: the filter was not killed"
	[ -z "$(find "$T/tmp" -mindepth 1 2>/dev/null)" ] ||
	    fail_with "left in TMPDIR: $(find "$T/tmp" -mindepth 1)"
}

@test "Bcc stays private: a recipient the To and Cc fields do not name gets a copy of its own; OpenPGP copies hide the key IDs" {
	sed -i 's/^To: .*/To: alice@example.test/' "$MSG"
	run mailseal-filter -f alice@example.test -- alice@example.test bob@example.test <"$MSG"
	expect_status 0
	[ "$(copies)" = 2 ] || fail_with "bob (Bcc) shares a copy: $(copies) copies"
	local a b
	a=$(copy_for alice@example.test)
	b=$(copy_for bob@example.test)
	[ "$a" != "$b" ] || fail_with "one copy for both"
	openssl cms -cmsout -print -in "$a" >"$T/a.txt" 2>/dev/null || fail_with "alice's copy"
	# one recipient identifier (key transport or agreement) in the copy
	local ids
	ids=$(grep -c 'd.issuerAndSerialNumber:\|d.rKeyId:\|d.subjectKeyIdentifier:' "$T/a.txt")
	[ "$ids" = 1 ] || fail_with "alice's copy names $ids recipients"
	! openssl cms -decrypt -in "$a" -recip "$BASE/bob.pem" -inkey "$BASE/bob.key" \
	    -out /dev/null 2>/dev/null || fail_with "bob can open alice's copy"
	openssl cms -decrypt -in "$b" -recip "$BASE/bob.pem" -inkey "$BASE/bob.key" \
	    -out "$T/b.txt" && grep -q "$MARK" "$T/b.txt" || fail_with "bob's copy"

	# OpenPGP, both named: one copy, no key IDs in it
	rm -f "$T"/out/*
	carol_key
	local dave
	dave=$(pg_recipient dave@example.test) || fail_with "dave's key"
	sed -i 's/^To: .*/To: carol@example.test, dave@example.test/' "$MSG"
	run mailseal-filter -f alice@example.test -- carol@example.test dave@example.test <"$MSG"
	expect_status 0
	[ "$(copies)" = 1 ] || fail_with "copies: $(copies)"
	pg_py armor "$(copy_for carol@example.test)" "$T/cd.asc"
	gpg --batch --list-packets "$T/cd.asc" 2>/dev/null >"$T/packets.txt" || true
	grep -q 'keyid 0000000000000000' "$T/packets.txt" ||
	    fail_with "key IDs shown: $(grep keyid "$T/packets.txt")"
	pg_gpg --decrypt "$T/cd.asc" 2>/dev/null | grep -q "$MARK" ||
	    fail_with "the copy does not decrypt"
}

# signed_for ADDR - the copy for ADDR is S/MIME signed at its root
signed_for() {
	header_block "$(copy_for "$1")" | grep -qi '^Content-Type: multipart/signed'
}

@test "sender trust: only a sender something vouches for is signed: the SASL login of the address or one sender-logins lists, an internal network with an internal domain, or trust-envelope-sender when nothing is known" {
	echo 'sign = smime' >"$STORE/settings/user/alice@example.test.conf"
	# from the Internet with our address: never signed (no signing oracle)
	run mailseal-filter --client-address 203.0.113.5 --sasl-username '' \
	    -f alice@example.test -- erin@example.test <"$MSG"
	expect_status 0
	! signed_for erin@example.test || fail_with "a forged sender was signed for"
	rm -f "$T"/out/*
	run mailseal-filter --client-address 203.0.113.5 --sasl-username alice@example.test \
	    -f alice@example.test -- erin@example.test <"$MSG"
	expect_status 0
	signed_for erin@example.test || fail_with "the login of the address was not signed for"
	rm -f "$T"/out/*
	run mailseal-filter --client-address 203.0.113.5 --sasl-username bob \
	    -f alice@example.test -- erin@example.test <"$MSG"
	! signed_for erin@example.test || fail_with "another login was signed for"
	printf '# sender logins\nalice@example.test carol, bob\n' >"$STORE/sender-logins"
	rm -f "$T"/out/*
	run mailseal-filter --client-address 203.0.113.5 --sasl-username bob \
	    -f alice@example.test -- erin@example.test <"$MSG"
	signed_for erin@example.test || fail_with "a listed login was not signed for"
	printf '@example.test mallory\n' >"$STORE/sender-logins"
	rm -f "$T"/out/*
	run mailseal-filter --client-address 203.0.113.5 --sasl-username bob \
	    -f alice@example.test -- erin@example.test <"$MSG"
	! signed_for erin@example.test || fail_with "an unlisted login was signed for"
	# an internal network and an internal sender domain
	printf 'internal-networks = 10.0.0.0/8, 192.0.2.0/24\ninternal-domains = example.test\n' \
	    >>"$STORE/settings/global.conf"
	rm -f "$T"/out/*
	run mailseal-filter --client-address 10.1.2.3 --sasl-username '' \
	    -f alice@example.test -- erin@example.org <"$MSG"
	expect_status 0
	signed_for erin@example.org || fail_with "the internal network was not trusted"
	# without either option: trust-envelope-sender decides
	rm -f "$T"/out/*
	run mailseal-filter -f alice@example.test -- erin@example.org <"$MSG"
	! signed_for erin@example.org || fail_with "signed with nothing known"
	echo 'trust-envelope-sender = yes' >>"$STORE/settings/global.conf"
	rm -f "$T"/out/*
	run mailseal-filter -f alice@example.test -- erin@example.org <"$MSG"
	signed_for erin@example.org || fail_with "trust-envelope-sender ignored"
	# a network that does not parse defers
	echo 'internal-networks = 10.0.0.0/33' >"$STORE/settings/global.conf"
	run mailseal-filter --client-address 10.1.2.3 --sasl-username '' \
	    -f alice@example.test -- erin@example.org <"$MSG"
	expect_status 75
}

@test "internal recipients get the message as it came: never encrypted to them, though they have a certificate, unless encrypt-internal says so" {
	echo 'internal-domains = example.test' >"$STORE/settings/global.conf"
	run mailseal-filter --client-address 203.0.113.5 --sasl-username '' \
	    -f mallory@example.org -- bob@example.test <"$MSG"
	expect_status 0
	local bob
	bob=$(copy_for bob@example.test)
	grep -q "The body with $MARK in it." "$bob" || fail_with "bob's copy is not the message"
	! header_block "$bob" | grep -qi 'pkcs7' || fail_with "encrypted to an internal user"
	printf 'internal-domains = example.test\nencrypt-internal = yes\n' \
	    >"$STORE/settings/global.conf"
	rm -f "$T"/out/*
	run mailseal-filter --client-address 203.0.113.5 --sasl-username '' \
	    -f mallory@example.org -- bob@example.test <"$MSG"
	expect_status 0
	! grep -q "$MARK" "$(copy_for bob@example.test)" || fail_with "encrypt-internal ignored"
}

@test "quarantine release keeps the sender trust of the first run: an authenticated sender's released mail is signed, a forged one's is not" {
	echo 'sign = smime' >"$STORE/settings/user/alice@example.test.conf"
	dlp_policy quarantine
	run mailseal-filter -q 8Auth01 --client-address 198.51.100.7 \
	    --sasl-username alice@example.test -f alice@example.test -- erin@example.test <"$MSG"
	expect_status 0
	local id
	id=$(held_id)
	run dlp-scan quarantine release "$id"
	expect_status 0
	signed_for erin@example.test || fail_with "the authenticated sender's release is unsigned"
	rm -f "$T"/out/*
	run mailseal-filter -q 8Auth02 --client-address 198.51.100.7 \
	    --sasl-username '' -f alice@example.test -- frank@example.test <"$MSG"
	expect_status 0
	id=$(dlp-scan quarantine list | awk '/frank@example.test/ { print $1 }')
	[ -n "$id" ] || fail_with "not held"
	run dlp-scan quarantine release "$id"
	expect_status 0
	! signed_for frank@example.test || fail_with "the forged sender's release was signed"
}

@test "a domain certificate covers a recipient without one of its own: the copy opens with the domain's key; one the store does not hold defers" {
	mkdir -p "$STORE/settings/domain"
	printf 'smime-domain-cert = %s\n' "$(fpr_of bob)" \
	    >"$STORE/settings/domain/partner.test.conf"
	sed 's/^To: .*/To: zed@partner.test/' "$MSG" >"$T/zed.eml"
	run mailseal-filter -f alice@example.test -- zed@partner.test <"$T/zed.eml"
	expect_status 0
	local zed
	zed=$(copy_for zed@partner.test)
	[ -n "$zed" ] || fail_with "nothing reinjected for zed"
	bob_opens "$zed"
	# a fingerprint the store does not hold: the mail waits
	rm -f "$T"/out/*
	printf 'smime-domain-cert = %064d\n' 0 \
	    >"$STORE/settings/domain/partner.test.conf"
	run mailseal-filter -f alice@example.test -- zed@partner.test <"$T/zed.eml"
	expect_status 75
	[ "$(copies)" = 0 ] || fail_with "something was reinjected"
}

@test "mailseal-filter starts without libmount, libselinux and libidn2, loads libidn2 when an address needs it, and still encrypts" {
	local lib needed
	needed=$(readelf -d "$MAILSEAL_BIN/mailseal-filter" |
	    sed -n 's/.*(NEEDED).*\[\(.*\)\]$/\1/p')
	[ -n "$needed" ] || fail_with "readelf lists no needed library"
	for lib in libmount libselinux libidn2 libblkid libunistring; do
		! printf '%s\n' "$needed" | grep -q "^$lib\\." ||
		    fail_with "$lib is loaded at every start"
	done
	# an A-label in To: GMime decodes it with libidn2, loaded then
	sed 's/^To: .*/To: bob@example.test, erin@xn--bcher-kva.example/' \
	    "$MSG" >"$T/idn.eml"
	LD_DEBUG=files run mailseal-filter -f alice@example.test -- \
	    bob@example.test <"$T/idn.eml"
	expect_status 0
	[[ $output == *"file=libidn2.so"*"dynamically loaded by"* ]] ||
	    fail_with "libidn2 was not loaded on demand"
	local bob
	bob=$(copy_for bob@example.test)
	bob_opens "$bob"
	header_block "$bob" | grep -q '^To: bob@example.test, erin@xn--bcher-kva.example$' ||
	    fail_with "the To field changed: $(header_block "$bob")"
}
