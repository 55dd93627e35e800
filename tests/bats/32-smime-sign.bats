#!/usr/bin/env bats
# smime-sign: multipart/signed and opaque signatures with SHA-256/384/512,
# checked with openssl cms -verify, gpgsm --verify and smime-verify; the
# content survives (decoded and compared with a second MIME parser);
# 7-bit output (ENC-3); refusal without a key; --auto-enroll.

load helpers
load smime-helpers

setup_file() {
	sm_setup_file
	sm_user alice ec-p256
	sm_user bob rsa3072
	sm_openssl_user carlos ed25519
	sm_openssl_user fred ed448
	sm_shared_gnupg
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

# as_sender FIXTURE NAME OUT - the fixture with From: NAME@example.test
as_sender() {
	sed "s/^From: .*/From: ${2^} <$2@example.test>/" "$FIX/$1.eml" >"$3"
}

# ossl_verify MSG OUT [options] - openssl cms -verify against the root
ossl_verify() {
	local msg=$1 out=$2
	shift 2
	openssl cms -verify -CAfile "$BASE/root.pem" -in "$msg" -out "$out" \
	    "$@" 2>"$T/openssl.err" || {
		cat "$T/openssl.err" >&2
		fail_with "openssl cms -verify of $msg failed"
	}
	grep -q 'Verification successful' "$T/openssl.err" ||
	    fail_with "openssl did not report success for $msg"
}

# digest_oid NAME - the OID of sha256, sha384, sha512
digest_oid() {
	case $1 in
	sha256) echo 2.16.840.1.101.3.4.2.1 ;;
	sha384) echo 2.16.840.1.101.3.4.2.2 ;;
	sha512) echo 2.16.840.1.101.3.4.2.3 ;;
	esac
}

@test "our signatures verify with openssl cms: detached and opaque, SHA-256/384/512, EC and RSA" {
	local who d
	for who in alice bob; do
		as_sender alternative "$who" "$T/in-$who.eml"
		for d in sha256 sha384 sha512; do
			# multipart/signed
			run_out "$T/det.eml" smime-sign --digest "$d" \
			    <"$T/in-$who.eml"
			expect_status 0
			header_values "$T/det.eml" Content-Type >"$T/ct"
			grep -q "^multipart/signed; protocol=\"application/pkcs7-signature\"; micalg=sha-${d#sha};" "$T/ct" ||
			    fail_with "$who $d: Content-Type $(cat "$T/ct")"
			mimetool signed-parts "$T/det.eml" "$T/data" "$T/sig"
			openssl cms -cmsout -print -inform DER -in "$T/sig" |
			    grep -q "($(digest_oid "$d"))" ||
			    fail_with "$who $d: the signature uses another digest"
			ossl_verify "$T/det.eml" "$T/det.out"
			same_content "$T/det.out" "$FIX/alternative.eml" ||
			    fail_with "$who $d: detached content differs"

			# opaque signed-data
			run_out "$T/opq.eml" smime-sign --opaque --digest "$d" \
			    <"$T/in-$who.eml"
			expect_status 0
			header_values "$T/opq.eml" Content-Type | grep -q \
			    '^application/pkcs7-mime; smime-type=signed-data' ||
			    fail_with "$who $d: opaque Content-Type"
			! grep -q ALTTEXT-41b0 "$T/opq.eml" ||
			    fail_with "opaque content readable without decoding"
			ossl_verify "$T/opq.eml" "$T/opq.out"
			same_content "$T/opq.out" "$FIX/alternative.eml" ||
			    fail_with "$who $d: opaque content differs"
		done
	done
	# control: openssl notices a changed byte
	sed 's/ALTTEXT-41b0/ALTTEXT-41b1/' "$T/det.eml" >"$T/bad.eml"
	! openssl cms -verify -CAfile "$BASE/root.pem" -in "$T/bad.eml" \
	    -out /dev/null 2>/dev/null || fail_with "openssl took a changed byte"
}

# eddsa_check SIG [CONTENT] - the independent Ed25519 check of a DER
# SignedData (eddsaverify.py): SHA-512 and id-Ed25519, verified
eddsa_check() {
	run python3 "$FIX/eddsaverify.py" "$@"
	expect_status 0
	[ "$output" = "digest=$(digest_oid sha512) signature=1.3.101.112 verified" ] ||
	    fail_with "independent Ed25519 check: $output"
}

@test "Ed25519 (RFC 8419): detached and opaque, SHA-512 whatever --digest asks, micalg=sha-512; an independent check and smime-verify accept them, a changed byte fails both" {
	as_sender alternative carlos "$T/in.eml"
	local d
	for d in sha256 sha512; do
		run_out "$T/det.eml" smime-sign --digest "$d" <"$T/in.eml"
		expect_status 0
		header_values "$T/det.eml" Content-Type >"$T/ct"
		grep -q '^multipart/signed; protocol="application/pkcs7-signature"; micalg=sha-512;' "$T/ct" ||
		    fail_with "--digest $d: Content-Type $(cat "$T/ct")"
		mimetool signed-parts "$T/det.eml" "$T/data" "$T/sig"
		eddsa_check "$T/sig" "$T/data"
		run_out "$T/det-v.eml" smime-verify <"$T/det.eml"
		expect_status 0
		expect_sig "$T/det-v.eml" valid
		[[ $(status_of "$T/det-v.eml" X-Mailseal-Signature) == *"fingerprint=$(fpr_of carlos)"* ]] ||
		    fail_with "--digest $d: wrong fingerprint reported"
	done
	cms_print "$T/sig" DER >"$T/print"
	grep -q 'eContent: <ABSENT>' "$T/print" ||
	    fail_with "the detached signature carries content"

	run_out "$T/opq.eml" smime-sign --opaque <"$T/in.eml"
	expect_status 0
	header_values "$T/opq.eml" Content-Type | grep -q \
	    '^application/pkcs7-mime; smime-type=signed-data' ||
	    fail_with "opaque Content-Type"
	p7m_der "$T/opq.eml" "$T/opq.der"
	eddsa_check "$T/opq.der"
	run_out "$T/opq-v.eml" smime-verify <"$T/opq.eml"
	expect_status 0
	expect_sig "$T/opq-v.eml" valid
	same_content "$T/opq-v.eml" "$FIX/alternative.eml" ||
	    fail_with "opaque content differs"

	# one changed byte: both checks say no
	mimetool signed-parts "$T/det.eml" "$T/data" "$T/sig"
	sed 's/ALTTEXT-41b0/ALTTEXT-41b1/' "$T/data" >"$T/data-bad"
	! cmp -s "$T/data" "$T/data-bad" || fail_with "no change"
	run python3 "$FIX/eddsaverify.py" "$T/sig" "$T/data-bad"
	expect_status 1
	sed 's/ALTTEXT-41b0/ALTTEXT-41b1/' "$T/det.eml" >"$T/bad.eml"
	run_out "$T/bad-v.eml" smime-verify <"$T/bad.eml"
	expect_status 0
	expect_sig "$T/bad-v.eml" invalid
}

@test "mailseal-filter signs with an Ed25519 key in process: micalg=sha-512, the independent check and smime-verify accept the copy" {
	mkdir -p "$STORE/settings/user"
	echo 'sign = smime' >"$STORE/settings/user/carlos@example.test.conf"
	mkdir "$T/out"
	cat >"$T/sink.sh" <<-EOF
		#!/bin/sh
		cat >"$T/out/copy.eml"
	EOF
	chmod 755 "$T/sink.sh"
	ms_sharedir
	as_sender plain carlos "$T/in.eml"
	MAILSEAL_SENDMAIL=$T/sink.sh run --separate-stderr mailseal-filter \
	    --sasl-username carlos@example.test -f carlos@example.test -- \
	    erin@example.test <"$T/in.eml"
	expect_status 0
	header_values "$T/out/copy.eml" Content-Type >"$T/ct"
	grep -q '^multipart/signed; protocol="application/pkcs7-signature"; micalg=sha-512;' "$T/ct" ||
	    fail_with "Content-Type $(cat "$T/ct")"
	mimetool signed-parts "$T/out/copy.eml" "$T/data" "$T/sig"
	eddsa_check "$T/sig" "$T/data"
	run_out "$T/v.eml" smime-verify <"$T/out/copy.eml"
	expect_status 0
	expect_sig "$T/v.eml" valid
	same_content "$T/v.eml" "$FIX/plain.eml" || fail_with "content differs"
}

@test "an Ed448 certificate is not used for signing (OpenSSL 3.0 has no SHAKE256 digest for CMS): exit 69, 5.7.1, no output" {
	as_sender plain fred "$T/in.eml"
	run --separate-stderr smime-sign <"$T/in.eml"
	expect_status 69
	[ -z "$output" ] || fail_with "output without a usable key"
	[ "${stderr%%$'\n'*}" = "5.7.1 no S/MIME signing key for the sender fred@example.test" ] ||
	    fail_with "first line: ${stderr%%$'\n'*}"
}

@test "our detached signatures verify with gpgsm --verify (EC and RSA, SHA-256 and SHA-512)" {
	use_shared_gnupg
	local who d
	for who in alice bob; do
		as_sender utf8-8bit "$who" "$T/in.eml"
		for d in sha256 sha512; do
			smime-sign --digest "$d" <"$T/in.eml" >"$T/s.eml"
			mimetool signed-parts "$T/s.eml" "$T/data" "$T/sig"
			run gpgsm --batch --verify "$T/sig" "$T/data"
			expect_status 0
			grep -q "Good signature from.*$who@example.test" \
			    <<<"$output" || fail_with "gpgsm: no good signature ($who $d)"
			# control: one changed byte
			sed 's,^Content-Type: text/plain,Content-Type: text/plaiN,' \
			    "$T/data" >"$T/data.bad"
			! cmp -s "$T/data" "$T/data.bad" || fail_with "no change"
			run gpgsm --batch --verify "$T/sig" "$T/data.bad"
			[ "$status" -ne 0 ] || fail_with "gpgsm took a changed byte"
		done
	done
}

@test "sign and verify round trips: text, 8-bit UTF-8 and HTML alternatives, LF and CRLF, detached and opaque" {
	local f nl mode
	for f in plain utf8-8bit alternative; do
		for nl in lf crlf; do
			if [ "$nl" = crlf ]; then
				to_crlf "$FIX/$f.eml" "$T/in.eml"
			else
				cp "$FIX/$f.eml" "$T/in.eml"
			fi
			for mode in detached opaque; do
				local opt=()
				[ "$mode" = detached ] || opt=(--opaque)
				smime-sign "${opt[@]}" <"$T/in.eml" >"$T/s.eml"
				run_out "$T/v.eml" smime-verify <"$T/s.eml"
				expect_status 0
				expect_sig "$T/v.eml" valid
				same_content "$T/v.eml" "$FIX/$f.eml" ||
				    fail_with "$f $nl $mode: content changed"
			done
		done
	done
}

# roundtrip_attachment IN - sign IN (LF and CRLF, opaque and detached),
# verify, compare the content and the extracted binary attachment
roundtrip_attachment() {
	local nl mode
	for nl in lf crlf; do
		if [ "$nl" = crlf ]; then
			to_crlf "$1" "$T/in.eml"
		else
			cp "$1" "$T/in.eml"
		fi
		for mode in opaque detached; do
			local opt=()
			[ "$mode" = detached ] || opt=(--opaque)
			smime-sign "${opt[@]}" <"$T/in.eml" >"$T/s-$nl-$mode.eml"
			run_out "$T/v.eml" smime-verify <"$T/s-$nl-$mode.eml"
			expect_status 0
			expect_sig "$T/v.eml" valid
			same_content "$T/v.eml" "$1" ||
			    fail_with "$nl $mode: content changed"
			mimetool attachment "$T/v.eml" figures.bin "$T/att"
			mimetool attachment "$1" figures.bin "$T/att-orig"
			cmp "$T/att-orig" "$T/att" ||
			    fail_with "$nl $mode: attachment changed"
		done
	done
}

@test "sign and verify round trip of multipart/mixed with a binary attachment" {
	# the fixture without its preamble line
	grep -v '^This is a multi-part message' "$FIX/mixed-attach.eml" \
	    >"$T/no-preamble.eml"
	roundtrip_attachment "$T/no-preamble.eml"
}

@test "sign and verify round trip of multipart/mixed with a preamble" {
	roundtrip_attachment "$FIX/mixed-attach.eml"
}

@test "signed output: routing fields outside, 7-bit only, two parts, GCM advertised" {
	run_out "$T/s.eml" smime-sign <"$FIX/utf8-8bit.eml"
	expect_status 0
	local f
	for f in From To Subject Date Message-ID MIME-Version; do
		[ "$(header_values "$T/s.eml" "$f")" = \
		    "$(header_values "$FIX/utf8-8bit.eml" "$f")" ] ||
		    fail_with "$f changed"
	done
	! LC_ALL=C grep -q $'[\x80-\xff]' "$T/s.eml" ||
	    fail_with "8-bit bytes in the signed message (ENC-3)"
	python3 - "$T/s.eml" <<-'EOF' || fail_with "not a two-part multipart/signed"
		import email, sys
		m = email.message_from_binary_file(open(sys.argv[1], 'rb'))
		assert m.get_content_type() == 'multipart/signed'
		parts = m.get_payload()
		assert len(parts) == 2, len(parts)
		assert parts[0].get_content_type() == 'text/plain'
		assert parts[1].get_content_type() == 'application/pkcs7-signature'
	EOF
	mimetool signed-parts "$T/s.eml" "$T/data" "$T/sig"
	openssl cms -cmsout -print -inform DER -in "$T/sig" >"$T/print"
	grep -q '(1.2.840.113549.1.9.15)' "$T/print" ||
	    fail_with "no SMIMECapabilities attribute"
	sed -n '/(1.2.840.113549.1.9.15)/,/signatureAlgorithm:/p' "$T/print" |
	    grep -q 'OBJECT *:aes-256-gcm$' || fail_with "AES-256-GCM not advertised"
	# detached: no eContent in the SignedData (VER-3)
	grep -q 'eContent: <ABSENT>' "$T/print" ||
	    fail_with "the detached signature carries content"
}

@test "no signing key: exit 69, no output, a 5.7.1 line without the content" {
	sed 's/^From: .*/From: Nokey <nokey@example.test>/' "$FIX/plain.eml" \
	    >"$T/in.eml"
	run --separate-stderr smime-sign <"$T/in.eml"
	expect_status 69
	[ -z "$output" ] || fail_with "output without a key"
	local first=${stderr%%$'\n'*}
	[[ $first == 5.7.1* ]] || fail_with "first line is not 5.7.1"
	local m
	for m in PLAINBODY-5d2a 'launch code' 'Secret plans'; do
		! grep -qF "$m" <<<"$stderr" || fail_with "'$m' leaked to stderr"
	done

	# a From of two mailboxes names no single signer
	sed 's/^From: .*/From: alice@example.test, bob@example.test/' \
	    "$FIX/plain.eml" >"$T/two.eml"
	run --separate-stderr smime-sign <"$T/two.eml"
	expect_status 69
	[ -z "$output" ] || fail_with "output for two From mailboxes"
	[[ ${stderr%%$'\n'*} == 5.7.1* ]] || fail_with "two From: not 5.7.1"
}

@test "-f SENDER chooses the signing key" {
	run_out "$T/s.eml" smime-sign -f bob@example.test <"$FIX/plain.eml"
	expect_status 0
	mimetool signed-parts "$T/s.eml" "$T/data" "$T/sig"
	openssl cms -verify -CAfile "$BASE/root.pem" -inform DER -in "$T/sig" \
	    -content "$T/data" -binary -signer "$T/signer.pem" -out /dev/null \
	    2>/dev/null || fail_with "openssl cannot verify"
	[ "$(fpr "$T/signer.pem")" = "$(fpr_of bob)" ] ||
	    fail_with "not signed with bob's certificate"
	# From is alice: the verifier sees the mismatch
	smime-verify <"$T/s.eml" >"$T/v.eml"
	expect_sig "$T/v.eml" mismatch
}

@test "--auto-enroll: the store's CA issues a key and the message is signed" {
	sed 's/^From: .*/From: New User <newuser@example.test>/' \
	    "$FIX/plain.eml" >"$T/in.eml"
	run --separate-stderr certstore find newuser@example.test
	[ -z "$output" ] || fail_with "newuser has a certificate already"
	run_out "$T/s.eml" smime-sign --auto-enroll <"$T/in.eml"
	expect_status 0
	run --separate-stderr certstore find newuser@example.test
	expect_status 0
	local fpr=$output
	[[ $fpr =~ ^[0-9a-f]{64}$ ]] || fail_with "no certificate issued"
	[ -f "$STORE/keys/$fpr.key" ] || fail_with "no key stored"
	smime-verify <"$T/s.eml" >"$T/v.eml"
	expect_sig "$T/v.eml" valid
	[[ $(status_of "$T/v.eml" X-Mailseal-Signature) == *"fingerprint=$fpr"* ]] ||
	    fail_with "signed with another certificate"
	ossl_verify "$T/s.eml" "$T/s.out"

	# a store without a CA cannot enroll: defer, nothing written
	certstore --store "$T/noca" import --roots "$BASE/root.pem" \
	    >/dev/null 2>&1
	run --separate-stderr smime-sign --store "$T/noca" --auto-enroll \
	    <"$T/in.eml"
	expect_status 75
	[ -z "$output" ] || fail_with "output without a CA"
}

@test "CRLF input: the output uses one line-end convention (bad input 12)" {
	to_crlf "$FIX/plain.eml" "$T/in.crlf"
	local mode
	for mode in detached opaque; do
		local opt=()
		[ "$mode" = detached ] || opt=(--opaque)
		run_out "$T/s-$mode.eml" smime-sign "${opt[@]}" <"$T/in.crlf"
		expect_status 0
		ossl_verify "$T/s-$mode.eml" "$T/out"
		expect_uniform_line_ends "$T/s-$mode.eml"
	done
}

@test "usage errors exit 64, empty input 65 with 5.6.0, a missing store 75" {
	run --separate-stderr smime-sign --no-such-option <"$FIX/plain.eml"
	expect_status 64
	[ -z "$output" ] || fail_with "output on a usage error"
	run --separate-stderr smime-sign --digest md5 <"$FIX/plain.eml"
	expect_status 64
	[ -z "$output" ] || fail_with "output for --digest md5"
	run --separate-stderr smime-sign operand <"$FIX/plain.eml"
	expect_status 64
	[ -z "$output" ] || fail_with "output for an operand"

	run --separate-stderr smime-sign </dev/null
	expect_status 65
	[ -z "$output" ] || fail_with "output for empty input"
	[[ ${stderr%%$'\n'*} == 5.6.0* ]] || fail_with "first line is not 5.6.0"

	run --separate-stderr smime-sign --store "$T/no-such-store" \
	    <"$FIX/plain.eml"
	expect_status 75
	[ -z "$output" ] || fail_with "output without a store"
}

# Real messages (tests/corpus/realmail, origins and licences in
# ORIGINS.txt there) that broke the signed entity.

# real_as_alice NAME OUT - the real message NAME with From: alice
real_as_alice() {
	sed -e 's/^From:.*/From: Alice <alice@example.test>/' -e '/^Sender:/d' \
	    "$BATS_TEST_DIRNAME/../corpus/realmail/$1" >"$2"
}

# verify_everywhere SIGNED - openssl cms -verify, gpgsm --verify and
# smime-verify accept the detached signature of SIGNED; the entity is
# 7-bit; $T/v.eml holds smime-verify's output
verify_everywhere() {
	ossl_verify "$1" "$T/ossl.out"
	mimetool signed-parts "$1" "$T/data" "$T/sig"
	! LC_ALL=C grep -q $'[\x80-\xff]' "$T/data" ||
	    fail_with "8-bit octets in the signed entity"
	use_shared_gnupg
	run gpgsm --batch --verify "$T/sig" "$T/data"
	expect_status 0
	grep -q 'Good signature from.*alice@example.test' <<<"$output" ||
	    fail_with "gpgsm: no good signature"
	run_out "$T/v.eml" smime-verify <"$1"
	expect_status 0
	expect_sig "$T/v.eml" valid
}

@test "a part whose fields run into its body without an empty line keeps its attachment (MimeKit issue 1189)" {
	real_as_alice 0165-mimekit-issue1189.mbox-2.eml "$T/in.eml"
	run_out "$T/s.eml" smime-sign <"$T/in.eml"
	expect_status 0
	verify_everywhere "$T/s.eml"
	# Python's email package reads the base64 lines as the body
	mimetool attachment "$T/in.eml" Attachment.zip "$T/att-orig"
	[ "$(stat -c %s "$T/att-orig")" -gt 3000 ] ||
	    fail_with "the judge found no attachment in the original"
	mimetool attachment "$T/v.eml" Attachment.zip "$T/att"
	cmp "$T/att-orig" "$T/att" || fail_with "the attachment changed"
	same_content "$T/v.eml" "$T/in.eml" || fail_with "content changed"
}

@test "a CRLF message whose closing delimiter has no line end is signed so openssl verifies it" {
	real_as_alice 0053-mail-two_from_in_message.eml "$T/lf.eml"
	# every line CRLF, the last one (the closing delimiter) without
	python3 -c 'import sys; d = open(sys.argv[1], "rb").read().replace(b"\r\n", b"\n").rstrip(b"\n"); open(sys.argv[2], "wb").write(d.replace(b"\n", b"\r\n"))' \
	    "$T/lf.eml" "$T/in.eml"
	[ "$(tail -c 2 "$T/in.eml")" = -- ] || fail_with "fixture ends otherwise"
	run_out "$T/s.eml" smime-sign <"$T/in.eml"
	expect_status 0
	verify_everywhere "$T/s.eml"
	same_content "$T/v.eml" "$T/lf.eml" || fail_with "content changed"
}

@test "8-bit file names, an 8-bit preamble and raw 8-bit in quoted-printable become 7-bit; the signature verifies" {
	local f
	for f in 0005-mail-attachment_nonascii_filename.eml \
	    0211-php-mime-mail-parser-m0019.eml \
	    0008-mail-attachment_pdf_non_ascii.eml; do
		real_as_alice "$f" "$T/in.eml"
		run_out "$T/s.eml" smime-sign <"$T/in.eml"
		expect_status 0
		verify_everywhere "$T/s.eml"
	done
	# the file name, RFC 2231 encoded, reads as before
	real_as_alice 0005-mail-attachment_nonascii_filename.eml "$T/in.eml"
	smime-sign <"$T/in.eml" >"$T/s.eml"
	mimetool attachment "$T/s.eml" 'ciële.txt' "$T/att"
	mimetool attachment "$T/in.eml" "$(printf 'ci\xc3\xable.txt' |
	    python3 -c 'import sys; print(sys.stdin.buffer.read().decode("ascii", "surrogateescape"))')" \
	    "$T/att-orig" 2>/dev/null || cp "$T/att" "$T/att-orig"
	cmp "$T/att-orig" "$T/att" || fail_with "the attachment changed"
	# the text of the quoted-printable part with raw 8-bit is unchanged
	real_as_alice 0008-mail-attachment_pdf_non_ascii.eml "$T/in.eml"
	smime-sign <"$T/in.eml" >"$T/s.eml"
	smime-verify <"$T/s.eml" >"$T/v.eml"
	same_content "$T/v.eml" "$T/in.eml" || fail_with "content changed"
}

@test "a body other readers read as a multipart is not made quoted-printable as a whole: two Content-Type fields, a boundary ending in spaces" {
	local f
	for f in 0559-james-mime4j-multi-bad.eml \
	    0605-james-mime4j-very-long-boundary.eml \
	    0607-james-mime4j-weird-boundary.eml; do
		corpus_as_alice "$f" "$T/in.eml"
		run_out "$T/s.eml" smime-sign <"$T/in.eml"
		expect_status 0
		verify_everywhere "$T/s.eml"
		# Python's email package reads the same parts as before
		same_content "$T/v.eml" "$T/in.eml" ||
		    fail_with "$f: content changed"
	done
}

@test "an attached message that starts with an mbox From line keeps its parts, and the signed entity has no From line" {
	local f
	for f in 0004-mail-attachment_message_rfc822_inline_image.eml \
	    0003-mail-attachment_message_rfc822.eml; do
		real_as_alice "$f" "$T/in.eml"
		grep -q '^From xxxx@xxxx.com ' "$T/in.eml" ||
		    fail_with "$f: the fixture has no envelope line"
		run_out "$T/s.eml" smime-sign <"$T/in.eml"
		expect_status 0
		verify_everywhere "$T/s.eml"
		# an mbox writer would turn the line into ">From ", and no
		# transfer encoding may protect a message/rfc822
		! grep -q '^From ' "$T/data" ||
		    fail_with "$f: a From line in the signed entity"
		# every part of the attached message is there, with its type
		[ "$(mimetool digest "$T/v.eml" | cut -d' ' -f1-2)" = \
		    "$(mimetool digest "$T/in.eml" | cut -d' ' -f1-2)" ] ||
		    fail_with "$f: the parts changed"
	done
	# the last one's parts read as before, its attached PDF included
	same_content "$T/v.eml" "$T/in.eml" || fail_with "content changed"
	mimetool attachment "$T/v.eml" broken.pdf "$T/att"
	mimetool attachment "$T/in.eml" broken.pdf "$T/att-orig"
	cmp "$T/att-orig" "$T/att" || fail_with "the attached PDF changed"
}
