#!/usr/bin/env bats
# pgp-enc: PGP/MIME (RFC 3156) checked by decrypting with gpg and with sq;
# key selection (KEY-1: exact address, usable and trusted keys only);
# fail-closed refusal (ENC-1, 5.7.1); no 3DES; hidden recipients;
# structural "already encrypted" detection (ENC-7).

load helpers
load smime-helpers
load pgp-helpers

setup() {
	pg_setup
}

teardown() {
	pg_teardown
}

# gpg_decrypt MSG OUT - decrypt the armored part of PGP/MIME MSG with gpg
# in the scratch home into OUT (the inner entity); gpg's status lines in
# $T/gpg-dec.status
gpg_decrypt() {
	pg_armor "$1" "$T/gpg-in.asc"
	pg_gpg --status-file "$T/gpg-dec.status" --decrypt "$T/gpg-in.asc" \
	    >"$2" 2>"$T/gpg-dec.err" || {
		cat "$T/gpg-dec.err" >&2
		fail_with "gpg --decrypt of $1 failed"
	}
}

# sq_decrypt MSG KEY OUT - the same with sq decrypt and the secret key KEY
sq_decrypt() {
	pg_armor "$1" "$T/sq-in.asc"
	pg_sq decrypt --recipient-key "$2" --output "$3" "$T/sq-in.asc" \
	    2>"$T/sq-dec.err" || {
		cat "$T/sq-dec.err" >&2
		fail_with "sq decrypt of $1 failed"
	}
}

# same_entity ENTITY ORIGINAL - a decrypted entity carries the content of
# ORIGINAL: the same parts (Python's reader), and its body is ORIGINAL's
# body byte for byte once CRLF is read as LF (the canonical form on the
# wire, RFC 3156 5)
same_entity() {
	same_content "$1" "$2" || fail_with "$1: content differs from $2"
	cmp -s <(body_of "$1" | sed 's/\r$//') <(body_of "$2") ||
	    fail_with "$1: body is not the original body"
}

# expect_not_used ADDRESS - neither find nor pgp-enc takes a key for
# ADDRESS
expect_not_used() {
	run --separate-stderr pgp-keys find "$1"
	expect_status 1
	[ -z "$output" ] || fail_with "find $1 printed a key"
	run_out "$T/refused.eml" pgp-enc "$1" <"$FIX/plain.eml"
	expect_refusal "$1"
	no_plaintext "$T/refused.eml" PLAINBODY-5d2a
}

@test "PGP/MIME layout: two parts, Version: 1, one armored message; routing fields outside" {
	pg_recipient 'Bob <bob@example.test>' >/dev/null
	run_out "$T/enc.eml" pgp-enc bob@example.test <"$FIX/mixed-attach.eml"
	expect_status 0
	pg_check_mime "$T/enc.eml"
	no_plaintext "$T/enc.eml" MIXEDTEXT-7c1e 'Hello Bob' \
	    AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8g outer-boundary-42
	local h
	for h in From To Subject Date Message-ID; do
		[ "$(header_values "$T/enc.eml" "$h")" = \
		    "$(header_values "$FIX/mixed-attach.eml" "$h")" ] ||
		    fail_with "$h not kept outside"
	done
	[ "$(header_values "$T/enc.eml" MIME-Version)" = 1.0 ] ||
	    fail_with "MIME-Version"
	# no content field of the original stays outside
	[ "$(header_block "$T/enc.eml" | grep -ci '^content-type:')" = 1 ] ||
	    fail_with "more than one root Content-Type"
	expect_uniform_line_ends "$T/enc.eml"
	pg_armor "$T/enc.eml" "$T/enc.asc"
	pg_packets "$T/enc.asc" | grep -q '^:pubkey enc packet:' ||
	    fail_with "no public-key encrypted session key"
	# integrity protected (SEIPD, tag 18), never the old tag 9
	pg_packets "$T/enc.asc" | grep -q 'tag=18' ||
	    fail_with "no integrity-protected data packet"
	! pg_packets "$T/enc.asc" | grep -q 'tag=9 ' ||
	    fail_with "a packet without integrity protection"
}

@test "gpg --decrypt gives the original entity back: text, UTF-8, HTML alternative, binary attachment" {
	pg_recipient 'Bob <bob@example.test>' >/dev/null
	local f
	for f in plain utf8-8bit alternative mixed-attach; do
		run_out "$T/enc-$f.eml" pgp-enc bob@example.test <"$FIX/$f.eml"
		expect_status 0
		pg_check_mime "$T/enc-$f.eml"
		gpg_decrypt "$T/enc-$f.eml" "$T/dec-$f"
		same_entity "$T/dec-$f" "$FIX/$f.eml"
	done
	# UTF-8 text decodes to the same characters
	python3 -c '
import email, sys
e = email.message_from_binary_file(open(sys.argv[1], "rb"))
t = e.get_payload(decode=True).decode(e.get_content_charset())
assert "Grüße aus Köln – 5 € für 日本語のテキスト." in t, t
' "$T/dec-utf8-8bit" || fail_with "UTF-8 text changed"
	# the HTML alternative is there, decoded equal
	python3 -c '
import email, sys
e = email.message_from_binary_file(open(sys.argv[1], "rb"))
html = [p for p in e.walk() if p.get_content_type() == "text/html"]
assert len(html) == 1
t = html[0].get_payload(decode=True).decode("utf-8")
assert "<b>ALTHTML-0c77</b> – café" in t, t
' "$T/dec-alternative" || fail_with "HTML alternative changed"
	mimetool attachment "$T/dec-mixed-attach" figures.bin "$T/att"
	mimetool attachment "$FIX/mixed-attach.eml" figures.bin "$T/att-orig"
	cmp "$T/att-orig" "$T/att" || fail_with "attachment not byte-identical"
}

@test "sq decrypt gives the original entity back (key made by sq)" {
	pg_sq_key carol@example.test "$T/carol.key" "$T/carol.cert"
	pg_store_import "$T/carol.cert"
	local f
	for f in plain utf8-8bit alternative mixed-attach; do
		run_out "$T/enc-$f.eml" pgp-enc carol@example.test <"$FIX/$f.eml"
		expect_status 0
		pg_check_mime "$T/enc-$f.eml"
		sq_decrypt "$T/enc-$f.eml" "$T/carol.key" "$T/dec-$f"
		same_entity "$T/dec-$f" "$FIX/$f.eml"
	done
	mimetool attachment "$T/dec-mixed-attach" figures.bin "$T/att"
	mimetool attachment "$FIX/mixed-attach.eml" figures.bin "$T/att-orig"
	cmp "$T/att-orig" "$T/att" || fail_with "attachment not byte-identical"
}

@test "sq decrypt with a secret key exported from a key made by pgp-keys generate" {
	local fpr
	fpr=$(pgp-keys generate dave@example.test) || fail_with "generate"
	gpg --homedir "$STORE/gnupg" --batch --pinentry-mode loopback \
	    --passphrase '' --export-secret-keys "$fpr" >"$T/dave.key" \
	    2>/dev/null
	[ -s "$T/dave.key" ] || fail_with "no secret key exported"
	run_out "$T/enc.eml" pgp-enc dave@example.test <"$FIX/utf8-8bit.eml"
	expect_status 0
	sq_decrypt "$T/enc.eml" "$T/dave.key" "$T/dec"
	same_entity "$T/dec" "$FIX/utf8-8bit.eml"
}

@test "two recipients (gpg key, sq key) each decrypt one message; CRLF input is canonicalised" {
	local bob
	bob=$(pg_recipient 'Bob <bob@example.test>')
	pg_sq_key carol@example.test "$T/carol.key" "$T/carol.cert"
	pg_store_import "$T/carol.cert"
	to_crlf "$FIX/mixed-attach.eml" "$T/in.crlf"
	run_out "$T/enc.eml" pgp-enc bob@example.test carol@example.test \
	    <"$T/in.crlf"
	expect_status 0
	pg_check_mime "$T/enc.eml"
	expect_uniform_line_ends "$T/enc.eml"
	pg_armor "$T/enc.eml" "$T/enc.asc"
	[ "$(pg_pkesk_ids "$T/enc.asc" | wc -l)" = 2 ] ||
	    fail_with "not two session key packets"
	pg_pkesk_ids "$T/enc.asc" | grep -qx "$(pg_enc_subkey "$bob")" ||
	    fail_with "bob's subkey is not a recipient"
	gpg_decrypt "$T/enc.eml" "$T/dec-bob"
	same_entity "$T/dec-bob" "$FIX/mixed-attach.eml"
	sq_decrypt "$T/enc.eml" "$T/carol.key" "$T/dec-carol"
	same_entity "$T/dec-carol" "$FIX/mixed-attach.eml"
	cmp -s "$T/dec-bob" "$T/dec-carol" || fail_with "gpg and sq differ"
}

@test "every usable key of a recipient is used" {
	local k1 k2
	k1=$(pg_recipient 'Dave <dave@example.test>')
	k2=$(pg_recipient 'Dave at work <dave@example.test>')
	run_out "$T/enc.eml" pgp-enc dave@example.test <"$FIX/plain.eml"
	expect_status 0
	pg_armor "$T/enc.eml" "$T/enc.asc"
	pg_pkesk_ids "$T/enc.asc" | sort >"$T/ids"
	printf '%s\n' "$(pg_enc_subkey "$k1")" "$(pg_enc_subkey "$k2")" |
	    sort >"$T/want"
	diff "$T/want" "$T/ids" >&2 || fail_with "not both of dave's keys"
}

@test "--hide-recipients: every key ID is 0000000000000000, and gpg, sq and pgp-dec still decrypt" {
	local bob
	bob=$(pg_recipient 'Bob <bob@example.test>')
	pg_sq_key carol@example.test "$T/carol.key" "$T/carol.cert"
	pg_store_import "$T/carol.cert"
	pgp-keys generate erin@example.test >/dev/null
	run_out "$T/enc.eml" pgp-enc --hide-recipients bob@example.test \
	    carol@example.test erin@example.test <"$FIX/alternative.eml"
	expect_status 0
	pg_check_mime "$T/enc.eml"
	pg_armor "$T/enc.eml" "$T/enc.asc"
	pg_pkesk_ids "$T/enc.asc" >"$T/ids"
	[ "$(sort -u "$T/ids")" = 0000000000000000 ] &&
	    [ "$(wc -l <"$T/ids")" = 3 ] ||
	    { cat "$T/ids" >&2; fail_with "recipient key IDs visible"; }
	! grep -q "$(pg_enc_subkey "$bob")" "$T/enc.asc" ||
	    fail_with "bob's key ID in the message"
	gpg_decrypt "$T/enc.eml" "$T/dec-bob"
	same_entity "$T/dec-bob" "$FIX/alternative.eml"
	sq_decrypt "$T/enc.eml" "$T/carol.key" "$T/dec-carol"
	same_entity "$T/dec-carol" "$FIX/alternative.eml"
	expect_pgp_decrypted "$T/enc.eml" "$T/dec-erin.eml" "$FIX/alternative.eml"
	# without the option the key IDs are there
	run_out "$T/plain-enc.eml" pgp-enc bob@example.test <"$FIX/plain.eml"
	pg_armor "$T/plain-enc.eml" "$T/plain-enc.asc"
	[ "$(pg_pkesk_ids "$T/plain-enc.asc")" = "$(pg_enc_subkey "$bob")" ] ||
	    fail_with "key ID missing without --hide-recipients"
}

@test "a recipient without a key: exit 69, no output, 5.7.1 naming the recipient" {
	pg_recipient 'Bob <bob@example.test>' >/dev/null
	run_out "$T/out.eml" pgp-enc nokey@example.test <"$FIX/plain.eml"
	expect_refusal nokey@example.test
	# one covered and one uncovered recipient: still nothing
	run_out "$T/out.eml" pgp-enc bob@example.test nokey@example.test \
	    <"$FIX/mixed-attach.eml"
	expect_refusal nokey@example.test
	local first=${stderr%%$'\n'*}
	[[ $first != *bob@example.test* ]] ||
	    fail_with "the covered recipient is named as uncovered"
	run_out "$T/out.eml" pgp-enc nokey@example.test bob@example.test \
	    <"$FIX/mixed-attach.eml"
	expect_refusal nokey@example.test
	# the store holds no keyring at all
	run_out "$T/out.eml" pgp-enc --store "$T/nostore" bob@example.test \
	    <"$FIX/plain.eml"
	[ "$status" -ne 0 ] || fail_with "encrypted without a store"
	[ -z "$output" ] || fail_with "output without a store"
}

@test "an expired key (and a key whose encryption subkey expired) is not used" {
	local past=$(( $(date +%s) - 2 * 365 * 86400 )) fpr
	# expired primary key, made two years ago with a lifetime of one day
	fpr=$(pg_gpg_key 'Old <old@example.test>' future-default default 1d \
	    --faked-system-time "$past")
	pg_gpg --with-colons --list-keys "$fpr" | grep -q '^pub:e:' ||
	    fail_with "the test key is not expired"
	pg_export "$fpr" "$T/old.asc"
	pg_store_import "$T/old.asc"
	expect_not_used old@example.test
	run --separate-stderr pgp-keys list --json
	python3 -c '
import json, sys
k = [k for k in json.loads(sys.argv[1]) if k["fingerprint"] == sys.argv[2]]
assert k and k[0]["usable_for_encryption"] is False, k
' "$output" "$fpr" || fail_with "list --json calls the expired key usable"
	# valid primary, only encryption subkey expired
	fpr=$(pg_gpg_key 'Sub <subexp@example.test>' ed25519 sign never \
	    --faked-system-time "$past")
	pg_gpg --faked-system-time "$past" --quick-add-key "$fpr" cv25519 \
	    encr 1d 2>/dev/null
	pg_gpg --with-colons --list-keys "$fpr" | grep -q '^sub:e:.*:e:' ||
	    fail_with "the test subkey is not expired"
	pg_export "$fpr" "$T/subexp.asc"
	pg_store_import "$T/subexp.asc"
	expect_not_used subexp@example.test
}

@test "a revoked key is not used once its revocation is imported; nor a revoked user ID" {
	local fpr
	fpr=$(pg_recipient 'Rev <rev@example.test>')
	[ "$(pgp-keys find rev@example.test)" = "$fpr" ] ||
	    fail_with "the key is not usable before its revocation"
	sed 's/^:-----/-----/' "$PG_HOME/openpgp-revocs.d/$fpr.rev" \
	    >"$T/rev.cert"
	pg_gpg --import "$T/rev.cert" 2>/dev/null
	pg_gpg --with-colons --list-keys "$fpr" | grep -q '^pub:r:' ||
	    fail_with "the test key is not revoked"
	pg_export "$fpr" "$T/revoked.asc"
	pg_store_import "$T/revoked.asc"
	expect_not_used rev@example.test
	# a key with two user IDs, one of them revoked
	fpr=$(pg_gpg_key 'Uid <uidrev@example.test>')
	pg_gpg --quick-add-uid "$fpr" 'Other <other@example.test>' 2>/dev/null
	pg_gpg --quick-revoke-uid "$fpr" 'Uid <uidrev@example.test>' \
	    2>/dev/null
	pg_export "$fpr" "$T/uidrev.asc"
	pg_store_import "$T/uidrev.asc"
	expect_not_used uidrev@example.test
	[ "$(pgp-keys find other@example.test)" = "$fpr" ] ||
	    fail_with "the key's other user ID is not usable"
}

@test "a sign-only key (no encryption subkey) is not used" {
	local fpr
	fpr=$(pg_gpg_key 'Signer <signer@example.test>' ed25519 sign 2y)
	! pg_gpg --with-colons --list-keys "$fpr" | grep -q '^sub:' ||
	    fail_with "the test key has a subkey"
	pg_export "$fpr" "$T/signer.asc"
	pg_store_import "$T/signer.asc"
	expect_not_used signer@example.test
}

@test "an untrusted key (trust never, marginal, full) is not used" {
	local fpr level
	fpr=$(pg_recipient 'Bob <bob@example.test>')
	for level in never marginal full; do
		pgp-keys trust "$fpr" "$level" || fail_with "trust $level"
		expect_not_used bob@example.test
	done
	pgp-keys trust "$fpr" ultimate
	run_out "$T/enc.eml" pgp-enc bob@example.test <"$FIX/plain.eml"
	expect_status 0
}

@test "keys for addresses that merely contain the recipient are not used" {
	local uid
	for uid in '<bob@partner.test.evil>' '<xbob@partner.test>' \
	    'bob@partner.test <mallory@evil.test>' '<bob@partner.tes>' \
	    '<bob+x@partner.test>' '<bob@sub.partner.test>'; do
		pg_recipient "$uid" >/dev/null || fail_with "key for $uid"
	done
	expect_not_used bob@partner.test
	# the real one is found, alone
	local bob
	bob=$(pg_recipient 'Bob <bob@partner.test>')
	run --separate-stderr pgp-keys find bob@partner.test
	expect_status 0
	[ "$output" = "$bob" ] || fail_with "find gives other keys too"
	run_out "$T/enc.eml" pgp-enc bob@partner.test <"$FIX/plain.eml"
	expect_status 0
	pg_armor "$T/enc.eml" "$T/enc.asc"
	[ "$(pg_pkesk_ids "$T/enc.asc")" = "$(pg_enc_subkey "$bob")" ] ||
	    fail_with "encrypted to other keys as well"
	# and xbob's key is only xbob's
	run --separate-stderr pgp-keys find xbob@partner.test
	expect_status 0
	[ "$(wc -l <<<"$output")" = 1 ] || fail_with "find xbob"
}

@test "a key that allows only 3DES is refused (5.7.1), never encrypted with 3DES" {
	local fpr
	fpr=$(pg_gpg_key 'Legacy <legacy@example.test>' future-default default \
	    2y --default-preference-list '3DES SHA256 ZLIB')
	pg_export "$fpr" "$T/legacy.asc"
	pg_packets "$T/legacy.asc" | grep -q 'pref-sym-algos: 2)$' ||
	    fail_with "the test key does not prefer 3DES only"
	pg_store_import "$T/legacy.asc"
	pg_recipient 'Bob <bob@example.test>' >/dev/null
	run_out "$T/enc.eml" pgp-enc legacy@example.test <"$FIX/plain.eml"
	expect_refusal ''
	run_out "$T/enc.eml" pgp-enc bob@example.test legacy@example.test \
	    <"$FIX/plain.eml"
	expect_refusal ''
	# bob alone is fine, and not with 3DES
	run_out "$T/enc.eml" pgp-enc bob@example.test <"$FIX/plain.eml"
	expect_status 0
	gpg_decrypt "$T/enc.eml" "$T/dec"
	# DECRYPTION_INFO MDC-METHOD CIPHER: 7, 8, 9 are AES-128/192/256
	grep -q '^\[GNUPG:\] DECRYPTION_INFO [0-9]* [789]\( \|$\)' \
	    "$T/gpg-dec.status" || {
		cat "$T/gpg-dec.status" >&2
		fail_with "not AES"
	}
}

@test "an encrypted root passes unchanged; --force encrypts it again" {
	pg_recipient 'Bob <bob@example.test>' >/dev/null
	pg_recipient 'Carol <carol@example.test>' >/dev/null
	run_out "$T/enc.eml" pgp-enc bob@example.test <"$FIX/plain.eml"
	expect_status 0
	run_out "$T/again.eml" pgp-enc carol@example.test <"$T/enc.eml"
	expect_status 0
	cmp -s "$T/enc.eml" "$T/again.eml" || fail_with "changed without --force"
	# also when the recipient has no key: nothing to do
	run_out "$T/again.eml" pgp-enc nokey@example.test <"$T/enc.eml"
	expect_status 0
	cmp -s "$T/enc.eml" "$T/again.eml" || fail_with "changed (no key)"
	run_out "$T/forced.eml" pgp-enc --force carol@example.test <"$T/enc.eml"
	expect_status 0
	pg_check_mime "$T/forced.eml"
	! cmp -s "$T/enc.eml" "$T/forced.eml" || fail_with "--force changed nothing"
	pg_armor "$T/forced.eml" "$T/forced.asc"
	pg_armor "$T/enc.eml" "$T/inner.asc"
	! grep -qFf <(sed -n 3p "$T/inner.asc") "$T/forced.eml" ||
	    fail_with "--force left the old ciphertext in clear"
	gpg_decrypt "$T/forced.eml" "$T/layer1"
	grep -qi '^Content-Type: multipart/encrypted' "$T/layer1" ||
	    fail_with "the inner layer is not the PGP/MIME message"
	# not PGP/MIME: a multipart/encrypted saying Version: 2 is encrypted
	sed 's/^Version: 1$/Version: 2/' "$T/enc.eml" >"$T/v2.eml"
	run_out "$T/v2-out.eml" pgp-enc carol@example.test <"$T/v2.eml"
	expect_status 0
	! cmp -s "$T/v2.eml" "$T/v2-out.eml" || fail_with "Version: 2 passed"
	pg_check_mime "$T/v2-out.eml"
}
