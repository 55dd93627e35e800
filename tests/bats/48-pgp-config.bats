#!/usr/bin/env bats
# TEST-C1: the keyring's production configuration never weakens gpg.

load helpers

setup() {
	ms_setup_store
}

teardown() {
	ms_stop_agents "$STORE/gnupg"
}

@test "gpg.conf: no ignore-mdc-error, weak digests, automatic keys or trust model; hardening present" {
	pgp-keys generate c1@example.test >/dev/null
	conf=$STORE/gnupg/gpg.conf
	[ -f "$conf" ] || fail_with "no gpg.conf"
	! grep -Eq '^[[:space:]]*(ignore-mdc-error|allow-weak-digest-algos|trust-model|auto-key-retrieve|auto-key-import)' \
	    "$conf" || fail_with "a forbidden option in gpg.conf"
	for want in no-auto-key-retrieve no-auto-key-import 'weak-digest SHA1' \
	    'disable-cipher-algo 3DES' 'disable-cipher-algo IDEA' \
	    'disable-cipher-algo CAST5' 'import-options self-sigs-only,import-minimal'; do
		grep -qx "$want" "$conf" || fail_with "missing: $want"
	done
	[ "$(stat -c %a "$STORE/gnupg")" = 700 ] ||
	    fail_with "the keyring directory is not 0700"
	# nor does the code set such a GPGME context flag
	! grep -rnE 'gpgme_set_ctx_flag\([^,]*, *"(ignore-mdc-error|trust-model|auto-key-retrieve|auto-key-import|auto-key-locate)"' \
	    "$BATS_TEST_DIRNAME/../../common" "$BATS_TEST_DIRNAME/../../cmd" ||
	    fail_with "a forbidden GPGME context flag in the code"
}
