#!/usr/bin/env bats
# route-recipient: the method per recipient from settings (with their
# inheritance), the stores (certificates from smime-ca, keys from
# pgp-keys, refused ones not taken) and the message (subject and field
# triggers, the DLP verdict), the signing decision, --rewrite, --explain
# and the exit statuses.

load helpers
load smime-helpers
load pgp-helpers

setup_file() {
	sm_setup_file alice bob gw
}

setup() {
	sm_setup
	pg_homes
	mkdir -p "$STORE/settings/domain" "$STORE/settings/user"
	msg "$T/m.eml" 'Quarterly figures'
}

teardown() {
	pg_teardown
	sm_teardown
}

# msg FILE SUBJECT [FIELD...] - a small message from alice with extra
# header fields
msg() {
	local file=$1 subject=$2 f
	shift 2
	{
		printf 'From: Alice <alice@example.test>\n'
		printf 'To: bob@example.test\n'
		printf 'Subject: %s\n' "$subject"
		printf 'Message-ID: <route-1@example.test>\n'
		for f in "$@"; do
			printf '%s\n' "$f"
		done
		printf 'MIME-Version: 1.0\n'
		printf 'Content-Type: text/plain; charset=utf-8\n\n'
		printf 'ROUTEBODY-4f1 the launch code is 0000\n'
	} >"$file"
}

# global LINE... - settings/global.conf with these lines
global() {
	printf '%s\n' "$@" >"$STORE/settings/global.conf"
}

# route ARGS... - route-recipient with the message on stdin ($MSG, default
# $T/m.eml); stdout in $output, stderr in $stderr
route() {
	run --separate-stderr route-recipient "$@" <"${MSG:-$T/m.eml}"
}

# expect_lines LINE... - stdout is exactly these lines
expect_lines() {
	local want
	want=$(printf '%s\n' "$@")
	[ "$output" = "$want" ] ||
	    fail_with "expected output:"$'\n'"$want"
}

# import_cert_for CA NAME ADDRESS [pki_leaf options] - a certificate NAME
# for ADDRESS issued by CA of helpers.bash's openssl PKI, imported into
# the store
import_cert_for() {
	local ca=$1 name=$2 addr=$3
	shift 3
	pki_leaf "$ca" "$name" key=rsa2048 "san=email:$addr" "$@" &&
	    certstore import "$PKI/$name.pem" >/dev/null 2>&1
}

@test "usage: -h exits 0; a bad option, no recipient or a bad address exits 64 with nothing on stdout" {
	run --separate-stderr route-recipient -h
	expect_status 0
	[[ $output == *"route-recipient"*"--explain ADDRESS"* ]] ||
	    fail_with "usage does not show --explain"
	route --no-such-option bob@example.test
	expect_status 64
	[ -z "$output" ] || fail_with "stdout on a bad option"
	route
	expect_status 64
	local bad
	for bad in 'bob@exa mple.test' '-oops@example.test' \
	    $'bob@example.test\nX-Injected: 1' '$(touch x)@example.test' \
	    'no-at-sign'; do
		route bob@example.test "$bad"
		expect_status 64
		[ -z "$output" ] || fail_with "stdout with bad recipient '$bad'"
		[[ $stderr != *$'\n'X-Injected* ]] ||
		    fail_with "a control character reached the diagnostics"
	done
	route -f 'bad sender@example.test' bob@example.test
	expect_status 64
	route --explain 'not an address'
	expect_status 64
	route --explain bob@example.test bob@example.test
	expect_status 64
}

@test "a certificate issued by smime-ca gives smime; no certificate and no key gives plain under allow" {
	route bob@example.test nobody@example.test BOB@Example.TEST
	expect_status 0
	expect_lines 'smime bob@example.test' 'plain nobody@example.test' \
	    'smime BOB@Example.TEST'
}

@test "a key made with pgp-keys gives pgp; the methods list orders the methods" {
	pgp-keys generate dave@example.test >/dev/null 2>&1 ||
	    fail_with "pgp-keys generate"
	pgp-keys generate bob@example.test >/dev/null 2>&1
	route dave@example.test bob@example.test
	expect_status 0
	expect_lines 'pgp dave@example.test' 'smime bob@example.test'
	# bob prefers OpenPGP; a user file overrides the global list
	echo 'methods = pgp smime' >"$STORE/settings/user/bob@example.test.conf"
	route dave@example.test bob@example.test
	expect_status 0
	expect_lines 'pgp dave@example.test' 'pgp bob@example.test'
	# S/MIME only: dave has no certificate
	global 'methods = smime'
	route dave@example.test
	expect_lines 'plain dave@example.test'
}

@test "expired and untrusted certificates are not taken; --explain says why" {
	pki_ca root
	certstore import --roots "$PKI/root.pem" >/dev/null 2>&1 ||
	    fail_with "import root"
	import_cert_for root old erin@example.test start=-400 end=-1 ||
	    fail_with "expired certificate"
	pki_ca other
	import_cert_for other stranger frank@example.test ||
	    fail_with "untrusted certificate"
	import_cert_for root good grace@example.test || fail_with "good one"
	global 'encrypt-mode = mandatory'
	route erin@example.test frank@example.test grace@example.test
	expect_status 0
	expect_lines 'reject erin@example.test reason=no-usable-method' \
	    'reject frank@example.test reason=no-usable-method' \
	    'smime grace@example.test'
	route --explain erin@example.test
	expect_status 0
	grep -qE "^  certificate $(fpr "$PKI/old.pem"): refused: .*expired" \
	    <<<"$output" || fail_with "explain does not refuse as expired"
	route --explain frank@example.test
	grep -qE "^  certificate $(fpr "$PKI/stranger.pem"): refused: .*untrusted" \
	    <<<"$output" || fail_with "explain does not refuse as untrusted"
	route --explain grace@example.test
	grep -qx "  certificate $(fpr "$PKI/good.pem"): taken" <<<"$output" ||
	    fail_with "explain does not take the good certificate"
}

@test "expired and untrusted OpenPGP keys are not taken; --explain says why" {
	local past=$(( $(date +%s) - 2 * 365 * 86400 )) old fpr
	old=$(pg_gpg_key 'Old <old@example.test>' future-default default 1d \
	    --faked-system-time "$past")
	pg_export "$old" "$T/old.asc"
	pg_store_import "$T/old.asc"
	fpr=$(pg_recipient 'Una <una@example.test>')
	pgp-keys trust "$fpr" never || fail_with "trust never"
	global 'encrypt-mode = mandatory' 'methods = pgp'
	route old@example.test una@example.test
	expect_status 0
	expect_lines 'reject old@example.test reason=no-usable-method' \
	    'reject una@example.test reason=no-usable-method'
	route --explain old@example.test
	expect_status 0
	grep -qx "  key $old: expired" <<<"$output" ||
	    fail_with "explain does not name the expired key"
	route --explain una@example.test
	grep -qx "  key $fpr: not trusted" <<<"$output" ||
	    fail_with "explain does not name the untrusted key"
	pgp-keys trust "$fpr" ultimate
	route una@example.test
	expect_lines 'pgp una@example.test'
}

@test "encrypt-mode: none is plain even with a certificate; mandatory without a method rejects, still exit 0" {
	global 'encrypt-mode = none'
	route bob@example.test nobody@example.test
	expect_status 0
	expect_lines 'plain bob@example.test' 'plain nobody@example.test'
	global 'encrypt-mode = mandatory'
	route bob@example.test nobody@example.test
	expect_status 0
	expect_lines 'smime bob@example.test' \
	    'reject nobody@example.test reason=no-usable-method'
	# an empty methods list leaves nothing to encrypt with
	global 'encrypt-mode = mandatory' 'methods ='
	route bob@example.test
	expect_lines 'reject bob@example.test reason=no-usable-method'
}

@test "wildcard domain settings are inherited by subdomains, not the apex; domain and user files override" {
	printf 'encrypt-mode = mandatory\n' \
	    >"$STORE/settings/domain/*.partner.test.conf"
	printf 'encrypt-mode = allow\n' \
	    >"$STORE/settings/domain/open.partner.test.conf"
	printf 'encrypt-mode = none\n' \
	    >"$STORE/settings/user/x@deep.sub.partner.test.conf"
	route a@sub.partner.test b@deep.sub.partner.test c@partner.test \
	    d@open.partner.test x@deep.sub.partner.test
	expect_status 0
	expect_lines 'reject a@sub.partner.test reason=no-usable-method' \
	    'reject b@deep.sub.partner.test reason=no-usable-method' \
	    'plain c@partner.test' 'plain d@open.partner.test' \
	    'plain x@deep.sub.partner.test'
	route --explain b@deep.sub.partner.test
	grep -qE '^  encrypt-mode += mandatory +\(settings/domain/\*\.partner\.test\.conf:1\)$' \
	    <<<"$output" || fail_with "explain does not name the wildcard file"
}

@test "the subject trigger forces encryption, is matched without case and is removed by --rewrite" {
	global 'encrypt-mode = none'
	msg "$T/t.eml" 'Re: [Encrypt] Quarterly figures'
	MSG=$T/t.eml route --rewrite "$T/out.eml" bob@example.test \
	    nobody@example.test
	expect_status 0
	expect_lines 'smime bob@example.test trigger=subject' \
	    'reject nobody@example.test reason=no-usable-method trigger=subject'
	grep -qx 'Subject: Re: Quarterly figures' "$T/out.eml" ||
	    fail_with "the trigger is still in the Subject"
	# everything else is unchanged
	diff <(grep -v '^Subject:' "$T/t.eml") \
	    <(grep -v '^Subject:' "$T/out.eml") ||
	    fail_with "--rewrite changed more than the Subject"
	# without a trigger there is no file (and a stale one goes)
	echo stale >"$T/same.eml"
	route --rewrite "$T/same.eml" bob@example.test
	expect_lines 'plain bob@example.test'
	[ ! -e "$T/same.eml" ] || fail_with "--rewrite wrote an unchanged message"
	# -n decides only: no file
	MSG=$T/t.eml route -n --rewrite "$T/dry.eml" bob@example.test
	expect_status 0
	expect_lines 'smime bob@example.test trigger=subject'
	[ ! -e "$T/dry.eml" ] || fail_with "-n wrote the --rewrite file"
	# a configured trigger replaces the default; empty turns it off
	global 'encrypt-mode = none' 'encrypt-trigger-subject = SECURE:'
	MSG=$T/t.eml route nobody@example.test
	expect_lines 'plain nobody@example.test'
	msg "$T/s.eml" 'secure: figures'
	MSG=$T/s.eml route --rewrite "$T/s-out.eml" bob@example.test
	expect_lines 'smime bob@example.test trigger=subject'
	grep -qx 'Subject: figures' "$T/s-out.eml" || fail_with "SECURE: kept"
	global 'encrypt-mode = none' 'encrypt-trigger-subject ='
	MSG=$T/t.eml route bob@example.test
	expect_lines 'plain bob@example.test'
}

@test "a trigger in an RFC 2047 encoded Subject fires; the rewritten Subject keeps the rest of the text" {
	global 'encrypt-mode = none'
	msg "$T/t.eml" '=?utf-8?q?=5Bencrypt=5D_Gr=C3=BC=C3=9Fe?='
	MSG=$T/t.eml route --rewrite "$T/out.eml" bob@example.test
	expect_status 0
	expect_lines 'smime bob@example.test trigger=subject'
	python3 - "$T/out.eml" <<'EOF' || fail_with "rewritten Subject wrong"
import email, email.header, email.policy, sys
m = email.message_from_binary_file(open(sys.argv[1], 'rb'),
                                   policy=email.policy.default)
subject = str(m['Subject'])
assert subject == 'Grüße', repr(subject)
EOF
}

@test "the trigger field forces encryption when its value matches, and --rewrite removes it" {
	global 'encrypt-mode = allow' 'encrypt-trigger-header = X-Encrypt: yes'
	msg "$T/h.eml" 'figures' 'X-Encrypt: YES'
	MSG=$T/h.eml route --rewrite "$T/out.eml" nobody@example.test
	expect_status 0
	expect_lines 'reject nobody@example.test reason=no-usable-method trigger=header'
	! grep -qi '^X-Encrypt:' "$T/out.eml" ||
	    fail_with "the trigger field is still there"
	msg "$T/no.eml" 'figures' 'X-Encrypt: no'
	MSG=$T/no.eml route nobody@example.test
	expect_lines 'plain nobody@example.test'
	# a name alone: any value fires
	global 'encrypt-trigger-header = X-Encrypt'
	MSG=$T/no.eml route nobody@example.test
	expect_lines 'reject nobody@example.test reason=no-usable-method trigger=header'
	# a bad field name is a configuration error naming file and line
	global 'encrypt-trigger-header = Bad Name: x'
	route nobody@example.test
	expect_status 75
	[ -z "$output" ] || fail_with "stdout on a configuration error"
	[[ $stderr == *settings/global.conf:1* ]] ||
	    fail_with "the error does not name settings/global.conf:1"
}

@test "X-Mailseal-DLP: must-encrypt turns allow into mandatory for the message; other verdicts do not" {
	msg "$T/d.eml" 'figures' 'X-Mailseal-DLP: must-encrypt; rule=iban'
	MSG=$T/d.eml route bob@example.test nobody@example.test
	expect_status 0
	expect_lines 'smime bob@example.test trigger=dlp' \
	    'reject nobody@example.test reason=no-usable-method trigger=dlp'
	msg "$T/p.eml" 'figures' 'X-Mailseal-DLP: pass'
	MSG=$T/p.eml route nobody@example.test
	expect_lines 'plain nobody@example.test'
	# and none as well: the message can raise the mode, never lower it
	global 'encrypt-mode = none'
	MSG=$T/d.eml route bob@example.test
	expect_lines 'smime bob@example.test trigger=dlp'
	# all three at once
	global 'encrypt-trigger-header = X-Encrypt'
	msg "$T/a.eml" '[encrypt] figures' 'X-Encrypt: 1' \
	    'X-Mailseal-DLP: MUST-ENCRYPT'
	MSG=$T/a.eml route bob@example.test
	expect_lines 'smime bob@example.test trigger=subject,header,dlp'
}

@test "domain certificates and domain keys: key=domain with the fingerprint; a missing one defers" {
	local gw pgw
	gw=$(fpr_of gw)
	pgw=$(pgp-keys generate gateway@pgp.test 2>/dev/null)
	printf 'smime-domain-cert = %s\n' "$gw" \
	    >"$STORE/settings/domain/partner.test.conf"
	printf 'pgp-domain-key = %s\n' "$pgw" \
	    >"$STORE/settings/domain/pgp.test.conf"
	route x@partner.test y@pgp.test z@other.test
	expect_status 0
	expect_lines "smime x@partner.test key=domain fpr=$gw" \
	    "pgp y@pgp.test key=domain fpr=$pgw" 'plain z@other.test'
	# a recipient's own certificate comes before the domain's
	printf 'smime-domain-cert = %s\n' "$gw" \
	    >"$STORE/settings/domain/example.test.conf"
	route bob@example.test
	expect_lines 'smime bob@example.test'
	# a fingerprint the store does not hold: 75, nothing on stdout
	printf 'smime-domain-cert = %s\n' "$(printf '%064d' 0)" \
	    >"$STORE/settings/domain/partner.test.conf"
	route x@partner.test
	expect_status 75
	[ -z "$output" ] || fail_with "stdout on a configuration error"
	# the setting is refused at the user level
	printf 'smime-domain-cert = %s\n' "$gw" \
	    >"$STORE/settings/user/u@example.test.conf"
	route u@example.test
	expect_status 75
	[[ $stderr == *'"smime-domain-cert" may not be set at the user level'* ]] ||
	    fail_with "the level error does not name the level"
}

@test "pdf needs a password mode and webmail a portal URL, in the order of methods" {
	global 'encrypt-mode = mandatory' 'methods = smime pdf webmail'
	route bob@example.test nobody@example.test
	expect_lines 'smime bob@example.test' \
	    'reject nobody@example.test reason=no-usable-method'
	global 'encrypt-mode = mandatory' 'methods = smime pdf webmail' \
	    'webmail-url = https://portal.example.test/'
	route nobody@example.test
	expect_lines 'webmail nobody@example.test'
	global 'encrypt-mode = mandatory' 'methods = smime pdf webmail' \
	    'webmail-url = https://portal.example.test/' \
	    'pdf-password-mode = random-to-sender'
	route nobody@example.test
	expect_lines 'pdf nobody@example.test'
	# pdf not in the list: the password mode alone does not make it used
	global 'methods = smime' 'pdf-password-mode = static'
	route nobody@example.test
	expect_lines 'plain nobody@example.test'
	global 'webmail-url = http://portal.example.test/'
	route nobody@example.test
	expect_status 75
}

@test "signing: sign=smime with the sender's key, sign=missing without one, sign=pgp; none for the null sender and on reject lines" {
	echo 'sign = smime' >"$STORE/settings/user/alice@example.test.conf"
	route -f alice@example.test bob@example.test
	expect_status 0
	expect_lines 'smime bob@example.test sign=smime'
	# the sender comes from From when -f is not given
	route bob@example.test
	expect_lines 'smime bob@example.test sign=smime'
	# the null sender signs nothing
	route -f '' bob@example.test
	expect_lines 'smime bob@example.test'
	# a sender without a certificate of its own
	global 'sign = smime'
	route -f carl@example.test bob@example.test
	expect_lines 'smime bob@example.test sign=missing'
	# OpenPGP signing with a key made by pgp-keys
	pgp-keys generate carl@example.test >/dev/null 2>&1
	global 'sign = pgp' 'encrypt-mode = mandatory'
	route -f carl@example.test bob@example.test nobody@example.test
	expect_lines 'smime bob@example.test sign=pgp' \
	    'reject nobody@example.test reason=no-usable-method'
}

@test "--explain prints the chain, each value's file:line, the candidates and the decision" {
	global '# organisation' 'encrypt-mode = mandatory' 'methods = pgp smime'
	echo 'methods = smime' >"$STORE/settings/domain/example.test.conf"
	route --explain bob@example.test
	expect_status 0
	grep -qx 'recipient bob@example.test' <<<"$output" ||
	    fail_with "no recipient line"
	grep -q '^  global  *settings/global.conf$' <<<"$output" ||
	    fail_with "chain without global.conf"
	grep -q '^  user  *settings/user/bob@example.test.conf (absent)$' \
	    <<<"$output" || fail_with "chain without the user file"
	grep -qE '^  encrypt-mode += mandatory +\(settings/global.conf:2\)$' \
	    <<<"$output" || fail_with "encrypt-mode origin is not global.conf:2"
	grep -qE '^  methods += smime +\(settings/domain/example.test.conf:1\)$' \
	    <<<"$output" || fail_with "methods origin is not the domain file"
	grep -qE '^  sign += none +\(default\)$' <<<"$output" ||
	    fail_with "sign is not shown as the default"
	grep -qx "  certificate $(fpr_of bob): taken" <<<"$output" ||
	    fail_with "bob's certificate is not listed as taken"
	[ "${lines[${#lines[@]}-1]}" = 'smime bob@example.test' ] ||
	    fail_with "the last line is not the decision"
	# a message trigger is reported, never the Subject itself
	msg "$T/t.eml" '[encrypt] SECRET-SUBJECT-9'
	MSG=$T/t.eml route --explain nobody@example.test
	expect_status 0
	grep -q '^message: subject trigger fired' <<<"$output" ||
	    fail_with "the fired trigger is not reported"
	[[ $output != *SECRET-SUBJECT-9* && $stderr != *SECRET-SUBJECT-9* ]] ||
	    fail_with "the Subject text was printed"
}

@test "exit statuses: bad settings and a damaged store defer (75), a bad message is 65; no message content in diagnostics" {
	global 'encrypt-mode = sometimes'
	route bob@example.test
	expect_status 75
	[ -z "$output" ] || fail_with "stdout on a configuration error"
	[[ $stderr == *settings/global.conf:1* ]] || fail_with "no file:line"
	global 'encrypt-mode = allow'
	# an empty message
	MSG=/dev/null route bob@example.test
	expect_status 65
	[ -z "$output" ] || fail_with "stdout for an empty message"
	# a header section over its limit
	global 'limit-header-section = 1K'
	msg "$T/big.eml" "$(head -c 3000 /dev/zero | tr '\0' x)"
	MSG=$T/big.eml route bob@example.test
	expect_status 65
	[ -z "$output" ] || fail_with "stdout for an oversized header"
	[[ $stderr != *xxxxxxxx* ]] || fail_with "message content in stderr"
	global 'encrypt-mode = allow'
	# a damaged address index defers, never "no certificate"
	local idx
	for idx in "$STORE"/index/addr/*; do
		printf 'garbage' >"$idx"
	done
	route bob@example.test
	expect_status 75
	[ -z "$output" ] || fail_with "stdout with a damaged store"
	[[ $stderr != *ROUTEBODY-4f1* ]] || fail_with "message body in stderr"
}
