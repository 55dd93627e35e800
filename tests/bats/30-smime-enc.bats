#!/usr/bin/env bats
# smime-enc: encryption to the recipients' certificates, checked by
# decrypting with openssl cms and gpgsm; cipher choice from learned
# capabilities; fail-closed refusal (ENC-1); structural "already
# encrypted" detection (ENC-7); routing fields stay outside.

load helpers
load smime-helpers

setup_file() {
	sm_setup_file
	sm_user alice ec-p256
	sm_user bob rsa3072
	sm_user carol ec-p256
	sm_user dave ec-p256
	sm_openssl_user xena x25519
	sm_openssl_user xavier x448
	sm_shared_gnupg bob
}

teardown_file() {
	sm_shared_gnupg_stop
}

setup() {
	sm_setup
}

teardown() {
	sm_teardown
}

# decrypt_openssl MSG NAME OUT - openssl cms -decrypt with NAME's key
decrypt_openssl() {
	openssl cms -decrypt -in "$1" -recip "$BASE/$2.pem" \
	    -inkey "$BASE/$2.key" -out "$3" 2>"$T/openssl.err" || {
		cat "$T/openssl.err" >&2
		fail_with "openssl cms -decrypt of $1 for $2 failed"
	}
}

# no_plaintext MSG MARKER... - none of the markers appear in MSG
no_plaintext() {
	local f=$1 m
	shift
	for m in "$@"; do
		! grep -qF "$m" "$f" || fail_with "'$m' in clear in $f"
	done
}

@test "every cipher decrypts with openssl cms, for an RSA and an EC recipient of one message" {
	local c who
	for c in aes256-cbc aes128-cbc aes256-gcm aes128-gcm; do
		run_out "$T/enc-$c.eml" smime-enc --cipher "$c" \
		    bob@example.test carol@example.test \
		    <"$FIX/mixed-attach.eml"
		expect_status 0
		expect_cipher "$T/enc-$c.eml" "$c"
		no_plaintext "$T/enc-$c.eml" MIXEDTEXT-7c1e
		[ "$(cms_print "$T/enc-$c.eml" | grep -c 'd.ktri:')" = 1 ] ||
		    fail_with "$c: not one key-transport recipient (bob)"
		[ "$(cms_print "$T/enc-$c.eml" | grep -c 'd.kari:')" = 1 ] ||
		    fail_with "$c: not one key-agreement recipient (carol)"
		for who in bob carol; do
			decrypt_openssl "$T/enc-$c.eml" "$who" "$T/dec-$c-$who"
			same_content "$T/dec-$c-$who" "$FIX/mixed-attach.eml" ||
			    fail_with "$c for $who: content changed"
			mimetool attachment "$T/dec-$c-$who" figures.bin \
			    "$T/att-$c-$who"
			mimetool attachment "$FIX/mixed-attach.eml" figures.bin \
			    "$T/att-orig"
			cmp "$T/att-orig" "$T/att-$c-$who" ||
			    fail_with "$c for $who: attachment changed"
		done
	done
}

@test "an EC recipient alone decrypts with openssl cms (GCM and CBC)" {
	local c
	for c in aes256-gcm aes128-cbc; do
		run_out "$T/enc.eml" smime-enc --cipher "$c" carol@example.test \
		    <"$FIX/utf8-8bit.eml"
		expect_status 0
		expect_cipher "$T/enc.eml" "$c"
		no_plaintext "$T/enc.eml" UTF8BODY-93fe
		decrypt_openssl "$T/enc.eml" carol "$T/dec"
		same_content "$T/dec" "$FIX/utf8-8bit.eml" ||
		    fail_with "$c: content changed"
		# the 8-bit body is encrypted as it was
		grep -q 'Content-Transfer-Encoding: 8bit' "$T/dec" ||
		    fail_with "$c: the entity is not the original one"
	done
}

@test "CBC ciphers decrypt with gpgsm (RSA recipient)" {
	use_shared_gnupg
	local c
	for c in aes256-cbc aes128-cbc; do
		run_out "$T/enc-$c.eml" smime-enc --cipher "$c" bob@example.test \
		    <"$FIX/alternative.eml"
		expect_status 0
		expect_cipher "$T/enc-$c.eml" "$c"
		p7m_der "$T/enc-$c.eml" "$T/enc-$c.der"
		gpgsm_pw bob --decrypt "$T/enc-$c.der" >"$T/dec-$c" \
		    2>"$T/gpgsm.err" || {
			cat "$T/gpgsm.err" >&2
			fail_with "gpgsm --decrypt ($c) failed"
		}
		same_content "$T/dec-$c" "$FIX/alternative.eml" ||
		    fail_with "$c: gpgsm decrypts other content"
	done
}

@test "CBC decrypts with openssl for an EC recipient: ECDH key agreement as RFC 5753 has it" {
	# gpgsm 2.2.40 (Debian 12) cannot be the judge here: it crashes
	# importing any P-256 PKCS#12, and with the key given to its agent
	# directly it still has no ECDH key agreement (no dhSinglePass KDF,
	# no AES key wrap) and fails with "Invalid session key"; openssl is
	# the independent implementation for EC recipients
	run_out "$T/enc.eml" smime-enc --cipher aes256-cbc carol@example.test \
	    <"$FIX/plain.eml"
	expect_status 0
	expect_cipher "$T/enc.eml" aes256-cbc
	cms_print "$T/enc.eml" >"$T/print"
	[ "$(grep -c 'd.kari:' "$T/print")" = 1 ] ||
	    fail_with "not one key agreement recipient"
	! grep -q 'd.ktri:' "$T/print" || fail_with "a key transport recipient"
	grep -q 'algorithm: id-ecPublicKey' "$T/print" ||
	    fail_with "no ephemeral EC originator key"
	grep -Eq 'algorithm: dhSinglePass-stdDH-sha(1|224|256|384|512)kdf-scheme' \
	    "$T/print" || fail_with "no standard ECDH key derivation"
	grep -Eq 'OBJECT +:id-aes(128|192|256)-wrap' "$T/print" ||
	    fail_with "no AES key wrap"
	decrypt_openssl "$T/enc.eml" carol "$T/dec"
	same_content "$T/dec" "$FIX/plain.eml"
	# another recipient's key does not open it
	! openssl cms -decrypt -in "$T/enc.eml" -recip "$BASE/dave.pem" \
	    -inkey "$BASE/dave.key" -out "$T/dec-dave" 2>/dev/null ||
	    fail_with "dave's key decrypts carol's message"
}

@test "--oaep: RSA key transport is RSAES-OAEP and decrypts with openssl; EC stays ECDH" {
	run_out "$T/enc.eml" smime-enc --oaep --cipher aes256-gcm \
	    bob@example.test carol@example.test <"$FIX/plain.eml"
	expect_status 0
	cms_print "$T/enc.eml" >"$T/print"
	grep -q 'rsaesOaep' "$T/print" || fail_with "no RSAES-OAEP recipient"
	! grep -q 'algorithm: rsaEncryption' "$T/print" ||
	    fail_with "a PKCS#1 v1.5 recipient as well"
	grep -q 'd.kari:' "$T/print" || fail_with "the EC recipient is gone"
	decrypt_openssl "$T/enc.eml" bob "$T/dec-bob"
	same_content "$T/dec-bob" "$FIX/plain.eml"
	decrypt_openssl "$T/enc.eml" carol "$T/dec-carol"
	same_content "$T/dec-carol" "$FIX/plain.eml"

	# without --oaep: PKCS#1 v1.5
	run_out "$T/enc2.eml" smime-enc bob@example.test <"$FIX/plain.eml"
	expect_status 0
	cms_print "$T/enc2.eml" | grep -q 'algorithm: rsaEncryption' ||
	    fail_with "default key transport is not rsaEncryption"
}

@test "default cipher: AES-256-CBC without capabilities, AES-256-GCM once a verified signature listed GCM" {
	run_out "$T/before.eml" smime-enc carol@example.test <"$FIX/plain.eml"
	expect_status 0
	expect_cipher "$T/before.eml" aes256-cbc

	# carol signs (smime-sign advertises GCM); verifying learns it
	sed 's/^From: .*/From: Carol <carol@example.test>/' "$FIX/plain.eml" \
	    >"$T/from-carol.eml"
	smime-sign <"$T/from-carol.eml" >"$T/signed.eml"
	smime-verify <"$T/signed.eml" >"$T/verified.eml"
	expect_sig "$T/verified.eml" valid
	run_out "$T/after.eml" smime-enc carol@example.test <"$FIX/plain.eml"
	expect_status 0
	expect_cipher "$T/after.eml" aes256-gcm
	decrypt_openssl "$T/after.eml" carol "$T/dec"
	same_content "$T/dec" "$FIX/plain.eml"

	# one recipient without GCM capabilities: CBC for the whole message
	run_out "$T/mixed.eml" smime-enc carol@example.test dave@example.test \
	    <"$FIX/plain.eml"
	expect_status 0
	expect_cipher "$T/mixed.eml" aes256-cbc

	# an explicit --cipher wins over the capabilities
	run_out "$T/explicit.eml" smime-enc --cipher aes128-cbc carol@example.test \
	    <"$FIX/plain.eml"
	expect_status 0
	expect_cipher "$T/explicit.eml" aes128-cbc
}

@test "capabilities learn nothing with --no-learn, and keep CBC when the signer listed no GCM" {
	# dave's signature, verified with --no-learn: nothing learned
	sed 's/^From: .*/From: dave@example.test/' "$FIX/plain.eml" \
	    >"$T/from-dave.eml"
	smime-sign <"$T/from-dave.eml" >"$T/signed.eml"
	smime-verify --no-learn <"$T/signed.eml" >"$T/verified.eml"
	expect_sig "$T/verified.eml" valid
	run_out "$T/enc1.eml" smime-enc dave@example.test <"$FIX/plain.eml"
	expect_status 0
	expect_cipher "$T/enc1.eml" aes256-cbc

	# openssl's default SMIMECapabilities list CBC ciphers only
	entity_of "$FIX/plain.eml" "$T/entity"
	openssl cms -sign -signer "$BASE/dave.pem" -inkey "$BASE/dave.key" \
	    -in "$T/entity" -from dave@example.test -to bob@example.test \
	    -subject caps >"$T/ossl-signed.eml"
	smime-verify <"$T/ossl-signed.eml" >"$T/verified2.eml"
	expect_sig "$T/verified2.eml" valid
	run_out "$T/enc2.eml" smime-enc dave@example.test <"$FIX/plain.eml"
	expect_status 0
	expect_cipher "$T/enc2.eml" aes256-cbc
}

@test "routing fields stay outside; no Bcc or envelope recipient is added; content fields go inside" {
	# dave is an envelope-only (Bcc-like) recipient
	run_out "$T/enc.eml" smime-enc bob@example.test carol@example.test \
	    dave@example.test <"$FIX/alternative.eml"
	expect_status 0
	local f
	for f in From To Cc Subject Date Message-ID MIME-Version; do
		[ "$(header_values "$T/enc.eml" "$f")" = \
		    "$(header_values "$FIX/alternative.eml" "$f")" ] ||
		    fail_with "$f changed"
	done
	header_block "$T/enc.eml" >"$T/headers"
	! grep -qi '^Bcc:' "$T/headers" || fail_with "a Bcc field was added"
	! grep -qi 'dave' "$T/headers" ||
	    fail_with "the envelope-only recipient appears in the header"
	[ "$(grep -ci '^Content-Type:' "$T/headers")" = 1 ] ||
	    fail_with "not exactly one outer Content-Type"
	grep -qi '^Content-Type: application/pkcs7-mime; smime-type=enveloped-data' \
	    "$T/headers" || fail_with "outer Content-Type"
	! grep -qi 'multipart/alternative\|quoted-printable' "$T/enc.eml" ||
	    fail_with "content fields left outside"
	no_plaintext "$T/enc.eml" ALTTEXT-41b0 ALTHTML-0c77
	decrypt_openssl "$T/enc.eml" dave "$T/dec"
	grep -qi '^Content-Type: multipart/alternative' "$T/dec" ||
	    fail_with "inner entity lost its Content-Type"
	same_content "$T/dec" "$FIX/alternative.eml"
}

@test "an encrypted root passes unchanged; --force encrypts it again" {
	smime-enc bob@example.test <"$FIX/plain.eml" >"$T/once.eml"
	run_out "$T/twice.eml" smime-enc carol@example.test <"$T/once.eml"
	expect_status 0
	cmp "$T/once.eml" "$T/twice.eml" ||
	    fail_with "an encrypted message was changed"

	# authEnveloped-data and the x-pkcs7-mime spelling count as well
	smime-enc --cipher aes256-gcm bob@example.test <"$FIX/plain.eml" \
	    >"$T/gcm.eml"
	sed 's,application/pkcs7-mime,application/x-pkcs7-mime,' \
	    "$T/gcm.eml" >"$T/x.eml"
	run_out "$T/x-again.eml" smime-enc carol@example.test <"$T/x.eml"
	expect_status 0
	cmp "$T/x.eml" "$T/x-again.eml" ||
	    fail_with "x-pkcs7-mime authEnveloped-data was changed"

	run_out "$T/forced.eml" smime-enc --force carol@example.test \
	    <"$T/once.eml"
	expect_status 0
	! cmp -s "$T/once.eml" "$T/forced.eml" || fail_with "--force did nothing"
	decrypt_openssl "$T/forced.eml" carol "$T/inner"
	grep -qi '^Content-Type: application/pkcs7-mime' "$T/inner" ||
	    fail_with "the inner entity is not the first encryption"
	# the inner entity is bob's encryption; openssl reads it as it is
	decrypt_openssl "$T/inner" bob "$T/dec"
	same_content "$T/dec" "$FIX/plain.eml"
}

@test "a message that only looks encrypted is encrypted (structural check, ENC-7)" {
	# the words in the Subject and body
	{
		echo 'From: alice@example.test'
		echo 'To: bob@example.test'
		echo 'Subject: application/pkcs7-mime; smime-type=enveloped-data'
		echo
		echo 'Content-Type: application/pkcs7-mime; smime-type=enveloped-data'
		echo 'LOOKALIKE-1 -----BEGIN PKCS7-----'
	} >"$T/words.eml"
	run_out "$T/enc1.eml" smime-enc bob@example.test <"$T/words.eml"
	expect_status 0
	no_plaintext "$T/enc1.eml" LOOKALIKE-1
	decrypt_openssl "$T/enc1.eml" bob "$T/dec1"
	grep -q LOOKALIKE-1 "$T/dec1" || fail_with "words: content lost"

	# the right Content-Type over a body that is no CMS object
	{
		echo 'From: alice@example.test'
		echo 'To: bob@example.test'
		echo 'Subject: fake'
		echo 'MIME-Version: 1.0'
		echo 'Content-Type: application/pkcs7-mime; smime-type=enveloped-data'
		echo 'Content-Transfer-Encoding: base64'
		echo
		printf 'LOOKALIKE-2 not CMS at all\n' | base64
	} >"$T/fake.eml"
	run_out "$T/enc2.eml" smime-enc bob@example.test <"$T/fake.eml"
	expect_status 0
	! cmp -s "$T/enc2.eml" "$T/fake.eml" ||
	    fail_with "a fake enveloped-data label was passed through in clear"
	decrypt_openssl "$T/enc2.eml" bob "$T/dec2"
	body_of "$T/dec2" | base64 -d | grep -q LOOKALIKE-2 ||
	    fail_with "fake: content lost"
}

@test "--cert FILE encrypts to that certificate; an untrusted one is refused" {
	# list@ has no certificate of its own: the given one covers it
	run_out "$T/enc.eml" smime-enc --cert "$BASE/dave.pem" \
	    list@example.test <"$FIX/plain.eml"
	expect_status 0
	decrypt_openssl "$T/enc.eml" dave "$T/dec"
	same_content "$T/dec" "$FIX/plain.eml"

	# a certificate from a root the store does not trust
	smime-ca --store "$T/other" init --key ec-p256 'Other CA' \
	    >/dev/null 2>&1
	sm_user mallory ec-p256 "$T/other" "$T"
	run --separate-stderr smime-enc --cert "$T/mallory.pem" \
	    list@example.test <"$FIX/plain.eml"
	expect_status 69
	[ -z "$output" ] || fail_with "output despite the refusal"
	[[ ${stderr%%$'\n'*} == 5.7.1* ]] || fail_with "first line is not 5.7.1"
}

@test "recipient without a certificate: exit 69, no output, a 5.7.1 line naming only the recipient" {
	run --separate-stderr smime-enc nobody@example.test <"$FIX/plain.eml"
	expect_status 69
	[ -z "$output" ] || fail_with "output despite the refusal"
	local first=${stderr%%$'\n'*}
	[[ $first == 5.7.1* ]] || fail_with "first stderr line is not 5.7.1"
	[[ $first == *nobody@example.test* ]] ||
	    fail_with "the 5.7.1 line does not name the recipient"
	local m
	for m in PLAINBODY-5d2a 'launch code' 'Secret plans' plain-1@example.test
	do
		! grep -qF "$m" <<<"$stderr" || fail_with "'$m' leaked to stderr"
	done

	# one covered and one uncovered recipient: still nothing (ENC-1)
	run --separate-stderr smime-enc bob@example.test nobody@example.test \
	    <"$FIX/plain.eml"
	expect_status 69
	[ -z "$output" ] || fail_with "partial encryption written"
	first=${stderr%%$'\n'*}
	[[ $first == 5.7.1*nobody@example.test* ]] ||
	    fail_with "the 5.7.1 line does not name the uncovered recipient"
	[[ $first != *bob@example.test* ]] ||
	    fail_with "the covered recipient is named as uncovered"

	# a certificate removed from the store covers nobody
	certstore remove "$(fpr_of carol)" >/dev/null 2>&1
	run --separate-stderr smime-enc carol@example.test <"$FIX/plain.eml"
	expect_status 69
	[ -z "$output" ] || fail_with "output for a removed certificate"
}

@test "X25519 and X448 recipients (RFC 8418, which OpenSSL 3.0 cannot do) are refused naming the key type, from the store and with --cert: exit 69, no output" {
	run --separate-stderr smime-enc xena@example.test xavier@example.test \
	    bob@example.test <"$FIX/plain.eml"
	expect_status 69
	[ -z "$output" ] || fail_with "output for an X25519 recipient"
	[ "${stderr%%$'\n'*}" = "5.7.1 no usable S/MIME certificate for: xena@example.test (X25519 key: not supported), xavier@example.test (X448 key: not supported)" ] ||
	    fail_with "first line: ${stderr%%$'\n'*}"
	[[ $stderr != *"weak key"* ]] || fail_with "called a weak key"

	run --separate-stderr smime-enc --cert "$BASE/xena.pem" \
	    bob@example.test <"$FIX/plain.eml"
	expect_status 69
	[ -z "$output" ] || fail_with "output for an X25519 --cert"
	[ "${stderr%%$'\n'*}" = "5.7.1 a configured encryption certificate is not usable (X25519 key: not supported)" ] ||
	    fail_with "first line: ${stderr%%$'\n'*}"
}

@test "CRLF input: the output uses one line-end convention (bad input 12)" {
	to_crlf "$FIX/plain.eml" "$T/in.crlf"
	run_out "$T/enc.eml" smime-enc bob@example.test <"$T/in.crlf"
	expect_status 0
	decrypt_openssl "$T/enc.eml" bob "$T/dec"
	same_content "$T/dec" "$FIX/plain.eml"
	expect_uniform_line_ends "$T/enc.eml"
}

@test "usage errors exit 64, empty input 65 with 5.6.0, a missing store 75" {
	run --separate-stderr smime-enc --no-such-option bob@example.test \
	    <"$FIX/plain.eml"
	expect_status 64
	[ -z "$output" ] || fail_with "output on a usage error"
	run --separate-stderr smime-enc --cipher des-cbc bob@example.test \
	    <"$FIX/plain.eml"
	expect_status 64
	[ -z "$output" ] || fail_with "output for an unknown cipher"
	run --separate-stderr smime-enc <"$FIX/plain.eml"
	expect_status 64
	[ -z "$output" ] || fail_with "output without a recipient"

	run --separate-stderr smime-enc bob@example.test </dev/null
	expect_status 65
	[ -z "$output" ] || fail_with "output for empty input"
	[[ ${stderr%%$'\n'*} == 5.6.0* ]] || fail_with "first line is not 5.6.0"

	run --separate-stderr smime-enc --store "$T/no-such-store" \
	    bob@example.test <"$FIX/plain.eml"
	expect_status 75
	[ -z "$output" ] || fail_with "output without a store"
	MAILSEAL_STORE=$T/no-such-store run --separate-stderr smime-enc \
	    bob@example.test <"$FIX/plain.eml"
	expect_status 75
	[ -z "$output" ] || fail_with "output without a store (environment)"

	run --separate-stderr smime-enc -h
	expect_status 0
	[[ $output == usage:* ]] || fail_with "-h prints no usage"
}

# python_body FILE - the body as Python's email package reads it (the
# independent judge of where a header section ends), LF line ends
python_body() {
	python3 -c 'import email, sys; m = email.message_from_binary_file(open(sys.argv[1], "rb")); sys.stdout.buffer.write(m.get_payload(decode=True).replace(b"\r\n", b"\n"))' "$1"
}

@test "a header line holding only a space loses no body text: the body starts at the first line that is no field" {
	printf 'From: a@example.com\nSubject: s\n \nDear Bob,\nsee attached.\n\nRegards\n' \
	    >"$T/in.eml"
	run_out "$T/enc.eml" smime-enc bob@example.test <"$T/in.eml"
	expect_status 0
	no_plaintext "$T/enc.eml" 'Dear Bob'
	decrypt_openssl "$T/enc.eml" bob "$T/dec"
	python_body "$T/dec" >"$T/got"
	printf 'Dear Bob,\nsee attached.\n\nRegards\n' >"$T/want"
	cmp "$T/want" "$T/got" || fail_with "body text lost or changed"
	python_body "$T/in.eml" | cmp - "$T/want" ||
	    fail_with "the judge reads the input otherwise"
}

@test "real mail: a header line without a colon starts the body, as Python's email package reads it" {
	local in=$BATS_TEST_DIRNAME/../corpus/realmail/0072-mail-raw_email_incorrect_header.eml
	run_out "$T/enc.eml" smime-enc bob@example.test <"$in"
	expect_status 0
	decrypt_openssl "$T/enc.eml" bob "$T/dec"
	python_body "$T/dec" >"$T/got"
	python_body "$in" >"$T/want"
	grep -q '^quite Delivered-To:' "$T/want" || fail_with "judge changed"
	grep -q 'You are infected with' "$T/want" || fail_with "judge changed"
	cmp "$T/want" "$T/got" || fail_with "body differs from the judge's"
}

@test "outside the encryption: the mbox From line is left out, fields are kept as written ('From  :' included)" {
	local in=$BATS_TEST_DIRNAME/../corpus/realmail/0685-spamassassin-008.eml
	run_out "$T/enc.eml" smime-enc bob@example.test <"$in"
	expect_status 0
	! head -1 "$T/enc.eml" | grep -q '^From ' ||
	    fail_with "the mbox envelope line was written"
	# every field of the input but the content fields, byte for byte
	sed -n '2,/^$/p' "$in" | sed '/^$/d' |
	    awk '/^[^ \t]/ { keep = tolower($0) !~ /^content-/ } keep' \
	    >"$T/want"
	header_block "$T/enc.eml" | head -n "$(wc -l <"$T/want")" >"$T/got"
	cmp "$T/want" "$T/got" || {
		diff "$T/want" "$T/got" >&2
		fail_with "outer fields changed"
	}
	grep -q '^From  :<tst1@example.com>$' "$T/enc.eml" ||
	    fail_with "'From  :' rewritten"
}
