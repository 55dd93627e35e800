#!/usr/bin/env bats
# mailseal-init: a store in one command.  Made as root for the user
# nobody in a scratch directory: layout, owners, modes and secrets
# (stat), mailseal-check with no finding, a second run that changes
# nothing, the refusal of a store of another user, and a filter that
# works on the new store.

load helpers

NOBODY=65534

setup() {
	ms_setup
	[ "$(id -u)" = 0 ] || skip "needs root to make a store for nobody"
	id nobody >/dev/null 2>&1 || skip "no user nobody"
	# below /tmp, which nobody may enter (the bats directory may not be)
	D=$(mktemp -d /tmp/mailseal-init-bats.XXXXXX)
	chmod 755 "$D"
	STORE=$D/store
}

teardown() {
	[ -z "${D:-}" ] || rm -rf "$D"
}

# as_nobody CMD... - run a program of the build as the store's user
as_nobody() {
	setpriv --reuid=$NOBODY --regid=$NOBODY --clear-groups \
	    "$MAILSEAL_BIN/$1" --store "$STORE" "${@:2}"
}

# snapshot - the store with owners, modes, sizes and content hashes
snapshot() {
	store_snapshot "$STORE"
	(cd "$STORE" && find . -path ./lock -prune -o -printf '%p %u\n' | sort)
}

@test "a store for nobody: every directory 0700, secrets 0600 of 32 random octets, all owned by nobody" {
	run --separate-stderr mailseal-init --store "$STORE" --user nobody
	expect_status 0
	local what
	for what in "$STORE" pdf pdf/static pdf/otp spool spool/sms \
	    pdf/random.key pdf/reply.key settings/global.conf gnupg; do
		grep -qxF "made $what" <<<"$output" || fail_with "not made: $what"
	done
	# every directory the store code and the programs use
	for what in settings settings/domain settings/user certs roots keys \
	    crls index ca crlstate tmp quarantine policies audit cache \
	    pdf/static pdf/otp spool/sms spool/sms-done gnupg; do
		[ -d "$STORE/$what" ] || fail_with "no directory $what"
	done
	[ -z "$(find "$STORE" ! -uid $NOBODY)" ] ||
	    fail_with "not owned by nobody: $(find "$STORE" ! -uid $NOBODY)"
	[ -z "$(find "$STORE" -type d ! -perm 700)" ] ||
	    fail_with "directory not 0700: $(find "$STORE" -type d ! -perm 700)"
	local key
	for key in random.key reply.key; do
		[ "$(stat -c '%s %a %u' "$STORE/pdf/$key")" = "32 600 $NOBODY" ] ||
		    fail_with "pdf/$key: $(stat -c '%s %a %u' "$STORE/pdf/$key")"
	done
	# random: the two secrets differ and neither is all zeros
	! cmp -s "$STORE/pdf/random.key" "$STORE/pdf/reply.key" ||
	    fail_with "the two secrets are equal"
	! cmp -s "$STORE/pdf/random.key" <(head -c 32 /dev/zero) ||
	    fail_with "random.key is zeros"
	# never printed: no secret's hex or raw octets on either stream
	local hex
	hex=$(od -An -tx1 "$STORE/pdf/random.key" | tr -d ' \n')
	[[ $output$stderr != *"$hex"* ]] || fail_with "secret shown"
	# the settings: comments only
	[ -z "$(grep -v '^#' "$STORE/settings/global.conf" | grep -v '^$')" ] ||
	    fail_with "global.conf sets a key"
	grep -qx '# encrypt-mode = allow' "$STORE/settings/global.conf" ||
	    fail_with "global.conf does not show the defaults"
	# the audit log names what was made, and its chain holds
	grep -q ' uid=65534 program=mailseal-init .* init secret pdf/random.key$' \
	    "$STORE/audit/log" || fail_with "no audit line for the secret"
	run --separate-stderr as_nobody mailseal-audit verify
	expect_status 0
	[[ $output == "intact: "* ]] || fail_with "audit chain"
}

@test "mailseal-check finds nothing in a new store, nor after the pdf method is switched on" {
	run --separate-stderr mailseal-init --store "$STORE" --user nobody
	expect_status 0
	run --separate-stderr as_nobody mailseal-check --no-postfix
	expect_status 0
	[ -z "$output" ] || fail_with "findings in a new store"
	# the secrets these settings need are there already (they used to be
	# made by hand with head -c 32 /dev/urandom)
	printf '%s\n' 'methods = smime pgp pdf' \
	    'pdf-password-mode = random-to-sender' \
	    'pdf-reply-url = https://reply.example.org/r' \
	    >>"$STORE/settings/global.conf"
	run --separate-stderr as_nobody mailseal-check --no-postfix
	expect_status 0
	[ -z "$output" ] || fail_with "findings with the pdf method"
}

@test "a second run changes nothing, secrets and settings kept, and exits 0" {
	run --separate-stderr mailseal-init --store "$STORE" --user nobody \
	    --with-ca "Init Test CA"
	expect_status 0
	[[ $output == *"made ca "* ]] || fail_with "no CA made"
	# an administrator's setting, which a second run must keep
	echo 'sign = smime' >>"$STORE/settings/global.conf"
	local before sums
	before=$(snapshot)
	sums=$(sha256sum "$STORE"/pdf/*.key "$STORE/ca/ca.key")
	run --separate-stderr mailseal-init --store "$STORE" --user nobody \
	    --with-ca "Init Test CA"
	expect_status 0
	[ -z "$output" ] || fail_with "a second run made something"
	[ "$(snapshot)" = "$before" ] || fail_with "the store changed"
	[ "$(sha256sum "$STORE"/pdf/*.key "$STORE/ca/ca.key")" = "$sums" ] ||
	    fail_with "a secret changed"
	# as the store's user, without --user, the same
	run --separate-stderr as_nobody mailseal-init
	expect_status 0
	[ -z "$output" ] || fail_with "a run as nobody made something"
	[ "$(snapshot)" = "$before" ] || fail_with "the store changed (nobody)"
}

@test "a store of another user is refused with 78 and left untouched" {
	mkdir -m 700 "$STORE"
	echo keep >"$STORE/file"
	local before
	before=$(snapshot)
	run --separate-stderr mailseal-init --store "$STORE" --user nobody
	expect_status 78
	[ -z "$output" ] || fail_with "stdout on refusal"
	[[ $stderr == *"$STORE belongs to uid 0, not to the store's user (uid $NOBODY)"* ]] ||
	    fail_with "the refusal does not say whose store it is"
	[[ $stderr == *"--store"* ]] || fail_with "the refusal says not what to do"
	[ "$(snapshot)" = "$before" ] || fail_with "the store changed"
	# the other way round: nobody's store, made for root
	run --separate-stderr mailseal-init --store "$D/n" --user nobody
	expect_status 0
	before=$(store_snapshot "$D/n")
	run --separate-stderr mailseal-init --store "$D/n"
	expect_status 78
	[ "$(store_snapshot "$D/n")" = "$before" ] || fail_with "nobody's store changed"
	# a store that group or others may write
	mkdir -m 770 "$D/g"
	chown $NOBODY "$D/g"
	run --separate-stderr mailseal-init --store "$D/g" --user nobody
	expect_status 78
	[[ $stderr == *"writable by group or others"* ]] || fail_with "why"
}

@test "the filters work on the new store: a certificate of its CA, encrypted and decrypted as nobody" {
	run --separate-stderr mailseal-init --store "$STORE" --user nobody \
	    --with-ca "Init Test CA"
	expect_status 0
	run --separate-stderr as_nobody smime-ca issue bob@example.test "Bob"
	expect_status 0
	local fixture=$BATS_TEST_DIRNAME/../fixtures/smime/plain.eml
	as_nobody smime-enc bob@example.test <"$fixture" >"$D/enc.eml"
	grep -qi '^Content-Type: application/pkcs7-mime' "$D/enc.eml" ||
	    fail_with "not S/MIME"
	! grep -q PLAINBODY-5d2a "$D/enc.eml" || fail_with "plaintext"
	as_nobody smime-dec <"$D/enc.eml" >"$D/dec.eml"
	grep -q 'The launch code is PLAINBODY-5d2a.' "$D/dec.eml" ||
	    fail_with "does not decrypt"
	run --separate-stderr as_nobody mailseal-check --no-postfix
	expect_status 0
	[ -z "$output" ] || fail_with "findings after use"
}

@test "usage errors exit 64; an unknown user and a store for another user as non-root exit 78" {
	run --separate-stderr mailseal-init --store "$STORE" extra
	expect_status 64
	run --separate-stderr mailseal-init --store "$STORE" --bogus
	expect_status 64
	run --separate-stderr mailseal-init --store "$STORE" --with-ca ""
	expect_status 64
	run --separate-stderr mailseal-init --store "$STORE" \
	    --user no-such-user-4f1c
	expect_status 78
	[[ $stderr == *"no user no-such-user-4f1c"* ]] || fail_with "why"
	[ ! -e "$STORE" ] || fail_with "a store made anyway"
	run --separate-stderr setpriv --reuid=$NOBODY --regid=$NOBODY \
	    --clear-groups "$MAILSEAL_BIN/mailseal-init" --store "$D/x" --user root
	expect_status 78
	[[ $stderr == *"only root"* ]] || fail_with "why"
	[ ! -e "$D/x" ] || fail_with "a store made anyway"
}
