#!/usr/bin/env bats
# The store's audit log (mailseal-store(5)) and mailseal-audit verify:
# every change the administration programs, crl-sync, the quarantine and
# the filters (auto-enrolment, certificates learnt) make is one line
# (time, uid, program, what) carrying the SHA-256 of the line before;
# the chain is checked here by a separate script as well as by
# mailseal-audit; no password, passphrase or key material reaches a line;
# a changed, removed, inserted or cut line is found; writers at the same
# time keep one chain; every line reaches syslog as well; a change the log
# cannot hold is reported (75) and a quarantine release it cannot record
# does not happen.

load helpers
load smime-helpers
load pgp-helpers
load syslog-helpers

setup() {
	pg_setup
	LOG=$STORE/audit/log
	ME=$(id -u)
}

teardown() {
	[ -z "${SERVER:-}" ] || kill "$SERVER" 2>/dev/null || true
	pg_teardown
}

# chain_ok - the log's chain, checked without mailseal: the first prev is
# 64 zeros, each next one the SHA-256 of the line before
chain_ok() {
	python3 - "$LOG" <<'EOF'
import hashlib, re, sys
prev = "0" * 64
form = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ uid=\d+ program=\S+ "
                  r"prev=([0-9a-f]{64}) \S.*$")
for n, line in enumerate(open(sys.argv[1], "rb").read().split(b"\n")[:-1], 1):
    m = form.match(line.decode())
    if not m or m.group(1) != prev:
        sys.exit("line %d does not follow" % n)
    prev = hashlib.sha256(line).hexdigest()
EOF
}

# expect_lines PROGRAM WHAT... - the log ends with one line per WHAT (an
# extended regular expression for the change), each by PROGRAM and this
# uid; the chain holds by chain_ok and by mailseal-audit verify
expect_lines() {
	local prog=$1 n=$(($# - 1)) i=0 line
	shift
	chain_ok || fail_with "chain broken: $(cat "$LOG")"
	while IFS= read -r line; do
		i=$((i + 1))
		[[ $line =~ ^[0-9T:-]+Z\ uid=$ME\ program=$prog\ prev=[0-9a-f]{64}\ (.*)$ ]] ||
		    fail_with "line $line"
		[[ ${BASH_REMATCH[1]} =~ ^$1$ ]] ||
		    fail_with "line $i: '${BASH_REMATCH[1]}' is not '$1'"
		shift
	done < <(tail -n "$n" "$LOG")
	[ "$i" -eq "$n" ] || fail_with "$i lines, not $n"
	run --separate-stderr mailseal-audit verify
	expect_status 0
	[[ $output =~ ^intact:\ $(wc -l <"$LOG")\ lines,\ last\ [0-9a-f]{64}$ ]] ||
	    fail_with "verify: $output"
}

# no_secret TEXT... - no line of the log holds any TEXT
no_secret() {
	local s
	for s in "$@"; do
		! grep -qF -- "$s" "$LOG" || fail_with "'$s' in the log"
	done
}

# key_body FILE - a line from the middle of a PEM key
key_body() {
	sed -n 3p "$1"
}

@test "certstore import --roots, import of certificate, key and CRL, remove: one line each" {
	local root alice
	pki_ca root
	pki_leaf root alice
	root=$(fpr "$PKI/root.pem")
	alice=$(fpr "$PKI/alice.pem")
	run --separate-stderr certstore import --roots "$PKI/root.pem"
	expect_status 0
	expect_lines certstore "import root $root"
	openssl pkcs12 -export -in "$PKI/alice.pem" -inkey "$PKI/alice.key" \
	    -passout pass:'correct horse battery' -out "$T/alice.p12"
	printf 'correct horse battery\n' >"$T/pw"
	run --separate-stderr certstore import --password-file "$T/pw" \
	    "$T/alice.p12"
	expect_status 0
	expect_lines certstore "import certificate $alice" \
	    "import key of certificate $alice"
	pki_crl root
	run --separate-stderr certstore import "$PKI/root.crl"
	expect_status 0
	expect_lines certstore "install crl [0-9a-f]{8}\.r0 number [0-9A-F]+"
	run --separate-stderr certstore remove "$alice"
	expect_status 0
	expect_lines certstore "remove certificate $alice"
	run --separate-stderr certstore remove "$root"
	expect_status 0
	expect_lines certstore "remove root $root"
	[ "$(wc -l <"$LOG")" -eq 6 ]
	no_secret 'correct horse' "$(key_body "$PKI/alice.key")" PRIVATE
	# a second import of the same certificate changes nothing: no line
	run --separate-stderr certstore import --roots "$PKI/root.pem"
	run --separate-stderr certstore import --roots "$PKI/root.pem"
	[ "$(wc -l <"$LOG")" -eq 7 ] || fail_with "$(cat "$LOG")"
	[ "$(stat -c %a "$LOG")" = 600 ]
}

@test "smime-ca init, issue, revoke and crl: one line each, the CA key nowhere" {
	local ca leaf
	run --separate-stderr smime-ca init --crl-url http://ca.example.test/c.crl 'Test CA'
	expect_status 0
	ca=$output
	expect_lines smime-ca "import root $ca" "ca init root $ca name Test CA"
	run --separate-stderr smime-ca issue bob@example.test 'Bob B'
	expect_status 0
	leaf=$output
	expect_lines smime-ca "import key of certificate $leaf" \
	    "import certificate $leaf" \
	    "issue certificate $leaf for bob@example.test"
	run --separate-stderr smime-ca revoke "$leaf"
	expect_status 0
	expect_lines smime-ca "revoke certificate $leaf serial [0-9A-F]+" \
	    "install crl [0-9a-f]{8}\.r0 number 0?1"
	run --separate-stderr smime-ca crl
	expect_status 0
	expect_lines smime-ca "install crl [0-9a-f]{8}\.r0 number 0?2"
	no_secret PRIVATE "$(key_body "$STORE/ca/ca.key")" \
	    "$(key_body "$STORE/keys/$leaf.key")"
}

@test "pgp-keys import, trust, remove, generate: one line each, no passphrase" {
	local other mine
	other=$(pg_gpg_key carol@example.test)
	pg_export "$other" "$T/carol.asc"
	run --separate-stderr pgp-keys import "$T/carol.asc"
	expect_status 0
	expect_lines pgp-keys "import openpgp-key $other from file" \
	    "trust openpgp-key $other ultimate"
	run --separate-stderr pgp-keys trust "$other" marginal
	expect_status 0
	expect_lines pgp-keys "trust openpgp-key $other marginal"
	run --separate-stderr pgp-keys remove "$other"
	expect_status 0
	expect_lines pgp-keys "remove openpgp-key $other"
	printf 'Tr0ub4dor&3 passphrase\n' >"$T/pass"
	run --separate-stderr pgp-keys generate --passphrase-file "$T/pass" \
	    dave@example.test
	expect_status 0
	mine=$output
	expect_lines pgp-keys "generate openpgp-key $mine for dave@example.test"
	no_secret 'Tr0ub4dor' PRIVATE
}

@test "smime-sign --auto-enroll and a certificate smime-verify learns: lines by the filters" {
	local ca fpr
	run --separate-stderr smime-ca init --key ec-p256 'Test CA'
	expect_status 0
	ca=$output
	sed 's/^From: .*/From: New User <newuser@example.test>/' \
	    "$FIX/plain.eml" >"$T/in.eml"
	smime-sign --auto-enroll <"$T/in.eml" >"$T/s.eml"
	fpr=$(certstore find newuser@example.test)
	[[ $fpr =~ ^[0-9a-f]{64}$ ]] || fail_with "no certificate issued"
	expect_lines smime-sign "import key of certificate $fpr" \
	    "import certificate $fpr" \
	    "issue certificate $fpr for newuser@example.test"
	no_secret "$(key_body "$STORE/keys/$fpr.key")"

	# another store that trusts the CA learns the signer's certificate
	certstore export "$ca" >"$T/ca.pem"
	STORE=$T/other LOG=$T/other/audit/log
	export MAILSEAL_STORE=$STORE
	certstore import --roots "$T/ca.pem" >/dev/null
	smime-verify <"$T/s.eml" >"$T/v.eml"
	grep -q '^X-Mailseal-Signature: valid' "$T/v.eml" ||
	    fail_with "not verified: $(grep X-Mailseal "$T/v.eml")"
	expect_lines smime-verify "import certificate $fpr"
}

@test "crl-sync: a line for each CRL it installs, none for one it has already" {
	local out=$T/web/server.out hash
	mkdir -p "$T/web"
	python3 "$BATS_TEST_DIRNAME/../fixtures/crl/http-server.py" "$T/web" \
	    >"$out" 2>&1 &
	SERVER=$!
	for _ in $(seq 50); do
		grep -q '^ready' "$out" 2>/dev/null && break
		sleep 0.1
	done
	grep -q '^ready' "$out" || fail_with "no HTTP server: $(cat "$out")"
	pki_ca root '' ec
	pki_leaf root alice cdp="http://127.0.0.1:$(awk '/^ready/ { print $2 }' "$out")/root.crl"
	certstore import --roots "$PKI/root.pem" >/dev/null
	certstore import "$PKI/alice.pem" >/dev/null
	pki_crl root "$T/web/root.crl"
	hash=$(openssl crl -in "$T/web/root.crl" -noout -hash)
	run --separate-stderr crl-sync --allow-private-addresses
	expect_status 0
	expect_lines crl-sync "install crl $hash\.r0 number 1000"
	run --separate-stderr crl-sync --allow-private-addresses
	expect_status 0
	[ "$(wc -l <"$LOG")" -eq 3 ] || fail_with "$(cat "$LOG")"
}

@test "certstore import --roots and remove, pgp-keys import and trust: each line reaches syslog (mail.notice)" {
	local root other prog line
	pki_ca root
	root=$(fpr "$PKI/root.pem")
	other=$(pg_gpg_key erin@example.test)
	pg_export "$other" "$T/erin.asc"
	run with_syslog "certstore import --roots '$PKI/root.pem' &&
	    certstore remove $root && pgp-keys import '$T/erin.asc' &&
	    pgp-keys trust $other full"
	expect_status 0
	[ "$(wc -l <"$LOG")" -eq 5 ] || fail_with "$(cat "$LOG")"
	# each line of the log, as it is, in a mail.notice message of its
	# program
	while IFS= read -r line; do
		prog=$(sed 's/.* program=\([^ ]*\) .*/\1/' <<<"$line")
		grep -F "<21>" "$T/syslog" | grep -F " $prog[" |
		    grep -qF "]: audit: $line" ||
		    fail_with "not in syslog: $line; syslog: $(cat "$T/syslog")"
	done <"$LOG"
	grep -q "audit: .*import root $root$" "$T/syslog"
	grep -q "audit: .*remove root $root$" "$T/syslog"
	grep -q "audit: .*import openpgp-key $other from file$" "$T/syslog"
	grep -q "audit: .*trust openpgp-key $other full$" "$T/syslog"
}

# held - a message the shipped policy holds (ten card numbers); its id
held() {
	local body
	body=$(python3 -c '
def luhn(s):
    t = 0
    for i, c in enumerate(reversed(s)):
        d = int(c)
        if i % 2:
            d = d * 2 - 9 if d > 4 else d * 2
        t += d
    return t % 10 == 0
out, n = [], 455673758689000
while len(out) < 10:
    n += 1
    for c in "0123456789":
        if luhn(str(n) + c):
            out.append(str(n) + c)
            break
print(" card ".join(out))')
	printf 'From: a@example.test\nTo: b@example.test\nSubject: s\n\n%s\n' \
	    "$body" >"$T/m.eml"
	dlp-scan -f a@example.test b@example.test <"$T/m.eml" >"$T/r.out" ||
	    return 1
	sed -n 's/^X-Mailseal-DLP: quarantine;.* id=\([0-9a-f]*\)$/\1/p' \
	    "$T/r.out"
}

# sink - the reinjection command of a quarantine release keeps the
# message in $T/sent.eml
sink() {
	printf '#!/bin/sh\ncat >"%s"\n' "$T/sent.eml" >"$T/sink.sh"
	chmod 755 "$T/sink.sh"
	export MAILSEAL_SENDMAIL=$T/sink.sh
}

@test "dlp-scan quarantine release and delete: one line each" {
	local id
	mkdir -p -m 700 "$STORE"
	ms_sharedir
	id=$(held)
	[ ${#id} = 32 ] || fail_with "no quarantine id"
	sink
	run --separate-stderr dlp-scan quarantine release "$id"
	expect_status 0
	# the release runs mailseal-filter, which writes the line
	expect_lines mailseal-filter "release quarantine $id"
	run --separate-stderr dlp-scan quarantine delete "$id"
	expect_status 0
	expect_lines dlp-scan "delete quarantine $id"
	no_secret 4556737586
}

@test "mailseal-audit verify finds a changed, a removed, an inserted and a cut line" {
	local i
	pki_ca r1
	pki_ca r2
	pki_ca r3
	for i in 1 2 3; do
		certstore import --roots "$PKI/r$i.pem" >/dev/null
	done
	cp "$LOG" "$T/good"
	run --separate-stderr mailseal-audit verify
	expect_status 0

	sed -i '2s/import root /import root 0/' "$LOG"
	run --separate-stderr mailseal-audit verify
	expect_status 1
	[ "$output" = "broken at line 3" ] || fail_with "changed line"
	[[ $stderr == *"line 3: its prev= is not the SHA-256 of the line before"* ]]

	cp "$T/good" "$LOG"
	sed -i 2d "$LOG"
	run --separate-stderr mailseal-audit verify
	expect_status 1
	[ "$output" = "broken at line 2" ] || fail_with "removed line"

	cp "$T/good" "$LOG"
	sed -i "1a $(sed -n 2p "$T/good")" "$LOG"
	run --separate-stderr mailseal-audit verify
	expect_status 1
	[ "$output" = "broken at line 3" ] || fail_with "inserted line"

	cp "$T/good" "$LOG"
	truncate -s -10 "$LOG"
	run --separate-stderr mailseal-audit verify
	expect_status 1
	[ "$output" = "broken at line 3" ] || fail_with "cut line"
	[[ $stderr == *"line 3: the last line is incomplete"* ]]
	# the next change ends the cut line, chains after it and says so
	pki_ca r4
	certstore import --roots "$PKI/r4.pem" >/dev/null
	expect_lines certstore \
	    "audit: the line before is incomplete \(cut when it was written, or since\)" \
	    "import root $(fpr "$PKI/r4.pem")"
	[ "$(wc -l <"$LOG")" -eq 5 ]

	# a store without a log: nothing changed yet
	rm -r "$STORE/audit"
	run --separate-stderr mailseal-audit verify
	expect_status 0
	[ "$output" = "intact: 0 lines, last $(printf '0%.0s' {1..64})" ]
}

@test "eight writers at the same time keep one chain" {
	local i pids=()
	for i in 1 2 3 4 5 6 7 8; do
		pki_ca "p$i"
	done
	certstore import --roots "$PKI/p1.pem" >/dev/null
	for i in 2 3 4 5 6 7 8; do
		certstore import --roots "$PKI/p$i.pem" >"$T/c$i.out" 2>&1 &
		pids+=($!)
	done
	for i in "${pids[@]}"; do
		wait "$i" || fail_with "a writer failed"
	done
	[ "$(wc -l <"$LOG")" -eq 8 ] || fail_with "$(cat "$LOG")"
	chain_ok || fail_with "chain broken: $(cat "$LOG")"
	for i in 1 2 3 4 5 6 7 8; do
		grep -q "import root $(fpr "$PKI/p$i.pem")$" "$LOG" ||
		    fail_with "no line for p$i"
	done
	run --separate-stderr mailseal-audit verify
	expect_status 0
}

@test "a change the log cannot hold: 75 and said so; a quarantine release it cannot record does not happen" {
	local id
	pki_ca root
	mkdir -p -m 700 "$STORE/audit"
	mkdir "$LOG"	# a directory where the log should be: no append
	run --separate-stderr certstore import --roots "$PKI/root.pem"
	expect_status 75
	[[ $stderr == *"the change is made but is not in the audit log: "*"import root $(fpr "$PKI/root.pem")"* ]] ||
	    fail_with "not reported"

	ms_sharedir
	rmdir "$LOG"
	id=$(held)
	[ ${#id} = 32 ] || fail_with "no quarantine id"
	mkdir "$LOG"
	sink
	run --separate-stderr dlp-scan quarantine release "$id"
	expect_status 75
	[ ! -e "$T/sent.eml" ] || fail_with "the message was sent"
	grep -q '^state: held$' "$STORE/quarantine/$id.meta" ||
	    fail_with "released without a record"
	rmdir "$LOG"
	run --separate-stderr dlp-scan quarantine release "$id"
	expect_status 0
	grep -q "^Subject: s" "$T/sent.eml" || fail_with "not released"
	expect_lines mailseal-filter "release quarantine $id"
}
