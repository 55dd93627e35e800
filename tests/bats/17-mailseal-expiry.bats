#!/usr/bin/env bats
# mailseal-expiry: the expiry report for cron mail.  A store with a
# certificate of ours ending soon, an expired one, a fresh one, a root of
# the built-in CA ending soon, a CRL past its nextUpdate and OpenPGP keys
# ending soon (one ours); the exact lines and JSON members; nothing at all
# (exit 0) when nothing ends within the window; 75 for a store that cannot
# be read, 64 for usage.

load helpers
load smime-helpers
load pgp-helpers

setup() {
	pg_setup
}

teardown() {
	pg_teardown
}

# day N - the UTC day N days from now, as the report prints it
day() {
	date -u -d "$1 days" +%F
}

# expiring_store - mine (ours, ends in 10 days), old (ended 3 days ago),
# fresh (a year); the root imported; sets MINE, OLD, FRESH
expiring_store() {
	pki_ca root
	pki_leaf root mine key=rsa2048 end=10
	pki_leaf root old key=rsa2048 start=-30 end=-3
	pki_leaf root fresh key=rsa2048
	certstore import --roots "$PKI/root.pem" >/dev/null
	certstore import "$PKI/mine.pem" "$PKI/mine.key" >/dev/null
	certstore import "$PKI/old.pem" "$PKI/fresh.pem" >/dev/null
	MINE=$(fpr "$PKI/mine.pem")
	OLD=$(fpr "$PKI/old.pem")
	FRESH=$(fpr "$PKI/fresh.pem")
}

@test "the report: one line an item, sorted by date, ours marked; OpenPGP keys of gpg; nothing fresh" {
	expiring_store
	local bob own
	bob=$(pg_recipient bob@example.test future-default default 2d)
	# our own key, made in the store, ends in two years: not reported
	own=$(pgp-keys generate alice@example.test)
	run --separate-stderr mailseal-expiry
	expect_status 0
	local want
	want=$(printf '%s\t%s\t%s\t%s\t%s\n' \
	    certificate old@example.test "$OLD" "$(day -3)" -3 \
	    openpgp-key bob@example.test "$bob" "$(day 2)" 2 \
	    own-certificate mine@example.test "$MINE" "$(day 10)" 10)
	[ "$output" = "$want" ] || {
		printf 'want:\n%s\n' "$want" >&2
		fail_with "report lines"
	}
	[ -z "$stderr" ] || fail_with "stderr: $stderr"
	! grep -q "$FRESH\|$own" <<<"$output" || fail_with "a fresh item"
	# --days 5: mine (10 days) is out
	run --separate-stderr mailseal-expiry --days 5
	expect_status 0
	[ "$(cut -f1 <<<"$output" | tr '\n' ' ')" = "certificate openpgp-key " ] ||
	    fail_with "--days 5"
	# --days 800 reaches our OpenPGP key and the fresh certificate
	run --separate-stderr mailseal-expiry --days 800
	expect_status 0
	grep -qx "own-openpgp-key	alice@example.test	$own	$(day 730)	730" \
	    <<<"$output" || fail_with "--days 800: our OpenPGP key"
	grep -q "^certificate	fresh@example.test	$FRESH	" <<<"$output" ||
	    fail_with "--days 800: fresh"
}

@test "--json: every item with kind, own, identity, addresses, id, date, days_left, status" {
	expiring_store
	local bob
	bob=$(pg_recipient bob@example.test future-default default 2d)
	run --separate-stderr mailseal-expiry --json
	expect_status 0
	python3 -c '
import json, sys
items = json.loads(sys.argv[1])
old, bob, mine, d_old, d_bob, d_mine = sys.argv[2:8]
assert [i["id"] for i in items] == [old, bob, mine], items
o, b, m = items
assert o == {"kind": "certificate", "own": False,
    "identity": "old@example.test", "addresses": ["old@example.test"],
    "id": old, "date": d_old, "days_left": -3, "status": "expired"}, o
assert b == {"kind": "openpgp-key", "own": False,
    "identity": "bob@example.test", "addresses": ["bob@example.test"],
    "id": bob, "date": d_bob, "days_left": 2, "status": "expiring"}, b
assert m == {"kind": "own-certificate", "own": True,
    "identity": "mine@example.test", "addresses": ["mine@example.test"],
    "id": mine, "date": d_mine, "days_left": 10, "status": "expiring"}, m
' "$output" "$OLD" "$bob" "$MINE" "$(day -3)" "$(day 2)" "$(day 10)" ||
	    fail_with "--json"
}

@test "nothing ending within the window: no output at all and exit 0; --json gives an empty array" {
	pki_ca root
	pki_leaf root fresh key=rsa2048
	certstore import --roots "$PKI/root.pem" >/dev/null
	certstore import "$PKI/fresh.pem" "$PKI/fresh.key" >/dev/null
	pgp-keys generate alice@example.test >/dev/null
	run --separate-stderr mailseal-expiry
	expect_status 0
	[ -z "$output" ] || fail_with "output: $output"
	[ -z "$stderr" ] || fail_with "stderr: $stderr"
	run --separate-stderr mailseal-expiry --json
	expect_status 0
	python3 -c 'import json, sys; assert json.loads(sys.argv[1]) == []' \
	    "$output" || fail_with "--json: $output"
	# an empty store, without a keyring, is the same
	mkdir "$T/empty"
	run --separate-stderr mailseal-expiry --store "$T/empty"
	expect_status 0
	[ -z "$output$stderr" ] || fail_with "empty store"
}

@test "the built-in CA's root and a CRL past its nextUpdate are reported" {
	smime-ca init --days 20 "Example CA" >/dev/null 2>&1
	local ca
	ca=$(certstore list --roots | cut -f1)
	pki_ca other
	certstore import --roots "$PKI/other.pem" >/dev/null
	openssl ca -batch -config "$PKI/other.db/ca.cnf" -gencrl \
	    -crl_lastupdate "$(date_offset -10)" \
	    -crl_nextupdate "$(date_offset -2)" -out "$T/old.crl" 2>/dev/null
	local name
	name=$(openssl crl -in "$T/old.crl" -noout -hash).r0
	cp "$T/old.crl" "$STORE/crls/$name"
	run --separate-stderr mailseal-expiry
	expect_status 0
	local want
	want=$(printf '%s\t%s\t%s\t%s\t%s\n' \
	    crl "CN=other,O=mailseal test" "crls/$name" "$(day -2)" -2 \
	    ca-root "CN=Example CA" "$ca" "$(day 20)" 20)
	[ "$output" = "$want" ] || {
		printf 'want:\n%s\n' "$want" >&2
		fail_with "CA root and CRL"
	}
}

@test "usage errors exit 64; a store that cannot be read exits 75 and prints no report" {
	run --separate-stderr mailseal-expiry --days soon
	expect_status 64
	[[ "$stderr" == *"--days takes a number of days"* ]] ||
	    fail_with "--days soon"
	run --separate-stderr mailseal-expiry --days 36501
	expect_status 64
	run --separate-stderr mailseal-expiry extra
	expect_status 64
	[[ "$stderr" == *"takes no operands"* ]] || fail_with "operand"
	run --separate-stderr mailseal-expiry --frobnicate
	expect_status 64
	run --separate-stderr mailseal-expiry --store "$T/none"
	expect_status 75
	[ -z "$output" ] || fail_with "a report for a missing store"
	[ ! -e "$T/none" ] || fail_with "the report made a store"
	# a damaged certificate: the report is not half a report
	expiring_store
	echo garbage >"$STORE/certs/$OLD.pem"
	run --separate-stderr mailseal-expiry --json
	expect_status 75
	[ -z "$output" ] || fail_with "half a report"
}
