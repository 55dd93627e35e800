#!/usr/bin/env bats
# crl-sync: CRLs from the distribution points of the stored certificates
# (made by openssl ca and by smime-ca), served by a local HTTP server on
# 127.0.0.1: installed in OpenSSL's hashed layout, conditional GET (304),
# rollback and foreign signatures refused, size and time limits, private
# addresses refused (redirects included) unless allowed; then the filters
# and certstore see the revocation.

load helpers

setup() {
	ms_setup
	export MAILSEAL_STORE=$STORE
	WEB=$T/web
	mkdir -p "$WEB"
	start_server "$WEB" SERVER PORT
	URL=http://127.0.0.1:$PORT
}

teardown() {
	[ -z "${SERVER:-}" ] || kill "$SERVER" 2>/dev/null || true
	[ -z "${SERVER2:-}" ] || kill "$SERVER2" 2>/dev/null || true
}

# start_server DIR PIDVAR PORTVAR - the test server on a free port
start_server() {
	local dir=$1 out=$1/server.out
	python3 "$BATS_TEST_DIRNAME/../fixtures/crl/http-server.py" "$dir" \
	    >"$out" 2>&1 &
	printf -v "$2" '%s' "$!"
	for _ in $(seq 50); do
		grep -q '^ready' "$out" 2>/dev/null && break
		sleep 0.1
	done
	grep -q '^ready' "$out" || skip "no HTTP server on 127.0.0.1"
	printf -v "$3" '%s' "$(awk '/^ready/ { print $2 }' "$out")"
}

# pki_root_with_leaves - root "root" and leaves alice and bob naming
# $URL/root.crl, all in the store
pki_root_with_leaves() {
	pki_ca root '' ec
	pki_leaf root alice cdp="$URL/root.crl"
	pki_leaf root bob cdp="$URL/root.crl"
	certstore import --roots "$PKI/root.pem" >/dev/null
	certstore import "$PKI/alice.pem" "$PKI/bob.pem" >/dev/null
}

# crl_files - the CRL store's file names
crl_files() {
	ls "$STORE/crls" | sort | tr '\n' ' '
}

@test "first download: the CRL lands in the hashed layout that openssl verify -crl_check reads" {
	pki_root_with_leaves
	pki_crl root "$WEB/root.crl"
	run --separate-stderr crl-sync --allow-private-addresses
	expect_status 0
	hash=$(openssl crl -in "$WEB/root.crl" -noout -hash)
	[[ "$output" == *"CN=root"*": updated $hash.r0, CRL number 4096, next update "* ]] ||
	    fail_with "no update line"
	[ "$(echo "$output" | wc -l)" -eq 1 ] || fail_with "one line per CA"
	cmp <(openssl crl -in "$STORE/crls/$hash.r0" -outform DER) \
	    <(openssl crl -in "$WEB/root.crl" -outform DER) ||
	    fail_with "installed CRL differs"
	openssl verify -CAfile "$PKI/root.pem" -CApath "$STORE/crls" \
	    -crl_check "$PKI/alice.pem" >/dev/null ||
	    fail_with "openssl verify with the CRL store"
	# a revocation reaches openssl through the next sync
	pki_revoke root alice
	pki_crl root "$WEB/root.crl"
	run --separate-stderr crl-sync --allow-private-addresses
	expect_status 0
	[[ "$output" == *": updated $hash.r0, CRL number 4097,"* ]] ||
	    fail_with "second CRL not installed"
	run openssl verify -CAfile "$PKI/root.pem" -CApath "$STORE/crls" \
	    -crl_check "$PKI/alice.pem"
	[[ "$output" == *"certificate revoked"* ]] ||
	    fail_with "openssl does not see the revocation"
}
