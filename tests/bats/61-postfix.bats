#!/usr/bin/env bats
# The gateway through a real Postfix (postfix-helpers.bash): a private
# instance on loopback ports with mailseal-filter as its pipe(8) content
# filter, relaying to an smtp-sink.  What arrives is checked by content;
# the load run counts every message by Message-ID; faults (an unreadable
# store, a filter killed with SIGKILL) defer and then deliver exactly once.

load helpers
load smime-helpers
load pgp-helpers
load postfix-helpers

setup_file() {
	sm_env
	pf_setup_file
	BASE=$PF/base
	export BASE
	export MAILSEAL_STORE=$PF/store
	pf_pki bob@partner.test gw@partner.test alice@example.com
	# carol@pgp.test: an OpenPGP key made by gpg outside the gateway
	PGHOME=$BASE/gnupg
	export PGHOME
	mkdir -m 700 "$PGHOME"
	gpg --homedir "$PGHOME" --batch --pinentry-mode loopback --passphrase '' \
	    --quick-gen-key carol@pgp.test future-default default 1y 2>/dev/null
	gpg --homedir "$PGHOME" --armor --export carol@pgp.test >"$BASE/carol.asc"
	pgp-keys import "$BASE/carol.asc" >/dev/null 2>&1
	mkdir -p "$PF/store/settings/domain" "$PF/store/settings/user"
	# numbered recipients of the load run: one domain certificate
	echo "smime-domain-cert = $(cat "$BASE/gw@partner.test.fpr")" \
	    >"$PF/store/settings/domain/load.test.conf"
	echo 'encrypt-mode = mandatory' \
	    >"$PF/store/settings/user/dave@strict.test.conf"
	pf_start sendmail
}

teardown_file() {
	gpgconf --homedir "${PGHOME:-/nonexistent}" --kill all 2>/dev/null || true
	pf_stop
}

setup() {
	pf_test_setup
}

# message FILE TO... - a test message with the marker in its body
message() {
	local file=$1
	shift
	{
		printf 'From: alice@example.com\n'
		printf 'To: %s\n' "$(IFS=,; echo "$*")"
		printf 'Subject: gateway test %s\n' "$BATS_TEST_NUMBER"
		printf 'Message-ID: <%s@example.com>\n' "$MARK"
		printf 'MIME-Version: 1.0\nContent-Type: text/plain; charset=us-ascii\n\n'
		printf 'Figures with %s inside.\n' "$MARK"
	} >"$file"
}

# arrived ADDR - the one dump for ADDR with this test's Message-ID
arrived() {
	pf_arrived "$1" "<$MARK@example.com>"
}

@test "through Postfix: the S/MIME, OpenPGP and plain recipients get S/MIME, PGP/MIME and plain copies" {
	message "$T/m.eml" bob@partner.test carol@pgp.test erin@plain.test
	local before
	before=$(pf_sink_count)
	pf_send alice@example.com "$T/m.eml" bob@partner.test carol@pgp.test \
	    erin@plain.test
	pf_wait_sink $((before + 3))

	local d
	d=$(arrived bob@partner.test)
	pf_message "$d" >"$T/bob.eml"
	! grep -q "$MARK inside" "$T/bob.eml" || fail_with "plaintext to bob"
	openssl cms -decrypt -in "$T/bob.eml" -recip "$BASE/bob@partner.test.pem" \
	    -inkey "$BASE/bob@partner.test.key" -out "$T/bob.txt" ||
	    fail_with "openssl cannot decrypt bob's copy"
	grep -q "Figures with $MARK inside." "$T/bob.txt" || fail_with "bob's body differs"

	d=$(arrived carol@pgp.test)
	pf_message "$d" >"$T/carol.eml"
	! grep -q "$MARK inside" "$T/carol.eml" || fail_with "plaintext to carol"
	header_block "$T/carol.eml" | grep -qi '^Content-Type: multipart/encrypted' ||
	    fail_with "carol's copy is not PGP/MIME"
	gpg --homedir "$PGHOME" --batch --decrypt "$T/carol.eml" >"$T/carol.txt" 2>/dev/null ||
	    fail_with "gpg cannot decrypt carol's copy"
	grep -q "Figures with $MARK inside." "$T/carol.txt" || fail_with "carol's body differs"

	d=$(arrived erin@plain.test)
	grep -q "Figures with $MARK inside." "$d" || fail_with "erin's plain copy lost the body"
	grep 'relay=mailseal' "$PF/maillog" | grep -q 'status=sent' ||
	    fail_with "the log shows no run of the filter"
}

@test "through Postfix with SMTP reinjection: the copies go to the reinjection listener and arrive encrypted, dots intact" {
	echo "reinject-smtp = 127.0.0.1:$PF_REINJECT" >"$PF/store/settings/global.conf"
	chown nobody "$PF/store/settings/global.conf"
	message "$T/m.eml" bob@partner.test erin@plain.test
	# a line that is a single dot and one that starts with one
	printf '.\n..leading dots\nlast line without end' >>"$T/m.eml"
	local before
	before=$(pf_sink_count)
	: >"$PF/maillog"
	pf_send alice@example.com "$T/m.eml" bob@partner.test erin@plain.test
	pf_wait_sink $((before + 2))
	rm -f "$PF/store/settings/global.conf"
	local d
	d=$(arrived bob@partner.test)
	pf_message "$d" >"$T/bob.eml"
	openssl cms -decrypt -in "$T/bob.eml" -recip "$BASE/bob@partner.test.pem" \
	    -inkey "$BASE/bob@partner.test.key" -out "$T/bob.txt" ||
	    fail_with "openssl cannot decrypt bob's copy"
	grep -q "Figures with $MARK inside." "$T/bob.txt" || fail_with "bob's body differs"
	tr -d '\r' <"$T/bob.txt" >"$T/bob.lf"
	grep -qx '\.' "$T/bob.lf" && grep -qx '\.\.leading dots' "$T/bob.lf" ||
	    fail_with "dots were changed: $(cat "$T/bob.txt")"
	d=$(arrived erin@plain.test)
	grep -q "Figures with $MARK inside." "$d" || fail_with "erin's copy lost the body"
	# both copies came in through the reinjection listener, not pickup
	local via
	via=$(grep -c 'postfix-reinject/smtpd\[.*client=localhost' "$PF/maillog" || true)
	[ "$via" -ge 2 ] || fail_with "only $via copies came through the reinjection listener"
}

@test "through Postfix: a mandatory recipient without a method bounces to the sender, with no message content" {
	message "$T/m.eml" dave@strict.test
	local before
	before=$(pf_sink_count)
	pf_send alice@example.com "$T/m.eml" dave@strict.test
	pf_wait_sink $((before + 1))
	[ -z "$(pf_dump_for dave@strict.test)" ] || fail_with "dave got a copy"
	local bounce
	bounce=$(grep -l -F 'X-Rcpt-Args: <alice@example.com>' -r "$PF/sink" |
	    xargs -r grep -l -F "dave@strict.test" | head -n 1)
	[ -n "$bounce" ] || fail_with "no bounce to the sender"
	grep -q '5\.7\.1' "$bounce" || fail_with "the bounce does not say 5.7.1"
	! grep -q "$MARK inside" "$bounce" || fail_with "the bounce carries the body"
	grep -q 'status=bounced' "$PF/maillog" || fail_with "Postfix did not bounce"
}

@test "through Postfix: hostile recipients are refused or delivered verbatim, and no command runs" {
	rm -f /tmp/mailseal-pwned-*
	message "$T/m.eml" x@example.net
	local r
	for r in "\$(touch\${IFS}/tmp/mailseal-pwned-1)@example.net" \
	    "-oQ/tmp/mailseal-pwned-2@example.net" \
	    "\"\`touch /tmp/mailseal-pwned-3\`\"@example.net"; do
		pf_send alice@example.com "$T/m.eml" "$r" 2>/dev/null || true
	done
	sleep 2
	pf_wait_sink "$(pf_sink_count)" 30
	[ ! -e /tmp/mailseal-pwned-1 ] && [ ! -e /tmp/mailseal-pwned-2 ] &&
	    [ ! -e /tmp/mailseal-pwned-3 ] || fail_with "a command ran"
	# what was delivered went to exactly the address Postfix handed the
	# filter (Postfix itself drops a parenthesised part as an RFC 822
	# comment: "$(touch...)@x" reaches the filter as "$@x")
	local d rcpt
	for d in $(grep -l -F "<$MARK@example.com>" -r "$PF/sink"); do
		grep -q '^X-Rcpt-Args: <alice@example.com>' "$d" && continue
		rcpt=$(sed -n 's/^X-Rcpt-Args: <\(.*\)> ORCPT=.*/\1/p' "$d" | head -n 1)
		grep -q -F "to=<$rcpt>, relay=mailseal" "$PF/maillog" ||
		    { head -n 6 "$d" >&2; fail_with "a copy to an address the filter was not given"; }
	done
}

# load_run N - N messages through smtp-source, 20 sessions, one numbered
# recipient at load.test each
load_run() {
	smtp-source -s 20 -m "$1" -r 1 -N -c -l 2048 -f alice@example.com \
	    -t rcpt@load.test "127.0.0.1:$PF_SMTP" >/dev/null
}

# load_check N - N load.test dumps, each recipient exactly once, every one
# S/MIME encrypted; a sample decrypts with the domain key
load_check() {
	local n=$1 got uniq
	got=$(grep -l -r -F '@load.test>' "$PF/sink" | wc -l)
	uniq=$(grep -h -r -o -F -e '@load.test>' "$PF/sink" >/dev/null;
	    grep -h -r '^X-Rcpt-Args: <[0-9]*rcpt@load.test>' "$PF/sink" |
	    sort -u | wc -l)
	[ "$got" = "$n" ] || fail_with "load: $got dumps, expected $n"
	[ "$uniq" = "$n" ] || fail_with "load: $uniq distinct recipients in $got dumps"
	local ids
	ids=$(grep -l -r -F '@load.test>' "$PF/sink" | xargs grep -h -i '^Message-Id:' |
	    sort | uniq -d | wc -l)
	[ "$ids" = 0 ] || fail_with "load: $ids duplicated Message-IDs"
	local d plain=0
	for d in $(grep -l -r -F '@load.test>' "$PF/sink"); do
		grep -q '^Content-Type: application/pkcs7-mime' "$d" || plain=$((plain + 1))
	done
	[ "$plain" = 0 ] || fail_with "load: $plain copies not encrypted"
	for d in $(grep -l -r -F '@load.test>' "$PF/sink" | shuf -n 5); do
		pf_message "$d" >"$T/s.eml"
		openssl cms -decrypt -in "$T/s.eml" -recip "$BASE/gw@partner.test.pem" \
		    -inkey "$BASE/gw@partner.test.key" -out "$T/s.txt" ||
		    fail_with "load: a sample does not decrypt"
		grep -q XXXXXXXX "$T/s.txt" || fail_with "load: a sample lost its body"
	done
	grep -q 'status=bounced' "$PF/maillog" && fail_with "load: something bounced"
	! grep -q 'time limit exceeded' "$PF/maillog" || fail_with "load: a time limit was hit"
	return 0
}

# load_with_kills PROGRAM MAX - 300 messages while the filter's account's
# PROGRAM processes are killed with SIGKILL as the messages go through
# (they may wait in the queue first), until MAX kills landed; then the
# deferred ones are retried; prints the number of kills
load_with_kills() {
	local prog=$1 max=$2 kills=0 i src
	load_run 300 &
	src=$!
	for i in $(seq 1 400); do
		kills=$((kills + $(pkill -e -KILL -u nobody -x "$prog" | wc -l)))
		[ "$kills" -lt "$max" ] || break
		[ "$(pf_sink_count)" -lt 250 ] || break
		sleep 0.05
	done
	wait "$src"
	for i in 1 2 3 4 5 6; do
		pf_flush
		sleep 2
	done
	echo "$kills"
}

@test "through Postfix: 2,000 messages, none lost, none duplicated, queue empty" {
	find "$PF/sink" -type f -delete
	: >"$PF/maillog"
	load_run 2000
	pf_wait_sink 2000 600
	load_check 2000
}

@test "through Postfix: an unreadable store and SIGKILLed filters defer, then everything arrives exactly once" {
	find "$PF/sink" -type f -delete
	: >"$PF/maillog"
	# the store unreadable for the filter's account: every run defers
	chmod 000 "$PF/store"
	load_run 100
	sleep 3
	grep -q 'status=deferred' "$PF/maillog" || fail_with "nothing was deferred"
	[ "$(pf_sink_count)" = 0 ] || fail_with "mail went out without a store"
	chmod 700 "$PF/store"
	pf_flush
	pf_wait_sink 100 300
	load_check 100

	# the programs mailseal-filter starts (here the gpg processes GPGME
	# runs while alice's mail is signed with OpenPGP in the filter's own
	# process, as S/MIME mail is), killed while they work: nothing is
	# lost or duplicated.  A killed signing gpg defers the run; a killed
	# key listing reads as one without the key (GPGME 1.18 does not see
	# how gpg ended), so the copy may go out unsigned, never refused
	# as the filter's account, whose gpg-agent serves the keyring now
	setpriv --reuid=nobody --regid=nogroup --clear-groups \
	    "$PF/bin/pgp-keys" --store "$PF/store" generate alice@example.com \
	    >/dev/null 2>"$PF/gen.err" || {
		cat "$PF/gen.err" >&2
		fail_with "cannot make alice's OpenPGP key"
	}
	echo 'sign = pgp' >"$PF/store/settings/user/alice@example.com.conf"
	chown nobody "$PF/store/settings/user/alice@example.com.conf"
	# this pipe passes neither the client address nor the login: the
	# envelope sender is believed only by this setting
	echo 'trust-envelope-sender = yes' >"$PF/store/settings/global.conf"
	chown nobody "$PF/store/settings/global.conf"
	find "$PF/sink" -type f -delete
	: >"$PF/maillog"
	local kills
	kills=$(load_with_kills gpg 20)
	pf_wait_sink 300 300
	rm -f "$PF/store/settings/user/alice@example.com.conf" \
	    "$PF/store/settings/global.conf"
	[ "$kills" -gt 0 ] || fail_with "no gpg was killed"
	! grep -a -q 'status=bounced' "$PF/maillog" ||
	    fail_with "a killed gpg bounced a message"
	load_check 300
}

@test "through Postfix: mailseal-filter itself killed with SIGKILL: nothing lost, a duplicate only for a kill in Postfix's commit window" {
	find "$PF/sink" -type f -delete
	: >"$PF/maillog"
	local kills got dups
	kills=$(load_with_kills mailseal-filter 40)
	[ "$kills" -gt 0 ] || fail_with "no filter was killed"
	pf_wait_sink 300 300
	# no loss: every numbered recipient arrived
	got=$(grep -h -r '^X-Rcpt-Args: <[0-9]*rcpt@load.test>' "$PF/sink" | sort -u | wc -l)
	[ "$got" = 300 ] || fail_with "$got of 300 recipients got their copy"
	# a kill after Postfix committed the reinjected copy but before the
	# filter could note it: at most one duplicate per such kill
	dups=$(( $(pf_sink_count) - 300 ))
	echo "# $kills kills of mailseal-filter, $dups duplicates" >&3
	[ "$dups" -le "$kills" ] || fail_with "$dups duplicates for $kills kills"
	grep -q 'status=bounced' "$PF/maillog" && fail_with "something bounced"
	return 0
}
