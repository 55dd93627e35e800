#!/usr/bin/env bats
# The four directions through a real Postfix running the shipped
# scripts/examples/main.cf and master.cf (postfix-helpers.bash,
# PF_LAYOUT=directions): mail from the Internet to an internal user is
# decrypted and verified, never encrypted to that user; a forged internal
# sender from outside is delivered and never signed with the internal
# user's key; authenticated submission (Cyrus SASL, the login checked
# against the sender address by Postfix) and relay from the internal
# network are signed and encrypted.  A message held by DLP is logged by
# Postfix as held, and once released reaches a mandatory recipient
# encrypted and signed.  The one-port variant (master-oneport.cf) runs in
# the same instance on a port of its own.  What the sink got is checked
# by content, with openssl as the independent implementation.
#
# example.com is the internal domain; 127.0.0.2 is the internal network
# (the relay listener's mynetworks and the filter's internal-networks);
# every other client connects from 127.0.0.1, which is outside.

load helpers
load smime-helpers
load postfix-helpers

setup_file() {
	sm_env
	pf_setup_file
	PF_LAYOUT=directions
	BASE=$PF/base
	export PF_LAYOUT BASE
	export MAILSEAL_STORE=$PF/store
	pf_pki alice@example.com bob@partner.test dave@strict.test
	mkdir -p "$PF/store/settings/user" "$PF/store/policies"
	cat >"$PF/store/settings/global.conf" <<EOF
internal-domains = example.com
internal-networks = 127.0.0.2/32
dlp-policies = t
EOF
	# a card number is held in the quarantine
	printf 'rule cards\n\twhen payment_card confidence >= medium\n\taction quarantine\n' \
	    >"$PF/store/policies/t.policy"
	echo 'sign = smime' >"$PF/store/settings/user/alice@example.com.conf"
	echo 'encrypt-mode = mandatory' \
	    >"$PF/store/settings/user/dave@strict.test.conf"
	pf_sasl_user alice@example.com alice-secret
	pf_sasl_user mallory@example.com mallory-secret
	pf_start
	pf_wait_port "$PF_SUBMIT" && pf_wait_port "$PF_RELAY" &&
	    pf_wait_port "$PF_REINJECT" && pf_wait_port "$PF_ONEPORT"
}

teardown_file() {
	pf_stop
}

setup() {
	pf_test_setup
}

# message FILE FROM TO - a plain test message with the marker in its body
message() {
	{
		printf 'From: %s\nTo: %s\n' "$2" "$3"
		printf 'Subject: directions test %s\n' "$BATS_TEST_NUMBER"
		printf 'Message-ID: <%s@example.com>\n' "$MARK"
		printf 'MIME-Version: 1.0\nContent-Type: text/plain; charset=us-ascii\n\n'
		printf 'Figures with %s inside.\n' "$MARK"
	} >"$1"
}

# arrived ADDR - the message the sink got for ADDR with this test's
# Message-ID, as a file (exactly one)
arrived() {
	local d
	d=$(pf_arrived "$1" "<$MARK@example.com>") || return 1
	pf_message "$d" >"$T/arrived-$1.eml"
	echo "$T/arrived-$1.eml"
}

# send_and_wait N PORT SOURCE LOGIN PASSWORD FROM FILE TO... - send, then
# wait until the sink holds N more transactions and the queue is empty
send_and_wait() {
	local n=$1 before
	shift
	before=$(pf_sink_count)
	pf_smtp "$@" || fail_with "Postfix refused the message"
	pf_wait_sink $((before + n))
}

# unsigned FILE - no S/MIME or OpenPGP signature anywhere in FILE
unsigned() {
	! grep -qi -e 'multipart/signed' -e 'pkcs7-signature' \
	    -e 'smime-type=signed-data' -e 'pgp-signature' "$1"
}

# decrypt_for NAME FILE OUT - openssl decrypts FILE with NAME's key
decrypt_for() {
	openssl cms -decrypt -in "$2" -recip "$BASE/$1.pem" \
	    -inkey "$BASE/$1.key" -out "$3"
}

# signed_by_alice FILE OUT - FILE is an S/MIME signed message that
# openssl verifies against the test CA, by alice's certificate; the
# signed content goes to OUT
signed_by_alice() {
	openssl cms -verify -in "$1" -CAfile "$BASE/root.pem" \
	    -signer "$T/signer.pem" -out "$2" 2>"$T/verify.err" ||
	    { cat "$T/verify.err" >&2; return 1; }
	[ "$(openssl x509 -in "$T/signer.pem" -noout -fingerprint -sha256)" = \
	    "$(openssl x509 -in "$BASE/alice@example.com.pem" -noout -fingerprint -sha256)" ]
}

# alice_to_bob_protected PORT SOURCE LOGIN PASSWORD - alice sends bob
# (outside) a message through the listener on PORT, from SOURCE, logged
# in as LOGIN when not empty; bob's copy holds no plaintext and decrypts
# with bob's key to a message signed by alice that holds the marker
alice_to_bob_protected() {
	message "$T/m.eml" alice@example.com bob@partner.test
	send_and_wait 1 "$@" alice@example.com "$T/m.eml" bob@partner.test
	local got
	got=$(arrived bob@partner.test) || fail_with "nothing for bob"
	! grep -q "$MARK inside" "$got" || fail_with "plaintext to bob"
	decrypt_for bob@partner.test "$got" "$T/bob.dec" ||
	    fail_with "openssl cannot decrypt bob's copy"
	signed_by_alice "$T/bob.dec" "$T/bob.txt" ||
	    fail_with "bob's copy is not signed by alice"
	grep -q "Figures with $MARK inside." "$T/bob.txt" ||
	    fail_with "bob's signed content differs"
}

# decrypted_for_alice PORT - bob, outside, sends alice a message he
# encrypted to her certificate with openssl to the listener on PORT; it
# arrives decrypted, marked so, and not encrypted again
decrypted_for_alice() {
	printf 'Figures with %s inside.\n' "$MARK" >"$T/body.txt"
	{
		printf 'Message-ID: <%s@example.com>\n' "$MARK"
		openssl cms -encrypt -aes-256-cbc -text -in "$T/body.txt" \
		    -from bob@partner.test -to alice@example.com \
		    -subject 'for alice only' "$BASE/alice@example.com.pem"
	} >"$T/enc.eml"
	send_and_wait 1 "$1" "" "" "" bob@partner.test "$T/enc.eml" \
	    alice@example.com
	local got
	got=$(arrived alice@example.com) || fail_with "nothing for alice"
	grep -q "^Figures with $MARK inside." "$got" ||
	    fail_with "alice's copy is not the plaintext: $(head -c 400 "$got")"
	header_block "$got" | grep -q '^X-Mailseal-Decrypted: smime' ||
	    fail_with "no X-Mailseal-Decrypted: $(header_block "$got")"
	! grep -qi 'pkcs7-mime' "$got" || fail_with "alice's copy is still encrypted"
}

# forged_unsigned PORT - a stranger says MAIL FROM:<alice@example.com> on
# the listener on PORT: carol gets the message, unsigned; an outside
# recipient is refused as a relay
forged_unsigned() {
	message "$T/forged.eml" alice@example.com carol@example.com
	send_and_wait 1 "$1" "" "" "" alice@example.com "$T/forged.eml" \
	    carol@example.com
	local got
	got=$(arrived carol@example.com) || fail_with "nothing for carol"
	grep -q "^Figures with $MARK inside." "$got" || fail_with "carol's copy differs"
	unsigned "$got" || fail_with "signed: $(header_block "$got")"
	run pf_smtp "$1" "" "" "" alice@example.com "$T/forged.eml" bob@partner.test
	expect_status 1
	[[ $output == *"Relay access denied"* ]] || fail_with "not refused as a relay"
}

@test "from the Internet to an internal user: an S/MIME message to her is delivered decrypted, a plain one plain, never encrypted to her" {
	decrypted_for_alice "$PF_SMTP"
	grep 'relay=mailsealin' "$PF/maillog" | grep -q 'to=<alice@example.com>' ||
	    fail_with "the incoming filter did not run"

	# a plain message to alice, who has a certificate, arrives plain
	MARK="$MARK-plain"
	message "$T/plain.eml" bob@partner.test alice@example.com
	send_and_wait 1 "$PF_SMTP" "" "" "" bob@partner.test "$T/plain.eml" \
	    alice@example.com
	local got
	got=$(arrived alice@example.com) || fail_with "nothing for alice"
	grep -q "^Figures with $MARK inside." "$got" ||
	    fail_with "alice's plain copy differs"
	! grep -qi 'pkcs7' "$got" || fail_with "encrypted to an internal user"
}

@test "a forged internal sender from outside: delivered, never signed with alice's key; relaying on outwards is refused" {
	forged_unsigned "$PF_SMTP"
	grep 'to=<carol@example.com>' "$PF/maillog" | grep -q 'relay=mailsealin' ||
	    fail_with "not the incoming filter"
	grep 'to=<carol@example.com>' "$PF/maillog" | grep -q 'relay=mailseal,' &&
	    fail_with "the outgoing filter ran on the Internet-facing listener"
	return 0
}

@test "authenticated submission: signed by alice and encrypted to the external recipient; a login that may not use the sender address is refused by Postfix" {
	alice_to_bob_protected "$PF_SUBMIT" "" alice@example.com alice-secret
	grep 'to=<bob@partner.test>' "$PF/maillog" | grep -q 'relay=mailseal,' ||
	    fail_with "not the outgoing filter"

	# mallory's login may not send as alice
	MARK="$MARK-mallory"
	message "$T/m2.eml" alice@example.com bob@partner.test
	run pf_smtp "$PF_SUBMIT" "" mallory@example.com mallory-secret \
	    alice@example.com "$T/m2.eml" bob@partner.test
	expect_status 1
	[[ $output == *"not owned by user mallory@example.com"* ]] ||
	    fail_with "the sender login mismatch was not refused"
	# and without a login submission takes nothing
	run pf_smtp "$PF_SUBMIT" "" "" "" alice@example.com "$T/m2.eml" \
	    bob@partner.test
	expect_status 1
	sleep 1
	pf_wait_sink "$(pf_sink_count)" 30
	! grep -r -q -F "<$MARK@example.com>" "$PF/sink" || fail_with "mallory's message went out"
}

@test "relay from the internal network: signed by alice and encrypted; the relay listener refuses other clients" {
	alice_to_bob_protected "$PF_RELAY" 127.0.0.2 "" ""
	grep "client=[^ ]*\[127.0.0.2\]" "$PF/maillog" | grep -q 'postfix/relay/smtpd' ||
	    fail_with "not through the relay listener"

	# a client outside the internal network is refused there
	run pf_smtp "$PF_RELAY" "" "" "" alice@example.com "$T/m.eml" bob@partner.test
	expect_status 1
	[[ $output == *"Client host rejected"* ]] || fail_with "an outside client relayed"
}

@test "one port 25 for both directions: the Internet's mail gets the incoming filter, the internal network's the outgoing one" {
	# from outside: decrypted for alice; a forged alice is not signed
	decrypted_for_alice "$PF_ONEPORT"
	MARK="$MARK-forged"
	forged_unsigned "$PF_ONEPORT"
	# from the internal network: the outgoing filter signs and encrypts
	MARK="$MARK-internal"
	alice_to_bob_protected "$PF_ONEPORT" 127.0.0.2 "" ""
}

@test "held by DLP: Postfix logs it held, not delivered; released by the store's owner it reaches the mandatory recipient encrypted and signed" {
	local card=4556737586899855
	message "$T/m.eml" alice@example.com dave@strict.test
	printf 'Card %s, expiry 12/29.\n' "$card" >>"$T/m.eml"
	send_and_wait 0 "$PF_SUBMIT" "" alice@example.com alice-secret \
	    alice@example.com "$T/m.eml" dave@strict.test
	[ -z "$(pf_dump_for dave@strict.test)" ] || fail_with "a held message went out"
	local line
	line=$(grep 'to=<dave@strict.test>' "$PF/maillog" | grep 'relay=mailseal,')
	[[ $line == *"status=sent"*"held in quarantine as "*", not delivered"* ]] ||
	    fail_with "Postfix's log does not say held: $line"

	local id
	id=$(setpriv --reuid=nobody --regid=nogroup --clear-groups \
	    "$PF/bin/dlp-scan" --store "$PF/store" quarantine list |
	    awk '/dave@strict.test/ { print $1 }')
	[ -n "$id" ] || fail_with "no quarantine entry"
	local before
	before=$(pf_sink_count)
	run --separate-stderr setpriv --reuid=nobody --regid=nogroup \
	    --clear-groups "$PF/bin/dlp-scan" --store "$PF/store" \
	    quarantine release "$id"
	expect_status 0
	pf_wait_sink $((before + 1))
	local got
	got=$(arrived dave@strict.test) || fail_with "nothing for dave"
	! grep -q -e "$MARK inside" -e "$card" "$got" || fail_with "plaintext to dave"
	decrypt_for dave@strict.test "$got" "$T/dave.dec" ||
	    fail_with "openssl cannot decrypt dave's copy"
	signed_by_alice "$T/dave.dec" "$T/dave.txt" ||
	    fail_with "the authenticated sender's release is not signed"
	grep -q "Figures with $MARK inside." "$T/dave.txt" &&
	    grep -q "Card $card" "$T/dave.txt" || fail_with "dave's content differs"
}
