#!/usr/bin/env bats
# Usage texts against man pages and option tables, for every program in
# the Makefile's PROGRAMS: `prog -h` and the SYNOPSIS of man/prog.1 (as
# mandoc renders it) say the same words; every option the usage names is
# one the program accepts; every option of the program's popt table is
# named in its usage and described in the page's OPTIONS.

load helpers

setup() {
	ms_setup
	ROOT=$(cd "$BATS_TEST_DIRNAME/../.." && pwd)
	# the page is rendered wide so that no line is folded
	export MANWIDTH=1000
}

# programs - the Makefile's PROGRAMS, as make reads them
programs() {
	make -s --no-print-directory -C "$ROOT" \
	    --eval 'ms-print-programs: ; @echo $(PROGRAMS)' ms-print-programs
}

# words - stdin as one line of words separated by single spaces
words() {
	tr -s ' \t\n' '\n\n\n' | sed '/^$/d' | paste -sd ' '
}

# usage_words PROG - the words of `PROG -h`, without the "usage:" label
usage_words() {
	"$1" -h | sed 's/^usage://' | words
}

# man_section PROG SECTION - the words of one section of man/PROG.1
man_section() {
	mandoc -Tascii -O width=1000 "$ROOT/man/$1.1" | col -b |
	    awk -v want="$2" '/^[A-Z]/ { p = ($0 == want); next } p' | words
}

# options - the option words of stdin's text ("-x", "--long"), one a line:
# "--" that ends the options and "-" that names standard input are none
options() {
	tr ' |' '\n\n' | sed 's/^[[(]*//; s/[])]*$//; s/,$//' |
	    grep -E '^--?[A-Za-z][A-Za-z0-9-]*$' | sort -u
}

# popt_options PROG - one line per entry of the program's popt tables and
# the common one (ritual.c, wherever it is under common/) that is not
# hidden from the help: its spellings, "--long -x", "--long" or "-x"
popt_options() {
	cat "$ROOT/cmd/$1.c" $(find "$ROOT/common" -name ritual.c) | awk '
		/^[ \t]*\{[ \t]*("[A-Za-z0-9-]*"|NULL)[ \t]*,[ \t]*\047/ {
			if ($0 ~ /DOC_HIDDEN/)
				next
			line = $0
			sub(/^[ \t]*\{[ \t]*/, "", line)
			long = line
			sub(/[ \t]*,.*/, "", long)
			gsub(/"/, "", long)
			short = line
			sub(/^[^,]*,[ \t]*\047/, "", short)
			sub(/\047.*/, "", short)
			out = ""
			if (long != "NULL" && long != "")
				out = "--" long
			if (short != "\\0" && short != "")
				out = out (out == "" ? "" : " ") "-" short
			if (out != "")
				print out
		}'
}

@test "usage: -h and the man page SYNOPSIS say the same words" {
	local prog u m bad=''
	for prog in $(programs); do
		[ -f "$ROOT/man/$prog.1" ] || {
			bad="$bad
$prog: no man/$prog.1"
			continue
		}
		u=$(usage_words "$prog") || {
			bad="$bad
$prog: -h failed"
			continue
		}
		m=$(man_section "$prog" SYNOPSIS)
		[ "$u" = "$m" ] || bad="$bad
$prog -h:   $u
$prog.1:    $m"
	done
	[ -z "$bad" ] || fail_with "usage and SYNOPSIS differ:$bad"
}

@test "usage: -h and the SYNOPSIS name the same options" {
	local prog bad=''
	for prog in $(programs); do
		diff <(usage_words "$prog" | options) \
		    <(man_section "$prog" SYNOPSIS | options) \
		    >"$T/$prog.diff" ||
		    bad="$bad
$prog (< usage, > SYNOPSIS):
$(cat "$T/$prog.diff")"
	done
	[ -z "$bad" ] || fail_with "options differ:$bad"
}

@test "usage: every option the usage names is accepted by the program" {
	local prog opt bad=''
	for prog in $(programs); do
		for opt in $(usage_words "$prog" | options); do
			# -h first: the program prints its usage once popt has
			# read every option, and the trailing word is the
			# option's argument or a leftover operand
			run "$prog" -h "$opt" 1 </dev/null
			[ "$status" -eq 0 ] || bad="$bad
$prog $opt: exit $status"
		done
	done
	[ -z "$bad" ] || fail_with "options refused:$bad"
}

@test "usage: an option the usage does not name is refused with 64" {
	local prog
	for prog in $(programs); do
		run "$prog" --no-such-option-here </dev/null
		[ "$status" -eq 64 ] || fail_with "$prog: exit $status"
	done
}

@test "usage: every option of the popt tables is in the usage and the page" {
	local prog entry spelling named synopsis described bad=''
	for prog in $(programs); do
		named=$(usage_words "$prog" | options)
		described=$(man_section "$prog" OPTIONS | options)
		while read -r entry; do
			# the usage names an option by one of its spellings;
			# OPTIONS describes every spelling
			synopsis=no
			for spelling in $entry; do
				grep -qxe "$spelling" <<<"$named" && synopsis=yes
				grep -qxe "$spelling" <<<"$described" ||
				    bad="$bad
$prog: $spelling not in OPTIONS of $prog.1"
			done
			[ "$synopsis" = yes ] || bad="$bad
$prog: $entry not in the usage"
		done < <(popt_options "$prog")
		[ -n "$(popt_options "$prog")" ] || bad="$bad
$prog: no popt table read"
	done
	[ -z "$bad" ] || fail_with "popt and usage differ:$bad"
}
