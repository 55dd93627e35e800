#!/usr/bin/env bats
# 03-docs.bats - statements the documentation makes about itself: one
# cron line per job, the same in the README, the pages and the examples,
# each naming its program by an absolute path.

load helpers

setup() {
	ms_setup
}

# cron_lines - "FILE<TAB>LINE" for every cron line (five time fields, a
# user, a command) in the README, the pages and scripts/examples, with
# mdoc's escapes undone and runs of blanks made one space
cron_lines() {
	local top
	top=$(ms_top)
	cd "$top" || return 1
	awk '
	    {
		line = $0
		sub(/^\.Dl /, "", line)
		gsub(/\\-/, "-", line)
		gsub(/\\e/, "\\", line)
		gsub(/[ \t]+/, " ", line)
		sub(/^ /, "", line)
		f = "[0-9*][0-9*/,-]*"
		if (line ~ ("^" f " " f " " f " " f " " f " [a-z]"))
			printf "%s\t%s\n", FILENAME, line
	    }' README man/*.[1-8] scripts/examples/*
}

@test "docs: every cron line runs as a user and names its program by an absolute path" {
	local file line bad= n=0
	while IFS=$'\t' read -r file line; do
		n=$((n + 1))
		# five time fields, the user, then the command
		[ "$(awk '{ print $6 }' <<<"$line")" = mailseal ] || bad="$bad
$file: no user mailseal: $line"
		[[ $line =~ /usr/local/s?bin/ ]] || bad="$bad
$file: no absolute path: $line"
	done < <(cron_lines)
	[ "$n" -ge 6 ] || fail_with "only $n cron lines found"
	[ -z "$bad" ] || fail_with "$bad"
}

# admin_programs - the programs make install puts into sbin
admin_programs() {
	sed -n '/^ADMIN_PROGRAMS =/,/[^\\]$/p' "$(ms_top)/Makefile" |
	    sed 's/^ADMIN_PROGRAMS =//; s/\\$//' | tr -s ' \t' '\n' | sed '/^$/d'
}

@test "docs: cron lines name the directory make install puts the program in (sbin for administration)" {
	local file line prog dir want bad= admin
	admin=$(admin_programs)
	[ -n "$admin" ] || fail_with "no ADMIN_PROGRAMS in the Makefile"
	while IFS=$'\t' read -r file line; do
		[[ $line =~ /usr/local/(s?bin)/([^ \)]*) ]] || continue
		dir=${BASH_REMATCH[1]} prog=${BASH_REMATCH[2]}
		want=bin
		grep -qx "$prog" <<<"$admin" && want=sbin
		[ "$dir" = "$want" ] || bad="$bad
$file: $prog is installed in $want: $line"
	done < <(cron_lines)
	[ -z "$bad" ] || fail_with "$bad"
}

@test "docs: one cron line per job: a program's line is the same wherever it is" {
	local file line prog bad=
	declare -A first
	while IFS=$'\t' read -r file line; do
		[[ $line =~ /usr/local/s?bin/([^ ]*) ]] || continue
		prog=${BASH_REMATCH[1]}
		# a job is its program and its first word after it
		local rest=${line#*/usr/local/*bin/$prog}
		rest=${rest# }
		prog="$prog ${rest%% *}"
		if [ -z "${first[$prog]:-}" ]; then
			first[$prog]="$line"
		elif [ "${first[$prog]}" != "$line" ]; then
			bad="$bad
$file: $line
    differs from: ${first[$prog]}"
		fi
	done < <(cron_lines)
	[ -z "$bad" ] || fail_with "$bad"
}
