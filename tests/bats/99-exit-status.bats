#!/usr/bin/env bats
# 99-exit-status.bats - the exit statuses each page lists in its EXIT
# STATUS section are the ones its program returns: every status a program
# returned anywhere in this run of the suite (helpers.bash records each
# call) is listed, and every listed status was returned by some test.
# Runs last, after every other file of the suite.

load helpers

setup() {
	ms_setup
}

# listed PROGRAM - the statuses in the EXIT STATUS section of its page
listed() {
	awk '/^\.Sh EXIT STATUS/ { on = 1; next }
	    /^\.Sh/ { on = 0 }
	    on && /^\.It [0-9]+$/ { print $2 }' "$(ms_top)/man/$1.1"
}

# seen - "PROGRAM STATUS" for every status returned in this run, once
seen() {
	[ -f "$BATS_RUN_TMPDIR/exit-status" ] || return 0
	awk '$2 < 128 { print $1, $2 }' "$BATS_RUN_TMPDIR/exit-status" |
	    sort -u
}

# The statuses that the other files provoke only through other processes
# (Postfix, sh -c) or not at all, provoked here, so that every listed
# status is returned by a test that checks the reason.

@test "every filter: a message over limit-message-size is refused with 69 and 5.3.4, an empty one with 65 and 5.6.0" {
	mailseal-init --store "$STORE" >/dev/null
	export MAILSEAL_STORE=$STORE
	printf 'limit-message-size = 1K\n' >>"$STORE/settings/global.conf"
	{
		printf 'From: a@example.test\nTo: b@example.test\n'
		printf 'Subject: limits\n\n'
		local i
		for ((i = 0; i < 40; i++)); do
			printf '%070d\n' "$i"
		done
	} >"$T/big.eml"
	: >"$T/empty.eml"
	local -a cases=(
	    "69 smime-enc b@example.test" "69 smime-dec"
	    "69 smime-sign -f a@example.test" "69 smime-verify"
	    "69 pgp-enc b@example.test" "69 pgp-dec"
	    "69 pgp-sign -f a@example.test" "69 pgp-verify"
	    "69 dlp-scan b@example.test" "69 pdfwrap b@example.test"
	    "69 mailseal-filter -f a@example.test -- b@example.test"
	    "69 mailseal-filter --incoming"
	    # route-recipient writes no message: 65 for every message it
	    # cannot use (its page)
	    "65 route-recipient b@example.test")
	local c want prog
	local -a argv
	for c in "${cases[@]}"; do
		read -r want prog <<<"$c"
		read -r -a argv <<<"$prog"
		run --separate-stderr "${argv[@]}" <"$T/big.eml"
		[ "$status" -eq "$want" ] &&
		    [[ ${stderr_lines[0]} == "5.3.4 "* ]] &&
		    [ -z "$output" ] ||
		    fail_with "$prog, too large: $status ${stderr_lines[0]:-}"
		run --separate-stderr "${argv[@]}" <"$T/empty.eml"
		[ "$status" -eq 65 ] &&
		    [[ ${stderr_lines[0]} == "5.6.0 "* ]] &&
		    [ -z "$output" ] ||
		    fail_with "$prog, empty: $status ${stderr_lines[0]:-}"
	done
}

@test "administration programs: a store that cannot be used is 75, with the reason" {
	mailseal-init --store "$STORE" >/dev/null
	export MAILSEAL_STORE=$STORE
	# mailseal-init: a store whose parent is a file
	: >"$T/file"
	run --separate-stderr mailseal-init --store "$T/file/store"
	expect_status 75
	[[ $stderr == *"$T/file/store"* ]] || fail_with "no path: $stderr"
	# mailseal-audit: a log that cannot be read
	rm "$STORE/audit/log"
	mkdir "$STORE/audit/log"
	run --separate-stderr mailseal-audit verify
	expect_status 75
	[[ $stderr == *"audit/log"* ]] || fail_with "no path: $stderr"
	# pdfwrap-reply and pdfwrap-otp: a store without the PDF secrets
	rm -f "$STORE/pdf/reply.key" "$STORE/pdf/random.key"
	run --separate-stderr pdfwrap-reply </dev/null
	expect_status 75
	[[ $stderr == *"pdf/reply.key"* ]] || fail_with "no key named: $stderr"
	# pdfwrap-otp: a damaged client secret file (the ID is pdfwrap-otp(1)'s
	# test vector)
	local h
	h=$(printf '%s' bob@example.test | sha256sum | cut -d' ' -f1)
	mkdir -p "$STORE/pdf/otp"
	printf 'not a secret\n' >"$STORE/pdf/otp/$h"
	chmod 600 "$STORE/pdf/otp/$h"
	run --separate-stderr pdfwrap-otp -r bob@example.test \
	    -i 2622-22F2-N8KC-9B77-NUMU-KCFC-PGQC-VDPH
	expect_status 75
	[ -z "$output" ] || fail_with "a password from a damaged secret"
}

@test "sms-send: a malformed job is 65 and stays; the others are sent" {
	mailseal-init --store "$STORE" >/dev/null
	export MAILSEAL_STORE=$STORE
	# a gateway nobody listens on: the job is never reached anyway
	printf 'url = https://sms.invalid/send?to=%%NUMBER%%\n' >"$T/gw.conf"
	chmod 600 "$T/gw.conf"
	printf 'sms-credentials-file = %s\n' "$T/gw.conf" \
	    >>"$STORE/settings/global.conf"
	printf 'number = not a job\n' \
	    >"$STORE/spool/sms/0123456789abcdef0123456789abcdef"
	chmod 600 "$STORE/spool/sms/0123456789abcdef0123456789abcdef"
	run --separate-stderr sms-send
	expect_status 65
	[[ $stderr == *0123456789abcdef0123456789abcdef* ]] ||
	    fail_with "the job is not named: $stderr"
}

@test "every page lists its exit statuses, 0 and 64 among them" {
	local prog bad=
	for prog in $(ms_programs); do
		listed "$prog" | grep -qx 0 || bad="$bad $prog(0)"
		listed "$prog" | grep -qx 64 || bad="$bad $prog(64)"
	done
	[ -z "$bad" ] || fail_with "pages without these statuses:$bad"
}

@test "every status a program returned in the suite is one its page lists" {
	local prog rc bad=
	[ -n "$(seen)" ] || fail_with "no exit status recorded"
	while read -r prog rc; do
		listed "$prog" | grep -qx "$rc" ||
		    bad="$bad $prog:$rc($(awk -v p="$prog" -v r="$rc" \
		    '$1 == p && $2 == r { $1 = $2 = ""; print; exit }' \
		    "$BATS_RUN_TMPDIR/exit-status"))"
	done < <(seen)
	[ -z "$bad" ] || fail_with "statuses returned but not in the page:$bad"
}

@test "every status a page lists was returned by some test of the suite" {
	local f prog rc bad= missing=
	for f in "$(ms_top)"/tests/bats/*.bats; do
		f=${f##*/}
		[ "$f" = 99-exit-status.bats ] && continue
		grep -qx "$f" "$BATS_RUN_TMPDIR/files" || missing="$missing $f"
	done
	if [ -n "$missing" ]; then
		[ -z "${CI:-}" ] || fail_with "not run:$missing"
		skip "the whole suite must run first (not run:$missing)"
	fi
	for prog in $(ms_programs); do
		for rc in $(listed "$prog"); do
			seen | grep -qx "$prog $rc" || bad="$bad $prog:$rc"
		done
	done
	[ -z "$bad" ] || fail_with "listed but never returned:$bad"
}
