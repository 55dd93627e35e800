#!/usr/bin/env bats
# pgp-keys lookup: Web Key Directory (advanced method) and an HKPS
# keyserver, served by a local HTTPS server on 127.0.0.1 with a test CA.
# Only user IDs for the address asked are imported; found keys are not
# trusted until the administrator says so; private addresses are refused
# unless allowed.

load helpers

setup() {
	ms_setup_store
	WEB=$T/web
	mkdir -p "$WEB/pks"
	# a CA and a server certificate for the two test hosts
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
	    -keyout "$T/ca.key" -out "$T/ca.pem" -days 2 -subj /CN=TestCA \
	    -addext basicConstraints=critical,CA:TRUE \
	    -addext keyUsage=critical,keyCertSign 2>/dev/null
	openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
	    -keyout "$T/srv.key" -out "$T/srv.csr" -subj /CN=server 2>/dev/null
	printf 'subjectAltName=DNS:openpgpkey.example.test,DNS:keys.example.test\n' \
	    >"$T/srv.ext"
	openssl x509 -req -in "$T/srv.csr" -CA "$T/ca.pem" -CAkey "$T/ca.key" \
	    -CAcreateserial -days 2 -extfile "$T/srv.ext" \
	    -out "$T/srv.pem" 2>/dev/null
	# a key with a user ID for alice and one for mallory
	export GNUPGHOME=$T/gh
	mkdir -m 700 "$GNUPGHOME"
	gpg --batch --pinentry-mode loopback --passphrase '' \
	    --quick-gen-key alice@example.test ed25519 default 1y 2>/dev/null
	ALICE=$(gpg --list-keys --with-colons alice@example.test |
	    awk -F: '/^fpr/ { print $10; exit }')
	gpg --batch --pinentry-mode loopback --passphrase '' \
	    --quick-add-uid "$ALICE" mallory@evil.test 2>/dev/null
	gpg --batch --pinentry-mode loopback --passphrase '' \
	    --quick-add-key "$ALICE" cv25519 encr 1y 2>/dev/null
	HASH=$(echo alice@example.test |
	    /usr/lib/gnupg/gpg-wks-client --print-wkd-hash | cut -d' ' -f1)
	PORT=$((20000 + RANDOM % 20000))
	mkdir -p "$STORE/settings"
	pgp-keys list >/dev/null 2>&1 || true
	{
		printf 'lookup-ca-file = %s\n' "$T/ca.pem"
		printf 'lookup-resolve = openpgpkey.example.test:443:127.0.0.1 '
		printf 'keys.example.test:443:127.0.0.1\n'
		printf 'lookup-allow-private-addresses = yes\n'
	} >"$STORE/settings/global.conf"
	python3 "$BATS_TEST_DIRNAME/../fixtures/pgp/https-server.py" \
	    "$T/srv.pem" "$T/srv.key" 443 "$WEB" >"$T/server.out" 2>&1 &
	SERVER=$!
	for _ in $(seq 50); do
		grep -q ready "$T/server.out" 2>/dev/null && break
		sleep 0.1
	done
	grep -q ready "$T/server.out" || skip "no HTTPS server on 127.0.0.1:443"
}

teardown() {
	[ -z "${SERVER:-}" ] || kill "$SERVER" 2>/dev/null || true
	ms_stop_agents "$T/gh" "$STORE/gnupg"
}

# the store's keyring exists once pgp-keys has made it
keyring() {
	pgp-keys generate gateway@example.test >/dev/null
}

@test "WKD: the key is found, only alice's user ID comes in, and it is not trusted" {
	keyring
	mkdir -p "$WEB/.well-known/openpgpkey/example.test/hu"
	gpg --export "$ALICE" \
	    >"$WEB/.well-known/openpgpkey/example.test/hu/$HASH"
	run --separate-stderr pgp-keys lookup alice@example.test
	expect_status 0
	[ "$output" = "key $ALICE wkd" ] || fail_with "unexpected output"
	grep -q "^openpgpkey.example.test/.well-known/openpgpkey/example.test/hu/$HASH?l=alice" \
	    "$WEB/requests.log" || fail_with "not the advanced WKD request"
	pgp-keys list >"$T/list"
	grep -q "$ALICE" "$T/list" || fail_with "key not in the keyring"
	! grep -q mallory "$T/list" || fail_with "mallory's user ID imported"
	# found, not yet trusted: not used
	run pgp-keys find alice@example.test
	expect_status 1
	pgp-keys trust "$ALICE" ultimate
	run pgp-keys find alice@example.test
	expect_status 0
	[ "$output" = "$ALICE" ] || fail_with "find after trust"
}

@test "HKPS keyserver when WKD has nothing; nothing anywhere exits 1" {
	keyring
	printf 'pgp-keyserver = https://keys.example.test\n' \
	    >>"$STORE/settings/global.conf"
	gpg --armor --export "$ALICE" >"$WEB/pks/alice@example.test"
	run --separate-stderr pgp-keys lookup alice@example.test
	expect_status 0
	[ "$output" = "key $ALICE ks" ] || fail_with "unexpected output"
	grep -q "^keys.example.test/pks/lookup?op=get&options=mr&search=alice%40example.test" \
	    "$WEB/requests.log" || fail_with "not an HKP request"
	run --separate-stderr pgp-keys lookup nobody@example.test
	expect_status 1
}

@test "loopback targets are refused unless allowed; secret keys are refused" {
	keyring
	mkdir -p "$WEB/.well-known/openpgpkey/example.test/hu"
	gpg --export "$ALICE" \
	    >"$WEB/.well-known/openpgpkey/example.test/hu/$HASH"
	sed -i 's/^lookup-allow-private-addresses = yes/lookup-allow-private-addresses = no/' \
	    "$STORE/settings/global.conf"
	run --separate-stderr pgp-keys lookup alice@example.test
	expect_status 1
	[ ! -s "$WEB/requests.log" ] || fail_with "the server was reached"
	sed -i 's/^lookup-allow-private-addresses = no/lookup-allow-private-addresses = yes/' \
	    "$STORE/settings/global.conf"
	gpg --batch --pinentry-mode loopback --passphrase '' \
	    --export-secret-keys "$ALICE" \
	    >"$WEB/.well-known/openpgpkey/example.test/hu/$HASH"
	before=$(pgp-keys list)
	run --separate-stderr pgp-keys lookup alice@example.test
	expect_status 65
	[ "$(pgp-keys list)" = "$before" ] || fail_with "keyring changed"
}
