#!/usr/bin/env bats
# pgp-keys: the store's OpenPGP keyring.  generate, import (secret keys
# only with --secret and their passphrase file, KEY-3; --for keeps one
# address), list and list --json, find
# (exact address, usable keys only, KEY-1), trust, remove, export; a
# keyring under a long directory path works through a private short link.

load helpers
load smime-helpers
load pgp-helpers

setup() {
	pg_setup
}

teardown() {
	pg_teardown
}

# keyring_state - what the store's keyring holds: pgp-keys list and the
# public and secret key files
keyring_state() {
	pgp-keys list
	sha256sum "$STORE/gnupg/pubring.kbx" 2>/dev/null || echo no-pubring
	ls "$STORE/gnupg/private-keys-v1.d" 2>/dev/null || true
}

@test "generate prints the fingerprint and the key is usable at once" {
	run --separate-stderr pgp-keys generate alice@example.test
	expect_status 0
	local fpr=$output
	[[ $fpr =~ ^[0-9A-F]{40}$ ]] || fail_with "no fingerprint printed"
	run --separate-stderr pgp-keys find alice@example.test
	expect_status 0
	[ "$output" = "$fpr" ] || fail_with "find does not give the new key"
	run --separate-stderr pgp-keys list
	expect_status 0
	local want
	want=$(printf '%s\t%s\talice@example.test\tusable\tultimate\tsecret' "$fpr" \
	    "$(date -u -d '+730 days' +%F)")
	[ "$output" = "$want" ] || {
		echo "want: $want" >&2
		fail_with "list line"
	}
	run --separate-stderr pgp-keys list --json
	expect_status 0
	python3 -c '
import json, sys
keys = json.loads(sys.argv[1])
assert len(keys) == 1, keys
k = keys[0]
assert k["fingerprint"] == sys.argv[2], k
assert k["addresses"] == ["alice@example.test"], k
assert k["trust"] == "ultimate", k
assert k["secret"] is True, k
assert k["usable_for_encryption"] is True, k
assert k["status"] == "usable", k
' "$output" "$fpr" || fail_with "list --json"
}

@test "export gives the armored public key only, with an encryption subkey; --key rsa3072 makes RSA keys" {
	local fpr type
	for type in ed25519 rsa3072; do
		fpr=$(pgp-keys generate --key "$type" "$type@example.test") ||
		    fail_with "generate --key $type"
		run_out "$T/$type.asc" pgp-keys export "$fpr"
		expect_status 0
		head -n 1 "$T/$type.asc" | grep -qx -- \
		    '-----BEGIN PGP PUBLIC KEY BLOCK-----' ||
		    fail_with "export is not an armored public key"
		pg_packets "$T/$type.asc" >"$T/$type.packets"
		! grep -q 'secret' "$T/$type.packets" ||
		    fail_with "secret key material exported"
		pg_gpg --import "$T/$type.asc" 2>/dev/null ||
		    fail_with "gpg cannot import the export"
		pg_gpg --with-colons --list-keys "$fpr" >"$T/$type.colons"
		grep -q '^uid:.*:<\?'"$type"'@example.test>\?:' "$T/$type.colons" ||
		    fail_with "no user ID for $type@example.test"
		case $type in
		ed25519)
			grep -q '^pub:[^:]*:255:22:' "$T/$type.colons" &&
			    grep -q '^sub:[^:]*:255:18:.*:e:' "$T/$type.colons" ;;
		rsa3072)
			grep -q '^pub:[^:]*:3072:1:' "$T/$type.colons" &&
			    grep -q '^sub:[^:]*:3072:1:.*:e:' "$T/$type.colons" ;;
		esac || {
			cat "$T/$type.colons" >&2
			fail_with "$type: wrong key algorithms"
		}
	done
}

@test "import of a gpg key (file and stdin) prints its fingerprint and makes it usable" {
	local a b
	a=$(pg_gpg_key 'Bob <bob@example.test>')
	b=$(pg_gpg_key 'Carol <carol@example.test>')
	pg_export "$a" "$T/a.asc"
	pg_export "$b" "$T/b.asc"
	run --separate-stderr pgp-keys import "$T/a.asc"
	expect_status 0
	[ "$output" = "key $a" ] || fail_with "import output"
	run --separate-stderr pgp-keys import - <"$T/b.asc"
	expect_status 0
	[ "$output" = "key $b" ] || fail_with "import - output"
	[ "$(pgp-keys find bob@example.test)" = "$a" ] || fail_with "find bob"
	[ "$(pgp-keys find carol@example.test)" = "$b" ] ||
	    fail_with "find carol"
	run --separate-stderr pgp-keys list
	grep -q "^$a	.*	bob@example.test	usable	ultimate	-\$" <<<"$output" ||
	    fail_with "bob's list line"
}

@test "import refuses secret keys in every form (exit 65) and leaves the keyring unchanged" {
	local keep sec
	keep=$(pg_recipient 'Keep <keep@example.test>')
	sec=$(pg_gpg_key 'Secret <secret@example.test>')
	pg_gpg --armor --export-secret-keys "$sec" >"$T/sec.asc"
	pg_gpg --export-secret-keys "$sec" >"$T/sec.gpg"
	pg_gpg --armor --export-secret-subkeys "$sec" >"$T/ssb.asc"
	pg_export "$sec" "$T/pub.asc"
	cat "$T/pub.asc" "$T/sec.asc" >"$T/pub-then-sec.asc"
	[ -s "$T/sec.asc" ] && [ -s "$T/sec.gpg" ] && [ -s "$T/ssb.asc" ] ||
	    fail_with "gpg exported no secret key"
	keyring_state >"$T/before"
	local f
	for f in sec.asc sec.gpg ssb.asc pub-then-sec.asc; do
		run --separate-stderr pgp-keys import "$T/$f"
		expect_status 65
		[ -z "$output" ] || fail_with "$f: import reported a key"
		keyring_state >"$T/after"
		diff "$T/before" "$T/after" >&2 ||
		    fail_with "$f: the keyring changed"
		run --separate-stderr pgp-keys import - <"$T/$f"
		expect_status 65
	done
	run --separate-stderr pgp-keys find secret@example.test
	expect_status 1
}

@test "import --for keeps only the user IDs of that address" {
	local fpr
	fpr=$(pg_gpg_key 'Alice <alice@example.test>')
	pg_gpg --quick-add-uid "$fpr" 'Mallory <mallory@example.test>' 2>/dev/null
	pg_gpg --quick-add-uid "$fpr" 'Alice <alice@example.test.evil>' 2>/dev/null
	pg_export "$fpr" "$T/multi.asc"
	[ "$(pg_gpg --with-colons --list-keys "$fpr" | grep -c '^uid:')" = 3 ] ||
	    fail_with "the test key does not have three user IDs"
	# the keyring exists and holds another key
	local keeper
	keeper=$(pgp-keys generate keeper@example.test)
	# an address none of the user IDs has: nothing is imported
	keyring_state >"$T/before"
	run --separate-stderr pgp-keys import --for nobody@example.test \
	    "$T/multi.asc"
	expect_status 65
	keyring_state >"$T/after"
	diff "$T/before" "$T/after" >&2 || fail_with "keyring changed"
	run --separate-stderr pgp-keys import --for alice@example.test \
	    "$T/multi.asc"
	expect_status 0
	[ "$output" = "key $fpr" ] || fail_with "import output"
	run --separate-stderr pgp-keys list
	[ "$(grep "^$fpr" <<<"$output" | cut -f3)" = alice@example.test ] ||
	    fail_with "list shows other addresses"
	run --separate-stderr pgp-keys list --json
	python3 -c '
import json, sys
keys = json.loads(sys.argv[1])
got = [k["addresses"] for k in keys if k["fingerprint"] == sys.argv[2]]
assert got == [["alice@example.test"]], keys
' "$output" "$fpr" || fail_with "list --json shows other addresses"
	gpg --homedir "$STORE/gnupg" --batch --with-colons --list-keys "$fpr" \
	    2>/dev/null | grep '^uid:' >"$T/uids"
	[ "$(wc -l <"$T/uids")" = 1 ] && grep -q '<alice@example.test>' "$T/uids" ||
	    { cat "$T/uids" >&2; fail_with "the keyring holds other user IDs"; }
	[ "$(pgp-keys find alice@example.test)" = "$fpr" ] ||
	    fail_with "find alice"
	run --separate-stderr pgp-keys find mallory@example.test
	expect_status 1
	run --separate-stderr pgp-keys find alice@example.test.evil
	expect_status 1
}

@test "trust: only ultimate makes a key usable; list shows the level" {
	local fpr level
	fpr=$(pg_recipient 'Bob <bob@example.test>')
	for level in never marginal full undefined ultimate; do
		run --separate-stderr pgp-keys trust "$fpr" "$level"
		expect_status 0
		run --separate-stderr pgp-keys list
		[ "$(cut -f5 <<<"$output")" = "$level" ] ||
		    fail_with "list does not show trust $level"
		# the status says what the level means for its use
		[ "$(cut -f4 <<<"$output")" = "$([ "$level" = ultimate ] &&
		    echo usable || echo untrusted)" ] ||
		    fail_with "list status with trust $level"
		run --separate-stderr pgp-keys find bob@example.test
		if [ "$level" = ultimate ]; then
			expect_status 0
			[ "$output" = "$fpr" ] || fail_with "find after ultimate"
		else
			expect_status 1
			[ -z "$output" ] || fail_with "find printed a key ($level)"
		fi
	done
	run --separate-stderr pgp-keys trust "$fpr" total
	expect_status 64
}

@test "importing a key again keeps the trust the administrator set" {
	local fpr
	fpr=$(pg_recipient 'Bob <bob@example.test>')
	pgp-keys trust "$fpr" never || fail_with "trust never"
	run --separate-stderr pgp-keys import "$T/$fpr.asc"
	expect_status 0
	[ "$output" = "key $fpr" ] || fail_with "re-import output"
	# an update of the key (a new user ID) does not reset it either
	pg_gpg --quick-add-uid "$fpr" 'Bob <bob@partner.test>' 2>/dev/null
	pg_export "$fpr" "$T/updated.asc"
	run --separate-stderr pgp-keys import "$T/updated.asc"
	expect_status 0
	[ "$output" = "key $fpr" ] || fail_with "update output"
	run --separate-stderr pgp-keys list
	[ "$(cut -f5 <<<"$output")" = never ] ||
	    fail_with "re-import changed the trust"
	run --separate-stderr pgp-keys find bob@example.test
	expect_status 1
	run --separate-stderr pgp-keys find bob@partner.test
	expect_status 1
}

@test "remove: the key is gone; bad fingerprints are usage errors" {
	local a b
	a=$(pg_recipient 'Bob <bob@example.test>')
	b=$(pg_recipient 'Bob Two <bob@example.test>')
	pgp-keys find bob@example.test | sort >"$T/found"
	printf '%s\n' "$a" "$b" | sort | cmp -s - "$T/found" ||
	    fail_with "two keys for bob expected"
	run --separate-stderr pgp-keys remove "$a"
	expect_status 0
	[ "$(pgp-keys find bob@example.test)" = "$b" ] ||
	    fail_with "find after remove"
	! pgp-keys list | grep -q "$a" || fail_with "removed key still listed"
	run --separate-stderr pgp-keys remove "${a:0:16}"
	expect_status 64
	run --separate-stderr pgp-keys remove "bob@example.test"
	expect_status 64
	run --separate-stderr pgp-keys export "$a"
	expect_status 1
	[ -z "$output" ] || fail_with "export of a removed key printed data"
}

@test "remove and trust of an unknown fingerprint say not found (exit 1, like export)" {
	pgp-keys generate alice@example.test >/dev/null
	local none=0123456789ABCDEF0123456789ABCDEF01234567
	run --separate-stderr pgp-keys export "$none"
	expect_status 1
	run --separate-stderr pgp-keys remove "$none"
	expect_status 1
	run --separate-stderr pgp-keys trust "$none" never
	expect_status 1
}

@test "find ignores ASCII case in the local part and the domain" {
	local fpr a
	fpr=$(pg_recipient 'Bob <Bob@Partner.Test>')
	for a in bob@partner.test BOB@PARTNER.TEST Bob@partner.test; do
		[ "$(pgp-keys find "$a")" = "$fpr" ] || fail_with "find $a"
	done
}

@test "a user ID with a U-label (IDN) domain is found, encrypted to and kept by import --for" {
	local idn
	# a user ID with a U-label domain is the same mailbox as its A-label
	idn=$(pg_gpg_key 'Jörg <jörg@exämple.test>')
	pg_export "$idn" "$T/idn.asc"
	run --separate-stderr pgp-keys import --for 'jörg@exämple.test' \
	    "$T/idn.asc"
	expect_status 0
	[ "$output" = "key $idn" ] || fail_with "import --for the U-label"
	run --separate-stderr pgp-keys find 'jörg@xn--exmple-cua.test'
	expect_status 0
	[ "$output" = "$idn" ] || fail_with "find by A-label"
	run --separate-stderr pgp-keys find 'jörg@exämple.test'
	expect_status 0
	[ "$output" = "$idn" ] || fail_with "find by U-label"
	run_out "$T/enc.eml" pgp-enc 'jörg@exämple.test' <"$FIX/plain.eml"
	expect_status 0
}

@test "a keyring under a directory path over 100 characters works for generate, encrypt and decrypt" {
	local long=$T/a-rather-long-directory-name-0123456789
	long=$long/another-long-directory-name-0123456789/third-level-0123456789
	mkdir -p "$long"
	local store=$long/store
	[ ${#long} -gt 100 ] || fail_with "path not long enough: ${#long}"
	run --separate-stderr pgp-keys --store "$store" generate long@example.test
	expect_status 0
	local fpr=$output
	[[ $fpr =~ ^[0-9A-F]{40}$ ]] || fail_with "no fingerprint"
	[ "$(pgp-keys --store "$store" find long@example.test)" = "$fpr" ] ||
	    fail_with "find in the long store"
	# the agent is reached through a private short link to the keyring
	local dir links
	dir=$(pg_link_dir)
	links=$(pg_links_to "$store/gnupg")
	[ -n "$links" ] || fail_with "no link to $store/gnupg in $dir"
	[ "$(stat -c '%a %u' "$dir")" = "700 $(id -u)" ] ||
	    fail_with "$dir is not private: $(stat -c '%a %u' "$dir")"
	run_out "$T/enc.eml" pgp-enc --store "$store" long@example.test \
	    <"$FIX/mixed-attach.eml"
	expect_status 0
	pg_check_mime "$T/enc.eml"
	no_plaintext "$T/enc.eml" MIXEDTEXT-7c1e
	run_out "$T/dec.eml" pgp-dec --store "$store" <"$T/enc.eml"
	expect_status 0
	[ "$(status_of "$T/dec.eml" X-Mailseal-Decrypted)" = pgp ] ||
	    fail_with "not decrypted"
	same_content "$T/dec.eml" "$FIX/mixed-attach.eml" ||
	    fail_with "content changed"
	# a second long store gets its own keyring
	local other=$long/other-store-with-its-own-keyring
	pgp-keys --store "$other" generate other@example.test >/dev/null ||
	    fail_with "generate in the second long store"
	run --separate-stderr pgp-keys --store "$other" find long@example.test
	expect_status 1
	run --separate-stderr pgp-keys --store "$store" find other@example.test
	expect_status 1
	# a keyring path of 80 characters is used as it is
	local short=$T/s
	short=$short$(printf '%*s' $((80 - ${#short} - 12)) '' | tr ' ' x)/store
	[ ${#short} -eq 74 ] || fail_with "short store path is ${#short}"
	mkdir -p "${short%/store}"
	pgp-keys --store "$short" generate short@example.test >/dev/null ||
	    fail_with "generate in the 80-character keyring"
	[ -z "$(pg_links_to "$short/gnupg")" ] ||
	    fail_with "a link for an 80-character keyring path"
}

@test "the command table: an unknown command, an option of another command and operands to list are usage errors (64); none writes the store" {
	local before
	run --separate-stderr pgp-keys generate bob@example.test
	expect_status 0
	before=$(find "$STORE" -type f | sort | xargs sha256sum)
	run --separate-stderr pgp-keys frobnicate
	expect_status 64
	[[ "$stderr" == *"unknown command"* ]] || fail_with "unknown command"
	[[ "$stderr" == *"usage: pgp-keys"* ]] || fail_with "no usage"
	run --separate-stderr pgp-keys list --for bob@example.test
	expect_status 64
	[[ "$stderr" == *'option not valid for "list"'* ]] ||
	    fail_with "--for with list"
	run --separate-stderr pgp-keys find --json bob@example.test
	expect_status 64
	[[ "$stderr" == *'option not valid for "find"'* ]] ||
	    fail_with "--json with find"
	run --separate-stderr pgp-keys list extra
	expect_status 64
	[[ "$stderr" == *"list takes no operands"* ]] ||
	    fail_with "operands to list"
	run --separate-stderr pgp-keys
	expect_status 64
	[[ "$stderr" == *"no command given"* ]] || fail_with "no command"
	[ "$(find "$STORE" -type f | sort | xargs sha256sum)" = "$before" ] ||
	    fail_with "a refused command changed the store"
}

# secret_state - the keys listed and the secret key files
secret_state() {
	pgp-keys list
	ls "$STORE/gnupg/private-keys-v1.d" 2>/dev/null || true
}

# signs_as ADDRESS FPR CERT [pgp-sign options] - pgp-sign of a message from
# ADDRESS makes an RFC 3156 signature that gpg (made by FPR) and sq (CERT)
# accept
signs_as() {
	local addr=$1 fpr=$2 cert=$3 got
	shift 3
	sed "s/^From: .*/From: <$addr>/" "$FIX/plain.eml" >"$T/from.eml"
	run_out "$T/signed.eml" pgp-sign "$@" <"$T/from.eml"
	expect_status 0
	pg_signed_check "$T/signed.eml" >/dev/null ||
	    fail_with "$addr: not RFC 3156"
	mimetool signed-parts "$T/signed.eml" "$T/part1" "$T/sig.asc" ||
	    fail_with "$addr: no signed parts"
	got=$(pg_gpg_verify_detached "$T/sig.asc" "$T/part1") ||
	    fail_with "$addr: gpg --verify failed"
	[ "${got% *}" = "$fpr" ] || fail_with "$addr: signed by ${got% *}"
	pg_sq_verify "$cert" "$T/sig.asc" "$T/part1" ||
	    fail_with "$addr: sq verify failed"
}

@test "import --secret: a gpg key pair with its passphrase file signs (gpg and sq verify) and decrypts; a wrong passphrase is refused and leaves nothing" {
	echo 'migrated pass phrase' >"$T/pass"
	echo 'not the phrase' >"$T/wrong"
	local fpr
	fpr=$(gpg --homedir "$PG_HOME" --batch --no-tty --pinentry-mode \
	    loopback --passphrase 'migrated pass phrase' --status-fd 1 \
	    --quick-gen-key 'Imp <imp@example.test>' future-default default \
	    2y 2>/dev/null | awk '$2 == "KEY_CREATED" { print $4 }')
	[[ $fpr =~ ^[0-9A-F]{40}$ ]] || fail_with "gpg made no key"
	gpg --homedir "$PG_HOME" --batch --no-tty --pinentry-mode loopback \
	    --passphrase 'migrated pass phrase' --armor \
	    --export-secret-keys "$fpr" >"$T/imp.sec" 2>/dev/null
	pg_export "$fpr" "$T/imp.pub"
	grep -q 'BEGIN PGP PRIVATE KEY BLOCK' "$T/imp.sec" ||
	    fail_with "gpg exported no secret key"

	pg_recipient 'Keep <keep@example.test>' >/dev/null
	# a refused key pair is taken out again (GnuPG's keybox keeps a
	# deleted record's space, so its bytes change): the keys listed and
	# the secret key files are what they were
	secret_state >"$T/before"
	# without --secret a key pair stays refused (KEY-3)
	run --separate-stderr pgp-keys import "$T/imp.sec"
	expect_status 65
	run --separate-stderr pgp-keys import --secret --passphrase-file \
	    "$T/wrong" "$T/imp.sec"
	expect_status 65
	[ -z "$output" ] || fail_with "a refused import reported a key"
	grep -q 'does not open with the passphrase' <<<"$stderr" ||
	    fail_with "wrong passphrase diagnostic: $stderr"
	! grep -q 'phrase$\|migrated\|not the' <<<"$stderr" ||
	    fail_with "a passphrase in a diagnostic"
	secret_state >"$T/after"
	diff "$T/before" "$T/after" >&2 ||
	    fail_with "the keyring changed by a refused import"

	run --separate-stderr pgp-keys import --secret --passphrase-file \
	    "$T/pass" "$T/imp.sec"
	expect_status 0
	[ "$output" = "key $fpr" ] || fail_with "import output: $output"
	! grep -q 'migrated' <<<"$stderr" || fail_with "passphrase on stderr"
	run --separate-stderr pgp-keys list
	grep -q "^$fpr	.*	imp@example.test	usable	ultimate	secret\$" \
	    <<<"$output" || fail_with "list line: $output"

	signs_as imp@example.test "$fpr" "$T/imp.pub" \
	    --passphrase-file "$T/pass"

	# a message gpg encrypts to the imported key decrypts
	pg_gpg --trust-model always --armor --recipient "$fpr" \
	    --encrypt --output "$T/cipher.asc" "$FIX/plain.eml"
	pg_wrap_mime "$T/cipher.asc" "$T/enc.eml"
	run_out "$T/dec.eml" pgp-dec --passphrase-file "$T/pass" \
	    <"$T/enc.eml"
	expect_status 0
	[ "$(status_of "$T/dec.eml" X-Mailseal-Decrypted)" = pgp ] ||
	    fail_with "not decrypted"
	grep -qF "$(sed -n '$p' "$FIX/plain.eml")" "$T/dec.eml" ||
	    fail_with "decrypted content differs"
}

@test "import --secret: an sq key (no passphrase) signs, gpg and sq verify" {
	pg_sq_key sqi@example.test "$T/sqi.key" "$T/sqi.cert"
	pg_gpg --import "$T/sqi.cert" 2>/dev/null
	local fpr
	fpr=$(pg_gpg --with-colons --list-keys sqi@example.test |
	    awk -F: '$1 == "fpr" { print $10; exit }')
	[[ $fpr =~ ^[0-9A-F]{40}$ ]] || fail_with "no fingerprint for sq's key"
	run --separate-stderr pgp-keys import --secret "$T/sqi.key"
	expect_status 0
	[ "$output" = "key $fpr" ] || fail_with "import output: $output"
	signs_as sqi@example.test "$fpr" "$T/sqi.cert"
}

# status_line FPR END ADDRS STATUS TRUST SECRET - a list line
status_line() {
	printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$@"
}

@test "list: a status for each key (usable, expiring, expired, revoked, untrusted) and --expiring DAYS; keys made by gpg and sq" {
	local alice bob carol dave erin frank want
	alice=$(pgp-keys generate alice@example.test)
	# bob ends in 2 days (primary and encryption subkey)
	bob=$(pg_recipient bob@example.test future-default default 2d)
	# carol was made 10 days ago for 2 days: expired 8 days ago
	carol=$(pg_gpg_key carol@example.test future-default default 2d \
	    --faked-system-time "$(date -u -d '-10 days' +%Y%m%dT%H%M%S)")
	pg_export "$carol" "$T/carol.asc"
	pg_store_import "$T/carol.asc"
	# dave is revoked by the certificate gpg made with the key
	dave=$(pg_gpg_key dave@example.test)
	sed 's/^:-----/-----/' "$PG_HOME/openpgp-revocs.d/$dave.rev" |
	    pg_gpg --import 2>/dev/null
	pg_export "$dave" "$T/dave.asc"
	pg_store_import "$T/dave.asc"
	# erin is an sq key that ends in 2 days
	pg_sq key generate --userid '<erin@example.test>' --expires-in 2d \
	    --export "$T/erin.key" 2>/dev/null
	pg_sq key extract-cert "$T/erin.key" >"$T/erin.pgp"
	pg_store_import "$T/erin.pgp"
	erin=$(sed -n 's/^key //p' "$T/import.out")
	# frank is not trusted (any level but ultimate)
	frank=$(pg_recipient frank@example.test)
	pgp-keys trust "$frank" full
	local in2 in730 ago8
	in2=$(date -u -d '+2 days' +%F)
	in730=$(date -u -d '+730 days' +%F)
	ago8=$(date -u -d '-8 days' +%F)
	run --separate-stderr pgp-keys list
	expect_status 0
	grep -qx "$(status_line "$alice" "$in730" alice@example.test usable \
	    ultimate secret)" <<<"$output" || fail_with "alice: usable"
	grep -qx "$(status_line "$bob" "$in2" bob@example.test expiring \
	    ultimate -)" <<<"$output" || fail_with "bob: expiring"
	grep -qx "$(status_line "$carol" "$ago8" carol@example.test expired \
	    ultimate -)" <<<"$output" || fail_with "carol: expired"
	[ "$(grep "^$dave" <<<"$output" | cut -f4)" = revoked ] ||
	    fail_with "dave: revoked"
	grep -qx "$(status_line "$erin" "$in2" erin@example.test expiring \
	    ultimate -)" <<<"$output" || fail_with "erin (sq): expiring"
	[ "$(grep "^$frank" <<<"$output" | cut -f4,5)" = "untrusted	full" ] ||
	    fail_with "frank: untrusted"
	# --expiring 5: those ending within 5 days or ended, in keyring order
	run --separate-stderr pgp-keys list --expiring 5
	expect_status 0
	[ "$(cut -f1,4 <<<"$output" | sort)" = "$(printf '%s\t%s\n' \
	    "$bob" expiring "$carol" expired "$erin" expiring | sort)" ] ||
	    fail_with "--expiring 5"
	# a window that reaches alice makes her expiring too
	run --separate-stderr pgp-keys list --expiring 800
	expect_status 0
	[ "$(grep "^$alice" <<<"$output" | cut -f4)" = expiring ] ||
	    fail_with "--expiring 800: alice"
	run --separate-stderr pgp-keys list --json --expiring 5
	expect_status 0
	python3 -c '
import json, sys
keys = {k["fingerprint"]: k for k in json.loads(sys.argv[1])}
assert sorted(keys) == sorted(sys.argv[2:5]), keys
assert keys[sys.argv[2]]["status"] == "expiring", keys
assert keys[sys.argv[2]]["expires"] == sys.argv[5], keys
assert keys[sys.argv[3]]["status"] == "expired", keys
assert keys[sys.argv[3]]["usable_for_encryption"] is False, keys
assert keys[sys.argv[4]]["status"] == "expiring", keys
' "$output" "$bob" "$carol" "$erin" "$in2" || fail_with "list --json --expiring"
	for bad in -1 x 36501 ''; do
		run --separate-stderr pgp-keys list --expiring "$bad"
		expect_status 64
		[[ "$stderr" == *"--expiring takes a number of days"* ]] ||
		    fail_with "--expiring $bad"
	done
}

# unsupported IMPORT-ARGS... WHAT - import exits 65 naming WHAT as not
# supported by the keyring's GnuPG, never "no OpenPGP key"
unsupported() {
	local what=${!#}
	run --separate-stderr pgp-keys import "${@:1:$#-1}"
	expect_status 65
	[[ "$stderr" =~ ^"pgp-keys: error: $what: not supported by this GnuPG ("[0-9.]+"); use " ]] ||
	    fail_with "import ${*:1:$#-1}: $stderr"
	! grep -q 'no OpenPGP key' <<<"$stderr" || fail_with "still 'no key'"
}

@test "import: RFC 9580 v6 keys (A.3 certificate, A.4 secret key; armoured and binary), a v5 key and a v4 key of RFC 9580's Ed25519 are named as such (65), the keyring unchanged" {
	local v6=$BATS_TEST_DIRNAME/../fixtures/pgp/rfc9580
	pgp-keys generate alice@example.test >/dev/null
	keyring_state >"$T/before"
	unsupported "$v6/v6-public.asc" 'an OpenPGP v6 key (RFC 9580)'
	[[ "$stderr" == *"; use a v4 key" ]] || fail_with "v6: the advice"
	unsupported --secret "$v6/v6-secret.asc" \
	    'an OpenPGP v6 secret key (RFC 9580)'
	unsupported "$v6/v6-secret.asc" 'an OpenPGP v6 secret key (RFC 9580)'
	gpg --dearmor <"$v6/v6-public.asc" >"$T/v6.bin"
	unsupported "$T/v6.bin" 'an OpenPGP v6 key (RFC 9580)'
	unsupported - 'an OpenPGP v6 key (RFC 9580)' <"$T/v6.bin"
	# a v5 key: the v6 certificate with its version octet made 5
	python3 -c 'import sys
d = bytearray(open(sys.argv[1], "rb").read())
assert d[:3] == b"\xc6\x2a\x06", d[:3]
d[2] = 5
open(sys.argv[2], "wb").write(d)' "$T/v6.bin" "$T/v5.bin"
	unsupported "$T/v5.bin" 'an OpenPGP v5 key (LibrePGP)'
	# a v4 key of algorithm 27 (Ed25519 of RFC 9580, unknown to 2.2):
	# gpg's RSA key with its algorithm octet changed
	local fpr
	fpr=$(pg_gpg_key bob@example.test rsa2048)
	pg_gpg --export "$fpr" >"$T/rsa.bin"
	python3 -c 'import sys
d = bytearray(open(sys.argv[1], "rb").read())
assert d[0] == 0x99 and d[3] == 4 and d[8] == 1, d[:9]
d[8] = 27
open(sys.argv[2], "wb").write(d)' "$T/rsa.bin" "$T/a27.bin"
	unsupported "$T/a27.bin" \
	    'an OpenPGP v4 key of the Ed25519 algorithm (RFC 9580)'
	# what is no key at all is still said so
	echo hello >"$T/text"
	run --separate-stderr pgp-keys import "$T/text"
	expect_status 65
	[ "$stderr" = "pgp-keys: error: no OpenPGP key GnuPG can use in the data" ] ||
	    fail_with "text: $stderr"
	keyring_state >"$T/after"
	diff "$T/before" "$T/after" >&2 || fail_with "keyring changed"
}
