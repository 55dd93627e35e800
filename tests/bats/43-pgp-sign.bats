#!/usr/bin/env bats
# pgp-sign: PGP/MIME (RFC 3156) signatures with micalg from the signature
# made, checked with gpg --verify and sq verify on part 1 made canonical
# by an independent reader (mimetool.py); the content survives, the output
# is 7-bit and LF; --inline cleartext signatures of text/plain roots;
# refusal without a key (5.7.1, 69); -f SENDER; passphrase-protected keys
# (75 without the passphrase); round trips through pgp-verify and through
# pgp-enc / pgp-dec.

load helpers
load smime-helpers
load pgp-helpers

setup() {
	pg_setup
}

teardown() {
	pg_teardown
}

# own_key ADDRESS [GENERATE-OPTION...] - a key made by pgp-keys generate;
# its public key in $T/ADDRESS.pub and in the scratch home (for gpg
# --verify); prints the fingerprint
own_key() {
	local addr=$1 fpr
	shift
	fpr=$(pgp-keys generate "$@" "$addr" 2>"$T/gen.err") ||
	    { cat "$T/gen.err" >&2; return 1; }
	[[ $fpr =~ ^[0-9A-F]{40}$ ]] || return 1
	pgp-keys export "$fpr" >"$T/$addr.pub" || return 1
	pg_gpg --import "$T/$addr.pub" 2>/dev/null || return 1
	echo "$fpr"
}

# check_mime_sig MSG FPR CERT - MSG is RFC 3156 PGP/MIME whose signature,
# over part 1 as mimetool cuts it out and makes it CRLF, verifies with gpg
# (made by FPR, hash = micalg) and with sq (CERT)
check_mime_sig() {
	local msg=$1 fpr=$2 cert=$3 micalg got
	micalg=$(pg_signed_check "$msg") || fail_with "$msg: not RFC 3156"
	mimetool signed-parts "$msg" "$T/part1" "$T/sig.asc" ||
	    fail_with "$msg: no signed parts"
	got=$(pg_gpg_verify_detached "$T/sig.asc" "$T/part1") ||
	    fail_with "$msg: gpg --verify failed"
	[ "${got% *}" = "$fpr" ] ||
	    fail_with "$msg: signed by ${got% *}, not $fpr"
	[ "$micalg" = "pgp-${got#* }" ] ||
	    fail_with "$msg: micalg=$micalg but gpg reports ${got#* }"
	pg_sq_verify "$cert" "$T/sig.asc" "$T/part1" ||
	    fail_with "$msg: sq verify failed"
}

# routing_same A B - the routing and description fields of A are those of
# B (as Python's email package reads them); MIME-Version: 1.0 if B has none
routing_same() {
	python3 - "$1" "$2" <<-'EOF' || fail_with "$1: routing fields changed"
		import email, email.policy, sys
		def fields(path):
		    with open(path, "rb") as f:
		        m = email.message_from_binary_file(f, policy=email.policy.compat32)
		    return {n: [str(v) for v in m.get_all(n) or []] for n in
		            ("From", "To", "Cc", "Subject", "Date", "Message-ID",
		             "MIME-Version")}
		a, b = fields(sys.argv[1]), fields(sys.argv[2])
		if not b["MIME-Version"]:
		    b["MIME-Version"] = ["1.0"]	# added when missing
		for n in a:
		    if a[n] != b[n]:
		        sys.exit("%s: %r, was %r" % (n, a[n], b[n]))
	EOF
}

# seven_bit_lf FILE - only 7-bit bytes, LF line ends
seven_bit_lf() {
	! LC_ALL=C grep -q $'[\x80-\xff]' "$1" ||
	    fail_with "$1: 8-bit bytes in the output"
	! grep -q $'\r' "$1" || fail_with "$1: CR in the output"
}

# text_norm - text as a cleartext signature carries it: LF, no trailing
# white space on lines, no trailing empty lines
text_norm() {
	awk '{ sub(/[ \t\r]+$/, ""); line[NR] = $0 }
	    END { n = NR; while (n > 0 && line[n] == "") n--
		  for (i = 1; i <= n; i++) print line[i] }'
}

# bin_message OUT - multipart/mixed from alice with an 8-bit latin-1 text
# part and a Content-Transfer-Encoding: binary attachment raw.bin (every
# byte but NUL, bare CR and LF included); the attachment's bytes are in
# $T/raw.bin
bin_message() {
	python3 - "$1" "$T/raw.bin" <<-'EOF'
		import sys
		data = bytes(range(1, 256)) * 4 + b"\r\n\r\nend\r"
		head = (b"From: Alice Example <alice@example.test>\n"
		        b"To: Bob Example <bob@example.test>\n"
		        b"Subject: binary attachment\n"
		        b"Message-ID: <bin-1@example.test>\n"
		        b"MIME-Version: 1.0\n"
		        b"Content-Type: multipart/mixed; boundary=\"bin-b\"\n\n")
		body = (b"--bin-b\n"
		        b"Content-Type: text/plain; charset=iso-8859-1\n"
		        b"Content-Transfer-Encoding: 8bit\n\n"
		        b"Caf\xe9 BINTEXT-3f3f\n"
		        b"--bin-b\n"
		        b"Content-Type: application/octet-stream; name=\"raw.bin\"\n"
		        b"Content-Transfer-Encoding: binary\n"
		        b"Content-Disposition: attachment; filename=\"raw.bin\"\n\n"
		        + data + b"\n--bin-b--\n")
		open(sys.argv[1], "wb").write(head + body)
		open(sys.argv[2], "wb").write(data)
	EOF
}

@test "PGP/MIME signatures verify with gpg and sq: text, UTF-8 8bit, HTML alternative, attachment; micalg is the hash used" {
	local fpr f
	fpr=$(own_key alice@example.test)
	for f in plain utf8-8bit alternative mixed-attach; do
		run_out "$T/s-$f.eml" pgp-sign <"$FIX/$f.eml"
		expect_status 0
		check_mime_sig "$T/s-$f.eml" "$fpr" "$T/alice@example.test.pub"
		same_content "$T/s-$f.eml" "$FIX/$f.eml" ||
		    fail_with "$f: content changed"
		routing_same "$T/s-$f.eml" "$FIX/$f.eml"
		seven_bit_lf "$T/s-$f.eml"
	done
	mimetool attachment "$T/s-mixed-attach.eml" figures.bin "$T/att"
	mimetool attachment "$FIX/mixed-attach.eml" figures.bin "$T/att-orig"
	cmp "$T/att-orig" "$T/att" || fail_with "attachment changed"
	# the check bites: one changed byte in part 1
	sed 's/MIXEDTEXT-7c1e/MIXEDTEXT-7c1f/' "$T/s-mixed-attach.eml" \
	    >"$T/bad.eml"
	mimetool signed-parts "$T/bad.eml" "$T/bad1" "$T/bad.asc"
	! pg_gpg_verify_detached "$T/bad.asc" "$T/bad1" 2>/dev/null ||
	    fail_with "gpg accepted a changed part 1"
	! pg_sq_verify "$T/alice@example.test.pub" "$T/bad.asc" "$T/bad1" \
	    2>/dev/null || fail_with "sq accepted a changed part 1"
}

@test "PGP/MIME from CRLF input and of a binary attachment verify with gpg and sq; LF, 7-bit output" {
	local fpr f
	fpr=$(own_key alice@example.test)
	for f in plain utf8-8bit alternative mixed-attach; do
		to_crlf "$FIX/$f.eml" "$T/$f.crlf"
		run_out "$T/s-$f.eml" pgp-sign <"$T/$f.crlf"
		expect_status 0
		check_mime_sig "$T/s-$f.eml" "$fpr" "$T/alice@example.test.pub"
		same_content "$T/s-$f.eml" "$FIX/$f.eml" ||
		    fail_with "$f (CRLF): content changed"
		seven_bit_lf "$T/s-$f.eml"
	done
	bin_message "$T/bin.eml"
	run_out "$T/s-bin.eml" pgp-sign <"$T/bin.eml"
	expect_status 0
	check_mime_sig "$T/s-bin.eml" "$fpr" "$T/alice@example.test.pub"
	seven_bit_lf "$T/s-bin.eml"
	mimetool attachment "$T/s-bin.eml" raw.bin "$T/att"
	cmp "$T/raw.bin" "$T/att" || fail_with "binary attachment changed"
	# the latin-1 text part, decoded, is the same (Python reads the raw
	# binary attachment of the original differently: compared above)
	diff <(content_digest "$T/s-bin.eml" | grep '^1\.1 ') \
	    <(content_digest "$T/bin.eml" | grep '^1\.1 ') ||
	    fail_with "text part changed"
	routing_same "$T/s-bin.eml" "$T/bin.eml"
}

@test "parts with trailing white space are quoted-printable before signing; a relay stripping white space does not break it" {
	local fpr
	fpr=$(own_key alice@example.test)
	{
		printf 'From: alice@example.test\nTo: bob@example.test\n'
		printf 'Subject: fragile\nMIME-Version: 1.0\n'
		printf 'Content-Type: multipart/mixed; boundary="fb"\n\n'
		printf -- '--fb\nContent-Type: text/plain\n\n'
		printf 'FRAGILE-5d2a ends in spaces   \nand a tab\t\n'
		printf -- '--fb\nContent-Type: text/plain\n\nsteady text\n'
		printf -- '--fb--\n'
	} >"$T/fragile.eml"
	run_out "$T/s.eml" pgp-sign <"$T/fragile.eml"
	expect_status 0
	check_mime_sig "$T/s.eml" "$fpr" "$T/alice@example.test.pub"
	same_content "$T/s.eml" "$T/fragile.eml" ||
	    fail_with "content changed"
	mimetool signed-parts "$T/s.eml" "$T/p1" "$T/sig.asc"
	! grep -q $'[ \t]\r\?$' "$T/p1" || fail_with "trailing white space signed"
	grep -qi '^Content-Transfer-Encoding: quoted-printable' "$T/p1" ||
	    fail_with "no quoted-printable part"
	# what a relay may do: strip trailing white space
	sed 's/[ \t]*$//' "$T/s.eml" >"$T/relayed.eml"
	check_mime_sig "$T/relayed.eml" "$fpr" "$T/alice@example.test.pub"
	# and the unaffected part keeps its 7-bit encoding
	[ "$(grep -ci '^Content-Transfer-Encoding: quoted-printable' "$T/p1")" \
	    = 1 ] || fail_with "the steady part was re-encoded"
}

@test "a line starting with \"From \" is signed as =46rom (RFC 3156 section 5), so an mbox writer cannot break the signature" {
	local fpr
	fpr=$(own_key alice@example.test)
	{
		printf 'From: alice@example.test\nTo: bob@example.test\n'
		printf 'Subject: from lines\nMIME-Version: 1.0\n'
		printf 'Content-Type: text/plain\n\n'
		printf 'Dear Bob,\nFrom now on FROM-7c1e the figures are final.\nFrom me\n'
	} >"$T/from.eml"
	run_out "$T/s.eml" pgp-sign <"$T/from.eml"
	expect_status 0
	check_mime_sig "$T/s.eml" "$fpr" "$T/alice@example.test.pub"
	same_content "$T/s.eml" "$T/from.eml" || fail_with "content changed"
	mimetool signed-parts "$T/s.eml" "$T/p1" "$T/sig.asc"
	! grep -q '^From ' "$T/p1" || fail_with "a From line was signed as it was"
	grep -q '^=46rom now on FROM-7c1e' "$T/p1" || fail_with "no =46rom"
	# what an mbox writer does to the message as it travels
	sed 's/^From />From /' "$T/s.eml" >"$T/mbox.eml"
	check_mime_sig "$T/mbox.eml" "$fpr" "$T/alice@example.test.pub"
}

@test "part 1 of a 7-bit message is its content fields and body, byte for byte" {
	own_key alice@example.test >/dev/null
	local f
	# (mixed-attach has a line starting with "From ": it is re-encoded,
	# see the test above)
	for f in plain alternative; do
		pgp-sign <"$FIX/$f.eml" >"$T/s.eml" || fail_with "pgp-sign $f"
		mimetool signed-parts "$T/s.eml" "$T/part1" "$T/sig.asc"
		entity_of "$FIX/$f.eml" "$T/entity"
		to_crlf "$T/entity" "$T/entity.crlf"
		cmp "$T/entity.crlf" "$T/part1" ||
		    fail_with "$f: part 1 is not the original entity"
	done
}

@test "micalg follows the signature made: RSA key, and SHA-384 when the keyring prefers it" {
	local alice bob
	alice=$(own_key alice@example.test)
	bob=$(own_key bob@example.test --key rsa3072)
	pgp-sign -f bob@example.test <"$FIX/plain.eml" >"$T/rsa.eml" ||
	    fail_with "pgp-sign with the RSA key"
	check_mime_sig "$T/rsa.eml" "$bob" "$T/bob@example.test.pub"
	# the administrator may change the keyring's gpg.conf
	sed -i 's/^personal-digest-preferences .*/personal-digest-preferences SHA384/' \
	    "$STORE/gnupg/gpg.conf"
	grep -q '^personal-digest-preferences SHA384$' "$STORE/gnupg/gpg.conf" ||
	    fail_with "setup"
	pgp-sign <"$FIX/plain.eml" >"$T/ed.eml" || fail_with "pgp-sign"
	[ "$(pg_signed_check "$T/ed.eml")" = pgp-sha384 ] ||
	    fail_with "micalg is not pgp-sha384"
	check_mime_sig "$T/ed.eml" "$alice" "$T/alice@example.test.pub"
	pgp-sign -f bob@example.test <"$FIX/plain.eml" >"$T/rsa384.eml"
	check_mime_sig "$T/rsa384.eml" "$bob" "$T/bob@example.test.pub"
}

@test "--inline: a cleartext signature of the text verifies with gpg and sq; text/plain, utf-8, 8bit" {
	local fpr f got
	fpr=$(own_key alice@example.test)
	# quoted-printable text with dash lines and an armor-like line
	{
		echo 'From: Alice Example <alice@example.test>'
		echo 'To: bob@example.test'
		echo 'Subject: qp'
		echo 'MIME-Version: 1.0'
		echo 'Content-Type: text/plain; charset=utf-8; format=flowed'
		echo 'Content-Transfer-Encoding: quoted-printable'
		echo
		echo 'caf=C3=A9 soft=3D line=20break=C2=A0ok'
		echo '- a list item'
		echo '-----BEGIN PGP SIGNATURE-----'
		echo 'From the start of a line QPMARK-2a2a'
	} >"$T/qp.eml"
	to_crlf "$FIX/utf8-8bit.eml" "$T/utf8-crlf.eml"
	# no Content-Type (text/plain for MIME), no line end at the end
	printf 'From: Alice <alice@example.test>\nSubject: bare\n\nbare text NOCT-1c1c' \
	    >"$T/noct.eml"
	for f in "$FIX/plain.eml" "$FIX/utf8-8bit.eml" "$T/qp.eml" \
	    "$T/utf8-crlf.eml" "$T/noct.eml"; do
		run_out "$T/i.eml" pgp-sign --inline <"$f"
		expect_status 0
		header_block "$T/i.eml" | grep -i '^content-' >"$T/ct"
		printf '%s\n' 'Content-Type: text/plain; charset=utf-8' \
		    'Content-Transfer-Encoding: 8bit' | cmp -s - "$T/ct" || {
			cat "$T/ct" >&2
			fail_with "$f: not text/plain; charset=utf-8, 8bit"
		}
		routing_same "$T/i.eml" "$f"
		! grep -q $'\r' "$T/i.eml" || fail_with "$f: CR in the output"
		body_of "$T/i.eml" >"$T/i.asc"
		[ "$(head -n 1 "$T/i.asc")" = \
		    '-----BEGIN PGP SIGNED MESSAGE-----' ] ||
		    fail_with "$f: the body is not a cleartext signature"
		[ "$(tail -n 1 "$T/i.asc")" = '-----END PGP SIGNATURE-----' ] ||
		    fail_with "$f: the body does not end with the signature"
		got=$(pg_gpg_verify_clear "$T/i.asc" "$T/gpg.txt") ||
		    fail_with "$f: gpg --verify failed"
		[ "${got% *}" = "$fpr" ] || fail_with "$f: signed by ${got% *}"
		grep -qx "Hash: $(tr a-z A-Z <<<"${got#* }")" "$T/i.asc" ||
		    fail_with "$f: Hash: header is not ${got#* }"
		pg_sq_verify_clear "$T/alice@example.test.pub" "$T/i.asc" \
		    "$T/sq.txt" || fail_with "$f: sq verify failed"
		pg_py root-text "$f" | text_norm >"$T/want.txt"
		cmp "$T/want.txt" <(text_norm <"$T/gpg.txt") ||
		    fail_with "$f: gpg's signed text is not the original text"
		cmp "$T/want.txt" <(text_norm <"$T/sq.txt") ||
		    fail_with "$f: sq's signed text is not the original text"
	done
}

@test "--inline: multipart, HTML and non-UTF-8 text get PGP/MIME instead" {
	local fpr f
	fpr=$(own_key alice@example.test)
	sed 's|^Content-Type: text/plain; charset=us-ascii$|Content-Type: text/html; charset=us-ascii|' \
	    "$FIX/plain.eml" >"$T/html.eml"
	grep -q '^Content-Type: text/html' "$T/html.eml" || fail_with "setup"
	printf 'From: Alice <alice@example.test>\nSubject: latin\nMIME-Version: 1.0\nContent-Type: text/plain; charset=iso-8859-1\nContent-Transfer-Encoding: 8bit\n\nCaf\xe9 LATIN-7b7b\n' \
	    >"$T/latin.eml"
	for f in "$FIX/alternative.eml" "$FIX/mixed-attach.eml" "$T/html.eml" \
	    "$T/latin.eml"; do
		run_out "$T/s.eml" pgp-sign --inline <"$f"
		expect_status 0
		check_mime_sig "$T/s.eml" "$fpr" "$T/alice@example.test.pub"
		same_content "$T/s.eml" "$f" || fail_with "$f: content changed"
		! grep -q 'BEGIN PGP SIGNED MESSAGE' "$T/s.eml" ||
		    fail_with "$f: a cleartext signature"
		seven_bit_lf "$T/s.eml"
	done
}

@test "pgp-sign | pgp-verify: valid, PGP/MIME and inline, the message otherwise unchanged" {
	local fpr f mode
	fpr=$(own_key alice@example.test)
	for mode in mime inline; do
		local opt=()
		[ "$mode" = mime ] || opt=(--inline)
		for f in plain utf8-8bit alternative mixed-attach; do
			pgp-sign "${opt[@]}" <"$FIX/$f.eml" >"$T/s.eml" ||
			    fail_with "pgp-sign $mode $f"
			run_out "$T/v.eml" pgp-verify <"$T/s.eml"
			expect_status 0
			header_block "$T/v.eml" | grep -i '^X-Mailseal-' \
			    >"$T/status"
			[ "$(cat "$T/status")" = \
			    "X-Mailseal-Signature: valid; signature verified; signer=alice@example.test; fingerprint=$fpr" ] ||
			    fail_with "$mode $f: $(cat "$T/status")"
			grep -v '^X-Mailseal-Signature: ' "$T/v.eml" |
			    cmp - "$T/s.eml" ||
			    fail_with "$mode $f: pgp-verify changed the message"
		done
	done
}

@test "no signing key for the sender: exit 69, 5.7.1 naming the sender, nothing on stdout" {
	own_key bob@example.test >/dev/null
	# alice's public key alone is no signing key
	local pub
	pub=$(pg_gpg_key 'Alice <alice@example.test>')
	pg_export "$pub" "$T/alice-public.asc"
	pg_store_import "$T/alice-public.asc"
	local opt
	for opt in mime inline; do
		local o=()
		[ "$opt" = mime ] || o=(--inline)
		run_out "$T/out.eml" pgp-sign "${o[@]}" <"$FIX/plain.eml"
		expect_status 69
		[ ! -s "$T/out.eml" ] || fail_with "output without a key ($opt)"
		[ "${stderr%%$'\n'*}" = \
		    '5.7.1 no OpenPGP signing key for the sender alice@example.test' ] ||
		    fail_with "first stderr line: ${stderr%%$'\n'*}"
		local m
		for m in PLAINBODY-5d2a 'launch code' 'Secret plans'; do
			! grep -qF "$m" <<<"$stderr" ||
			    fail_with "'$m' leaked to stderr"
		done
	done
	# -f names a sender without a key
	run_out "$T/out.eml" pgp-sign -f carol@example.test <"$FIX/plain.eml"
	expect_status 69
	[ ! -s "$T/out.eml" ] || fail_with "output for -f carol"
	[[ ${stderr%%$'\n'*} == '5.7.1 '*carol@example.test* ]] ||
	    fail_with "refusal does not name carol"
	# no single From address
	sed 's/^From: .*/From: bob@example.test, alice@example.test/' \
	    "$FIX/plain.eml" >"$T/two.eml"
	run_out "$T/out.eml" pgp-sign <"$T/two.eml"
	expect_status 69
	[ ! -s "$T/out.eml" ] || fail_with "output for two From mailboxes"
	[[ ${stderr%%$'\n'*} == '5.7.1 '* ]] || fail_with "two From: not 5.7.1"
}

@test "-f SENDER picks that sender's key" {
	local alice bob got
	alice=$(own_key alice@example.test)
	bob=$(own_key bob@example.test)
	pgp-sign -f bob@example.test <"$FIX/plain.eml" >"$T/bob.eml" ||
	    fail_with "pgp-sign -f bob"
	check_mime_sig "$T/bob.eml" "$bob" "$T/bob@example.test.pub"
	# the From is alice's: the verifier sees the mismatch
	pgp-verify <"$T/bob.eml" >"$T/v.eml"
	expect_sig "$T/v.eml" mismatch
	pgp-sign -f alice@example.test <"$FIX/plain.eml" >"$T/alice.eml"
	check_mime_sig "$T/alice.eml" "$alice" "$T/alice@example.test.pub"
	# inline as well; From bob, -f alice
	sed 's/^From: .*/From: Bob <bob@example.test>/' "$FIX/plain.eml" \
	    >"$T/from-bob.eml"
	pgp-sign --inline -f alice@example.test <"$T/from-bob.eml" \
	    >"$T/i.eml" || fail_with "pgp-sign --inline -f alice"
	body_of "$T/i.eml" >"$T/i.asc"
	got=$(pg_gpg_verify_clear "$T/i.asc" "$T/i.txt") ||
	    fail_with "gpg --verify of the inline signature"
	[ "${got% *}" = "$alice" ] || fail_with "inline: not alice's key"
	# an empty SENDER (the null sender) is ignored: the From address
	pgp-sign -f '' <"$T/from-bob.eml" >"$T/empty.eml" ||
	    fail_with "pgp-sign -f ''"
	check_mime_sig "$T/empty.eml" "$bob" "$T/bob@example.test.pub"
	# an address the parser refuses
	run_out "$T/out.eml" pgp-sign -f 'not an address' <"$FIX/plain.eml"
	expect_status 69
	[ ! -s "$T/out.eml" ] || fail_with "output for a bad -f"
	[ "${stderr%%$'\n'*}" = \
	    '5.7.1 sender address is not usable for signing' ] ||
	    fail_with "bad -f: ${stderr%%$'\n'*}"
}

@test "the newest of the sender's keys signs" {
	local old new
	old=$(own_key alice@example.test)
	sleep 1
	# GnuPG refuses a second key with the same user ID: the address in
	# another case is the same address for mailseal (pgp-keys(1))
	new=$(own_key Alice@example.test)
	[ "$old" != "$new" ] || fail_with "setup"
	pgp-keys list >"$T/list"
	[ "$(grep -c 'alice@example.test.*secret$' "$T/list")" = 2 ] || {
		cat "$T/list" >&2
		fail_with "not two secret keys for alice"
	}
	pgp-sign <"$FIX/plain.eml" >"$T/s.eml" || fail_with "pgp-sign"
	mimetool signed-parts "$T/s.eml" "$T/part1" "$T/sig.asc"
	local got
	got=$(pg_gpg_verify_detached "$T/sig.asc" "$T/part1") ||
	    fail_with "gpg --verify"
	[ "${got% *}" = "$new" ] ||
	    fail_with "signed with ${got% *} (the older key is $old), not the newest $new"
}

@test "a passphrase-protected key: none or a wrong passphrase defers (75, nothing written); the right one signs" {
	echo 'correct horse battery staple' >"$T/pass"
	echo 'wrong horse' >"$T/wrong"
	chmod 600 "$T/pass" "$T/wrong"
	local fpr
	fpr=$(own_key alice@example.test --passphrase-file "$T/pass")
	# the agent caches a good passphrase: the refusals come first
	local opt mode
	for mode in mime inline; do
		local o=() opts=(none "$T/wrong" "$T/no-such-file")
		[ "$mode" = mime ] || o=(--inline) opts=(none "$T/wrong")
		for opt in "${opts[@]}"; do
			if [ "$opt" = none ]; then
				run_out "$T/out.eml" pgp-sign "${o[@]}" \
				    <"$FIX/plain.eml"
			else
				run_out "$T/out.eml" pgp-sign "${o[@]}" \
				    --passphrase-file "$opt" <"$FIX/plain.eml"
			fi
			expect_status 75
			[ ! -s "$T/out.eml" ] ||
			    fail_with "output written ($mode, $opt)"
			! grep -qF PLAINBODY-5d2a <<<"$stderr" ||
			    fail_with "content on stderr ($mode, $opt)"
		done
	done
	run_out "$T/s.eml" pgp-sign --passphrase-file "$T/pass" \
	    <"$FIX/plain.eml"
	expect_status 0
	check_mime_sig "$T/s.eml" "$fpr" "$T/alice@example.test.pub"
	run_out "$T/i.eml" pgp-sign --inline --passphrase-file "$T/pass" \
	    <"$FIX/plain.eml"
	expect_status 0
	pgp-verify <"$T/i.eml" >"$T/v.eml"
	expect_sig "$T/v.eml" valid
}

@test "sign, then pgp-enc: pgp-dec | pgp-verify finds the signature valid" {
	local alice
	alice=$(own_key alice@example.test)
	own_key bob@example.test >/dev/null
	local f mode
	for mode in mime inline; do
		local o=()
		[ "$mode" = mime ] || o=(--inline)
		for f in utf8-8bit mixed-attach; do
			pgp-sign "${o[@]}" <"$FIX/$f.eml" >"$T/s.eml" ||
			    fail_with "pgp-sign $mode $f"
			pgp-enc bob@example.test <"$T/s.eml" >"$T/enc.eml" ||
			    fail_with "pgp-enc $mode $f"
			no_plaintext "$T/enc.eml" UTF8BODY-93fe MIXEDTEXT-7c1e
			pgp-dec <"$T/enc.eml" >"$T/dec.eml" ||
			    fail_with "pgp-dec $mode $f"
			[ "$(status_of "$T/dec.eml" X-Mailseal-Decrypted)" = pgp ] ||
			    fail_with "$mode $f: not decrypted"
			run_out "$T/v.eml" pgp-verify <"$T/dec.eml"
			expect_status 0
			expect_sig "$T/v.eml" valid
			[[ $(status_of "$T/v.eml" X-Mailseal-Signature) == *"; fingerprint=$alice" ]] ||
			    fail_with "$mode $f: not alice's signature"
			same_content "$T/v.eml" "$T/s.eml" ||
			    fail_with "$mode $f: content changed"
		done
	done
}

@test "usage errors exit 64, empty input 65 with 5.6.0; nothing on stdout" {
	own_key alice@example.test >/dev/null
	run --separate-stderr pgp-sign operand <"$FIX/plain.eml"
	expect_status 64
	[ -z "$output" ] || fail_with "output for an operand"
	run --separate-stderr pgp-sign --no-such-option <"$FIX/plain.eml"
	expect_status 64
	[ -z "$output" ] || fail_with "output for an unknown option"
	run --separate-stderr pgp-sign </dev/null
	expect_status 65
	[ -z "$output" ] || fail_with "output for empty input"
	[[ $stderr == *5.6.0* ]] || fail_with "no 5.6.0 for empty input"
}

@test "a damaged keyring defers (75) pgp-sign and pgp-enc, with no output; a keyring without the key still refuses (69)" {
	own_key alice@example.test >/dev/null
	own_key bob@example.test >/dev/null
	cp "$STORE/gnupg/pubring.kbx" "$T/good.kbx"
	# garbage in place of the keyring
	head -c 4096 /dev/urandom >"$STORE/gnupg/pubring.kbx"
	run_out "$T/o1.eml" pgp-sign <"$FIX/plain.eml"
	expect_status 75
	[ ! -s "$T/o1.eml" ] || fail_with "pgp-sign wrote output"
	run_out "$T/o2.eml" pgp-enc bob@example.test <"$FIX/plain.eml"
	expect_status 75
	[ ! -s "$T/o2.eml" ] || fail_with "pgp-enc wrote output"
	# a keyring cut short
	head -c $(($(stat -c %s "$T/good.kbx") - 40)) "$T/good.kbx" \
	    >"$STORE/gnupg/pubring.kbx"
	run_out "$T/o3.eml" pgp-enc carol@example.test <"$FIX/plain.eml"
	expect_status 75
	# the whole keyring again: a sender or recipient without a key is 69
	cp "$T/good.kbx" "$STORE/gnupg/pubring.kbx"
	run_out "$T/o4.eml" pgp-enc carol@example.test <"$FIX/plain.eml"
	expect_status 69
	run_out "$T/o5.eml" pgp-sign -f carol@example.test <"$FIX/plain.eml"
	expect_status 69
	run_out "$T/o6.eml" pgp-sign <"$FIX/plain.eml"
	expect_status 0
}

@test "a body other readers read as a multipart is not made quoted-printable as a whole: two Content-Type fields, a boundary ending in spaces" {
	local fpr f
	fpr=$(own_key alice@example.test)
	for f in 0559-james-mime4j-multi-bad.eml \
	    0605-james-mime4j-very-long-boundary.eml \
	    0607-james-mime4j-weird-boundary.eml; do
		corpus_as_alice "$f" "$T/in.eml"
		run_out "$T/s.eml" pgp-sign <"$T/in.eml"
		expect_status 0
		check_mime_sig "$T/s.eml" "$fpr" "$T/alice@example.test.pub"
		# Python's email package reads the same parts in part 1
		same_content "$T/part1" "$T/in.eml" ||
		    fail_with "$f: content changed"
	done
}
