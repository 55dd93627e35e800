#!/usr/bin/env bats
# make install and make uninstall: the programs find their data under the
# PREFIX they are installed for, also when they were built for another one
# first (make && make install PREFIX=X), and uninstall removes what
# install put.  The build is a copy of the one under test, so the suite's
# own programs keep their directories.

load helpers

setup() {
	ms_setup
	unset MAILSEAL_SHAREDIR MAILSEAL_STORE
	TOP=$(ms_top)
	BUILT=$(cd "$MAILSEAL_BIN/.." && pwd)
	B=$T/build
	# what make install needs, with its times: only the object that
	# holds the directories is rebuilt, the rest relinked
	mkdir -p "$B"
	cp -a "$BUILT/bin" "$BUILT/cmd" "$BUILT/common" "$BUILT/libmailseal.a" \
	    "$B/"
	if [ -e "$BUILT/paths.stamp" ]; then
		cp -a "$BUILT/paths.stamp" "$B/"
	fi
	mkdir -m 700 "$T/store"
	{
		printf 'From: alice@example.test\nTo: bob@example.test\n'
		printf 'Subject: order\nMessage-ID: <install-1@example.test>\n'
		printf 'MIME-Version: 1.0\nContent-Type: text/plain\n\n'
		printf 'card 4556737586899855\n'
	} >"$T/m.eml"
}

# mk TARGET VAR=VALUE... - make in the source tree on the copied build
mk() {
	make -s -C "$TOP" --no-print-directory BUILD="$B" \
	    SANITIZE="${SANITIZE:-}" "$@"
}

# scan_with PROGRAM - PROGRAM (a dlp-scan) on $T/m.eml, the store holding
# no policy: the shipped default policy must be found
scan_with() {
	run --separate-stderr sh -c 'MAILSEAL_STORE=$1 "$2" \
	    bob@example.test <"$3"' sh "$T/store" "$1" "$T/m.eml"
}

@test "make install PREFIX=X after a build for /usr/local: dlp-scan finds the shipped policies under X" {
	mk all >"$T/make.out" 2>&1 || fail_with "make all: $(cat "$T/make.out")"
	mk install PREFIX="$T/prefix" >"$T/make.out" 2>&1 ||
	    fail_with "make install: $(cat "$T/make.out")"
	[ -f "$T/prefix/share/mailseal/policies/default.policy" ]
	[ -x "$T/prefix/bin/dlp-scan" ]
	[ -x "$T/prefix/sbin/certstore" ] && [ ! -e "$T/prefix/bin/certstore" ]
	scan_with "$T/prefix/bin/dlp-scan"
	[ "$status" -eq 0 ] || fail_with "installed dlp-scan did not pass"
	[[ "$output" == *"X-Mailseal-DLP: must-encrypt; rules=payment-cards"* ]] ||
	    fail_with "no verdict from the shipped policy"
	[[ "$output" == *"card 4556737586899855"* ]]
	# the same program in the build directory has the same directories
	scan_with "$B/bin/dlp-scan"
	[ "$status" -eq 0 ]
	[[ "$output" == *"rules=payment-cards"* ]]
}

@test "make install DESTDIR=D PREFIX=P: files under D/P, programs built for P; make uninstall removes them all" {
	mk install DESTDIR="$T/dest" PREFIX=/opt/mailseal-test \
	    >"$T/make.out" 2>&1 || fail_with "make install: $(cat "$T/make.out")"
	R=$T/dest/opt/mailseal-test
	[ -x "$R/bin/dlp-scan" ]
	[ -x "$R/bin/mailseal-filter" ]
	[ -f "$R/share/mailseal/policies/default.policy" ]
	[ -f "$R/share/mailseal/pdfwrap/notice.en.txt" ]
	[ -f "$R/share/mailseal/examples/master.cf" ]
	[ -f "$R/share/man/man1/dlp-scan.1" ]
	[ -f "$R/share/man/man5/mailseal-store.5" ]
	# every program is installed: the administration programs in sbin,
	# the filters in bin, none in both
	admin=$(make -s -C "$TOP" --no-print-directory \
	    --eval 'ms-print: ; @echo $(ADMIN_PROGRAMS)' ms-print)
	[[ " $admin " == *" certstore "* ]] && [[ " $admin " == *" crl-sync "* ]]
	for p in $(make -s -C "$TOP" --no-print-directory \
	    --eval 'ms-print-programs: ; @echo $(PROGRAMS)' ms-print-programs); do
		if [[ " $admin " == *" $p "* ]]; then
			[ -x "$R/sbin/$p" ] && [ ! -e "$R/bin/$p" ] ||
			    fail_with "$p not in sbin alone"
		else
			[ -x "$R/bin/$p" ] && [ ! -e "$R/sbin/$p" ] ||
			    fail_with "$p not in bin alone"
		fi
	done
	# mailseal-filter runs pdfwrap from its own directory
	[ -x "$R/bin/pdfwrap" ] && [ -x "$R/bin/dlp-scan" ]
	# the installed examples and pages name where the programs are
	grep -q 'argv=/opt/mailseal-test/bin/mailseal-filter ' \
	    "$R/share/mailseal/examples/master.cf"
	grep -qx 'ExecStart=/opt/mailseal-test/sbin/crl-sync' \
	    "$R/share/mailseal/examples/crl-sync.service"
	grep -q '/opt/mailseal-test/sbin/sms\\-send' "$R/share/man/man1/sms-send.1"
	run grep -rl /usr/local/ "$R/share"
	[ "$status" -eq 1 ] || fail_with "/usr/local/ left in installed files"
	# staged, not installed: the program looks under P, where nothing is
	scan_with "$R/bin/dlp-scan"
	[ "$status" -eq 75 ] || fail_with "found policies outside P"
	[[ "$stderr" == */opt/mailseal-test/share/mailseal/policies* ]] ||
	    fail_with "does not look under P"
	# with the data at P (as a package manager puts it), it passes
	MAILSEAL_SHAREDIR=$R/share/mailseal scan_with "$R/bin/dlp-scan"
	[ "$status" -eq 0 ]
	[[ "$output" == *"rules=payment-cards"* ]]

	touch "$T/dest/opt/mailseal-test/share/mailseal/policies/local.policy"
	mk uninstall DESTDIR="$T/dest" PREFIX=/opt/mailseal-test \
	    >"$T/make.out" 2>&1 || fail_with "make uninstall: $(cat "$T/make.out")"
	# only the file install did not put is left, with its directory
	run find "$T/dest" -type f
	[ "$status" -eq 0 ]
	[ "$output" = "$R/share/mailseal/policies/local.policy" ] ||
	    fail_with "left behind"
	[[ "$(cat "$T/make.out")" == *"policies is not empty, kept"* ]]
	rm "$R/share/mailseal/policies/local.policy"
	mk uninstall DESTDIR="$T/dest" PREFIX=/opt/mailseal-test \
	    >"$T/make.out" 2>&1 || fail_with "second make uninstall"
	[ ! -e "$R/share/mailseal" ]
	[ ! -e "$R/lib/mailseal" ]
	run find "$T/dest" -type f
	[ -z "$output" ] || fail_with "left behind"
}
