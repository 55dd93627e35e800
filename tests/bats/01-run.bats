#!/usr/bin/env bats
# tests/run, the runner of make check, on a tree of its own: it counts
# passed and failed tests, and with CI=true a skipped test is a failure.

load helpers

setup() {
	ms_setup
	TREE=$T/tree
	mkdir -p "$TREE/tests/bats" "$TREE/tests/unit"
	cp "$(ms_top)/tests/run" "$TREE/tests/run"
	printf 'manlint:\n\t@true\nlayers:\n\t@true\n' >"$TREE/Makefile"
	# printf: a line of this file that starts with the test keyword
	# would be a test of this file
	printf '%s\n' '@test "runs" { true; }' \
	    '@test "skips" { skip "no server"; }' >"$TREE/tests/bats/x.bats"
}

# check [VAR=VALUE...] - tests/run of the tree, in a clean environment
# (neither a variable nor the PATH of this bats run reaches the inner one)
check() {
	run env -i PATH=/usr/local/bin:/usr/bin:/bin HOME="$HOME" \
	    TMPDIR="$T" "$@" sh "$TREE/tests/run"
}

# expect_counts STATUS BATS-LINE TOTAL-LINE - the run's exit status, its
# bats layer line and its last line
expect_counts() {
	expect_status "$1"
	[[ $output == *"$2"* ]] || fail_with "no line \"$2\""
	[ "${lines[-1]}" = "$3" ] || fail_with "last line not \"$3\""
}

@test "tests/run: a skip is counted and passes outside CI" {
	check
	expect_counts 0 "bats: 2 passed, 0 failed, 1 skipped" \
	    "check: 4 passed, 0 failed"
}

@test "tests/run: with CI=true a skipped test fails the run and is named" {
	check CI=true
	expect_counts 1 "bats: 1 passed, 1 failed, 1 skipped" \
	    "check: 3 passed, 1 failed"
	[[ $output == *"ok 2 skips # skip no server"* ]] ||
	    fail_with "the skipped test is not named"
}

@test "tests/run: CI=false or another value keeps a skip a pass" {
	check CI=false
	expect_counts 0 "bats: 2 passed, 0 failed, 1 skipped" \
	    "check: 4 passed, 0 failed"
}
