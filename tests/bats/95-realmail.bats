#!/usr/bin/env bats
# Filters over every message of tests/corpus/realmail (real mail from the
# test suites of other mail libraries, see ORIGINS.txt there): no crash,
# no hang; decrypted content equal to the original in substance as
# Python's email package reads both; a DLP verdict for every message.
# tests/realmail-judge.py runs and judges, one message per processor at a
# time, every program under a timeout; the keys are made once for the
# file.  A message a program refuses for a documented limit is listed
# (LIMIT) and is no failure.  Every check of the judge runs here: the
# encryption round trips, smime-sign and pgp-sign verified by openssl and
# gpg and read back by smime-verify and pgp-verify, dlp-scan's verdicts,
# pdfwrap's PDFs read by qpdf and poppler, mailseal-filter end to end.
# The judge runs the messages in parallel, one per processor.

load helpers
load smime-helpers
load pgp-helpers

setup_file() {
	sm_setup_file alice bob
	local store=$BASE/store
	pgp-keys --store "$store" generate alice@example.test \
	    >"$BASE/alice.pgp" 2>"$BASE/pgp.err" &&
	    pgp-keys --store "$store" generate bob@example.test \
	    >"$BASE/bob.pgp" 2>>"$BASE/pgp.err" ||
	    { cat "$BASE/pgp.err" >&2; return 1; }
	# gpg --verify's own keyring: the sender's public key only
	GPG_VERIFY_HOME=$BASE/gpg-verify
	mkdir -m 700 "$GPG_VERIFY_HOME"
	pgp-keys --store "$store" export "$(cat "$BASE/alice.pgp")" |
	    gpg --homedir "$GPG_VERIFY_HOME" --batch --import 2>/dev/null ||
	    return 1
	mkdir -m 700 -p "$store/pdf"
	printf 'correct horse battery staple\n' >"$BASE/pdf.pw"
	chmod 600 "$BASE/pdf.pw"
	# mailseal-filter's reinjection: every copy into $SINK_DIR
	cat >"$BASE/sink" <<'EOF'
#!/bin/sh
cat >"$SINK_DIR/$$.eml"
EOF
	chmod 755 "$BASE/sink"
	export GPG_VERIFY_HOME
}

teardown_file() {
	pg_stop_links "$BASE"
	ms_stop_agents "$BASE/store/gnupg" "$BASE/gpg-verify"
}

setup() {
	ms_setup
	export MAILSEAL_STORE=$BASE/store
	ms_sharedir
	MAILSEAL_SENDMAIL=$BASE/sink
	CORPUS=$(cd "$BATS_TEST_DIRNAME/../corpus/realmail" && pwd)
	WORK=$T/work
	SENDER=alice@example.test
	RECIPIENT=bob@example.test
	SMIME_CA=$BASE/root.pem
	PDF_PASSWORD=$BASE/pdf.pw
	export MAILSEAL_SENDMAIL WORK SENDER RECIPIENT SMIME_CA PDF_PASSWORD
}

# judge CHECK - the judge over the whole corpus; its report as output
judge() {
	run python3 "$BATS_TEST_DIRNAME/../realmail-judge.py" "$1" \
	    "$CORPUS"/*.eml
	[ "$status" -eq 0 ] || fail_with "messages failed"
	local n
	n=$(ls "$CORPUS"/*.eml | wc -l)
	[ "${lines[-1]}" = "realmail $1: $n messages, 0 failed" ] ||
	    fail_with "not every message was judged"
}

@test "realmail: the corpus is there, every file with its origin and licence" {
	local n
	n=$(ls "$CORPUS"/*.eml | wc -l)
	[ "$n" -ge 800 ] || fail_with "only $n messages"
	for f in "$CORPUS"/*.eml; do
		grep -q "^${f##*/}	[^	]*@[0-9a-f]\{40\}:[^	]*	[^	]" \
		    "$CORPUS/ORIGINS.txt" || fail_with "${f##*/}: no origin"
	done
}

@test "realmail: smime-enc | smime-dec gives the original content" {
	judge smime-enc
}

@test "realmail: smime-sign verifies with openssl, smime-verify gives the original content" {
	judge smime-sign
}

@test "realmail: pgp-enc | pgp-dec gives the original content" {
	judge pgp-enc
}

@test "realmail: pgp-sign verifies with gpg, pgp-verify gives the original content" {
	judge pgp-sign
}

@test "realmail: dlp-scan gives every message a verdict" {
	judge dlp-scan
}

@test "realmail: every part is in pdfwrap's PDF, which qpdf and poppler read" {
	judge pdfwrap
}

@test "realmail: mailseal-filter's copy decrypts to the original, or the quarantine holds it whole" {
	judge mailseal-filter
}
