#!/usr/bin/env bats
# 04-demo.bats - make demo's script, run as the README tells a new
# administrator to, does what it says: every recipient gets what it can
# read and opens it with openssl, gpg or poppler.

load helpers

setup() {
	ms_setup
}

@test "demo: scripts/demo runs through every step, and each copy opens with the right tool" {
	local top build
	top=$(ms_top)
	build=${MAILSEAL_BIN#"$top"/}
	build=${build%/bin}
	[ "$build" != "$MAILSEAL_BIN" ] ||
	    fail_with "MAILSEAL_BIN $MAILSEAL_BIN is not in the tree"
	run bash -c 'cd "$1" && BUILD=$2 sh scripts/demo' demo "$top" "$build"
	expect_status 0
	local want
	for want in \
	    'exit 0: reinjected as: sendmail -f alice@example.com -- bob@partner.example' \
	    'exit 0: reinjected as: sendmail -f alice@example.com -- carol@pgp.example' \
	    'exit 0: reinjected as: sendmail -f alice@example.com -- frank@pdf.example' \
	    '5.7.1 encryption is required for dave@plain.example and no certificate or key is available' \
	    'X-Mailseal-Decrypted: smime' \
	    'external-recipient: frank@pdf.example' \
	    '== Done; the temporary store is removed.'; do
		[[ $output == *"$want"* ]] || fail_with "no line: $want"
	done
	# the secret text comes back out of bob's (openssl), carol's (gpg)
	# and frank's (pdftotext) copies: three times after step 7
	[ "$(sed -n '/^== 7\./,/^== 9\./p' <<<"$output" |
	    grep -c '^Revenue is up 12 % this quarter')" -eq 3 ] ||
	    fail_with "not every copy opened"
}
