#!/usr/bin/env bats
# mailseal-check: a store and a Postfix configuration that pass, then each
# finding on a copy broken on purpose (one line naming where, what and
# what to do, exit 1); what cannot be checked exits 75.  Postfix is read
# through postconf -c over a configuration directory of the test's own,
# so no Postfix runs.  Also what the filters say about a broken settings
# file: file, line and why, and that they defer.

load helpers

setup() {
	ms_setup_store settings settings/domain settings/user
	command -v postconf >/dev/null || skip "no postconf"
	PFC=$T/postfix
	mkdir -p "$PFC"
	good_postfix
}

teardown() {
	ms_stop_agents "$STORE/gnupg"
}

# good_postfix - main.cf and master.cf as the check wants them: the
# incoming filter on smtp, the outgoing one on submission after a login
# that may use the sender address, one recipient per run, intake limits
# that leave room for the growth by encryption
good_postfix() {
	cat >"$PFC/main.cf" <<EOF
compatibility_level = 3.6
inet_interfaces = all
mailseal_destination_recipient_limit = 1
mailseal_time_limit = 300s
mailsealin_destination_recipient_limit = 1
mailsealin_time_limit = 300s
message_size_limit = 52428800
EOF
	cat >"$PFC/master.cf" <<EOF
smtp       inet  n       -       y       -       -       smtpd
  -o content_filter=mailsealin:dummy
  -o message_size_limit=38000000
submission inet  n       -       y       -       -       smtpd
  -o content_filter=mailseal:dummy
  -o smtpd_sasl_auth_enable=yes
  -o smtpd_client_restrictions=permit_sasl_authenticated,reject
  -o smtpd_sender_restrictions=reject_sender_login_mismatch
  -o smtpd_sender_login_maps=hash:/etc/postfix/sender_logins
  -o message_size_limit=38000000
pickup     unix  n       -       y       60      1       pickup
  -o receive_override_options=no_address_mappings
mailseal   unix  -       n       n       -       10      pipe
  flags=Rq user=$(id -un) null_sender=
  argv=$MAILSEAL_BIN/mailseal-filter -q \${queue_id} --client-address \${client_address} --sasl-username \${sasl_username} -f \${sender} -- \${recipient}
mailsealin unix  -       n       n       -       10      pipe
  flags=Rq user=$(id -un) null_sender=
  argv=$MAILSEAL_BIN/mailseal-filter --incoming -q \${queue_id} -f \${sender} -- \${recipient}
EOF
}

# reinjection_listener - FILTER_README's listener, and reinject-smtp
reinjection_listener() {
	cat >>"$PFC/master.cf" <<EOF
127.0.0.1:10026 inet n  -       n       -       -       smtpd
  -o content_filter=
  -o receive_override_options=no_unknown_recipient_checks,no_header_body_checks,no_milters,no_address_mappings
  -o smtpd_recipient_restrictions=permit_mynetworks,reject
  -o mynetworks=127.0.0.0/8
EOF
	echo 'reinject-smtp = 127.0.0.1:10026' >>"$STORE/settings/global.conf"
}

# check - mailseal-check over the store and $PFC
check() {
	run --separate-stderr mailseal-check -c "$PFC" "$@"
}

# check_store - mailseal-check over the store alone
check_store() {
	run --separate-stderr mailseal-check --no-postfix "$@"
}

# expect_finding TEXT... - exit 1, and the one line of output holds each
# TEXT
expect_finding() {
	expect_status 1
	[ "${#lines[@]}" -eq 1 ] || fail_with "expected one finding"
	local text
	for text in "$@"; do
		[[ "$output" == *"$text"* ]] || fail_with "no \"$text\""
	done
}

# message - a small message from alice
message() {
	printf 'From: alice@example.test\nTo: bob@example.test\nSubject: s\n\nhello\n'
}

@test "a sound store and Postfix configuration: exit 0, nothing printed" {
	reinjection_listener
	check
	expect_status 0
	[ -z "$output" ] || fail_with "findings on a sound configuration"
}

@test "usage: -h prints the usage; an operand is a usage error" {
	run mailseal-check -h
	expect_status 0
	[[ "$output" == "usage: mailseal-check [--store DIR]"* ]] ||
	    fail_with "no usage"
	run mailseal-check extra
	expect_status 64
}

# ---- settings files ----

@test "settings: a misspelt key is named with file, line and the key it is likely to be; the filters defer" {
	printf 'sign = none\nencrypt-mod = mandatory\n' >"$STORE/settings/global.conf"
	check_store
	expect_finding 'settings/global.conf:2: unknown key "encrypt-mod"' \
	    '(did you mean "encrypt-mode"?)' 'correct or remove the line'
	# an unknown key may be a misspelt security key: mail waits
	run --separate-stderr route-recipient bob@example.test < <(message)
	expect_status 75
	[[ "$stderr" == *'settings/global.conf:2: unknown key "encrypt-mod" (did you mean "encrypt-mode"?) (mail defers until the line is corrected)'* ]] ||
	    fail_with "no diagnostic naming file, line and key"
}

@test "settings: a '#' after a value is named as such, by the check and by the filters" {
	printf 'methods = smime  # only smime\n' >"$STORE/settings/global.conf"
	check_store
	expect_finding 'settings/global.conf:1: bad value for "methods": a '"'#'"' after a value is not a comment'
	run --separate-stderr route-recipient bob@example.test < <(message)
	expect_status 75
	[[ "$stderr" == *"settings/global.conf:1: bad value for \"methods\": a '#' after a value is not a comment (a comment is a line of its own)"* ]] ||
	    fail_with "the filter does not say why"
}

@test "settings: a '#' inside a text value loads, but the check names it" {
	printf 'encrypt-trigger-subject = [secure] # the word users type\n' \
	    >"$STORE/settings/global.conf"
	check_store
	expect_finding 'settings/global.conf:1: the value of "encrypt-trigger-subject" holds' \
	    'move the comment to a line of its own'
}

@test "settings: every problem of a file is named, not only the first" {
	printf 'encrypt-mode = always\nsign = smime pgp\nsyslog = maybe\n' \
	    >"$STORE/settings/global.conf"
	check_store
	expect_status 1
	[ "${#lines[@]}" -eq 3 ] || fail_with "not three findings"
	[[ "${lines[0]}" == 'settings/global.conf:1: bad value for "encrypt-mode" (expected: none allow mandatory)'* ]] ||
	    fail_with "line 1"
	[[ "${lines[2]}" == 'settings/global.conf:3: bad value for "syslog"'* ]] ||
	    fail_with "line 3"
}

@test "settings: a key at a level where it is not allowed" {
	echo 'syslog = no' >"$STORE/settings/domain/example.test.conf"
	check_store
	expect_finding 'settings/domain/example.test.conf:1: "syslog" may only be set in global.conf'
}

@test "settings: a mixed-case user file, which the filters never read, is named with the name they read" {
	echo 'encrypt-mode = mandatory' >"$STORE/settings/user/Alice@Example.test.conf"
	check_store
	expect_finding 'settings/user/Alice@Example.test.conf: never read: the file for it is settings/user/alice@example.test.conf'
}

@test "settings: a mixed-case domain file and stray files are named" {
	echo 'encrypt-mode = mandatory' >"$STORE/settings/domain/Partner.EXAMPLE.conf"
	check_store
	expect_finding 'settings/domain/Partner.EXAMPLE.conf: never read: the file for it is settings/domain/partner.example.conf'
	rm "$STORE/settings/domain/Partner.EXAMPLE.conf"
	echo 'sign = none' >"$STORE/settings/domain/partner.example"
	check_store
	expect_finding 'settings/domain/partner.example: never read (the name is not NAME.conf)'
	rm "$STORE/settings/domain/partner.example"
	echo 'sign = none' >"$STORE/settings/user.conf"
	check_store
	expect_finding 'settings/user.conf: never read'
}

@test "settings: a line that is no \"key = value\" is a finding, and the reader says which" {
	printf 'encrypt-mode mandatory\n' >"$STORE/settings/global.conf"
	check_store
	expect_finding 'settings/global.conf: not a settings file'
	[[ "$stderr" == *'settings/global.conf:1: expected "key = value"'* ]] ||
	    fail_with "the reader's line is missing"
}

# ---- owners and modes ----

@test "modes: a settings file others may write" {
	echo 'sign = none' >"$STORE/settings/global.conf"
	chmod 666 "$STORE/settings/global.conf"
	check_store
	expect_finding 'settings/global.conf: writable by group or others: chmod go-w'
}

@test "modes: a secret readable by others, and a symbolic link" {
	mkdir -m 700 "$STORE/pdf"
	head -c 32 /dev/urandom >"$STORE/pdf/otp-seed"
	chmod 644 "$STORE/pdf/otp-seed"
	check_store
	expect_finding 'pdf/otp-seed: a private file readable by group or others: chmod 600'
	chmod 600 "$STORE/pdf/otp-seed"
	ln -s /etc/hostname "$STORE/settings/domain/example.test.conf"
	check_store
	expect_finding 'settings/domain/example.test.conf: a symbolic link'
}

@test "modes: no store at all is a finding" {
	check_store --store "$T/nowhere"
	expect_finding "$T/nowhere: no store there"
}

# ---- secrets the settings need ----

@test "secrets: random PDF passwords without pdf/random.key, or with a short one" {
	printf 'methods = smime pdf\npdf-password-mode = random-to-sender\n' \
	    >"$STORE/settings/global.conf"
	check_store
	expect_finding 'pdf/random.key: missing, and pdf-password-mode (random-to-sender, settings/global.conf) needs it' \
	    'head -c 32 /dev/urandom'
	mkdir -m 700 "$STORE/pdf"
	head -c 16 /dev/urandom >"$STORE/pdf/random.key"
	chmod 600 "$STORE/pdf/random.key"
	check_store
	expect_finding 'pdf/random.key: holds 16 octets'
	head -c 32 /dev/urandom >"$STORE/pdf/random.key"
	check_store
	expect_status 0
}

@test "secrets: a user whose own file asks for random passwords; none when pdf is not a method" {
	echo 'pdf-password-mode = random-to-sender' \
	    >"$STORE/settings/user/bob@partner.example.conf"
	check_store
	expect_status 0
	echo 'methods = pdf' >>"$STORE/settings/user/bob@partner.example.conf"
	check_store
	expect_finding 'pdf/random.key: missing' 'settings/user/bob@partner.example.conf'
}

@test "secrets: a reply link without pdf/reply.key" {
	printf 'methods = pdf\npdf-password-mode = static\npdf-reply-url = https://reply.example.test/r\n' \
	    >"$STORE/settings/domain/partner.example.conf"
	check_store
	expect_finding 'pdf/reply.key: missing, and pdf-reply-url (set, settings/domain/partner.example.conf) needs it'
}

@test "secrets: SMS passwords without sms-credentials-file" {
	printf 'methods = pdf\npdf-password-mode = sms\n' >"$STORE/settings/global.conf"
	check_store
	expect_finding 'settings/global.conf: pdf-password-mode sms, but sms-credentials-file is not set'
}

@test "secrets: a static password mode for a user without a password file" {
	printf 'methods = pdf\npdf-password-mode = static\n' \
	    >"$STORE/settings/user/carol@partner.example.conf"
	check_store
	expect_finding 'settings/user/carol@partner.example.conf: pdf-password-mode static, but pdf/static/ holds no password'
}

# ---- index, CRLs, expiry ----

@test "index: an entry whose certificate file is missing (a partial restore)" {
	pki_ca root
	pki_leaf root alice
	certstore import --roots "$PKI/root.pem" >/dev/null
	certstore import "$PKI/alice.pem" >/dev/null
	check_store
	expect_status 0
	f=$(fpr "$PKI/alice.pem")
	rm "$STORE/certs/$f.pem"
	check_store
	expect_status 1
	[[ "$output" == *"index/addr/"*": names $f, but certs/$f.pem is missing"*"certstore remove $f"* ]] ||
	    fail_with "no index finding"
}

@test "CRLs: a CRL past its next update" {
	pki_ca root
	certstore import --roots "$PKI/root.pem" >/dev/null
	openssl ca -batch -config "$PKI/root.db/ca.cnf" -gencrl \
	    -crl_lastupdate "$(date_offset -10)" \
	    -crl_nextupdate "$(date_offset -2)" -out "$T/old.crl" 2>/dev/null
	mkdir -p "$STORE/crls"
	cp "$T/old.crl" "$STORE/crls/$(openssl crl -in "$T/old.crl" -noout -hash).r0"
	check_store
	expect_finding 'the CRL of' 'CN=root' 'is past its next update: run crl-sync'
}

@test "expiry: a certificate with a private key, and a root, that end within 30 days" {
	pki_ca root
	pki_leaf root alice end=10
	certstore import --roots "$PKI/root.pem" >/dev/null
	openssl pkcs12 -export -in "$PKI/alice.pem" -inkey "$PKI/alice.key" \
	    -passout pass:secret-words -out "$T/alice.p12"
	echo secret-words >"$T/pw"
	certstore import --password-file "$T/pw" "$T/alice.p12" >/dev/null
	check_store
	expect_finding "certs/$(fpr "$PKI/alice.pem").pem: this certificate with a private key expires in" \
	    'issue or import a new one'
	# a partner's certificate without a key is not ours to renew
	pki_leaf root bob end=10
	certstore import "$PKI/bob.pem" >/dev/null
	check_store
	expect_status 1
	[ "${#lines[@]}" -eq 1 ] || fail_with "a partner's certificate is a finding"
	openssl req -x509 -new -key "$PKI/root.key" -subj "/CN=short root" \
	    -days 5 -config /dev/null -addext basicConstraints=critical,CA:TRUE \
	    -addext keyUsage=critical,keyCertSign,cRLSign -out "$T/short.pem"
	certstore import --roots "$T/short.pem" >/dev/null
	check_store
	expect_status 1
	[[ "$output" == *"roots/$(fpr "$T/short.pem").pem: this root expires in "* ]] ||
	    fail_with "no root finding"
}

@test "expiry: an OpenPGP key of ours that ends within 30 days" {
	command -v gpg >/dev/null || skip "no gpg"
	f=$(pgp-keys generate alice@example.test 2>/dev/null) || fail_with "generate"
	check_store
	expect_status 0
	gpg --homedir "$STORE/gnupg" --batch --no-tty --pinentry-mode loopback \
	    --passphrase '' --quick-set-expire "$f" 10d 2>/dev/null
	gpg --homedir "$STORE/gnupg" --batch --no-tty --pinentry-mode loopback \
	    --passphrase '' --quick-set-expire "$f" 10d '*' 2>/dev/null
	check_store
	expect_finding "gnupg key $f: this key of ours expires in " \
	    'extend it (gpg --quick-set-expire) or make a new one (pgp-keys generate)'
}

# ---- Postfix ----

@test "postfix: the outgoing filter on a listener that receives from the Internet" {
	postconf -c "$PFC" -P 'smtp/inet/content_filter=mailseal:dummy'
	check
	expect_finding 'master.cf smtp/inet: the outgoing filter (content_filter=mailseal:dummy) runs on a listener that receives from the Internet'
	# the same listener only for internal networks is a relay listener
	postconf -c "$PFC" -P 'smtp/inet/smtpd_client_restrictions=permit_mynetworks,reject'
	check
	expect_status 0
	# and bound to loopback it is internal too
	postconf -c "$PFC" -PX 'smtp/inet/smtpd_client_restrictions'
	postconf -c "$PFC" -e 'inet_interfaces = loopback-only'
	check
	expect_status 0
}

# shipped_postfix - the example main.cf and master.cf of
# scripts/examples as an administrator installs them: the programs'
# path and the store's owner filled in, reinject-smtp and
# reinject-max-size set as the examples say
shipped_postfix() {
	local examples
	examples=$(ms_top)/scripts/examples
	cp "$examples/main.cf" "$PFC/main.cf"
	sed -e "s|/usr/local/bin/|$MAILSEAL_BIN/|" -e "s|user=mailseal|user=$(id -un)|" \
	    "$examples/master.cf" >"$PFC/master.cf"
	printf 'reinject-smtp = 127.0.0.1:10026\nreinject-max-size = 52428800\n' \
	    >>"$STORE/settings/global.conf"
}

@test "postfix: the shipped example master.cf and main.cf pass, the one-port variant too" {
	shipped_postfix
	check
	expect_status 0
	[ -z "$output" ] || fail_with "findings on the shipped example"
	# the same with one port 25 that chooses the filter by client address
	postconf -c "$PFC" -MX '203.0.113.25:smtp/inet' '192.0.2.25:smtp/inet'
	cat "$(ms_top)/scripts/examples/master-oneport.cf" >>"$PFC/master.cf"
	check
	expect_status 0
	[ -z "$output" ] || fail_with "findings on the one-port example"
	# and what the example warns of is found in it: the outgoing filter
	# on the Internet-facing listener
	postconf -c "$PFC" -P 'smtp/inet/content_filter=mailseal:dummy' \
	    'smtp/inet/smtpd_client_restrictions=permit'
	check
	expect_finding 'master.cf smtp/inet: the outgoing filter'
}

@test "postfix: the outgoing filter in main.cf is on every listener and on pickup" {
	postconf -c "$PFC" -PX 'smtp/inet/content_filter'
	postconf -c "$PFC" -e 'content_filter = mailseal:dummy'
	check
	expect_status 1
	[[ "$output" == *'master.cf smtp/inet: the outgoing filter (content_filter=mailseal:dummy) runs on a listener that receives from the Internet'* ]] ||
	    fail_with "no listener finding"
	[[ "$output" == *'main.cf content_filter: is mailseal:dummy, which pickup uses too'* ]] ||
	    fail_with "no pickup finding"
}

@test "postfix: submission with a login but no check that the login may use the sender" {
	postconf -c "$PFC" -PX 'submission/inet/smtpd_sender_restrictions'
	check
	expect_finding 'master.cf submission/inet: the outgoing filter runs after a login, but nothing checks that the login may use the sender address' \
	    'reject_sender_login_mismatch'
}

@test "postfix: a pipe transport that gives the filter more than one recipient" {
	postconf -c "$PFC" -e 'mailseal_destination_recipient_limit = 50'
	check
	expect_finding 'main.cf mailseal_destination_recipient_limit: is 50: set it to 1'
	postconf -c "$PFC" -X 'mailsealin_destination_recipient_limit'
	postconf -c "$PFC" -e 'mailseal_destination_recipient_limit = 1'
	check
	expect_finding 'main.cf mailsealin_destination_recipient_limit: is 50: set it to 1'
}

@test "postfix: an outgoing pipe without the client address and SASL login (mail would go unsigned)" {
	sed -i 's/ --client-address \${client_address}//' "$PFC/master.cf"
	check
	expect_finding 'master.cf mailseal/unix: argv lacks "--client-address ${client_address}" (without it no sender is trusted by its network, and mail is not signed): add it'
	good_postfix
	sed -i 's/ --sasl-username \${sasl_username}//' "$PFC/master.cf"
	check
	expect_finding 'master.cf mailseal/unix: argv lacks "--sasl-username ${sasl_username}" (without it no logged-in sender is trusted, and mail is not signed): add it'
}

@test "postfix: a pipe argv without the queue id, or with the filter elsewhere" {
	sed -i '/--incoming/!s/-q \${queue_id} //' "$PFC/master.cf"
	check
	expect_finding 'master.cf mailseal/unix: argv lacks "-q ${queue_id}"'
	good_postfix
	sed -i "s|argv=$MAILSEAL_BIN/mailseal-filter --incoming|argv=/nonexistent/mailseal-filter --incoming|" "$PFC/master.cf"
	check
	expect_finding 'master.cf mailsealin/unix: argv names /nonexistent/mailseal-filter, which is not an executable file'
}

@test "postfix: a pipe that runs as another user than the store's owner" {
	id nobody >/dev/null 2>&1 || skip "no user nobody"
	[ "$(id -u)" != "$(id -u nobody)" ] || skip "running as nobody"
	sed -i 's/user=[^ ]*/user=nobody/' "$PFC/master.cf"
	check
	expect_status 1
	[[ "${lines[0]}" == 'master.cf mailseal/unix: user=nobody is not the store'"'"'s owner'* ]] ||
	    fail_with "no owner finding"
}

@test "postfix: a Postfix time limit not above the filter's own" {
	postconf -c "$PFC" -e 'mailseal_time_limit = 200s'
	check
	expect_finding 'main.cf mailseal_time_limit: is 200s, not more than the time-limit setting (240 seconds)'
}

@test "postfix: reinject-smtp without a listener there" {
	echo 'reinject-smtp = 127.0.0.1:10099' >"$STORE/settings/global.conf"
	check
	expect_finding 'settings/global.conf: reinject-smtp is 127.0.0.1:10099, but master.cf has no smtpd listener there'
}

@test "postfix: a reinjection listener that filters again, is open, or expands again" {
	reinjection_listener
	postconf -c "$PFC" -P '127.0.0.1:10026/inet/content_filter=mailseal:dummy'
	check
	expect_finding 'master.cf 127.0.0.1:10026/inet: the reinjection listener runs the filter again'
	postconf -c "$PFC" -P '127.0.0.1:10026/inet/content_filter='
	postconf -c "$PFC" -P '127.0.0.1:10026/inet/mynetworks=127.0.0.0/8,192.0.2.0/24'
	check
	expect_finding 'the reinjection listener takes mail past the filter from more than this machine'
	postconf -c "$PFC" -P '127.0.0.1:10026/inet/mynetworks=127.0.0.0/8'
	postconf -c "$PFC" -P '127.0.0.1:10026/inet/receive_override_options=no_milters'
	check
	expect_finding 'receive_override_options lacks no_address_mappings,no_header_body_checks,no_unknown_recipient_checks'
}

@test "postfix: a message the intake takes grows past what reinjection takes (a 46 MB message)" {
	postconf -c "$PFC" -PX 'submission/inet/message_size_limit'
	check
	expect_finding 'master.cf submission/inet: takes messages of up to 52428800 octets, which grow to about 71892992 when encrypted, but the reinjection path takes only 52428800' \
	    'set -o message_size_limit=38221360 here'
	# a reinjection listener with its own larger limit takes them
	reinjection_listener
	postconf -c "$PFC" -P '127.0.0.1:10026/inet/message_size_limit=80000000'
	postconf -c "$PFC" -e 'message_size_limit = 80000000'
	postconf -c "$PFC" -P 'submission/inet/message_size_limit=52428800'
	check
	expect_status 0
}

@test "postfix: an intake limit above the filter's limit-message-size" {
	echo 'limit-message-size = 20M' >"$STORE/settings/global.conf"
	check
	expect_status 1
	[[ "$output" == *'master.cf smtp/inet: takes messages of up to 38000000 octets, the filter only up to 20971520 (limit-message-size)'* ]] ||
	    fail_with "no limit finding"
}

@test "cannot check: postconf fails on the configuration directory: 75" {
	run --separate-stderr mailseal-check -c "$T/no-such-dir"
	expect_status 75
	[[ "$stderr" == *"postconf -x failed"* ]] || fail_with "no reason"
	[[ "$stderr" == *"cannot check: postconf cannot read the Postfix configuration"* ]] ||
	    fail_with "no cannot-check line"
}
