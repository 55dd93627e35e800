#!/usr/bin/env bats
# tests/run, the runner of make check, on a tree of its own: it counts
# passed and failed tests, and with CI=true a skipped test is a failure.

load helpers

setup() {
	ms_setup
	TREE=$T/tree
	mkdir -p "$TREE/tests/bats" "$TREE/tests/unit"
	cp "$(ms_top)/tests/run" "$TREE/tests/run"
	printf 'manlint:\n\t@true\n' >"$TREE/Makefile"
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

@test "tests/run: a skip is counted and passes outside CI" {
	check
	expect_status 0
	[[ $output == *"bats: 2 passed, 0 failed, 1 skipped"* ]] ||
	    fail_with "skip not counted"
	[ "${lines[-1]}" = "check: 3 passed, 0 failed" ] ||
	    fail_with "wrong total"
}

@test "tests/run: with CI=true a skipped test fails the run and is named" {
	check CI=true
	expect_status 1
	[[ $output == *"bats: 1 passed, 1 failed, 1 skipped"* ]] ||
	    fail_with "skip not counted as a failure"
	[[ $output == *"ok 2 skips # skip no server"* ]] ||
	    fail_with "the skipped test is not named"
	[ "${lines[-1]}" = "check: 2 passed, 1 failed" ] ||
	    fail_with "wrong total"
}

@test "tests/run: CI=false or another value keeps a skip a pass" {
	check CI=false
	expect_status 0
	[ "${lines[-1]}" = "check: 3 passed, 0 failed" ] ||
	    fail_with "wrong total"
}
