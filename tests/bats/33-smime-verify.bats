#!/usr/bin/env bats
# smime-verify: signatures made by openssl cms and gpgsm verify; one
# changed byte makes them invalid; the outcomes untrusted, revoked,
# mismatch and none (TEST-V1); root only (VER-2); signer bound to From
# (VER-4); odd certificate addresses (TEST-V3); spoofed status fields
# (TEST-H1); learning (KEY-2); sign-then-encrypt (TEST-V2).

load helpers
load smime-helpers

setup_file() {
	sm_setup_file
	sm_user alice ec-p256
	sm_user bob rsa3072
	sm_user carol ec-p256
	sm_user erin ec-p256
	# another CA the store does not trust
	sm_other_ca mallory
	sm_shared_gnupg bob
}

teardown_file() {
	sm_shared_gnupg_stop
}

setup() {
	sm_setup
	entity_of "$FIX/plain.eml" "$T/entity"
}

teardown() {
	sm_teardown
}

# ossl_sign NAME OUT [FROM] [openssl options] - openssl cms -sign of the
# plain fixture's entity by user NAME, as S/MIME with routing fields
ossl_sign() {
	local name=$1 out=$2 from=${3:-$1@example.test}
	shift 3 2>/dev/null || shift $#
	openssl cms -sign -signer "$BASE/$name.pem" -inkey "$BASE/$name.key" \
	    -in "$T/entity" -from "$from" -to bob@example.test \
	    -subject 'signed by openssl' "$@" >"$out" ||
	    fail_with "openssl cms -sign for $name failed"
}

# verify_to IN OUT [options] - smime-verify IN into OUT, exit 0
verify_to() {
	local in=$1 out=$2
	shift 2
	run_out "$out" smime-verify "$@" <"$in"
	expect_status 0
}

@test "detached signatures from openssl cms verify (EC and RSA); one changed byte makes them invalid" {
	local who
	for who in alice bob; do
		ossl_sign "$who" "$T/$who.eml"
		grep -qi '^Content-Type: multipart/signed' "$T/$who.eml" ||
		    fail_with "openssl made no multipart/signed"
		verify_to "$T/$who.eml" "$T/$who-v.eml"
		expect_sig "$T/$who-v.eml" valid
		[[ $(status_of "$T/$who-v.eml" X-Mailseal-Signature) == *"fingerprint=$(fpr_of "$who")"* ]] ||
		    fail_with "$who: wrong fingerprint reported"
		# the message itself is delivered as it came, plus our field
		grep -v '^X-Mailseal-Signature: ' "$T/$who-v.eml" \
		    >"$T/$who-rest.eml"
		same_text "$T/$who-rest.eml" "$T/$who.eml" ||
		    fail_with "$who: message changed"

		sed 's/PLAINBODY-5d2a/PLAINBODY-5d2b/' "$T/$who.eml" \
		    >"$T/$who-bad.eml"
		! cmp -s "$T/$who.eml" "$T/$who-bad.eml" || fail_with "no change"
		verify_to "$T/$who-bad.eml" "$T/$who-bad-v.eml"
		expect_sig "$T/$who-bad-v.eml" invalid
	done
}

@test "opaque signatures from openssl cms -nodetach verify and deliver the content; a changed byte is invalid" {
	local who
	for who in alice bob; do
		ossl_sign "$who" "$T/$who.eml" "$who@example.test" -nodetach
		grep -qi 'smime-type=signed-data' "$T/$who.eml" ||
		    fail_with "openssl made no signed-data"
		verify_to "$T/$who.eml" "$T/$who-v.eml"
		expect_sig "$T/$who-v.eml" valid
		same_content "$T/$who-v.eml" "$FIX/plain.eml" ||
		    fail_with "$who: the signed content was not delivered"
		[ "$(header_values "$T/$who-v.eml" Subject)" = \
		    'signed by openssl' ] || fail_with "routing fields lost"

		# one byte of the eContent changed
		p7m_der "$T/$who.eml" "$T/$who.der"
		python3 - "$T/$who.der" "$T/$who-bad.der" <<-'EOF'
			import sys
			data = open(sys.argv[1], 'rb').read()
			assert data.count(b'PLAINBODY-5d2a') == 1
			open(sys.argv[2], 'wb').write(
			    data.replace(b'PLAINBODY-5d2a', b'PLAINBODY-5d2b'))
		EOF
		wrap_p7m "$T/$who-bad.der" signed-data "$T/$who-bad.eml" \
		    "From: $who@example.test" 'To: bob@example.test' 'Subject: x'
		verify_to "$T/$who-bad.eml" "$T/$who-bad-v.eml"
		expect_sig "$T/$who-bad-v.eml" invalid
		! grep -q 'PLAINBODY-5d2b' "$T/$who-bad-v.eml" ||
		    fail_with "$who: content of an invalid opaque signature shown"
	done
}

@test "a gpgsm --detach-sign signature wrapped in multipart/signed verifies; a changed byte is invalid" {
	use_shared_gnupg
	to_crlf "$T/entity" "$T/entity.crlf"
	gpgsm_pw bob -u bob@example.test --detach-sign "$T/entity.crlf" \
	    >"$T/gpgsm.sig" 2>"$T/gpgsm.err" ||
	    { cat "$T/gpgsm.err" >&2; fail_with "gpgsm --detach-sign failed"; }
	printf '%s\n' 'From: Bob <bob@example.test>' 'To: alice@example.test' \
	    'Subject: signed by gpgsm' >"$T/headers"
	mimetool wrap-signed "$T/headers" "$T/entity.crlf" "$T/gpgsm.sig" \
	    "$T/gpgsm.eml"
	verify_to "$T/gpgsm.eml" "$T/v.eml"
	expect_sig "$T/v.eml" valid
	[[ $(status_of "$T/v.eml" X-Mailseal-Signature) == *"signer=bob@example.test"* ]] ||
	    fail_with "wrong signer reported"

	sed 's/PLAINBODY-5d2a/PLAINBODY-5d2b/' "$T/entity.crlf" >"$T/bad.crlf"
	mimetool wrap-signed "$T/headers" "$T/bad.crlf" "$T/gpgsm.sig" \
	    "$T/gpgsm-bad.eml"
	verify_to "$T/gpgsm-bad.eml" "$T/v-bad.eml"
	expect_sig "$T/v-bad.eml" invalid
}

@test "a signer whose certificate is for another address: mismatch (VER-4)" {
	# alice's certificate, From carol
	ossl_sign alice "$T/s.eml" 'Carol <carol@example.test>'
	verify_to "$T/s.eml" "$T/v.eml"
	expect_sig "$T/v.eml" mismatch

	# a From display name that is an address
	ossl_sign alice "$T/s2.eml" '"bob@example.test" <alice@example.test>'
	verify_to "$T/s2.eml" "$T/v2.eml"
	expect_sig "$T/v2.eml" mismatch
}

@test "two From fields, or a Sender other than From: mismatch (VER-4)" {
	smime-sign -f alice@example.test <"$FIX/plain.eml" >"$T/s.eml"
	verify_to "$T/s.eml" "$T/v.eml"
	expect_sig "$T/v.eml" valid	# control
	{ echo 'From: Carol <carol@example.test>'; cat "$T/s.eml"; } \
	    >"$T/two-from.eml"
	verify_to "$T/two-from.eml" "$T/v2.eml"
	expect_sig "$T/v2.eml" mismatch
	{ echo 'Sender: carol@example.test'; cat "$T/s.eml"; } >"$T/sender.eml"
	verify_to "$T/sender.eml" "$T/v3.eml"
	expect_sig "$T/v3.eml" mismatch
}

@test "a revoked signer: revoked" {
	smime-sign -f carol@example.test <"$FIX/plain.eml" >"$T/s.eml"
	sed -i 's/^From: .*/From: carol@example.test/' "$T/s.eml"
	verify_to "$T/s.eml" "$T/v-before.eml" --no-learn
	expect_sig "$T/v-before.eml" valid	# control
	smime-ca revoke "$(fpr_of carol)" >/dev/null 2>"$T/revoke.err" ||
	    { cat "$T/revoke.err" >&2; fail_with "smime-ca revoke failed"; }
	verify_to "$T/s.eml" "$T/v.eml"
	expect_sig "$T/v.eml" revoked
}

@test "a signer from a root the store does not trust: untrusted, and not learned" {
	smime-sign --store "$BASE/other" -f mallory@example.test \
	    <"$FIX/plain.eml" >"$T/s.eml"
	sed -i 's/^From: .*/From: mallory@example.test/' "$T/s.eml"
	store_snapshot "$STORE" >"$T/before"
	verify_to "$T/s.eml" "$T/v.eml"
	expect_sig "$T/v.eml" untrusted
	store_snapshot "$STORE" >"$T/after"
	diff "$T/before" "$T/after" || fail_with "the store changed"
	run certstore find mallory@example.test
	[ -z "$output" ] || fail_with "an untrusted certificate was learned"
}

@test "certificate addresses with a space or two @ are not valid (TEST-V3)" {
	local n san from
	for n in 1 2; do
		case $n in
		1) san='email:alice @example.test' from=alice@example.test ;;
		2) san='email:alice@evil.test@example.test' from=alice@evil.test ;;
		esac
		openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 \
		    -out "$T/odd$n.key" 2>/dev/null
		printf '%s\n' '[ leaf ]' 'basicConstraints = CA:FALSE' \
		    'keyUsage = critical,digitalSignature' \
		    'extendedKeyUsage = emailProtection' \
		    "subjectAltName = $san" >"$T/odd$n.ext"
		openssl req -new -key "$T/odd$n.key" -subj "/CN=odd$n" \
		    -out "$T/odd$n.csr" 2>/dev/null
		openssl x509 -req -in "$T/odd$n.csr" -CA "$STORE/ca/ca.pem" \
		    -CAkey "$STORE/ca/ca.key" -set_serial "$((4242 + n))" \
		    -days 30 -extfile "$T/odd$n.ext" -extensions leaf \
		    -out "$T/odd$n.pem" 2>/dev/null ||
		    fail_with "cannot make the odd certificate $n"
		openssl cms -sign -signer "$T/odd$n.pem" -inkey "$T/odd$n.key" \
		    -in "$T/entity" -from "$from" -to bob@example.test \
		    -subject odd >"$T/odd$n.eml"
		verify_to "$T/odd$n.eml" "$T/v$n.eml"
		local word
		word=$(sig_word "$T/v$n.eml")
		[ "$word" != valid ] ||
		    fail_with "certificate address '$san' accepted for $from"
		[ -n "$word" ] || fail_with "no status"
	done
}

@test "a signed part wrapped in multipart/mixed with added text is not valid (VER-2)" {
	smime-sign -f alice@example.test <"$FIX/plain.eml" >"$T/s.eml"
	local ct boundary
	ct=$(header_values "$T/s.eml" Content-Type)
	{
		echo 'From: Alice Example <alice@example.test>'
		echo 'To: Bob Example <bob@example.test>'
		echo 'Subject: forwarded wrapper'
		echo 'MIME-Version: 1.0'
		echo 'Content-Type: multipart/mixed; boundary="wrapper"'
		echo
		echo '--wrapper'
		echo 'Content-Type: text/plain'
		echo
		echo 'ATTACKER TEXT: please wire the money.'
		echo '--wrapper'
		echo "Content-Type: $ct"
		echo
		body_of "$T/s.eml"
		echo '--wrapper--'
	} >"$T/wrapped.eml"
	verify_to "$T/wrapped.eml" "$T/v.eml"
	expect_sig "$T/v.eml" none
	! grep -q 'signer=\|fingerprint=' <(header_block "$T/v.eml") ||
	    fail_with "a signer identity reached the status field"
}

@test "multipart/signed with three parts, or a protocol mismatch, is invalid" {
	smime-sign -f alice@example.test <"$FIX/plain.eml" >"$T/s.eml"
	local b
	b=$(python3 -c 'import email,sys; print(email.message_from_binary_file(open(sys.argv[1],"rb")).get_boundary())' "$T/s.eml")
	# a third part before the closing delimiter
	sed "s/^--$b--\$/--$b\nContent-Type: text\/plain\n\nADDED PART\n--$b--/" \
	    "$T/s.eml" >"$T/three.eml"
	grep -q 'ADDED PART' "$T/three.eml" || fail_with "no third part made"
	verify_to "$T/three.eml" "$T/v3.eml"
	expect_sig "$T/v3.eml" invalid

	sed 's,protocol="application/pkcs7-signature",protocol="application/pgp-signature",' \
	    "$T/s.eml" >"$T/proto.eml"
	verify_to "$T/proto.eml" "$T/vp.eml"
	expect_sig "$T/vp.eml" invalid
}

@test "a detached signature that carries content (eContent) is invalid (VER-3)" {
	to_crlf "$T/entity" "$T/entity.crlf"
	openssl cms -sign -nodetach -binary -signer "$BASE/alice.pem" \
	    -inkey "$BASE/alice.key" -in "$T/entity.crlf" -outform DER \
	    -out "$T/attached.der"
	printf '%s\n' 'From: alice@example.test' 'To: bob@example.test' \
	    'Subject: econtent' >"$T/headers"
	mimetool wrap-signed "$T/headers" "$T/entity.crlf" "$T/attached.der" \
	    "$T/s.eml"
	verify_to "$T/s.eml" "$T/v.eml"
	expect_sig "$T/v.eml" invalid
}

@test "a SHA-1 signature is not valid (VER-5)" {
	ossl_sign alice "$T/sha1.eml" alice@example.test -md sha1
	grep -q 'micalg="\?sha-\?1' "$T/sha1.eml" || fail_with "not SHA-1"
	verify_to "$T/sha1.eml" "$T/v.eml"
	expect_sig "$T/v.eml" invalid
}

@test "spoofed X-Mailseal-Signature fields are replaced by the real result (DEC-8, TEST-H1)" {
	{
		echo 'X-Mailseal-Signature: valid; signer=ceo@example.test'
		echo 'x-mailseal-signature: valid;'
		echo ' folded=continuation'
		cat "$FIX/plain.eml"
	} >"$T/spoof.eml"
	verify_to "$T/spoof.eml" "$T/v.eml"
	expect_sig "$T/v.eml" none
	! grep -q 'ceo@example.test\|folded=continuation' "$T/v.eml" ||
	    fail_with "spoofed text survived"
	grep -v '^X-Mailseal-Signature: none$' "$T/v.eml" |
	    cmp - "$FIX/plain.eml" || fail_with "message changed"

	# on a tampered signature: invalid, and the claim is gone
	smime-sign -f alice@example.test <"$FIX/plain.eml" >"$T/s.eml"
	{
		echo 'X-Mailseal-Signature: valid; signer=alice@example.test'
		sed 's/PLAINBODY-5d2a/PLAINBODY-5d2b/' "$T/s.eml"
	} >"$T/spoof-bad.eml"
	verify_to "$T/spoof-bad.eml" "$T/v2.eml"
	expect_sig "$T/v2.eml" invalid

	# through smime-dec as well: the claim is gone, the real one added
	smime-enc bob@example.test <"$T/s.eml" >"$T/enc.eml"
	{
		echo 'X-Mailseal-Signature: invalid; spoofed'
		cat "$T/enc.eml"
	} >"$T/spoof-enc.eml"
	smime-dec <"$T/spoof-enc.eml" >"$T/dec.eml"
	! grep -qi '^X-Mailseal-Signature' "$T/dec.eml" ||
	    fail_with "smime-dec kept a spoofed signature status"
	verify_to "$T/dec.eml" "$T/v3.eml"
	expect_sig "$T/v3.eml" valid
}

@test "a valid signer's certificate and capabilities are learned; --no-learn changes nothing" {
	local erin
	erin=$(fpr_of erin)
	certstore remove "$erin" >/dev/null 2>&1
	rm -f "$STORE/caps/$erin"
	run certstore find erin@example.test
	[ -z "$output" ] || fail_with "erin still in the store"
	ossl_sign erin "$T/s.eml"

	store_snapshot "$STORE" >"$T/before"
	verify_to "$T/s.eml" "$T/v1.eml" --no-learn
	expect_sig "$T/v1.eml" valid
	store_snapshot "$STORE" >"$T/after"
	diff "$T/before" "$T/after" || fail_with "--no-learn changed the store"

	verify_to "$T/s.eml" "$T/v2.eml"
	expect_sig "$T/v2.eml" valid
	run --separate-stderr certstore find erin@example.test
	expect_status 0
	[ "$output" = "$erin" ] || fail_with "erin's certificate not learned"
	[ -s "$STORE/caps/$erin" ] || fail_with "no capabilities learned"
}

@test "sign then encrypt: after smime-dec, smime-verify finds the signature valid (TEST-V2)" {
	local mode
	for mode in detached opaque; do
		local opt=()
		[ "$mode" = detached ] || opt=(--opaque)
		smime-sign "${opt[@]}" <"$FIX/alternative.eml" |
		    smime-enc --cipher aes256-gcm bob@example.test >"$T/enc.eml"
		smime-dec <"$T/enc.eml" >"$T/dec.eml"
		[ "$(status_of "$T/dec.eml" X-Mailseal-Decrypted)" = smime ] ||
		    fail_with "$mode: not decrypted"
		verify_to "$T/dec.eml" "$T/v.eml"
		expect_sig "$T/v.eml" valid
		same_content "$T/v.eml" "$FIX/alternative.eml" ||
		    fail_with "$mode: content changed"
	done
}

@test "sign then encrypt: smime-dec | smime-verify decrypts, then reports X-Mailseal-Signature: valid (TEST-V2)" {
	smime-sign <"$FIX/plain.eml" |
	    smime-enc bob@example.test >"$T/enc.eml"
	smime-dec <"$T/enc.eml" >"$T/dec.eml"
	[ "$(status_of "$T/dec.eml" X-Mailseal-Decrypted)" = smime ] ||
	    fail_with "smime-dec did not decrypt"
	smime-verify <"$T/dec.eml" >"$T/out.eml"
	expect_sig "$T/out.eml" valid
	grep -q 'PLAINBODY-5d2a' "$T/out.eml" ||
	    fail_with "the signed text is not in the result"
	# every incoming X-Mailseal-* field is removed by each filter, ours
	# from the stage before included (DEC-8): the gateway glue records
	# the decryption itself
	[ -z "$(status_of "$T/out.eml" X-Mailseal-Decrypted)" ] ||
	    fail_with "smime-verify kept an incoming X-Mailseal-* field"
}

@test "CRLF input: the output uses one line-end convention (bad input 12)" {
	ossl_sign alice "$T/s.eml"
	to_crlf "$T/s.eml" "$T/s.crlf"
	verify_to "$T/s.crlf" "$T/v.eml"
	expect_sig "$T/v.eml" valid
	expect_uniform_line_ends "$T/v.eml"
	to_crlf "$FIX/plain.eml" "$T/plain.crlf"
	verify_to "$T/plain.crlf" "$T/v2.eml"
	expect_sig "$T/v2.eml" none
	expect_uniform_line_ends "$T/v2.eml"
}

# rfc9216_carlos OUT [DER] - RFC 9216 Carlos's Ed25519 SignedData (or DER)
# as an opaque S/MIME message from him; the store trusts the RFC's
# Ed25519 CA
rfc9216_carlos() {
	local corpus=$BATS_TEST_DIRNAME/../corpus/rfc9216
	certstore import --roots "$corpus/ed25519-ca.pem" >/dev/null ||
	    fail_with "cannot import the RFC 9216 Ed25519 CA"
	wrap_p7m "${2:-$corpus/signedByCarlosEd25519.p7m}" signed-data "$1" \
	    'From: Carlos <carlos@smime.example>' 'To: bob@example.test' \
	    'Subject: RFC 9216'
}

@test "RFC 9216: Carlos's Ed25519 signature (RFC 8419) is valid, in smime-verify and in mailseal-filter --incoming; a changed byte is invalid" {
	rfc9216_carlos "$T/carlos.eml"
	verify_to "$T/carlos.eml" "$T/v.eml"
	expect_sig "$T/v.eml" valid
	[[ $(status_of "$T/v.eml" X-Mailseal-Signature) == *"signer=carlos@smime.example"* ]] ||
	    fail_with "signer: $(status_of "$T/v.eml" X-Mailseal-Signature)"

	# the gateway's incoming side runs the same verification
	mailseal-filter --incoming <"$T/carlos.eml" >"$T/in.eml" ||
	    fail_with "mailseal-filter --incoming failed"
	expect_sig "$T/in.eml" valid

	# one byte of the content changed
	python3 - "$BATS_TEST_DIRNAME/../corpus/rfc9216/signedByCarlosEd25519.p7m" \
	    "$T/bad.der" <<-'EOF'
		import sys
		data = open(sys.argv[1], 'rb').read()
		assert data.count(b'sample content') == 1
		open(sys.argv[2], 'wb').write(
		    data.replace(b'sample content', b'simple content'))
	EOF
	rfc9216_carlos "$T/bad.eml" "$T/bad.der"
	verify_to "$T/bad.eml" "$T/bad-v.eml"
	expect_sig "$T/bad-v.eml" invalid
}

@test "an Ed25519 signature whose signature algorithm field is not id-Ed25519 is invalid" {
	python3 - "$BATS_TEST_DIRNAME/../corpus/rfc9216/signedByCarlosEd25519.p7m" \
	    "$T/alg.der" <<-'EOF'
		import sys
		data = open(sys.argv[1], 'rb').read()
		# the SignerInfo's signatureAlgorithm: SEQUENCE { 1.3.101.112 }
		# followed by the 64-byte signature
		old = bytes.fromhex('300506032b65700440')
		assert data.count(old) == 1
		at = data.index(old)
		bad = bytes.fromhex('300506032b65710440')  # id-Ed448
		open(sys.argv[2], 'wb').write(data[:at] + bad + data[at + len(old):])
	EOF
	rfc9216_carlos "$T/alg.eml" "$T/alg.der"
	verify_to "$T/alg.eml" "$T/v.eml"
	expect_sig "$T/v.eml" invalid
	[[ $(status_of "$T/v.eml" X-Mailseal-Signature) == *"signature algorithm does not match"* ]] ||
	    fail_with "detail: $(status_of "$T/v.eml" X-Mailseal-Signature)"
}

@test "usage errors exit 64, empty input 65 with 5.6.0, a missing store 75" {
	run --separate-stderr smime-verify --no-such-option <"$FIX/plain.eml"
	expect_status 64
	[ -z "$output" ] || fail_with "output on a usage error"
	run --separate-stderr smime-verify operand <"$FIX/plain.eml"
	expect_status 64
	[ -z "$output" ] || fail_with "output for an operand"
	# --decrypted, once kept for mailseal-filter --incoming, is gone
	run --separate-stderr smime-verify --decrypted <"$FIX/plain.eml"
	expect_status 64
	[ -z "$output" ] || fail_with "output for --decrypted"
	run smime-verify -h
	expect_status 0
	[[ $output != *decrypted* ]] || fail_with "the usage names --decrypted"

	run --separate-stderr smime-verify </dev/null
	expect_status 65
	[ -z "$output" ] || fail_with "output for empty input"
	[[ ${stderr%%$'\n'*} == 5.6.0* ]] || fail_with "first line is not 5.6.0"

	run --separate-stderr smime-verify --store "$T/no-such-store" \
	    <"$FIX/plain.eml"
	expect_status 75
	[ -z "$output" ] || fail_with "output without a store"
}
