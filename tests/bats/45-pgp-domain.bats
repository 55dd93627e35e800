#!/usr/bin/env bats
# pgp-enc with a domain key: the pgp-domain-key setting of a recipient's
# domain covers every recipient there (domain-to-domain encryption).

load helpers

setup() {
	ms_setup_store
	GW=$(pgp-keys generate gateway@partner.test)
	mkdir -p "$STORE/settings/domain"
	printf 'From: alice@example.test\nTo: x@partner.test\nSubject: d\n\nDOMAINKEY-7e1\n' >"$T/m.eml"
}

teardown() {
	ms_stop_agents "$STORE/gnupg"
}

@test "a domain key covers recipients without keys of their own, and only in its domain" {
	printf 'pgp-domain-key = %s\n' "$GW" \
	    >"$STORE/settings/domain/partner.test.conf"
	run --separate-stderr pgp-enc x@partner.test y@partner.test <"$T/m.eml"
	expect_status 0
	printf '%s\n' "$output" >"$T/enc.eml"
	grep -q 'multipart/encrypted' "$T/enc.eml" || fail_with "not PGP/MIME"
	! grep -q DOMAINKEY-7e1 "$T/enc.eml" || fail_with "plaintext leaked"
	pgp-dec <"$T/enc.eml" >"$T/dec.eml"
	grep -q DOMAINKEY-7e1 "$T/dec.eml" ||
	    fail_with "the gateway key does not decrypt it"
	# another domain is not covered
	run --separate-stderr pgp-enc x@other.test <"$T/m.eml"
	expect_status 69
	[ -z "$output" ] || fail_with "output for an uncovered recipient"
}

@test "a wildcard domain key covers subdomains; a bad or missing key defers" {
	printf 'pgp-domain-key = %s\n' "$GW" \
	    >"$STORE/settings/domain/*.partner.test.conf"
	run --separate-stderr pgp-enc x@mail.partner.test <"$T/m.eml"
	expect_status 0
	# a fingerprint the keyring does not hold: configuration error, 75
	printf 'pgp-domain-key = %s\n' 0123456789ABCDEF0123456789ABCDEF01234567 \
	    >"$STORE/settings/domain/partner.test.conf"
	run --separate-stderr pgp-enc x@partner.test <"$T/m.eml"
	expect_status 75
	[ -z "$output" ] || fail_with "output on a configuration error"
	# not a fingerprint at all: settings error, 75
	printf 'pgp-domain-key = not-hex\n' \
	    >"$STORE/settings/domain/partner.test.conf"
	run --separate-stderr pgp-enc x@partner.test <"$T/m.eml"
	expect_status 75
}
