#!/usr/bin/env bats
# pgp-verify: PGP/MIME (RFC 3156) and cleartext signatures made by gpg, sq
# and pgp-sign are reported in X-Mailseal-Signature: valid only for a
# signature that verifies, with a strong digest, by a key the store trusts
# (ownertrust ultimate) whose user ID is the single From address; untrusted
# (unknown key, trust never), revoked, mismatch, invalid (bad signature,
# SHA-1, malformed multipart/signed) and none (no signature at the root);
# incoming X-Mailseal-* fields are removed; the message is otherwise
# passed unchanged.

load helpers
load smime-helpers
load pgp-helpers

setup() {
	pg_setup
}

teardown() {
	pg_teardown
}

# signer NAME - a key for NAME@example.test made by gpg in the scratch
# home and imported into the store (ownertrust ultimate); prints the
# fingerprint
signer() {
	pg_recipient "${1^} <$1@example.test>"
}

# other_store_key - some key in the store, so that it has a keyring
other_store_key() {
	pgp-keys generate gateway@example.test >/dev/null
}

# detached FPR ENTITY OUT [FROM-ADDRESS [GPG-OPTION...]] - ENTITY made
# canonical (CRLF), signed by FPR with gpg --detach-sign --armor, wrapped
# into multipart/signed from FROM-ADDRESS (default carol@example.test)
detached() {
	local fpr=$1 entity=$2 out=$3 from=${4:-carol@example.test}
	shift $(($# < 4 ? 3 : 4))
	to_crlf "$entity" "$out.data"
	pg_gpg "$@" --local-user "$fpr" --armor --output "$out.asc" \
	    --detach-sign "$out.data" 2>"$T/gpg-sign.err" ||
	    { cat "$T/gpg-sign.err" >&2; fail_with "gpg --detach-sign"; }
	pg_wrap_signed "$out.data" "$out.asc" "$out" \
	    "From: ${from%%@*} <$from>" 'To: Bob <bob@example.test>' \
	    'Subject: signed by gpg' 'Message-ID: <gpg-signed@example.test>'
}

# wrap_text ASC OUT [FROM-ADDRESS] - a text/plain; charset=utf-8 message
# whose body is ASC (a cleartext-signed text)
wrap_text() {
	local from=${3:-carol@example.test}
	{
		printf 'From: %s <%s>\n' "${from%%@*}" "$from"
		printf 'To: Bob <bob@example.test>\nSubject: clearsigned\n'
		printf 'MIME-Version: 1.0\n'
		printf 'Content-Type: text/plain; charset=utf-8\n'
		printf 'Content-Transfer-Encoding: 8bit\n\n'
		sed 's/\r$//' "$1"
	} >"$2"
}

# clearsigned FPR TEXT OUT [FROM-ADDRESS [GPG-OPTION...]] - TEXT signed
# with gpg --clearsign by FPR, as the body of a message
clearsigned() {
	local fpr=$1 text=$2 out=$3 from=${4:-carol@example.test}
	shift $(($# < 4 ? 3 : 4))
	pg_gpg "$@" --local-user "$fpr" --output "$out.asc" --clearsign \
	    "$text" 2>"$T/gpg-sign.err" ||
	    { cat "$T/gpg-sign.err" >&2; fail_with "gpg --clearsign"; }
	wrap_text "$out.asc" "$out" "$from"
}

# verdict IN - pgp-verify IN into $T/v.eml: exit 0, exactly one
# X-Mailseal-* field, X-Mailseal-Signature, whose value goes to $VERDICT
verdict() {
	run_out "$T/v.eml" pgp-verify <"$1"
	expect_status 0
	local lines
	lines=$(header_block "$T/v.eml" | grep -i '^x-mailseal-') || true
	[ "$(grep -c . <<<"$lines")" = 1 ] &&
	    [[ $lines == 'X-Mailseal-Signature: '* ]] ||
	    fail_with "$1: not one X-Mailseal-Signature: $lines"
	VERDICT=${lines#X-Mailseal-Signature: }
}

# expect_verdict IN WORD - pgp-verify reports WORD for IN
expect_verdict() {
	verdict "$1"
	[ "${VERDICT%%;*}" = "$2" ] ||
	    fail_with "$1: '$VERDICT', expected $2"
}

# expect_unchanged IN - $T/v.eml is IN (with LF line ends, without any
# incoming X-Mailseal-* field) plus the X-Mailseal-Signature field
expect_unchanged() {
	cmp -s <(grep -v '^X-Mailseal-Signature: ' "$T/v.eml") \
	    <(sed 's/\r$//' "$1" | grep -vi '^x-mailseal-') || {
		diff <(sed 's/\r$//' "$1") "$T/v.eml" >&2 || true
		fail_with "$1: pgp-verify changed the message"
	}
}

# text_file OUT - a UTF-8 text with a marker
text_file() {
	printf 'Grüße aus Köln – CLEARTEXT-6d6d\n- a dash line\nlast line\n' \
	    >"$1"
}

@test "gpg --detach-sign in multipart/signed: valid, with signer and fingerprint, the message unchanged; a changed byte: invalid" {
	local carol f
	carol=$(signer carol)
	for f in plain utf8-8bit mixed-attach; do
		entity_of "$FIX/$f.eml" "$T/$f.entity"
		detached "$carol" "$T/$f.entity" "$T/$f.eml"
		expect_verdict "$T/$f.eml" valid
		[ "$VERDICT" = "valid; signature verified; signer=carol@example.test; fingerprint=$carol" ] ||
		    fail_with "$f: $VERDICT"
		expect_unchanged "$T/$f.eml"
	done
	# a text-mode signature over the LF form is the same canonical text
	pg_gpg --local-user "$carol" --textmode --armor --output "$T/tm.asc" \
	    --detach-sign "$T/plain.entity" 2>/dev/null
	pg_wrap_signed "$T/plain.entity" "$T/tm.asc" "$T/tm.eml" \
	    'From: carol@example.test'
	expect_verdict "$T/tm.eml" valid
	# one changed byte: in the text, in a content field, in the
	# attachment's base64
	sed 's/PLAINBODY-5d2a/PLAINBODY-5d2b/' "$T/plain.eml" >"$T/bad1.eml"
	sed 's/^Content-Type: text\/plain; charset=us-ascii$/Content-Type: text\/plain; charset=us-asciI/' \
	    "$T/plain.eml" >"$T/bad2.eml"
	sed 's/^AAECAwQFBgcICQoL/AAECAwQFBgcICQoM/' "$T/mixed-attach.eml" \
	    >"$T/bad3.eml"
	for f in bad1 bad2 bad3; do
		! cmp -s "$T/$f.eml" "$T/plain.eml" &&
		    ! cmp -s "$T/$f.eml" "$T/mixed-attach.eml" ||
		    fail_with "setup: $f unchanged"
		expect_verdict "$T/$f.eml" invalid
		[[ $VERDICT != *signer=* ]] || fail_with "$f: a signer for invalid"
		expect_unchanged "$T/$f.eml"
	done
}

@test "gpg --clearsign: valid, also base64-encoded; a changed byte: invalid" {
	local carol
	carol=$(signer carol)
	text_file "$T/text"
	clearsigned "$carol" "$T/text" "$T/clear.eml"
	expect_verdict "$T/clear.eml" valid
	[ "$VERDICT" = "valid; signature verified; signer=carol@example.test; fingerprint=$carol" ] ||
	    fail_with "$VERDICT"
	expect_unchanged "$T/clear.eml"
	{
		echo 'From: Carol <carol@example.test>'
		echo 'Subject: clearsigned, base64'
		echo 'MIME-Version: 1.0'
		echo 'Content-Type: text/plain; charset=utf-8'
		echo 'Content-Transfer-Encoding: base64'
		echo
		base64 -w 76 "$T/clear.eml.asc"
	} >"$T/b64.eml"
	expect_verdict "$T/b64.eml" valid
	expect_unchanged "$T/b64.eml"
	sed 's/CLEARTEXT-6d6d/CLEARTEXT-6d6e/' "$T/clear.eml" >"$T/bad.eml"
	expect_verdict "$T/bad.eml" invalid
	expect_unchanged "$T/bad.eml"
}

@test "sq sign --detached and --cleartext-signature: valid; a changed byte: invalid" {
	other_store_key
	pg_sq_key dave@example.test "$T/dave.key" "$T/dave.cert"
	pg_store_import "$T/dave.cert"
	entity_of "$FIX/alternative.eml" "$T/entity"
	to_crlf "$T/entity" "$T/entity.crlf"
	pg_sq sign --detached --signer-key "$T/dave.key" \
	    --output "$T/sq.asc" "$T/entity.crlf" 2>"$T/sq.err" ||
	    { cat "$T/sq.err" >&2; fail_with "sq sign --detached"; }
	pg_wrap_signed "$T/entity.crlf" "$T/sq.asc" "$T/sq.eml" \
	    'From: Dave <dave@example.test>' 'Subject: sq detached'
	expect_verdict "$T/sq.eml" valid
	[[ $VERDICT == 'valid; signature verified; signer=dave@example.test; fingerprint='* ]] ||
	    fail_with "$VERDICT"
	expect_unchanged "$T/sq.eml"
	sed 's/ALTHTML-0c77/ALTHTML-0c78/' "$T/sq.eml" >"$T/sq-bad.eml"
	expect_verdict "$T/sq-bad.eml" invalid
	# cleartext
	text_file "$T/text"
	pg_sq sign --cleartext-signature --signer-key "$T/dave.key" \
	    --output "$T/clear.asc" "$T/text" 2>"$T/sq.err" ||
	    { cat "$T/sq.err" >&2; fail_with "sq sign --cleartext-signature"; }
	head -n 1 "$T/clear.asc" | grep -qx -- '-----BEGIN PGP SIGNED MESSAGE-----' ||
	    fail_with "sq made no cleartext signature"
	wrap_text "$T/clear.asc" "$T/clear.eml" dave@example.test
	expect_verdict "$T/clear.eml" valid
	[[ $VERDICT == *'; signer=dave@example.test; '* ]] || fail_with "$VERDICT"
	expect_unchanged "$T/clear.eml"
	sed 's/CLEARTEXT-6d6d/CLEARTEXT-6d6e/' "$T/clear.eml" >"$T/clear-bad.eml"
	expect_verdict "$T/clear-bad.eml" invalid
}

@test "fingerprint= names the key that made the signature: the primary key of a gpg key, the signing subkey of an sq key" {
	# pgp-verify(1): when a subkey made the signature, FPR is the
	# subkey's fingerprint, not the primary key's that pgp-keys lists
	local carol
	carol=$(signer carol)
	pg_sq_key dave@example.test "$T/dave.key" "$T/dave.cert"
	pg_store_import "$T/dave.cert"
	local primary
	primary=$(sed -n 's/^key //p' "$T/import.out")
	pg_gpg --import "$T/dave.cert" 2>/dev/null
	text_file "$T/text"
	pg_sq sign --cleartext-signature --signer-key "$T/dave.key" \
	    --output "$T/clear.asc" "$T/text" 2>/dev/null
	[ "$(pg_gpg_verify_clear "$T/clear.asc" "$T/out")" = \
	    "$primary sha512" ] || fail_with "gpg: not dave's signature"
	local made_by
	made_by=$(awk '$2 == "VALIDSIG" { print $3 }' "$T/gpg-verify.status")
	[ -n "$made_by" ] && [ "$made_by" != "$primary" ] ||
	    fail_with "setup: sq's key did not sign with a subkey"
	wrap_text "$T/clear.asc" "$T/clear.eml" dave@example.test
	expect_verdict "$T/clear.eml" valid
	[ "$VERDICT" = "valid; signature verified; signer=dave@example.test; fingerprint=$made_by" ] ||
	    fail_with "dave: '$VERDICT', the signing subkey is $made_by"
	clearsigned "$carol" "$T/text" "$T/c.eml"
	expect_verdict "$T/c.eml" valid
	[[ $VERDICT == *"; fingerprint=$carol" ]] ||
	    fail_with "carol: '$VERDICT'"
}

@test "CRLF input: valid, the output has LF line ends and is otherwise unchanged" {
	local carol
	carol=$(signer carol)
	entity_of "$FIX/mixed-attach.eml" "$T/entity"
	detached "$carol" "$T/entity" "$T/s.eml"
	to_crlf "$T/s.eml" "$T/s.crlf"
	text_file "$T/text"
	clearsigned "$carol" "$T/text" "$T/c.eml"
	to_crlf "$T/c.eml" "$T/c.crlf"
	local f
	for f in s c; do
		expect_verdict "$T/$f.crlf" valid
		! grep -q $'\r' "$T/v.eml" || fail_with "$f: CR in the output"
		expect_unchanged "$T/$f.crlf"
	done
}

@test "a signer key that is not in the store: untrusted" {
	other_store_key
	local stranger
	stranger=$(pg_gpg_key 'Carol <carol@example.test>')
	entity_of "$FIX/plain.eml" "$T/entity"
	detached "$stranger" "$T/entity" "$T/s.eml"
	expect_verdict "$T/s.eml" untrusted
	expect_unchanged "$T/s.eml"
	text_file "$T/text"
	clearsigned "$stranger" "$T/text" "$T/c.eml"
	expect_verdict "$T/c.eml" untrusted
	# and gpg did not import the key from the signature
	! pgp-keys list | grep -q "$stranger" ||
	    fail_with "the signer's key was imported"
}

@test "ownertrust never: untrusted, also after a re-import; ultimate again: valid" {
	local carol
	carol=$(signer carol)
	entity_of "$FIX/plain.eml" "$T/entity"
	detached "$carol" "$T/entity" "$T/s.eml"
	text_file "$T/text"
	clearsigned "$carol" "$T/text" "$T/c.eml"
	expect_verdict "$T/s.eml" valid
	pgp-keys trust "$carol" never >/dev/null || fail_with "trust never"
	expect_verdict "$T/s.eml" untrusted
	expect_verdict "$T/c.eml" untrusted
	pg_store_import "$T/$carol.asc"
	expect_verdict "$T/s.eml" untrusted
	pgp-keys trust "$carol" ultimate >/dev/null || fail_with "trust ultimate"
	expect_verdict "$T/s.eml" valid
	expect_verdict "$T/c.eml" valid
}

@test "a revoked signer key: revoked" {
	local carol
	carol=$(signer carol)
	entity_of "$FIX/utf8-8bit.eml" "$T/entity"
	detached "$carol" "$T/entity" "$T/s.eml"
	text_file "$T/text"
	clearsigned "$carol" "$T/text" "$T/c.eml"
	expect_verdict "$T/s.eml" valid
	# the revocation certificate gpg wrote, imported on the other side;
	# the revoked key reaches the store as an update
	sed 's/^:-----BEGIN/-----BEGIN/' \
	    "$PG_HOME/openpgp-revocs.d/$carol.rev" >"$T/rev.asc"
	pg_gpg --import "$T/rev.asc" 2>/dev/null || fail_with "revoke"
	pg_export "$carol" "$T/revoked.asc"
	pg_store_import "$T/revoked.asc"
	pgp-keys list | grep -q "^$carol" || fail_with "key gone"
	expect_verdict "$T/s.eml" revoked
	expect_unchanged "$T/s.eml"
	expect_verdict "$T/c.eml" revoked
}

@test "a signer key whose user ID is another address: mismatch; no substring match; a revoked user ID does not count" {
	local mallory evil two
	mallory=$(signer mallory)
	entity_of "$FIX/plain.eml" "$T/entity"
	detached "$mallory" "$T/entity" "$T/s.eml" alice@example.test
	expect_verdict "$T/s.eml" mismatch
	[[ $VERDICT == *'; signer=mallory@example.test; fingerprint='"$mallory" ]] ||
	    fail_with "$VERDICT"
	expect_unchanged "$T/s.eml"
	text_file "$T/text"
	clearsigned "$mallory" "$T/text" "$T/c.eml" alice@example.test
	expect_verdict "$T/c.eml" mismatch
	# alice@example.test.evil is not alice@example.test
	evil=$(pg_recipient 'Alice <alice@example.test.evil>')
	detached "$evil" "$T/entity" "$T/evil.eml" alice@example.test
	expect_verdict "$T/evil.eml" mismatch
	# a key with two user IDs: valid for either, until one is revoked
	two=$(pg_gpg_key 'Erin <erin@example.test>')
	pg_gpg --quick-add-uid "$two" 'Erin Work <erin@work.example.test>' \
	    2>/dev/null || fail_with "add uid"
	pg_export "$two" "$T/two.asc"
	pg_store_import "$T/two.asc"
	detached "$two" "$T/entity" "$T/work.eml" erin@work.example.test
	expect_verdict "$T/work.eml" valid
	pg_gpg --quick-revoke-uid "$two" 'Erin Work <erin@work.example.test>' \
	    2>/dev/null || fail_with "revoke uid"
	pg_export "$two" "$T/two-rev.asc"
	pg_store_import "$T/two-rev.asc"
	expect_verdict "$T/work.eml" mismatch
	detached "$two" "$T/entity" "$T/home.eml" erin@example.test
	expect_verdict "$T/home.eml" valid
}

@test "several signatures: every one must pass (a stranger's: untrusted; another address's: mismatch)" {
	local carol mallory stranger
	carol=$(signer carol)
	mallory=$(signer mallory)
	stranger=$(pg_gpg_key 'Stranger <stranger@example.test>')
	entity_of "$FIX/plain.eml" "$T/entity"
	detached "$carol" "$T/entity" "$T/carol-stranger.eml" \
	    carol@example.test --local-user "$stranger"
	[ "$(pg_packets "$T/carol-stranger.eml.asc" |
	    grep -c '^:signature packet:')" = 2 ] || fail_with "setup: not two signatures"
	expect_verdict "$T/carol-stranger.eml" untrusted
	detached "$carol" "$T/entity" "$T/carol-mallory.eml" \
	    carol@example.test --local-user "$mallory"
	expect_verdict "$T/carol-mallory.eml" mismatch
	detached "$carol" "$T/entity" "$T/carol-twice.eml" \
	    carol@example.test --local-user "$carol"
	expect_verdict "$T/carol-twice.eml" valid
}

@test "From with two mailboxes, two From fields, another Sender, an address as display name: mismatch; From in another case: valid" {
	local carol
	carol=$(signer carol)
	entity_of "$FIX/plain.eml" "$T/entity"
	detached "$carol" "$T/entity" "$T/s.eml"
	expect_verdict "$T/s.eml" valid
	sed 's/^From: .*/From: carol@example.test, bob@example.test/' \
	    "$T/s.eml" >"$T/two-mb.eml"
	sed 's/^From: .*/From: carol@example.test\nFrom: bob@example.test/' \
	    "$T/s.eml" >"$T/two-from.eml"
	sed 's/^From: .*/From: carol@example.test\nFrom: carol@example.test/' \
	    "$T/s.eml" >"$T/same-twice.eml"
	sed 's/^From: .*/From: carol@example.test\nSender: bob@example.test/' \
	    "$T/s.eml" >"$T/sender.eml"
	sed 's/^From: .*/From: "bob@example.test" <carol@example.test>/' \
	    "$T/s.eml" >"$T/display.eml"
	local f
	for f in two-mb two-from same-twice sender display; do
		expect_verdict "$T/$f.eml" mismatch
		expect_unchanged "$T/$f.eml"
	done
	sed 's/^From: .*/From: Carol <Carol@EXAMPLE.Test>/' "$T/s.eml" \
	    >"$T/case.eml"
	expect_verdict "$T/case.eml" valid
	sed 's/^From: .*/From: carol@example.test\nSender: Carol@example.test/' \
	    "$T/s.eml" >"$T/same-sender.eml"
	expect_verdict "$T/same-sender.eml" valid
	# cleartext too
	text_file "$T/text"
	clearsigned "$carol" "$T/text" "$T/c.eml"
	sed 's/^From: .*/From: carol@example.test, bob@example.test/' \
	    "$T/c.eml" >"$T/c-two.eml"
	expect_verdict "$T/c-two.eml" mismatch
}

@test "SHA-1 signatures are invalid, detached and cleartext" {
	local carol
	carol=$(signer carol)
	entity_of "$FIX/plain.eml" "$T/entity"
	detached "$carol" "$T/entity" "$T/s.eml" carol@example.test \
	    --digest-algo SHA1
	pg_packets "$T/s.eml.asc" | grep -q 'digest algo 2,' ||
	    fail_with "gpg did not make a SHA-1 signature"
	expect_verdict "$T/s.eml" invalid
	expect_unchanged "$T/s.eml"
	text_file "$T/text"
	clearsigned "$carol" "$T/text" "$T/c.eml" carol@example.test \
	    --digest-algo SHA1
	grep -qx 'Hash: SHA1' "$T/c.eml" || fail_with "not a SHA-1 cleartext"
	expect_verdict "$T/c.eml" invalid
	# the same with SHA-256 (control)
	detached "$carol" "$T/entity" "$T/ok.eml" carol@example.test \
	    --digest-algo SHA256
	expect_verdict "$T/ok.eml" valid
}

@test "a signature that is not the root: none (signed part in multipart/mixed, cleartext block with text around it)" {
	local carol
	carol=$(signer carol)
	entity_of "$FIX/plain.eml" "$T/entity"
	detached "$carol" "$T/entity" "$T/s.eml"
	expect_verdict "$T/s.eml" valid
	{
		echo 'From: Carol <carol@example.test>'
		echo 'Subject: forwarded'
		echo 'MIME-Version: 1.0'
		echo 'Content-Type: multipart/mixed; boundary="outer-mix"'
		echo
		echo '--outer-mix'
		sed -n '/^Content-Type: multipart\/signed/,$p' "$T/s.eml"
		echo
		echo '--outer-mix'
		echo 'Content-Type: text/plain'
		echo
		echo 'ADDED UNSIGNED TEXT'
		echo '--outer-mix--'
	} >"$T/mixed.eml"
	expect_verdict "$T/mixed.eml" none
	[ "$VERDICT" = none ] || fail_with "none with a detail: $VERDICT"
	expect_unchanged "$T/mixed.eml"
	text_file "$T/text"
	clearsigned "$carol" "$T/text" "$T/c.eml"
	expect_verdict "$T/c.eml" valid
	local hdr
	hdr=$(header_block "$T/c.eml")
	printf '%s\n\nUNSIGNED PREFIX\n%s\n' "$hdr" "$(cat "$T/c.eml.asc")" \
	    >"$T/before.eml"
	printf '%s\n\n%s\nUNSIGNED SUFFIX\n' "$hdr" "$(cat "$T/c.eml.asc")" \
	    >"$T/after.eml"
	local f
	for f in before after; do
		expect_verdict "$T/$f.eml" none
		expect_unchanged "$T/$f.eml"
	done
	# the cleartext block inside multipart/mixed
	{
		echo 'From: Carol <carol@example.test>'
		echo 'Subject: nested clear'
		echo 'MIME-Version: 1.0'
		echo 'Content-Type: multipart/mixed; boundary="nest"'
		echo
		echo '--nest'
		echo 'Content-Type: text/plain; charset=utf-8'
		echo
		cat "$T/c.eml.asc"
		echo '--nest--'
	} >"$T/nested.eml"
	expect_verdict "$T/nested.eml" none
	# plain mail
	expect_verdict "$FIX/plain.eml" none
	expect_unchanged "$FIX/plain.eml"
}

@test "a cleartext block, unsigned text, then a copy of the signature armor is not valid" {
	# one cleartext-signed block is the whole body; gpg verifies the
	# second armored signature against the same signed text and reports
	# both good, while the unsigned text sits between them
	local carol
	carol=$(signer carol)
	text_file "$T/text"
	clearsigned "$carol" "$T/text" "$T/c.eml"
	expect_verdict "$T/c.eml" valid
	{
		header_block "$T/c.eml"
		echo
		cat "$T/c.eml.asc"
		echo 'UNSIGNED-INJECTED: please pay 1000 EUR to account 666'
		sed -n '/^-----BEGIN PGP SIGNATURE-----$/,$p' "$T/c.eml.asc"
	} >"$T/append.eml"
	grep -c '^-----BEGIN PGP SIGNATURE-----$' "$T/append.eml" |
	    grep -qx 2 || fail_with "setup"
	verdict "$T/append.eml"
	[[ ${VERDICT%%;*} == none || ${VERDICT%%;*} == invalid ]] ||
	    fail_with "unsigned text between two signature blocks reported '$VERDICT'"
	expect_unchanged "$T/append.eml"
}

@test "pgp-sign --inline of a reply quoting a cleartext-signed message: pgp-verify finds it valid" {
	# the quoted armor lines are text inside the one signed block, not
	# a second block: gpg and sq verify the body as one cleartext
	# signature, so the gateway's own round trip must say valid
	local alice
	alice=$(pgp-keys generate alice@example.test)
	{
		echo 'From: Alice <alice@example.test>'
		echo 'Subject: Re: signed'
		echo 'Content-Type: text/plain; charset=us-ascii'
		echo
		echo 'You wrote:'
		echo '> -----BEGIN PGP SIGNED MESSAGE-----'
		echo '> Hash: SHA256'
		echo '>'
		echo '> quoted text QUOTE-4e4e'
		echo '> -----BEGIN PGP SIGNATURE-----'
		echo '>'
		echo '> iHUEARYIAB0WIQQ/x+HR7IGdOEtVlH9CGbRs3s9PpwUCawsCSwAKCRBCGbRs3s9P'
		echo '> -----END PGP SIGNATURE-----'
		echo
		echo 'My answer: yes. ANSWER-5f5f'
	} >"$T/quote.eml"
	pgp-sign --inline <"$T/quote.eml" >"$T/s.eml" || fail_with "pgp-sign"
	body_of "$T/s.eml" >"$T/s.asc"
	head -n 1 "$T/s.asc" | grep -qx -- '-----BEGIN PGP SIGNED MESSAGE-----' ||
	    fail_with "not signed inline"
	# gpg and sq read the body as one cleartext-signed message
	pgp-keys export "$alice" >"$T/alice.pub"
	pg_gpg --import "$T/alice.pub" 2>/dev/null
	[ "$(pg_gpg_verify_clear "$T/s.asc" "$T/gpg.txt")" = \
	    "$alice sha512" ] || fail_with "gpg --verify"
	grep -q ANSWER-5f5f "$T/gpg.txt" || fail_with "gpg: text"
	pg_sq_verify_clear "$T/alice.pub" "$T/s.asc" "$T/sq.txt" ||
	    fail_with "sq verify"
	# a quoted BEGIN line alone is enough to lose the signature
	sed -n '1,6p' "$T/quote.eml" >"$T/quote-begin.eml"
	pgp-sign --inline <"$T/quote-begin.eml" >"$T/s-begin.eml"
	local f
	for f in s s-begin; do
		verdict "$T/$f.eml"
		[ "$VERDICT" = "valid; signature verified; signer=alice@example.test; fingerprint=$alice" ] ||
		    fail_with "$f: our own inline signature reported as '$VERDICT'"
	done
}

@test "spoofed incoming X-Mailseal-* fields are removed and replaced by the real result" {
	local carol
	carol=$(signer carol)
	entity_of "$FIX/plain.eml" "$T/entity"
	detached "$carol" "$T/entity" "$T/s.eml"
	local spoof=(
		'X-Mailseal-Signature: valid; signature verified; signer=ceo@example.test'
		'x-mailseal-signature: invalid; spoofed'
		'X-Mailseal-Decrypted: pgp'
	)
	# a valid message claiming to be invalid as well
	{ printf '%s\n' "${spoof[@]}"; cat "$T/s.eml"; } >"$T/spoof-valid.eml"
	expect_verdict "$T/spoof-valid.eml" valid
	[[ $VERDICT == *signer=carol@example.test* ]] || fail_with "$VERDICT"
	expect_unchanged "$T/spoof-valid.eml"
	# a folded spoof field
	{
		echo 'X-Mailseal-Signature:'
		echo ' valid; signer=ceo@example.test'
		cat "$T/s.eml"
	} >"$T/spoof-folded.eml"
	expect_verdict "$T/spoof-folded.eml" valid
	! grep -q ceo@example.test "$T/v.eml" || fail_with "folded spoof kept"
	# a tampered message claiming to be valid
	sed 's/PLAINBODY-5d2a/PLAINBODY-5d2b/' "$T/spoof-valid.eml" \
	    >"$T/spoof-bad.eml"
	expect_verdict "$T/spoof-bad.eml" invalid
	# an unsigned message claiming to be valid
	{ printf '%s\n' "${spoof[@]}"; cat "$FIX/plain.eml"; } \
	    >"$T/spoof-plain.eml"
	expect_verdict "$T/spoof-plain.eml" none
	! grep -q ceo@example.test "$T/v.eml" || fail_with "spoof kept"
	expect_unchanged "$T/spoof-plain.eml"
}

@test "three parts, a protocol mismatch, or no detached signature in part 2: invalid" {
	local carol
	carol=$(signer carol)
	entity_of "$FIX/plain.eml" "$T/entity"
	detached "$carol" "$T/entity" "$T/s.eml"
	expect_verdict "$T/s.eml" valid
	local b=pgp-signed-b0undary
	sed "s/^--$b--\$/--$b\\nContent-Type: text\\/plain\\n\\nthird part\\n--$b--/" \
	    "$T/s.eml" >"$T/three.eml"
	[ "$(grep -c "^--$b\$" "$T/three.eml")" = 3 ] || fail_with "setup"
	expect_verdict "$T/three.eml" invalid
	expect_unchanged "$T/three.eml"
	sed 's/protocol="application\/pgp-signature"/protocol="application\/pkcs7-signature"/' \
	    "$T/s.eml" >"$T/proto.eml"
	grep -q 'protocol="application/pkcs7-signature"' "$T/proto.eml" ||
	    fail_with "setup"
	expect_verdict "$T/proto.eml" invalid
	# part 2 holds a signed message of carol's (cleartext, or an opaque
	# signed message) instead of a detached signature over part 1
	printf 'Content-Type: text/plain\n\nATTACKER-TEXT-0b0b\n' >"$T/evil"
	text_file "$T/text"
	pg_gpg --local-user "$carol" --output "$T/clear.asc" --clearsign \
	    "$T/text" 2>/dev/null
	pg_gpg --local-user "$carol" --armor --output "$T/opaque.asc" \
	    --sign "$T/text" 2>/dev/null
	local f
	for f in clear opaque; do
		pg_wrap_signed "$T/evil" "$T/$f.asc" "$T/$f.eml" \
		    'From: Carol <carol@example.test>'
		expect_verdict "$T/$f.eml" invalid
	done
	# an armored block that is no OpenPGP data
	{
		echo '-----BEGIN PGP SIGNATURE-----'
		echo
		head -c 120 /dev/urandom | base64
		echo '-----END PGP SIGNATURE-----'
	} >"$T/junk.asc"
	pg_wrap_signed "$T/evil" "$T/junk.asc" "$T/junk.eml" \
	    'From: Carol <carol@example.test>'
	expect_verdict "$T/junk.eml" invalid
}

@test "usage errors exit 64, empty input 65 with 5.6.0" {
	other_store_key
	run --separate-stderr pgp-verify operand <"$FIX/plain.eml"
	expect_status 64
	[ -z "$output" ] || fail_with "output for an operand"
	# --decrypted, once kept for mailseal-filter --incoming, is gone
	run --separate-stderr pgp-verify --decrypted <"$FIX/plain.eml"
	expect_status 64
	[ -z "$output" ] || fail_with "output for --decrypted"
	run pgp-verify -h
	expect_status 0
	[[ $output != *decrypted* ]] || fail_with "the usage names --decrypted"
	run --separate-stderr pgp-verify </dev/null
	expect_status 65
	[ -z "$output" ] || fail_with "output for empty input"
	[[ $stderr == *5.6.0* ]] || fail_with "no 5.6.0 for empty input"
}

@test "a damaged keyring defers (75) with no output instead of calling the signer unknown" {
	local fpr
	fpr=$(signer carol)
	entity_of "$FIX/plain.eml" "$T/entity"
	detached "$fpr" "$T/entity" "$T/s.eml"
	expect_verdict "$T/s.eml" valid
	cp "$STORE/gnupg/pubring.kbx" "$T/good.kbx"
	head -c 4096 /dev/urandom >"$STORE/gnupg/pubring.kbx"
	run_out "$T/o.eml" pgp-verify <"$T/s.eml"
	expect_status 75
	[ ! -s "$T/o.eml" ] || fail_with "output written"
	cp "$T/good.kbx" "$STORE/gnupg/pubring.kbx"
	expect_verdict "$T/s.eml" valid
}
